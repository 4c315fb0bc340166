//! Who is making a request, from its `Authorization` header.
//!
//! Like PocketBase, a missing or invalid token makes the request a guest's; the
//! endpoint then decides (a superuser-only endpoint answers 401, a rule-protected
//! one applies its rule to a guest).

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use serde_json::{Map, Value};

use super::{accounts, token};
use crate::core::Core;
use crate::error::ApiError;
use crate::schema::CollectionType;

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

/// Resolves a token to its record, or `Guest`: the token must name an auth
/// collection and a record of it, and verify with that record's current token key.
pub async fn resolve(core: &Core, token_text: &str) -> Auth {
    resolve_as(core, token_text, token::Purpose::Auth).await
}

/// Like [`resolve`], for a token of another purpose (a file token of
/// `POST /api/files/token`).
pub async fn resolve_as(core: &Core, token_text: &str, purpose: token::Purpose) -> Auth {
    if token_text.is_empty() {
        return Auth::Guest;
    }
    let Some(claims) = token::peek(token_text) else {
        return Auth::Guest;
    };
    let schema = core.schema.current();
    let Some(collection) = schema.get(&claims.collection_id).cloned() else {
        return Auth::Guest;
    };
    if collection.kind != CollectionType::Auth || collection.id != claims.collection_id {
        return Auth::Guest;
    }
    let c = collection.clone();
    let id = claims.id.clone();
    let Ok(Some(row)) = core
        .db
        .read(move |conn| accounts::load(conn, &c, &id))
        .await
    else {
        return Auth::Guest;
    };
    let secret = core.token_secret(&collection.id, purpose);
    if token::verify_purpose(token_text, &secret, &row.token_key, purpose).is_err() {
        return Auth::Guest;
    }
    let record = AuthRecord {
        id: row.id,
        collection_id: collection.id.clone(),
        collection_name: collection.name.clone(),
        record: row.record,
    };
    if collection.name == "_superusers" {
        Auth::Superuser(record)
    } else {
        Auth::Record(record)
    }
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Auth, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        let core = req.app_data::<web::Data<Core>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| bearer(v).to_string());
        Box::pin(async move {
            match (core, header) {
                (Some(core), Some(token)) => {
                    let auth = resolve(&core, &token).await;
                    // For the request log, which records who asked.
                    let kind = match &auth {
                        Auth::Guest => crate::logs::AuthKind::Guest,
                        Auth::Record(_) => crate::logs::AuthKind::User,
                        Auth::Superuser(_) => crate::logs::AuthKind::Superuser,
                    };
                    req.extensions_mut().insert(kind);
                    Ok(auth)
                }
                _ => Ok(Auth::Guest),
            }
        })
    }
}
