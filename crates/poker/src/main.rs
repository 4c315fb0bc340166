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
    poker::register_with(litebase::App::new("poker"), config)
        .migrations(embedded::migrations::runner)
        .run()
}
