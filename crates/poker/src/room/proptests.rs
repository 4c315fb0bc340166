//! Property tests: random sequences of commands by random people (valid or not)
//! never panic, keep every invariant, only make legal transitions, never leak a
//! hidden vote into any view, and always show the stats of the revealed votes.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::deck::{DeckKind, DeckSpec};
use super::state::{
    Command, Event, NewRoom, Permission, Phase, PresenceChange, Role, RoomState, Settings,
};
use super::stories::{NewStory, StoryId};
use super::{ParticipantId, Timestamp, stats, view_for};

/// Everyone who may act, plus `zz`, who never joins.
const PEOPLE: &[&str] = &["h", "a", "b", "c", "d", "zz"];
/// Cards of every deck, plus cards no deck has and untrimmed ones.
const CARDS: &[&str] = &[
    "0", "½", "1", "2", "3", "5", "8", "13", "20", "21", "89", "100", "64", "XS", "M", "XL", "?",
    "☕", "∞", "🐜", "🐕", "4", "nope", " 5 ", "",
];
/// Names and topics never equal a card label, so a card found in a view's JSON
/// can only have come from a vote.
const NAMES: &[&str] = &[
    "Ann",
    "Ben",
    "  Cleo ",
    "Dee",
    "",
    "bad\nname",
    "Zoë Ødegaard",
];
const TOPICS: &[&str] = &["Login page", "", "   ", "Checkout\nflow"];
/// Story ids (a small pool, so commands hit existing stories and clash on adds).
const STORIES: &[&str] = &["s1", "s2", "s3", "s4", "s5"];
/// Story titles, never a card label (like names and topics).
const TITLES: &[&str] = &["Sign up", "Search", "", "Export report"];

fn story() -> impl Strategy<Value = StoryId> {
    select(STORIES).prop_map(StoryId::from)
}

fn new_stories() -> impl Strategy<Value = Vec<NewStory>> {
    prop::collection::vec((story(), text(TITLES)), 0..4).prop_map(|items| {
        items
            .into_iter()
            .map(|(id, title)| NewStory {
                id,
                title,
                key: None,
                url: None,
                kind: None,
            })
            .collect()
    })
}

fn person() -> impl Strategy<Value = ParticipantId> {
    select(PEOPLE).prop_map(ParticipantId::from)
}

fn card() -> impl Strategy<Value = String> {
    select(CARDS).prop_map(String::from)
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![3 => Just(Role::Voter), 1 => Just(Role::Spectator)]
}

fn permission() -> impl Strategy<Value = Permission> {
    prop_oneof![Just(Permission::Hosts), Just(Permission::Everyone)]
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        permission(),
        permission(),
        permission(),
        permission(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(reveal, reset, next_round, edit_topic, auto_reveal, allow_spectators)| Settings {
                reveal,
                reset,
                next_round,
                edit_topic,
                auto_reveal,
                allow_spectators,
            },
        )
}

fn deck_spec() -> impl Strategy<Value = DeckSpec> {
    let kind = select(
        &[
            DeckKind::Fibonacci,
            DeckKind::ModifiedFibonacci,
            DeckKind::TShirt,
            DeckKind::PowersOfTwo,
            DeckKind::Custom,
        ][..],
    );
    let custom = prop::collection::vec(select(&["🐜", "🐕", "1", "2", "?", " M ", ""][..]), 0..5);
    (kind, custom, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(kind, custom, question, coffee, infinity)| DeckSpec {
            kind,
            custom: custom.into_iter().map(String::from).collect(),
            question,
            coffee,
            infinity,
        },
    )
}

