//! The settings as admins read and change them: a patch laid over the settings
//! in force, validated as a whole, saved, then put in force everywhere (mailer,
//! auth limits, request log); and the test mail.

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::db::DbError;

use super::Core;
use crate::error::ApiError;
use crate::mail::{Lang, Mail, Template, TemplateVars};
use crate::settings::*;

/// The current settings as an admin sees them (the SMTP password blanked).
pub fn load(core: &Core) -> Settings {
    core.settings.get().redacted()
}

/// Applies a partial settings document (`{"meta": {"appName": "…"}}`): laid over
/// the current settings, validated as a whole, saved, then put in force. An
/// empty or missing SMTP password keeps the saved one. Returns the new settings
/// as [`load`] shows them; invalid input is a 400 whose `data` names each field.
pub async fn update(core: &Core, patch: Value) -> Result<Settings, ApiError> {
    let Value::Object(patch) = patch else {
        return Err(ApiError::bad_request(
            "Send the settings to change as a JSON object, e.g. {\"meta\": {\"appName\": \"Poker\"}}.",
        ));
    };
    let current = core.settings.get();
    let mut doc = serde_json::to_value(&*current).map_err(|_| ApiError::internal())?;
    merge(&mut doc, &Value::Object(patch));
    let mut next: Settings = serde_json::from_value(doc).map_err(|e| {
        ApiError::bad_request(format!(
            "Invalid settings: {e}. Check the value types (numbers, true/false, text)."
        ))
    })?;
    if next.smtp.password.is_empty() {
        next.smtp.password = current.smtp.password.clone();
    }
    let saved_secret = current.backups.s3.get("secret").cloned();
    let secret_blank = next.backups.s3.get("secret").is_none_or(|v| v == "");
    if let (true, Some(saved), Some(s3)) =
        (secret_blank, saved_secret, next.backups.s3.as_object_mut())
    {
        s3.insert("secret".into(), saved);
    }
    next.backups.cron = next.backups.cron.trim().to_string();
    next.meta.app_url = next.meta.app_url.trim_end_matches('/').to_string();
    for header in &mut next.trusted_proxy.headers {
        *header = header.trim().to_string();
    }
    let data = problems(&next, core.settings.declared());
    if !data.is_empty() {
        return Err(
            ApiError::bad_request("Some settings are invalid; see data for each field.")
                .with_data(data),
        );
    }
    let mailer = mailer_for(&next).map_err(|e| {
        let mut data = Map::new();
        data.insert(
            "smtp".into(),
            json!({"host": {"code": "validation_invalid_value", "message": e.to_string()}}),
        );
        ApiError::bad_request("The SMTP settings cannot be used; see data.").with_data(data)
    })?;
    let text = serde_json::to_string(&next).map_err(|_| ApiError::internal())?;
    core.db
        .write(move |conn| {
            conn.execute(
                "INSERT INTO _params (id, value) VALUES ('settings', ?1) \
                 ON CONFLICT(id) DO UPDATE SET value = excluded.value, \
                 updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now')",
                [text],
            )?;
            Ok::<_, DbError>(())
        })
        .await?;
    let shown = next.redacted();
    core.apply_settings(next, mailer);
    Ok(shown)
}

/// Sends a sample of `template` (PocketBase's names: `verification`,
/// `password-reset`, `email-change`, `otp`, `login-alert`) to `email` through
/// the mailer in force, and waits for the server's answer, so an admin sees a
/// wrong host or password at once.
pub async fn send_test_mail(core: &Core, email: &str, template: &str) -> Result<(), ApiError> {
    let field_error = |field: &str, message: &str| {
        let mut data = Map::new();
        data.insert(
            field.into(),
            json!({"code": "validation_invalid_value", "message": message}),
        );
        ApiError::bad_request("Cannot send the test mail; see data.").with_data(data)
    };
    if email.parse::<lettre::Address>().is_err() {
        return Err(field_error(
            "email",
            "Give the address to send the test mail to.",
        ));
    }
    let template = match template {
        "verification" => Template::Verification,
        "password-reset" => Template::PasswordReset,
        "email-change" => Template::EmailChange,
        "otp" => Template::Otp,
        "login-alert" => Template::LoginAlert,
        _ => {
            return Err(field_error(
                "template",
                "Use one of verification, password-reset, email-change, otp, login-alert.",
            ));
        }
    };
    let settings = core.settings.get();
    let vars = TemplateVars {
        app_name: &settings.meta.app_name,
        app_url: &settings.meta.app_url,
        token: "test-token",
        otp: "123456",
        email,
        new_email: email,
    };
    let (subject, text, html) = crate::mail::render(template, Lang::En, &vars);
    let mail = Mail {
        to: email.to_string(),
        subject,
        text,
        html,
    };
    core.mailer().send(mail).await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("The mail server refused the test mail: {e}. Check the SMTP settings."),
        )
    })
}
