//! Events raised inside write transactions, handed on only once they commit.
//!
//! A write closure calls [`emit`]; the writer keeps the event with its savepoint,
//! drops it if that write rolls back, and after the batch's COMMIT passes every
//! surviving event, in commit order, to the sink set with
//! [`super::Db::set_commit_sink`] (in an app: [`crate::changes::ChangeStream`]). So a subscriber never sees a change that was
//! rolled back, and sees changes in the order they became durable.

use std::any::Any;
use std::cell::RefCell;
use std::sync::Arc;

/// Something a write announces (e.g. a record change).
pub type Event = Box<dyn Any + Send>;
/// Receives committed events on the writer thread: must be quick (hand them to a
/// channel), never block.
pub type CommitSink = Arc<dyn Fn(Vec<Event>) + Send + Sync>;

thread_local! {
    static PENDING: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

/// Announces `event` if the current write commits. Outside the writer thread
/// (a read, a test) it is dropped.
pub fn emit<T: Any + Send>(event: T) {
    PENDING.with(|p| p.borrow_mut().push(Box::new(event)));
}

/// How many events are pending (a savepoint's mark).
pub(super) fn mark() -> usize {
    PENDING.with(|p| p.borrow().len())
}

/// Forgets the events of a rolled-back write.
pub(super) fn truncate(mark: usize) {
    PENDING.with(|p| p.borrow_mut().truncate(mark));
}

/// Takes every pending event (after COMMIT, or to discard them).
pub(super) fn take() -> Vec<Event> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}
