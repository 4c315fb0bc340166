//! `?expand=author,comments_via_post.user`: related records, nested up to six
//! levels, each filtered by its own collection's view rule.
//!
//! PocketBase's semantics: every path is expanded on its own, all or nothing. A path
//! that cannot be expanded (an unknown or non-relation field, a collection whose
//! view rule is superusers-only for this requester, at any level that has records
//! to expand) leaves the records as they were, while the other paths still apply;
//! `expand` appears (possibly `{}`) on every record of a level that expanded. A
//! back-relation whose field has a single-column unique index expands to one record.
//! Stricter than PocketBase: for non-superusers a hidden relation field (or a
//! back-relation through one) expands as if it held no ids, since the expanded
//! record would show the hidden field's value.

use std::collections::HashMap;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value, json};

use super::error::RecordError;
use super::read::{ReadCtx, Where, add_rule, row_to_record, select_list};
use crate::schema::{Collection, CollectionType, Field, FieldKind, index, quote_ident};

/// How deep expand paths may go (deeper parts are ignored).
pub const MAX_DEPTH: usize = 6;

/// Most back-related records expanded per record (as in PocketBase).
const MAX_BACK_RELATED: usize = 1000;

/// Why a path is not expanded (the records stay as they were).
struct Unexpandable;

/// Errors of the database are real errors; everything else only skips the path.
enum Failure {
    Skip(Unexpandable),
    Api(RecordError),
}

impl From<RecordError> for Failure {
    fn from(e: RecordError) -> Self {
        Failure::Api(e)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Api(e.into())
    }
}

/// The paths of an `expand` parameter as PocketBase reads them: spaces removed,
/// dots trimmed, duplicates and paths that a longer one contains dropped.
fn normalize(param: &str) -> Vec<Vec<String>> {
    let paths: Vec<String> = param
        .split(',')
        .map(|p| p.replace(' ', "").trim_matches('.').to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let covered = paths
            .iter()
            .enumerate()
            .any(|(j, q)| i != j && q.starts_with(&format!("{p}.")));
        let segs: Vec<String> = p.split('.').map(str::to_string).collect();
        if !covered && !out.contains(&segs) {
            out.push(segs);
        }
    }
    out
}

/// Adds `expand` to each record for every path of `param` that can be expanded.
pub fn expand(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    records: &mut [Map<String, Value>],
    param: &str,
) -> Result<(), RecordError> {
    let mut req = ctx.req.clone();
    req.context = "expand".into();
    let ctx = ReadCtx {
        schema: ctx.schema,
        req: &req,
        superuser: ctx.superuser,
    };
    for path in normalize(param) {
        match expand_level(conn, &ctx, c, records, &path, 1) {
            Ok(Some(level)) => level.apply(records),
            Ok(None) | Err(Failure::Skip(_)) => {}
            Err(Failure::Api(e)) => return Err(e),
        }
    }
    Ok(())
}

/// One level of a path, computed without touching the records: for each record,
/// what goes under `expand[name]`.
struct Level {
    name: String,
    values: Vec<Option<Value>>,
}

impl Level {
    fn apply(self, records: &mut [Map<String, Value>]) {
        for (record, value) in records.iter_mut().zip(self.values) {
            let expand = record.entry("expand").or_insert_with(|| json!({}));
            let (Some(mut value), Value::Object(expand)) = (value, expand) else {
                continue;
            };
            if let Some(old) = expand.get(&self.name) {
                merge_nested(&mut value, old);
            }
            expand.insert(self.name.clone(), value);
        }
    }
}

/// Keeps what an earlier path expanded inside records that a later path expands
/// again (`a.b` then `a.c` give `a` with both `b` and `c`).
fn merge_nested(new: &mut Value, old: &Value) {
    let olds: Vec<&Value> = match old {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let news: Vec<&mut Value> = match new {
        Value::Array(items) => items.iter_mut().collect(),
        one => vec![one],
    };
    for item in news {
        let Some(old_item) = olds.iter().find(|o| o.get("id") == item.get("id")) else {
            continue;
        };
        let Some(Value::Object(old_expand)) = old_item.get("expand") else {
            continue;
        };
        let Value::Object(fields) = item else {
            continue;
        };
        let target = fields.entry("expand").or_insert_with(|| json!({}));
        let Value::Object(target) = target else {
            continue;
        };
        for (key, old_value) in old_expand {
            match target.get_mut(key) {
                Some(existing) => merge_nested(existing, old_value),
                None => {
                    target.insert(key.clone(), old_value.clone());
                }
            }
        }
    }
}

/// What `name` leads to from a record of `c`: a relation field, or a back-relation
/// `{collection}_via_{field}`.
enum Hop<'s> {
    Direct {
        field: &'s Field,
        target: &'s Collection,
    },
    Back {
        source: &'s Collection,
        field: &'s Field,
        single: bool,
    },
}

impl Hop<'_> {
    /// The relation field the hop follows.
    fn field(&self) -> &Field {
        match self {
            Hop::Direct { field, .. } | Hop::Back { field, .. } => field,
        }
    }
}

