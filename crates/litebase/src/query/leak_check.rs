//! The non-interference check behind the client filter's promise: a client's
//! filter or sort must give the same answer on two databases that differ only in
//! data the client may not see. Any difference is a way around a rule.
//!
//! A small world of collections, rules and rows (users who see only themselves,
//! tags listable when public, a superusers-only vault, public posts with a hidden
//! field and relations to all of these, owner-only notes pointing at posts), the
//! requesters (a guest, Alice, Bob), and for each requester databases where
//! everything hidden from them has been changed, added or removed. Used by the
//! compiler's property tests and by the `rules` fuzz target
//! (`crates/litebase/fuzz`), which is why it is public behind the `leak-check`
//! feature.
//!
//! ```
//! use litebase::query::leak_check::{LeakCheck, Requester};
//! let check = LeakCheck::new().unwrap();
//! assert!(check.check_filter("notes_via_link.title = 'B secret note'", Requester::Alice).is_ok());
//! ```

use std::collections::HashMap;

use rusqlite::{Connection, params_from_iter};
use serde_json::{Map, json};

use super::schema::{CollectionInfo, FieldInfo, FieldKind};
use super::{CompileOptions, RequestInfo, compile_filter, compile_sort};

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// No auth.
    Guest,
    /// Signed in as `u_alice`.
    Alice,
    /// Signed in as `u_bob`.
    Bob,
}

impl Requester {
    /// Every requester.
    pub const ALL: [Requester; 3] = [Requester::Guest, Requester::Alice, Requester::Bob];

    /// The request data of this requester.
    pub fn request(self) -> RequestInfo {
        let auth = |id: &str| {
            let mut m = Map::new();
            m.insert("id".into(), json!(id));
            m.insert("collectionName".into(), json!("users"));
            m.insert("collectionId".into(), json!("users"));
            m
        };
        RequestInfo {
            auth: match self {
                Requester::Guest => None,
                Requester::Alice => Some(auth("u_alice")),
                Requester::Bob => Some(auth("u_bob")),
            },
            ..RequestInfo::default()
        }
    }
}

/// The collections of the world, with their list rules.
pub fn schema() -> HashMap<String, CollectionInfo> {
    use FieldKind::*;
    let users = CollectionInfo::new(
        "users",
        vec![
            FieldInfo::new("id", Text),
            FieldInfo::new("name", Text),
            FieldInfo {
                visible_if: Some("emailVisibility".into()),
                ..FieldInfo::new("email", Email)
            },
            FieldInfo::new("emailVisibility", Bool),
            FieldInfo::new("phone", Text).hidden(),
        ],
    )
    .list_rule(Some("id = @request.auth.id"));
    let tags = CollectionInfo::new(
        "tags",
        vec![
            FieldInfo::new("id", Text),
            FieldInfo::new("name", Text),
            FieldInfo::new("public", Bool),
        ],
    )
    .list_rule(Some("public = true"));
    let vault = CollectionInfo::new(
        "vault",
        vec![FieldInfo::new("id", Text), FieldInfo::new("code", Text)],
    )
    .list_rule(None);
    let posts = CollectionInfo::new(
        "posts",
        vec![
            FieldInfo::new("id", Text),
            FieldInfo::new("title", Text),
            FieldInfo::new("secret", Text).hidden(),
            FieldInfo::relation("owner", "users", false),
            FieldInfo::relation("vault", "vault", false),
            FieldInfo::relation("tags", "tags", true),
            FieldInfo::relation("shadow", "notes", false).hidden(),
            FieldInfo::new("meta", Json),
        ],
    );
    let notes = CollectionInfo::new(
        "notes",
        vec![
            FieldInfo::new("id", Text),
            FieldInfo::new("title", Text),
            FieldInfo::new("secret", Text).hidden(),
            FieldInfo::relation("owner", "users", false),
            FieldInfo::relation("link", "posts", false),
            FieldInfo::relation("refs", "tags", true),
        ],
    )
    .list_rule(Some("owner = @request.auth.id"));
    [users, tags, vault, posts, notes]
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect()
}

const TABLES: &str = r#"
CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT DEFAULT '', email TEXT DEFAULT '',
    emailVisibility INTEGER DEFAULT 0, phone TEXT DEFAULT '');
CREATE TABLE tags (id TEXT PRIMARY KEY, name TEXT DEFAULT '', public INTEGER DEFAULT 0);
CREATE TABLE vault (id TEXT PRIMARY KEY, code TEXT DEFAULT '');
CREATE TABLE posts (id TEXT PRIMARY KEY, title TEXT DEFAULT '', secret TEXT DEFAULT '',
    owner TEXT DEFAULT '', vault TEXT DEFAULT '', tags TEXT DEFAULT '[]',
    shadow TEXT DEFAULT '', meta TEXT);
CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT DEFAULT '', secret TEXT DEFAULT '',
    owner TEXT DEFAULT '', link TEXT DEFAULT '', refs TEXT DEFAULT '[]');
"#;

