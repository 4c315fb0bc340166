//! Rooms over WebSockets, against the real `poker` binary with real WebSocket
//! clients: a full game, a reconnect, a SIGKILL, and a flood of garbage.

mod support;

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use litebase::testing::ServerProcess;
use serde_json::json;
use support::ws::{CARDS, Player, assert_hidden, create_room, next_of_any, participant};
use tokio_tungstenite::tungstenite::Message;

fn start(dir: &Path) -> anyhow::Result<ServerProcess> {
    Ok(support::serve(dir, &["--log-level", "warn"])?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_players_play_three_rounds() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    assert_eq!(code.len(), 12);
    let host_token = room["hostToken"].as_str().unwrap_or_default();
    let mut host = Player::join(&server, &code, "Host", Some(host_token)).await?;
    let mut players = Vec::new();
    for i in 0..5 {
        players.push(Player::join(&server, &code, &format!("P{i}"), None).await?);
    }
    for round in 1..=3u64 {
        for (i, p) in players.iter_mut().enumerate() {
            p.act(json!({"type": "vote", "value": CARDS[(i + round as usize) % 5]}))
                .await?;
        }
        for p in players.iter_mut() {
            let view = p
                .view_where(|v| v["round"]["number"] == round && v["round"]["votes_cast"] == 5)
                .await?;
            assert_hidden(&view, &p.id);
            assert!(
                !participant(&view, &p.id)["card"].is_null(),
                "own card visible"
            );
        }
        players[0].act(json!({"type": "reveal"})).await?;
        for p in players.iter_mut() {
            let view = p.view_where(|v| v["round"]["phase"] == "revealed").await?;
            assert!(view["stats"].is_object(), "stats after reveal: {view}");
            let shown = view["participants"]
                .as_array()
                .map(|ps| ps.iter().filter(|p| !p["card"].is_null()).count());
            assert_eq!(shown, Some(5), "every cast card is shown");
        }
        host.act(json!({"type": "estimate", "value": "5"})).await?;
        players[1]
            .act(json!({"type": "next", "topic": format!("story {}", round + 1)}))
            .await?;
        for p in players.iter_mut() {
            p.view_where(|v| v["round"]["number"] == round + 1).await?;
        }
    }
    let view = players[2].view_where(|_| true).await?;
    assert_eq!(
        view["history"].as_array().map(Vec::len),
        Some(3),
        "three rounds in the history"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_keeps_the_seat_and_the_vote() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path())?;
    let code = create_room(&server)?["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut alice = Player::join(&server, &code, "Alice", None).await?;
    let mut bob = Player::join(&server, &code, "Bob", None).await?;
    bob.act(json!({"type": "vote", "value": "8"})).await?;
    let (id, token) = (bob.id.clone(), bob.token.clone());
    drop(bob);
    alice
        .view_where(|v| participant(v, &id)["presence"] != "online" && !v["participants"].is_null())
        .await?;
    let mut bob = Player::join(&server, &code, "Bob", Some(&token)).await?;
    assert_eq!(bob.id, id, "same seat");
    let view = bob
        .view_where(|v| participant(v, &id)["card"] == "8")
        .await?;
    assert_eq!(view["round"]["votes_cast"], 1);
    assert_hidden(&alice.view_where(|_| true).await?, &alice.id);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_keeps_every_acknowledged_vote() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = start(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let mut players = Vec::new();
    for (i, card) in CARDS.iter().take(4).enumerate() {
        let mut p = Player::join(&server, &code, &format!("P{i}"), None).await?;
        p.act(json!({"type": "vote", "value": card})).await?;
        players.push(p);
    }
    server.signal("KILL")?;
    server.wait(Duration::from_secs(10));
    let server = start(dir.path())?;
    for (i, p) in players.iter().enumerate() {
        let mut again = Player::join(&server, &code, &format!("P{i}"), Some(&p.token)).await?;
        let view = again.view_where(|v| !v["participants"].is_null()).await?;
        assert_eq!(again.id, p.id);
        assert_eq!(view["round"]["votes_cast"], 4, "{view}");
        assert_eq!(participant(&view, &p.id)["card"], CARDS[i]);
        assert_hidden(&view, &p.id);
    }
    let host_token = room["hostToken"].as_str().unwrap_or_default();
    let mut host = Player::join(&server, &code, "Host", Some(host_token)).await?;
    host.act(json!({"type": "reveal"})).await?;
    let view = host
        .view_where(|v| v["round"]["phase"] == "revealed")
        .await?;
    for (i, p) in players.iter().enumerate() {
        assert_eq!(participant(&view, &p.id)["card"], CARDS[i]);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_gets_errors_and_the_room_keeps_working() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path())?;
    let code = create_room(&server)?["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut alice = Player::join(&server, &code, "Alice", None).await?;
    let mut mallory = Player::join(&server, &code, "Mallory", None).await?;
    let garbage = [
        Message::text("not json"),
        Message::text("{\"type\":\"dance\"}"),
        Message::text("{\"type\":\"vote\"}"),
        Message::text("{\"type\":\"vote\",\"value\":\"999\"}"),
        Message::text("[1,2,3]"),
        Message::binary(vec![0u8, 1, 2, 3]),
        Message::text("{\"type\":\"join\",\"name\":\"again\"}"),
    ];
    for _ in 0..3 {
        for frame in garbage.iter().cloned() {
            mallory.ws.send(frame).await?;
            let reply = next_of_any(&mut mallory.ws).await?;
            assert_eq!(reply["type"], "error", "{reply}");
            assert!(reply["message"].is_string());
        }
    }
    // Still connected and able to play.
    mallory.act(json!({"type": "vote", "value": "3"})).await?;
    // Oversized: a clean close.
    mallory
        .ws
        .send(Message::text("x".repeat(64 * 1024)))
        .await?;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(msg) = mallory.ws.next().await {
            match msg {
                Ok(Message::Close(_)) | Err(_) => return true,
                _ => {}
            }
        }
        true
    })
    .await?;
    assert!(closed);
    alice.act(json!({"type": "vote", "value": "5"})).await?;
    alice.act(json!({"type": "reveal"})).await?;
    let view = alice
        .view_where(|v| v["round"]["phase"] == "revealed")
        .await?;
    assert_eq!(participant(&view, &alice.id)["card"], "5");
    assert_eq!(participant(&view, &mallory.id)["card"], "3");
    Ok(())
}

/// A whole room after SIGKILL: settings, deck, lock, name, co-host, host
/// transfer, names, roles, timer, a removed player gone (their completed-round
/// vote still readable), and every acknowledged vote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_gives_back_the_same_room() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = start(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let host_token = room["hostToken"].as_str().unwrap_or_default().to_string();
    let mut host = Player::join(&server, &code, "Host", Some(&host_token)).await?;
    let mut alice = Player::join(&server, &code, "Alice", None).await?;
    let mut bob = Player::join(&server, &code, "Bob", None).await?;
    let mut carol = Player::join(&server, &code, "Carol", None).await?;
    let mut dave = Player::join(&server, &code, "Dave", None).await?;

    // Round 1, completed with Bob's vote in it.
    alice.act(json!({"type": "vote", "value": "3"})).await?;
    bob.act(json!({"type": "vote", "value": "8"})).await?;
    host.act(json!({"type": "reveal"})).await?;
    host.act(json!({"type": "estimate", "value": "5"})).await?;
    host.act(json!({"type": "next", "topic": "story 2"}))
        .await?;

    // Bob is removed: told, closed, and his token no longer works.
    host.act(json!({"type": "kick", "participant": bob.id}))
        .await?;
    assert_eq!(bob.error().await?, "you were removed from the room");
    assert!(bob.closed().await, "a removed player's socket closes");

    // Dave leaves for good; the host may not before handing over.
    dave.act(json!({"type": "leave"})).await?;
    assert!(dave.closed().await, "leaving closes the socket");
    host.send(json!({"type": "leave"})).await?;
    assert!(host.error().await?.contains("transfer the host role first"));

    // Everything a host can change, through the form-style values htmx sends.
    host.act(json!({"type": "cohost", "participant": alice.id, "value": "on"}))
        .await?;
    host.act(json!({"type": "rename", "name": "Renamed room"}))
        .await?;
    host.act(json!({"type": "settings", "reveal": "hosts", "reset": "hosts", "next_round": "everyone",
        "edit_topic": "hosts", "auto_reveal": "", "allow_spectators": "on", "HEADERS": {"HX-Request": "true"}}))
        .await?;
    host.act(json!({"type": "deck", "kind": "custom", "custom": "S, M, L", "coffee": "on"}))
        .await?;
    host.act(json!({"type": "timer", "seconds": "60"})).await?;
    carol
        .act(json!({"type": "role", "role": "spectator"}))
        .await?;
    carol
        .act(json!({"type": "name", "name": "Caroline"}))
        .await?;
    alice.act(json!({"type": "vote", "value": "M"})).await?;
    host.act(json!({"type": "vote", "value": "L"})).await?;
    host.act(json!({"type": "transfer", "participant": alice.id}))
        .await?;
    alice.act(json!({"type": "lock", "value": true})).await?;

    server.signal("KILL")?;
    server.wait(Duration::from_secs(10));
    let server = start(dir.path())?;

    let mut alice = Player::join(&server, &code, "Alice", Some(&alice.token)).await?;
    let view = alice.view_where(|v| !v["participants"].is_null()).await?;
    assert_eq!(view["name"], "Renamed room", "{view}");
    assert_eq!(view["locked"], true);
    assert_eq!(view["settings"]["reveal"], "hosts");
    assert_eq!(view["settings"]["next_round"], "everyone");
    assert_eq!(view["settings"]["auto_reveal"], false);
    assert_eq!(view["settings"]["allow_spectators"], true);
    assert_eq!(view["deck_spec"]["kind"], "custom");
    assert_eq!(view["deck_spec"]["custom"], json!(["S", "M", "L"]));
    assert_eq!(view["deck_spec"]["coffee"], true);
    assert_eq!(view["timer"]["duration_secs"], 60);
    assert_eq!(
        view["host"],
        alice.id.as_str(),
        "the host transfer survived"
    );
    assert_eq!(participant(&view, &host.id)["co_host"], true);
    assert_eq!(participant(&view, &carol.id)["name"], "Caroline");
    assert_eq!(participant(&view, &carol.id)["role"], "spectator");
    assert!(participant(&view, &bob.id).is_null(), "Bob stays removed");
    assert!(participant(&view, &dave.id).is_null(), "Dave stays gone");
    assert_eq!(view["round"]["number"], 2);
    assert_eq!(view["round"]["topic"], "story 2");
    assert_eq!(view["round"]["votes_cast"], 2);
    assert_eq!(participant(&view, &alice.id)["card"], "M");
    assert_hidden(&view, &alice.id);
    let first = &view["history"][0];
    assert_eq!(first["final_estimate"], "5");
    let bob_vote = first["votes"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["participant"] == bob.id.as_str()));
    assert_eq!(
        bob_vote.map(|v| (v["name"].clone(), v["card"].clone())),
        Some((json!("Bob"), json!("8"))),
        "a removed player's completed vote stays readable: {first}"
    );

    // Bob's token opens nothing; the host's old seat resumes as a co-host.
    let mut ws = Player::connect(&server, &code).await?;
    ws.send(Message::text(
        json!({"type": "join", "name": "Bob", "token": bob.token}).to_string(),
    ))
    .await?;
    let reply = next_of_any(&mut ws).await?;
    assert_eq!(reply["type"], "error", "{reply}");
    let mut old_host = Player::join(&server, &code, "Host", Some(&host_token)).await?;
    alice.act(json!({"type": "reveal"})).await?;
    let view = old_host
        .view_where(|v| v["round"]["phase"] == "revealed")
        .await?;
    assert_eq!(participant(&view, &old_host.id)["card"], "L");
    assert_eq!(participant(&view, &alice.id)["card"], "M");
    Ok(())
}

