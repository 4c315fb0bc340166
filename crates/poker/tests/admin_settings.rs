//! Poker's room expiry, a setting it declares to litebase: validated, saved
//! through the API and the admin's settings page, and reaching the sweeper at
//! runtime. (Settings themselves are litebase's, tested in its `admin_settings.rs`.)

mod support;

use std::time::{Duration, Instant};

use litebase::testing::browser::Browser;
use litebase::testing::{Http, assert_error_shape};
use serde_json::json;

#[test]
fn the_room_expiry_is_a_declared_setting_validated_and_saved() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let url = server.url("/api/settings");
    let before = http.get_auth(&url, &token)?;
    assert_eq!(
        before.json["apps"]["poker.roomTtl"], 86_400,
        "{}",
        before.text
    );

    let refused = http.patch_json_auth(&url, &token, &json!({"apps": {"poker.roomTtl": 0}}))?;
    assert_error_shape(&refused, 400);
    assert!(
        refused.json["data"]["apps"]["poker.roomTtl"]["message"].is_string(),
        "{}",
        refused.text
    );
    let saved = http.patch_json_auth(&url, &token, &json!({"apps": {"poker.roomTtl": 3600}}))?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.json["apps"]["poker.roomTtl"], 3600);

    // The admin's settings page: shown under its label, saved, refused inline.
    let mut browser = Browser::signed_in(&server)?;
    let shown = browser.get("/_/settings")?;
    assert!(shown.body.contains("Room expiry"), "{}", shown.body);
    assert!(shown.body.contains("name=\"apps.poker.roomTtl\""));
    let ttl = browser.submit(
        "/_/settings",
        "/_/settings",
        &[("section", "apps"), ("apps.poker.roomTtl", "7200")],
    )?;
    assert_eq!(ttl.status, 303, "{}", ttl.body);
    assert_eq!(
        http.get_auth(&url, &token)?.json["apps"]["poker.roomTtl"],
        7200
    );
    let zero = browser.submit(
        "/_/settings",
        "/_/settings",
        &[("section", "apps"), ("apps.poker.roomTtl", "0")],
    )?;
    assert_eq!(zero.status, 400);
    assert!(
        zero.body.contains("id=\"err-apps-poker-roomTtl\""),
        "{}",
        zero.body
    );
    assert!(zero.body.contains("Must be a whole number between 1"));
    Ok(())
}

#[test]
fn a_shorter_room_ttl_reaches_the_sweeper_without_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let server = support::serve_with_env(dir.path(), &[("POKER_SWEEP_INTERVAL", "1")])?;
    let token = support::superuser_token(&server)?;
    let room = support::ws::create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        support::room_record_id(&server, &token, &code)?.is_some(),
        "with the default day-long expiry the room stays"
    );

    let saved = Http::new().patch_json_auth(
        &server.url("/api/settings"),
        &token,
        &json!({"apps": {"poker.roomTtl": 1}}),
    )?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    let deadline = Instant::now() + Duration::from_secs(15);
    while support::room_record_id(&server, &token, &code)?.is_some() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the idle room was not swept after the expiry became 1 second"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}