/// The rows everyone starts from.
const SEED: &str = r#"
INSERT INTO users VALUES ('u_alice', 'Alice', 'alice@x.io', 0, '555-1'),
                         ('u_bob', 'Bob', 'bob@x.io', 1, '555-2');
INSERT INTO tags VALUES ('t_open', 'open', 1), ('t_hush', 'hush', 0), ('t_team', 'team', 1);
INSERT INTO vault VALUES ('v_one', 'V-ALPHA');
INSERT INTO posts VALUES
  ('p_a', 'Alpha', 'p1-secret', 'u_alice', 'v_one', '["t_open","t_hush"]', 'n_a', '{"a":1}'),
  ('p_b', 'Beta', 'p2-secret', 'u_bob', '', '["t_hush"]', 'n_b', '{"a":2}'),
  ('p_c', 'Gamma', '', '', '', '["t_team","t_open"]', '', NULL);
INSERT INTO notes VALUES
  ('n_a', 'A note', 'na-secret', 'u_alice', 'p_a', '["t_open"]'),
  ('n_b', 'B secret note', 'nb-secret', 'u_bob', 'p_a', '["t_hush","t_team"]'),
  ('n_c', 'Bob again', '', 'u_bob', 'p_c', '[]');
"#;

/// Changes to data `who` may not see, as the API could make them: hidden values
/// moved away from what probes ask for, or onto values visible rows have; hidden
/// rows added, and removed where no visible relation field points at them (the API
/// unlinks a deleted record, which changes the visible field).
fn variants(who: Requester) -> Vec<&'static str> {
    let everyone = [
        "UPDATE posts SET secret = 'other', shadow = 'n_c'; UPDATE notes SET secret = 'A note';
         UPDATE users SET phone = 'Alice'; UPDATE vault SET code = 'open';
         UPDATE tags SET name = 'open' WHERE id = 't_hush';",
        "UPDATE posts SET secret = '', shadow = ''; UPDATE notes SET secret = '';
         UPDATE users SET phone = ''; UPDATE vault SET code = '';
         UPDATE tags SET name = '', public = 0 WHERE id = 't_hush';
         INSERT INTO tags VALUES ('t_new', 'Alpha', 0);
         INSERT INTO vault VALUES ('v_two', 'V-ALPHA');",
    ];
    let mine: &[&'static str] = match who {
        Requester::Guest => &[
            "UPDATE users SET name = 'open', email = 'x@y.z', emailVisibility = 1;
             UPDATE notes SET title = 'Alpha', refs = '[\"t_team\"]';",
            "DELETE FROM notes;
             INSERT INTO notes VALUES ('n_z', 'Gamma', '', 'u_alice', 'p_b', '[\"t_open\"]');
             INSERT INTO users VALUES ('u_carol', 'Carol', 'c@x.io', 1, '');",
        ],
        Requester::Alice => &[
            "UPDATE users SET name = 'Alice', emailVisibility = 0 WHERE id = 'u_bob';
             UPDATE notes SET title = 'A note', refs = '[]' WHERE owner != 'u_alice';",
            "DELETE FROM notes WHERE owner != 'u_alice';
             INSERT INTO notes VALUES ('n_x', 'Alpha', '', 'u_bob', 'p_b', '[\"t_open\"]');
             INSERT INTO users VALUES ('u_carol', 'Alice', 'c@x.io', 1, '');",
        ],
        Requester::Bob => &[
            "UPDATE users SET name = 'Bob', email = 'bob@x.io', emailVisibility = 1 WHERE id = 'u_alice';
             UPDATE notes SET title = 'B secret note', refs = '[\"t_team\"]' WHERE owner != 'u_bob';",
            "DELETE FROM notes WHERE owner != 'u_bob';
             INSERT INTO notes VALUES ('n_y', 'Beta', '', 'u_alice', 'p_b', '[\"t_hush\"]');
             INSERT INTO users VALUES ('u_carol', 'Bob', 'c@x.io', 1, '');",
        ],
    };
    everyone.iter().chain(mine).copied().collect()
}

/// The seeded database, then `changes` applied.
fn database(changes: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(TABLES)?;
    conn.execute_batch(SEED)?;
    conn.execute_batch(changes)?;
    Ok(conn)
}

