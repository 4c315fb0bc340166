//! The index parser: what it accepts and re-emits, what it refuses and why, and
//! (by property) that whatever it accepts is one harmless statement for SQLite.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::schema::Collection;

fn posts() -> Collection {
    let mut c: Collection = serde_json::from_value(json!({"name": "posts", "fields": [
        {"name": "title", "type": "text"},
        {"name": "views", "type": "number"},
        {"name": "status", "type": "text"},
        {"name": "key", "type": "text"}
    ]}))
    .unwrap_or_else(|e| panic!("{e}"));
    c.normalize();
    c
}

fn ok(sql: &str) -> Index {
    parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn err(sql: &str) -> IndexError {
    match parse(sql) {
        Ok(index) => panic!("{sql} was accepted as {}", index.to_sql("t")),
        Err(e) => e,
    }
}

/// Creates `table` with `columns`, runs `sql`, and returns what `sqlite_master`
/// gained (nothing else may change).
fn run_on_sqlite(table: &str, columns: &[&str], sql: &str) -> Result<Vec<String>, String> {
    let conn = rusqlite::Connection::open_in_memory().map_err(|e| e.to_string())?;
    let mut unique: Vec<String> = Vec::new();
    for c in columns {
        if !unique.iter().any(|u| u.eq_ignore_ascii_case(c)) {
            unique.push((*c).to_string());
        }
    }
    let cols: Vec<String> = unique
        .iter()
        .map(|c| crate::schema::quote_ident(c))
        .collect();
    let create = format!(
        "CREATE TABLE {} ({})",
        crate::schema::quote_ident(table),
        cols.join(", ")
    );
    conn.execute(&create, [])
        .map_err(|e| format!("{create}: {e}"))?;
    let row: Vec<String> = (0..unique.len()).map(|i| format!("'v{i}'")).collect();
    conn.execute(
        &format!(
            "INSERT INTO {} VALUES ({})",
            crate::schema::quote_ident(table),
            row.join(", ")
        ),
        [],
    )
    .map_err(|e| e.to_string())?;
    let snapshot = |conn: &rusqlite::Connection| -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for query in [
            "SELECT type || ' ' || name || ' ' || tbl_name FROM sqlite_master ORDER BY 1",
            "SELECT name || ' ' || file FROM pragma_database_list ORDER BY 1",
        ] {
            let mut stmt = conn.prepare(query).map_err(|e| e.to_string())?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| e.to_string())?;
            for r in rows {
                out.push(r.map_err(|e| e.to_string())?);
            }
        }
        let data: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {}", crate::schema::quote_ident(table)),
                [],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        out.push(format!("rows {data}"));
        Ok(out)
    };
    let before = snapshot(&conn)?;
    // `prepare` fails on anything after the first statement.
    conn.prepare(sql).map_err(|e| format!("{sql}: {e}"))?;
    conn.execute(sql, []).map_err(|e| format!("{sql}: {e}"))?;
    let after = snapshot(&conn)?;
    let gained: Vec<String> = after
        .iter()
        .filter(|r| !before.contains(r))
        .cloned()
        .collect();
    let lost = before.iter().any(|r| !after.contains(r));
    if lost {
        return Err(format!("{sql} removed something: {before:?} → {after:?}"));
    }
    Ok(gained)
}

