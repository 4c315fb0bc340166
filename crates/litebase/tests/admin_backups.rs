//! Backups against the `litebase` binary: made while writes continue, listed,
//! downloaded (header or `?token=` link), restored online into the running
//! server (deleted and changed rows come back as they were), bad names and
//! foreign files refused, and the CLI's create/list/restore.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use litebase::testing::{Http, ServerProcess, assert_error_shape};
use serde_json::json;
use support::admin::get_bytes;

/// `notes`: anyone may add one, only superusers see them.
fn notes(server: &ServerProcess, token: &str) -> anyhow::Result<()> {
    let made = Http::new().post_json_auth(
        &server.url("/api/collections"),
        token,
        &json!({"name": "notes", "createRule": "", "fields": [{"name": "text", "type": "text"}]}),
    )?;
    anyhow::ensure!(made.status == 200, "create notes: {}", made.text);
    Ok(())
}

/// Adds a note as a guest; its id.
fn add_note(server: &ServerProcess, text: &str) -> anyhow::Result<String> {
    let made = Http::new().post_json(
        &server.url("/api/collections/notes/records"),
        &json!({"text": text}),
    )?;
    anyhow::ensure!(made.status == 200, "add note: {}", made.text);
    Ok(made.json["id"].as_str().unwrap_or_default().to_string())
}

/// The note's text, or `None` once it is gone.
fn note(server: &ServerProcess, token: &str, id: &str) -> anyhow::Result<Option<String>> {
    let reply = Http::new().get_auth(
        &server.url(&format!("/api/collections/notes/records/{id}")),
        token,
    )?;
    Ok((reply.status == 200).then(|| reply.json["text"].as_str().unwrap_or_default().to_string()))
}

#[test]
fn an_online_backup_is_listed_downloaded_and_restores_changed_rows() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    notes(&server, &token)?;
    let kept = add_note(&server, "as it was")?;
    let doomed = add_note(&server, "deleted after the backup")?;

    // Writes keep going while the backup is made.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, written, url) = (
            stop.clone(),
            written.clone(),
            server.url("/api/collections/notes/records"),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if Http::new()
                    .post_json(&url, &json!({"text": "busy"}))
                    .is_ok_and(|r| r.status == 200)
                {
                    written.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let made = http.post_json_auth(
        &server.url("/api/backups"),
        &token,
        &json!({"name": "before.db"}),
    )?;
    assert_eq!(made.status, 204, "{}", made.text);
    let during = written.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let _ = writer.join();
    assert!(
        written.load(Ordering::Relaxed) > during,
        "writes went on after the backup"
    );

    let listed = http.get_auth(&server.url("/api/backups"), &token)?;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json[0]["key"], "before.db");
    assert!(
        listed.json[0]["size"].as_u64().unwrap_or(0) > 4096,
        "{}",
        listed.text
    );

    // Download: with the header, with a file token link, and not at all.
    let (status, file) = get_bytes(
        &server,
        "/api/backups/before.db",
        &[("Authorization", &token)],
    )?;
    assert_eq!(status, 200);
    assert!(file.starts_with(b"SQLite format 3\0"), "a SQLite file");
    let file_token = http.post_json_auth(&server.url("/api/files/token"), &token, &json!({}))?;
    let link_token = file_token.json["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!link_token.is_empty(), "{}", file_token.text);
    let (status, linked) = get_bytes(
        &server,
        &format!("/api/backups/before.db?token={link_token}"),
        &[],
    )?;
    assert_eq!((status, linked.len()), (200, file.len()));
    let (status, _) = get_bytes(
        &server,
        &format!("/api/backups/before.db?token={token}"),
        &[],
    )?;
    assert_eq!(status, 200);
    assert_error_shape(&http.get(&server.url("/api/backups/before.db"))?, 401);
    assert_error_shape(
        &http.get(&server.url("/api/backups/before.db?token=forged"))?,
        401,
    );

    // After the backup: one note changed, another deleted.
    let changed = http.patch_json_auth(
        &server.url(&format!("/api/collections/notes/records/{kept}")),
        &token,
        &json!({"text": "changed after the backup"}),
    )?;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let deleted = http.agent_delete(
        &server.url(&format!("/api/collections/notes/records/{doomed}")),
        &token,
    )?;
    assert_eq!(deleted, 204);
    assert_eq!(note(&server, &token, &doomed)?, None);

    let restored = http.post_json_auth(
        &server.url("/api/backups/before.db/restore"),
        &token,
        &json!({}),
    )?;
    assert_eq!(restored.status, 204, "{}", restored.text);
    assert_eq!(
        note(&server, &token, &doomed)?.as_deref(),
        Some("deleted after the backup"),
        "the deleted note is back"
    );
    assert_eq!(
        note(&server, &token, &kept)?.as_deref(),
        Some("as it was"),
        "the change is undone"
    );
    // The restored database keeps taking writes.
    add_note(&server, "after the restore")?;

    let gone = http.agent_delete(&server.url("/api/backups/before.db"), &token)?;
    assert_eq!(gone, 204);
    let listed = http.get_auth(&server.url("/api/backups"), &token)?;
    assert_eq!(listed.json, json!([]));
    Ok(())
}

