//! The record hook that queues webhook deliveries inside the write's own
//! transaction: the delivery row commits with the change or not at all.

use std::sync::Arc;

use rusqlite::params;
use serde_json::{Map, Value, json};

use super::Registry;
use crate::changes::RecordAction;
use crate::hooks::{Hooks, RecordEvent};

/// Adds the hooks (one per action, every collection) that write a pending
/// delivery for each enabled webhook that wants the change. They go last in
/// the chain, so the record they report is the one written.
pub fn register(hooks: &mut Hooks, registry: Arc<Registry>) {
    for action in super::store::ACTIONS {
        let registry = registry.clone();
        hooks.on(action, None, move |e, next| {
            next.run(e)?;
            queue(&registry, e).map_err(|err| {
                tracing::error!(error = %err, "cannot queue a webhook delivery");
                crate::error::ApiError::internal()
            })
        });
    }
}

fn queue(registry: &Registry, e: &RecordEvent<'_>) -> rusqlite::Result<()> {
    let targets = registry.matching(e.action, &e.collection.id);
    if targets.is_empty() {
        return Ok(());
    }
    let payload = payload(e.action, e).to_string();
    let record_id = e
        .record
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let stamp = crate::query::format_datetime(time::OffsetDateTime::now_utc());
    let mut insert = e.conn.prepare_cached(
        "INSERT INTO _webhookDeliveries (id, webhook, action, record, payload, status,
           attempts, nextAttempt, created, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, 0, ?6, ?6)",
    )?;
    for w in targets {
        insert.execute(params![
            crate::id::new_id(),
            w.id,
            e.action.as_str(),
            record_id,
            payload,
            stamp
        ])?;
    }
    Ok(())
}

/// PocketBase's realtime event shape: `{"action", "record"}`, the record as a
/// manager would read it (no hidden fields, no password; the email kept) with
/// `collectionId` and `collectionName` first.
fn payload(action: RecordAction, e: &RecordEvent<'_>) -> Value {
    let mut record = Map::new();
    record.insert("collectionId".into(), json!(e.collection.id));
    record.insert("collectionName".into(), json!(e.collection.name));
    let visible = crate::records::write::visible(e.collection, e.record.clone(), false, None, true);
    for (k, v) in visible {
        if k != "collectionId" && k != "collectionName" {
            record.insert(k, v);
        }
    }
    json!({"action": action.as_str(), "record": record})
}
