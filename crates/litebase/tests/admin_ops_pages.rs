//! The admin's operations pages against the `litebase` binary: settings saved and
//! refused field by field (values kept), a test mail in log mode, the request
//! log viewer with its filter, and a backup made, downloaded and restored from
//! the admin UI.

mod support;

use std::time::{Duration, Instant};

use litebase::testing::{Http, ServerProcess};
use serde_json::json;
use support::admin::{Browser, Page, get_bytes};

/// A signed-in admin browser on a fresh server, and the superuser's API token.
fn signed_in(dir: &std::path::Path) -> anyhow::Result<(ServerProcess, Browser, String)> {
    let (server, token) = support::serve_as_admin(dir)?;
    let browser = Browser::signed_in(&server)?;
    Ok((server, browser, token))
}

fn settings_json(server: &ServerProcess, token: &str) -> anyhow::Result<serde_json::Value> {
    let reply = Http::new().get_auth(&server.url("/api/settings"), token)?;
    anyhow::ensure!(reply.status == 200, "settings: {}", reply.text);
    Ok(reply.json)
}

fn assert_saved(page: &Page, what: &str) {
    assert_eq!(page.status, 303, "{what}: {}", page.body);
    let location = page.location.clone().unwrap_or_default();
    assert!(
        location.starts_with("/_/settings?flash=settings_saved"),
        "{what} went to {location:?}"
    );
}

#[test]
fn settings_save_refuse_inline_and_send_a_test_mail() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, mut browser, token) = signed_in(dir.path())?;

    let shown = browser.get("/_/settings")?;
    assert_eq!(shown.status, 200, "{}", shown.body);

    // Application: saved, and the top bar shows the new name.
    let saved = browser.submit(
        "/_/settings",
        "/_/settings",
        &[
            ("section", "meta"),
            ("meta.appName", "Sprint Base"),
            ("meta.appURL", "https://app.example.com/"),
        ],
    )?;
    assert_saved(&saved, "application");
    let after = browser.get(saved.location.as_deref().unwrap_or("/_/settings"))?;
    assert!(after.body.contains("Settings saved."), "toast shown");
    assert!(
        after
            .body
            .contains("Sprint Base <span class=\"brand-sub\">")
    );
    let api = settings_json(&server, &token)?;
    assert_eq!(api["meta"]["appName"], "Sprint Base");
    assert_eq!(api["meta"]["appURL"], "https://app.example.com");

    // A bad URL: refused next to the field, what was typed kept, nothing saved.
    let refused = browser.submit(
        "/_/settings",
        "/_/settings",
        &[
            ("section", "meta"),
            ("meta.appName", "Renamed"),
            ("meta.appURL", "not a url"),
        ],
    )?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("id=\"err-appURL\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("starting with http://"));
    assert!(refused.body.contains("value=\"not a url\""));
    assert!(refused.body.contains("value=\"Renamed\""));
    assert_eq!(
        settings_json(&server, &token)?["meta"]["appName"],
        "Sprint Base"
    );

    // A number that is not one: said so, and the text stays.
    let not_a_number = browser.submit(
        "/_/settings",
        "/_/settings",
        &[("section", "logs"), ("logs.maxDays", "ten")],
    )?;
    assert_eq!(not_a_number.status, 400);
    assert!(not_a_number.body.contains("id=\"err-maxDays\""));
    assert!(not_a_number.body.contains("Enter a whole number."));
    assert!(not_a_number.body.contains("value=\"ten\""));

    // Rate limits: a checkbox left out is off.
    let limits = browser.submit(
        "/_/settings",
        "/_/settings",
        &[
            ("section", "rateLimits"),
            ("rateLimits.authPerMinute", "12"),
        ],
    )?;
    assert_saved(&limits, "rate limits");
    let api = settings_json(&server, &token)?;
    assert_eq!(
        api["rateLimits"],
        json!({"enabled": false, "authPerMinute": 12})
    );

    // Trusted proxy: a list of header names and the leftmost switch; a name
    // that cannot be a header is refused next to the field, as typed.
    let page = browser.get("/_/settings")?;
    assert!(page.body.contains("id=\"trustedProxy\""));
    assert!(
        page.body.contains("127.0.0.0/8, ::1/128, 10.0.0.0/8"),
        "the trusted peers are shown"
    );
    assert!(
        page.body
            .contains("<code data-testid=\"seen-ip\">127.0.0.1</code>")
    );
    let proxy = browser.submit(
        "/_/settings",
        "/_/settings",
        &[
            ("section", "trustedProxy"),
            ("trustedProxy.headers", "X-Real-IP, X-Forwarded-For"),
            ("trustedProxy.useLeftmostIP", "true"),
        ],
    )?;
    assert_saved(&proxy, "trusted proxy");
    assert_eq!(
        settings_json(&server, &token)?["trustedProxy"],
        json!({"headers": ["X-Real-IP", "X-Forwarded-For"], "useLeftmostIP": true})
    );
    let shown = browser.get("/_/settings")?;
    assert!(
        shown.body.contains("value=\"X-Real-IP, X-Forwarded-For\""),
        "{}",
        shown.body
    );
    let bad = browser.submit(
        "/_/settings",
        "/_/settings",
        &[
            ("section", "trustedProxy"),
            ("trustedProxy.headers", "X-Real-IP, Not A Header"),
        ],
    )?;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("id=\"err-proxyHeaders\""), "{}", bad.body);
    assert!(bad.body.contains("is not a header name"));
    assert!(bad.body.contains("value=\"X-Real-IP, Not A Header\""));
    let cleared = browser.submit(
        "/_/settings",
        "/_/settings",
        &[("section", "trustedProxy"), ("trustedProxy.headers", "")],
    )?;
    assert_saved(&cleared, "trusted proxy cleared");
    assert_eq!(
        settings_json(&server, &token)?["trustedProxy"],
        json!({"headers": [], "useLeftmostIP": false})
    );

    // Test mail through htmx: SMTP is off, so it goes to the log and says so.
    let csrf = browser
        .get("/_/settings")?
        .csrf()
        .ok_or_else(|| anyhow::anyhow!("no csrf"))?;
    let htmx = [("HX-Request", "true"), ("X-CSRF-Token", csrf.as_str())];
    let sent = browser.send(
        "POST",
        "/_/settings/test-mail",
        Some(&[("email", "ops@example.com"), ("template", "password-reset")]),
        &htmx,
    )?;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(!sent.body.contains("<html"), "htmx gets the form alone");
    assert!(sent.body.contains("data-testid=\"test-mail-result\""));
    assert!(
        sent.body.contains(
            "SMTP is off, so the test mail to ops@example.com was written to the server log."
        ),
        "{}",
        sent.body
    );
    let bad = browser.send(
        "POST",
        "/_/settings/test-mail",
        Some(&[("email", "nobody"), ("template", "otp")]),
        &htmx,
    )?;
    assert_eq!(bad.status, 200, "htmx swaps only 2xx: {}", bad.body);
    assert!(bad.body.contains("id=\"err-test-email\""), "{}", bad.body);
    assert!(bad.body.contains("value=\"nobody\""));
    // With SMTP on and nobody listening, the mailer's error is shown inline.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let port = closed.to_string();
    let smtp = browser.submit(
        "/_/settings",
        "/_/settings",
        &[
            ("section", "mail"),
            ("meta.senderName", "Ops"),
            ("meta.senderAddress", "ops@example.com"),
            ("smtp.enabled", "true"),
            ("smtp.host", "127.0.0.1"),
            ("smtp.port", &port),
            ("smtp.security", "none"),
        ],
    )?;
    assert_saved(&smtp, "mail");
    assert_eq!(settings_json(&server, &token)?["smtp"]["enabled"], true);
    let refused = browser.send(
        "POST",
        "/_/settings/test-mail",
        Some(&[("email", "ops@example.com"), ("template", "otp")]),
        &htmx,
    )?;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert!(
        refused.body.contains("class=\"form-error\" role=\"alert\" data-testid=\"test-mail-result\">The mail server refused the test mail"),
        "{}",
        refused.body
    );
    // Without htmx the whole page comes back, refused.
    let page = browser.submit(
        "/_/settings",
        "/_/settings/test-mail",
        &[("email", "nobody"), ("template", "otp")],
    )?;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("<html") && page.body.contains("id=\"err-test-email\""));
    Ok(())
}

