//! A player who stops reading its socket, against the real `poker` binary: the
//! room evicts it instead of slowing down, the eviction is counted, and everyone
//! else still hears every change.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};
use support::ws::{Player, create_room, next_of};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// At most this many changes are driven while the slow player does not read
/// (the kernel alone may buffer megabytes for it).
const MAX_CHANGES: usize = 1_200;
/// Changes driven after the eviction was counted.
const AFTER: usize = 20;
/// Seats that fill every view (their names are long), so frames are large.
const FILLERS: usize = 90;

/// A player whose frames are read by a task as they arrive, so it is never slow.
struct Reader {
    sink: futures_util::stream::SplitSink<support::ws::Ws, Message>,
    frames: mpsc::UnboundedReceiver<Value>,
    last_view: Option<Value>,
    topics: HashSet<String>,
}

impl Reader {
    fn new(player: Player) -> Self {
        let (sink, frames) = player.into_frames();
        Reader {
            sink,
            frames,
            last_view: None,
            topics: HashSet::new(),
        }
    }

    fn note(&mut self, frame: Value) -> Value {
        if frame["type"] == "view" {
            if let Some(topic) = frame["round"]["topic"].as_str() {
                self.topics.insert(topic.to_string());
            }
            self.last_view = Some(frame.clone());
        }
        frame
    }

    async fn next(&mut self) -> anyhow::Result<Value> {
        let frame = tokio::time::timeout(Duration::from_secs(20), self.frames.recv())
            .await
            .map_err(|_| anyhow::anyhow!("no frame within 20 s"))?
            .ok_or_else(|| anyhow::anyhow!("connection closed"))?;
        Ok(self.note(frame))
    }

    /// Sends `msg` and waits for its ack.
    async fn act(&mut self, msg: Value) -> anyhow::Result<()> {
        self.sink.send(Message::text(msg.to_string())).await?;
        loop {
            let frame = self.next().await?;
            match frame["type"].as_str() {
                Some("ack") => return Ok(()),
                Some("error") => anyhow::bail!("error: {frame}"),
                _ => {}
            }
        }
    }

    /// Reads until a view satisfies `pred`.
    async fn view_where(&mut self, pred: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        loop {
            let frame = self.next().await?;
            if frame["type"] == "view" && pred(&frame) {
                return Ok(frame);
            }
        }
    }
}

fn metric(server: &ServerProcess, token: &str, name: &str) -> anyhow::Result<f64> {
    let reply = Http::new().get_auth(&server.url("/api/metrics"), token)?;
    anyhow::ensure!(reply.status == 200, "metrics: {}", reply.text);
    reply
        .text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {name} in {}", reply.text))
}

/// A topic of the maximum length, unique to change `i`.
fn topic(i: usize) -> String {
    let head = format!("change {i:04} ");
    format!("{head}{}", "ж".repeat(200 - head.chars().count()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_who_stops_reading_is_evicted_and_the_room_goes_on() -> anyhow::Result<()> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let (server, admin) = support::serve_as_admin(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let host_token = room["hostToken"].as_str().unwrap_or_default();
    let host = Player::join(&server, &code, "Host", Some(host_token)).await?;
    let mut host = Reader::new(host);
    // Seats with long names that stay in every view after their sockets close.
    for i in 0..FILLERS {
        let name = format!("{i:02}{}", "🂡".repeat(30));
        drop(Player::join(&server, &code, &name, None).await?);
    }
    let mut voter = Reader::new(Player::join(&server, &code, "Voter", None).await?);

    // The slow player: a tiny receive buffer, and it never reads after joining.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(2048)?;
    let stream = socket.connect(server.addr.parse()?).await?;
    let url = format!("ws://{}/ws/rooms/{code}", server.addr);
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (mut slow, _) = tokio_tungstenite::client_async(url, stream).await?;
    slow.send(Message::text(
        json!({"type": "join", "name": "Slow", "role": "voter"}).to_string(),
    ))
    .await?;
    let slow_id = next_of(&mut slow, "welcome").await?["participantId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(metric(&server, &admin, "poker_ws_evictions_total")?, 0.0);

    let cards = ["1", "2", "3", "5", "8"];
    let mut changes = 0;
    let mut evicted_at = None;
    while evicted_at.is_none_or(|at| changes < at + AFTER) && changes < MAX_CHANGES {
        let i = changes;
        if i % 2 == 0 {
            host.act(json!({"type": "topic", "text": topic(i)})).await?;
        } else {
            voter
                .act(json!({"type": "vote", "value": cards[i % cards.len()]}))
                .await?;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "driving the changes took too long"
        );
        changes += 1;
        if evicted_at.is_none()
            && changes % 20 == 0
            && metric(&server, &admin, "poker_ws_evictions_total")? >= 1.0
        {
            evicted_at = Some(changes);
        }
    }
    assert!(
        evicted_at.is_some(),
        "the slow player was not evicted after {changes} changes"
    );
    assert_eq!(
        metric(&server, &admin, "poker_ws_evictions_total")?,
        1.0,
        "only the slow player is evicted"
    );
    let last_topic = topic(changes - 2);
    let last_card = cards[(changes - 1) % cards.len()];

    // Everyone else heard every change, and ends on the same room.
    for (who, r) in [("host", &mut host), ("voter", &mut voter)] {
        r.view_where(|v| v["round"]["topic"] == last_topic.as_str())
            .await?;
        for i in (0..changes).step_by(2) {
            assert!(r.topics.contains(&topic(i)), "{who} missed change {i}");
        }
    }
    let (a, b) = (
        host.last_view.clone().unwrap_or_default(),
        voter.last_view.clone().unwrap_or_default(),
    );
    assert_eq!(a["round"], b["round"], "host and voter see the same round");
    assert_eq!(b["round"]["votes_cast"], 1);
    let mine = b["participants"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "Voter"))
        .map(|p| p["card"].clone());
    assert_eq!(mine, Some(json!(last_card)));
    assert_eq!(
        a["participants"].as_array().map(Vec::len),
        Some(FILLERS + 3),
        "{a}"
    );

    // While it still does not read, the server gives up writing to it: its
    // session ends (only the host's and the voter's stay open).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let open = metric(&server, &admin, "poker_ws_connections")?;
        if open == 2.0 {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the evicted session is still open ({open} connections)"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The evicted socket ends once it is read: a close from the server (or the
    // end of the stream), never another view after the room moved on for good.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match slow.next().await {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(closed, "the server closes the evicted socket");
    // The slow player's seat stays (away), and the room still works.
    host.act(json!({"type": "reveal"})).await?;
    let view = voter
        .view_where(|v| v["round"]["phase"] == "revealed")
        .await?;
    let slow_seat = view["participants"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["id"] == slow_id.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_ne!(slow_seat["presence"], "online", "{slow_seat}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    Ok(())
}
