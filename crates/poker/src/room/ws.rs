//! HTTP and WebSocket glue for rooms: `POST /api/poker/rooms` creates a room,
//! `GET /ws/rooms/{code}` is a player's live connection.
//!
//! A session parses client frames, enforces the size and rate limits, answers a
//! malformed frame with an error frame (the connection stays open), forwards
//! actions to the room's [hub](super::hub), and writes the frames the hub queues
//! in its bounded outbox. A ping every few seconds keeps the connection honest: a
//! client silent for too long is closed, and so is one that stops reading (a
//! write that cannot complete within [`WRITE_TIMEOUT`] ends the session).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;

use bytestring::ByteString;

use super::capacity::{Capacity, Slot};
use super::hub::{Format, HubMsg, Hubs, OUTBOX_CAPACITY, Refusal, error_frame};
use super::outbox::{Outbox, outbox};
use super::protocol::{self, ClientMsg};
use super::store::{self, RoomSetup, StoreError};
use super::{DeckSpec, Role};
use crate::i18n::{self, Lang};
use crate::pages::{cookie, seat_cookie_name};
use crate::render::Renderer;

/// Largest client message accepted, in bytes; a larger one closes the connection.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Messages a connection may send in a burst…
const RATE_BURST: f64 = 40.0;
/// …refilled at this many per second.
const RATE_PER_SEC: f64 = 20.0;
/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(10);
/// A client that sends nothing (not even a pong) for this long is closed.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that takes longer than this to accept one frame (every buffer
/// between us full) has stopped reading: its session ends.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Adds the room routes.
pub fn configure(cfg: &mut web::ServiceConfig, hubs: Arc<Hubs>, capacity: Arc<Capacity>) {
    cfg.app_data(web::Data::from(hubs))
        .app_data(web::Data::from(capacity))
        .route("/api/poker/rooms", web::post().to(create_room))
        .route("/ws/rooms/{code}", web::get().to(room_socket));
}

/// The body of `POST /api/poker/rooms`; an unknown field is refused (a typo
/// would otherwise be silently ignored).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRoom {
    name: Option<String>,
    deck: Option<CreateDeck>,
}

/// The `deck` of `POST /api/poker/rooms`: a [`DeckSpec`] that refuses unknown
/// fields (the stored form stays lenient).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateDeck {
    kind: super::deck::DeckKind,
    #[serde(default)]
    custom: Vec<String>,
    #[serde(default)]
    question: bool,
    #[serde(default)]
    coffee: bool,
    #[serde(default)]
    infinity: bool,
}

impl From<CreateDeck> for DeckSpec {
    fn from(d: CreateDeck) -> Self {
        DeckSpec {
            kind: d.kind,
            custom: d.custom,
            question: d.question,
            coffee: d.coffee,
            infinity: d.infinity,
        }
    }
}

fn json_error(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .json(serde_json::json!({"status": status.as_u16(), "message": message, "data": {}}))
}

async fn create_room(core: web::Data<litebase::core::Core>, body: web::Bytes) -> HttpResponse {
    use actix_web::http::StatusCode;
    let input: CreateRoom = if body.iter().all(u8::is_ascii_whitespace) {
        CreateRoom {
            name: None,
            deck: None,
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(input) => input,
            Err(e) => {
                return json_error(StatusCode::BAD_REQUEST, &format!("invalid JSON body: {e}"));
            }
        }
    };
    let setup = RoomSetup {
        name: input.name,
        deck: input.deck.map(DeckSpec::from).unwrap_or_default(),
        ..RoomSetup::default()
    };
    match store::create_room(&core.records, setup).await {
        Ok(room) => HttpResponse::Ok().json(serde_json::json!({
            "code": room.code,
            "hostToken": room.host_token,
            "participantId": room.participant_id,
        })),
        Err(StoreError::Room(e)) => json_error(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "cannot create a room");
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the room could not be created; try again",
            )
        }
    }
}

/// How a session talks: JSON with an explicit join, or HTML joined by cookie.
#[derive(Debug, Clone)]
enum Mode {
    Json,
    Html { lang: Lang, token: Option<String> },
}

/// The mode of an upgrade request: `?format=html` takes the seat cookie and the
/// language (`?lang=`, cookie, `Accept-Language`).
fn mode_of(req: &HttpRequest, code: &str) -> Mode {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    if query.get("format").map(String::as_str) != Some("html") {
        return Mode::Json;
    }
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = i18n::negotiate(
        query.get("lang").map(String::as_str),
        cookie(req, "lang").as_deref(),
        accept,
    );
    Mode::Html {
        lang,
        token: cookie(req, &seat_cookie_name(code)),
    }
}

