//! `litebase healthcheck` against a real server: 0 when it answers 2xx, 1 with
//! one line saying why when nothing listens or the answer is not 2xx, and a
//! usage error for https.

mod support;

use std::process::Output;

use actix_web::{HttpResponse, web};

/// `litebase healthcheck ARGS` with `env`, no inherited `LITEBASE_HTTP`.
fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Output> {
    let dir = tempfile::tempdir()?;
    let mut cmd = support::litebase(dir.path());
    cmd.arg("healthcheck")
        .args(args)
        .env_remove("LITEBASE_HTTP");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    anyhow::ensure!(
        std::fs::read_dir(dir.path())?.next().is_none(),
        "healthcheck wrote into its data directory"
    );
    Ok(out)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// Exit code 1 and exactly one line on stderr containing `needle`.
fn assert_unhealthy(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].starts_with("Error: unhealthy: "), "{err}");
    assert!(lines[0].contains(needle), "expected {needle:?} in {err}");
}

#[test]
fn healthy_server_nothing_listening_and_non_2xx() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;

    // The default URL comes from --http / LITEBASE_HTTP.
    let ok = healthcheck(&["--http", &server.addr], &[])?;
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        format!("OK: http://{}/api/health answered 200", server.addr)
    );
    let port = server
        .addr
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let every = format!("0.0.0.0:{port}");
    let ok = healthcheck(&[], &[("LITEBASE_HTTP", &every)])?;
    assert_eq!(
        ok.status.code(),
        Some(0),
        "0.0.0.0 is checked on loopback: {}",
        stderr(&ok)
    );
    let ok = healthcheck(&["--url", &server.url("/api/health")], &[])?;
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    let missing = healthcheck(&["--url", &server.url("/api/nope")], &[])?;
    assert_unhealthy(&missing, "answered 404");

    drop(server);
    let down = healthcheck(&["--http", &format!("127.0.0.1:{port}")], &[])?;
    assert_unhealthy(&down, "cannot connect to");
    Ok(())
}

#[test]
fn a_503_is_unhealthy() -> anyhow::Result<()> {
    // An app route that is out of capacity, answering as an app's busy
    // endpoint does (its own JSON body, kept as it is by litebase).
    let dir = tempfile::tempdir()?;
    let app = litebase::App::new("busy").routes(|cfg| {
        cfg.route(
            "/busy",
            web::get().to(|| async {
                HttpResponse::ServiceUnavailable()
                    .json(serde_json::json!({"status": 503, "message": "Busy.", "data": {}}))
            }),
        );
    });
    let server = support::serve_in_process(app, dir.path(), &[])?;
    let busy = healthcheck(&["--url", &server.url("/busy")], &[])?;
    assert_unhealthy(&busy, "answered 503 Service Unavailable");
    Ok(())
}

#[test]
fn https_and_bad_addresses_are_usage_errors() -> anyhow::Result<()> {
    let https = healthcheck(&["--url", "https://127.0.0.1:8090/api/health"], &[])?;
    assert_eq!(https.status.code(), Some(2), "{}", stderr(&https));
    assert!(
        stderr(&https).contains("https is not supported"),
        "{}",
        stderr(&https)
    );
    let bad = healthcheck(&["--http", "nonsense"], &[])?;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).starts_with("Error: --http \"nonsense\" is not an address"),
        "{}",
        stderr(&bad)
    );
    Ok(())
}
