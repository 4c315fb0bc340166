//! The `poker` binary: litebase + the poker app + the migrations in `/migrations`.

use std::process::ExitCode;

mod embedded {
    // Paths are relative to this crate; build.rs reruns the embedding whenever a
    // file is added to the folder.
    refinery::embed_migrations!("../../migrations");
}

fn main() -> ExitCode {
    poker::register(litebase::App::new("poker"))
        .migrations(embedded::migrations::runner)
        .run()
}
