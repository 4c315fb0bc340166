//! The seam for OAuth2 sign-in (not built in yet).
//!
//! An auth collection's `oauth2` options already round-trip in PocketBase's shape
//! and `auth-methods` reports OAuth2 as off. Adding a provider means implementing
//! [`Provider`] and an `auth-with-oauth2` endpoint that: finds the provider named
//! in the request, calls [`Provider::exchange`] with the code and PKCE verifier,
//! then links or creates the record through `auth::accounts` (an `_externalAuths`
//! table maps provider + provider id to records) and answers like
//! `auth-with-password` (`{token, record, meta}`), so the rest of auth — tokens,
//! rules, realtime — needs no change.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::AuthError;

/// The user a provider vouches for.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderUser {
    /// The provider's stable id for the user.
    pub id: String,
    /// Email address, if the provider shares one.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// Everything the provider returned (becomes `meta.rawUser`).
    pub raw: Value,
}

/// What an OAuth2 provider (Google, GitHub, …) has to offer litebase.
pub trait Provider: Send + Sync {
    /// The name used in collection options and requests (`google`).
    fn name(&self) -> &str;

    /// Where to send the browser to sign in (with `state` and a PKCE challenge).
    fn auth_url(&self, state: &str, code_challenge: &str, redirect_url: &str) -> String;

    /// Trades the authorization code for the user's profile.
    fn exchange<'a>(
        &'a self,
        code: &'a str,
        code_verifier: &'a str,
        redirect_url: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<ProviderUser, AuthError>> + Send + 'a>>;
}
