//! Reading and writing collection definitions in `_collections`.

use rusqlite::{Connection, params};
use serde_json::json;

use super::collection::{Collection, CollectionType};
use crate::db::DbError;

fn bad_row(e: serde_json::Error) -> DbError {
    DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Every collection, oldest first.
pub fn load_all(conn: &Connection) -> Result<Vec<Collection>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, type, system, fields, indexes, listRule, viewRule, createRule,
                updateRule, deleteRule, options, created, updated
         FROM _collections ORDER BY created, rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            [
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, Option<String>>(9)?,
                r.get::<_, Option<String>>(10)?,
            ],
            r.get::<_, String>(11)?,
            r.get::<_, String>(12)?,
            r.get::<_, String>(13)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, kind, system, fields, indexes, rules, options, created, updated) = row?;
        let [list_rule, view_rule, create_rule, update_rule, delete_rule] = rules;
        let options: serde_json::Value = serde_json::from_str(&options).map_err(bad_row)?;
        out.push(Collection {
            id,
            name,
            kind: serde_json::from_value(json!(&kind)).map_err(bad_row)?,
            system,
            fields: serde_json::from_str(&fields).map_err(bad_row)?,
            indexes: serde_json::from_str(&indexes).map_err(bad_row)?,
            list_rule,
            view_rule,
            create_rule,
            update_rule,
            delete_rule,
            view_query: options["viewQuery"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            auth: match options.get("auth") {
                Some(a) if kind == "auth" => {
                    Some(serde_json::from_value(a.clone()).map_err(bad_row)?)
                }
                _ if kind == "auth" => Some(Default::default()),
                _ => None,
            },
            created,
            updated,
        });
    }
    Ok(out)
}

/// The SQL that stores `c` in `_collections` (insert or replace), with every value
/// as a literal, so the same text can go into a migration file.
pub fn upsert_sql(c: &Collection) -> Result<String, DbError> {
    use super::quote_literal as q;
    let rule = |r: &Option<String>| r.as_deref().map_or("NULL".to_string(), q);
    let kind = match c.kind {
        CollectionType::Base => "base",
        CollectionType::View => "view",
        CollectionType::Auth => "auth",
    };
    let mut options = serde_json::Map::new();
    if !c.view_query.is_empty() {
        options.insert("viewQuery".into(), json!(c.view_query));
    }
    if let Some(auth) = &c.auth {
        options.insert("auth".into(), serde_json::to_value(auth).map_err(bad_row)?);
    }
    let options = serde_json::Value::Object(options);
    Ok(format!(
        "INSERT INTO _collections (id, name, type, system, fields, indexes, listRule, viewRule, \
         createRule, updateRule, deleteRule, options) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, \
         system = excluded.system, fields = excluded.fields, indexes = excluded.indexes, \
         listRule = excluded.listRule, viewRule = excluded.viewRule, \
         createRule = excluded.createRule, updateRule = excluded.updateRule, \
         deleteRule = excluded.deleteRule, options = excluded.options, \
         updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now')",
        q(&c.id),
        q(&c.name),
        q(kind),
        i32::from(c.system),
        q(&serde_json::to_string(&c.fields).map_err(bad_row)?),
        q(&serde_json::to_string(&c.indexes).map_err(bad_row)?),
        rule(&c.list_rule),
        rule(&c.view_rule),
        rule(&c.create_rule),
        rule(&c.update_rule),
        rule(&c.delete_rule),
        q(&options.to_string()),
    ))
}

/// The SQL that removes `c` from `_collections`.
pub fn delete_sql(c: &Collection) -> String {
    format!(
        "DELETE FROM _collections WHERE id = {}",
        super::quote_literal(&c.id)
    )
}

/// Reads one collection back (with its timestamps) after a change.
pub fn load_one(conn: &Connection, id: &str) -> Result<Option<Collection>, DbError> {
    // Collections are few; loading all keeps one code path for decoding rows.
    Ok(load_all(conn)?.into_iter().find(|c| c.id == id))
}

/// Whether a table, view or index of this name exists.
pub fn object_exists(conn: &Connection, name: &str) -> Result<bool, DbError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = ?1 COLLATE NOCASE)",
        params![name],
        |r| r.get(0),
    )?)
}
