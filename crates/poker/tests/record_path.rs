//! One record path: a poker vote (the app's own write), an admin edit in `/_/`
//! and an API write each become exactly one `RecordChange`, which reaches the
//! after-commit hooks and a superuser's SSE subscription; no other subscriber
//! ever sees a vote, before the reveal or after.
//!
//! The server is poker as `main` builds it plus one after-commit hook that logs
//! every change, run as a real child process (this test binary, re-executed).
//! Windows of changes are cut by sentinel API writes: the commit stream keeps
//! commit order, so what lies between two sentinels is what happened between
//! them.

mod support;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use litebase::hooks::RecordAction;
use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};

use litebase::testing::browser::Browser;
use support::sse::{SseClient, subscribe_as};
use support::ws::Player;
use support::{ADMIN_EMAIL, ADMIN_PASSWORD};

mod embedded {
    refinery::embed_migrations!("../../migrations");
}

const CHILD_ARGS: &str = "POKER_TEST_CHILD_ARGS";
const CHANGE_LOG: &str = "POKER_TEST_CHANGE_LOG";

/// Poker as its binary builds it, plus a hook logging every committed change as
/// `action collection id origin`.
fn app() -> litebase::App {
    let mut app = poker::register_with(
        litebase::App::new("poker"),
        poker::config::PokerConfig::default(),
    )
    .migrations(embedded::migrations::runner);
    for action in [
        RecordAction::Create,
        RecordAction::Update,
        RecordAction::Delete,
    ] {
        app = app.after_commit(action, None, |change| {
            let Ok(path) = std::env::var(CHANGE_LOG) else {
                return;
            };
            let line = format!(
                "{} {} {} {:?}\n",
                change.action.as_str(),
                change.collection.name,
                change.id(),
                change.origin
            );
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = std::io::Write::write_all(&mut f, line.as_bytes());
            }
        });
    }
    app
}

/// Not a test: the entry point of the child process the test below starts.
#[test]
#[ignore = "entry point of the child app process; started by the other tests"]
fn child_process_entry() {
    let Ok(args) = std::env::var(CHILD_ARGS) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).unwrap_or_default();
    let code = app().run_from(args);
    std::process::exit(if code == ExitCode::SUCCESS { 0 } else { 1 });
}

fn child(args: &[&str]) -> std::io::Result<Command> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["--ignored", "--exact", "child_process_entry", "--nocapture"])
        .env(CHILD_ARGS, serde_json::to_string(args)?);
    Ok(command)
}

/// The change log's lines so far.
fn log_lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits until the log holds a line ending a change of record `id`; returns
/// the number of lines up to and including it.
fn wait_for_line(path: &std::path::Path, id: &str) -> anyhow::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let lines = log_lines(path);
        if let Some(i) = lines.iter().position(|l| l.contains(id)) {
            return Ok(i + 1);
        }
        anyhow::ensure!(Instant::now() < deadline, "no change of {id}: {lines:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An API write used as a sentinel: a `marks` record, created by the superuser.
fn mark(server: &ServerProcess, token: &str, label: &str) -> anyhow::Result<String> {
    let reply = Http::new().post_json_auth(
        &server.url("/api/collections/marks/records"),
        token,
        &json!({"label": label}),
    )?;
    anyhow::ensure!(reply.status == 200, "mark: {}", reply.text);
    reply.json["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("mark without id: {}", reply.text))
}

/// Reads `client` until record `id` arrived (at most 20 s).
async fn until(client: &mut SseClient, id: &str) -> anyhow::Result<()> {
    let arrived = tokio::time::timeout(Duration::from_secs(20), client.wait_for(id)).await;
    match arrived {
        Ok(read) => Ok(read?),
        Err(_) => anyhow::bail!("{id} never arrived: {}", client.buffer),
    }
}

/// A `users` record signed up through the public API and in: its token.
fn user_token(server: &ServerProcess) -> anyhow::Result<String> {
    let (_, token) =
        litebase::testing::sign_up(&server.url(""), "user@example.com", "user-password-1")?;
    Ok(token)
}

/// The SSE events of `text` (`data:` lines as JSON).
fn events(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d).ok())
        .filter(|v: &Value| v.get("action").is_some())
        .collect()
}

