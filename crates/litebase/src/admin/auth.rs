//! Signing in and out of the admin UI, and the first-run setup page.
//!
//! The session token is issued exactly as the API's `auth-with-password` issues a
//! superuser's (same password check, same per-IP limiter, same token).

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tera::Context;

use super::AdminState;
use super::i18n::{request_lang, text};
use super::render::{Page, see_other};
use super::session::{self, AdminSession, SESSION_COOKIE};
use crate::auth::AuthError;
use crate::core::Core;
use crate::core::auth::{auth_collection, issue_auth_token, sign_in_with_password};
use crate::error::ApiError;
use crate::records::accounts::AuthRow;
use crate::records::superusers;

/// Mounts `/_/login`, `/_/logout`, `/_/setup/{token}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/setup/{token}", web::get().to(setup_page))
        .route("/setup/{token}", web::post().to(setup));
}

/// The login form's fields.
#[derive(Debug, Default, Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    /// The second step (MFA): its session, the code typed, an emailed code's id.
    #[serde(default)]
    mfa_id: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    otp_id: String,
}

async fn superuser_count(core: &Core) -> Result<u64, ApiError> {
    Ok(superusers::count(&core.db).await?)
}

fn login_context(email: &str, next: &str, error: Option<&str>, no_superuser: bool) -> Context {
    let mut ctx = Context::new();
    ctx.insert("email", email);
    ctx.insert("next", next);
    ctx.insert("error", &error);
    ctx.insert("no_superuser", &no_superuser);
    ctx.insert("mfa_id", "");
    ctx.insert("otp_id", "");
    ctx
}

async fn login_page(
    req: HttpRequest,
    core: web::Data<Core>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let next = session::safe_next(query.get("next").map(String::as_str));
    let none = superuser_count(&core).await? == 0;
    Page::new(&req, "auth/login.html").render(login_context("", &next, None, none))
}

async fn login(
    req: HttpRequest,
    core: web::Data<Core>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let next = session::safe_next(Some(&form.next));
    let lang = request_lang(&req);
    let refuse = |status: StatusCode, key: &'static str| {
        Page::new(&req, "auth/login.html")
            .status(status)
            .render(login_context(
                &form.email,
                &next,
                Some(text(lang, key)),
                false,
            ))
    };
    if core
        .limiter
        .check(core.client_ip(&req), "admin-login")
        .is_err()
    {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts");
    }
    if !form.mfa_id.is_empty() && !form.code.is_empty() {
        let step = super::mfa::SecondStep {
            mfa_id: &form.mfa_id,
            code: &form.code,
            otp_id: &form.otp_id,
            next: &next,
        };
        return match super::mfa::finish(&req, &core, &step).await? {
            Ok(row) => signed_in(&req, &core, &row, &next),
            Err(page) => Ok(page),
        };
    }
    let c = auth_collection(&core, "_superusers")?;
    let row = match sign_in_with_password(&core, &c, &form.email, &form.password, None).await {
        Ok(row) => row,
        Err(e) if e.status().is_client_error() => {
            return refuse(StatusCode::BAD_REQUEST, "bad_credentials");
        }
        Err(e) => return Err(e),
    };
    // A passkey may have been the first factor (its MFA session in `mfa_id`).
    let first = crate::core::mfa::method::PASSWORD;
    match crate::core::mfa::check(&core, &c, &row, first, &form.mfa_id).await {
        Ok(crate::core::mfa::Outcome::SecondFactor(mfa_id)) => {
            super::mfa::ask(&req, &core, &row, &mfa_id, &next).await
        }
        Ok(crate::core::mfa::Outcome::SignedIn) => signed_in(&req, &core, &row, &next),
        Err(e) if e.status().is_client_error() => refuse(StatusCode::BAD_REQUEST, "mfa_expired"),
        Err(e) => Err(e),
    }
}

