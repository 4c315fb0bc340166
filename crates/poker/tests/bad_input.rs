//! Bad input on every poker HTTP endpoint, against the real `poker` binary: each
//! answers a clear error in the shape its client reads (PocketBase JSON for the
//! API, the form page again for pages) and adds no row.

mod support;

use litebase::testing::{Http, ServerProcess, assert_error_shape, raw_request};
use serde_json::json;

/// The body limit the server runs with here (`LITEBASE_BODY_LIMIT`), small so
/// an oversized body is cheap to send.
const BODY_LIMIT: usize = 64 * 1024;

/// A server with a superuser, and the superuser's token.
fn start(dir: &std::path::Path) -> anyhow::Result<(ServerProcess, String)> {
    support::add_superuser(dir)?;
    let limit = BODY_LIMIT.to_string();
    let server = support::serve_with_env(dir, &[("LITEBASE_BODY_LIMIT", &limit)])?;
    let token = support::superuser_token(&server)?;
    Ok((server, token))
}

/// How many rows `collection` holds, through the superuser's `/api`.
fn rows(server: &ServerProcess, token: &str, collection: &str) -> anyhow::Result<u64> {
    let reply = Http::new().get_auth(
        &server.url(&format!("/api/collections/{collection}/records?perPage=1")),
        token,
    )?;
    anyhow::ensure!(reply.status == 200, "list {collection}: {}", reply.text);
    reply.json["totalItems"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("no totalItems: {}", reply.text))
}

/// Rooms and participants, counted together.
fn counts(server: &ServerProcess, token: &str) -> anyhow::Result<(u64, u64)> {
    Ok((
        rows(server, token, "rooms")?,
        rows(server, token, "participants")?,
    ))
}

/// `POST path` with a form body and a status/body answer (no redirects followed).
fn post_form(server: &ServerProcess, path: &str, body: &str) -> anyhow::Result<(u16, String)> {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    let reply = raw_request(&server.addr, request.as_bytes())?;
    Ok((reply.status, reply.text))
}

#[test]
fn bad_create_room_bodies_get_pocketbase_errors_and_add_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = start(dir.path())?;
    let url = server.url("/api/poker/rooms");
    let http = Http::new();
    let before = counts(&server, &token)?;

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("malformed JSON", b"{\"name\": ".to_vec(), "JSON"),
        ("not an object", b"[1, 2, 3]".to_vec(), "JSON"),
        ("wrong type", br#"{"name": 7}"#.to_vec(), "JSON"),
        (
            "unknown field",
            br#"{"name": "x", "hostName": "y"}"#.to_vec(),
            "hostName",
        ),
        (
            "unknown deck field",
            br#"{"deck": {"kind": "fibonacci", "jokers": true}}"#.to_vec(),
            "jokers",
        ),
        (
            "unknown deck kind",
            br#"{"deck": {"kind": "tarot"}}"#.to_vec(),
            "tarot",
        ),
        (
            "invalid UTF-8",
            b"{\"name\": \"\xff\xfe\"}".to_vec(),
            "JSON",
        ),
    ];
    for (what, body, mentions) in cases {
        let reply = http.post_raw(&url, &body)?;
        let message = assert_error_shape(&reply, 400);
        assert!(
            message.contains(mentions),
            "{what}: the message should mention {mentions}: {message}"
        );
    }

    // A hostile deck: too many cards, huge labels, control characters, duplicates.
    let many: Vec<String> = (0..1_000).map(|i| format!("c{i}")).collect();
    let decks = [
        ("1,000 cards", json!({"kind": "custom", "custom": many})),
        (
            "a huge label",
            json!({"kind": "custom", "custom": ["1", "x".repeat(10_000)]}),
        ),
        (
            "a control character",
            json!({"kind": "custom", "custom": ["1", "2\u{7}"]}),
        ),
        (
            "a newline",
            json!({"kind": "custom", "custom": ["1", "a\nb"]}),
        ),
        (
            "duplicates",
            json!({"kind": "custom", "custom": ["1", "1"]}),
        ),
        ("no cards", json!({"kind": "custom", "custom": []})),
    ];
    for (what, deck) in decks {
        let reply = http.post_json(&url, &json!({"name": "Hostile", "deck": deck}))?;
        let message = assert_error_shape(&reply, 400);
        assert!(
            message.contains("card") || message.contains("deck"),
            "{what}: the message should say what is wrong with the deck: {message}"
        );
    }
    for (what, name) in [
        ("a control character", "Sprint\u{0}7".to_string()),
        ("too long", "R".repeat(1_000)),
    ] {
        let reply = http.post_json(&url, &json!({"name": name}))?;
        let message = assert_error_shape(&reply, 400);
        assert!(message.contains("room name"), "{what}: {message}");
    }

    // Over the body limit: declared, and streamed without a length.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(BODY_LIMIT + 1));
    let reply = http.post_raw(&url, big.as_bytes())?;
    assert_error_shape(&reply, 413);
    let chunk = "x".repeat(BODY_LIMIT + 1);
    let chunked = format!(
        "POST /api/poker/rooms HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        server.addr,
        chunk.len()
    );
    let reply = raw_request(&server.addr, chunked.as_bytes())?;
    assert_error_shape(&reply, 413);

    assert_eq!(
        counts(&server, &token)?,
        before,
        "no room or seat was added"
    );
    // And the endpoint still works.
    let ok = http.post_json(&url, &json!({"name": "Fine"}))?;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(counts(&server, &token)?, (before.0 + 1, before.1 + 1));
    Ok(())
}

