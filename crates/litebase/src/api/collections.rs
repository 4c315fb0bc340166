//! `/api/collections`: requests translated into calls of
//! [`crate::core::collections`].

use actix_web::{HttpResponse, web};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::auth::request::Auth;
use crate::core::Core;
use crate::core::collections::{
    create_collection, delete_collection, find, truncate_collection, update_collection,
};
use crate::core::oauth2::without_secrets;
use crate::error::ApiError;
use crate::schema::Collection;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/collections", web::get().to(list))
        .route("/api/collections", web::post().to(create))
        .route("/api/collections/import", web::put().to(import))
        .route("/api/collections/{collection}", web::get().to(view))
        .route("/api/collections/{collection}", web::patch().to(update))
        .route("/api/collections/{collection}", web::delete().to(delete))
        .route(
            "/api/collections/{collection}/truncate",
            web::delete().to(truncate),
        );
}

/// The properties of a collection that `?filter=` and `?sort=` may use.
fn meta_schema() -> (crate::query::CollectionInfo, Vec<&'static str>) {
    use crate::query::{CollectionInfo, FieldInfo, FieldKind as Q};
    let cols = vec![
        ("id", Q::Text),
        ("name", Q::Text),
        ("type", Q::Text),
        ("system", Q::Bool),
        ("listRule", Q::Text),
        ("viewRule", Q::Text),
        ("createRule", Q::Text),
        ("updateRule", Q::Text),
        ("deleteRule", Q::Text),
        ("created", Q::Date),
        ("updated", Q::Date),
    ];
    let info = CollectionInfo::new(
        "collections",
        cols.iter().map(|(n, k)| FieldInfo::new(n, *k)).collect(),
    );
    (info, cols.into_iter().map(|(n, _)| n).collect())
}

/// Lists collections; `filter` and `sort` work on their properties (name, type,
/// system, rules, dates) with the same language as records.
async fn list(
    core: web::Data<Core>,
    auth: Auth,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    use crate::query::{self, CompileOptions};
    auth.require_superuser()?;
    let q = crate::records::read::ListQuery::parse(&super::query_map(req.query_string())?)?;
    let schema = core.schema.current();
    let (info, cols) = meta_schema();
    let mut lookup = std::collections::HashMap::new();
    lookup.insert("collections".to_string(), info);
    let opts = CompileOptions::full("t");
    let filter = query::compile_filter(
        &q.filter,
        "collections",
        &lookup,
        &query::RequestInfo::default(),
        &opts,
    )
    .map_err(|e| ApiError::bad_request(format!("Invalid filter: {e}.")))?;
    let order = if q.sort.is_empty() {
        query::SqlExpr {
            sql: "t.\"n\"".to_string(),
            params: Vec::new(),
        }
    } else {
        query::compile_sort(
            &q.sort,
            "collections",
            &lookup,
            &query::RequestInfo::default(),
            &opts,
        )
        .map_err(|e| ApiError::bad_request(format!("Invalid sort: {e}.")))?
        .order
    };
    // The snapshot becomes a VALUES table, so filtering and sorting are SQLite's.
    let all: Vec<Arc<Collection>> = schema.all().to_vec();
    let mut rows = Vec::with_capacity(all.len());
    let mut params: Vec<rusqlite::types::Value> = Vec::new();
    for (n, c) in all.iter().enumerate() {
        rows.push(format!("({})", vec!["?"; cols.len() + 1].join(", ")));
        params.push(rusqlite::types::Value::Integer(n as i64));
        let v = serde_json::to_value(c.as_ref()).unwrap_or_default();
        for col in &cols {
            params.push(match &v[*col] {
                Value::String(s) => rusqlite::types::Value::Text(s.clone()),
                Value::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                _ => rusqlite::types::Value::Null,
            });
        }
    }
    let col_list: Vec<String> = std::iter::once("n".to_string())
        .chain(cols.iter().map(|c| format!("\"{c}\"")))
        .collect();
    let sql = format!(
        "WITH t({}) AS (VALUES {}) SELECT t.\"n\" FROM t AS t WHERE ({}) ORDER BY {}",
        col_list.join(", "),
        rows.join(", "),
        filter.sql,
        order.sql
    );
    params.extend(filter.params);
    params.extend(order.params);
    let matched: Vec<i64> = core
        .db
        .read(move |conn| {
            let mut stmt = conn.prepare(&sql)?;
            let ids = stmt
                .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?
                .collect::<Result<Vec<i64>, _>>()?;
            Ok::<_, ApiError>(ids)
        })
        .await?;
    let total = matched.len() as i64;
    let items: Vec<Value> = matched
        .iter()
        .skip((q.page - 1) * q.per_page)
        .take(q.per_page)
        .filter_map(|n| all.get(*n as usize).map(|c| without_secrets(c)))
        .collect();
    let (total, pages) = if q.skip_total {
        (-1, -1)
    } else {
        (total, (total + q.per_page as i64 - 1) / q.per_page as i64)
    };
    Ok(HttpResponse::Ok().json(json!({
        "page": q.page, "perPage": q.per_page, "totalItems": total, "totalPages": pages, "items": items
    })))
}

async fn view(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(without_secrets(&find(&core, &key)?)))
}

async fn create(
    core: web::Data<Core>,
    auth: Auth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let stored = create_collection(&core, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(without_secrets(&stored)))
}

async fn update(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    let stored = update_collection(&core, &auth, &key, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(without_secrets(&stored)))
}

async fn delete(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    delete_collection(&core, &auth, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn truncate(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    truncate_collection(&core, &auth, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /api/collections/import`: PocketBase's bulk import (204 when done,
/// changed or not).
async fn import(
    core: web::Data<Core>,
    auth: Auth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    crate::core::collections::import::import(&core, &auth, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
