//! A configured provider: the catalog's defaults with the collection's
//! overrides applied, and the authorization URL a browser is sent to.

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::OAuth2Error;
use super::catalog::Kind;
use super::config::ProviderConfig;

/// A provider ready to use.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// How its users are read.
    pub kind: Kind,
    /// The configured name (`oidc2`…).
    pub name: String,
    /// Shown on sign-in buttons.
    pub display_name: String,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret.
    pub client_secret: String,
    /// Authorization endpoint.
    pub auth_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// User-info endpoint (`""`: read the id_token).
    pub user_info_url: String,
    /// Requested scopes.
    pub scopes: Vec<String>,
    /// Whether PKCE parameters are used.
    pub pkce: bool,
    /// Provider-specific options.
    pub extra: Map<String, Value>,
}

fn or_default(given: &str, default: &str) -> String {
    if given.is_empty() {
        default.to_string()
    } else {
        given.to_string()
    }
}

impl Provider {
    /// The provider of a collection's config entry.
    pub fn init(config: &ProviderConfig) -> Result<Provider, OAuth2Error> {
        let kind = Kind::by_name(&config.name)
            .ok_or_else(|| OAuth2Error::UnknownProvider(config.name.clone()))?;
        let d = kind.defaults();
        let extra = config.extra.clone().unwrap_or_default();
        let mut scopes: Vec<String> = d.scopes.iter().map(|s| s.to_string()).collect();
        // Microsoft's email claims live in the id_token, which needs `openid`.
        if kind == Kind::Microsoft
            && extra
                .get("idTokenEmailClaim")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        {
            scopes.push("openid".into());
        }
        Ok(Provider {
            kind,
            name: config.name.clone(),
            display_name: or_default(&config.display_name, d.display_name),
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            auth_url: or_default(&config.auth_url, d.auth_url),
            token_url: or_default(&config.token_url, d.token_url),
            user_info_url: or_default(&config.user_info_url, d.user_info_url),
            scopes,
            pkce: config.pkce.unwrap_or(d.pkce),
            extra,
        })
    }

    /// The URL a browser opens to sign in: PocketBase's parameters, sorted by
    /// name, ending with an empty `redirect_uri=` the client completes with its
    /// own (URL-encoded) redirect URL. `challenge` is the PKCE S256 challenge.
    pub fn auth_url(&self, state: &str, challenge: Option<&str>) -> String {
        let mut params: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("response_type", "code".into()),
            ("state", state.to_string()),
        ];
        if !self.scopes.is_empty() {
            params.push(("scope", self.scopes.join(" ")));
        }
        if let Some(c) = challenge {
            params.push(("code_challenge", c.to_string()));
            params.push(("code_challenge_method", "S256".into()));
        }
        if self.kind == Kind::Apple {
            // Apple posts the code back when it shares the user's name.
            params.push(("response_mode", "form_post".into()));
        }
        params.sort_by(|a, b| a.0.cmp(b.0));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let sep = if self.auth_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{sep}{query}&redirect_uri=", self.auth_url)
    }

    /// A text option of `extra`.
    pub fn extra_text(&self, key: &str) -> &str {
        self.extra
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The `issuers` option of `extra` (a list, or one string).
    pub fn extra_issuers(&self) -> Vec<String> {
        match self.extra.get("issuers") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => Vec::new(),
        }
    }
}

/// A fresh PKCE verifier (43 URL-safe characters) and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let verifier = crate::id::random_string(
        43,
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    );
    let challenge = s256_challenge(&verifier);
    (verifier, challenge)
}

/// The S256 challenge of a PKCE verifier: base64url (no padding) of its SHA-256.
pub fn s256_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str) -> ProviderConfig {
        ProviderConfig {
            name: name.into(),
            client_id: "cid".into(),
            client_secret: "sec".into(),
            ..Default::default()
        }
    }

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let (v, c) = pkce_pair();
        assert_eq!(v.len(), 43);
        assert_eq!(c, s256_challenge(&v));
    }

    #[test]
    fn named_providers_build_their_fixed_auth_urls() -> Result<(), OAuth2Error> {
        let google = Provider::init(&config("google"))?;
        assert_eq!(
            google.auth_url("st", Some("ch")),
            "https://accounts.google.com/o/oauth2/v2/auth?client_id=cid&code_challenge=ch\
             &code_challenge_method=S256&response_type=code\
             &scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.profile+https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email\
             &state=st&redirect_uri="
        );
        let github = Provider::init(&config("github"))?;
        assert_eq!(
            github.auth_url("st", None),
            "https://github.com/login/oauth/authorize?client_id=cid&response_type=code\
             &scope=read%3Auser+user%3Aemail&state=st&redirect_uri="
        );
        let apple = Provider::init(&config("apple"))?;
        assert!(
            apple
                .auth_url("st", None)
                .contains("&response_mode=form_post&")
        );
        for (name, token) in [
            ("gitlab", "https://gitlab.com/oauth/token"),
            ("discord", "https://discord.com/api/oauth2/token"),
            (
                "microsoft",
                "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            ),
            ("apple", "https://appleid.apple.com/auth/token"),
        ] {
            assert_eq!(Provider::init(&config(name))?.token_url, token);
        }
        Ok(())
    }

    #[test]
    fn config_overrides_defaults() -> Result<(), OAuth2Error> {
        let mut c = config("oidc2");
        c.auth_url = "http://127.0.0.1:9/auth?x=1".into();
        c.display_name = "Corp SSO".into();
        c.pkce = Some(false);
        let p = Provider::init(&c)?;
        assert_eq!(p.kind, Kind::Oidc);
        assert_eq!(p.display_name, "Corp SSO");
        assert!(!p.pkce);
        assert!(
            p.auth_url("s", None)
                .starts_with("http://127.0.0.1:9/auth?x=1&client_id=cid&")
        );
        assert_eq!(Provider::init(&config("oidc"))?.display_name, "OIDC");
        assert!(Provider::init(&config("myspace")).is_err());
        let mut ms = config("microsoft");
        ms.extra = serde_json::from_str(r#"{"idTokenEmailClaim": "email"}"#).ok();
        assert!(Provider::init(&ms)?.scopes.contains(&"openid".to_string()));
        Ok(())
    }
}
