//! HTTP handlers: thin adapters between requests and the modules that do the work.

mod auth;
mod collections;
mod health;
mod records;
pub(crate) mod middleware;

use actix_web::web;

/// Mounts litebase's own routes under `/api`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .configure(auth::configure)
        .configure(collections::configure)
        .configure(records::configure);
}