#[test]
fn bad_names_foreign_files_and_strangers_are_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    for name in [
        "../evil.db",
        "UPPER.db",
        "no_suffix",
        "a/b.db",
        ".hidden.db",
    ] {
        let reply =
            http.post_json_auth(&server.url("/api/backups"), &token, &json!({"name": name}))?;
        let message = assert_error_shape(&reply, 400);
        assert!(message.contains("backup name"), "{name}: {message}");
    }
    let traversal = http.get_auth(&server.url("/api/backups/..%2Fdata.db"), &token)?;
    assert_error_shape(&traversal, 400);
    let restore_traversal = http.post_json_auth(
        &server.url("/api/backups/..%2Fdata.db/restore"),
        &token,
        &json!({}),
    )?;
    assert_error_shape(&restore_traversal, 400);
    assert_error_shape(
        &http.post_json_auth(
            &server.url("/api/backups/missing.db/restore"),
            &token,
            &json!({}),
        )?,
        404,
    );

    // A file that is not one of ours is refused before anything is touched.
    std::fs::create_dir_all(dir.path().join("backups"))?;
    std::fs::write(dir.path().join("backups/junk.db"), b"not a database at all")?;
    let junk = http.post_json_auth(
        &server.url("/api/backups/junk.db/restore"),
        &token,
        &json!({}),
    )?;
    let message = assert_error_shape(&junk, 400);
    assert!(message.contains("not a backup of this app"), "{message}");
    let other = rusqlite::Connection::open(dir.path().join("backups/other.db"))?;
    other.execute("CREATE TABLE t (x)", [])?;
    drop(other);
    let other = http.post_json_auth(
        &server.url("/api/backups/other.db/restore"),
        &token,
        &json!({}),
    )?;
    assert!(assert_error_shape(&other, 400).contains("_collections"));
    assert!(http.get_auth(&server.url("/api/health"), &token)?.status == 200);

    // Twice the same name.
    let first = http.post_json_auth(
        &server.url("/api/backups"),
        &token,
        &json!({"name": "same.db"}),
    )?;
    assert_eq!(first.status, 204, "{}", first.text);
    let again = http.post_json_auth(
        &server.url("/api/backups"),
        &token,
        &json!({"name": "same.db"}),
    )?;
    assert_error_shape(&again, 400);
    // No name: a generated one.
    let unnamed = http.post_json_auth(&server.url("/api/backups"), &token, &json!({}))?;
    assert_eq!(unnamed.status, 204, "{}", unnamed.text);
    let listed = http.get_auth(&server.url("/api/backups"), &token)?;
    assert!(listed.text.contains("lb_backup_"), "{}", listed.text);

    assert_error_shape(&http.get(&server.url("/api/backups"))?, 401);
    assert_error_shape(
        &http.post_json(&server.url("/api/backups"), &json!({}))?,
        401,
    );
    assert_error_shape(
        &http.post_json(&server.url("/api/backups/same.db/restore"), &json!({}))?,
        401,
    );
    assert_eq!(
        http.agent_delete(&server.url("/api/backups/same.db"), "nope")?,
        401
    );
    Ok(())
}

#[test]
fn the_cli_creates_lists_and_restores_with_the_server_stopped() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let run = |args: &[&str]| support::litebase(dir.path()).args(args).output();

    let created = run(&["backup", "create", "empty.db"])?;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let listed = run(&["backup", "list"])?;
    assert!(String::from_utf8_lossy(&listed.stdout).contains("empty.db"));
    let bad = run(&["backup", "create", "../x.db"])?;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid backup name"));

    let mut server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let token = support::superuser_token(&server)?;
    notes(&server, &token)?;
    let id = add_note(&server, "made after empty.db")?;
    // A running server keeps the CLI from restoring under it.
    let refused = run(&["backup", "restore", "empty.db"])?;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("a server is running") && stderr.contains("/restore"),
        "{stderr}"
    );
    // …but a backup may be taken while it runs.
    let hot = run(&["backup", "create", "hot.db"])?;
    assert!(
        hot.status.success(),
        "{}",
        String::from_utf8_lossy(&hot.stderr)
    );
    assert!(note(&server, &token, &id)?.is_some());
    server.signal("TERM")?;
    server.wait(Duration::from_secs(10));
    drop(server);

    // Restore `name` offline, start the server again: is the note there?
    let note_after_restore = |name: &str| -> anyhow::Result<bool> {
        let restored = run(&["backup", "restore", name])?;
        anyhow::ensure!(
            restored.status.success(),
            "{}",
            String::from_utf8_lossy(&restored.stderr)
        );
        let server = support::serve(dir.path(), &["--log-level", "warn"])?;
        let token = support::superuser_token(&server)?;
        Ok(note(&server, &token, &id)?.is_some())
    };
    assert!(
        !note_after_restore("empty.db")?,
        "the note made after the backup is gone"
    );
    assert!(note_after_restore("hot.db")?, "the hot backup has it");
    Ok(())
}
