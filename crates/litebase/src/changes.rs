//! The commit stream: every committed record change, whoever made it (the API, the
//! admin UI, an app's own code, a batch), as one typed [`RecordChange`], delivered
//! in commit order to every subscriber — after-commit hooks, realtime, and whatever
//! an app subscribes.
//!
//! A restore (a backup copied over the live database) is one [`Committed::Restored`]
//! in the same stream.
//!
//! A write announces its changes inside its transaction (see
//! [`crate::db::events`]); the writer hands on those of the writes that committed,
//! once the COMMIT is done, and [`ChangeStream`] gives each subscriber its own
//! queue. Nothing calls an after-commit step by hand, so no path can forget it.
//!
//! ```
//! # async fn demo(db: litebase::Db) -> Result<(), litebase::db::DbError> {
//! let stream = litebase::changes::ChangeStream::attach(&db)?;
//! let mut changes = stream.subscribe();
//! # drop(changes.try_recv());
//! # Ok(()) }
//! ```

use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::db::{Db, DbError};
use crate::files::Released;
use crate::schema::Collection;

/// What happens to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordAction {
    /// A new record.
    Create,
    /// A changed record.
    Update,
    /// A removed record.
    Delete,
}

impl RecordAction {
    /// The name PocketBase uses in realtime events.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordAction::Create => "create",
            RecordAction::Update => "update",
            RecordAction::Delete => "delete",
        }
    }
}

/// Who made a change: a subscriber that reacts to other people's edits (an app's
/// live state following admin edits) can skip its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A client's request: the records API, a batch, the admin UI.
    Request,
    /// An app's own code writing with system access, named by the app.
    App(&'static str),
}

/// A committed change, as every subscriber of the stream sees it.
#[derive(Debug, Clone)]
pub struct RecordChange {
    /// What was done.
    pub action: RecordAction,
    /// The collection it happened in.
    pub collection: Arc<Collection>,
    /// The record as stored (for delete: as it was).
    pub record: Map<String, Value>,
    /// Who made it.
    pub origin: Origin,
}

