//! SQLite access for the whole app: one writer thread that group-commits, a pool of
//! read-only connections, and migrations.
//!
//! SQLite allows a single writer, so we make that explicit instead of letting
//! connections fight over the lock: every write is a closure sent to the writer
//! thread, which runs queued closures inside one transaction (each in its own
//! savepoint) and commits once. Reads run on dedicated threads with their own
//! read-only connections, so no SQLite call ever blocks an async runtime thread.
//!
//! ```no_run
//! # async fn demo(db: litebase::db::Db) -> Result<(), litebase::db::DbError> {
//! let id: i64 = db
//!     .write(|conn| {
//!         conn.execute("INSERT INTO notes (body) VALUES (?1)", ["hello"])?;
//!         Ok::<_, litebase::db::DbError>(conn.last_insert_rowid())
//!     })
//!     .await?;
//! let body: String = db
//!     .read(move |conn| {
//!         Ok::<_, litebase::db::DbError>(conn.query_row(
//!             "SELECT body FROM notes WHERE rowid = ?1",
//!             [id],
//!             |row| row.get(0),
//!         )?)
//!     })
//!     .await?;
//! # Ok(()) }
//! ```

mod connection;
mod error;
pub mod events;
pub mod migrate;
mod reader;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use connection::Synchronous;
pub use error::DbError;
pub use rusqlite;
pub use writer::WriterStats;

use reader::ReadPool;
use writer::WriterHandle;

/// How to open the database; every field has a default that works out of the box.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Path of the SQLite file; its WAL and SHM files live beside it.
    pub path: PathBuf,
    /// Durability of a commit (see [`Synchronous`]).
    pub synchronous: Synchronous,
    /// How many read-only connections (each on its own thread) serve `Db::read`.
    pub read_connections: usize,
    /// The most writes the writer folds into one transaction.
    pub max_batch: usize,
    /// How long a connection waits on a lock held by another process before failing.
    pub busy_timeout_ms: u32,
}

impl DbOptions {
    /// Defaults for a database file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous: Synchronous::Normal,
            read_connections: 4,
            max_batch: 512,
            busy_timeout_ms: 5_000,
        }
    }
}

/// A handle to the database: cheap to clone, safe to share across tasks and threads.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: WriterHandle,
    readers: ReadPool,
}

impl Db {
    /// Opens (creating if needed) the database file and starts the writer and reader
    /// threads. Connections are opened on those threads, never on the caller's.
    pub async fn open(options: DbOptions) -> Result<Db, DbError> {
        if let Some(parent) = options.path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|source| DbError::Open {
                    path: options.path.clone(),
                    message: source.to_string(),
                })?;
            }
        }
        // The writer goes first: it creates the file and switches it to WAL, which
        // the read-only connections cannot do themselves.
        let writer = WriterHandle::start(&options).await?;
        let readers = match ReadPool::start(&options).await {
            Ok(readers) => readers,
            Err(err) => {
                writer.close().await;
                return Err(err);
            }
        };
        Ok(Db {
            inner: Arc::new(Inner {
                path: options.path,
                writer,
                readers,
            }),
        })
    }

    /// The database file this handle writes to.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on the writer thread inside a transaction and resolves once that
    /// transaction has committed, so a caller that sees `Ok` knows its write is durable
    /// (to the configured [`Synchronous`] level).
    ///
    /// Writes queued together share one commit, but each runs in its own savepoint:
    /// an `Err` from `f` (or a panic) rolls back only that write, and only its caller
    /// sees the error.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }

    /// Runs `f` with exclusive use of the write connection, outside any transaction.
    /// Meant for work that manages its own transactions: migrations, backups,
    /// checkpoints. Queued writes wait until it returns.
    pub async fn exclusive<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut rusqlite::Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.inner.writer.exclusive(f).await
    }

    /// Runs `f` on one of the read-only connections. It sees every write that has
    /// committed before the call.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.inner.readers.read(f).await
    }

    /// Where committed [`events`] go. There is one sink per database, set once
    /// (litebase's [`crate::changes::ChangeStream`] takes it when the app starts;
    /// subscribe to that stream instead); a second call fails with
    /// [`DbError::SinkTaken`].
    pub fn set_commit_sink(&self, sink: events::CommitSink) -> Result<(), DbError> {
        self.inner.writer.set_sink(sink)
    }

    /// Counters of the writer (batches, writes, commit time) for metrics and benches.
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.writer.stats()
    }

    /// Commits every write queued so far, stops the threads and checkpoints the WAL.
    /// Later calls on any clone of this handle fail with [`DbError::Closed`].
    pub async fn close(&self) {
        self.inner.writer.close().await;
        self.inner.readers.close();
    }
}
