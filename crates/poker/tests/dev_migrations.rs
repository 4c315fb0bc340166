//! `serve --dev`: a schema change made through the API is also written as a
//! migration file, recorded as applied here, and replays on a fresh database.

mod support;

use litebase::testing::Http;
use serde_json::json;
use support::poker;

#[test]
fn schema_changes_become_reviewable_migrations() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let migrations = tmp.path().join("migrations");
    support::add_superuser(&data)?;
    let migrations_dir = migrations.display().to_string();
    let server = support::serve(&data, &["--dev", "--migrations-dir", &migrations_dir])?;
    let http = Http::new();
    let token = support::superuser_token(&server)?;
    let created = http.post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "notes", "type": "base", "listRule": "",
                "fields": [{"name": "body", "type": "text", "required": true}],
                "indexes": ["CREATE INDEX idx_notes_body ON notes (body)"]}),
    )?;
    assert_eq!(created.status, 200, "{}", created.text);
    drop(server);

    // The file is numbered after the binary's own migrations (V1 to V3).
    let file = migrations.join("V4__create_notes.sql");
    let sql = std::fs::read_to_string(&file)?;
    assert!(sql.contains("CREATE TABLE \"notes\""), "{sql}");
    assert!(sql.contains("idx_notes_body"), "{sql}");
    assert!(sql.contains("INSERT INTO _collections"), "{sql}");

    // Recorded as applied where it was made, so a rebuilt binary will not replay it.
    let conn = rusqlite::Connection::open(data.join("data.db"))?;
    let recorded: String = conn.query_row(
        "SELECT name FROM _app_migrations WHERE version = 4",
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
