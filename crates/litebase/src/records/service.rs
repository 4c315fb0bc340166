//! The record service: the one way records are read and written, whoever asks —
//! the REST API, the admin UI, a batch, or an app's own code. It is where
//! PocketBase keeps its `core`: the HTTP layers only translate requests into
//! calls here and results back into answers.
//!
//! Every write runs the same pipeline on the writer thread — rules (unless the
//! caller has system access), coercion and validation, hooks, the row, cascades —
//! and announces each change it made; the changes reach every subscriber of the
//! commit stream ([`crate::changes`]) once the transaction commits. Nothing here
//! calls an after-commit step by hand.
//!
//! ```no_run
//! # async fn demo(records: &litebase::records::service::Records) -> Result<(), litebase::records::RecordError> {
//! use litebase::records::service::Caller;
//! let body = serde_json::json!({"title": "hello"});
//! let body = body.as_object().cloned().unwrap_or_default();
//! let note = records.create(&Caller::system(), "notes", body).await?;
//! # drop(note); Ok(()) }
//! ```

use std::sync::Arc;

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::error::RecordError;
use super::read::{self, ListQuery, ReadCtx, param};
use super::uploads;
use super::write::{self, PreparedAuth, WriteCtx};
use super::{missing_collection, rules};
use crate::auth::request::Auth;
use crate::changes::Origin;
use crate::db::{Db, DbError};
use crate::error::ApiError;
use crate::files::{Files, Upload};
use crate::hooks::Hooks;
use crate::query::RequestInfo;
use crate::schema::{Collection, CollectionType, Schema, SchemaCache};

/// Most sub-requests in one batch.
pub const MAX_BATCH_REQUESTS: usize = 50;

/// Who asks, and what of the request rules may read besides the body
/// (`@request.query.*`, `@request.headers.*`; `?expand`/`?fields` shape answers).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The requester; a superuser bypasses every rule.
    pub auth: Auth,
    /// Whether rules apply (a client) or not (an app's own code).
    pub access: Access,
    /// The query string as a JSON object of strings.
    pub query: Map<String, Value>,
    /// The headers, named as rules see them.
    pub headers: Map<String, Value>,
}

/// Whether a caller is held to the collections' rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Access {
    /// A client: the rules decide (superusers bypass them).
    #[default]
    Rules,
    /// An app's own code: no rule applies; its changes say which app made them.
    System(&'static str),
}

impl Caller {
    /// A client request as `auth`, with its query and headers.
    pub fn request(auth: Auth, query: Map<String, Value>, headers: Map<String, Value>) -> Self {
        Caller {
            auth,
            access: Access::Rules,
            query,
            headers,
        }
    }

    /// An app's own code (named `app` in the changes it makes): every rule bypassed.
    pub fn app(app: &'static str) -> Self {
        Caller {
            access: Access::System(app),
            ..Caller::default()
        }
    }

    /// litebase's own system access (maintenance, tests).
    pub fn system() -> Self {
        Caller::app("litebase")
    }

    pub(super) fn bypasses_rules(&self) -> bool {
        self.auth.is_superuser() || matches!(self.access, Access::System(_))
    }

    pub(super) fn origin(&self) -> Origin {
        match self.access {
            Access::Rules => Origin::Request,
            Access::System(app) => Origin::App(app),
        }
    }

    pub(super) fn info(&self, method: &str, body: Map<String, Value>) -> RequestInfo {
        rules::request_info(
            &self.auth,
            method,
            self.query.clone(),
            self.headers.clone(),
            body,
        )
    }
}

/// Why a batch was refused; nothing of it was written either way.
#[derive(Debug)]
pub enum BatchError {
    /// The batch as a whole (empty, too long, the database failing).
    Whole(RecordError),
    /// Sub-request `index` was refused, with this error.
    Item {
        /// Its position in the batch.
        index: usize,
        /// Its own error, as the single request would have answered.
        error: RecordError,
    },
}

impl From<DbError> for BatchError {
    fn from(e: DbError) -> Self {
        BatchError::Whole(e.into())
    }
}

