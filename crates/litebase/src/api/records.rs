//! `/api/collections/{collection}/records` and `/api/batch`.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{body, query_map};
use crate::auth::request::Auth;
use crate::core::Core;
use crate::db::DbError;
use crate::error::ApiError;
use crate::hooks::RecordChange;
use crate::query::RequestInfo;
use crate::records::read::{self, ListQuery, ReadCtx, param};
use crate::records::write::{self, PreparedAuth, WriteCtx};
use crate::records::{missing_collection, rules};
use crate::schema::{Collection, CollectionType, Schema};

/// Most sub-requests in one batch.
pub const MAX_BATCH_REQUESTS: usize = 50;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let base = "/api/collections/{collection}/records";
    cfg.route(base, web::get().to(list))
        .route(base, web::post().to(create))
        .route(
            "/api/collections/{collection}/records/{id}",
            web::get().to(view),
        )
        .route(
            "/api/collections/{collection}/records/{id}",
            web::patch().to(update),
        )
        .route(
            "/api/collections/{collection}/records/{id}",
            web::delete().to(delete),
        )
        .route("/api/batch", web::post().to(batch));
}

/// The request's headers as rules read them (`@request.headers.x_real_ip`):
/// names normalized, values that are not text left out.
fn headers_map(req: &HttpRequest) -> Map<String, Value> {
    req.headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str().ok().map(|v| {
                (
                    crate::query::request::normalize_header_name(k.as_str()),
                    json!(v),
                )
            })
        })
        .collect()
}

struct Target {
    schema: Arc<Schema>,
    collection: Arc<Collection>,
}

fn target(core: &Core, name: &str) -> Result<Target, ApiError> {
    let schema = core.schema.current();
    let collection = schema.get(name).cloned().ok_or_else(missing_collection)?;
    Ok(Target { schema, collection })
}

