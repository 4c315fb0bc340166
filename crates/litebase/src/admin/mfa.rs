//! The admin sign-in's second step, when `_superusers` has MFA on: after the
//! password, the page asks for a code of the superuser's authenticator app (or
//! a recovery code); a superuser without an app gets a one-time code by email
//! when `_superusers` allows OTP. The same `core::mfa` session as the API's.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use tera::Context;

use super::i18n::{request_lang, text};
use super::render::Page;
use crate::core::Core;
use crate::core::auth::{auth_collection, auth_with_otp, request_otp};
use crate::core::mfa::{self, method};
use crate::core::totp;
use crate::error::ApiError;
use crate::records::accounts::AuthRow;

/// What the second step's form sends back.
#[derive(Debug, Default)]
pub(super) struct SecondStep<'a> {
    /// The MFA session from the password step.
    pub mfa_id: &'a str,
    /// The code typed.
    pub code: &'a str,
    /// Set when the code came by email (OTP) rather than from an app.
    pub otp_id: &'a str,
    /// Where to go once signed in.
    pub next: &'a str,
}

fn step_context(mfa_id: &str, otp_id: &str, next: &str, error: Option<&str>) -> Context {
    let mut ctx = Context::new();
    ctx.insert("passkey_only", &false);
    ctx.insert("email", "");
    ctx.insert("next", next);
    ctx.insert("error", &error);
    ctx.insert("no_superuser", &false);
    ctx.insert("mfa_id", mfa_id);
    ctx.insert("otp_id", otp_id);
    ctx
}

/// The page asking for the second factor of `row`, whose password passed and
/// left the MFA session `mfa_id`.
pub(super) async fn ask(
    req: &HttpRequest,
    core: &Core,
    row: &AuthRow,
    mfa_id: &str,
    next: &str,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(core, "_superusers")?;
    let lang = request_lang(req);
    let has_app = totp::status(core, &c, &row.id).await?.enabled;
    let has_passkey = !crate::core::webauthn::list(core, &c, &row.id)
        .await?
        .is_empty();
    let otp = c.auth.as_ref().map(|a| a.otp.clone()).filter(|o| o.enabled);
    let (otp_id, error) = match (has_app, otp) {
        (true, _) => (String::new(), None),
        (false, None) if has_passkey => (String::new(), None),
        (false, Some(otp)) => {
            let mail_lang = crate::mail::Lang::from_accept_language(
                req.headers()
                    .get("accept-language")
                    .and_then(|v| v.to_str().ok()),
            );
            let id = request_otp(core, &c, &otp, row.email(), mail_lang).await?;
            (id, None)
        }
        (false, None) => (String::new(), Some(text(lang, "mfa_no_factor"))),
    };
    let mut ctx = step_context(mfa_id, &otp_id, next, error);
    ctx.insert(
        "passkey_only",
        &(!has_app && otp_id.is_empty() && has_passkey),
    );
    Page::new(req, "auth/login.html").render(ctx)
}

/// Checks the second factor; the signed-in superuser, or the page again with
/// why not.
pub(super) async fn finish(
    req: &HttpRequest,
    core: &Core,
    step: &SecondStep<'_>,
) -> Result<Result<AuthRow, HttpResponse>, ApiError> {
    let c = auth_collection(core, "_superusers")?;
    let lang = request_lang(req);
    let refuse = |status: StatusCode, key: &'static str| {
        Page::new(req, "auth/login.html")
            .status(status)
            .render(step_context(
                step.mfa_id,
                step.otp_id,
                step.next,
                Some(text(lang, key)),
            ))
    };
    let Some(record_id) = mfa::record_of(core, &c, step.mfa_id).await? else {
        return Ok(Err(refuse(StatusCode::BAD_REQUEST, "mfa_expired")?));
    };
    let checked = if step.otp_id.is_empty() {
        totp::verify(core, &c, &record_id, step.code)
            .await
            .map(|()| method::TOTP)
    } else {
        let otp = c.auth.as_ref().map(|a| a.otp.clone()).unwrap_or_default();
        match auth_with_otp(core, &c, &otp, step.otp_id, step.code).await {
            Ok(row) if row.id == record_id => Ok(method::OTP),
            Ok(_) => Err(ApiError::bad_request("Invalid MFA session.")),
            Err(e) => Err(e),
        }
    };
    let method = match checked {
        Ok(m) => m,
        Err(e) if e.status() == StatusCode::TOO_MANY_REQUESTS => {
            return Ok(Err(refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
            )?));
        }
        Err(e) if e.status().is_client_error() => {
            return Ok(Err(refuse(StatusCode::BAD_REQUEST, "mfa_bad_code")?));
        }
        Err(e) => return Err(e),
    };
    let row = crate::core::auth::load_row(core, &c, &record_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    match mfa::check(core, &c, &row, method, step.mfa_id).await {
        Ok(_) => Ok(Ok(row)),
        Err(e) if e.status().is_client_error() => {
            Ok(Err(refuse(StatusCode::BAD_REQUEST, "mfa_expired")?))
        }
        Err(e) => Err(e),
    }
}
