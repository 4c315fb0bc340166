//! `serve --dev`: a schema change made through the API is also written as a
//! migration file, recorded as applied here, and replays on a fresh database.

use std::process::Command;

use litebase::testing::{Http, ServerProcess};
use serde_json::json;

fn poker(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_poker"));
    cmd.arg("--dir").arg(dir);
    cmd
}

#[test]
fn schema_changes_become_reviewable_migrations() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let migrations = tmp.path().join("migrations");
    let up = poker(&data)
        .args(["superuser", "upsert", "dev@example.com", "dev-password"])
        .output()?;
    assert!(up.status.success());
    let mut cmd = poker(&data);
    cmd.args([
        "serve",
        "--http",
        "127.0.0.1:0",
        "--dev",
        "--migrations-dir",
    ])
    .arg(&migrations);
    let server = ServerProcess::start(cmd)?;
    let http = Http::new();
    let auth = http.post_json(
        &server.url("/api/collections/_superusers/auth-with-password"),
        &json!({"identity": "dev@example.com", "password": "dev-password"}),
    )?;
    assert_eq!(auth.status, 200, "{}", auth.text);
    let token = auth.json["token"].as_str().unwrap_or_default().to_string();
    let created = http.post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "notes", "type": "base", "listRule": "",
                "fields": [{"name": "body", "type": "text", "required": true}],
                "indexes": ["CREATE INDEX idx_notes_body ON notes (body)"]}),
    )?;
    assert_eq!(created.status, 200, "{}", created.text);
    drop(server);

    // The file is numbered after the binary's own migrations (V1, V2).
    let file = migrations.join("V3__create_notes.sql");
    let sql = std::fs::read_to_string(&file)?;
    assert!(sql.contains("CREATE TABLE \"notes\""), "{sql}");
    assert!(sql.contains("idx_notes_body"), "{sql}");
    assert!(sql.contains("INSERT INTO _collections"), "{sql}");

    // Recorded as applied where it was made, so a rebuilt binary will not replay it.
    let conn = rusqlite::Connection::open(data.join("data.db"))?;
    let recorded: String = conn.query_row(
        "SELECT name FROM _app_migrations WHERE version = 3",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(recorded, "create_notes");

    // On a fresh database the file recreates the same collection.
    let fresh = tmp.path().join("fresh");
    assert!(
        poker(&fresh)
            .args(["migrate", "up"])
            .output()?
            .status
            .success()
    );
    let conn = rusqlite::Connection::open(fresh.join("data.db"))?;
    conn.execute_batch(&sql)?;
    let rule: Option<String> = conn.query_row(
        "SELECT listRule FROM _collections WHERE name = 'notes'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(rule.as_deref(), Some(""));
    conn.execute(
        "INSERT INTO notes (id, body) VALUES ('abcdefghijklmno', 'hi')",
        [],
    )?;
    Ok(())
}
