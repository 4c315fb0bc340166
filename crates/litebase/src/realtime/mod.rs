//! Realtime: the transport-agnostic [`broker`], the clients of PocketBase's SSE
//! API (`api/realtime.rs` serves it) and the [`dispatch`]er that turns the commit
//! stream into per-subscriber events.

pub mod broker;
pub mod dispatch;
pub mod queue;
pub mod relay;
pub mod subscription;

use std::collections::HashMap;
use std::sync::RwLock;

use bytes::Bytes;

use crate::auth::request::Auth;
use broker::{Broker, ClientId};
use subscription::Subscription;

/// The broker topic of a collection's record events.
pub fn records_topic(collection_id: &str) -> String {
    format!("records:{collection_id}")
}

/// One Server-Sent Events frame: `id:` (if any), `event:` and `data:` lines.
pub fn sse_event(id: Option<&str>, name: &str, data: &str) -> Bytes {
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

/// How many messages may wait for one subscriber before it counts as slow.
pub const DEFAULT_QUEUE: usize = 256;

/// What the SSE API knows about one connected client.
#[derive(Debug, Clone, Default)]
pub struct SseClient {
    /// Who subscribed (bound by the subscribing request).
    pub auth: Auth,
    /// What it listens to.
    pub subscriptions: Vec<Subscription>,
    /// The address the stream came from; subscriptions must come from it too.
    pub ip: Option<std::net::IpAddr>,
}

/// The broker plus the SSE clients' auth and subscriptions.
pub struct Realtime {
    /// Queues and topics.
    pub broker: Broker,
    clients: RwLock<HashMap<ClientId, SseClient>>,
}

impl Realtime {
    /// Realtime with `queue` messages of room per subscriber.
    pub fn new(queue: usize) -> Self {
        Realtime {
            broker: Broker::new(queue),
            clients: RwLock::default(),
        }
    }

    fn clients_mut(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ClientId, SseClient>> {
        self.clients
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A client's state, if connected.
    pub fn client(&self, id: &str) -> Option<SseClient> {
        self.clients
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Runs `f` over every client's state under one read lock (for fan-out).
    pub fn with_clients<T>(&self, f: impl FnOnce(&HashMap<ClientId, SseClient>) -> T) -> T {
        f(&self
            .clients
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Adds (or replaces) a client's state.
    pub fn put_client(&self, id: &str, client: SseClient) {
        self.clients_mut().insert(id.to_string(), client);
    }

    /// Disconnects every client (at shutdown, so open streams do not hold up the
    /// graceful stop; clients reconnect to the next instance).
    pub fn close_all(&self) {
        let ids: Vec<ClientId> = self.clients_mut().drain().map(|(id, _)| id).collect();
        for id in ids {
            self.broker.unregister(&id);
        }
    }

    /// Forgets a client everywhere.
    pub fn remove_client(&self, id: &str) {
        self.clients_mut().remove(id);
        self.broker.unregister(id);
    }
}