/// Sets the session cookie for `row` (a superuser) and goes to `next`.
fn signed_in(
    req: &HttpRequest,
    core: &Core,
    row: &AuthRow,
    next: &str,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(core, "_superusers")?;
    let token = issue_auth_token(core, &c, row, None, true)?;
    let max_age = c.auth.as_ref().map_or(86_400, |a| a.auth_token.duration);
    let mut response = see_other(next);
    let cookie = session::set_cookie(req, SESSION_COOKIE, &token, max_age);
    response.headers_mut().append(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&cookie).map_err(|_| ApiError::internal())?,
    );
    Ok(response)
}

/// Re-issues the session cookie for superuser `id` (after their password, and
/// so their token key, changed) and goes to `next`.
pub async fn refresh_session(
    req: &HttpRequest,
    core: &web::Data<Core>,
    id: &str,
    next: &str,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(core, "_superusers")?;
    let (c2, id) = (c.clone(), id.to_string());
    let row = core
        .db
        .read(move |conn| crate::records::accounts::load(conn, &c2, &id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    signed_in(req, core, &row, next)
}

async fn logout(req: HttpRequest, _session: AdminSession) -> HttpResponse {
    let mut response = see_other("/_/login");
    let cookie = session::set_cookie(&req, SESSION_COOKIE, "", 0);
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn setup_context(token: &str, email: &str, errors: &HashMap<&str, &str>, dead: bool) -> Context {
    let mut ctx = Context::new();
    ctx.insert("token", token);
    ctx.insert("email", email);
    ctx.insert("errors", errors);
    ctx.insert("dead", &dead);
    ctx
}

async fn setup_usable(core: &Core, state: &AdminState, token: &str) -> Result<bool, ApiError> {
    Ok(state.setup.is_valid(token) && superuser_count(core).await? == 0)
}

fn dead_setup(req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    Page::new(req, "auth/setup.html")
        .status(StatusCode::NOT_FOUND)
        .render(setup_context("", "", &HashMap::new(), true))
}

async fn setup_page(
    req: HttpRequest,
    core: web::Data<Core>,
    state: web::Data<AdminState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !setup_usable(&core, &state, &token).await? {
        return dead_setup(&req);
    }
    Page::new(&req, "auth/setup.html").render(setup_context(&token, "", &HashMap::new(), false))
}

async fn setup(
    req: HttpRequest,
    core: web::Data<Core>,
    state: web::Data<AdminState>,
    token: web::Path<String>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    if !setup_usable(&core, &state, &token).await? {
        return dead_setup(&req);
    }
    let lang = request_lang(&req);
    let mut errors: HashMap<&str, &str> = HashMap::new();
    if form.password != form.password_confirm {
        errors.insert("passwordConfirm", text(lang, "passwords_differ"));
    }
    let problems = [
        superusers::validate_email(&form.email).err(),
        crate::auth::password::validate(&form.password).err(),
    ];
    let messages: Vec<(&'static str, String)> = problems
        .into_iter()
        .flatten()
        .filter_map(|e| match e {
            AuthError::Invalid { field, message } => Some((field, message)),
            _ => None,
        })
        .collect();
    for (field, message) in &messages {
        errors.insert(field, message.as_str());
    }
    if !errors.is_empty() {
        return Page::new(&req, "auth/setup.html")
            .status(StatusCode::BAD_REQUEST)
            .render(setup_context(&token, &form.email, &errors, false));
    }
    if !state.setup.take(&token) {
        return dead_setup(&req);
    }
    let id = match superusers::upsert(&core.db, &form.email, &form.password).await {
        Ok(superusers::Upserted::Created(id) | superusers::Upserted::Updated(id)) => id,
        Err(e) => {
            state.setup.restore(&token);
            return Err(e.into());
        }
    };
    tracing::info!(email = %form.email, "first superuser created through the setup link");
    refresh_session(&req, &core, &id, "/_/").await
}

/// A superuser account form's fields: first-run setup, create, change password.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AccountForm {
    #[serde(default)]
    pub(super) email: String,
    #[serde(default)]
    pub(super) password: String,
    #[serde(default, rename = "passwordConfirm")]
    pub(super) password_confirm: String,
}
