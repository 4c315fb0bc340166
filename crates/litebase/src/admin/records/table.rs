//! The records table: columns, cells rendered by field type, related records'
//! display text, and the links (sort, pages) that keep the current query.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::Chip;
use crate::core::Core;
use crate::error::ApiError;
use crate::schema::{Collection, Field, FieldKind, Schema, quote_ident};

/// The table's state, as in the URL: `filter`, `sort`, `page`, `perPage`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct TableQuery {
    /// PocketBase filter text.
    #[serde(default)]
    pub filter: String,
    /// Sort text (`field` or `-field`).
    #[serde(default)]
    pub sort: String,
    /// 1-based page.
    #[serde(default)]
    pub page: Option<u32>,
    /// Rows per page.
    #[serde(default, rename = "perPage")]
    pub per_page: Option<u32>,
}

/// Rows per page when none is asked for.
pub const DEFAULT_PER_PAGE: u32 = 20;

impl TableQuery {
    /// The query string for these values with `change` applied (`key`, `value`).
    pub fn link(&self, change: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            ("filter", self.filter.clone()),
            ("sort", self.sort.clone()),
            ("page", self.page.map(|p| p.to_string()).unwrap_or_default()),
            (
                "perPage",
                self.per_page.map(|p| p.to_string()).unwrap_or_default(),
            ),
        ];
        for (k, v) in change {
            if let Some(p) = pairs.iter_mut().find(|(key, _)| key == k) {
                p.1 = v.clone();
            }
        }
        let parts: Vec<String> = pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(&v)))
            .collect();
        if parts.is_empty() {
            "?".into()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A column header: field name, type, and the link that sorts by it.
#[derive(Debug, Serialize)]
pub struct Column {
    /// Field name.
    pub name: String,
    /// Field type.
    pub kind: &'static str,
    /// `"asc"` / `"desc"` when the table is sorted by it.
    pub sorted: &'static str,
    /// The query string that sorts by it (toggling the direction).
    pub link: String,
}

/// One cell, rendered by its field's type.
#[derive(Debug, Serialize)]
pub struct Cell {
    /// The column (field) name.
    pub col: String,
    /// The field type.
    pub kind: &'static str,
    /// The text shown.
    pub text: String,
    /// The whole value when `text` is shortened.
    pub title: String,
    /// Related records (relation cells).
    pub chips: Vec<Chip>,
}

/// One row.
#[derive(Debug, Serialize)]
pub struct Row {
    /// The record id.
    pub id: String,
    /// Its cells, in column order.
    pub cells: Vec<Cell>,
}

/// Fields shown as columns: everything readable (no passwords or secrets).
pub fn columns(c: &Collection, q: &TableQuery) -> Vec<Column> {
    c.fields
        .iter()
        .filter(|f| {
            !matches!(f.kind, FieldKind::Password { .. })
                && !crate::schema::system::is_secret_field(c, &f.name)
        })
        .map(|f| {
            let sorted = if q.sort == f.name {
                "asc"
            } else if q.sort == format!("-{}", f.name) {
                "desc"
            } else {
                ""
            };
            let next = if sorted == "asc" {
                format!("-{}", f.name)
            } else {
                f.name.clone()
            };
            Column {
                name: f.name.clone(),
                kind: f.kind.type_name(),
                sorted,
                link: q.link(&[("sort", next), ("page", String::new())]),
            }
        })
        .collect()
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// The field a collection's records are named by in pickers and chips.
pub fn display_field(c: &Collection) -> String {
    if let Some(f) = c.fields.iter().find(|f| f.presentable) {
        return f.name.clone();
    }
    for name in ["name", "title", "label", "email", "username"] {
        if c.field(name).is_some() {
            return name.to_string();
        }
    }
    "id".into()
}

/// Display text of records `ids` of collection `target` (id → text).
pub async fn labels(
    core: &Core,
    target: Arc<Collection>,
    ids: BTreeSet<String>,
) -> Result<BTreeMap<String, String>, ApiError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let display = display_field(&target);
    core.db
        .read(move |conn| {
            let marks = vec!["?"; ids.len()].join(", ");
            let sql = format!(
                "SELECT id, CAST({} AS TEXT) FROM {} WHERE id IN ({marks})",
                quote_ident(&display),
                quote_ident(&target.name)
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(ids.iter()), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, ApiError>(
                rows.into_iter()
                    .map(|(id, label)| {
                        let label = label.filter(|l| !l.is_empty()).unwrap_or(id.clone());
                        (id, label)
                    })
                    .collect(),
            )
        })
        .await
}

fn ids_of(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

/// The relation fields of `c` with the collection each points to (fields whose
/// target is gone are skipped).
pub fn relation_targets<'a>(
    schema: &'a Schema,
    c: &'a Collection,
) -> impl Iterator<Item = (&'a Field, Arc<Collection>)> + 'a {
    c.fields.iter().filter_map(|f| match &f.kind {
        FieldKind::Relation { collection_id, .. } => {
            schema.get(collection_id).cloned().map(|target| (f, target))
        }
        _ => None,
    })
}

/// Related records' labels for every relation field of `items` (field → id → text).
pub async fn relation_labels(
    core: &Core,
    schema: &Schema,
    c: &Collection,
    items: &[Map<String, Value>],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ApiError> {
    let mut out = BTreeMap::new();
    for (f, target) in relation_targets(schema, c) {
        let ids: BTreeSet<String> = items
            .iter()
            .flat_map(|r| ids_of(r.get(&f.name).unwrap_or(&Value::Null)))
            .collect();
        out.insert(f.name.clone(), labels(core, target, ids).await?);
    }
    Ok(out)
}

/// The rows of a page of records.
pub fn rows(
    columns: &[Column],
    items: &[Map<String, Value>],
    labels: &BTreeMap<String, BTreeMap<String, String>>,
) -> Vec<Row> {
    items
        .iter()
        .map(|r| Row {
            id: r
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            cells: columns
                .iter()
                .map(|col| cell(col, r.get(&col.name).unwrap_or(&Value::Null), labels))
                .collect(),
        })
        .collect()
}

fn cell(col: &Column, v: &Value, labels: &BTreeMap<String, BTreeMap<String, String>>) -> Cell {
    let mut chips = Vec::new();
    let full = match (col.kind, v) {
        ("bool", Value::Bool(b)) => (if *b { "✓" } else { "–" }).to_string(),
        ("relation", v) => {
            let known = labels.get(&col.name);
            chips = ids_of(v)
                .into_iter()
                .map(|id| Chip {
                    label: known
                        .and_then(|k| k.get(&id))
                        .cloned()
                        .unwrap_or(id.clone()),
                    id,
                })
                .collect();
            String::new()
        }
        ("select" | "file", Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", "),
        ("json", Value::Null) => String::new(),
        ("json", v) => v.to_string(),
        (_, Value::String(s)) => s.clone(),
        (_, Value::Null) => String::new(),
        (_, v) => v.to_string(),
    };
    let text = shorten(&full, 60);
    Cell {
        col: col.name.clone(),
        kind: col.kind,
        title: if text == full { String::new() } else { full },
        text,
        chips,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_query_and_encode_it() {
        let q = TableQuery {
            filter: "title ~ \"a b\"".into(),
            sort: "-title".into(),
            page: Some(2),
            per_page: None,
        };
        assert_eq!(
            q.link(&[("page", "3".into())]),
            "?filter=title%20~%20%22a%20b%22&sort=-title&page=3"
        );
    }

    #[test]
    fn long_text_is_cut_on_characters() {
        assert_eq!(shorten("ééé", 2), "éé…");
        assert_eq!(shorten("ab", 2), "ab");
    }
}
