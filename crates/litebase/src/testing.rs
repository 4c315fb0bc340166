//! Test support for suites that drive a real server: an app binary started on a
//! free loopback port with its own data dir ([`AppBinary`], [`ServerProcess`]) or
//! litebase on a thread of the test process ([`InProcess`]); JSON over HTTP
//! ([`Http`]), raw bytes ([`raw_request`], [`raw`]), realtime ([`sse`]), the admin
//! UI ([`browser`]), a webhook receiver ([`receiver`]) and tables of hostile requests scored case by case ([`hostile`]). Shared by
//! litebase's own tests and apps' tests. Enabled by the `testing` feature.

pub mod browser;
pub mod hostile;
mod in_process;
pub mod raw;
pub mod receiver;
pub mod sse;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use in_process::InProcess;

/// The superuser tests create ([`AppBinary::add_superuser`]) and sign in as.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin-password";

/// A running server a test talks to, in a process of its own or in this one.
pub trait Server {
    /// `127.0.0.1:PORT`.
    fn addr(&self) -> &str;

    /// `http://ADDR{path}`.
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }
}

/// An app binary built on litebase (the `litebase` binary, or an app's such as
/// `poker`) as integration tests run it: `BIN --dir DIR COMMAND…`.
///
/// ```no_run
/// # fn main() -> std::io::Result<()> {
/// use litebase::testing::AppBinary;
/// let dir = tempfile::tempdir()?;
/// let app = AppBinary::new("target/debug/litebase");
/// let (server, token) = app.serve_as_admin(dir.path())?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AppBinary {
    path: PathBuf,
}

