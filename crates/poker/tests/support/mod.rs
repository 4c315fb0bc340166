//! Setup shared by the `poker` integration tests: the real binary on a loopback
//! port with a temp data dir (through litebase's [`AppBinary`]), a signed-in
//! superuser, rooms and WebSocket players.

// Each test file uses the part it needs.
#![allow(dead_code, unused_imports)]

pub mod ws;

use std::path::Path;
use std::process::Command;

use litebase::testing::{AppBinary, Http, ServerProcess};

pub use litebase::testing::{
    ADMIN_EMAIL, ADMIN_PASSWORD, agent, percent_encode, sse, superuser_token,
};

/// The `poker` binary of this build.
pub fn app() -> AppBinary {
    AppBinary::new(env!("CARGO_BIN_EXE_poker"))
}

/// `poker --dir DIR`, ready for a subcommand.
pub fn poker(dir: &Path) -> Command {
    app().command(dir)
}

/// `poker serve` on a free loopback port, with `extra` flags.
pub fn serve(dir: &Path, extra: &[&str]) -> std::io::Result<ServerProcess> {
    app().serve(dir, extra)
}

/// `poker serve` on a free loopback port with extra environment variables.
pub fn serve_with_env(dir: &Path, env: &[(&str, &str)]) -> std::io::Result<ServerProcess> {
    app().serve_with_env(dir, env)
}

/// Creates the superuser with the CLI (before `serve`).
pub fn add_superuser(dir: &Path) -> std::io::Result<()> {
    app().add_superuser(dir)
}

/// The superuser created, `serve` started with warnings only, and its token.
pub fn serve_as_admin(dir: &Path) -> std::io::Result<(ServerProcess, String)> {
    app().serve_as_admin(dir)
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
