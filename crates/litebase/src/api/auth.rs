//! Auth endpoints of every auth collection, with PocketBase's paths and JSON:
//! sign-in (password, OTP), refresh, verification, password reset, email change,
//! impersonation, and the methods a collection offers.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::body;
use crate::auth::request::Auth;
use crate::auth::token;
use crate::auth::{AuthError, password};
use crate::core::Core;
use crate::core::auth::{self as flows, field_problem, load_row};
use crate::core::auth::{
    auth_collection, ensure_password_auth, issue_auth_token, sign_in_with_password,
};
use crate::core::mfa::method;
use crate::error::ApiError;
use crate::mail::Lang;
use crate::records::accounts::AuthRow;
use crate::records::projection::Projection;
use crate::records::read::{ReadCtx, param};
use crate::records::write;
use crate::schema::Collection;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let base = "/api/collections/{collection}";
    cfg.route(&format!("{base}/auth-methods"), web::get().to(auth_methods))
        .route(
            &format!("{base}/auth-with-password"),
            web::post().to(auth_with_password),
        )
        .route(
            &format!("{base}/auth-refresh"),
            web::post().to(auth_refresh),
        )
        .route(
            &format!("{base}/request-verification"),
            web::post().to(request_verification),
        )
        .route(
            &format!("{base}/confirm-verification"),
            web::post().to(confirm_verification),
        )
        .route(
            &format!("{base}/request-password-reset"),
            web::post().to(request_password_reset),
        )
        .route(
            &format!("{base}/confirm-password-reset"),
            web::post().to(confirm_password_reset),
        )
        .route(
            &format!("{base}/request-email-change"),
            web::post().to(request_email_change),
        )
        .route(
            &format!("{base}/confirm-email-change"),
            web::post().to(confirm_email_change),
        )
        .route(&format!("{base}/request-otp"), web::post().to(request_otp))
        .route(
            &format!("{base}/auth-with-otp"),
            web::post().to(auth_with_otp),
        )
        .route(
            &format!("{base}/impersonate/{{id}}"),
            web::post().to(impersonate),
        );
}

