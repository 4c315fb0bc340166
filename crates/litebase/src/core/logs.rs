//! Reading the request logs: list with PocketBase's filter and sort syntax over
//! the log columns, one entry, and counts per hour. Each call opens its own
//! read connection to `logs.db` on a blocking thread.

use std::collections::HashMap;
use std::sync::LazyLock;

use rusqlite::{Connection, OpenFlags, Row};
use serde_json::{Value, json};

use super::Core;
use crate::error::ApiError;
use crate::query::{
    CollectionInfo, CompileOptions, FieldInfo, FieldKind, RequestInfo, compile_filter, compile_sort,
};
use crate::records::read::ListQuery;

/// The filter compiler's view of the log table: the columns a filter may use.
static LOG_SCHEMA: LazyLock<HashMap<String, CollectionInfo>> = LazyLock::new(|| {
    let field = FieldInfo::new;
    let fields = vec![
        field("id", FieldKind::Text),
        field("created", FieldKind::Date),
        field("level", FieldKind::Number),
        field("method", FieldKind::Text),
        field("url", FieldKind::Text),
        field("status", FieldKind::Number),
        field("execTime", FieldKind::Number),
        field("remoteIP", FieldKind::Text),
        field("userIP", FieldKind::Text),
        field("userAgent", FieldKind::Text),
        field("referer", FieldKind::Text),
        field("auth", FieldKind::Text),
        field("error", FieldKind::Text),
    ];
    HashMap::from([("logs".to_string(), CollectionInfo::new("logs", fields))])
});

const COLUMNS: &str = "t.id, t.created, t.level, t.method, t.url, t.status, t.execTime, \
                       t.remoteIP, t.userAgent, t.referer, t.auth, t.error, t.userIP";

/// A `WHERE` body and its parameters for a filter over the log columns
/// (`status >= 400 && method = "POST"`); a bad filter is a 400 saying why.
fn where_clause(filter: &str) -> Result<crate::query::SqlExpr, ApiError> {
    let opts = CompileOptions::full("t");
    compile_filter(filter, "logs", &*LOG_SCHEMA, &RequestInfo::default(), &opts).map_err(|e| {
        ApiError::bad_request(format!(
            "Invalid filter: {e}. Filter on id, created, level, method, url, status, execTime, remoteIP, userIP, userAgent, referer, auth or error."
        ))
    })
}

/// The `ORDER BY` body (and its parameters) for a sort over the log columns.
fn order_by(sort: &str) -> Result<crate::query::SqlExpr, ApiError> {
    let sort = if sort.is_empty() { "-created" } else { sort };
    compile_sort(
        sort,
        "logs",
        &*LOG_SCHEMA,
        &RequestInfo::default(),
        &CompileOptions::full("t"),
    )
    .map(|s| s.order)
    .map_err(|e| ApiError::bad_request(format!("Invalid sort: {e}.")))
}

/// One log row in PocketBase's shape: `{id, created, level, message, data}`.
fn present(row: &Row<'_>) -> rusqlite::Result<Value> {
    let created: String = row.get(1)?;
    let method: String = row.get(3)?;
    let url: String = row.get(4)?;
    Ok(json!({
        "id": row.get::<_, String>(0)?,
        "created": created,
        "updated": created,
        "level": row.get::<_, i64>(2)?,
        "message": format!("{method} {url}"),
        "data": {
            "type": "request",
            "method": method,
            "url": url,
            "status": row.get::<_, i64>(5)?,
            "execTime": row.get::<_, f64>(6)?,
            "remoteIP": row.get::<_, String>(7)?,
            "userIP": row.get::<_, String>(12)?,
            "userAgent": row.get::<_, String>(8)?,
            "referer": row.get::<_, String>(9)?,
            "auth": row.get::<_, String>(10)?,
            "error": row.get::<_, String>(11)?,
        },
    }))
}

/// Runs `f` on a fresh read-only connection to the log file, off the async
/// threads.
async fn with_logs<T: Send + 'static>(
    core: &Core,
    f: impl FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let path = core.logs.path().to_path_buf();
    actix_web::web::block(move || {
        if !path.exists() {
            // Logging never started (disabled from the start): nothing logged.
            let conn = Connection::open_in_memory()?;
            conn.execute_batch(crate::logs::writer::SCHEMA)?;
            return f(&conn);
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        f(&conn)
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// A page of request logs, newest first unless `query.sort` says otherwise:
/// `{page, perPage, totalItems, totalPages, items}` like every PocketBase list.
pub async fn list(core: &Core, query: ListQuery) -> Result<Value, ApiError> {
    let filter = where_clause(&query.filter)?;
    let order = order_by(&query.sort)?;
    with_logs(core, move |conn| {
        let offset = (query.page - 1) * query.per_page;
        let sql = format!(
            "SELECT {COLUMNS} FROM logs AS t WHERE ({}) ORDER BY {}, t.rowid DESC LIMIT {} OFFSET {offset}",
            filter.sql, order.sql, query.per_page
        );
        let params = rusqlite::params_from_iter(filter.params.iter().chain(order.params.iter()));
        let items = conn
            .prepare(&sql)?
            .query_map(params, present)?
            .collect::<Result<Vec<_>, _>>()?;
        let (total_items, total_pages) = if query.skip_total {
            (-1, -1)
        } else {
            let total: i64 = conn.query_row(
                &format!("SELECT COUNT(*) FROM logs AS t WHERE ({})", filter.sql),
                rusqlite::params_from_iter(filter.params.iter()),
                |r| r.get(0),
            )?;
            let per_page = query.per_page as i64;
            (total, (total + per_page - 1) / per_page)
        };
        Ok(json!({
            "page": query.page,
            "perPage": query.per_page,
            "totalItems": total_items,
            "totalPages": total_pages,
            "items": items,
        }))
    })
    .await
}

/// One request log by id; 404 when missing (pruned, or never there).
pub async fn view(core: &Core, id: String) -> Result<Value, ApiError> {
    with_logs(core, move |conn| {
        let sql = format!("SELECT {COLUMNS} FROM logs AS t WHERE t.id = ?1");
        match conn.query_row(&sql, [id], present) {
            Ok(v) => Ok(v),
            Err(rusqlite::Error::QueryReturnedNoRows) => Err(ApiError::not_found()),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// Requests per hour matching `filter`, oldest first:
/// `[{"date": "2026-01-02 15:00:00.000Z", "total": 42}, …]` (PocketBase's shape).
pub async fn stats(core: &Core, filter: &str) -> Result<Vec<Value>, ApiError> {
    let filter = where_clause(filter)?;
    with_logs(core, move |conn| {
        let sql = format!(
            "SELECT strftime('%Y-%m-%d %H:00:00.000Z', t.created) AS hour, COUNT(*) \
             FROM logs AS t WHERE ({}) GROUP BY hour ORDER BY hour",
            filter.sql
        );
        let rows = conn
            .prepare(&sql)?
            .query_map(rusqlite::params_from_iter(filter.params.iter()), |r| {
                Ok(json!({"date": r.get::<_, String>(0)?, "total": r.get::<_, i64>(1)?}))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
    .await
}
