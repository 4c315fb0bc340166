//! `loadgen ws --target …`: the WebSocket load against a cluster that is already
//! running (poker nodes behind several identical HAProxy instances), started by an
//! orchestrator such as `tests/deploy/bench_cluster.mjs`.
//!
//! No server is started here: the rooms are created through the proxies (which
//! spread them over the nodes, so over the shards) and the players are spread over
//! the proxies and loopback source addresses by the workers. Memory is sampled from
//! /proc for every `poker` and `haproxy` process whose command line names the run
//! (`--rss-match`, e.g. its temp dir), so a standby that takes over is counted too.
//! Optionally one node is killed with SIGKILL during the hold (`--kill-pid`): its
//! shard's players are expected to drop, take their seats back through the proxies,
//! and find their acknowledged votes; the time from the kill to the last of them
//! back is the recovery time. Every phase is bounded by the run's deadline.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::AsyncWriteExt;

use crate::report::mib;
use crate::ws::{self, Done, Merged, Settings, WorkerPlan};

/// The characters that mark a shard in a room code (shard `n` is the `n`-th).
pub const SHARD_MARKS: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a cluster run does beyond the single-server settings.
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    /// Players, rooms, rate, hold, workers, sources, deadline.
    pub base: Settings,
    /// The proxies (HAProxy instances) on loopback.
    pub targets: Vec<SocketAddr>,
    /// How long a dropped player keeps trying to take its seat back.
    pub reconnect: Duration,
    /// The node to kill during the hold, if any.
    pub kill: Option<Kill>,
    /// Processes whose command line contains this are measured.
    pub rss_match: Option<String>,
    /// Poker nodes in the cluster (for the table only).
    pub nodes: usize,
}

/// One node killed with SIGKILL during the hold.
#[derive(Clone, Debug)]
pub struct Kill {
    /// Its process id.
    pub pid: i32,
    /// Its shard (0-61): its rooms' drops are expected.
    pub shard: u8,
    /// How long into the hold.
    pub after: Duration,
}

impl Kill {
    /// The first character of the codes of the killed shard's rooms.
    pub fn mark(&self) -> Result<char> {
        SHARD_MARKS
            .chars()
            .nth(usize::from(self.shard))
            .with_context(|| format!("shard {} is not 0-61", self.shard))
    }
}

/// Resident memory of the cluster's processes at one moment.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rss {
    /// Every `poker` process of the run (nodes and standbys), KiB.
    pub poker_kib: u64,
    pub poker_procs: usize,
    /// Every `haproxy` process of the run, KiB.
    pub haproxy_kib: u64,
    pub haproxy_procs: usize,
}

/// Sums `VmRSS` of the `poker` and `haproxy` processes whose command line
/// contains `needle` (nothing when `needle` is `None`).
pub fn sample_rss(needle: Option<&str>) -> Rss {
    let mut rss = Rss::default();
    let Some(needle) = needle else {
        return rss;
    };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return rss;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
            continue;
        };
        let comm = comm.trim();
        if comm != "poker" && comm != "haproxy" {
            continue;
        }
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if !String::from_utf8_lossy(&cmdline).contains(needle) {
            continue;
        }
        let Some(kib) = vm_rss(pid) else {
            continue;
        };
        if comm == "poker" {
            rss.poker_kib += kib;
            rss.poker_procs += 1;
        } else {
            rss.haproxy_kib += kib;
            rss.haproxy_procs += 1;
        }
    }
    rss
}

