//! PocketBase's realtime API over Server-Sent Events, and the dispatcher that
//! turns committed record changes into per-subscriber events.
//!
//! `GET /api/realtime` opens the stream and sends `PB_CONNECT` with the client
//! id; `POST /api/realtime` sets the client's subscriptions and binds the auth of
//! that request to it. Every committed change is checked, per subscriber, against
//! the collection's listRule (`COLLECTION/*`) or viewRule (`COLLECTION/ID`) with
//! that subscriber's auth — an unauthorised subscriber never learns of the event.
//! Subscribers with the same auth and subscription form a group: the check and the
//! rendering happen once per group, and the bytes are shared.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value, json};

use super::SseClient;
use super::subscription::{self, Subscription};
use crate::auth::request::Auth;
use crate::core::Core;
use crate::error::ApiError;
use crate::hooks::RecordChange;
use crate::query::Access;
use crate::records::read::{self, ReadCtx, Where};
use crate::records::{rules, value, write};
use crate::schema::{Collection, FieldKind, quote_ident};

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

/// The broker topic of a collection's record events.
fn records_topic(collection_id: &str) -> String {
    format!("records:{collection_id}")
}

fn sse_event(id: Option<&str>, name: &str, data: &str) -> Bytes {
    let mut out = String::with_capacity(name.len() + data.len() + 64);
    if let Some(id) = id {
        out.push_str("id:");
        out.push_str(id);
        out.push('\n');
    }
    out.push_str("event:");
    out.push_str(name);
    out.push_str("\ndata:");
    out.push_str(data);
    out.push_str("\n\n");
    Bytes::from(out)
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
            ip: crate::proxy::client_ip_of(&core, &req),
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
        rx: tokio::sync::mpsc::Receiver<Bytes>,
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
    if client.ip != crate::proxy::client_ip_of(&core, &req) {
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

/// Starts the dispatcher: committed changes arrive from the writer, in commit
/// order, and are delivered one after another.
pub fn start(core: web::Data<Core>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<RecordChange>>();
    core.db.set_commit_sink(Arc::new(move |events| {
        let changes: Vec<RecordChange> = events
            .into_iter()
            .filter_map(|e| e.downcast::<RecordChange>().ok().map(|b| *b))
            .collect();
        if !changes.is_empty() {
            let _ = tx.send(changes);
        }
    }));
    actix_web::rt::spawn(async move {
        while let Some(changes) = rx.recv().await {
            for change in changes {
                if let Err(err) = dispatch(&core, &change).await {
                    tracing::error!(error = %err, "realtime dispatch failed");
                }
            }
        }
    });
}

/// Subscribers sharing an identity and a subscription: one check, one render.
struct Group {
    auth: Auth,
    sub: Subscription,
    clients: Vec<String>,
}

async fn dispatch(core: &web::Data<Core>, change: &RecordChange) -> Result<(), ApiError> {
    let c = &change.collection;
    let ids = core.realtime.broker.subscribers(&records_topic(&c.id));
    if ids.is_empty() {
        return Ok(());
    }
    let record_id = change
        .record
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Grouped under one read lock, borrowing keys: no per-subscriber allocation
    // but the id that the send needs.
    let groups: Vec<Group> = core.realtime.with_clients(|clients| {
        let mut groups: HashMap<(&str, &str, &str), Group> = HashMap::new();
        for id in &ids {
            let Some(client) = clients.get(id) else {
                continue;
            };
            let identity = client
                .auth
                .record()
                .map_or(("", ""), |r| (r.collection_id.as_str(), r.id.as_str()));
            for sub in &client.subscriptions {
                let matches_collection = sub.collection == c.name || sub.collection == c.id;
                let matches_record = sub.record.as_deref().is_none_or(|r| r == record_id);
                if !(matches_collection && matches_record) {
                    continue;
                }
                groups
                    .entry((identity.0, identity.1, sub.raw.as_str()))
                    .or_insert_with(|| Group {
                        auth: client.auth.clone(),
                        sub: sub.clone(),
                        clients: Vec::new(),
                    })
                    .clients
                    .push(id.clone());
            }
        }
        groups.into_values().collect()
    });
    for group in groups {
        match render_for(core, change, &group).await {
            Ok(Some(bytes)) => {
                for client in &group.clients {
                    core.realtime.broker.send(client, bytes.clone());
                }
            }
            Ok(None) => {}
            // A subscription with a bad filter silently gets nothing (as in
            // PocketBase); the other groups are unaffected.
            Err(err) => {
                tracing::debug!(subscription = %group.sub.raw, error = %err, "event not delivered")
            }
        }
    }
    Ok(())
}

/// The event as this group may see it, or `None` if its rules hide it.
async fn render_for(
    core: &web::Data<Core>,
    change: &RecordChange,
    group: &Group,
) -> Result<Option<Bytes>, ApiError> {
    let c = change.collection.clone();
    let superuser = group.auth.is_superuser();
    let rule = if group.sub.record.is_some() {
        c.view_rule.clone()
    } else {
        c.list_rule.clone()
    };
    if rule.is_none() && !superuser {
        return Ok(None);
    }
    let rule = if superuser {
        String::new()
    } else {
        rule.unwrap_or_default()
    };
    let filter = group.sub.option("filter").to_string();
    let expand = group.sub.option("expand").to_string();
    let fields = group.sub.option("fields").to_string();
    let mut info = rules::request_info(
        &group.auth,
        "GET",
        group.sub.query.clone(),
        group.sub.headers.clone(),
        Map::new(),
    );
    info.context = "realtime".into();
    let record = write::visible(&c, change.record.clone(), superuser, info.auth.as_ref());
    let needs_db = !rule.trim().is_empty() || !filter.is_empty() || !expand.trim().is_empty();
    let shaped = if needs_db {
        let schema = core.schema.current();
        let snapshot = change.record.clone();
        core.db
            .read(move |conn| {
                let ctx = ReadCtx {
                    schema: &schema,
                    req: &info,
                    superuser,
                };
                if !snapshot_matches(conn, &ctx, &c, &snapshot, &rule, &filter)? {
                    return Ok::<_, ApiError>(None);
                }
                let mut items = [record];
                read::finish(conn, &ctx, &c, &mut items, &expand, &fields)?;
                let [one] = items;
                Ok(Some(one))
            })
            .await?
    } else {
        let mut items = [record];
        if let Some(p) = crate::records::projection::Projection::parse(&fields) {
            p.apply(&mut items[0]);
        }
        let [one] = items;
        Some(one)
    };
    Ok(shaped.map(|record| {
        // PocketBase's key order: the record, then the action.
        let data = format!(
            "{{\"record\":{},\"action\":\"{}\"}}",
            Value::Object(record),
            change.action.as_str()
        );
        sse_event(None, &group.sub.raw, &data)
    }))
}

/// Whether the record as it was committed (it may be deleted by now) passes
/// `rule` and `filter`: they run against a one-row table made of its values.
fn snapshot_matches(
    conn: &rusqlite::Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    snapshot: &Map<String, Value>,
    rule: &str,
    filter: &str,
) -> Result<bool, ApiError> {
    let mut columns = Vec::new();
    let mut params = Vec::new();
    for f in c
        .fields
        .iter()
        .filter(|f| !matches!(f.kind, FieldKind::Password { .. }))
    {
        columns.push(format!("? AS {}", quote_ident(&f.name)));
        params.push(match snapshot.get(&f.name) {
            Some(v) => value::to_sql(f, v),
            None => SqlValue::Null,
        });
    }
    let mut w = Where::default();
    // A subscriber's own filter is held to the rules of what it reaches, even a
    // superuser's (as in PocketBase); a blank one, or what only superusers may
    // write, gets nothing.
    let refused = filter.trim().is_empty()
        || (!ctx.superuser && rules::superuser_only_token(filter).is_some());
    if !filter.is_empty() && refused {
        return Ok(false);
    }
    for (text, access) in [(rule, Access::Full), (filter, Access::Client)] {
        if !text.trim().is_empty() {
            let compiled = rules::compile(ctx.schema.query_view(), c, text, ctx.req, access)
                .map_err(|e| ApiError::bad_request(format!("Invalid filter: {e}.")))?;
            w.push(compiled.sql, compiled.params);
        }
    }
    params.extend(w.params.iter().cloned());
    let sql = format!(
        "SELECT 1 FROM (SELECT {}) AS t{}",
        columns.join(", "),
        w.sql()
    );
    Ok(conn
        .prepare_cached(&sql)?
        .exists(rusqlite::params_from_iter(params.iter()))?)
}
