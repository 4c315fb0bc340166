//! `loadgen ws`: the WebSocket load run against the poker server.
//!
//! The coordinator starts a fresh release `poker`, creates the rooms over
//! `POST /api/poker/rooms`, and hands whole rooms to K worker processes of this
//! binary (`loadgen ws-worker`): one process may hold at most 20,000 open files, so
//! 19,000 players need several. Workers connect their members and say `ready`; the
//! coordinator then tells all of them `go` at once and samples the server's memory
//! and CPU from /proc every second while they vote; at the end it merges their
//! counts and latency histograms into one Markdown table. Every phase is bounded.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::http::{self, Conn};
use crate::report::mib;
use crate::server::Server;
use crate::setup;

/// What a run does.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Players in all (the hosts included).
    pub players: usize,
    /// Rooms; players are spread evenly.
    pub rooms: usize,
    /// Votes per second over all rooms.
    pub rate: f64,
    /// How long the players vote after everyone connected.
    pub hold: Duration,
    /// Worker processes.
    pub workers: usize,
    /// Loopback source addresses (127.0.0.2 onwards).
    pub sources: u8,
    /// Rooms connecting at once in each worker.
    pub concurrency: usize,
    /// The whole run stops after this long, whatever happens.
    pub deadline: Duration,
}

/// The workers' last reports, added up.
#[derive(Default, Debug)]
pub(crate) struct Done {
    pub votes: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub disconnects: u64,
    pub errors: u64,
    pub frames: u64,
    pub rounds: u64,
    pub messages: Vec<(String, u64)>,
    /// Disconnects and arrivals given up in rooms whose drops were expected.
    pub dropped: u64,
    pub lost_dropped: u64,
    /// Seats taken back, and members that gave up.
    pub rejoined: u64,
    pub rejoin_failed: u64,
    /// Votes acknowledged; acknowledged votes found or missing after a rejoin.
    pub acked: u64,
    pub votes_kept: u64,
    pub votes_missing: u64,
    /// Unix ms: the first expected drop (0: none), the last seat taken back.
    pub first_drop_ms: u64,
    pub last_back_ms: u64,
}

/// Every worker's `done`, merged: counts, the latency histogram, CPU and the
/// worst arrival of each second.
pub(crate) struct Merged {
    pub done: Done,
    pub latency: Histogram<u64>,
    pub worker_cpu: f64,
    pub worst: Vec<u64>,
}

impl Merged {
    pub fn new() -> Result<Self> {
        Ok(Self {
            done: Done::default(),
            latency: Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)?,
            worker_cpu: 0.0,
            worst: Vec::new(),
        })
    }

    /// Adds one worker's `done` line.
    pub fn add(&mut self, d: &Value) -> Result<()> {
        let n = |k: &str| d[k].as_u64().unwrap_or(0);
        let done = &mut self.done;
        done.votes += n("votes");
        done.expected += n("expected");
        done.delivered += n("delivered");
        done.lost += n("lost");
        done.disconnects += n("disconnects");
        done.errors += n("errors");
        done.frames += n("frames");
        done.rounds += n("rounds");
        done.dropped += n("dropped");
        done.lost_dropped += n("lost_dropped");
        done.rejoined += n("rejoined");
        done.rejoin_failed += n("rejoin_failed");
        done.acked += n("acked");
        done.votes_kept += n("votes_kept");
        done.votes_missing += n("votes_missing");
        let first = n("first_drop_ms");
        if first > 0 && (done.first_drop_ms == 0 || first < done.first_drop_ms) {
            done.first_drop_ms = first;
        }
        done.last_back_ms = done.last_back_ms.max(n("last_back_ms"));
        self.worker_cpu += d["cpu"].as_f64().unwrap_or(0.0);
        done.messages.extend(counts(&d["messages"]));
        for (i, ms) in d["worst"].as_array().into_iter().flatten().enumerate() {
            if self.worst.len() <= i {
                self.worst.resize(i + 1, 0);
            }
            self.worst[i] = self.worst[i].max(ms.as_u64().unwrap_or(0));
        }
        for pair in d["hist"].as_array().into_iter().flatten() {
            let (Some(v), Some(c)) = (pair[0].as_u64(), pair[1].as_u64()) else {
                continue;
            };
            self.latency.record_n(v.max(1), c)?;
        }
        Ok(())
    }
}

