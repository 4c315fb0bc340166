//! OpenID Connect id_tokens: their claims, the checks PocketBase makes on them
//! (audience, issued-at, expiry, issuer), and their signature against a JWKS.
//! The token comes straight from the provider over TLS, so the signature check
//! is extra assurance; Apple's is always checked, a generic provider's when its
//! config names a `jwksURL`.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value};

use super::OAuth2Error;

/// How far clocks may disagree (PocketBase's default: five minutes).
pub const LEEWAY_SECS: i64 = 300;

fn bad(message: impl Into<String>) -> OAuth2Error {
    OAuth2Error::IdToken(message.into())
}

/// The claims of `id_token`, unverified.
pub fn claims(id_token: &str) -> Result<Map<String, Value>, OAuth2Error> {
    if id_token.is_empty() {
        return Err(bad("empty id_token"));
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(id_token)
        .map_err(|e| bad(format!("malformed id_token: {e}")))
}

/// What [`check_claims`] requires of a token.
#[derive(Debug, Clone, Default)]
pub struct Expect<'a> {
    /// The client id that must be among the audiences (`None`: not checked).
    pub audience: Option<&'a str>,
    /// Accepted issuers (empty: any).
    pub issuers: &'a [String],
    /// Whether `exp` must be present.
    pub require_exp: bool,
}

fn number(claims: &Map<String, Value>, key: &str) -> Result<Option<i64>, OAuth2Error> {
    match claims.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(|f| Some(f as i64))
            .ok_or_else(|| bad(format!("{key} is not a number"))),
    }
}

/// Checks the time claims (with [`LEEWAY_SECS`]), the audience and the issuer
/// of decoded claims at unix time `now`.
pub fn check_claims(
    claims: &Map<String, Value>,
    expect: &Expect<'_>,
    now: i64,
) -> Result<(), OAuth2Error> {
    match number(claims, "exp")? {
        Some(exp) if now > exp + LEEWAY_SECS => return Err(bad("token is expired")),
        None if expect.require_exp => return Err(bad("token has no exp claim")),
        _ => {}
    }
    if number(claims, "iat")?.is_some_and(|iat| iat > now + LEEWAY_SECS) {
        return Err(bad("token used before issued"));
    }
    if number(claims, "nbf")?.is_some_and(|nbf| nbf > now + LEEWAY_SECS) {
        return Err(bad("token is not valid yet"));
    }
    if let Some(audience) = expect.audience {
        let ok = match claims.get("aud") {
            Some(Value::String(s)) => s == audience,
            Some(Value::Array(items)) => items.iter().any(|a| a.as_str() == Some(audience)),
            _ => false,
        };
        if !ok {
            return Err(bad("token has invalid audience"));
        }
    }
    if !expect.issuers.is_empty() {
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !expect.issuers.iter().any(|i| i == iss) {
            return Err(bad(format!(
                "iss must be one of {:?}, got {iss:?}",
                expect.issuers
            )));
        }
    }
    Ok(())
}

/// Verifies the signature of `id_token` with the key of its `kid` in `jwks`
/// (a JWKS document, as providers publish at their `jwks_uri`).
pub fn verify_signature(id_token: &str, jwks: &Value) -> Result<(), OAuth2Error> {
    let header = jsonwebtoken::decode_header(id_token)
        .map_err(|e| bad(format!("malformed id_token header: {e}")))?;
    let set: JwkSet =
        serde_json::from_value(jwks.clone()).map_err(|e| bad(format!("unreadable JWKS: {e}")))?;
    let kid = header.kid.clone().unwrap_or_default();
    let jwk = set
        .keys
        .iter()
        .find(|k| k.common.key_id.as_deref().unwrap_or_default() == kid)
        .ok_or_else(|| bad(format!("no JWKS key with kid {kid:?}")))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| bad(format!("unusable JWKS key: {e}")))?;
    // Only the signature: the claims were checked by `check_claims`.
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Map<String, Value>>(id_token, &key, &validation)
        .map(|_| ())
        .map_err(|e| bad(format!("invalid id_token signature: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn claims_are_checked_like_pocketbase() {
        let now = 1_700_000_000;
        let good = obj(
            json!({"aud": ["other", "client"], "iat": now, "exp": now + 60, "iss": "https://i"}),
        );
        let issuers = vec!["https://i".to_string()];
        let expect = Expect {
            audience: Some("client"),
            issuers: &issuers,
            require_exp: true,
        };
        assert!(check_claims(&good, &expect, now).is_ok());
        assert!(
            check_claims(&good, &expect, now + 60 + LEEWAY_SECS + 1).is_err(),
            "expired"
        );
        let mut wrong_aud = good.clone();
        wrong_aud.insert("aud".into(), json!("someone-else"));
        assert!(check_claims(&wrong_aud, &expect, now).is_err());
        let mut future = good.clone();
        future.insert("iat".into(), json!(now + LEEWAY_SECS + 10));
        assert!(check_claims(&future, &expect, now).is_err());
        let mut other_iss = good.clone();
        other_iss.insert("iss".into(), json!("https://evil"));
        assert!(check_claims(&other_iss, &expect, now).is_err());
        let mut no_exp = good;
        no_exp.remove("exp");
        assert!(check_claims(&no_exp, &expect, now).is_err());
        let relaxed = Expect {
            require_exp: false,
            ..expect
        };
        assert!(check_claims(&no_exp, &relaxed, now).is_ok());
    }

    #[test]
    fn signatures_are_checked_against_the_jwks() -> Result<(), Box<dyn std::error::Error>> {
        use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
        let secret = b"a-shared-secret-of-enough-length";
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let token = encode(
            &header,
            &json!({"sub": "s"}),
            &EncodingKey::from_secret(secret),
        )?;
        use base64::Engine as _;
        let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let jwks = json!({"keys": [{"kty": "oct", "kid": "k1", "k": k, "alg": "HS256"}]});
        verify_signature(&token, &jwks)?;
        let other = json!({"keys": [{"kty": "oct", "kid": "k1", "k": "b3RoZXI", "alg": "HS256"}]});
        assert!(verify_signature(&token, &other).is_err());
        let no_kid = json!({"keys": [{"kty": "oct", "kid": "k2", "k": k, "alg": "HS256"}]});
        assert!(verify_signature(&token, &no_kid).is_err());
        assert_eq!(claims(&token)?["sub"], "s");
        assert!(claims("").is_err());
        Ok(())
    }
}
