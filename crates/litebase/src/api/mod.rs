//! HTTP handlers: thin adapters between requests and the modules that do the work.

mod auth;
pub mod body;
mod collections;
mod health;
pub(crate) mod middleware;
pub mod ratelimit;
mod records;

use actix_web::web;

/// Mounts litebase's own routes under `/api`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .configure(auth::configure)
        .configure(collections::configure)
        .configure(records::configure)
        .configure(crate::realtime::sse::configure)
        .configure(crate::metrics::configure);
}
