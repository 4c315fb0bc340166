//! The writer thread: owns the only write connection and group-commits queued writes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::connection::open_writer;
use super::{DbError, DbOptions};

/// Hands the commit's outcome to the waiting caller.
type Deliver = Box<dyn FnOnce(Result<(), &DbError>) + Send>;
/// A queued write: runs inside its savepoint (or, given an error, fails without
/// running), says whether it succeeded, and returns how to answer its caller once
/// the batch's fate is known.
type WriteJob = Box<dyn FnOnce(Result<&Connection, &DbError>) -> (bool, Deliver) + Send>;
type ExclusiveJob = Box<dyn FnOnce(&mut Connection) + Send>;

enum Msg {
    Write(WriteJob),
    Exclusive(ExclusiveJob),
    Shutdown(oneshot::Sender<()>),
}

/// Running totals of the writer, read without locking.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriterStats {
    /// Transactions committed (or attempted).
    pub batches: u64,
    /// Writes that ran, successful or not.
    pub writes: u64,
    /// Writes whose caller got an error.
    pub failed_writes: u64,
    /// The largest batch seen.
    pub max_batch: u64,
    /// Time spent inside batches (run + commit), in microseconds.
    pub busy_micros: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    writes: AtomicU64,
    failed_writes: AtomicU64,
    max_batch: AtomicU64,
    busy_micros: AtomicU64,
}

/// The shared slot of the commit sink.
type SinkSlot = Arc<std::sync::RwLock<Option<super::events::CommitSink>>>;

pub(super) struct WriterHandle {
    tx: Sender<Msg>,
    counters: Arc<Counters>,
    sink: SinkSlot,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl WriterHandle {
    pub(super) async fn start(options: &DbOptions) -> Result<WriterHandle, DbError> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (ready_tx, ready_rx) = oneshot::channel();
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        let sink: SinkSlot = Arc::default();
        let thread_sink = sink.clone();
        let options = options.clone();
        let thread = std::thread::Builder::new()
            .name("litebase-writer".into())
            .spawn(move || match open_writer(&options) {
                Ok(mut conn) => {
                    let _ = ready_tx.send(Ok(()));
                    run(
                        &mut conn,
                        &rx,
                        options.max_batch.max(1),
                        &thread_counters,
                        &thread_sink,
                    );
                    finish(&conn);
                }
                Err(err) => {
                    let _ = ready_tx.send(Err(err));
                }
            })
            .map_err(|e| DbError::Thread(e.to_string()))?;
        ready_rx.await.map_err(|_| DbError::Panicked)??;
        Ok(WriterHandle {
            tx,
            counters,
            sink,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    pub(super) async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<Result<T, E>>();
        let job: WriteJob = Box::new(move |conn| {
            let outcome = match conn {
                Ok(conn) => catch_unwind(AssertUnwindSafe(|| f(conn)))
                    .unwrap_or_else(|_| Err(E::from(DbError::Panicked))),
                Err(err) => Err(E::from(DbError::Commit(err.to_string()))),
            };
            let ok = outcome.is_ok();
            let deliver: Deliver = Box::new(move |commit| {
                let answer = match (outcome, commit) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Ok(_), Err(err)) => Err(E::from(DbError::Commit(err.to_string()))),
                    (Err(err), _) => Err(err),
                };
                let _ = reply_tx.send(answer);
            });
            (ok, deliver)
        });
        self.tx
            .send(Msg::Write(job))
            .map_err(|_| E::from(DbError::Closed))?;
        reply_rx.await.map_err(|_| E::from(DbError::Closed))?
    }

