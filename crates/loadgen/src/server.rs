//! Starting and stopping the servers under test.
//!
//! Each server runs as a child process on a loopback port with its own fresh temp
//! directory (PocketBase reads migrations from `DIR/../pb_migrations`, so every
//! instance gets its own parent). The module also reads a server's memory from /proc
//! and stops it with SIGTERM, so nothing is left running or on disk afterwards.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::http;

/// Superuser created on every server for the setup calls.
pub const EMAIL: &str = "bench@example.com";
/// Its password.
pub const PASSWORD: &str = "bench-password-123";

/// Which server a [`Server`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Our binary, `poker`.
    Ours,
    /// The real PocketBase.
    PocketBase,
}

impl Kind {
    /// Short name for tables and messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::PocketBase => "PocketBase",
        }
    }
}

/// A running server: its process, address and temp directory (removed on drop).
pub struct Server {
    /// Which server this is.
    pub kind: Kind,
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    pid: u32,
    tmp: tempfile::TempDir,
}

/// Runs a setup command to completion and fails with its output if it fails.
async fn run_setup(program: &Path, args: &[&str], cwd: &Path) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {}", program.display()))?;
    if !out.status.success() {
        bail!(
            "{} {} failed ({}): {}{}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// A free loopback port, found by binding port 0 and letting it go.
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("binding a free port")?;
    Ok(l.local_addr()?.port())
}

/// Last lines of a log file, for error messages.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Clock ticks per second of /proc's CPU times.
fn clock_ticks() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// utime + stime from the text of /proc/PID/stat (fields 14 and 15, counted after
/// the parenthesised command name, which may itself contain spaces).
fn cpu_from_stat(stat: &str) -> Result<Duration> {
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("malformed /proc stat")?;
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .context("short /proc stat")?
            .parse::<u64>()
            .context("/proc stat CPU field")
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(total as f64 / clock_ticks() as f64))
}

/// CPU time (user + system) this process has used so far.
pub fn own_cpu_time() -> Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    cpu_from_stat(&stat)
}

