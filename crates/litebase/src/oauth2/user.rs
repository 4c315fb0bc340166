//! The user a provider vouches for, read from each provider's own JSON shape.
//! Pure functions: the HTTP side ([`super::client`]) fetches the JSON, these
//! decide what it means. An email is kept only when the provider says it is
//! verified, because litebase links accounts by verified email.

use serde_json::{Map, Value, json};

use super::catalog::Kind;

/// The tokens a provider's token endpoint answered with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Token {
    /// The access token (sent to the user-info endpoint).
    pub access_token: String,
    /// The refresh token, if any.
    pub refresh_token: String,
    /// When the access token expires (`None`: the provider did not say).
    pub expiry: Option<time::OffsetDateTime>,
    /// The OpenID Connect id_token, if any.
    pub id_token: String,
}

/// A provider's user in PocketBase's `meta` shape (`auth-with-oauth2` answers it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthUser {
    /// The provider's stable id for the user.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Handle, if the provider has one.
    pub username: String,
    /// The VERIFIED email address (`""` when the provider cannot vouch for one).
    pub email: String,
    /// Avatar URL.
    pub avatar_url: String,
    /// Everything the provider said about the user.
    pub raw: Map<String, Value>,
    /// The tokens of this sign-in.
    pub token: Token,
}