/// Time alone moves presence on: someone who left shows as gone after the grace
/// period, and auto-reveal stops waiting for an absent voter, without anyone
/// acting. Sam (spectator) leaves a few seconds before Bob (voter), so the view
/// showing Sam gone while the round still waits for Bob can only come from the
/// clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absent_people_turn_gone_and_stop_holding_up_auto_reveal() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let host_token = room["hostToken"].as_str().unwrap_or_default();
    let mut host = Player::join(&server, &code, "Host", Some(host_token)).await?;
    host.act(json!({"type": "settings", "reveal": "everyone", "reset": "everyone",
        "next_round": "everyone", "edit_topic": "everyone", "auto_reveal": "on", "allow_spectators": "on"}))
        .await?;
    let mut sam = Player::join(&server, &code, "Sam", None).await?;
    sam.act(json!({"type": "role", "role": "spectator"}))
        .await?;
    let bob = Player::join(&server, &code, "Bob", None).await?;
    let (sam_id, bob_id) = (sam.id.clone(), bob.id.clone());
    drop(sam);
    tokio::time::sleep(Duration::from_secs(6)).await;
    drop(bob);
    host.view_where(|v| participant(v, &bob_id)["presence"] == "away")
        .await?;
    host.act(json!({"type": "vote", "value": "5"})).await?;
    let view = host
        .view_where(|v| participant(v, &sam_id)["presence"] == "gone")
        .await?;
    assert_eq!(
        view["round"]["phase"], "voting",
        "Bob is still within his grace period"
    );
    assert_eq!(participant(&view, &bob_id)["presence"], "away");
    let view = host
        .view_where(|v| v["round"]["phase"] == "revealed")
        .await?;
    assert_eq!(participant(&view, &bob_id)["presence"], "gone", "{view}");
    Ok(())
}

