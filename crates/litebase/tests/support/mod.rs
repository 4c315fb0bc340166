//! Setup shared by litebase's integration tests: the plain `litebase` binary on a
//! loopback port with a temp data dir and a signed-in superuser, an app run on a
//! thread of the test (for what only an app with its own migrations, routes or
//! settings shows), and the admin UI's helpers. The parts an app's tests need
//! too live in `litebase::testing`.

// Each test file uses the part it needs.
#![allow(dead_code, unused_imports)]

pub mod admin;
pub mod files;
pub mod scenario;
pub mod smtp;

/// How many system migrations litebase embeds (the `.sql` files of its
/// `migrations/`), so tests need no update when one is added.
pub fn system_migration_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .map(|dir| {
            dir.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".sql"))
            })
            .count()
        })
        .unwrap_or_default()
}

use std::path::Path;
use std::process::{Command, ExitCode};

use litebase::App;
use litebase::testing::{AppBinary, InProcess, ServerProcess};

pub use litebase::testing::{
    ADMIN_EMAIL, ADMIN_PASSWORD, agent, percent_encode, sse, superuser_token,
};

/// The `litebase` binary of this build.
pub fn app() -> AppBinary {
    AppBinary::new(env!("CARGO_BIN_EXE_litebase"))
}

/// `litebase --dir DIR`, ready for a subcommand.
pub fn litebase(dir: &Path) -> Command {
    app().command(dir)
}

/// `litebase serve` on a free loopback port, with `extra` flags.
pub fn serve(dir: &Path, extra: &[&str]) -> std::io::Result<ServerProcess> {
    app().serve(dir, extra)
}

/// `litebase serve` on a free loopback port with extra environment variables.
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

mod kv_migrations {
    refinery::embed_migrations!("tests/kv_migrations");
}

/// litebase with one embedded migration of its own (`V1__kv`), as an app ships
/// them: what `--dev` and `migrate new` number after.
pub fn app_with_migrations() -> App {
    App::new("kv").migrations(kv_migrations::migrations::runner)
}

/// Runs a command of `app` in this process: `APP --log-level warn --dir DIR ARGS…`.
/// (What it prints is not captured: check its effects.)
pub fn run_in_process(app: App, dir: &Path, args: &[&str]) -> ExitCode {
    let dir = dir.display().to_string();
    let mut all = vec!["app", "--log-level", "warn", "--dir", dir.as_str()];
    all.extend_from_slice(args);
    app.run_from(all)
}

/// `app`'s `serve` on a thread of this process, on a free loopback port, with
/// warnings only and `extra` flags.
pub fn serve_in_process(app: App, dir: &Path, extra: &[&str]) -> std::io::Result<InProcess> {
    let dir = dir.display().to_string();
    let mut all = vec![
        "app",
        "--log-level",
        "warn",
        "--dir",
        dir.as_str(),
        "serve",
        "--http",
        "127.0.0.1:0",
    ];
    all.extend_from_slice(extra);
    InProcess::start(app, all)
}

/// Creates the superuser of [`litebase::testing::ADMIN_EMAIL`] in `dir` with
/// `app`'s CLI, in this process.
pub fn add_superuser_in_process(app: App, dir: &Path) -> anyhow::Result<()> {
    let code = run_in_process(
        app,
        dir,
        &["superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD],
    );
    anyhow::ensure!(code == ExitCode::SUCCESS, "superuser upsert failed");
    Ok(())
}
