//! Settings an app declares for itself (poker's room expiry, say): typed, with
//! bounds and labels, so the admin can show and validate them without knowing
//! the app.

use serde_json::Value;

/// What values a declared setting takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// A whole number between `min` and `max`, both included.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// On or off.
    Bool,
}

/// One setting an app registers with [`crate::App::setting`].
///
/// ```
/// use litebase::settings::{AppSetting, SettingKind};
/// let ttl = AppSetting {
///     key: "poker.roomTtl",
///     label_en: "Room expiry (seconds idle)",
///     label_fr: "Expiration des salles (secondes d'inactivité)",
///     kind: SettingKind::Integer { min: 1, max: 315_360_000 },
///     default: serde_json::json!(86_400),
/// };
/// assert!(ttl.check(&serde_json::json!(60)).is_ok());
/// assert!(ttl.check(&serde_json::json!(0)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AppSetting {
    /// Key in the `apps` map of the settings, `app.name`.
    pub key: &'static str,
    /// Label shown to English-speaking admins.
    pub label_en: &'static str,
    /// Label shown to French-speaking admins.
    pub label_fr: &'static str,
    /// Accepted values.
    pub kind: SettingKind,
    /// Value until an admin saves another.
    pub default: Value,
}

impl AppSetting {
    /// `Ok` when `value` fits the kind; otherwise what a valid value looks like.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        match self.kind {
            SettingKind::Integer { min, max } => match value.as_i64() {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                _ => Err(format!("Must be a whole number between {min} and {max}.")),
            },
            SettingKind::Bool => match value {
                Value::Bool(_) => Ok(()),
                _ => Err("Must be true or false.".into()),
            },
        }
    }
}
