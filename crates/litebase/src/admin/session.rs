//! Who is using the admin UI, and proof that a form came from it.
//!
//! The session is a superuser auth token (issued exactly as the API's
//! `auth-with-password` does) kept in the `lb_admin` cookie: HttpOnly,
//! SameSite=Strict, `Path=/_/`, Secure over https.
//!
//! [`guard`] wraps the whole `/_` scope, so no admin route can forget either check:
//! - every path except the public ones ([`is_public`]: login, setup, static files)
//!   needs a superuser session; without one a page GET is redirected (303) to
//!   `/_/login?next=…`, anything else (htmx, non-GET) gets 401 (no or invalid
//!   session) or 403 (a valid token of a non-superuser) in PocketBase's error shape;
//! - every non-GET request must carry a CSRF token (form field `_csrf` in a
//!   urlencoded body, or the `X-CSRF-Token` header — htmx sends it from the
//!   `hx-headers` on `<body>`; multipart forms must use the header). With a
//!   session the token is [`AdminSession::csrf`], an HMAC of the cookie token keyed
//!   by an instance secret, so nothing is stored; before a session (login, setup)
//!   it is a random `lb_csrf` cookie echoed in a hidden field (double submit).
//!
//! Handlers take an [`AdminSession`] to know who is signed in.

use std::future::{Ready, ready};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};

use crate::auth::request::{Auth, AuthRecord};
use crate::core::Core;
use crate::error::ApiError;

/// The cookie holding the superuser's auth token.
pub const SESSION_COOKIE: &str = "lb_admin";
/// The cookie holding the pre-session (login, setup) CSRF token.
pub const PRE_SESSION_COOKIE: &str = "lb_csrf";
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
/// The header carrying the CSRF token (htmx requests, multipart uploads).
pub const CSRF_HEADER: &str = "X-CSRF-Token";

const CSRF_REFUSED: &str =
    "Missing or invalid CSRF token: reload the page and submit the form again.";

/// A signed-in superuser, as handlers see it.
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// The superuser's record (`id`, `email`, …).
    pub superuser: AuthRecord,
    csrf: String,
}

impl AdminSession {
    /// The superuser's record id.
    pub fn id(&self) -> &str {
        &self.superuser.id
    }

    /// The superuser's email address.
    pub fn email(&self) -> &str {
        self.superuser
            .record
            .get("email")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }

    /// The CSRF token every form of this session must send (`_csrf` field or
    /// `X-CSRF-Token` header).
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// The requester as the API layer sees it (for the shared service functions).
    pub fn auth(&self) -> Auth {
        Auth::Superuser(self.superuser.clone())
    }
}

impl FromRequest for AdminSession {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Put there by `guard`; absent only on a public path, where no handler
        // should ask for a session.
        ready(
            req.extensions()
                .get::<AdminSession>()
                .cloned()
                .ok_or_else(|| {
                    ApiError::unauthorized("The request requires a signed-in superuser.")
                }),
        )
    }
}