/// Everything the table shows.
#[derive(Debug)]
pub struct Outcome {
    settings: Settings,
    connected: u64,
    connect_failed: u64,
    connect_secs: f64,
    connect_notes: Vec<(String, u64)>,
    hold_secs: f64,
    done: Done,
    latency: Histogram<u64>,
    rss_idle_kib: u64,
    rss_connected_kib: u64,
    /// Highest sample while all the players were held (voting).
    rss_hold_peak_kib: u64,
    /// Highest ever, the moment everyone disconnects included.
    rss_peak_kib: u64,
    server_cpu_hold: f64,
    worker_cpu: f64,
    server_alive: bool,
    metrics: Vec<String>,
    /// The worst arrival latency (ms) in each second of the hold, over all workers.
    worst: Vec<u64>,
}

/// Gives each worker ten seconds to exit after its last report, then kills it:
/// no run leaves a worker behind.
pub(crate) async fn reap(workers: Vec<Worker>) {
    for mut w in workers {
        if tokio::time::timeout(Duration::from_secs(10), w.child.wait())
            .await
            .is_err()
        {
            let _ = w.child.kill().await;
        }
    }
}

/// A worker process and its pipes.
pub(crate) struct Worker {
    pub child: Child,
    pub stdin: ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Worker {
    /// The next JSON line that carries `event`, skipping anything else.
    pub async fn next_event(&mut self, event: &str) -> Result<Value> {
        while let Some(line) = self.lines.next_line().await? {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["event"] == event {
                    return Ok(v);
                }
            }
        }
        bail!("worker exited before `{event}`")
    }
}

/// Runs the whole load against a fresh server from `bin`.
pub async fn run(bin: &Path, settings: Settings) -> Result<Outcome> {
    let deadline = Instant::now() + settings.deadline;
    let server = Server::start_ours(bin).await?;
    let result = tokio::time::timeout_at(deadline.into(), drive(&server, &settings)).await;
    let outcome = match result {
        Ok(r) => r,
        Err(_) => Err(anyhow!(
            "the run passed its overall limit of {:?}",
            settings.deadline
        )),
    };
    let tail = server.output_tail();
    if let Err(e) = server.stop().await {
        eprintln!("ws: stopping the server: {e:#}");
    }
    outcome.with_context(|| format!("server output:\n{tail}"))
}

async fn drive(server: &Server, settings: &Settings) -> Result<Outcome> {
    let rss_idle_kib = server.memory_kib()?.0;
    eprintln!("ws: creating {} rooms ...", settings.rooms);
    let rooms = create_rooms(&[server.addr], settings.rooms).await?;
    let per_room = settings.players / settings.rooms;

    // Sample the server every second from now to the end.
    let samples: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
    let sampler = {
        let samples = samples.clone();
        let pid_status = server.memory_probe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                match pid_status() {
                    Some(kib) => samples
                        .lock()
                        .map(|mut s| s.push((Instant::now(), kib)))
                        .unwrap_or(()),
                    None => break,
                }
            }
        })
    };

    let exe = std::env::current_exe().context("finding this binary")?;
    let mut workers = Vec::new();
    let chunk = rooms.len().div_ceil(settings.workers);
    for (w, part) in rooms.chunks(chunk.max(1)).enumerate() {
        let share = settings.rate * part.len() as f64 / rooms.len() as f64;
        let plan = WorkerPlan {
            addrs: &[server.addr],
            settings,
            per_room,
            rate: share,
            index: w,
            rooms: part,
            extra: &[],
        };
        workers.push(spawn_worker(&exe, plan).await?);
    }
    eprintln!(
        "ws: {} workers connecting {} players ...",
        workers.len(),
        per_room * rooms.len()
    );
    let connect_start = Instant::now();
    let mut connected = 0;
    let mut connect_failed = 0;
    let mut connect_notes = Vec::new();
    for w in &mut workers {
        let ready = w.next_event("ready").await?;
        connected += ready["connected"].as_u64().unwrap_or(0);
        connect_failed += ready["failed"].as_u64().unwrap_or(0);
        connect_notes.extend(counts(&ready["failures"]));
    }
    let connect_secs = connect_start.elapsed().as_secs_f64();
    eprintln!(
        "ws: {connected} connected, {connect_failed} failed in {connect_secs:.1} s; settling"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_connected_kib = server.memory_kib()?.0;
    let cpu_before = server.cpu_time()?;
    let hold_start = Instant::now();
    for w in &mut workers {
        w.stdin.write_all(b"go\n").await?;
        w.stdin.flush().await?;
    }
    eprintln!("ws: voting for {:?} ...", settings.hold);
    let mut merged = Merged::new()?;
    for w in &mut workers {
        merged.add(&w.next_event("done").await?)?;
    }
    let Merged {
        done,
        latency,
        worker_cpu,
        worst,
    } = merged;
    let hold_secs = hold_start.elapsed().as_secs_f64();
    let server_cpu_hold = (server.cpu_time()? - cpu_before).as_secs_f64();
    reap(workers).await;
    sampler.abort();
    let hold_end = hold_start + settings.hold;
    let (rss_hold_peak_kib, rss_sampled_peak_kib) = samples
        .lock()
        .map(|s| {
            let held = s
                .iter()
                .filter(|(t, _)| (hold_start..=hold_end).contains(t));
            let all = s.iter();
            (
                held.map(|(_, kib)| *kib).max().unwrap_or(0),
                all.map(|(_, kib)| *kib).max().unwrap_or(0),
            )
        })
        .unwrap_or((0, 0));
    let rss_hold_peak_kib = rss_hold_peak_kib.max(rss_connected_kib);
    let rss_peak_kib = rss_sampled_peak_kib.max(server.memory_kib()?.1);
    let metrics = server_metrics(server.addr)
        .await
        .unwrap_or_else(|e| vec![format!("(metrics unavailable: {e:#})")]);
    let mut server_alive = true;
    if let Err(e) = http::call(server.addr, "GET", "/api/health", None, None).await {
        eprintln!("ws: server not healthy after the run: {e:#}");
        server_alive = false;
    }
    Ok(Outcome {
        settings: settings.clone(),
        connected,
        connect_failed,
        connect_secs,
        connect_notes,
        hold_secs,
        done,
        latency,
        rss_idle_kib,
        rss_connected_kib,
        rss_hold_peak_kib,
        rss_peak_kib,
        server_cpu_hold,
        worker_cpu,
        server_alive,
        metrics,
        worst,
    })
}

