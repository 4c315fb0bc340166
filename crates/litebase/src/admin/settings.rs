//! `/_/settings`: the instance settings, one form per section (application,
//! mail, rate limits, trusted proxy, logs, scheduled backups, the app's own settings) and a
//! "send test mail" form. Saving goes through [`settings::update`], so validation is the
//! API's; its nested `ApiError.data` is shown next to each field, with the
//! submitted values kept.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tera::Context;

use super::i18n::{Lang, request_lang, text};
use super::render::{Page, see_other};
use super::session::AdminSession;
use crate::core::Core;
use crate::core::settings;
use crate::error::ApiError;
use crate::settings::{SettingKind, merge};

/// Mounts `/_/settings` and its forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(index))
        .route("/settings", web::post().to(save))
        .route("/settings/test-mail", web::post().to(test_mail));
}

/// The sections, each its own form; the value of the form's `section` field.
const SECTIONS: &[&str] = &[
    "meta",
    "mail",
    "rateLimits",
    "trustedProxy",
    "logs",
    "backups",
    "apps",
];

/// The mail templates a test mail can use: (PocketBase's name, string key).
const TEMPLATES: &[(&str, &str)] = &[
    ("verification", "mail_tpl_verification"),
    ("password-reset", "mail_tpl_password_reset"),
    ("email-change", "mail_tpl_email_change"),
    ("otp", "mail_tpl_otp"),
    ("login-alert", "mail_tpl_login_alert"),
];

/// One of the app's declared settings, ready for the form.
#[derive(Debug, Serialize)]
struct AppField {
    /// Form field name and error key: `apps.<key>`.
    name: String,
    /// HTML id.
    id: String,
    label: &'static str,
    integer: bool,
    min: i64,
    max: i64,
    value: Value,
}

/// A form's outcome, for the page.
#[derive(Debug, Default, Serialize)]
struct Problems {
    /// The section whose form failed.
    section: String,
    /// What went wrong, in a sentence.
    message: String,
    /// Per field (`meta.appURL`, `apps.poker.roomTtl`).
    fields: BTreeMap<String, String>,
}

/// The test mail form's state.
#[derive(Debug, Serialize)]
struct TestMail {
    email: String,
    template: String,
    /// Whether a mail was attempted (a result is shown).
    done: bool,
    ok: bool,
    message: String,
    fields: BTreeMap<String, String>,
}

impl TestMail {
    fn blank(email: &str) -> Self {
        Self {
            email: email.to_string(),
            template: "verification".into(),
            done: false,
            ok: false,
            message: String::new(),
            fields: BTreeMap::new(),
        }
    }
}

/// `{"meta": {"appURL": {"message": …}}}` → `{"meta.appURL": …}`.
fn flatten(data: &Map<String, Value>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (section, value) in data {
        match value.get("message").and_then(Value::as_str) {
            Some(message) => {
                out.insert(section.clone(), message.to_string());
            }
            None => {
                for (field, detail) in value.as_object().into_iter().flatten() {
                    let message = detail["message"].as_str().unwrap_or("Invalid value.");
                    out.insert(format!("{section}.{field}"), message.to_string());
                }
            }
        }
    }
    out
}

/// The sentence above a refused form: the API's message speaks of `data`,
/// which the page shows next to each field instead.
fn summary(err: &ApiError, lang: Lang) -> String {
    if err.data.is_empty() {
        err.message.clone()
    } else {
        text(lang, "fix_errors").to_string()
    }
}

/// Everything the page shows: `values` is the settings document as shown
/// (the saved one, or the submitted values laid over it).
async fn page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    values: Value,
    problems: Problems,
    test: TestMail,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(req);
    let failed = !problems.section.is_empty() || (test.done && !test.ok);
    let mut ctx = Context::new();
    ctx.insert("security", security_of(&values));
    ctx.insert("app_settings", &app_fields(core, &values, lang));
    ctx.insert("v", &values);
    ctx.insert("problems", &problems);
    ctx.insert("test", &test);
    ctx.insert("mail_templates", &mail_templates(lang));
    ctx.insert("smtp_on", &core.settings.get().smtp.enabled);
    ctx.insert("logs_path", &core.logs.path().display().to_string());
    ctx.insert(
        "trusted_peers",
        &core
            .config
            .serve
            .trusted_proxies
            .to_string()
            .replace(',', ", "),
    );
    ctx.insert("seen_ip", &core.client_ip(req).map(|ip| ip.to_string()));
    let mut page = Page::new(req, "settings/index.html").session(session);
    if failed {
        page = page.status(StatusCode::BAD_REQUEST);
    }
    page.render(ctx)
}

/// `none`, `tls` or `starttls`: the two SMTP flags as one choice.
fn security_of(values: &Value) -> &'static str {
    let smtp = &values["smtp"];
    if smtp["tls"].as_bool() == Some(true) {
        "tls"
    } else if smtp["startTls"].as_bool() == Some(true) {
        "starttls"
    } else {
        "none"
    }
}