#[test]
fn our_own_migrations_and_system_indexes_parse() {
    let v3 = include_str!("../../../migrations/V3__auth.sql");
    let mut found = 0;
    // The JSON arrays stored in `_collections.indexes`, with SQL's '' undone.
    for piece in v3.split("\"CREATE").skip(1) {
        let Some(end) = piece.find('"') else { continue };
        let sql = format!("CREATE{}", &piece[..end]).replace("''", "'");
        ok(&sql);
        found += 1;
    }
    assert!(found >= 4, "{found}");
    for sql in [
        "CREATE UNIQUE INDEX idx__superusers_email ON _superusers (email COLLATE NOCASE)",
        "CREATE UNIQUE INDEX idx__superusers_tokenKey ON _superusers (tokenKey)",
        // migrations/V2__poker_collections.sql
        "CREATE UNIQUE INDEX `idx_rooms_code` ON `rooms` (`code`)",
        "CREATE INDEX `idx_rooms_expires` ON `rooms` (`expires`)",
        "CREATE INDEX `idx_participants_room` ON `participants` (`room`)",
        "CREATE UNIQUE INDEX `idx_participants_token` ON `participants` (`token_hash`) WHERE `token_hash` != ''",
        "CREATE UNIQUE INDEX `idx_rounds_room_number` ON `rounds` (`room`, `number`)",
        "CREATE UNIQUE INDEX `idx_votes_round_participant` ON `votes` (`round`, `participant`)",
    ] {
        ok(sql);
    }
    for sql in crate::schema::auth::system_indexes("users") {
        ok(&sql);
    }
    let p = ok(
        "CREATE UNIQUE INDEX `idx_participants_token` ON `participants` (`token_hash`) WHERE `token_hash` != ''",
    );
    assert_eq!(
        p.to_sql("participants"),
        "CREATE UNIQUE INDEX `idx_participants_token` ON `participants` (`token_hash`) WHERE `token_hash` != ''"
    );
}

#[test]
fn valid_forms_are_re_emitted_canonically() {
    let cases = [
        (
            "create index i on posts(title)",
            "CREATE INDEX `i` ON `posts` (`title`)",
        ),
        (
            "  CREATE\tUNIQUE\nINDEX IF NOT EXISTS \"i\" ON [posts] ( `title` COLLATE nocase DESC , views asc )  ",
            "CREATE UNIQUE INDEX IF NOT EXISTS `i` ON `posts` (`title` COLLATE NOCASE DESC, `views` ASC)",
        ),
        (
            "CREATE INDEX i ON posts (title COLLATE RTRIM, views COLLATE binary)",
            "CREATE INDEX `i` ON `posts` (`title` COLLATE RTRIM, `views` COLLATE BINARY)",
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE status = 'it''s' and views>=-1.5e3 or \"key\" is not null",
            "CREATE INDEX `i` ON `posts` (`title`) WHERE `status` = 'it''s' AND `views` >= -1.5e3 OR `key` IS NOT NULL",
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE views not between 1 and +2 and title not in ('a','b') and not (status like 'x%' or status glob '[ab]*')",
            "CREATE INDEX `i` ON `posts` (`title`) WHERE `views` NOT BETWEEN 1 AND +2 AND `title` NOT IN ('a', 'b') AND NOT (`status` LIKE 'x%' OR `status` GLOB '[ab]*')",
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE views == 1 AND views <> 2 AND views != 3 AND views < 4 AND views <= 5 AND views > .5 AND true AND NOT false AND title NOT NULL",
            "CREATE INDEX `i` ON `posts` (`title`) WHERE `views` == 1 AND `views` <> 2 AND `views` != 3 AND `views` < 4 AND `views` <= 5 AND `views` > .5 AND TRUE AND NOT FALSE AND `title` NOT NULL",
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE status = '-- not a comment /* */'",
            "CREATE INDEX `i` ON `posts` (`title`) WHERE `status` = '-- not a comment /* */'",
        ),
        (
            // A bare keyword is a fine column name outside the condition.
            "CREATE INDEX i ON posts (key)",
            "CREATE INDEX `i` ON `posts` (`key`)",
        ),
    ];
    for (input, expected) in cases {
        let index = ok(input);
        let sql = index.to_sql("posts");
        assert_eq!(sql, expected, "{input}");
        assert_eq!(ok(&sql), index, "round trip of {input}");
        index
            .check(&posts(), None)
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        let gained = run_on_sqlite("posts", &["id", "title", "views", "status", "key"], &sql)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gained, ["index i posts"], "{input}");
    }
}

