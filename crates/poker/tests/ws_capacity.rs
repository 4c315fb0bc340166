//! The server at its open-file limit, against the real `poker` binary run under
//! `prlimit --nofile=200:200`: WebSocket upgrades past the cap the limit gives
//! (200 − 100 headroom = 100) are refused with a clean 503 in the PocketBase error
//! shape, counted in `/api/metrics` and logged; sockets past the limit itself make
//! `accept` fail with EMFILE, which the server survives without spinning; and the
//! players already connected keep playing through both.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use litebase::testing::{Http, ServerProcess};
use serde_json::json;
use support::ws::{Player, create_room, participant};

/// The open-file limit the server runs under (soft and hard).
const NOFILE: u64 = 200;
/// The WebSocket cap that limit gives (see `room::capacity::cap_for_limit`).
const CAP: usize = 100;

fn serve_limited(dir: &std::path::Path) -> anyhow::Result<ServerProcess> {
    support::add_superuser(dir)?;
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--nofile={NOFILE}:{NOFILE}"))
        .arg(env!("CARGO_BIN_EXE_poker"))
        .arg("--dir")
        .arg(dir)
        .args(["--log-level", "warn", "serve", "--http", "127.0.0.1:0"]);
    Ok(ServerProcess::start(cmd)?)
}

/// CPU seconds (user + system) the process `pid` has used.
fn cpu_secs(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>()? + f[12].parse::<u64>()?;
    Ok(ticks as f64 / 100.0)
}

/// One `poker_*` metric's value.
fn metric(server: &ServerProcess, token: &str, name: &str) -> anyhow::Result<u64> {
    let reply = Http::new().get_auth(&server.url("/api/metrics"), token)?;
    anyhow::ensure!(reply.status == 200, "metrics: {}", reply.text);
    reply
        .text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{name} missing from metrics"))
}

/// `voter` votes and `watcher` sees it.
async fn still_playing(watcher: &mut Player, voter: &mut Player, card: &str) -> anyhow::Result<()> {
    voter.act(json!({"type": "vote", "value": card})).await?;
    let id = voter.id.clone();
    watcher
        .view_where(|v| participant(v, &id)["voted"] == true)
        .await?;
    voter.act(json!({"type": "clear"})).await?;
    watcher
        .view_where(|v| participant(v, &id)["voted"] == false)
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_file_limit_new_sockets_are_refused_and_players_keep_playing() -> anyhow::Result<()>
{
    let tmp = tempfile::tempdir()?;
    let server = serve_limited(tmp.path())?;
    let token = support::superuser_token(&server)?;
    assert_eq!(
        metric(&server, &token, "poker_ws_max_connections")?,
        CAP as u64
    );
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let mut ada = Player::join(&server, &code, "Ada", room["hostToken"].as_str()).await?;
    let mut bob = Player::join(&server, &code, "Bob", None).await?;

    // Fill the cap with idle sockets; the next upgrade is refused with a 503.
    let url = format!("ws://{}/ws/rooms/{code}", server.addr);
    let mut idle = Vec::new();
    let refusal = loop {
        anyhow::ensure!(idle.len() <= CAP, "no refusal after {} sockets", idle.len());
        match tokio_tungstenite::connect_async(&url).await {
            Ok((ws, _)) => idle.push(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => break response,
            Err(e) => anyhow::bail!("unexpected failure after {} sockets: {e}", idle.len()),
        }
    };
    assert_eq!(idle.len() + 2, CAP, "refused before or after the cap");
    assert_eq!(refusal.status(), 503);
    let body: serde_json::Value =
        serde_json::from_slice(refusal.body().as_deref().unwrap_or_default())?;
    assert_eq!(body["status"], 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("connection limit")),
        "{body}"
    );
    assert_eq!(body["data"], json!({}));
    for _ in 0..3 {
        assert!(tokio_tungstenite::connect_async(&url).await.is_err());
    }
    assert!(metric(&server, &token, "poker_ws_refused_total")? >= 4);
    still_playing(&mut ada, &mut bob, "5").await?;

    // Past the process's file limit itself: accept fails with EMFILE. The server
    // must back off (not spin), keep its players, and accept again once files free.
    let mut raw = Vec::new();
    for _ in 0..80 {
        raw.push(tokio::net::TcpStream::connect(&server.addr).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_before = cpu_secs(server.pid())?;
    let wall = Instant::now();
    still_playing(&mut bob, &mut ada, "8").await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu_used = cpu_secs(server.pid())? - cpu_before;
    let share = cpu_used / wall.elapsed().as_secs_f64();
    assert!(
        share < 0.5,
        "the server used {cpu_used:.2} s of CPU in {:?} at its file limit: a busy accept loop?",
        wall.elapsed()
    );
    drop(raw);
    drop(idle.split_off(idle.len() - 10));

    // Files are free again: HTTP and new WebSockets are accepted, everyone plays.
    let deadline = Instant::now() + Duration::from_secs(15);
    let health = loop {
        let r = Http::new().get(&server.url("/api/health"));
        if matches!(&r, Ok(reply) if reply.status == 200) || Instant::now() > deadline {
            break r?;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(health.status, 200);
    let mut cleo = Player::join(&server, &code, "Cleo", None).await?;
    still_playing(&mut cleo, &mut ada, "3").await?;
    still_playing(&mut ada, &mut cleo, "2").await?;
    let stderr = server.stderr();
    assert!(
        stderr.contains("room WebSocket cap reached"),
        "no log line about the cap:\n{stderr}"
    );
    assert!(
        stderr.contains("Too many open files"),
        "the raw sockets never reached the file limit:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("room WebSocket cap reached").count(),
        1,
        "the refusal log line is rate-limited:\n{stderr}"
    );
    Ok(())
}
