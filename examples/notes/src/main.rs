//! The `notes` binary: litebase, the notes app from [`notes::register`], and the
//! SQL migrations in `migrations/` (compiled in, so the binary is all you deploy).

use std::process::ExitCode;

mod embedded {
    // The path is relative to this crate's Cargo.toml; build.rs rebuilds the
    // binary when a migration file is added.
    refinery::embed_migrations!("migrations");
}

fn main() -> ExitCode {
    notes::register(litebase::App::new("notes"))
        .migrations(embedded::migrations::runner)
        .about("Notes on litebase: the example app of how to extend it.")
        .version(env!("CARGO_PKG_VERSION"))
        .run()
}
