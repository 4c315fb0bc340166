//! `compile_sort`: expected ORDER BY text, errors, and execution on the fixture.

use super::fixture::{db, opts, schema};
use crate::query::{CompileOptions, compile_sort};

fn sort(input: &str) -> String {
    compile_sort(input, "posts", &schema(), &opts()).unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

#[test]
fn compiles_sort_specs() {
    let cases = [
        ("title", r#""t"."title" ASC"#),
        ("-views,+title", r#""t"."views" DESC, "t"."title" ASC"#),
        (" -views , title ", r#""t"."views" DESC, "t"."title" ASC"#),
        ("@random", "RANDOM()"),
        ("-@rowid", r#""t"."rowid" DESC"#),
        ("meta.a.0", r#"json_extract("t"."meta", '$.a[0]') ASC"#),
        (
            "-author.name",
            r#"(SELECT "__lb_s1"."name" FROM (SELECT 1) LEFT JOIN "users" AS "__lb_s1" ON "__lb_s1"."id" = "t"."author") DESC"#,
        ),
        (
            "-editors:length",
            r#"COALESCE(json_array_length("t"."editors"), 0) DESC"#,
        ),
        ("", ""),
    ];
    for (input, expected) in cases {
        assert_eq!(sort(input), expected, "{input:?}");
    }
}

#[test]
fn sort_errors() {
    let guest = CompileOptions {
        table_alias: "t".into(),
        allow_hidden: false,
    };
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
            "editors.name",
            r#"invalid identifier "editors.name" at column 1: only single relations and json fields can be followed when sorting"#,
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
            "title:lower",
            r#"invalid identifier "title:lower" at column 1: sort takes field paths (optionally :length), @random or @rowid"#,
        ),
        (
            "secret",
            r#"field "secret" at column 1 is hidden and cannot be filtered (collection "posts")"#,
        ),
    ];
    for (input, message) in cases {
        let err = compile_sort(input, "posts", &schema(), &guest).unwrap_err();
        assert_eq!(err.to_string(), message, "{input:?}");
    }
}

#[test]
fn sorts_rows() {
    let conn = db();
    let run = |spec: &str| -> String {
        let sql = format!("SELECT id FROM posts AS t ORDER BY {}", sort(spec));
        let mut stmt = conn.prepare(&sql).expect(&sql);
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))
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
}