/// Over real sockets: a changed vote is marked in everyone's frame without its
/// card, "everyone voted" shows once every present voter has, and a spectator is
/// refused the round's controls by the server (not only by the page).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_votes_everyone_voted_and_spectators_over_the_wire() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let host_token = room["hostToken"].as_str().unwrap_or_default();
    let mut host = Player::join(&server, &code, "Host", Some(host_token)).await?;
    host.act(json!({"type": "role", "role": "spectator"}))
        .await?;
    let mut ann = Player::join(&server, &code, "Ann", None).await?;
    let mut bob = Player::join(&server, &code, "Bob", None).await?;
    let mut sam = Player::connect(&server, &code).await?;
    sam.send(Message::text(
        json!({"type": "join", "name": "Sam", "role": "spectator"}).to_string(),
    ))
    .await?;
    support::ws::next_of(&mut sam, "welcome").await?;

    ann.act(json!({"type": "vote", "value": "3"})).await?;
    ann.act(json!({"type": "vote", "value": "13"})).await?;
    let view = bob
        .view_where(|v| participant(v, &ann.id)["changed"] == true)
        .await?;
    assert_hidden(&view, &bob.id);
    assert_eq!(view["round"]["everyone_voted"], false, "Bob has not voted");
    let people = view["participants"].to_string();
    for card in ["\"3\"", "\"13\""] {
        assert!(!people.contains(card), "{people}");
    }
    bob.act(json!({"type": "vote", "value": "5"})).await?;
    let view = host
        .view_where(|v| v["round"]["everyone_voted"] == true)
        .await?;
    assert_hidden(&view, &host.id);
    assert_eq!(participant(&view, &bob.id)["changed"], false);

    // A spectator may not reveal or clear; the host, watching, may.
    for refused in [json!({"type": "reveal"}), json!({"type": "reset"})] {
        sam.send(Message::text(refused.to_string())).await?;
        let reply = next_of_any(&mut sam).await?;
        assert_eq!(reply["type"], "error", "{reply}");
        assert!(
            reply["message"]
                .as_str()
                .unwrap_or_default()
                .contains("you may not"),
            "{reply}"
        );
    }
    host.act(json!({"type": "reveal"})).await?;
    let view = ann
        .view_where(|v| v["round"]["phase"] == "revealed")
        .await?;
    assert_eq!(participant(&view, &ann.id)["card"], "13");
    assert_eq!(participant(&view, &ann.id)["changed"], true);
    Ok(())
}
