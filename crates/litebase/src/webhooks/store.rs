//! Storing webhooks and reading their delivery log: what the superusers' API and
//! the admin page call. Every change also puts the new set in force in the
//! [`Registry`] once it is committed. Only superusers' webhooks (`owner` empty)
//! are seen here: the targets apps own are theirs ([`super::app`]).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Registry, Webhook, WebhookError};
use crate::changes::RecordAction;
use crate::db::Db;
use crate::schema::{CollectionType, Schema};

/// Delivered and failed deliveries are kept this long in the log.
pub const KEEP_LOG: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The actions a webhook can send, in the order they are listed.
pub const ACTIONS: [RecordAction; 3] = [
    RecordAction::Create,
    RecordAction::Update,
    RecordAction::Delete,
];

/// A webhook as submitted: on create every field but `secret` and `enabled` is
/// required; on update what is missing stays as it was.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInput {
    /// The collection's id or name.
    pub collection: Option<String>,
    /// The receiver's URL.
    pub url: Option<String>,
    /// Some of `create`, `update`, `delete`.
    pub actions: Option<Vec<String>>,
    /// The signing key (a random one when left out on create).
    pub secret: Option<String>,
    /// Whether changes are sent (on by default).
    pub enabled: Option<bool>,
}

fn problem(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

/// `input` applied to `base` (a new webhook's defaults, or the stored one),
/// checked; the collection is stored by id.
pub fn merge(
    schema: &Schema,
    mut base: Webhook,
    input: WebhookInput,
) -> Result<Webhook, WebhookError> {
    let mut problems = Map::new();
    if let Some(c) = input.collection {
        match schema.get(c.trim()) {
            Some(col) if col.kind == CollectionType::View => {
                problems.insert(
                    "collection".into(),
                    problem(
                        "validation_invalid_collection",
                        "View collections have no changes to send.",
                    ),
                );
            }
            Some(col) => base.collection = col.id.clone(),
            None => {
                problems.insert(
                    "collection".into(),
                    problem(
                        "validation_missing_collection",
                        "Missing or invalid collection.",
                    ),
                );
            }
        }
    }
    if base.collection.is_empty() && !problems.contains_key("collection") {
        problems.insert(
            "collection".into(),
            problem("validation_required", "Cannot be blank."),
        );
    }
    if let Some(url) = input.url {
        base.url = url.trim().to_string();
    }
    if base.url.is_empty() {
        problems.insert(
            "url".into(),
            problem("validation_required", "Cannot be blank."),
        );
    } else if !is_http_url(&base.url) {
        problems.insert(
            "url".into(),
            problem("validation_is_url", "Must be a valid http or https URL."),
        );
    }
    if let Some(actions) = input.actions {
        let mut picked = Vec::new();
        for a in &actions {
            match ACTIONS.iter().find(|known| known.as_str() == a.trim()) {
                Some(known) if !picked.contains(&known.as_str().to_string()) => {
                    picked.push(known.as_str().to_string())
                }
                Some(_) => {}
                None => {
                    problems.insert(
                        "actions".into(),
                        problem(
                            "validation_invalid_value",
                            "Each action must be one of create, update, delete.",
                        ),
                    );
                }
            }
        }
        // Stored in the one order the admin lists them.
        picked.sort_by_key(|a| ACTIONS.iter().position(|k| k.as_str() == a));
        base.actions = picked;
    }
    if base.actions.is_empty() && !problems.contains_key("actions") {
        problems.insert(
            "actions".into(),
            problem("validation_required", "Cannot be blank."),
        );
    }
    if let Some(secret) = input.secret {
        base.secret = secret;
    }
    if base.secret.chars().count() < 16 {
        problems.insert(
            "secret".into(),
            problem(
                "validation_min_text_constraint",
                "Must be at least 16 character(s).",
            ),
        );
    }
    if let Some(enabled) = input.enabled {
        base.enabled = enabled;
    }
    if problems.is_empty() {
        Ok(base)
    } else {
        Err(WebhookError::Invalid(problems))
    }
}

/// `http://host…` or `https://host…` with a host and no spaces.
pub(crate) fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            !host.is_empty()
                && !host.starts_with(':')
                && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

fn now() -> String {
    crate::query::format_datetime(time::OffsetDateTime::now_utc())
}

fn row_to_webhook(row: &rusqlite::Row<'_>) -> rusqlite::Result<Webhook> {
    let actions: String = row.get(3)?;
    Ok(Webhook {
        id: row.get(0)?,
        collection: row.get(1)?,
        url: row.get(2)?,
        actions: serde_json::from_str(&actions).unwrap_or_default(),
        secret: row.get(4)?,
        enabled: row.get(5)?,
        created: row.get(6)?,
        updated: row.get(7)?,
    })
}

const COLUMNS: &str = "id, collection, url, actions, secret, enabled, created, updated";

/// Every superuser's webhook, oldest first.
pub fn load_all(conn: &Connection) -> rusqlite::Result<Vec<Webhook>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM _webhooks WHERE owner = '' ORDER BY created, id"
    ))?
    .query_map([], row_to_webhook)?
    .collect()
}

