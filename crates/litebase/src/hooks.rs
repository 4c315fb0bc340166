//! Record hooks: code an app runs around every create, update and delete, chained
//! like PocketBase's `e.Next()`.
//!
//! A hook gets the event and `next`; it may change the record, call
//! `next.run(e)` to go on (the last link writes the record), do more after it, or
//! return an error to abort — the whole write is then rolled back and the client
//! gets that error. Hooks run on the writer thread inside the write's transaction,
//! so they must be quick and must not block on the network. Work that should
//! happen only once the change is durable belongs in an `after_commit` hook:
//! those follow the commit stream ([`crate::changes`]) on a thread of their own,
//! in commit order, for every committed change whoever made it (the API, the
//! admin UI, an app's own writes — [`RecordChange::origin`] says which).
//!
//! ```
//! # use litebase::hooks::{Hooks, RecordAction};
//! let mut hooks = Hooks::default();
//! hooks.on(RecordAction::Create, Some("posts"), |e, next| {
//!     let title = e.record.get("title").and_then(|v| v.as_str()).unwrap_or("").trim().to_string();
//!     e.record.insert("title".into(), title.into());
//!     next.run(e)
//! });
//! ```

use std::sync::Arc;

use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::changes::{ChangeStream, Committed};
pub use crate::changes::{RecordAction, RecordChange};
use crate::error::ApiError;
use crate::schema::Collection;

/// A record about to be written, as hooks see it.
pub struct RecordEvent<'a> {
    /// What is being done.
    pub action: RecordAction,
    /// The record's collection.
    pub collection: &'a Collection,
    /// The record's values (for delete: as stored).
    pub record: Map<String, Value>,
    /// The write transaction, for hooks that read or write other rows.
    pub conn: &'a Connection,
}

/// A link of a hook chain.
pub type HookFn = Arc<dyn Fn(&mut RecordEvent<'_>, Next<'_>) -> Result<(), ApiError> + Send + Sync>;
/// An after-commit hook.
pub type AfterFn = Arc<dyn Fn(&RecordChange) + Send + Sync>;

/// The rest of the chain; the final link performs the write.
pub struct Next<'h> {
    rest: Vec<&'h HookFn>,
    last: &'h mut dyn FnMut(&mut RecordEvent<'_>) -> Result<(), ApiError>,
}

impl Next<'_> {
    /// Runs the remaining hooks, then the write itself.
    pub fn run(mut self, e: &mut RecordEvent<'_>) -> Result<(), ApiError> {
        if self.rest.is_empty() {
            return (self.last)(e);
        }
        let hook = self.rest.remove(0);
        hook(e, self)
    }
}

struct Registered<F> {
    action: RecordAction,
    collection: Option<String>,
    /// Changes an app made itself, which this hook does not want.
    skip_app: Option<&'static str>,
    f: F,
}

impl<F> Registered<F> {
    fn applies(&self, action: RecordAction, collection: &Collection) -> bool {
        self.action == action
            && self
                .collection
                .as_deref()
                .is_none_or(|c| c == collection.name || c == collection.id)
    }

    fn wants(&self, change: &RecordChange) -> bool {
        self.applies(change.action, &change.collection)
            && self
                .skip_app
                .is_none_or(|app| change.origin != crate::changes::Origin::App(app))
    }
}

/// Every hook an app registered.
#[derive(Default)]
pub struct Hooks {
    chain: Vec<Registered<HookFn>>,
    after: Vec<Registered<AfterFn>>,
}

impl Hooks {
    /// Adds a link to the chain of `action` on `collection` (`None`: every collection).
    /// Links run in the order they were added.
    pub fn on(
        &mut self,
        action: RecordAction,
        collection: Option<&str>,
        f: impl Fn(&mut RecordEvent<'_>, Next<'_>) -> Result<(), ApiError> + Send + Sync + 'static,
    ) {
        self.chain.push(Registered {
            action,
            collection: collection.map(str::to_string),
            skip_app: None,
            f: Arc::new(f),
        });
    }

    /// Adds a hook that runs after a change of `action` on `collection` has committed.
    pub fn after_commit(
        &mut self,
        action: RecordAction,
        collection: Option<&str>,
        f: impl Fn(&RecordChange) + Send + Sync + 'static,
    ) {
        self.add_after(None, action, collection, Arc::new(f));
    }

