//! `loadgen sse`: realtime fan-out, one server at a time.
//!
//! For each server: start it fresh, create the public `posts` collection, open N SSE
//! subscribers from this process (spread over several loopback source addresses, a
//! bounded number in flight, each with a timeout), subscribe each to `posts/*`, let
//! them settle, then create one record per round and time its arrival at every
//! subscriber against the moment just before the create request was written. Every
//! phase is bounded in count and time; failures and disconnects are counted and
//! reported, not fatal.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::http::{Conn, request_bytes};
use crate::report::mib;
use crate::server::{Kind, Server, own_cpu_time};
use crate::setup::{self, COLLECTION};
use crate::sse::SseStream;

/// What one run does, the same for every server.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Subscribers to open.
    pub subscribers: usize,
    /// Records created, one at a time.
    pub rounds: usize,
    /// Records then created back to back (each create waits only for its own
    /// response, not for the fan-out): the throughput phase. 0 skips it.
    pub burst: usize,
    /// Subscribers being set up at once.
    pub concurrency: usize,
    /// Time one subscriber gets from connect to its `204` on the subscription.
    pub connect_timeout: Duration,
    /// Time the whole connect phase gets; later subscribers are not attempted.
    pub connect_phase: Duration,
    /// Quiet time between the last subscription and the first record.
    pub settle: Duration,
    /// An event counts as delivered if it arrives within this long of its create;
    /// also the longest a round waits.
    pub bound: Duration,
    /// Source addresses the subscriber sockets are bound to, round-robin.
    pub sources: Vec<Ipv4Addr>,
}

/// Loopback source addresses 127.0.0.2 … 127.0.0.(1+count).
pub fn source_addresses(count: u8) -> Vec<Ipv4Addr> {
    (0..count)
        .map(|i| Ipv4Addr::new(127, 0, 0, 2 + i))
        .collect()
}

/// A count plus the first message seen, for failures of one kind.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// How many.
    pub count: usize,
    /// Distinct messages (numbers and ids stripped) with how often each occurred.
    pub kinds: BTreeMap<String, (usize, String)>,
}

impl Tally {
    fn add(&mut self, message: String) {
        self.count += 1;
        // Runs of digits become one `#`, so ids and counts do not split kinds.
        let mut key = String::new();
        for c in message.chars().take(120) {
            if !c.is_ascii_digit() {
                key.push(c);
            } else if !key.ends_with('#') {
                key.push('#');
            }
        }
        let entry = self.kinds.entry(key).or_insert((0, message));
        entry.0 += 1;
    }

