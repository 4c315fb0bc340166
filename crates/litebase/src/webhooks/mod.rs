//! Outgoing webhooks: a superuser asks for a collection's committed changes to be
//! POSTed, as JSON in PocketBase's realtime event shape (`{"action", "record"}`),
//! to a URL of theirs, signed with an HMAC header.
//!
//! Nothing is lost and nothing is made up: a record hook ([`outbox`]) writes the
//! delivery row inside the transaction of the change it reports, so a committed
//! change always has its delivery (even if the process dies right after the
//! COMMIT) and a rolled-back one never has. The [`sender`] is woken from the commit
//! stream, posts due deliveries after their commit, retries failures with backoff,
//! and keeps each delivery's outcome as the log the admin shows.
//!
//! Apps own targets too ([`app`]): a URL they post their own JSON to, queued by
//! the app inside its write and sent by the same sender.

pub mod app;
pub mod outbox;
pub mod sender;
pub mod signature;
pub mod store;

use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::changes::RecordAction;
use crate::db::DbError;
use crate::error::ApiError;

/// One configured webhook, as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// 15-character id.
    pub id: String,
    /// The id of the collection whose changes are sent.
    pub collection: String,
    /// Where they are POSTed (`http` or `https`).
    pub url: String,
    /// Which actions are sent: some of `create`, `update`, `delete`.
    pub actions: Vec<String>,
    /// The HMAC-SHA256 key of the `X-Litebase-Signature` header.
    pub secret: String,
    /// Off: nothing new is queued and pending deliveries wait.
    pub enabled: bool,
    /// When it was created.
    pub created: String,
    /// When it last changed.
    pub updated: String,
}

impl Webhook {
    /// Whether a change of `action` on collection `collection_id` goes to it.
    pub fn wants(&self, action: RecordAction, collection_id: &str) -> bool {
        self.enabled
            && self.collection == collection_id
            && self.actions.iter().any(|a| a == action.as_str())
    }
}

/// The webhooks in force, kept in memory so the record hook decides on the
/// writer thread, without IO, whether a change has anywhere to go.
#[derive(Default)]
pub struct Registry {
    hooks: RwLock<Arc<[Webhook]>>,
    pub(crate) changed: tokio::sync::Notify,
}

impl Registry {
    /// Puts `all` in force (after they were stored).
    pub fn replace(&self, all: Vec<Webhook>) {
        *self.hooks.write().unwrap_or_else(|p| p.into_inner()) = all.into();
        self.changed.notify_one();
    }

    /// The enabled webhooks a change of `action` on `collection_id` goes to.
    pub fn matching(&self, action: RecordAction, collection_id: &str) -> Vec<Webhook> {
        self.snapshot()
            .iter()
            .filter(|w| w.wants(action, collection_id))
            .cloned()
            .collect()
    }

    /// Whether any enabled webhook wants such a change (asked for every write).
    pub fn wants(&self, action: RecordAction, collection_id: &str) -> bool {
        self.snapshot()
            .iter()
            .any(|w| w.wants(action, collection_id))
    }

    /// Asks the sender to look for due deliveries now (a retry was requested).
    pub fn nudge(&self) {
        self.changed.notify_one();
    }

    fn snapshot(&self) -> Arc<[Webhook]> {
        self.hooks.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Why a webhook request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No webhook (or delivery) with that id.
    #[error("webhook not found")]
    NotFound,
    /// The submitted webhook is not valid; field → PocketBase's `{code, message}`.
    #[error("invalid webhook")]
    Invalid(Map<String, Value>),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for WebhookError {
    fn from(e: rusqlite::Error) -> Self {
        WebhookError::Db(e.into())
    }
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::NotFound => ApiError::not_found(),
            WebhookError::Invalid(data) => {
                ApiError::bad_request("An error occurred while validating the submitted data.")
                    .with_data(data)
            }
            WebhookError::Db(e) => e.into(),
        }
    }
}
