//! Setup shared by the `notes` integration tests: the real `notes` binary on a
//! loopback port with a temp data dir, a superuser made with the CLI, and two
//! users, Alice and Bob, signed up and signed in through the API.

// Each test file uses the part it needs.
#![allow(dead_code)]

pub mod sse;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use litebase::testing::{Http, Reply, ServerProcess};
use serde_json::{Value, json};

/// The superuser's email.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// The superuser's password.
pub const ADMIN_PASSWORD: &str = "admin-password";
/// The password every test user signs up with.
const USER_PASSWORD: &str = "user-password-1";

/// `notes --dir DIR`, ready for a subcommand.
pub fn notes(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_notes"));
    cmd.arg("--dir").arg(dir);
    cmd
}

/// A signed-in user of the `users` collection.
pub struct User {
    /// The record id (what a note's `owner` holds).
    pub id: String,
    /// The auth token, for the `Authorization` header.
    pub token: String,
}

/// A running `notes` server with a superuser and two users.
pub struct Fixture {
    /// The server (killed on drop, before the data dir goes).
    pub server: ServerProcess,
    /// The superuser's token.
    pub admin: String,
    /// The first user.
    pub alice: User,
    /// The second user.
    pub bob: User,
    /// The data dir; kept until the fixture is dropped.
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// A fresh data dir, the superuser created with the CLI, `serve` on a free
    /// port, and Alice and Bob signed up.
    pub fn start() -> anyhow::Result<Fixture> {
        let dir = tempfile::tempdir()?;
        let out = notes(dir.path())
            .args(["superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD])
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "superuser upsert failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut serve = notes(dir.path());
        serve.args(["serve", "--http", "127.0.0.1:0", "--log-level", "warn"]);
        let server = ServerProcess::start(serve)?;
        let admin = Http::new().superuser_token(&server.url(""), ADMIN_EMAIL, ADMIN_PASSWORD)?;
        let alice = sign_up(&server, "alice@example.com")?;
        let bob = sign_up(&server, "bob@example.com")?;
        Ok(Fixture {
            server,
            admin,
            alice,
            bob,
            _dir: dir,
        })
    }

    /// `POST /api/collections/notes/records` as `token` ("" for a guest).
    pub fn create(&self, token: &str, body: &Value) -> anyhow::Result<Reply> {
        Ok(Http::new().post_json_auth(&self.server.url(NOTES), token, body)?)
    }

    /// Creates a note that must be accepted; its id.
    pub fn note(&self, user: &User, title: &str) -> anyhow::Result<String> {
        let reply = self.create(&user.token, &json!({"title": title, "owner": user.id}))?;
        anyhow::ensure!(reply.status == 200, "create {title:?}: {}", reply.text);
        reply.json["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("no id in {}", reply.text))
    }

    /// `GET /api/notes/summary` as `token` ("" for a guest).
    pub fn summary(&self, token: &str) -> anyhow::Result<Reply> {
        Ok(Http::new().get_auth(&self.server.url("/api/notes/summary"), token)?)
    }

    /// Polls the summary until it equals `want` (after-commit subscribers may run
    /// a moment after the write's answer), then returns the last one seen.
    pub fn summary_once_settled(&self, token: &str, want: &Value) -> anyhow::Result<Reply> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let reply = self.summary(token)?;
            if reply.json == *want || Instant::now() > deadline {
                return Ok(reply);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The records URL of the notes collection.
pub const NOTES: &str = "/api/collections/notes/records";

/// `NOTES/{id}`.
pub fn note_url(id: &str) -> String {
    format!("{NOTES}/{id}")
}

/// Signs a user up through the public API, then in.
pub fn sign_up(server: &ServerProcess, email: &str) -> anyhow::Result<User> {
    let http = Http::new();
    let created = http.post_json(
        &server.url("/api/collections/users/records"),
        &json!({"email": email, "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD}),
    )?;
    anyhow::ensure!(created.status == 200, "sign up {email}: {}", created.text);
    let signed_in = http.post_json(
        &server.url("/api/collections/users/auth-with-password"),
        &json!({"identity": email, "password": USER_PASSWORD}),
    )?;
    let field = |reply: &Reply, pointer: &str| {
        reply
            .json
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("{email}: no {pointer} in {}", reply.text))
    };
    Ok(User {
        id: field(&created, "/id")?,
        token: field(&signed_in, "/token")?,
    })
}
