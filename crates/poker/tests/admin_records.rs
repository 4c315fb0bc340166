//! A poker room edited through the admin's record form (renamed, its deck
//! changed, expired) reaches a connected player live. (The records pages
//! themselves are litebase's, tested in its `admin_records.rs`.)

mod support;

use litebase::testing::ServerProcess;
use litebase::testing::browser::Browser;
use support::ws::{Player, create_room};

/// A signed-in admin browser on a fresh server; also the superuser's API token.
fn admin(dir: &std::path::Path) -> anyhow::Result<(ServerProcess, String, Browser)> {
    let (server, token) = support::serve_as_admin(dir)?;
    let browser = Browser::signed_in(&server)?;
    Ok((server, token, browser))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_renamed_in_the_admin_form_reaches_its_players() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, b) = admin(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let mut ada = Player::join(&server, &code, "Ada", None).await?;
    let id = support::room_record_id(&server, &token, &code)?
        .ok_or_else(|| anyhow::anyhow!("room not listed"))?;
    let path = format!("/_/collections/rooms/records/{id}");
    let mut b = b;
    let (mut b, page, saved) = tokio::task::spawn_blocking(move || {
        let page = b.get(&path)?;
        let saved = b.submit(&path, &path, &[("name", "Renamed in the admin UI")])?;
        anyhow::Ok((b, page, saved))
    })
    .await??;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("value=\"Sprint 7\""), "{}", page.body);
    assert_eq!(saved.status, 303, "{}", saved.body);
    let view = ada
        .view_where(|v| v["name"] == "Renamed in the admin UI")
        .await?;
    assert_eq!(view["name"], "Renamed in the admin UI");

    // Change the deck with the JSON editor's field, then expire the room.
    let path = format!("/_/collections/rooms/records/{id}");
    let deck = r#"{"kind": "tshirt", "coffee": false, "question": false, "infinity": false}"#;
    let (mut b, saved) = tokio::task::spawn_blocking(move || {
        let saved = b.submit(&path, &path, &[("deck", deck)])?;
        anyhow::Ok((b, saved))
    })
    .await??;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let view = ada
        .view_where(|v| v["deck_spec"]["kind"] == "tshirt")
        .await?;
    assert!(view["deck_spec"]["coffee"] == false, "{view}");
    let path = format!("/_/collections/rooms/records/{id}");
    let saved = tokio::task::spawn_blocking(move || {
        b.submit(&path, &path, &[("expires", "2020-01-01T00:00:00")])
    })
    .await??;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(ada.error().await?, "this room expired; create a new room");
    assert!(ada.closed().await, "the socket closes");
    Ok(())
}
