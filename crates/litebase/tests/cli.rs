//! The `litebase` binary's command line, run for real against temp data dirs
//! (and, for what only an app with migrations of its own shows, such an app
//! run in this process).

mod support;

use std::path::Path;
use std::process::{Command, ExitCode, Output};

fn litebase(dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_litebase"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("LITEBASE_DIR")
        .output()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A failed command prints exactly one line, no panic, and exits non-zero.
fn assert_clean_failure(o: &Output, needle: &str) {
    assert!(!o.status.success(), "should fail: {}", stdout(o));
    let err = stderr(o);
    assert!(!err.contains("panicked"), "panic on the CLI: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = lines.last().copied().unwrap_or_default();
    assert!(last.starts_with("Error: "), "{err}");
    assert!(last.contains(needle), "expected {needle:?} in {err}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("Error: ")).count(),
        1,
        "{err}"
    );
}

#[test]
fn version_and_help_on_every_command() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let v = litebase(dir.path(), &["--version"])?;
    assert!(v.status.success());
    assert_eq!(
        stdout(&v).trim(),
        format!("litebase {}", env!("CARGO_PKG_VERSION"))
    );
    for cmd in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["migrate", "up", "--help"],
        vec!["migrate", "status", "--help"],
        vec!["migrate", "new", "--help"],
        vec!["superuser", "--help"],
        vec!["superuser", "upsert", "--help"],
        vec!["superuser", "delete", "--help"],
        vec!["healthcheck", "--help"],
    ] {
        let o = litebase(dir.path(), &cmd)?;
        assert!(o.status.success(), "{cmd:?}");
        assert!(
            stdout(&o).contains("Usage: litebase"),
            "{cmd:?}: {}",
            stdout(&o)
        );
    }
    let unknown = litebase(dir.path(), &["frobnicate"])?;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unrecognized subcommand"));
    Ok(())
}

#[test]
fn migrate_status_then_up_then_idempotent() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let before = litebase(dir.path(), &["migrate", "status"])?;
    assert!(before.status.success(), "{}", stderr(&before));
    let text = stdout(&before);
    assert!(
        text.contains("system") && text.contains("pending"),
        "{text}"
    );
    assert!(text.contains("auth"), "{text}");
    // Every embedded system migration is pending on a fresh directory.
    let system = support::system_migration_count();
    assert!(
        text.trim_end()
            .ends_with(&format!("0 applied, {system} pending")),
        "{text}"
    );

    let up = litebase(dir.path(), &["migrate", "up"])?;
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(
        stdout(&up).contains("Applied system V1__system"),
        "{}",
        stdout(&up)
    );
    assert!(
        stdout(&up).contains("Applied system V3__auth"),
        "{}",
        stdout(&up)
    );

    let again = litebase(dir.path(), &["migrate", "up"])?;
    assert!(again.status.success());
    assert_eq!(stdout(&again).trim(), "No new migrations to apply.");

    let after = stdout(&litebase(dir.path(), &["migrate", "status"])?);
    assert!(!after.contains("pending "), "{after}");
    assert!(
        after
            .trim_end()
            .ends_with(&format!("{system} applied, 0 pending")),
        "{after}"
    );

    // An app's own migrations run after litebase's, with their own history.
    let app = tempfile::tempdir()?;
    let up = support::run_in_process(
        support::app_with_migrations(),
        app.path(),
        &["migrate", "up"],
    );
    assert_eq!(up, ExitCode::SUCCESS);
    let conn = rusqlite::Connection::open(app.path().join("data.db"))?;
    for (table, applied) in [
        ("_litebase_migrations", system as i64),
        ("_app_migrations", 1),
    ] {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        assert_eq!(n, applied, "{table}");
    }
    Ok(())
}

