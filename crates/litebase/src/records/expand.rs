//! `?expand=author,comments_via_post.user`: related records, nested up to six
//! levels, each filtered by its own collection's view rule.

use std::collections::BTreeMap;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, Value, json};

use super::read::{ReadCtx, Where, add_rule, row_to_record, select_list};
use crate::error::ApiError;
use crate::schema::{Collection, FieldKind, quote_ident};

/// How deep expand paths may go.
pub const MAX_DEPTH: usize = 6;

#[derive(Default, Debug)]
struct Tree(BTreeMap<String, Tree>);

fn parse(param: &str) -> Tree {
    let mut root = Tree::default();
    for path in param.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut node = &mut root;
        for seg in path.split('.').take(MAX_DEPTH) {
            node = node.0.entry(seg.trim().to_string()).or_default();
        }
    }
    root
}

/// Adds `expand` to each record (an empty object when nothing expands).
pub fn expand(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    records: &mut [Map<String, Value>],
    param: &str,
) -> Result<(), ApiError> {
    let tree = parse(param);
    expand_level(conn, ctx, c, records, &tree)
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

/// Records of `target` matching `cond` (`t.…` SQL, one JSON-array param) and its
/// view rule, expanded further by `sub`.
fn fetch(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    target: &Collection,
    cond: &str,
    ids: &[String],
    sub: &Tree,
) -> Result<Vec<Map<String, Value>>, ApiError> {
    let mut w = Where::default();
    w.push(
        cond.to_string(),
        vec![SqlValue::Text(json!(ids).to_string())],
    );
    if !add_rule(&mut w, ctx, target, target.view_rule.as_deref())? {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM {} AS t{}",
        select_list(target),
        quote_ident(&target.name),
        w.sql()
    );
    let mut found: Vec<Map<String, Value>> = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(w.params.iter()), |row| {
            row_to_record(target, row, ctx.superuser).map(|r| ctx.present(target, r))
        })?
        .collect::<Result<_, _>>()?;
    if !sub.0.is_empty() {
        expand_level(conn, ctx, target, &mut found, sub)?;
    }
    Ok(found)
}

fn expand_level(
    conn: &Connection,
    ctx: &ReadCtx<'_>,
    c: &Collection,
    records: &mut [Map<String, Value>],
    tree: &Tree,
) -> Result<(), ApiError> {
    let known = tree.0.keys().any(|name| {
        c.field(name)
            .is_some_and(|f| matches!(f.kind, FieldKind::Relation { .. }))
            || name
                .split_once("_via_")
                .is_some_and(|(s, _)| ctx.schema.get(s).is_some())
    });
    if !known {
        // Like PocketBase: unknown names are ignored, and no `expand` key appears.
        return Ok(());
    }
    for record in records.iter_mut() {
        record.entry("expand").or_insert_with(|| json!({}));
    }
    for (name, sub) in &tree.0 {
        if let Some(field) = c.field(name) {
            let FieldKind::Relation { collection_id, .. } = &field.kind else {
                continue;
            };
            let Some(target) = ctx.schema.get(collection_id).cloned() else {
                continue;
            };
            let mut ids: Vec<String> = records.iter().flat_map(|r| ids_of(r.get(name))).collect();
            ids.sort();
            ids.dedup();
            if ids.is_empty() {
                continue;
            }
            let found = fetch(
                conn,
                ctx,
                &target,
                "t.\"id\" IN (SELECT value FROM json_each(?))",
                &ids,
                sub,
            )?;
            let by_id: BTreeMap<&str, &Map<String, Value>> = found
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str).map(|id| (id, r)))
                .collect();
            for record in records.iter_mut() {
                let mine = ids_of(record.get(name));
                let value = if field.is_multiple() {
                    let list: Vec<Value> = mine
                        .iter()
                        .filter_map(|id| by_id.get(id.as_str()))
                        .map(|r| Value::Object((*r).clone()))
                        .collect();
                    (!list.is_empty()).then_some(Value::Array(list))
                } else {
                    mine.first()
                        .and_then(|id| by_id.get(id.as_str()))
                        .map(|r| Value::Object((*r).clone()))
                };
                if let (Some(v), Some(Value::Object(e))) = (value, record.get_mut("expand")) {
                    e.insert(name.clone(), v);
                }
            }
        } else if let Some((source_name, field_name)) = name.split_once("_via_") {
            let Some(source) = ctx.schema.get(source_name).cloned() else {
                continue;
            };
            let Some(field) = source.field(field_name) else {
                continue;
            };
            match &field.kind {
                FieldKind::Relation { collection_id, .. } if *collection_id == c.id => {}
                _ => continue,
            }
            let ids: Vec<String> = records.iter().flat_map(|r| ids_of(r.get("id"))).collect();
            if ids.is_empty() {
                continue;
            }
            let col = format!("t.{}", quote_ident(field_name));
            let cond = if field.is_multiple() {
                format!(
                    "EXISTS (SELECT 1 FROM json_each({col}) j WHERE j.value IN (SELECT value FROM json_each(?)))"
                )
            } else {
                format!("{col} IN (SELECT value FROM json_each(?))")
            };
            let found = fetch(conn, ctx, &source, &cond, &ids, sub)?;
            for record in records.iter_mut() {
                let id = record
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let list: Vec<Value> = found
                    .iter()
                    .filter(|r| ids_of(r.get(field_name)).contains(&id))
                    .map(|r| Value::Object(r.clone()))
                    .collect();
                if !list.is_empty() {
                    if let Some(Value::Object(e)) = record.get_mut("expand") {
                        e.insert(name.clone(), Value::Array(list));
                    }
                }
            }
        }
    }
    Ok(())
}