    fn summary(&self) -> String {
        self.kinds
            .values()
            .map(|(n, example)| format!("{n} x {example}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// One round: a create and its fan-out.
#[derive(Clone, Debug)]
pub struct Round {
    /// Subscribers that got the event within the bound.
    pub delivered: usize,
    /// Subscribers alive when the round ended (expected to get it).
    pub alive: usize,
    /// Create request latency (send → response), if it succeeded.
    pub create: Option<Duration>,
    /// Arrival latency quantiles of this round: p50, p99, max (µs).
    pub quantiles: Option<(u64, u64, u64)>,
    /// Time from the send until the round stopped waiting.
    pub waited: Duration,
}

/// One server's results.
pub struct Outcome {
    /// Which server.
    pub kind: Kind,
    /// Subscribers that completed connect + `PB_CONNECT` + `POST /api/realtime`.
    pub connected: usize,
    /// Subscribers that could not be set up.
    pub connect_failures: Tally,
    /// Subscribers not attempted because the connect phase ran out of time.
    pub not_attempted: usize,
    /// How long the connect phase took.
    pub connect_time: Duration,
    /// Streams that ended after their subscription (server close or error).
    pub disconnects: Tally,
    /// Events delivered within the bound, over all rounds.
    pub delivered: u64,
    /// Events that arrived after the bound.
    pub late: u64,
    /// A subscriber receiving the same round's event more than once.
    pub duplicates: u64,
    /// Events other than ours and `PB_CONNECT` (or unparsable ones).
    pub unexpected: Tally,
    /// Failed create requests.
    pub create_errors: Tally,
    /// Arrival − send, in µs, over all rounds.
    pub latency: Histogram<u64>,
    /// Per round.
    pub rounds: Vec<Round>,
    /// (`VmRSS`, `VmHWM`) KiB after setup, before any subscriber.
    pub rss_idle: Option<(u64, u64)>,
    /// (`VmRSS`, `VmHWM`) KiB with all subscribers connected and settled, before the events.
    pub rss_before: Option<(u64, u64)>,
    /// (`VmRSS`, `VmHWM`) KiB after the last round, subscribers still connected.
    pub rss_after: Option<(u64, u64)>,
    /// How long stopping the server took after the subscribers were closed.
    pub stop_time: Option<Duration>,
    /// From the first create to the end of the last round: wall time, this process's
    /// CPU time and the server's (both share the same cores).
    pub rounds_cpu: Option<(Duration, Duration, Duration)>,
    /// The throughput phase, when it ran.
    pub burst: Option<Burst>,
}

/// The throughput phase: creates back to back, every event to every subscriber.
#[derive(Clone, Debug)]
pub struct Burst {
    /// Records created.
    pub creates: usize,
    /// Events delivered within the bound.
    pub delivered: usize,
    /// Events expected (creates × subscribers alive).
    pub expected: usize,
    /// From the first create's send to the last delivery (or giving up).
    pub elapsed: Duration,
}

impl Burst {
    /// Events delivered per second over the phase.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.delivered as f64 / secs
        } else {
            0.0
        }
    }
}

impl Outcome {
    fn new(kind: Kind) -> Result<Self> {
        Ok(Self {
            kind,
            connected: 0,
            connect_failures: Tally::default(),
            not_attempted: 0,
            connect_time: Duration::ZERO,
            disconnects: Tally::default(),
            delivered: 0,
            late: 0,
            duplicates: 0,
            unexpected: Tally::default(),
            create_errors: Tally::default(),
            latency: new_histogram()?,
            rounds: Vec::new(),
            rss_idle: None,
            rss_before: None,
            rss_after: None,
            stop_time: None,
            rounds_cpu: None,
            burst: None,
        })
    }
}

fn new_histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 3_600_000_000, 3)?)
}

/// What the subscriber tasks tell the driver.
#[derive(Debug)]
enum Note {
    /// Subscriber `sub` got round `round`'s event at `at`.
    Arrived {
        sub: usize,
        round: usize,
        at: Instant,
    },
    /// Subscriber `sub`'s stream ended.
    Closed { sub: usize, why: String },
    /// An event that is neither ours nor `PB_CONNECT`.
    Unexpected(String),
}

/// The title of round `round`'s record: `prefix` + round number.
fn title(prefix: &str, round: usize) -> String {
    format!("{prefix}{round}")
}

/// The round number of a `create` event for a title starting with `prefix`.
fn round_of(data: &str, prefix: &str) -> Option<usize> {
    let v: Value = serde_json::from_str(data).ok()?;
    if v.get("action")?.as_str()? != "create" {
        return None;
    }
    v.pointer("/record/title")?
        .as_str()?
        .strip_prefix(prefix)?
        .parse()
        .ok()
}

