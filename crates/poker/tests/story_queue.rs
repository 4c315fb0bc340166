//! The story queue over real WebSockets against the real `poker` binary: the
//! host fills, reorders and edits the queue, the room plays through it (estimate,
//! skip, re-estimate), other people cannot change it, bad messages get errors,
//! and a SIGKILL gives back the same queue.

mod support;

use std::path::Path;
use std::time::Duration;

use litebase::testing::ServerProcess;
use serde_json::{Value, json};
use support::ws::{Player, create_room};

fn start(dir: &Path) -> anyhow::Result<ServerProcess> {
    Ok(support::serve(dir, &["--log-level", "warn"])?)
}

/// (title, status, estimate) of each story, in queue order.
fn queue(view: &Value) -> Vec<(String, String, String)> {
    view["queue"]
        .as_array()
        .map(|stories| {
            stories
                .iter()
                .map(|s| {
                    (
                        s["title"].as_str().unwrap_or_default().to_string(),
                        s["status"].as_str().unwrap_or_default().to_string(),
                        s["estimate"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn story_id(view: &Value, title: &str) -> String {
    view["queue"]
        .as_array()
        .and_then(|stories| stories.iter().find(|s| s["title"] == title))
        .and_then(|s| s["id"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn row(title: &str, status: &str, estimate: &str) -> (String, String, String) {
    (title.into(), status.into(), estimate.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_plays_through_its_queue_and_keeps_it_after_sigkill() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = start(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let host_token = room["hostToken"].as_str().unwrap_or_default().to_string();
    let mut host = Player::join(&server, &code, "Host", Some(&host_token)).await?;
    let mut ann = Player::join(&server, &code, "Ann", None).await?;

    // A pasted list: bullets go, blank lines are skipped; the fresh round takes the first.
    host.act(json!({"type": "story_add", "title": "- Sign up\n\n- Sign in\n- Reset password"}))
        .await?;
    let view = ann
        .view_where(|v| v["queue"].as_array().is_some_and(|q| q.len() == 3))
        .await?;
    assert_eq!(view["round"]["topic"], "Sign up");
    assert_eq!(
        queue(&view),
        [
            row("Sign up", "active", ""),
            row("Sign in", "pending", ""),
            row("Reset password", "pending", "")
        ]
    );

    // Nobody but moderators changes the queue; nothing changes when they try.
    ann.send(json!({"type": "story_add", "title": "Mine"}))
        .await?;
    assert!(
        ann.error().await?.contains("story queue"),
        "refusal says what"
    );
    let reset = story_id(&view, "Reset password");
    ann.send(json!({"type": "story_remove", "story": reset}))
        .await?;
    ann.error().await?;
    // Bad input: a link that is not a web address, an unknown story, a bad position.
    host.send(
        json!({"type": "story_edit", "story": reset, "title": "x", "url": "javascript:alert(1)"}),
    )
    .await?;
    assert!(host.error().await?.contains("http"));
    host.send(json!({"type": "story_play", "story": "nope"}))
        .await?;
    assert!(host.error().await?.contains("no story"));
    host.send(json!({"type": "story_move", "story": reset, "to": "first"}))
        .await?;
    assert!(host.error().await?.contains("position"));

    // Reorder and edit: "Reset password" goes second, with a key and a link.
    host.act(json!({"type": "story_move", "story": reset, "to": 1}))
        .await?;
    host.act(
        json!({"type": "story_edit", "story": reset, "title": "Reset password",
        "key": "AUTH-3", "url": "https://tracker.test/AUTH-3"}),
    )
    .await?;

    // Round 1: vote, reveal, estimate; the next round takes the next story.
    ann.act(json!({"type": "vote", "value": "3"})).await?;
    host.act(json!({"type": "vote", "value": "5"})).await?;
    host.act(json!({"type": "reveal"})).await?;
    host.act(json!({"type": "estimate", "value": "5"})).await?;
    host.act(json!({"type": "next"})).await?;
    let view = ann
        .view_where(|v| v["round"]["number"] == 2 && v["round"]["topic"] == "Reset password")
        .await?;
    assert_eq!(
        queue(&view),
        [
            row("Sign up", "estimated", "5"),
            row("Reset password", "active", ""),
            row("Sign in", "pending", "")
        ]
    );

    // Skip while voting: the votes go, the next story comes, same round.
    ann.act(json!({"type": "vote", "value": "8"})).await?;
    ann.act(json!({"type": "story_skip"})).await?;
    let view = host
        .view_where(|v| v["round"]["topic"] == "Sign in" && v["round"]["votes_cast"] == 0)
        .await?;
    assert_eq!(view["round"]["number"], 2);
    assert_eq!(queue(&view)[1], row("Reset password", "skipped", ""));

    // Re-estimate "Sign up": both rounds stay, the new estimate replaces the old.
    let sign_up = story_id(&view, "Sign up");
    host.act(json!({"type": "story_play", "story": sign_up}))
        .await?;
    host.act(json!({"type": "vote", "value": "8"})).await?;
    host.act(json!({"type": "reveal"})).await?;
    host.act(json!({"type": "estimate", "value": "8"})).await?;
    let view = host
        .view_where(|v| v["round"]["phase"] == "completed")
        .await?;
    let first = &view["queue"][0];
    assert_eq!(first["estimate"], "8");
    assert_eq!(first["rounds"], 2, "re-estimated: {first}");
    let on_sign_up = view["history"]
        .as_array()
        .map(|h| h.iter().filter(|r| r["story"] == sign_up.as_str()).count());
    assert_eq!(on_sign_up, Some(2));

    // SIGKILL: the queue, statuses, estimates and the round's story come back.
    let before = queue(&view);
    server.signal("KILL")?;
    server.wait(Duration::from_secs(10));
    let server = start(dir.path())?;
    let mut host = Player::join(&server, &code, "Host", Some(&host_token)).await?;
    let view = host.view_where(|v| !v["queue"].is_null()).await?;
    assert_eq!(queue(&view), before);
    assert_eq!(view["round"]["story"], sign_up.as_str());
    assert_eq!(view["queue"][0]["rounds"], 2);
    host.act(json!({"type": "next"})).await?;
    let view = host
        .view_where(|v| v["round"]["topic"] == "Sign in")
        .await?;
    assert_eq!(queue(&view)[0], row("Sign up", "estimated", "8"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_is_capped_and_titles_are_checked() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path())?;
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let token = room["hostToken"].as_str().unwrap_or_default().to_string();
    let mut host = Player::join(&server, &code, "Host", Some(&token)).await?;
    host.send(json!({"type": "story_add", "title": "  \n "}))
        .await?;
    assert!(host.error().await?.contains("title"));
    host.send(json!({"type": "story_add", "title": "a\nb", "key": "K-1"}))
        .await?;
    assert!(host.error().await?.contains("single story"));
    host.send(json!({"type": "story_add", "title": "t".repeat(201)}))
        .await?;
    assert!(host.error().await?.contains("200"));
    // Pasted lists of 100 (a message holds at most 16 KiB).
    for batch in 0..5 {
        let many: Vec<String> = (0..100)
            .map(|i| format!("Story {}", batch * 100 + i))
            .collect();
        host.act(json!({"type": "story_add", "title": many.join("\n")}))
            .await?;
    }
    let view = host
        .view_where(|v| v["queue"].as_array().is_some_and(|q| q.len() == 500))
        .await?;
    assert_eq!(view["round"]["topic"], "Story 0");
    host.send(json!({"type": "story_add", "title": "one too many"}))
        .await?;
    assert!(host.error().await?.contains("500"));
    // The refused add changed nothing: the next change still shows 500 stories.
    let last = view["queue"][499]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    host.act(json!({"type": "story_move", "story": last, "to": 0}))
        .await?;
    let view = host
        .view_where(|v| v["queue"][0]["title"] == "Story 499")
        .await?;
    assert_eq!(view["queue"].as_array().map(Vec::len), Some(500));
    Ok(())
}