/// `{"message": count}` as pairs.
pub(crate) fn counts(v: &Value) -> Vec<(String, u64)> {
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
        .collect()
}

/// Creates `n` rooms over 8 keep-alive connections (at least one per address,
/// round-robin over `addrs`); returns their JSON (code and host token).
pub(crate) async fn create_rooms(addrs: &[SocketAddr], n: usize) -> Result<Vec<Value>> {
    if addrs.is_empty() {
        bail!("no address to create rooms at");
    }
    let lanes = 8.max(addrs.len()).min(n.max(1));
    let mut tasks = Vec::new();
    for lane in 0..lanes {
        let addr = addrs[lane % addrs.len()];
        let count = n / lanes + usize::from(lane < n % lanes);
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let mut out = Vec::with_capacity(count);
            for i in 0..count {
                let body = json!({"name": format!("load {lane}-{i}")});
                let (status, v) =
                    http::call_on(&mut conn, "POST", "/api/poker/rooms", None, Some(&body)).await?;
                if status != 200 {
                    bail!("creating a room answered {status}: {v}");
                }
                out.push(json!({"code": v["code"], "hostToken": v["hostToken"]}));
            }
            Ok(out)
        }));
    }
    let mut rooms = Vec::with_capacity(n);
    for t in tasks {
        rooms.extend(t.await??);
    }
    Ok(rooms)
}

/// What one worker process is given.
pub(crate) struct WorkerPlan<'a> {
    /// The server, or the proxies of a cluster.
    pub addrs: &'a [SocketAddr],
    pub settings: &'a Settings,
    pub per_room: usize,
    /// This worker's share of the vote rate.
    pub rate: f64,
    pub index: usize,
    pub rooms: &'a [Value],
    /// More `ws-worker` flags.
    pub extra: &'a [String],
}

/// Starts a `ws-worker` process and hands it its rooms.
pub(crate) async fn spawn_worker(exe: &Path, plan: WorkerPlan<'_>) -> Result<Worker> {
    let WorkerPlan {
        addrs,
        settings,
        per_room,
        rate,
        index,
        rooms,
        extra,
    } = plan;
    let addrs: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    let mut child = Command::new(exe)
        .arg("ws-worker")
        .args(["--addr", &addrs.join(",")])
        .args(["--per-room", &per_room.to_string()])
        .args(["--rate", &format!("{rate:.3}")])
        .args(["--hold", &settings.hold.as_secs_f64().to_string()])
        .args(["--sources", &settings.sources.to_string()])
        .args(["--concurrency", &settings.concurrency.to_string()])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting worker {index}"))?;
    let mut stdin = child.stdin.take().context("worker stdin")?;
    let stdout = child.stdout.take().context("worker stdout")?;
    let mut line = serde_json::to_string(rooms)?;
    line.push('\n');
    stdin.write_all(line.as_bytes()).await?;
    stdin.flush().await?;
    Ok(Worker {
        child,
        stdin,
        lines: BufReader::new(stdout).lines(),
    })
}

