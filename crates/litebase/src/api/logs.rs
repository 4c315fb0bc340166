//! `/api/logs`: the request logs (the JS SDK's `pb.logs.getList()`,
//! `getOne()`, `getStats()`), superusers only.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::request::Auth;
use crate::core::Core;
use crate::core::logs as store;
use crate::error::ApiError;
use crate::records::read::ListQuery;

/// Mounts the log routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/logs", web::get().to(list))
        .route("/api/logs/stats", web::get().to(stats))
        .route("/api/logs/{id}", web::get().to(view));
}

async fn list(
    core: web::Data<Core>,
    auth: Auth,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let query = ListQuery::parse(&super::query_map(req.query_string())?)?;
    Ok(HttpResponse::Ok().json(store::list(&core, query).await?))
}

async fn view(
    core: web::Data<Core>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(store::view(&core, id.into_inner()).await?))
}

async fn stats(
    core: web::Data<Core>,
    auth: Auth,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let query = super::query_map(req.query_string())?;
    let filter = crate::records::read::param(&query, "filter");
    Ok(HttpResponse::Ok().json(store::stats(&core, filter).await?))
}
