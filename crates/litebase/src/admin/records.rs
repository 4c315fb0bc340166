//! `/_/collections/{name}`: a collection's records — the table (filter, sort,
//! columns, pages, bulk delete) and the record form (create, edit, delete).
//!
//! Reads and writes go through the records API's service functions with the
//! superuser's auth, so filters, validation and after-commit hooks (poker rooms
//! pushing an admin's rename to players) are exactly the API's.

pub mod fields;
pub mod table;

use std::collections::{BTreeMap, BTreeSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use tera::Context;

use super::i18n::{request_lang, text};
use super::render::{Page, htmx_target_is, see_other};
use super::session::AdminSession;
use crate::core::Core;
use crate::error::ApiError;
use crate::records::service::{BatchError, Caller};
use crate::schema::{Collection, FieldKind};
use fields::{Chip, Raw};
use table::{DEFAULT_PER_PAGE, TableQuery};

/// Mounts the records table, forms and relation picker. `/collections/new` is
/// the collections editor's, whichever of the two is mounted first.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let not_new = actix_web::guard::fn_guard(|ctx| {
        ctx.head().uri.path().trim_end_matches('/') != "/_/collections/new"
    });
    cfg.service(
        web::resource("/collections/{name}")
            .guard(not_new)
            .route(web::get().to(index)),
    )
    .route(
        "/collections/{name}/relation-options",
        web::get().to(relation_options),
    )
    .route(
        "/collections/{name}/bulk-delete",
        web::post().to(bulk_delete),
    )
    .route("/collections/{name}/records/new", web::get().to(new_form))
    .route("/collections/{name}/records", web::post().to(create))
    .route("/collections/{name}/records/{id}", web::get().to(edit_form))
    .route("/collections/{name}/records/{id}", web::post().to(update))
    .route(
        "/collections/{name}/records/{id}/delete",
        web::post().to(delete),
    );
}

/// The collection `name`, if it exists.
fn find(core: &Core, name: &str) -> Option<std::sync::Arc<Collection>> {
    core.schema.current().get(name).cloned()
}

/// The admin 404 page (a missing collection or record).
fn missing(req: &HttpRequest, session: &AdminSession) -> Result<HttpResponse, ApiError> {
    Page::new(req, "not_found.html")
        .session(session)
        .status(StatusCode::NOT_FOUND)
        .render(Context::new())
}

fn table_query(req: &HttpRequest) -> TableQuery {
    let map = web::Query::<BTreeMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let num = |k: &str| {
        map.get(k)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|n| *n > 0)
    };
    TableQuery {
        filter: map.get("filter").cloned().unwrap_or_default(),
        sort: map.get("sort").cloned().unwrap_or_default(),
        page: num("page"),
        per_page: num("perPage").map(|n| n.min(500)),
    }
}

/// The collection header's facts.
fn head(c: &Collection) -> Value {
    json!({"name": c.name, "kind": c.kind, "auth": fields::is_auth(c)})
}

/// The table page (or, for htmx, the table fragment / the filter error).
async fn index(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Some(c) = find(&core, &name) else {
        return missing(&req, &session);
    };
    table_page(&req, &core, &session, &c, None).await
}

