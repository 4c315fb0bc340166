//! `/api/settings` against the `litebase` binary: the round trip, validation in
//! PocketBase's `data` shape, superusers only, the SMTP password never shown,
//! the live mailer; an app's declared setting (an app run in this process).

mod support;

use std::time::Duration;

use litebase::settings::{AppSetting, SettingKind};
use litebase::testing::browser::Browser;
use litebase::testing::{Http, assert_error_shape};
use serde_json::json;

#[test]
fn settings_round_trip_and_survive_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (mut server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let url = server.url("/api/settings");

    let before = http.get_auth(&url, &token)?;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.json["meta"]["appName"], "litebase");
    assert_eq!(before.json["logs"]["maxDays"], 7);
    assert_eq!(
        before.json["apps"],
        json!({}),
        "the plain binary declares none"
    );

    let saved = http.patch_json_auth(
        &url,
        &token,
        &json!({
            "meta": {"appName": "Team Base", "appURL": "https://app.example.com/"},
            "smtp": {"enabled": true, "host": "127.0.0.1", "port": 1, "username": "mailer", "password": "hunter22"},
        }),
    )?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.json["meta"]["appName"], "Team Base");
    assert_eq!(saved.json["meta"]["appURL"], "https://app.example.com");
    assert_eq!(saved.json["meta"]["senderAddress"], "no-reply@example.com");
    assert_eq!(
        saved.json["smtp"]["password"], "",
        "the password is never shown"
    );

    // The live mailer now talks to port 1, where nobody listens.
    let refused = http.post_json_auth(
        &server.url("/api/settings/test/email"),
        &token,
        &json!({"email": "someone@example.com", "template": "verification"}),
    )?;
    let message = assert_error_shape(&refused, 400);
    assert!(message.contains("SMTP"), "{message}");

    // Disabled SMTP logs mails: the test mail "goes out".
    let off = http.patch_json_auth(&url, &token, &json!({"smtp": {"enabled": false}}))?;
    assert_eq!(off.status, 200, "{}", off.text);
    let sent = http.post_json_auth(
        &server.url("/api/settings/test/email"),
        &token,
        &json!({"email": "someone@example.com", "template": "otp"}),
    )?;
    assert_eq!(sent.status, 204, "{}", sent.text);

    server.signal("TERM")?;
    server.wait(Duration::from_secs(10));
    drop(server);
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let token = support::superuser_token(&server)?;
    let after = http.get_auth(&server.url("/api/settings"), &token)?;
    assert_eq!(after.json["meta"]["appName"], "Team Base");
    assert_eq!(after.json["smtp"]["host"], "127.0.0.1");
    Ok(())
}

#[test]
fn invalid_settings_name_each_field_and_change_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let url = server.url("/api/settings");

    let bad = http.patch_json_auth(
        &url,
        &token,
        &json!({
            "meta": {"appName": "Renamed", "appURL": "not a url", "senderAddress": "nobody"},
            "smtp": {"enabled": true, "host": ""},
            "apps": {"other.thing": 1},
        }),
    )?;
    assert_error_shape(&bad, 400);
    let data = &bad.json["data"];
    assert_eq!(data["meta"]["appURL"]["code"], "validation_is_url");
    assert_eq!(data["meta"]["senderAddress"]["code"], "validation_is_email");
    assert_eq!(data["smtp"]["host"]["code"], "validation_required");
    assert!(data["apps"]["other.thing"]["message"].is_string(), "{data}");

    let wrong_type = http.patch_json_auth(&url, &token, &json!({"logs": {"maxDays": "a week"}}))?;
    assert_error_shape(&wrong_type, 400);
    let not_object = http.patch_json_auth(&url, &token, &json!([1, 2]))?;
    assert_error_shape(&not_object, 400);

    let now = http.get_auth(&url, &token)?;
    assert_eq!(now.json["meta"]["appName"], "litebase", "nothing was saved");
    Ok(())
}

