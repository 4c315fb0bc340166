//! The pages through the real `poker` binary: create a room with the home form,
//! open it, join as someone else, then play over `?format=html` WebSockets with the
//! seat cookies, as a browser would.

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use litebase::testing::ServerProcess;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A status, the headers we look at, and the body.
struct Page {
    status: u16,
    location: Option<String>,
    set_cookie: Vec<String>,
    content_type: String,
    cache_control: String,
    body: String,
}

fn page(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> anyhow::Result<Page> {
    let mut resp = resp?;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let set_cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    let content_type = header("content-type");
    let cache_control = header("cache-control");
    Ok(Page {
        status: resp.status().as_u16(),
        location,
        set_cookie,
        content_type,
        cache_control,
        body: resp.body_mut().read_to_string()?,
    })
}

fn get(url: &str, cookie: Option<&str>) -> anyhow::Result<Page> {
    let mut req = support::agent().get(url);
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    page(req.call())
}

fn post_form(url: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
    page(support::agent().post(url).send_form(fields.iter().copied()))
}

/// `name=value` of the `Set-Cookie` that names `name`, checking its attributes.
fn seat_cookie(page: &Page, name: &str) -> anyhow::Result<String> {
    let cookie = page
        .set_cookie
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .ok_or_else(|| anyhow::anyhow!("no {name} cookie in {:?}", page.set_cookie))?;
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        anyhow::ensure!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    Ok(cookie.split(';').next().unwrap_or_default().to_string())
}

async fn connect_html(
    server: &ServerProcess,
    code: &str,
    cookie: Option<&str>,
) -> anyhow::Result<Ws> {
    let url = format!("ws://{}/ws/rooms/{code}?format=html", server.addr);
    let mut request = url.into_client_request()?;
    if let Some(c) = cookie {
        request.headers_mut().insert("Cookie", c.parse()?);
    }
    let (ws, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(ws)
}

/// The next text frame, or `None` once the server closed.
async fn next_text(ws: &mut Ws) -> anyhow::Result<Option<String>> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .map_err(|_| anyhow::anyhow!("no frame within 10 s"))?;
        match msg {
            Some(Ok(Message::Text(text))) => return Ok(Some(text.to_string())),
            Some(Ok(Message::Close(_))) | None => return Ok(None),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

/// Waits for a frame that satisfies `pred`.
async fn frame_where(ws: &mut Ws, pred: impl Fn(&str) -> bool) -> anyhow::Result<String> {
    loop {
        let frame = next_text(ws)
            .await?
            .ok_or_else(|| anyhow::anyhow!("closed while waiting"))?;
        anyhow::ensure!(!frame.contains("class=\"toast\""), "error toast: {frame}");
        if pred(&frame) {
            return Ok(frame);
        }
    }
}

/// The `<li>` of participant `name` in a shared frame.
fn participant_html<'a>(frame: &'a str, name: &str) -> &'a str {
    let marker = format!("data-name=\"{name}\"");
    frame
        .find(&marker)
        .map(|start| {
            let rest = &frame[start..];
            &rest[..rest.find("</li>").unwrap_or(rest.len())]
        })
        .unwrap_or("")
}

async fn send(ws: &mut Ws, json: &str) -> anyhow::Result<()> {
    ws.send(Message::text(json.to_string())).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_join_vote_and_reveal_through_pages_and_html_sockets() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;

    // The home page offers the create form.
    let home = get(&server.url("/"), None)?;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("data-testid=\"create-room\""));
    assert!(home.body.contains("<html lang=\"en\""));

    // Creating a room: 303 to the room, with the host's seat cookie.
    let created = post_form(
        &server.url("/rooms"),
        &[
            ("room_name", "Sprint <7>"),
            ("your_name", "Ada"),
            ("role", "voter"),
            ("deck", "fibonacci"),
            ("custom", ""),
            ("question", "on"),
        ],
    )?;
    assert_eq!(created.status, 303, "{}", created.body);
    let location = created.location.clone().unwrap_or_default();
    let code = location.trim_start_matches("/r/").to_string();
    assert!(
        location.starts_with("/r/") && code.len() == 12,
        "{location}"
    );
    let ada = seat_cookie(&created, &format!("pk_{code}"))?;

    // The host sees the room with the share link, the code and their own link;
    // the name is escaped.
    let room = get(&server.url(&location), Some(&ada))?;
    assert_eq!(room.status, 200);
    for id in [
        "share-link",
        "room-code",
        "seat-link",
        "participant",
        "card",
        "reveal",
        "connection",
        "expires",
    ] {
        assert!(
            room.body.contains(&format!("data-testid=\"{id}\"")),
            "no {id}"
        );
    }
    assert!(room.body.contains("Sprint &lt;7&gt;"));
    assert!(room.body.contains("data-name=\"Ada\""));

    // Someone without a seat gets the join form, and joins.
    let stranger = get(&server.url(&location), None)?;
    assert!(stranger.body.contains("data-testid=\"join-room\""));
    assert!(!stranger.body.contains("data-testid=\"seat-link\""));
    let joined = post_form(
        &server.url(&format!("/r/{code}/join")),
        &[("name", "Bob"), ("role", "voter")],
    )?;
    assert_eq!(joined.status, 303, "{}", joined.body);
    assert_eq!(joined.location.as_deref(), Some(location.as_str()));
    let bob = seat_cookie(&joined, &format!("pk_{code}"))?;
    assert_ne!(ada, bob);
    let bobs_room = get(&server.url(&location), Some(&bob))?;
    assert!(bobs_room.body.contains("data-testid=\"card\""));
    // Bob has a personal link too: his own seat, never the host's.
    let token_of = |cookie: &str| cookie.split_once('=').map(|(_, t)| t.to_string());
    let (ada_token, bob_token) = (
        token_of(&ada).unwrap_or_default(),
        token_of(&bob).unwrap_or_default(),
    );
    assert!(
        bobs_room
            .body
            .contains(&format!("/r/{code}/seat/{bob_token}\"")),
        "Bob's own link"
    );
    assert!(
        !bobs_room.body.contains(&ada_token),
        "Bob never sees the host's token"
    );
    // Opened on another device (no cookie), it takes Bob's seat there.
    let moved = get(&server.url(&format!("/r/{code}/seat/{bob_token}")), None)?;
    assert_eq!(moved.status, 303);
    assert_eq!(seat_cookie(&moved, &format!("pk_{code}"))?, bob);

    // Both connect in HTML mode with their cookies: shared and personal fragments.
    let mut ada_ws = connect_html(&server, &code, Some(&ada)).await?;
    let mut bob_ws = connect_html(&server, &code, Some(&bob)).await?;
    for ws in [&mut ada_ws, &mut bob_ws] {
        frame_where(ws, |f| {
            f.contains("id=\"participants\"") && f.contains("id=\"round\"")
        })
        .await?;
    }
    frame_where(&mut bob_ws, |f| {
        f.contains("id=\"hand\"") && f.contains("id=\"controls\"")
    })
    .await?;

    // Bob votes 8 (htmx adds HEADERS); Ada's shared fragment shows "voted", not the card.
    send(
        &mut bob_ws,
        r#"{"type":"vote","value":"8","HEADERS":{"HX-Request":"true","HX-Trigger":null}}"#,
    )
    .await?;
    let seen = frame_where(&mut ada_ws, |f| {
        participant_html(f, "Bob").contains("data-voted=\"true\"")
    })
    .await?;
    let bob_li = participant_html(&seen, "Bob");
    assert!(bob_li.contains(">voted<"), "{bob_li}");
    assert!(!seen.contains(">8<"), "the hidden card leaked: {seen}");
    // Bob's own hand marks his card.
    let hand = frame_where(&mut bob_ws, |f| f.contains("aria-pressed=\"true\"")).await?;
    assert!(
        hand.contains(
            "data-card=\"8\" data-keys=\"8\" aria-keyshortcuts=\"8\" aria-pressed=\"true\""
        ),
        "{hand}"
    );

    // Ada reveals; Bob sees the card and the stats.
    send(&mut ada_ws, r#"{"type":"reveal","HEADERS":{}}"#).await?;
    let revealed = frame_where(&mut bob_ws, |f| {
        f.contains("id=\"round\"") && f.contains("data-phase=\"revealed\"")
    })
    .await?;
    assert!(
        participant_html(&revealed, "Bob").contains("data-voted=\"true\">8<"),
        "{revealed}"
    );
    assert!(revealed.contains("data-testid=\"stat-average\">8<"));

    // An error comes back as a toast (Bob cannot vote after the reveal).
    send(&mut bob_ws, r#"{"type":"vote","value":"3","HEADERS":{}}"#).await?;
    let toast = loop {
        let frame = next_text(&mut bob_ws).await?.unwrap_or_default();
        if frame.contains("class=\"toast\"") {
            break frame;
        }
    };
    assert!(
        toast.contains("id=\"toasts\" hx-swap-oob=\"beforeend\""),
        "{toast}"
    );

    // Without a seat cookie: one toast, then the socket closes.
    let mut nobody = connect_html(&server, &code, None).await?;
    let first = next_text(&mut nobody).await?.unwrap_or_default();
    assert!(first.contains("class=\"toast\""), "{first}");
    assert!(next_text(&mut nobody).await?.is_none());
    Ok(())
}

#[test]
fn links_languages_assets_and_the_404_page() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;

    let missing = get(&server.url("/r/doesnotexist"), None)?;
    assert_eq!(missing.status, 404);
    assert!(
        missing.content_type.starts_with("text/html"),
        "{}",
        missing.content_type
    );
    assert!(missing.body.contains("href=\"/\""));

    let french = get(&server.url("/?lang=fr"), None)?;
    assert!(french.body.contains("<html lang=\"fr\""));
    assert!(french.body.contains("Créer la salle"));
    assert!(french.set_cookie.iter().any(|c| c.starts_with("lang=fr")));
    let remembered = get(&server.url("/"), Some("lang=fr"))?;
    assert!(remembered.body.contains("<html lang=\"fr\""));

    let created = post_form(
        &server.url("/rooms"),
        &[("your_name", "Ada"), ("deck", "tshirt")],
    )?;
    let code = created
        .location
        .clone()
        .unwrap_or_default()
        .trim_start_matches("/r/")
        .to_string();
    let cookie = seat_cookie(&created, &format!("pk_{code}"))?;
    let token = cookie.split_once('=').map(|(_, t)| t).unwrap_or_default();

    // The seat link gives the seat back; a wrong one only leads to the room.
    let seat = get(&server.url(&format!("/r/{code}/seat/{token}")), None)?;
    assert_eq!(seat.status, 303);
    assert_eq!(seat_cookie(&seat, &format!("pk_{code}"))?, cookie);
    let wrong = get(&server.url(&format!("/r/{code}/seat/nope")), None)?;
    assert_eq!(wrong.status, 303);
    assert!(wrong.set_cookie.is_empty());

    // A nameless create is refused with the form again.
    let nameless = post_form(&server.url("/rooms"), &[("your_name", " ")])?;
    assert_eq!(nameless.status, 400);
    assert!(nameless.body.contains("role=\"alert\""));

    // Assets: versioned, immutable.
    let room = get(&server.url(&format!("/r/{code}")), Some(&cookie))?;
    assert!(room.body.contains("data-card=\"XL\""));
    // An unnamed room is titled by its code, in the page's language.
    assert!(
        room.body
            .contains(&format!("<title>Room {code} · Planning Poker</title>")),
        "{}",
        room.body
    );
    assert!(room.body.contains(&format!("<h1>Room {code}")));
    let french = get(&server.url(&format!("/r/{code}?lang=fr")), Some(&cookie))?;
    assert!(
        french
            .body
            .contains(&format!("<title>Salle {code} · Planning Poker</title>"))
    );
    // The skip link goes to the cards.
    assert!(room.body.contains("<a class=\"skip\" href=\"#hand\""));
    let css = room
        .body
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.ends_with(".css")))
        .unwrap_or_default()
        .to_string();
    let asset = get(&server.url(&css), None)?;
    assert_eq!(asset.status, 200, "{css}");
    assert!(asset.cache_control.contains("immutable"));
    assert!(asset.content_type.starts_with("text/css"));
    Ok(())
}
