//! OAuth2 endpoints with PocketBase's paths: `auth-with-oauth2` of every auth
//! collection, and `/api/oauth2-redirect`, where providers send the browser
//! back (GET, or POST for `form_post` providers such as Apple) and which hands
//! the code to the SDK's realtime `@oauth2` subscription. The sign-in itself is
//! `core::oauth2`.

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::auth::auth_body;
use crate::auth::request::Auth;
use crate::core::Core;
use crate::core::auth::{auth_collection, issue_auth_token};
use crate::core::oauth2::{self as flow, SignInForm};
use crate::error::ApiError;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/collections/{collection}/auth-with-oauth2",
        web::post().to(auth_with_oauth2),
    )
    .route(
        "/api/collections/meta/oauth2-providers",
        web::get().to(list_providers),
    )
    .route("/api/oauth2-redirect", web::get().to(redirect_get))
    .route("/api/oauth2-redirect", web::post().to(redirect_post));
}

async fn auth_with_oauth2(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    core.limiter
        .check(core.client_ip(&req), "auth-with-oauth2")?;
    let c = auth_collection(&core, &name)?;
    flow::ensure_enabled(&c)?;
    let body =
        super::body::read_object(req.headers(), payload, core.config.serve.body_limit).await?;
    let form = SignInForm::parse(&c, &body)?;
    let caller = super::records::caller(auth, &req)?;
    let mfa_id = super::mfa::mfa_id_of(&req, &body);
    let signed = flow::sign_in(&core, &c, &caller, form).await?;
    // With MFA on, OAuth2 may be the first factor (401 {mfaId}) or the second.
    let oauth2 = crate::core::mfa::method::OAUTH2;
    if let Some(ask) =
        super::mfa::second_factor_wanted(&core, &c, &signed.row, oauth2, &mfa_id).await?
    {
        return Ok(ask);
    }
    let token = issue_auth_token(&core, &c, &signed.row, None, true)?;
    let answer = auth_body(&core, &c, &signed.row, &req, token, Some(signed.meta)).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Every provider a collection may configure (superusers only; the SDK's
/// `collections.getAllOAuth2Providers()`), in the admin UI's order.
async fn list_providers(auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let all: Vec<Value> = crate::oauth2::catalog::NAMES
        .iter()
        .filter_map(|name| {
            let kind = crate::oauth2::catalog::Kind::by_name(name)?;
            Some(serde_json::json!({"name": name, "displayName": kind.defaults().display_name, "logo": ""}))
        })
        .collect();
    Ok(HttpResponse::Ok().json(all))
}

fn text<'a>(m: &'a Map<String, Value>, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The page the provider's window ends on (the SDK closes it by itself).
fn page(done: bool) -> HttpResponse {
    let message = if done {
        "Auth completed. You can close this window and go back to the app."
    } else {
        "Failed to authenticate. You can close this window and go back to the app to try again."
    };
    HttpResponse::Ok()
        .insert_header(ContentType::html())
        .insert_header(("Cache-Control", "no-store"))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>OAuth2</title></head>\
             <body><p>{message}</p><script>window.close()</script></body></html>"
        ))
}

fn finish(core: &Core, req: &HttpRequest, data: &Map<String, Value>) -> HttpResponse {
    let (state, code, error) = (text(data, "state"), text(data, "code"), text(data, "error"));
    let apple_user = text(data, "user");
    if !apple_user.is_empty() && error.is_empty() && !code.is_empty() {
        flow::remember_apple_name(code, apple_user);
    }
    page(flow::redirect(
        core,
        core.client_ip(req),
        state,
        code,
        error,
    ))
}

async fn redirect_get(core: web::Data<Core>, req: HttpRequest) -> HttpResponse {
    let data = super::query_map(req.query_string()).unwrap_or_default();
    finish(&core, &req, &data)
}

async fn redirect_post(
    core: web::Data<Core>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    match super::body::read_object(req.headers(), payload, core.config.serve.body_limit).await {
        Ok(data) => finish(&core, &req, &data),
        Err(_) => page(false),
    }
}
