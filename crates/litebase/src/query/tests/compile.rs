//! Compiler tables: filter → exact SQL and parameters, and filter → error message.

use rusqlite::types::Value;

use super::fixture::{compile, request, schema};
use crate::query::{CompileOptions, compile_filter};

fn t(s: &str) -> Value {
    Value::Text(s.to_string())
}

#[test]
fn compiles_to_expected_sql() {
    let cases: Vec<(&str, &str, Vec<Value>)> = vec![
        (r#"title = "x""#, r#""t"."title" = ?"#, vec![t("x")]),
        (r#"title != "x""#, r#""t"."title" IS NOT ?"#, vec![t("x")]),
        (
            r#"title = """#,
            r#"("t"."title" = '' OR "t"."title" IS NULL)"#,
            vec![],
        ),
        (
            r#"null != title"#,
            r#"("t"."title" IS NOT '' AND "t"."title" IS NOT NULL)"#,
            vec![],
        ),
        (
            "title = author",
            r#"COALESCE("t"."title", '') = COALESCE("t"."author", '')"#,
            vec![],
        ),
        (
            "views >= -1.5",
            r#""t"."views" >= ?"#,
            vec![Value::Real(-1.5)],
        ),
        ("views < 3", r#""t"."views" < ?"#, vec![Value::Integer(3)]),
        (
            "published = true",
            r#""t"."published" = ?"#,
            vec![Value::Integer(1)],
        ),
        (
            r#"title ~ "a_b\\c""#,
            r#""t"."title" LIKE ? ESCAPE '\'"#,
            vec![t(r"%a\_b\\c%")],
        ),
        (
            r#"title !~ "50%""#,
            r#""t"."title" NOT LIKE ? ESCAPE '\'"#,
            vec![t("50%")],
        ),
        (
            "title:lower ~ cat",
            r#"LOWER("t"."title") LIKE ('%' || replace(replace(replace("t"."cat", '\', '\\'), '%', '\%'), '_', '\_') || '%') ESCAPE '\'"#,
            vec![],
        ),
        (
            "meta.a.0 = 1",
            r#"(CASE WHEN json_valid("t"."meta") THEN json_extract("t"."meta", ?) ELSE json_extract(json_object('pb', "t"."meta"), ?) END) IS ?"#,
            vec![t("$.a[0]"), t("$.pb.a[0]"), Value::Integer(1)],
        ),
        (
            "tags:length > 1",
            r#"json_array_length(CASE WHEN CASE WHEN json_valid("t"."tags") THEN json_type("t"."tags") = 'array' ELSE 0 END THEN "t"."tags" WHEN "t"."tags" = '' OR "t"."tags" IS NULL THEN json_array() ELSE json_array("t"."tags") END) > ?"#,
            vec![Value::Integer(1)],
        ),
        (
            r#"author.name = "a" || views = 1 && views = 2"#,
            r#"EXISTS (SELECT 1 FROM (SELECT 1) AS "__lb_root" LEFT JOIN "users" AS "__lb_j1" ON "__lb_j1"."id" = "t"."author" WHERE ("__lb_j1"."name" = ? OR ("t"."views" = ? AND "t"."views" = ?)))"#,
            vec![t("a"), Value::Integer(1), Value::Integer(2)],
        ),
        (
            // Shared join: both comparisons talk about the same related row.
            r#"editors.name ?= "a" && editors.name ?= "b""#,
            r#"EXISTS (SELECT 1 FROM (SELECT 1) AS "__lb_root" LEFT JOIN json_each(CASE WHEN CASE WHEN json_valid("t"."editors") THEN json_type("t"."editors") = 'array' ELSE 0 END THEN "t"."editors" ELSE json_array("t"."editors") END) AS "__lb_j1" LEFT JOIN "users" AS "__lb_j2" ON "__lb_j2"."id" = "__lb_j1".value WHERE ("__lb_j2"."name" = ? AND "__lb_j2"."name" = ?))"#,
            vec![t("a"), t("b")],
        ),
        (
            r#"comments_via_post.message = "x""#,
            r#"EXISTS (SELECT 1 FROM (SELECT 1) AS "__lb_root" LEFT JOIN "comments" AS "__lb_j1" ON "__lb_j1"."post" = "t"."id" WHERE ("__lb_j1"."message" = ? AND NOT EXISTS (SELECT 1 FROM (SELECT 1) AS "__lb_mm" LEFT JOIN "comments" AS "__lb_m2" ON "__lb_m2"."post" = "t"."id" WHERE NOT ("__lb_m2"."message" = ?))))"#,
            vec![t("x"), t("x")],
        ),
        (
            "@collection.comments:c.post ?= id",
            r#"EXISTS (SELECT 1 FROM (SELECT 1) AS "__lb_root" LEFT JOIN "comments" AS "__lb_j1" ON 1 WHERE COALESCE("__lb_j1"."post", '') = COALESCE("t"."id", ''))"#,
            vec![],
        ),
        ("@request.auth.id != ''", "1 = 0", vec![]),
        (
            r#"@request.method = "GET""#,
            "? = ?",
            vec![t("GET"), t("GET")],
        ),
        (
            "due > @todayStart",
            r#""t"."due" > ?"#,
            vec![t("2026-03-15 00:00:00.000Z")],
        ),
        ("", "1 = 1", vec![]),
        ("  // only a comment", "1 = 1", vec![]),
    ];
    for (filter, sql, params) in cases {
        let got = compile(filter).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
        assert_eq!(got.sql, sql, "sql of {filter:?}");
        assert_eq!(got.params, params, "params of {filter:?}");
    }
}

#[test]
fn six_relation_hops_are_allowed() {
    let six = "comments_via_post.post.comments_via_post.post.comments_via_post.post.id != ''";
    assert!(compile(six).is_ok());
}

#[test]
fn table_alias_is_quoted() {
    let opts = CompileOptions::client(r#"we"ird"#);
    let got = compile_filter("views > 1", "posts", &schema(), &request(), &opts).unwrap();
    assert_eq!(got.sql, r#""we""ird"."views" > ?"#);
}

#[test]
fn reports_clear_errors() {
    let long = format!("title = '{}'", "x".repeat(5000));
    let deep = format!("{}views = 1{}", "(".repeat(40), ")".repeat(40));
    let many = vec!["views = 1"; 201].join(" && ");
    let path7 = "views = 1 && comments_via_post.post.comments_via_post.post.comments_via_post.post.comments_via_post.id = ''";
    let cases: Vec<(&str, &str)> = vec![
        (
            "titel = 1",
            r#"unknown field "titel" at column 1 (collection "posts")"#,
        ),
        (
            "views = 1 && author.nmae = 1",
            r#"unknown field "nmae" at column 14 (collection "users")"#,
        ),
        (
            "views = 1 && title =",
            "unexpected end of filter at column 21: expected a value",
        ),
        (
            "views =",
            "unexpected end of filter at column 8: expected a value",
        ),
        (
            "views",
            "unexpected end of filter at column 6: expected an operator such as = or ~",
        ),
        (
            "views 1",
            "unexpected number 1 at column 7: expected an operator such as = or ~",
        ),
        (
            "(views = 1",
            "unexpected end of filter at column 11: expected a closing parenthesis",
        ),
        (
            "views = 1)",
            r#"unexpected ")" at column 10: expected &&, || or the end of the filter"#,
        ),
        (
            "views = 1 &&",
            "unexpected end of filter at column 13: expected an expression",
        ),
        (
            "views = 1 & views = 2",
            "unexpected character '&' at column 11",
        ),
        (
            "views == 1",
            r#"unexpected operator "=" at column 8: expected a value"#,
        ),
        ("title = 'abc", "unterminated string starting at column 9"),
        ("views = 1.", r#"invalid number "1." at column 9"#),
        ("views = 12ab", r#"invalid number "12ab" at column 9"#),
        ("títle = 1", "unexpected character 'í' at column 2"),
        (
            "title = 'é' && x = 1",
            r#"unknown field "x" at column 16 (collection "posts")"#,
        ),
        (
            "title:upper = 1",
            r#"invalid modifier ":upper" at column 1: expected :lower, :length, :each or :isset"#,
        ),
        (
            "title:length = 1",
            r#"invalid modifier ":length" at column 1: field "title" is not a select, relation or file field"#,
        ),
        (
            "title:isset = 1",
            r#"invalid modifier ":isset" at column 1: only @request.body.* and @request.query.* support it"#,
        ),
        (
            "author:lower.name = 1",
            r#"invalid modifier ":lower" at column 1: modifiers go at the end of a path"#,
        ),
        (
            "title.x = 1",
            r#"invalid identifier "title.x" at column 1: field "title" is not a relation or json field, so it has no sub-fields"#,
        ),
        (
            "@nope = 1",
            r#"invalid identifier "@nope" at column 1: expected @request, @collection or a datetime macro such as @now"#,
        ),
        (
            "@request.foo = 1",
            r#"invalid identifier "@request.foo" at column 1: expected @request.auth, .body, .query, .headers, .method or .context"#,
        ),
        (
            "@collection.nope.id = 1",
            r#"unknown collection "nope" at column 1"#,
        ),
        (
            "@collection.users = 1",
            r#"invalid identifier "@collection.users" at column 1: expected @collection.NAME.FIELD"#,
        ),
        (
            "@collection.users:a.id = '' && @collection.comments:a.id = ''",
            r#"invalid identifier "@collection.comments:a.id" at column 32: this @collection alias already names another collection"#,
        ),
        ("x_via_post.id = 1", r#"unknown collection "x" at column 1"#),
        (
            "comments_via_message.id = 1",
            r#"invalid identifier "comments_via_message.id" at column 1: "comments" has no relation field "message" to "posts""#,
        ),
        (
            "a..b = 1",
            r#"invalid identifier "a..b" at column 1: empty path segment"#,
        ),
        (
            "",
            "empty filter: expected an expression such as title = \"x\"",
        ),
        (
            &long,
            "filter is too long: 5010 bytes (at most 4096 allowed)",
        ),
        (
            &deep,
            "parentheses nested too deeply at column 33 (at most 32 levels)",
        ),
        (
            &many,
            "too many expressions at column 2601 (at most 200 comparisons)",
        ),
        (
            path7,
            "relation path too deep at column 14 (at most 6 relations)",
        ),
    ];
    for (filter, message) in cases {
        let err = if filter.is_empty() {
            crate::query::parse_filter(filter).unwrap_err()
        } else {
            compile(filter).unwrap_err()
        };
        assert_eq!(
            err.to_string(),
            message,
            "error for {:?}",
            &filter[..filter.len().min(60)]
        );
    }
}
