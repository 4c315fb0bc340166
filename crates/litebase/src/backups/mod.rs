//! Backups of the database in `<data dir>/backups/`: made with SQLite's online
//! backup API while writes continue, listed, downloaded, deleted, and restored
//! into the running server (or by the CLI into a stopped one).
//!
//! The admin pages, the JSON API and the CLI share these functions.

mod copy;
pub mod lock;
mod name;

use std::path::{Path, PathBuf};

use actix_web::http::StatusCode;
use serde::Serialize;

pub use copy::check_ours;
pub use name::{AUTO_PREFIX, auto_name, generated_name, valid_name};

use crate::db::{Db, DbError};
use crate::error::ApiError;

/// Why a backup operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The name breaks the naming rule.
    #[error(
        "invalid backup name {0:?}: use lowercase letters, digits, '_' and '-', ending in .db (e.g. nightly_1.db)"
    )]
    InvalidName(String),
    /// No backup of that name.
    #[error("no backup named {0:?}")]
    NotFound(String),
    /// A backup of that name exists already.
    #[error("a backup named {0:?} exists already: pick another name or delete it first")]
    Exists(String),
    /// The file is not a litebase database.
    #[error("the file is not a backup of this app: {0}")]
    NotOurs(String),
    /// The database stayed locked.
    #[error("the database stayed busy; try again")]
    Busy,
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file system failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The database handle failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<BackupError> for ApiError {
    fn from(err: BackupError) -> Self {
        match err {
            BackupError::InvalidName(_) | BackupError::NotOurs(_) => {
                ApiError::bad_request(format!("{}.", capitalized(&err.to_string())))
            }
            BackupError::Exists(_) => {
                ApiError::bad_request(format!("{}.", capitalized(&err.to_string())))
            }
            BackupError::NotFound(_) => ApiError::not_found(),
            BackupError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database stayed busy; try again.",
            ),
            BackupError::Db(db) => db.into(),
            other => {
                tracing::error!(error = %other, "backup failed");
                ApiError::internal()
            }
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// One backup file, as listed (PocketBase's shape).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupInfo {
    /// The file name, which is also its key in the API.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, `2026-01-02 15:04:05.000Z`.
    pub modified: String,
}

/// The backups folder of a data directory.
pub fn dir_of(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// The path of backup `key`, after checking the name (a bad name or a path
/// trick is [`BackupError::InvalidName`]).
pub fn path_in(dir: &Path, key: &str) -> Result<PathBuf, BackupError> {
    if !valid_name(key) {
        return Err(BackupError::InvalidName(key.to_string()));
    }
    Ok(dir.join(key))
}

/// Makes a backup named `name` (or a generated one) of `db` in `dir`, without
/// stopping writes. The copy goes to a hidden partial file first, so a failed
/// copy never shows up as a backup.
pub async fn create_in(db: &Db, dir: &Path, name: Option<&str>) -> Result<BackupInfo, BackupError> {
    let key = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => n.to_string(),
        None => generated_name(time::OffsetDateTime::now_utc()),
    };
    let path = path_in(dir, &key)?;
    let dir = dir.to_path_buf();
    let partial = dir.join(format!(".{key}.partial"));
    let target = path.clone();
    db.read(move |conn| -> Result<(), BackupError> {
        std::fs::create_dir_all(&dir)?;
        if target.exists() {
            return Err(BackupError::Exists(key_of(&target)));
        }
        let _ = std::fs::remove_file(&partial);
        let copied = copy::to_file(conn, &partial);
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &target)?;
        Ok(())
    })
    .await?;
    info_of(&path)
}

fn key_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn info_of(path: &Path) -> Result<BackupInfo, BackupError> {
    let meta = std::fs::metadata(path)?;
    let modified = meta
        .modified()
        .map(time::OffsetDateTime::from)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    Ok(BackupInfo {
        key: key_of(path),
        size: meta.len(),
        modified: crate::query::format_datetime(modified),
    })
}

/// Every backup in `dir`, newest first.
pub fn list_in(dir: &Path) -> Result<Vec<BackupInfo>, BackupError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if valid_name(&key_of(&path)) && path.is_file() {
            out.push(info_of(&path)?);
        }
    }
    out.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.key.cmp(&a.key)));
    Ok(out)
}

/// Replaces the content of `db` with backup `key` of `dir` (after checking it is
/// one of ours), through the live write connection: readers see the restored
/// rows on their next read. Migrations are not run here.
pub async fn restore_into(db: &Db, dir: &Path, key: &str) -> Result<(), BackupError> {
    let path = path_in(dir, key)?;
    if !path.is_file() {
        return Err(BackupError::NotFound(key.to_string()));
    }
    let checked = path.clone();
    actix_web::web::block(move || check_ours(&checked))
        .await
        .map_err(|e| BackupError::Io(std::io::Error::other(e.to_string())))??;
    db.exclusive(move |conn| copy::into_connection(&path, conn))
        .await
}
