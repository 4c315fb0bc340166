//! The read pool: a few threads, each owning a read-only connection.

use std::panic::{AssertUnwindSafe, catch_unwind};

use std::sync::RwLock;

use crossbeam_channel::Sender;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::connection::open_reader;
use super::{DbError, DbOptions};

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

pub(super) struct ReadPool {
    /// Taken (dropped) by `close`: the threads then finish what is queued and exit,
    /// and later reads fail fast with `Closed` instead of waiting forever.
    tx: RwLock<Option<Sender<ReadJob>>>,
}

impl ReadPool {
    pub(super) async fn start(options: &DbOptions) -> Result<ReadPool, DbError> {
        let threads = options.read_connections.max(1);
        let (tx, rx) = crossbeam_channel::unbounded::<ReadJob>();
        let mut ready = Vec::with_capacity(threads);
        for n in 0..threads {
            let rx = rx.clone();
            let options = options.clone();
            let (ready_tx, ready_rx) = oneshot::channel();
            ready.push(ready_rx);
            std::thread::Builder::new()
                .name(format!("litebase-read-{n}"))
                .spawn(move || match open_reader(&options) {
                    Ok(conn) => {
                        let _ = ready_tx.send(Ok(()));
                        while let Ok(job) = rx.recv() {
                            job(&conn);
                        }
                    }
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                    }
                })
                .map_err(|e| DbError::Thread(e.to_string()))?;
        }
        let pool = ReadPool {
            tx: RwLock::new(Some(tx)),
        };
        for ready_rx in ready {
            if let Err(err) = ready_rx
                .await
                .map_err(|_| DbError::Panicked)
                .and_then(|r| r)
            {
                pool.close();
                return Err(err);
            }
        }
        Ok(pool)
    }

    pub(super) async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<Result<T, E>>();
        let job: ReadJob = Box::new(move |conn| {
            let outcome = catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(E::from(DbError::Panicked)));
            let _ = reply_tx.send(outcome);
        });
        let tx = self.tx.read().ok().and_then(|tx| tx.clone());
        tx.ok_or(DbError::Closed)
            .and_then(|tx| tx.send(job).map_err(|_| DbError::Closed))
            .map_err(E::from)?;
        reply_rx.await.map_err(|_| E::from(DbError::Closed))?
    }

    /// Stops every reader thread once the reads queued before this call are done.
    pub(super) fn close(&self) {
        if let Ok(mut tx) = self.tx.write() {
            tx.take();
        }
    }
}