async fn list(
    core: web::Data<Core>,
    auth: Auth,
    name: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let parts = RequestParts::of(&req)?;
    let page = list_records(&core, auth, &name, parts).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A page of records of collection `name` as `auth` (rules, filter, sort, paging,
/// expand, fields from `parts.query`): the core of
/// `GET /api/collections/{name}/records`, also used by the admin UI.
pub(crate) async fn list_records(
    core: &Core,
    auth: Auth,
    name: &str,
    parts: RequestParts,
) -> Result<Value, ApiError> {
    let Target { schema, collection } = target(core, name)?;
    let RequestParts { query, headers } = parts;
    let q = ListQuery::parse(&query)?;
    let info = rules::request_info(&auth, "GET", query, headers, Map::new());
    let superuser = auth.is_superuser();
    core.db
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

async fn view(
    core: web::Data<Core>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let record = view_record(&core, auth, &name, id, RequestParts::of(&req)?).await?;
    Ok(HttpResponse::Ok().json(record))
}

/// Record `id` of collection `name` as `auth` (view rule, expand, fields): the
/// core of `GET /api/collections/{name}/records/{id}`, also used by the admin UI.
pub(crate) async fn view_record(
    core: &Core,
    auth: Auth,
    name: &str,
    id: String,
    parts: RequestParts,
) -> Result<Map<String, Value>, ApiError> {
    let Target { schema, collection } = target(core, name)?;
    let RequestParts { query, headers } = parts;
    let expand = param(&query, "expand").to_string();
    let fields = param(&query, "fields").to_string();
    let info = rules::request_info(&auth, "GET", query, headers, Map::new());
    let superuser = auth.is_superuser();
    core.db
        .read(move |conn| {
            let ctx = ReadCtx {
                schema: &schema,
                req: &info,
                superuser,
            };
            let mut items = [read::view(conn, &ctx, &collection, &id)?];
            read::finish(conn, &ctx, &collection, &mut items, &expand, &fields)?;
            let [one] = items;
            Ok::<_, ApiError>(one)
        })
        .await
}

/// For auth collections: hashes a new password and checks `oldPassword` before
/// the write, so the slow argon2 work never runs on the writer thread.
async fn prepare_auth(
    core: &Core,
    c: &Arc<Collection>,
    body: &Map<String, Value>,
    auth: &Auth,
    id: Option<&str>,
) -> Result<PreparedAuth, ApiError> {
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
    if let (Some(id), false) = (id, auth.is_superuser()) {
        let old = body
            .get("oldPassword")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (c2, id) = (c.clone(), id.to_string());
        let row = core
            .db
            .read(move |conn| crate::auth::accounts::load(conn, &c2, &id))
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

/// A write a handler hands to [`write_one`].
type WriteOp = fn(
    &rusqlite::Connection,
    &WriteCtx<'_>,
    &Arc<Collection>,
    &str,
    &Map<String, Value>,
) -> Result<(Map<String, Value>, Vec<RecordChange>), ApiError>;

/// What one write request is about.
struct WriteRequest {
    method: &'static str,
    body: Map<String, Value>,
    op: WriteOp,
    id: String,
}

/// Runs `op` in the writer's transaction, fires after-commit hooks, and shapes the
/// returned record for the requester (hidden fields, `?expand`, `?fields`).
async fn write_one(
    core: &web::Data<Core>,
    auth: Auth,
    target: Target,
    parts: RequestParts,
    write: WriteRequest,
) -> Result<Map<String, Value>, ApiError> {
    let WriteRequest {
        method,
        body,
        op,
        id,
    } = write;
    let RequestParts { query, headers } = parts;
    let expand = param(&query, "expand").to_string();
    let fields = param(&query, "fields").to_string();
    let info = rules::request_info(&auth, method, query, headers, body.clone());
    let superuser = auth.is_superuser();
    let Target { schema, collection } = target;
    let prepared = prepare_auth(
        core,
        &collection,
        &body,
        &auth,
        (!id.is_empty()).then_some(id.as_str()),
    )
    .await?;
    let core_arc = core.clone().into_inner();
    let (schema2, collection2, info2) = (schema.clone(), collection.clone(), info.clone());
    let (record, changes) = core
        .db
        .write(move |conn| {
            let ctx = WriteCtx {
                core: &core_arc,
                schema: &schema2,
                req: &info2,
                superuser,
                auth: prepared,
            };
            op(conn, &ctx, &collection2, &id, &body)
        })
        .await?;
    for change in &changes {
        core.hooks.committed(change);
    }
    let record = write::visible(&collection, record, superuser, info.auth.as_ref());
    if expand.trim().is_empty() && fields.trim().is_empty() {
        return Ok(record);
    }
    core.db
        .read(move |conn| {
            let ctx = ReadCtx {
                schema: &schema,
                req: &info,
                superuser,
            };
            let mut items = [record];
            read::finish(conn, &ctx, &collection, &mut items, &expand, &fields)?;
            let [one] = items;
            Ok(one)
        })
        .await
}

fn op_create(
    conn: &rusqlite::Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
    _: &str,
    body: &Map<String, Value>,
) -> Result<(Map<String, Value>, Vec<RecordChange>), ApiError> {
    let (record, change) = write::create(conn, ctx, c, body)?;
    Ok((record, vec![change]))
}

fn op_update(
    conn: &rusqlite::Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
    id: &str,
    body: &Map<String, Value>,
) -> Result<(Map<String, Value>, Vec<RecordChange>), ApiError> {
    let (record, change) = write::update(conn, ctx, c, id, body)?;
    Ok((record, vec![change]))
}

/// The parts of a request rules may read besides the body (`@request.query.*`,
/// `@request.headers.*`), and `?expand` / `?fields` for the answer.
#[derive(Default)]
pub(crate) struct RequestParts {
    /// The query string as a JSON object of strings.
    pub query: Map<String, Value>,
    /// The headers, named as rules see them.
    pub headers: Map<String, Value>,
}

impl RequestParts {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        Ok(Self {
            query: query_map(req.query_string())?,
            headers: headers_map(req),
        })
    }
}

/// Creates a record of collection `name` as `auth` (rules, validation, hooks):
/// the core of `POST /api/collections/{name}/records`, also used by the admin UI.
pub(crate) async fn create_record(
    core: &web::Data<Core>,
    auth: Auth,
    name: &str,
    body: Map<String, Value>,
    parts: RequestParts,
) -> Result<Map<String, Value>, ApiError> {
    let t = target(core, name)?;
    let write = WriteRequest {
        method: "POST",
        body,
        op: op_create,
        id: String::new(),
    };
    write_one(core, auth, t, parts, write).await
}

/// Updates record `id` of collection `name` as `auth`: the core of
/// `PATCH /api/collections/{name}/records/{id}`, also used by the admin UI.
pub(crate) async fn update_record(
    core: &web::Data<Core>,
    auth: Auth,
    name: &str,
    id: String,
    body: Map<String, Value>,
    parts: RequestParts,
) -> Result<Map<String, Value>, ApiError> {
    let t = target(core, name)?;
    let write = WriteRequest {
        method: "PATCH",
        body,
        op: op_update,
        id,
    };
    write_one(core, auth, t, parts, write).await
}

/// Deletes record `id` of collection `name` as `auth` (rules, cascades, hooks):
/// the core of `DELETE /api/collections/{name}/records/{id}`, also used by the
/// admin UI.
pub(crate) async fn delete_record(
    core: &web::Data<Core>,
    auth: Auth,
    name: &str,
    id: String,
    parts: RequestParts,
) -> Result<(), ApiError> {
    let Target { schema, collection } = target(core, name)?;
    let info = rules::request_info(&auth, "DELETE", parts.query, parts.headers, Map::new());
    let superuser = auth.is_superuser();
    let core_arc = core.clone().into_inner();
    let changes = core
        .db
        .write(move |conn| {
            let ctx = WriteCtx {
                core: &core_arc,
                schema: &schema,
                req: &info,
                superuser,
                auth: PreparedAuth::default(),
            };
            write::delete(conn, &ctx, &collection, &id)
        })
        .await?;
    for change in &changes {
        core.hooks.committed(change);
    }
    Ok(())
}

async fn create(
    core: web::Data<Core>,
    auth: Auth,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    target(&core, &name)?;
    let body = body::read_object(req.headers(), payload, core.config.serve.body_limit).await?;
    let record = create_record(&core, auth, &name, body, RequestParts::of(&req)?).await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn update(
    core: web::Data<Core>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    target(&core, &name)?;
    let body = body::read_object(req.headers(), payload, core.config.serve.body_limit).await?;
    let record = update_record(&core, auth, &name, id, body, RequestParts::of(&req)?).await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn delete(
    core: web::Data<Core>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    delete_record(&core, auth, &name, id, RequestParts::of(&req)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One parsed sub-request of a batch.
struct BatchOp {
    method: String,
    collection: Arc<Collection>,
    id: Option<String>,
    body: Map<String, Value>,
}

fn batch_validation(code: &str, message: &str) -> ApiError {
    ApiError::bad_request("Something went wrong while processing your request.").with_data(
        json!({"requests": {"code": code, "message": message}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    )
}

fn batch_failure(index: usize, err: &ApiError) -> ApiError {
    let mut requests = Map::new();
    requests.insert(
        index.to_string(),
        json!({"code": "batch_request_failed", "message": "Batch request failed.", "response": err.body()}),
    );
    let mut data = Map::new();
    data.insert("requests".into(), Value::Object(requests));
    ApiError::bad_request("Batch transaction failed.").with_data(data)
}

fn parse_batch_op(schema: &Schema, item: &Value) -> Result<BatchOp, ApiError> {
    let method = item
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_uppercase();
    let url = item.get("url").and_then(Value::as_str).unwrap_or_default();
    let path = url.split('?').next().unwrap_or_default();
    let rest = path
        .strip_prefix("/api/collections/")
        .ok_or_else(ApiError::not_found)?;
    let mut parts = rest.split('/');
    let name = parts.next().unwrap_or_default();
    if parts.next() != Some("records") {
        return Err(ApiError::not_found());
    }
    let id = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    let collection = schema.get(name).cloned().ok_or_else(missing_collection)?;
    let body = match item.get("body") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err(ApiError::generic_bad_request()),
    };
    Ok(BatchOp {
        method,
        collection,
        id,
        body,
    })
}

async fn batch(
    core: web::Data<Core>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = body::read_object(req.headers(), payload, core.config.serve.body_limit).await?;
    let requests = match body.get("requests") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let results = run_batch(&core, &auth, &requests, headers_map(&req)).await?;
    Ok(HttpResponse::Ok().json(results))
}

/// Why a batch was refused; nothing of it was written either way.
#[derive(Debug)]
pub(crate) enum BatchError {
    /// The batch as a whole (empty, too long, the database failing).
    Whole(ApiError),
    /// Sub-request `index` was refused, with this error.
    Item {
        /// Its position in the batch.
        index: usize,
        /// Its own error, as the single request would have answered.
        error: ApiError,
    },
}

impl From<DbError> for BatchError {
    fn from(e: DbError) -> Self {
        BatchError::Whole(e.into())
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Whole(error) => error,
            BatchError::Item { index, error } => batch_failure(index, &error),
        }
    }
}

/// Runs the sub-requests `requests` (`{method, url, body}`) as `auth` in one
/// transaction: all of them or none. The core of `POST /api/batch`, also used by
/// the admin UI's bulk delete.
pub(crate) async fn run_batch(
    core: &web::Data<Core>,
    auth: &Auth,
    requests: &[Value],
    headers: Map<String, Value>,
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
    let schema = core.schema.current();
    let mut ops = Vec::with_capacity(requests.len());
    for (index, item) in requests.iter().enumerate() {
        let item_error = |error| BatchError::Item { index, error };
        let op = parse_batch_op(&schema, item).map_err(item_error)?;
        let prepared = prepare_auth(core, &op.collection, &op.body, auth, op.id.as_deref())
            .await
            .map_err(item_error)?;
        ops.push((op, prepared));
    }
    let superuser = auth.is_superuser();
    let auth2 = auth.clone();
    let core_arc = core.clone().into_inner();
    let (results, changes) = core
        .db
        .write(move |conn| {
            let mut results = Vec::with_capacity(ops.len());
            let mut changes = Vec::new();
            for (index, (op, prepared)) in ops.into_iter().enumerate() {
                let info: RequestInfo = rules::request_info(
                    &auth2,
                    &op.method,
                    Map::new(),
                    headers.clone(),
                    op.body.clone(),
                );
                let ctx = WriteCtx {
                    core: &core_arc,
                    schema: &schema,
                    req: &info,
                    superuser,
                    auth: prepared,
                };
                let c = &op.collection;
                let (status, record, mut ch) = run_batch_op(conn, &ctx, &op)
                    .map_err(|error| BatchError::Item { index, error })?;
                let body = record.map_or(Value::Null, |r| {
                    Value::Object(write::visible(c, r, superuser, info.auth.as_ref()))
                });
                results.push(json!({"status": status, "body": body}));
                changes.append(&mut ch);
            }
            Ok::<_, BatchError>((results, changes))
        })
        .await?;
    for change in &changes {
        core.hooks.committed(change);
    }
    Ok(results)
}

/// What one sub-request did: its status, the record it wrote, its changes.
type BatchOutcome = (u16, Option<Map<String, Value>>, Vec<RecordChange>);

/// One sub-request of a batch, inside the batch's transaction.
fn run_batch_op(
    conn: &rusqlite::Connection,
    ctx: &WriteCtx,
    op: &BatchOp,
) -> Result<BatchOutcome, ApiError> {
    let c = &op.collection;
    match (op.method.as_str(), op.id.as_deref()) {
        ("POST", None) => {
            write::create(conn, ctx, c, &op.body).map(|(r, ch)| (200, Some(r), vec![ch]))
        }
        ("PUT", None) => {
            let id = op
                .body
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
                write::update(conn, ctx, c, &id, &op.body).map(|(r, ch)| (200, Some(r), vec![ch]))
            } else {
                write::create(conn, ctx, c, &op.body).map(|(r, ch)| (200, Some(r), vec![ch]))
            }
        }
        ("PATCH", Some(id)) => {
            write::update(conn, ctx, c, id, &op.body).map(|(r, ch)| (200, Some(r), vec![ch]))
        }
        ("DELETE", Some(id)) => write::delete(conn, ctx, c, id).map(|ch| (204, None, ch)),
        _ => Err(ApiError::not_found()),
    }
}
