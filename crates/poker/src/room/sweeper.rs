//! Deletes expired rooms: a cron job ([`SWEEP_JOB`], registered through
//! `App::cron`, so superusers see it in `GET /api/crons` and the admin's Crons
//! page) deletes every room whose `expires` has passed, with its participants,
//! rounds and votes, in one write, then closes the live hub of each with "this
//! room expired". A room someone is connected to is never deleted (its hub also
//! keeps its `expires` moving while people sit in it). It also runs at once when [`SweepTrigger::now`] is called
//! (e.g. after an admin moved a room's `expires` into the past).
//!
//! `POKER_SWEEP_INTERVAL` sets its schedule (60 s: every minute, 600 s:
//! `*/10 * * * *`); cron counts in minutes, so an interval under a minute
//! (tests) also runs the job every that many seconds.
//!
//! The idle time after which a room expires is the admin setting
//! [`ROOM_TTL_SETTING`], reread before each sweep: a change applies to rooms
//! from their next activity (and to new rooms) without a restart.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::hub::{HubMsg, Hubs, Refusal};
use super::store;

/// The sweep's cron job id.
pub const SWEEP_JOB: &str = "pokerRoomSweep";

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

/// Registers the sweep as a cron job due every `every` (see the module's
/// doc) and, once serving, runs it when `trigger` fires (and every `every`
/// when that is under a minute).
pub fn register(
    app: litebase::App,
    hubs: Arc<Hubs>,
    every: Duration,
    trigger: SweepTrigger,
) -> litebase::App {
    app.cron(SWEEP_JOB, &expression_for(every), move |ctx| {
        follow_ttl_setting(ctx.core());
        ctx.block_on(sweep(&ctx.core().records, &hubs));
        Ok(())
    })
    .on_serve(move |core| {
        follow_ttl_setting(core);
        let crons = core.crons.clone();
        let trigger = trigger.clone();
        let fast = (every < Duration::from_secs(60)).then_some(every);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(fast.unwrap_or(Duration::from_secs(3600)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick(), if fast.is_some() => {
                        if !crons.is_running(SWEEP_JOB) {
                            crons.run(SWEEP_JOB);
                        }
                    }
                    _ = trigger.0.notified() => {
                        // An edit made during a sweep needs a sweep after it.
                        while crons.is_running(SWEEP_JOB) {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        crons.run(SWEEP_JOB);
                    }
                }
            }
        });
    })
}

/// The cron schedule closest to a sweep every `every`: every minute at most,
/// then every N minutes, every N hours, or daily.
pub fn expression_for(every: Duration) -> String {
    let minutes = every.as_secs() / 60;
    match minutes {
        0 | 1 => "* * * * *".into(),
        2..=59 => format!("*/{minutes} * * * *"),
        60..=1439 => format!("0 */{} * * *", minutes / 60),
        _ => "0 0 * * *".into(),
    }
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
    match store::delete_expired_except(records, hubs.connected_rooms()).await {
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

#[cfg(test)]
mod tests {
    use super::expression_for;
    use std::time::Duration;

    #[test]
    fn intervals_become_the_nearest_schedule() {
        let at = |secs| expression_for(Duration::from_secs(secs));
        assert_eq!(at(1), "* * * * *");
        assert_eq!(at(60), "* * * * *");
        assert_eq!(at(600), "*/10 * * * *");
        assert_eq!(at(3600), "0 */1 * * *");
        assert_eq!(at(6 * 3600), "0 */6 * * *");
        assert_eq!(at(7 * 86400), "0 0 * * *");
        for secs in [1, 60, 119, 600, 3599, 3600, 86399, 86400, 10 * 365 * 86400] {
            assert!(litebase::cron::Schedule::parse(&at(secs)).is_ok(), "{secs}");
        }
    }
}
