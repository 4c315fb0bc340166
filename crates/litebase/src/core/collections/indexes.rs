//! A collection's indexes as the collections API handles them: refusals in
//! PocketBase's error shape (`data.indexes.<position>`), indexes carried over a
//! rename, and the checks on index names that need the database.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::invalid;
use crate::error::ApiError;
use crate::schema::index::{self, Refused};
use crate::schema::{Collection, CollectionType, ddl};

/// PocketBase's shape for problems with single indexes: `{"indexes": {"<position>": …}}`.
fn problems(each: impl IntoIterator<Item = (usize, Value)>) -> ApiError {
    let by_position: Map<String, Value> = each
        .into_iter()
        .map(|(position, problem)| (position.to_string(), problem))
        .collect();
    let mut p = Map::new();
    p.insert("indexes".into(), Value::Object(by_position));
    invalid(p)
}

/// Each refused index at its position, with its code and a message naming it.
pub(super) fn refused(refused: Refused) -> ApiError {
    problems(refused.0.into_iter().map(|r| {
        let problem = json!({"code": r.error.code(), "message": r.message()});
        (r.position, problem)
    }))
}

/// On a rename, an index written for the old name is stored as written for the
/// new one (as PocketBase does), so it stays valid for later changes; one written
/// for the current name is kept as the client sent it.
pub(super) fn retarget(c: &mut Collection, previous_name: &str) -> Result<(), ApiError> {
    if c.kind == CollectionType::View || c.name == previous_name {
        return Ok(());
    }
    let parsed = index::check_all(c, Some(previous_name)).map_err(refused)?;
    for (raw, parsed) in c.indexes.iter_mut().zip(&parsed) {
        if !parsed.table.eq_ignore_ascii_case(&c.name) {
            *raw = parsed.to_sql(&c.name);
        }
    }
    Ok(())
}

/// Checks `c`'s index names against the database, in the writer: a name that an
/// index of another table already has is refused (SQLite would refuse it, or
/// skip it silently with `IF NOT EXISTS`). An old index whose name belongs to
/// another table (stored before names were checked) is not dropped. Returns
/// `statements` without such drops.
pub(super) fn check_names(
    conn: &rusqlite::Connection,
    c: &Collection,
    previous: Option<&Collection>,
    statements: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    if c.kind == CollectionType::View {
        return Ok(statements);
    }
    let old_name = previous.map_or(c.name.as_str(), |p| p.name.as_str());
    let mut stmt = conn.prepare(
        "SELECT lower(name), tbl_name FROM sqlite_master WHERE type = 'index' \
         AND lower(tbl_name) <> lower(?1) AND lower(tbl_name) <> lower(?2)",
    )?;
    let elsewhere: HashMap<String, String> = stmt
        .query_map([c.name.as_str(), old_name], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let taken: Vec<(usize, Value)> = c
        .indexes
        .iter()
        .enumerate()
        .filter_map(|(position, raw)| {
            let name = index::index_name(raw)?;
            let table = elsewhere.get(&name.to_ascii_lowercase())?;
            let problem = json!({
                "code": "validation_existing_index_name",
                "message": format!("Index {name}: the name is already used by an index of {table}."),
                "params": {"usedTableName": table},
            });
            Some((position, problem))
        })
        .collect();
    if !taken.is_empty() {
        return Err(problems(taken));
    }
    let foreign_drops: Vec<String> = previous
        .map(|p| p.indexes.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|raw| index::index_name(raw))
        .filter(|name| elsewhere.contains_key(&name.to_ascii_lowercase()))
        .map(|name| ddl::drop_index(&name))
        .collect();
    Ok(statements
        .into_iter()
        .filter(|sql| !foreign_drops.contains(sql))
        .collect())
}

/// An index statement that SQLite itself refused (a unique index over duplicate
/// values, say): the last line of defence, reported at the index's position.
pub(super) fn refused_by_sqlite(
    c: &Collection,
    position: usize,
    err: &rusqlite::Error,
) -> ApiError {
    let label = c
        .indexes
        .get(position)
        .and_then(|raw| index::index_name(raw))
        .unwrap_or_else(|| format!("at position {position}"));
    let problem = json!({
        "code": "validation_invalid_sql",
        "message": format!("Index {label}: SQLite refused it: {err}."),
    });
    problems([(position, problem)])
}
