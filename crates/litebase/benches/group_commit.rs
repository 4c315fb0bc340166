//! Group commit vs the plain way: single-row inserts through `Db::write` from 64
//! concurrent tasks, against a plain rusqlite loop with one transaction per insert,
//! same file settings. Prints a table with the ratio.
//!
//! Run: `cargo bench -p litebase --bench group_commit` (or `make bench`).

use std::time::{Duration, Instant};

use litebase::db::{Db, DbError, DbOptions, Synchronous};

const TASKS: usize = 64;

struct Row {
    mode: &'static str,
    inserts: usize,
    group: Duration,
    plain: Duration,
    avg_batch: f64,
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn group_commit(sync: Synchronous, inserts: usize) -> anyhow::Result<(Duration, f64)> {
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut options = DbOptions::new(dir.path().join("bench.db"));
        options.synchronous = sync;
        let db = Db::open(options).await?;
        db.write(|c| {
            c.execute_batch("CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")?;
            Ok::<_, DbError>(())
        })
        .await?;
        let before = db.writer_stats();
        let started = Instant::now();
        let per_task = inserts / TASKS;
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let db = db.clone();
                tokio::spawn(async move {
                    for i in 0..per_task {
                        let body = format!("task {t} item {i}");
                        db.write(move |c| {
                            c.prepare_cached("INSERT INTO items (body) VALUES (?1)")?
                                .execute([body])?;
                            Ok::<_, DbError>(())
                        })
                        .await?;
                    }
                    Ok::<_, DbError>(())
                })
            })
            .collect();
        for t in tasks {
            t.await??;
        }
        let elapsed = started.elapsed();
        let after = db.writer_stats();
        let batches = (after.batches - before.batches).max(1);
        let avg = (after.writes - before.writes) as f64 / batches as f64;
        db.close().await;
        Ok((elapsed, avg))
    })
}

fn plain_loop(sync: Synchronous, inserts: usize) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let conn = rusqlite::Connection::open(dir.path().join("plain.db"))?;
    let sync = match sync {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA foreign_keys = ON;
         CREATE TABLE items (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"
    ))?;
    let started = Instant::now();
    for i in 0..inserts {
        let tx = conn.unchecked_transaction()?;
        tx.prepare_cached("INSERT INTO items (body) VALUES (?1)")?
            .execute([format!("item {i}")])?;
        tx.commit()?;
    }
    Ok(started.elapsed())
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    let mut rows = Vec::new();
    for (mode, sync, inserts) in [
        ("synchronous=NORMAL", Synchronous::Normal, 64_000 / scale),
        ("synchronous=FULL", Synchronous::Full, 6_400 / scale),
    ] {
        let (group, avg_batch) = group_commit(sync, inserts)?;
        let plain = plain_loop(sync, inserts)?;
        rows.push(Row {
            mode,
            inserts,
            group,
            plain,
            avg_batch,
        });
    }
    println!();
    println!(
        "single-row inserts: Db::write from {TASKS} tasks vs a plain rusqlite loop (one transaction per insert)"
    );
    println!(
        "| {:<18} | {:>7} | {:>16} | {:>16} | {:>6} | {:>9} |",
        "mode", "inserts", "group commit/s", "plain loop/s", "ratio", "avg batch"
    );
    println!(
        "|{:-<20}|{:-<9}|{:-<18}|{:-<18}|{:-<8}|{:-<11}|",
        "", "", "", "", "", ""
    );
    for r in &rows {
        let g = rate(r.inserts, r.group);
        let p = rate(r.inserts, r.plain);
        println!(
            "| {:<18} | {:>7} | {:>16.0} | {:>16.0} | {:>5.1}x | {:>9.1} |",
            r.mode,
            r.inserts,
            g,
            p,
            g / p,
            r.avg_batch
        );
    }
    Ok(())
}