fn load_one(conn: &Connection, id: &str) -> rusqlite::Result<Option<Webhook>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM _webhooks WHERE id = ?1 AND owner = ''"
    ))?
    .query_row([id], row_to_webhook)
    .optional()
}

fn save(conn: &Connection, w: &Webhook) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO _webhooks (id, collection, url, actions, secret, enabled, created, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET collection = ?2, url = ?3, actions = ?4,
           secret = ?5, enabled = ?6, updated = ?8
         WHERE _webhooks.owner = ''",
        params![
            w.id,
            w.collection,
            w.url,
            json!(w.actions).to_string(),
            w.secret,
            w.enabled,
            w.created,
            w.updated
        ],
    )?;
    Ok(())
}

/// The stored webhooks and their handles: the database, the registry to keep
/// in step.
#[derive(Clone)]
pub struct Webhooks {
    db: Db,
    registry: std::sync::Arc<Registry>,
}

impl Webhooks {
    /// Loads the stored webhooks into `registry`.
    pub async fn load(db: Db, registry: std::sync::Arc<Registry>) -> Result<Self, WebhookError> {
        let all = db
            .read(|conn| Ok::<_, WebhookError>(load_all(conn)?))
            .await?;
        registry.replace(all);
        Ok(Webhooks { db, registry })
    }

    /// The registry the record hook and the sender read.
    pub fn registry(&self) -> &std::sync::Arc<Registry> {
        &self.registry
    }

    /// The database the webhooks and their outbox live in.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Reads the stored webhooks again (after a backup was restored).
    pub async fn reload(&self) -> Result<(), WebhookError> {
        let all = self.list().await?;
        self.registry.replace(all);
        Ok(())
    }

    /// Every webhook.
    pub async fn list(&self) -> Result<Vec<Webhook>, WebhookError> {
        self.db
            .read(|conn| Ok::<_, WebhookError>(load_all(conn)?))
            .await
    }

    /// One webhook.
    pub async fn get(&self, id: &str) -> Result<Webhook, WebhookError> {
        let id = id.to_string();
        self.db
            .read(move |conn| load_one(conn, &id)?.ok_or(WebhookError::NotFound))
            .await
    }

    /// Stores a new webhook.
    pub async fn create(
        &self,
        schema: &Schema,
        input: WebhookInput,
    ) -> Result<Webhook, WebhookError> {
        let stamp = now();
        let fresh = Webhook {
            id: crate::id::new_id(),
            collection: String::new(),
            url: String::new(),
            actions: Vec::new(),
            secret: crate::id::random_string(
                32,
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            ),
            enabled: true,
            created: stamp.clone(),
            updated: stamp,
        };
        let w = merge(schema, fresh, input)?;
        self.store(w).await
    }

    /// Changes a stored webhook.
    pub async fn update(
        &self,
        schema: &Schema,
        id: &str,
        input: WebhookInput,
    ) -> Result<Webhook, WebhookError> {
        let mut w = merge(schema, self.get(id).await?, input)?;
        w.updated = now();
        self.store(w).await
    }

    async fn store(&self, w: Webhook) -> Result<Webhook, WebhookError> {
        let saved = w.clone();
        let all = self
            .db
            .write(move |conn| {
                save(conn, &w)?;
                Ok::<_, WebhookError>(load_all(conn)?)
            })
            .await?;
        self.registry.replace(all);
        Ok(saved)
    }

    /// Removes a webhook and its delivery log.
    pub async fn delete(&self, id: &str) -> Result<(), WebhookError> {
        let id = id.to_string();
        let all = self
            .db
            .write(move |conn| {
                if conn.execute("DELETE FROM _webhooks WHERE id = ?1 AND owner = ''", [&id])? == 0 {
                    return Err(WebhookError::NotFound);
                }
                Ok(load_all(conn)?)
            })
            .await?;
        self.registry.replace(all);
        Ok(())
    }

