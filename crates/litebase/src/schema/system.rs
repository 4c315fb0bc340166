//! What litebase itself decides about system collections.

use super::{Collection, CollectionType};

/// Fields never returned by the API, whoever asks.
pub fn is_secret_field(c: &Collection, field: &str) -> bool {
    c.kind == CollectionType::Auth && matches!(field, "tokenKey" | "password")
}