#[test]
fn everything_else_is_refused_with_a_reason() {
    use IndexError as E;
    type Expect = fn(&IndexError) -> bool;
    let cases: Vec<(&str, Expect)> = vec![
        (
            "DROP TABLE victim",
            |e| matches!(e, E::NotCreateIndex(w) if w == "DROP"),
        ),
        ("DELETE FROM posts", |e| matches!(e, E::NotCreateIndex(_))),
        ("UPDATE posts SET title = ''", |e| {
            matches!(e, E::NotCreateIndex(_))
        }),
        (
            "CREATE TRIGGER t AFTER INSERT ON posts BEGIN DELETE FROM posts; END",
            |e| matches!(e, E::Semicolon),
        ),
        (
            "CREATE TRIGGER t AFTER INSERT ON posts BEGIN SELECT 1 END",
            |e| matches!(e, E::NotCreateIndex(w) if w == "CREATE TRIGGER"),
        ),
        ("CREATE TABLE x (a)", |e| matches!(e, E::NotCreateIndex(_))),
        ("CREATE UNIQUE TABLE x (a)", |e| {
            matches!(e, E::NotCreateIndex(_))
        }),
        ("ATTACH DATABASE '/tmp/x' AS y", |e| {
            matches!(e, E::NotCreateIndex(_))
        }),
        ("", |e| matches!(e, E::NotCreateIndex(w) if w == "the end")),
        ("CREATE INDEX", |e| matches!(e, E::MissingName)),
        ("CREATE INDEX ON posts (title)", |e| {
            matches!(e, E::MissingName)
        }),
        ("CREATE INDEX IF NOT EXISTS ON posts (title)", |e| {
            matches!(e, E::MissingName)
        }),
        ("CREATE INDEX IF NOT i ON posts (title)", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i", |e| matches!(e, E::MissingTable)),
        ("CREATE INDEX i ON", |e| matches!(e, E::MissingTable)),
        ("CREATE INDEX i ON posts", |e| {
            matches!(e, E::MissingColumns)
        }),
        ("CREATE INDEX i ON posts ()", |e| {
            matches!(e, E::MissingColumns)
        }),
        ("CREATE INDEX i ON posts (title", |e| {
            matches!(e, E::Unterminated(_))
        }),
        ("CREATE INDEX i ON posts (title,)", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i ON posts (title views)", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i ON posts (lower(title))", |e| {
            matches!(e, E::ExpressionColumn(_))
        }),
        ("CREATE INDEX i ON posts (views + 1)", |e| {
            matches!(e, E::ExpressionColumn(_))
        }),
        ("CREATE INDEX i ON posts ('title')", |e| {
            matches!(e, E::ExpressionColumn(_))
        }),
        ("CREATE INDEX i ON posts (title COLLATE fancy)", |e| {
            matches!(e, E::UnknownCollation(_))
        }),
        ("CREATE INDEX i ON posts (title COLLATE)", |e| {
            matches!(e, E::UnknownCollation(_))
        }),
        ("CREATE INDEX i ON posts (title); DROP TABLE posts", |e| {
            matches!(e, E::Semicolon)
        }),
        ("CREATE INDEX i ON posts (title);", |e| {
            matches!(e, E::Semicolon)
        }),
        ("CREATE INDEX i ON posts (title) WHERE title = ';'", |e| {
            matches!(e, E::Semicolon)
        }),
        ("CREATE INDEX i ON posts (title) -- x", |e| {
            matches!(e, E::Comment)
        }),
        ("CREATE INDEX i ON posts (title) /* x */", |e| {
            matches!(e, E::Comment)
        }),
        ("CREATE INDEX i ON main.posts (title)", |e| {
            matches!(e, E::UnexpectedChar('.'))
        }),
        ("CREATE INDEX main.i ON posts (title)", |e| {
            matches!(e, E::UnexpectedChar('.'))
        }),
        ("CREATE INDEX `a b` ON posts (title)", |e| {
            matches!(e, E::InvalidName(_))
        }),
        ("CREATE INDEX `` ON posts (title)", |e| {
            matches!(e, E::InvalidName(_))
        }),
        ("CREATE INDEX [i ON posts (title)", |e| {
            matches!(e, E::Unterminated(_))
        }),
        ("CREATE INDEX sqlite_autoindex ON posts (title)", |e| {
            matches!(e, E::ReservedName)
        }),
        ("CREATE INDEX i ON posts (title) WHERE", |e| {
            matches!(e, E::EmptyCondition)
        }),
        (
            "CREATE INDEX i ON posts (title) WHERE abs(views) > 1",
            |e| matches!(e, E::FunctionCall(f) if f == "abs"),
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE `abs` (views) > 1",
            |e| matches!(e, E::FunctionCall(_)),
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE views > (SELECT 1)",
            |e| matches!(e, E::Keyword(_)),
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE EXISTS (SELECT 1)",
            |e| matches!(e, E::Keyword(_)),
        ),
        ("CREATE INDEX i ON posts (title) WHERE key = 1", |e| {
            matches!(e, E::Keyword(_))
        }),
        (
            "CREATE INDEX i ON posts (title) WHERE title = CURRENT_TIME",
            |e| matches!(e, E::Keyword(_)),
        ),
        ("CREATE INDEX i ON posts (title) WHERE title = ?", |e| {
            matches!(e, E::UnexpectedChar('?'))
        }),
        ("CREATE INDEX i ON posts (title) WHERE title = :x", |e| {
            matches!(e, E::UnexpectedChar(':'))
        }),
        ("CREATE INDEX i ON posts (title) WHERE title = @x", |e| {
            matches!(e, E::UnexpectedChar('@'))
        }),
        ("CREATE INDEX i ON posts (title) WHERE title = $x", |e| {
            matches!(e, E::UnexpectedChar('$'))
        }),
        ("CREATE INDEX i ON posts (title) WHERE views - 1 > 0", |e| {
            matches!(e, E::NotAllowed(_))
        }),
        ("CREATE INDEX i ON posts (title) WHERE views -1 > 0", |e| {
            matches!(e, E::NotAllowed(_))
        }),
        ("CREATE INDEX i ON posts (title) WHERE views = - -1", |e| {
            matches!(e, E::NotAllowed(_))
        }),
        ("CREATE INDEX i ON posts (title) WHERE views * 2 > 0", |e| {
            matches!(e, E::UnexpectedChar('*'))
        }),
        (
            "CREATE INDEX i ON posts (title) WHERE title || 'x' = 'y'",
            |e| matches!(e, E::UnexpectedChar('|')),
        ),
        ("CREATE INDEX i ON posts (title) WHERE views << 1", |e| {
            matches!(e, E::NotAllowed(_))
        }),
        ("CREATE INDEX i ON posts (title) WHERE views = 0x10", |e| {
            matches!(e, E::BadNumber(_))
        }),
        ("CREATE INDEX i ON posts (title) WHERE views = 1e", |e| {
            matches!(e, E::BadNumber(_))
        }),
        ("CREATE INDEX i ON posts (title) WHERE views = 1.", |e| {
            matches!(e, E::BadNumber(_))
        }),
        ("CREATE INDEX i ON posts (title) WHERE views = 1.2.3", |e| {
            matches!(e, E::BadNumber(_))
        }),
        ("CREATE INDEX i ON posts (title) WHERE title = x'00'", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i ON posts (title) WHERE title = 'open", |e| {
            matches!(e, E::Unterminated(_))
        }),
        (
            "CREATE INDEX i ON posts (title) WHERE title = 'a\u{0}'",
            |e| matches!(e, E::UnexpectedChar('\u{0}')),
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE title = 'é' AND títle = 1",
            |e| matches!(e, E::UnexpectedChar('í')),
        ),
        ("CREATE INDEX i ON posts (title) WHERE title =", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i ON posts (title) WHERE title = = 1", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i ON posts (title) WHERE (title = 1", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i ON posts (title) WHERE title = 1)", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i ON posts (title) WHERE title IN ()", |e| {
            matches!(e, E::Expected { .. })
        }),
        (
            "CREATE INDEX i ON posts (title) WHERE title IN posts",
            |e| matches!(e, E::Expected { .. }),
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE title NOT title",
            |e| matches!(e, E::Expected { .. }),
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE views BETWEEN 1 OR 2",
            |e| matches!(e, E::Expected { .. }),
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE (1, 2) = (1, 2)",
            |e| matches!(e, E::Expected { .. }),
        ),
        (
            "CREATE INDEX i ON posts (title) WHERE title LIKE 'a' ESCAPE 'b'",
            |e| matches!(e, E::Keyword(_)),
        ),
        ("CREATE INDEX i ON posts (title) ORDER BY title", |e| {
            matches!(e, E::Expected { .. })
        }),
        ("CREATE INDEX i ON posts (title) garbage", |e| {
            matches!(e, E::Expected { .. })
        }),
    ];
    for (sql, check) in cases {
        let e = err(sql);
        assert!(check(&e), "{sql}: unexpected error {e:?}");
        assert_eq!(e.code(), "validation_invalid_index_expression");
    }
    let deep = format!(
        "CREATE INDEX i ON posts (title) WHERE {}1{}",
        "(".repeat(100),
        ")".repeat(100)
    );
    assert_eq!(err(&deep), IndexError::TooDeep);
    let nots = format!(
        "CREATE INDEX i ON posts (title) WHERE {} 1",
        "NOT ".repeat(100)
    );
    assert_eq!(err(&nots), IndexError::TooDeep);
    let deep_ok = format!(
        "CREATE INDEX i ON posts (title) WHERE {}1{}",
        "(".repeat(20),
        ")".repeat(20)
    );
    ok(&deep_ok);
}