async fn table_page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    c: &Collection,
    bulk_error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let q = table_query(req);
    let per_page = q.per_page.unwrap_or(DEFAULT_PER_PAGE);
    let mut query = Map::new();
    query.insert("filter".into(), json!(q.filter));
    query.insert("sort".into(), json!(q.sort));
    query.insert("page".into(), json!(q.page.unwrap_or(1).to_string()));
    query.insert("perPage".into(), json!(per_page.to_string()));
    let caller = Caller::request(session.auth(), query, Map::new());
    let fragment = htmx_target_is(req, "records");
    let mut ctx = Context::new();
    ctx.insert("fragment", &fragment);
    ctx.insert("collection", &head(c));
    ctx.insert("q", &q);
    ctx.insert("per_page", &per_page);
    ctx.insert("per_page_choices", &[10, 20, 50, 100]);
    let columns = table::columns(c, &q);
    ctx.insert("columns", &columns);
    ctx.insert("bulk_error", &bulk_error);
    let status = if bulk_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = match core
        .records
        .list(&caller, &c.name)
        .await
        .map_err(ApiError::from)
    {
        Ok(page) => page,
        Err(e) if e.status().is_client_error() => {
            ctx.insert("filter_error", &e.message);
            if fragment {
                let mut resp = Page::new(req, "records/_filter_error.html")
                    .session(session)
                    .render(ctx)?;
                let h = resp.headers_mut();
                h.insert(
                    actix_web::http::header::HeaderName::from_static("hx-retarget"),
                    actix_web::http::header::HeaderValue::from_static("#filter-error"),
                );
                h.insert(
                    actix_web::http::header::HeaderName::from_static("hx-reswap"),
                    actix_web::http::header::HeaderValue::from_static("outerHTML"),
                );
                return Ok(resp);
            }
            ctx.insert("rows", &Vec::<table::Row>::new());
            ctx.insert("total", &0);
            ctx.insert("page", &1);
            ctx.insert("total_pages", &0);
            ctx.insert("prev_link", "");
            ctx.insert("next_link", "");
            return Page::new(req, "records/index.html")
                .session(session)
                .status(StatusCode::BAD_REQUEST)
                .render(ctx);
        }
        Err(e) => return Err(e),
    };
    ctx.insert("filter_error", "");
    let items: Vec<Map<String, Value>> = page["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_object().cloned()).collect())
        .unwrap_or_default();
    let schema = core.schema.current();
    let labels = table::relation_labels(core, &schema, c, &items).await?;
    ctx.insert("rows", &table::rows(&columns, &items, &labels));
    let current = page["page"].as_u64().unwrap_or(1);
    let total_pages = page["totalPages"].as_u64().unwrap_or(0);
    ctx.insert("total", &page["totalItems"]);
    ctx.insert("page", &current);
    ctx.insert("total_pages", &total_pages);
    let link = |p: u64| q.link(&[("page", p.to_string())]);
    ctx.insert(
        "prev_link",
        &if current > 1 {
            link(current - 1)
        } else {
            String::new()
        },
    );
    ctx.insert(
        "next_link",
        &if current < total_pages {
            link(current + 1)
        } else {
            String::new()
        },
    );
    let template = if fragment {
        "records/_table.html"
    } else {
        "records/index.html"
    };
    Page::new(req, template)
        .session(session)
        .status(status)
        .render(ctx)
}

/// The posted form's pairs (repeated names kept).
fn pairs(body: &web::Bytes) -> Result<Vec<(String, String)>, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("The form is not valid UTF-8; send it again."))?;
    web::Query::<Vec<(String, String)>>::from_query(text)
        .map(web::Query::into_inner)
        .map_err(|_| ApiError::bad_request("The form could not be read; send it again."))
}

/// A file token of the signed-in superuser, for links to protected files
/// (`None` when the collection has none, or it cannot be made).
async fn file_token(core: &Core, session: &AdminSession, c: &Collection) -> Option<String> {
    use crate::auth::token;
    let protected = c.fields.iter().any(|f| {
        matches!(
            f.kind,
            FieldKind::File {
                protected: true,
                ..
            }
        )
    });
    if !protected {
        return None;
    }
    let me = session.superuser.clone();
    let superusers = core.schema.current().get(&me.collection_id).cloned()?;
    let id = me.id.clone();
    let row = core
        .db
        .read(move |conn| crate::records::accounts::load(conn, &superusers, &id))
        .await
        .ok()??;
    let claims = token::Claims {
        id: me.id,
        kind: token::Purpose::File.as_str().into(),
        collection_id: me.collection_id.clone(),
        refreshable: false,
        email: None,
        new_email: None,
        exp: token::expiry(180),
    };
    let secret = core.token_secret(&me.collection_id, token::Purpose::File);
    token::sign(&claims, &secret, &row.token_key).ok()
}

/// Relation chips (with display text) for the relation fields' values in `raw`.
async fn chips(
    core: &Core,
    c: &Collection,
    raw: &Raw,
) -> Result<BTreeMap<String, Vec<Chip>>, ApiError> {
    let schema = core.schema.current();
    let mut out = BTreeMap::new();
    for (f, target) in table::relation_targets(&schema, c) {
        let ids: Vec<String> = raw
            .get(&f.name)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| !v.is_empty())
            .collect();
        let set: BTreeSet<String> = ids.iter().cloned().collect();
        let labels = table::labels(core, target, set).await?;
        let list = ids
            .into_iter()
            .map(|id| Chip {
                label: labels.get(&id).cloned().unwrap_or(id.clone()),
                id,
            })
            .collect();
        out.insert(f.name.clone(), list);
    }
    Ok(out)
}

/// What the record form shows besides the fields.
struct FormState<'a> {
    id: Option<&'a str>,
    raw: Raw,
    errors: Map<String, Value>,
    message: String,
    status: StatusCode,
}

