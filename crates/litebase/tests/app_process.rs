//! litebase as a developer uses it: a tiny key/value app with its own migration and
//! routes, run as a real child process (this test binary, re-executed), checked over
//! HTTP and stopped with real signals.

use std::collections::HashSet;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use litebase::db::DbError;
use litebase::hooks::RecordAction;
use litebase::testing::{Http, ServerProcess, assert_error_shape, raw_request};
use litebase::{ApiError, App, Db};
use serde_json::json;

mod kv_migrations {
    refinery::embed_migrations!("tests/kv_migrations");
}

const CHILD_ARGS: &str = "LITEBASE_TEST_CHILD_ARGS";

#[derive(serde::Deserialize)]
struct Entry {
    key: String,
    value: String,
}

async fn put(db: web::Data<Db>, entry: web::Json<Entry>) -> Result<HttpResponse, ApiError> {
    let Entry { key, value } = entry.into_inner();
    let stored = key.clone();
    let inserted = db
        .write(move |conn| {
            Ok::<_, DbError>(conn.execute(
                "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                (&key, &value),
            )?)
        })
        .await?;
    if inserted == 0 {
        return Err(ApiError::bad_request("That key already exists."));
    }
    Ok(HttpResponse::Ok().json(json!({ "key": stored })))
}

async fn get(db: web::Data<Db>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let value: Option<String> = db
        .read(move |conn| {
            use rusqlite::OptionalExtension;
            Ok::<_, DbError>(
                conn.query_row("SELECT value FROM kv WHERE key = ?1", [&key], |r| r.get(0))
                    .optional()?,
            )
        })
        .await?;
    value
        .map(|v| HttpResponse::Ok().json(json!({ "value": v })))
        .ok_or_else(ApiError::not_found)
}

/// Where the after-commit hook of the child app logs committed ids.
const HOOK_LOG: &str = "LITEBASE_TEST_HOOK_LOG";

fn kv_app() -> App {
    App::new("kv")
        .migrations(kv_migrations::migrations::runner)
        .routes(|cfg| {
            cfg.route("/kv", web::post().to(put))
                .route("/kv/{key}", web::get().to(get));
        })
        // A developer's hooks on a collection created at run time through the API.
        .on_record(RecordAction::Create, Some("notes"), |e, next| {
            let title = e
                .record
                .get("title")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .trim()
                .to_string();
            if title == "forbidden" {
                return Err(ApiError::bad_request("Titles may not be 'forbidden'."));
            }
            e.record.insert("title".into(), json!(title.to_uppercase()));
            next.run(e)
        })
        .after_commit(RecordAction::Create, Some("notes"), |change| {
            if let Ok(path) = std::env::var(HOOK_LOG) {
                let id = change
                    .record
                    .get("id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                {
                    let _ = std::io::Write::write_all(&mut f, format!("{id}\n").as_bytes());
                }
            }
        })
}

/// Not a test: the entry point of the child process the tests below start.
#[test]
#[ignore = "entry point of the child app process; started by the other tests"]
fn child_process_entry() {
    let Ok(args) = std::env::var(CHILD_ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).unwrap_or_default();
    let code = kv_app().run_from(args);
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
}

fn child(args: &[String]) -> std::io::Result<Command> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["--ignored", "--exact", "child_process_entry", "--nocapture"])
        .env(CHILD_ARGS, serde_json::to_string(args)?);
    Ok(command)
}