async fn room_socket(
    req: HttpRequest,
    body: web::Payload,
    code: web::Path<String>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
    capacity: web::Data<Capacity>,
) -> Result<HttpResponse, actix_web::Error> {
    // Taken before the handshake, so a refusal costs no session and no task.
    let Some(slot) = capacity.into_inner().try_acquire() else {
        return Ok(HttpResponse::ServiceUnavailable()
            .insert_header((actix_web::http::header::RETRY_AFTER, "10"))
            .json(serde_json::json!({
                "status": 503,
                "message": "the server is at its WebSocket connection limit; try again in a few seconds",
                "data": {},
            })));
    };
    let code = code.into_inner();
    let mode = mode_of(&req, &code);
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let stream = stream
        .max_frame_size(MAX_MESSAGE_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE_BYTES);
    let hubs = hubs.into_inner();
    let renderer = renderer.into_inner();
    // The stream moves into the task: dropping it would close the socket.
    actix_web::rt::spawn(run_session(
        session, stream, code, core, hubs, mode, renderer, slot,
    ));
    Ok(response)
}

struct RateLimit {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * RATE_PER_SEC;
        self.tokens = (self.tokens + refill).min(RATE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// An error for this session: a JSON error frame, or a translated toast.
fn problem(mode: &Mode, renderer: &Renderer, english: &str, key: &'static str) -> String {
    match mode {
        Mode::Json => error_frame(english),
        Mode::Html { lang, .. } => renderer.toast(*lang, i18n::text(*lang, key)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_session(
    mut session: actix_ws::Session,
    mut stream: actix_ws::AggregatedMessageStream,
    code: String,
    core: web::Data<litebase::core::Core>,
    hubs: Arc<Hubs>,
    mode: Mode,
    renderer: Arc<Renderer>,
    // Held for the session's life: its place under the connection cap.
    _slot: Slot,
) {
    crate::metrics::ws_opened();
    let (out_tx, mut out_rx) = outbox(OUTBOX_CAPACITY);
    // Once joined, only the hub holds the sender: when it drops this connection
    // (too slow, removed, room closed) the outbox ends and the socket closes.
    let mut out_tx = Some(out_tx);
    let mut joined: Option<(mpsc::Sender<HubMsg>, u64)> = None;
    if let (Mode::Html { lang, token }, Some(tx)) = (&mode, &out_tx) {
        // The page's seat cookie joins; without a valid one there is nothing to show.
        let result = match token {
            Some(token) => {
                join(
                    &core,
                    &hubs,
                    &code,
                    String::new(),
                    Role::Voter,
                    Some(token.clone()),
                    Format::Html(*lang),
                    tx,
                )
                .await
            }
            None => Err(Refusal::BadToken),
        };
        match result {
            Ok(j) => {
                joined = Some(j);
                out_tx = None;
            }
            Err(refusal) => {
                let _ = session
                    .text(renderer.toast(*lang, &refusal.message(*lang)))
                    .await;
                crate::metrics::ws_message_out();
                crate::metrics::ws_closed();
                let _ = session
                    .close(Some(CloseReason {
                        code: CloseCode::Policy,
                        description: Some("no valid seat; open the room page to join".into()),
                    }))
                    .await;
                return;
            }
        }
    }
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut rate = RateLimit {
        tokens: RATE_BURST,
        at: Instant::now(),
    };
    let close: Option<CloseReason> = loop {
        tokio::select! {
            msg = stream.next() => {
                last_heard = Instant::now();
                if matches!(msg, Some(Ok(AggregatedMessage::Text(_) | AggregatedMessage::Binary(_)))) {
                    crate::metrics::ws_message_in();
                }
                let text = match msg {
                    Some(Ok(AggregatedMessage::Text(text))) => text,
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        if !write(&mut session, problem(&mode, &renderer, "binary frames are not supported; send JSON text", "invalid_message")).await {
                            break None;
                        }
                        continue;
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if !matches!(tokio::time::timeout(WRITE_TIMEOUT, session.pong(&bytes)).await, Ok(Ok(()))) {
                            break None;
                        }
                        continue;
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => continue,
                    Some(Ok(AggregatedMessage::Close(_))) | None => break None,
                    Some(Err(e)) => break Some(close_reason(&e)),
                };
                if !rate.allow() {
                    if !write(&mut session, problem(&mode, &renderer, "too many messages; slow down", "too_many")).await {
                        break None;
                    }
                    continue;
                }
                let reply = match protocol::parse(&text) {
                    Err(e) => Some(problem(&mode, &renderer, &e.to_string(), "invalid_message")),
                    Ok(ClientMsg::Join { name, role, token }) => match (&joined, &out_tx) {
                        (Some(_), _) | (None, None) => {
                            Some(problem(&mode, &renderer, "already joined", "invalid_message"))
                        }
                        (None, Some(tx)) => {
                            match join(&core, &hubs, &code, name, role.unwrap_or(Role::Voter), token, Format::Json, tx).await {
                                Ok(j) => {
                                    joined = Some(j);
                                    out_tx = None;
                                    None
                                }
                                Err(refusal) => Some(error_frame(&refusal.message(Lang::En))),
                            }
                        }
                    },
                    Ok(other) => match &joined {
                        None => Some(error_frame("join the room first: {\"type\":\"join\",\"name\":…}")),
                        Some((hub, conn)) => {
                            let msg = match other {
                                ClientMsg::Act(action) => HubMsg::Act { conn: *conn, action },
                                // The room's link in posted messages comes from litebase's meta.appURL.
                                ClientMsg::Webhook(request) => HubMsg::Webhook {
                                    conn: *conn,
                                    request,
                                    app_url: core.settings.get().meta.app_url.clone(),
                                },
                                ClientMsg::Join { .. } => continue,
                            };
                            if hub.send(msg).await.is_err() {
                                break Some(CloseReason { code: CloseCode::Restart, description: Some("the room closed; reconnect".into()) });
                            }
                            None
                        }
                    },
                };
                if let Some(frame) = reply {
                    if !write(&mut session, frame).await {
                        break None;
                    }
                }
            }
            out = out_rx.recv() => match out {
                Some(frame) => {
                    if !write(&mut session, frame).await {
                        break None;
                    }
                }
                None => break Some(CloseReason { code: CloseCode::Policy, description: Some("closed by the room (see the last message, or too slow); reconnect".into()) }),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > CLIENT_TIMEOUT {
                    break Some(CloseReason { code: CloseCode::Away, description: Some("no answer to pings".into()) });
                }
                if !matches!(tokio::time::timeout(WRITE_TIMEOUT, session.ping(b"")).await, Ok(Ok(()))) {
                    break None;
                }
            }
        }
    };
    if let Some((hub, conn)) = joined {
        let _ = hub.send(HubMsg::Disconnect { conn }).await;
    }
    // A client that stopped reading cannot take the close frame either; a
    // healthy socket queues it at once.
    let _ = tokio::time::timeout(Duration::from_secs(1), session.close(close)).await;
    crate::metrics::ws_closed();
}

/// Writes one text frame; `false` when the socket is closed or the client has
/// not taken it within [`WRITE_TIMEOUT`] (then the session ends, freeing its
/// task and buffers instead of waiting forever on a client that stopped reading).
async fn write(session: &mut actix_ws::Session, frame: impl Into<ByteString>) -> bool {
    match tokio::time::timeout(WRITE_TIMEOUT, session.text(frame)).await {
        Ok(Ok(())) => {
            crate::metrics::ws_message_out();
            true
        }
        Ok(Err(_)) => false,
        Err(_) => {
            tracing::info!("a client stopped reading; closing its session");
            false
        }
    }
}

/// The close frame for a frame the stream refused: too big (`1009`, with the
/// limit), text that is not UTF-8 (`1007`), or any other protocol breach (`1002`).
fn close_reason(error: &actix_ws::ProtocolError) -> CloseReason {
    use actix_ws::ProtocolError;
    let too_big = || CloseReason {
        code: CloseCode::Size,
        description: Some(format!(
            "message too big; messages are limited to {MAX_MESSAGE_BYTES} bytes"
        )),
    };
    match error {
        ProtocolError::Overflow => too_big(),
        ProtocolError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => CloseReason {
            code: CloseCode::Invalid,
            description: Some("text frames must be valid UTF-8".into()),
        },
        // The aggregator's only own error: fragments over the limit.
        ProtocolError::Io(e) if e.to_string().contains("continuation size") => too_big(),
        other => CloseReason {
            code: CloseCode::Protocol,
            description: Some(format!("{other}; send JSON text frames")),
        },
    }
}

#[allow(clippy::too_many_arguments)]
async fn join(
    core: &litebase::core::Core,
    hubs: &Arc<Hubs>,
    code: &str,
    name: String,
    role: Role,
    token: Option<String>,
    format: Format,
    outbox: &Outbox,
) -> Result<(mpsc::Sender<HubMsg>, u64), Refusal> {
    hubs.ask(&core.records, code, |reply| HubMsg::Connect {
        name: name.clone(),
        role,
        token: token.clone(),
        outbox: outbox.clone(),
        format,
        reply,
    })
    .await
}
