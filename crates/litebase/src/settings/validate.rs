//! Checks a settings document before it is saved, collecting every problem in
//! PocketBase's nested `data` shape: `{"meta": {"appURL": {"code", "message"}}}`.

use serde_json::{Map, Value, json};

use super::app::AppSetting;
use super::model::Settings;

/// Every problem with `s`, nested by section and field; empty when valid.
pub fn problems(s: &Settings, declared: &[AppSetting]) -> Map<String, Value> {
    let mut out = Map::new();
    let mut add = |section: &str, field: &str, code: &str, message: String| {
        let entry = out
            .entry(section.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(fields) = entry {
            fields.insert(field.to_string(), json!({"code": code, "message": message}));
        }
    };
    let name = s.meta.app_name.trim();
    if name.is_empty() || name.len() > 255 {
        add(
            "meta",
            "appName",
            "validation_length_out_of_range",
            "Give the app a name of 1 to 255 characters.".into(),
        );
    }
    if !is_http_url(&s.meta.app_url) {
        add(
            "meta",
            "appURL",
            "validation_is_url",
            "Give the public URL, starting with http:// or https:// (e.g. https://poker.example.com).".into(),
        );
    }
    if s.meta.sender_address.parse::<lettre::Address>().is_err() {
        add(
            "meta",
            "senderAddress",
            "validation_is_email",
            "Give the sender's email address, e.g. no-reply@example.com.".into(),
        );
    }
    if s.meta.sender_name.trim().is_empty() {
        add(
            "meta",
            "senderName",
            "validation_required",
            "Give the name mails are sent as.".into(),
        );
    }
    if s.smtp.enabled {
        let host = s.smtp.host.trim();
        if host.is_empty() || host.contains(char::is_whitespace) {
            add(
                "smtp",
                "host",
                "validation_required",
                "Give the SMTP server's host name, or disable SMTP to log mails instead.".into(),
            );
        }
        if s.smtp.port == 0 {
            add(
                "smtp",
                "port",
                "validation_min_greater_equal_than_required",
                "Give the SMTP port (usually 587, or 465 with TLS).".into(),
            );
        }
    }
    if s.logs.max_days > 3650 {
        add(
            "logs",
            "maxDays",
            "validation_max_less_equal_than_required",
            "Keep logs at most 3650 days (0 turns request logging off).".into(),
        );
    }
    if s.rate_limits.enabled && !(1..=1_000_000).contains(&s.rate_limits.auth_per_minute) {
        add(
            "rateLimits",
            "authPerMinute",
            "validation_min_greater_equal_than_required",
            "Allow between 1 and 1000000 requests per minute, or disable the limit.".into(),
        );
    }
    if let Some(bad) = s
        .trusted_proxy
        .headers
        .iter()
        .find(|h| !crate::proxy::is_header_name(h))
    {
        add(
            "trustedProxy",
            "headers",
            "validation_invalid_value",
            format!(
                "{bad:?} is not a header name: use letters, digits and dashes, e.g. X-Forwarded-For or X-Real-IP."
            ),
        );
    }
    let cron = s.backups.cron.trim();
    if !cron.is_empty() {
        if let Err(e) = crate::cron::Schedule::parse(cron) {
            add(
                "backups",
                "cron",
                "validation_invalid_cron",
                format!("{e}."),
            );
        }
        if s.backups.cron_max_keep < 1 {
            add(
                "backups",
                "cronMaxKeep",
                "validation_required",
                "Keep at least 1 scheduled backup.".into(),
            );
        }
    }
    for (key, value) in &s.apps {
        let message = match declared.iter().find(|d| d.key == key) {
            None => Some("Unknown setting: the app declares no such key.".to_string()),
            Some(d) => d.check(value).err(),
        };
        if let Some(message) = message {
            add("apps", key, "validation_invalid_value", message);
        }
    }
    out
}

/// Whether `url` is an absolute http(s) URL with a host.
fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty() && !url.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Logs, Meta, RateLimits, Smtp, TrustedProxy};

    fn valid() -> Settings {
        Settings {
            meta: Meta {
                app_name: "litebase".into(),
                app_url: "http://127.0.0.1:8090".into(),
                sender_name: "Support".into(),
                sender_address: "no-reply@example.com".into(),
            },
            smtp: Smtp {
                enabled: false,
                host: String::new(),
                port: 587,
                username: String::new(),
                password: String::new(),
                tls: false,
                start_tls: false,
            },
            logs: Logs {
                max_days: 7,
                log_ip: true,
            },
            rate_limits: RateLimits {
                enabled: true,
                auth_per_minute: 60,
            },
            trusted_proxy: TrustedProxy::default(),
            backups: Default::default(),
            apps: Map::new(),
        }
    }

    #[test]
    fn a_backup_schedule_must_parse_and_keep_one_or_more() {
        let mut s = valid();
        s.backups.cron = "0 3 * * *".into();
        assert!(problems(&s, &[]).is_empty());
        s.backups.cron = "at three".into();
        s.backups.cron_max_keep = 0;
        let found = problems(&s, &[]);
        assert_eq!(found["backups"]["cron"]["code"], "validation_invalid_cron");
        assert_eq!(
            found["backups"]["cronMaxKeep"]["code"],
            "validation_required"
        );
        s.backups.cron = String::new();
        assert!(problems(&s, &[]).is_empty(), "no schedule, no limit needed");
    }

    #[test]
    fn trusted_proxy_headers_must_be_header_names() {
        let mut s = valid();
        for good in [
            vec![],
            vec!["X-Forwarded-For"],
            vec![
                "x-real-ip",
                "CF-Connecting-IP",
                "Fly-Client-IP",
                "Forwarded",
            ],
        ] {
            s.trusted_proxy.headers = good.iter().map(|h| h.to_string()).collect();
            assert!(problems(&s, &[]).is_empty(), "{good:?}");
        }
        for bad in ["", "X Forwarded For", "X-Real-IP:", "Ünï", "a\nb", "(x)"] {
            s.trusted_proxy.headers = vec!["X-Forwarded-For".into(), bad.into()];
            let data = problems(&s, &[]);
            let field = &data["trustedProxy"]["headers"];
            assert_eq!(field["code"], "validation_invalid_value", "{bad:?}");
            assert!(
                field["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("header name"),
                "{bad:?}: {field}"
            );
        }
    }

    #[test]
    fn urls() {
        assert!(is_http_url("https://a.example"));
        assert!(is_http_url("http://127.0.0.1:8090/x"));
        assert!(!is_http_url("ftp://a"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("not a url"));
    }
}