/// The `poker_ws_*` lines of the server's `/api/metrics`.
async fn server_metrics(addr: SocketAddr) -> Result<Vec<String>> {
    let token = setup::superuser_token(addr).await?;
    let mut conn = Conn::new(addr);
    let req = http::request_bytes("GET", addr, "/api/metrics", Some(&token), None);
    let (status, body) = conn.send(&req, Duration::from_secs(10)).await?;
    if status != 200 {
        bail!("/api/metrics answered {status}");
    }
    Ok(String::from_utf8_lossy(body)
        .lines()
        .filter(|l| {
            l.starts_with("poker_ws_")
                || l.starts_with("poker_participants_online")
                || l.starts_with("litebase_db_write")
        })
        .map(str::to_owned)
        .collect())
}

/// A latency quantile of `h` in ms, or `-` when nothing was measured.
pub(crate) fn ms(h: &Histogram<u64>, q: f64) -> String {
    if h.is_empty() {
        return "-".into();
    }
    format!("{:.1}", h.value_at_quantile(q) as f64 / 1000.0)
}

/// The run as Markdown: one table, then notes (errors, disconnect reasons, metrics).
pub fn render(o: &Outcome) -> String {
    let s = &o.settings;
    let mut out = String::new();
    let connect_rate = if o.connect_secs > 0.0 {
        o.connected as f64 / o.connect_secs
    } else {
        0.0
    };
    let grown = o.rss_connected_kib.saturating_sub(o.rss_idle_kib);
    let per_conn = if o.connected > 0 {
        format!("{:.1} KiB", grown as f64 / o.connected as f64)
    } else {
        "-".into()
    };
    let cpu_per_k = if o.done.votes > 0 {
        format!(
            "{:.2} s",
            o.server_cpu_hold / (o.done.votes as f64 / 1000.0)
        )
    } else {
        "-".into()
    };
    let _ = writeln!(
        out,
        "| players | rooms | connect rate | hold | votes sent (rate) | deliveries / expected | p50 | p99 | p99.9 | max | unexpected disconnects | RSS connected / highest while held (highest overall) | RSS per connection | server CPU per 1,000 votes |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| {} of {} | {} | {:.0}/s | {:.0} s | {} ({:.0}/s) | {} / {} | {} ms | {} ms | {} ms | {} ms | {} | {} / {} ({}) | {} | {} |",
        o.connected,
        s.players / s.rooms * s.rooms,
        s.rooms,
        connect_rate,
        o.hold_secs,
        o.done.votes,
        o.done.votes as f64 / o.hold_secs.max(0.001),
        o.done.delivered,
        o.done.expected,
        ms(&o.latency, 0.5),
        ms(&o.latency, 0.99),
        ms(&o.latency, 0.999),
        ms(&o.latency, 1.0),
        o.done.disconnects,
        mib(o.rss_connected_kib),
        mib(o.rss_hold_peak_kib),
        mib(o.rss_peak_kib),
        per_conn,
        cpu_per_k,
    );
    let _ = writeln!(
        out,
        "\n{} workers, {} source addresses; connect phase {:.1} s; server CPU {:.1} s over the hold ({:.0}% of one core), load generator CPU {:.1} s; idle RSS before the players {}; {} rounds revealed; {} frames read; {} arrivals given up; {} error frames; server {} after the run.",
        s.workers,
        s.sources,
        o.connect_secs,
        o.server_cpu_hold,
        100.0 * o.server_cpu_hold / o.hold_secs.max(0.001),
        o.worker_cpu,
        mib(o.rss_idle_kib),
        o.done.rounds,
        o.done.frames,
        o.done.lost,
        o.done.errors,
        if o.server_alive {
            "healthy"
        } else {
            "NOT healthy"
        },
    );
    if !o.worst.is_empty() {
        let over = o.worst.iter().filter(|ms| **ms > 100).count();
        let mut top: Vec<(usize, u64)> = o.worst.iter().copied().enumerate().collect();
        top.sort_by_key(|t| std::cmp::Reverse(t.1));
        let shown: Vec<String> = top
            .iter()
            .take(5)
            .map(|(s, ms)| format!("{ms} ms at {s} s"))
            .collect();
        let _ = writeln!(
            out,
            "\nSeconds of the hold whose slowest arrival took over 100 ms: {over} of {}; the worst: {}.",
            o.worst.len(),
            shown.join(", ")
        );
    }
    if o.connect_failed > 0 {
        let _ = writeln!(out, "\nConnect failures: {}", o.connect_failed);
    }
    for (what, n) in o.connect_notes.iter().chain(&o.done.messages).take(12) {
        let _ = writeln!(out, "- {n} x {what}");
    }
    if !o.metrics.is_empty() {
        let _ = writeln!(
            out,
            "\nServer metrics after the run: `{}`",
            o.metrics.join("`, `")
        );
    }
    out
}

