//! Authentication: password hashing and the superusers table (full auth collections
//! and tokens build on these).

pub mod accounts;
pub mod oauth2;
pub mod password;
pub mod request;
pub mod superusers;
pub mod token;

use crate::db::DbError;

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
