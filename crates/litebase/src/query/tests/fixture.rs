//! A small schema and database mirroring the PocketBase instance the expected
//! results were taken from: users, posts (single + multi relation, multi select,
//! json, date, hidden field) and comments (back-relation to posts).

use std::collections::HashMap;

use rusqlite::Connection;
use time::OffsetDateTime;

use crate::query::schema::{CollectionInfo, FieldInfo, FieldKind};
use crate::query::{CompileOptions, FilterError, RequestInfo, SqlExpr, compile_filter};

pub fn schema() -> HashMap<String, CollectionInfo> {
    use FieldKind::*;
    let users = CollectionInfo::new(
        "users",
        vec![
            FieldInfo::new("id", Text),
            FieldInfo::new("name", Text),
            FieldInfo::new("email", Email),
            FieldInfo::new("verified", Bool),
            FieldInfo::new("password", Password).hidden(),
            FieldInfo::relation("team", "teams", false),
        ],
    );
    let teams = CollectionInfo::new(
        "teams",
        vec![FieldInfo::new("id", Text), FieldInfo::new("name", Text)],
    );
    let posts = CollectionInfo::new(
        "posts",
        vec![
            FieldInfo::new("id", Text),
            FieldInfo::new("title", Text),
            FieldInfo::new("views", Number),
            FieldInfo::new("published", Bool),
            FieldInfo::relation("author", "users", false),
            FieldInfo::relation("editors", "users", true),
            FieldInfo::new("tags", Select).multiple(),
            FieldInfo::new("cat", Select),
            FieldInfo::new("meta", Json),
            FieldInfo::new("due", Date),
            FieldInfo::new("secret", Text).hidden(),
        ],
    );
    let comments = CollectionInfo::new(
        "comments",
        vec![
            FieldInfo::new("id", Text),
            FieldInfo::relation("post", "posts", false),
            FieldInfo::new("message", Text),
        ],
    );
    [users, teams, posts, comments]
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect()
}

/// The fixture rows, as PocketBase stored them (checked with sqlite3 on its data.db).
pub fn db() -> Connection {
    let conn = Connection::open_in_memory().expect("in-memory sqlite");
    conn.execute_batch(
        r#"
        CREATE TABLE "teams" (id TEXT PRIMARY KEY, name TEXT DEFAULT '');
        CREATE TABLE "users" (id TEXT PRIMARY KEY, name TEXT DEFAULT '', email TEXT DEFAULT '',
            verified INTEGER DEFAULT 0, password TEXT DEFAULT '', team TEXT DEFAULT '');
        CREATE TABLE "posts" (id TEXT PRIMARY KEY, title TEXT DEFAULT '', views REAL DEFAULT 0,
            published INTEGER DEFAULT 0, author TEXT DEFAULT '', editors TEXT DEFAULT '[]',
            tags TEXT DEFAULT '[]', cat TEXT DEFAULT '', meta TEXT, due TEXT DEFAULT '',
            secret TEXT DEFAULT '');
        CREATE TABLE "comments" (id TEXT PRIMARY KEY, post TEXT DEFAULT '', message TEXT DEFAULT '');
        INSERT INTO teams VALUES ('team00000000001', 'red');
        INSERT INTO users VALUES
            ('user00000000001', 'Alice', 'u1@x.io', 0, 'h1', 'team00000000001'),
            ('user00000000002', 'bob', 'u2@x.io', 0, 'h2', ''),
            ('user00000000003', '', 'u3@x.io', 0, 'h3', '');
        INSERT INTO posts VALUES
            ('post00000000001', 'Hello World', 10, 1, 'user00000000001',
             '["user00000000001","user00000000002"]', '["a","b"]', 'x',
             '{"a":1,"arr":[1,2],"s":"hi"}', '2026-01-01 10:00:00.000Z', 's1'),
            ('post00000000002', 'hello_there', 0, 0, 'user00000000002',
             '["user00000000002"]', '["a"]', '', NULL, '', ''),
            ('post00000000003', '', -5.5, 0, '', '[]', '[]', 'y', '{"a":2}',
             '2025-06-01 00:00:00.000Z', ''),
            ('post00000000004', '100% done', 3, 1, 'user00000000003',
             '["user00000000003"]', '["b","c"]', 'x', '[1,2,3]', '', '');
        INSERT INTO comments VALUES
            ('comm00000000001', 'post00000000001', 'great'),
            ('comm00000000002', 'post00000000001', 'meh'),
            ('comm00000000003', 'post00000000002', 'great');
        "#,
    )
    .expect("fixture");
    conn
}

/// A request at a fixed instant, as a superuser would make it (no record auth).
pub fn request() -> RequestInfo {
    RequestInfo {
        now: now(),
        ..RequestInfo::default()
    }
}

/// 2026-03-15 12:34:56.789 UTC (a Sunday).
pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_773_578_096)
        .and_then(|t| t.replace_millisecond(789))
        .expect("valid instant")
}

pub fn opts() -> CompileOptions {
    CompileOptions::full("t")
}

pub fn compile(filter: &str) -> Result<SqlExpr, FilterError> {
    compile_filter(filter, "posts", &schema(), &request(), &opts())
}

/// Runs `filter` on `collection` and returns the last character of each matching
/// id, in id order ("134" = post…1, post…3, post…4), like the PocketBase probes.
pub fn matches_in(
    conn: &Connection,
    collection: &str,
    filter: &str,
    req: &RequestInfo,
) -> Result<String, FilterError> {
    let compiled = compile_filter(filter, collection, &schema(), req, &opts())?;
    let sql = format!(
        "SELECT id FROM \"{collection}\" AS t WHERE ({}) ORDER BY id",
        compiled.sql
    );
    let mut stmt = conn
        .prepare(&sql)
        .unwrap_or_else(|e| panic!("bad SQL for {filter:?}: {e}\n{sql}"));
    let ids: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(compiled.params.iter()), |row| {
            row.get::<_, String>(0)
        })
        .unwrap_or_else(|e| panic!("query failed for {filter:?}: {e}\n{sql}"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("row failed for {filter:?}: {e}"));
    Ok(ids.iter().filter_map(|id| id.chars().last()).collect())
}