    /// A page of a webhook's deliveries, newest first, in PocketBase's list
    /// envelope.
    pub async fn deliveries(
        &self,
        id: &str,
        page: usize,
        per_page: usize,
    ) -> Result<Value, WebhookError> {
        let id = id.to_string();
        let (page, per_page) = (page.max(1), per_page.clamp(1, 500));
        self.db
            .read(move |conn| {
                if load_one(conn, &id)?.is_none() {
                    return Err(WebhookError::NotFound);
                }
                let total: i64 = conn.query_row(
                    "SELECT count(*) FROM _webhookDeliveries WHERE webhook = ?1",
                    [&id],
                    |r| r.get(0),
                )?;
                let items: Vec<Value> = conn
                    .prepare_cached(
                        "SELECT id, webhook, action, record, payload, status, attempts,
                                nextAttempt, lastStatus, lastError, created, updated
                         FROM _webhookDeliveries WHERE webhook = ?1
                         ORDER BY created DESC, rowid DESC LIMIT ?2 OFFSET ?3",
                    )?
                    .query_map(
                        params![id, per_page as i64, ((page - 1) * per_page) as i64],
                        delivery_json,
                    )?
                    .collect::<Result<_, _>>()?;
                Ok(json!({
                    "page": page,
                    "perPage": per_page,
                    "totalItems": total,
                    "totalPages": (total + per_page as i64 - 1) / per_page as i64,
                    "items": items,
                }))
            })
            .await
    }

    /// Forgets delivered and failed deliveries older than [`KEEP_LOG`] (the
    /// `__lbWebhooksCleanup__` cron job); answers how many.
    pub async fn prune(&self) -> Result<usize, WebhookError> {
        let cutoff = crate::query::format_datetime(time::OffsetDateTime::now_utc() - KEEP_LOG);
        self.db
            .write(move |conn| {
                Ok(conn.execute(
                    "DELETE FROM _webhookDeliveries WHERE status != 'pending' AND updated < ?1",
                    [cutoff],
                )?)
            })
            .await
    }

    /// Sends a delivery again now (a failed one gets a fresh round of attempts).
    pub async fn retry(&self, webhook: &str, delivery: &str) -> Result<(), WebhookError> {
        let (webhook, delivery) = (webhook.to_string(), delivery.to_string());
        self.db
            .write(move |conn| {
                let changed = conn.execute(
                    "UPDATE _webhookDeliveries SET status = 'pending', attempts = 0,
                       nextAttempt = 0, updated = ?3 WHERE id = ?1 AND webhook = ?2
                       AND webhook IN (SELECT id FROM _webhooks WHERE owner = '')",
                    params![delivery, webhook, now()],
                )?;
                if changed == 0 {
                    return Err(WebhookError::NotFound);
                }
                Ok(())
            })
            .await?;
        self.registry.nudge();
        Ok(())
    }
}

fn delivery_json(row: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    let payload: String = row.get(4)?;
    let next_ms: i64 = row.get(7)?;
    let next = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(next_ms) * 1_000_000)
        .map(crate::query::format_datetime)
        .unwrap_or_default();
    let status: String = row.get(5)?;
    Ok(json!({
        "id": row.get::<_, String>(0)?,
        "webhook": row.get::<_, String>(1)?,
        "action": row.get::<_, String>(2)?,
        "record": row.get::<_, String>(3)?,
        "payload": serde_json::from_str::<Value>(&payload).unwrap_or(Value::Null),
        "nextAttempt": if status == "pending" { next } else { String::new() },
        "status": status,
        "attempts": row.get::<_, i64>(6)?,
        "lastStatus": row.get::<_, i64>(8)?,
        "lastError": row.get::<_, String>(9)?,
        "created": row.get::<_, String>(10)?,
        "updated": row.get::<_, String>(11)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::is_http_url;

    #[test]
    fn only_http_urls_with_a_host() {
        for ok in [
            "http://127.0.0.1:9000/hook",
            "https://example.com",
            "https://example.com/a?b=c",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "",
            "ftp://example.com",
            "http://",
            "https:///path",
            "http://:80/",
            "http://exa mple.com",
            "javascript:alert(1)",
            "example.com",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
    }
}