fn start_kv(dir: &std::path::Path, extra: &[&str]) -> std::io::Result<ServerProcess> {
    let mut args = vec![
        "kv".to_string(),
        "--dir".into(),
        dir.display().to_string(),
        "serve".into(),
        "--http".into(),
        "127.0.0.1:0".into(),
        "--workers".into(),
        "2".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut command = child(&args)?;
    command.env(HOOK_LOG, dir.join("hooks.log"));
    ServerProcess::start(command)
}

fn count_rows(dir: &std::path::Path) -> anyhow::Result<i64> {
    let conn = rusqlite::Connection::open(dir.join("data.db"))?;
    Ok(conn.query_row("SELECT count(*) FROM kv", [], |r| r.get(0))?)
}

#[test]
fn every_bad_request_gets_a_pocketbase_shaped_error_and_changes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_kv(dir.path(), &["--body-limit", "1024"])?;
    let http = Http::new();

    let health = http.get(&server.url("/api/health"))?;
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json,
        json!({"message": "API is healthy.", "code": 200, "data": {}})
    );

    let msg = assert_error_shape(&http.get(&server.url("/no/such/route"))?, 404);
    assert_eq!(msg, "The requested resource wasn't found.");
    assert_error_shape(&http.get(&server.url("/kv/missing"))?, 404);
    assert_error_shape(&http.post_raw(&server.url("/kv"), b"{not json")?, 400);
    let msg = assert_error_shape(
        &http.post_json(&server.url("/kv"), &json!({"key": 5, "value": "x"}))?,
        400,
    );
    assert!(
        msg.contains("expected a string"),
        "the message says what was wrong: {msg}"
    );
    assert_error_shape(
        &http.post_json(&server.url("/kv"), &json!({"value": "x"}))?,
        400,
    );

    // Declared over the limit: refused before any handler reads the body.
    let huge = raw_request(
        &server.addr,
        b"POST /kv HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
    )?;
    assert_error_shape(&huge, 413);
    // Chunked, so no declared length: cut by the extractor at the limit.
    let chunk = format!("{{\"key\":\"k\",\"value\":\"{}\"}}", "v".repeat(2000));
    let chunked = format!(
        "POST /kv HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    assert_error_shape(&raw_request(&server.addr, chunked.as_bytes())?, 413);
    // Garbage that is not HTTP at all does not take the server down.
    let _ = raw_request(&server.addr, b"\x00\x01\x02 definitely not http\r\n\r\n")?;

    // Still serving, and nothing was stored by any of the above.
    assert_eq!(http.get(&server.url("/api/health"))?.status, 200);
    let ok = http.post_json(&server.url("/kv"), &json!({"key": "a", "value": "1"}))?;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_error_shape(
        &http.post_json(&server.url("/kv"), &json!({"key": "a", "value": "2"}))?,
        400,
    );
    assert_eq!(http.get(&server.url("/kv/a"))?.json, json!({"value": "1"}));
    drop(server);
    assert_eq!(count_rows(dir.path())?, 1);
    Ok(())
}

/// Writes unique keys one after another until the server stops answering (bounded
/// to 100,000 tries), so writes are in flight when the signal lands. Returns the
/// keys the server acknowledged.
fn write_until_refused(addr: String, worker: usize, signalled: Arc<AtomicBool>) -> Vec<String> {
    let http = Http::new();
    let mut acknowledged = Vec::new();
    let mut after_signal = 0;
    for i in 0..100_000 {
        if signalled.load(Ordering::Relaxed) {
            after_signal += 1;
            if after_signal > 2_000 {
                break; // the server should have stopped long ago; the test will say so
            }
        }
        let key = format!("w{worker}-{i}");
        match http.post_json(
            &format!("http://{addr}/kv"),
            &json!({"key": key, "value": "v"}),
        ) {
            Ok(reply) if reply.status == 200 => acknowledged.push(key),
            Ok(_) => {}
            Err(_) => break, // the server stopped listening
        }
    }
    acknowledged
}