/// Reads one subscriber's stream until it ends (or the task is aborted).
async fn listen(
    sub: usize,
    mut stream: SseStream,
    prefix: Arc<str>,
    tx: mpsc::UnboundedSender<Note>,
) {
    loop {
        let note = match stream.next_event().await {
            Ok(Some(ev)) if ev.event == "PB_CONNECT" => continue,
            Ok(Some(ev)) => match round_of(&ev.data, &prefix) {
                Some(round) => Note::Arrived {
                    sub,
                    round,
                    at: ev.at,
                },
                None => Note::Unexpected(format!(
                    "event {:?}: {}",
                    ev.event,
                    ev.data.chars().take(200).collect::<String>()
                )),
            },
            Ok(None) => {
                let _ = tx.send(Note::Closed {
                    sub,
                    why: "stream ended by the server".into(),
                });
                return;
            }
            Err(e) => {
                let _ = tx.send(Note::Closed {
                    sub,
                    why: format!("{e:#}"),
                });
                return;
            }
        };
        if tx.send(note).is_err() {
            return;
        }
    }
}

/// Opens one stream from `source`, waits for `PB_CONNECT`, subscribes it to
/// `posts/*` over `conn`; all within `timeout`.
async fn subscribe_one(
    addr: SocketAddr,
    source: IpAddr,
    conn: &mut Conn,
    timeout: Duration,
) -> Result<SseStream> {
    let deadline = tokio::time::Instant::now() + timeout;
    let (stream, client_id) = tokio::time::timeout_at(deadline, async {
        let mut stream = SseStream::open(addr, Some(source), "/api/realtime").await?;
        loop {
            match stream.next_event().await? {
                Some(ev) if ev.event == "PB_CONNECT" => {
                    let v: Value = serde_json::from_str(&ev.data)
                        .with_context(|| format!("PB_CONNECT data {:?}", ev.data))?;
                    let id = v
                        .get("clientId")
                        .and_then(Value::as_str)
                        .with_context(|| format!("PB_CONNECT without clientId: {}", ev.data))?
                        .to_owned();
                    return Ok::<_, anyhow::Error>((stream, id));
                }
                Some(_) => continue,
                None => bail!("stream ended before PB_CONNECT"),
            }
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("no PB_CONNECT within {timeout:?}"))??;
    let body = serde_json::to_vec(&json!({
        "clientId": client_id,
        "subscriptions": [format!("{COLLECTION}/*")],
    }))?;
    let req = request_bytes("POST", addr, "/api/realtime", None, Some(&body));
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    if left.is_zero() {
        bail!("no time left for POST /api/realtime within {timeout:?}");
    }
    // `Conn::send` drops its socket on a timeout, so the connection stays usable.
    let (status, resp) = conn.send(&req, left).await.context("POST /api/realtime")?;
    if status != 204 {
        bail!(
            "POST /api/realtime answered {status}: {}",
            String::from_utf8_lossy(resp)
        );
    }
    Ok(stream)
}

/// What one connect worker did.
struct Worker {
    handles: Vec<JoinHandle<()>>,
    failures: Tally,
}

/// Sets up subscribers from `source`, taking indices from `next` until none are left
/// or the phase deadline passes; each ready stream gets its own listening task. The
/// subscription POSTs go over one keep-alive connection from the same source:
/// PocketBase answers 400 "Invalid realtime client." when the POST's IP differs from
/// the stream's.
async fn connect_worker(
    addr: SocketAddr,
    source: IpAddr,
    settings: Arc<Settings>,
    next: Arc<AtomicUsize>,
    deadline: Instant,
    prefix: Arc<str>,
    tx: mpsc::UnboundedSender<Note>,
) -> Worker {
    let mut conn = Conn::with_source(addr, source);
    let mut handles = Vec::new();
    let mut failures = Tally::default();
    loop {
        if Instant::now() >= deadline {
            break;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= settings.subscribers {
            break;
        }
        match subscribe_one(addr, source, &mut conn, settings.connect_timeout).await {
            Ok(stream) => handles.push(tokio::spawn(listen(i, stream, prefix.clone(), tx.clone()))),
            Err(e) => failures.add(format!("{e:#}")),
        }
    }
    Worker { handles, failures }
}

/// The driver's book-keeping of arrivals.
struct Books {
    /// Per round: which subscribers have it.
    seen: Vec<Vec<bool>>,
    /// Per round: delivered within the bound.
    got: Vec<usize>,
    /// Per round: latencies (µs) within the bound.
    round_latency: Vec<Histogram<u64>>,
    /// Per round: when its create was sent.
    sent: Vec<Option<Instant>>,
    /// Rounds from here on are the throughput phase: counted, not timed.
    burst_start: usize,
    closed: usize,
}

impl Books {
    fn handle(&mut self, note: Note, out: &mut Outcome, bound: Duration) {
        match note {
            Note::Arrived { sub, round, at } => {
                let Some(Some(sent)) = self.sent.get(round).copied() else {
                    out.unexpected
                        .add(format!("event of round {round} before its create was sent"));
                    return;
                };
                let seen = &mut self.seen[round][sub];
                if *seen {
                    out.duplicates += 1;
                    return;
                }
                *seen = true;
                let latency = at.saturating_duration_since(sent);
                if latency > bound {
                    out.late += 1;
                    return;
                }
                if round >= self.burst_start {
                    self.got[round] += 1;
                    return;
                }
                let us = u64::try_from(latency.as_micros())
                    .unwrap_or(u64::MAX)
                    .max(1);
                out.latency.saturating_record(us);
                self.round_latency[round].saturating_record(us);
                self.got[round] += 1;
                out.delivered += 1;
            }
            Note::Closed { sub, why } => {
                self.closed += 1;
                out.disconnects.add(format!("subscriber {sub}: {why}"));
            }
            Note::Unexpected(what) => out.unexpected.add(what),
        }
    }
}

/// Handles every note that arrives before `until`.
async fn drain_until(
    rx: &mut mpsc::UnboundedReceiver<Note>,
    books: &mut Books,
    out: &mut Outcome,
    bound: Duration,
    until: Instant,
) {
    while let Ok(Some(note)) = tokio::time::timeout_at(until.into(), rx.recv()).await {
        books.handle(note, out, bound);
    }
}

/// Starts `kind`'s server from `bin`, runs the whole fan-out against it, closes the
/// subscribers and stops the server.
pub async fn run(kind: Kind, bin: &Path, settings: &Settings) -> Result<Outcome> {
    let server = match kind {
        Kind::Ours => Server::start_ours(bin).await?,
        Kind::PocketBase => Server::start_pocketbase(bin).await?,
    };
    let label = server.label();
    eprintln!("{label}: listening on {}", server.addr);
    let mut out = Outcome::new(kind)?;
    let mut handles = Vec::new();
    let result = fan_out(&server, settings, &mut out, &mut handles).await;

    // Close every subscriber before stopping the server, so a graceful shutdown does
    // not wait on open streams.
    for h in &handles {
        h.abort();
    }
    let closing = tokio::time::timeout(Duration::from_secs(30), async {
        for h in handles {
            let _ = h.await;
        }
    })
    .await;
    if closing.is_err() {
        eprintln!("{label}: subscriber tasks still running 30 s after abort");
    }
    let stop_started = Instant::now();
    let stopped = server.stop().await;
    out.stop_time = Some(stop_started.elapsed());
    eprintln!(
        "{label}: stopped in {:.2} s",
        stop_started.elapsed().as_secs_f64()
    );
    result?;
    stopped?;
    Ok(out)
}

async fn fan_out(
    server: &Server,
    settings: &Settings,
    out: &mut Outcome,
    handles: &mut Vec<JoinHandle<()>>,
) -> Result<()> {
    let label = server.label();
    let addr = server.addr;
    setup::prepare(server.kind, addr, 0, 0)
        .await
        .with_context(|| format!("{label}: setup"))?;
    out.rss_idle = server.memory_kib().ok();

    let prefix: Arc<str> = format!("sse-{:016x}-round-", fastrand::u64(..)).into();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let next = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(settings.clone());
    let started = Instant::now();
    let deadline = started + settings.connect_phase;
    let mut workers = Vec::new();
    for w in 0..settings.concurrency.min(settings.subscribers) {
        workers.push(tokio::spawn(connect_worker(
            addr,
            IpAddr::V4(settings.sources[w % settings.sources.len()]),
            shared.clone(),
            next.clone(),
            deadline,
            prefix.clone(),
            tx.clone(),
        )));
    }
    drop(tx);
    // Progress while connecting, bounded by the phase deadline plus one timeout.
    let hard_stop = deadline + settings.connect_timeout + Duration::from_secs(5);
    let mut last_report = Instant::now();
    while workers.iter().any(|w| !w.is_finished()) && Instant::now() < hard_stop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            eprintln!(
                "{label}: {} of {} subscribers attempted after {:.0} s",
                next.load(Ordering::Relaxed).min(settings.subscribers),
                settings.subscribers,
                started.elapsed().as_secs_f64()
            );
        }
    }
    for w in workers {
        if !w.is_finished() {
            w.abort();
            out.connect_failures
                .add("connect worker stuck past the connect phase; aborted".into());
            continue;
        }
        match w.await {
            Ok(worker) => {
                out.connected += worker.handles.len();
                handles.extend(worker.handles);
                for (_, (n, example)) in worker.failures.kinds {
                    for _ in 0..n {
                        out.connect_failures.add(example.clone());
                    }
                }
            }
            Err(e) => out.connect_failures.add(format!("connect worker: {e}")),
        }
    }
    let attempted = next.load(Ordering::Relaxed).min(settings.subscribers);
    out.not_attempted = settings.subscribers - attempted;
    out.connect_time = started.elapsed();
    eprintln!(
        "{label}: {} of {} subscribed in {:.1} s ({} failed, {} not attempted)",
        out.connected,
        settings.subscribers,
        out.connect_time.as_secs_f64(),
        out.connect_failures.count,
        out.not_attempted
    );
    if !out.connect_failures.kinds.is_empty() {
        eprintln!(
            "{label}: connect failures: {}",
            out.connect_failures.summary()
        );
    }

    let all_rounds = settings.rounds + settings.burst;
    let mut books = Books {
        seen: vec![vec![false; settings.subscribers]; all_rounds],
        got: vec![0; all_rounds],
        round_latency: (0..all_rounds)
            .map(|_| new_histogram())
            .collect::<Result<_>>()?,
        sent: vec![None; all_rounds],
        burst_start: settings.rounds,
        closed: 0,
    };
    drain_until(
        &mut rx,
        &mut books,
        out,
        settings.bound,
        Instant::now() + settings.settle,
    )
    .await;
    out.rss_before = server.memory_kib().ok();

    // The creates go over one warm keep-alive connection.
    let mut conn = Conn::new(addr);
    let health = request_bytes("GET", addr, "/api/health", None, None);
    conn.send(&health, Duration::from_secs(10))
        .await
        .context("warming the create connection")?;
    let path = format!("/api/collections/{COLLECTION}/records");
    let cpu_start = (Instant::now(), own_cpu_time(), server.cpu_time());
    for round in 0..settings.rounds {
        let body = serde_json::to_vec(&json!({"title": title(&prefix, round)}))?;
        let req = request_bytes("POST", addr, &path, None, Some(&body));
        let sent = Instant::now();
        books.sent[round] = Some(sent);
        let create = match conn.send(&req, settings.bound).await {
            Ok((200, _)) => Some(sent.elapsed()),
            Ok((status, resp)) => {
                out.create_errors.add(format!(
                    "POST {path} answered {status}: {}",
                    String::from_utf8_lossy(resp)
                ));
                None
            }
            Err(e) => {
                out.create_errors.add(format!("POST {path}: {e:#}"));
                None
            }
        };
        let until = sent + settings.bound;
        while books.got[round] < out.connected.saturating_sub(books.closed) {
            match tokio::time::timeout_at(until.into(), rx.recv()).await {
                Ok(Some(note)) => books.handle(note, out, settings.bound),
                Ok(None) | Err(_) => break,
            }
        }
        let waited = sent.elapsed();
        let h = &books.round_latency[round];
        let quantiles =
            (!h.is_empty()).then(|| (h.value_at_quantile(0.5), h.value_at_quantile(0.99), h.max()));
        let r = Round {
            delivered: books.got[round],
            alive: out.connected.saturating_sub(books.closed),
            create,
            quantiles,
            waited,
        };
        eprintln!(
            "{label}: round {}: {} of {} delivered in {:.1} ms{}{}",
            round + 1,
            r.delivered,
            r.alive,
            waited.as_secs_f64() * 1e3,
            quantiles.map_or(String::new(), |(p50, p99, max)| format!(
                ", p50 {} p99 {} max {}",
                ms(p50),
                ms(p99),
                ms(max)
            )),
            create.map_or(", create failed".into(), |d| format!(
                ", create answered in {:.1} ms",
                d.as_secs_f64() * 1e3
            )),
        );
        out.rounds.push(r);
    }
    if let (Ok(client0), Ok(server0), Ok(client1), Ok(server1)) =
        (cpu_start.1, cpu_start.2, own_cpu_time(), server.cpu_time())
    {
        out.rounds_cpu = Some((
            cpu_start.0.elapsed(),
            client1.saturating_sub(client0),
            server1.saturating_sub(server0),
        ));
    }
    if settings.burst > 0 {
        out.burst = Some(
            burst(
                &mut conn, &mut rx, &mut books, out, settings, addr, &path, &prefix,
            )
            .await?,
        );
        eprintln!("{label}: throughput phase: {:?}", out.burst);
    }
    // Whatever is already queued (closures, duplicates) still counts.
    while let Ok(note) = rx.try_recv() {
        books.handle(note, out, settings.bound);
    }
    out.rss_after = server.memory_kib().ok();
    if out.disconnects.count > 0 {
        eprintln!("{label}: disconnects: {}", out.disconnects.summary());
    }
    Ok(())
}

/// The throughput phase: `settings.burst` creates back to back on `conn`, then
/// waiting (up to the bound) for every event at every subscriber still alive.
#[allow(clippy::too_many_arguments)]
async fn burst(
    conn: &mut Conn,
    rx: &mut mpsc::UnboundedReceiver<Note>,
    books: &mut Books,
    out: &mut Outcome,
    settings: &Settings,
    addr: std::net::SocketAddr,
    path: &str,
    prefix: &str,
) -> Result<Burst> {
    let first = settings.rounds;
    let rounds = first..first + settings.burst;
    let start = Instant::now();
    for round in rounds.clone() {
        let body = serde_json::to_vec(&json!({"title": title(prefix, round)}))?;
        let req = request_bytes("POST", addr, path, None, Some(&body));
        books.sent[round] = Some(Instant::now());
        match conn.send(&req, settings.bound).await {
            Ok((200, _)) => {}
            Ok((status, resp)) => out.create_errors.add(format!(
                "POST {path} answered {status}: {}",
                String::from_utf8_lossy(resp)
            )),
            Err(e) => out.create_errors.add(format!("POST {path}: {e:#}")),
        }
        while let Ok(note) = rx.try_recv() {
            books.handle(note, out, settings.bound);
        }
    }
    let delivered = |b: &Books| rounds.clone().map(|r| b.got[r]).sum::<usize>();
    let until = start + settings.bound;
    while delivered(books) < out.connected.saturating_sub(books.closed) * settings.burst {
        match tokio::time::timeout_at(until.into(), rx.recv()).await {
            Ok(Some(note)) => books.handle(note, out, settings.bound),
            Ok(None) | Err(_) => break,
        }
    }
    Ok(Burst {
        creates: settings.burst,
        delivered: delivered(books),
        expected: out.connected.saturating_sub(books.closed) * settings.burst,
        elapsed: start.elapsed(),
    })
}

/// Microseconds as milliseconds for the table.
fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

fn quantile(o: &Outcome, q: f64) -> Option<u64> {
    (!o.latency.is_empty()).then(|| o.latency.value_at_quantile(q))
}

fn ratio(ours: Option<f64>, pocketbase: Option<f64>) -> String {
    match (ours, pocketbase) {
        (Some(o), Some(p)) if p > 0.0 => format!("{:.2}x", o / p),
        _ => "-".into(),
    }
}

/// The report as Markdown: one row per server, a ratio row, then the details.
pub fn render(outcomes: &[Outcome], failed: &[(Kind, String)], settings: &Settings) -> String {
    let n = settings.subscribers;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nRealtime fan-out: {n} SSE subscribers to `{COLLECTION}/*` (one process, sockets bound to \
         {} source addresses, {} set up at a time, {:.0} s each), {:.1} s settle, then {} \
         creates one at a time; latency = event arrival − just before the create request; \
         delivered = within {:.0} s.\n",
        settings.sources.len(),
        settings.concurrency,
        settings.connect_timeout.as_secs_f64(),
        settings.settle.as_secs_f64(),
        settings.rounds,
        settings.bound.as_secs_f64(),
    );
    let _ = writeln!(
        out,
        "| server | subscribers connected | delivered (of {}) | p50 | p99 | max | RSS with {n} subscribers (before → after events) | peak RSS |",
        n * settings.rounds
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for o in outcomes {
        let q = |q: f64| quantile(o, q).map_or("-".into(), ms);
        let rss = match (o.rss_before, o.rss_after) {
            (Some((b, _)), Some((a, _))) => format!("{} → {}", mib(b), mib(a)),
            _ => "-".into(),
        };
        let peak = o
            .rss_after
            .or(o.rss_before)
            .map_or("-".into(), |(_, hwm)| mib(hwm));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            o.kind.label(),
            o.connected,
            o.delivered,
            q(0.5),
            q(0.99),
            q(1.0),
            rss,
            peak
        );
    }
    for (kind, e) in failed {
        let _ = writeln!(out, "| {} | failed: {e} | | | | | | |", kind.label());
    }
    let find = |k: Kind| outcomes.iter().find(|o| o.kind == k);
    if let (Some(o), Some(p)) = (find(Kind::Ours), find(Kind::PocketBase)) {
        let qf = |x: &Outcome, q: f64| quantile(x, q).map(|v| v as f64);
        let rss_after = |x: &Outcome| x.rss_after.map(|(r, _)| r as f64);
        let hwm = |x: &Outcome| x.rss_after.map(|(_, h)| h as f64);
        let _ = writeln!(
            out,
            "| ratio ours/PB | | | {} | {} | {} | {} (after events) | {} |",
            ratio(qf(o, 0.5), qf(p, 0.5)),
            ratio(qf(o, 0.99), qf(p, 0.99)),
            ratio(qf(o, 1.0), qf(p, 1.0)),
            ratio(rss_after(o), rss_after(p)),
            ratio(hwm(o), hwm(p)),
        );
        let p99 = qf(o, 0.99).zip(qf(p, 0.99)).map(|(a, b)| a / b);
        let mem = rss_after(o).zip(rss_after(p)).map(|(a, b)| a / b);
        let verdict = match (p99, mem) {
            (Some(l), Some(m)) => {
                let met = |ok: bool| if ok { "met" } else { "not met" };
                format!(
                    "p99 ≤ 0.5x PocketBase's: {} ({l:.2}x); RSS ≤ 0.33x: {} ({m:.2}x)",
                    met(l <= 0.5),
                    met(m <= 1.0 / 3.0)
                )
            }
            _ => "not measurable".into(),
        };
        let _ = writeln!(out, "\nGoal: {verdict}.");
    }

    out.push_str("\nDetails:\n\n");
    for o in outcomes {
        let l = o.kind.label();
        let idle = o.rss_idle.map_or("-".into(), |(r, _)| mib(r));
        let _ = writeln!(
            out,
            "- {l}: connect phase {:.1} s; {} connect failures{}; {} not attempted; RSS before subscribers {idle}; \
             server stopped {} after the subscribers closed",
            o.connect_time.as_secs_f64(),
            o.connect_failures.count,
            if o.connect_failures.count > 0 {
                format!(" ({})", o.connect_failures.summary())
            } else {
                String::new()
            },
            o.not_attempted,
            o.stop_time
                .map_or("-".into(), |d| format!("{:.2} s", d.as_secs_f64())),
        );
        let rounds: Vec<String> = o
            .rounds
            .iter()
            .enumerate()
            .map(|(i, r)| {
                format!(
                    "#{} {}/{} p99 {}, waited {} (create {})",
                    i + 1,
                    r.delivered,
                    r.alive,
                    r.quantiles.map_or("-".into(), |(_, p99, _)| ms(p99)),
                    ms(u64::try_from(r.waited.as_micros()).unwrap_or(u64::MAX)),
                    r.create.map_or("failed".into(), |d| format!(
                        "{:.1} ms",
                        d.as_secs_f64() * 1e3
                    )),
                )
            })
            .collect();
        let _ = writeln!(out, "- {l} rounds: {}", rounds.join(", "));
        if let Some(b) = &o.burst {
            let _ = writeln!(
                out,
                "- {l} throughput phase: {} creates back to back, {} of {} events delivered in {:.1} ms = {:.0} events/s",
                b.creates,
                b.delivered,
                b.expected,
                b.elapsed.as_secs_f64() * 1e3,
                b.rate()
            );
        }
        if let Some((wall, client, server)) = o.rounds_cpu {
            let _ = writeln!(
                out,
                "- {l} CPU over the rounds ({:.2} s wall): loadgen {:.2} s, server {:.2} s",
                wall.as_secs_f64(),
                client.as_secs_f64(),
                server.as_secs_f64()
            );
        }
        let mut odd = Vec::new();
        if o.disconnects.count > 0 {
            odd.push(format!(
                "{} streams ended early: {}",
                o.disconnects.count,
                o.disconnects.summary()
            ));
        }
        if o.late > 0 {
            odd.push(format!("{} events arrived after the bound", o.late));
        }
        if o.duplicates > 0 {
            odd.push(format!("{} duplicate events", o.duplicates));
        }
        if o.unexpected.count > 0 {
            odd.push(format!(
                "{} unexpected events: {}",
                o.unexpected.count,
                o.unexpected.summary()
            ));
        }
        if o.create_errors.count > 0 {
            odd.push(format!(
                "{} failed creates: {}",
                o.create_errors.count,
                o.create_errors.summary()
            ));
        }
        if !odd.is_empty() {
            let _ = writeln!(out, "- {l} anomalies: {}", odd.join("; "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_create_events_with_our_prefix() {
        let p = "sse-1-round-";
        let ev = |action: &str, title: &str| {
            json!({"action": action, "record": {"id": "x", "title": title}}).to_string()
        };
        assert_eq!(round_of(&ev("create", &title(p, 3)), p), Some(3));
        assert_eq!(round_of(&ev("update", &title(p, 3)), p), None);
        assert_eq!(round_of(&ev("create", "sse-2-round-3"), p), None);
        assert_eq!(round_of("not json", p), None);
    }

    #[test]
    fn tally_groups_messages_that_differ_in_numbers() {
        let mut t = Tally::default();
        t.add("subscriber 1: reset".into());
        t.add("subscriber 22: reset".into());
        t.add("other".into());
        assert_eq!(t.count, 3);
        assert_eq!(t.kinds.len(), 2);
        assert_eq!(t.summary(), "1 x other; 2 x subscriber 1: reset");
    }
}