async fn form_page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    c: &Collection,
    state: FormState<'_>,
) -> Result<HttpResponse, ApiError> {
    let schema = core.schema.current();
    let targets: BTreeMap<String, String> = schema
        .all()
        .iter()
        .map(|t| (t.id.clone(), t.name.clone()))
        .collect();
    let chips = chips(core, c, &state.raw).await?;
    let mut views = fields::views(c, &targets, &state.raw, &state.errors, &chips);
    if let Some(id) = state.id {
        let token = file_token(core, session, c).await;
        fields::link_files(c, id, token.as_deref(), &mut views);
    }
    let mut ctx = Context::new();
    ctx.insert("collection", &head(c));
    ctx.insert("fields", &views);
    ctx.insert("record_id", &state.id.unwrap_or_default());
    ctx.insert("message", &state.message);
    ctx.insert(
        "password_confirm_error",
        &state
            .errors
            .get("passwordConfirm")
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default(),
    );
    Page::new(req, "records/form.html")
        .session(session)
        .status(state.status)
        .render(ctx)
}

async fn new_form(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Some(c) = find(&core, &name) else {
        return missing(&req, &session);
    };
    let state = FormState {
        id: None,
        raw: Raw::new(),
        errors: Map::new(),
        message: String::new(),
        status: StatusCode::OK,
    };
    form_page(&req, &core, &session, &c, state).await
}

async fn edit_form(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let Some(c) = find(&core, &name) else {
        return missing(&req, &session);
    };
    let caller = Caller::request(session.auth(), Map::new(), Map::new());
    let record = match core
        .records
        .view(&caller, &name, id.clone())
        .await
        .map_err(ApiError::from)
    {
        Ok(r) => r,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            return Page::new(&req, "not_found.html")
                .session(&session)
                .status(StatusCode::NOT_FOUND)
                .render(Context::new());
        }
        Err(e) => return Err(e),
    };
    let state = FormState {
        id: Some(&id),
        raw: fields::raw_of_record(&c, &record),
        errors: Map::new(),
        message: String::new(),
        status: StatusCode::OK,
    };
    form_page(&req, &core, &session, &c, state).await
}

/// Shared by create and update: the form's body, the write, the answer.
async fn save(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: String,
    id: Option<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(c) = find(&core, &name) else {
        return missing(&req, &session);
    };
    let lang = request_lang(&req);
    let (posted, uploads) = read_posted(&req, &core, body).await?;
    let raw = fields::raw_of_pairs(posted);
    let failed = |raw: Raw, errors: Map<String, Value>, message: String| FormState {
        id: id.as_deref(),
        raw,
        errors,
        message,
        status: StatusCode::BAD_REQUEST,
    };
    let data = match fields::body_of_form(&c, &raw, id.is_none()) {
        Ok(mut data) => {
            fields::file_removals(&c, &raw, &mut data);
            data
        }
        Err(errors) => {
            let state = failed(raw, errors, text(lang, "fix_errors").into());
            return form_page(&req, &core, &session, &c, state).await;
        }
    };
    let caller = Caller::request(session.auth(), Map::new(), Map::new());
    let result = match &id {
        None => core
            .records
            .create_with_files(&caller, &name, data, uploads)
            .await
            .map_err(ApiError::from),
        Some(id) => core
            .records
            .update_with_files(&caller, &name, id.clone(), data, uploads)
            .await
            .map_err(ApiError::from),
    };
    match result {
        Ok(_) => {
            let key = if id.is_some() {
                "record_saved"
            } else {
                "record_created"
            };
            Ok(see_other(&format!("/_/collections/{name}?flash={key}")))
        }
        Err(e) if e.status().is_client_error() => {
            let message = if e.data.is_empty() {
                e.message.clone()
            } else {
                text(lang, "fix_errors").into()
            };
            let state = failed(raw, e.data.clone(), message);
            form_page(&req, &core, &session, &c, state).await
        }
        Err(e) => Err(e),
    }
}

async fn create(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    save(req, core, session, name.into_inner(), None, body).await
}

async fn update(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    path: web::Path<(String, String)>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    save(req, core, session, name, Some(id), body).await
}

