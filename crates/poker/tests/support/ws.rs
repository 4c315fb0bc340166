//! A real WebSocket player for the room tests: join, act (waiting for the ack),
//! wait for a view that satisfies a predicate.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// Cards every test deck has.
pub const CARDS: [&str; 5] = ["1", "2", "3", "5", "8"];

/// A client WebSocket.
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `POST /api/poker/rooms` for a room named "Sprint 7".
pub fn create_room(server: &ServerProcess) -> anyhow::Result<Value> {
    let reply = Http::new().post_json(
        &server.url("/api/poker/rooms"),
        &json!({"name": "Sprint 7"}),
    )?;
    anyhow::ensure!(reply.status == 200, "create room: {}", reply.text);
    Ok(reply.json)
}

/// One player's connection.
pub struct Player {
    /// The socket.
    pub ws: Ws,
    /// Their participant id.
    pub id: String,
    /// Their seat token.
    pub token: String,
}

impl Player {
    /// Opens a socket to room `code`.
    pub async fn connect(server: &ServerProcess, code: &str) -> anyhow::Result<Ws> {
        let url = format!("ws://{}/ws/rooms/{code}", server.addr);
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(ws)
    }

    /// Joins room `code` (resuming the seat of `token`, if given).
    pub async fn join(
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

    /// Splits the socket: the sink to write with, and every JSON frame as it
    /// arrives, read by a task so that this player is never a slow reader.
    pub fn into_frames(
        self,
    ) -> (
        futures_util::stream::SplitSink<Ws, Message>,
        tokio::sync::mpsc::UnboundedReceiver<Value>,
    ) {
        let (sink, mut stream) = self.ws.split();
        let (tx, frames) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                if let Message::Text(text) = msg {
                    if let Ok(frame) = serde_json::from_str::<Value>(&text) {
                        if tx.send(frame).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        (sink, frames)
    }

    /// Sends `msg`.
    pub async fn send(&mut self, msg: Value) -> anyhow::Result<()> {
        self.ws.send(Message::text(msg.to_string())).await?;
        Ok(())
    }

    /// Sends `msg` and waits for its ack (sent only after the commit).
    pub async fn act(&mut self, msg: Value) -> anyhow::Result<()> {
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
    pub async fn view_where(&mut self, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        loop {
            let frame = next_frame(&mut self.ws).await?;
            if frame["type"] == "view" && pred(&frame) {
                return Ok(frame);
            }
        }
    }

    /// Waits for the next error frame, skipping views and acks.
    pub async fn error(&mut self) -> anyhow::Result<String> {
        loop {
            let frame = next_frame(&mut self.ws).await?;
            if frame["type"] == "error" {
                return Ok(frame["message"].as_str().unwrap_or_default().to_string());
            }
        }
    }

    /// Whether the server closes the socket within 10 s (frames before it are skipped).
    pub async fn closed(&mut self) -> bool {
        tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(msg) = self.ws.next().await {
                if matches!(msg, Ok(Message::Close(_)) | Err(_)) {
                    return true;
                }
            }
            true
        })
        .await
        .unwrap_or(false)
    }
}

/// The next text frame, parsed (10 s at most).
pub async fn next_frame(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(45), ws.next())
            .await
            .map_err(|_| anyhow::anyhow!("no frame within 45 s"))?
            .ok_or_else(|| anyhow::anyhow!("connection closed"))??;
        if let Message::Text(text) = msg {
            return Ok(serde_json::from_str(&text)?);
        }
    }
}

/// The next frame of type `kind`; an error frame before it fails.
pub async fn next_of(ws: &mut Ws, kind: &str) -> anyhow::Result<Value> {
    loop {
        let frame = next_frame(ws).await?;
        if frame["type"] == kind {
            return Ok(frame);
        }
        anyhow::ensure!(frame["type"] != "error", "unexpected error: {frame}");
    }
}

/// The next frame that is not a view.
pub async fn next_of_any(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let frame = next_frame(ws).await?;
        if frame["type"] != "view" {
            return Ok(frame);
        }
    }
}

/// Participant `id` in a view (`Null` when absent).
pub fn participant<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["participants"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == id))
        .unwrap_or(&Value::Null)
}

/// No one's view shows anyone else's card.
pub fn assert_hidden(view: &Value, me: &str) {
    for p in view["participants"].as_array().into_iter().flatten() {
        if p["id"] != me {
            assert!(p["card"].is_null(), "{me} sees a hidden card: {p}");
        }
    }
}

/// Reads until the server closes; the close frame it sent, if any (10 s at most).
pub async fn close_frame(ws: &mut Ws) -> anyhow::Result<Option<CloseFrame>> {
    let deadline = Duration::from_secs(10);
    let frame = tokio::time::timeout(deadline, async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(frame)) => return Some(frame),
                Err(_) => return None,
                Ok(_) => {}
            }
        }
        None
    })
    .await
    .map_err(|_| anyhow::anyhow!("the server did not close within {deadline:?}"))?;
    Ok(frame.flatten())
}
