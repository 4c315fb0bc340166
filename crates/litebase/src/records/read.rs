//! Listing and viewing records, with rules, filter, sort, paging, expand, fields.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::{Map, Value, json};

use super::error::RecordError;
use super::expand;
use super::projection::Projection;
use super::rules;
use crate::query::{self, Access, CompileOptions, RequestInfo};
use crate::schema::{Collection, CollectionType, FieldKind, Schema, quote_ident};

/// Who reads, and with which request data (for `@request.*` in rules).
pub struct ReadCtx<'a> {
    /// The schema snapshot of this request.
    pub schema: &'a Schema,
    /// Request data for rules and filters.
    pub req: &'a RequestInfo,
    /// Rules bypassed, hidden fields shown.
    pub superuser: bool,
}

impl ReadCtx<'_> {
    /// Records as this requester may see them: for auth collections the email is
    /// left out unless it is the requester's own record, the record made it
    /// visible, the requester is a superuser, or the requester manages the record
    /// (the collection's `manageRule`).
    pub fn present_all(
        &self,
        conn: &Connection,
        c: &Collection,
        records: Vec<Map<String, Value>>,
    ) -> Result<Vec<Map<String, Value>>, RecordError> {
        if c.kind != CollectionType::Auth || self.superuser {
            return Ok(records);
        }
        let ids: Vec<&str> = records
            .iter()
            .filter_map(|r| r.get("id").and_then(Value::as_str))
            .collect();
        let managed = managed_ids(conn, self, c, &ids)?;
        Ok(records
            .into_iter()
            .map(|r| {
                let is_managed = r
                    .get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| managed.contains(id));
                hide_private(c, r, false, self.req.auth.as_ref(), is_managed)
            })
            .collect())
    }
}

/// The collection's `manageRule` when it can grant this requester anything:
/// an auth collection, a signed-in non-superuser, a rule that is not blank (a
/// blank or `null` manage rule leaves managing to superusers, as in PocketBase).
pub(crate) fn manage_rule<'c>(ctx: &ReadCtx<'_>, c: &'c Collection) -> Option<&'c str> {
    if ctx.superuser || c.kind != CollectionType::Auth || ctx.req.auth.is_none() {
        return None;
    }
    c.auth
        .as_ref()
        .and_then(|a| a.manage_rule.as_deref())
        .filter(|rule| !rule.trim().is_empty())
}

/// Which of the records `ids` of auth collection `c` the requester manages:
/// matches the collection's `manageRule` (PocketBase's managers may see and
/// change another user's email, `verified` and password).
pub(crate) fn managed_ids(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    ids: &[&str],
) -> Result<std::collections::HashSet<String>, RecordError> {
    let Some(rule) = manage_rule(ctx, c) else {
        return Ok(Default::default());
    };
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut w = Where::default();
    w.push(
        "t.\"id\" IN (SELECT value FROM json_each(?))".to_string(),
        vec![SqlValue::Text(json!(ids).to_string())],
    );
    add_rule(&mut w, ctx, c, Some(rule))?;
    let sql = format!(
        "SELECT t.\"id\" FROM {} AS t{}",
        quote_ident(&c.name),
        w.sql()
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(w.params.iter()), |row| {
            row.get::<_, String>(0)
        })?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

/// An auth record without its email unless the requester may see it: a
/// superuser, the record itself, a manager of it, or anyone when the record
/// made its email visible.
pub fn hide_private(
    c: &Collection,
    mut record: Map<String, Value>,
    superuser: bool,
    requester: Option<&Map<String, Value>>,
    managed: bool,
) -> Map<String, Value> {
    if c.kind != CollectionType::Auth || superuser || managed {
        return record;
    }
    let own = requester.is_some_and(|a| {
        a.get("id") == record.get("id")
            && a.get("collectionId").and_then(Value::as_str) == Some(c.id.as_str())
    });
    let public = record
        .get("emailVisibility")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !own && !public {
        record.remove("email");
    }
    record
}

/// `?page=&perPage=&sort=&filter=&skipTotal=&expand=&fields=` of a list request.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// 1-based page.
    pub page: usize,
    /// Items per page, 1..=1000.
    pub per_page: usize,
    /// Skip the count query (`totalItems`/`totalPages` are -1).
    pub skip_total: bool,
    /// The filter text.
    pub filter: String,
    /// The sort text.
    pub sort: String,
    /// Relations to expand.
    pub expand: String,
    /// Fields to keep.
    pub fields: String,
}