/// The key CSRF tokens are derived with (from the instance's master secret).
#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl CsrfKey {
    /// The key of this instance.
    pub fn of(core: &Core) -> Self {
        CsrfKey(
            core.token_secret("_admin_csrf", crate::auth::token::Purpose::Auth)
                .into_bytes(),
        )
    }

    /// The CSRF token of a session: hex HMAC-SHA256 of its cookie token.
    pub fn token_for(&self, session_token: &str) -> String {
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(session_token.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Compares two tokens in time independent of where they differ; empty never
/// matches.
pub fn tokens_match(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    crate::cookie::read(req.headers(), name)
}

/// A `Set-Cookie` value for an admin cookie: HttpOnly, SameSite=Strict,
/// `Path=/_/`, Secure over https; `max_age` 0 deletes it.
pub fn set_cookie(req: &HttpRequest, name: &str, value: &str, max_age: u64) -> String {
    let secure = if is_https(req) { "; Secure" } else { "" };
    format!("{name}={value}; Path=/_/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// Whether the request came over https (directly, or as a trusted proxy
/// says: see [`crate::core::Core::origin`]).
fn is_https(req: &HttpRequest) -> bool {
    match req.app_data::<actix_web::web::Data<crate::core::Core>>() {
        Some(core) => core.origin(req).is_https(),
        None => req.app_config().secure(),
    }
}

/// The pre-session CSRF token for a login or setup form: the `lb_csrf` cookie's,
/// or a new random one with the `Set-Cookie` value that stores it.
pub fn pre_session_token(req: &HttpRequest) -> (String, Option<String>) {
    if let Some(token) = cookie(req, PRE_SESSION_COOKIE).filter(|t| t.len() == 40) {
        return (token, None);
    }
    let token = crate::id::random_string(40, b"abcdefghijklmnopqrstuvwxyz0123456789");
    let set = set_cookie(req, PRE_SESSION_COOKIE, &token, 86_400);
    (token, Some(set))
}

/// Paths anyone may reach: the sign-in and first-run pages and the static files.
pub fn is_public(path: &str) -> bool {
    path == "/_/login"
        || path.starts_with("/_/login/passkey-")
        || path.starts_with("/_/setup/")
        || path.starts_with("/_/static/")
}

/// Requests that only read (no CSRF token needed).
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware on the `/_` scope: session required (except [`is_public`]
/// paths), CSRF token required on every non-GET request. See the module docs.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let Some(core) = req.app_data::<web::Data<Core>>().cloned() else {
        return Ok(refuse(req, ApiError::internal()));
    };
    let public = is_public(req.path());
    let token = crate::cookie::read(req.headers(), SESSION_COOKIE).unwrap_or_default();
    let key = CsrfKey::of(&core);
    let session = if public {
        None
    } else {
        match core.records.resolve(&token).await {
            Auth::Superuser(superuser) => Some(AdminSession {
                superuser,
                csrf: key.token_for(&token),
            }),
            other => {
                let err = match other {
                    Auth::Record(_) => ApiError::forbidden_with(
                        "Only superusers may use the admin UI; sign in with a superuser account.",
                    ),
                    _ => ApiError::unauthorized(
                        "Sign in as a superuser first: your admin session is missing or expired.",
                    ),
                };
                return Ok(refuse_or_redirect(req, err));
            }
        }
    };
    if !is_safe(req.method()) {
        let expected = match &session {
            Some(s) => s.csrf.clone(),
            None => crate::cookie::read(req.headers(), PRE_SESSION_COOKIE).unwrap_or_default(),
        };
        let given = match given_csrf(&mut req, core.config.serve.body_limit).await {
            Ok(given) => given,
            Err(err) => return Ok(refuse(req, err)),
        };
        if !tokens_match(&given, &expected) {
            return Ok(refuse(
                req,
                ApiError::new(StatusCode::FORBIDDEN, CSRF_REFUSED),
            ));
        }
    }
    if let Some(session) = session {
        // The request log labels admin pages as the superuser's, like API calls.
        req.extensions_mut()
            .insert(crate::logs::AuthKind::Superuser);
        req.extensions_mut().insert(session);
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The CSRF token a request carries: the header, else the `_csrf` field of a
/// urlencoded body (the body is read and put back for the handler).
async fn given_csrf(req: &mut ServiceRequest, limit: usize) -> Result<String, ApiError> {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Ok(v.trim().to_string());
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok(String::new());
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("The form could not be read."))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let token = std::str::from_utf8(&body)
        .ok()
        .and_then(|text| {
            web::Query::<Vec<(String, String)>>::from_query(text)
                .ok()
                .and_then(|q| {
                    q.into_inner()
                        .into_iter()
                        .find(|(k, _)| k == CSRF_FIELD)
                        .map(|(_, v)| v)
                })
        })
        .unwrap_or_default();
    let stream: actix_web::dev::Payload =
        Payload::from(Box::pin(futures_util::stream::once(async move {
            Ok::<_, actix_web::error::PayloadError>(body)
        }))
            as std::pin::Pin<
                Box<
                    dyn futures_util::Stream<
                            Item = Result<web::Bytes, actix_web::error::PayloadError>,
                        >,
                >,
            >);
    req.set_payload(stream);
    Ok(token)
}

/// A page GET without a session goes to the login page; anything else gets `err`.
fn refuse_or_redirect<B>(req: ServiceRequest, err: ApiError) -> ServiceResponse<EitherBody<B>> {
    let page_get = *req.method() == Method::GET && !req.headers().contains_key("HX-Request");
    if !page_get {
        return refuse(req, err);
    }
    let target = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let location = format!("/_/login?next={}", encode_component(&target));
    let response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish();
    req.into_response(response).map_into_right_body()
}

fn refuse<B>(req: ServiceRequest, err: ApiError) -> ServiceResponse<EitherBody<B>> {
    req.into_response(err.error_response())
        .map_into_right_body()
}

/// Percent-encodes everything but unreserved characters (for `?next=`).
pub fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A `next` target that stays inside the admin UI (no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/_/") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/_/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_token_is_a_keyed_hmac_of_the_session_token() {
        let a = CsrfKey(b"instance-secret-a".to_vec());
        let b = CsrfKey(b"instance-secret-b".to_vec());
        let token = a.token_for("session-1");
        assert_eq!(token.len(), 64);
        assert_eq!(token, a.token_for("session-1"), "deterministic");
        assert_ne!(token, a.token_for("session-2"), "bound to the session");
        assert_ne!(token, b.token_for("session-1"), "bound to the instance");
    }

    #[test]
    fn token_comparison_refuses_empty_short_and_different() {
        let t = CsrfKey(b"k".to_vec()).token_for("s");
        assert!(tokens_match(&t, &t));
        assert!(!tokens_match("", ""));
        assert!(!tokens_match("", &t));
        assert!(!tokens_match(&t[..63], &t));
        let mut flipped = t.clone().into_bytes();
        flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
        assert!(!tokens_match(&String::from_utf8_lossy(&flipped), &t));
    }

    #[test]
    fn next_targets_stay_inside_the_admin() {
        assert_eq!(safe_next(Some("/_/superusers")), "/_/superusers");
        assert_eq!(safe_next(Some("https://evil.example/")), "/_/");
        assert_eq!(safe_next(Some("//evil.example")), "/_/");
        assert_eq!(safe_next(None), "/_/");
        assert_eq!(encode_component("/_/a?b=c d"), "/_/a%3Fb%3Dc%20d");
    }
}
