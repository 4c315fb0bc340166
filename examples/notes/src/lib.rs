//! notes: a small app on litebase, kept small so it reads as a guide to
//! extending litebase.
//!
//! The `notes` collection comes from the SQL migration in `migrations/`
//! (`main.rs` embeds it). Everything else the app adds goes through
//! [`register`]: a record hook ([`title`]), an after-commit subscriber
//! ([`activity`]) and a custom route ([`summary`]).

pub mod activity;
pub mod summary;
pub mod title;

use std::sync::Arc;

use litebase::hooks::RecordAction;

/// The collection the migration creates; hooks and subscribers are registered
/// for it by name.
pub const COLLECTION: &str = "notes";

/// Adds the notes app's hook, subscriber and route to a litebase app, so `main`
/// (or a test) only has to add the migrations and run it.
///
/// ```no_run
/// notes::register(litebase::App::new("notes")).run();
/// ```
pub fn register(app: litebase::App) -> litebase::App {
    let activity = Arc::new(activity::Activity::default());
    let mut app = app
        // The same rule for a new title and a changed one.
        .on_record(RecordAction::Create, Some(COLLECTION), title::normalise)
        .on_record(RecordAction::Update, Some(COLLECTION), title::normalise);
    // An after-commit subscriber is registered per action.
    for action in [
        RecordAction::Create,
        RecordAction::Update,
        RecordAction::Delete,
    ] {
        let activity = activity.clone();
        app = app.after_commit(action, Some(COLLECTION), move |change| {
            activity.record(change)
        });
    }
    app.routes(move |cfg| summary::configure(cfg, activity.clone()))
}
