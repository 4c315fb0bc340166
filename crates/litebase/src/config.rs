//! Every knob of a litebase app in one struct, filled from CLI flags and `LITEBASE_*`
//! environment variables (flags win), with defaults that work out of the box.

use std::path::PathBuf;

use clap::Args;

use crate::db::{DbOptions, Synchronous};
use crate::proxy::TrustedPeers;

/// Options every command shares (`serve`, `migrate`, `superuser`).
#[derive(Debug, Clone, Args)]
pub struct GlobalConfig {
    /// Data directory: the SQLite database and everything else the app stores.
    #[arg(
        long = "dir",
        env = "LITEBASE_DIR",
        default_value = "lb_data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Log filter: error, warn, info, debug, trace, or a tracing directive such as
    /// `info,litebase=debug`.
    #[arg(
        long,
        env = "LITEBASE_LOG_LEVEL",
        default_value = "info",
        global = true
    )]
    pub log_level: String,

    /// Commit durability: `normal` survives a process crash, `full` also survives a
    /// power cut (one fsync per committed batch).
    #[arg(
        long,
        env = "LITEBASE_SYNCHRONOUS",
        default_value = "normal",
        global = true
    )]
    pub synchronous: Synchronous,

    /// Where `migrate new` writes migration files (and `--dev` writes schema changes).
    #[arg(
        long,
        env = "LITEBASE_MIGRATIONS_DIR",
        default_value = "migrations",
        global = true
    )]
    pub migrations_dir: PathBuf,
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on (`IP:PORT`; port 0 picks a free one).
    #[arg(long, env = "LITEBASE_HTTP", default_value = "127.0.0.1:8090")]
    pub http: String,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "LITEBASE_BODY_LIMIT", default_value_t = 32 * 1024 * 1024)]
    pub body_limit: usize,

    /// HTTP worker threads; 0 means one per CPU core.
    #[arg(long, env = "LITEBASE_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Read-only SQLite connections (each on its own thread).
    #[arg(long, env = "LITEBASE_READ_CONNECTIONS", default_value_t = 4)]
    pub read_connections: usize,

    /// Seconds that in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long, env = "LITEBASE_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,

    /// Requests per minute one IP may make to each auth endpoint (sign-in, OTP,
    /// password reset, …); over it answers 429. 0 turns the limit off.
    #[arg(long, env = "LITEBASE_AUTH_RATE_LIMIT", default_value_t = 60)]
    pub auth_rate_limit: u32,

    /// Request headers that carry the client's address behind a reverse proxy,
    /// in order, comma-separated (e.g. `X-Forwarded-For` or `X-Real-IP`): the
    /// default of the `trustedProxy.headers` setting. Empty: every client is
    /// its socket's address.
    #[arg(long, env = "LITEBASE_TRUSTED_PROXY_HEADERS", default_value = "")]
    pub trusted_proxy_headers: HeaderNames,

    /// Take the leftmost address of `X-Forwarded-For` (the first client's, as
    /// sent) instead of the rightmost (the one the nearest proxy appended): the
    /// default of the `trustedProxy.useLeftmostIP` setting.
    #[arg(long, env = "LITEBASE_TRUSTED_PROXY_LEFTMOST")]
    pub trusted_proxy_leftmost: bool,

    /// The peers whose proxy headers are believed, as comma-separated addresses
    /// or CIDR ranges; headers from any other peer are ignored. Empty: no one.
    #[arg(
        long,
        env = "LITEBASE_TRUSTED_PROXIES",
        default_value = TrustedPeers::DEFAULT
    )]
    pub trusted_proxies: TrustedPeers,

    /// Messages that may wait for one realtime subscriber; a subscriber whose
    /// queue is full is too slow and is disconnected.
    #[arg(long, env = "LITEBASE_REALTIME_QUEUE", default_value_t = 256)]
    pub realtime_queue: usize,

    /// A NATS server linking the nodes of a cluster: this node publishes the
    /// record changes it commits, and other nodes' changes reach its superusers'
    /// realtime subscriptions. Unset, the node stands alone.
    #[arg(long, env = "LITEBASE_NATS_URL", hide_env_values = true)]
    pub nats_url: Option<String>,

    /// The first token of the relay's NATS subjects: one per cluster sharing a
    /// NATS server.
    #[arg(long, env = "LITEBASE_NATS_PREFIX", default_value = "litebase")]
    pub nats_prefix: String,

    /// A token that may read /api/metrics without superuser auth (for Prometheus).
    #[arg(long, env = "LITEBASE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Public URL of the app, used in links sent by mail (default: http://ADDR).
    #[arg(long, env = "LITEBASE_APP_URL")]
    pub app_url: Option<String>,

    /// Display name of the app in mails.
    #[arg(long, env = "LITEBASE_APP_NAME")]
    pub app_name: Option<String>,

    /// SMTP server for mails; without it, mails are written to the log.
    #[arg(long, env = "LITEBASE_SMTP_HOST")]
    pub smtp_host: Option<String>,

    /// SMTP port.
    #[arg(long, env = "LITEBASE_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,

    /// SMTP user name, if the server wants one.
    #[arg(long, env = "LITEBASE_SMTP_USERNAME")]
    pub smtp_username: Option<String>,

    /// SMTP password.
    #[arg(long, env = "LITEBASE_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,

    /// SMTP transport security: none, starttls or tls.
    #[arg(long, env = "LITEBASE_SMTP_TLS", default_value = "none")]
    pub smtp_tls: String,

    /// The From address of mails.
    #[arg(
        long,
        env = "LITEBASE_SENDER_ADDRESS",
        default_value = "no-reply@example.com"
    )]
    pub sender_address: String,

    /// The From name of mails.
    #[arg(long, env = "LITEBASE_SENDER_NAME", default_value = "Support")]
    pub sender_name: String,

    /// Development mode: schema changes made through the API are also written as
    /// migration files.
    #[arg(long, env = "LITEBASE_DEV")]
    pub dev: bool,
}

/// A comma-separated list of header names (`--trusted-proxy-headers`); empty
/// parts are skipped, so `""` is the empty list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderNames(
    /// The names, spaces trimmed, in the order given.
    pub Vec<String>,
);

impl std::str::FromStr for HeaderNames {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                if crate::proxy::is_header_name(name) {
                    Ok(name.to_string())
                } else {
                    Err(format!(
                        "{name:?} is not a header name: give names such as X-Forwarded-For or X-Real-IP, separated by commas"
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(HeaderNames)
    }
}

/// The whole configuration of a running app.
#[derive(Debug, Clone)]
pub struct Config {
    /// Shared options.
    pub global: GlobalConfig,
    /// Server options (defaults when not serving).
    pub serve: ServeConfig,
}

impl Config {
    /// The SQLite file inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.global.data_dir.join("data.db")
    }

    /// How to open the database for this configuration.
    pub fn db_options(&self) -> DbOptions {
        let mut options = DbOptions::new(self.database_path());
        options.synchronous = self.global.synchronous;
        options.read_connections = self.serve.read_connections.max(1);
        options
    }
}