impl AppBinary {
    /// The binary at `path` (in a test: `env!("CARGO_BIN_EXE_NAME")`).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AppBinary { path: path.into() }
    }

    /// `BIN --dir DIR`, ready for a subcommand.
    pub fn command(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.arg("--dir").arg(dir);
        cmd
    }

    /// `serve` on a free loopback port, with `extra` flags.
    pub fn serve(&self, dir: &Path, extra: &[&str]) -> std::io::Result<ServerProcess> {
        let mut cmd = self.command(dir);
        cmd.args(["serve", "--http", "127.0.0.1:0"]).args(extra);
        ServerProcess::start(cmd)
    }

    /// `serve --log-level warn` on a free loopback port, with extra environment
    /// variables.
    pub fn serve_with_env(
        &self,
        dir: &Path,
        env: &[(&str, &str)],
    ) -> std::io::Result<ServerProcess> {
        let mut cmd = self.command(dir);
        cmd.args(["serve", "--http", "127.0.0.1:0", "--log-level", "warn"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        ServerProcess::start(cmd)
    }

    /// Creates the [`ADMIN_EMAIL`] superuser with `superuser upsert` (before `serve`).
    pub fn add_superuser(&self, dir: &Path) -> std::io::Result<()> {
        let out = self
            .command(dir)
            .args(["superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD])
            .output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "superuser upsert failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// The usual setup of a test that needs the admin API: the superuser created,
    /// `serve` started with warnings only, and the superuser's token.
    pub fn serve_as_admin(&self, dir: &Path) -> std::io::Result<(ServerProcess, String)> {
        self.add_superuser(dir)?;
        let server = self.serve(dir, &["--log-level", "warn"])?;
        let token = superuser_token(&server)?;
        Ok((server, token))
    }
}

/// Signs the [`ADMIN_EMAIL`] superuser in at `server`; returns its token.
pub fn superuser_token(server: &impl Server) -> std::io::Result<String> {
    Http::new().superuser_token(&server.url(""), ADMIN_EMAIL, ADMIN_PASSWORD)
}

/// Signs a `users` record up through the public API at `base_url` (a server's
/// `http://ADDR`) with `password`, then in; returns (id, token).
pub fn sign_up(base_url: &str, email: &str, password: &str) -> std::io::Result<(String, String)> {
    let http = Http::new();
    let created = http.post_json(
        &format!("{base_url}/api/collections/users/records"),
        &serde_json::json!({"email": email, "password": password, "passwordConfirm": password}),
    )?;
    if created.status != 200 {
        return Err(std::io::Error::other(format!(
            "sign up {email}: {}",
            created.text
        )));
    }
    let signed_in = http.post_json(
        &format!("{base_url}/api/collections/users/auth-with-password"),
        &serde_json::json!({"identity": email, "password": password}),
    )?;
    let token = signed_in.json["token"]
        .as_str()
        .ok_or_else(|| std::io::Error::other(format!("sign in {email}: {}", signed_in.text)))?;
    Ok((
        created.json["id"].as_str().unwrap_or_default().to_string(),
        token.to_string(),
    ))
}

/// A plain HTTP client that follows no redirect and calls no status an error,
/// so a test sees each answer as the server gave it (30 s per request).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// `s` percent-encoded for a query string or a form (all but unreserved bytes).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A server started as a child process. Killed on drop if still running.
pub struct ServerProcess {
    child: Child,
    /// `127.0.0.1:PORT` the server printed at start.
    pub addr: String,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Spawns `command` (which must make the server listen on `127.0.0.1:0` or a known
    /// address) and waits up to 60 s for its `Server started at http://…` line.
    pub fn start(mut command: Command) -> std::io::Result<Self> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn()?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(err) = child.stderr.take() {
            let sink = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&line);
                        s.push('\n');
                    }
                }
            });
        }
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let (tx, rx) = std::sync::mpsc::channel();
        let out = Arc::new(Mutex::new(String::new()));
        let out_sink = out.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(mut s) = out_sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
                if !sent {
                    if let Some(addr) = line.strip_prefix("Server started at http://") {
                        let _ = tx.send(addr.trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => Ok(ServerProcess {
                child,
                addr,
                stderr,
                stdout: out,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let log = stderr.lock().map(|s| s.clone()).unwrap_or_default();
                Err(std::io::Error::other(format!(
                    "server did not start within 60 s; its stderr:\n{log}"
                )))
            }
        }
    }

    /// What the server printed on stdout so far (the start banner, a setup link).
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The process id, e.g. to send it signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (`TERM`, `INT`, `KILL`) with the system's `kill`.
    pub fn signal(&self, name: &str) -> std::io::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill -{name} failed")))
        }
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => return None,
            }
        }
    }

    /// Everything the server wrote to stderr so far (its logs).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Server for ServerProcess {
    fn addr(&self) -> &str {
        &self.addr
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An HTTP answer: status, parsed JSON body (`Null` if not JSON), raw body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// The body parsed as JSON, or `Value::Null`.
    pub json: Value,
    /// The raw body.
    pub text: String,
}