impl AuthUser {
    /// `meta` of the `auth-with-oauth2` answer (without `isNew`), with the
    /// legacy `avatarUrl` older SDKs read.
    pub fn meta(&self) -> Map<String, Value> {
        let expiry = self
            .token
            .expiry
            .map(crate::query::format_datetime)
            .unwrap_or_default();
        let value = json!({
            "id": self.id,
            "name": self.name,
            "username": self.username,
            "email": self.email,
            "avatarURL": self.avatar_url,
            "avatarUrl": self.avatar_url,
            "accessToken": self.token.access_token,
            "refreshToken": self.token.refresh_token,
            "expiry": expiry,
            "rawUser": self.raw,
        });
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

fn text(raw: &Map<String, Value>, key: &str) -> String {
    match raw.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Loose truth as providers send it: `true`, `"true"`, `1`…
fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => {
            matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "t")
        }
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

/// Options of [`from_profile`] that come from the provider's config.
#[derive(Debug, Clone, Default)]
pub struct MapOptions<'a> {
    /// Microsoft's `idTokenEmailClaim` extra option.
    pub microsoft_email_claim: &'a str,
    /// The id_token's claims, when the token had one (Microsoft reads the email there).
    pub id_token_claims: Option<&'a Map<String, Value>>,
}

/// The user of `raw` (the user-info answer, or the id_token's claims for
/// OpenID Connect without a user-info URL and for Apple) for a provider of
/// `kind`. GitHub's email is set separately ([`github_primary_email`]).
pub fn from_profile(
    kind: Kind,
    raw: Map<String, Value>,
    token: Token,
    opts: &MapOptions<'_>,
) -> AuthUser {
    let mut user = AuthUser {
        token,
        ..AuthUser::default()
    };
    match kind {
        Kind::Oidc | Kind::Google | Kind::Apple => {
            user.id = text(&raw, "sub");
            user.name = text(&raw, "name");
            if kind == Kind::Oidc {
                user.username = text(&raw, "preferred_username");
            }
            if kind != Kind::Apple {
                user.avatar_url = text(&raw, "picture");
            }
            if truthy(raw.get("email_verified")) {
                user.email = text(&raw, "email");
            }
        }
        Kind::Github => {
            user.id = text(&raw, "id");
            user.name = text(&raw, "name");
            user.username = text(&raw, "login");
            user.avatar_url = text(&raw, "avatar_url");
        }
        Kind::Gitlab => {
            user.id = text(&raw, "id");
            user.name = text(&raw, "name");
            user.username = text(&raw, "username");
            user.avatar_url = text(&raw, "avatar_url");
            let confirmed = text(&raw, "confirmed_at");
            if time::OffsetDateTime::parse(
                &confirmed,
                &time::format_description::well_known::Rfc3339,
            )
            .is_ok()
            {
                user.email = text(&raw, "email");
            }
        }
        Kind::Microsoft => {
            user.id = text(&raw, "id");
            user.name = text(&raw, "displayName");
            user.email = microsoft_email(&raw, opts);
        }
        Kind::Discord => {
            user.id = text(&raw, "id");
            user.username = text(&raw, "username");
            user.name = text(&raw, "global_name");
            if user.name.is_empty() {
                user.name = user.username.clone();
                let discriminator = text(&raw, "discriminator");
                if !discriminator.is_empty() && discriminator != "0" {
                    user.name = format!("{}#{discriminator}", user.name);
                }
            }
            let avatar = text(&raw, "avatar");
            if !avatar.is_empty() {
                user.avatar_url = format!(
                    "https://cdn.discordapp.com/avatars/{}/{avatar}.png",
                    user.id
                );
            }
            if truthy(raw.get("verified")) {
                user.email = text(&raw, "email");
            }
        }
    }
    user.raw = raw;
    user
}

/// Microsoft's Graph `mail` is not verified; the `idTokenEmailClaim` option
/// picks a verified claim of the id_token instead.
fn microsoft_email(raw: &Map<String, Value>, opts: &MapOptions<'_>) -> String {
    let empty = Map::new();
    let claims = opts.id_token_claims.unwrap_or(&empty);
    let primary = || text(claims, "verified_primary_email");
    let edov = || {
        if truthy(claims.get("xms_edov")) {
            text(claims, "email")
        } else {
            String::new()
        }
    };
    match opts.microsoft_email_claim {
        "any_verified" => Some(primary())
            .filter(|e| !e.is_empty())
            .unwrap_or_else(edov),
        "verified_primary_email" => primary(),
        "email_and_xms_edov" => edov(),
        "email" => text(claims, "email"),
        _ => text(raw, "mail"),
    }
}

/// The verified primary address in GitHub's `/user/emails` answer (`""`: none).
pub fn github_primary_email(emails: &Value) -> String {
    emails
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| truthy(e.get("verified")) && truthy(e.get("primary")))
        .and_then(|e| e.get("email"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn map(kind: Kind, raw: Value) -> AuthUser {
        from_profile(kind, obj(raw), Token::default(), &MapOptions::default())
    }

    #[test]
    fn google_keeps_only_a_verified_email() {
        let raw = json!({"sub": "1081", "name": "Ada L", "given_name": "Ada",
            "picture": "https://lh3.googleusercontent.com/a/x", "email": "ada@gmail.com",
            "email_verified": true, "locale": "en"});
        let u = map(Kind::Google, raw.clone());
        assert_eq!((u.id.as_str(), u.name.as_str()), ("1081", "Ada L"));
        assert_eq!(u.avatar_url, "https://lh3.googleusercontent.com/a/x");
        assert_eq!(u.email, "ada@gmail.com");
        assert_eq!(Value::Object(u.raw), raw);
        let mut unverified = raw;
        unverified["email_verified"] = json!(false);
        assert_eq!(map(Kind::Google, unverified).email, "");
    }

    #[test]
    fn oidc_reads_the_standard_claims_and_loose_email_verified() {
        let raw = json!({"sub": "u1", "name": "N", "preferred_username": "nn",
            "picture": "http://p", "email": "n@x.io", "email_verified": "true"});
        let u = map(Kind::Oidc, raw);
        assert_eq!(u.username, "nn");
        assert_eq!(u.email, "n@x.io");
        assert_eq!(
            map(Kind::Oidc, json!({"sub": "u1", "email": "n@x.io"})).email,
            ""
        );
    }

    #[test]
    fn github_ids_are_numbers_and_the_email_comes_from_the_list() {
        let u = map(
            Kind::Github,
            json!({"login": "octocat", "id": 583231, "avatar_url": "https://avatars.githubusercontent.com/u/583231",
                   "name": "The Octocat", "email": "public@github.com"}),
        );
        assert_eq!(u.id, "583231");
        assert_eq!(u.username, "octocat");
        assert_eq!(
            u.email, "",
            "the profile's email is not known to be verified"
        );
        let emails = json!([
            {"email": "old@x.io", "verified": true, "primary": false},
            {"email": "new@x.io", "verified": false, "primary": true},
            {"email": "main@x.io", "verified": true, "primary": true}
        ]);
        assert_eq!(github_primary_email(&emails), "main@x.io");
        assert_eq!(github_primary_email(&json!({"message": "Not Found"})), "");
    }

    #[test]
    fn gitlab_trusts_the_email_once_confirmed() {
        let raw = json!({"id": 1, "username": "john_smith", "name": "John Smith",
            "avatar_url": "http://localhost:3000/a.png", "email": "john@example.com",
            "confirmed_at": "2012-05-23T09:05:22Z"});
        let u = map(Kind::Gitlab, raw.clone());
        assert_eq!((u.id.as_str(), u.username.as_str()), ("1", "john_smith"));
        assert_eq!(u.email, "john@example.com");
        let mut unconfirmed = raw;
        unconfirmed["confirmed_at"] = Value::Null;
        assert_eq!(map(Kind::Gitlab, unconfirmed).email, "");
    }

    #[test]
    fn microsoft_email_follows_the_id_token_email_claim_option() {
        let raw = obj(
            json!({"id": "87d349ed", "displayName": "Megan Bowen", "mail": "MeganB@contoso.com"}),
        );
        let claims = obj(json!({"email": "megan@contoso.com", "xms_edov": true,
            "verified_primary_email": "primary@contoso.com"}));
        let with = |claim| {
            from_profile(
                Kind::Microsoft,
                raw.clone(),
                Token::default(),
                &MapOptions {
                    microsoft_email_claim: claim,
                    id_token_claims: Some(&claims),
                },
            )
            .email
        };
        assert_eq!(with(""), "MeganB@contoso.com");
        assert_eq!(with("verified_primary_email"), "primary@contoso.com");
        assert_eq!(with("email_and_xms_edov"), "megan@contoso.com");
        assert_eq!(with("any_verified"), "primary@contoso.com");
        let u = map(Kind::Microsoft, Value::Object(raw));
        assert_eq!(
            (u.id.as_str(), u.name.as_str()),
            ("87d349ed", "Megan Bowen")
        );
    }

    #[test]
    fn discord_builds_the_avatar_url_and_the_legacy_name() {
        let u = map(
            Kind::Discord,
            json!({"id": "80351110224678912", "username": "nelly", "discriminator": "1337",
                   "global_name": null, "avatar": "8342729096ea3675442027381ff50dfe",
                   "verified": true, "email": "nelly@discord.com"}),
        );
        assert_eq!(u.name, "nelly#1337");
        assert_eq!(
            u.avatar_url,
            "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"
        );
        assert_eq!(u.email, "nelly@discord.com");
        let named = map(
            Kind::Discord,
            json!({"id": "1", "username": "a", "discriminator": "0", "global_name": "Al"}),
        );
        assert_eq!(named.name, "Al");
        assert_eq!(named.avatar_url, "");
    }

    #[test]
    fn apple_reads_the_id_token_claims() {
        let u = map(
            Kind::Apple,
            json!({"iss": "https://appleid.apple.com", "sub": "001234.abcd", "email": "x@privaterelay.appleid.com",
                   "email_verified": "true", "is_private_email": "true"}),
        );
        assert_eq!(u.id, "001234.abcd");
        assert_eq!(u.email, "x@privaterelay.appleid.com");
        assert_eq!(u.avatar_url, "");
    }

    #[test]
    fn meta_has_pocketbase_keys() {
        let mut u = map(Kind::Oidc, json!({"sub": "s"}));
        u.token.expiry = time::OffsetDateTime::from_unix_timestamp(0).ok();
        let meta = u.meta();
        for key in [
            "id",
            "name",
            "username",
            "email",
            "avatarURL",
            "accessToken",
            "refreshToken",
            "expiry",
            "rawUser",
        ] {
            assert!(meta.contains_key(key), "{key}");
        }
        assert_eq!(meta["expiry"], "1970-01-01 00:00:00.000Z");
    }
}
