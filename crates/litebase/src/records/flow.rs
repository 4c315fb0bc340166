//! One write transaction for an auth flow that writes both as the client and as
//! the system: OAuth2 sign-up creates the record under the collection's create
//! rule (the client's request, `@request.context = "oauth2"`), then marks it
//! verified and links the provider's user with system access — all or nothing.
//! Every write goes through the record pipeline (hooks, validation, the commit
//! stream), as every change the client's request caused.

use std::sync::Arc;

use rusqlite::Connection;
use serde_json::{Map, Value};

use super::error::RecordError;
use super::missing_collection;
use super::service::{Caller, Records};
use super::write::{self, PreparedAuth, WriteCtx};
use crate::db::DbError;
use crate::query::RequestInfo;
use crate::schema::{Collection, Schema};

/// Files the client's create of a flow names, already stored under `new_id`
/// (an OAuth2 sign-up's avatar downloaded into a file field).
#[derive(Debug, Default)]
pub struct FlowUploads {
    /// The stored uploads, as the write checks them.
    pub files: Vec<super::uploads::NewFile>,
    /// The id the created record gets (its uploads were stored under it).
    pub new_id: Option<String>,
}

/// The transaction of [`Records::flow_write`].
pub struct FlowTx<'a> {
    conn: &'a Connection,
    schema: &'a Schema,
    client: WriteCtx<'a>,
    system: WriteCtx<'a>,
}

impl Records {
    /// Runs `f` in one write transaction where [`FlowTx::create_as_client`]
    /// writes as `caller` (rules and validation; `context` is what
    /// `@request.context` says) and the other methods write with system access.
    /// `password_hash` is the hash of the `password` a client create carries
    /// (hashed beforehand: argon2 never runs on the writer thread). Every change
    /// is announced as the client's request.
    pub async fn flow_write<T, E, F>(
        &self,
        caller: &Caller,
        context: &'static str,
        password_hash: Option<String>,
        uploads: FlowUploads,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&FlowTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let schema = self.schema.current();
        let hooks = self.hooks.clone();
        let superuser = caller.bypasses_rules();
        let origin = caller.origin();
        let mut client_req = caller.info("POST", Map::new());
        client_req.context = context.to_string();
        self.db
            .write(move |conn| {
                let system_req = RequestInfo::default();
                let tx = FlowTx {
                    conn,
                    schema: &schema,
                    client: WriteCtx {
                        hooks: &hooks,
                        origin,
                        schema: &schema,
                        req: &client_req,
                        superuser,
                        validate: true,
                        auth: PreparedAuth {
                            password_hash,
                            old_password_ok: false,
                        },
                        uploads: &uploads.files,
                        new_id: uploads.new_id.clone(),
                    },
                    system: WriteCtx {
                        hooks: &hooks,
                        origin,
                        schema: &schema,
                        req: &system_req,
                        superuser: true,
                        validate: true,
                        auth: PreparedAuth::default(),
                        uploads: &[],
                        new_id: None,
                    },
                };
                f(&tx)
            })
            .await
    }
}

impl FlowTx<'_> {
    /// The transaction's connection, for reads.
    pub fn conn(&self) -> &Connection {
        self.conn
    }

    fn collection(&self, name: &str) -> Result<Arc<Collection>, RecordError> {
        self.schema
            .get(name)
            .cloned()
            .ok_or_else(missing_collection)
    }

    /// Creates a record as the client: the create rule (with `body` as
    /// `@request.body`), validation, hooks. Returns it as stored (hidden
    /// fields included).
    pub fn create_as_client(
        &self,
        collection: &str,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, RecordError> {
        let c = self.collection(collection)?;
        write::create(self.conn, &self.client, &c, body)
    }

    /// Creates a record with system access (validated, hooks run).
    pub fn create(
        &self,
        collection: &str,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, RecordError> {
        let c = self.collection(collection)?;
        write::create(self.conn, &self.system, &c, body)
    }

    /// Changes fields of record `id` with system access.
    pub fn update(
        &self,
        collection: &str,
        id: &str,
        patch: &Map<String, Value>,
    ) -> Result<Map<String, Value>, RecordError> {
        let c = self.collection(collection)?;
        write::update(self.conn, &self.system, &c, id, patch).map(|(r, _)| r)
    }

    /// Deletes record `id` with system access (cascades included).
    pub fn delete(&self, collection: &str, id: &str) -> Result<(), RecordError> {
        let c = self.collection(collection)?;
        write::delete(self.conn, &self.system, &c, id)
    }

    /// Gives auth record `id` a new password (already hashed) and token key.
    pub fn set_password(&self, collection: &str, id: &str, hash: &str) -> Result<(), RecordError> {
        let c = self.collection(collection)?;
        super::accounts::set_password(self.conn, self.system.hooks, &c, id, hash)
    }
}
