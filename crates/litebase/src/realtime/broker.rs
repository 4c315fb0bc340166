//! SSE's subscriber registry: string topics, one bounded [`super::queue`] per
//! subscriber (the queue poker's WebSocket rooms use too), publishing that never
//! waits.
//!
//! A message is serialised once into [`Bytes`]; every subscriber gets a clone (a
//! reference count bump). A subscriber whose queue is full is a slow client: it is
//! evicted (its queue closed, so its transport ends the connection) and counted,
//! and nobody else is affected. Topics and clients live in separate shards, so
//! publishers on unrelated topics never contend on one lock.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::queue::{self, SendError};

/// A subscriber's id (PocketBase's `clientId`).
pub type ClientId = String;

const SHARDS: usize = 32;

/// Running totals, for `/api/metrics`.
#[derive(Debug, Default)]
pub struct BrokerStats {
    /// Messages handed to `publish`/`send`.
    pub published: AtomicU64,
    /// Copies queued for a subscriber.
    pub delivered: AtomicU64,
    /// Copies not queued because the subscriber's queue was full.
    pub dropped: AtomicU64,
    /// Subscribers evicted for being slow.
    pub evictions: AtomicU64,
    /// The deepest any queue has been when a message was added.
    pub queue_high_water: AtomicU64,
}

struct Client {
    tx: queue::Sender<Bytes>,
    topics: HashSet<String>,
    transport: &'static str,
}

