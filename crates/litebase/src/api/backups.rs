//! `/api/backups`: PocketBase's backup endpoints (the JS SDK's
//! `pb.backups.getFullList()`, `create()`, `delete()`, `restore()`,
//! `getDownloadURL()`), superusers only.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::request::Auth;
use crate::auth::token::Purpose;
use crate::core::Core;
use crate::core::backups;
use crate::error::ApiError;

/// Mounts the backup routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/backups", web::get().to(list))
        .route("/api/backups", web::post().to(create))
        .route("/api/backups/{key}", web::get().to(download))
        .route("/api/backups/{key}", web::delete().to(delete))
        .route("/api/backups/{key}/restore", web::post().to(restore));
}

async fn list(core: web::Data<Core>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(backups::list(&core).await?))
}

#[derive(Deserialize, Default)]
struct CreateBody {
    #[serde(default)]
    name: Option<String>,
}

async fn create(
    core: web::Data<Core>,
    auth: Auth,
    body: Option<web::Json<CreateBody>>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    backups::create(&core, body.name.as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A download is allowed with a superuser's `Authorization` header, or with
/// `?token=` holding a superuser's file token (or auth token), so a plain
/// browser link works.
async fn download(
    core: web::Data<Core>,
    auth: Auth,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let query = super::query_map(req.query_string())?;
    let link_token = query
        .get("token")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let allowed = auth.is_superuser()
        || (!link_token.is_empty()
            && (core
                .records
                .resolve_as(link_token, Purpose::File)
                .await
                .is_superuser()
                || core.records.resolve(link_token).await.is_superuser()));
    if !allowed {
        auth.require_superuser()?;
        return Err(ApiError::forbidden());
    }
    backups::file_response(&core, &key).await
}

async fn delete(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    backups::delete(&core, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn restore(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    backups::restore(&core, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}