impl RecordChange {
    /// The record's id.
    pub fn id(&self) -> &str {
        self.record
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The changes of one committed transaction, in the order they were made; shared
/// by every subscriber (one allocation, however many listen).
pub type ChangeBatch = Arc<[RecordChange]>;

/// What the stream delivers, in commit order.
#[derive(Debug, Clone)]
pub enum Committed {
    /// The changes of one committed transaction.
    Changes(ChangeBatch),
    /// A backup was restored into the live database: any record may have
    /// changed, so a subscriber that keeps state about records drops it.
    Restored,
}

/// The receiving end of one subscription.
pub type ChangeReceiver = mpsc::UnboundedReceiver<Committed>;

/// A wake-up a write asks for, handed on once it commits: a subscriber that
/// keeps its work in the database (the webhook sender's outbox) is told to look
/// at it, whether or not the write changed a record. Announce it with
/// [`crate::db::events::emit`]`(Wake("name"))` inside the write; receive it with
/// [`ChangeStream::subscribe_wake`]. A rolled-back write wakes nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wake(pub &'static str);

/// Which changes a subscriber wants: asked on the writer thread for each
/// change, so it must be quick (a lookup, no IO). A subscriber that wants none
/// of a batch is not woken for it.
pub type Interest = Arc<dyn Fn(&RecordChange) -> bool + Send + Sync>;

struct Subscriber {
    tx: mpsc::UnboundedSender<Committed>,
    interest: Option<Interest>,
}

/// Every subscriber of the database's committed record changes.
#[derive(Default)]
pub struct ChangeStream {
    subscribers: RwLock<Vec<Subscriber>>,
    released: RwLock<Vec<mpsc::UnboundedSender<Vec<Released>>>>,
    wakes: RwLock<Vec<(&'static str, mpsc::UnboundedSender<()>)>>,
}

impl ChangeStream {
    /// A stream fed by `db`'s writer: the database's one commit sink.
    pub fn attach(db: &Db) -> Result<Arc<ChangeStream>, DbError> {
        let stream = Arc::new(ChangeStream::default());
        let feed = stream.clone();
        db.set_commit_sink(Arc::new(move |events| {
            let mut batch = Vec::with_capacity(events.len());
            let mut released = Vec::new();
            let mut wakes: Vec<&'static str> = Vec::new();
            for event in events {
                match event.downcast::<RecordChange>() {
                    Ok(change) => batch.push(*change),
                    Err(other) => match other.downcast::<Released>() {
                        Ok(files) => released.push(*files),
                        Err(other) => {
                            if let Ok(wake) = other.downcast::<Wake>() {
                                if !wakes.contains(&wake.0) {
                                    wakes.push(wake.0);
                                }
                            }
                        }
                    },
                }
            }
            feed.publish(batch);
            feed.release(released);
            feed.wake(&wakes);
        }))?;
        Ok(stream)
    }

    /// The files committed writes let go of (see [`crate::files::Released`]),
    /// batch by batch, after each COMMIT: whoever removes them from storage can
    /// never remove a file a rolled-back write only meant to drop.
    pub fn subscribe_released(&self) -> mpsc::UnboundedReceiver<Vec<Released>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.released
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(tx);
        rx
    }

    fn release(&self, released: Vec<Released>) {
        if released.is_empty() {
            return;
        }
        let mut subscribers = self
            .released
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        subscribers.retain(|tx| tx.send(released.clone()).is_ok());
    }

    /// Woken (one `()` per committed transaction that asked) after each commit
    /// of a write that emitted [`Wake`]`(name)`.
    pub fn subscribe_wake(&self, name: &'static str) -> mpsc::UnboundedReceiver<()> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.wakes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((name, tx));
        rx
    }

    fn wake(&self, names: &[&'static str]) {
        if names.is_empty() {
            return;
        }
        let mut subscribers = self
            .wakes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        subscribers.retain(|(name, tx)| !names.contains(name) || tx.send(()).is_ok());
    }

    /// A new subscription; it receives every batch committed from now on. Its
    /// queue is unbounded, so a subscriber must keep reading (drop the receiver
    /// to leave).
    pub fn subscribe(&self) -> ChangeReceiver {
        self.add(None)
    }

    /// A subscription to the changes `interest` accepts (and every restore).
    pub fn subscribe_where(&self, interest: Interest) -> ChangeReceiver {
        self.add(Some(interest))
    }

    fn add(&self, interest: Option<Interest>) -> ChangeReceiver {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Subscriber { tx, interest });
        rx
    }

    /// Hands a committed batch to every subscriber that wants some of it; runs
    /// on the writer thread, so it only queues. Subscribers that left are
    /// forgotten.
    pub fn publish(&self, batch: Vec<RecordChange>) {
        if batch.is_empty() {
            return;
        }
        let batch: ChangeBatch = batch.into();
        self.send(|interest| {
            let Some(wants) = interest else {
                return Some(Committed::Changes(batch.clone()));
            };
            let wanted = batch.iter().filter(|c| wants(c)).count();
            if wanted == 0 {
                None
            } else if wanted == batch.len() {
                Some(Committed::Changes(batch.clone()))
            } else {
                let some: ChangeBatch = batch.iter().filter(|c| wants(c)).cloned().collect();
                Some(Committed::Changes(some))
            }
        });
    }

    /// Tells every subscriber that a backup replaced the database.
    pub fn restored(&self) {
        self.send(|_| Some(Committed::Restored));
    }

    /// Queues for each subscriber what `item_for` gives it (nothing: not woken).
    fn send(&self, item_for: impl Fn(Option<&Interest>) -> Option<Committed>) {
        let mut gone = false;
        for sub in self
            .subscribers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            if let Some(item) = item_for(sub.interest.as_ref()) {
                gone |= sub.tx.send(item).is_err();
            }
        }
        if gone {
            self.subscribers
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .retain(|sub| !sub.tx.is_closed());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(id: &str) -> RecordChange {
        let collection: Collection =
            serde_json::from_value(json!({"name": "posts"})).unwrap_or_else(|e| panic!("{e}"));
        RecordChange {
            action: RecordAction::Create,
            collection: Arc::new(collection),
            record: json!({"id": id}).as_object().cloned().unwrap_or_default(),
            origin: Origin::Request,
        }
    }

    #[test]
    fn every_subscriber_gets_every_batch_in_order_and_leavers_are_forgotten() {
        let stream = ChangeStream::default();
        let mut a = stream.subscribe();
        let b = stream.subscribe();
        stream.publish(vec![change("1"), change("2")]);
        drop(b);
        stream.publish(vec![]);
        stream.publish(vec![change("3")]);
        stream.restored();
        let ids = |item: Committed| -> Vec<String> {
            match item {
                Committed::Changes(batch) => batch.iter().map(|c| c.id().to_string()).collect(),
                Committed::Restored => vec!["restored".to_string()],
            }
        };
        assert_eq!(
            a.try_recv().map(ids).ok(),
            Some(vec!["1".into(), "2".into()])
        );
        assert_eq!(a.try_recv().map(ids).ok(), Some(vec!["3".into()]));
        assert_eq!(a.try_recv().map(ids).ok(), Some(vec!["restored".into()]));
        assert!(a.try_recv().is_err(), "an empty batch is not sent");
        assert_eq!(stream.subscribers.read().map(|s| s.len()).ok(), Some(1));
    }

    #[test]
    fn a_subscriber_gets_only_what_it_wants_and_is_not_woken_otherwise() {
        let stream = ChangeStream::default();
        let mut picky = stream.subscribe_where(Arc::new(|c: &RecordChange| c.id() != "skip"));
        stream.publish(vec![change("skip")]);
        assert!(picky.try_recv().is_err(), "nothing it wants: not woken");
        stream.publish(vec![change("skip"), change("keep")]);
        match picky.try_recv() {
            Ok(Committed::Changes(batch)) => {
                assert_eq!(
                    batch.iter().map(RecordChange::id).collect::<Vec<_>>(),
                    ["keep"]
                );
            }
            other => panic!("{other:?}"),
        }
        stream.restored();
        assert!(matches!(picky.try_recv(), Ok(Committed::Restored)));
    }

    #[test]
    fn a_wake_reaches_only_the_subscribers_of_its_name() {
        let stream = ChangeStream::default();
        let mut sender = stream.subscribe_wake("webhooks");
        let mut other = stream.subscribe_wake("mailer");
        stream.wake(&[]);
        assert!(sender.try_recv().is_err());
        stream.wake(&["webhooks"]);
        assert_eq!(sender.try_recv().ok(), Some(()));
        assert!(sender.try_recv().is_err(), "one wake per commit");
        assert!(other.try_recv().is_err(), "another name is not woken");
        drop(sender);
        stream.wake(&["webhooks"]);
        assert_eq!(
            stream.wakes.read().map(|w| w.len()).ok(),
            Some(1),
            "a leaver is forgotten"
        );
    }
}
