//! Records: reading and writing rows of collections with PocketBase's semantics —
//! API rules, value coercion and validation, hooks, expand and field projection.
//!
//! Everything here runs on a SQLite connection handed in by the caller (a read
//! connection or the writer's transaction), so a batch can chain several writes
//! inside one transaction.

pub mod accounts;
pub mod download;
pub mod error;
pub mod expand;
pub mod external_auths;
pub mod flow;
pub mod identity;
pub mod parse;
pub mod projection;
pub mod read;
pub mod rules;
pub mod service;
pub mod superusers;
pub mod uploads;
pub mod value;
pub mod write;

pub use error::RecordError;

/// 403 for a `null` rule and a non-superuser, checked before anything is looked up.
pub fn superusers_only() -> RecordError {
    RecordError::forbidden_with("Only superusers can perform this action.")
}

/// 404 for an unknown collection, with PocketBase's wording.
pub fn missing_collection() -> RecordError {
    RecordError::MissingCollection
}
