//! `serve --dev`: a schema change made through the API or the admin's collection
//! editor is also written as a migration file, recorded as applied here, and
//! replays on a fresh database. `--dev` records into the app's own migrations,
//! so these run an app that embeds one (`V1__kv`) on a thread of the test.

mod support;

use litebase::testing::Http;
use litebase::testing::browser::Browser;
use serde_json::json;
use support::{add_superuser_in_process, app_with_migrations, serve_in_process};

#[test]
fn schema_changes_become_reviewable_migrations() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let migrations = tmp.path().join("migrations");
    add_superuser_in_process(app_with_migrations(), &data)?;
    let migrations_dir = migrations.display().to_string();
    let server = serve_in_process(
        app_with_migrations(),
        &data,
        &["--dev", "--migrations-dir", &migrations_dir],
    )?;
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
    server.stop()?;

    // The file is numbered after the app's own migration (V1).
    let file = migrations.join("V2__create_notes.sql");
    let sql = std::fs::read_to_string(&file)?;
    assert!(sql.contains("CREATE TABLE \"notes\""), "{sql}");
    assert!(sql.contains("idx_notes_body"), "{sql}");
    assert!(sql.contains("INSERT INTO _collections"), "{sql}");

    // Recorded as applied where it was made, so a rebuilt binary will not replay it.
    let conn = rusqlite::Connection::open(data.join("data.db"))?;
    let recorded: String = conn.query_row(
        "SELECT name FROM _app_migrations WHERE version = 2",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(recorded, "create_notes");

    // On a fresh database the file recreates the same collection.
    let fresh = tmp.path().join("fresh");
    let up = support::litebase(&fresh).args(["migrate", "up"]).output()?;
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
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

#[test]
fn dev_mode_writes_the_editors_change_as_a_migration() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let migrations = tmp.path().join("migrations");
    add_superuser_in_process(app_with_migrations(), &data)?;
    let dir = migrations.display().to_string();
    let server = serve_in_process(
        app_with_migrations(),
        &data,
        &["--dev", "--migrations-dir", &dir],
    )?;
    let mut browser = Browser::signed_in(&server)?;
    let fields = json!([{"name": "title", "type": "text", "required": true}]).to_string();
    let created = browser.submit(
        "/_/collections/new",
        "/_/collections/new",
        &[
            ("name", "tasks"),
            ("type", "base"),
            ("fields", &fields),
            ("indexes", ""),
            ("listRule", ""),
            ("viewRuleLocked", "1"),
            ("createRuleLocked", "1"),
            ("updateRuleLocked", "1"),
            ("deleteRuleLocked", "1"),
        ],
    )?;
    assert_eq!(created.status, 303, "{}", created.body);
    server.stop()?;
    let sql = std::fs::read_to_string(migrations.join("V2__create_tasks.sql"))?;
    assert!(sql.contains("CREATE TABLE \"tasks\""), "{sql}");
    assert!(sql.contains("INSERT INTO _collections"), "{sql}");
    Ok(())
}