#[test]
fn the_index_must_be_on_the_collection_and_read_its_fields() {
    let c = posts();
    let check = |sql: &str, previous: Option<&str>| ok(sql).check(&c, previous);
    assert_eq!(check("CREATE INDEX i ON POSTS (TITLE, id)", None), Ok(()));
    assert_eq!(
        check("CREATE INDEX i ON other (title)", None),
        Err(IndexError::WrongTable {
            expected: "posts".into(),
            found: "other".into()
        })
    );
    assert_eq!(
        check("CREATE INDEX i ON articles (title)", Some("articles")),
        Ok(())
    );
    assert_eq!(
        check("CREATE INDEX i ON posts (nope)", None),
        Err(IndexError::UnknownColumn {
            column: "nope".into(),
            collection: "posts".into()
        })
    );
    assert!(matches!(
        check("CREATE INDEX i ON posts (title) WHERE `rowid` > 0", None),
        Err(IndexError::UnknownColumn { column, .. }) if column == "rowid"
    ));
    assert!(matches!(
        check("CREATE INDEX i ON posts (title) WHERE nope IS NULL", None),
        Err(IndexError::UnknownColumn { column, .. }) if column == "nope"
    ));
}

#[test]
fn a_definition_reports_each_refused_index_by_position_and_name() {
    let mut c = posts();
    c.indexes = vec![
        "CREATE INDEX a ON posts (title)".into(),
        "DROP TABLE posts".into(),
        "CREATE INDEX A ON posts (views)".into(),
        "CREATE INDEX b ON other (views)".into(),
        "CREATE INDEX c ON posts (views) WHERE views > 0".into(),
    ];
    let Err(Refused(refusals)) = check_all(&c, None) else {
        panic!("accepted")
    };
    let summary: Vec<(usize, &str, String)> = refusals
        .iter()
        .map(|r| (r.position, r.error.code(), r.message()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                1,
                "validation_invalid_index_expression",
                "Index at position 1: only CREATE [UNIQUE] INDEX statements are allowed, not DROP."
                    .to_string()
            ),
            (
                2,
                "validation_duplicated_index_name",
                "Index A: another index of this collection already has this name.".to_string()
            ),
            (
                3,
                "validation_invalid_index_expression",
                "Index b: the index must be on this collection (posts), not on other.".to_string()
            ),
        ]
    );

    c.indexes
        .retain(|i| !i.contains("DROP") && !i.contains(" A ") && !i.contains("other"));
    let renamed = {
        let mut r = c.clone();
        r.name = "articles".into();
        r
    };
    assert_eq!(
        statements(&renamed, Some("posts")),
        Ok(vec![
            "CREATE INDEX `a` ON `articles` (`title`)".to_string(),
            "CREATE INDEX `c` ON `articles` (`views`) WHERE `views` > 0".to_string(),
        ])
    );
    assert!(statements(&renamed, None).is_err());
}

