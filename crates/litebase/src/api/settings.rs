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
        .route("/api/settings/test/email", web::post().to(test_email));
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