fn text(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    select(pool).prop_map(String::from)
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        10 => (person(), card()).prop_map(|(by, card)| Command::Vote { by, card }),
        2 => person().prop_map(|by| Command::ClearVote { by }),
        4 => (person(), text(NAMES), role())
            .prop_map(|(participant, name, role)| Command::Join { participant, name, role }),
        1 => person().prop_map(|by| Command::Leave { by }),
        3 => (person(), select(&[PresenceChange::Online, PresenceChange::Away, PresenceChange::Gone][..]))
            .prop_map(|(participant, presence)| Command::SetPresence { participant, presence }),
        2 => (person(), person(), role())
            .prop_map(|(by, participant, role)| Command::SetRole { by, participant, role }),
        1 => (person(), text(NAMES)).prop_map(|(by, name)| Command::SetName { by, name }),
        1 => (person(), person()).prop_map(|(by, participant)| Command::Kick { by, participant }),
        1 => (person(), person(), any::<bool>())
            .prop_map(|(by, participant, co_host)| Command::SetCoHost { by, participant, co_host }),
        1 => (person(), person()).prop_map(|(by, to)| Command::TransferHost { by, to }),
        1 => (person(), text(TOPICS)).prop_map(|(by, name)| Command::RenameRoom { by, name }),
        1 => (person(), any::<bool>()).prop_map(|(by, locked)| Command::Lock { by, locked }),
        1 => (person(), settings()).prop_map(|(by, settings)| Command::UpdateSettings { by, settings }),
        1 => (person(), deck_spec(), any::<bool>())
            .prop_map(|(by, deck, reset_votes)| Command::ChangeDeck { by, deck, reset_votes }),
        1 => (person(), text(TOPICS)).prop_map(|(by, topic)| Command::SetTopic { by, topic }),
        3 => person().prop_map(|by| Command::Reveal { by }),
        2 => person().prop_map(|by| Command::Reset { by }),
        2 => (person(), card()).prop_map(|(by, estimate)| Command::RecordEstimate { by, estimate }),
        3 => (person(), prop::option::of(text(TOPICS)))
            .prop_map(|(by, topic)| Command::NextRound { by, topic }),
        1 => (person(), prop::option::of(prop_oneof![Just(0u32), 5u32..=3_600, Just(4_000)]))
            .prop_map(|(by, duration_secs)| Command::SetTimer { by, duration_secs }),
        1 => person().prop_map(|by| Command::StartTimer { by }),
        1 => person().prop_map(|by| Command::StopTimer { by }),
        3 => Just(Command::Tick),
        2 => (person(), new_stories()).prop_map(|(by, stories)| Command::AddStories { by, stories }),
        1 => (person(), story(), text(TITLES))
            .prop_map(|(by, story, title)| Command::EditStory { by, story, title, key: None, url: None }),
        1 => (person(), story(), 0usize..6).prop_map(|(by, story, to)| Command::MoveStory { by, story, to }),
        1 => (person(), story()).prop_map(|(by, story)| Command::RemoveStory { by, story }),
        2 => (person(), story()).prop_map(|(by, story)| Command::PlayStory { by, story }),
        1 => person().prop_map(|by| Command::SkipStory { by }),
    ]
}

/// A command with the milliseconds that pass before it.
fn steps() -> impl Strategy<Value = Vec<(Command, u64)>> {
    prop::collection::vec((command(), 0u64..45_000), 1..80)
}

fn start(settings: Settings, deck: DeckSpec) -> RoomState {
    let setup = NewRoom {
        settings,
        deck,
        ..NewRoom::new("h".into(), "Hana")
    };
    RoomState::new(setup.clone(), Timestamp(0))
        .or_else(|_| {
            RoomState::new(
                NewRoom {
                    deck: DeckSpec::default(),
                    ..setup
                },
                Timestamp(0),
            )
        })
        .expect("the default deck is valid")
}

/// Is `before → after` one of the transitions listed in `state.rs`, announced by
/// the matching event?
fn check_transition(before: &RoomState, after: &RoomState, events: &[Event]) -> Result<(), String> {
    let (b, a) = (before.round(), after.round());
    let has = |wanted: &dyn Fn(&Event) -> bool| events.iter().any(wanted);
    let legal = if a.number() == b.number() {
        match (b.phase(), a.phase()) {
            (Phase::Voting, Phase::Voting)
            | (Phase::Revealed, Phase::Revealed)
            | (Phase::Completed, Phase::Completed) => true,
            (Phase::Voting, Phase::Revealed) => has(&|e| matches!(e, Event::Revealed { .. })),
            (Phase::Revealed, Phase::Voting) => has(&|e| matches!(e, Event::VotesCleared { .. })),
            (Phase::Revealed, Phase::Completed) => {
                has(&|e| matches!(e, Event::RoundCompleted { .. }))
            }
            _ => false,
        }
    } else {
        a.number() == b.number() + 1
            && b.phase() != Phase::Voting
            && a.phase() == Phase::Voting
            && has(&|e| matches!(e, Event::RoundStarted { round } if *round == a.number()))
    };
    if !legal {
        return Err(format!(
            "illegal transition {:?}#{} → {:?}#{} ({events:?})",
            b.phase(),
            b.number(),
            a.phase(),
            a.number()
        ));
    }
    // Revealed votes are frozen: they can only disappear with their owner.
    if b.phase() == Phase::Revealed && a.phase() == Phase::Revealed {
        for (who, card) in a.votes() {
            if b.votes().get(who) != Some(card) {
                return Err(format!("revealed vote of {who} changed"));
            }
        }
    }
    Ok(())
}

