//! The `poker` binary: litebase + the poker app + the migrations in `/migrations`.

use std::process::ExitCode;

mod embedded {
    // Paths are relative to this crate; build.rs reruns the embedding whenever a
    // file is added to the folder.
    refinery::embed_migrations!("../../migrations");
}

fn main() -> ExitCode {
    let config = match poker::config::PokerConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("Error: {e}");
            return ExitCode::from(2);
        }
    };
    // Every WebSocket is an open file: take all the process may have.
    if let Err(e) = poker::room::capacity::raise_nofile_limit() {
        eprintln!("warning: cannot raise the open-file limit: {e}");
    }
    poker::register_with(litebase::App::new("poker"), config)
        .migrations(embedded::migrations::runner)
        .run()
}
