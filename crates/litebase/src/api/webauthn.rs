//! Passkey (WebAuthn) endpoints of every auth collection, litebase's extra:
//!
//! | Route | Who | What |
//! |---|---|---|
//! | `POST …/webauthn/register-begin` | the record | `{ceremonyId, options}` for `navigator.credentials.create` |
//! | `POST …/webauthn/register-finish` `{ceremonyId, credential, name}` | the record | the new passkey `{id, name, created}` |
//! | `GET …/webauthn/credentials` | the record | its passkeys |
//! | `DELETE …/webauthn/credentials/{id}` | the record | 204 |
//! | `POST …/auth-with-webauthn-begin` `{identity}` or `{mfaId}` | anyone | `{ceremonyId, options}` for `navigator.credentials.get` |
//! | `POST …/auth-with-webauthn-finish` `{ceremonyId, credential, mfaId?}` | anyone | a sign-in answer (token, or 401 `{mfaId}`) |
//!
//! `credential` is the browser's `PublicKeyCredential` as JSON (binary fields
//! base64url), as `credential.toJSON()` gives it.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::auth::{limit, read_body, required, text};
use crate::auth::AuthError;
use crate::auth::request::Auth;
use crate::core::Core;
use crate::core::auth::{auth_collection, check_auth_rule, load_row};
use crate::core::mfa::{self, method};
use crate::core::webauthn::{self, Site};
use crate::error::ApiError;
use crate::records::accounts;

/// Mounts the passkey routes under `/api/collections/{collection}`.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let base = "/api/collections/{collection}";
    cfg.route(
        &format!("{base}/webauthn/register-begin"),
        web::post().to(register_begin),
    )
    .route(
        &format!("{base}/webauthn/register-finish"),
        web::post().to(register_finish),
    )
    .route(&format!("{base}/webauthn/credentials"), web::get().to(list))
    .route(
        &format!("{base}/webauthn/credentials/{{id}}"),
        web::delete().to(remove),
    )
    .route(
        &format!("{base}/auth-with-webauthn-begin"),
        web::post().to(auth_begin),
    )
    .route(
        &format!("{base}/auth-with-webauthn-finish"),
        web::post().to(auth_finish),
    );
}

/// The site the browser is on, from the request (see [`crate::core::webauthn`]).
pub(crate) fn site_of(req: &HttpRequest) -> Result<Site, ApiError> {
    let info = req.connection_info();
    Site::of(info.scheme(), info.host())
}

async fn register_begin(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let id = auth.record_of(&c.id)?.id.clone();
    let row = load_row(&core, &c, &id).await?.ok_or(AuthError::BadToken)?;
    let (ceremony, options) = webauthn::register_begin(&core, &site_of(&req)?, &c, &row).await?;
    Ok(HttpResponse::Ok().json(json!({"ceremonyId": ceremony, "options": options})))
}

fn credential_of(body: &serde_json::Map<String, Value>) -> Result<&Value, ApiError> {
    body.get("credential")
        .filter(|v| v.is_object())
        .ok_or_else(|| {
            crate::core::auth::field_problem(
                "credential",
                "validation_required",
                "Cannot be blank.",
            )
        })
}

async fn register_finish(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let id = auth.record_of(&c.id)?.id.clone();
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["ceremonyId"])?;
    let credential = credential_of(&body)?;
    let site = site_of(&req)?;
    let created = webauthn::register_finish(
        &core,
        &site,
        &c,
        &id,
        text(&body, "ceremonyId"),
        credential,
        text(&body, "name"),
    )
    .await?;
    Ok(HttpResponse::Ok().json(created))
}

async fn list(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let id = auth.record_of(&c.id)?.id.clone();
    Ok(HttpResponse::Ok().json(webauthn::list(&core, &c, &id).await?))
}

async fn remove(
    core: web::Data<Core>,
    path: web::Path<(String, String)>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let (name, key) = path.into_inner();
    let c = auth_collection(&core, &name)?;
    let id = auth.record_of(&c.id)?.id.clone();
    webauthn::remove(&core, &c, &id, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Whose passkeys a sign-in may use: the MFA session's record (second factor)
/// or the record of `identity` (first factor).
async fn record_for_sign_in(
    core: &Core,
    c: &crate::schema::Collection,
    body: &serde_json::Map<String, Value>,
) -> Result<String, ApiError> {
    let mfa_id = text(body, "mfaId");
    if !mfa_id.is_empty() {
        return mfa::record_of(core, c, mfa_id)
            .await?
            .ok_or_else(|| ApiError::bad_request("Invalid or expired MFA session."));
    }
    required(body, &["identity"])?;
    let (c2, identity) = (
        std::sync::Arc::new(c.clone()),
        text(body, "identity").to_string(),
    );
    let row = core
        .db
        .read(move |conn| accounts::by_identity(conn, &c2, &identity, None))
        .await?;
    row.map(|r| r.id)
        .ok_or_else(|| ApiError::bad_request("No passkey is registered for this account."))
}

async fn auth_begin(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "auth-with-webauthn")?;
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    let record_id = record_for_sign_in(&core, &c, &body).await?;
    let (ceremony, options) = webauthn::auth_begin(&core, &site_of(&req)?, &c, &record_id).await?;
    Ok(HttpResponse::Ok().json(json!({"ceremonyId": ceremony, "options": options})))
}

async fn auth_finish(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "auth-with-webauthn")?;
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["ceremonyId"])?;
    let credential = credential_of(&body)?;
    let site = site_of(&req)?;
    let record_id =
        webauthn::auth_finish(&core, &site, &c, text(&body, "ceremonyId"), credential).await?;
    let row = load_row(&core, &c, &record_id)
        .await?
        .ok_or_else(|| ApiError::bad_request("The passkey could not be verified."))?;
    check_auth_rule(&core, &c, &row).await?;
    let mfa_id = super::mfa::mfa_id_of(&req, &body);
    super::mfa::sign_in_answer(&core, &c, &row, &req, method::WEBAUTHN, &mfa_id).await
}
