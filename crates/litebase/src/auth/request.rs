//! Who is making a request: the identity every rule is checked against. The
//! token of an `Authorization` header becomes an [`Auth`] in
//! [`crate::records::identity`] (it needs the record behind the token).
//!
//! Like PocketBase, a missing or invalid token makes the request a guest's; the
//! endpoint then decides (a superuser-only endpoint answers 401, a rule-protected
//! one applies its rule to a guest).

use serde_json::{Map, Value};

use crate::error::ApiError;

/// An authenticated record.
#[derive(Debug, Clone)]
pub struct AuthRecord {
    /// The record id.
    pub id: String,
    /// Its auth collection's id.
    pub collection_id: String,
    /// Its auth collection's name.
    pub collection_name: String,
    /// The record as the API shows it to its owner.
    pub record: Map<String, Value>,
}

/// The requester.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// No valid token.
    #[default]
    Guest,
    /// A superuser: every rule is bypassed.
    Superuser(AuthRecord),
    /// A record of an auth collection.
    Record(AuthRecord),
}

impl Auth {
    /// Whether rules are bypassed.
    pub fn is_superuser(&self) -> bool {
        matches!(self, Auth::Superuser(_))
    }

    /// The authenticated record, if any.
    pub fn record(&self) -> Option<&AuthRecord> {
        match self {
            Auth::Guest => None,
            Auth::Superuser(r) | Auth::Record(r) => Some(r),
        }
    }

    /// The signed-in record when it belongs to collection `collection_id`;
    /// else 401 with PocketBase's wording (endpoints about one's own account).
    pub fn record_of(&self, collection_id: &str) -> Result<&AuthRecord, ApiError> {
        self.record()
            .filter(|r| r.collection_id == collection_id)
            .ok_or_else(|| {
                ApiError::unauthorized("The request requires valid record authorization token.")
            })
    }

    /// 401 unless a superuser, with PocketBase's wording.
    pub fn require_superuser(&self) -> Result<(), ApiError> {
        match self {
            Auth::Superuser(_) => Ok(()),
            Auth::Record(_) => Err(ApiError::forbidden_with(
                "The authorized record is not allowed to perform this action.",
            )),
            Auth::Guest => Err(ApiError::unauthorized(
                "The request requires valid record authorization token.",
            )),
        }
    }
}

/// The token in an `Authorization` header: `TOKEN` or `Bearer TOKEN`.
pub fn bearer(header: &str) -> &str {
    let header = header.trim();
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .unwrap_or(header)
        .trim()
}