/// The posted form: urlencoded, or multipart when it uploads files (sent by
/// `admin.js` with the CSRF header); file parts go to temp files.
async fn read_posted(
    req: &HttpRequest,
    core: &Core,
    mut payload: web::Payload,
) -> Result<(Vec<(String, String)>, Vec<crate::files::Upload>), ApiError> {
    let multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let limit = core.config.serve.body_limit;
    if multipart {
        let temp = core.records.files().temp_dir().to_path_buf();
        return crate::files::form::read_multipart(req.headers(), payload, limit, Some(&temp))
            .await;
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut payload).await {
        let chunk = chunk.map_err(|_| ApiError::bad_request("The form could not be read."))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok((pairs(&body.freeze())?, Vec::new()))
}

async fn delete(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let Some(c) = find(&core, &name) else {
        return missing(&req, &session);
    };
    let caller = Caller::request(session.auth(), Map::new(), Map::new());
    match core
        .records
        .delete(&caller, &name, id.clone())
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => Ok(see_other(&format!(
            "/_/collections/{name}?flash=record_deleted"
        ))),
        Err(e) if e.status().is_client_error() => {
            let record = core
                .records
                .view(&caller, &name, id.clone())
                .await
                .unwrap_or_default();
            let state = FormState {
                id: Some(&id),
                raw: fields::raw_of_record(&c, &record),
                errors: Map::new(),
                message: e.message.clone(),
                status: StatusCode::BAD_REQUEST,
            };
            form_page(&req, &core, &session, &c, state).await
        }
        Err(e) => Err(e),
    }
}

/// Deletes every checked record (`ids`) in one transaction through the batch
/// API's core: all of them, or none with the refusal shown above the table.
async fn bulk_delete(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let Some(c) = find(&core, &name) else {
        return missing(&req, &session);
    };
    let lang = request_lang(&req);
    let ids: Vec<String> = pairs(&body)?
        .into_iter()
        .filter(|(k, v)| k == "ids" && !v.is_empty())
        .map(|(_, v)| v)
        .collect();
    if ids.is_empty() {
        let msg = text(lang, "bulk_none_selected").to_string();
        return table_page(&req, &core, &session, &c, Some(msg)).await;
    }
    let requests: Vec<Value> = ids
        .iter()
        .map(|id| json!({"method": "DELETE", "url": format!("/api/collections/{name}/records/{id}")}))
        .collect();
    let refusal = match core
        .records
        .batch(
            &Caller::request(session.auth(), Map::new(), Map::new()),
            &requests,
        )
        .await
    {
        Ok(_) => {
            return Ok(see_other(&format!(
                "/_/collections/{name}?flash=records_deleted"
            )));
        }
        Err(BatchError::Item { index, error }) => {
            let error = ApiError::from(error);
            if !error.status().is_client_error() {
                return Err(error);
            }
            let id = ids.get(index).map_or("", String::as_str);
            format!("{id}: {}", error.message)
        }
        Err(BatchError::Whole(error)) => {
            let error = ApiError::from(error);
            if !error.status().is_client_error() {
                return Err(error);
            }
            error.message
        }
    };
    let msg = format!("{refusal} {}", text(lang, "bulk_nothing_deleted"));
    table_page(&req, &core, &session, &c, Some(msg)).await
}

/// One choice of the relation picker.
#[derive(Debug, serde::Serialize)]
struct OptionView {
    id: String,
    label: String,
}

/// `GET /_/collections/{name}/relation-options?field=&q=`: up to 20 records of
/// the field's target collection whose id or display text contains `q`.
async fn relation_options(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let map = web::Query::<BTreeMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let field = map.get("field").cloned().unwrap_or_default();
    let q = map.get("q").cloned().unwrap_or_default();
    let schema = core.schema.current();
    let c = schema
        .get(&name)
        .cloned()
        .ok_or_else(crate::records::missing_collection)?;
    let target = match c.field(&field).map(|f| &f.kind) {
        Some(FieldKind::Relation { collection_id, .. }) => schema
            .get(collection_id)
            .cloned()
            .ok_or_else(crate::records::missing_collection)?,
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "\"{field}\" is not a relation field of \"{name}\"; pass ?field= a relation field's name."
                ),
            ));
        }
    };
    let display = table::display_field(&target);
    let pattern = format!(
        "%{}%",
        q.trim()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let options = core
        .db
        .read(move |conn| {
            let col = crate::schema::quote_ident(&display);
            let sql = format!(
                "SELECT id, CAST({col} AS TEXT) FROM {} WHERE id LIKE ?1 ESCAPE '\\' \
                 OR CAST({col} AS TEXT) LIKE ?1 ESCAPE '\\' ORDER BY rowid DESC LIMIT 20",
                crate::schema::quote_ident(&target.name)
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt
                .query_map([&pattern], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, ApiError>(
                rows.into_iter()
                    .map(|(id, label)| OptionView {
                        label: label.filter(|l| !l.is_empty()).unwrap_or(id.clone()),
                        id,
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await?;
    let mut ctx = Context::new();
    ctx.insert("options", &options);
    ctx.insert("field", &field);
    Page::new(&req, "records/_options.html")
        .session(&session)
        .render(ctx)
}
