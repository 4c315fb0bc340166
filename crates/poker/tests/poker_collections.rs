//! The poker collections are ordinary litebase collections, visible to superusers
//! (the admin UI) and to nobody else through /api or /api/realtime: no hidden vote
//! and no token hash can leak there.

mod support;

use litebase::testing::{Http, assert_error_shape};
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

#[test]
fn only_superusers_reach_rooms_participants_rounds_and_votes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let server = support::serve(dir.path(), &[])?;
    let http = Http::new();
    let token = support::superuser_token(&server)?;
    let create = |c: &str, body: Value| -> anyhow::Result<Value> {
        let r = http.post_json_auth(
            &server.url(&format!("/api/collections/{c}/records")),
            &token,
            &body,
        )?;
        anyhow::ensure!(r.status == 200, "{c}: {}", r.text);
        Ok(r.json)
    };
    let room = create(
        "rooms",
        json!({"code": "AbCdEfGh1234", "name": "Sprint 42"}),
    )?;
    let alice = create(
        "participants",
        json!({"room": id(&room), "name": "Alice", "role": "voter", "token_hash": "argon2-of-a-secret"}),
    )?;
    let round = create(
        "rounds",
        json!({"room": id(&room), "number": 1, "state": "voting"}),
    )?;
    create(
        "votes",
        json!({"round": id(&round), "participant": id(&alice), "value": "8"}),
    )?;

    // Guests: nothing, whatever the collection or the way in.
    for c in ["rooms", "participants", "rounds", "votes"] {
        let list = http.get(&server.url(&format!("/api/collections/{c}/records")))?;
        assert_error_shape(&list, 403);
        assert!(!list.text.contains("argon2") && !list.text.contains("\"8\""));
    }
    assert_error_shape(
        &http.get(&server.url(&format!(
            "/api/collections/participants/records/{}",
            id(&alice)
        )))?,
        403,
    );
    assert_error_shape(
        &http.post_json(
            &server.url("/api/collections/votes/records"),
            &json!({"round": id(&round), "participant": id(&alice), "value": "1"}),
        )?,
        403,
    );
    // The admin sees everything (the hash, never the token itself).
    let votes = http.get_auth(&server.url("/api/collections/votes/records"), &token)?;
    assert_eq!(votes.json["totalItems"], 1);

    // Deleting a room takes its people, rounds and votes with it.
    let deleted = http.agent_delete(
        &server.url(&format!("/api/collections/rooms/records/{}", id(&room))),
        &token,
    )?;
    assert_eq!(deleted, 204);
    for c in ["participants", "rounds", "votes"] {
        let left = http.get_auth(
            &server.url(&format!("/api/collections/{c}/records")),
            &token,
        )?;
        assert_eq!(left.json["totalItems"], 0, "{c} not cascaded");
    }
    Ok(())
}
