//! Request logs: one row per HTTP request in a SQLite file of its own
//! (`<data dir>/logs.db`), so logging never competes with the app's writes.
//!
//! The request path only builds an [`Entry`] (no formatting) and hands it to a
//! bounded channel without waiting; a dedicated thread ([`writer`]) formats and
//! inserts entries in batches, one transaction each, and prunes rows older than
//! the retention. When the channel is full the entry is dropped and counted
//! (`litebase_request_logs_dropped_total` in `/api/metrics`).

mod redact;
pub(crate) mod writer;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::SystemTime;

use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, Uri};

pub use redact::redact_url;
pub use writer::prune_file;

/// Entries that may wait for the writer before new ones are dropped.
const QUEUE: usize = 8192;

/// Who made a request, as the log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthKind {
    /// No valid token.
    #[default]
    Guest,
    /// A record of an auth collection.
    User,
    /// A superuser.
    Superuser,
}

impl AuthKind {
    /// The word stored in the `auth` column.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::Guest => "guest",
            AuthKind::User => "user",
            AuthKind::Superuser => "superuser",
        }
    }
}

pub use crate::error::ErrorMessage;

/// One request, as captured on the request path: only cheap clones, no text
/// formatting (the writer thread does that).
#[derive(Debug)]
pub struct Entry {
    /// When the request arrived.
    pub at: SystemTime,
    /// Its method.
    pub method: Method,
    /// Its path and query (secrets are redacted by the writer).
    pub uri: Uri,
    /// The answer's status.
    pub status: u16,
    /// Time taken, in microseconds.
    pub micros: u64,
    /// The socket peer's address (a proxy's, behind one), when IPs are logged.
    pub remote_ip: Option<IpAddr>,
    /// The client's address as the trusted proxy headers tell it (see
    /// [`crate::proxy`]), when IPs are logged.
    pub user_ip: Option<IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<HeaderValue>,
    /// The `Referer` header.
    pub referer: Option<HeaderValue>,
    /// Who asked.
    pub auth: AuthKind,
    /// The error message of a 4xx/5xx answer.
    pub error: Option<String>,
}

/// Counters and switches shared by the request path and the writer thread.
#[derive(Debug, Default)]
pub struct LogState {
    /// Days rows are kept; 0 turns logging off.
    pub max_days: AtomicU32,
    /// Whether client IPs are recorded.
    pub log_ip: AtomicBool,
    /// Entries dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Entries written.
    pub written: AtomicU64,
}

/// The request log of a running server: cheap to share, never blocks a request.
pub struct RequestLog {
    tx: Option<crossbeam_channel::Sender<Entry>>,
    state: Arc<LogState>,
    path: PathBuf,
}

impl RequestLog {
    /// Starts the writer thread on `path` (created if missing), keeping
    /// `max_days` days of logs. Failing to open the file disables logging
    /// (with an error in the process log) rather than the server.
    pub fn start(path: &Path, max_days: u32, log_ip: bool) -> RequestLog {
        let state = Arc::new(LogState::default());
        state.max_days.store(max_days, Ordering::Relaxed);
        state.log_ip.store(log_ip, Ordering::Relaxed);
        let (tx, rx) = crossbeam_channel::bounded(QUEUE);
        let tx = match writer::spawn(path.to_path_buf(), rx, state.clone()) {
            Ok(()) => Some(tx),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "request logs disabled: cannot open the log database");
                None
            }
        };
        RequestLog {
            tx,
            state,
            path: path.to_path_buf(),
        }
    }

    /// Whether requests are being logged now.
    pub fn enabled(&self) -> bool {
        self.tx.is_some() && self.state.max_days.load(Ordering::Relaxed) > 0
    }

    /// Whether client IPs are recorded.
    pub fn log_ip(&self) -> bool {
        self.state.log_ip.load(Ordering::Relaxed)
    }

    /// Queues one entry without waiting; a full queue drops it (and counts it).
    pub fn record(&self, entry: Entry) {
        if let Some(tx) = &self.tx {
            if tx.try_send(entry).is_err() {
                self.state.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// New retention and IP settings (an admin saved settings).
    pub fn configure(&self, max_days: u32, log_ip: bool) {
        self.state.max_days.store(max_days, Ordering::Relaxed);
        self.state.log_ip.store(log_ip, Ordering::Relaxed);
    }

    /// Counters for `/api/metrics`.
    pub fn state(&self) -> &LogState {
        &self.state
    }

    /// The log database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
