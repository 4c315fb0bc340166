//! Access to the admin UI at `/_/`, against the `litebase` binary: only superusers get
//! in, every form needs its CSRF token, login sets a locked-down cookie, the
//! first-run setup link works once, and the superusers page manages accounts.

mod support;

use std::time::{Duration, Instant};

use support::admin::{Browser, Page, superuser_count, user_token};
use support::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// Every admin route: (method, path). `{superuser}` stands for the signed-in
/// superuser's id. A new admin page adds its routes here, one line each.
const ADMIN_ROUTES: &[(&str, &str)] = &[
    ("GET", "/_/"),
    ("GET", "/_"),
    ("GET", "/_/no-such-page"),
    ("POST", "/_/logout"),
    ("GET", "/_/superusers"),
    ("POST", "/_/superusers"),
    ("POST", "/_/superusers/{superuser}/password"),
    ("POST", "/_/superusers/{superuser}/delete"),
    // Operations (opsui).
    ("GET", "/_/settings"),
    ("POST", "/_/settings"),
    ("POST", "/_/settings/test-mail"),
    ("GET", "/_/logs"),
    ("GET", "/_/logs/no-such-entry"),
    ("GET", "/_/backups"),
    ("POST", "/_/backups"),
    ("GET", "/_/backups/x.db/download"),
    ("POST", "/_/backups/x.db/delete"),
    ("POST", "/_/backups/x.db/restore"),
    ("GET", "/_/webhooks"),
    ("POST", "/_/webhooks"),
    ("GET", "/_/webhooks/x"),
    ("POST", "/_/webhooks/x"),
    ("POST", "/_/webhooks/x/delete"),
    ("POST", "/_/webhooks/x/deliveries/y/retry"),
    ("GET", "/_/crons"),
    ("POST", "/_/crons/__pbDBOptimize__/run"),
    ("GET", "/_/settings/export-collections"),
    ("GET", "/_/settings/export-collections/download"),
    ("GET", "/_/settings/import-collections"),
    ("POST", "/_/settings/import-collections"),
    // Records.
    ("GET", "/_/collections/users"),
    ("GET", "/_/collections/users/relation-options?field=x&q="),
    ("POST", "/_/collections/users/bulk-delete"),
    ("GET", "/_/collections/users/records/new"),
    ("POST", "/_/collections/users/records"),
    ("GET", "/_/collections/_superusers/records/{superuser}"),
    ("POST", "/_/collections/_superusers/records/{superuser}"),
    (
        "POST",
        "/_/collections/_superusers/records/{superuser}/delete",
    ),
    // Collections editor.
    ("GET", "/_/collections/new"),
    ("POST", "/_/collections/new"),
    ("POST", "/_/collections/check-rule"),
    ("GET", "/_/collections/users/edit"),
    ("POST", "/_/collections/users/edit"),
    ("POST", "/_/collections/users/truncate"),
    ("POST", "/_/collections/users/delete"),
];

/// A form that would change data on any of the routes above, were it accepted.
const HOSTILE_FORM: &[(&str, &str)] = &[
    ("email", "intruder@example.com"),
    ("password", "intruder-password"),
    ("passwordConfirm", "intruder-password"),
    (
        "_csrf",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
];

/// The id of the test superuser, through the API.
fn superuser_id(server: &litebase::testing::ServerProcess) -> anyhow::Result<String> {
    let token = support::superuser_token(server)?;
    let reply = litebase::testing::Http::new()
        .get_auth(&server.url("/api/collections/_superusers/records"), &token)?;
    reply.json["items"][0]["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no superuser: {}", reply.text))
}

/// Asserts `page` refuses: a page GET goes to the login page, anything else is a
/// 401/403 in PocketBase's error shape.
fn assert_refused(page: &Page, method: &str, htmx: bool, who: &str, route: &str) {
    if method == "GET" && !htmx {
        assert_eq!(page.status, 303, "{who} {method} {route}: {}", page.body);
        let location = page.location.clone().unwrap_or_default();
        assert!(
            location.starts_with("/_/login?next="),
            "{who} {method} {route} went to {location:?}"
        );
    } else {
        assert!(
            page.status == 401 || page.status == 403,
            "{who} {method} {route} (htmx: {htmx}) answered {}: {}",
            page.status,
            page.body
        );
        let json: serde_json::Value = serde_json::from_str(&page.body).unwrap_or_default();
        assert_eq!(json["status"], page.status, "error shape: {}", page.body);
        assert!(json["message"].is_string() && json["data"].is_object());
    }
}

