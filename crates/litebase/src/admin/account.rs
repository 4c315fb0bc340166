//! `/_/account`: the signed-in superuser's own account, where they add an
//! authenticator app (TOTP: QR code, first code, recovery codes shown once) or
//! remove it with a current code. The same `core::totp` service as the API's.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tera::Context;

use super::i18n::{request_lang, text};
use super::render::Page;
use super::session::AdminSession;
use crate::core::Core;
use crate::core::auth::{auth_collection, load_row};
use crate::core::totp::{self, Enrolment};
use crate::error::ApiError;
use crate::records::accounts::AuthRow;
use crate::schema::Collection;

/// Mounts `/_/account` and its TOTP forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/account", web::get().to(index))
        .route("/account/totp/setup", web::post().to(setup))
        .route("/account/totp/confirm", web::post().to(confirm))
        .route("/account/totp/remove", web::post().to(remove))
        .route("/account/mfa", web::post().to(toggle_mfa));
}

/// The MFA switch's field.
#[derive(Debug, Default, Deserialize)]
struct MfaForm {
    #[serde(default)]
    enabled: String,
}

/// Turns MFA for `_superusers` on or off. Turning it on needs a second factor
/// of the superuser's own (an app or a passkey), or they could lock themselves out.
async fn toggle_mfa(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<MfaForm>,
) -> Result<HttpResponse, ApiError> {
    let (c, row) = me(&core, &session).await?;
    let enable = form.enabled == "true";
    if enable {
        let has_app = totp::status(&core, &c, &row.id).await?.enabled;
        let has_passkey = !crate::core::webauthn::list(&core, &c, &row.id)
            .await?
            .is_empty();
        if !has_app && !has_passkey {
            let shown = Shown {
                error: Some(text(request_lang(&req), "mfa_needs_factor")),
                ..Shown::default()
            };
            return page(&req, &core, &session, StatusCode::BAD_REQUEST, shown).await;
        }
    }
    let mfa = c.auth.as_ref().map(|a| a.mfa.clone()).unwrap_or_default();
    let body = serde_json::json!({"mfa": {
        "enabled": enable,
        "duration": mfa.duration.clamp(10, 86_400),
        "rule": mfa.rule,
    }});
    crate::core::collections::update_collection(&core, &session.auth(), &c.id, body).await?;
    Ok(super::render::see_other("/_/account"))
}

/// The code field of the confirm and remove forms.
#[derive(Debug, Default, Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

/// What the page shows besides the TOTP status.
#[derive(Default)]
struct Shown<'a> {
    enrolment: Option<Enrolment>,
    recovery_codes: Vec<String>,
    error: Option<&'a str>,
}

async fn me(
    core: &Core,
    session: &AdminSession,
) -> Result<(std::sync::Arc<Collection>, AuthRow), ApiError> {
    let c = auth_collection(core, "_superusers")?;
    let row = load_row(core, &c, session.id())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((c, row))
}

async fn page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    status: StatusCode,
    shown: Shown<'_>,
) -> Result<HttpResponse, ApiError> {
    let (c, row) = me(core, session).await?;
    let totp = totp::status(core, &c, &row.id).await?;
    let enrolment = match shown.enrolment {
        Some(e) => Some(e),
        None if totp.pending => totp::pending(core, &c, &row).await?,
        None => None,
    };
    let mfa_on = c.auth.as_ref().is_some_and(|a| a.mfa.enabled);
    let mut ctx = Context::new();
    ctx.insert("account_email", row.email());
    ctx.insert("totp", &totp);
    ctx.insert("mfa_on", &mfa_on);
    ctx.insert("enrolment", &enrolment);
    ctx.insert("recovery_codes", &shown.recovery_codes);
    ctx.insert("error", &shown.error);
    let passkeys = crate::core::webauthn::list(core, &c, &row.id).await?;
    ctx.insert("passkeys", &passkeys);
    Page::new(req, "account/index.html")
        .session(session)
        .status(status)
        .render(ctx)
}

async fn index(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    _query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    page(&req, &core, &session, StatusCode::OK, Shown::default()).await
}

async fn setup(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    let (c, row) = me(&core, &session).await?;
    let shown = match totp::setup(&core, &c, &row).await {
        Ok(enrolment) => Shown {
            enrolment: Some(enrolment),
            ..Shown::default()
        },
        Err(e) if e.status().is_client_error() => Shown {
            error: Some(text(request_lang(&req), "totp_already_on")),
            ..Shown::default()
        },
        Err(e) => return Err(e),
    };
    page(&req, &core, &session, StatusCode::OK, shown).await
}

/// The page again with a refusal of the code (wrong, or locked out).
fn code_refused(req: &HttpRequest, err: &ApiError) -> (StatusCode, &'static str) {
    let lang = request_lang(req);
    if err.status() == StatusCode::TOO_MANY_REQUESTS {
        (err.status(), text(lang, "too_many_attempts"))
    } else {
        (StatusCode::BAD_REQUEST, text(lang, "mfa_bad_code"))
    }
}

async fn confirm(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, ApiError> {
    let (c, _) = me(&core, &session).await?;
    match totp::confirm(&core, &c, session.id(), &form.code).await {
        Ok(codes) => {
            let shown = Shown {
                recovery_codes: codes,
                ..Shown::default()
            };
            page(&req, &core, &session, StatusCode::OK, shown).await
        }
        Err(e) if e.status().is_client_error() => {
            let (status, message) = code_refused(&req, &e);
            let shown = Shown {
                error: Some(message),
                ..Shown::default()
            };
            page(&req, &core, &session, status, shown).await
        }
        Err(e) => Err(e),
    }
}

async fn remove(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, ApiError> {
    let (c, _) = me(&core, &session).await?;
    match totp::remove(&core, &c, session.id(), &form.code).await {
        Ok(()) => page(&req, &core, &session, StatusCode::OK, Shown::default()).await,
        Err(e) if e.status().is_client_error() => {
            let (status, message) = code_refused(&req, &e);
            let shown = Shown {
                error: Some(message),
                ..Shown::default()
            };
            page(&req, &core, &session, status, shown).await
        }
        Err(e) => Err(e),
    }
}