/// Polls `path` until its body contains `needle` (the log writer batches).
fn wait_for(browser: &mut Browser, path: &str, needle: &str) -> anyhow::Result<Page> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = browser.get(path)?;
        if page.body.contains(needle) || Instant::now() > deadline {
            return Ok(page);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_log_viewer_lists_filters_and_explains_a_bad_filter() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, mut browser, _token) = signed_in(dir.path())?;
    let missing = Http::new().get(&server.url("/api/no-such-thing-here"))?;
    assert_eq!(missing.status, 404);

    let errors = wait_for(
        &mut browser,
        "/_/logs?filter=status%20%3E%3D%20400",
        "/api/no-such-thing-here",
    )?;
    assert_eq!(errors.status, 200, "{}", errors.body);
    assert!(
        errors.body.contains("/api/no-such-thing-here"),
        "{}",
        errors.body
    );
    assert!(errors.body.contains("data-status=\"404\""));
    assert!(
        !errors.body.contains("data-status=\"200\""),
        "the filter keeps only errors"
    );
    assert!(
        errors.body.contains("logs.db"),
        "the page says where logs live"
    );
    assert!(errors.body.contains("aria-current=\"true\">Errors only"));

    let all = wait_for(&mut browser, "/_/logs", "data-status=\"200\"")?;
    assert!(all.body.contains("data-status=\"200\"") && all.body.contains("data-status=\"404\""));

    let bad = browser.get("/_/logs?filter=status%20%3E%3E%3E%201")?;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("data-testid=\"filter-error\""));
    assert!(bad.body.contains("Invalid filter"));
    assert!(
        bad.body.contains("value=\"status &gt;&gt;&gt; 1\""),
        "the filter is kept"
    );

    // With htmx, filter, quick filters and pages swap only the results; the
    // full page (no JavaScript) carries the same links.
    assert!(all.body.contains("hx-target=\"#logs-results\""));
    let htmx = [("HX-Request", "true"), ("HX-Target", "logs-results")];
    let swapped = browser.send("GET", "/_/logs?filter=status%20%3E%3D%20400", None, &htmx)?;
    assert_eq!(swapped.status, 200, "{}", swapped.body);
    assert!(
        swapped
            .body
            .trim_start()
            .starts_with("<div id=\"logs-results\">"),
        "{}",
        swapped.body
    );
    assert!(!swapped.body.contains("<html") && !swapped.body.contains("logs.db"));
    assert!(
        swapped.body.contains("data-status=\"404\"")
            && !swapped.body.contains("data-status=\"200\"")
    );
    let swapped_bad = browser.send("GET", "/_/logs?filter=status%20%3E%3E%3E%201", None, &htmx)?;
    assert_eq!(
        swapped_bad.status, 200,
        "htmx swaps only 2xx: {}",
        swapped_bad.body
    );
    assert!(swapped_bad.body.contains("data-testid=\"filter-error\""));

    // One entry in detail.
    let start = errors
        .body
        .find("href=\"/_/logs/")
        .ok_or_else(|| anyhow::anyhow!("no entry link"))?
        + "href=\"".len();
    let href = &errors.body[start..start + errors.body[start..].find('"').unwrap_or(0)];
    let entry = browser.get(href)?;
    assert_eq!(entry.status, 200, "{href}: {}", entry.body);
    assert!(entry.body.contains("data-testid=\"log-entry\""));
    assert!(entry.body.contains("/api/no-such-thing-here"));
    assert_eq!(browser.get("/_/logs/nope")?.status, 404);
    Ok(())
}