#[test]
fn sigterm_during_writes_loses_no_acknowledged_write() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = start_kv(dir.path(), &[])?;
    let signalled = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let addr = server.addr.clone();
            let signalled = signalled.clone();
            std::thread::spawn(move || write_until_refused(addr, w, signalled))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    signalled.store(true, Ordering::Relaxed);
    server.signal("TERM")?;
    let status = server
        .wait(Duration::from_secs(40))
        .ok_or_else(|| anyhow::anyhow!("server did not exit after SIGTERM"))?;
    assert!(
        status.success(),
        "exit status {status:?}; log:\n{}",
        server.stderr()
    );
    assert!(
        server.stderr().contains("signal=\"SIGTERM\""),
        "{}",
        server.stderr()
    );

    let mut acknowledged = HashSet::new();
    for w in writers {
        acknowledged.extend(w.join().map_err(|_| anyhow::anyhow!("writer panicked"))?);
    }
    assert!(
        acknowledged.len() > 50,
        "too few writes to mean anything: {}",
        acknowledged.len()
    );

    let conn = rusqlite::Connection::open(dir.path().join("data.db"))?;
    let stored: HashSet<String> = conn
        .prepare("SELECT key FROM kv")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    Ok(())
}

#[test]
fn sigint_stops_gracefully_with_exit_code_zero() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = start_kv(dir.path(), &[])?;
    let http = Http::new();
    assert_eq!(
        http.post_json(&server.url("/kv"), &json!({"key": "k", "value": "v"}))?
            .status,
        200
    );
    server.signal("INT")?;
    let status = server
        .wait(Duration::from_secs(30))
        .ok_or_else(|| anyhow::anyhow!("no exit after SIGINT"))?;
    assert!(status.success(), "{status:?}");
    // A clean stop checkpoints the WAL into the main file.
    let wal = dir.path().join("data.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal)?.len() == 0,
        "WAL left behind after a clean stop"
    );
    assert_eq!(count_rows(dir.path())?, 1);
    Ok(())
}

#[test]
fn app_routes_and_migrations_share_the_database_with_the_framework() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start_kv(dir.path(), &[])?;
    drop(server);
    let conn = rusqlite::Connection::open(dir.path().join("data.db"))?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for expected in [
        "_app_migrations",
        "_litebase_migrations",
        "_params",
        "_superusers",
        "kv",
    ] {
        assert!(
            tables.iter().any(|t| t == expected),
            "{expected} missing: {tables:?}"
        );
    }
    Ok(())
}

#[test]
fn record_hooks_change_records_abort_writes_and_run_after_commit() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().display().to_string();
    let upsert = child(
        &[
            "kv",
            "--dir",
            &d,
            "superuser",
            "upsert",
            "dev@example.com",
            "dev-password",
        ]
        .map(String::from),
    )?
    .output()?;
    assert!(
        upsert.status.success(),
        "{}",
        String::from_utf8_lossy(&upsert.stderr)
    );
    let server = start_kv(dir.path(), &[])?;
    let http = Http::new();
    let token = http.superuser_token(&server.url(""), "dev@example.com", "dev-password")?;
    let created = http.post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "notes", "createRule": "", "listRule": "",
                "fields": [{"name": "title", "type": "text"}]}),
    )?;
    assert_eq!(created.status, 200, "{}", created.text);

    let url = server.url("/api/collections/notes/records");
    let ok = http.post_json(&url, &json!({"title": "  hello  "}))?;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        ok.json["title"], "HELLO",
        "the hook's change is what got stored"
    );
    let refused = http.post_json(&url, &json!({"title": "forbidden"}))?;
    assert_eq!(
        assert_error_shape(&refused, 400),
        "Titles may not be 'forbidden'."
    );

    let list = http.get(&url)?;
    assert_eq!(
        list.json["totalItems"], 1,
        "the aborted write left nothing: {}",
        list.text
    );
    // After-commit hooks follow the commit stream on their own thread: the
    // committed create arrives shortly after the answer, the refused one never.
    let log_path = dir.path().join("hooks.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&log_path)
        .unwrap_or_default()
        .is_empty()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    drop(server);
    let log = std::fs::read_to_string(&log_path)?;
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [ok.json["id"].as_str().unwrap_or("?")]
    );
    Ok(())
}
