//! Footprint: how big each server's binary is, how much memory it holds when idle, and
//! how long it takes from process start to its first healthy answer.
//!
//! Every start uses a fresh, empty data directory and a free loopback port; the
//! server is stopped (SIGTERM) and its directory removed before the next start.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::http::{Conn, request_bytes};
use crate::server::{Kind, Server, free_port};

/// Longest wait for one start to answer `GET /api/health` with 200.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// Pause between health probes while a server starts (refused connects are cheap).
const PROBE_INTERVAL: Duration = Duration::from_millis(2);
/// Longest wait for one health probe's response.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a server idles after its first healthy answer before its RSS is read.
const IDLE: Duration = Duration::from_secs(1);

/// One server's footprint.
pub struct Footprint {
    /// Which server.
    pub kind: Kind,
    /// The binary measured (symlinks and shims resolved).
    pub binary: PathBuf,
    /// Its size in bytes.
    pub binary_bytes: u64,
    /// Process start to first `200` from `GET /api/health`, one per start, sorted.
    pub startup: Vec<Duration>,
    /// `VmRSS` in KiB, [`IDLE`] after the first healthy answer, one per start, sorted.
    pub idle_rss_kib: Vec<u64>,
}

/// Median of a sorted, non-empty slice (the lower middle for an even length).
pub fn median<T: Copy>(sorted: &[T]) -> Option<T> {
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

/// Measures `kind`'s server from `bin` over `starts` fresh starts.
pub async fn measure(kind: Kind, bin: &Path, starts: usize) -> Result<Footprint> {
    let binary = std::fs::canonicalize(bin).with_context(|| format!("{}", bin.display()))?;
    let binary_bytes = std::fs::metadata(&binary)
        .with_context(|| format!("{}", binary.display()))?
        .len();
    let mut startup = Vec::with_capacity(starts);
    let mut idle_rss_kib = Vec::with_capacity(starts);
    for i in 0..starts {
        let (took, rss) = one_start(kind, &binary)
            .await
            .with_context(|| format!("{}: start {} of {starts}", kind.label(), i + 1))?;
        eprintln!(
            "{}: start {}: healthy after {:.1} ms, idle RSS {} KiB",
            kind.label(),
            i + 1,
            took.as_secs_f64() * 1000.0,
            rss
        );
        startup.push(took);
        idle_rss_kib.push(rss);
    }
    startup.sort();
    idle_rss_kib.sort();
    Ok(Footprint {
        kind,
        binary,
        binary_bytes,
        startup,
        idle_rss_kib,
    })
}

/// Starts the server once on an empty data dir: time to healthy, then idle RSS.
async fn one_start(kind: Kind, bin: &Path) -> Result<(Duration, u64)> {
    let port = free_port()?;
    let started = Instant::now();
    let mut server = Server::spawn_bare(kind, bin, port)?;
    let result = wait_first_healthy(&mut server, started).await;
    let result = match result {
        Ok(took) => {
            tokio::time::sleep(IDLE).await;
            server.memory_kib().map(|(rss, _)| (took, rss))
        }
        Err(e) => Err(e),
    };
    let tail = server.output_tail();
    let stopped = server.stop().await;
    let measured = result.with_context(|| format!("server output:\n{tail}"))?;
    stopped?;
    Ok(measured)
}

/// Probes `GET /api/health` every [`PROBE_INTERVAL`] until it answers 200; returns
/// the time since `started`. Fails if the process exits or [`START_DEADLINE`] passes.
async fn wait_first_healthy(server: &mut Server, started: Instant) -> Result<Duration> {
    let request = request_bytes("GET", server.addr, "/api/health", None, None);
    let max_probes = START_DEADLINE.as_millis() / PROBE_INTERVAL.as_millis().max(1);
    let mut last = String::from("no probe yet");
    for _ in 0..max_probes {
        let mut conn = Conn::new(server.addr);
        match conn.send(&request, PROBE_TIMEOUT).await {
            Ok((200, _)) => return Ok(started.elapsed()),
            Ok((status, body)) => {
                last = format!("HTTP {status}: {}", String::from_utf8_lossy(body));
            }
            Err(e) => last = format!("{e:#}"),
        }
        if let Some(status) = server.exited()? {
            bail!("exited with {status} before it was healthy");
        }
        if started.elapsed() > START_DEADLINE {
            break;
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
    bail!(
        "not healthy within {:?} of start; last probe: {last}",
        START_DEADLINE
    )
}

/// The real executable behind `bin`: found on `PATH` if it is a bare name, and if it
/// is a script (a pyenv shim for the pip-installed `pocketbase`, say), the file of the
/// same name in Python's scripts directory, then what `pyenv which` names. Falls back
/// to `bin` itself, with a warning, when nothing better is found.
pub async fn resolve_binary(bin: &Path) -> Result<PathBuf> {
    let found = if bin.components().count() > 1 || bin.is_absolute() {
        bin.to_owned()
    } else {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|d| d.join(bin))
            .find(|p| p.is_file())
            .with_context(|| format!("{} is not on PATH", bin.display()))?
    };
    let found = std::fs::canonicalize(&found).with_context(|| format!("{}", found.display()))?;
    if !is_script(&found)? {
        return Ok(found);
    }
    let name = found
        .file_name()
        .context("binary path has no file name")?
        .to_owned();
    let candidates = [
        output_line(
            "python3",
            &[
                "-c",
                "import sysconfig; print(sysconfig.get_path('scripts'))",
            ],
        )
        .await
        .map(|dir| PathBuf::from(dir).join(&name)),
        output_line("pyenv", &["which", &name.to_string_lossy()])
            .await
            .map(PathBuf::from),
    ];
    for candidate in candidates.into_iter().flatten() {
        let Ok(real) = std::fs::canonicalize(&candidate) else {
            continue;
        };
        if real.is_file() && !is_script(&real)? {
            return Ok(real);
        }
    }
    eprintln!(
        "WARNING: {} is a script and its real binary was not found; measuring the script",
        found.display()
    );
    Ok(found)
}

/// Whether `path` starts with `#!`.
fn is_script(path: &Path) -> Result<bool> {
    use std::io::Read as _;
    let mut head = [0u8; 2];
    let mut file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let n = file.read(&mut head)?;
    Ok(n == 2 && &head == b"#!")
}

/// First line of a short command's stdout, if it ran and succeeded within 20 s.
async fn output_line(program: &str, args: &[&str]) -> Option<String> {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    if !out.status.success() {
        return None;
    }
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .trim()
        .to_owned();
    (!line.is_empty()).then_some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_lower_middle() {
        assert_eq!(median::<u64>(&[]), None);
        assert_eq!(median(&[3]), Some(3));
        assert_eq!(median(&[1, 2, 3, 4, 5]), Some(3));
        assert_eq!(median(&[1, 2, 3, 4]), Some(2));
    }

    #[tokio::test]
    async fn a_script_is_detected() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("shim");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n")?;
        assert!(is_script(&script)?);
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "\x7fELF")?;
        assert!(!is_script(&plain)?);
        assert_eq!(
            resolve_binary(&plain).await?,
            std::fs::canonicalize(&plain)?
        );
        Ok(())
    }
}
