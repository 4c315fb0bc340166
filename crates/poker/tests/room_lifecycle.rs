//! A room's life around the game, against the real binary: idle rooms expire and
//! are swept while rooms with people connected stay, a running countdown survives
//! a restart, admin edits through `/api` reach connected players live, bad
//! settings stop the start, and the room metrics are served.

mod support;

use std::time::Duration;

use litebase::testing::Http;
use serde_json::json;
use support::ws::{Player, create_room};

fn code_of(room: &serde_json::Value) -> String {
    room["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_rooms_expire_and_active_rooms_stay() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let server = support::serve_with_env(
        dir.path(),
        &[("POKER_ROOM_TTL", "2"), ("POKER_SWEEP_INTERVAL", "1")],
    )?;
    let token = support::superuser_token(&server)?;
    let idle = code_of(&create_room(&server)?);
    let active = code_of(&create_room(&server)?);
    let mut player = Player::join(&server, &active, "Ada", None).await?;
    // Keep the active room busy for longer than its TTL.
    for i in 0..8 {
        let card = if i % 2 == 0 { "3" } else { "5" };
        player.act(json!({"type": "vote", "value": card})).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        support::room_record_id(&server, &token, &idle)?,
        None,
        "the idle room is deleted"
    );
    let mut ws = Player::connect(&server, &idle).await?;
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::text(
        json!({"type": "join", "name": "Late"}).to_string(),
    ))
    .await?;
    let reply = support::ws::next_of_any(&mut ws).await?;
    assert!(
        reply["message"]
            .as_str()
            .is_some_and(|m| m.contains("no room has this code")),
        "{reply}"
    );
    assert!(
        support::room_record_id(&server, &token, &active)?.is_some(),
        "the active room stays"
    );
    // Sitting connected without doing anything keeps the room too, well past its
    // lifetime: the sweeper spares it, and its expiry keeps moving.
    let expires = |server: &litebase::testing::ServerProcess| -> anyhow::Result<String> {
        let id = support::room_record_id(server, &token, &active)?
            .ok_or_else(|| anyhow::anyhow!("the connected room was deleted"))?;
        let row = Http::new().get_auth(
            &server.url(&format!("/api/collections/rooms/records/{id}")),
            &token,
        )?;
        Ok(row.json["expires"].as_str().unwrap_or_default().to_string())
    };
    let before = expires(&server)?;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let after = expires(&server)?;
    assert!(
        after > before,
        "expires moves on while connected: {before} → {after}"
    );
    player.act(json!({"type": "vote", "value": "8"})).await?;
    // Once nobody is connected, the room expires after its lifetime.
    drop(player);
    let mut gone = false;
    for _ in 0..100 {
        if support::room_record_id(&server, &token, &active)?.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the room left by everyone expires");
    for c in ["participants", "rounds", "votes"] {
        let left = Http::new().get_auth(
            &server.url(&format!("/api/collections/{c}/records")),
            &token,
        )?;
        assert_eq!(
            left.json["totalItems"], 0,
            "{c} of expired rooms: {}",
            left.text
        );
    }
    Ok(())
}

/// A countdown running when the server is killed keeps its deadline after the
/// restart (its start is stored with the room), then ends as it would have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_countdown_survives_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let room = create_room(&server)?;
    let code = code_of(&room);
    let host_token = room["hostToken"].as_str().unwrap_or_default().to_string();
    let mut host = Player::join(&server, &code, "Host", Some(&host_token)).await?;
    host.act(json!({"type": "timer", "seconds": "600"})).await?;
    host.act(json!({"type": "timer_start"})).await?;
    let view = host.view_where(|v| v["timer"]["deadline"].is_u64()).await?;
    let deadline = view["timer"]["deadline"].clone();
    server.signal("KILL")?;
    server.wait(Duration::from_secs(10));

    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let mut host = Player::join(&server, &code, "Host", Some(&host_token)).await?;
    let view = host.view_where(|v| !v["timer"].is_null()).await?;
    assert_eq!(view["timer"]["duration_secs"], 600, "{view}");
    assert_eq!(
        view["timer"]["deadline"], deadline,
        "still counting: {view}"
    );
    // Stopping it is stored too: after another restart it stays stopped.
    host.act(json!({"type": "timer_stop"})).await?;
    drop(host);
    let mut server = server;
    server.signal("KILL")?;
    server.wait(Duration::from_secs(10));
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let mut host = Player::join(&server, &code, "Host", Some(&host_token)).await?;
    let view = host.view_where(|v| !v["timer"].is_null()).await?;
    assert!(view["timer"]["deadline"].is_null(), "{view}");
    Ok(())
}

