//! Hostile WebSocket clients against the real `poker` binary, beyond the garbage
//! of `ws_rooms.rs`: oversized and fragmented frames, invalid UTF-8, a burst of
//! ten thousand frames, forged seat tokens, and an HTML upgrade without a seat.

mod support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};
use support::ws::{Player, close_frame, create_room, next_of_any, participant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

/// The server's per-message limit (`room::ws::MAX_MESSAGE_BYTES`).
const LIMIT: usize = 16 * 1024;

fn code_of(room: &Value) -> String {
    room["code"].as_str().unwrap_or_default().to_string()
}

/// A superuser-counted number of participant rows.
fn seats(server: &ServerProcess, token: &str) -> anyhow::Result<u64> {
    let reply = Http::new().get_auth(
        &server.url("/api/collections/participants/records?perPage=1"),
        token,
    )?;
    anyhow::ensure!(reply.status == 200, "{}", reply.text);
    reply.json["totalItems"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("{}", reply.text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_fragmented_and_invalid_frames_close_with_a_reason() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let code = code_of(&create_room(&server)?);
    let mut alice = Player::join(&server, &code, "Alice", None).await?;

    // Exactly at the limit: accepted.
    let vote = json!({"type": "vote", "value": "3"}).to_string();
    let padded = format!("{vote}{}", " ".repeat(LIMIT - vote.len()));
    assert_eq!(padded.len(), LIMIT);
    alice.ws.send(Message::text(padded)).await?;
    let reply = next_of_any(&mut alice.ws).await?;
    assert_eq!(reply["type"], "ack", "{reply}");

    // One byte over: closed with "message too big" and the limit in the reason.
    let mut big = Player::join(&server, &code, "Big", None).await?;
    big.ws
        .send(Message::text(format!(
            "{vote}{}",
            " ".repeat(LIMIT + 1 - vote.len())
        )))
        .await?;
    let frame = close_frame(&mut big.ws).await?;
    let frame = frame.ok_or_else(|| anyhow::anyhow!("no close frame"))?;
    assert_eq!(frame.code, CloseCode::Size, "{frame:?}");
    assert!(frame.reason.contains("16384"), "{frame:?}");

    // Fragments that only together pass the limit: closed the same way.
    let mut frag = Player::join(&server, &code, "Frag", None).await?;
    let part = "x".repeat(LIMIT / 2);
    for (opcode, fin) in [
        (Data::Text, false),
        (Data::Continue, false),
        (Data::Continue, true),
    ] {
        let frame = Frame::message(part.clone().into_bytes(), OpCode::Data(opcode), fin);
        frag.ws.send(Message::Frame(frame)).await?;
    }
    let frame = close_frame(&mut frag.ws)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no close frame"))?;
    assert_eq!(frame.code, CloseCode::Size, "{frame:?}");
    assert!(frame.reason.contains("16384"), "{frame:?}");

    // Invalid UTF-8 in a text frame: closed, and the reason does not blame size.
    let mut bad = Player::join(&server, &code, "Bad", None).await?;
    let raw = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    bad.ws.send(Message::Frame(raw)).await?;
    let frame = close_frame(&mut bad.ws)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no close frame"))?;
    assert_eq!(frame.code, CloseCode::Invalid, "{frame:?}");
    assert!(frame.reason.contains("UTF-8"), "{frame:?}");

    // The room is unharmed: Alice's vote stands and she still plays.
    alice.act(json!({"type": "reveal"})).await?;
    let view = alice
        .view_where(|v| v["round"]["phase"] == "revealed")
        .await?;
    assert_eq!(participant(&view, &alice.id)["card"], "3");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_ten_thousand_frames_is_rate_limited_without_hurting_anyone()
-> anyhow::Result<()> {
    const BURST: usize = 10_000;
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let flooded = code_of(&create_room(&server)?);
    let other = create_room(&server)?;
    let other_code = code_of(&other);
    let other_host = other["hostToken"].as_str().unwrap_or_default().to_string();

    let flooder = Player::join(&server, &flooded, "Flood", None).await?;
    let flooder_id = flooder.id.clone();
    let (mut sink, mut replies) = flooder.into_frames();

    // Another room plays three rounds while the flood runs.
    let bystanders = async {
        let mut host = Player::join(&server, &other_code, "Host", Some(&other_host)).await?;
        let mut ann = Player::join(&server, &other_code, "Ann", None).await?;
        let started = Instant::now();
        for round in 1..=3u64 {
            ann.act(json!({"type": "vote", "value": "5"})).await?;
            host.act(json!({"type": "vote", "value": "8"})).await?;
            host.act(json!({"type": "reveal"})).await?;
            let view = ann
                .view_where(|v| v["round"]["phase"] == "revealed" && v["round"]["number"] == round)
                .await?;
            assert_eq!(participant(&view, &host.id)["card"], "8");
            host.act(json!({"type": "next"})).await?;
        }
        anyhow::Ok(started.elapsed())
    };
    let flood_started = Instant::now();
    let flood = async {
        for _ in 0..BURST {
            sink.feed(Message::text("{}")).await?;
        }
        sink.flush().await?;
        anyhow::Ok(())
    };
    let (played, flood_result) = tokio::join!(bystanders, flood);
    let played = played?;
    flood_result?;
    assert!(
        played < Duration::from_secs(15),
        "the other room took {played:?} for three rounds during the flood"
    );

    // Every frame is answered: a parse error while tokens last, then "slow down".
    let (mut too_many, mut invalid) = (0usize, 0usize);
    let drained = tokio::time::timeout(Duration::from_secs(60), async {
        while too_many + invalid < BURST {
            let Some(frame) = replies.recv().await else {
                break;
            };
            if frame["type"] != "error" {
                continue;
            }
            match frame["message"].as_str().unwrap_or_default() {
                m if m.contains("too many messages") => too_many += 1,
                _ => invalid += 1,
            }
        }
    })
    .await;
    assert!(
        drained.is_ok(),
        "only {} of {BURST} frames were answered",
        too_many + invalid
    );
    assert_eq!(too_many + invalid, BURST);
    assert!(too_many >= BURST * 9 / 10, "{too_many} rate-limit errors");
    // The bucket refills at 20/s after a burst of 40.
    let elapsed = flood_started.elapsed().as_secs_f64();
    assert!(
        invalid as f64 <= 40.0 + 20.0 * elapsed + 1.0,
        "{invalid} frames got through the limit in {elapsed:.1} s"
    );
    assert!(invalid >= 40, "the first 40 frames are read ({invalid})");

    // Once it slows down, the flooding connection works again.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    sink.send(Message::text(
        json!({"type": "vote", "value": "5"}).to_string(),
    ))
    .await?;
    let acked = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(frame) = replies.recv().await {
            if frame["type"] == "ack" {
                return Ok(());
            }
            if frame["type"] == "error" {
                anyhow::bail!("after the flood: {frame}");
            }
        }
        anyhow::bail!("closed after the flood")
    })
    .await;
    assert!(
        matches!(acked, Ok(Ok(()))),
        "the flooder's vote after the flood: {acked:?}"
    );
    let mut watcher = Player::join(&server, &flooded, "Watcher", None).await?;
    let view = watcher
        .view_where(|v| v["round"]["votes_cast"] == 1)
        .await?;
    assert_eq!(participant(&view, &flooder_id)["voted"], true, "{view}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_foreign_tokens_get_no_seat() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, admin) = support::serve_as_admin(dir.path())?;
    let room = create_room(&server)?;
    let code = code_of(&room);
    let foreign = create_room(&server)?;
    let foreign_host = foreign["hostToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut alice = Player::join(&server, &code, "Alice", None).await?;
    let before = seats(&server, &admin)?;

    let forged = [
        "A".repeat(32),
        "x".repeat(3_000),
        format!("{foreign_host}x"),
        foreign_host.clone(),
        alice.token[..31].to_string(),
    ];
    for token in &forged {
        let mut ws = Player::connect(&server, &code).await?;
        ws.send(Message::text(
            json!({"type": "join", "name": "Mallory", "token": token}).to_string(),
        ))
        .await?;
        let reply = next_of_any(&mut ws).await?;
        assert_eq!(reply["type"], "error", "token {token:?}: {reply}");
        assert!(
            reply["message"]
                .as_str()
                .is_some_and(|m| m.contains("token")),
            "{reply}"
        );
        // Still not joined: acting is refused.
        ws.send(Message::text(
            json!({"type": "vote", "value": "3"}).to_string(),
        ))
        .await?;
        let reply = next_of_any(&mut ws).await?;
        assert_eq!(reply["type"], "error", "{reply}");
        assert!(
            reply["message"]
                .as_str()
                .is_some_and(|m| m.contains("join the room first")),
            "{reply}"
        );
    }
    assert_eq!(seats(&server, &admin)?, before, "no seat was added");
    alice.act(json!({"type": "vote", "value": "5"})).await?;
    let view = alice.view_where(|v| v["round"]["votes_cast"] == 1).await?;
    let mut names: Vec<&str> = view["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Alice", "Host"], "only the creator and Alice");
    // The foreign host token still works in its own room.
    let host = Player::join(&server, &code_of(&foreign), "Host", Some(&foreign_host)).await?;
    assert!(!host.id.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_upgrades_without_a_valid_seat_close_with_the_policy_code() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let room = create_room(&server)?;
    let code = code_of(&room);
    let foreign = create_room(&server)?;
    let foreign_host = foreign["hostToken"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let cookies = [
        None,
        Some(format!("pk_{code}=forged")),
        Some(format!("pk_{code}={foreign_host}")),
        // The right token under another room's cookie name.
        Some(format!(
            "pk_{}={}",
            code_of(&foreign),
            room["hostToken"].as_str().unwrap_or_default()
        )),
    ];
    for cookie in &cookies {
        let url = format!("ws://{}/ws/rooms/{code}?format=html", server.addr);
        let mut request = url.into_client_request()?;
        if let Some(c) = cookie {
            request.headers_mut().insert("Cookie", c.parse()?);
        }
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
        let first = tokio::time::timeout(Duration::from_secs(10), ws.next()).await?;
        let Some(Ok(Message::Text(toast))) = first else {
            anyhow::bail!("{cookie:?}: expected a toast first, got {first:?}");
        };
        assert!(toast.contains("class=\"toast\""), "{toast}");
        assert!(toast.contains("role=\"alert\""), "{toast}");
        let frame = close_frame(&mut ws)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{cookie:?}: no close frame"))?;
        assert_eq!(frame.code, CloseCode::Policy, "{cookie:?}: {frame:?}");
        assert!(!frame.reason.is_empty(), "{frame:?}");
    }
    Ok(())
}
