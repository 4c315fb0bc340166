//! OAuth2 providers, as a tool that knows nothing of the app (PocketBase's
//! `tools/auth`): the [`catalog`] of known providers, their [`config`] in a
//! collection's options, the authorization URL ([`provider`]), the code
//! exchange and user lookup over HTTP ([`client`]), id_token checks
//! ([`id_token`]) and each provider's user shape ([`user`]).
//!
//! The sign-in flow that links or creates records lives in `core/oauth2.rs`;
//! the endpoints in `api/oauth2.rs`.
//!
//! ```
//! use litebase::oauth2::{config::ProviderConfig, provider::Provider};
//! let config = ProviderConfig { name: "github".into(), client_id: "id".into(), ..Default::default() };
//! let github = Provider::init(&config).expect("a known provider");
//! assert!(github.auth_url("state", None).starts_with("https://github.com/login/oauth/authorize?"));
//! ```

pub mod catalog;
pub mod client;
pub mod config;
pub mod id_token;
pub mod provider;
pub mod user;

pub use user::{AuthUser, Token};

/// What can go wrong talking to a provider.
#[derive(Debug, thiserror::Error)]
pub enum OAuth2Error {
    /// The name is not in the catalog.
    #[error("missing provider {0}")]
    UnknownProvider(String),
    /// The provider could not be reached or the answer not read.
    #[error("request failed: {0}")]
    Http(String),
    /// The provider answered with an error status.
    #[error("{url} answered {status}: {body}")]
    Status {
        /// The endpoint.
        url: String,
        /// Its HTTP status.
        status: u16,
        /// The start of its answer.
        body: String,
    },
    /// The token endpoint refused or answered without a token.
    #[error("token: {0}")]
    Token(String),
    /// The answer was not what the provider documents.
    #[error("unexpected answer: {0}")]
    BadResponse(String),
    /// The id_token is missing, malformed, expired, or not for us.
    #[error("id_token: {0}")]
    IdToken(String),
}