    /// Like [`Hooks::after_commit`], for changes made by anyone but `app`'s own
    /// system writes (see [`crate::records::service::Records::app_write`]): an
    /// app's live state follows other people's edits without hearing its own,
    /// and its own writes wake no hook thread.
    pub fn after_commit_of_others(
        &mut self,
        app: &'static str,
        action: RecordAction,
        collection: Option<&str>,
        f: impl Fn(&RecordChange) + Send + Sync + 'static,
    ) {
        self.add_after(Some(app), action, collection, Arc::new(f));
    }

    fn add_after(
        &mut self,
        skip_app: Option<&'static str>,
        action: RecordAction,
        collection: Option<&str>,
        f: AfterFn,
    ) {
        self.after.push(Registered {
            action,
            collection: collection.map(str::to_string),
            skip_app,
            f,
        });
    }

    /// Runs the chain for `e`, ending with `write`.
    pub fn run(
        &self,
        e: &mut RecordEvent<'_>,
        write: &mut dyn FnMut(&mut RecordEvent<'_>) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let rest: Vec<&HookFn> = self
            .chain
            .iter()
            .filter(|h| h.applies(e.action, e.collection))
            .map(|h| &h.f)
            .collect();
        Next { rest, last: write }.run(e)
    }

    /// Runs the after-commit hooks for a committed change.
    fn committed(&self, change: &RecordChange) {
        for h in &self.after {
            if h.wants(change) {
                let run = std::panic::AssertUnwindSafe(|| (h.f)(change));
                if std::panic::catch_unwind(run).is_err() {
                    tracing::error!(
                        collection = %change.collection.name,
                        "an after-commit hook panicked; the next ones still run"
                    );
                }
            }
        }
    }

    /// Runs the after-commit hooks for every change of the commit stream, in
    /// commit order, on a thread of their own (a hook never holds up the writer
    /// or a request). Without after-commit hooks no thread is started.
    pub fn follow(hooks: Arc<Hooks>, stream: &ChangeStream) -> std::io::Result<()> {
        if hooks.after.is_empty() {
            return Ok(());
        }
        let wanted = hooks.clone();
        let mut changes =
            stream.subscribe_where(Arc::new(move |c| wanted.after.iter().any(|h| h.wants(c))));
        std::thread::Builder::new()
            .name("litebase-after-commit".into())
            .spawn(move || {
                while let Some(item) = changes.blocking_recv() {
                    if let Committed::Changes(batch) = item {
                        for change in batch.iter() {
                            hooks.committed(change);
                        }
                    }
                }
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn posts() -> Collection {
        serde_json::from_value(json!({"name": "posts"})).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn hooks_chain_in_order_can_change_the_record_and_abort() -> Result<(), ApiError> {
        let mut hooks = Hooks::default();
        hooks.on(RecordAction::Create, None, |e, next| {
            e.record.insert("trail".into(), json!("a"));
            next.run(e)?;
            e.record.insert("after".into(), json!(true));
            Ok(())
        });
        hooks.on(RecordAction::Create, Some("posts"), |e, next| {
            let t = format!("{}b", e.record["trail"].as_str().unwrap_or_default());
            e.record.insert("trail".into(), json!(t));
            next.run(e)
        });
        hooks.on(RecordAction::Create, Some("other"), |_, _| {
            Err(ApiError::bad_request("must not run for posts"))
        });
        let conn = Connection::open_in_memory().map_err(|_| ApiError::internal())?;
        let c = posts();
        let mut e = RecordEvent {
            action: RecordAction::Create,
            collection: &c,
            record: Map::new(),
            conn: &conn,
        };
        let mut written = None;
        hooks.run(&mut e, &mut |e| {
            written = Some(e.record["trail"].clone());
            Ok(())
        })?;
        assert_eq!(written, Some(json!("ab")));
        assert_eq!(e.record["after"], json!(true));

        hooks.on(RecordAction::Create, None, |_, _| {
            Err(ApiError::bad_request("no"))
        });
        let mut wrote = false;
        let err = hooks.run(&mut e, &mut |_| {
            wrote = true;
            Ok(())
        });
        assert!(err.is_err());
        assert!(!wrote, "an aborting hook stops the write");
        Ok(())
    }
}
