//! The log writer thread: owns the only write connection to `logs.db`, turns
//! queued [`Entry`]s into rows in batches (one transaction each) and prunes rows
//! past the retention at start (then the `__pbLogsCleanup__` cron job does,
//! every six hours, through [`prune_file`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crossbeam_channel::Receiver;
use rusqlite::{Connection, params};

use super::{Entry, LogState, redact_url};

/// Most entries written in one transaction.
const MAX_BATCH: usize = 1024;

/// The table, created when missing; column names are the filter's field names.
pub(crate) const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS logs (
    id        TEXT PRIMARY KEY NOT NULL,
    created   TEXT NOT NULL,
    level     INTEGER NOT NULL,
    method    TEXT NOT NULL,
    url       TEXT NOT NULL,
    status    INTEGER NOT NULL,
    execTime  REAL NOT NULL,
    remoteIP  TEXT NOT NULL DEFAULT '',
    userIP    TEXT NOT NULL DEFAULT '',
    userAgent TEXT NOT NULL DEFAULT '',
    referer   TEXT NOT NULL DEFAULT '',
    auth      TEXT NOT NULL DEFAULT 'guest',
    error     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS logs_created ON logs (created);
";

/// Starts the thread; it stops when every sender is gone.
pub fn spawn(
    path: PathBuf,
    rx: Receiver<Entry>,
    state: Arc<LogState>,
) -> Result<(), std::io::Error> {
    std::thread::Builder::new()
        .name("litebase-logs".into())
        .spawn(move || {
            let conn = match open(&path) {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::error!(path = %path.display(), error = %e, "request logs disabled: cannot open the log database");
                    return;
                }
            };
            run(&conn, &rx, &state);
        })
        .map(|_| ())
}

/// Opens (creating) the log database with its table.
pub fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(SCHEMA)?;
    add_missing_columns(&conn)?;
    Ok(conn)
}

/// Brings a log file written by an older version up to [`SCHEMA`]: `userIP`
/// came with the trusted proxy settings. Old rows get `''`.
fn add_missing_columns(conn: &Connection) -> rusqlite::Result<()> {
    let has_user_ip: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('logs') WHERE name = 'userIP'",
        [],
        |r| r.get(0),
    )?;
    if !has_user_ip {
        conn.execute_batch("ALTER TABLE logs ADD COLUMN userIP TEXT NOT NULL DEFAULT ''")?;
    }
    Ok(())
}

fn run(conn: &Connection, rx: &Receiver<Entry>, state: &LogState) {
    prune(conn, state);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut ids = LogIds { last: 0 };
    loop {
        match rx.recv() {
            Ok(entry) => {
                batch.push(entry);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(entry) => batch.push(entry),
                        Err(_) => break,
                    }
                }
                match insert(conn, &mut ids, &batch) {
                    Ok(()) => {
                        state
                            .written
                            .fetch_add(batch.len() as u64, Ordering::Relaxed);
                    }
                    Err(e) => {
                        state
                            .dropped
                            .fetch_add(batch.len() as u64, Ordering::Relaxed);
                        tracing::error!(error = %e, "cannot write request logs");
                    }
                }
                batch.clear();
            }
            Err(_) => return,
        }
    }
}

/// Row ids that only grow: 15 hex digits of microseconds since the epoch, bumped
/// past the previous id when two entries share a microsecond. Ids in insertion
/// order append to the primary-key index instead of landing at random places in
/// it (which random ids did, costing the writer thread a B-tree search per row).
struct LogIds {
    last: u64,
}

impl LogIds {
    fn next(&mut self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        self.last = now.max(self.last.saturating_add(1));
        format!("{:015x}", self.last)
    }
}

fn insert(conn: &Connection, ids: &mut LogIds, batch: &[Entry]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO logs (id, created, level, method, url, status, execTime, remoteIP, userIP, userAgent, referer, auth, error) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for e in batch {
            let level = match e.status {
                500.. => 8,
                400.. => 4,
                _ => 0,
            };
            let header = |v: &Option<actix_web::http::header::HeaderValue>| {
                v.as_ref()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default()
            };
            let url = e
                .uri
                .path_and_query()
                .map(|pq| redact_url(pq.as_str()))
                .unwrap_or_else(|| e.uri.path().to_string());
            stmt.execute(params![
                ids.next(),
                crate::query::format_datetime(time::OffsetDateTime::from(e.at)),
                level,
                e.method.as_str(),
                url,
                e.status,
                e.micros as f64 / 1000.0,
                e.remote_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                e.user_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                header(&e.user_agent),
                header(&e.referer),
                e.auth.as_str(),
                e.error.as_deref().unwrap_or_default(),
            ])?;
        }
    }
    tx.commit()
}

/// Deletes rows older than the retention (nothing when logging is off), at
/// start; later prunes are the `__pbLogsCleanup__` cron job's ([`prune_file`]).
fn prune(conn: &Connection, state: &LogState) {
    let days = state.max_days.load(Ordering::Relaxed);
    if let Err(e) = prune_older_than(conn, days) {
        tracing::error!(error = %e, "cannot prune request logs");
    }
}

/// Deletes the rows of `conn`'s log older than `days` days (none when 0) and
/// says how many went.
fn prune_older_than(conn: &Connection, days: u32) -> rusqlite::Result<usize> {
    if days == 0 {
        return Ok(0);
    }
    let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(i64::from(days));
    let cutoff = crate::query::format_datetime(cutoff);
    let n = conn.execute("DELETE FROM logs WHERE created < ?1", [cutoff])?;
    if n > 0 {
        tracing::info!(rows = n, days, "pruned old request logs");
    }
    Ok(n)
}

/// Deletes the entries older than `days` days from the log file at `path`
/// through a connection of its own (blocking: call it off the async threads).
/// A missing file has nothing to prune.
pub fn prune_file(path: &std::path::Path, days: u32) -> rusqlite::Result<usize> {
    if days == 0 || !path.exists() {
        return Ok(0);
    }
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    prune_older_than(&conn, days)
}

#[cfg(test)]
mod tests {
    use super::LogIds;

    #[test]
    fn an_older_log_file_gains_the_user_ip_column() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("logs.db");
        {
            let old = rusqlite::Connection::open(&path)?;
            old.execute_batch(
                &super::SCHEMA.replace("    userIP    TEXT NOT NULL DEFAULT '',\n", ""),
            )?;
            old.execute(
                "INSERT INTO logs (id, created, level, method, url, status, execTime) \
                 VALUES ('a', '2026-01-01 00:00:00.000Z', 0, 'GET', '/', 200, 1.0)",
                [],
            )?;
        }
        let conn = super::open(&path)?;
        let user_ip: String =
            conn.query_row("SELECT userIP FROM logs WHERE id = 'a'", [], |r| r.get(0))?;
        assert_eq!(user_ip, "");
        // Opening again is a no-op.
        drop(conn);
        super::open(&path)?;
        Ok(())
    }

    #[test]
    fn log_ids_grow_and_keep_their_width() {
        let mut ids = LogIds { last: 0 };
        let all: Vec<String> = (0..1000).map(|_| ids.next()).collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "ids must only grow");
        assert!(all.iter().all(|id| id.len() == 15));
    }
}