/// One query parameter's text (`""` when absent), from a map of
/// [`crate::api::query_map`]'s shape.
pub(crate) fn param<'a>(q: &'a Map<String, Value>, key: &str) -> &'a str {
    q.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl ListQuery {
    /// Reads the query parameters with PocketBase's defaults and limits.
    pub fn parse(q: &Map<String, Value>) -> Result<ListQuery, RecordError> {
        let int = |key: &str| -> Result<Option<i64>, RecordError> {
            match param(q, key).trim() {
                "" => Ok(None),
                s => s
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| RecordError::generic_bad_request()),
            }
        };
        let page = int("page")?.unwrap_or(1).max(1) as usize;
        let per_page = match int("perPage")? {
            Some(n) if n > 0 => n.min(1000) as usize,
            _ => 30,
        };
        // A page whose first row is past what SQL can count is as bad as a page
        // that is not a number (the offset `(page - 1) * perPage` would overflow).
        if (page - 1)
            .checked_mul(per_page)
            .is_none_or(|offset| offset > i64::MAX as usize)
        {
            return Err(RecordError::generic_bad_request());
        }
        Ok(ListQuery {
            page,
            per_page,
            skip_total: matches!(param(q, "skipTotal"), "1" | "true" | "t"),
            filter: param(q, "filter").to_string(),
            sort: param(q, "sort").to_string(),
            expand: param(q, "expand").to_string(),
            fields: param(q, "fields").to_string(),
        })
    }
}

/// `t."id", t."title", …`: every stored field but passwords.
pub fn select_list(c: &Collection) -> String {
    let cols: Vec<String> = readable_fields(c)
        .map(|f| format!("t.{}", quote_ident(&f.name)))
        .collect();
    cols.join(", ")
}

fn readable_fields(c: &Collection) -> impl Iterator<Item = &crate::schema::Field> {
    c.fields.iter().filter(|f| {
        !matches!(f.kind, FieldKind::Password { .. })
            && !crate::schema::system::is_secret_field(c, &f.name)
    })
}

/// Builds a record's JSON from a row selected with [`select_list`]. Hidden fields
/// are left out unless `show_hidden`.
pub fn row_to_record(
    c: &Collection,
    row: &rusqlite::Row<'_>,
    show_hidden: bool,
) -> rusqlite::Result<Map<String, Value>> {
    let mut record = Map::new();
    record.insert("collectionId".into(), json!(c.id));
    record.insert("collectionName".into(), json!(c.name));
    for (i, field) in readable_fields(c).enumerate() {
        let v: SqlValue = row.get(i)?;
        if field.hidden && !show_hidden {
            continue;
        }
        record.insert(field.name.clone(), super::value::from_sql(field, v));
    }
    Ok(record)
}

/// A compiled WHERE with its params.
#[derive(Default)]
pub struct Where {
    parts: Vec<String>,
    /// The bound values, in order.
    pub params: Vec<SqlValue>,
}

impl Where {
    /// Adds a condition.
    pub fn push(&mut self, sql: String, params: Vec<SqlValue>) {
        self.parts.push(format!("({sql})"));
        self.params.extend(params);
    }

    /// `WHERE …` or nothing.
    pub fn sql(&self) -> String {
        if self.parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.parts.join(" AND "))
        }
    }
}

/// Adds `rule` (for non-superusers) to `w`; `None` means the requester may not.
pub fn add_rule(
    w: &mut Where,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    rule: Option<&str>,
) -> Result<bool, RecordError> {
    if ctx.superuser {
        return Ok(true);
    }
    let Some(rule) = rule else { return Ok(false) };
    if !rule.trim().is_empty() {
        let compiled = rules::compile(ctx.schema.query_view(), c, rule, ctx.req, Access::Full)
            .map_err(|e| {
                tracing::error!(collection = %c.name, error = %e, "a stored rule does not compile");
                RecordError::internal()
            })?;
        w.push(compiled.sql, compiled.params);
    }
    Ok(true)
}

/// Refuses what a non-superuser may not write in `?filter=` or `?sort=` (see
/// [`rules::superuser_only_token`]); PocketBase checks the filter, then the sort.
fn check_client_query(ctx: &ReadCtx<'_>, filter: &str, sort: &str) -> Result<(), RecordError> {
    if ctx.superuser {
        return Ok(());
    }
    for text in [filter, sort] {
        if let Some(token) = rules::superuser_only_token(text) {
            return Err(RecordError::forbidden_with(format!(
                "Only superusers can filter by {token}"
            )));
        }
    }
    Ok(())
}

fn filter_error(e: query::FilterError) -> RecordError {
    RecordError::bad_request(format!("Invalid filter: {e}."))
}

