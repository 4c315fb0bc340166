//! poker: real-time planning poker, built as an app on litebase.
//!
//! Everything poker adds to litebase goes through [`register`], so the framework
//! never needs to know about rooms or votes.

pub mod assets;
pub mod i18n;
pub mod pages;
pub mod render;
pub mod room;

use std::sync::Arc;

/// Adds poker's routes and hooks to a litebase app.
pub fn register(app: litebase::App) -> litebase::App {
    let assets = Arc::new(assets::Assets::new());
    // The templates are compiled into the binary; a unit test parses them all, so
    // a failure here is a build defect, not something input can cause.
    let renderer = Arc::new(
        render::Renderer::new(assets.urls()).expect("embedded templates parse (see render tests)"),
    );
    let hubs = Arc::new(room::hub::Hubs::new(renderer.clone()));
    app.routes(move |cfg| {
        room::ws::configure(cfg, hubs.clone());
        pages::configure(cfg, renderer.clone(), assets.clone());
    })
    .about("Real-time planning poker: rooms, hidden votes, reveal, repeat.")
    .version(env!("CARGO_PKG_VERSION"))
}
