//! Why the record service refused or failed: the records' own error type. It
//! becomes an HTTP answer ([`ApiError`], PocketBase's shape) in one conversion
//! at the bottom of this file.

use serde_json::{Map, Value};

use crate::auth::AuthError;
use crate::db::DbError;
use crate::error::{ApiError, ErrorKind};

/// PocketBase's words for input it could not use at all.
const GENERIC: &str = "Something went wrong while processing your request.";

/// What went wrong with a record request.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No collection of that name or id.
    #[error("Missing collection context.")]
    MissingCollection,
    /// No such record, or the caller's rule hides it.
    #[error("The requested resource wasn't found.")]
    NotFound,
    /// The caller may not do this; the message says why.
    #[error("{0}")]
    Forbidden(String),
    /// The input failed validation: a message and each field's problem.
    #[error("{message}")]
    Invalid {
        /// For humans.
        message: String,
        /// `{"title": {"code": "validation_required", "message": "…"}}`.
        fields: Map<String, Value>,
    },
    /// The input cannot be used (a bad filter, sort or paging value, a
    /// read-only collection, too many cascades).
    #[error("{0}")]
    BadRequest(String),
    /// An answer already decided elsewhere: a hook's refusal (hooks answer
    /// with an [`ApiError`] of their own), passed on as it is.
    #[error("{0}")]
    Answered(ApiError),
    /// Signing in or hashing failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The database failed underneath.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A state that should not happen (a record gone right after its write).
    #[error("the record service reached an impossible state")]
    Internal,
}

impl RecordError {
    /// Input that cannot be used.
    pub fn bad_request(message: impl Into<String>) -> Self {
        RecordError::BadRequest(message.into())
    }

    /// Input that cannot be used at all, in PocketBase's generic words.
    pub fn generic_bad_request() -> Self {
        RecordError::BadRequest(GENERIC.into())
    }

    /// No such record (or hidden by the rule).
    pub fn not_found() -> Self {
        RecordError::NotFound
    }

    /// Not allowed, saying why.
    pub fn forbidden_with(message: impl Into<String>) -> Self {
        RecordError::Forbidden(message.into())
    }

    /// An impossible state.
    pub fn internal() -> Self {
        RecordError::Internal
    }

    /// Attaches each field's problem: the error becomes a validation failure.
    pub fn with_data(self, fields: Map<String, Value>) -> Self {
        match self {
            RecordError::BadRequest(message) | RecordError::Invalid { message, .. } => {
                RecordError::Invalid { message, fields }
            }
            other => other,
        }
    }
}

impl From<rusqlite::Error> for RecordError {
    fn from(err: rusqlite::Error) -> Self {
        RecordError::Db(DbError::from(err))
    }
}

impl From<ApiError> for RecordError {
    fn from(err: ApiError) -> Self {
        RecordError::Answered(err)
    }
}

impl From<RecordError> for ApiError {
    fn from(err: RecordError) -> Self {
        match err {
            RecordError::MissingCollection => {
                ApiError::of_kind(ErrorKind::NotFound, "Missing collection context.")
            }
            RecordError::NotFound => ApiError::not_found(),
            RecordError::Forbidden(message) => ApiError::forbidden_with(message),
            RecordError::Invalid { message, fields } => {
                ApiError::bad_request(message).with_data(fields)
            }
            RecordError::BadRequest(message) => ApiError::bad_request(message),
            RecordError::Answered(answer) => answer,
            RecordError::Auth(auth) => auth.into(),
            RecordError::Db(db) => db.into(),
            RecordError::Internal => {
                tracing::error!("the record service reached an impossible state");
                ApiError::internal()
            }
        }
    }
}