fn app_fields(core: &Core, values: &Value, lang: Lang) -> Vec<AppField> {
    core.settings
        .declared()
        .iter()
        .map(|d| {
            let (integer, min, max) = match d.kind {
                SettingKind::Integer { min, max } => (true, min, max),
                SettingKind::Bool => (false, 0, 0),
            };
            AppField {
                name: format!("apps.{}", d.key),
                id: format!(
                    "apps-{}",
                    d.key.replace(|c: char| !c.is_alphanumeric(), "-")
                ),
                label: match lang {
                    Lang::Fr => d.label_fr,
                    _ => d.label_en,
                },
                integer,
                min,
                max,
                value: values["apps"].get(d.key).cloned().unwrap_or(Value::Null),
            }
        })
        .collect()
}

/// A choice of the test mail's template select.
#[derive(Debug, Serialize)]
struct TemplateChoice {
    name: &'static str,
    label: &'static str,
}

fn mail_templates(lang: Lang) -> Vec<TemplateChoice> {
    TEMPLATES
        .iter()
        .map(|&(name, key)| TemplateChoice {
            name,
            label: text(lang, key),
        })
        .collect()
}

fn shown_settings(core: &Core) -> Value {
    serde_json::to_value(settings::load(core)).unwrap_or(Value::Null)
}

async fn index(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    let values = shown_settings(&core);
    let test = TestMail::blank(session.email());
    page(&req, &core, &session, values, Problems::default(), test).await
}

/// A section's submitted values as a settings patch, plus what to show when
/// it fails (the raw text of a number that does not parse) and the fields
/// that did not parse.
struct Submitted<'a> {
    form: &'a [(String, String)],
    patch: Value,
    shown: Value,
    errors: BTreeMap<String, String>,
}

impl<'a> Submitted<'a> {
    fn new(form: &'a [(String, String)]) -> Self {
        Self {
            form,
            patch: json!({}),
            shown: json!({}),
            errors: BTreeMap::new(),
        }
    }

    /// The last value of form field `name`.
    fn raw(&self, name: &str) -> Option<&'a str> {
        self.form
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, section: &str, key: &str, value: Value) {
        merge(&mut self.patch, &json!({ section: { key: value.clone() } }));
        merge(&mut self.shown, &json!({ section: { key: value } }));
    }

    /// A text input `section.key`.
    fn text(&mut self, section: &str, key: &str) {
        let value = self.raw(&format!("{section}.{key}")).unwrap_or_default();
        self.set(section, key, json!(value.trim()));
    }

    /// A text input `section.key` holding a list: items separated by commas
    /// (or lines, when pasted), blanks dropped.
    fn list(&mut self, section: &str, key: &str) {
        let value = self.raw(&format!("{section}.{key}")).unwrap_or_default();
        let items: Vec<&str> = value
            .split([',', '\n'])
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .collect();
        self.set(section, key, json!(items));
    }

    /// A checkbox `section.key` (absent: off).
    fn flag(&mut self, section: &str, key: &str) {
        let on = self.raw(&format!("{section}.{key}")).is_some();
        self.set(section, key, json!(on));
    }

    /// A whole-number input `section.key`; text that is not a number is kept
    /// for display and reported with `message`.
    fn int(&mut self, section: &str, key: &str, message: &str) {
        let name = format!("{section}.{key}");
        let raw = self.raw(&name).unwrap_or_default().trim();
        match raw.parse::<i64>() {
            Ok(n) => self.set(section, key, json!(n)),
            Err(_) => {
                merge(&mut self.shown, &json!({ section: { key: raw } }));
                self.errors.insert(name, message.to_string());
            }
        }
    }
}

/// Reads section `section` of the form into a patch.
fn read_section<'a>(
    core: &Core,
    section: &str,
    form: &'a [(String, String)],
    lang: Lang,
) -> Submitted<'a> {
    let whole = text(lang, "whole_number_needed");
    let mut s = Submitted::new(form);
    match section {
        "meta" => {
            s.text("meta", "appName");
            s.text("meta", "appURL");
        }
        "mail" => {
            s.text("meta", "senderName");
            s.text("meta", "senderAddress");
            s.flag("smtp", "enabled");
            s.text("smtp", "host");
            s.int("smtp", "port", whole);
            s.text("smtp", "username");
            // Blank keeps the saved password; never shown back.
            let password = s.raw("smtp.password").unwrap_or_default().to_string();
            merge(&mut s.patch, &json!({"smtp": {"password": password}}));
            let security = s.raw("smtp.security").unwrap_or("none");
            s.set("smtp", "tls", json!(security == "tls"));
            s.set("smtp", "startTls", json!(security == "starttls"));
        }
        "rateLimits" => {
            s.flag("rateLimits", "enabled");
            s.int("rateLimits", "authPerMinute", whole);
        }
        "trustedProxy" => {
            s.list("trustedProxy", "headers");
            s.flag("trustedProxy", "useLeftmostIP");
        }
        "logs" => {
            s.int("logs", "maxDays", whole);
            s.flag("logs", "logIP");
        }
        "backups" => {
            s.text("backups", "cron");
            s.int("backups", "cronMaxKeep", whole);
        }
        _ => {
            for d in core.settings.declared() {
                match d.kind {
                    SettingKind::Integer { .. } => s.int("apps", d.key, whole),
                    SettingKind::Bool => s.flag("apps", d.key),
                }
            }
        }
    }
    s
}

