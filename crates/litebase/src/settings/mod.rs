//! Instance settings an admin changes at runtime (PocketBase's `/api/settings`):
//! the app's name and URL, SMTP, request-log retention, auth rate limits, the
//! trusted proxy headers, and the settings apps declare for themselves.
//!
//! They start from the flags and environment; once saved, the row `settings` of
//! `_params` overrides them, and every change applies at once (mailer rebuilt,
//! limiter and request log reconfigured) without a restart.
//!
//! The admin pages and the JSON API both go through [`load`], [`update`] and
//! [`send_test_mail`].

mod app;
mod model;
mod validate;

use std::sync::{Arc, RwLock};

use rusqlite::OptionalExtension;
use serde_json::Value;

pub use app::{AppSetting, SettingKind};
pub use model::{Logs, Meta, RateLimits, S3, Settings, Smtp, TrustedProxy, merge};
pub use validate::problems;

use crate::db::DbError;
use crate::mail::{MailConfig, Mailer, TlsMode};

/// The settings in force, shared by every request; swapped whole on a change.
pub struct LiveSettings {
    current: RwLock<Arc<Settings>>,
    declared: Vec<AppSetting>,
}

impl LiveSettings {
    /// Settings `current`, for an app that declared `declared`.
    pub fn new(current: Settings, declared: Vec<AppSetting>) -> Self {
        Self {
            current: RwLock::new(Arc::new(current)),
            declared,
        }
    }

    /// The settings in force (SMTP password included: for the server's own use).
    pub fn get(&self) -> Arc<Settings> {
        match self.current.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The current value of an app's integer setting (`None`: not declared or
    /// not an integer).
    ///
    /// ```no_run
    /// # fn demo(core: &litebase::core::Core) {
    /// let ttl = core.settings.app_int("poker.roomTtl").unwrap_or(86_400);
    /// # }
    /// ```
    pub fn app_int(&self, key: &str) -> Option<i64> {
        self.get().apps.get(key).and_then(Value::as_i64)
    }

    /// The current value of an app's boolean setting.
    pub fn app_bool(&self, key: &str) -> Option<bool> {
        self.get().apps.get(key).and_then(Value::as_bool)
    }

    /// The settings apps declared, for forms that show them.
    pub fn declared(&self) -> &[AppSetting] {
        &self.declared
    }

    pub(crate) fn replace(&self, settings: Settings) {
        let mut slot = match self.current.write() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        *slot = Arc::new(settings);
    }
}

/// Reads the saved settings row, if an admin ever saved one.
pub fn read_stored(conn: &rusqlite::Connection) -> Result<Option<Value>, DbError> {
    let text: Option<String> = conn
        .query_row("SELECT value FROM _params WHERE id = 'settings'", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// The settings in force: `stored` laid over `defaults`. A stored document that
/// no longer fits (an app dropped a setting, a field changed type) falls back
/// part by part to the defaults instead of failing the start.
pub fn effective(defaults: &Settings, stored: Option<&Value>, declared: &[AppSetting]) -> Settings {
    let Some(stored) = stored else {
        return defaults.clone();
    };
    let mut doc = serde_json::to_value(defaults).unwrap_or(Value::Null);
    merge(&mut doc, stored);
    let mut settings: Settings = match serde_json::from_value(doc) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "saved settings are unreadable; using the defaults");
            return defaults.clone();
        }
    };
    settings
        .apps
        .retain(|k, v| declared.iter().any(|d| d.key == k && d.check(v).is_ok()));
    for d in declared {
        settings
            .apps
            .entry(d.key.to_string())
            .or_insert_with(|| d.default.clone());
    }
    settings
}

/// The mailer for `s`: SMTP when enabled, the log otherwise.
pub fn mailer_for(s: &Settings) -> Result<Mailer, crate::mail::MailError> {
    let tls = if s.smtp.tls {
        TlsMode::Tls
    } else if s.smtp.start_tls {
        TlsMode::StartTls
    } else {
        TlsMode::None
    };
    Mailer::new(MailConfig {
        host: s.smtp.enabled.then(|| s.smtp.host.trim().to_string()),
        port: s.smtp.port,
        username: Some(s.smtp.username.clone()).filter(|u| !u.is_empty()),
        password: Some(s.smtp.password.clone()).filter(|p| !p.is_empty()),
        tls,
        sender_address: s.meta.sender_address.clone(),
        sender_name: s.meta.sender_name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ttl() -> AppSetting {
        AppSetting {
            key: "poker.roomTtl",
            label_en: "Room expiry",
            label_fr: "Expiration",
            kind: SettingKind::Integer { min: 1, max: 100 },
            default: json!(50),
        }
    }

    fn defaults() -> Settings {
        serde_json::from_value(json!({
            "meta": {"appName": "litebase", "appURL": "http://x", "senderName": "S", "senderAddress": "a@b.c"},
            "smtp": {"enabled": false, "host": "", "port": 587, "username": "", "password": "", "tls": false},
            "logs": {"maxDays": 7, "logIP": true},
            "rateLimits": {"enabled": true, "authPerMinute": 60},
            "apps": {"poker.roomTtl": 50},
        }))
        .unwrap_or_else(|e| panic!("test document: {e}"))
    }

    #[test]
    fn saved_values_win_and_stale_app_settings_fall_back() {
        let stored = json!({
            "meta": {"appName": "Saved"},
            "apps": {"poker.roomTtl": 500, "gone.setting": 1},
        });
        let s = effective(&defaults(), Some(&stored), &[ttl()]);
        assert_eq!(s.meta.app_name, "Saved");
        assert_eq!(
            s.meta.app_url, "http://x",
            "unsaved fields keep the defaults"
        );
        assert_eq!(
            s.apps.get("poker.roomTtl"),
            Some(&json!(50)),
            "out of range → default"
        );
        assert!(!s.apps.contains_key("gone.setting"));
        let unreadable = effective(
            &defaults(),
            Some(&json!({"logs": {"maxDays": "x"}})),
            &[ttl()],
        );
        assert_eq!(unreadable, defaults());
    }

    #[test]
    fn problems_are_nested_by_section() {
        let mut s = defaults();
        s.meta.app_url = "nope".into();
        s.apps.insert("poker.roomTtl".into(), json!(0));
        let data = problems(&s, &[ttl()]);
        assert_eq!(data["meta"]["appURL"]["code"], "validation_is_url");
        assert!(data["apps"]["poker.roomTtl"]["message"].is_string());
        assert!(problems(&defaults(), &[ttl()]).is_empty());
    }
}
