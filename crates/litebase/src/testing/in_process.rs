//! A litebase server on a thread of the test process: the same `serve` as the
//! command line's (migrations, core, routes, realtime), bound to a loopback port,
//! told where it listens and stopped on request instead of by a signal. Starting
//! one costs no process spawn, so a table of scenarios can run each against a
//! fresh app.

use std::ffi::OsString;
use std::process::ExitCode;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::App;
use crate::server::Embedding;

/// A server running inside this process. Stopped (gracefully) on drop.
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let dir = dir.path().display().to_string();
/// let server = litebase::testing::InProcess::start(
///     litebase::App::new("litebase"),
///     ["litebase", "--dir", dir.as_str(), "serve", "--http", "127.0.0.1:0"],
/// )?;
/// let health = litebase::testing::Http::new().get(&server.url("/api/health"))?;
/// assert_eq!(health.status, 200);
/// server.stop()?;
/// # Ok(())
/// # }
/// ```
pub struct InProcess {
    /// `127.0.0.1:PORT` the server bound.
    pub addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<ExitCode>>,
}

impl InProcess {
    /// Runs `app` with the command line `args` (program name first; a `serve`
    /// listening on `127.0.0.1:0` or another free address) on a thread of its
    /// own, and waits up to 60 s until it listens. A command that ends before
    /// listening (a bad flag, a taken port, not `serve` at all) is an error
    /// with its exit code; its one-line reason went to stderr.
    pub fn start<I, S>(app: App, args: I) -> std::io::Result<InProcess>
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let embedding = Embedding {
            on_listen: Box::new(move |addrs| {
                let _ = addr_tx.send(addrs);
            }),
            stop: stop_rx,
        };
        let thread = std::thread::Builder::new()
            .name("litebase-in-process".into())
            .spawn(move || crate::cli::run_embedded(app, args, Some(embedding)))?;
        let listening = addr_rx.recv_timeout(Duration::from_secs(60));
        let mut server = InProcess {
            addr: String::new(),
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        match listening.ok().and_then(|addrs| addrs.first().copied()) {
            Some(addr) => {
                server.addr = addr.to_string();
                Ok(server)
            }
            None => {
                let code = server.finish();
                Err(std::io::Error::other(format!(
                    "the in-process server did not start (exit code {code:?}); its reason is on stderr"
                )))
            }
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server as SIGTERM would (in-flight requests finish, realtime
    /// streams end, queued writes commit) and returns its exit code.
    pub fn stop(mut self) -> std::io::Result<ExitCode> {
        self.finish()
            .ok_or_else(|| std::io::Error::other("the in-process server panicked"))
    }

    /// Asks the server to stop and waits for its thread; `None` if it panicked.
    fn finish(&mut self) -> Option<ExitCode> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl super::Server for InProcess {
    fn addr(&self) -> &str {
        &self.addr
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.finish();
    }
}
