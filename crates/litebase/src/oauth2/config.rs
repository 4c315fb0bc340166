//! How an auth collection configures OAuth2, in PocketBase's JSON shape
//! (`options.auth.oauth2` of a collection): the providers with their client
//! credentials and endpoint overrides, and which record fields get the
//! provider's user data on sign-up.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One configured provider (`oauth2.providers[]`). Empty URLs and display name
/// mean the provider's own defaults; `pkce: null` means the provider's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderConfig {
    /// The provider's name in the catalog (`google`, `oidc`, `oidc2`…).
    pub name: String,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret (superusers see it back, as in PocketBase).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_secret: String,
    /// Overrides the provider's authorization endpoint.
    #[serde(rename = "authURL")]
    pub auth_url: String,
    /// Overrides the provider's token endpoint.
    #[serde(rename = "tokenURL")]
    pub token_url: String,
    /// Overrides the provider's user-info endpoint.
    #[serde(rename = "userInfoURL")]
    pub user_info_url: String,
    /// Overrides the provider's display name.
    pub display_name: String,
    /// Forces PKCE on or off (`None`: the provider's default).
    pub pkce: Option<bool>,
    /// Provider-specific options (`jwksURL`, `issuers`, `idTokenEmailClaim`…).
    pub extra: Option<Map<String, Value>>,
}

/// Record fields that receive the provider's user data when OAuth2 creates a
/// record (`""`: not mapped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct MappedFields {
    /// The provider's user id.
    pub id: String,
    /// The user's name.
    pub name: String,
    /// The user's handle.
    pub username: String,
    /// The avatar (a URL, or downloaded into a file field).
    #[serde(rename = "avatarURL")]
    pub avatar_url: String,
}

/// A problem with one provider entry, as PocketBase reports it under
/// `oauth2.providers.N.FIELD`.
fn problem(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

fn is_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !text.chars().any(char::is_whitespace)
}

/// Checks the providers of an enabled OAuth2 config as PocketBase does: a known
/// name, a client id and secret, well-formed URLs, no provider twice. Returns
/// the problems keyed by provider index (empty: fine).
pub fn validate_providers(providers: &[ProviderConfig]) -> Map<String, Value> {
    let mut out = Map::new();
    let mut seen = std::collections::HashSet::new();
    for (i, p) in providers.iter().enumerate() {
        let mut errors = Map::new();
        if p.name.is_empty() {
            errors.insert(
                "name".into(),
                problem("validation_required", "Cannot be blank."),
            );
        } else if super::catalog::Kind::by_name(&p.name).is_none() {
            errors.insert(
                "name".into(),
                json!({"code": "validation_missing_provider",
                       "message": format!("Invalid or missing provider with name {}.", p.name),
                       "params": {"name": p.name}}),
            );
        } else if !seen.insert(p.name.clone()) {
            errors.insert(
                "name".into(),
                json!({"code": "validation_duplicated_provider",
                       "message": format!("The provider {} is already registered.", p.name),
                       "params": {"name": p.name}}),
            );
        }
        if p.client_id.is_empty() {
            errors.insert(
                "clientId".into(),
                problem("validation_required", "Cannot be blank."),
            );
        }
        if p.client_secret.is_empty() {
            errors.insert(
                "clientSecret".into(),
                problem("validation_required", "Cannot be blank."),
            );
        }
        for (key, url) in [
            ("authURL", &p.auth_url),
            ("tokenURL", &p.token_url),
            ("userInfoURL", &p.user_info_url),
        ] {
            if !url.is_empty() && !is_url(url) {
                errors.insert(
                    key.into(),
                    problem("validation_is_url", "Must be a valid URL."),
                );
            }
        }
        if !errors.is_empty() {
            out.insert(i.to_string(), Value::Object(errors));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_pocketbase_shape() {
        let given = json!({"name": "oidc", "clientId": "c", "clientSecret": "s",
            "authURL": "http://127.0.0.1:1/auth", "tokenURL": "", "userInfoURL": "",
            "displayName": "Mine", "pkce": null, "extra": null});
        let p: ProviderConfig = serde_json::from_value(given.clone()).unwrap_or_default();
        assert_eq!(p.auth_url, "http://127.0.0.1:1/auth");
        assert_eq!(serde_json::to_value(&p).ok(), Some(given));
        let m: MappedFields =
            serde_json::from_value(json!({"name": "name", "avatarURL": "avatar"}))
                .unwrap_or_default();
        assert_eq!(m.avatar_url, "avatar");
        assert_eq!(m.id, "");
    }

    #[test]
    fn validation_names_each_bad_provider_field() {
        let ok = ProviderConfig {
            name: "google".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            ..Default::default()
        };
        let twice = ok.clone();
        let unknown = ProviderConfig {
            name: "nope".into(),
            auth_url: "not a url".into(),
            ..Default::default()
        };
        let problems = validate_providers(&[ok, twice, unknown]);
        assert!(problems.get("0").is_none());
        assert_eq!(
            problems["1"]["name"]["code"],
            "validation_duplicated_provider"
        );
        assert_eq!(problems["2"]["name"]["code"], "validation_missing_provider");
        assert_eq!(problems["2"]["clientId"]["code"], "validation_required");
        assert_eq!(problems["2"]["authURL"]["code"], "validation_is_url");
    }
}