#[test]
fn index_names_come_from_the_parser_or_a_lenient_reading() {
    assert_eq!(
        index_name("CREATE UNIQUE INDEX `idx_a` ON `t` (`x`)").as_deref(),
        Some("idx_a")
    );
    assert_eq!(
        index_name("create index if not exists \"b\" on t(x)").as_deref(),
        Some("b")
    );
    assert_eq!(
        index_name("CREATE INDEX [c] ON t (x)").as_deref(),
        Some("c")
    );
    // Stored before indexes were checked: still dropped by name.
    assert_eq!(
        index_name("CREATE INDEX legacy ON t (lower(x))").as_deref(),
        Some("legacy")
    );
    assert_eq!(index_name("DROP TABLE x"), None);
    assert_eq!(index_name("CREATE INDEX ON t (x)"), None);
}

// ---------------------------------------------------------------------------
// Properties

/// Pieces that index strings are made of, good and bad, so random sequences
/// often get deep into the parser and sometimes make a valid index.
const PIECES: &[&str] = &[
    "a", "b", "`c`", "\"d\"", "[e]", "A", "key", "'x'", "'it''s'", "''", "1", "2.5", "-3", "+4",
    "1e3", ".5", "TRUE", "false", "NULL", "=", "==", "!=", "<>", "<", "<=", ">", ">=", "AND", "or",
    "NOT", "IS", "IN", "LIKE", "GLOB", "BETWEEN", "(", ")", ",", "(", ")", "abs", "SELECT", "?",
    ":x", ";", "--", "/*", ".", "*", "-", "+", "COLLATE", "NOCASE", "DESC", "asc", "WHERE", "ON",
    "INDEX", "UNIQUE", "IF", "EXISTS", "CREATE", "DROP", "t", "'", "\"", "`", "[", "]", "é",
];

