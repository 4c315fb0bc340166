//! Property tests: no input panics; literals never reach SQL text.

use proptest::prelude::*;
use rusqlite::types::Value;

use super::fixture::{db, opts, request, schema};
use crate::query::{compile_filter, compile_sort, parse_filter};

/// Characters that make up filters, so random strings often get deep into the parser.
const FILTER_ALPHABET: &str = "[a-z_@.:()&|=!<>?~\"' \\\\0-9-]{0,120}";

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(input in any::<String>()) {
        let _ = parse_filter(&input);
        let _ = compile_filter(&input, "posts", &schema(), &request(), &opts());
        let _ = compile_sort(&input, "posts", &schema(), &request(), &opts());
    }

    #[test]
    fn filter_like_text_never_panics(input in FILTER_ALPHABET) {
        let _ = parse_filter(&input);
        if let Ok(sql) = compile_filter(&input, "posts", &schema(), &request(), &opts()) {
            prop_assert_eq!(sql.sql.matches('?').count(), sql.params.len());
        }
        let _ = compile_sort(&input, "posts", &schema(), &request(), &opts());
    }
}

/// A literal in a generated filter.
#[derive(Debug, Clone)]
enum Lit {
    Str(String),
    Int(i64),
    Real(f64),
}

impl Lit {
    fn to_filter(&self) -> String {
        match self {
            Lit::Str(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
            Lit::Int(i) => i.to_string(),
            Lit::Real(f) => format!("{f:.3}"),
        }
    }

    /// The same shape of literal with a different value.
    fn neutral(&self) -> Lit {
        match self {
            Lit::Str(_) => Lit::Str("x".into()),
            Lit::Int(_) => Lit::Int(7),
            Lit::Real(_) => Lit::Real(7.5),
        }
    }
}

#[derive(Debug, Clone)]
enum Gen {
    Cmp(&'static str, &'static str, Lit),
    And(Vec<Gen>),
    Or(Vec<Gen>),
}

impl Gen {
    fn to_filter(&self, lit: &dyn Fn(&Lit) -> Lit) -> String {
        match self {
            Gen::Cmp(field, op, l) => format!("{field} {op} {}", lit(l).to_filter()),
            Gen::And(items) => format!(
                "({})",
                items
                    .iter()
                    .map(|g| g.to_filter(lit))
                    .collect::<Vec<_>>()
                    .join(" && ")
            ),
            Gen::Or(items) => format!(
                "({})",
                items
                    .iter()
                    .map(|g| g.to_filter(lit))
                    .collect::<Vec<_>>()
                    .join(" || ")
            ),
        }
    }

    fn literals(&self, out: &mut Vec<(&'static str, Lit)>) {
        match self {
            Gen::Cmp(_, op, l) => out.push((op, l.clone())),
            Gen::And(items) | Gen::Or(items) => items.iter().for_each(|g| g.literals(out)),
        }
    }
}

const FIELDS: &[&str] = &[
    "title",
    "views",
    "published",
    "due",
    "meta",
    "meta.a.0",
    "tags",
    "tags:each",
    "tags:length",
    "title:lower",
    "author",
    "author.name",
    "editors.name",
    "editors.name:lower",
    "comments_via_post.message",
    "@collection.comments.message",
    "@collection.users:u.email",
    "@request.body.x",
    "@request.auth.id",
    "@request.query.q:lower",
    "@now",
];
const OPS: &[&str] = &[
    "=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~",
];

fn lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        4 => any::<String>().prop_filter("no NUL", |s| !s.contains('\0')).prop_map(Lit::Str),
        1 => any::<i64>().prop_map(Lit::Int),
        1 => (-1.0e9f64..1.0e9).prop_map(Lit::Real),
    ]
}

fn filters() -> impl Strategy<Value = Gen> {
    let leaf = (
        prop::sample::select(FIELDS),
        prop::sample::select(OPS),
        lit(),
    )
        .prop_map(|(f, o, l)| Gen::Cmp(f, o, l));
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Gen::And),
            prop::collection::vec(inner, 2..4).prop_map(Gen::Or),
        ]
    })
}

/// Whether `param` is how literal `l` (used with operator `op`) is bound.
fn binds(param: &Value, op: &str, l: &Lit) -> bool {
    let like = op.ends_with('~');
    match (l, param) {
        (Lit::Str(s), Value::Text(p)) if like => *p == crate::query::compiler::like_pattern(s),
        (Lit::Str(s), Value::Text(p)) => p == s,
        (Lit::Str(s), Value::Null) => s.is_empty(),
        (Lit::Int(i), Value::Integer(p)) => p == i,
        (Lit::Int(i), Value::Text(p)) => {
            like && *p == crate::query::compiler::like_pattern(&i.to_string())
        }
        (Lit::Real(f), Value::Real(p)) => (p - f).abs() < 1e-3,
        (Lit::Real(_), Value::Integer(_)) => true, // `7.000` parses back as 7.0 → Real; ints are fine too
        (Lit::Real(_), Value::Text(_)) => like,
        _ => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The SQL text depends only on the filter's structure, never on its literal
    /// values, every literal is bound as a parameter, and the SQL runs.
    #[test]
    fn literals_only_ever_become_parameters(g in filters()) {
        let real = g.to_filter(&|l| l.clone());
        let neutral = g.to_filter(&Lit::neutral);
        let compile = |f: &str| compile_filter(f, "posts", &schema(), &request(), &opts());
        let (a, b) = match (compile(&real), compile(&neutral)) {
            (Ok(a), Ok(b)) => (a, b),
            // Both must agree on validity: literal values never decide it, except the
            // 4 KiB length limit.
            (Err(e), _) if real.len() > crate::query::MAX_FILTER_LEN => {
                let too_long = matches!(e, crate::query::FilterError::TooLong { .. });
                prop_assert!(too_long, "{}", e);
                return Ok(());
            }
            (x, y) => {
                prop_assert!(false, "{real:?}: {x:?} vs {y:?}");
                unreachable!()
            }
        };
        // Empty literals take the `= '' OR IS NULL` form, so compare the structure
        // only when no string literal is empty.
        let mut lits = Vec::new();
        g.literals(&mut lits);
        if lits.iter().all(|(_, l)| !matches!(l, Lit::Str(s) if s.is_empty())) {
            prop_assert_eq!(&a.sql, &b.sql);
        }
        prop_assert_eq!(a.sql.matches('?').count(), a.params.len());
        for (op, l) in &lits {
            if let Lit::Str(s) = l {
                if s.is_empty() { continue; }
            }
            prop_assert!(
                a.params.iter().any(|p| binds(p, op, l)),
                "literal {:?} ({}) not bound in {:?}", l, op, a.params
            );
        }
        let conn = db();
        let sql = format!("SELECT count(*) FROM posts AS t WHERE ({})", a.sql);
        let n: Result<i64, _> = conn.query_row(&sql, rusqlite::params_from_iter(a.params.iter()), |r| r.get(0));
        prop_assert!(n.is_ok(), "{real:?} → {sql}: {n:?}");
    }
}