/// With auto-reveal on, a voting round with votes still waits for a present voter.
fn check_auto_reveal(state: &RoomState, now: Timestamp) -> Result<(), String> {
    let round = state.round();
    if !state.settings().auto_reveal || round.phase() != Phase::Voting || round.votes().is_empty() {
        return Ok(());
    }
    let waiting = state
        .participants()
        .iter()
        .any(|p| p.role == Role::Voter && p.is_present(now) && !round.votes().contains_key(&p.id));
    if waiting {
        Ok(())
    } else {
        Err("every present voter voted but the round was not revealed".into())
    }
}

/// No view shows anyone's hidden card to anyone else, and revealed views show the
/// stats of exactly the cards they show.
fn check_views(state: &RoomState, now: Timestamp) -> Result<(), String> {
    let round = state.round();
    let viewers = std::iter::once(None).chain(PEOPLE.iter().map(|p| Some(ParticipantId::from(*p))));
    let frames = super::frame::ViewFrames::new(state, now).map_err(|e| e.to_string())?;
    for viewer in viewers {
        let view = view_for(state, viewer.as_ref(), now);
        if let Some(v) = &viewer {
            // The broadcast's spliced frame is exactly the whole view's.
            let whole = super::frame::view_frame(&view).map_err(|e| e.to_string())?;
            let spliced = frames.frame_for(state, v).map_err(|e| e.to_string())?;
            if spliced != whole {
                return Err(format!(
                    "spliced frame for {v}:\n{spliced}\nwhole:\n{whole}"
                ));
            }
        }
        let mut json = serde_json::to_value(&view).map_err(|e| e.to_string())?;
        let viewer_seat = viewer.as_ref().filter(|v| state.participant(v).is_some());

        if round.phase() == Phase::Voting {
            if view.stats.is_some() {
                return Err("stats before reveal".into());
            }
            // Entry by entry: nobody else's card.
            let entries = json["participants"].as_array().cloned().unwrap_or_default();
            for entry in &entries {
                let mine = viewer_seat.is_some_and(|v| entry["id"] == v.0.as_str());
                if !mine && !entry["card"].is_null() {
                    return Err(format!("{viewer:?} sees a hidden card in {entry}"));
                }
            }
            // Whole document: with the public deck, history and the viewer's own
            // seat removed, no hidden card of anyone else appears anywhere.
            if let Some(map) = json.as_object_mut() {
                for key in ["deck", "deck_spec", "next_deck", "history", "viewer"] {
                    map.remove(key);
                }
            }
            if let Some(entries) = json["participants"].as_array_mut() {
                entries.retain(|e| !viewer_seat.is_some_and(|v| e["id"] == v.0.as_str()));
            }
            let text = json.to_string();
            for (owner, card) in round.votes() {
                if Some(owner) == viewer_seat {
                    continue;
                }
                let quoted = Value::from(card.as_str()).to_string();
                if text.contains(&quoted) {
                    return Err(format!(
                        "{viewer:?} can find {owner}'s hidden {quoted} in {text}"
                    ));
                }
            }
            // The viewer still gets their own card.
            if let Some(me) = viewer_seat {
                let own = view.viewer.as_ref().and_then(|v| v.card.as_ref());
                if own != round.votes().get(me) {
                    return Err(format!("{me} does not see their own card"));
                }
            }
        } else {
            let shown: Vec<(ParticipantId, String)> = view
                .participants
                .iter()
                .filter_map(|p| p.card.clone().map(|c| (p.id.clone(), c)))
                .collect();
            // A revealed round's stats come from the cards on the table; a completed
            // round's from its history entry, which keeps the votes of people who
            // have left since (every card still shown must be among them).
            let expected = match round.phase() {
                Phase::Completed => {
                    let Some(entry) = state.history().last() else {
                        return Err("a completed round without its history entry".into());
                    };
                    for (p, c) in &shown {
                        if !entry
                            .votes
                            .iter()
                            .any(|v| &v.participant == p && &v.card == c)
                        {
                            return Err(format!("{p}'s shown {c} is not in the history"));
                        }
                    }
                    stats::compute(
                        &entry.deck,
                        entry
                            .votes
                            .iter()
                            .map(|v| (&v.participant, v.card.as_str())),
                    )
                }
                _ => stats::compute(round.deck(), shown.iter().map(|(p, c)| (p, c.as_str()))),
            };
            if view.stats.as_ref() != Some(&expected) {
                return Err(format!(
                    "stats {:?} differ from the shown votes' {expected:?}",
                    view.stats
                ));
            }
            let counted: usize = expected.distribution.iter().map(|c| c.count).sum();
            if counted != expected.votes {
                return Err("the distribution does not add up".into());
            }
        }
    }
    Ok(())
}

