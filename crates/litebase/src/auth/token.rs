//! Auth tokens: HS256 JWTs, PocketBase's claims, signed with a key made of the
//! collection's secret and the record's `tokenKey` — so rotating the token key (on a
//! password change) voids every token issued before.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::AuthError;

/// What a token is for; each purpose has its own signing secret, so a token
/// made for one can never pass as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signed-in requests.
    Auth,
    /// Confirming an email address.
    Verification,
    /// Setting a new password.
    PasswordReset,
    /// Moving to a new email address.
    EmailChange,
    /// Short-lived download links (`POST /api/files/token`, then `?token=`).
    File,
}

impl Purpose {
    /// The `type` claim PocketBase uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Auth => "auth",
            Purpose::Verification => "verification",
            Purpose::PasswordReset => "passwordReset",
            Purpose::EmailChange => "emailChange",
            Purpose::File => "file",
        }
    }
}

/// The per-collection, per-purpose secret, derived from the instance's master
/// secret (HMAC-SHA256), so no secret has to be stored per collection.
pub fn derive_secret(master: &str, collection_id: &str, purpose: Purpose) -> String {
    use hmac::{Hmac, Mac};
    type HmacSha256 = Hmac<sha2::Sha256>;
    let mut mac = match HmacSha256::new_from_slice(master.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(collection_id.as_bytes());
    mac.update(b":");
    mac.update(purpose.as_str().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The claims PocketBase puts in its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The record id.
    pub id: String,
    /// `auth`, `verification`, `passwordReset` or `emailChange`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The auth collection's id.
    #[serde(rename = "collectionId")]
    pub collection_id: String,
    /// Whether `auth-refresh` may renew it (auth tokens).
    #[serde(default)]
    pub refreshable: bool,
    /// The address a verification / reset / email-change token was sent for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The new address of an email-change token.
    #[serde(default, rename = "newEmail", skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
}

/// Signs `claims` (their `exp` must be set) with the secret and the record's token key.
pub fn sign(claims: &Claims, secret: &str, token_key: &str) -> Result<String, AuthError> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&signing_key(secret, token_key)),
    )
    .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Seconds since the epoch, `ttl` from now.
pub fn expiry(ttl_secs: u64) -> u64 {
    jsonwebtoken::get_current_timestamp() + ttl_secs
}

fn signing_key(secret: &str, token_key: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(secret.len() + token_key.len());
    key.extend_from_slice(token_key.as_bytes());
    key.extend_from_slice(secret.as_bytes());
    key
}

/// A new auth token for a record, valid `ttl_secs`; impersonation tokens are not
/// `refreshable`.
pub fn issue(
    secret: &str,
    token_key: &str,
    record_id: &str,
    collection_id: &str,
    ttl_secs: u64,
    refreshable: bool,
) -> Result<String, AuthError> {
    let claims = Claims {
        id: record_id.to_string(),
        kind: "auth".into(),
        collection_id: collection_id.to_string(),
        refreshable,
        email: None,
        new_email: None,
        exp: expiry(ttl_secs),
    };
    sign(&claims, secret, token_key)
}

/// The claims of a token, unverified: only to find which record's key verifies it.
pub fn peek(token: &str) -> Option<Claims> {
    jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token).ok()
}

/// The claims, if `token` was signed with this secret and token key, is an auth
/// token and has not expired. The algorithm is pinned: `none` or RS256 tokens fail.
pub fn verify(token: &str, secret: &str, token_key: &str) -> Result<Claims, AuthError> {
    verify_purpose(token, secret, token_key, Purpose::Auth)
}

/// Like [`verify`], for a token of another purpose.
pub fn verify_purpose(
    token: &str,
    secret: &str,
    token_key: &str,
    purpose: Purpose,
) -> Result<Claims, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(&signing_key(secret, token_key)),
        &validation,
    )
    .map_err(|_| AuthError::BadToken)?;
    // A token is dead in the second it expires (whole-second clock, no leeway).
    if data.claims.kind != purpose.as_str()
        || data.claims.exp <= jsonwebtoken::get_current_timestamp()
    {
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
        let token = issue("secret", "key1", "abc", "pbc_1", 60, true)?;
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
                email: None,
                new_email: None,
                exp: 1,
            },
            &EncodingKey::from_secret(&signing_key("s", "k")),
        )
        .map_err(|e| AuthError::Hash(e.to_string()))?;
        assert!(verify(&expired, "s", "k").is_err());

        let good = issue("s", "k", "a", "c", 60, true)?;
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        // Swap in claims for another record, keep the signature.
        let forged_claims = issue("s", "k", "b", "c", 60, true)?;
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

#[cfg(test)]
mod purpose_tests {
    use super::*;

    #[test]
    fn derived_secrets_differ_by_collection_and_purpose() {
        let a = derive_secret("master", "c1", Purpose::Auth);
        assert_eq!(a.len(), 64);
        assert_eq!(a, derive_secret("master", "c1", Purpose::Auth));
        assert_ne!(a, derive_secret("master", "c2", Purpose::Auth));
        assert_ne!(a, derive_secret("master", "c1", Purpose::PasswordReset));
        assert_ne!(a, derive_secret("other", "c1", Purpose::Auth));
    }

    #[test]
    fn a_reset_token_is_not_an_auth_token() -> Result<(), AuthError> {
        let claims = Claims {
            id: "r".into(),
            kind: "passwordReset".into(),
            collection_id: "c".into(),
            refreshable: false,
            email: Some("a@b.co".into()),
            new_email: None,
            exp: expiry(60),
        };
        let t = sign(&claims, "s", "k")?;
        assert!(verify(&t, "s", "k").is_err());
        assert_eq!(
            verify_purpose(&t, "s", "k", Purpose::PasswordReset)?
                .email
                .as_deref(),
            Some("a@b.co")
        );
        Ok(())
    }
}