/// `(action, collection)` of each event in `text`.
fn kinds(text: &str) -> Vec<(String, String)> {
    events(text)
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["record"]["collectionName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// What happened between two sentinels: the log lines and the superuser's
/// events (sentinels excluded).
struct Window {
    lines: Vec<String>,
    superuser: Vec<(String, String)>,
}

struct Watch {
    server: ServerProcess,
    token: String,
    log: std::path::PathBuf,
    superuser: SseClient,
    others: Vec<(&'static str, SseClient)>,
}

impl Watch {
    /// Runs `act` between two sentinels and returns what it changed.
    async fn window<F, Fut>(&mut self, act: F) -> anyhow::Result<Window>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        let before = mark(&self.server, &self.token, "before")?;
        let start_line = wait_for_line(&self.log, &before)?;
        until(&mut self.superuser, &before).await?;
        let start_event = self.superuser.buffer.len();
        act().await?;
        let after = mark(&self.server, &self.token, "after")?;
        let end_line = wait_for_line(&self.log, &after)? - 1;
        until(&mut self.superuser, &after).await?;
        let text = &self.superuser.buffer[start_event..];
        let end_event = text.find(&after).unwrap_or(text.len());
        let superuser = kinds(&text[..end_event])
            .into_iter()
            .filter(|(_, c)| c != "marks")
            .collect();
        // The others see the sentinel too (marks are public): everything
        // dispatched before it has reached them.
        for (_, client) in &mut self.others {
            until(client, &after).await?;
        }
        let lines = log_lines(&self.log)[start_line..end_line].to_vec();
        Ok(Window { lines, superuser })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_write_is_one_change_to_hooks_and_sse_and_votes_stay_hidden() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().display().to_string();
    let upsert = child(&[
        "poker",
        "--dir",
        &d,
        "superuser",
        "upsert",
        ADMIN_EMAIL,
        ADMIN_PASSWORD,
    ])?
    .output()?;
    anyhow::ensure!(
        upsert.status.success(),
        "{}",
        String::from_utf8_lossy(&upsert.stderr)
    );
    let log = dir.path().join("changes.log");
    let mut command = child(&[
        "poker",
        "--dir",
        &d,
        "serve",
        "--http",
        "127.0.0.1:0",
        "--log-level",
        "warn",
    ])?;
    command.env(CHANGE_LOG, &log);
    let server = ServerProcess::start(command)?;
    let token = Http::new().superuser_token(&server.url(""), ADMIN_EMAIL, ADMIN_PASSWORD)?;
    let created = Http::new().post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "marks", "listRule": "", "viewRule": "",
                "fields": [{"name": "label", "type": "text"}]}),
    )?;
    anyhow::ensure!(created.status == 200, "marks: {}", created.text);
    let user = user_token(&server)?;

    let topics = ["rooms", "participants", "rounds", "votes", "marks"];
    let addr = server.addr.clone();
    let superuser = SseClient::connect(&addr).await?;
    subscribe_as(
        addr.clone(),
        superuser.client_id.clone(),
        &topics,
        Some(&token),
    )
    .await?;
    let guest = SseClient::connect(&addr).await?;
    subscribe_as(addr.clone(), guest.client_id.clone(), &topics, None).await?;
    let member = SseClient::connect(&addr).await?;
    subscribe_as(addr.clone(), member.client_id.clone(), &topics, Some(&user)).await?;

    let room = tokio::task::spawn_blocking({
        let server_url = server.url("");
        move || {
            let reply = Http::new().post_json(
                &format!("{server_url}/api/poker/rooms"),
                &json!({"name": "Sprint 7"}),
            )?;
            anyhow::ensure!(reply.status == 200, "create room: {}", reply.text);
            anyhow::Ok(reply.json)
        }
    })
    .await??;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let mut ada = Player::join(&server, &code, "Ada", None).await?;
    let mut bob = Player::join(&server, &code, "Bob", None).await?;
    let mut watch = Watch {
        server,
        token: token.clone(),
        log: log.clone(),
        superuser,
        others: vec![("guest", guest), ("user", member)],
    };

    // A vote: the hub writes it through litebase's record service.
    let vote = watch
        .window(|| ada.act(json!({"type": "vote", "value": "5"})))
        .await?;
    assert_eq!(
        vote.lines.len(),
        1,
        "one change for a vote: {:?}",
        vote.lines
    );
    assert!(
        vote.lines[0].starts_with("create votes ") && vote.lines[0].ends_with("App(\"poker\")"),
        "{:?}",
        vote.lines
    );
    assert_eq!(
        vote.superuser,
        [("create".to_string(), "votes".to_string())],
        "the superuser's subscription sees the vote once"
    );

    // Bob votes too, then Ada reveals: the round changes, votes stay hidden.
    bob.act(json!({"type": "vote", "value": "8"})).await?;
    let reveal = watch.window(|| ada.act(json!({"type": "reveal"}))).await?;
    assert!(
        reveal.lines.iter().all(|l| !l.contains(" votes ")),
        "revealing writes no vote: {:?}",
        reveal.lines
    );
    assert!(
        reveal
            .superuser
            .contains(&("update".to_string(), "rounds".to_string())),
        "{:?}",
        reveal.superuser
    );

    // An admin edit in the admin UI: one change, tagged as a request.
    let room_id = support::room_record_id(&watch.server, &token, &code)?
        .ok_or_else(|| anyhow::anyhow!("room not listed"))?;
    let mut browser = Browser::signed_in(&watch.server)?;
    let path = format!("/_/collections/rooms/records/{room_id}");
    let edit = watch
        .window(move || async move {
            let saved = tokio::task::spawn_blocking(move || {
                browser.submit(&path, &path, &[("name", "Renamed in the admin UI")])
            })
            .await??;
            anyhow::ensure!(saved.status == 303, "{}", saved.body);
            Ok(())
        })
        .await?;
    assert_eq!(
        edit.lines,
        [format!("update rooms {room_id} Request")],
        "one change for an admin edit"
    );
    assert_eq!(
        edit.superuser,
        [("update".to_string(), "rooms".to_string())]
    );
    ada.view_where(|v| v["name"] == "Renamed in the admin UI")
        .await?;

    // An API write of a poker record: one change.
    let rounds = Http::new().get_auth(
        &watch
            .server
            .url("/api/collections/rounds/records?sort=-number&perPage=1"),
        &token,
    )?;
    let round_id = rounds.json["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let url = watch
        .server
        .url(&format!("/api/collections/rounds/records/{round_id}"));
    let api = watch
        .window(|| async {
            let reply =
                Http::new().patch_json_auth(&url, &token, &json!({"topic": "From the API"}))?;
            anyhow::ensure!(reply.status == 200, "{}", reply.text);
            Ok(())
        })
        .await?;
    assert_eq!(
        api.lines,
        [format!("update rounds {round_id} Request")],
        "one change for an API write"
    );
    assert_eq!(
        api.superuser,
        [("update".to_string(), "rounds".to_string())]
    );

    // A guest and a signed-in user subscribed to the same collections saw the
    // sentinels, and nothing of the rooms, rounds or votes.
    for (who, client) in &watch.others {
        let seen = kinds(&client.buffer);
        assert!(seen.iter().all(|(_, c)| c == "marks"), "{who} saw {seen:?}");
        assert!(
            !client.buffer.contains("\"value\":\"5\""),
            "{who}: {}",
            client.buffer
        );
    }
    Ok(())
}