#[test]
fn a_backup_is_made_downloaded_and_restored_from_the_admin() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, mut browser, token) = signed_in(dir.path())?;
    let http = Http::new();
    let created = http.post_json_auth(
        &server.url("/api/collections/users/records"),
        &token,
        &json!({"email": "kept@example.com", "password": "kept-password-1", "passwordConfirm": "kept-password-1"}),
    )?;
    assert_eq!(created.status, 200, "{}", created.text);
    let user = format!(
        "/api/collections/users/records/{}",
        created.json["id"].as_str().unwrap_or_default()
    );

    let empty = browser.get("/_/backups")?;
    assert!(empty.body.contains("data-testid=\"no-backups\""));
    assert!(
        empty.body.contains("backup restore"),
        "the CLI is mentioned"
    );
    let made = browser.submit("/_/backups", "/_/backups", &[("name", "before.db")])?;
    assert_eq!(made.status, 303, "{}", made.body);
    assert_eq!(
        made.location.as_deref(),
        Some("/_/backups?flash=backup_created")
    );
    let listed = browser.get("/_/backups")?;
    assert!(
        listed.body.contains("data-key=\"before.db\""),
        "{}",
        listed.body
    );

    let again = browser.submit("/_/backups", "/_/backups", &[("name", "before.db")])?;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("id=\"err-backup-name\"") && again.body.contains("exists already"));
    let bad = browser.submit("/_/backups", "/_/backups", &[("name", "../evil")])?;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("value=\"../evil\""), "the name is kept");

    let cookies = browser.cookie_header();
    let (status, bytes) = get_bytes(
        &server,
        "/_/backups/before.db/download",
        &[("Cookie", &cookies)],
    )?;
    assert_eq!(status, 200);
    assert!(bytes.starts_with(b"SQLite format 3\0"), "a SQLite file");
    let (status, _) = get_bytes(&server, "/_/backups/before.db/download", &[])?;
    assert_eq!(status, 303, "no session, no download");

    assert_eq!(http.agent_delete(&server.url(&user), &token)?, 204);
    assert_eq!(http.get_auth(&server.url(&user), &token)?.status, 404);
    let restored = browser.submit("/_/backups", "/_/backups/before.db/restore", &[])?;
    assert_eq!(restored.status, 303, "{}", restored.body);
    assert_eq!(
        restored.location.as_deref(),
        Some("/_/backups?flash=backup_restored")
    );
    assert_eq!(
        http.get_auth(&server.url(&user), &token)?.status,
        200,
        "the record is back"
    );
    let toast = browser.get("/_/backups?flash=backup_restored")?;
    assert!(
        toast.body.contains("Backup restored"),
        "still signed in, toast shown"
    );

    let deleted = browser.submit("/_/backups", "/_/backups/before.db/delete", &[])?;
    assert_eq!(deleted.status, 303);
    assert!(
        !browser
            .get("/_/backups")?
            .body
            .contains("data-key=\"before.db\"")
    );
    let gone = browser.submit("/_/backups", "/_/backups/before.db/restore", &[])?;
    assert_eq!(gone.status, 400);
    assert!(gone.body.contains("There is no such backup any more"));
    Ok(())
}