/// The record service's handles: the database, the schema in force and the app's
/// hooks. Cheap to clone.
#[derive(Clone)]
pub struct Records {
    pub(super) db: Db,
    pub(super) schema: Arc<SchemaCache>,
    pub(super) hooks: Arc<Hooks>,
    pub(super) master_secret: Arc<str>,
    pub(super) files: Arc<Files>,
}

struct Target {
    schema: Arc<Schema>,
    collection: Arc<Collection>,
}

/// The uploads of one write, stored before it runs.
#[derive(Default)]
struct StoredUploads {
    /// What the write checks.
    files: Vec<uploads::NewFile>,
    /// The id a create uses (its uploads were stored under it).
    new_id: Option<String>,
    /// The record's id the uploads were stored under.
    folder: String,
    /// The stored names.
    stored: Vec<String>,
}

impl StoredUploads {
    /// After the write: removes the stored uploads `record` (the write's result,
    /// `None` when it failed) does not name.
    async fn finish(
        self,
        files: &Arc<Files>,
        collection: &Collection,
        record: Option<&Map<String, Value>>,
    ) {
        if !self.stored.is_empty() {
            uploads::remove_unkept(files, collection, &self.folder, self.stored, record).await;
        }
    }
}

/// What one write is about.
struct WriteRequest {
    method: &'static str,
    body: Map<String, Value>,
    op: WriteOp,
    id: String,
    files: Vec<Upload>,
}

/// A single write, run on the writer's transaction.
type WriteOp = fn(
    &Connection,
    &WriteCtx<'_>,
    &Arc<Collection>,
    &str,
    &Map<String, Value>,
) -> Result<Map<String, Value>, RecordError>;

impl Records {
    /// The service over `db`, with the schema cache and hooks the app runs with,
    /// the instance's secret that tokens derive from, and where uploaded files go.
    pub fn new(
        db: Db,
        schema: Arc<SchemaCache>,
        hooks: Arc<Hooks>,
        master_secret: Arc<str>,
        files: Arc<Files>,
    ) -> Self {
        Records {
            db,
            schema,
            hooks,
            master_secret,
            files,
        }
    }

    /// Where uploaded files are kept.
    pub fn files(&self) -> &Arc<Files> {
        &self.files
    }

    /// The database, for an app's own reads.
    pub fn db(&self) -> &Db {
        &self.db
    }

    fn target(&self, name: &str) -> Result<Target, RecordError> {
        let schema = self.schema.current();
        let collection = schema.get(name).cloned().ok_or_else(missing_collection)?;
        Ok(Target { schema, collection })
    }

    /// Whether collection `name` exists (for handlers that answer 404 before
    /// reading a body).
    pub fn check_collection(&self, name: &str) -> Result<(), RecordError> {
        self.target(name).map(|_| ())
    }

    /// A page of records (rules, filter, sort, paging, expand, fields from
    /// `caller.query`).
    pub async fn list(&self, caller: &Caller, name: &str) -> Result<Value, RecordError> {
        let Target { schema, collection } = self.target(name)?;
        let q = ListQuery::parse(&caller.query)?;
        let info = caller.info("GET", Map::new());
        let superuser = caller.bypasses_rules();
        self.db
            .read(move |conn| {
                let ctx = ReadCtx {
                    schema: &schema,
                    req: &info,
                    superuser,
                };
                read::list(conn, &ctx, &collection, &q)
            })
            .await
    }

    /// One record by id, if the view rule lets the caller see it.
    pub async fn view(
        &self,
        caller: &Caller,
        name: &str,
        id: String,
    ) -> Result<Map<String, Value>, RecordError> {
        let Target { schema, collection } = self.target(name)?;
        let expand = param(&caller.query, "expand").to_string();
        let fields = param(&caller.query, "fields").to_string();
        let info = caller.info("GET", Map::new());
        let superuser = caller.bypasses_rules();
        self.db
            .read(move |conn| {
                let ctx = ReadCtx {
                    schema: &schema,
                    req: &info,
                    superuser,
                };
                let mut items = [read::view(conn, &ctx, &collection, &id)?];
                read::finish(conn, &ctx, &collection, &mut items, &expand, &fields)?;
                let [one] = items;
                Ok::<_, RecordError>(one)
            })
            .await
    }