#[test]
fn bad_names_on_the_page_forms_show_the_form_again() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = start(dir.path())?;
    let (status, body) = post_form(&server, "/rooms", "your_name=Ada&room_name=Ok")?;
    assert_eq!(status, 303, "{body}");
    let (rooms, seats) = counts(&server, &token)?;
    let code = {
        let reply = Http::new().get_auth(
            &server.url("/api/collections/rooms/records?perPage=1"),
            &token,
        )?;
        reply.json["items"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(code.len(), 12);

    let long = "N".repeat(200);
    let huge = "N".repeat(8_000);
    let bad_names = [
        ("missing", String::new()),
        ("blank", "name=%20%20".to_string()),
        ("too long", format!("name={long}")),
        ("huge", format!("name={huge}")),
        (
            "over the form limit",
            format!("name={}", "N".repeat(40_000)),
        ),
        ("a control character", "name=Ada%07".to_string()),
        ("a newline", "name=Ada%0ABob".to_string()),
        ("a NUL", "name=Ada%00".to_string()),
    ];
    for (what, field) in &bad_names {
        // The create form names the field `your_name`.
        let create = field.replacen("name=", "your_name=", 1);
        let (status, body) = post_form(&server, "/rooms", &format!("{create}&role=voter"))?;
        assert_eq!(status, 400, "create, {what}: {body}");
        assert!(
            body.contains("data-testid=\"create-room\""),
            "create, {what}: the form again"
        );
        assert!(
            body.contains("role=\"alert\""),
            "create, {what}: a message: {body}"
        );

        let (status, body) = post_form(
            &server,
            &format!("/r/{code}/join"),
            &format!("{field}&role=voter"),
        )?;
        assert_eq!(status, 400, "join, {what}: {body}");
        assert!(
            body.contains("data-testid=\"join-room\""),
            "join, {what}: the form again: {body}"
        );
        assert!(
            body.contains("role=\"alert\""),
            "join, {what}: a message: {body}"
        );
    }
    // A body that is not a form at all: the form again.
    let (status, body) = post_form(&server, "/rooms", "%zz=%%&your_name=\u{0}")?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("data-testid=\"create-room\""), "{body}");
    let (status, body) = post_form(&server, &format!("/r/{code}/join"), "%zz=%%")?;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("data-testid=\"join-room\""), "{body}");
    // Over litebase's body limit: refused before any handler reads it.
    let over = format!("your_name={}", "N".repeat(BODY_LIMIT));
    let (status, body) = post_form(&server, "/rooms", &over)?;
    assert_eq!(status, 413, "{body}");
    assert_eq!(
        counts(&server, &token)?,
        (rooms, seats),
        "no room or seat was added"
    );
    // The forms still work.
    let (status, body) = post_form(&server, &format!("/r/{code}/join"), "name=Bob&role=voter")?;
    assert_eq!(status, 303, "{body}");
    assert_eq!(counts(&server, &token)?, (rooms, seats + 1));
    Ok(())
}
