//! HTTP handlers: thin adapters between requests and the modules that do the work.

pub(crate) mod auth;
pub(crate) mod backups;
pub mod body;
mod collections;
mod crons;
mod files;
mod health;
mod logs;
mod mfa;
pub(crate) mod middleware;
mod oauth2;
mod realtime;
pub(crate) mod records;
mod settings;
mod totp;
mod webauthn;
mod webhooks;

use actix_web::web;

/// Mounts litebase's own routes under `/api`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .configure(auth::configure)
        .configure(oauth2::configure)
        .configure(totp::configure)
        .configure(webauthn::configure)
        .configure(collections::configure)
        .configure(records::configure)
        .configure(settings::configure)
        .configure(logs::configure)
        .configure(backups::configure)
        .configure(crons::configure)
        .configure(files::configure)
        .configure(realtime::configure)
        .configure(webhooks::configure)
        .configure(crate::metrics::configure);
}

/// The query string as a JSON object of strings (what `ListQuery` and
/// `@request.query.*` read); an unparsable one is PocketBase's generic 400.
pub(crate) fn query_map(
    query_string: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, crate::error::ApiError> {
    let pairs = web::Query::<std::collections::HashMap<String, String>>::from_query(query_string)
        .map_err(|_| crate::error::ApiError::generic_bad_request())?;
    Ok(pairs
        .into_inner()
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect())
}
