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
pub mod story_pages;
pub mod tracker;

use std::sync::Arc;

/// Adds poker's routes and hooks to a litebase app, with the settings of the
/// environment (`main` checks them first and refuses to start on a bad value).
pub fn register(app: litebase::App) -> litebase::App {
    register_with(app, config::PokerConfig::from_env().unwrap_or_default())
}

/// [`register`] with explicit settings.
pub fn register_with(app: litebase::App, config: config::PokerConfig) -> litebase::App {
    room::store::set_room_ttl(config.room_ttl_secs);
    if let Some(shard) = config.shard {
        room::shard::set_this_node(shard);
    }
    let assets = Arc::new(assets::embedded());
    // The templates are compiled into the binary; a unit test parses them all, so
    // a failure here is a build defect, not something input can cause.
    let renderer = Arc::new(
        render::Renderer::new(assets.urls()).expect("embedded templates parse (see render tests)"),
    );
    let hubs = Arc::new(room::hub::Hubs::new(renderer.clone()).with_webhook_policy(
        room::results_hook::Policy {
            allow_private: config.webhook_allow_private,
        },
    ));
    let capacity = Arc::new(room::capacity::Capacity::for_process(config.max_ws));
    let ws_max = capacity.max();
    let sweep = room::sweeper::SweepTrigger::default();
    let app = room::admin_sync::register(app, hubs.clone(), sweep.clone());
    let app = room::results_hook::register(app);
    let app = room::sweeper::register(app, hubs.clone(), config.sweep_interval(), sweep).setting(
        litebase::settings::AppSetting {
            key: room::sweeper::ROOM_TTL_SETTING,
            label_en: "Room expiry (seconds without activity)",
            label_fr: "Expiration des salles (secondes sans activité)",
            kind: litebase::settings::SettingKind::Integer {
                min: 1,
                max: config::MAX_SECONDS as i64,
            },
            default: serde_json::json!(config.room_ttl_secs),
        },
    );
    let on_serve_hubs = hubs.clone();
    let restored_hubs = hubs.clone();
    app.routes(move |cfg| {
        room::ws::configure(cfg, hubs.clone(), capacity.clone());
        pages::configure(cfg, renderer.clone(), assets.clone());
    })
    .on_serve(move |core| {
        let hubs = on_serve_hubs.clone();
        core.add_metrics_source(Arc::new(move || metrics::render(hubs.live_count(), ws_max)));
    })
    // A restored backup replaces the rows under every live room: each reloads
    // from the restored rows (players stay connected), and rooms that no longer
    // exist close with "deleted".
    .after_restore(move |_| restored_hubs.reload_all())
    .about("Real-time planning poker: rooms, hidden votes, reveal, repeat.")
    .version(env!("CARGO_PKG_VERSION"))
}