/// One record by id, or 404 when missing or hidden by the view rule.
pub fn view(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    id: &str,
) -> Result<Map<String, Value>, RecordError> {
    let record = one_by_rule(conn, ctx, c, c.view_rule.as_deref(), id, ctx.superuser)?;
    let [record] = <[_; 1]>::try_from(ctx.present_all(conn, c, vec![record])?)
        .map_err(|_| RecordError::internal())?;
    Ok(record)
}

/// The record `id` if `rule` lets this requester reach it: 403 for a `null` rule
/// (non-superusers), 404 when missing or hidden by the rule. `show_hidden` keeps
/// hidden fields (writes need the whole stored record).
pub fn one_by_rule(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    rule: Option<&str>,
    id: &str,
    show_hidden: bool,
) -> Result<Map<String, Value>, RecordError> {
    let mut w = Where::default();
    w.push("t.\"id\" = ?".into(), vec![SqlValue::Text(id.to_string())]);
    if !add_rule(&mut w, ctx, c, rule)? {
        return Err(super::superusers_only());
    }
    let sql = format!(
        "SELECT {} FROM {} AS t{} LIMIT 1",
        select_list(c),
        quote_ident(&c.name),
        w.sql()
    );
    conn.prepare_cached(&sql)?
        .query_row(params_from_iter(w.params.iter()), |row| {
            row_to_record(c, row, show_hidden)
        })
        .optional()?
        .ok_or_else(RecordError::not_found)
}

/// A page of records, PocketBase's envelope.
pub fn list(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    q: &ListQuery,
) -> Result<Value, RecordError> {
    let mut w = Where::default();
    if !add_rule(&mut w, ctx, c, c.list_rule.as_deref())? {
        return Err(super::superusers_only());
    }
    check_client_query(ctx, &q.filter, &q.sort)?;
    let access = rules::client_access(ctx.superuser);
    if !q.filter.is_empty() {
        // Blank text is no filter at all, but a filter of spaces is a mistake.
        if q.filter.trim().is_empty() {
            return Err(filter_error(query::FilterError::Empty));
        }
        let f = rules::compile(ctx.schema.query_view(), c, &q.filter, ctx.req, access)
            .map_err(filter_error)?;
        w.push(f.sql, f.params);
    }
    let mut order_params = Vec::new();
    let order = if q.sort.is_empty() {
        if c.kind == CollectionType::View {
            String::new()
        } else {
            " ORDER BY t.rowid".to_string()
        }
    } else {
        let opts = CompileOptions {
            table_alias: "t".into(),
            access,
        };
        let s = query::compile_sort(&q.sort, &c.name, ctx.schema.query_view(), ctx.req, &opts)
            .map_err(|e| RecordError::bad_request(format!("Invalid sort: {e}.")))?;
        if let Some(f) = s.filter {
            w.push(f.sql, f.params);
        }
        order_params = s.order.params;
        format!(" ORDER BY {}", s.order.sql)
    };
    let table = quote_ident(&c.name);
    let sql = format!(
        "SELECT {} FROM {table} AS t{}{order} LIMIT {} OFFSET {}",
        select_list(c),
        w.sql(),
        q.per_page,
        (q.page - 1) * q.per_page
    );
    let items: Vec<Map<String, Value>> = conn
        .prepare_cached(&sql)?
        .query_map(
            params_from_iter(w.params.iter().chain(&order_params)),
            |row| row_to_record(c, row, ctx.superuser),
        )?
        .collect::<Result<_, _>>()?;
    let mut items = ctx.present_all(conn, c, items)?;
    let (total, pages) = if q.skip_total {
        (-1i64, -1i64)
    } else {
        let count_sql = format!("SELECT count(*) FROM {table} AS t{}", w.sql());
        let total: i64 = conn
            .prepare_cached(&count_sql)?
            .query_row(params_from_iter(w.params.iter()), |r| r.get(0))?;
        (total, (total + q.per_page as i64 - 1) / q.per_page as i64)
    };
    finish(conn, ctx, c, &mut items, &q.expand, &q.fields)?;
    Ok(json!({
        "page": q.page,
        "perPage": q.per_page,
        "totalItems": total,
        "totalPages": pages,
        "items": items,
    }))
}

/// Applies `?expand=` and `?fields=` to records about to be returned.
pub fn finish(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    items: &mut [Map<String, Value>],
    expand_param: &str,
    fields_param: &str,
) -> Result<(), RecordError> {
    if !expand_param.trim().is_empty() {
        expand::expand(conn, ctx, c, items, expand_param)?;
    }
    if let Some(p) = Projection::parse(fields_param) {
        for item in items.iter_mut() {
            p.apply(item);
        }
    }
    Ok(())
}