fn soup(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (prop::sample::select(PIECES), prop::bool::weighted(0.8)),
        0..max,
    )
    .prop_map(|pieces| {
        let mut s = String::new();
        for (p, space) in pieces {
            s.push_str(p);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

/// A condition in the accepted grammar (mostly), to reach SQLite often.
fn condition() -> impl Strategy<Value = String> {
    let operand = prop::sample::select(vec![
        "a", "b", "`c`", "\"a\"", "[b]", "'x'", "'it''s'", "1", "-2", "+3.5", "1e2", "TRUE",
        "FALSE", "NULL",
    ])
    .prop_map(str::to_string);
    operand.prop_recursive(5, 40, 3, |inner| {
        let op = prop::sample::select(vec![
            "=", "==", "!=", "<>", "<", "<=", ">", ">=", "AND", "OR", "IS", "IS NOT", "LIKE",
            "NOT LIKE", "GLOB", "NOT GLOB",
        ]);
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(l, o, r)| format!("{l} {o} {r}")),
            inner.clone().prop_map(|e| format!("NOT {e}")),
            inner.clone().prop_map(|e| format!("({e})")),
            inner.clone().prop_map(|e| format!("{e} NOT NULL")),
            (inner.clone(), prop::collection::vec(inner.clone(), 1..3))
                .prop_map(|(l, items)| { format!("{l} NOT IN ({})", items.join(", ")) }),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(a, b, c)| { format!("{a} BETWEEN {b} AND {c}") }),
        ]
    })
}

