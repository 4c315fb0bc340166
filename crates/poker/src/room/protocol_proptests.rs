//! Property tests for the wire parser: [`parse`] never panics on any text, and every
//! frame it accepts, sent by any member of a real room, is either refused by the
//! state machine or leaves the room sound (no panic, every invariant of `state.rs`).
//!
//! The JSON-shaped inputs are built from the real message types and field names,
//! with values that are mostly legal for the field and otherwise hostile (huge or
//! fractional numbers, nulls, nested objects, arrays, long or odd strings, htmx's
//! `HEADERS`), so many of them get past the parser and reach the room.

use proptest::prelude::*;
use proptest::sample::select;

use super::protocol::{ClientMsg, parse};
use super::state::{Command, NewRoom, Role, RoomState};
use super::{ParticipantId, Timestamp};

/// The room's members: host, two voters, a spectator; plus `zz`, who never joined.
const MEMBERS: &[&str] = &["h", "a", "b", "s", "zz"];

/// Every message type with the fields it takes.
const TYPES: &[(&str, &[&str])] = &[
    ("join", &["name", "role", "token"]),
    ("vote", &["value"]),
    ("clear", &[]),
    ("reveal", &[]),
    ("reset", &[]),
    ("next", &["topic"]),
    ("topic", &["text"]),
    ("estimate", &["value"]),
    ("kick", &["participant"]),
    ("cohost", &["participant", "value"]),
    ("transfer", &["participant"]),
    ("lock", &["value"]),
    ("rename", &["name"]),
    (
        "settings",
        &[
            "reveal",
            "reset",
            "next_round",
            "edit_topic",
            "auto_reveal",
            "allow_spectators",
        ],
    ),
    (
        "deck",
        &[
            "kind",
            "custom",
            "question",
            "coffee",
            "infinity",
            "reset_votes",
        ],
    ),
    ("timer", &["seconds"]),
    ("timer_start", &[]),
    ("timer_stop", &[]),
    ("role", &["role", "participant"]),
    ("name", &["name"]),
    ("leave", &[]),
];

/// Numbers as they may appear on the wire, including ones no integer type holds.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "5",
    "60",
    "3600",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "1e400",
    "-1e400",
    "1.5",
    "-0",
    "1e-400",
    "123456789012345678901234567890",
];

/// Values that are legal for `field` (as JSON text), so that parsing often succeeds.
fn legal(field: &str) -> &'static [&'static str] {
    match field {
        "role" => &[r#""voter""#, r#""spectator""#, r#"" voter ""#, r#""""#],
        "participant" => &[r#""h""#, r#""a""#, r#""b""#, r#""s""#, r#""zz""#, r#""""#],
        "reveal" | "reset" | "next_round" | "edit_topic" => {
            &[r#""hosts""#, r#""everyone""#, r#"" hosts""#]
        }
        "kind" => &[
            r#""fibonacci""#,
            r#""modified""#,
            r#""tshirt""#,
            r#""powers2""#,
            r#""custom""#,
        ],
        "custom" => &[
            r#""S, M ,L,, ""#,
            r#"["1",2,"?"]"#,
            r#""""#,
            r#"["🐜","🐕","🐜"]"#,
            r#"",,,""#,
        ],
        "seconds" => &["60", r#""90""#, "null", "0", r#""""#, "5", "3600", "4000"],
        "value" => &[
            r#""5""#,
            "8",
            r#""?""#,
            r#""☕""#,
            r#""XL""#,
            r#""on""#,
            "true",
            r#""off""#,
            "1",
            r#"" 13 ""#,
        ],
        "name" | "text" | "topic" => &[
            r#""Ada""#,
            r#""  Bo ""#,
            r#""""#,
            r#""Zoë Ødegaard""#,
            r#""a\nb""#,
            "42",
        ],
        "token" => &[r#""t""#, r#""""#, "null"],
        // auto_reveal, allow_spectators, question, coffee, infinity, reset_votes
        _ => &[
            r#""on""#, r#""off""#, "true", "false", r#""1""#, "0", r#""""#,
        ],
    }
}

/// Any JSON value, as text: scalars of every kind, nested arrays and objects.
fn wild_json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        select(NUMBERS).prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        any::<String>().prop_map(|s| serde_json::Value::from(s).to_string()),
        (0usize..5_000).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (select(&["a", "type", "HEADERS", "value", ""][..]), inner),
                0..4
            )
            .prop_map(|kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    })
}

/// A value for `field`: usually legal, sometimes anything.
fn value_for(field: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(legal(field)).prop_map(str::to_owned),
        1 => wild_json(),
    ]
}

/// A JSON object shaped like a real message: a real type (or a stray one), each of
/// its fields present or not, sometimes an unknown field, sometimes `HEADERS`.
fn shaped_message() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        9 => (0..TYPES.len()).prop_map(Some),
        1 => Just(None),
    ];
    kind.prop_flat_map(|kind| {
        let (type_text, fields): (BoxedStrategy<String>, &'static [&'static str]) = match kind {
            Some(i) => (Just(format!("\"{}\"", TYPES[i].0)).boxed(), TYPES[i].1),
            None => (wild_json().boxed(), &[]),
        };
        let entries: Vec<_> = fields
            .iter()
            .map(|field| {
                prop::option::weighted(0.85, value_for(field))
                    .prop_map(move |v| v.map(|v| format!("\"{field}\":{v}")))
            })
            .collect();
        (
            type_text,
            entries,
            prop::option::weighted(
                0.1,
                (select(&["extra", "Type", "value", "name"][..]), wild_json()),
            ),
            prop::option::weighted(0.3, wild_json()),
            any::<bool>(),
        )
            .prop_map(|(type_text, entries, extra, headers, type_first)| {
                let mut body: Vec<String> = entries.into_iter().flatten().collect();
                let type_entry = format!("\"type\":{type_text}");
                if type_first {
                    body.insert(0, type_entry);
                } else {
                    body.push(type_entry);
                }
                if let Some((k, v)) = extra {
                    body.push(format!("\"{k}\":{v}"));
                }
                if let Some(h) = headers {
                    body.push(format!("\"HEADERS\":{h}"));
                }
                format!("{{{}}}", body.join(","))
            })
    })
}

