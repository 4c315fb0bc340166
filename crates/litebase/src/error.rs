//! The one place where errors become HTTP: every failure a client sees is an
//! [`ApiError`] rendered in PocketBase's shape `{"status", "message", "data"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Map, Value, json};

use crate::auth::AuthError;
use crate::db::DbError;

/// An error answer in PocketBase's JSON shape; handlers return it (or anything that
/// converts into it with `?`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status, repeated in the body as `status`.
    pub status: StatusCode,
    /// A sentence for humans.
    pub message: String,
    /// Per-field details, e.g. `{"email": {"code": "validation_required", "message": "…"}}`.
    pub data: Map<String, Value>,
}

impl ApiError {
    /// An error with an empty `data` object.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            data: Map::new(),
        }
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
            "status": self.status.as_u16(),
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
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status).json(self.body());
        // For the request log, which records why a request failed.
        res.extensions_mut()
            .insert(crate::logs::ErrorMessage(self.message.clone()));
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

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Db(db) => db.into(),
            AuthError::Hash(message) => {
                tracing::error!(%message, "password hashing failed");
                ApiError::internal()
            }
            AuthError::Invalid { field, message } => {
                let mut data = Map::new();
                data.insert(
                    field.to_string(),
                    json!({"code": "validation_invalid", "message": message}),
                );
                ApiError::bad_request("Something went wrong while processing your request.")
                    .with_data(data)
            }
            AuthError::BadCredentials => ApiError::bad_request("Failed to authenticate."),
            AuthError::BadToken => {
                ApiError::unauthorized("The request requires valid record authorization token.")
            }
            AuthError::NotFound => ApiError::not_found(),
        }
    }
}