#[test]
fn every_admin_route_refuses_anyone_but_a_superuser() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, admin_token) = support::serve_as_admin(dir.path())?;
    let user = user_token(&server, &admin_token)?;
    let id = superuser_id(&server)?;
    let forged = format!("{}x", admin_token.trim_end_matches(|c: char| c != '.'));
    let identities: [(&str, Option<&str>); 3] = [
        ("anonymous", None),
        ("forged cookie", Some(forged.as_str())),
        ("users token", Some(user.as_str())),
    ];
    for (method, route) in ADMIN_ROUTES {
        let path = route.replace("{superuser}", &id);
        for (who, cookie) in &identities {
            for htmx in [false, true] {
                let mut browser = Browser::new(&server);
                if let Some(cookie) = cookie {
                    browser = browser.with_cookie("lb_admin", cookie);
                }
                let headers: &[(&str, &str)] = if htmx { &[("HX-Request", "true")] } else { &[] };
                let form = (*method != "GET").then_some(HOSTILE_FORM);
                let page = browser.send(method, &path, form, headers)?;
                assert_refused(&page, method, htmx, who, route);
                if *who == "users token" && (*method != "GET" || htmx) {
                    assert_eq!(page.status, 403, "{who} {method} {route}: {}", page.body);
                }
            }
        }
    }
    assert_eq!(
        superuser_count(&server)?,
        1,
        "nothing was created or deleted"
    );
    // The superuser's password still works (no refused form changed it).
    assert!(support::superuser_token(&server).is_ok());
    // And the table is not vacuous: the real superuser gets in.
    let mut browser = Browser::new(&server);
    assert_eq!(browser.login(ADMIN_EMAIL, ADMIN_PASSWORD)?.status, 303);
    for (method, route) in ADMIN_ROUTES.iter().filter(|(m, _)| *m == "GET") {
        let page = browser.get(&route.replace("{superuser}", &id))?;
        assert!(
            matches!(page.status, 200 | 303 | 404),
            "superuser {method} {route}: {} {}",
            page.status,
            page.body
        );
    }
    Ok(())
}

#[test]
fn a_form_without_the_right_csrf_token_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, _) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::new(&server);
    assert_eq!(browser.login(ADMIN_EMAIL, ADMIN_PASSWORD)?.status, 303);
    let form = [
        ("email", "second@example.com"),
        ("password", "second-password"),
        ("passwordConfirm", "second-password"),
    ];
    let missing = browser.post("/_/superusers", &form)?;
    assert_eq!(missing.status, 403, "{}", missing.body);
    assert!(missing.body.contains("CSRF"), "says why: {}", missing.body);
    let mut wrong = form.to_vec();
    wrong.push(("_csrf", "not-the-token"));
    assert_eq!(browser.post("/_/superusers", &wrong)?.status, 403);
    let header = browser.send(
        "POST",
        "/_/superusers",
        Some(&form),
        &[("X-CSRF-Token", "not-the-token")],
    )?;
    assert_eq!(header.status, 403);
    assert_eq!(
        superuser_count(&server)?,
        1,
        "no refused form created anything"
    );

    // The same form with the page's token goes through.
    let ok = browser.submit("/_/superusers", "/_/superusers", &form)?;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(superuser_count(&server)?, 2);

    // Another superuser's session token does not work in this session.
    let mut other = Browser::new(&server);
    assert_eq!(
        other.login("second@example.com", "second-password")?.status,
        303
    );
    let other_token = other.get("/_/superusers")?.csrf().unwrap_or_default();
    let third = [
        ("email", "third@example.com"),
        ("password", "third-password"),
        ("passwordConfirm", "third-password"),
        ("_csrf", other_token.as_str()),
    ];
    assert_eq!(browser.post("/_/superusers", &third)?.status, 403);
    assert_eq!(superuser_count(&server)?, 2);

    // htmx sends the token in a header instead of the form: that works too.
    let own_token = browser.get("/_/superusers")?.csrf().unwrap_or_default();
    let by_header = browser.send(
        "POST",
        "/_/superusers",
        Some(&third[..3]),
        &[("X-CSRF-Token", &own_token), ("HX-Request", "true")],
    )?;
    assert_eq!(by_header.status, 303, "{}", by_header.body);
    assert_eq!(superuser_count(&server)?, 3);

    // The login form has no session; its own token (double submit) is required.
    let mut fresh = Browser::new(&server);
    let login = fresh.post(
        "/_/login",
        &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
    )?;
    assert_eq!(login.status, 403, "{}", login.body);
    assert!(login.set_cookie("lb_admin").is_none());
    Ok(())
}

