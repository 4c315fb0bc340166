//! From a token to the identity behind it: the token must name an auth
//! collection and a record of it, and verify with that record's current token
//! key. Like PocketBase, a missing or invalid token makes the request a
//! guest's; the endpoint then decides (a superuser-only endpoint answers 401, a
//! rule-protected one applies its rule to a guest).

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};

use super::accounts;
use super::service::Records;
use crate::auth::request::{Auth, AuthRecord, bearer};
use crate::auth::token;
use crate::error::ApiError;
use crate::schema::CollectionType;

impl Records {
    /// The secret tokens of `purpose` for records of a collection are signed
    /// with (together with each record's token key).
    pub fn token_secret(&self, collection_id: &str, purpose: token::Purpose) -> String {
        token::derive_secret(&self.master_secret, collection_id, purpose)
    }

    /// Resolves a token to its record, or `Guest`: the token must name an auth
    /// collection and a record of it, and verify with that record's current token key.
    pub async fn resolve(&self, token_text: &str) -> Auth {
        self.resolve_as(token_text, token::Purpose::Auth).await
    }

    /// Like [`resolve`], for a token of another purpose (a file token of
    /// `POST /api/files/token`).
    pub async fn resolve_as(&self, token_text: &str, purpose: token::Purpose) -> Auth {
        if token_text.is_empty() {
            return Auth::Guest;
        }
        let Some(claims) = token::peek(token_text) else {
            return Auth::Guest;
        };
        let schema = self.schema.current();
        let Some(collection) = schema.get(&claims.collection_id).cloned() else {
            return Auth::Guest;
        };
        if collection.kind != CollectionType::Auth || collection.id != claims.collection_id {
            return Auth::Guest;
        }
        let c = collection.clone();
        let id = claims.id.clone();
        let Ok(Some(row)) = self
            .db
            .read(move |conn| accounts::load(conn, &c, &id))
            .await
        else {
            return Auth::Guest;
        };
        let secret = self.token_secret(&collection.id, purpose);
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
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Auth, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        let records = req.app_data::<web::Data<Records>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| bearer(v).to_string());
        Box::pin(async move {
            match (records, header) {
                (Some(records), Some(token)) => {
                    let auth = records.resolve(&token).await;
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
