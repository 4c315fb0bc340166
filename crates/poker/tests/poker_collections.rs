//! The poker collections are ordinary litebase collections, visible to superusers
//! (the admin UI) and to nobody else through /api or /api/realtime: no hidden vote
//! and no token hash can leak there.

mod support;

use litebase::testing::{Http, assert_error_shape};
use serde_json::{Value, json};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

/// Creates a record in `collection` as the superuser holding `token`.
fn create_record(
    http: &Http,
    server: &litebase::testing::ServerProcess,
    token: &str,
    collection: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let r = http.post_json_auth(
        &server.url(&format!("/api/collections/{collection}/records")),
        token,
        &body,
    )?;
    anyhow::ensure!(r.status == 200, "{collection}: {}", r.text);
    Ok(r.json)
}

#[test]
fn only_superusers_reach_rooms_participants_rounds_and_votes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    support::add_superuser(dir.path())?;
    let server = support::serve(dir.path(), &[])?;
    let http = Http::new();
    let token = support::superuser_token(&server)?;
    let create = |c: &str, body: Value| create_record(&http, &server, &token, c, body);
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

/// Signed-in `users` records are no better off than guests: no vote, token hash
/// or participant through list, view or realtime (a superuser subscriber, as the
/// control, gets every event).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_users_and_guests_learn_nothing_through_api_or_realtime() -> anyhow::Result<()> {
    use support::sse::{SseClient, subscribe_as};
    let dir = tempfile::tempdir()?;
    let (server, admin) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let user = http.post_json_auth(
        &server.url("/api/collections/users/records"),
        &admin,
        &json!({"email": "user@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1"}),
    )?;
    anyhow::ensure!(user.status == 200, "create user: {}", user.text);
    let signed_in = http.post_json(
        &server.url("/api/collections/users/auth-with-password"),
        &json!({"identity": "user@example.com", "password": "user-password-1"}),
    )?;
    let user_token = signed_in.json["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("user sign-in: {}", signed_in.text))?
        .to_string();

    let topics = ["rooms/*", "participants/*", "rounds/*", "votes/*"];
    let addr = server.addr.clone();
    let mut guest = SseClient::connect(&addr).await?;
    subscribe_as(addr.clone(), guest.client_id.clone(), &topics, None).await?;
    let mut member = SseClient::connect(&addr).await?;
    subscribe_as(
        addr.clone(),
        member.client_id.clone(),
        &topics,
        Some(&user_token),
    )
    .await?;
    let mut control = SseClient::connect(&addr).await?;
    subscribe_as(
        addr.clone(),
        control.client_id.clone(),
        &topics,
        Some(&admin),
    )
    .await?;

    let create = |c: &str, body: Value| create_record(&http, &server, &admin, c, body);
    let room = create(
        "rooms",
        json!({"code": "LeakTest1234", "name": "Secret sprint"}),
    )?;
    let alice = create(
        "participants",
        json!({"room": id(&room), "name": "Alice", "role": "voter", "token_hash": "hash-of-a-secret"}),
    )?;
    let round = create(
        "rounds",
        json!({"room": id(&room), "number": 1, "state": "voting"}),
    )?;
    let vote = create(
        "votes",
        json!({"round": id(&round), "participant": id(&alice), "value": "13"}),
    )?;
    control.wait_for(&id(&vote)).await?;
    assert!(
        control.buffer.contains(&id(&alice)),
        "the control sees the participant"
    );

    for (who, token) in [("guest", None), ("user", Some(user_token.as_str()))] {
        for c in ["rooms", "participants", "rounds", "votes"] {
            let list_url = server.url(&format!("/api/collections/{c}/records"));
            let list = match token {
                Some(t) => http.get_auth(&list_url, t)?,
                None => http.get(&list_url)?,
            };
            assert_error_shape(&list, 403);
            assert!(!list.text.contains("hash-of-a-secret") && !list.text.contains("\"13\""));
        }
        let view_url = server.url(&format!("/api/collections/votes/records/{}", id(&vote)));
        let view = match token {
            Some(t) => http.get_auth(&view_url, t)?,
            None => http.get(&view_url)?,
        };
        assert_error_shape(&view, 403);
        assert!(!view.text.contains("\"13\""), "{who} viewed a vote");
    }
    for (who, client) in [("guest", &mut guest), ("user", &mut member)] {
        // Whatever arrives within a second (if anything), none of it is ours.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
            while client.read_chunk().await.unwrap_or(false) {}
        })
        .await;
        for secret in [
            id(&vote),
            id(&alice),
            id(&room),
            "hash-of-a-secret".to_string(),
        ] {
            assert!(
                !client.buffer.contains(&secret),
                "{who} received {secret} over realtime: {}",
                client.buffer
            );
        }
    }
    Ok(())
}

/// The stored `votes` rows follow every cast, change and take-back (votes are
/// written one row at a time), and a restarted server resumes the round from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_vote_change_is_stored_and_survives_a_restart() -> anyhow::Result<()> {
    use support::ws::{Player, create_room, participant};
    let dir = tempfile::tempdir()?;
    let (server, admin) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let stored = |server: &litebase::testing::ServerProcess| -> anyhow::Result<Vec<String>> {
        let reply = http.get_auth(
            &server.url("/api/collections/votes/records?sort=value"),
            &admin,
        )?;
        anyhow::ensure!(reply.status == 200, "list votes: {}", reply.text);
        Ok(reply.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v["value"].as_str().unwrap_or_default().to_string())
            .collect())
    };
    let room = create_room(&server)?;
    let code = room["code"].as_str().unwrap_or_default().to_string();
    let mut ada = Player::join(&server, &code, "Ada", room["hostToken"].as_str()).await?;
    let mut bob = Player::join(&server, &code, "Bob", None).await?;
    bob.act(json!({"type": "vote", "value": "5"})).await?;
    assert_eq!(stored(&server)?, ["5"]);
    bob.act(json!({"type": "vote", "value": "8"})).await?;
    assert_eq!(stored(&server)?, ["8"]);
    bob.act(json!({"type": "clear"})).await?;
    assert!(stored(&server)?.is_empty());
    bob.act(json!({"type": "vote", "value": "2"})).await?;
    ada.act(json!({"type": "vote", "value": "3"})).await?;
    assert_eq!(stored(&server)?, ["2", "3"]);

    let bob_token = bob.token.clone();
    let bob_id = bob.id.clone();
    drop((ada, bob));
    drop(server);
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let mut bob = Player::join(&server, &code, "Bob", Some(&bob_token)).await?;
    let view = bob.view_where(|v| v["round"]["votes_cast"] == 2).await?;
    assert_eq!(participant(&view, &bob_id)["card"], "2");
    Ok(())
}
