//! The DDL that makes a table match its collection definition.

use std::collections::HashMap;

use super::collection::{Collection, CollectionType};
use super::field::Field;
use super::quote_ident as q;

/// Statements that create the table (or view) and its indexes.
pub fn create(c: &Collection) -> Vec<String> {
    if c.kind == CollectionType::View {
        return vec![format!(
            "CREATE VIEW {} AS {}",
            q(&c.name),
            c.view_query.trim().trim_end_matches(';')
        )];
    }
    let columns: Vec<String> = c.fields.iter().map(Field::column_sql).collect();
    let mut out = vec![format!(
        "CREATE TABLE {} ({})",
        q(&c.name),
        columns.join(", ")
    )];
    out.extend(c.indexes.iter().cloned());
    out
}

/// Statements that drop the table (or view); its indexes go with it.
pub fn drop(c: &Collection) -> Vec<String> {
    let what = if c.kind == CollectionType::View {
        "VIEW"
    } else {
        "TABLE"
    };
    vec![format!("DROP {what} IF EXISTS {}", q(&c.name))]
}

/// The name an index statement creates, if it can be read.
pub fn index_name(sql: &str) -> Option<String> {
    let re = regex::Regex::new(
        r#"(?i)^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?[`"\[]?([A-Za-z0-9_]+)"#,
    )
    .ok()?;
    re.captures(sql).map(|c| c[1].to_string())
}

/// Statements that turn `old`'s table into `new`'s, keeping the data: renames by
/// field id, adds and drops columns, converts single ↔ multiple values, and
/// recreates the indexes.
pub fn update(old: &Collection, new: &Collection) -> Vec<String> {
    if new.kind == CollectionType::View {
        let mut out = drop(old);
        out.extend(create(new));
        return out;
    }
    let mut out = Vec::new();
    for index in &old.indexes {
        if let Some(name) = index_name(index) {
            out.push(format!("DROP INDEX IF EXISTS {}", q(&name)));
        }
    }
    if old.name != new.name {
        out.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            q(&old.name),
            q(&new.name)
        ));
    }
    let table = q(&new.name);
    let old_by_id: HashMap<&str, &Field> = old.fields.iter().map(|f| (f.id.as_str(), f)).collect();
    let new_ids: std::collections::HashSet<&str> =
        new.fields.iter().map(|f| f.id.as_str()).collect();
    for f in &old.fields {
        if !new_ids.contains(f.id.as_str()) {
            out.push(format!("ALTER TABLE {table} DROP COLUMN {}", q(&f.name)));
        }
    }
    for f in &new.fields {
        match old_by_id.get(f.id.as_str()) {
            None => out.push(format!("ALTER TABLE {table} ADD COLUMN {}", f.column_sql())),
            Some(before) => {
                if before.name != f.name {
                    out.push(format!(
                        "ALTER TABLE {table} RENAME COLUMN {} TO {}",
                        q(&before.name),
                        q(&f.name)
                    ));
                }
                let col = q(&f.name);
                match (before.is_multiple(), f.is_multiple()) {
                    (false, true) => out.push(format!(
                        "UPDATE {table} SET {col} = CASE WHEN {col} IS NULL OR {col} = '' \
                         THEN '[]' ELSE json_array({col}) END"
                    )),
                    (true, false) => out.push(format!(
                        "UPDATE {table} SET {col} = CASE WHEN json_valid({col}) AND \
                         json_array_length({col}) > 0 THEN json_extract({col}, '$[#-1]') ELSE '' END"
                    )),
                    _ => {}
                }
            }
        }
    }
    out.extend(new.indexes.iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn collection(v: serde_json::Value) -> Collection {
        let mut c: Collection = serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"));
        c.normalize();
        c
    }

    #[test]
    fn reads_index_names_in_every_quoting_style() {
        assert_eq!(
            index_name("CREATE UNIQUE INDEX `idx_a` ON `t` (`x`)").as_deref(),
            Some("idx_a")
        );
        assert_eq!(
            index_name("create index if not exists \"b\" on t(x)").as_deref(),
            Some("b")
        );
        assert_eq!(index_name("DROP TABLE x"), None);
    }

    #[test]
    fn update_renames_by_id_and_keeps_data() {
        let old = collection(json!({"name": "posts", "fields": [
            {"id": "f1", "name": "title", "type": "text"},
            {"id": "f2", "name": "gone", "type": "text"},
            {"id": "f3", "name": "tags", "type": "select", "values": ["a"], "maxSelect": 1}
        ], "indexes": ["CREATE INDEX `idx_t` ON `posts` (`title`)"]}));
        let new = collection(json!({"name": "articles", "fields": [
            {"id": "f1", "name": "headline", "type": "text"},
            {"id": "f3", "name": "tags", "type": "select", "values": ["a"], "maxSelect": 3},
            {"id": "f4", "name": "views", "type": "number"}
        ]}));
        let sql = update(&old, &new).join(";\n");
        assert!(sql.contains("DROP INDEX IF EXISTS \"idx_t\""), "{sql}");
        assert!(sql.contains("ALTER TABLE \"posts\" RENAME TO \"articles\""));
        assert!(sql.contains("DROP COLUMN \"gone\""));
        assert!(sql.contains("RENAME COLUMN \"title\" TO \"headline\""));
        assert!(sql.contains("json_array(\"tags\")"));
        assert!(sql.contains("ADD COLUMN \"views\" NUMERIC"));

        // And it runs: data survives the rename and the conversion.
        let conn = rusqlite::Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        for s in create(&old) {
            conn.execute(&s, []).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        conn.execute(
            "INSERT INTO posts (id, title, tags) VALUES ('a', 'Hello', 'a')",
            [],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for s in update(&old, &new) {
            conn.execute(&s, []).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        let row: (String, String, f64) = conn
            .query_row("SELECT headline, tags, views FROM articles", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(row, ("Hello".into(), "[\"a\"]".into(), 0.0));
    }
}