impl Server {
    /// Starts our server (`bin` is the `poker` binary) and waits until it is healthy.
    pub async fn start_ours(bin: &Path) -> Result<Self> {
        let tmp = tempfile::Builder::new().prefix("loadgen-ours-").tempdir()?;
        let dir = tmp.path().join("data");
        let dir_s = dir.to_str().context("temp path is not UTF-8")?.to_owned();
        run_setup(
            bin,
            &["--dir", &dir_s, "superuser", "upsert", EMAIL, PASSWORD],
            tmp.path(),
        )
        .await?;
        let log = tmp.path().join("server.log");
        let mut child = Command::new(bin)
            .args([
                "--dir",
                &dir_s,
                "--log-level",
                "warn",
                "serve",
                "--http",
                "127.0.0.1:0",
                // The benchmark signs in far more than 60 times a minute from one IP.
                "--auth-rate-limit",
                "0",
            ])
            .current_dir(tmp.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("server exited at once")?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.trim().strip_prefix("Server started at http://") {
                    return rest.parse::<SocketAddr>().context("server address");
                }
            }
            Err(anyhow!("stdout closed before `Server started at`"))
        })
        .await
        .map_err(|_| anyhow!("no `Server started at` line within 60 s"))
        .and_then(|r| r)
        .with_context(|| format!("our server log:\n{}", log_tail(&log)))?;
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let server = Self {
            kind: Kind::Ours,
            addr,
            child,
            pid,
            tmp,
        };
        server.wait_healthy().await?;
        Ok(server)
    }

    /// Starts PocketBase (`bin`) on a free port and waits until it is healthy.
    pub async fn start_pocketbase(bin: &Path) -> Result<Self> {
        let tmp = tempfile::Builder::new().prefix("loadgen-pb-").tempdir()?;
        let dir = tmp.path().join("data");
        let dir_s = dir.to_str().context("temp path is not UTF-8")?.to_owned();
        run_setup(
            bin,
            &["superuser", "upsert", EMAIL, PASSWORD, "--dir", &dir_s],
            tmp.path(),
        )
        .await?;
        let port = free_port()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = tmp.path().join("server.log");
        let child = Command::new(bin)
            .args(["serve", "--http", &addr.to_string(), "--dir", &dir_s])
            .current_dir(tmp.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::create(tmp.path().join("server.err"))?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("server exited at once")?;
        let server = Self {
            kind: Kind::PocketBase,
            addr,
            child,
            pid,
            tmp,
        };
        server
            .wait_healthy()
            .await
            .with_context(|| format!("PocketBase log:\n{}", log_tail(&log)))?;
        Ok(server)
    }

    /// Spawns `kind`'s server from `bin` on 127.0.0.1:`port` with a fresh, empty data
    /// directory and nothing set up, and returns at once (not waiting for health): for
    /// the footprint measurements. Output goes to log files in the temp directory.
    pub fn spawn_bare(kind: Kind, bin: &Path, port: u16) -> Result<Self> {
        let tmp = tempfile::Builder::new()
            .prefix("loadgen-footprint-")
            .tempdir()?;
        let dir = tmp.path().join("data");
        let dir_s = dir.to_str().context("temp path is not UTF-8")?.to_owned();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let http = addr.to_string();
        let args: Vec<&str> = match kind {
            Kind::Ours => vec![
                "--dir",
                &dir_s,
                "--log-level",
                "warn",
                "serve",
                "--http",
                &http,
                "--auth-rate-limit",
                "0",
            ],
            Kind::PocketBase => vec!["serve", "--http", &http, "--dir", &dir_s],
        };
        let child = Command::new(bin)
            .args(&args)
            .current_dir(tmp.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(tmp.path().join("server.log"))?)
            .stderr(std::fs::File::create(tmp.path().join("server.err"))?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("server exited at once")?;
        Ok(Self {
            kind,
            addr,
            child,
            pid,
            tmp,
        })
    }

    /// Whether the process has exited (and its status, if so).
    pub fn exited(&mut self) -> Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// The last lines of the server's output files, for error messages.
    pub fn output_tail(&self) -> String {
        ["server.log", "server.err"]
            .iter()
            .map(|f| log_tail(&self.tmp.path().join(f)))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Polls `GET /api/health` until it answers 200 (at most 60 s).
    async fn wait_healthy(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match http::call(self.addr, "GET", "/api/health", None, None).await {
                Ok((200, _)) => return Ok(()),
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok((status, body)) => {
                    bail!("{}: /api/health answered {status}: {body}", self.label())
                }
                Err(e) => return Err(e.context(format!("{}: /api/health", self.label()))),
            }
        }
    }

    /// The server's name for messages.
    pub fn label(&self) -> &'static str {
        self.kind.label()
    }

    /// Resident and peak resident memory in KiB (`VmRSS`, `VmHWM` of /proc/PID/status).
    pub fn memory_kib(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .with_context(|| format!("reading /proc/{}/status", self.pid))?;
        let field = |name: &str| -> Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(name))
                .with_context(|| format!("{name} missing from /proc status"))?;
            let kib = line[name.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()?;
            Ok(kib)
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// A probe of the server's `VmRSS` in KiB for a sampling task (`None` once the
    /// process is gone).
    pub fn memory_probe(&self) -> impl Fn() -> Option<u64> + Send + 'static {
        let path = format!("/proc/{}/status", self.pid);
        move || {
            let status = std::fs::read_to_string(&path).ok()?;
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line["VmRSS:".len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        }
    }

    /// CPU time (user + system) the server process has used so far, from
    /// /proc/PID/stat.
    pub fn cpu_time(&self) -> Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .with_context(|| format!("reading /proc/{}/stat", self.pid))?;
        cpu_from_stat(&stat)
    }

    /// Stops the server with SIGTERM, waits up to 30 s (then SIGKILL), removes its dir.
    pub async fn stop(mut self) -> Result<()> {
        let pid = libc::pid_t::try_from(self.pid)?;
        // SAFETY: plain syscall on the pid of our own still-unreaped child.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        if rc != 0 {
            eprintln!(
                "{}: SIGTERM failed: {}",
                self.label(),
                std::io::Error::last_os_error()
            );
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    eprintln!("{}: exited with {status} after SIGTERM", self.label());
                }
            }
            Err(_) => {
                eprintln!(
                    "{}: still running 30 s after SIGTERM; killing",
                    self.label()
                );
                self.child.kill().await?;
            }
        }
        let path: PathBuf = self.tmp.path().to_owned();
        self.tmp
            .close()
            .with_context(|| format!("removing {}", path.display()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_ticks_after_a_command_name_with_spaces() -> Result<()> {
        let ticks = clock_ticks();
        let stat = format!(
            "42 (a b) S 1 2 3 4 5 6 7 8 9 10 {} {} 0 0 20",
            3 * ticks,
            ticks
        );
        assert_eq!(cpu_from_stat(&stat)?, Duration::from_secs(4));
        assert!(own_cpu_time().is_ok());
        Ok(())
    }
}