fn vm_rss(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Everything the cluster table shows.
#[derive(Debug)]
pub struct ClusterOutcome {
    settings: ClusterSettings,
    connected: u64,
    connect_failed: u64,
    connect_secs: f64,
    connect_notes: Vec<(String, u64)>,
    hold_secs: f64,
    done: Done,
    latency: hdrhistogram::Histogram<u64>,
    worker_cpu: f64,
    rss_idle: Rss,
    rss_connected: Rss,
    /// Highest sums while the players were held.
    poker_hold_peak_kib: u64,
    haproxy_hold_peak_kib: u64,
    /// Rooms and players on the killed shard.
    victim_rooms: usize,
    victim_players: u64,
    /// When the node was killed (unix ms), or why it was not.
    killed_ms: Option<u64>,
    kill_note: Option<String>,
}

/// The outcome's verdict: what did not hold, if anything.
pub fn problems(o: &ClusterOutcome) -> Vec<String> {
    let s = &o.settings.base;
    let wanted = (s.players / s.rooms * s.rooms) as u64;
    let mut out = Vec::new();
    if o.connected != wanted {
        out.push(format!("{} of {wanted} players connected", o.connected));
    }
    if o.done.disconnects > 0 {
        out.push(format!("{} unexpected disconnects", o.done.disconnects));
    }
    if o.done.lost > 0 {
        out.push(format!(
            "{} arrivals outside the killed shard never came",
            o.done.lost
        ));
    }
    if o.done.votes_missing > 0 {
        out.push(format!("{} acknowledged votes lost", o.done.votes_missing));
    }
    if o.done.rejoin_failed > 0 {
        out.push(format!(
            "{} players could not take their seats back",
            o.done.rejoin_failed
        ));
    }
    if o.settings.kill.is_some() {
        match (o.killed_ms, recovery_ms(o)) {
            (None, _) => out.push(format!(
                "the node was not killed: {}",
                o.kill_note.as_deref().unwrap_or("?")
            )),
            (Some(_), None) => out.push("the killed shard's players never came back".into()),
            _ => {}
        }
        if o.done.rejoined < o.victim_players {
            out.push(format!(
                "{} of the killed shard's {} players came back",
                o.done.rejoined, o.victim_players
            ));
        }
    }
    out
}

/// From the kill to the last of the killed shard's players back, in ms.
fn recovery_ms(o: &ClusterOutcome) -> Option<u64> {
    let killed = o.killed_ms?;
    (o.done.last_back_ms > killed).then(|| o.done.last_back_ms - killed)
}

/// Runs the load against the cluster behind `settings.targets`.
pub async fn run(settings: ClusterSettings) -> Result<ClusterOutcome> {
    let limit = settings.base.deadline;
    match tokio::time::timeout(limit, drive(&settings)).await {
        Ok(r) => r,
        Err(_) => Err(anyhow!("the run passed its overall limit of {limit:?}")),
    }
}

async fn drive(settings: &ClusterSettings) -> Result<ClusterOutcome> {
    let s = &settings.base;
    let needle = settings.rss_match.clone();
    let rss_idle = sample_rss(needle.as_deref());
    eprintln!(
        "ws: creating {} rooms through {} proxies ...",
        s.rooms,
        settings.targets.len()
    );
    let rooms = ws::create_rooms(&settings.targets, s.rooms).await?;
    let per_room = s.players / s.rooms;
    let mark = settings.kill.as_ref().map(Kill::mark).transpose()?;
    let victim_rooms = mark.map_or(0, |c| {
        rooms
            .iter()
            .filter(|r| r["code"].as_str().is_some_and(|code| code.starts_with(c)))
            .count()
    });
    let victim_players = (victim_rooms * per_room) as u64;
    if settings.kill.is_some() && victim_rooms == 0 {
        bail!("no room was created on the shard to kill: is its node behind the proxies?");
    }

    let samples: Arc<Mutex<Vec<(Instant, Rss)>>> = Arc::default();
    let sampler = {
        let samples = samples.clone();
        let needle = needle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let rss = sample_rss(needle.as_deref());
                if let Ok(mut s) = samples.lock() {
                    s.push((Instant::now(), rss));
                }
            }
        })
    };

    let mut extra = vec![
        "--reconnect".to_owned(),
        format!("{:.1}", settings.reconnect.as_secs_f64()),
    ];
    if let Some(c) = mark {
        extra.extend(["--expect-drop".to_owned(), c.to_string()]);
    }
    let exe = std::env::current_exe().context("finding this binary")?;
    let mut workers = Vec::new();
    let chunk = rooms.len().div_ceil(s.workers);
    for (w, part) in rooms.chunks(chunk.max(1)).enumerate() {
        let plan = WorkerPlan {
            addrs: &settings.targets,
            settings: s,
            per_room,
            rate: s.rate * part.len() as f64 / rooms.len() as f64,
            index: w,
            rooms: part,
            extra: &extra,
        };
        workers.push(ws::spawn_worker(&exe, plan).await?);
    }
    eprintln!(
        "ws: {} workers connecting {} players ...",
        workers.len(),
        per_room * rooms.len()
    );
    let connect_start = Instant::now();
    let (mut connected, mut connect_failed) = (0, 0);
    let mut connect_notes = Vec::new();
    for w in &mut workers {
        let ready = w.next_event("ready").await?;
        connected += ready["connected"].as_u64().unwrap_or(0);
        connect_failed += ready["failed"].as_u64().unwrap_or(0);
        connect_notes.extend(ws::counts(&ready["failures"]));
    }
    let connect_secs = connect_start.elapsed().as_secs_f64();
    eprintln!(
        "ws: {connected} connected, {connect_failed} failed in {connect_secs:.1} s; settling"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_connected = sample_rss(needle.as_deref());
    let hold_start = Instant::now();
    for w in &mut workers {
        w.stdin.write_all(b"go\n").await?;
        w.stdin.flush().await?;
    }
    eprintln!("ws: voting for {:?} ...", s.hold);
    let killer = settings.kill.clone().map(|k| {
        tokio::spawn(async move {
            tokio::time::sleep(k.after).await;
            kill(k.pid)
        })
    });
    let mut merged = Merged::new()?;
    for w in &mut workers {
        merged.add(&w.next_event("done").await?)?;
    }
    let hold_secs = hold_start.elapsed().as_secs_f64();
    ws::reap(workers).await;
    sampler.abort();
    let (killed_ms, kill_note) = match killer {
        None => (None, None),
        Some(task) if !task.is_finished() => {
            task.abort();
            (None, Some("the hold ended before the kill".to_owned()))
        }
        Some(task) => match task.await {
            Ok(Ok(ms)) => (Some(ms), None),
            Ok(Err(e)) => (None, Some(format!("{e:#}"))),
            Err(e) => (None, Some(format!("{e}"))),
        },
    };
    let hold_end = hold_start + s.hold;
    let (poker_hold_peak_kib, haproxy_hold_peak_kib) = samples
        .lock()
        .map(|v| {
            let held = v
                .iter()
                .filter(|(t, _)| (hold_start..=hold_end).contains(t));
            held.fold((0, 0), |(p, h), (_, r)| {
                (p.max(r.poker_kib), h.max(r.haproxy_kib))
            })
        })
        .unwrap_or((0, 0));
    let Merged {
        done,
        latency,
        worker_cpu,
        ..
    } = merged;
    Ok(ClusterOutcome {
        settings: settings.clone(),
        connected,
        connect_failed,
        connect_secs,
        connect_notes,
        hold_secs,
        done,
        latency,
        worker_cpu,
        rss_idle,
        rss_connected,
        poker_hold_peak_kib: poker_hold_peak_kib.max(rss_connected.poker_kib),
        haproxy_hold_peak_kib: haproxy_hold_peak_kib.max(rss_connected.haproxy_kib),
        victim_rooms,
        victim_players,
        killed_ms,
        kill_note,
    })
}

