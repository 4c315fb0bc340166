//! The dispatcher: follows the commit stream and turns each committed record
//! change into per-subscriber SSE events. Every change is checked, per
//! subscriber, against the collection's listRule (`COLLECTION/*`) or viewRule
//! (`COLLECTION/ID`) with that subscriber's auth — an unauthorised subscriber
//! never learns of the event. Subscribers with the same auth and subscription
//! form a group: the check and the rendering happen once per group, and the
//! bytes are shared.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::subscription::Subscription;
use super::{Realtime, records_topic, sse_event};
use crate::auth::request::Auth;
use crate::changes::{ChangeReceiver, Committed, RecordChange};
use crate::db::Db;
use crate::error::ApiError;
use crate::query::Access;
use crate::records::read::{self, ReadCtx, Where};
use crate::records::{rules, value, write};
use crate::schema::{Collection, FieldKind, SchemaCache, quote_ident};

/// What the dispatcher reads: the subscribers, and the database and schema to
/// check rules against.
#[derive(Clone)]
pub struct Dispatcher {
    /// The subscribers and their queues.
    pub realtime: Arc<Realtime>,
    /// For rule checks and expands.
    pub db: Db,
    /// The collections in force.
    pub schema: Arc<SchemaCache>,
}

/// Starts the dispatcher: it follows the commit stream, so committed changes
/// arrive in commit order, and delivers them one after another.
pub fn start(core: Dispatcher, mut changes: ChangeReceiver) {
    actix_web::rt::spawn(async move {
        while let Some(item) = changes.recv().await {
            let batch = match item {
                Committed::Changes(batch) => batch,
                // Every SSE client was disconnected by the restore itself; they
                // come back and read afresh.
                Committed::Restored => continue,
            };
            for change in batch.iter() {
                if let Err(err) = dispatch(&core, change, Audience::Everyone).await {
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

/// Who may receive a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Every subscriber the rules let see it (a change committed here).
    Everyone,
    /// Superusers only: a change another node committed, whose rules this node
    /// cannot check in full (see [`super::relay`]).
    Superusers,
}

/// Delivers a change another node of the cluster committed: to superuser
/// subscribers only.
pub(crate) async fn dispatch_remote(
    core: &Dispatcher,
    change: &RecordChange,
) -> Result<(), ApiError> {
    dispatch(core, change, Audience::Superusers).await
}

async fn dispatch(
    core: &Dispatcher,
    change: &RecordChange,
    audience: Audience,
) -> Result<(), ApiError> {
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
            if audience == Audience::Superusers && !client.auth.is_superuser() {
                continue;
            }
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
    core: &Dispatcher,
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
    let manage_rule =
        (!superuser && c.kind == crate::schema::CollectionType::Auth && info.auth.is_some())
            .then(|| c.auth.as_ref().and_then(|a| a.manage_rule.clone()))
            .flatten()
            .filter(|r| !r.trim().is_empty());
    let needs_db = !rule.trim().is_empty()
        || !filter.is_empty()
        || !expand.trim().is_empty()
        || manage_rule.is_some();
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
                // A manager of this auth record (its `manageRule`) sees its email.
                let managed = match &manage_rule {
                    Some(manage) => snapshot_matches(conn, &ctx, &c, &snapshot, manage, "")?,
                    None => false,
                };
                let record = write::visible(&c, snapshot, superuser, info.auth.as_ref(), managed);
                let mut items = [record];
                read::finish(conn, &ctx, &c, &mut items, &expand, &fields)?;
                let [one] = items;
                Ok(Some(one))
            })
            .await?
    } else {
        let record = write::visible(
            &c,
            change.record.clone(),
            superuser,
            info.auth.as_ref(),
            false,
        );
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
