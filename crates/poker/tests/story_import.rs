//! Importing stories from a tracker's file and taking estimates back out, against
//! the real `poker` binary with the sample files of `tests/fixtures/tracker`: only
//! a room's hosts import, a CSV's columns are mapped from a preview, bad files get
//! a clear answer and change nothing, and the estimates come back in the tracker's
//! own format.

mod support;

use std::path::{Path, PathBuf};

use litebase::testing::ServerProcess;
use litebase::testing::raw::{Answer, Req, send};
use serde_json::{Value, json};
use support::ws::{Player, create_room};

const BOUNDARY: &str = "----pokerimport";

fn start(dir: &Path) -> anyhow::Result<ServerProcess> {
    Ok(support::serve(dir, &["--log-level", "warn"])?)
}

fn fixture(name: &str) -> anyhow::Result<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tracker");
    Ok(std::fs::read(path.join(name))?)
}

/// A multipart body: plain fields, then the file part (when given).
fn form(fields: &[(&str, &str)], file: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some(file) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stories.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn post(server: &ServerProcess, code: &str, token: &str, body: Vec<u8>) -> anyhow::Result<Answer> {
    let req = Req::post(format!("/r/{code}/import"))
        .header("Cookie", format!("pk_{code}={token}"))
        .bytes(&format!("multipart/form-data; boundary={BOUNDARY}"), body);
    Ok(send(&server.addr, &req)?)
}

fn text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

/// The room's queue as the host's next view shows it: (title, key).
async fn queue(host: &mut Player) -> anyhow::Result<Vec<(String, String)>> {
    host.act(json!({"type": "topic", "text": "look"})).await?;
    let view = host.view_where(|v| v["round"]["topic"] == "look").await?;
    host.act(json!({"type": "topic", "text": ""})).await?;
    Ok(view["queue"]
        .as_array()
        .map(|q| {
            q.iter()
                .map(|s| {
                    (
                        s["title"].as_str().unwrap_or_default().to_string(),
                        s["key"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_import_with_a_preview_and_get_estimates_back() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let token = room["hostToken"].as_str().unwrap_or_default().to_string();
    let mut host = Player::join(&server, &code, "Host", Some(&token)).await?;
    let voter = Player::join(&server, &code, "Vic", None).await?;

    // Only hosts and co-hosts import: no seat, or a voter's seat, gets a 403 page.
    let page = send(&server.addr, &Req::get(format!("/r/{code}/import")))?;
    assert_eq!(page.status, 403, "{}", text(&page));
    let page = send(
        &server.addr,
        &Req::get(format!("/r/{code}/import"))
            .header("Cookie", format!("pk_{code}={}", voter.token)),
    )?;
    assert_eq!(page.status, 403);
    assert!(text(&page).contains("Only the host and co-hosts"));
    let page = post(
        &server,
        &code,
        &voter.token,
        form(&[("confirm", "1")], Some(&fixture("jira.csv")?)),
    )?;
    assert_eq!(page.status, 403, "a voter's confirmed import is refused");
    let page = send(
        &server.addr,
        &Req::get(format!("/r/{code}/import")).header("Cookie", format!("pk_{code}={token}")),
    )?;
    assert_eq!(page.status, 200);
    assert!(text(&page).contains("type=\"file\" name=\"file\""));

    // A generic CSV (semicolons, BOM): the preview guesses the columns and lists
    // the stories; rows without a title are reported.
    let csv = fixture("generic-semicolon.csv")?;
    let preview = post(&server, &code, &token, form(&[], Some(&csv)))?;
    let html = text(&preview);
    assert_eq!(preview.status, 200, "{html}");
    assert!(html.contains("data-testid=\"import-mapping\""), "{html}");
    assert!(html.contains("Page d&#39;accueil"), "{html}");
    assert!(
        html.contains("line 5"),
        "the blank title is reported: {html}"
    );
    assert!(queue(&mut host).await?.is_empty(), "a preview adds nothing");

    // Confirmed with the mapping as chosen (title, key, link; no estimate), from the
    // text the preview kept.
    let content = String::from_utf8_lossy(&csv).into_owned();
    let done = post(
        &server,
        &code,
        &token,
        form(
            &[
                ("content", &content),
                ("format", "csv"),
                ("map_title", "1"),
                ("map_key", "0"),
                ("map_url", "2"),
                ("confirm", "1"),
            ],
            None,
        ),
    )?;
    assert_eq!(done.status, 303, "{}", text(&done));
    let stories = queue(&mut host).await?;
    assert_eq!(stories.len(), 4, "{stories:?}");
    assert_eq!(
        stories[0],
        (
            "Page d'accueil : bandeau des promotions".into(),
            "WEB-1".into()
        )
    );

    // Bad files: an answer that says why, and the queue stays as it was.
    for (body, why) in [
        (
            form(&[("format", "jira-xml")], Some(b"\x00\x01\x02binary")),
            "binary",
        ),
        (form(&[], Some(b"")), "Choose a file"),
        (
            form(
                &[("format", "csv")],
                Some(&vec![b'a'; 2 * 1024 * 1024 + 70_000]),
            ),
            "2 MiB",
        ),
        (
            form(&[("format", "github-json")], Some(b"{\"not\": \"a list\"}")),
            "GitHub",
        ),
    ] {
        let answer = post(&server, &code, &token, body)?;
        assert_eq!(answer.status, 400, "{why}: {}", text(&answer));
        assert!(text(&answer).contains(why), "{why}: {}", text(&answer));
    }
    assert_eq!(queue(&mut host).await?.len(), 4);

    // A Jira CSV export, straight to the queue; estimate its first story.
    let done = post(
        &server,
        &code,
        &token,
        form(&[("confirm", "1")], Some(&fixture("jira.csv")?)),
    )?;
    assert_eq!(done.status, 303, "{}", text(&done));
    let stories = queue(&mut host).await?;
    let shop: Vec<&(String, String)> = stories
        .iter()
        .filter(|(_, k)| k.starts_with("SHOP-"))
        .collect();
    assert_eq!(shop.len(), 4, "{stories:?}");
    let id = {
        host.act(json!({"type": "topic", "text": "find"})).await?;
        let view = host.view_where(|v| v["round"]["topic"] == "find").await?;
        view["queue"]
            .as_array()
            .and_then(|q| q.iter().find(|s| s["key"] == "SHOP-101"))
            .and_then(|s| s["id"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    host.act(json!({"type": "vote", "value": "1"})).await?;
    host.act(json!({"type": "reveal"})).await?;
    host.act(json!({"type": "next"})).await?;
    host.act(json!({"type": "story_play", "story": id})).await?;
    host.act(json!({"type": "vote", "value": "8"})).await?;
    host.act(json!({"type": "reveal"})).await?;
    host.act(json!({"type": "estimate", "value": "8"})).await?;
    let jira = send(
        &server.addr,
        &Req::get(format!("/r/{code}/estimates.csv?format=jira-csv")),
    )?;
    assert_eq!(jira.status, 200);
    let body = text(&jira);
    assert!(body.starts_with("Issue key,Summary,Story Points"), "{body}");
    assert!(
        body.contains("SHOP-101,Checkout page shows the basket total,8"),
        "{body}"
    );
    assert!(
        jira.head.to_ascii_lowercase().contains("attachment"),
        "{}",
        jira.head
    );
    let bad = send(
        &server.addr,
        &Req::get(format!("/r/{code}/estimates.csv?format=word")),
    )?;
    assert_eq!(bad.status, 400);
    let err: Value = serde_json::from_slice(&bad.body)?;
    assert_eq!(err["status"], 400);
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("jira-csv")),
        "{err}"
    );
    let missing = send(
        &server.addr,
        &Req::get("/r/nosuchroom00/estimates.csv?format=csv"),
    )?;
    assert_eq!(missing.status, 404);
    Ok(())
}
