//! Client filters and sorts ([`Access::Client`]): what they may reach, and the
//! non-interference property (`query::leak_check`): the answer never depends on
//! data the client may not see.

use proptest::prelude::*;

use crate::query::leak_check::{LeakCheck, OPERATORS, PATHS, Requester, VALUES};
use crate::query::{CompileOptions, FilterError, compile_filter};

fn check() -> LeakCheck {
    LeakCheck::new().expect("in-memory databases")
}

fn compile_as(filter: &str, who: Requester) -> Result<String, FilterError> {
    let schema = crate::query::leak_check::schema();
    compile_filter(
        filter,
        "posts",
        &schema,
        &who.request(),
        &CompileOptions::client("t"),
    )
    .map(|c| c.sql)
}

#[test]
fn superusers_only_collections_and_hidden_fields_are_refused() {
    for (filter, message) in [
        (
            "vault.code = 'x'",
            r#"the path at column 1 reaches collection "vault", which only superusers may list"#,
        ),
        (
            "@collection.vault.code ?= 'x'",
            r#"the path at column 1 reaches collection "vault", which only superusers may list"#,
        ),
        (
            "secret = 'x'",
            r#"field "secret" at column 1 is hidden and cannot be filtered (collection "posts")"#,
        ),
        (
            "shadow.title = 'x'",
            r#"field "shadow" at column 1 is hidden and cannot be filtered (collection "posts")"#,
        ),
        (
            "owner.phone = 'x'",
            r#"field "phone" at column 1 is hidden and cannot be filtered (collection "users")"#,
        ),
    ] {
        assert_eq!(
            compile_as(filter, Requester::Alice)
                .unwrap_err()
                .to_string(),
            message
        );
    }
    // The stored id of a single relation needs no join, so it stays usable.
    assert!(compile_as("vault.id != ''", Requester::Guest).is_ok());
    // A rule (full access) may reach anything.
    let schema = crate::query::leak_check::schema();
    let full = CompileOptions::full("t");
    assert!(
        compile_filter(
            "vault.code = 'x'",
            "posts",
            &schema,
            &Requester::Guest.request(),
            &full
        )
        .is_ok()
    );
}

#[test]
fn joined_collections_show_only_listable_rows() {
    let check = check();
    // Every filter of the table below is also checked for leaks.
    for who in Requester::ALL {
        for filter in [
            "owner.name = 'Bob'",
            "notes_via_link.title ?= 'B secret note'",
            "tags.name ?= 'hush'",
            "tags.name !~ 'hu'",
        ] {
            check
                .check_filter(filter, who)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn every_item_checks_count_a_hidden_related_item_as_failing() {
    let check = check();
    // p_a links the public tag "open" and the hidden "hush", p_b only "hush",
    // p_c the public "team" and "open". Whether "hush" passes is hidden, so
    // "every tag passes" cannot be shown for p_a (PocketBase evaluates hush,
    // which fails `public = true` anyway); "some tag passes" can.
    for who in Requester::ALL {
        for (filter, expected) in [
            ("tags.public = true", vec!["p_c"]),
            ("tags.name != 'zzz'", vec!["p_c"]),
            ("tags.name ?!= 'zzz'", vec!["p_a", "p_c"]),
            ("tags.name ?= 'open'", vec!["p_a", "p_c"]),
            ("tags.name ~ 'e'", vec!["p_c"]),
        ] {
            let got = check
                .answer(filter, who)
                .expect("compiles")
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(got, expected, "{filter} as {who:?}");
            check
                .check_filter(filter, who)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn every_single_comparison_is_leak_free() {
    let check = check();
    let values = [
        "''",
        "'Alpha'",
        "'B secret note'",
        "'hush'",
        "'open'",
        "'Bob'",
        "'u_alice'",
        "1",
    ];
    for who in Requester::ALL {
        for path in PATHS {
            for op in OPERATORS {
                for value in values {
                    let filter = format!("{path} {op} {value}");
                    check
                        .check_filter(&filter, who)
                        .unwrap_or_else(|e| panic!("{e}"));
                }
            }
            for dir in ["", "-"] {
                check
                    .check_sort(&format!("{dir}{path}"), who)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
}

fn comparison() -> impl Strategy<Value = String> {
    (
        prop::sample::select(PATHS),
        prop::sample::select(OPERATORS),
        prop_oneof![
            prop::sample::select(VALUES).prop_map(str::to_string),
            prop::sample::select(PATHS).prop_map(str::to_string),
        ],
    )
        .prop_map(|(p, o, v)| format!("{p} {o} {v}"))
}

fn expression() -> impl Strategy<Value = String> {
    comparison().prop_recursive(3, 12, 3, |inner| {
        (
            prop::collection::vec(inner, 2..4),
            prop::sample::select(vec![" && ", " || "]),
        )
            .prop_map(|(items, sep)| format!("({})", items.join(sep)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn compound_filters_are_leak_free(filter in expression(), who in 0usize..3) {
        let check = check();
        let who = Requester::ALL[who];
        prop_assert!(check.check_filter(&filter, who).is_ok(), "{:?}", check.check_filter(&filter, who));
    }

    #[test]
    fn sorts_are_leak_free(
        items in prop::collection::vec((prop::sample::select(PATHS), any::<bool>()), 1..4),
        who in 0usize..3,
    ) {
        let check = check();
        let sort: Vec<String> = items
            .iter()
            .map(|(p, desc)| format!("{}{p}", if *desc { "-" } else { "" }))
            .collect();
        let sort = sort.join(",");
        let who = Requester::ALL[who];
        prop_assert!(check.check_sort(&sort, who).is_ok(), "{:?}", check.check_sort(&sort, who));
    }
}
