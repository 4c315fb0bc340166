//! Setup shared by the `poker` integration tests: the real binary on a loopback
//! port with a temp data dir, and a signed-in superuser.

// Each test file uses the part it needs.
#![allow(dead_code)]

pub mod admin;
pub mod sse;
pub mod ws;

use std::path::Path;
use std::process::Command;

use litebase::testing::{Http, ServerProcess};

/// A plain HTTP client that follows no redirect and calls no status an error,
/// so a test sees each answer as the server gave it (30 s per request).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
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

/// The superuser every test that needs one signs in as.
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin-password";

/// `poker --dir DIR`, ready for a subcommand.
pub fn poker(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_poker"));
    cmd.arg("--dir").arg(dir);
    cmd
}

/// `poker serve` on a free loopback port, with `extra` flags.
pub fn serve(dir: &Path, extra: &[&str]) -> std::io::Result<ServerProcess> {
    let mut cmd = poker(dir);
    cmd.args(["serve", "--http", "127.0.0.1:0"]).args(extra);
    ServerProcess::start(cmd)
}

/// `poker serve` on a free loopback port with extra environment variables.
pub fn serve_with_env(dir: &Path, env: &[(&str, &str)]) -> std::io::Result<ServerProcess> {
    let mut cmd = poker(dir);
    cmd.args(["serve", "--http", "127.0.0.1:0", "--log-level", "warn"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    ServerProcess::start(cmd)
}

/// The record id of the room with `code`, through the superuser's `/api`.
pub fn room_record_id(
    server: &ServerProcess,
    token: &str,
    code: &str,
) -> anyhow::Result<Option<String>> {
    let reply = Http::new().get_auth(
        &server.url(&format!(
            "/api/collections/rooms/records?filter=(code%3D%27{code}%27)"
        )),
        token,
    )?;
    anyhow::ensure!(reply.status == 200, "list rooms: {}", reply.text);
    Ok(reply.json["items"][0]["id"].as_str().map(str::to_string))
}

/// Creates the superuser with the CLI (before `serve`).
pub fn add_superuser(dir: &Path) -> anyhow::Result<()> {
    let out = poker(dir)
        .args(["superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "superuser upsert failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// The usual setup of a test that needs the admin API: the superuser created,
/// `serve` started with warnings only, and the superuser's token.
pub fn serve_as_admin(dir: &Path) -> anyhow::Result<(ServerProcess, String)> {
    add_superuser(dir)?;
    let server = serve(dir, &["--log-level", "warn"])?;
    let token = superuser_token(&server)?;
    Ok((server, token))
}

/// Signs the superuser in; returns its token.
pub fn superuser_token(server: &ServerProcess) -> anyhow::Result<String> {
    Ok(Http::new().superuser_token(&server.url(""), ADMIN_EMAIL, ADMIN_PASSWORD)?)
}
