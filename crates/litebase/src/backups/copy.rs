//! The SQLite side of backups: copying a live database page by page with the
//! online backup API (writers keep going), checking that a file is one of ours,
//! and copying a backup back into the live connection.

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::BackupError;

/// Copies the database behind `src` to a new file `dest` in one consistent
/// snapshot (one read transaction; concurrent writes go to the WAL).
pub fn to_file(src: &Connection, dest: &Path) -> Result<(), BackupError> {
    let mut out = Connection::open(dest)?;
    run(&Backup::new(src, &mut out)?)?;
    drop(out);
    Ok(())
}

/// Replaces the content of `dest` (the live write connection) with the backup
/// at `src`.
pub fn into_connection(src: &Path, dest: &mut Connection) -> Result<(), BackupError> {
    let input = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    run(&Backup::new(&input, dest)?)
}

fn run(backup: &Backup<'_, '_>) -> Result<(), BackupError> {
    // All pages in one step; a lock held elsewhere is retried for a while.
    for _ in 0..200 {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked => {
                std::thread::sleep(Duration::from_millis(25));
            }
            _ => std::thread::sleep(Duration::from_millis(25)),
        }
    }
    Err(BackupError::Busy)
}

/// `Ok` when `path` is a healthy SQLite database with litebase's tables.
pub fn check_ours(path: &Path) -> Result<(), BackupError> {
    let not_ours = |why: &str| BackupError::NotOurs(why.to_string());
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|_| not_ours("it cannot be opened as SQLite"))?;
    let has_collections: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_collections')",
            [],
            |r| r.get(0),
        )
        .map_err(|_| not_ours("it is not a SQLite database"))?;
    if !has_collections {
        return Err(not_ours("it has no _collections table"));
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|_| not_ours("its integrity check failed"))?;
    if check != "ok" {
        return Err(not_ours(&format!("its integrity check says {check:?}")));
    }
    Ok(())
}
