//! Webhook targets an app owns: a URL the app posts its own JSON to (poker
//! posts a room's estimates to the room's Slack channel), delivered by the same
//! [`super::sender`] as the superusers' webhooks — after the commit, with the
//! same retries, backoff, per-target ordering and delivery log.
//!
//! A target is a `_webhooks` row whose `owner` is the app's name. The record
//! hook never matches it and the superusers' API and admin page do not list it
//! (the app manages it, and its URL may be a secret of the app's users); the app
//! queues each delivery itself with [`queue_app`], inside its own write
//! transaction, so a rolled-back write sends nothing and a committed one is sent
//! even if the process dies right after the COMMIT.
//!
//! Every function takes the connection of a write in progress: `tx.conn()` in
//! [`crate::records::service::Records::app_write`], or `e.conn` in a record
//! hook (to remove a target with the record it belongs to).
//!
//! ```no_run
//! # async fn demo(records: litebase::records::service::Records) -> Result<(), litebase::webhooks::WebhookError> {
//! use litebase::webhooks::app::{AppTarget, queue_app, set_app_target};
//! records
//!     .app_write("myapp", |tx| {
//!         let target = AppTarget::new("myapp-team1", "myapp", "https://hooks.example.com/x");
//!         set_app_target(tx.conn(), &target, None)?;
//!         queue_app(tx.conn(), "myapp", "myapp-team1", "hello", &serde_json::json!({"text": "hi"}))?;
//!         Ok::<_, litebase::webhooks::WebhookError>(())
//!     })
//!     .await
//! # }
//! ```

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value, json};

use super::WebhookError;

/// The name of the [`crate::changes::Wake`] a queued delivery announces: the
/// sender looks at the outbox once the write commits.
pub const WAKE: &str = "webhooks";

/// Longest target id, in bytes.
pub const MAX_ID_LEN: usize = 100;
/// Longest URL, in bytes.
pub const MAX_URL_LEN: usize = 2000;
/// Longest event name, in bytes (it travels in the `X-Litebase-Event` header).
pub const MAX_EVENT_LEN: usize = 100;

/// A target as an app sets it and reads it back.
#[derive(Debug, Clone, PartialEq)]
pub struct AppTarget {
    /// Chosen by the app (e.g. derived from the record it belongs to); unique
    /// among all webhooks.
    pub id: String,
    /// The app's name; never empty (empty is a superuser's webhook).
    pub owner: String,
    /// Where deliveries are POSTed (`http` or `https`).
    pub url: String,
    /// Off: nothing is queued and pending deliveries wait.
    pub enabled: bool,
    /// The sender connects only to public addresses: for a URL chosen by
    /// someone who must not reach the server's own network.
    pub public_only: bool,
    /// Whatever the app keeps about the target (a JSON value); litebase never
    /// reads it.
    pub data: Value,
}

impl AppTarget {
    /// An enabled target of `owner`, public addresses only, without data.
    pub fn new(id: &str, owner: &str, url: &str) -> Self {
        AppTarget {
            id: id.to_string(),
            owner: owner.to_string(),
            url: url.to_string(),
            enabled: true,
            public_only: true,
            data: json!({}),
        }
    }
}

fn problem(field: &str, code: &str, message: &str) -> WebhookError {
    let mut data = Map::new();
    data.insert(field.into(), json!({"code": code, "message": message}));
    WebhookError::Invalid(data)
}