fn hop<'s>(ctx: &ReadCtx<'s>, c: &Collection, name: &str) -> Result<Hop<'s>, Unexpandable> {
    if let Some((source_name, field_name)) = name.split_once("_via_") {
        let source = ctx.schema.get(source_name).ok_or(Unexpandable)?;
        let field = source.field(field_name).ok_or(Unexpandable)?;
        match &field.kind {
            FieldKind::Relation { collection_id, .. } if *collection_id == c.id => {
                let single = has_single_unique_index(source, field_name);
                return Ok(Hop::Back {
                    source,
                    field,
                    single,
                });
            }
            _ => return Err(Unexpandable),
        }
    }
    let field = ctx
        .schema
        .get(&c.id)
        .and_then(|own| own.field(name))
        .ok_or(Unexpandable)?;
    let FieldKind::Relation { collection_id, .. } = &field.kind else {
        return Err(Unexpandable);
    };
    let target = ctx.schema.get(collection_id).ok_or(Unexpandable)?;
    Ok(Hop::Direct { field, target })
}

/// Whether `c` has a unique index on `field` alone.
fn has_single_unique_index(c: &Collection, field: &str) -> bool {
    c.indexes
        .iter()
        .filter_map(|sql| index::parse(sql).ok())
        .any(|i| {
            i.unique
                && matches!(i.columns.as_slice(), [col] if col.name.eq_ignore_ascii_case(field))
        })
}

fn ids_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Expands `path` (from segment 0) for `records` of `c`; `Ok(None)` when there is
/// nothing to do (no records, or past the depth limit).
fn expand_level(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    records: &[Map<String, Value>],
    path: &[String],
    level: usize,
) -> Result<Option<Level>, Failure> {
    let Some((name, rest)) = path.split_first() else {
        return Ok(None);
    };
    if level > MAX_DEPTH || records.is_empty() {
        return Ok(None);
    }
    let hop = hop(ctx, c, name).map_err(Failure::Skip)?;
    let (target, multiple) = match &hop {
        Hop::Direct { field, target } => (*target, field.is_multiple()),
        Hop::Back { source, single, .. } => (*source, !single),
    };
    // Per record, the related ids in the order they will be shown; none through a
    // relation hidden from the requester.
    let per_record: Vec<Vec<String>> = if hop.field().hidden && !ctx.superuser {
        vec![Vec::new(); records.len()]
    } else {
        match &hop {
            Hop::Direct { field, .. } => {
                records.iter().map(|r| ids_of(r.get(&field.name))).collect()
            }
            Hop::Back { source, field, .. } => back_related(conn, source, field, records)?,
        }
    };
    let wanted = super::value::unique_nonempty(per_record.iter().flatten().cloned().collect());
    let mut found = fetch(conn, ctx, target, &wanted)?;
    if !rest.is_empty() {
        if let Some(nested) = expand_level(conn, ctx, target, &found, rest, level + 1)? {
            nested.apply(&mut found);
        }
    }
    let by_id: HashMap<&str, &Map<String, Value>> = found
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str).map(|id| (id, r)))
        .collect();
    let values = per_record
        .iter()
        .map(|ids| {
            let rels: Vec<Value> = ids
                .iter()
                .filter_map(|id| by_id.get(id.as_str()))
                .map(|r| Value::Object((*r).clone()))
                .collect();
            match (rels.is_empty(), multiple) {
                (true, _) => None,
                (false, true) => Some(Value::Array(rels)),
                (false, false) => rels.into_iter().next(),
            }
        })
        .collect();
    Ok(Some(Level {
        name: name.clone(),
        values,
    }))
}

/// For each record, the ids of `source` rows whose `field` points at it, in
/// table order, at most [`MAX_BACK_RELATED`] (whether the requester may see them is
/// decided by the fetch).
fn back_related(
    conn: &Connection,
    source: &Collection,
    field: &Field,
    records: &[Map<String, Value>],
) -> Result<Vec<Vec<String>>, Failure> {
    let col = quote_ident(&field.name);
    let refers = if field.is_multiple() {
        format!("EXISTS (SELECT 1 FROM json_each(t.{col}) j WHERE j.value = ?1)")
    } else {
        format!("t.{col} = ?1")
    };
    let order = if source.kind == CollectionType::View {
        ""
    } else {
        " ORDER BY t.rowid"
    };
    let sql = format!(
        "SELECT t.\"id\" FROM {} AS t WHERE {refers}{order} LIMIT {MAX_BACK_RELATED}",
        quote_ident(&source.name)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut out = Vec::with_capacity(records.len());
    for record in records {
        let id = record.get("id").and_then(Value::as_str).unwrap_or_default();
        let ids: Vec<String> = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        out.push(ids);
    }
    Ok(out)
}

/// The records of `target` with these ids that its view rule lets the requester
/// see; a superusers-only collection cannot be expanded by anyone else.
fn fetch(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    target: &Collection,
    ids: &[String],
) -> Result<Vec<Map<String, Value>>, Failure> {
    let mut w = Where::default();
    w.push(
        "t.\"id\" IN (SELECT value FROM json_each(?))".to_string(),
        vec![SqlValue::Text(json!(ids).to_string())],
    );
    if !add_rule(&mut w, ctx, target, target.view_rule.as_deref())? {
        return Err(Failure::Skip(Unexpandable));
    }
    let sql = format!(
        "SELECT {} FROM {} AS t{}",
        select_list(target),
        quote_ident(&target.name),
        w.sql()
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(w.params.iter()), |row| {
            row_to_record(target, row, ctx.superuser)
        })?
        .collect::<Result<_, _>>()?;
    Ok(ctx.present_all(conn, target, found)?)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_paths_like_pocketbase() {
        assert_eq!(
            normalize("a.b.c, a.b ,  test , ,test,.x.,"),
            vec![
                vec!["a".to_string(), "b".into(), "c".into()],
                vec!["test".to_string()],
                vec!["x".to_string()],
            ]
        );
        assert!(normalize(" , . ").is_empty());
    }
}
