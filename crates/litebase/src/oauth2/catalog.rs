//! The providers litebase knows, with their fixed endpoints, scopes and names:
//! the generic OpenID Connect provider (under `oidc`, `oidc2` and `oidc3`, so a
//! collection can use three of them) and the common named ones.

/// A kind of provider: decides the defaults and how the user is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any OpenID Connect provider (endpoints from the config).
    Oidc,
    /// Google.
    Google,
    /// GitHub (the verified primary email comes from a second request).
    Github,
    /// GitLab (gitlab.com unless the URLs say otherwise).
    Gitlab,
    /// Microsoft Entra ID (the `common` tenant unless the URLs say otherwise).
    Microsoft,
    /// Discord.
    Discord,
    /// Sign in with Apple (the user comes from the signed id_token).
    Apple,
}

/// A provider's defaults, before the collection's config overrides them.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// The name as people write it.
    pub display_name: &'static str,
    /// Authorization endpoint.
    pub auth_url: &'static str,
    /// Token endpoint.
    pub token_url: &'static str,
    /// User-info endpoint (`""`: the user comes from the id_token).
    pub user_info_url: &'static str,
    /// The permissions asked for.
    pub scopes: &'static [&'static str],
    /// Whether PKCE parameters are sent.
    pub pkce: bool,
}

/// Every provider name a collection may configure, in the order the admin UI
/// lists them.
pub const NAMES: &[&str] = &[
    "apple",
    "google",
    "microsoft",
    "github",
    "gitlab",
    "discord",
    "oidc",
    "oidc2",
    "oidc3",
];

impl Kind {
    /// The kind behind a configured provider name.
    pub fn by_name(name: &str) -> Option<Kind> {
        Some(match name {
            "oidc" | "oidc2" | "oidc3" => Kind::Oidc,
            "google" => Kind::Google,
            "github" => Kind::Github,
            "gitlab" => Kind::Gitlab,
            "microsoft" => Kind::Microsoft,
            "discord" => Kind::Discord,
            "apple" => Kind::Apple,
            _ => return None,
        })
    }

    /// The provider's defaults.
    pub fn defaults(self) -> Defaults {
        match self {
            Kind::Oidc => Defaults {
                display_name: "OIDC",
                auth_url: "",
                token_url: "",
                user_info_url: "",
                scopes: &["openid", "email", "profile"],
                pkce: true,
            },
            Kind::Google => Defaults {
                display_name: "Google",
                auth_url: "https://accounts.google.com/o/oauth2/v2/auth",
                token_url: "https://oauth2.googleapis.com/token",
                user_info_url: "https://www.googleapis.com/oauth2/v3/userinfo",
                scopes: &[
                    "https://www.googleapis.com/auth/userinfo.profile",
                    "https://www.googleapis.com/auth/userinfo.email",
                ],
                pkce: true,
            },
            Kind::Github => Defaults {
                display_name: "GitHub",
                auth_url: "https://github.com/login/oauth/authorize",
                token_url: "https://github.com/login/oauth/access_token",
                user_info_url: "https://api.github.com/user",
                scopes: &["read:user", "user:email"],
                // GitHub ignores the PKCE parameters; sending them is harmless.
                pkce: true,
            },
            Kind::Gitlab => Defaults {
                display_name: "GitLab",
                auth_url: "https://gitlab.com/oauth/authorize",
                token_url: "https://gitlab.com/oauth/token",
                user_info_url: "https://gitlab.com/api/v4/user",
                scopes: &["read_user"],
                pkce: true,
            },
            Kind::Microsoft => Defaults {
                display_name: "Microsoft",
                auth_url: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
                user_info_url: "https://graph.microsoft.com/v1.0/me",
                scopes: &["User.Read"],
                pkce: true,
            },
            Kind::Discord => Defaults {
                display_name: "Discord",
                auth_url: "https://discord.com/api/oauth2/authorize",
                token_url: "https://discord.com/api/oauth2/token",
                user_info_url: "https://discord.com/api/users/@me",
                scopes: &["identify", "email"],
                pkce: true,
            },
            Kind::Apple => Defaults {
                display_name: "Apple",
                auth_url: "https://appleid.apple.com/auth/authorize",
                token_url: "https://appleid.apple.com/auth/token",
                user_info_url: "",
                scopes: &["name", "email"],
                pkce: true,
            },
        }
    }
}

/// Where Apple publishes the keys its id_tokens are signed with.
pub const APPLE_JWKS_URL: &str = "https://appleid.apple.com/auth/keys";
/// The issuer of Apple's id_tokens.
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_is_known_and_unknown_names_are_not() {
        for name in NAMES {
            assert!(Kind::by_name(name).is_some(), "{name}");
        }
        assert_eq!(Kind::by_name("oidc3"), Some(Kind::Oidc));
        assert_eq!(Kind::by_name("Google"), None);
        assert_eq!(Kind::by_name("facebook"), None);
    }

    #[test]
    fn named_providers_have_https_endpoints() {
        for name in NAMES.iter().filter(|n| !n.starts_with("oidc")) {
            let d = Kind::by_name(name).map(Kind::defaults);
            let Some(d) = d else { continue };
            assert!(d.auth_url.starts_with("https://"), "{name}");
            assert!(d.token_url.starts_with("https://"), "{name}");
            assert!(
                d.user_info_url.is_empty() || d.user_info_url.starts_with("https://"),
                "{name}"
            );
        }
    }
}