/// The headline lines of the run for `loadgen all`'s table, against the targets
/// (all players held with no unexpected disconnect, fan-out p99 at most 100 ms,
/// at most 300 MiB and about 16 KiB a connection).
pub fn summary_lines(o: &Outcome) -> Vec<crate::summary::Line> {
    use crate::summary::Line;
    let s = &o.settings;
    let bench = format!(
        "WebSocket, {} players / {} rooms / {:.0} votes/s",
        s.players / s.rooms * s.rooms,
        s.rooms,
        s.rate
    );
    let wanted = (s.players / s.rooms * s.rooms) as u64;
    let p = |q: f64| o.latency.value_at_quantile(q) as f64 / 1000.0;
    let per_conn = if o.connected > 0 {
        o.rss_connected_kib.saturating_sub(o.rss_idle_kib) as f64 / o.connected as f64
    } else {
        0.0
    };
    let mut lines = vec![
        Line::ours_only(
            &bench,
            "players held, unexpected disconnects",
            format!(
                "{} for {:.0} s, {}",
                o.connected, o.hold_secs, o.done.disconnects
            ),
            "all, 0",
            Some(o.connected == wanted && o.done.disconnects == 0 && o.server_alive),
        ),
        Line::ours_only(
            &bench,
            "connect rate",
            format!("{:.0}/s", o.connected as f64 / o.connect_secs.max(0.001)),
            "-",
            None,
        ),
        Line::ours_only(
            &bench,
            "votes sent, deliveries",
            format!(
                "{} ({:.0}/s), {} of {}",
                o.done.votes,
                o.done.votes as f64 / o.hold_secs.max(0.001),
                o.done.delivered,
                o.done.expected
            ),
            "-",
            None,
        ),
    ];
    if !o.latency.is_empty() {
        lines.push(Line::ours_only(
            &bench,
            "fan-out p50 / p99 / p99.9 / max",
            format!(
                "{:.1} / {:.1} / {:.1} / {:.1} ms",
                p(0.5),
                p(0.99),
                p(0.999),
                p(1.0)
            ),
            "p99 ≤ 100 ms",
            Some(p(0.99) <= 100.0),
        ));
    }
    lines.push(Line::ours_only(
        &bench,
        "server RSS connected / highest while held",
        format!(
            "{} / {}",
            mib(o.rss_connected_kib),
            mib(o.rss_hold_peak_kib)
        ),
        "≤ 300 MiB",
        Some(o.rss_hold_peak_kib <= 300 * 1024),
    ));
    lines.push(Line::ours_only(
        &bench,
        "server RSS highest overall (all disconnecting at the end)",
        mib(o.rss_peak_kib),
        "-",
        None,
    ));
    lines.push(Line::ours_only(
        &bench,
        "server RSS per connection",
        format!("{per_conn:.1} KiB"),
        "≈ 16 KiB",
        Some(per_conn <= 16.5),
    ));
    if o.done.votes > 0 {
        lines.push(Line::ours_only(
            &bench,
            "server CPU per 1,000 votes",
            format!(
                "{:.2} s ({:.0}% of a core)",
                o.server_cpu_hold / (o.done.votes as f64 / 1000.0),
                100.0 * o.server_cpu_hold / o.hold_secs.max(0.001)
            ),
            "-",
            None,
        ));
    }
    lines
}

/// Checks the settings before anything starts.
pub fn validate(s: &Settings) -> Result<()> {
    if s.rooms == 0 || s.players < 2 * s.rooms {
        bail!("--players must be at least twice --rooms (a host and a voter per room)");
    }
    if s.players / s.rooms > crate::ws_room::Room::MAX_MEMBERS {
        bail!(
            "at most {} players per room",
            crate::ws_room::Room::MAX_MEMBERS
        );
    }
    if s.workers == 0 || s.workers > s.rooms {
        bail!("--workers must be 1..=--rooms");
    }
    let per_worker = s.players.div_ceil(s.workers);
    if per_worker > 18_000 {
        bail!(
            "{per_worker} sockets per worker: a process may hold 20,000 open files; use more --workers"
        );
    }
    Ok(())
}

/// The binary to run, made absolute (the server runs in its temp dir).
pub fn resolve(bin: &Path) -> Result<PathBuf> {
    if !bin.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p poker` or set POKER_BIN",
            bin.display()
        );
    }
    std::fs::canonicalize(bin).with_context(|| format!("{}", bin.display()))
}
