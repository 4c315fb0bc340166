//! Deletes expired rooms: every interval (or at once when [`SweepTrigger::now`]
//! is called, e.g. after an admin moved a room's `expires` into the past) it
//! deletes every room whose `expires` has passed, with its participants, rounds
//! and votes, in one write, then closes the live hub of each with "this room
//! expired".
//!
//! The idle time after which a room expires is the admin setting
//! [`ROOM_TTL_SETTING`], reread before each sweep: a change applies to rooms
//! from their next activity (and to new rooms) without a restart.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::hub::{HubMsg, Hubs, Refusal};
use super::store;

/// Key of the room-expiry setting (seconds) in litebase's settings.
pub const ROOM_TTL_SETTING: &str = "poker.roomTtl";

/// Wakes the sweeper before its next interval.
#[derive(Clone, Default)]
pub struct SweepTrigger(Arc<Notify>);

impl SweepTrigger {
    /// Asks for a sweep now (never waits).
    pub fn now(&self) {
        self.0.notify_one();
    }
}

/// Starts the sweeper task; it runs until the process stops.
pub fn start(
    core: actix_web::web::Data<litebase::core::Core>,
    hubs: Arc<Hubs>,
    every: Duration,
    trigger: SweepTrigger,
) {
    follow_ttl_setting(&core);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = trigger.0.notified() => {}
            }
            follow_ttl_setting(&core);
            sweep(&core.records, &hubs).await;
        }
    });
}

/// Puts the admin's current room expiry in force.
fn follow_ttl_setting(core: &litebase::core::Core) {
    if let Some(secs) = core
        .settings
        .app_int(ROOM_TTL_SETTING)
        .and_then(|s| u64::try_from(s).ok())
    {
        store::set_room_ttl(secs);
    }
}

/// One sweep.
pub async fn sweep(records: &litebase::records::service::Records, hubs: &Hubs) {
    match store::delete_expired(records).await {
        Ok(codes) => {
            if !codes.is_empty() {
                tracing::info!(rooms = codes.len(), "deleted expired rooms");
            }
            for code in codes {
                hubs.notify_code(
                    &code,
                    HubMsg::Close {
                        reason: Refusal::Expired,
                    },
                );
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot delete expired rooms"),
    }
}