/// Creates or changes `target`. `secret` signs the deliveries (`None`: a new
/// target gets a random one, an existing one keeps its own). When the URL
/// changes, deliveries still pending for the old URL are dropped: they were
/// meant for another receiver. An id used by another owner's webhook is
/// refused.
pub fn set_app_target(
    conn: &Connection,
    target: &AppTarget,
    secret: Option<&str>,
) -> Result<(), WebhookError> {
    if target.owner.is_empty() {
        return Err(problem(
            "owner",
            "validation_required",
            "An app target needs its app's name.",
        ));
    }
    if target.id.is_empty() || target.id.len() > MAX_ID_LEN {
        return Err(problem(
            "id",
            "validation_length_out_of_range",
            "Give an id of 1 to 100 bytes.",
        ));
    }
    if target.url.len() > MAX_URL_LEN || !super::store::is_http_url(&target.url) {
        return Err(problem(
            "url",
            "validation_is_url",
            "Must be a valid http or https URL.",
        ));
    }
    if secret.is_some_and(|s| s.chars().count() < 16) {
        return Err(problem(
            "secret",
            "validation_min_text_constraint",
            "Must be at least 16 character(s).",
        ));
    }
    let stored: Option<(String, String)> = conn
        .query_row(
            "SELECT owner, url FROM _webhooks WHERE id = ?1",
            [&target.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let stamp = crate::query::format_datetime(time::OffsetDateTime::now_utc());
    let data = target.data.to_string();
    match stored {
        Some((owner, _)) if owner != target.owner => Err(problem(
            "id",
            "validation_not_unique",
            "Another owner's webhook has this id.",
        )),
        Some((_, url)) => {
            if url != target.url {
                conn.execute(
                    "DELETE FROM _webhookDeliveries WHERE webhook = ?1 AND status = 'pending'",
                    [&target.id],
                )?;
            }
            conn.execute(
                "UPDATE _webhooks SET url = ?2, enabled = ?3, publicOnly = ?4, appData = ?5,
                   secret = COALESCE(?6, secret), updated = ?7
                 WHERE id = ?1",
                params![
                    target.id,
                    target.url,
                    target.enabled,
                    target.public_only,
                    data,
                    secret,
                    stamp
                ],
            )?;
            Ok(())
        }
        None => {
            let secret = secret.map(str::to_string).unwrap_or_else(|| {
                crate::id::random_string(
                    32,
                    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                )
            });
            conn.execute(
                "INSERT INTO _webhooks (id, collection, url, actions, secret, enabled, created,
                   updated, owner, publicOnly, appData)
                 VALUES (?1, '', ?2, '[]', ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
                params![
                    target.id,
                    target.url,
                    secret,
                    target.enabled,
                    stamp,
                    target.owner,
                    target.public_only,
                    data
                ],
            )?;
            Ok(())
        }
    }
}

/// `owner`'s target `id`, if it has one.
pub fn app_target(
    conn: &Connection,
    owner: &str,
    id: &str,
) -> Result<Option<AppTarget>, WebhookError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, owner, url, enabled, publicOnly, appData FROM _webhooks
             WHERE id = ?1 AND owner = ?2 AND owner != ''",
        )?
        .query_row(params![id, owner], |r| {
            let data: String = r.get(5)?;
            Ok(AppTarget {
                id: r.get(0)?,
                owner: r.get(1)?,
                url: r.get(2)?,
                enabled: r.get(3)?,
                public_only: r.get(4)?,
                data: serde_json::from_str(&data).unwrap_or(Value::Null),
            })
        })
        .optional()?)
}

/// Removes `owner`'s target `id` with its delivery log (pending deliveries are
/// never sent); answers whether there was one.
pub fn remove_app_target(conn: &Connection, owner: &str, id: &str) -> Result<bool, WebhookError> {
    Ok(conn.execute(
        "DELETE FROM _webhooks WHERE id = ?1 AND owner = ?2 AND owner != ''",
        params![id, owner],
    )? > 0)
}

