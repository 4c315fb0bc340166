//! The settings document, in PocketBase's `/api/settings` shape, and how a
//! partial update is laid over the current one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::app::AppSetting;
use crate::config::Config;

/// Every setting an admin may change at runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The app's name, URL and mail sender.
    pub meta: Meta,
    /// The SMTP relay of outgoing mail.
    pub smtp: Smtp,
    /// Request log retention.
    pub logs: Logs,
    /// Limits on the auth endpoints.
    pub rate_limits: RateLimits,
    /// Which request headers name the client behind a reverse proxy.
    #[serde(default, deserialize_with = "null_as_default")]
    pub trusted_proxy: TrustedProxy,
    /// Scheduled backups (PocketBase's `backups`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub backups: Backups,
    /// Settings apps declared (see [`AppSetting`]), by key.
    pub apps: Map<String, Value>,
}

/// The app's identity, used in mails and links.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Display name in mails.
    pub app_name: String,
    /// Public URL, the root of links in mails (no trailing slash).
    #[serde(rename = "appURL")]
    pub app_url: String,
    /// The From name of mails.
    pub sender_name: String,
    /// The From address of mails.
    pub sender_address: String,
}

/// SMTP relay; disabled means mails are written to the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Smtp {
    /// Whether mails go through SMTP.
    pub enabled: bool,
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// User name, if the server wants one.
    pub username: String,
    /// Password; never sent back to clients (answers carry "").
    pub password: String,
    /// Implicit TLS from the first byte (port 465 style).
    pub tls: bool,
    /// Upgrade a plain connection with STARTTLS (ignored when `tls`).
    #[serde(default)]
    pub start_tls: bool,
}

/// How long request logs are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logs {
    /// Days a request log is kept; 0 turns request logging off.
    pub max_days: u32,
    /// Whether the client's IP is recorded.
    #[serde(rename = "logIP")]
    pub log_ip: bool,
}

/// Per-IP limits on the auth endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimits {
    /// Whether the limit applies.
    pub enabled: bool,
    /// Requests per minute one IP may make to each auth endpoint.
    pub auth_per_minute: u32,
}

/// Scheduled backups in PocketBase's shape:
/// `{"cron": "0 3 * * *", "cronMaxKeep": 3, "s3": {…}}`. With a `cron`, the job
/// `__pbAutoBackup__` makes a backup on that schedule and keeps the newest
/// `cronMaxKeep` of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backups {
    /// When to back up (a cron expression); empty turns scheduled backups off.
    #[serde(default)]
    pub cron: String,
    /// How many scheduled backups are kept (older ones are deleted).
    #[serde(default)]
    pub cron_max_keep: u32,
    /// Where backups would be uploaded (PocketBase's S3 config), kept as sent.
    /// Not used yet: backups stay in the data directory (S3 storage lands
    /// through `core::backups`, the one place backups are saved and listed).
    #[serde(default = "default_backups_s3")]
    pub s3: Value,
}

impl Default for Backups {
    fn default() -> Self {
        Backups {
            cron: String::new(),
            cron_max_keep: 3,
            s3: default_backups_s3(),
        }
    }
}

fn default_backups_s3() -> Value {
    serde_json::json!({
        "enabled": false, "bucket": "", "region": "", "endpoint": "",
        "accessKey": "", "secret": "", "forcePathStyle": false,
    })
}

impl crate::proxy::ForwardingHeaders for TrustedProxy {
    fn header_names(&self) -> &[String] {
        &self.headers
    }

    fn leftmost(&self) -> bool {
        self.use_leftmost_ip
    }
}

/// Where the client's address is read behind a reverse proxy, in PocketBase's
/// shape: `{"headers": ["X-Forwarded-For"], "useLeftmostIP": false}`. Headers
/// are only believed from the peers of `--trusted-proxies` (see
/// [`crate::proxy`]); with no headers the socket's address is the client's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedProxy {
    /// Headers to read, in order; the first that holds a valid address wins.
    #[serde(default, deserialize_with = "null_as_default")]
    pub headers: Vec<String>,
    /// Take the leftmost address of a list header (`X-Forwarded-For`) instead
    /// of the rightmost, the one the nearest proxy appended. The leftmost is
    /// whatever the client sent first, so only a proxy that replaces the
    /// header makes it safe.
    #[serde(
        rename = "useLeftmostIP",
        default,
        deserialize_with = "null_as_default"
    )]
    pub use_leftmost_ip: bool,
}

/// Reads `null` as the type's default, as PocketBase does for these settings
/// (`{"trustedProxy": {"headers": null}}` clears the list).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl Settings {
    /// The settings a fresh instance runs with: from the flags and environment,
    /// plus the defaults the app declared.
    pub fn from_config(config: &Config, declared: &[AppSetting]) -> Settings {
        let s = &config.serve;
        let tls = s.smtp_tls.eq_ignore_ascii_case("tls");
        Settings {
            meta: Meta {
                app_name: s.app_name.clone().unwrap_or_else(|| "litebase".into()),
                app_url: s
                    .app_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", s.http))
                    .trim_end_matches('/')
                    .to_string(),
                sender_name: s.sender_name.clone(),
                sender_address: s.sender_address.clone(),
            },
            smtp: Smtp {
                enabled: s.smtp_host.as_deref().is_some_and(|h| !h.is_empty()),
                host: s.smtp_host.clone().unwrap_or_default(),
                port: s.smtp_port,
                username: s.smtp_username.clone().unwrap_or_default(),
                password: s.smtp_password.clone().unwrap_or_default(),
                tls,
                start_tls: s.smtp_tls.eq_ignore_ascii_case("starttls"),
            },
            logs: Logs {
                max_days: 7,
                log_ip: true,
            },
            rate_limits: RateLimits {
                enabled: s.auth_rate_limit > 0,
                auth_per_minute: if s.auth_rate_limit > 0 {
                    s.auth_rate_limit
                } else {
                    60
                },
            },
            trusted_proxy: TrustedProxy {
                headers: s.trusted_proxy_headers.0.clone(),
                use_leftmost_ip: s.trusted_proxy_leftmost,
            },
            backups: Backups::default(),
            apps: declared
                .iter()
                .map(|d| (d.key.to_string(), d.default.clone()))
                .collect(),
        }
    }

    /// What clients are shown: everything but the SMTP password.
    pub fn redacted(&self) -> Settings {
        let mut shown = self.clone();
        shown.smtp.password = String::new();
        if let Some(secret) = shown.backups.s3.get_mut("secret") {
            *secret = Value::String(String::new());
        }
        shown
    }

    /// The requests per minute the auth limiter allows (0: no limit).
    pub fn auth_limit(&self) -> u32 {
        if self.rate_limits.enabled {
            self.rate_limits.auth_per_minute
        } else {
            0
        }
    }
}

/// Lays `patch` over `base`: objects merge key by key, anything else replaces.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_keeps_what_the_patch_leaves_out() {
        let mut base = json!({"meta": {"appName": "a", "appURL": "u"}, "logs": {"maxDays": 7}});
        merge(
            &mut base,
            &json!({"meta": {"appName": "b"}, "logs": {"maxDays": 0}}),
        );
        assert_eq!(
            base,
            json!({"meta": {"appName": "b", "appURL": "u"}, "logs": {"maxDays": 0}})
        );
    }
}
