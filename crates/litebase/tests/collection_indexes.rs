//! Collection indexes against the real binary: whatever a superuser sends as an
//! index, only a `CREATE INDEX` written by the server from its parse runs. Refused
//! strings (other statements, other tables, unknown columns, subqueries, function
//! calls, a second statement, comments) answer 400 with `data.indexes.<i>`, store
//! nothing and touch no table; valid ones exist in `sqlite_master` afterwards.

mod support;

use std::path::Path;

use litebase::testing::{Http, Reply, ServerProcess, assert_error_shape};
use serde_json::{Value, json};
use support::admin::Browser;
use support::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// Everything the refused requests must leave as it was: the schema objects,
/// the stored definitions, the attached databases and the victim's rows.
fn snapshot(dir: &Path) -> anyhow::Result<Vec<String>> {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("data.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut out = Vec::new();
    for query in [
        "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '') \
         FROM sqlite_master ORDER BY name",
        "SELECT id || ' ' || name || ' ' || indexes || ' ' || updated FROM _collections ORDER BY id",
        "SELECT id || ' ' || name FROM victim ORDER BY id",
    ] {
        let mut stmt = conn.prepare(query)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// The SQL of index `name` and its table, as SQLite has them.
fn index_in_db(dir: &Path, name: &str) -> anyhow::Result<Option<(String, String)>> {
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("data.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut stmt =
        conn.prepare("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND name = ?1")?;
    let mut rows = stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.next().transpose()?)
}

struct Api<'a> {
    server: &'a ServerProcess,
    token: &'a str,
    http: Http,
}

impl<'a> Api<'a> {
    fn new(server: &'a ServerProcess, token: &'a str) -> Self {
        Api {
            server,
            token,
            http: Http::new(),
        }
    }

    fn post(&self, path: &str, body: &Value) -> anyhow::Result<Reply> {
        Ok(self
            .http
            .post_json_auth(&self.server.url(path), self.token, body)?)
    }

    fn patch(&self, path: &str, body: &Value) -> anyhow::Result<Reply> {
        Ok(self
            .http
            .patch_json_auth(&self.server.url(path), self.token, body)?)
    }

    fn get(&self, path: &str) -> anyhow::Result<Reply> {
        Ok(self.http.get_auth(&self.server.url(path), self.token)?)
    }
}

/// The fields of `mine` (and of the collections the create cases try to make).
fn fields() -> Value {
    json!([
        {"name": "x", "type": "text"},
        {"name": "n", "type": "number"},
        {"name": "email", "type": "email"}
    ])
}

/// Asserts a 400 in PocketBase's shape whose only index problem is at `position`
/// with `code`; returns its message.
fn refused_at(reply: &Reply, position: &str, code: &str, sent: &str) -> String {
    assert_error_shape(reply, 400);
    let indexes = reply.json["data"]["indexes"]
        .as_object()
        .unwrap_or_else(|| panic!("{sent}: no data.indexes in {}", reply.text));
    assert_eq!(
        indexes.keys().collect::<Vec<_>>(),
        [position],
        "{sent}: {}",
        reply.text
    );
    assert_eq!(indexes[position]["code"], code, "{sent}: {}", reply.text);
    let message = indexes[position]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(message.starts_with("Index "), "{sent}: {message}");
    message
}

#[test]
fn refused_indexes_answer_400_and_change_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let api = Api::new(&server, &token);
    let victim = api.post(
        "/api/collections",
        &json!({"name": "victim", "type": "base", "fields": [{"name": "name", "type": "text"}],
                "indexes": ["CREATE INDEX idx_victim_name ON victim (name)"]}),
    )?;
    assert_eq!(victim.status, 200, "{}", victim.text);
    let record = api.post(
        "/api/collections/victim/records",
        &json!({"name": "still here"}),
    )?;
    assert_eq!(record.status, 200, "{}", record.text);
    let mine = api.post(
        "/api/collections",
        &json!({"name": "mine", "type": "base", "fields": fields(),
                "indexes": ["CREATE INDEX idx_mine_x ON mine (x)"]}),
    )?;
    assert_eq!(mine.status, 200, "{}", mine.text);

    let attached = dir.path().join("attached.db");
    let attach = format!("ATTACH DATABASE '{}' AS y", attached.display());
    let invalid = [
        "DROP TABLE victim".to_string(),
        "DELETE FROM victim".into(),
        "UPDATE victim SET name = 'gone'".into(),
        "CREATE TRIGGER t AFTER INSERT ON victim BEGIN DELETE FROM victim; END".into(),
        "CREATE TRIGGER t AFTER INSERT ON victim BEGIN SELECT 1 END".into(),
        attach,
        "CREATE INDEX i ON victim (name)".into(),
        "CREATE INDEX i ON {table} (nope)".into(),
        "CREATE INDEX i ON {table} (x) WHERE n > (SELECT count(*) FROM victim)".into(),
        "CREATE INDEX i ON {table} (x) WHERE abs(n) > 1".into(),
        "CREATE INDEX i ON {table} (lower(x))".into(),
        "CREATE INDEX i ON {table} (x); DROP TABLE victim".into(),
        "CREATE INDEX i ON {table} (x) -- a comment".into(),
        "CREATE INDEX i ON {table} (x) /* a comment */".into(),
        "CREATE INDEX i ON {table} (x) WHERE x = ?".into(),
        "CREATE INDEX i ON main.{table} (x)".into(),
        "CREATE INDEX".into(),
        "CREATE INDEX i ON {table} ()".into(),
    ];
    let before = snapshot(dir.path())?;
    for template in &invalid {
        // On create: the bad index second, after a good one.
        let sent = template.replace("{table}", "fresh");
        let reply = api.post(
            "/api/collections",
            &json!({"name": "fresh", "type": "base", "fields": fields(),
                    "indexes": ["CREATE INDEX idx_fresh_x ON fresh (x)", sent]}),
        )?;
        let message = refused_at(&reply, "1", "validation_invalid_index_expression", &sent);
        assert!(
            message.starts_with("Index i:") || message.starts_with("Index at position 1:"),
            "the message names the index: {message}"
        );
        assert_eq!(api.get("/api/collections/fresh")?.status, 404, "{sent}");

        // On update.
        let sent = template.replace("{table}", "mine");
        let reply = api.patch("/api/collections/mine", &json!({"indexes": [sent]}))?;
        refused_at(&reply, "0", "validation_invalid_index_expression", &sent);

        assert_eq!(snapshot(dir.path())?, before, "{sent} changed something");
        assert!(!attached.exists(), "{sent} created a file");
        assert_eq!(api.get("/api/collections")?.status, 200);
        let rows = api.get("/api/collections/victim/records")?;
        assert_eq!(rows.status, 200, "{}", rows.text);
        assert_eq!(rows.json["totalItems"], 1);
    }

    // Names: unique within the definition, and not another table's index.
    let sent = json!(["CREATE INDEX d ON mine (x)", "CREATE INDEX D ON mine (n)"]);
    let reply = api.patch("/api/collections/mine", &json!({"indexes": sent}))?;
    refused_at(
        &reply,
        "1",
        "validation_duplicated_index_name",
        "a duplicated name",
    );
    for taken in ["idx_victim_name", "idx__superusers_email"] {
        let sent = format!("CREATE INDEX IF NOT EXISTS {taken} ON mine (x)");
        let reply = api.patch("/api/collections/mine", &json!({"indexes": [sent]}))?;
        let message = refused_at(&reply, "0", "validation_existing_index_name", &sent);
        assert!(message.contains(taken), "{message}");
        let reply = api.post(
            "/api/collections",
            &json!({"name": "fresh", "type": "base", "fields": fields(),
                    "indexes": [sent.replace("mine", "fresh")]}),
        )?;
        refused_at(&reply, "0", "validation_existing_index_name", &sent);
    }
    assert_eq!(snapshot(dir.path())?, before);
    Ok(())
}

#[test]
fn valid_indexes_exist_as_the_server_writes_them() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let api = Api::new(&server, &token);
    let sent = json!([
        "create unique index idx_books_x on books (x)",
        "CREATE INDEX IF NOT EXISTS \"idx_books_n\" ON [books] (n DESC, x ASC)",
        "CREATE UNIQUE INDEX `idx_books_email` ON `books` (`email` COLLATE NOCASE) WHERE `email` != ''",
        "CREATE INDEX idx_books_partial ON books (n) WHERE n BETWEEN 1 AND 10 AND x NOT LIKE 'draft%' OR n IS NULL"
    ]);
    let created = api.post(
        "/api/collections",
        &json!({"name": "books", "type": "base", "fields": fields(), "indexes": sent}),
    )?;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(created.json["indexes"], sent, "stored as sent");
    let expected = [
        (
            "idx_books_x",
            "CREATE UNIQUE INDEX `idx_books_x` ON `books` (`x`)",
        ),
        (
            "idx_books_n",
            "CREATE INDEX `idx_books_n` ON `books` (`n` DESC, `x` ASC)",
        ),
        (
            "idx_books_email",
            "CREATE UNIQUE INDEX `idx_books_email` ON `books` (`email` COLLATE NOCASE) WHERE `email` != ''",
        ),
        (
            "idx_books_partial",
            "CREATE INDEX `idx_books_partial` ON `books` (`n`) WHERE `n` BETWEEN 1 AND 10 AND `x` NOT LIKE 'draft%' OR `n` IS NULL",
        ),
    ];
    for (name, sql) in expected {
        // SQLite keeps the text it ran minus `IF NOT EXISTS`: ours, not the client's.
        assert_eq!(
            index_in_db(dir.path(), name)?,
            Some(("books".to_string(), sql.to_string())),
            "{name}"
        );
    }
    // The unique indexes hold (the partial one ignores empty emails).
    for body in [json!({"x": "a"}), json!({"x": "b"})] {
        let made = api.post("/api/collections/books/records", &body)?;
        assert_eq!(made.status, 200, "{}", made.text);
    }
    let twice = api.post("/api/collections/books/records", &json!({"x": "a"}))?;
    assert_eq!(twice.status, 400, "{}", twice.text);

    // Replacing the list drops the old indexes and creates the new ones.
    let replaced = api.patch(
        "/api/collections/books",
        &json!({"indexes": ["CREATE INDEX idx_books_x_n ON books (x, n)"]}),
    )?;
    assert_eq!(replaced.status, 200, "{}", replaced.text);
    assert!(index_in_db(dir.path(), "idx_books_x")?.is_none());
    assert!(index_in_db(dir.path(), "idx_books_x_n")?.is_some());

    // A rename moves the indexes; strings written for the old name are stored
    // for the new one, so later changes accept them.
    let renamed = api.patch("/api/collections/books", &json!({"name": "novels"}))?;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(
        renamed.json["indexes"],
        json!(["CREATE INDEX `idx_books_x_n` ON `novels` (`x`, `n`)"])
    );
    assert_eq!(
        index_in_db(dir.path(), "idx_books_x_n")?.map(|(table, _)| table),
        Some("novels".to_string())
    );
    let later = api.patch("/api/collections/novels", &json!({"listRule": ""}))?;
    assert_eq!(later.status, 200, "{}", later.text);

    // What SQLite itself refuses (a unique index over duplicates) is reported at
    // the index, and the change is rolled back whole.
    let again = api.post("/api/collections/novels/records", &json!({"x": "a"}))?;
    assert_eq!(again.status, 200, "{}", again.text);
    let unique = "CREATE UNIQUE INDEX idx_novels_x ON novels (x)";
    let reply = api.patch("/api/collections/novels", &json!({"indexes": [unique]}))?;
    let message = refused_at(&reply, "0", "validation_invalid_sql", unique);
    assert!(message.contains("idx_novels_x"), "{message}");
    assert!(index_in_db(dir.path(), "idx_novels_x")?.is_none());
    assert!(index_in_db(dir.path(), "idx_books_x_n")?.is_some());

    // A collection a migration made (`users`) keeps its indexes through a change.
    let users = api.patch("/api/collections/users", &json!({"listRule": null}))?;
    assert_eq!(users.status, 200, "{}", users.text);
    assert_eq!(
        index_in_db(dir.path(), "idx_email_users")?,
        Some((
            "users".to_string(),
            "CREATE UNIQUE INDEX `idx_email_users` ON `users` (`email` COLLATE NOCASE) WHERE `email` != ''".to_string()
        ))
    );
    Ok(())
}

#[test]
fn the_admin_editor_shows_why_an_index_is_refused() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, _token) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::signed_in(&server)?;
    let fields = json!([{"name": "title", "type": "text"}]).to_string();
    let form = [
        ("name", "tasks"),
        ("type", "base"),
        ("fields", fields.as_str()),
        (
            "indexes",
            "CREATE INDEX ok ON tasks (title)\nDROP TABLE _superusers",
        ),
        ("listRule", ""),
        ("viewRuleLocked", "1"),
        ("createRuleLocked", "1"),
        ("updateRuleLocked", "1"),
        ("deleteRuleLocked", "1"),
    ];
    let refused = browser.submit("/_/collections/new", "/_/collections/new", &form)?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("Index at position 1: only CREATE [UNIQUE] INDEX"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("DROP TABLE _superusers"),
        "kept as typed"
    );
    let superusers = Http::new().superuser_token(&server.url(""), ADMIN_EMAIL, ADMIN_PASSWORD);
    assert!(superusers.is_ok(), "_superusers is intact");
    Ok(())
}