    /// Creates a record (rules, validation, hooks); returns it as the caller may
    /// see it.
    pub async fn create(
        &self,
        caller: &Caller,
        name: &str,
        body: Map<String, Value>,
    ) -> Result<Map<String, Value>, RecordError> {
        self.create_with_files(caller, name, body, Vec::new()).await
    }

    /// Creates a record with uploaded files (the file parts of a multipart
    /// body, under their file fields' keys).
    pub async fn create_with_files(
        &self,
        caller: &Caller,
        name: &str,
        body: Map<String, Value>,
        files: Vec<Upload>,
    ) -> Result<Map<String, Value>, RecordError> {
        let write = WriteRequest {
            method: "POST",
            body,
            op: |conn, ctx, c, _, body| write::create(conn, ctx, c, body),
            id: String::new(),
            files,
        };
        self.write_one(caller, self.target(name)?, write).await
    }

    /// Updates record `id` if the update rule lets the caller.
    pub async fn update(
        &self,
        caller: &Caller,
        name: &str,
        id: String,
        body: Map<String, Value>,
    ) -> Result<Map<String, Value>, RecordError> {
        self.update_with_files(caller, name, id, body, Vec::new())
            .await
    }

    /// Updates record `id` with uploaded files (see [`Records::create_with_files`]).
    pub async fn update_with_files(
        &self,
        caller: &Caller,
        name: &str,
        id: String,
        body: Map<String, Value>,
        files: Vec<Upload>,
    ) -> Result<Map<String, Value>, RecordError> {
        let write = WriteRequest {
            method: "PATCH",
            body,
            op: |conn, ctx, c, id, body| write::update(conn, ctx, c, id, body).map(|(r, _)| r),
            id,
            files,
        };
        self.write_one(caller, self.target(name)?, write).await
    }

    /// Creates or updates, as the batch's `PUT` does: the record whose `id` the
    /// body names is updated if it exists, else created (each under its rule).
    pub async fn upsert(
        &self,
        caller: &Caller,
        name: &str,
        body: Map<String, Value>,
    ) -> Result<Map<String, Value>, RecordError> {
        let write = WriteRequest {
            method: "PUT",
            body,
            op: |conn, ctx, c, _, body| upsert_in(conn, ctx, c, body),
            id: String::new(),
            files: Vec::new(),
        };
        self.write_one(caller, self.target(name)?, write).await
    }

    /// Deletes record `id` (rules, cascades, hooks).
    pub async fn delete(&self, caller: &Caller, name: &str, id: String) -> Result<(), RecordError> {
        let Target { schema, collection } = self.target(name)?;
        let info = caller.info("DELETE", Map::new());
        let superuser = caller.bypasses_rules();
        let origin = caller.origin();
        let hooks = self.hooks.clone();
        self.db
            .write(move |conn| {
                let ctx = WriteCtx {
                    hooks: &hooks,
                    origin,
                    schema: &schema,
                    req: &info,
                    superuser,
                    validate: true,
                    auth: PreparedAuth::default(),
                    uploads: &[],
                    new_id: None,
                };
                write::delete(conn, &ctx, &collection, &id)
            })
            .await
    }

    /// Deletes every record of a collection, with cascades (superusers only).
    pub async fn truncate(&self, caller: &Caller, name: &str) -> Result<(), RecordError> {
        if !caller.bypasses_rules() {
            return Err(super::superusers_only());
        }
        let Target { schema, collection } = self.target(name)?;
        let origin = caller.origin();
        let hooks = self.hooks.clone();
        self.db
            .write(move |conn| {
                let req = RequestInfo::default();
                let ctx = WriteCtx {
                    hooks: &hooks,
                    origin,
                    schema: &schema,
                    req: &req,
                    superuser: true,
                    validate: true,
                    auth: PreparedAuth::default(),
                    uploads: &[],
                    new_id: None,
                };
                write::truncate(conn, &ctx, &collection)
            })
            .await
    }