#[test]
fn login_sets_a_locked_down_cookie_and_wrong_passwords_get_an_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, _) = support::serve_as_admin(dir.path())?;

    let mut browser = Browser::new(&server);
    let wrong = browser.login(ADMIN_EMAIL, "not-the-password")?;
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.body.contains("data-testid=\"login-error\""),
        "{}",
        wrong.body
    );
    assert!(wrong.set_cookie("lb_admin").is_none());
    let unknown = browser.login("nobody@example.com", "not-the-password")?;
    let error_of = |p: &Page| {
        p.body
            .split("login-error\">")
            .nth(1)
            .map(|s| s[..20].to_string())
    };
    assert_eq!(
        error_of(&unknown),
        error_of(&wrong),
        "no account enumeration"
    );
    assert_eq!(browser.get("/_/")?.status, 303, "still signed out");

    let ok = browser.login(ADMIN_EMAIL, ADMIN_PASSWORD)?;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/_/"));
    let cookie = ok.set_cookie("lb_admin").unwrap_or_default().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/_/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    let dashboard = browser.get("/_/")?;
    assert_eq!(dashboard.status, 200);
    assert!(dashboard.body.contains(ADMIN_EMAIL));
    assert!(
        dashboard
            .body
            .contains("data-testid=\"dashboard-collections\"")
    );
    assert!(dashboard.body.contains("hx-headers='{\"X-CSRF-Token\": \""));
    let missing = browser.get("/_/no-such-page")?;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("data-testid=\"not-found\""),
        "an HTML page: {}",
        missing.body
    );

    // `next` brings you back where the redirect came from, never elsewhere.
    let mut again = Browser::new(&server);
    let bounced = again.get("/_/superusers")?;
    assert_eq!(
        bounced.location.as_deref(),
        Some("/_/login?next=/_/superusers")
    );
    let login = again.get("/_/login?next=/_/superusers")?;
    let csrf = login.csrf().unwrap_or_default();
    let back = again.post(
        "/_/login",
        &[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("next", "/_/superusers"),
            ("_csrf", &csrf),
        ],
    )?;
    assert_eq!(back.location.as_deref(), Some("/_/superusers"));
    let evil = again.post(
        "/_/login",
        &[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("next", "https://evil.example/"),
            ("_csrf", &csrf),
        ],
    )?;
    assert_eq!(evil.location.as_deref(), Some("/_/"));

    // Logging out clears the cookie.
    let out = browser.submit("/_/", "/_/logout", &[])?;
    assert_eq!(out.status, 303);
    assert!(
        out.set_cookie("lb_admin")
            .is_some_and(|c| c.contains("Max-Age=0"))
    );
    assert_eq!(browser.get("/_/")?.status, 303);
    Ok(())
}