#[test]
fn migrate_new_numbers_after_the_embedded_migrations() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mdir = dir.path().join("migrations");
    let mdir_s = mdir.display().to_string();
    let first = litebase(
        dir.path(),
        &["migrate", "new", "add_rooms", "--migrations-dir", &mdir_s],
    )?;
    assert!(first.status.success(), "{}", stderr(&first));
    // The plain binary embeds no app migration: a new file in an empty folder is V1.
    assert!(mdir.join("V1__add_rooms.sql").exists());
    let second = litebase(
        dir.path(),
        &["migrate", "new", "add_votes", "--migrations-dir", &mdir_s],
    )?;
    assert!(second.status.success());
    assert!(mdir.join("V2__add_votes.sql").exists());
    let bad = litebase(
        dir.path(),
        &["migrate", "new", "Add Votes!", "--migrations-dir", &mdir_s],
    )?;
    assert_clean_failure(&bad, "invalid migration name");

    // An app that embeds V1 numbers a new file in an empty folder V2.
    let app_dir = dir.path().join("app-migrations");
    let app_dir_s = app_dir.display().to_string();
    let made = support::run_in_process(
        support::app_with_migrations(),
        dir.path(),
        &[
            "migrate",
            "new",
            "add_rooms",
            "--migrations-dir",
            &app_dir_s,
        ],
    );
    assert_eq!(made, ExitCode::SUCCESS);
    assert!(app_dir.join("V2__add_rooms.sql").exists());
    Ok(())
}

#[test]
fn superuser_upsert_and_delete() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let created = litebase(
        dir.path(),
        &["superuser", "upsert", "Admin@Example.com", "s3cret-pass"],
    )?;
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains("Created superuser"));

    let db = dir.path().join("data.db");
    let read = |email: &str| -> anyhow::Result<Option<(String, String)>> {
        let conn = rusqlite::Connection::open(&db)?;
        let mut stmt = conn.prepare(
            "SELECT password, tokenKey FROM _superusers WHERE email = ?1 COLLATE NOCASE",
        )?;
        let mut rows = stmt.query_map([email], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.next().transpose()?)
    };
    let (hash, key) = read("admin@example.com")?.ok_or_else(|| anyhow::anyhow!("not stored"))?;
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("s3cret-pass"));

    // Upsert of the same address (any case) updates: new hash, new token key.
    let updated = litebase(
        dir.path(),
        &["superuser", "upsert", "admin@example.COM", "another-pass"],
    )?;
    assert!(updated.status.success());
    assert!(stdout(&updated).contains("Updated superuser"));
    let (hash2, key2) = read("admin@example.com")?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_ne!(hash, hash2);
    assert_ne!(key, key2, "a password change revokes older tokens");

    assert_clean_failure(
        &litebase(
            dir.path(),
            &["superuser", "upsert", "not-an-email", "long-enough"],
        )?,
        "email",
    );
    assert_clean_failure(
        &litebase(
            dir.path(),
            &["superuser", "upsert", "b@example.com", "short"],
        )?,
        "at least 8",
    );

    let deleted = litebase(dir.path(), &["superuser", "delete", "admin@example.com"])?;
    assert!(deleted.status.success());
    assert!(read("admin@example.com")?.is_none());
    // Deleting again is not an error (scripts may run it twice), but says so.
    let again = litebase(dir.path(), &["superuser", "delete", "admin@example.com"])?;
    assert!(again.status.success());
    assert!(stdout(&again).contains("already deleted"));
    Ok(())
}

#[test]
fn bad_configuration_is_one_clear_line() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let o = litebase(
        dir.path(),
        &["--log-level", "info,=[bad", "migrate", "status"],
    )?;
    assert_clean_failure(&o, "invalid --log-level");
    let o = litebase(
        dir.path(),
        &["--synchronous", "sometimes", "migrate", "status"],
    )?;
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("unknown synchronous mode"),
        "{}",
        stderr(&o)
    );
    // A data dir that cannot be created.
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x")?;
    let o = Command::new(env!("CARGO_BIN_EXE_litebase"))
        .arg("--dir")
        .arg(file.join("sub"))
        .args(["migrate", "up"])
        .output()?;
    assert_clean_failure(&o, "data directory");
    // A port already taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = taken.local_addr()?.to_string();
    let o = litebase(dir.path(), &["serve", "--http", &addr])?;
    assert_clean_failure(&o, "cannot listen on");
    Ok(())
}
