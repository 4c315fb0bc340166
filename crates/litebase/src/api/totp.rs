//! Authenticator-app (TOTP) endpoints of every auth collection, litebase's
//! extra beside PocketBase's factors:
//!
//! | Route | Who | What |
//! |---|---|---|
//! | `GET …/totp` | the record | `{enabled, pending, recoveryCodesLeft}` |
//! | `POST …/totp/setup` | the record | `{secret, uri, qr}` (QR code as SVG) |
//! | `POST …/totp/confirm` `{code}` | the record | `{recoveryCodes}` |
//! | `DELETE …/totp` `{code}` | the record | 204 |
//! | `POST …/auth-with-totp` `{mfaId, code}` | anyone | the MFA's second factor |

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::auth::{limit, read_body, required, text};
use crate::auth::AuthError;
use crate::auth::request::Auth;
use crate::core::Core;
use crate::core::auth::{auth_collection, check_auth_rule, load_row};
use crate::core::mfa::{self, method};
use crate::core::totp;
use crate::error::ApiError;

/// Mounts the TOTP routes under `/api/collections/{collection}`.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let base = "/api/collections/{collection}";
    cfg.route(&format!("{base}/totp"), web::get().to(status))
        .route(&format!("{base}/totp"), web::delete().to(remove))
        .route(&format!("{base}/totp/setup"), web::post().to(setup))
        .route(&format!("{base}/totp/confirm"), web::post().to(confirm))
        .route(
            &format!("{base}/auth-with-totp"),
            web::post().to(auth_with_totp),
        );
}

async fn status(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let me = auth.record_of(&c.id)?;
    Ok(HttpResponse::Ok().json(totp::status(&core, &c, &me.id).await?))
}

async fn setup(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let me = auth.record_of(&c.id)?;
    let row = load_row(&core, &c, &me.id)
        .await?
        .ok_or(AuthError::BadToken)?;
    Ok(HttpResponse::Ok().json(totp::setup(&core, &c, &row).await?))
}

async fn confirm(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "totp-confirm")?;
    let c = auth_collection(&core, &name)?;
    let me = auth.record_of(&c.id)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["code"])?;
    let codes = totp::confirm(&core, &c, &me.id, text(&body, "code")).await?;
    Ok(HttpResponse::Ok().json(json!({ "recoveryCodes": codes })))
}

async fn remove(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "totp-remove")?;
    let c = auth_collection(&core, &name)?;
    let me = auth.record_of(&c.id)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["code"])?;
    totp::remove(&core, &c, &me.id, text(&body, "code")).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The second factor of an MFA session: a code of the record's authenticator
/// app, or one of its recovery codes. The session (from a first factor) says
/// whose code it is; the answer is the token, as any completed sign-in.
async fn auth_with_totp(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "auth-with-totp")?;
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["mfaId", "code"])?;
    let mfa_id = text(&body, "mfaId");
    let invalid = || ApiError::bad_request("Invalid or expired MFA session.");
    let record_id = mfa::record_of(&core, &c, mfa_id)
        .await?
        .ok_or_else(invalid)?;
    totp::verify(&core, &c, &record_id, text(&body, "code")).await?;
    let row = load_row(&core, &c, &record_id).await?.ok_or_else(invalid)?;
    check_auth_rule(&core, &c, &row).await?;
    super::mfa::sign_in_answer(&core, &c, &row, &req, method::TOTP, mfa_id).await
}
