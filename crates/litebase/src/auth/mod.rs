//! Authentication: password hashing and the superusers table (full auth collections
//! and tokens build on these).

pub mod password;
pub mod ratelimit;
pub mod request;
pub mod token;
pub mod totp;

use actix_web::http::StatusCode;
use serde_json::{Map, json};

use crate::db::DbError;
use crate::error::ApiError;

/// What can fail while authenticating or managing accounts.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The store failed underneath.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The password could not be hashed (a bug or an exhausted system, never bad input).
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// An input field is unusable; `message` says how to fix it.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as the API names it.
        field: &'static str,
        /// What is wrong, for humans.
        message: String,
    },
    /// Identity or password is wrong (deliberately not saying which).
    #[error("invalid login credentials")]
    BadCredentials,
    /// A token is missing, malformed, forged or expired.
    #[error("invalid or expired token")]
    BadToken,
    /// The account does not exist.
    #[error("no such account")]
    NotFound,
}

impl From<rusqlite::Error> for AuthError {
    fn from(err: rusqlite::Error) -> Self {
        AuthError::Db(DbError::from(err))
    }
}

/// How each auth failure answers a client.
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
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "Something went wrong while processing your request.",
                )
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
