//! Poker's own settings, read once from the environment at start-up.
//!
//! | variable               | meaning                                        | default |
//! |------------------------|------------------------------------------------|---------|
//! | `POKER_ROOM_TTL`       | idle seconds before a room expires and is deleted | 86400 |
//! | `POKER_SWEEP_INTERVAL` | seconds between two sweeps of expired rooms    | 60      |
//! | `POKER_MAX_WS`         | most open room WebSockets (lowers the cap the open-file limit gives) | from the limit |
//! | `POKER_WEBHOOK_ALLOW_PRIVATE` | `1`: room hosts may post results to loopback, private and link-local addresses | off |
//! | `POKER_SHARD`          | this node's shard in a cluster (0–61): its room codes begin with the shard's mark | none (one node) |
//!
//! ```
//! let config = poker::config::PokerConfig::from_vars(|name| match name {
//!     "POKER_ROOM_TTL" => Some("3600".into()),
//!     _ => None,
//! }).unwrap();
//! assert_eq!(config.room_ttl_secs, 3600);
//! assert_eq!(config.sweep_interval_secs, 60);
//! ```

use std::time::Duration;

use crate::room::shard::Shard;

/// A day: how long an idle room lives by default.
pub const DEFAULT_ROOM_TTL_SECS: u64 = 86_400;
/// How often expired rooms are swept by default.
pub const DEFAULT_SWEEP_INTERVAL_SECS: u64 = 60;

/// The longest accepted room expiry or sweep interval: ten years.
pub const MAX_SECONDS: u64 = 10 * 365 * 86_400;

/// A setting that could not be read; the process refuses to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?} is invalid: {why}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What a valid value looks like.
    pub why: &'static str,
}

/// Poker's settings (see the module docs for the variables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PokerConfig {
    /// Idle seconds after which a room expires.
    pub room_ttl_secs: u64,
    /// Seconds between two sweeps.
    pub sweep_interval_secs: u64,
    /// An explicit cap on open room WebSockets (the open-file limit gives one anyway).
    pub max_ws: Option<usize>,
    /// Room hosts are anonymous: their results webhooks reach only public
    /// addresses unless the operator trusts them with the server's network.
    pub webhook_allow_private: bool,
    /// The shard this node holds in a cluster (`deploy/cluster/`), if any.
    pub shard: Option<Shard>,
}

impl Default for PokerConfig {
    fn default() -> Self {
        Self {
            room_ttl_secs: DEFAULT_ROOM_TTL_SECS,
            sweep_interval_secs: DEFAULT_SWEEP_INTERVAL_SECS,
            max_ws: None,
            webhook_allow_private: false,
            shard: None,
        }
    }
}

impl PokerConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads settings through `var` (the environment, or a test's table).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let seconds = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(n) if n > 0 && n <= MAX_SECONDS => Ok(n),
                    _ => Err(ConfigError {
                        name,
                        value,
                        why: "give a whole number of seconds between 1 and 315360000",
                    }),
                },
            }
        };
        Ok(Self {
            room_ttl_secs: seconds("POKER_ROOM_TTL", DEFAULT_ROOM_TTL_SECS)?,
            sweep_interval_secs: seconds("POKER_SWEEP_INTERVAL", DEFAULT_SWEEP_INTERVAL_SECS)?,
            max_ws: match var("POKER_MAX_WS") {
                None => None,
                Some(value) => match value.trim().parse::<usize>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => {
                        return Err(ConfigError {
                            name: "POKER_MAX_WS",
                            value,
                            why: "give a whole number of connections, at least 1",
                        });
                    }
                },
            },
            webhook_allow_private: match var("POKER_WEBHOOK_ALLOW_PRIVATE") {
                None => false,
                Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => true,
                    "" | "0" | "false" | "no" | "off" => false,
                    _ => {
                        return Err(ConfigError {
                            name: "POKER_WEBHOOK_ALLOW_PRIVATE",
                            value,
                            why: "give 1 (allow) or 0 (public addresses only)",
                        });
                    }
                },
            },
            shard: match var("POKER_SHARD") {
                None => None,
                Some(value) if value.trim().is_empty() => None,
                Some(value) => match Shard::parse(&value) {
                    Ok(shard) => Some(shard),
                    Err(_) => {
                        return Err(ConfigError {
                            name: "POKER_SHARD",
                            value,
                            why: "give this node's shard, a whole number from 0 to 61",
                        });
                    }
                },
            },
        })
    }

    /// The sweep interval as a duration.
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_secs(self.sweep_interval_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values() {
        assert_eq!(PokerConfig::from_vars(|_| None), Ok(PokerConfig::default()));
        let err = PokerConfig::from_vars(|n| (n == "POKER_SWEEP_INTERVAL").then(|| "soon".into()));
        let err = err.unwrap_err();
        assert_eq!(err.name, "POKER_SWEEP_INTERVAL");
        assert!(err.to_string().contains("whole number of seconds"));
        assert!(PokerConfig::from_vars(|_| Some("0".into())).is_err());
        assert_eq!(
            PokerConfig::from_vars(|n| (n == "POKER_MAX_WS").then(|| "120".into()))
                .map(|c| c.max_ws),
            Ok(Some(120))
        );
        assert_eq!(
            PokerConfig::from_vars(|n| (n != "POKER_WEBHOOK_ALLOW_PRIVATE").then(|| " 5 ".into()))
                .map(|c| c.room_ttl_secs),
            Ok(5)
        );
        let private = |v: &str| {
            let v = v.to_string();
            PokerConfig::from_vars(move |n| (n == "POKER_WEBHOOK_ALLOW_PRIVATE").then(|| v.clone()))
                .map(|c| c.webhook_allow_private)
        };
        assert_eq!(private("1"), Ok(true));
        assert_eq!(private(" On "), Ok(true));
        assert_eq!(private("0"), Ok(false));
        assert!(
            !PokerConfig::default().webhook_allow_private,
            "off by default"
        );
        assert!(private("sometimes").is_err());
        let shard = |v: &str| {
            let v = v.to_string();
            PokerConfig::from_vars(move |n| (n == "POKER_SHARD").then(|| v.clone()))
                .map(|c| c.shard.map(Shard::number))
        };
        assert_eq!(shard("3"), Ok(Some(3)));
        assert_eq!(shard(""), Ok(None));
        assert_eq!(shard("61"), Ok(Some(61)));
        assert_eq!(shard("62").map_err(|e| e.name), Err("POKER_SHARD"));
        assert!(shard("one").is_err());
    }
}
