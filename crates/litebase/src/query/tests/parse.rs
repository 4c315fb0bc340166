//! Lexer and parser tables: text → tokens / tree shape.

use crate::query::ast::{Expr, OpKind, Operand, Operator};
use crate::query::lexer::{TokenKind, tokenize};
use crate::query::parse_filter;

fn kinds(input: &str) -> Vec<TokenKind> {
    tokenize(input)
        .expect(input)
        .into_iter()
        .map(|t| t.kind)
        .collect()
}

#[test]
fn lexes_tokens() {
    use TokenKind::*;
    let id = |s: &str| Ident(s.to_string());
    let cases: Vec<(&str, Vec<TokenKind>)> = vec![
        ("a=1", vec![id("a"), Op("="), Num("1".into())]),
        ("a ?!= -1.25", vec![id("a"), Op("?!="), Num("-1.25".into())]),
        ("a>=b", vec![id("a"), Op(">="), id("b")]),
        ("a !~ 'x'", vec![id("a"), Op("!~"), Str("x".into())]),
        (
            "(a?~b)||c?<=d&&e?>f",
            vec![
                LParen,
                id("a"),
                Op("?~"),
                id("b"),
                RParen,
                Or,
                id("c"),
                Op("?<="),
                id("d"),
                And,
                id("e"),
                Op("?>"),
                id("f"),
            ],
        ),
        (
            r#""it\"s" 'it\'s' "a\\b" "a\nb""#,
            vec![
                Str("it\"s".into()),
                Str("it's".into()),
                Str("a\\b".into()),
                Str("a\\nb".into()),
            ],
        ),
        ("@request.auth.id", vec![id("@request.auth.id")]),
        (
            "@collection.users:u.name:lower",
            vec![id("@collection.users:u.name:lower")],
        ),
        (
            "a = 1 // comment ( ' \n && b = 2",
            vec![
                id("a"),
                Op("="),
                Num("1".into()),
                And,
                id("b"),
                Op("="),
                Num("2".into()),
            ],
        ),
        (
            "'multi\nline ünïcode'",
            vec![Str("multi\nline ünïcode".into())],
        ),
        (
            "f(a, b)",
            vec![id("f"), LParen, id("a"), Comma, id("b"), RParen],
        ),
        ("a-1", vec![id("a"), Num("-1".into())]),
    ];
    for (input, expected) in cases {
        assert_eq!(kinds(input), expected, "tokens of {input:?}");
    }
}

#[test]
fn lexer_rejects_garbage() {
    for (input, message) in [
        ("a = #", "unexpected character '#' at column 5"),
        ("a = 1 | b", "unexpected character '|' at column 7"),
        ("a = -", "unexpected character '-' at column 5"),
        ("a = \"x", "unterminated string starting at column 5"),
        ("a = 'x\\'", "unterminated string starting at column 5"),
        ("a = 1.x", "invalid number \"1.\" at column 5"),
        ("a = ?", "unexpected character '?' at column 5"),
        ("a = !", "unexpected character '!' at column 5"),
    ] {
        assert_eq!(
            tokenize(input).unwrap_err().to_string(),
            message,
            "{input:?}"
        );
    }
}

fn op(text: &str) -> Operator {
    Operator::from_text(text).expect(text)
}

#[test]
fn parses_all_operators() {
    for text in [
        "=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~",
        "?!~",
    ] {
        let expr = parse_filter(&format!("a {text} 1")).expect(text);
        let Expr::Compare(cmp) = expr else {
            panic!("{text}: not a comparison")
        };
        assert_eq!(cmp.op, op(text));
        assert_eq!(cmp.op.as_text(), text);
        assert_eq!(cmp.op.any_of, text.starts_with('?'));
    }
    assert_eq!(op("?!~").kind, OpKind::NotLike);
    assert_eq!(Operator::from_text("=="), None);
}

/// Renders a tree back to a fully parenthesised string, to check grouping.
fn shape(e: &Expr) -> String {
    match e {
        Expr::And(items) => format!(
            "({})",
            items.iter().map(shape).collect::<Vec<_>>().join(" AND ")
        ),
        Expr::Or(items) => format!(
            "({})",
            items.iter().map(shape).collect::<Vec<_>>().join(" OR ")
        ),
        Expr::Compare(c) => {
            let side = |o: &Operand| match o {
                Operand::Str { value, .. } => format!("{value:?}"),
                Operand::Num { text, .. } => text.clone(),
                Operand::Bool { value, .. } => value.to_string(),
                Operand::Null { .. } => "null".to_string(),
                Operand::Ident(i) => i.text.clone(),
            };
            format!("{}{}{}", side(&c.left), c.op.as_text(), side(&c.right))
        }
    }
}

#[test]
fn parses_precedence_and_grouping() {
    // `&&` binds tighter than `||` (checked on PocketBase: `views = 10 || title = ""
    // && published = false` → post…1 and post…3).
    let cases = [
        ("a=1", "a=1"),
        ("a=1 || b=2 && c=3", "(a=1 OR (b=2 AND c=3))"),
        ("a=1 && b=2 || c=3", "((a=1 AND b=2) OR c=3)"),
        ("(a=1 || b=2) && c=3", "((a=1 OR b=2) AND c=3)"),
        ("a=1 && b=2 && c=3", "(a=1 AND b=2 AND c=3)"),
        ("((((a=1))))", "a=1"),
        (
            "a = true && b != false || c = null",
            "((a=true AND b!=false) OR c=null)",
        ),
        ("\"x\" = a", "\"x\"=a"),
    ];
    for (input, expected) in cases {
        assert_eq!(
            shape(&parse_filter(input).expect(input)),
            expected,
            "{input:?}"
        );
    }
}

#[test]
fn parses_identifier_segments() {
    let Expr::Compare(cmp) = parse_filter("@collection.users:u.name:lower = 1").unwrap() else {
        panic!("not a comparison")
    };
    let Operand::Ident(ident) = cmp.left else {
        panic!("not an identifier")
    };
    let parts: Vec<(String, Option<String>)> = ident
        .segments
        .into_iter()
        .map(|s| (s.name, s.suffix))
        .collect();
    assert_eq!(
        parts,
        vec![
            ("@collection".into(), None),
            ("users".into(), Some("u".into())),
            ("name".into(), Some("lower".into())),
        ]
    );
    for bad in ["a.@b = 1", "a:b:c = 1", "a: = 1", "a. = 1", ".a = 1"] {
        assert!(parse_filter(bad).is_err(), "{bad:?} should not parse");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = "(".repeat(100_000);
    assert!(parse_filter(&deep).is_err());
    let ok = format!("{}a=1{}", "(".repeat(32), ")".repeat(32));
    assert!(parse_filter(&ok).is_ok());
    let too_deep = format!("{}a=1{}", "(".repeat(33), ")".repeat(33));
    assert!(parse_filter(&too_deep).is_err());
}
