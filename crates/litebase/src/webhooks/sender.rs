//! Posting queued deliveries once their change has committed: woken by the
//! commit stream (a change some webhook wants, or an app's queued delivery) or
//! by an admin's retry, and by its own timer for retries. A target marked
//! `publicOnly` (an app's, set by someone who must not reach the server's own
//! network) is posted to through [`crate::outbound::public_agent`]. Each webhook's deliveries go out one at a time in
//! commit order (a retried one may arrive after later ones). Failures are retried with exponential backoff;
//! after the last attempt a delivery is marked failed and stays in the log,
//! where an admin can send it again.

use std::time::Duration;

use rusqlite::params;

use super::WebhookError;
use super::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use super::store::Webhooks;
use crate::changes::{ChangeReceiver, Committed};

/// When failed deliveries are tried again.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// Each further wait is this many times the previous one.
    pub factor: u32,
    /// Attempts in all before a delivery is marked failed.
    pub attempts: u32,
}

impl Default for Backoff {
    /// 2 s, 8 s, 32 s, ~2 min, ~9 min, ~35 min, ~2.3 h: eight attempts over
    /// about three hours.
    fn default() -> Self {
        Backoff {
            first: Duration::from_secs(2),
            factor: 4,
            attempts: 8,
        }
    }
}

impl Backoff {
    /// The wait after `failures` failed attempts (1 = the first failure).
    pub fn delay(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(20);
        self.first
            .saturating_mul(self.factor.saturating_pow(exp))
            .min(Duration::from_secs(24 * 3600))
    }
}

/// How long a receiver may take to answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries posted at once.
const PARALLEL: i64 = 16;
/// Longest sleep between looks at the outbox (deliveries a crash left due).
const IDLE_LOOK: Duration = Duration::from_secs(60);

struct Due {
    id: String,
    webhook: String,
    action: String,
    payload: String,
    attempts: u32,
    url: String,
    secret: String,
    public_only: bool,
}

