//! `compile_sort`: expected ORDER BY text, errors, and execution on the fixture.

use rusqlite::params_from_iter;

use super::fixture::{db, opts, request, schema};
use crate::query::{CompileOptions, SortSql, compile_sort};

fn sort_with(input: &str, opts: &CompileOptions) -> SortSql {
    compile_sort(input, "posts", &schema(), &request(), opts)
        .unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

fn sort(input: &str) -> String {
    let s = sort_with(input, &opts());
    assert!(
        s.filter.is_none(),
        "{input:?}: a superuser's sort narrows nothing"
    );
    s.order.sql
}

#[test]
fn compiles_sort_specs() {
    let cases = [
        ("title", r#""t"."title" ASC"#),
        ("-views,+title", r#""t"."views" DESC, "t"."title" ASC"#),
        (" -views , title ", r#""t"."views" DESC, "t"."title" ASC"#),
        ("@random", "RANDOM()"),
        ("-@rowid", r#""t"."rowid" DESC"#),
        ("title:lower", r#"LOWER("t"."title") ASC"#),
        (
            "-author.name",
            r#"(SELECT "__lb_j1"."name" FROM (SELECT 1) AS "__lb_sort" LEFT JOIN "users" AS "__lb_j1" ON "__lb_j1"."id" = "t"."author" LIMIT 1) DESC"#,
        ),
        (
            "editors.name",
            r#"(SELECT "__lb_j2"."name" FROM (SELECT 1) AS "__lb_sort" LEFT JOIN json_each(CASE WHEN CASE WHEN json_valid("t"."editors") THEN json_type("t"."editors") = 'array' ELSE 0 END THEN "t"."editors" ELSE json_array("t"."editors") END) AS "__lb_j1" LEFT JOIN "users" AS "__lb_j2" ON "__lb_j2"."id" = "__lb_j1".value ORDER BY "__lb_j1".key LIMIT 1) ASC"#,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(sort(input), expected, "{input:?}");
    }
    // JSON paths are bound values, like in filters.
    let meta = sort_with("meta.a.0", &opts());
    assert!(
        meta.order.sql.contains("json_extract"),
        "{}",
        meta.order.sql
    );
    assert_eq!(meta.order.params.len(), 2);
}

#[test]
fn sort_errors() {
    let guest = CompileOptions::client("t");
    let cases = [
        (
            "titel",
            r#"unknown field "titel" at column 1 (collection "posts")"#,
        ),
        (
            "title,-nope",
            r#"unknown field "nope" at column 8 (collection "posts")"#,
        ),
        (
            "title desc",
            r#"invalid identifier "title desc" at column 1: expected a field name, optionally prefixed with - or +"#,
        ),
        ("title;drop", "unexpected character ';' at column 6"),
        (
            "'x'",
            r#"invalid identifier "'x'" at column 1: expected a field name, optionally prefixed with - or +"#,
        ),
        (
            "secret",
            r#"field "secret" at column 1 is hidden and cannot be filtered (collection "posts")"#,
        ),
        (",,,", "empty sort item at column 1: expected a field name"),
        (
            "-title,,",
            "empty sort item at column 8: expected a field name",
        ),
        ("   ", "empty sort item at column 4: expected a field name"),
        ("", "empty sort item at column 1: expected a field name"),
        (
            "title:isset",
            r#"invalid modifier ":isset" at column 1: only @request.body.* and @request.query.* support it"#,
        ),
    ];
    for (input, message) in cases {
        let err = compile_sort(input, "posts", &schema(), &request(), &guest).unwrap_err();
        assert_eq!(err.to_string(), message, "{input:?}");
    }
}

#[test]
fn sorts_rows() {
    let conn = db();
    let run = |spec: &str| -> String {
        let s = sort_with(spec, &opts());
        let sql = format!("SELECT id FROM posts AS t ORDER BY {}", s.order.sql);
        let mut stmt = conn.prepare(&sql).expect(&sql);
        let ids: Vec<String> = stmt
            .query_map(params_from_iter(s.order.params.iter()), |r| {
                r.get::<_, String>(0)
            })
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        ids.iter().filter_map(|id| id.chars().last()).collect()
    };
    assert_eq!(run("-views"), "1423");
    assert_eq!(run("published,-title"), "2314");
    assert_eq!(run("author.name,id"), "3412");
    assert_eq!(run("-meta.a,id"), "3124");
    assert_eq!(run("@random").len(), 4);
    // Several related rows: the first one in relation order is the key
    // (post 1: Alice, bob; post 2: bob; post 4: ''), missing ones sort first.
    assert_eq!(run("editors.name,id"), "3412");
    assert_eq!(run("-editors.name,id"), "2143");
    // Back-relations: the first comment in table order (post 1: "great").
    assert_eq!(run("-comments_via_post.message,id"), "1234");
}
