//! The one place where errors become HTTP: every failure a client sees is an
//! [`ApiError`] rendered in PocketBase's shape `{"status", "message", "data"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};

use crate::db::DbError;

/// The error message of an error answer, left in the response's extensions by
/// [`ApiError`] so the request log can record it.
#[derive(Debug, Clone)]
pub struct ErrorMessage(pub String);

/// What kind of failure an error is: a stable, machine-readable code for each,
/// and its HTTP status. [`KINDS`] is the one table that maps one to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Input that cannot be used (validation, malformed JSON, a bad filter).
    BadRequest,
    /// No valid credentials where they are required.
    Unauthorized,
    /// Authenticated, but not allowed.
    Forbidden,
    /// No such resource (or not visible to the caller).
    NotFound,
    /// The route exists, the method does not.
    MethodNotAllowed,
    /// The request did not arrive in time.
    RequestTimeout,
    /// A body over the configured limit.
    PayloadTooLarge,
    /// A request target over the HTTP layer's limit.
    UriTooLong,
    /// A request head over the HTTP layer's limits.
    HeaderFieldsTooLarge,
    /// A rate limit was hit.
    TooManyRequests,
    /// The server is shutting down or cannot serve now.
    Unavailable,
    /// Our fault; the cause is logged, never shown.
    Internal,
}

/// Each kind's code and HTTP status: the one place errors meet HTTP.
pub const KINDS: [(ErrorKind, &str, StatusCode); 12] = [
    (
        ErrorKind::BadRequest,
        "bad_request",
        StatusCode::BAD_REQUEST,
    ),
    (
        ErrorKind::Unauthorized,
        "unauthorized",
        StatusCode::UNAUTHORIZED,
    ),
    (ErrorKind::Forbidden, "forbidden", StatusCode::FORBIDDEN),
    (ErrorKind::NotFound, "not_found", StatusCode::NOT_FOUND),
    (
        ErrorKind::MethodNotAllowed,
        "method_not_allowed",
        StatusCode::METHOD_NOT_ALLOWED,
    ),
    (
        ErrorKind::RequestTimeout,
        "request_timeout",
        StatusCode::REQUEST_TIMEOUT,
    ),
    (
        ErrorKind::PayloadTooLarge,
        "payload_too_large",
        StatusCode::PAYLOAD_TOO_LARGE,
    ),
    (
        ErrorKind::UriTooLong,
        "uri_too_long",
        StatusCode::URI_TOO_LONG,
    ),
    (
        ErrorKind::HeaderFieldsTooLarge,
        "header_fields_too_large",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    ),
    (
        ErrorKind::TooManyRequests,
        "too_many_requests",
        StatusCode::TOO_MANY_REQUESTS,
    ),
    (
        ErrorKind::Unavailable,
        "unavailable",
        StatusCode::SERVICE_UNAVAILABLE,
    ),
    (
        ErrorKind::Internal,
        "internal",
        StatusCode::INTERNAL_SERVER_ERROR,
    ),
];

impl ErrorKind {
    fn row(self) -> (ErrorKind, &'static str, StatusCode) {
        KINDS
            .iter()
            .copied()
            .find(|(kind, _, _)| *kind == self)
            .unwrap_or((
                ErrorKind::Internal,
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
            ))
    }

    /// The stable machine-readable code (`not_found`, `too_many_requests`…).
    pub fn code(self) -> &'static str {
        self.row().1
    }

    /// The HTTP status a client gets.
    pub fn status(self) -> StatusCode {
        self.row().2
    }

    /// The kind a bare status stands for (a 4xx without its own kind is a bad
    /// request, a 5xx without one is internal).
    pub fn of_status(status: StatusCode) -> ErrorKind {
        match KINDS.iter().find(|(_, _, s)| *s == status) {
            Some((kind, _, _)) => *kind,
            None if status.is_server_error() => ErrorKind::Internal,
            None => ErrorKind::BadRequest,
        }
    }
}

