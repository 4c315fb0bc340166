//! Passkeys in the admin UI: a superuser adds or removes passkeys on
//! `/_/account`, and signs in with one on `/_/login` (as the first factor, or
//! as the second after the password when `_superusers` has MFA on). The
//! browser side is the small passkey block of `admin.js`; these JSON routes
//! call the same `core::webauthn` service as the API's.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::{self, AdminSession, SESSION_COOKIE};
use crate::core::Core;
use crate::core::auth::{auth_collection, check_auth_rule, issue_auth_token, load_row};
use crate::core::mfa::{self, Outcome, method};
use crate::core::webauthn::{self, Site};
use crate::error::ApiError;
use crate::records::accounts;

/// Mounts the passkey routes (the `/login/passkey-*` ones are public).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/account/passkeys/register-begin",
        web::post().to(register_begin),
    )
    .route(
        "/account/passkeys/register-finish",
        web::post().to(register_finish),
    )
    .route("/account/passkeys/{id}/delete", web::post().to(remove))
    .route("/login/passkey-begin", web::post().to(sign_in_begin))
    .route("/login/passkey-finish", web::post().to(sign_in_finish));
}

fn site_of(req: &HttpRequest) -> Result<Site, ApiError> {
    let info = req.connection_info();
    Site::of(info.scheme(), info.host())
}

async fn register_begin(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, "_superusers")?;
    let row = load_row(&core, &c, session.id())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (ceremony, options) = webauthn::register_begin(&core, &site_of(&req)?, &c, &row).await?;
    Ok(HttpResponse::Ok().json(json!({"ceremonyId": ceremony, "options": options})))
}

/// The JSON the browser sends back after a ceremony.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Finish {
    ceremony_id: String,
    credential: Value,
    #[serde(default)]
    name: String,
    #[serde(default)]
    mfa_id: String,
    #[serde(default)]
    next: String,
}

async fn register_finish(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    body: web::Json<Finish>,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, "_superusers")?;
    let created = webauthn::register_finish(
        &core,
        &site_of(&req)?,
        &c,
        session.id(),
        &body.ceremony_id,
        &body.credential,
        &body.name,
    )
    .await?;
    Ok(HttpResponse::Ok().json(created))
}

async fn remove(
    core: web::Data<Core>,
    session: AdminSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, "_superusers")?;
    webauthn::remove(&core, &c, session.id(), &id).await?;
    Ok(super::render::see_other("/_/account"))
}

/// Who signs in: the MFA session's superuser (second step) or the email typed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Begin {
    #[serde(default)]
    email: String,
    #[serde(default)]
    mfa_id: String,
}

async fn sign_in_begin(
    req: HttpRequest,
    core: web::Data<Core>,
    body: web::Json<Begin>,
) -> Result<HttpResponse, ApiError> {
    core.limiter.check(core.client_ip(&req), "admin-login")?;
    let c = auth_collection(&core, "_superusers")?;
    let record_id = if body.mfa_id.is_empty() {
        let (c2, email) = (c.clone(), body.email.clone());
        core.db
            .read(move |conn| accounts::by_email(conn, &c2, &email))
            .await?
            .map(|r| r.id)
    } else {
        mfa::record_of(&core, &c, &body.mfa_id).await?
    };
    let record_id = record_id
        .ok_or_else(|| ApiError::bad_request("No passkey is registered for this account."))?;
    let (ceremony, options) = webauthn::auth_begin(&core, &site_of(&req)?, &c, &record_id).await?;
    Ok(HttpResponse::Ok().json(json!({"ceremonyId": ceremony, "options": options})))
}

/// `{next}` with the session cookie when signed in; `{mfaId}` when MFA wants
/// the password too (the page then asks for it).
async fn sign_in_finish(
    req: HttpRequest,
    core: web::Data<Core>,
    body: web::Json<Finish>,
) -> Result<HttpResponse, ApiError> {
    core.limiter.check(core.client_ip(&req), "admin-login")?;
    let c = auth_collection(&core, "_superusers")?;
    let record_id = webauthn::auth_finish(
        &core,
        &site_of(&req)?,
        &c,
        &body.ceremony_id,
        &body.credential,
    )
    .await?;
    let row = load_row(&core, &c, &record_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    check_auth_rule(&core, &c, &row).await?;
    match mfa::check(&core, &c, &row, method::WEBAUTHN, &body.mfa_id).await? {
        Outcome::SecondFactor(id) => {
            Ok(HttpResponse::build(StatusCode::UNAUTHORIZED).json(json!({ "mfaId": id })))
        }
        Outcome::SignedIn => {
            let token = issue_auth_token(&core, &c, &row, None, true)?;
            let max_age = c.auth.as_ref().map_or(86_400, |a| a.auth_token.duration);
            let cookie = session::set_cookie(&req, SESSION_COOKIE, &token, max_age);
            let next = session::safe_next(Some(&body.next));
            Ok(HttpResponse::Ok()
                .insert_header((header::SET_COOKIE, cookie))
                .json(json!({ "next": next })))
        }
    }
}