/// A small blocking HTTP client that never treats 4xx/5xx as a transport error.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    /// A client with a 30 s timeout per request.
    pub fn new() -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Http { agent }
    }

    fn finish(
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> std::io::Result<Reply> {
        let mut resp = resp.map_err(std::io::Error::other)?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(std::io::Error::other)?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply { status, json, text })
    }

    /// `GET url`.
    pub fn get(&self, url: &str) -> std::io::Result<Reply> {
        Self::finish(self.agent.get(url).call())
    }

    /// `POST url` with a JSON body.
    pub fn post_json(&self, url: &str, body: &Value) -> std::io::Result<Reply> {
        Self::finish(
            self.agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(body.to_string().as_bytes()),
        )
    }

    /// `POST url` with a JSON body and an `Authorization` token.
    pub fn post_json_auth(&self, url: &str, token: &str, body: &Value) -> std::io::Result<Reply> {
        Self::finish(
            self.agent
                .post(url)
                .header("Content-Type", "application/json")
                .header("Authorization", token)
                .send(body.to_string().as_bytes()),
        )
    }

    /// `PATCH url` with a JSON body and an `Authorization` token.
    pub fn patch_json_auth(&self, url: &str, token: &str, body: &Value) -> std::io::Result<Reply> {
        Self::finish(
            self.agent
                .patch(url)
                .header("Content-Type", "application/json")
                .header("Authorization", token)
                .send(body.to_string().as_bytes()),
        )
    }

    /// `PUT url` with a JSON body and an `Authorization` token (none when empty).
    pub fn put_json_auth(&self, url: &str, token: &str, body: &Value) -> std::io::Result<Reply> {
        let mut request = self
            .agent
            .put(url)
            .header("Content-Type", "application/json");
        if !token.is_empty() {
            request = request.header("Authorization", token);
        }
        Self::finish(request.send(body.to_string().as_bytes()))
    }

    /// `GET url` with an `Authorization` token.
    pub fn get_auth(&self, url: &str, token: &str) -> std::io::Result<Reply> {
        Self::finish(self.agent.get(url).header("Authorization", token).call())
    }

    /// `DELETE url` with an `Authorization` token; returns the status.
    pub fn agent_delete(&self, url: &str, token: &str) -> std::io::Result<u16> {
        Self::finish(self.agent.delete(url).header("Authorization", token).call()).map(|r| r.status)
    }

    /// Signs a superuser in at the server whose base URL is `base`; returns the token.
    pub fn superuser_token(
        &self,
        base: &str,
        email: &str,
        password: &str,
    ) -> std::io::Result<String> {
        let reply = self.post_json(
            &format!("{base}/api/collections/_superusers/auth-with-password"),
            &serde_json::json!({"identity": email, "password": password}),
        )?;
        reply.json["token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| std::io::Error::other(format!("sign-in failed: {}", reply.text)))
    }

    /// `POST url` with raw bytes labelled as JSON (for malformed-body tests).
    pub fn post_raw(&self, url: &str, body: &[u8]) -> std::io::Result<Reply> {
        Self::finish(
            self.agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(body),
        )
    }
}

/// Sends `request` verbatim over TCP to `addr` and returns the status and body of
/// the answer; for requests a normal client refuses to send (lying lengths, huge
/// declared bodies, garbage).
pub fn raw_request(addr: &str, request: &[u8]) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request)?;
    let mut buf = Vec::new();
    // The server may close while we still write; read whatever answer it sent.
    let _ = stream.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    let json = serde_json::from_str(body.trim()).unwrap_or(Value::Null);
    Ok(Reply {
        status,
        json,
        text: body,
    })
}

/// Asserts that `reply` is an error in PocketBase's shape with `status`, and returns
/// its message.
///
/// # Panics
/// When the shape or status differ (it is an assertion).
pub fn assert_error_shape(reply: &Reply, status: u16) -> String {
    check_error_shape(reply, status).unwrap_or_else(|why| panic!("{why}"))
}

/// What [`assert_error_shape`] checks, as a result: the message, or why the reply
/// is not PocketBase's error shape with `status` (for suites that keep score
/// instead of stopping at the first failure).
pub fn check_error_shape(reply: &Reply, status: u16) -> Result<String, String> {
    let body = &reply.text;
    if reply.status != status {
        return Err(format!(
            "unexpected status {} (expected {status}); body: {body}",
            reply.status
        ));
    }
    let obj = reply
        .json
        .as_object()
        .ok_or_else(|| format!("error body is not a JSON object: {body:?}"))?;
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys != ["data", "message", "status"] {
        return Err(format!(
            "keys {keys:?}, not data, message, status; body: {body}"
        ));
    }
    if obj["status"] != status {
        return Err(format!(
            "status field {} is not {status}; body: {body}",
            obj["status"]
        ));
    }
    if !obj["data"].is_object() {
        return Err(format!("data must be an object: {body}"));
    }
    let message = obj["message"].as_str().unwrap_or_default().to_string();
    if message.is_empty() {
        return Err(format!("message must not be empty: {body}"));
    }
    Ok(message)
}
