//! A room's results webhook against the real `poker` binary, real WebSocket
//! players and a real receiver on loopback: the host sets it; an estimate is
//! posted once in the chosen shape (Slack, Teams, generic JSON), after the
//! commit, retried after a failure, kept across a restart; nobody else may set
//! it; bad input is refused with a clear error; without the operator's flag a
//! private address is refused when set and when posting; it goes with its room.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use litebase::testing::receiver::{Received, Receiver};
use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};
use support::ws::{Player, create_room, next_frame};

const WAIT: Duration = Duration::from_secs(20);

/// `poker serve` with private webhook targets allowed (the receiver is on
/// loopback) or not.
fn start(dir: &Path, allow_private: bool) -> anyhow::Result<ServerProcess> {
    let flag = if allow_private { "1" } else { "0" };
    Ok(support::serve_with_env(
        dir,
        &[("POKER_WEBHOOK_ALLOW_PRIVATE", flag)],
    )?)
}

/// Kills `server` (what is committed stays) and waits for it.
fn stop(mut server: ServerProcess) -> anyhow::Result<()> {
    server.signal("KILL")?;
    anyhow::ensure!(server.wait(WAIT).is_some(), "the server did not stop");
    Ok(())
}

/// A host and a voter at one table.
struct Table {
    code: String,
    host: Player,
    voter: Player,
}

impl Table {
    async fn open(server: &ServerProcess) -> anyhow::Result<Table> {
        let room = create_room(server)?;
        let code = room["code"].as_str().unwrap_or_default().to_string();
        let token = room["hostToken"].as_str().unwrap_or_default();
        let host = Player::join(server, &code, "Hana", Some(token)).await?;
        let voter = Player::join(server, &code, "Vic", None).await?;
        Ok(Table { code, host, voter })
    }

    /// The same seats again (after a restart).
    async fn rejoin(self, server: &ServerProcess) -> anyhow::Result<Table> {
        let host = Player::join(server, &self.code, "Hana", Some(&self.host.token)).await?;
        let voter = Player::join(server, &self.code, "Vic", Some(&self.voter.token)).await?;
        Ok(Table {
            code: self.code,
            host,
            voter,
        })
    }

    /// Topic, one vote, reveal, final estimate.
    async fn estimate(&mut self, topic: &str, card: &str) -> anyhow::Result<()> {
        self.host
            .act(json!({"type": "topic", "text": topic}))
            .await?;
        self.voter
            .act(json!({"type": "vote", "value": card}))
            .await?;
        self.host.act(json!({"type": "reveal"})).await?;
        self.host
            .act(json!({"type": "estimate", "value": card}))
            .await
    }
}

/// Sends `msg` and answers the ack or error frame that follows (views skipped).
async fn answer(player: &mut Player, msg: Value) -> anyhow::Result<Value> {
    player.send(msg).await?;
    loop {
        let frame = next_frame(&mut player.ws).await?;
        if frame["type"] == "ack" || frame["type"] == "error" {
            return Ok(frame);
        }
    }
}

/// The host sets the webhook; answers the ack's status.
async fn set_webhook(table: &mut Table, url: &str, kind: &str) -> anyhow::Result<Value> {
    let frame = answer(
        &mut table.host,
        json!({"type": "webhook", "url": url, "kind": kind}),
    )
    .await?;
    anyhow::ensure!(frame["type"] == "ack", "refused: {frame}");
    Ok(frame["webhook"].clone())
}