/// The setup link's path the server printed, if any: it comes in the same write
/// as the banner's dashboard line, so a moment after that line is enough.
fn setup_path(server: &litebase::testing::ServerProcess) -> Option<String> {
    let banner = Instant::now() + Duration::from_secs(5);
    while !server.stdout().contains("Dashboard:") && Instant::now() < banner {
        std::thread::sleep(Duration::from_millis(20));
    }
    let settle = Instant::now() + Duration::from_millis(500);
    loop {
        let out = server.stdout();
        if let Some(start) = out.find("/_/setup/") {
            let rest = &out[start..];
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            return Some(rest[..end].to_string());
        }
        if Instant::now() > settle {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_setup_link_creates_the_first_superuser_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let path = setup_path(&server)
        .ok_or_else(|| anyhow::anyhow!("no setup link printed: {}", server.stdout()))?;

    let mut browser = Browser::new(&server);
    let login = browser.get("/_/login")?;
    assert!(
        login.body.contains("data-testid=\"no-superuser\""),
        "{}",
        login.body
    );
    assert!(
        login.body.contains("litebase superuser upsert"),
        "{}",
        login.body
    );
    assert_eq!(browser.get("/_/setup/not-the-token")?.status, 404);

    let mismatch = browser.submit(
        &path,
        &path,
        &[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("passwordConfirm", "other"),
        ],
    )?;
    assert_eq!(mismatch.status, 400, "{}", mismatch.body);
    assert!(mismatch.body.contains("err-passwordConfirm"));

    let created = browser.submit(
        &path,
        &path,
        &[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("passwordConfirm", ADMIN_PASSWORD),
        ],
    )?;
    assert_eq!(created.status, 303, "{}", created.body);
    assert!(created.set_cookie("lb_admin").is_some(), "signed in");
    assert_eq!(browser.get("/_/")?.status, 200);
    assert_eq!(superuser_count(&server)?, 1);

    let reused = browser.get(&path)?;
    assert_eq!(reused.status, 404);
    assert!(reused.body.contains("data-testid=\"setup-dead\""));
    let mut other = Browser::new(&server);
    let again = other.get("/_/login")?;
    let csrf = again.csrf().unwrap_or_default();
    let second = other.post(
        &path,
        &[
            ("email", "second@example.com"),
            ("password", "second-password"),
            ("passwordConfirm", "second-password"),
            ("_csrf", &csrf),
        ],
    )?;
    assert_eq!(second.status, 404, "{}", second.body);
    assert_eq!(superuser_count(&server)?, 1, "the link worked once");
    drop(server);

    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    assert_eq!(
        setup_path(&server),
        None,
        "no link once a superuser exists: {}",
        server.stdout()
    );
    Ok(())
}

#[test]
fn superusers_are_created_and_deleted_through_the_forms() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, _) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::new(&server);
    browser.login(ADMIN_EMAIL, ADMIN_PASSWORD)?;

    let bad = browser.submit(
        "/_/superusers",
        "/_/superusers",
        &[
            ("email", "not-an-email"),
            ("password", "second-password"),
            ("passwordConfirm", "different"),
        ],
    )?;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("err-new-email"),
        "email error inline: {}",
        bad.body
    );
    assert!(
        bad.body.contains("err-new-passwordConfirm"),
        "confirm error inline"
    );

    let created = browser.submit(
        "/_/superusers",
        "/_/superusers",
        &[
            ("email", "second@example.com"),
            ("password", "second-password"),
            ("passwordConfirm", "second-password"),
        ],
    )?;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(superuser_count(&server)?, 2);
    let list = browser.get("/_/superusers?flash=superuser_created")?;
    assert!(list.body.contains("second@example.com"));
    assert!(list.body.contains("data-testid=\"flash\""));

    let own = superuser_id(&server)?;
    let own = if list.body.contains(&format!("data-id=\"{own}\"")) {
        own
    } else {
        anyhow::bail!("own row missing")
    };
    let self_delete =
        browser.submit("/_/superusers", &format!("/_/superusers/{own}/delete"), &[])?;
    assert_eq!(self_delete.status, 400, "{}", self_delete.body);
    assert!(self_delete.body.contains("cannot delete your own account"));
    assert_eq!(superuser_count(&server)?, 2);

    let other = list
        .body
        .split("data-id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|id| *id != own)
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("second row missing"))?;
    let deleted = browser.submit(
        "/_/superusers",
        &format!("/_/superusers/{other}/delete"),
        &[],
    )?;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(superuser_count(&server)?, 1);

    // Changing your own password keeps you signed in (a fresh cookie).
    let changed = browser.submit(
        "/_/superusers",
        &format!("/_/superusers/{own}/password"),
        &[
            ("password", "a-new-password"),
            ("passwordConfirm", "a-new-password"),
        ],
    )?;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert!(changed.set_cookie("lb_admin").is_some());
    assert_eq!(browser.get("/_/superusers")?.status, 200);
    let mut fresh = Browser::new(&server);
    assert_eq!(fresh.login(ADMIN_EMAIL, "a-new-password")?.status, 303);
    Ok(())
}
