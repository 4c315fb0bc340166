//! Options of auth collections, in PocketBase's JSON shape, and the system fields
//! every auth collection has.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Field, FieldKind};

/// How long one kind of token lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenOptions {
    /// Seconds.
    pub duration: u64,
}

impl AuthOptions {
    /// Token lifetimes must be at least 10 s (PocketBase's floor): checked when a
    /// collection is saved.
    pub fn validate(&self) -> Result<(), (String, serde_json::Value)> {
        for (key, t) in [
            ("authToken", &self.auth_token),
            ("passwordResetToken", &self.password_reset_token),
            ("emailChangeToken", &self.email_change_token),
            ("verificationToken", &self.verification_token),
            ("fileToken", &self.file_token),
        ] {
            if t.duration < 10 {
                return Err((
                    key.to_string(),
                    json!({"duration": {"code": "validation_min_greater_equal_than_required",
                                        "message": "Must be no less than 10.", "params": {"threshold": 10}}}),
                ));
            }
        }
        if self.mfa.enabled && self.mfa.duration < 10 {
            return Err((
                "mfa".into(),
                json!({"duration": {"code": "validation_min_greater_equal_than_required",
                                    "message": "Must be no less than 10.", "params": {"threshold": 10}}}),
            ));
        }
        if self.mfa.enabled && self.mfa.duration > 86_400 {
            return Err((
                "mfa".into(),
                json!({"duration": {"code": "validation_max_less_equal_than_required",
                                    "message": "Must be no greater than 86400.", "params": {"threshold": 86400}}}),
            ));
        }
        if self.oauth2.enabled {
            let problems = crate::oauth2::config::validate_providers(&self.oauth2.providers);
            if !problems.is_empty() {
                return Err(("oauth2".into(), json!({"providers": problems})));
            }
        }
        Ok(())
    }
}

/// Password sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PasswordAuth {
    /// Whether `auth-with-password` is allowed.
    pub enabled: bool,
    /// Fields that identify a record (`email`, `username`, …).
    pub identity_fields: Vec<String>,
}

impl Default for PasswordAuth {
    fn default() -> Self {
        PasswordAuth {
            enabled: true,
            identity_fields: vec!["email".into()],
        }
    }
}

/// One-time passwords by email.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OtpOptions {
    /// Whether `request-otp` / `auth-with-otp` are allowed.
    pub enabled: bool,
    /// Seconds a code stays valid.
    pub duration: u64,
    /// Digits in a code.
    pub length: u32,
    /// Subject and body of the mail (PocketBase's shape; our built-in templates
    /// are used for the text itself).
    pub email_template: serde_json::Value,
}

impl Default for OtpOptions {
    fn default() -> Self {
        OtpOptions {
            enabled: false,
            duration: 180,
            length: 8,
            email_template: json!({"subject": "OTP for {APP_NAME}", "body": "Your code is {OTP}."}),
        }
    }
}

/// Multi-factor auth (enforced by `core::mfa`). Unlike PocketBase, enabling it
/// does not require two of password/OTP/OAuth2: authenticator apps (TOTP) and
/// passkeys are second factors every record can add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfaOptions {
    /// Whether a second factor is required.
    pub enabled: bool,
    /// Seconds between the two factors (10 to 86400 when enabled).
    pub duration: u64,
    /// Which records need MFA.
    pub rule: String,
}

impl Default for MfaOptions {
    fn default() -> Self {
        MfaOptions {
            enabled: false,
            duration: 1800,
            rule: String::new(),
        }
    }
}

/// OAuth2 sign-in: the providers (see [`crate::oauth2`]) and the record fields
/// that receive the provider's user data on sign-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct OAuth2Options {
    /// Whether OAuth2 sign-in is allowed.
    pub enabled: bool,
    /// Configured providers, in PocketBase's shape.
    pub providers: Vec<crate::oauth2::config::ProviderConfig>,
    /// Provider fields copied into record fields on sign-up.
    pub mapped_fields: crate::oauth2::config::MappedFields,
}

impl OAuth2Options {
    /// The config of provider `name`, if the collection has it.
    pub fn provider(&self, name: &str) -> Option<&crate::oauth2::config::ProviderConfig> {
        self.providers.iter().find(|p| p.name == name)
    }
}

/// Everything an auth collection adds to a base collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthOptions {
    /// Extra condition a record must meet to sign in (`""`: none; `null`: nobody).
    pub auth_rule: Option<String>,
    /// Who may manage other records' email, password, verified (`null`: superusers).
    pub manage_rule: Option<String>,
    /// Password sign-in settings.
    pub password_auth: PasswordAuth,
    /// OTP settings.
    pub otp: OtpOptions,
    /// MFA settings.
    pub mfa: MfaOptions,
    /// OAuth2 settings.
    pub oauth2: OAuth2Options,
    /// Auth token lifetime.
    pub auth_token: TokenOptions,
    /// Password reset token lifetime.
    pub password_reset_token: TokenOptions,
    /// Email change token lifetime.
    pub email_change_token: TokenOptions,
    /// Verification token lifetime.
    pub verification_token: TokenOptions,
    /// File token lifetime.
    pub file_token: TokenOptions,
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            auth_rule: Some(String::new()),
            manage_rule: None,
            password_auth: PasswordAuth::default(),
            otp: OtpOptions::default(),
            mfa: MfaOptions::default(),
            oauth2: OAuth2Options::default(),
            auth_token: TokenOptions { duration: 604_800 },
            password_reset_token: TokenOptions { duration: 1800 },
            email_change_token: TokenOptions { duration: 1800 },
            verification_token: TokenOptions { duration: 259_200 },
            file_token: TokenOptions { duration: 180 },
        }
    }
}

fn system(mut f: Field) -> Field {
    f.system = true;
    f
}

/// The fields every auth collection has, in PocketBase's order and ids.
pub fn system_fields() -> Vec<Field> {
    let mut password = system(Field::new(
        "password",
        FieldKind::Password {
            min: 8,
            max: 0,
            pattern: String::new(),
            cost: 0,
        },
    ));
    password.id = "password901924565".into();
    password.hidden = true;
    password.required = true;
    let mut token_key = system(Field::new(
        "tokenKey",
        FieldKind::Text {
            min: 30,
            max: 60,
            pattern: String::new(),
            autogenerate_pattern: "[a-zA-Z0-9]{50}".into(),
            primary_key: false,
        },
    ));
    token_key.id = "text2504183744".into();
    token_key.hidden = true;
    token_key.required = true;
    let mut email = system(Field::new(
        "email",
        FieldKind::Email {
            except_domains: Vec::new(),
            only_domains: Vec::new(),
        },
    ));
    email.id = "email3885137012".into();
    email.required = true;
    let mut visibility = system(Field::new("emailVisibility", FieldKind::Bool {}));
    visibility.id = "bool1547992806".into();
    let mut verified = system(Field::new("verified", FieldKind::Bool {}));
    verified.id = "bool256245529".into();
    vec![password, token_key, email, visibility, verified]
}

/// The unique indexes an auth collection needs (token keys; emails, case-insensitive).
pub fn system_indexes(table: &str) -> Vec<String> {
    vec![
        format!("CREATE UNIQUE INDEX `idx_tokenKey_{table}` ON `{table}` (`tokenKey`)"),
        format!(
            "CREATE UNIQUE INDEX `idx_email_{table}` ON `{table}` (`email` COLLATE NOCASE) WHERE `email` != ''"
        ),
    ]
}
