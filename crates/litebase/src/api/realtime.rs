//! PocketBase's realtime API over Server-Sent Events: the stream and the
//! subscriptions (events come from [`crate::realtime::dispatch`]).
//!
//! `GET /api/realtime` opens the stream and sends `PB_CONNECT` with the client
//! id; `POST /api/realtime` sets the client's subscriptions and binds the auth of
//! that request to it. Every committed change is checked, per subscriber, against
//! the collection's listRule (`COLLECTION/*`) or viewRule (`COLLECTION/ID`) with
//! that subscriber's auth — an unauthorised subscriber never learns of the event.
//! Subscribers with the same auth and subscription form a group: the check and the
//! rendering happen once per group, and the bytes are shared.

use std::collections::HashSet;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use serde_json::{Map, Value, json};

use crate::auth::request::Auth;
use crate::core::Core;
use crate::error::ApiError;
use crate::realtime::subscription::{self, Subscription};
use crate::realtime::{SseClient, records_topic, sse_event};
use crate::schema::quote_ident;

/// A client that receives nothing for this long is disconnected (PocketBase's
/// idle timeout); the SDK reconnects and resubscribes by itself.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// How often an idle stream gets a comment line: writing is the only way to notice
/// a client that went away, so its id is freed within seconds.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// Most subscriptions one client may hold.
pub const MAX_SUBSCRIPTIONS: usize = 1000;

/// Mounts `/api/realtime`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/realtime", web::get().to(connect))
        .route("/api/realtime", web::post().to(subscribe));
}

/// Unregisters the client when its response stream is dropped (disconnect,
/// eviction, idle timeout or shutdown).
struct ClientGuard {
    core: web::Data<Core>,
    id: String,
}

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.core.realtime.remove_client(&self.id);
    }
}

async fn connect(core: web::Data<Core>, req: HttpRequest) -> HttpResponse {
    let (id, rx) = core.realtime.broker.register("sse");
    core.realtime.put_client(
        &id,
        SseClient {
            ip: core.client_ip(&req),
            ..SseClient::default()
        },
    );
    // Every event of this stream carries the client id, as PocketBase's do; the
    // shared event bytes stay shared, the id line is this stream's own.
    let id_line = Bytes::from(format!("id:{id}\n"));
    let hello = sse_event(None, "PB_CONNECT", &json!({"clientId": id}).to_string());
    let guard = ClientGuard {
        core: core.clone(),
        id,
    };
    let ping = Bytes::from_static(b":\n\n");
    struct State {
        rx: crate::realtime::queue::Receiver<Bytes>,
        pending: Option<Bytes>,
        idle: Duration,
        _guard: ClientGuard,
    }
    let state = State {
        rx,
        pending: None,
        idle: Duration::ZERO,
        _guard: guard,
    };
    let events = stream::unfold((state, id_line.clone()), move |(mut st, id_line)| {
        let ping = ping.clone();
        async move {
            if let Some(body) = st.pending.take() {
                return Some((Ok::<_, actix_web::Error>(body), (st, id_line)));
            }
            match tokio::time::timeout(HEARTBEAT, st.rx.recv()).await {
                Ok(Some(bytes)) => {
                    st.idle = Duration::ZERO;
                    st.pending = Some(bytes);
                    Some((Ok(id_line.clone()), (st, id_line)))
                }
                Ok(None) => None,
                Err(_) => {
                    st.idle += HEARTBEAT;
                    if st.idle >= IDLE_TIMEOUT {
                        return None;
                    }
                    Some((Ok(ping), (st, id_line)))
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream::iter([Ok(id_line), Ok(hello)]).chain(events))
}

/// Whether the record a client signed in as still exists (a deleted one leaves
/// the connection a guest's).
async fn still_exists(core: &Core, auth: &Auth) -> bool {
    let Some(r) = auth.record().cloned() else {
        return false;
    };
    let Some(c) = core.schema.current().get(&r.collection_id).cloned() else {
        return false;
    };
    core.db
        .read(move |conn| {
            let sql = format!("SELECT 1 FROM {} WHERE id = ?1", quote_ident(&c.name));
            Ok::<_, ApiError>(conn.prepare_cached(&sql)?.exists([&r.id])?)
        })
        .await
        .unwrap_or(false)
}

fn one(key: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(key.into(), value);
    m
}

fn same_identity(a: &Auth, b: &Auth) -> bool {
    match (a.record(), b.record()) {
        (None, None) => true,
        (Some(x), Some(y)) => x.id == y.id && x.collection_id == y.collection_id,
        _ => false,
    }
}

async fn subscribe(
    core: web::Data<Core>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body =
        crate::api::body::read_object(req.headers(), payload, core.config.serve.body_limit).await?;
    let id = body
        .get("clientId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if id.is_empty() {
        let mut data = Map::new();
        data.insert(
            "clientId".into(),
            json!({"code": "validation_required", "message": "Cannot be blank."}),
        );
        return Err(ApiError::generic_bad_request().with_data(data));
    }
    if id.len() > 255 {
        return Err(ApiError::generic_bad_request().with_data(one(
            "clientId",
            json!({"code": "validation_length_out_of_range", "message": "The length must be between 1 and 255."}),
        )));
    }
    let raw: Vec<String> = match body.get("subscriptions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => return Err(ApiError::generic_bad_request()),
    };
    if raw.len() > MAX_SUBSCRIPTIONS {
        return Err(ApiError::generic_bad_request().with_data(one(
            "subscriptions",
            json!({"code": "validation_length_too_long", "message": format!("At most {MAX_SUBSCRIPTIONS} subscriptions.")}),
        )));
    }
    if let Some(i) = raw.iter().position(|s| s.len() > subscription::MAX_LEN) {
        let mut per = Map::new();
        per.insert(
            i.to_string(),
            json!({"code": "validation_length_too_long", "message": format!("The length must be no more than {}.", subscription::MAX_LEN)}),
        );
        return Err(
            ApiError::generic_bad_request().with_data(one("subscriptions", Value::Object(per)))
        );
    }
    let mut client = core.realtime.client(&id).ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "Missing or invalid client id.",
        )
    })?;
    // Like PocketBase: only the stream's own address may set its subscriptions.
    if client.ip != core.client_ip(&req) {
        return Err(ApiError::bad_request("Invalid realtime client."));
    }
    if client.auth.record().is_some()
        && !same_identity(&client.auth, &auth)
        && still_exists(&core, &client.auth).await
    {
        return Err(ApiError::forbidden_with(
            "The current and the previous request authorization don't match.",
        ));
    }
    let schema = core.schema.current();
    let mut topics = HashSet::new();
    let mut subscriptions = Vec::new();
    for s in raw {
        match Subscription::parse(&s)
            .and_then(|sub| schema.get(&sub.collection).map(|c| (sub, c.id.clone())))
        {
            Some((sub, collection_id)) => {
                topics.insert(records_topic(&collection_id));
                subscriptions.push(sub);
            }
            None => {
                // A custom topic: apps publish to it through the broker.
                topics.insert(s.split('?').next().unwrap_or_default().to_string());
            }
        }
    }
    client.auth = auth;
    client.subscriptions = subscriptions;
    core.realtime.put_client(&id, client);
    if !core.realtime.broker.set_topics(&id, topics) {
        return Err(ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            "Missing or invalid client id.",
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}
