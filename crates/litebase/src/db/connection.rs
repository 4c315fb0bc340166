//! Opening connections with the pragmas every connection of ours needs.

use std::path::Path;
use std::str::FromStr;

use rusqlite::{Connection, OpenFlags};

use super::{DbError, DbOptions};

/// How hard a commit waits for the disk.
///
/// In WAL mode, `Normal` syncs only at checkpoints: a commit survives a crash of the
/// process (the WAL is in the OS cache), but the last commits before a power cut or
/// kernel crash may be lost. `Full` syncs the WAL on every commit, so commits survive
/// power loss too, at the cost of one fsync per batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Durable across process crashes; fast.
    #[default]
    Normal,
    /// Durable across power loss; one fsync per committed batch.
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

impl FromStr for Synchronous {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Ok(Synchronous::Normal),
            "full" => Ok(Synchronous::Full),
            other => Err(format!(
                "unknown synchronous mode {other:?}: use normal or full"
            )),
        }
    }
}

fn open_error(path: &Path, err: rusqlite::Error) -> DbError {
    DbError::Open {
        path: path.to_path_buf(),
        message: err.to_string(),
    }
}

/// The write connection: creates the file, turns on WAL and foreign keys.
pub(super) fn open_writer(options: &DbOptions) -> Result<Connection, DbError> {
    let path = &options.path;
    let conn = Connection::open(path).map_err(|e| open_error(path, e))?;
    conn.busy_timeout(std::time::Duration::from_millis(
        options.busy_timeout_ms.into(),
    ))
    .map_err(|e| open_error(path, e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(|e| open_error(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::Open {
            path: path.clone(),
            message: format!("the file system refused WAL mode (got {mode})"),
        });
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {};
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8000;
         PRAGMA mmap_size = 268435456;
         PRAGMA journal_size_limit = 67108864;",
        options.synchronous.pragma()
    ))
    .map_err(|e| open_error(path, e))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// A read-only connection for the read pool.
pub(super) fn open_reader(options: &DbOptions) -> Result<Connection, DbError> {
    let path = &options.path;
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    conn.busy_timeout(std::time::Duration::from_millis(
        options.busy_timeout_ms.into(),
    ))
    .map_err(|e| open_error(path, e))?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8000;
         PRAGMA mmap_size = 268435456;",
    )
    .map_err(|e| open_error(path, e))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}