/// Queues `payload` (posted as it is, as JSON) for `owner`'s target `id`,
/// labelled `event` (the `X-Litebase-Event` header and the log's action). It
/// is posted once the write commits; answers `false`, queueing nothing, when
/// the owner has no such target or it is switched off.
pub fn queue_app(
    conn: &Connection,
    owner: &str,
    id: &str,
    event: &str,
    payload: &Value,
) -> Result<bool, WebhookError> {
    if event.is_empty()
        || event.len() > MAX_EVENT_LEN
        || event.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(problem(
            "event",
            "validation_invalid_value",
            "An event is 1 to 100 characters, without spaces.",
        ));
    }
    let enabled: Option<bool> = conn
        .prepare_cached(
            "SELECT enabled FROM _webhooks WHERE id = ?1 AND owner = ?2 AND owner != ''",
        )?
        .query_row(params![id, owner], |r| r.get(0))
        .optional()?;
    if enabled != Some(true) {
        return Ok(false);
    }
    let stamp = crate::query::format_datetime(time::OffsetDateTime::now_utc());
    conn.prepare_cached(
        "INSERT INTO _webhookDeliveries (id, webhook, action, record, payload, status,
           attempts, nextAttempt, created, updated)
         VALUES (?1, ?2, ?3, '', ?4, 'pending', 0, 0, ?5, ?5)",
    )?
    .execute(params![
        crate::id::new_id(),
        id,
        event,
        payload.to_string(),
        stamp
    ])?;
    crate::db::events::emit(crate::changes::Wake(WAKE));
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `_webhooks` and its outbox as the migrations make them.
    fn db() -> Connection {
        let conn = Connection::open_in_memory().expect("a database");
        conn.execute_batch(include_str!("../../migrations/V4__webhooks.sql"))
            .expect("V4");
        conn.execute_batch(include_str!("../../migrations/V7__app_webhooks.sql"))
            .expect("V7");
        conn
    }

    fn deliveries(conn: &Connection) -> Vec<(String, String, String, String)> {
        conn.prepare(
            "SELECT webhook, action, payload, status FROM _webhookDeliveries ORDER BY rowid",
        )
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        })
        .expect("deliveries")
    }

    #[test]
    fn a_target_is_set_read_changed_and_removed_by_its_owner_only() {
        let conn = db();
        let mut t = AppTarget::new("app-1", "app", "https://hooks.example.com/a");
        t.data = json!({"kind": "slack"});
        set_app_target(&conn, &t, None).expect("set");
        assert_eq!(
            app_target(&conn, "app", "app-1").expect("read"),
            Some(t.clone())
        );
        assert_eq!(app_target(&conn, "other", "app-1").expect("read"), None);
        let secret: String = conn
            .query_row("SELECT secret FROM _webhooks WHERE id = 'app-1'", [], |r| {
                r.get(0)
            })
            .expect("secret");
        assert_eq!(secret.len(), 32, "a random secret");

        t.enabled = false;
        t.public_only = false;
        set_app_target(&conn, &t, Some("a-secret-of-16-chars")).expect("changed");
        assert_eq!(
            app_target(&conn, "app", "app-1").expect("read"),
            Some(t.clone())
        );

        let stranger = AppTarget::new("app-1", "other", "https://x.example.com");
        assert!(matches!(
            set_app_target(&conn, &stranger, None),
            Err(WebhookError::Invalid(m)) if m.contains_key("id")
        ));
        assert!(!remove_app_target(&conn, "other", "app-1").expect("remove"));
        assert!(remove_app_target(&conn, "app", "app-1").expect("remove"));
        assert_eq!(app_target(&conn, "app", "app-1").expect("read"), None);
    }

    #[test]
    fn bad_targets_are_refused() {
        let conn = db();
        for (t, secret, field) in [
            (
                AppTarget::new("a", "", "https://x.example.com"),
                None,
                "owner",
            ),
            (
                AppTarget::new("", "app", "https://x.example.com"),
                None,
                "id",
            ),
            (
                AppTarget::new(&"i".repeat(101), "app", "https://x.example.com"),
                None,
                "id",
            ),
            (
                AppTarget::new("a", "app", "ftp://x.example.com"),
                None,
                "url",
            ),
            (AppTarget::new("a", "app", "https://"), None, "url"),
            (
                AppTarget::new("a", "app", "https://x.example.com"),
                Some("short"),
                "secret",
            ),
        ] {
            match set_app_target(&conn, &t, secret) {
                Err(WebhookError::Invalid(m)) => assert!(m.contains_key(field), "{t:?}: {m:?}"),
                other => panic!("{t:?}: {other:?}"),
            }
        }
        let n: i64 = conn
            .query_row("SELECT count(*) FROM _webhooks", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 0, "nothing stored");
    }

    #[test]
    fn deliveries_are_queued_only_for_an_enabled_target_of_the_owner() {
        let conn = db();
        let mut t = AppTarget::new("app-1", "app", "https://hooks.example.com/a");
        set_app_target(&conn, &t, None).expect("set");
        let body = json!({"text": "hi"});
        assert!(queue_app(&conn, "app", "app-1", "hello", &body).expect("queued"));
        assert!(!queue_app(&conn, "other", "app-1", "hello", &body).expect("not theirs"));
        assert!(!queue_app(&conn, "app", "app-2", "hello", &body).expect("no target"));
        assert!(queue_app(&conn, "app", "app-1", "bad event", &body).is_err());
        t.enabled = false;
        set_app_target(&conn, &t, None).expect("off");
        assert!(!queue_app(&conn, "app", "app-1", "hello", &body).expect("off"));
        assert_eq!(
            deliveries(&conn),
            [(
                "app-1".to_string(),
                "hello".to_string(),
                body.to_string(),
                "pending".to_string()
            )]
        );

        // Same URL: the pending delivery stays; a new URL drops it.
        t.enabled = true;
        set_app_target(&conn, &t, None).expect("on");
        assert_eq!(deliveries(&conn).len(), 1);
        t.url = "https://hooks.example.com/b".into();
        set_app_target(&conn, &t, None).expect("moved");
        assert!(deliveries(&conn).is_empty(), "not sent to another receiver");

        queue_app(&conn, "app", "app-1", "hello", &body).expect("queued");
        conn.execute_batch("PRAGMA foreign_keys = ON").expect("fk");
        remove_app_target(&conn, "app", "app-1").expect("removed");
        assert!(deliveries(&conn).is_empty(), "the log goes with the target");
    }

    #[test]
    fn superuser_listing_never_shows_app_targets() {
        let conn = db();
        set_app_target(
            &conn,
            &AppTarget::new("app-1", "app", "https://x.example.com"),
            None,
        )
        .expect("set");
        assert!(
            super::super::store::load_all(&conn)
                .expect("list")
                .is_empty()
        );
    }
}
