//! What each owner did to their notes since the server started, kept in memory by
//! an after-commit subscriber and served by the summary route.
//!
//! After-commit subscribers see every committed change of the collection, after
//! it is durable and whichever request made it, so counting there never counts
//! a write that was rolled back (a refused title, a failed rule).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use litebase::hooks::{RecordAction, RecordChange};
use serde::Serialize;
use serde_json::Value;

/// Changes to one owner's notes, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Notes created.
    pub created: u64,
    /// Notes changed.
    pub updated: u64,
    /// Notes deleted (by their owner, or with their owner's account).
    pub deleted: u64,
}

/// The per-owner counts, shared between the subscriber (which writes them) and
/// the summary route (which reads them).
#[derive(Debug, Default)]
pub struct Activity {
    by_owner: Mutex<HashMap<String, Counts>>,
}

impl Activity {
    /// Counts a committed change of a note for the note's owner. Quick and
    /// non-blocking, as after-commit subscribers must be.
    pub fn record(&self, change: &RecordChange) {
        let id = change.record.get("id").and_then(Value::as_str);
        let owner = change.record.get("owner").and_then(Value::as_str);
        tracing::debug!(
            note = id.unwrap_or_default(),
            owner = owner.unwrap_or_default(),
            action = change.action.as_str(),
            "note committed"
        );
        if let Some(owner) = owner.filter(|o| !o.is_empty()) {
            self.count(change.action, owner);
        }
    }

    /// Counts one change of `action` for `owner`.
    pub fn count(&self, action: RecordAction, owner: &str) {
        let mut by_owner = self.by_owner.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = by_owner.entry(owner.to_string()).or_default();
        match action {
            RecordAction::Create => counts.created += 1,
            RecordAction::Update => counts.updated += 1,
            RecordAction::Delete => counts.deleted += 1,
        }
    }

    /// `owner`'s counts so far (all zero for an owner with no changes).
    pub fn of(&self, owner: &str) -> Counts {
        self.by_owner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(owner)
            .copied()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use serde_json::json;

    fn change(action: RecordAction, record: Value) -> RecordChange {
        let notes = serde_json::from_value(json!({"name": "notes"}))
            .unwrap_or_else(|e| panic!("a collection from JSON: {e}"));
        RecordChange {
            action,
            collection: Arc::new(notes),
            record: record.as_object().cloned().unwrap_or_default(),
            origin: litebase::changes::Origin::Request,
        }
    }

    #[test]
    fn each_change_counts_for_its_owner_only() {
        let activity = Activity::default();
        let a = |id: &str| json!({"id": id, "owner": "alice", "title": "t"});
        activity.record(&change(RecordAction::Create, a("n1")));
        activity.record(&change(RecordAction::Create, a("n2")));
        activity.record(&change(RecordAction::Update, a("n1")));
        activity.record(&change(RecordAction::Delete, a("n2")));
        activity.record(&change(
            RecordAction::Create,
            json!({"id": "n3", "owner": "bob"}),
        ));
        assert_eq!(
            activity.of("alice"),
            Counts {
                created: 2,
                updated: 1,
                deleted: 1
            }
        );
        assert_eq!(
            activity.of("bob"),
            Counts {
                created: 1,
                ..Counts::default()
            }
        );
        assert_eq!(activity.of("carol"), Counts::default());
    }

    #[test]
    fn a_change_without_an_owner_counts_for_nobody() {
        let activity = Activity::default();
        activity.record(&change(RecordAction::Create, json!({"id": "n1"})));
        activity.record(&change(
            RecordAction::Create,
            json!({"id": "n2", "owner": ""}),
        ));
        assert_eq!(activity.of(""), Counts::default());
    }
}