#[test]
fn only_superusers_see_or_change_settings() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, _token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    assert_error_shape(&http.get(&server.url("/api/settings"))?, 401);
    let patch = http.patch_json_auth(
        &server.url("/api/settings"),
        "not-a-token",
        &json!({"meta": {"appName": "x"}}),
    )?;
    assert_error_shape(&patch, 401);
    let mail = http.post_json(
        &server.url("/api/settings/test/email"),
        &json!({"email": "a@example.com", "template": "otp"}),
    )?;
    assert_error_shape(&mail, 401);

    // A signed-in user is not a superuser.
    let user = json!({"email": "u@example.com", "password": "user-password", "passwordConfirm": "user-password"});
    let made = http.post_json(&server.url("/api/collections/users/records"), &user)?;
    assert_eq!(made.status, 200, "{}", made.text);
    let signed_in = http.post_json(
        &server.url("/api/collections/users/auth-with-password"),
        &json!({"identity": "u@example.com", "password": "user-password"}),
    )?;
    let user_token = signed_in.json["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!user_token.is_empty(), "{}", signed_in.text);
    assert_error_shape(
        &http.get_auth(&server.url("/api/settings"), &user_token)?,
        403,
    );
    let patch = http.patch_json_auth(&server.url("/api/settings"), &user_token, &json!({}))?;
    assert_error_shape(&patch, 403);
    Ok(())
}

#[test]
fn the_auth_rate_limit_changes_at_runtime() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let login = server.url("/api/collections/users/auth-with-password");
    let attempt = || {
        http.post_json(
            &login,
            &json!({"identity": "x@example.com", "password": "wrong-one"}),
        )
    };
    for _ in 0..3 {
        assert_eq!(attempt()?.status, 400, "under the default limit of 60");
    }
    let saved = http.patch_json_auth(
        &server.url("/api/settings"),
        &token,
        &json!({"rateLimits": {"enabled": true, "authPerMinute": 5}}),
    )?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    // The superuser's sign-in and three attempts used four of the five.
    assert_eq!(attempt()?.status, 400, "the 5th in this minute passes");
    assert_error_shape(&attempt()?, 429);
    let off = http.patch_json_auth(
        &server.url("/api/settings"),
        &token,
        &json!({"rateLimits": {"enabled": false}}),
    )?;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_eq!(attempt()?.status, 400, "no limit once disabled");
    Ok(())
}

/// An app that declares one setting of its own, run in this process.
fn app_with_a_setting() -> litebase::App {
    litebase::App::new("demo").setting(AppSetting {
        key: "demo.pageSize",
        label_en: "Page size",
        label_fr: "Taille de page",
        kind: SettingKind::Integer { min: 1, max: 500 },
        default: json!(50),
    })
}

#[test]
fn an_apps_declared_setting_is_validated_saved_and_edited_in_the_admin() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::add_superuser_in_process(app_with_a_setting(), dir.path())?;
    let server = support::serve_in_process(app_with_a_setting(), dir.path(), &[])?;
    let token = support::superuser_token(&server)?;
    let http = Http::new();
    let url = server.url("/api/settings");

    let before = http.get_auth(&url, &token)?;
    assert_eq!(
        before.json["apps"],
        json!({"demo.pageSize": 50}),
        "{}",
        before.text
    );
    let refused = http.patch_json_auth(&url, &token, &json!({"apps": {"demo.pageSize": 0}}))?;
    assert_error_shape(&refused, 400);
    assert_eq!(
        refused.json["data"]["apps"]["demo.pageSize"]["message"],
        "Must be a whole number between 1 and 500."
    );
    let saved = http.patch_json_auth(&url, &token, &json!({"apps": {"demo.pageSize": 120}}))?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.json["apps"]["demo.pageSize"], 120);

    // The admin's settings page shows it under its label; saved and refused inline.
    let mut browser = Browser::signed_in(&server)?;
    let page = browser.get("/_/settings")?;
    assert!(page.body.contains("Page size"), "{}", page.body);
    assert!(page.body.contains("name=\"apps.demo.pageSize\""));
    let form = browser.submit(
        "/_/settings",
        "/_/settings",
        &[("section", "apps"), ("apps.demo.pageSize", "30")],
    )?;
    assert_eq!(form.status, 303, "{}", form.body);
    assert_eq!(
        http.get_auth(&url, &token)?.json["apps"]["demo.pageSize"],
        30
    );
    let zero = browser.submit(
        "/_/settings",
        "/_/settings",
        &[("section", "apps"), ("apps.demo.pageSize", "0")],
    )?;
    assert_eq!(zero.status, 400, "{}", zero.body);
    assert!(
        zero.body.contains("id=\"err-apps-demo-pageSize\""),
        "{}",
        zero.body
    );
    assert!(zero.body.contains("Must be a whole number between 1"));
    server.stop()?;

    // Saved values outlive a restart.
    let server = support::serve_in_process(app_with_a_setting(), dir.path(), &[])?;
    let token = support::superuser_token(&server)?;
    let after = http.get_auth(&server.url("/api/settings"), &token)?;
    assert_eq!(after.json["apps"]["demo.pageSize"], 30);
    Ok(())
}
