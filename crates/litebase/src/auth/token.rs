//! Auth tokens: HS256 JWTs, PocketBase's claims, signed with a key made of the
//! collection's secret and the record's `tokenKey` — so rotating the token key (on a
//! password change) voids every token issued before.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::AuthError;

/// The claims PocketBase puts in an auth token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The record id.
    pub id: String,
    /// Always `auth` for auth tokens.
    #[serde(rename = "type")]
    pub kind: String,
    /// The auth collection's id.
    #[serde(rename = "collectionId")]
    pub collection_id: String,
    /// Whether `auth-refresh` may renew it.
    pub refreshable: bool,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
}

fn signing_key(secret: &str, token_key: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(secret.len() + token_key.len());
    key.extend_from_slice(token_key.as_bytes());
    key.extend_from_slice(secret.as_bytes());
    key
}

/// A new auth token for a record, valid `ttl_secs`.
pub fn issue(
    secret: &str,
    token_key: &str,
    record_id: &str,
    collection_id: &str,
    ttl_secs: u64,
) -> Result<String, AuthError> {
    let claims = Claims {
        id: record_id.to_string(),
        kind: "auth".into(),
        collection_id: collection_id.to_string(),
        refreshable: true,
        exp: jsonwebtoken::get_current_timestamp() + ttl_secs,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&signing_key(secret, token_key)),
    )
    .map_err(|e| AuthError::Hash(e.to_string()))
}

/// The claims of a token, unverified: only to find which record's key verifies it.
pub fn peek(token: &str) -> Option<Claims> {
    jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token).ok()
}

/// The claims, if `token` was signed with this secret and token key, is an auth
/// token and has not expired. The algorithm is pinned: `none` or RS256 tokens fail.
pub fn verify(token: &str, secret: &str, token_key: &str) -> Result<Claims, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(&signing_key(secret, token_key)),
        &validation,
    )
    .map_err(|_| AuthError::BadToken)?;
    if data.claims.kind != "auth" {
        return Err(AuthError::BadToken);
    }
    Ok(data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_with_its_own_key_and_carries_pocketbase_claims()
    -> Result<(), AuthError> {
        let token = issue("secret", "key1", "abc", "pbc_1", 60)?;
        let claims = verify(&token, "secret", "key1")?;
        assert_eq!(claims.id, "abc");
        assert_eq!(claims.kind, "auth");
        assert_eq!(claims.collection_id, "pbc_1");
        assert!(claims.refreshable);
        assert!(claims.exp > jsonwebtoken::get_current_timestamp());
        assert_eq!(peek(&token).map(|c| c.id), Some("abc".into()));
        // A rotated token key or another secret voids it.
        assert!(verify(&token, "secret", "key2").is_err());
        assert!(verify(&token, "other", "key1").is_err());
        Ok(())
    }

    #[test]
    fn expired_tampered_and_unsigned_tokens_fail() -> Result<(), AuthError> {
        let expired = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                id: "a".into(),
                kind: "auth".into(),
                collection_id: "c".into(),
                refreshable: true,
                exp: 1,
            },
            &EncodingKey::from_secret(&signing_key("s", "k")),
        )
        .map_err(|e| AuthError::Hash(e.to_string()))?;
        assert!(verify(&expired, "s", "k").is_err());

        let good = issue("s", "k", "a", "c", 60)?;
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        // Swap in claims for another record, keep the signature.
        let forged_claims = issue("s", "k", "b", "c", 60)?;
        parts[1] = forged_claims
            .split('.')
            .nth(1)
            .unwrap_or_default()
            .to_string();
        assert!(verify(&parts.join("."), "s", "k").is_err());

        // alg=none: header {"alg":"none","typ":"JWT"}, no signature.
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
        assert!(verify(&none, "s", "k").is_err());
        assert!(verify("garbage", "s", "k").is_err());
        Ok(())
    }
}
