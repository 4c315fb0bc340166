//! The DDL that makes a table match its collection definition.

use std::collections::HashMap;

use super::collection::{Collection, CollectionType};
use super::field::Field;
use super::index::{self, Refused};
use super::quote_ident as q;

/// Statements that create the table (or view) and its indexes. Index statements
/// are written from their parsed form, never copied from the definition; an index
/// that does not pass [`index::check_all`] refuses the whole change.
pub fn create(c: &Collection) -> Result<Vec<String>, Refused> {
    if c.kind == CollectionType::View {
        return Ok(vec![format!(
            "CREATE VIEW {} AS {}",
            q(&c.name),
            c.view_query.trim().trim_end_matches(';')
        )]);
    }
    let columns: Vec<String> = c.fields.iter().map(Field::column_sql).collect();
    let mut out = vec![format!(
        "CREATE TABLE {} ({})",
        q(&c.name),
        columns.join(", ")
    )];
    out.extend(index::statements(c, None)?);
    Ok(out)
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

/// The statement that drops index `name` (one of a collection's own).
pub fn drop_index(name: &str) -> String {
    format!("DROP INDEX IF EXISTS {}", q(name))
}

/// Statements that turn `old`'s table into `new`'s, keeping the data: renames by
/// field id, adds and drops columns, converts single ↔ multiple values, and
/// recreates the indexes (written from their parsed form on the new table; they
/// may name the old table or the new one).
pub fn update(old: &Collection, new: &Collection) -> Result<Vec<String>, Refused> {
    if new.kind == CollectionType::View {
        let mut out = drop(old);
        out.extend(create(new)?);
        return Ok(out);
    }
    let indexes = index::statements(new, Some(&old.name))?;
    let mut out = Vec::new();
    for index in &old.indexes {
        if let Some(name) = index::index_name(index) {
            out.push(drop_index(&name));
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
    out.extend(indexes);
    Ok(out)
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
        ], "indexes": ["create index idx_h on posts (headline) where views >= 0"]}));
        let sql = update(&old, &new)
            .unwrap_or_else(|e| panic!("{e}"))
            .join(";\n");
        assert!(sql.contains("DROP INDEX IF EXISTS \"idx_t\""), "{sql}");
        assert!(sql.contains("ALTER TABLE \"posts\" RENAME TO \"articles\""));
        assert!(sql.contains("DROP COLUMN \"gone\""));
        assert!(sql.contains("RENAME COLUMN \"title\" TO \"headline\""));
        assert!(sql.contains("json_array(\"tags\")"));
        assert!(sql.contains("ADD COLUMN \"views\" NUMERIC"));
        assert!(
            sql.ends_with("CREATE INDEX `idx_h` ON `articles` (`headline`) WHERE `views` >= 0"),
            "the index is written anew, on the new name: {sql}"
        );

        // And it runs: data survives the rename and the conversion.
        let conn = rusqlite::Connection::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
        for s in create(&old).unwrap_or_else(|e| panic!("{e}")) {
            conn.execute(&s, []).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        conn.execute(
            "INSERT INTO posts (id, title, tags) VALUES ('a', 'Hello', 'a')",
            [],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        for s in update(&old, &new).unwrap_or_else(|e| panic!("{e}")) {
            conn.execute(&s, []).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        let row: (String, String, f64) = conn
            .query_row("SELECT headline, tags, views FROM articles", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(row, ("Hello".into(), "[\"a\"]".into(), 0.0));
    }

    #[test]
    fn a_refused_index_refuses_the_whole_change() {
        let c = collection(
            json!({"name": "posts", "fields": [{"name": "title", "type": "text"}],
            "indexes": ["CREATE INDEX a ON posts (title)", "DROP TABLE posts"]}),
        );
        let Err(Refused(refusals)) = create(&c) else {
            panic!("accepted")
        };
        assert_eq!(refusals.len(), 1);
        assert_eq!(refusals[0].position, 1);
        let old =
            collection(json!({"name": "posts", "fields": [{"name": "title", "type": "text"}]}));
        assert!(update(&old, &c).is_err());
    }
}