    /// For auth collections: hashes a new password and checks `oldPassword`
    /// before the write, so the slow argon2 work never runs on the writer thread.
    async fn prepare_auth(
        &self,
        c: &Arc<Collection>,
        body: &Map<String, Value>,
        caller: &Caller,
        id: Option<&str>,
    ) -> Result<PreparedAuth, RecordError> {
        use crate::auth::password;
        if c.kind != CollectionType::Auth {
            return Ok(PreparedAuth::default());
        }
        let given = body
            .get("password")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if given.is_empty() || password::validate(&given).is_err() {
            return Ok(PreparedAuth::default());
        }
        let mut old_password_ok = false;
        if let (Some(id), false) = (id, caller.bypasses_rules()) {
            let old = body
                .get("oldPassword")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let (c2, id) = (c.clone(), id.to_string());
            let row = self
                .db
                .read(move |conn| crate::records::accounts::load(conn, &c2, &id))
                .await?;
            if let Some(row) = row.filter(|_| !old.is_empty()) {
                old_password_ok = password::verify_async(&old, &row.password_hash).await;
            }
        }
        let hash = password::hash_async(&given).await?;
        Ok(PreparedAuth {
            password_hash: Some(hash),
            old_password_ok,
        })
    }

    /// Runs `write.op` in the writer's transaction and shapes the returned record
    /// for the caller (hidden fields, `?expand`, `?fields`).
    async fn write_one(
        &self,
        caller: &Caller,
        target: Target,
        write: WriteRequest,
    ) -> Result<Map<String, Value>, RecordError> {
        let WriteRequest {
            method,
            mut body,
            op,
            id,
            files,
        } = write;
        let Target { schema, collection } = target;
        let upload = self
            .store_uploads(&collection, &mut body, files, &id)
            .await?;
        let result = self
            .write_prepared(
                caller,
                schema,
                collection.clone(),
                method,
                body,
                op,
                id,
                &upload.files,
                upload.new_id.clone(),
            )
            .await;
        let kept = result.as_ref().ok().map(|(record, _)| record);
        upload.finish(&self.files, &collection, kept).await;
        result.map(|(_, shown)| shown)
    }