/// A room with a host `h`, voters `a` and `b`, and a spectator `s`.
fn small_room() -> RoomState {
    let mut room = RoomState::new(NewRoom::new("h".into(), "Hana"), Timestamp(0))
        .unwrap_or_else(|e| panic!("a default room is valid: {e}"));
    for (id, name, role) in [
        ("a", "Ann", Role::Voter),
        ("b", "Ben", Role::Voter),
        ("s", "Sue", Role::Spectator),
    ] {
        let join = Command::Join {
            participant: id.into(),
            name: name.into(),
            role,
        };
        room = match room.apply(join, Timestamp(1)) {
            Ok((next, _)) => next,
            Err(e) => panic!("{id} joins: {e}"),
        };
    }
    room
}

/// The command a parsed frame from `by` becomes, as the hub and the join path build it.
fn command(msg: ClientMsg, by: ParticipantId) -> Command {
    match msg {
        ClientMsg::Act(action) => action.command(by),
        // The webhook lives beside the room's state; for the room, time passes.
        ClientMsg::Webhook(_) => Command::Tick,
        ClientMsg::Join { name, role, .. } => Command::Join {
            participant: "new".into(),
            name,
            role: role.unwrap_or(Role::Voter),
        },
    }
}

/// Sends each frame from its member, in order; fails on a broken invariant.
/// Returns how many frames the room accepted.
fn drive(frames: &[(usize, String)]) -> Result<usize, TestCaseError> {
    let mut room = small_room();
    let mut applied = 0;
    for (i, (who, text)) in frames.iter().enumerate() {
        let Ok(msg) = parse(text) else { continue };
        let by = ParticipantId::from(MEMBERS[who % MEMBERS.len()]);
        let cmd = command(msg, by);
        let now = Timestamp(2 + i as u64 * 7_000);
        if let Ok((next, _)) = room.apply(cmd.clone(), now) {
            let problems = next.invariant_violations();
            prop_assert!(problems.is_empty(), "after {text} ({cmd:?}): {problems:?}");
            room = next;
            applied += 1;
        }
    }
    Ok(applied)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_parsed_or_refused_without_panic(text in any::<String>()) {
        if let Err(e) = parse(&text) {
            prop_assert!(e.to_string().starts_with("invalid message: "));
        }
    }

    #[test]
    fn any_json_is_parsed_or_refused_without_panic(text in wild_json()) {
        let _ = parse(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any message-shaped frame, sent by anyone in the room, is handled soundly.
    #[test]
    fn accepted_frames_keep_the_room_sound(
        frames in prop::collection::vec((0..MEMBERS.len(), shaped_message()), 1..16),
    ) {
        drive(&frames)?;
    }
}

/// The generator is not vacuous: most shaped frames parse, so the room is exercised.
#[test]
fn shaped_frames_mostly_get_past_the_parser() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = shaped_message();
    let mut accepted = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for _ in 0..400 {
        let text = match strategy.new_tree(&mut runner) {
            Ok(tree) => tree.current(),
            Err(e) => panic!("generate: {e}"),
        };
        if let Ok(msg) = parse(&text) {
            accepted += 1;
            if let ClientMsg::Act(action) = msg {
                kinds.insert(
                    format!("{action:?}")
                        .chars()
                        .take_while(|c| c.is_alphanumeric())
                        .collect::<String>(),
                );
            }
        }
    }
    assert!(accepted > 150, "only {accepted} of 400 frames parsed");
    assert!(kinds.len() >= 18, "only {kinds:?} were accepted");
}

/// The fuzz target's seed scenarios (`crates/poker/fuzz/seeds`), line `i` sent by
/// member `i % 5` as the target does: every line parses, the room accepts the ones
/// it accepted when written (the rest are refused on purpose) and stays sound.
/// Keeps the seeds meaningful when the protocol or the rules change.
#[test]
fn the_fuzz_seed_scenarios_parse_and_play() {
    for (name, text, least) in [
        ("round", include_str!("../../fuzz/seeds/round"), 8),
        ("moderation", include_str!("../../fuzz/seeds/moderation"), 6),
        ("autoreveal", include_str!("../../fuzz/seeds/autoreveal"), 7),
    ] {
        let frames: Vec<(usize, String)> = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i, line.to_owned()))
            .collect();
        for (_, line) in &frames {
            assert!(parse(line).is_ok(), "{name}: {line} does not parse");
        }
        let applied = match drive(&frames) {
            Ok(applied) => applied,
            Err(e) => panic!("{name}: {e}"),
        };
        assert!(
            applied >= least,
            "{name}: only {applied} of {} frames applied",
            frames.len()
        );
    }
}