#[test]
fn bad_settings_stop_the_start_with_a_clear_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = support::poker(dir.path())
        .args(["serve", "--http", "127.0.0.1:0"])
        .env("POKER_ROOM_TTL", "a day")
        .output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("POKER_ROOM_TTL") && stderr.contains("whole number of seconds"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_edits_reach_connected_players() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let code = code_of(&create_room(&server)?);
    let mut ada = Player::join(&server, &code, "Ada", None).await?;
    let mut bo = Player::join(&server, &code, "Bo", None).await?;
    ada.act(json!({"type": "vote", "value": "5"})).await?;
    let id = support::room_record_id(&server, &token, &code)?
        .ok_or_else(|| anyhow::anyhow!("room not listed"))?;
    let url = server.url(&format!("/api/collections/rooms/records/{id}"));

    let patched = http.patch_json_auth(&url, &token, &json!({"name": "Renamed by admin"}))?;
    assert_eq!(patched.status, 200, "{}", patched.text);
    for p in [&mut ada, &mut bo] {
        let view = p.view_where(|v| v["name"] == "Renamed by admin").await?;
        assert_eq!(view["round"]["votes_cast"], 1, "the live round is kept");
        assert_eq!(
            support::ws::participant(&view, &p.id)["presence"],
            "online",
            "still online after a reload"
        );
    }
    // The room keeps working after the reload.
    bo.act(json!({"type": "vote", "value": "8"})).await?;

    assert_eq!(http.agent_delete(&url, &token)?, 204);
    for p in [&mut ada, &mut bo] {
        assert_eq!(p.error().await?, "this room was deleted");
        assert!(p.closed().await, "the socket closes");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_can_expire_a_room_at_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let code = code_of(&create_room(&server)?);
    let mut ada = Player::join(&server, &code, "Ada", None).await?;
    let id = support::room_record_id(&server, &token, &code)?
        .ok_or_else(|| anyhow::anyhow!("room not listed"))?;
    let patched = Http::new().patch_json_auth(
        &server.url(&format!("/api/collections/rooms/records/{id}")),
        &token,
        &json!({"expires": "2001-01-01 00:00:00.000Z"}),
    )?;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert!(ada.error().await?.contains("this room expired"));
    assert!(ada.closed().await);
    // The sweep runs right away, not at its next interval (a minute by default).
    let mut gone = false;
    for _ in 0..50 {
        if support::room_record_id(&server, &token, &code)?.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the expired room is deleted at once");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_metrics_are_served() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let code = code_of(&create_room(&server)?);
    let mut ada = Player::join(&server, &code, "Ada", None).await?;
    ada.act(json!({"type": "vote", "value": "5"})).await?;
    ada.send(json!({"type": "dance"})).await?;
    ada.error().await?;
    let metrics = Http::new().get_auth(&server.url("/api/metrics"), &token)?;
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    let value = |name: &str| -> Option<f64> {
        metrics
            .text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
    };
    assert_eq!(value("poker_rooms_live"), Some(1.0), "{}", metrics.text);
    assert_eq!(value("poker_participants_online"), Some(1.0));
    assert_eq!(value("poker_ws_connections"), Some(1.0));
    assert!(value("poker_ws_messages_in_total") >= Some(3.0));
    assert!(value("poker_ws_messages_out_total") >= Some(3.0));
    assert!(value("poker_ws_errors_total") >= Some(1.0));
    assert_eq!(value("poker_ws_dropped_total"), Some(0.0));
    assert_eq!(value("poker_ws_evictions_total"), Some(0.0));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_rows_change_with_the_first_and_last_tab_only() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let code = code_of(&create_room(&server)?);
    let mut host = Player::join(&server, &code, "Host", None).await?;
    let tab1 = Player::join(&server, &code, "Ada", None).await?;
    let row = |id: &str| -> anyhow::Result<(bool, String)> {
        let r = Http::new().get_auth(
            &server.url(&format!("/api/collections/participants/records/{id}")),
            &token,
        )?;
        anyhow::ensure!(r.status == 200, "participant: {}", r.text);
        Ok((
            r.json["online"].as_bool().unwrap_or(false),
            r.json["last_seen"].as_str().unwrap_or_default().to_string(),
        ))
    };
    let (online, first_seen) = row(&tab1.id)?;
    assert!(online);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let tab2 = Player::join(&server, &code, "Ada", Some(&tab1.token)).await?;
    assert_eq!(tab2.id, tab1.id);
    drop(tab2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        row(&tab1.id)?,
        (true, first_seen.clone()),
        "a second tab coming and going writes nothing"
    );
    let id = tab1.id.clone();
    drop(tab1);
    host.view_where(|v| support::ws::participant(v, &id)["presence"] == "away")
        .await?;
    let (online, last_seen) = row(&id)?;
    assert!(!online, "offline once the last tab closed");
    assert!(last_seen > first_seen, "{last_seen} after {first_seen}");
    Ok(())
}
