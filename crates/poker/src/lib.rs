//! poker: real-time planning poker, built as an app on litebase.
//!
//! Everything poker adds to litebase goes through [`register`], so the framework
//! never needs to know about rooms or votes.

pub mod config;
pub mod room;

/// Adds poker's routes and hooks to a litebase app.
pub fn register(app: litebase::App) -> litebase::App {
    let hubs = std::sync::Arc::new(room::hub::Hubs::default());
    app.routes(move |cfg| room::ws::configure(cfg, hubs.clone()))
        .about("Real-time planning poker: rooms, hidden votes, reveal, repeat.")
        .version(env!("CARGO_PKG_VERSION"))
}