fn run(
    settings: Settings,
    deck: DeckSpec,
    steps: Vec<(Command, u64)>,
) -> Result<(), TestCaseError> {
    let mut state = start(settings, deck);
    let mut now = Timestamp(0);
    // Auto-reveal is decided when a command is applied; a refused command changes
    // nothing, so the rule is checked at the time of the last accepted one.
    let mut last_applied = now;
    for (command, wait) in steps {
        now = Timestamp(now.0 + wait);
        match state.apply(command.clone(), now) {
            Ok((next, events)) => {
                let problems = next.invariant_violations();
                prop_assert!(problems.is_empty(), "after {command:?}: {problems:?}");
                check_transition(&state, &next, &events)
                    .map_err(|e| TestCaseError::fail(format!("after {command:?}: {e}")))?;
                // ...and never reveals early: an automatic reveal means every present
                // voter had voted.
                if events
                    .iter()
                    .any(|e| matches!(e, Event::Revealed { auto: true, .. }))
                {
                    prop_assert!(next.settings().auto_reveal);
                    let holdout = next.participants().iter().find(|p| {
                        p.role == Role::Voter
                            && p.is_present(now)
                            && !next.round().votes().contains_key(&p.id)
                    });
                    prop_assert!(
                        holdout.is_none(),
                        "auto-revealed while {holdout:?} had not voted"
                    );
                }
                state = next;
                last_applied = now;
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
        check_auto_reveal(&state, last_applied).map_err(TestCaseError::fail)?;
        check_views(&state, now).map_err(TestCaseError::fail)?;
        // Views computed later (presence decays) stay safe too.
        check_views(&state, now.plus_secs(60)).map_err(TestCaseError::fail)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_sessions_keep_every_rule(settings in settings(), deck in deck_spec(), steps in steps()) {
        run(settings, deck, steps)?;
    }

    /// Mostly votes, with auto-reveal on: the path most likely to leak.
    #[test]
    fn vote_heavy_sessions_with_auto_reveal(
        steps in prop::collection::vec(
            (prop_oneof![
                3 => (person(), card()).prop_map(|(by, card)| Command::Vote { by, card }),
                1 => (person(), text(NAMES), role())
                    .prop_map(|(participant, name, role)| Command::Join { participant, name, role }),
                1 => person().prop_map(|by| Command::Reveal { by }),
                1 => person().prop_map(|by| Command::NextRound { by, topic: None }),
                1 => (person(), select(&[PresenceChange::Online, PresenceChange::Away, PresenceChange::Gone][..]))
                    .prop_map(|(participant, presence)| Command::SetPresence { participant, presence }),
                1 => Just(Command::Tick),
            ], 0u64..20_000),
            1..60,
        )
    ) {
        let settings = Settings { auto_reveal: true, ..Settings::default() };
        run(settings, DeckSpec::new(DeckKind::ModifiedFibonacci).with_question(true).with_infinity(true), steps)?;
    }

    /// `stats::compute` ignores vote order and its counts add up.
    #[test]
    fn stats_are_order_independent(
        deck in deck_spec(),
        cards in prop::collection::vec(card(), 0..12),
    ) {
        let Ok(deck) = crate::room::Deck::new(deck) else { return Ok(()) };
        let ids: Vec<ParticipantId> = (0..cards.len()).map(|i| format!("p{i:02}").into()).collect();
        let forward = stats::compute(&deck, ids.iter().zip(cards.iter().map(String::as_str)));
        let backward = stats::compute(&deck, ids.iter().zip(cards.iter().map(String::as_str)).rev());
        prop_assert_eq!(&forward, &backward);
        prop_assert_eq!(forward.votes, cards.len());
        prop_assert!(forward.numeric_votes <= forward.votes);
        if let (Some(min), Some(max), Some(avg), Some(median)) = (forward.min, forward.max, forward.average, forward.median) {
            prop_assert!(min - 1e-9 <= avg && avg <= max + 1e-9);
            prop_assert!(min <= median && median <= max);
        }
        if let Some(agreement) = forward.agreement {
            prop_assert!((0.0..=100.0).contains(&agreement));
        }
    }
}

/// Renders every fragment of `state` at `now`: the shared one (per language) and
/// each seat's personal one, keyed by viewer.
fn fragments(
    renderer: &crate::render::Renderer,
    state: &RoomState,
    now: Timestamp,
) -> (Vec<String>, Vec<(ParticipantId, String)>) {
    use crate::i18n::Lang;
    let meta = crate::render::RoomMeta {
        code: "ROOMCODE",
        // Fixed: the expiry is public and derived from activity, not from cards.
        expires: Timestamp(86_400_000),
        now,
        webhook: None,
    };
    let anonymous = view_for(state, None, now);
    let shared = Lang::ALL
        .iter()
        .map(|lang| {
            renderer
                .shared(&anonymous, &meta, *lang)
                .expect("shared renders")
        })
        .collect();
    let personal = state
        .participants()
        .iter()
        .map(|p| {
            let view = view_for(state, Some(&p.id), now);
            let html = renderer
                .personal(&view, &meta, Lang::En)
                .expect("personal renders");
            (p.id.clone(), html)
        })
        .collect();
    (shared, personal)
}

static RENDERER: std::sync::LazyLock<crate::render::Renderer> = std::sync::LazyLock::new(|| {
    crate::render::Renderer::new(crate::assets::embedded().urls()).expect("templates parse")
});

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Changing any hidden vote to one card or to another makes the same bytes
    /// of the shared fragment and of everyone else's personal fragment (the
    /// "changed" mark says that it changed, never to what): no hidden card can
    /// leak into HTML.
    #[test]
    fn hidden_votes_never_reach_other_peoples_html(
        settings in settings(),
        deck in deck_spec(),
        steps in steps(),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut state = start(settings, deck);
        let mut now = Timestamp(0);
        for (command, wait) in steps {
            now = Timestamp(now.0 + wait);
            if let Ok((next, _)) = state.apply(command, now) {
                state = next;
            }
        }
        // Settle the room at `now`: time may have moved past the last accepted
        // command, so an away voter's grace may have run out and auto-reveal be due.
        if let Ok((next, _)) = state.apply(Command::Tick, now) {
            state = next;
        }
        prop_assume!(state.round().phase() == Phase::Voting && !state.round().votes().is_empty());
        let cards: Vec<String> = state.round().deck().cards().iter().map(|c| c.label.clone()).collect();
        let revote = |owner: &ParticipantId, card: &String| {
            state
                .apply(Command::Vote { by: owner.clone(), card: card.clone() }, now)
                .map_err(|e| TestCaseError::fail(format!("revote {owner} {card}: {e}")))
        };
        for (owner, card) in state.round().votes().clone() {
            let others: Vec<&String> = cards.iter().filter(|c| **c != card).collect();
            prop_assume!(others.len() >= 2);
            let first = pick.index(others.len());
            let (one, two) = (others[first], others[(first + 1) % others.len()]);
            let (changed, _) = revote(&owner, one)?;
            let (other, _) = revote(&owner, two)?;
            prop_assert_eq!(changed.round().phase(), Phase::Voting);
            prop_assert!(changed.round().changed_votes().contains(&owner));
            let (shared, personal) = fragments(&RENDERER, &changed, now);
            let (shared2, personal2) = fragments(&RENDERER, &other, now);
            prop_assert_eq!(&shared, &shared2, "{} changed {} to {} or {}", owner, card, one, two);
            for ((viewer, before), (_, after)) in personal.iter().zip(personal2.iter()) {
                if viewer != &owner {
                    prop_assert_eq!(before, after, "{}'s hand changed with {}'s card", viewer, owner);
                } else {
                    prop_assert_ne!(before, after, "the owner sees their own new card");
                }
            }
        }
    }
}
