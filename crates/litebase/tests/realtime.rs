//! Realtime over SSE at scale, against the real server process: a subscriber that
//! never reads is evicted while a thousand others keep receiving, and five thousand
//! subscribers all get one create.

mod support;

use support::sse::{SseClient, subscribe};

use std::time::Duration;

use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};

struct Setup {
    server: ServerProcess,
    token: String,
}

fn start(extra: &[&str]) -> anyhow::Result<(tempfile::TempDir, Setup)> {
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let flags: Vec<&str> = ["--log-level", "warn"]
        .iter()
        .chain(extra)
        .copied()
        .collect();
    let server = support::serve(dir.path(), &flags)?;
    let token = support::superuser_token(&server)?;
    Ok((dir, Setup { server, token }))
}

fn public_collection(s: &Setup, name: &str, field: Value) -> anyhow::Result<()> {
    let reply = Http::new().post_json_auth(
        &s.server.url("/api/collections"),
        &s.token,
        &json!({"name": name, "listRule": "", "viewRule": "", "createRule": "", "fields": [field]}),
    )?;
    anyhow::ensure!(reply.status == 200, "create collection: {}", reply.text);
    Ok(())
}

fn metric(s: &Setup, name: &str) -> anyhow::Result<f64> {
    let text = Http::new()
        .get_auth(&s.server.url("/api/metrics"), &s.token)?
        .text;
    Ok(text
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_is_evicted_while_a_thousand_others_keep_receiving()
-> anyhow::Result<()> {
    let (_dir, s) = start(&["--realtime-queue", "8"])?;
    public_collection(&s, "big", json!({"name": "blob", "type": "json"}))?;
    public_collection(&s, "small", json!({"name": "n", "type": "number"}))?;
    let addr = s.server.addr.clone();

    let slow = SseClient::connect(&addr).await?;
    subscribe(addr.clone(), slow.client_id.clone(), "big/*").await?;

    const FAST: usize = 1000;
    const EVENTS: usize = 40;
    let mut fast = Vec::with_capacity(FAST);
    for _ in 0..FAST {
        let c = SseClient::connect(&addr).await?;
        subscribe(addr.clone(), c.client_id.clone(), "small/*").await?;
        fast.push(c);
    }
    let readers: Vec<_> = fast
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
                while c.count("event:small/*") < EVENTS && tokio::time::Instant::now() < deadline {
                    if !matches!(
                        tokio::time::timeout_at(deadline, c.read_chunk()).await,
                        Ok(Ok(true))
                    ) {
                        break;
                    }
                }
                c.count("event:small/*")
            })
        })
        .collect();

    // 40 events of ~1 MiB each for the slow one: far more than socket buffers
    // and its 8-message queue hold.
    let blob = "x".repeat(1 << 20);
    let writer_addr = addr.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let http = Http::new();
        for n in 0..EVENTS {
            let big = http.post_json(
                &format!("http://{writer_addr}/api/collections/big/records"),
                &json!({"blob": blob}),
            )?;
            anyhow::ensure!(big.status == 200, "{}", big.status);
            let small = http.post_json(
                &format!("http://{writer_addr}/api/collections/small/records"),
                &json!({"n": n}),
            )?;
            anyhow::ensure!(small.status == 200, "{}", small.text);
        }
        Ok(())
    })
    .await??;

    for r in readers {
        assert_eq!(r.await?, EVENTS, "a reading subscriber missed events");
    }
    assert!(metric(&s, "litebase_realtime_evictions_total")? >= 1.0);
    assert_eq!(
        metric(&s, "litebase_realtime_connections{transport=\"sse\"}")?,
        FAST as f64,
        "only the slow subscriber is gone"
    );
    drop(slow);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_subscribers_all_receive_one_create() -> anyhow::Result<()> {
    let (_dir, s) = start(&[])?;
    public_collection(&s, "posts", json!({"name": "title", "type": "text"}))?;
    let addr = s.server.addr.clone();
    const CLIENTS: usize = 5000;
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        clients.push(SseClient::connect(&addr).await?);
    }
    // Subscribe in parallel batches to keep the setup short.
    for chunk in clients.chunks(250) {
        let subs: Vec<_> = chunk
            .iter()
            .map(|c| subscribe(addr.clone(), c.client_id.clone(), "posts/*"))
            .collect();
        for r in futures_util::future::join_all(subs).await {
            r?;
        }
    }
    let created = Http::new().post_json(
        &s.server.url("/api/collections/posts/records"),
        &json!({"title": "hello, everyone"}),
    )?;
    assert_eq!(created.status, 200);
    let waits: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_secs(60), c.wait_for("hello, everyone"))
                    .await
                    .is_ok_and(|r| r.is_ok())
            })
        })
        .collect();
    let mut received = 0;
    for w in waits {
        received += usize::from(w.await?);
    }
    assert_eq!(received, CLIENTS);
    Ok(())
}