async fn save(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req);
    let form = form.into_inner();
    let section = form
        .iter()
        .find(|(k, _)| k == "section")
        .map(|(_, v)| v.as_str())
        .filter(|s| SECTIONS.contains(s))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Say which settings to save: the form's section must be one of {}.",
                SECTIONS.join(", ")
            ))
        })?
        .to_string();
    let submitted = read_section(&core, &section, &form, lang);
    let mut values = shown_settings(&core);
    merge(&mut values, &submitted.shown);
    let test = TestMail::blank(session.email());
    let problems = if submitted.errors.is_empty() {
        match settings::update(&core, submitted.patch).await {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/_/settings?flash=settings_saved#{section}"
                )));
            }
            Err(e) if e.status().is_client_error() => Problems {
                section,
                message: summary(&e, lang),
                fields: flatten(&e.data),
            },
            Err(e) => return Err(e),
        }
    } else {
        Problems {
            section,
            message: text(lang, "fix_errors").to_string(),
            fields: submitted.errors,
        }
    };
    page(&req, &core, &session, values, problems, test).await
}

/// The test mail form's fields.
#[derive(Debug, Default, Deserialize)]
struct TestMailForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    template: String,
}

/// Sends a test mail and answers with the form and its result: the form
/// alone for htmx (always 200, so htmx swaps it in), else the whole page.
async fn test_mail(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<TestMailForm>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req);
    let email = form.email.trim().to_string();
    let mut test = TestMail::blank(&email);
    test.template = form.template.clone();
    test.done = true;
    match settings::send_test_mail(&core, &email, &form.template).await {
        Ok(()) => {
            test.ok = true;
            let key = if core.settings.get().smtp.enabled {
                "test_mail_sent"
            } else {
                "test_mail_logged"
            };
            test.message = text(lang, key).replace("{email}", &email);
        }
        Err(e) if e.status().is_client_error() => {
            // Field errors show next to their fields; a sentence only
            // when the mailer itself refused.
            test.fields = flatten(&e.data);
            if test.fields.is_empty() {
                test.message = e.message.clone();
            }
        }
        Err(e) => return Err(e),
    }
    let htmx = req.headers().contains_key("HX-Request");
    if htmx {
        let mut ctx = Context::new();
        ctx.insert("test", &test);
        ctx.insert("mail_templates", &mail_templates(lang));
        ctx.insert("smtp_on", &core.settings.get().smtp.enabled);
        return Page::new(&req, "settings/_test_mail.html")
            .session(&session)
            .render(ctx);
    }
    let values = shown_settings(&core);
    page(&req, &core, &session, values, Problems::default(), test).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_errors_become_field_names() {
        let data = json!({
            "meta": {"appURL": {"code": "validation_is_url", "message": "Give a URL."}},
            "apps": {"poker.roomTtl": {"code": "x", "message": "Too small."}},
            "email": {"code": "x", "message": "Give an address."},
        });
        let flat = flatten(data.as_object().unwrap_or(&Map::new()));
        assert_eq!(flat["meta.appURL"], "Give a URL.");
        assert_eq!(flat["apps.poker.roomTtl"], "Too small.");
        assert_eq!(flat["email"], "Give an address.");
    }

    #[test]
    fn a_section_becomes_a_patch_and_bad_numbers_stay_visible() {
        let form: Vec<(String, String)> = [
            ("section", "logs"),
            ("logs.maxDays", "ten"),
            ("logs.logIP", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut s = Submitted::new(&form);
        s.int("logs", "maxDays", "Whole number.");
        s.flag("logs", "logIP");
        s.flag("rateLimits", "enabled");
        assert_eq!(
            s.patch,
            json!({"logs": {"logIP": true}, "rateLimits": {"enabled": false}})
        );
        assert_eq!(s.shown["logs"]["maxDays"], "ten");
        assert_eq!(s.errors["logs.maxDays"], "Whole number.");
    }

    #[test]
    fn the_trusted_proxy_form_reads_a_list_of_names() {
        let form: Vec<(String, String)> = [
            ("section", "trustedProxy"),
            (
                "trustedProxy.headers",
                " X-Real-IP, ,X-Forwarded-For\r\nForwarded ",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut s = Submitted::new(&form);
        s.list("trustedProxy", "headers");
        s.flag("trustedProxy", "useLeftmostIP");
        assert_eq!(
            s.patch,
            json!({"trustedProxy": {"headers": ["X-Real-IP", "X-Forwarded-For", "Forwarded"], "useLeftmostIP": false}})
        );
    }
}