fn statement() -> impl Strategy<Value = String> {
    (
        prop::bool::ANY,
        prop::bool::ANY,
        prop::sample::select(vec![
            "i",
            "`i`",
            "\"idx_x\"",
            "[ix]",
            "Key",
            "t",
            "ON",
            "sqlite_x",
        ]),
        prop::sample::select(vec!["t", "`t`", "T"]),
        prop::collection::vec(
            prop::sample::select(vec![
                "a",
                "`b`",
                "c COLLATE NOCASE",
                "a DESC",
                "b COLLATE rtrim ASC",
                "lower(a)",
            ]),
            0..4,
        ),
        prop::option::of(condition()),
        prop::option::weighted(0.1, soup(4)),
    )
        .prop_map(|(unique, ine, name, table, cols, cond, tail)| {
            let mut s = String::from("CREATE ");
            if unique {
                s.push_str("UNIQUE ");
            }
            s.push_str("INDEX ");
            if ine {
                s.push_str("IF NOT EXISTS ");
            }
            s.push_str(&format!("{name} ON {table} ({})", cols.join(", ")));
            if let Some(c) = cond {
                s.push_str(" WHERE ");
                s.push_str(&c);
            }
            // Usually nothing after; sometimes junk.
            if let Some(tail) = tail {
                s.push(' ');
                s.push_str(&tail);
            }
            s
        })
}

/// The three promises for anything the parser accepts.
fn holds_for(input: &str) -> Result<(), TestCaseError> {
    let Ok(index) = parse(input) else {
        return Ok(());
    };
    let table = if index.name.eq_ignore_ascii_case("t") {
        "u"
    } else {
        "t"
    };
    let sql = index.to_sql(table);
    // (1) Round trip: the statement parses back to the same index.
    let again = parse(&sql).map_err(|e| TestCaseError::fail(format!("{sql}: {e}")))?;
    let mut expected = index.clone();
    expected.table = table.to_string();
    prop_assert_eq!(&again, &expected);
    prop_assert_eq!(again.to_sql(table), sql.clone());
    // (2) One CREATE statement.
    prop_assert!(sql.starts_with("CREATE "), "{}", sql);
    prop_assert!(!sql.contains(';'), "{}", sql);
    // (3) SQLite takes it, and only gains the index.
    let columns: Vec<&str> = index.referenced_columns().collect();
    let gained = run_on_sqlite(table, &columns, &sql).map_err(TestCaseError::fail)?;
    prop_assert_eq!(gained, vec![format!("index {} {table}", index.name)]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_refused_or_safe(input in any::<String>()) {
        holds_for(&input)?;
    }

    #[test]
    fn token_soup_is_refused_or_safe(input in soup(40)) {
        holds_for(&format!("CREATE INDEX i ON t (a) WHERE {input}"))?;
        holds_for(&input)?;
    }

    #[test]
    fn generated_statements_are_refused_or_safe(input in statement()) {
        holds_for(&input)?;
    }
}

#[test]
fn generated_statements_are_mostly_accepted() {
    // The generator is only useful if SQLite sees many of its statements.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = statement();
    let mut accepted = 0;
    for _ in 0..300 {
        let tree = strategy
            .new_tree(&mut runner)
            .unwrap_or_else(|e| panic!("{e}"));
        if parse(&tree.current()).is_ok() {
            accepted += 1;
        }
    }
    assert!(accepted > 60, "only {accepted} of 300 accepted");
}
