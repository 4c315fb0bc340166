//! Realtime across the nodes of a cluster, over NATS: every node publishes the
//! record changes it commits, and delivers the changes other nodes committed to
//! its own SSE subscribers.
//!
//! Each node keeps its own SQLite file, so a change made on another node cannot
//! be checked here against rules that read other rows (a relation, a
//! `@collection` lookup): this node does not have them, and a rule that reads
//! missing data can pass where it should not. Remote changes therefore go to
//! **superusers only**, who see every record anyway; everyone else subscribes on
//! the node that holds the collection, where every rule runs in full (in a
//! poker cluster that is the home node for shared collections). No way around a
//! rule is opened by the relay.
//!
//! The subject is `{prefix}.changes.{collection name}`; the payload is JSON
//! `{"node","action","collection","record"}` with the record's visible fields:
//! hidden fields (token hashes, `tokenKey`) and passwords never leave the node,
//! so a superuser sees them only on the node that holds the record. Collections are
//! matched by name, since each node created its own ids; a change of a
//! collection this node does not have is dropped. NATS is at-most-once: a change
//! published while a node is disconnected is not replayed (SSE clients resync by
//! reading, as after any reconnect).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::dispatch::{self, Dispatcher};
use crate::changes::{ChangeReceiver, Committed, Origin, RecordAction, RecordChange};
use crate::schema::{Collection, FieldKind};

/// Where the relay connects and which subjects it uses.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The NATS server(s), e.g. `nats://10.0.0.5:4222` (comma-separated for a
    /// NATS cluster; credentials may be in the URL).
    pub url: String,
    /// The first token of every subject: nodes of one cluster share it, another
    /// cluster on the same NATS uses its own.
    pub prefix: String,
}

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The prefix is not one NATS subject token.
    #[error("the NATS subject prefix {0:?} must be letters, digits, '-' or '_'")]
    BadPrefix(String),
    /// The client could not be set up (a malformed URL).
    #[error("NATS: {0}")]
    Connect(String),
}

/// One change on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    node: String,
    action: String,
    collection: String,
    record: Map<String, Value>,
}

/// What of a record goes on the wire: every field but the hidden ones and
/// passwords (which records never carry once stored, dropped here all the same).
fn wire_record(c: &Collection, record: &Map<String, Value>) -> Map<String, Value> {
    let mut out = record.clone();
    for f in &c.fields {
        if f.hidden || matches!(f.kind, FieldKind::Password { .. }) {
            out.remove(&f.name);
        }
    }
    out
}

