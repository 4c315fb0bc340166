//! Rooms over WebSockets, against the real `poker` binary with real WebSocket
//! clients: a full game, a reconnect, a SIGKILL, and a flood of garbage.

mod support;

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn start(dir: &Path) -> anyhow::Result<ServerProcess> {
    Ok(support::serve(dir, &["--log-level", "warn"])?)
}

fn create_room(server: &ServerProcess) -> anyhow::Result<Value> {
    let reply = Http::new().post_json(
        &server.url("/api/poker/rooms"),
        &json!({"name": "Sprint 7"}),
    )?;
    anyhow::ensure!(reply.status == 200, "create room: {}", reply.text);
    Ok(reply.json)
}

/// One player's connection.
struct Player {
    ws: Ws,
    id: String,
    token: String,
}

impl Player {
    async fn connect(server: &ServerProcess, code: &str) -> anyhow::Result<Ws> {
        let url = format!("ws://{}/ws/rooms/{code}", server.addr);
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(ws)
    }

    async fn join(
        server: &ServerProcess,
        code: &str,
        name: &str,
        token: Option<&str>,
    ) -> anyhow::Result<Player> {
        let mut ws = Self::connect(server, code).await?;
        let mut msg = json!({"type": "join", "name": name, "role": "voter"});
        if let Some(t) = token {
            msg["token"] = json!(t);
        }
        ws.send(Message::text(msg.to_string())).await?;
        let welcome = next_of(&mut ws, "welcome").await?;
        let id = welcome["participantId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let token = welcome["token"]
            .as_str()
            .map(str::to_string)
            .or(token.map(str::to_string))
            .unwrap_or_default();
        Ok(Player { ws, id, token })
    }

    async fn send(&mut self, msg: Value) -> anyhow::Result<()> {
        self.ws.send(Message::text(msg.to_string())).await?;
        Ok(())
    }

    /// Sends `msg` and waits for its ack (sent only after the commit).
    async fn act(&mut self, msg: Value) -> anyhow::Result<()> {
        self.send(msg).await?;
        loop {
            let frame = next_frame(&mut self.ws).await?;
            match frame["type"].as_str() {
                Some("ack") => return Ok(()),
                Some("error") => anyhow::bail!("error: {frame}"),
                _ => {}
            }
        }
    }

    /// Waits for a view that satisfies `pred`.
    async fn view_where(&mut self, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        loop {
            let frame = next_frame(&mut self.ws).await?;
            if frame["type"] == "view" && pred(&frame) {
                return Ok(frame);
            }
        }
    }
}

async fn next_frame(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .map_err(|_| anyhow::anyhow!("no frame within 10 s"))?
            .ok_or_else(|| anyhow::anyhow!("connection closed"))??;
        if let Message::Text(text) = msg {
            return Ok(serde_json::from_str(&text)?);
        }
    }
}

async fn next_of(ws: &mut Ws, kind: &str) -> anyhow::Result<Value> {
    loop {
        let frame = next_frame(ws).await?;
        if frame["type"] == kind {
            return Ok(frame);
        }
        anyhow::ensure!(frame["type"] != "error", "unexpected error: {frame}");
    }
}

fn participant<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["participants"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == id))
        .unwrap_or(&Value::Null)
}

/// No one's view shows anyone else's card.
fn assert_hidden(view: &Value, me: &str) {
    for p in view["participants"].as_array().into_iter().flatten() {
        if p["id"] != me {
            assert!(p["card"].is_null(), "{me} sees a hidden card: {p}");
        }
    }
}

const CARDS: [&str; 5] = ["1", "2", "3", "5", "8"];

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

/// The next frame that is not a view.
async fn next_of_any(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let frame = next_frame(ws).await?;
        if frame["type"] != "view" {
            return Ok(frame);
        }
    }
}