pub(super) fn required(body: &Map<String, Value>, fields: &[&str]) -> Result<(), ApiError> {
    let mut data = Map::new();
    for name in fields {
        if body
            .get(*name)
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
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

fn valid_email(body: &Map<String, Value>) -> Result<(), ApiError> {
    crate::records::superusers::validate_email(text(body, "email"))
        .map(|_| ())
        .map_err(|_| {
            field_problem(
                "email",
                "validation_is_email",
                "Must be a valid email address.",
            )
        })
}

pub(super) fn text<'a>(body: &'a Map<String, Value>, key: &str) -> &'a str {
    body.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The language of the mails a request leads to (`Accept-Language`).
fn lang_of(req: &HttpRequest) -> Lang {
    Lang::from_accept_language(
        req.headers()
            .get("accept-language")
            .and_then(|v| v.to_str().ok()),
    )
}

pub(super) fn limit(
    core: &Core,
    req: &HttpRequest,
    endpoint: &'static str,
) -> Result<(), ApiError> {
    core.limiter.check(core.client_ip(req), endpoint)
}

pub(super) async fn read_body(
    core: &Core,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Map<String, Value>, ApiError> {
    body::read_object(req.headers(), payload, core.config.serve.body_limit).await
}

/// `{token, record}` for a signed-in record, with a fresh token.
pub(super) async fn auth_response(
    core: &Core,
    c: &Arc<Collection>,
    row: &AuthRow,
    req: &HttpRequest,
    ttl: Option<u64>,
    refreshable: bool,
) -> Result<HttpResponse, ApiError> {
    let token = issue_auth_token(core, c, row, ttl, refreshable)?;
    auth_answer(core, c, row, req, token).await
}

/// `{token, record}`: the record as it sees itself (its own email, hidden fields
/// only for a superuser), `?expand=` resolved with it as the requester, and
/// `?fields=` applied to the whole answer, as PocketBase answers sign-ins.
async fn auth_answer(
    core: &Core,
    c: &Arc<Collection>,
    row: &AuthRow,
    req: &HttpRequest,
    token: String,
) -> Result<HttpResponse, ApiError> {
    let answer = auth_body(core, c, row, req, token, None).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The body of [`auth_answer`], with `meta` when the sign-in has one (OAuth2).
pub(super) async fn auth_body(
    core: &Core,
    c: &Arc<Collection>,
    row: &AuthRow,
    req: &HttpRequest,
    token: String,
    meta: Option<Map<String, Value>>,
) -> Result<Map<String, Value>, ApiError> {
    let query = super::query_map(req.query_string())?;
    let expand = param(&query, "expand").to_string();
    let fields = param(&query, "fields");
    let superuser = c.id == crate::core::SUPERUSERS_COLLECTION_ID;
    let mut me = row.record.clone();
    me.insert("collectionId".into(), json!(c.id));
    me.insert("collectionName".into(), json!(c.name));
    let mut record = write::visible(c, row.record.clone(), superuser, Some(&me), false);
    if !expand.trim().is_empty() {
        let (c, schema) = (c.clone(), core.schema.current());
        record = core
            .db
            .read(move |conn| {
                let info = crate::query::RequestInfo {
                    auth: Some(me),
                    now: time::OffsetDateTime::now_utc(),
                    ..Default::default()
                };
                let ctx = ReadCtx {
                    schema: &schema,
                    req: &info,
                    superuser,
                };
                let mut items = [record];
                crate::records::read::finish(conn, &ctx, &c, &mut items, &expand, "")?;
                let [one] = items;
                Ok::<_, ApiError>(one)
            })
            .await?;
    }
    let mut answer = Map::new();
    answer.insert("record".into(), Value::Object(record));
    answer.insert("token".into(), json!(token));
    if let Some(meta) = meta {
        answer.insert("meta".into(), Value::Object(meta));
    }
    if let Some(p) = Projection::parse(fields) {
        p.apply(&mut answer);
    }
    Ok(answer)
}

/// How a collection can be signed in to. Besides PocketBase's current sections it
/// carries the legacy keys older SDKs read (`authProviders`, `emailPassword`,
/// `usernamePassword`), as PocketBase does; the SDK asks for the current ones with
/// `?fields=`.
async fn auth_methods(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let a = c.auth.clone().unwrap_or_default();
    let by = |field: &str| {
        a.password_auth.enabled && a.password_auth.identity_fields.iter().any(|f| f == field)
    };
    let (oauth2_on, providers) = crate::core::oauth2::auth_methods(&c);
    let legacy_providers: Vec<Value> = providers
        .iter()
        .cloned()
        .map(|mut p| {
            p["logo"] = json!("");
            p
        })
        .collect();
    let mut answer = match json!({
        "password": {"enabled": a.password_auth.enabled, "identityFields": a.password_auth.identity_fields},
        "oauth2": {"enabled": oauth2_on, "providers": providers},
        "mfa": {"enabled": a.mfa.enabled, "duration": if a.mfa.enabled { a.mfa.duration } else { 0 }},
        "otp": {"enabled": a.otp.enabled, "duration": if a.otp.enabled { a.otp.duration } else { 0 }},
        "authProviders": legacy_providers,
        "usernamePassword": by("username"),
        "emailPassword": by("email"),
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let query = super::query_map(req.query_string())?;
    if let Some(p) = Projection::parse(param(&query, "fields")) {
        p.apply(&mut answer);
    }
    Ok(HttpResponse::Ok().json(answer))
}

async fn auth_with_password(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "auth-with-password")?;
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    ensure_password_auth(&c)?;
    required(&body, &["identity", "password"])?;
    let only = body
        .get("identityField")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let row = sign_in_with_password(
        &core,
        &c,
        text(&body, "identity"),
        text(&body, "password"),
        only,
    )
    .await?;
    let mfa_id = super::mfa::mfa_id_of(&req, &body);
    super::mfa::sign_in_answer(&core, &c, &row, &req, method::PASSWORD, &mfa_id).await
}

async fn auth_refresh(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let record = auth.record().ok_or_else(|| {
        ApiError::unauthorized("The request requires valid record authorization token.")
    })?;
    if record.collection_id != c.id {
        return Err(ApiError::forbidden_with(format!(
            "The request requires auth record from {} collection.",
            record.collection_name
        )));
    }
    let row = load_row(&core, &c, &record.id)
        .await?
        .ok_or(AuthError::BadToken)?;
    // A non-refreshable token (impersonation) comes back as it is.
    let presented = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(crate::auth::request::bearer)
        .unwrap_or_default();
    if token::peek(presented).is_some_and(|cl| !cl.refreshable) {
        let presented = presented.to_string();
        return auth_answer(&core, &c, &row, &req, presented).await;
    }
    auth_response(&core, &c, &row, &req, None, true).await
}

async fn request_verification(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "request-verification")?;
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["email"])?;
    valid_email(&body)?;
    flows::request_verification(&core, &c, text(&body, "email"), lang_of(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn confirm_verification(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["token"])?;
    flows::confirm_verification(&core, &c, text(&body, "token")).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn request_password_reset(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "request-password-reset")?;
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["email"])?;
    valid_email(&body)?;
    flows::request_password_reset(&core, &c, text(&body, "email"), lang_of(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn check_new_password(body: &Map<String, Value>) -> Result<(), ApiError> {
    required(body, &["password", "passwordConfirm"])?;
    if let Err(AuthError::Invalid { message, .. }) = password::validate(text(body, "password")) {
        return Err(field_problem(
            "password",
            "validation_length_out_of_range",
            &message,
        ));
    }
    if text(body, "password") != text(body, "passwordConfirm") {
        return Err(field_problem(
            "passwordConfirm",
            "validation_values_mismatch",
            "Values don't match.",
        ));
    }
    Ok(())
}

async fn confirm_password_reset(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "confirm-password-reset")?;
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["token"])?;
    check_new_password(&body)?;
    flows::confirm_password_reset(&core, &c, text(&body, "token"), text(&body, "password")).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn request_email_change(
    core: web::Data<Core>,
    name: web::Path<String>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let c = auth_collection(&core, &name)?;
    let record = auth.record_of(&c.id)?.clone();
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["newEmail"])?;
    flows::request_email_change(&core, &c, &record, text(&body, "newEmail"), lang_of(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn confirm_email_change(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    limit(&core, &req, "confirm-email-change")?;
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    required(&body, &["token", "password"])?;
    flows::confirm_email_change(&core, &c, text(&body, "token"), text(&body, "password")).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The common start of both OTP endpoints: rate limit, collection, body, and the
/// collection's OTP options (403 when OTP is off).
async fn otp_request(
    core: &Core,
    name: &str,
    req: &HttpRequest,
    payload: web::Payload,
    endpoint: &'static str,
) -> Result<
    (
        Arc<Collection>,
        Map<String, Value>,
        crate::schema::auth::OtpOptions,
    ),
    ApiError,
> {
    limit(core, req, endpoint)?;
    let c = auth_collection(core, name)?;
    let body = read_body(core, req, payload).await?;
    let otp = c
        .auth
        .as_ref()
        .map(|a| a.otp.clone())
        .filter(|o| o.enabled)
        .ok_or_else(|| {
            ApiError::forbidden_with(
                "The collection is not configured to allow OTP authentication.",
            )
        })?;
    Ok((c, body, otp))
}

async fn request_otp(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (c, body, otp) = otp_request(&core, &name, &req, payload, "request-otp").await?;
    required(&body, &["email"])?;
    valid_email(&body)?;
    let otp_id = flows::request_otp(&core, &c, &otp, text(&body, "email"), lang_of(&req)).await?;
    Ok(HttpResponse::Ok().json(json!({"otpId": otp_id})))
}

async fn auth_with_otp(
    core: web::Data<Core>,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (c, body, otp) = otp_request(&core, &name, &req, payload, "auth-with-otp").await?;
    required(&body, &["otpId", "password"])?;
    let row = flows::auth_with_otp(
        &core,
        &c,
        &otp,
        text(&body, "otpId"),
        text(&body, "password"),
    )
    .await?;
    let mfa_id = super::mfa::mfa_id_of(&req, &body);
    super::mfa::sign_in_answer(&core, &c, &row, &req, method::OTP, &mfa_id).await
}

async fn impersonate(
    core: web::Data<Core>,
    path: web::Path<(String, String)>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let (name, id) = path.into_inner();
    let c = auth_collection(&core, &name)?;
    let body = read_body(&core, &req, payload).await?;
    // 0 or absent: the collection's token lifetime.
    // A whole number of seconds, as PocketBase reads it (a string or a fraction is
    // refused like any body it cannot load).
    let duration = match body.get("duration") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(d) if d < 0 => {
                return Err(field_problem(
                    "duration",
                    "validation_min_greater_equal_than_required",
                    "Must be no less than 0.",
                ));
            }
            Some(0) => None,
            Some(d) => Some(d as u64),
            None => {
                return Err(ApiError::bad_request(
                    "An error occurred while loading the submitted data: duration must be a whole number of seconds.",
                ));
            }
        },
    };
    let row = load_row(&core, &c, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    auth_response(&core, &c, &row, &req, duration, false).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::auth::new_code;

    #[test]
    fn otp_codes_are_digits_of_the_asked_length() {
        let code = new_code(8);
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(new_code(1).len(), 4, "never shorter than 4");
    }

    #[test]
    fn missing_fields_are_reported_together() {
        let err = required(&Map::new(), &["identity", "password"]).err();
        let data = err.map(|e| e.data).unwrap_or_default();
        assert_eq!(data["identity"]["code"], "validation_required");
        assert_eq!(data["password"]["code"], "validation_required");
    }
}