    pub(super) async fn exclusive<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel::<Result<T, E>>();
        let job: ExclusiveJob = Box::new(move |conn| {
            let outcome = catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(E::from(DbError::Panicked)));
            let _ = reply_tx.send(outcome);
        });
        self.tx
            .send(Msg::Exclusive(job))
            .map_err(|_| E::from(DbError::Closed))?;
        reply_rx.await.map_err(|_| E::from(DbError::Closed))?
    }

    pub(super) fn set_sink(&self, sink: super::events::CommitSink) -> Result<(), DbError> {
        let mut slot = self
            .sink
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_some() {
            return Err(DbError::SinkTaken);
        }
        *slot = Some(sink);
        Ok(())
    }

    pub(super) fn stats(&self) -> WriterStats {
        let c = &self.counters;
        WriterStats {
            batches: c.batches.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
            failed_writes: c.failed_writes.load(Ordering::Relaxed),
            max_batch: c.max_batch.load(Ordering::Relaxed),
            busy_micros: c.busy_micros.load(Ordering::Relaxed),
        }
    }

    /// Asks the thread to commit what is queued and stop, then waits for it.
    pub(super) async fn close(&self) {
        let (done_tx, done_rx) = oneshot::channel();
        if self.tx.send(Msg::Shutdown(done_tx)).is_ok() {
            let _ = done_rx.await;
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            // The thread has answered `done`; joining only waits for its last
            // checkpoint, so do it off the async runtime.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn run(
    conn: &mut Connection,
    rx: &Receiver<Msg>,
    max_batch: usize,
    counters: &Counters,
    sink: &SinkSlot,
) {
    let mut batch: Vec<WriteJob> = Vec::with_capacity(max_batch);
    while let Ok(msg) = rx.recv() {
        let mut next = Some(msg);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Write(job) => {
                    batch.push(job);
                    // Gather whatever queued up meanwhile: this is the group commit.
                    // We never wait for more, so a lone write is not delayed.
                    while batch.len() < max_batch {
                        match rx.try_recv() {
                            Ok(Msg::Write(job)) => batch.push(job),
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                        }
                    }
                    commit_batch(conn, &mut batch, counters, sink);
                }
                Msg::Exclusive(job) => {
                    job(conn);
                    super::events::take();
                }
                Msg::Shutdown(done) => {
                    // Writes queued before the shutdown still commit.
                    loop {
                        match rx.try_recv() {
                            Ok(Msg::Write(job)) => {
                                batch.push(job);
                                if batch.len() >= max_batch {
                                    commit_batch(conn, &mut batch, counters, sink);
                                }
                            }
                            Ok(Msg::Exclusive(job)) => job(conn),
                            Ok(Msg::Shutdown(other)) => {
                                let _ = other.send(());
                            }
                            Err(_) => break,
                        }
                    }
                    if !batch.is_empty() {
                        commit_batch(conn, &mut batch, counters, sink);
                    }
                    let _ = done.send(());
                    return;
                }
            }
        }
    }
}

/// How long the final checkpoint waits for other readers of the WAL. A replicator
/// such as Litestream holds a read transaction for as long as it runs, so waiting the
/// full busy timeout would only add seconds to every stop; the WAL it leaves behind
/// is as durable as the main file and is folded in at the next start.
const FINAL_CHECKPOINT_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Checkpoints the WAL into the main file so a clean shutdown leaves one file, unless
/// another process is still reading it.
fn finish(conn: &Connection) {
    if let Err(err) = conn.execute_batch("PRAGMA optimize;") {
        tracing::warn!(error = %err, "PRAGMA optimize at shutdown failed");
    }
    let checkpoint = conn.busy_timeout(FINAL_CHECKPOINT_WAIT).and_then(|()| {
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
            row.get::<_, i64>(0)
        })
    });
    match checkpoint {
        Ok(0) => {}
        Ok(_) => {
            tracing::info!("another process is reading the WAL (a replicator?): left it in place")
        }
        Err(err) => tracing::warn!(error = %err, "final WAL checkpoint failed"),
    }
}

