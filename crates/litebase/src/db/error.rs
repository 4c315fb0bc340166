use std::path::PathBuf;

/// What can go wrong between us and SQLite.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A statement failed; the message is SQLite's.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The database file could not be opened or created.
    #[error("cannot open database {}: {message}", path.display())]
    Open { path: PathBuf, message: String },
    /// The write ran without error, but the transaction holding it failed to commit,
    /// so it was rolled back.
    #[error("the transaction could not be committed: {0}")]
    Commit(String),
    /// A database thread could not be started.
    #[error("cannot start a database thread: {0}")]
    Thread(String),
    /// The handle was closed (shutdown in progress); nothing was written.
    #[error("the database is closed")]
    Closed,
    /// The closure panicked; its savepoint was rolled back and the thread survived.
    #[error("a database task panicked")]
    Panicked,
    /// A second commit sink was set: it would silently take every committed event
    /// away from the first (realtime, hooks), so it is refused.
    #[error("the database already has a commit sink; subscribe to its change stream instead")]
    SinkTaken,
    /// A migration could not be read or applied.
    #[error("migration failed: {0}")]
    Migration(String),
}