struct Outcome {
    id: String,
    delivered: bool,
    attempts: u32,
    status: u16,
    error: String,
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The two clients deliveries go out through.
#[derive(Clone)]
struct Agents {
    /// Any address (superusers' webhooks, app targets that allow it).
    any: ureq::Agent,
    /// Public addresses only.
    public: ureq::Agent,
}

/// Starts the sender on the server's runtime. `changes` should be a
/// subscription to the changes some webhook wants (see
/// [`super::Registry::wants`]); restores reload the registry. `wakes` is
/// [`crate::changes::ChangeStream::subscribe_wake`]`(`[`super::app::WAKE`]`)`:
/// the commits that queued an app's delivery.
pub fn start(
    webhooks: Webhooks,
    mut changes: ChangeReceiver,
    mut wakes: tokio::sync::mpsc::UnboundedReceiver<()>,
    backoff: Backoff,
) {
    let config = || {
        ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            .user_agent("litebase-webhooks")
            .build()
    };
    let agents = Agents {
        any: config().into(),
        public: crate::outbound::public_agent(config()),
    };
    actix_web::rt::spawn(async move {
        let mut wakes_open = true;
        loop {
            let wait = match deliver_due(&webhooks, &agents, backoff).await {
                Ok(Some(next)) => Duration::from_millis((next - now_ms()).max(0) as u64),
                Ok(None) => IDLE_LOOK,
                Err(err) => {
                    tracing::error!(error = %err, "webhook deliveries failed; trying again soon");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                item = changes.recv() => match item {
                    None => break,
                    Some(Committed::Restored) => {
                        if let Err(err) = webhooks.reload().await {
                            tracing::error!(error = %err, "cannot reload webhooks after a restore");
                        }
                    }
                    Some(Committed::Changes(_)) => {}
                },
                woken = wakes.recv(), if wakes_open => wakes_open = woken.is_some(),
                _ = webhooks.registry().changed.notified() => {}
                _ = tokio::time::sleep(wait.min(IDLE_LOOK)) => {}
            }
        }
    });
}

/// Posts every due delivery; answers when the next pending one is due.
async fn deliver_due(
    webhooks: &Webhooks,
    agents: &Agents,
    backoff: Backoff,
) -> Result<Option<i64>, WebhookError> {
    loop {
        let now = now_ms();
        let due = webhooks
            .db()
            .read(move |conn| {
                let due = conn
                    .prepare_cached(
                        "SELECT d.id, d.webhook, d.action, d.payload, d.attempts, w.url, w.secret,
                                w.publicOnly
                         FROM _webhookDeliveries d JOIN _webhooks w ON w.id = d.webhook
                         WHERE d.status = 'pending' AND d.nextAttempt <= ?1 AND w.enabled
                         ORDER BY d.nextAttempt, d.rowid LIMIT ?2",
                    )?
                    .query_map(params![now, PARALLEL], |r| {
                        Ok(Due {
                            id: r.get(0)?,
                            webhook: r.get(1)?,
                            action: r.get(2)?,
                            payload: r.get(3)?,
                            attempts: r.get(4)?,
                            url: r.get(5)?,
                            secret: r.get(6)?,
                            public_only: r.get(7)?,
                        })
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let next: Option<i64> = if due.is_empty() {
                    conn.query_row(
                        "SELECT min(d.nextAttempt) FROM _webhookDeliveries d
                         JOIN _webhooks w ON w.id = d.webhook
                         WHERE d.status = 'pending' AND w.enabled",
                        [],
                        |r| r.get(0),
                    )?
                } else {
                    None
                };
                Ok::<_, WebhookError>((due, next))
            })
            .await?;
        let (due, next) = due;
        if due.is_empty() {
            return Ok(next);
        }
        // One receiver gets its deliveries one after the other, in commit
        // order; different webhooks are posted to at the same time.
        let mut by_webhook: Vec<Vec<Due>> = Vec::new();
        for d in due {
            match by_webhook.iter_mut().find(|g| g[0].webhook == d.webhook) {
                Some(group) => group.push(d),
                None => by_webhook.push(vec![d]),
            }
        }
        let lanes = by_webhook.into_iter().map(|group| {
            let agents = agents.clone();
            async move {
                let mut done = Vec::with_capacity(group.len());
                for d in group {
                    let agent = if d.public_only {
                        agents.public.clone()
                    } else {
                        agents.any.clone()
                    };
                    done.push(post(agent, d).await);
                }
                done
            }
        });
        let outcomes: Vec<Outcome> = futures_util::future::join_all(lanes)
            .await
            .into_iter()
            .flatten()
            .collect();
        webhooks
            .db()
            .write(move |conn| {
                let stamp = crate::query::format_datetime(time::OffsetDateTime::now_utc());
                let mut update = conn.prepare_cached(
                    "UPDATE _webhookDeliveries SET status = ?2, attempts = ?3, nextAttempt = ?4,
                       lastStatus = ?5, lastError = ?6, updated = ?7
                     WHERE id = ?1 AND status = 'pending'",
                )?;
                for o in outcomes {
                    let (status, next) = if o.delivered {
                        ("delivered", 0)
                    } else if o.attempts >= backoff.attempts {
                        ("failed", 0)
                    } else {
                        let wait = backoff.delay(o.attempts).as_millis() as i64;
                        ("pending", now_ms() + wait)
                    };
                    update.execute(params![
                        o.id, status, o.attempts, next, o.status, o.error, stamp
                    ])?;
                }
                Ok::<_, WebhookError>(())
            })
            .await?;
    }
}

/// One POST, off the runtime threads (the client blocks).
async fn post(agent: ureq::Agent, d: Due) -> Outcome {
    let attempts = d.attempts.saturating_add(1);
    let id = d.id.clone();
    let sent = tokio::task::spawn_blocking(move || {
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
        let signature = sign(&d.secret, timestamp, d.payload.as_bytes());
        agent
            .post(&d.url)
            .header("Content-Type", "application/json")
            .header("X-Litebase-Webhook", &d.webhook)
            .header("X-Litebase-Delivery", &d.id)
            .header("X-Litebase-Event", &d.action)
            .header("X-Litebase-Attempt", attempts.to_string())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .send(d.payload.as_bytes())
            .map(|res| res.status().as_u16())
    })
    .await;
    let (status, error) = match sent {
        Ok(Ok(status)) if (200..300).contains(&status) => (status, String::new()),
        Ok(Ok(status)) => (status, format!("the receiver answered HTTP {status}")),
        Ok(Err(err)) => (0, truncate(err.to_string())),
        Err(err) => (0, truncate(err.to_string())),
    };
    Outcome {
        id,
        delivered: (200..300).contains(&status),
        attempts,
        status,
        error,
    }
}

fn truncate(mut s: String) -> String {
    if s.len() > 500 {
        let mut end = 500;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff::default();
        assert_eq!(b.delay(1), Duration::from_secs(2));
        assert_eq!(b.delay(2), Duration::from_secs(8));
        assert_eq!(b.delay(3), Duration::from_secs(32));
        assert_eq!(b.delay(100), Duration::from_secs(24 * 3600));
        assert_eq!(b.delay(0), Duration::from_secs(2));
    }

    #[test]
    fn truncates_on_a_char_boundary() {
        let long = "é".repeat(400);
        let cut = truncate(long);
        assert!(cut.len() <= 500);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
