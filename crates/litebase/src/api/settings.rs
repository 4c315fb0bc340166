//! `/api/settings`: PocketBase's settings endpoints (the JS SDK's
//! `pb.settings.getAll()`, `update()`, `testEmail()`), superusers only.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::request::Auth;
use crate::core::Core;
use crate::core::settings;
use crate::error::ApiError;

/// Mounts the settings routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/settings", web::get().to(get_all))
        .route("/api/settings", web::patch().to(update))
        .route("/api/settings/test/email", web::post().to(test_email))
        .route("/api/settings/test/s3", web::post().to(test_s3));
}

async fn get_all(core: web::Data<Core>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(settings::load(&core)))
}

async fn update(
    core: web::Data<Core>,
    auth: Auth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let saved = settings::update(&core, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(saved))
}

#[derive(Deserialize)]
struct TestEmail {
    #[serde(default)]
    email: String,
    #[serde(default)]
    template: String,
}

async fn test_email(
    core: web::Data<Core>,
    auth: Auth,
    body: web::Json<TestEmail>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    settings::send_test_mail(&core, body.email.trim(), &body.template).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct TestS3 {
    #[serde(default)]
    filesystem: String,
}

/// PocketBase's S3 check: with the saved settings, upload a small file, then
/// list and delete it. `filesystem` is `storage` (uploaded files) or `backups`
/// (litebase keeps backups locally, so that one is never enabled).
async fn test_s3(
    core: web::Data<Core>,
    auth: Auth,
    body: web::Json<TestS3>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let problem = match body.filesystem.as_str() {
        "" => Some(("validation_required", "Cannot be blank.")),
        "storage" | "backups" => None,
        _ => Some(("validation_in_invalid", "Must be a valid value.")),
    };
    if let Some((code, message)) = problem {
        let mut data = serde_json::Map::new();
        data.insert(
            "filesystem".into(),
            serde_json::json!({"code": code, "message": message}),
        );
        return Err(ApiError::bad_request("Failed to test the S3 filesystem.").with_data(data));
    }
    let s3 = core.settings.get().s3.clone();
    let raw = |e: String| {
        ApiError::bad_request(format!(
            "Failed to test the S3 filesystem. Raw error: \n{e}"
        ))
    };
    if body.filesystem == "backups" || !s3.enabled {
        return Err(raw("S3 storage filesystem is not enabled".into()));
    }
    web::block(move || {
        let storage = crate::files::s3::S3Storage::new(&s3)
            .map_err(|e| format!("failed to initialize the S3 filesystem: {e}"))?;
        crate::files::storage::Storage::check(&storage).map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(raw)?;
    Ok(HttpResponse::NoContent().finish())
}