/// SIGKILL to `pid`; returns the moment in unix ms.
fn kill(pid: i32) -> Result<u64> {
    if pid <= 1 {
        bail!("refusing to kill pid {pid}");
    }
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?;
    // SAFETY: kill(2) takes plain integers; a wrong pid is an error, not UB.
    if unsafe { libc::kill(pid, libc::SIGKILL) } != 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("kill -9 {pid}"));
    }
    eprintln!("ws: killed pid {pid} with SIGKILL");
    Ok(u64::try_from(at.as_millis()).unwrap_or(u64::MAX))
}

fn per_player(kib: u64, players: u64) -> String {
    if players == 0 {
        return "-".into();
    }
    format!("{:.1} KiB", kib as f64 / players as f64)
}

/// The run as Markdown: the headline table, then what happened around the kill.
pub fn render(o: &ClusterOutcome) -> String {
    let s = &o.settings.base;
    let d = &o.done;
    let mut out = String::new();
    let recovery = match recovery_ms(o) {
        Some(ms) => format!("{:.1} s", ms as f64 / 1000.0),
        None if o.settings.kill.is_some() => "not recovered".into(),
        None => "- (no kill)".into(),
    };
    let _ = writeln!(
        out,
        "| players | rooms | nodes | HAProxy instances | hold | votes/s (asked / achieved) | votes sent / acknowledged | deliveries / expected | acknowledged votes lost | fan-out p50 / p99 / max | unexpected disconnects | recovery (kill → last player back) | poker RSS total (per player) | HAProxy RSS total |"
    );
    let _ = writeln!(
        out,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| {} of {} | {} | {} | {} | {:.0} s | {:.0} / {:.0} | {} / {} | {} / {} | {} of {} checked | {} / {} / {} ms | {} | {} | {} ({}) | {} |",
        o.connected,
        s.players / s.rooms * s.rooms,
        s.rooms,
        o.settings.nodes,
        o.settings.targets.len(),
        s.hold.as_secs_f64(),
        s.rate,
        d.votes as f64 / s.hold.as_secs_f64().max(0.001),
        d.votes,
        d.acked,
        d.delivered,
        d.expected,
        d.votes_missing,
        d.votes_kept + d.votes_missing,
        ws::ms(&o.latency, 0.5),
        ws::ms(&o.latency, 0.99),
        ws::ms(&o.latency, 1.0),
        d.disconnects,
        recovery,
        mib(o.poker_hold_peak_kib),
        per_player(o.poker_hold_peak_kib, o.connected),
        mib(o.haproxy_hold_peak_kib),
    );
    let _ = writeln!(
        out,
        "\nRSS is the highest sum while held, over every poker process ({} at the start, the standby included after a takeover) and every HAProxy process ({}). Before the players: poker {}, HAProxy {}; all players connected: poker {} ({} per player over the idle nodes), HAProxy {}.",
        o.rss_connected.poker_procs,
        o.rss_connected.haproxy_procs,
        mib(o.rss_idle.poker_kib),
        mib(o.rss_idle.haproxy_kib),
        mib(o.rss_connected.poker_kib),
        per_player(
            o.rss_connected
                .poker_kib
                .saturating_sub(o.rss_idle.poker_kib),
            o.connected
        ),
        mib(o.rss_connected.haproxy_kib),
    );
    let _ = writeln!(
        out,
        "\n{} workers, {} source addresses; connect phase {:.1} s ({:.0}/s); hold with the last arrivals and the goodbyes {:.0} s; load generator CPU {:.1} s; {} rounds revealed; {} frames read; {} error frames; {} arrivals outside the killed shard given up.",
        s.workers,
        s.sources,
        o.connect_secs,
        o.connected as f64 / o.connect_secs.max(0.001),
        o.hold_secs,
        o.worker_cpu,
        d.rounds,
        d.frames,
        d.errors,
        d.lost,
    );
    if let Some(k) = &o.settings.kill {
        let _ = writeln!(
            out,
            "\nKilled: shard {}'s node (pid {}) with SIGKILL {:.0} s into the hold{}; its {} rooms / {} players: {} disconnects, {} seats taken back, {} gave up, {} arrivals given up while away; acknowledged votes checked after the rejoin: {} kept, {} missing; first drop {} after the kill.",
            k.shard,
            k.pid,
            k.after.as_secs_f64(),
            o.kill_note
                .as_deref()
                .map(|n| format!(" (NOT killed: {n})"))
                .unwrap_or_default(),
            o.victim_rooms,
            o.victim_players,
            d.dropped,
            d.rejoined,
            d.rejoin_failed,
            d.lost_dropped,
            d.votes_kept,
            d.votes_missing,
            match (o.killed_ms, d.first_drop_ms) {
                (Some(k), f) if f >= k => format!("{} ms", f - k),
                _ => "-".into(),
            },
        );
    }
    if o.connect_failed > 0 {
        let _ = writeln!(out, "\nConnect failures: {}", o.connect_failed);
    }
    for (what, n) in o.connect_notes.iter().chain(&d.messages).take(12) {
        let _ = writeln!(out, "- {n} x {what}");
    }
    out
}

/// Parses `http://127.0.0.1:8080,http://127.0.0.2:8081` (loopback only: the
/// benchmark never leaves the machine).
pub fn parse_targets(list: &[String]) -> Result<Vec<SocketAddr>> {
    list.iter()
        .map(|t| {
            let hostport = t.trim().trim_start_matches("http://").trim_end_matches('/');
            let addr: SocketAddr = hostport
                .parse()
                .with_context(|| format!("--target {t}: want http://IP:PORT"))?;
            if !addr.ip().is_loopback() {
                bail!("--target {t}: only loopback targets");
            }
            Ok(addr)
        })
        .collect()
}