fn ids(
    conn: &Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
) -> Result<Vec<String>, String> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| format!("the compiled SQL does not prepare: {e}\n{sql}"))?;
    let rows = stmt
        .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(0))
        .map_err(|e| format!("the compiled SQL does not run: {e}\n{sql}"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the compiled SQL fails on a row: {e}\n{sql}"))
}

/// The databases of the world, built once: the seed, and per requester the
/// variants where what is hidden from them changed.
pub struct LeakCheck {
    schema: HashMap<String, CollectionInfo>,
    seed: Connection,
    variants: Vec<(Requester, Connection)>,
}

impl LeakCheck {
    /// Builds every database (in memory).
    pub fn new() -> rusqlite::Result<LeakCheck> {
        let mut out = Vec::new();
        for who in Requester::ALL {
            for changes in variants(who) {
                out.push((who, database(changes)?));
            }
        }
        Ok(LeakCheck {
            schema: schema(),
            seed: database("")?,
            variants: out,
        })
    }

    /// Runs `sql` on the seed and on every variant hidden from `who`; an error
    /// says which variant answered differently (or that the SQL does not run).
    fn same_everywhere(
        &self,
        who: Requester,
        text: &str,
        sql: &str,
        params: &[rusqlite::types::Value],
    ) -> Result<(), String> {
        let expected = ids(&self.seed, sql, params)?;
        for (n, (_, db)) in self.variants.iter().filter(|(w, _)| *w == who).enumerate() {
            let got = ids(db, sql, params)?;
            if got != expected {
                return Err(format!(
                    "{text:?} as {who:?} leaks: {expected:?} on the seed, {got:?} after hidden change {n}\n{sql}"
                ));
            }
        }
        Ok(())
    }

    /// Compiles `filter` as `who`'s own filter on `posts`; when it compiles, its
    /// SQL must run and its answer must not depend on anything hidden from `who`.
    /// `Ok` also when it does not compile (refusing is always safe).
    pub fn check_filter(&self, filter: &str, who: Requester) -> Result<(), String> {
        match self.filter_query(filter, who) {
            Some((sql, params)) => self.same_everywhere(who, filter, &sql, &params),
            None => Ok(()),
        }
    }

    /// The ids of the seed's posts that `filter` keeps for `who`, in id order;
    /// `None` when it does not compile for them.
    pub fn answer(&self, filter: &str, who: Requester) -> Option<Result<Vec<String>, String>> {
        let (sql, params) = self.filter_query(filter, who)?;
        Some(ids(&self.seed, &sql, &params))
    }

    /// `SELECT id FROM posts` filtered by `filter` compiled as `who`'s own filter.
    fn filter_query(
        &self,
        filter: &str,
        who: Requester,
    ) -> Option<(String, Vec<rusqlite::types::Value>)> {
        let req = who.request();
        let opts = CompileOptions::client("t");
        let compiled = compile_filter(filter, "posts", &self.schema, &req, &opts).ok()?;
        let sql = format!(
            "SELECT id FROM posts AS t WHERE ({}) ORDER BY id",
            compiled.sql
        );
        Some((sql, compiled.params))
    }

    /// Like [`LeakCheck::check_filter`] for a sort: the order and the records kept
    /// must not depend on anything hidden from `who`.
    pub fn check_sort(&self, sort: &str, who: Requester) -> Result<(), String> {
        let req = who.request();
        let opts = CompileOptions::client("t");
        let Ok(compiled) = compile_sort(sort, "posts", &self.schema, &req, &opts) else {
            return Ok(());
        };
        if compiled.order.sql.contains("RANDOM()") {
            return Ok(());
        }
        let mut params = Vec::new();
        let filter = match compiled.filter {
            Some(f) => {
                params.extend(f.params);
                format!(" WHERE ({})", f.sql)
            }
            None => String::new(),
        };
        params.extend(compiled.order.params);
        let sql = format!(
            "SELECT id FROM posts AS t{filter} ORDER BY {}, id",
            compiled.order.sql
        );
        self.same_everywhere(who, sort, &sql, &params)
    }
}

/// Field paths (from `posts`) worth probing, for generators.
pub const PATHS: &[&str] = &[
    "id",
    "title",
    "secret",
    "meta.a",
    "owner",
    "owner.id",
    "owner.name",
    "owner.email",
    "owner.phone",
    "owner.emailVisibility",
    "vault",
    "vault.id",
    "vault.code",
    "tags",
    "tags.id",
    "tags.name",
    "tags.public",
    "tags:length",
    "tags:each",
    "title:lower",
    "shadow",
    "shadow.title",
    "notes_via_link.id",
    "notes_via_link.title",
    "notes_via_link.secret",
    "notes_via_link.owner.name",
    "notes_via_link.refs.name",
    "notes_via_link.refs:length",
    "owner.notes_via_owner.title",
    "owner.posts_via_owner.title",
    "tags.notes_via_refs.title",
    "@collection.notes.title",
    "@collection.tags.name",
    "@collection.vault.code",
    "@collection.users.name",
    "@request.auth.id",
    "@request.auth.name",
];

/// Literal values worth probing (values visible rows have, values hidden rows
/// have, edge values), as filter text.
pub const VALUES: &[&str] = &[
    "''",
    "null",
    "true",
    "false",
    "0",
    "1",
    "2",
    "'Alpha'",
    "'Beta'",
    "'Gamma'",
    "'A note'",
    "'B secret note'",
    "'Bob again'",
    "'Alice'",
    "'Bob'",
    "'open'",
    "'hush'",
    "'team'",
    "'V-ALPHA'",
    "'p1-secret'",
    "'na-secret'",
    "'nb-secret'",
    "'555-1'",
    "'bob@x.io'",
    "'alice@x.io'",
    "'u_alice'",
    "'u_bob'",
    "'t_hush'",
    "'n_b'",
    "'v_one'",
    "'%'",
    "'a'",
    "'e'",
    "'B%'",
];

/// Operators, `?` forms included.
pub const OPERATORS: &[&str] = &[
    "=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~",
];
