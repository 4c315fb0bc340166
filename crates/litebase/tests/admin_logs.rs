//! Request logs against the real binary: rows land in `logs.db` (never the main
//! database), the list filters with PocketBase syntax, a hostile filter is a
//! clear 400, secrets in URLs are hidden, and old rows are pruned.

mod support;

use std::time::{Duration, Instant};

use litebase::testing::{Http, Reply, assert_error_shape};
use serde_json::{Value, json};

fn logs(
    server: &litebase::testing::ServerProcess,
    token: &str,
    query: &str,
) -> anyhow::Result<Reply> {
    Ok(Http::new().get_auth(&server.url(&format!("/api/logs?{query}")), token)?)
}

/// Waits until the filtered list has at least `n` items (the writer is async).
fn wait_for(
    server: &litebase::testing::ServerProcess,
    token: &str,
    query: &str,
    n: usize,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = logs(server, token, query)?;
        anyhow::ensure!(reply.status == 200, "list logs: {}", reply.text);
        if reply.json["items"].as_array().map_or(0, Vec::len) >= n {
            return Ok(reply.json);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no {n} logs for {query}: {}",
            reply.text
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn encode(filter: &str) -> String {
    filter
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn requests_are_logged_in_their_own_file_and_filterable() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let missing = http.get(&server.url("/api/collections/nope/records?token=s3cret&page=1"))?;
    assert_eq!(missing.status, 404);
    let bad_login = http.post_json(
        &server.url("/api/collections/_superusers/auth-with-password"),
        &json!({"identity": "x@example.com", "password": "wrong-password"}),
    )?;
    assert_eq!(bad_login.status, 400);

    let filter = encode(r#"status >= 400 && method = "POST""#);
    let posts = wait_for(&server, &token, &format!("filter={filter}"), 1)?;
    let items = posts["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{posts}");
    let entry = &items[0]["data"];
    assert_eq!(entry["status"], 400);
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["auth"], "guest");
    assert_eq!(entry["error"], "Failed to authenticate.");
    assert_eq!(entry["remoteIP"], "127.0.0.1");
    assert_eq!(entry["userIP"], "127.0.0.1", "no proxy headers configured");
    assert_eq!(items[0]["level"], 4);

    let not_found = wait_for(
        &server,
        &token,
        &format!("filter={}", encode("status = 404")),
        1,
    )?;
    let url = not_found["items"][0]["data"]["url"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(url, "/api/collections/nope/records?token=***&page=1");

    // Later requests by the superuser are logged as such.
    let mine = wait_for(
        &server,
        &token,
        &format!("filter={}", encode("auth = 'superuser'")),
        1,
    )?;
    let id = mine["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let one = http.get_auth(&server.url(&format!("/api/logs/{id}")), &token)?;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json["data"]["auth"], "superuser");
    assert_error_shape(
        &http.get_auth(&server.url("/api/logs/nothere"), &token)?,
        404,
    );

    let stats = http.get_auth(&server.url("/api/logs/stats"), &token)?;
    assert_eq!(stats.status, 200, "{}", stats.text);
    assert!(
        stats.json[0]["total"].as_i64().unwrap_or(0) >= 3,
        "{}",
        stats.text
    );

    // The writer's counters are in the metrics.
    let metrics = http.get_auth(&server.url("/api/metrics"), &token)?;
    assert!(
        metrics
            .text
            .contains("litebase_request_logs_dropped_total 0"),
        "{}",
        metrics.text
    );
    let written = metrics
        .text
        .lines()
        .find_map(|l| l.strip_prefix("litebase_request_logs_written_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(written >= 3.0, "{}", metrics.text);

    // The rows are in logs.db, and the main database has no log table.
    let logs_db = rusqlite::Connection::open(dir.path().join("logs.db"))?;
    let n: i64 = logs_db.query_row("SELECT COUNT(*) FROM logs", [], |r| r.get(0))?;
    assert!(n >= 3, "{n} rows in logs.db");
    let main = rusqlite::Connection::open(dir.path().join("data.db"))?;
    let tables: i64 = main.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '%log%' AND name NOT LIKE '%migrations%'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(tables, 0, "no log table in the main database");
    Ok(())
}

#[test]
fn hostile_filters_and_strangers_are_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    for filter in [
        "status >= 400 ; DROP TABLE logs",
        "password = 1",
        "((((((((((((((((((((((((((((((((((status=1))))))))))))))))))))))))))))))))))",
        "@collection.users.id != ''",
    ] {
        let reply = logs(&server, &token, &format!("filter={}", encode(filter)))?;
        let message = assert_error_shape(&reply, 400);
        assert!(message.contains("filter"), "{filter}: {message}");
    }
    let sort = logs(&server, &token, "sort=nope")?;
    assert_error_shape(&sort, 400);
    assert_error_shape(&Http::new().get(&server.url("/api/logs"))?, 401);
    assert_error_shape(&Http::new().get(&server.url("/api/logs/stats"))?, 401);
    Ok(())
}

#[test]
fn old_logs_are_pruned_at_start_and_logging_can_be_turned_off() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (mut server, token) = support::serve_as_admin(dir.path())?;
    wait_for(&server, &token, "", 1)?;
    server.signal("TERM")?;
    server.wait(Duration::from_secs(10));
    drop(server);

    let conn = rusqlite::Connection::open(dir.path().join("logs.db"))?;
    conn.execute(
        "INSERT INTO logs (id, created, level, method, url, status, execTime, auth) \
         VALUES ('old000000000001', '2020-01-01 00:00:00.000Z', 0, 'GET', '/old', 200, 1, 'guest')",
        [],
    )?;
    drop(conn);

    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let token = support::superuser_token(&server)?;
    let http = Http::new();
    assert_error_shape(
        &http.get_auth(&server.url("/api/logs/old000000000001"), &token)?,
        404,
    );

    // maxDays 0 stops logging.
    let off = http.patch_json_auth(
        &server.url("/api/settings"),
        &token,
        &json!({"logs": {"maxDays": 0}}),
    )?;
    assert_eq!(off.status, 200, "{}", off.text);
    std::thread::sleep(Duration::from_millis(300));
    let before = logs(&server, &token, "")?.json["totalItems"].as_i64();
    for _ in 0..5 {
        http.get(&server.url("/api/health"))?;
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = logs(&server, &token, "")?.json["totalItems"].as_i64();
    assert_eq!(before, after, "nothing logged while maxDays is 0");
    Ok(())
}