/// An error answer in PocketBase's JSON shape; handlers return it (or anything that
/// converts into it with `?`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// What kind of failure; its status is repeated in the body as `status`.
    pub kind: ErrorKind,
    /// A sentence for humans.
    pub message: String,
    /// Per-field details, e.g. `{"email": {"code": "validation_required", "message": "…"}}`.
    pub data: Map<String, Value>,
}

impl ApiError {
    /// An error with an empty `data` object.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::of_status(status), message)
    }

    /// An error of `kind` with an empty `data` object.
    pub fn of_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            data: Map::new(),
        }
    }

    /// The HTTP status a client gets.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The stable machine-readable code of its kind.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Attaches per-field details.
    pub fn with_data(mut self, data: Map<String, Value>) -> Self {
        self.data = data;
        self
    }

    /// 400 for input we could not use.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with PocketBase's wording.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "The requested resource wasn't found.",
        )
    }

    /// 401 for a missing or invalid token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403 for an authenticated caller that may not do this.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "You are not allowed to perform this request.",
        )
    }

    /// 403 with a specific message.
    pub fn forbidden_with(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 400 with PocketBase's generic wording, for input we could not use at all.
    pub fn generic_bad_request() -> Self {
        Self::bad_request("Something went wrong while processing your request.")
    }

    /// 413 for a body over the configured limit.
    pub fn too_large() -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "Request entity too large.")
    }

    /// 500; the cause goes to the log, never to the client.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong while processing your request.",
        )
    }

    /// The answer for a bare status that no handler explained (the server's own
    /// 404, 405, 413, 5xx…), in PocketBase's wording.
    pub fn for_status(status: StatusCode) -> Self {
        match status.as_u16() {
            404 => Self::not_found(),
            405 => Self::new(status, "Method not allowed."),
            413 => Self::too_large(),
            s if s >= 500 => Self::internal(),
            _ => Self::new(
                status,
                status
                    .canonical_reason()
                    .map(|r| format!("{r}."))
                    .unwrap_or_else(|| {
                        "Something went wrong while processing your request.".into()
                    }),
            ),
        }
    }

    /// The JSON body, as PocketBase writes it.
    pub fn body(&self) -> Value {
        json!({
            "status": self.status().as_u16(),
            "message": self.message,
            "data": self.data,
        })
    }
}

/// The body of an answer the HTTP/1 layer (actix-http's dispatcher) makes on its own,
/// before any handler runs: a malformed or oversized request head, a declared body
/// refused before `100 Continue`, a head that never finished arriving. Registered by
/// [`crate::server::serve`] so that these refusals are in PocketBase's shape too.
pub fn protocol_error_body(status: StatusCode) -> Option<(bytes::Bytes, &'static str)> {
    let error = match status {
        StatusCode::BAD_REQUEST => ApiError::bad_request(
            "The request is not valid HTTP: its request line or a header could not be read; \
             check the client that sent it.",
        ),
        StatusCode::REQUEST_TIMEOUT => ApiError::new(
            status,
            "The request head did not arrive in time; send the request again.",
        ),
        // The `http` crate refuses longer request targets.
        StatusCode::URI_TOO_LONG => ApiError::new(
            status,
            "The request URL is over 65,534 bytes; send the filter in a shorter form.",
        ),
        // The limits of vendor/actix-http (PocketBase's).
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ApiError::new(
            status,
            "The request head (URL and headers) is over 1 MiB or has over 500 headers; \
             send the filter in a shorter form and fewer or smaller headers.",
        ),
        // 413 as for a too-large body without `Expect` (and PocketBase's), 500…
        other => ApiError::for_status(other),
    };
    let body = serde_json::to_vec(&error.body()).ok()?;
    Some((body.into(), "application/json"))
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} ({})",
            self.status().as_u16(),
            self.message,
            self.code()
        )
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status()).json(self.body());
        // For the request log, which records why a request failed.
        res.extensions_mut()
            .insert(ErrorMessage(self.message.clone()));
        res
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Closed => {
                tracing::warn!("request refused: the database is closing");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The server is shutting down; try again shortly.",
                )
            }
            other => {
                tracing::error!(error = %other, "database error");
                ApiError::internal()
            }
        }
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> Self {
        DbError::from(err).into()
    }
}