/// The database, read-only, as the server writes it.
fn db(dir: &Path) -> anyhow::Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open_with_flags(
        dir.join("data.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?)
}

/// (url, publicOnly) of every target poker owns.
fn targets(dir: &Path) -> anyhow::Result<Vec<(String, bool)>> {
    let conn = db(dir)?;
    let mut stmt = conn.prepare("SELECT url, publicOnly FROM _webhooks WHERE owner = 'poker'")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Waits until the newest delivery has an error logged; answers (status, lastError).
fn newest_failure(dir: &Path) -> anyhow::Result<(String, String)> {
    let deadline = Instant::now() + WAIT;
    loop {
        let row: Option<(String, String)> = db(dir)?
            .query_row(
                "SELECT status, lastError FROM _webhookDeliveries
                 WHERE lastError != '' ORDER BY rowid DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok();
        if let Some(row) = row {
            return Ok(row);
        }
        anyhow::ensure!(Instant::now() < deadline, "no failed delivery was logged");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Exactly `n` requests arrive (and no more within a short while).
fn exactly(receiver: &Receiver, n: usize) -> Vec<Received> {
    let got = receiver.wait_for(n, WAIT);
    assert_eq!(got.len(), n, "{} requests arrived: {got:?}", got.len());
    std::thread::sleep(Duration::from_millis(500));
    let after = receiver.received();
    assert_eq!(after.len(), n, "more than {n} requests: {after:?}");
    after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_channel_gets_each_estimate_once_after_a_retry_and_across_restarts()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let receiver = Receiver::start(&[500])?;
    let server = start(dir.path(), true)?;
    let mut table = Table::open(&server).await?;
    let status = set_webhook(&mut table, &receiver.url("/slack/T0/B0/secret"), "slack").await?;
    assert_eq!(
        status,
        json!({"kind": "slack", "url": format!("http://{}/…", receiver.addr)}),
        "the ack shows the URL masked"
    );

    // The webhook is kept across a restart.
    stop(server)?;
    let server = start(dir.path(), true)?;
    let mut table = table.rejoin(&server).await?;
    table.estimate("Login page", "5").await?;

    // The receiver failed the first post: the same delivery comes again.
    let got = exactly(&receiver, 2);
    assert_eq!(got[0].answered, 500);
    assert_eq!(got[1].answered, 200);
    assert_eq!(got[0].body, got[1].body, "the same message");
    assert_eq!(
        got[0].header("X-Litebase-Delivery"),
        got[1].header("X-Litebase-Delivery")
    );
    assert_eq!(got[1].header("X-Litebase-Attempt"), "2");
    assert_eq!(got[1].header("X-Litebase-Event"), "estimate.recorded");
    assert_eq!(got[1].path, "/slack/T0/B0/secret");
    let body = got[1].json();
    assert_eq!(body["text"], "Login page — Final estimate: 5");
    let blocks = body["blocks"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<&str> = blocks.iter().filter_map(|b| b["type"].as_str()).collect();
    assert_eq!(kinds, ["header", "section", "section", "context"]);
    assert_eq!(blocks[0]["text"]["text"], "Login page");
    assert_eq!(blocks[2]["fields"][0]["text"], "*Votes*\n1");
    assert!(
        blocks[3]["elements"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains(&format!("/r/{}|Open the room>", table.code))),
        "a link to the room: {body}"
    );

    // Without the operator's flag the same loopback target is refused when
    // posting, and the log says why.
    stop(server)?;
    let server = start(dir.path(), false)?;
    let mut table = table.rejoin(&server).await?;
    table
        .host
        .act(json!({"type": "estimate", "value": "8"}))
        .await?;
    let (status, error) = newest_failure(dir.path())?;
    assert_eq!(status, "pending", "retried later");
    assert!(error.contains("no public address"), "{error}");
    assert_eq!(receiver.received().len(), 2, "nothing reached the receiver");
    assert_eq!(
        targets(dir.path())?,
        [(receiver.url("/slack/T0/B0/secret"), true)],
        "the stored target is now public-only"
    );
    drop(server);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_and_generic_receivers_get_their_shapes_updates_and_tests() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let receiver = Receiver::start(&[])?;
    let server = start(dir.path(), true)?;

    let mut teams = Table::open(&server).await?;
    set_webhook(&mut teams, &receiver.url("/teams"), "teams").await?;
    teams.estimate("Checkout", "3").await?;
    let got = exactly(&receiver, 1);
    let card = got[0].json();
    assert_eq!(card["type"], "message");
    let attachment = &card["attachments"][0];
    assert_eq!(
        attachment["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(attachment["content"]["type"], "AdaptiveCard");
    assert_eq!(attachment["content"]["body"][0]["text"], "Checkout");
    assert_eq!(
        attachment["content"]["body"][1]["text"],
        "Final estimate: 3"
    );
    assert_eq!(attachment["content"]["body"][2]["type"], "FactSet");
    assert_eq!(
        attachment["content"]["actions"][0]["type"],
        "Action.OpenUrl"
    );

    // The host's test message.
    let ack = answer(&mut teams.host, json!({"type": "webhook_test"})).await?;
    assert_eq!(ack, json!({"type": "ack", "action": "webhook_test"}));
    let got = exactly(&receiver, 2);
    assert_eq!(got[1].header("X-Litebase-Event"), "test");
    assert!(
        got[1].json()["attachments"][0]["content"]["body"][0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Test message")),
        "{}",
        got[1].json()
    );

    let mut generic = Table::open(&server).await?;
    set_webhook(&mut generic, &receiver.url("/generic"), "generic").await?;
    generic.estimate("Search", "8").await?;
    let got = exactly(&receiver, 3);
    let body = got[2].json();
    assert_eq!(got[2].path, "/generic");
    assert_eq!(body["event"], "estimate.recorded");
    assert_eq!(body["room"]["name"], "Sprint 7");
    assert_eq!(
        body["story"],
        json!({"title": "Search", "key": null, "url": null})
    );
    assert_eq!(body["round"], 1);
    assert_eq!(body["estimate"], "8");
    assert_eq!(body["votes"], 1);
    assert_eq!(body["stats"]["consensus"], true);
    assert_eq!(
        body["stats"]["distribution"],
        json!([{"card": "8", "count": 1}])
    );

    // Amending the estimate posts again, as an update.
    generic
        .host
        .act(json!({"type": "estimate", "value": "13"}))
        .await?;
    let got = exactly(&receiver, 4);
    let body = got[3].json();
    assert_eq!(body["event"], "estimate.updated");
    assert_eq!(body["estimate"], "13");

    // Removing it: nothing more is posted.
    let status = set_webhook(&mut generic, "", "").await?;
    assert!(status.is_null(), "{status}");
    generic
        .host
        .act(json!({"type": "estimate", "value": "5"}))
        .await?;
    exactly(&receiver, 4);
    assert_eq!(
        targets(dir.path())?.len(),
        1,
        "only the Teams room's is left"
    );
    drop(server);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_host_sets_a_valid_public_webhook_and_it_goes_with_the_room() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let server = start(dir.path(), false)?;
    let mut table = Table::open(&server).await?;

    // A co-host may not, nor may a voter.
    let vic = table.voter.id.clone();
    table
        .host
        .act(json!({"type": "cohost", "participant": vic, "value": true}))
        .await?;
    let refused = answer(
        &mut table.voter,
        json!({"type": "webhook", "url": "https://hooks.example.com/x", "kind": "slack"}),
    )
    .await?;
    assert_eq!(
        refused,
        json!({"type": "error", "message": "Only the host may change the room's webhook."})
    );
    for (msg, says) in [
        (
            json!({"type": "webhook", "url": "ftp://hooks.example.com/x"}),
            "Give an http or https URL",
        ),
        (
            json!({"type": "webhook", "url": format!("https://example.com/{}", "a".repeat(500))}),
            "at most 500 characters",
        ),
        (
            json!({"type": "webhook", "url": "https://hooks.example.com/x", "kind": "discord"}),
            "\"kind\" must be generic, slack or teams",
        ),
        (
            json!({"type": "webhook", "url": "http://127.0.0.1:9/hook", "kind": "slack"}),
            "does not post to loopback, private or link-local addresses",
        ),
        (
            json!({"type": "webhook", "url": "http://169.254.169.254/latest"}),
            "does not post to loopback, private or link-local addresses",
        ),
        (json!({"type": "webhook_test"}), "No webhook is set"),
    ] {
        let frame = answer(&mut table.host, msg.clone()).await?;
        assert_eq!(frame["type"], "error", "{msg}: {frame}");
        assert!(
            frame["message"].as_str().is_some_and(|m| m.contains(says)),
            "{msg}: {frame}"
        );
    }
    assert!(targets(dir.path())?.is_empty(), "nothing was stored");

    // The host's public URL is stored, public-only; the superusers' webhook
    // API does not list it.
    set_webhook(&mut table, "https://hooks.example.com/services/x", "teams").await?;
    assert_eq!(
        targets(dir.path())?,
        [("https://hooks.example.com/services/x".to_string(), true)]
    );
    let http = Http::new();
    let token = support::superuser_token(&server)?;
    let listed = http.get_auth(&server.url("/api/webhooks"), &token)?;
    assert_eq!(listed.json, json!([]), "{}", listed.text);

    // Deleting the room removes its webhook in the same write.
    let id = support::room_record_id(&server, &token, &table.code)?
        .ok_or_else(|| anyhow::anyhow!("no room record"))?;
    let deleted = http.agent_delete(
        &server.url(&format!("/api/collections/rooms/records/{id}")),
        &token,
    )?;
    assert_eq!(deleted, 204);
    assert!(
        targets(dir.path())?.is_empty(),
        "the webhook went with its room"
    );
    drop(server);
    Ok(())
}
