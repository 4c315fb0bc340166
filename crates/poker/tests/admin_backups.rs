//! A backup restored online into the running poker server: a deleted room comes
//! back and a live room's players see the restored rows. (Backups themselves
//! are litebase's, tested in its `admin_backups.rs`.)

mod support;

use litebase::testing::Http;
use serde_json::json;
use support::ws::{Player, create_room};

fn code_of(room: &serde_json::Value) -> String {
    room["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_restores_deleted_rows_into_live_rooms() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let live = code_of(&create_room(&server)?);
    let doomed = code_of(&create_room(&server)?);
    let mut ada = Player::join(&server, &live, "Ada", None).await?;

    let made = http.post_json_auth(
        &server.url("/api/backups"),
        &token,
        &json!({"name": "before.db"}),
    )?;
    assert_eq!(made.status, 204, "{}", made.text);

    // After the backup: one room renamed (live), another deleted.
    let live_id = support::room_record_id(&server, &token, &live)?
        .ok_or_else(|| anyhow::anyhow!("no live room"))?;
    let doomed_id = support::room_record_id(&server, &token, &doomed)?
        .ok_or_else(|| anyhow::anyhow!("no room"))?;
    let renamed = http.patch_json_auth(
        &server.url(&format!("/api/collections/rooms/records/{live_id}")),
        &token,
        &json!({"name": "Renamed after the backup"}),
    )?;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    ada.view_where(|v| v["name"] == "Renamed after the backup")
        .await?;
    let deleted = http.agent_delete(
        &server.url(&format!("/api/collections/rooms/records/{doomed_id}")),
        &token,
    )?;
    assert_eq!(deleted, 204);
    assert!(support::room_record_id(&server, &token, &doomed)?.is_none());

    let restored = http.post_json_auth(
        &server.url("/api/backups/before.db/restore"),
        &token,
        &json!({}),
    )?;
    assert_eq!(restored.status, 204, "{}", restored.text);
    assert!(
        support::room_record_id(&server, &token, &doomed)?.is_some(),
        "the deleted room is back"
    );
    let view = ada.view_where(|v| v["name"] == "Sprint 7").await?;
    assert_eq!(
        view["name"], "Sprint 7",
        "the live room shows the restored name"
    );
    // The restored room keeps working.
    ada.act(json!({"type": "vote", "value": "3"})).await?;
    Ok(())
}
