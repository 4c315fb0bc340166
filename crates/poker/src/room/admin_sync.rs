//! Admin edits reach players live: after-commit hooks on the poker collections
//! tell a room's live hub to reload its state from the database (or to close,
//! when the room was deleted or expired).
//!
//! Every committed change reaches these hooks (litebase's commit stream) except
//! the hubs' own writes: those are tagged with poker's name ([`store::APP`]) and
//! the hooks are registered for others' changes only, since the live room
//! already holds its own.

use std::sync::Arc;

use litebase::hooks::{RecordAction, RecordChange};

use super::hub::{HubMsg, Hubs, Refusal};
use super::store;
use super::sweeper::SweepTrigger;

const ACTIONS: [RecordAction; 3] = [
    RecordAction::Create,
    RecordAction::Update,
    RecordAction::Delete,
];

fn text<'a>(change: &'a RecordChange, field: &str) -> &'a str {
    change
        .record
        .get(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
}

/// Adds the hooks to `app`.
pub fn register(app: litebase::App, hubs: Arc<Hubs>, sweep: SweepTrigger) -> litebase::App {
    let h = hubs.clone();
    let mut app = app
        .after_commit_of_others(
            store::APP,
            RecordAction::Update,
            Some("rooms"),
            move |change| {
                let id = text(change, "id");
                let expired = store::parse_timestamp(text(change, "expires"))
                    .is_some_and(|e| e < store::now());
                if expired {
                    // Expired on purpose: the sweep takes it even with people in it.
                    h.release(id);
                    h.notify_room(
                        id,
                        HubMsg::Close {
                            reason: Refusal::Expired,
                        },
                    );
                    sweep.now();
                } else {
                    h.notify_room(id, HubMsg::Reload);
                }
            },
        )
        .after_commit_of_others(store::APP, RecordAction::Delete, Some("rooms"), {
            let h = hubs.clone();
            move |change| {
                h.notify_room(
                    text(change, "id"),
                    HubMsg::Close {
                        reason: Refusal::Deleted,
                    },
                );
            }
        });
    for action in ACTIONS {
        for collection in ["participants", "rounds", "stories"] {
            let h = hubs.clone();
            app = app.after_commit_of_others(store::APP, action, Some(collection), move |change| {
                h.notify_room(text(change, "room"), HubMsg::Reload);
            });
        }
        // A vote names its round, not its room: every live room rereads (admin
        // edits of votes are rare; a reload is one read).
        let h = hubs.clone();
        app =
            app.after_commit_of_others(store::APP, action, Some("votes"), move |_| h.reload_all());
    }
    app
}
