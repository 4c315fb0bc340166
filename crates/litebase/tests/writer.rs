//! The group-committing writer and the read pool, against a real SQLite file.

use std::collections::HashSet;
use std::sync::Arc;

use litebase::db::{Db, DbError, DbOptions};

async fn open_notes(dir: &tempfile::TempDir) -> Result<Db, DbError> {
    let db = Db::open(DbOptions::new(dir.path().join("data.db"))).await?;
    db.write(|conn| {
        conn.execute_batch("CREATE TABLE notes (n INTEGER PRIMARY KEY, body TEXT NOT NULL)")?;
        Ok::<_, DbError>(())
    })
    .await?;
    Ok(db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_writes_all_commit_and_each_caller_gets_its_own_result()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_notes(&dir).await?;
    let mut tasks = Vec::new();
    for task in 0..50 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..20 {
                let n: i64 = task * 1000 + i;
                let rowid = db
                    .write(move |conn| {
                        conn.execute(
                            "INSERT INTO notes (n, body) VALUES (?1, ?2)",
                            (n, format!("note {n}")),
                        )?;
                        Ok::<_, DbError>(conn.last_insert_rowid())
                    })
                    .await?;
                // Each caller gets the rowid of its own insert, not a neighbour's.
                assert_eq!(rowid, n);
                mine.push(n);
            }
            Ok::<_, DbError>(mine)
        }));
    }
    let mut expected = HashSet::new();
    for task in tasks {
        expected.extend(task.await??);
    }
    assert_eq!(expected.len(), 1000);

    let stored: HashSet<i64> = db
        .read(|conn| {
            let mut stmt = conn.prepare("SELECT n FROM notes")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok::<_, DbError>(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    assert_eq!(stored, expected);

    let stats = db.writer_stats();
    assert_eq!(stats.writes, 1001, "1,000 inserts and the CREATE TABLE");
    assert!(
        stats.batches < stats.writes,
        "concurrent writes should share commits: {stats:?}"
    );
    db.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_write_fails_only_its_own_caller() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_notes(&dir).await?;
    let db = Arc::new(db);
    let mut tasks = Vec::new();
    for n in 0..300i64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let result = db
                .write(move |conn| {
                    conn.execute("INSERT INTO notes (n, body) VALUES (?1, 'x')", [n])?;
                    if n % 3 == 0 {
                        // A write that did some work, then failed: all of it must vanish.
                        conn.execute("INSERT INTO notes (n, body) VALUES (?1, 'y')", [n + 10_000])?;
                        conn.execute(
                            "INSERT INTO notes (n, body) VALUES (?1, NULL)",
                            [n + 20_000],
                        )?;
                    }
                    Ok::<_, DbError>(n)
                })
                .await;
            (n, result)
        }));
    }
    let mut failed = 0;
    for task in tasks {
        let (n, result) = task.await?;
        if n % 3 == 0 {
            assert!(
                matches!(result, Err(DbError::Sqlite(_))),
                "write {n} should fail with the constraint error, got {result:?}"
            );
            failed += 1;
        } else {
            assert_eq!(result?, n);
        }
    }
    assert_eq!(failed, 100);
    let (count, strays): (i64, i64) = db
        .read(|conn| {
            Ok::<_, DbError>(conn.query_row(
                "SELECT count(*), count(*) FILTER (WHERE n >= 300 OR n % 3 = 0) FROM notes",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await?;
    assert_eq!(count, 200, "only the successful writes are stored");
    assert_eq!(strays, 0, "nothing of a failed write survives");
    db.close().await;
    Ok(())
}

/// The file's own change counter (`PRAGMA data_version` as another connection
/// sees it): it moves whenever a transaction is committed to the file.
fn data_version(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_only_failed_writes_commits_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_notes(&dir).await?;
    let watcher = rusqlite::Connection::open(dir.path().join("data.db"))?;
    // Everything committed so far goes into the main file, so that the file alone
    // can be compared after the server's own checkpoint on close.
    watcher.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let before = data_version(&watcher)?;
    let bytes_before = std::fs::read(dir.path().join("data.db"))?;
    let mut tasks = Vec::new();
    for n in 0..20i64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |conn| {
                conn.execute("INSERT INTO notes (n, body) VALUES (?1, 'x')", [n])?;
                conn.execute("INSERT INTO notes (n, body) VALUES (?1, NULL)", [n])?;
                Ok::<_, DbError>(())
            })
            .await
        }));
    }
    for task in tasks {
        assert!(task.await?.is_err(), "every write fails");
    }
    assert_eq!(
        data_version(&watcher)?,
        before,
        "refused writes must not commit a transaction (even an empty one)"
    );
    db.close().await;
    drop(watcher);
    let bytes_after = std::fs::read(dir.path().join("data.db"))?;
    assert!(
        bytes_after == bytes_before,
        "the file is byte for byte what it was ({} bytes before, {} after)",
        bytes_before.len(),
        bytes_after.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_write_is_contained() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_notes(&dir).await?;
    let boom = db
        .write(|conn| -> Result<(), DbError> {
            conn.execute("INSERT INTO notes (n, body) VALUES (1, 'lost')", [])?;
            panic!("a bug in a write closure (expected by this test)");
        })
        .await;
    assert!(matches!(boom, Err(DbError::Panicked)), "{boom:?}");
    // The writer thread survived and the panicking write left nothing behind.
    db.write(|conn| {
        conn.execute("INSERT INTO notes (n, body) VALUES (2, 'kept')", [])?;
        Ok::<_, DbError>(())
    })
    .await?;
    let bodies: Vec<String> = db
        .read(|conn| {
            let mut stmt = conn.prepare("SELECT body FROM notes ORDER BY n")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok::<_, DbError>(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    assert_eq!(bodies, ["kept"]);
    db.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_commits_queued_writes_then_refuses_new_ones() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("data.db");
    let db = open_notes(&dir).await?;
    let mut pending = Vec::new();
    for n in 0..200i64 {
        let db = db.clone();
        pending.push(tokio::spawn(async move {
            db.write(move |conn| {
                conn.execute("INSERT INTO notes (n, body) VALUES (?1, 'x')", [n])?;
                Ok::<_, DbError>(n)
            })
            .await
        }));
    }
    // Let the tasks queue their writes, then close while they are in flight.
    tokio::task::yield_now().await;
    db.close().await;
    let mut acknowledged = Vec::new();
    for task in pending {
        match task.await? {
            Ok(n) => acknowledged.push(n),
            Err(DbError::Closed) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let late = db.write(|_| Ok::<_, DbError>(())).await;
    assert!(matches!(late, Err(DbError::Closed)));
    let read = db.read(|_| Ok::<_, DbError>(())).await;
    assert!(matches!(read, Err(DbError::Closed)));

    // Every acknowledged write is in the file, read with a plain new connection.
    let conn = rusqlite::Connection::open(&path)?;
    let stored: HashSet<i64> = conn
        .prepare("SELECT n FROM notes")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for n in &acknowledged {
        assert!(stored.contains(n), "acknowledged write {n} lost");
    }
    Ok(())
}

#[tokio::test]
async fn readers_see_every_committed_write() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open_notes(&dir).await?;
    for n in 0..50i64 {
        db.write(move |conn| {
            conn.execute("INSERT INTO notes (n, body) VALUES (?1, 'x')", [n])?;
            Ok::<_, DbError>(())
        })
        .await?;
        let count: i64 = db
            .read(|conn| {
                Ok::<_, DbError>(conn.query_row("SELECT count(*) FROM notes", [], |r| r.get(0))?)
            })
            .await?;
        assert_eq!(count, n + 1);
    }
    // Read connections are read-only: a write through one fails cleanly.
    let sneaky = db
        .read(|conn| Ok::<_, DbError>(conn.execute("DELETE FROM notes", [])?))
        .await;
    assert!(sneaky.is_err());
    db.close().await;
    Ok(())
}

#[tokio::test]
async fn opening_an_unusable_path_is_a_clear_error() {
    let err = Db::open(DbOptions::new("/proc/definitely/not/here/data.db"))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("/proc/definitely/not/here"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_committed_events_reach_the_sink_in_commit_order() -> anyhow::Result<()> {
    use std::sync::Mutex;
    let dir = tempfile::tempdir()?;
    let db = open_notes(&dir).await?;
    db.write(|conn| {
        // rowid follows insertion (commit) order here, unlike notes' own key.
        conn.execute_batch(
            "CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL)",
        )?;
        Ok::<_, DbError>(())
    })
    .await?;
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let sink_seen = seen.clone();
    db.set_commit_sink(Arc::new(move |events| {
        let mut seen = sink_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for e in events {
            if let Ok(n) = e.downcast::<i64>() {
                seen.push(*n);
            }
        }
    }))?;
    assert!(
        matches!(
            db.set_commit_sink(Arc::new(|_| {})),
            Err(DbError::SinkTaken)
        ),
        "a second sink would silently take the events from the first"
    );
    let mut tasks = Vec::new();
    for n in 0..400i64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |conn| {
                conn.execute("INSERT INTO log (n) VALUES (?1)", [n])?;
                litebase::db::events::emit(n);
                if n % 4 == 0 {
                    // Announced, then rolled back: must never be published.
                    conn.execute("INSERT INTO notes (n, body) VALUES (?1, NULL)", [n])?;
                }
                Ok::<_, DbError>(())
            })
            .await
        }));
    }
    for t in tasks {
        let _ = t.await?;
    }
    let stored: Vec<i64> = db
        .read(|conn| {
            let mut stmt = conn.prepare("SELECT n FROM log ORDER BY seq")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok::<_, DbError>(rows.collect::<Result<_, _>>()?)
        })
        .await?;
    let seen = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert_eq!(stored.len(), 300);
    assert_eq!(
        seen, stored,
        "exactly the committed writes, in commit order"
    );
    db.close().await;
    Ok(())
}
