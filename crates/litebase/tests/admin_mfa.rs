//! The admin UI and MFA, over HTTP against the real binary: a superuser adds
//! an authenticator app on their account page (QR code, first code, recovery
//! codes), and once `_superusers` has MFA on, the sign-in asks for a code after
//! the password (wrong codes refused, a recovery code works once); the API's
//! sign-in of superusers answers 401 `{mfaId}` too.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use litebase::auth::totp;
use litebase::testing::Http;
use serde_json::json;
use support::admin::{Browser, Page};
use support::{ADMIN_EMAIL, ADMIN_PASSWORD};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The text of the element with `data-testid="id"` (up to its next `<`).
fn testid<'a>(page: &'a Page, id: &str) -> Option<&'a str> {
    let marker = format!("data-testid=\"{id}\">");
    let start = page.body.find(&marker)? + marker.len();
    let rest = &page.body[start..];
    Some(&rest[..rest.find('<')?])
}

/// The value of the hidden field `name` on the page.
fn hidden(page: &Page, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.body.find(&marker)? + marker.len();
    let rest = &page.body[start..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Posts the second step of the sign-in shown on `page`.
fn second_step(browser: &mut Browser, page: &Page, code: &str) -> anyhow::Result<Page> {
    let fields = [
        ("_csrf", page.csrf().unwrap_or_default()),
        ("next", "/_/".to_string()),
        ("mfa_id", hidden(page, "mfa_id").unwrap_or_default()),
        ("otp_id", hidden(page, "otp_id").unwrap_or_default()),
        ("code", code.to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Ok(browser.post("/_/login", &fields)?)
}

#[test]
fn a_superuser_adds_an_app_and_then_signs_in_with_a_code() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, _token) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::signed_in(&server)?;

    let account = browser.get("/_/account")?;
    assert_eq!(account.status, 200, "{}", account.body);
    assert!(account.body.contains("data-testid=\"totp-setup\""));
    let too_soon = browser.submit("/_/account", "/_/account/mfa", &[("enabled", "true")])?;
    assert_eq!(
        too_soon.status, 400,
        "MFA needs a factor of one's own first"
    );
    assert!(too_soon.body.contains("data-testid=\"account-error\""));
    let enrol = browser.submit("/_/account", "/_/account/totp/setup", &[])?;
    assert_eq!(enrol.status, 200, "{}", enrol.body);
    assert!(enrol.body.contains("<svg"), "the QR code is inline SVG");
    let secret = testid(&enrol, "totp-secret")
        .and_then(totp::decode_secret)
        .ok_or_else(|| anyhow::anyhow!("no secret on the page"))?;
    let wrong = browser.submit("/_/account", "/_/account/totp/confirm", &[("code", "12")])?;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("data-testid=\"enrolment\""),
        "the QR code is shown again"
    );
    let t0 = now();
    let code = totp::code_at(&secret, t0);
    let done = browser.submit("/_/account", "/_/account/totp/confirm", &[("code", &code)])?;
    assert_eq!(done.status, 200, "{}", done.body);
    let recovery: Vec<&str> = done
        .body
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect();
    assert_eq!(recovery.len(), 10, "{}", done.body);

    // MFA on for superusers, from the account page.
    let on = browser.submit("/_/account", "/_/account/mfa", &[("enabled", "true")])?;
    assert_eq!(on.status, 303, "{}", on.body);
    let http = Http::new();
    let api = http.post_json(
        &server.url("/api/collections/_superusers/auth-with-password"),
        &json!({"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )?;
    assert_eq!(api.status, 401, "{}", api.text);
    assert!(api.json["mfaId"].is_string());

    let mut fresh = Browser::new(&server);
    let asked = fresh.login(ADMIN_EMAIL, ADMIN_PASSWORD)?;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(
        asked.body.contains("data-testid=\"mfa-form\""),
        "{}",
        asked.body
    );
    assert!(
        asked.set_cookie("lb_admin").is_none(),
        "no session before the code"
    );
    let refused = second_step(&mut fresh, &asked, "000000")?;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("data-testid=\"login-error\""));
    let replay = second_step(&mut fresh, &asked, &code)?;
    assert_eq!(replay.status, 400, "the confirming code is spent");
    let signed = second_step(&mut fresh, &asked, &totp::code_at(&secret, t0 + 30))?;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.location.as_deref(), Some("/_/"));
    assert_eq!(fresh.get("/_/")?.status, 200, "signed in");
    let again = second_step(&mut fresh, &asked, recovery[0])?;
    assert_eq!(again.status, 400, "the MFA session is spent");

    let mut other = Browser::new(&server);
    let asked = other.login(ADMIN_EMAIL, ADMIN_PASSWORD)?;
    let by_recovery = second_step(&mut other, &asked, recovery[0])?;
    assert_eq!(by_recovery.status, 303, "a recovery code signs in");
    let account = other.get("/_/account")?;
    assert!(account.body.contains("data-testid=\"totp-on\""));
    let off = other.submit("/_/account", "/_/account/mfa", &[("enabled", "false")])?;
    assert_eq!(off.status, 303);
    assert_eq!(
        Browser::signed_in(&server).map(|_| ()).ok(),
        Some(()),
        "a password alone again"
    );
    Ok(())
}

#[test]
fn a_superuser_without_an_app_gets_an_emailed_code() -> anyhow::Result<()> {
    let sink = support::smtp::SmtpSink::start(&[]);
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let port = sink.port.to_string();
    let server = support::serve_with_env(
        dir.path(),
        &[
            ("LITEBASE_SMTP_HOST", "127.0.0.1"),
            ("LITEBASE_SMTP_PORT", &port),
        ],
    )?;
    let token = support::superuser_token(&server)?;
    let on = Http::new().patch_json_auth(
        &server.url("/api/collections/_superusers"),
        &token,
        &json!({"otp": {"enabled": true}, "mfa": {"enabled": true, "duration": 600}}),
    )?;
    assert_eq!(on.status, 200, "{}", on.text);
    let renamed = Http::new().patch_json_auth(
        &server.url("/api/collections/_superusers"),
        &token,
        &json!({"name": "admins"}),
    )?;
    assert_eq!(
        renamed.status, 400,
        "other options of a system collection stay fixed"
    );

    let mut browser = Browser::new(&server);
    let asked = browser.login(ADMIN_EMAIL, ADMIN_PASSWORD)?;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(
        hidden(&asked, "otp_id").is_some_and(|id| id.len() == 15),
        "{}",
        asked.body
    );
    let mails = sink.wait_for(1);
    let text = mails
        .first()
        .and_then(|m| m["text"].as_str())
        .unwrap_or_default();
    let code = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 8)
        .unwrap_or_default()
        .to_string();
    assert_eq!(code.len(), 8, "a code in the mail: {text}");
    assert_eq!(second_step(&mut browser, &asked, "00000000")?.status, 400);
    let signed = second_step(&mut browser, &asked, &code)?;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(browser.get("/_/")?.status, 200);
    Ok(())
}