/// The URL as it may be logged: without the credentials it may carry.
fn redacted(url: &str) -> String {
    url.split(',')
        .map(|one| match one.rsplit_once('@') {
            Some((head, host)) => match head.split_once("://") {
                Some((scheme, _)) => format!("{scheme}://…@{host}"),
                None => format!("…@{host}"),
            },
            None => one.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether `prefix` can start a subject (one token, no wildcards).
fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn action_of(text: &str) -> Option<RecordAction> {
    [
        RecordAction::Create,
        RecordAction::Update,
        RecordAction::Delete,
    ]
    .into_iter()
    .find(|a| a.as_str() == text)
}

/// Connects (retrying in the background while NATS is unreachable, so the node
/// starts either way) and runs the two directions: `changes` (this node's
/// commits) out, other nodes' changes in to `dispatcher`'s superusers.
pub async fn start(
    config: RelayConfig,
    dispatcher: Dispatcher,
    changes: ChangeReceiver,
) -> Result<(), RelayError> {
    if !valid_prefix(&config.prefix) {
        return Err(RelayError::BadPrefix(config.prefix));
    }
    let node = crate::id::random_string(16, b"abcdefghijklmnopqrstuvwxyz0123456789");
    let client = async_nats::ConnectOptions::new()
        .name(format!("litebase-{node}"))
        .retry_on_initial_connect()
        .connect(config.url.as_str())
        .await
        .map_err(|e| RelayError::Connect(e.to_string()))?;
    tracing::info!(url = %redacted(&config.url), node = %node, "realtime relay over NATS");
    let prefix = config.prefix;
    actix_web::rt::spawn(publish(
        client.clone(),
        prefix.clone(),
        node.clone(),
        changes,
    ));
    actix_web::rt::spawn(receive(client, prefix, node, dispatcher));
    Ok(())
}

/// This node's commits, in commit order, to the other nodes.
async fn publish(
    client: async_nats::Client,
    prefix: String,
    node: String,
    mut changes: ChangeReceiver,
) {
    let mut dropped: u64 = 0;
    while let Some(item) = changes.recv().await {
        let Committed::Changes(batch) = item else {
            continue;
        };
        // While NATS is unreachable, changes are dropped here rather than waiting
        // in the client's buffer and then in this unbounded stream: NATS core is
        // at-most-once anyway, and memory must not grow with an outage.
        if client.connection_state() != async_nats::connection::State::Connected {
            if dropped == 0 {
                tracing::warn!(
                    "relay: NATS unreachable; changes are not published until it is back"
                );
            }
            dropped += batch.len() as u64;
            continue;
        }
        if dropped > 0 {
            tracing::info!(dropped, "relay: NATS is back; changes published again");
            dropped = 0;
        }
        for change in batch.iter() {
            let c = &change.collection;
            let wire = Wire {
                node: node.clone(),
                action: change.action.as_str().to_string(),
                collection: c.name.clone(),
                record: wire_record(c, &change.record),
            };
            let payload = match serde_json::to_vec(&wire) {
                Ok(bytes) => Bytes::from(bytes),
                Err(err) => {
                    tracing::error!(error = %err, "relay: cannot encode a change");
                    continue;
                }
            };
            let subject = format!("{prefix}.changes.{}", c.name);
            if let Err(err) = client.publish(subject, payload).await {
                tracing::warn!(error = %err, "relay: change not published");
            }
        }
    }
}

/// Other nodes' changes, to this node's superuser subscribers.
async fn receive(client: async_nats::Client, prefix: String, node: String, core: Dispatcher) {
    let mut subscriber = match client.subscribe(format!("{prefix}.changes.>")).await {
        Ok(s) => s,
        Err(err) => {
            tracing::error!(error = %err, "relay: cannot subscribe; remote changes will not be seen");
            return;
        }
    };
    while let Some(message) = subscriber.next().await {
        let Some(change) = decode(&message.payload, &node, &core) else {
            continue;
        };
        if let Err(err) = dispatch::dispatch_remote(&core, &change).await {
            tracing::error!(error = %err, "relay: dispatch of a remote change failed");
        }
    }
}

/// A remote change as this node's dispatcher takes it; `None` for our own
/// messages, garbage, and collections this node does not have.
fn decode(payload: &[u8], own_node: &str, core: &Dispatcher) -> Option<RecordChange> {
    let wire: Wire = match serde_json::from_slice(payload) {
        Ok(w) => w,
        Err(err) => {
            tracing::debug!(error = %err, "relay: unreadable message dropped");
            return None;
        }
    };
    if wire.node == own_node {
        return None;
    }
    let action = action_of(&wire.action)?;
    let collection: Arc<_> = core.schema.current().get(&wire.collection)?.clone();
    if collection.name != wire.collection {
        return None; // matched an id, not the name
    }
    Some(RecordChange {
        action,
        collection,
        record: wire.record,
        origin: Origin::Request,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_one_subject_token() {
        for good in ["litebase", "poker-prod", "a_1"] {
            assert!(valid_prefix(good), "{good}");
        }
        for bad in ["", "a.b", "a*", ">", "a b", "é"] {
            assert!(!valid_prefix(bad), "{bad:?}");
        }
    }

    #[test]
    fn credentials_are_not_logged() {
        assert_eq!(
            redacted("nats://user:secret@10.0.0.5:4222"),
            "nats://…@10.0.0.5:4222"
        );
        assert_eq!(
            redacted("nats://a:b@h1:4222,tls://t0ken@h2:4222"),
            "nats://…@h1:4222,tls://…@h2:4222"
        );
        assert_eq!(redacted("nats://h:4222"), "nats://h:4222");
        assert_eq!(redacted("u:p@h:4222"), "…@h:4222");
    }

    #[test]
    fn actions_round_trip() {
        for a in [
            RecordAction::Create,
            RecordAction::Update,
            RecordAction::Delete,
        ] {
            assert_eq!(action_of(a.as_str()), Some(a));
        }
        assert_eq!(action_of("drop"), None);
    }
}
