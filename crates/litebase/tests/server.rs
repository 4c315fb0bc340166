//! The `litebase` server over real HTTP: the PocketBase-compatible basics.

mod support;

use std::process::ExitCode;

use litebase::testing::{Http, assert_error_shape, raw_request};
use serde_json::json;
use support::serve;

#[test]
fn health_answers_exactly_like_pocketbase() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), &[])?;
    let reply = Http::new().get(&server.url("/api/health"))?;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json,
        json!({"message": "API is healthy.", "code": 200, "data": {}})
    );
    Ok(())
}

#[test]
fn errors_use_pocketbase_shape() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), &[])?;
    let http = Http::new();
    assert_eq!(
        assert_error_shape(&http.get(&server.url("/api/nope"))?, 404),
        "The requested resource wasn't found."
    );
    assert_error_shape(&http.post_raw(&server.url("/api/health"), b"{")?, 404);
    let huge = raw_request(
        &server.addr,
        b"POST /api/anything HTTP/1.1\r\nHost: x\r\nContent-Length: 40000000\r\n\r\n",
    )?;
    assert_eq!(assert_error_shape(&huge, 413), "Request entity too large.");
    assert_eq!(http.get(&server.url("/api/health"))?.status, 200);
    Ok(())
}

/// An app with a migration of its own (run in this process), started and
/// stopped three times on one data dir.
#[test]
fn migrations_apply_once_across_restarts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    for _ in 0..3 {
        let server = support::serve_in_process(support::app_with_migrations(), dir.path(), &[])?;
        assert_eq!(server.stop()?, ExitCode::SUCCESS);
    }
    let conn = rusqlite::Connection::open(dir.path().join("data.db"))?;
    let system = support::system_migration_count() as i64;
    for (table, migrations) in [("_litebase_migrations", system), ("_app_migrations", 1)] {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        assert_eq!(n, migrations, "{table} should record each migration once");
    }
    let secrets: i64 = conn.query_row(
        "SELECT count(*) FROM _params WHERE id = 'secrets'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(secrets, 1);
    Ok(())
}

#[test]
fn auth_endpoints_are_rate_limited_per_ip() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), &["--auth-rate-limit", "3"])?;
    let http = Http::new();
    let url = server.url("/api/collections/users/auth-with-password");
    let login = json!({"identity": "nobody@example.com", "password": "wrong-password"});
    for _ in 0..3 {
        // Same answer whether or not the account exists.
        assert_eq!(
            assert_error_shape(&http.post_json(&url, &login)?, 400),
            "Failed to authenticate."
        );
    }
    assert_eq!(
        assert_error_shape(&http.post_json(&url, &login)?, 429),
        "Too Many Requests."
    );
    // Other endpoints are unaffected.
    assert_eq!(http.get(&server.url("/api/health"))?.status, 200);
    Ok(())
}

#[test]
fn metrics_need_a_superuser_or_the_metrics_token() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = serve(dir.path(), &["--metrics-token", "s3cret-metrics-token"])?;
    let http = Http::new();
    let url = server.url("/api/metrics");
    assert_error_shape(&http.get(&url)?, 401);
    assert_error_shape(&http.get_auth(&url, "wrong-token-of-same-size")?, 401);
    let ok = http.get_auth(&url, "Bearer s3cret-metrics-token")?;
    assert_eq!(ok.status, 200);
    for family in [
        "litebase_realtime_connections{transport=\"sse\"}",
        "litebase_realtime_subscriptions",
        "litebase_realtime_events_published_total",
        "litebase_realtime_events_delivered_total",
        "litebase_realtime_events_dropped_total",
        "litebase_realtime_evictions_total",
        "litebase_realtime_queue_depth_high_water",
        "litebase_db_write_batch_size_avg",
        "litebase_db_write_batch_seconds_avg",
    ] {
        assert!(ok.text.contains(family), "{family} missing:\n{}", ok.text);
    }
    Ok(())
}
