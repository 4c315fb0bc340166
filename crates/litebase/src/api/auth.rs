//! Auth endpoints (superusers for now): sign in with a password, refresh a token.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, json};

use crate::auth::request::Auth;
use crate::auth::{AuthError, superusers, token};
use crate::core::{Core, SUPERUSERS_COLLECTION_ID};
use crate::error::ApiError;

/// How long a superuser token lives (PocketBase's default: one day).
const SUPERUSER_TOKEN_TTL: u64 = 24 * 60 * 60;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/collections/{collection}/auth-with-password",
        web::post().to(auth_with_password),
    )
    .route(
        "/api/collections/{collection}/auth-refresh",
        web::post().to(auth_refresh),
    );
}

fn is_superusers(collection: &str) -> bool {
    collection == "_superusers" || collection == SUPERUSERS_COLLECTION_ID
}

#[derive(Deserialize)]
struct PasswordLogin {
    #[serde(default)]
    identity: String,
    #[serde(default)]
    password: String,
}

fn required(fields: &[(&str, &str)]) -> Result<(), ApiError> {
    let mut data = Map::new();
    for (name, value) in fields {
        if value.trim().is_empty() {
            data.insert(
                (*name).into(),
                json!({"code": "validation_required", "message": "Cannot be blank."}),
            );
        }
    }
    if data.is_empty() {
        Ok(())
    } else {
        Err(
            ApiError::bad_request("An error occurred while validating the submitted data.")
                .with_data(data),
        )
    }
}

async fn auth_with_password(
    core: web::Data<Core>,
    collection: web::Path<String>,
    body: web::Json<PasswordLogin>,
) -> Result<HttpResponse, ApiError> {
    if !is_superusers(&collection) {
        return Err(ApiError::not_found());
    }
    required(&[("identity", &body.identity), ("password", &body.password)])?;
    superusers::verify_credentials(&core.db, &body.identity, &body.password).await?;
    let row = superusers::by_email(&core.db, &body.identity)
        .await?
        .ok_or(AuthError::BadCredentials)?;
    respond(&core, row)
}

async fn auth_refresh(
    core: web::Data<Core>,
    collection: web::Path<String>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let record = match &auth {
        Auth::Superuser(r) if is_superusers(&collection) => r,
        Auth::Guest => {
            return Err(ApiError::unauthorized(
                "The request requires valid record authorization token.",
            ));
        }
        _ => return Err(ApiError::forbidden()),
    };
    let row = superusers::by_id(&core.db, &record.id)
        .await?
        .ok_or(AuthError::BadToken)?;
    respond(&core, row)
}

fn respond(core: &Core, row: superusers::SuperuserRow) -> Result<HttpResponse, ApiError> {
    let id = row
        .record
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let token = token::issue(
        core.superusers_secret(),
        &row.token_key,
        id,
        SUPERUSERS_COLLECTION_ID,
        SUPERUSER_TOKEN_TTL,
    )?;
    Ok(HttpResponse::Ok().json(json!({"token": token, "record": row.record})))
}