fn exec(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

fn commit_batch(
    conn: &Connection,
    batch: &mut Vec<WriteJob>,
    counters: &Counters,
    sink: &SinkSlot,
) {
    super::events::take();
    let started = Instant::now();
    let size = batch.len() as u64;
    let mut delivers: Vec<Deliver> = Vec::with_capacity(batch.len());
    let mut failed = 0u64;
    // Whether any write of the batch stands: if none does, the transaction is
    // rolled back rather than committed, so a refused request leaves the database
    // file exactly as it was (an empty commit would still bump its counters).
    let mut any_ok = false;

    if let Err(err) = exec(conn, "BEGIN IMMEDIATE") {
        let err = DbError::from(err);
        tracing::error!(error = %err, "cannot begin a write transaction");
        fail_all(batch.drain(..), &err, counters);
        return;
    }

    let mut jobs = batch.drain(..);
    while let Some(job) = jobs.next() {
        if let Err(err) = exec(conn, "SAVEPOINT lb_write") {
            let err = DbError::from(err);
            tracing::error!(error = %err, "cannot open a savepoint");
            let (_, deliver) = job(Err(&err));
            deliver(Err(&err));
            failed += 1;
            continue;
        }
        let mark = super::events::mark();
        let (ok, deliver) = job(Ok(conn));
        if !ok {
            super::events::truncate(mark);
        }
        if conn.is_autocommit() {
            // The job ended the whole transaction (by a statement that rolls back on
            // error, or by running COMMIT/ROLLBACK itself). What earlier jobs did is in
            // an unknown state, so report the batch as failed and start afresh.
            super::events::take();
            let err = DbError::Commit("a write ended the shared transaction".into());
            failed += delivers.len() as u64 + 1;
            for d in delivers.drain(..) {
                d(Err(&err));
            }
            deliver(Err(&err));
            any_ok = false;
            if let Err(err) = exec(conn, "BEGIN IMMEDIATE") {
                let err = DbError::from(err);
                tracing::error!(error = %err, "cannot restart the write transaction");
                counters.failed_writes.fetch_add(failed, Ordering::Relaxed);
                fail_all(jobs, &err, counters);
                return;
            }
            continue;
        }
        let closed = if ok {
            any_ok = true;
            exec(conn, "RELEASE lb_write")
        } else {
            failed += 1;
            exec(conn, "ROLLBACK TO lb_write").and_then(|_| exec(conn, "RELEASE lb_write"))
        };
        if let Err(err) = closed {
            tracing::error!(error = %err, "cannot close a savepoint");
        }
        delivers.push(deliver);
    }

    drop(jobs);
    let end = if any_ok { "COMMIT" } else { "ROLLBACK" };
    let commit = exec(conn, end).map_err(DbError::from);
    let events = super::events::take();
    if let Err(err) = &commit {
        tracing::error!(error = %err, "batch commit failed; rolling back");
        let _ = conn.execute_batch("ROLLBACK");
        failed = size;
    } else if !events.is_empty() {
        // Published before the callers are answered: in commit order, and never
        // for a rolled-back write.
        if let Some(sink) = sink.read().ok().and_then(|s| s.clone()) {
            sink(events);
        }
    }
    // Counted before the callers are answered, so a caller that reads the stats
    // right after its write already sees the batch it was in.
    counters.batches.fetch_add(1, Ordering::Relaxed);
    counters.writes.fetch_add(size, Ordering::Relaxed);
    counters.failed_writes.fetch_add(failed, Ordering::Relaxed);
    counters.max_batch.fetch_max(size, Ordering::Relaxed);
    counters
        .busy_micros
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    for deliver in delivers {
        deliver(commit.as_ref().map(|_| ()));
    }
}

/// Answers every job of `batch` with `err` without running it.
fn fail_all(jobs: impl Iterator<Item = WriteJob>, err: &DbError, counters: &Counters) {
    for job in jobs {
        counters.failed_writes.fetch_add(1, Ordering::Relaxed);
        let (_, deliver) = job(Err(err));
        deliver(Err(err));
    }
}
