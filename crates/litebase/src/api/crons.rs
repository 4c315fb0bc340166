//! `/api/crons`: PocketBase's cron endpoints (the JS SDK's
//! `pb.crons.getFullList()` and `pb.crons.run(id)`), superusers only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::auth::request::Auth;
use crate::core::Core;
use crate::cron::Started;
use crate::error::ApiError;

/// Mounts the cron routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/crons", web::get().to(list))
        .route("/api/crons/{id}", web::post().to(run));
}

/// Every job as `[{id, expression}]`, the built-in `__pb…` ones last.
async fn list(core: web::Data<Core>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(core.crons.list()))
}

/// Starts a job now without waiting for it (204); an unknown id is a 404.
/// A job still running is not started twice (still 204: the job runs).
async fn run(
    core: web::Data<Core>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    match core.crons.run(&id) {
        Started::Unknown => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "Missing or invalid cron job.",
        )),
        Started::Yes | Started::AlreadyRunning => Ok(HttpResponse::NoContent().finish()),
    }
}
