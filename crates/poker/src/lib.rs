//! poker: real-time planning poker, built as an app on litebase.
//!
//! Everything poker adds to litebase goes through [`register`], so the framework
//! never needs to know about rooms or votes.

pub mod assets;
pub mod config;
pub mod i18n;
pub mod metrics;
pub mod pages;
pub mod render;
pub mod room;

use std::sync::Arc;

/// Adds poker's routes and hooks to a litebase app, with the settings of the
/// environment (`main` checks them first and refuses to start on a bad value).
pub fn register(app: litebase::App) -> litebase::App {
    register_with(app, config::PokerConfig::from_env().unwrap_or_default())
}

/// [`register`] with explicit settings.
pub fn register_with(app: litebase::App, config: config::PokerConfig) -> litebase::App {
    room::store::set_room_ttl(config.room_ttl_secs);
    let assets = Arc::new(assets::Assets::new());
    // The templates are compiled into the binary; a unit test parses them all, so
    // a failure here is a build defect, not something input can cause.
    let renderer = Arc::new(
        render::Renderer::new(assets.urls()).expect("embedded templates parse (see render tests)"),
    );
    let hubs = Arc::new(room::hub::Hubs::new(renderer.clone()));
    let capacity = Arc::new(room::capacity::Capacity::for_process(config.max_ws));
    let ws_max = capacity.max();
    let sweep = room::sweeper::SweepTrigger::default();
    let app = room::admin_sync::register(app, hubs.clone(), sweep.clone());
    let on_serve_hubs = hubs.clone();
    app.routes(move |cfg| {
        room::ws::configure(cfg, hubs.clone(), capacity.clone());
        pages::configure(cfg, renderer.clone(), assets.clone());
    })
    .on_serve(move |core| {
        let hubs = on_serve_hubs.clone();
        room::sweeper::start(
            core.db.clone(),
            hubs.clone(),
            config.sweep_interval(),
            sweep.clone(),
        );
        core.add_metrics_source(Arc::new(move || metrics::render(hubs.live_count(), ws_max)));
    })
    .about("Real-time planning poker: rooms, hidden votes, reveal, repeat.")
    .version(env!("CARGO_PKG_VERSION"))
}