    /// Names the uploads of one write, puts their names in `body` and stores them
    /// before the write, under the record's id (`id`; for a create, the body's or
    /// a new one). An id that is not valid fails the write, so then nothing is
    /// stored.
    async fn store_uploads(
        &self,
        collection: &Collection,
        body: &mut Map<String, Value>,
        files: Vec<Upload>,
        id: &str,
    ) -> Result<StoredUploads, RecordError> {
        let mut staged = uploads::stage(collection, body, files);
        let mut out = StoredUploads {
            folder: id.to_string(),
            ..StoredUploads::default()
        };
        if staged.files.is_empty() {
            return Ok(out);
        }
        if out.folder.is_empty() {
            out.folder = match body.get("id").map(super::value::to_text) {
                Some(given) if !given.is_empty() => given,
                _ => {
                    let fresh = crate::id::new_id();
                    out.new_id = Some(fresh.clone());
                    fresh
                }
            };
        }
        if crate::id::is_valid_id(&out.folder) && out.folder.len() == crate::id::ID_LENGTH {
            out.stored = staged
                .store(&self.files, collection, &out.folder)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "could not store an upload");
                    RecordError::from(ApiError::bad_request(
                        "Failed to upload the files; try again.",
                    ))
                })?;
        }
        out.files = staged.files;
        Ok(out)
    }

    /// The write itself: rules, hooks and the row on the writer thread; returns
    /// the record as stored and as shown to the caller.
    #[allow(clippy::too_many_arguments)]
    async fn write_prepared(
        &self,
        caller: &Caller,
        schema: Arc<Schema>,
        collection: Arc<Collection>,
        method: &'static str,
        body: Map<String, Value>,
        op: WriteOp,
        id: String,
        new_files: &[uploads::NewFile],
        new_id: Option<String>,
    ) -> Result<(Map<String, Value>, Map<String, Value>), RecordError> {
        let expand = param(&caller.query, "expand").to_string();
        let fields = param(&caller.query, "fields").to_string();
        let info = caller.info(method, body.clone());
        let superuser = caller.bypasses_rules();
        let prepared = self
            .prepare_auth(
                &collection,
                &body,
                caller,
                (!id.is_empty()).then_some(id.as_str()),
            )
            .await?;
        let (schema2, collection2, info2) = (schema.clone(), collection.clone(), info.clone());
        let origin = caller.origin();
        let hooks = self.hooks.clone();
        let new_files = new_files.to_vec();
        let (stored, managed) = self
            .db
            .write(move |conn| {
                let ctx = WriteCtx {
                    hooks: &hooks,
                    origin,
                    schema: &schema2,
                    req: &info2,
                    superuser,
                    validate: true,
                    auth: prepared,
                    uploads: &new_files,
                    new_id,
                };
                let record = op(conn, &ctx, &collection2, &id, &body)?;
                let managed = managed_after(conn, &ctx, &collection2, &record)?;
                Ok::<_, RecordError>((record, managed))
            })
            .await?;
        let record = write::visible(
            &collection,
            stored.clone(),
            superuser,
            info.auth.as_ref(),
            managed,
        );
        if expand.trim().is_empty() && fields.trim().is_empty() {
            return Ok((stored, record));
        }
        let shown = self
            .db
            .read(move |conn| {
                let ctx = ReadCtx {
                    schema: &schema,
                    req: &info,
                    superuser,
                };
                let mut items = [record];
                read::finish(conn, &ctx, &collection, &mut items, &expand, &fields)?;
                let [one] = items;
                Ok::<_, RecordError>(one)
            })
            .await?;
        Ok((stored, shown))
    }

    /// Runs the sub-requests `requests` (`{method, url, body}`) as `caller` in one
    /// transaction: all of them or none. Answers `{status, body}` per sub-request.
    pub async fn batch(
        &self,
        caller: &Caller,
        requests: &[Value],
    ) -> Result<Vec<Value>, BatchError> {
        self.batch_with_files(caller, requests, Vec::new()).await
    }

    /// A batch whose sub-requests upload files: `files` pairs a sub-request's
    /// index with an upload (its key without the `requests.N.` prefix).
    pub async fn batch_with_files(
        &self,
        caller: &Caller,
        requests: &[Value],
        mut files: Vec<(usize, Upload)>,
    ) -> Result<Vec<Value>, BatchError> {
        if requests.is_empty() {
            return Err(BatchError::Whole(batch_validation(
                "validation_required",
                "Cannot be blank.",
            )));
        }
        if requests.len() > MAX_BATCH_REQUESTS {
            return Err(BatchError::Whole(batch_validation(
                "validation_length_too_long",
                &format!("The length must be no more than {MAX_BATCH_REQUESTS}."),
            )));
        }
        let schema = self.schema.current();
        let mut ops = Vec::with_capacity(requests.len());
        // One entry per sub-request, in order.
        let mut stored: Vec<(Arc<Collection>, StoredUploads)> = Vec::new();
        for (index, item) in requests.iter().enumerate() {
            let (mine, rest): (Vec<_>, Vec<_>) = files.drain(..).partition(|(i, _)| *i == index);
            files = rest;
            let mine: Vec<Upload> = mine.into_iter().map(|(_, u)| u).collect();
            match self.prepare_batch_op(&schema, item, caller, mine).await {
                Ok((op, prepared, upload)) => {
                    let checks = (upload.files.clone(), upload.new_id.clone());
                    stored.push((op.collection.clone(), upload));
                    ops.push((op, prepared, checks));
                }
                Err(error) => {
                    for (c, upload) in stored {
                        upload.finish(&self.files, &c, None).await;
                    }
                    return Err(BatchError::Item { index, error });
                }
            }
        }
        let superuser = caller.bypasses_rules();
        let caller = caller.clone();
        let hooks = self.hooks.clone();
        let written = self
            .db
            .write(move |conn| {
                let mut results = Vec::with_capacity(ops.len());
                let mut records = Vec::with_capacity(ops.len());
                for (index, (op, prepared, (new_files, new_id))) in ops.into_iter().enumerate() {
                    let info = rules::request_info(
                        &caller.auth,
                        &op.method,
                        Map::new(),
                        caller.headers.clone(),
                        op.body.clone(),
                    );
                    let ctx = WriteCtx {
                        hooks: &hooks,
                        origin: caller.origin(),
                        schema: &schema,
                        req: &info,
                        superuser,
                        validate: true,
                        auth: prepared,
                        uploads: &new_files,
                        new_id,
                    };
                    let c = &op.collection;
                    let (status, record) = run_batch_op(conn, &ctx, &op)
                        .map_err(|error| BatchError::Item { index, error })?;
                    records.push(record.clone());
                    let body = match record {
                        Some(r) => {
                            let managed = managed_after(conn, &ctx, c, &r)
                                .map_err(|error| BatchError::Item { index, error })?;
                            Value::Object(write::visible(
                                c,
                                r,
                                superuser,
                                info.auth.as_ref(),
                                managed,
                            ))
                        }
                        None => Value::Null,
                    };
                    results.push(json!({"status": status, "body": body}));
                }
                Ok::<_, BatchError>((results, records))
            })
            .await;
        let records = match &written {
            Ok((_, records)) => records.clone(),
            Err(_) => Vec::new(),
        };
        for (index, (c, upload)) in stored.into_iter().enumerate() {
            let record = records.get(index).and_then(Option::as_ref);
            upload.finish(&self.files, &c, record).await;
        }
        written.map(|(results, _)| results)
    }

    /// One sub-request of a batch read, its uploads stored and its password
    /// hashed, before the batch's transaction.
    async fn prepare_batch_op(
        &self,
        schema: &Schema,
        item: &Value,
        caller: &Caller,
        files: Vec<Upload>,
    ) -> Result<(BatchOp, PreparedAuth, StoredUploads), RecordError> {
        let mut op = parse_batch_op(schema, item)?;
        let id = op.id.clone().unwrap_or_default();
        let upload = self
            .store_uploads(&op.collection, &mut op.body, files, &id)
            .await?;
        match self
            .prepare_auth(&op.collection, &op.body, caller, op.id.as_deref())
            .await
        {
            Ok(prepared) => Ok((op, prepared, upload)),
            Err(e) => {
                upload.finish(&self.files, &op.collection, None).await;
                Err(e)
            }
        }
    }

    /// Runs `f` in one write transaction with an app's system access (no rules),
    /// through the same pipeline as every other write: hooks, validation, the
    /// change announced to the commit stream tagged [`Origin::App`]`(app)`.
    /// Statements are cached per connection, so the same few writes repeated (a
    /// vote) are parsed once.
    pub async fn app_write<T, E, F>(&self, app: &'static str, f: F) -> Result<T, E>
    where
        F: FnOnce(&AppTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let schema = self.schema.current();
        let hooks = self.hooks.clone();
        self.db
            .write(move |conn| {
                let req = RequestInfo::default();
                let tx = AppTx {
                    conn,
                    schema: &schema,
                    ctx: WriteCtx {
                        hooks: &hooks,
                        origin: Origin::App(app),
                        schema: &schema,
                        req: &req,
                        superuser: true,
                        validate: false,
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

/// An app's write transaction: record writes with system access, each through the
/// full pipeline, plus the connection for reads.
pub struct AppTx<'a> {
    conn: &'a Connection,
    schema: &'a Schema,
    ctx: WriteCtx<'a>,
}

impl AppTx<'_> {
    /// The transaction's connection, for reads (writes go through the methods, so
    /// hooks and subscribers see them).
    pub fn conn(&self) -> &Connection {
        self.conn
    }

    fn collection(&self, name: &str) -> Result<Arc<Collection>, RecordError> {
        self.schema
            .get(name)
            .cloned()
            .ok_or_else(missing_collection)
    }

    /// Creates a record of `collection` from `record`; returns it as stored.
    pub fn create(
        &self,
        collection: &str,
        record: Map<String, Value>,
    ) -> Result<Map<String, Value>, RecordError> {
        let c = self.collection(collection)?;
        write::create(self.conn, &self.ctx, &c, &record)
    }

    /// Changes the fields of `patch` on record `id`; returns it as stored, or
    /// `None` when nothing changed (then nothing is written or announced).
    pub fn update(
        &self,
        collection: &str,
        id: &str,
        patch: Map<String, Value>,
    ) -> Result<Option<Map<String, Value>>, RecordError> {
        let c = self.collection(collection)?;
        let (record, changed) = write::update(self.conn, &self.ctx, &c, id, &patch)?;
        Ok(changed.then_some(record))
    }

    /// Deletes record `id` of `collection`, with its cascades.
    pub fn delete(&self, collection: &str, id: &str) -> Result<(), RecordError> {
        let c = self.collection(collection)?;
        write::delete(self.conn, &self.ctx, &c, id)
    }

    /// Deletes record `id` of `collection` alone: records pointing at it stay as
    /// they are (see [`write::delete_alone`]). `false` if there was none.
    pub fn delete_alone(&self, collection: &str, id: &str) -> Result<bool, RecordError> {
        let c = self.collection(collection)?;
        write::delete_alone(self.conn, &self.ctx, &c, id)
    }
}

/// One parsed sub-request of a batch.
struct BatchOp {
    method: String,
    collection: Arc<Collection>,
    id: Option<String>,
    body: Map<String, Value>,
}

fn batch_validation(code: &str, message: &str) -> RecordError {
    RecordError::bad_request("Something went wrong while processing your request.").with_data(
        json!({"requests": {"code": code, "message": message}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    )
}

fn parse_batch_op(schema: &Schema, item: &Value) -> Result<BatchOp, RecordError> {
    let method = item
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_uppercase();
    let url = item.get("url").and_then(Value::as_str).unwrap_or_default();
    let path = url.split('?').next().unwrap_or_default();
    let rest = path
        .strip_prefix("/api/collections/")
        .ok_or_else(RecordError::not_found)?;
    let mut parts = rest.split('/');
    let name = parts.next().unwrap_or_default();
    if parts.next() != Some("records") {
        return Err(RecordError::not_found());
    }
    let id = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    let collection = schema.get(name).cloned().ok_or_else(missing_collection)?;
    let body = match item.get("body") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(RecordError::generic_bad_request()),
    };
    Ok(BatchOp {
        method,
        collection,
        id,
        body,
    })
}

/// Updates the record the body's `id` names if it exists, else creates one.
fn upsert_in(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, RecordError> {
    let id = body
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let exists = !id.is_empty()
        && conn
            .prepare_cached(&format!(
                "SELECT 1 FROM {} WHERE \"id\" = ?1",
                crate::schema::quote_ident(&c.name)
            ))?
            .exists([&id])?;
    if exists {
        write::update(conn, ctx, c, &id, body).map(|(r, _)| r)
    } else {
        write::create(conn, ctx, c, body)
    }
}

/// One sub-request of a batch, inside the batch's transaction: its status and
/// the record it wrote.
fn run_batch_op(
    conn: &Connection,
    ctx: &WriteCtx,
    op: &BatchOp,
) -> Result<(u16, Option<Map<String, Value>>), RecordError> {
    let c = &op.collection;
    match (op.method.as_str(), op.id.as_deref()) {
        ("POST", None) => write::create(conn, ctx, c, &op.body).map(|r| (200, Some(r))),
        ("PUT", None) => upsert_in(conn, ctx, c, &op.body).map(|r| (200, Some(r))),
        ("PATCH", Some(id)) => {
            write::update(conn, ctx, c, id, &op.body).map(|(r, _)| (200, Some(r)))
        }
        ("DELETE", Some(id)) => write::delete(conn, ctx, c, id).map(|_| (204, None)),
        _ => Err(RecordError::not_found()),
    }
}

fn batch_failure(index: usize, err: RecordError) -> ApiError {
    let err = ApiError::from(err);
    let mut requests = Map::new();
    requests.insert(
        index.to_string(),
        json!({"code": "batch_request_failed", "message": "Batch request failed.", "response": err.body()}),
    );
    let mut data = Map::new();
    data.insert("requests".into(), Value::Object(requests));
    ApiError::bad_request("Batch transaction failed.").with_data(data)
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Whole(error) => error.into(),
            BatchError::Item { index, error } => batch_failure(index, error),
        }
    }
}

/// Whether the caller manages the record it just wrote (then it sees the email
/// even when the record hides it); superusers see everything anyway.
fn managed_after(
    conn: &rusqlite::Connection,
    ctx: &WriteCtx<'_>,
    c: &Collection,
    record: &Map<String, Value>,
) -> Result<bool, RecordError> {
    match record.get("id").and_then(Value::as_str) {
        Some(id) if !ctx.superuser && c.kind == CollectionType::Auth => {
            write::manages(conn, ctx, ctx.req, c, id)
        }
        _ => Ok(false),
    }
}
