//! Admin edits reach players live: after-commit hooks on the poker collections
//! tell a room's live hub to reload its state from the database (or to close,
//! when the room was deleted or expired).
//!
//! Every committed change reaches these hooks (litebase's commit stream), the
//! hubs' own writes included: those are tagged with poker's name
//! ([`store::APP`]) and skipped, since the live room already holds them.

use std::sync::Arc;

use litebase::changes::Origin;
use litebase::hooks::{RecordAction, RecordChange};

use super::hub::{HubMsg, Hubs, Refusal};
use super::store;
use super::sweeper::SweepTrigger;

const ACTIONS: [RecordAction; 3] = [
    RecordAction::Create,
    RecordAction::Update,
    RecordAction::Delete,
];

/// Whether someone else than a live room made the change (an admin, `/api`).
fn from_outside(change: &RecordChange) -> bool {
    change.origin != Origin::App(store::APP)
}

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
        .after_commit(RecordAction::Update, Some("rooms"), move |change| {
            if !from_outside(change) {
                return;
            }
            let id = text(change, "id");
            let expired =
                store::parse_timestamp(text(change, "expires")).is_some_and(|e| e < store::now());
            if expired {
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
        })
        .after_commit(RecordAction::Delete, Some("rooms"), {
            let h = hubs.clone();
            move |change| {
                if !from_outside(change) {
                    return;
                }
                h.notify_room(
                    text(change, "id"),
                    HubMsg::Close {
                        reason: Refusal::Deleted,
                    },
                );
            }
        });
    for action in ACTIONS {
        for collection in ["participants", "rounds"] {
            let h = hubs.clone();
            app = app.after_commit(action, Some(collection), move |change| {
                if from_outside(change) {
                    h.notify_room(text(change, "room"), HubMsg::Reload);
                }
            });
        }
        // A vote names its round, not its room: every live room rereads (admin
        // edits of votes are rare; a reload is one read).
        let h = hubs.clone();
        app = app.after_commit(action, Some("votes"), move |change| {
            if from_outside(change) {
                h.reload_all();
            }
        });
    }
    app
}