/// Topics, subscribers and their queues.
pub struct Broker {
    capacity: usize,
    clients: Vec<RwLock<HashMap<ClientId, Client>>>,
    topics: Vec<RwLock<HashMap<String, HashSet<ClientId>>>>,
    hasher: std::collections::hash_map::RandomState,
    /// Counters for metrics.
    pub stats: BrokerStats,
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Broker {
    /// A broker whose subscribers may each have `capacity` messages waiting.
    pub fn new(capacity: usize) -> Self {
        Broker {
            capacity: capacity.max(1),
            clients: (0..SHARDS).map(|_| RwLock::default()).collect(),
            topics: (0..SHARDS).map(|_| RwLock::default()).collect(),
            hasher: Default::default(),
            stats: BrokerStats::default(),
        }
    }

    fn shard(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    /// Adds a subscriber; its messages arrive on the returned receiver, which
    /// closes when the subscriber is evicted or removed.
    pub fn register(&self, transport: &'static str) -> (ClientId, queue::Receiver<Bytes>) {
        let (tx, rx) = queue::channel(self.capacity);
        let id = crate::id::random_string(40, crate::id::ID_ALPHABET);
        write(&self.clients[self.shard(&id)]).insert(
            id.clone(),
            Client {
                tx,
                topics: HashSet::new(),
                transport,
            },
        );
        (id, rx)
    }

    /// Removes a subscriber and all its topics.
    pub fn unregister(&self, id: &str) {
        let removed = write(&self.clients[self.shard(id)]).remove(id);
        if let Some(client) = removed {
            for topic in client.topics {
                self.unindex(&topic, id);
            }
        }
    }

    fn unindex(&self, topic: &str, id: &str) {
        let mut shard = write(&self.topics[self.shard(topic)]);
        if let Some(set) = shard.get_mut(topic) {
            set.remove(id);
            if set.is_empty() {
                shard.remove(topic);
            }
        }
    }

    /// Whether the subscriber exists.
    pub fn contains(&self, id: &str) -> bool {
        read(&self.clients[self.shard(id)]).contains_key(id)
    }

    /// Replaces the subscriber's topics; `false` if it does not exist.
    pub fn set_topics(&self, id: &str, topics: HashSet<String>) -> bool {
        let old = {
            let mut shard = write(&self.clients[self.shard(id)]);
            let Some(client) = shard.get_mut(id) else {
                return false;
            };
            std::mem::replace(&mut client.topics, topics.clone())
        };
        for topic in old.difference(&topics) {
            self.unindex(topic, id);
        }
        for topic in topics.difference(&old) {
            write(&self.topics[self.shard(topic)])
                .entry(topic.clone())
                .or_default()
                .insert(id.to_string());
        }
        true
    }

    /// Removes `topic` from the subscriber's topics; whether it had it (a
    /// one-shot subscription, like the OAuth2 popup flow's, is used up here).
    pub fn take_topic(&self, id: &str, topic: &str) -> bool {
        let had = {
            let mut shard = write(&self.clients[self.shard(id)]);
            shard
                .get_mut(id)
                .is_some_and(|client| client.topics.remove(topic))
        };
        if had {
            self.unindex(topic, id);
        }
        had
    }

    /// Whether anyone subscribed to `topic`.
    pub fn has_subscribers(&self, topic: &str) -> bool {
        read(&self.topics[self.shard(topic)]).contains_key(topic)
    }

    /// The subscribers of `topic`.
    pub fn subscribers(&self, topic: &str) -> Vec<ClientId> {
        read(&self.topics[self.shard(topic)])
            .get(topic)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Queues `message` for one subscriber without waiting; a full queue evicts
    /// it. Returns whether it was queued.
    pub fn send(&self, id: &str, message: Bytes) -> bool {
        self.stats.published.fetch_add(1, Ordering::Relaxed);
        self.deliver(id, message)
    }

    fn deliver(&self, id: &str, message: Bytes) -> bool {
        let outcome = {
            let shard = read(&self.clients[self.shard(id)]);
            let Some(client) = shard.get(id) else {
                return false;
            };
            let result = client.tx.try_send(message);
            let depth = client.tx.len() as u64;
            self.stats
                .queue_high_water
                .fetch_max(depth, Ordering::Relaxed);
            result
        };
        match outcome {
            Ok(()) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(SendError::Full) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                self.stats.evictions.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    client = id,
                    "slow realtime client evicted: its queue is full"
                );
                self.unregister(id);
                false
            }
            Err(SendError::Closed) => {
                self.unregister(id);
                false
            }
        }
    }

    /// Queues `message` (serialised once) for every subscriber of `topic`; returns
    /// how many got it.
    pub fn publish(&self, topic: &str, message: Bytes) -> usize {
        self.stats.published.fetch_add(1, Ordering::Relaxed);
        self.subscribers(topic)
            .iter()
            .filter(|id| self.deliver(id, message.clone()))
            .count()
    }

    /// Open subscribers per transport, and subscriptions in total.
    pub fn counts(&self) -> (HashMap<&'static str, usize>, usize) {
        let mut per = HashMap::new();
        let mut subscriptions = 0;
        for shard in &self.clients {
            for client in read(shard).values() {
                *per.entry(client.transport).or_insert(0) += 1;
                subscriptions += client.topics.len();
            }
        }
        (per, subscriptions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publishes_to_subscribers_of_the_topic_only() {
        let b = Broker::new(8);
        let (a, mut ra) = b.register("sse");
        let (c, mut rc) = b.register("sse");
        assert!(b.set_topics(&a, ["t1".to_string()].into()));
        assert!(b.set_topics(&c, ["t2".to_string()].into()));
        assert_eq!(b.publish("t1", Bytes::from_static(b"hi")), 1);
        assert_eq!(ra.recv().await, Some(Bytes::from_static(b"hi")));
        assert!(rc.try_recv().is_none());
        b.set_topics(&a, HashSet::new());
        assert_eq!(b.publish("t1", Bytes::from_static(b"x")), 0);
        assert!(!b.set_topics("nobody", HashSet::new()));
    }

    #[tokio::test]
    async fn a_full_queue_evicts_only_that_subscriber() {
        let b = Broker::new(2);
        let (slow, mut slow_rx) = b.register("sse");
        let (fast, mut fast_rx) = b.register("sse");
        b.set_topics(&slow, ["t".to_string()].into());
        b.set_topics(&fast, ["t".to_string()].into());
        for i in 0..5u8 {
            b.publish("t", Bytes::from(vec![i]));
            // The fast one reads as it goes.
            assert_eq!(fast_rx.recv().await, Some(Bytes::from(vec![i])));
        }
        assert!(!b.contains(&slow), "the slow subscriber is gone");
        assert!(b.contains(&fast));
        assert_eq!(b.stats.evictions.load(Ordering::Relaxed), 1);
        // The slow one gets what was queued, then its stream ends.
        assert_eq!(slow_rx.recv().await, Some(Bytes::from(vec![0])));
        assert_eq!(slow_rx.recv().await, Some(Bytes::from(vec![1])));
        assert_eq!(slow_rx.recv().await, None);
        assert_eq!(b.counts().0.get("sse"), Some(&1));
    }
}
