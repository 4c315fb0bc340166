//! Uploaded files (PocketBase's `file` fields): where their bytes live
//! ([`storage`]: the data directory or an S3 bucket), how stored names are
//! made ([`name`]), what type a file is ([`sniff`]), thumbs ([`thumb`]), and
//! uploads waiting in temp files ([`Upload`]).
//!
//! Records only ever hold names; the record service stores an upload before the
//! write that names it and removes it again if the write fails. Files a
//! committed write let go of (a replaced or removed name, a deleted record's
//! files, cascades included) are announced inside the transaction as
//! [`Released`] and removed only once it has committed (see
//! [`crate::changes::ChangeStream::subscribe_released`]).

pub mod form;
pub mod name;
pub mod s3;
pub mod sniff;
pub mod storage;
pub mod thumb;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use storage::{Local, Storage};

/// A file part of a multipart body, written to a temp file as it arrived
/// (removed when dropped).
#[derive(Debug)]
pub struct Upload {
    /// The form key it came under (`avatar`, `documents+`, `+documents`).
    pub key: String,
    /// The name the client gave it.
    pub original_name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its content type, detected from its first bytes.
    pub content_type: String,
    /// The temp file holding it.
    pub file: tempfile::TempPath,
}

/// Files a committed write no longer references: removed from storage (with
/// their thumbs) once the transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    /// The record's collection id.
    pub collection_id: String,
    /// The record's id.
    pub record_id: String,
    /// The stored names let go of.
    pub names: Vec<String>,
}

/// The storage in force and the folder uploads wait in. Shared by the record
/// service (storing uploads), the download route and the cleaner of released
/// files.
pub struct Files {
    local: Arc<dyn Storage>,
    current: RwLock<Arc<dyn Storage>>,
    temp_dir: PathBuf,
}

impl Files {
    /// Files under `<data_dir>/storage`, or in the bucket of `s3` when it is
    /// enabled (and usable; otherwise the data directory, with a warning).
    pub fn new(data_dir: &Path, s3: &crate::settings::S3) -> Files {
        let local: Arc<dyn Storage> = Arc::new(Local::new(data_dir.join("storage")));
        let files = Files {
            current: RwLock::new(local.clone()),
            local,
            temp_dir: data_dir.join(".uploads"),
        };
        files.configure(s3);
        files
    }

    /// Switches to the bucket of `s3` (or back to the data directory).
    pub fn configure(&self, s3: &crate::settings::S3) {
        let next = if s3.enabled {
            match s3::S3Storage::new(s3) {
                Ok(bucket) => Arc::new(bucket) as Arc<dyn Storage>,
                Err(e) => {
                    tracing::warn!(error = %e, "S3 settings unusable; files stay in the data directory");
                    self.local.clone()
                }
            }
        } else {
            self.local.clone()
        };
        match self.current.write() {
            Ok(mut slot) => *slot = next,
            Err(poisoned) => *poisoned.into_inner() = next,
        }
    }

    /// The storage in force.
    pub fn storage(&self) -> Arc<dyn Storage> {
        match self.current.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Removes temp uploads older than an hour (left by a crash; a request
    /// reading one now is far younger). Blocking.
    pub fn remove_stale_uploads(&self) {
        let Ok(entries) = std::fs::read_dir(&self.temp_dir) else {
            return;
        };
        let hour = std::time::Duration::from_secs(3600);
        for entry in entries.filter_map(Result::ok) {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > hour);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Where uploads wait while a request is read (created on demand; on the
    /// data directory's disk so storing one locally is a link, not a copy).
    pub fn temp_dir(&self) -> &Path {
        &self.temp_dir
    }

    /// Removes released files and their thumbs (blocking; errors are logged, a
    /// file left behind is only wasted space).
    pub fn remove_released(&self, released: &[Released]) {
        let storage = self.storage();
        for r in released {
            for name in r.names.iter().filter(|n| name::is_safe(n)) {
                let key = key(&r.collection_id, &r.record_id, name);
                let thumbs = format!("{}/", thumbs_prefix(&r.collection_id, &r.record_id, name));
                for result in [storage.delete_prefix(&thumbs), storage.delete(&key)] {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, key, "could not remove a released file");
                    }
                }
            }
        }
    }
}

/// The storage key of a record's file: `collectionId/recordId/name`.
pub fn key(collection_id: &str, record_id: &str, name: &str) -> String {
    format!("{collection_id}/{record_id}/{name}")
}

/// The folder of a file's thumbs: `collectionId/recordId/thumbs_name`.
pub fn thumbs_prefix(collection_id: &str, record_id: &str, name: &str) -> String {
    format!("{collection_id}/{record_id}/thumbs_{name}")
}

/// The storage key of one thumb: `…/thumbs_name/WxH_name`.
pub fn thumb_key(collection_id: &str, record_id: &str, name: &str, size: &str) -> String {
    format!(
        "{}/{size}_{name}",
        thumbs_prefix(collection_id, record_id, name)
    )
}
