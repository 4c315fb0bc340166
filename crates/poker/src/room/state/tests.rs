//! Scenario tests: one per command and per error, each read as "room, command →
//! events or error".

use super::*;
use crate::room::deck::DeckKind;
use crate::room::view_for;

fn id(s: &str) -> ParticipantId {
    ParticipantId::from(s)
}

/// A room at a known time: host `h` (Hana), voters `a` (Ann) and `b` (Ben), and
/// spectator `s` (Sam), all online; every command advances the clock by 1 ms.
struct Room {
    state: RoomState,
    now: u64,
}

impl Room {
    fn new() -> Self {
        Self::with(Settings::default())
    }

    fn with(settings: Settings) -> Self {
        let setup = NewRoom::new(id("h"), "Hana");
        let mut room = Self {
            state: RoomState::new(setup, Timestamp(1_000)).unwrap(),
            now: 1_000,
        };
        room.ok(join("a", "Ann", Role::Voter));
        room.ok(join("b", "Ben", Role::Voter));
        room.ok(join("s", "Sam", Role::Spectator));
        room.ok(Command::UpdateSettings {
            by: id("h"),
            settings,
        });
        room
    }

    fn at(&self) -> Timestamp {
        Timestamp(self.now)
    }

    fn ok(&mut self, command: Command) -> Vec<Event> {
        self.now += 1;
        let (state, events) = self
            .state
            .apply(command.clone(), self.at())
            .unwrap_or_else(|e| panic!("{command:?} failed: {e}"));
        assert_eq!(state.invariant_violations(), Vec::<String>::new());
        self.state = state;
        events
    }

    fn err(&mut self, command: Command) -> RoomError {
        self.now += 1;
        match self.state.apply(command.clone(), self.at()) {
            Ok(_) => panic!("{command:?} should have failed"),
            Err(e) => e,
        }
    }

    fn phase(&self) -> Phase {
        self.state.round().phase()
    }

    fn votes(&self) -> Vec<(&str, &str)> {
        self.state
            .round()
            .votes()
            .iter()
            .map(|(k, v)| (k.0.as_str(), v.as_str()))
            .collect()
    }

    fn p(&self, who: &str) -> &Participant {
        self.state.participant(&id(who)).unwrap()
    }

    /// Ann votes 3, Ben votes 5, then Hana reveals.
    fn revealed(mut self) -> Self {
        self.ok(vote("a", "3"));
        self.ok(vote("b", "5"));
        self.ok(Command::Reveal { by: id("h") });
        self
    }
}

fn join(who: &str, name: &str, role: Role) -> Command {
    Command::Join {
        participant: id(who),
        name: name.into(),
        role,
    }
}

fn vote(by: &str, card: &str) -> Command {
    Command::Vote {
        by: id(by),
        card: card.into(),
    }
}

fn by(who: &str) -> ParticipantId {
    id(who)
}

fn hosts_only() -> Settings {
    Settings {
        reveal: Permission::Hosts,
        reset: Permission::Hosts,
        next_round: Permission::Hosts,
        edit_topic: Permission::Hosts,
        ..Settings::default()
    }
}

fn auto() -> Settings {
    Settings {
        auto_reveal: true,
        ..Settings::default()
    }
}

fn unknown(who: &str) -> RoomError {
    RoomError::UnknownParticipant {
        participant: id(who),
    }
}

fn not_allowed(action: Action) -> RoomError {
    RoomError::NotAllowed { action }
}

// --- creation -------------------------------------------------------------------

#[test]
fn a_new_room_has_its_creator_as_host_in_round_one() {
    let state = RoomState::new(
        NewRoom {
            name: Some("  Sprint 42 ".into()),
            deck: DeckSpec::new(DeckKind::TShirt),
            host_role: Role::Spectator,
            ..NewRoom::new(id("h"), " Hana ")
        },
        Timestamp(5),
    )
    .unwrap();
    assert_eq!(state.name(), Some("Sprint 42"));
    assert_eq!(state.host(), &id("h"));
    assert_eq!(state.participants().len(), 1);
    assert_eq!(state.participants()[0].name, "Hana");
    assert_eq!(state.participants()[0].role, Role::Spectator);
    assert_eq!(state.round().number(), 1);
    assert_eq!(state.round().phase(), Phase::Voting);
    assert!(state.round().deck().contains("XL"));
    assert_eq!(state.last_activity(), Timestamp(5));
    assert!(state.invariant_violations().is_empty());
}

#[test]
fn a_new_room_validates_its_inputs() {
    let bad_name = RoomState::new(NewRoom::new(id("h"), " "), Timestamp(0));
    assert_eq!(bad_name, Err(RoomError::InvalidName { max: 32 }));
    let bad_deck = RoomState::new(
        NewRoom {
            deck: DeckSpec::custom(Vec::<String>::new()),
            ..NewRoom::new(id("h"), "Hana")
        },
        Timestamp(0),
    );
    assert_eq!(bad_deck, Err(RoomError::InvalidDeck(DeckError::Empty)));
    let long_room = RoomState::new(
        NewRoom {
            name: Some("x".repeat(65)),
            ..NewRoom::new(id("h"), "Hana")
        },
        Timestamp(0),
    );
    assert_eq!(long_room, Err(RoomError::InvalidRoomName { max: 64 }));
}

// --- people ---------------------------------------------------------------------

#[test]
fn join_adds_a_participant_in_join_order() {
    let mut room = Room::new();
    let events = room.ok(join("c", "  Cleo  ", Role::Voter));
    assert_eq!(
        events,
        [Event::Joined {
            participant: id("c")
        }]
    );
    let ids: Vec<&str> = room
        .state
        .participants()
        .iter()
        .map(|p| p.id.0.as_str())
        .collect();
    assert_eq!(ids, ["h", "a", "b", "s", "c"]);
    assert_eq!(room.p("c").name, "Cleo");
    assert_eq!(room.p("c").presence, Presence::Online);
    assert!(!room.p("c").co_host);
}

#[test]
fn join_refuses_a_taken_seat() {
    let mut room = Room::new();
    assert_eq!(
        room.err(join("a", "Again", Role::Voter)),
        RoomError::AlreadyJoined {
            participant: id("a")
        }
    );
}

#[test]
fn join_refuses_bad_names() {
    let mut room = Room::new();
    for name in ["", "   ", &"n".repeat(33), "a\u{0}b", "tab\there"] {
        assert_eq!(
            room.err(join("c", name, Role::Voter)),
            RoomError::InvalidName { max: 32 },
            "{name:?}"
        );
    }
    room.ok(join("c", &"é".repeat(32), Role::Voter));
}

#[test]
fn join_refuses_when_locked() {
    let mut room = Room::new();
    assert_eq!(
        room.ok(Command::Lock {
            by: by("h"),
            locked: true
        }),
        [Event::LockChanged { locked: true }]
    );
    assert_eq!(
        room.err(join("c", "Cleo", Role::Voter)),
        RoomError::RoomLocked
    );
    room.ok(Command::Lock {
        by: by("h"),
        locked: false,
    });
    room.ok(join("c", "Cleo", Role::Voter));
}

#[test]
fn join_refuses_when_full() {
    let mut room = Room::new();
    for i in room.state.participants().len()..MAX_PARTICIPANTS {
        room.ok(join(&format!("x{i}"), "X", Role::Voter));
    }
    assert_eq!(
        room.err(join("late", "Late", Role::Voter)),
        RoomError::RoomFull { max: 100 }
    );
}

#[test]
fn join_as_spectator_needs_spectators_allowed() {
    let mut room = Room::with(Settings {
        allow_spectators: false,
        ..Settings::default()
    });
    assert_eq!(
        room.err(join("c", "Cleo", Role::Spectator)),
        RoomError::SpectatorsNotAllowed
    );
    room.ok(join("c", "Cleo", Role::Voter));
}

#[test]
fn leave_removes_the_participant_and_their_vote() {
    let mut room = Room::new();
    room.ok(vote("a", "3"));
    let events = room.ok(Command::Leave { by: by("a") });
    assert_eq!(
        events,
        [
            Event::VoteCleared {
                participant: id("a")
            },
            Event::Left {
                participant: id("a")
            }
        ]
    );
    assert!(room.state.participant(&id("a")).is_none());
    assert!(room.votes().is_empty());
}

#[test]
fn the_host_cannot_leave_and_strangers_cannot_either() {
    let mut room = Room::new();
    assert_eq!(
        room.err(Command::Leave { by: by("h") }),
        RoomError::HostCannotLeave
    );
    assert_eq!(room.err(Command::Leave { by: by("zz") }), unknown("zz"));
}

#[test]
fn presence_goes_online_away_gone() {
    let mut room = Room::new();
    let away = room.ok(Command::SetPresence {
        participant: id("a"),
        presence: PresenceChange::Away,
    });
    let since = room.at();
    assert_eq!(
        away,
        [Event::PresenceChanged {
            participant: id("a"),
            presence: Presence::Away { since }
        }]
    );
    // A second tab closing later keeps the first "since".
    let again = room.ok(Command::SetPresence {
        participant: id("a"),
        presence: PresenceChange::Away,
    });
    assert!(again.is_empty());
    assert_eq!(room.p("a").presence, Presence::Away { since });
    assert!(room.p("a").is_present(since.plus_secs(29)));
    assert!(!room.p("a").is_present(since.plus_secs(30)));
    room.ok(Command::SetPresence {
        participant: id("a"),
        presence: PresenceChange::Gone,
    });
    assert_eq!(room.p("a").presence, Presence::Gone);
    assert!(!room.p("a").is_present(room.at()));
    room.ok(Command::SetPresence {
        participant: id("a"),
        presence: PresenceChange::Online,
    });
    assert_eq!(room.p("a").presence, Presence::Online);
    assert_eq!(
        room.err(Command::SetPresence {
            participant: id("zz"),
            presence: PresenceChange::Online
        }),
        unknown("zz")
    );
}

#[test]
fn a_reconnect_keeps_the_seat_and_the_vote() {
    let mut room = Room::new();
    room.ok(vote("a", "8"));
    room.ok(Command::SetPresence {
        participant: id("a"),
        presence: PresenceChange::Gone,
    });
    room.ok(Command::SetPresence {
        participant: id("a"),
        presence: PresenceChange::Online,
    });
    assert_eq!(room.votes(), [("a", "8")]);
}

#[test]
fn switching_to_spectator_drops_the_vote() {
    let mut room = Room::new();
    room.ok(vote("a", "3"));
    let events = room.ok(Command::SetRole {
        by: by("a"),
        participant: id("a"),
        role: Role::Spectator,
    });
    assert_eq!(
        events,
        [
            Event::VoteCleared {
                participant: id("a")
            },
            Event::RoleChanged {
                participant: id("a"),
                role: Role::Spectator
            }
        ]
    );
    assert!(room.votes().is_empty());
    assert_eq!(room.err(vote("a", "3")), RoomError::SpectatorCannotVote);
    // Switching back lets them vote again; an unchanged role is a no-op.
    room.ok(Command::SetRole {
        by: by("a"),
        participant: id("a"),
        role: Role::Voter,
    });
    assert!(
        room.ok(Command::SetRole {
            by: by("a"),
            participant: id("a"),
            role: Role::Voter
        })
        .is_empty()
    );
    room.ok(vote("a", "3"));
}

#[test]
fn only_moderators_change_someone_elses_role() {
    let mut room = Room::new();
    assert_eq!(
        room.err(Command::SetRole {
            by: by("a"),
            participant: id("b"),
            role: Role::Spectator
        }),
        not_allowed(Action::ChangeRole)
    );
    room.ok(Command::SetRole {
        by: by("h"),
        participant: id("b"),
        role: Role::Spectator,
    });
    assert_eq!(room.p("b").role, Role::Spectator);
    room.ok(Command::SetCoHost {
        by: by("h"),
        participant: id("a"),
        co_host: true,
    });
    assert_eq!(
        room.err(Command::SetRole {
            by: by("a"),
            participant: id("h"),
            role: Role::Spectator
        }),
        not_allowed(Action::ChangeRole),
        "a co-host does not move the host"
    );
    assert_eq!(
        room.err(Command::SetRole {
            by: by("h"),
            participant: id("zz"),
            role: Role::Voter
        }),
        unknown("zz")
    );
}

#[test]
fn spectators_disabled_still_lets_moderators_watch() {
    let mut room = Room::with(Settings {
        allow_spectators: false,
        ..Settings::default()
    });
    assert_eq!(
        room.err(Command::SetRole {
            by: by("a"),
            participant: id("a"),
            role: Role::Spectator
        }),
        RoomError::SpectatorsNotAllowed
    );
    room.ok(Command::SetRole {
        by: by("h"),
        participant: id("h"),
        role: Role::Spectator,
    });
}

#[test]
fn losing_the_last_revealed_vote_reopens_voting() {
    let mut room = Room::new();
    room.ok(vote("a", "3"));
    room.ok(Command::Reveal { by: by("a") });
    let events = room.ok(Command::SetRole {
        by: by("a"),
        participant: id("a"),
        role: Role::Spectator,
    });
    assert!(events.contains(&Event::VotesCleared { round: 1 }));
    assert_eq!(room.phase(), Phase::Voting);
    assert_eq!(room.state.round().revealed_at(), None);
}

#[test]
fn set_name_renames_oneself() {
    let mut room = Room::new();
    assert_eq!(
        room.ok(Command::SetName {
            by: by("a"),
            name: " Annie ".into()
        }),
        [Event::Renamed {
            participant: id("a")
        }]
    );
    assert_eq!(room.p("a").name, "Annie");
    assert!(
        room.ok(Command::SetName {
            by: by("a"),
            name: "Annie".into()
        })
        .is_empty()
    );
    assert_eq!(
        room.err(Command::SetName {
            by: by("a"),
            name: "".into()
        }),
        RoomError::InvalidName { max: 32 }
    );
    assert_eq!(
        room.err(Command::SetName {
            by: by("zz"),
            name: "Z".into()
        }),
        unknown("zz")
    );
}

#[test]
fn moderators_kick_and_the_vote_goes_too() {
    let mut room = Room::new();
    room.ok(vote("b", "5"));
    let events = room.ok(Command::Kick {
        by: by("h"),
        participant: id("b"),
    });
    assert_eq!(
        events,
        [
            Event::VoteCleared {
                participant: id("b")
            },
            Event::Kicked {
                participant: id("b")
            }
        ]
    );
    assert!(room.state.participant(&id("b")).is_none());
    assert!(room.votes().is_empty());
}

#[test]
fn kick_rules() {
    let mut room = Room::new();
    assert_eq!(
        room.err(Command::Kick {
            by: by("a"),
            participant: id("b")
        }),
        not_allowed(Action::Kick)
    );
    room.ok(Command::SetCoHost {
        by: by("h"),
        participant: id("a"),
        co_host: true,
    });
    room.ok(Command::SetCoHost {
        by: by("h"),
        participant: id("b"),
        co_host: true,
    });
    // Nobody kicks the host; co-hosts don't kick each other; nobody kicks themselves.
    assert_eq!(
        room.err(Command::Kick {
            by: by("a"),
            participant: id("h")
        }),
        not_allowed(Action::Kick)
    );
    assert_eq!(
        room.err(Command::Kick {
            by: by("a"),
            participant: id("b")
        }),
        not_allowed(Action::Kick)
    );
    assert_eq!(
        room.err(Command::Kick {
            by: by("h"),
            participant: id("h")
        }),
        RoomError::SelfTarget {
            action: Action::Kick
        }
    );
    assert_eq!(
        room.err(Command::Kick {
            by: by("h"),
            participant: id("zz")
        }),
        unknown("zz")
    );
    // A co-host kicks a spectator; the host kicks a co-host.
    room.ok(Command::Kick {
        by: by("a"),
        participant: id("s"),
    });
    room.ok(Command::Kick {
        by: by("h"),
        participant: id("b"),
    });
    assert_eq!(room.state.participants().len(), 2);
}

#[test]
fn the_host_names_and_removes_co_hosts() {
    let mut room = Room::with(hosts_only());
    assert_eq!(
        room.ok(Command::SetCoHost {
            by: by("h"),
            participant: id("a"),
            co_host: true
        }),
        [Event::CoHostChanged {
            participant: id("a"),
            co_host: true
        }]
    );
    assert!(room.state.is_moderator(&id("a")));
    room.ok(vote("b", "5"));
    room.ok(Command::Reveal { by: by("a") });
    // A co-host cannot manage co-hosts.
    assert_eq!(
        room.err(Command::SetCoHost {
            by: by("a"),
            participant: id("b"),
            co_host: true
        }),
        not_allowed(Action::ManageCoHosts)
    );
    assert_eq!(
        room.err(Command::SetCoHost {
            by: by("h"),
            participant: id("h"),
            co_host: true
        }),
        RoomError::SelfTarget {
            action: Action::ManageCoHosts
        }
    );
    room.ok(Command::SetCoHost {
        by: by("h"),
        participant: id("a"),
        co_host: false,
    });
    assert!(!room.state.is_moderator(&id("a")));
    assert_eq!(
        room.err(Command::Reset { by: by("a") }),
        not_allowed(Action::Reset)
    );
}

#[test]
fn transfer_host_makes_the_old_host_a_co_host() {
    let mut room = Room::new();
    room.ok(Command::SetCoHost {
        by: by("h"),
        participant: id("a"),
        co_host: true,
    });
    let events = room.ok(Command::TransferHost {
        by: by("h"),
        to: id("a"),
    });
    assert_eq!(
        events,
        [Event::HostTransferred {
            from: id("h"),
            to: id("a")
        }]
    );
    assert_eq!(room.state.host(), &id("a"));
    assert!(!room.p("a").co_host);
    assert!(room.p("h").co_host);
    // The old host lost the host-only rights but can now leave.
    assert_eq!(
        room.err(Command::TransferHost {
            by: by("h"),
            to: id("b")
        }),
        not_allowed(Action::TransferHost)
    );
    room.ok(Command::Leave { by: by("h") });
}

#[test]
fn transfer_host_errors() {
    let mut room = Room::new();
    assert_eq!(
        room.err(Command::TransferHost {
            by: by("h"),
            to: id("h")
        }),
        RoomError::SelfTarget {
            action: Action::TransferHost
        }
    );
    assert_eq!(
        room.err(Command::TransferHost {
            by: by("h"),
            to: id("zz")
        }),
        unknown("zz")
    );
    assert_eq!(
        room.err(Command::TransferHost {
            by: by("zz"),
            to: id("a")
        }),
        unknown("zz")
    );
}

#[test]
fn rename_room() {
    let mut room = Room::new();
    assert_eq!(
        room.ok(Command::RenameRoom {
            by: by("h"),
            name: " Team A ".into()
        }),
        [Event::RoomRenamed]
    );
    assert_eq!(room.state.name(), Some("Team A"));
    room.ok(Command::RenameRoom {
        by: by("h"),
        name: "  ".into(),
    });
    assert_eq!(room.state.name(), None);
    assert_eq!(
        room.err(Command::RenameRoom {
            by: by("h"),
            name: "n".repeat(65)
        }),
        RoomError::InvalidRoomName { max: 64 }
    );
    assert_eq!(
        room.err(Command::RenameRoom {
            by: by("a"),
            name: "Mine".into()
        }),
        not_allowed(Action::RenameRoom)
    );
}

#[test]
fn lock_is_for_moderators() {
    let mut room = Room::new();
    assert_eq!(
        room.err(Command::Lock {
            by: by("a"),
            locked: true
        }),
        not_allowed(Action::Lock)
    );
    assert!(
        room.ok(Command::Lock {
            by: by("h"),
            locked: false
        })
        .is_empty()
    );
}

#[test]
fn only_the_host_changes_settings() {
    let mut room = Room::new();
    room.ok(Command::SetCoHost {
        by: by("h"),
        participant: id("a"),
        co_host: true,
    });
    assert_eq!(
        room.err(Command::UpdateSettings {
            by: by("a"),
            settings: hosts_only()
        }),
        not_allowed(Action::ChangeSettings)
    );
    assert_eq!(
        room.ok(Command::UpdateSettings {
            by: by("h"),
            settings: hosts_only()
        }),
        [Event::SettingsChanged]
    );
    assert_eq!(room.state.settings(), &hosts_only());
    assert!(
        room.ok(Command::UpdateSettings {
            by: by("h"),
            settings: hosts_only()
        })
        .is_empty()
    );
}

// --- deck -------------------------------------------------------------------------

#[test]
fn change_deck_before_anyone_votes_applies_at_once() {
    let mut room = Room::new();
    let events = room.ok(Command::ChangeDeck {
        by: by("h"),
        deck: DeckSpec::new(DeckKind::TShirt),
        reset_votes: false,
    });
    assert_eq!(events, [Event::DeckChanged]);
    assert!(room.state.round().deck().contains("XL"));
    room.ok(vote("a", "XL"));
    assert_eq!(
        room.err(vote("a", "5")),
        RoomError::UnknownCard { card: "5".into() }
    );
}

#[test]
fn change_deck_with_votes_needs_a_reset() {
    let mut room = Room::new();
    room.ok(vote("a", "3"));
    let tshirt = DeckSpec::new(DeckKind::TShirt);
    assert_eq!(
        room.err(Command::ChangeDeck {
            by: by("h"),
            deck: tshirt.clone(),
            reset_votes: false
        }),
        RoomError::DeckChangeNeedsReset
    );
    let events = room.ok(Command::ChangeDeck {
        by: by("h"),
        deck: tshirt,
        reset_votes: true,
    });
    assert_eq!(
        events,
        [Event::VotesCleared { round: 1 }, Event::DeckChanged]
    );
    assert!(room.votes().is_empty());
    assert!(room.state.round().deck().contains("M"));
}

#[test]
fn change_deck_after_reveal_needs_a_reset_and_reopens_voting() {
    let mut room = Room::new().revealed();
    let powers = DeckSpec::new(DeckKind::PowersOfTwo);
    assert_eq!(
        room.err(Command::ChangeDeck {
            by: by("h"),
            deck: powers.clone(),
            reset_votes: false
        }),
        RoomError::DeckChangeNeedsReset
    );
    room.ok(Command::ChangeDeck {
        by: by("h"),
        deck: powers,
        reset_votes: true,
    });
    assert_eq!(room.phase(), Phase::Voting);
    assert_eq!(room.state.round().number(), 1);
    assert!(room.state.round().deck().contains("64"));
}

#[test]
fn change_deck_between_rounds_applies_to_the_next_round() {
    let mut room = Room::new().revealed();
    room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "5".into(),
    });
    room.ok(Command::ChangeDeck {
        by: by("h"),
        deck: DeckSpec::new(DeckKind::TShirt),
        reset_votes: false,
    });
    // The completed round keeps its deck; the room's deck is the new one.
    assert!(room.state.round().deck().contains("13"));
    assert!(room.state.deck().contains("XS"));
    room.ok(Command::NextRound {
        by: by("h"),
        topic: None,
    });
    assert!(room.state.round().deck().contains("XS"));
}

#[test]
fn change_deck_errors() {
    let mut room = Room::new();
    assert_eq!(
        room.err(Command::ChangeDeck {
            by: by("a"),
            deck: DeckSpec::default(),
            reset_votes: true
        }),
        not_allowed(Action::ChangeDeck)
    );
    assert_eq!(
        room.err(Command::ChangeDeck {
            by: by("h"),
            deck: DeckSpec::custom(["a", "a"]),
            reset_votes: true
        }),
        RoomError::InvalidDeck(DeckError::DuplicateCard { card: "a".into() })
    );
}

// --- rounds -----------------------------------------------------------------------

#[test]
fn set_topic() {
    let mut room = Room::new();
    assert_eq!(
        room.ok(Command::SetTopic {
            by: by("a"),
            topic: "  PROJ-12 login  ".into()
        }),
        [Event::TopicChanged { round: 1 }]
    );
    assert_eq!(room.state.round().topic(), Some("PROJ-12 login"));
    room.ok(Command::SetTopic {
        by: by("a"),
        topic: "multi\nline".into(),
    });
    assert_eq!(
        room.err(Command::SetTopic {
            by: by("a"),
            topic: "t".repeat(201)
        }),
        RoomError::TopicTooLong { max: 200 }
    );
    room.ok(Command::SetTopic {
        by: by("a"),
        topic: "".into(),
    });
    assert_eq!(room.state.round().topic(), None);
}

#[test]
fn set_topic_respects_permission_and_phase() {
    let mut room = Room::with(hosts_only());
    assert_eq!(
        room.err(Command::SetTopic {
            by: by("a"),
            topic: "x".into()
        }),
        not_allowed(Action::EditTopic)
    );
    let mut room = room.revealed();
    room.ok(Command::SetTopic {
        by: by("h"),
        topic: "after reveal".into(),
    });
    room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "3".into(),
    });
    assert_eq!(
        room.err(Command::SetTopic {
            by: by("h"),
            topic: "x".into()
        }),
        RoomError::WrongPhase {
            action: Action::EditTopic,
            phase: Phase::Completed
        }
    );
}

#[test]
fn vote_change_and_clear() {
    let mut room = Room::new();
    assert_eq!(
        room.ok(vote("a", " 3 ")),
        [Event::Voted {
            participant: id("a")
        }]
    );
    assert_eq!(room.votes(), [("a", "3")]);
    assert_eq!(
        room.ok(vote("a", "5")),
        [Event::Voted {
            participant: id("a")
        }]
    );
    assert!(room.ok(vote("a", "5")).is_empty(), "same card: no event");
    assert_eq!(room.votes(), [("a", "5")]);
    assert_eq!(
        room.ok(Command::ClearVote { by: by("a") }),
        [Event::VoteCleared {
            participant: id("a")
        }]
    );
    assert!(room.ok(Command::ClearVote { by: by("a") }).is_empty());
    assert!(room.votes().is_empty());
}

#[test]
fn vote_errors() {
    let mut room = Room::new();
    assert_eq!(
        room.err(vote("a", "4")),
        RoomError::UnknownCard { card: "4".into() }
    );
    assert_eq!(
        room.err(vote("a", "∞")),
        RoomError::UnknownCard { card: "∞".into() }
    );
    assert_eq!(room.err(vote("s", "3")), RoomError::SpectatorCannotVote);
    assert_eq!(room.err(vote("zz", "3")), unknown("zz"));
    assert_eq!(
        room.err(Command::ClearVote { by: by("s") }),
        RoomError::SpectatorCannotVote
    );
    let mut room = room.revealed();
    assert_eq!(
        room.err(vote("a", "8")),
        RoomError::NotVoting {
            phase: Phase::Revealed
        }
    );
    assert_eq!(
        room.err(Command::ClearVote { by: by("a") }),
        RoomError::NotVoting {
            phase: Phase::Revealed
        }
    );
    room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "5".into(),
    });
    assert_eq!(
        room.err(vote("a", "8")),
        RoomError::NotVoting {
            phase: Phase::Completed
        }
    );
}

#[test]
fn reveal() {
    let mut room = Room::new();
    room.ok(vote("a", "3"));
    let events = room.ok(Command::Reveal { by: by("b") });
    assert_eq!(
        events,
        [Event::Revealed {
            round: 1,
            auto: false
        }]
    );
    assert_eq!(room.phase(), Phase::Revealed);
    assert_eq!(room.state.round().revealed_at(), Some(room.at()));
    assert_eq!(
        room.err(Command::Reveal { by: by("h") }),
        RoomError::WrongPhase {
            action: Action::Reveal,
            phase: Phase::Revealed
        }
    );
}

#[test]
fn reveal_errors() {
    let mut room = Room::with(hosts_only());
    assert_eq!(
        room.err(Command::Reveal { by: by("h") }),
        RoomError::NoVotes
    );
    room.ok(vote("a", "3"));
    assert_eq!(
        room.err(Command::Reveal { by: by("a") }),
        not_allowed(Action::Reveal)
    );
    assert_eq!(room.err(Command::Reveal { by: by("zz") }), unknown("zz"));
    // "Everyone" means every voter: a spectator watches.
    let mut open = Room::new();
    open.ok(vote("a", "3"));
    assert_eq!(
        open.err(Command::Reveal { by: by("s") }),
        not_allowed(Action::Reveal)
    );
    open.ok(Command::Reveal { by: by("b") });
}

#[test]
fn spectators_never_drive_the_round_unless_they_moderate() {
    let mut room = Room::new();
    room.ok(vote("a", "3"));
    let drive = [
        (Command::Reveal { by: by("s") }, Action::Reveal),
        (Command::Reset { by: by("s") }, Action::Reset),
        (
            Command::SetTopic {
                by: by("s"),
                topic: "mine".into(),
            },
            Action::EditTopic,
        ),
    ];
    for (command, action) in drive.clone() {
        assert_eq!(room.err(command), not_allowed(action));
    }
    let mut revealed = Room {
        state: room.state.clone(),
        now: room.now,
    }
    .revealed();
    assert_eq!(
        revealed.err(Command::NextRound {
            by: by("s"),
            topic: None
        }),
        not_allowed(Action::NextRound)
    );
    // The same person as a voter may; as a co-host spectator too.
    room.ok(Command::SetRole {
        by: by("s"),
        participant: by("s"),
        role: Role::Voter,
    });
    room.ok(Command::SetTopic {
        by: by("s"),
        topic: "ours".into(),
    });
    room.ok(Command::SetRole {
        by: by("s"),
        participant: by("s"),
        role: Role::Spectator,
    });
    assert!(!room.state.permits(&by("s"), Permission::Everyone));
    room.ok(Command::SetCoHost {
        by: by("h"),
        participant: by("s"),
        co_host: true,
    });
    assert!(room.state.permits(&by("s"), Permission::Everyone));
    for (command, _) in drive {
        room.ok(command);
    }
    // A host who only watches still drives the round.
    let mut setup = NewRoom::new(id("h"), "Hana");
    setup.host_role = Role::Spectator;
    let state = RoomState::new(setup, Timestamp(0)).unwrap();
    assert!(state.permits(&id("h"), Permission::Everyone));
    assert!(!state.permits(&id("nobody"), Permission::Everyone));
}

#[test]
fn changing_a_cast_vote_is_marked_but_not_its_card() {
    let mut room = Room::new();
    room.ok(vote("a", "3"));
    assert!(
        room.state.round().changed_votes().is_empty(),
        "a first vote"
    );
    room.ok(vote("a", "3"));
    assert!(
        room.state.round().changed_votes().is_empty(),
        "the same card"
    );
    assert_eq!(
        room.ok(vote("a", "13")),
        [Event::Voted {
            participant: id("a")
        }]
    );
    room.ok(vote("b", "5"));
    let changed: Vec<&str> = room
        .state
        .round()
        .changed_votes()
        .iter()
        .map(|p| p.0.as_str())
        .collect();
    assert_eq!(changed, ["a"]);
    // Taking the vote back drops the mark; voting again is a first vote.
    room.ok(Command::ClearVote { by: by("a") });
    assert!(room.state.round().changed_votes().is_empty());
    room.ok(vote("a", "8"));
    assert!(room.state.round().changed_votes().is_empty());
    room.ok(vote("a", "5"));
    assert_eq!(room.state.round().changed_votes().len(), 1);
    // It lasts through the reveal, and goes with the votes.
    let mut revealed = Room {
        state: room.state.clone(),
        now: room.now,
    }
    .revealed();
    assert_eq!(revealed.state.round().changed_votes().len(), 1);
    revealed.ok(Command::Reset { by: by("h") });
    assert!(revealed.state.round().changed_votes().is_empty());
    room.ok(Command::Kick {
        by: by("h"),
        participant: by("a"),
    });
    assert!(room.state.round().changed_votes().is_empty());
}

#[test]
fn keep_alive_counts_as_activity_and_never_goes_back() {
    let mut room = Room::new();
    let before = room.state.last_activity();
    room.state.keep_alive(Timestamp(before.0 + 60_000));
    assert_eq!(room.state.last_activity(), Timestamp(before.0 + 60_000));
    room.state.keep_alive(Timestamp(1));
    assert_eq!(room.state.last_activity(), Timestamp(before.0 + 60_000));
}

#[test]
fn reset_clears_votes_and_reopens_voting() {
    let mut room = Room::new();
    room.ok(vote("a", "3"));
    assert_eq!(
        room.ok(Command::Reset { by: by("b") }),
        [Event::VotesCleared { round: 1 }]
    );
    assert!(room.votes().is_empty());
    let mut room = room.revealed();
    room.ok(Command::Reset { by: by("a") });
    assert_eq!(room.phase(), Phase::Voting);
    assert_eq!(room.state.round().number(), 1);
    assert_eq!(room.state.round().revealed_at(), None);
    assert!(room.votes().is_empty());
}

#[test]
fn reset_errors() {
    let mut room = Room::with(hosts_only());
    assert_eq!(
        room.err(Command::Reset { by: by("a") }),
        not_allowed(Action::Reset)
    );
    let mut room = room.revealed();
    room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "3".into(),
    });
    assert_eq!(
        room.err(Command::Reset { by: by("h") }),
        RoomError::WrongPhase {
            action: Action::Reset,
            phase: Phase::Completed
        }
    );
}

#[test]
fn record_estimate_completes_and_archives_the_round() {
    let mut room = Room::new();
    room.ok(Command::SetTopic {
        by: by("h"),
        topic: "Login".into(),
    });
    let mut room = room.revealed();
    let events = room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: " 5 ".into(),
    });
    assert_eq!(
        events,
        [
            Event::RoundCompleted { round: 1 },
            Event::EstimateRecorded {
                round: 1,
                estimate: "5".into()
            }
        ]
    );
    assert_eq!(room.phase(), Phase::Completed);
    assert!(room.votes().is_empty());
    let entry = &room.state.history()[0];
    assert_eq!(entry.round, 1);
    assert_eq!(entry.topic.as_deref(), Some("Login"));
    assert_eq!(entry.final_estimate.as_deref(), Some("5"));
    let votes: Vec<(&str, &str)> = entry
        .votes
        .iter()
        .map(|v| (v.name.as_str(), v.card.as_str()))
        .collect();
    assert_eq!(votes, [("Ann", "3"), ("Ben", "5")]);
    assert_eq!(entry.stats.average, Some(4.0));
    // Amending in Completed changes the entry, not the phase.
    room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "8".into(),
    });
    assert_eq!(room.state.history().len(), 1);
    assert_eq!(room.state.history()[0].final_estimate.as_deref(), Some("8"));
}

#[test]
fn record_estimate_errors() {
    let mut room = Room::new();
    assert_eq!(
        room.err(Command::RecordEstimate {
            by: by("h"),
            estimate: "5".into()
        }),
        RoomError::WrongPhase {
            action: Action::RecordEstimate,
            phase: Phase::Voting
        }
    );
    let mut room = room.revealed();
    for estimate in ["", "  ", &"9".repeat(25)] {
        assert_eq!(
            room.err(Command::RecordEstimate {
                by: by("h"),
                estimate: estimate.into()
            }),
            RoomError::InvalidEstimate { max: 24 }
        );
    }
    assert_eq!(
        room.err(Command::RecordEstimate {
            by: by("a"),
            estimate: "5".into()
        }),
        not_allowed(Action::RecordEstimate)
    );
}

#[test]
fn next_round_from_revealed_archives_without_estimate() {
    let mut room = Room::new().revealed();
    let events = room.ok(Command::NextRound {
        by: by("b"),
        topic: Some(" Story 2 ".into()),
    });
    assert_eq!(
        events,
        [
            Event::RoundCompleted { round: 1 },
            Event::RoundStarted { round: 2 }
        ]
    );
    assert_eq!(room.state.round().number(), 2);
    assert_eq!(room.state.round().topic(), Some("Story 2"));
    assert_eq!(room.phase(), Phase::Voting);
    assert_eq!(room.state.round().started_at(), room.at());
    assert!(room.votes().is_empty());
    assert_eq!(room.state.history()[0].final_estimate, None);
}

#[test]
fn next_round_from_completed() {
    let mut room = Room::new().revealed();
    room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "5".into(),
    });
    assert_eq!(
        room.ok(Command::NextRound {
            by: by("a"),
            topic: None
        }),
        [Event::RoundStarted { round: 2 }]
    );
    assert_eq!(room.state.history().len(), 1);
}

#[test]
fn next_round_errors() {
    let mut room = Room::with(hosts_only());
    assert_eq!(
        room.err(Command::NextRound {
            by: by("h"),
            topic: None
        }),
        RoomError::WrongPhase {
            action: Action::NextRound,
            phase: Phase::Voting
        }
    );
    let mut room = room.revealed();
    assert_eq!(
        room.err(Command::NextRound {
            by: by("a"),
            topic: None
        }),
        not_allowed(Action::NextRound)
    );
    assert_eq!(
        room.err(Command::NextRound {
            by: by("h"),
            topic: Some("t".repeat(201))
        }),
        RoomError::TopicTooLong { max: 200 }
    );
}

#[test]
fn three_rounds_build_a_history() {
    let mut room = Room::new();
    for n in 1..=3 {
        assert_eq!(room.state.round().number(), n);
        room.ok(vote("a", "2"));
        room.ok(vote("b", "3"));
        room.ok(Command::Reveal { by: by("a") });
        room.ok(Command::RecordEstimate {
            by: by("h"),
            estimate: "3".into(),
        });
        room.ok(Command::NextRound {
            by: by("a"),
            topic: None,
        });
    }
    let rounds: Vec<u32> = room.state.history().iter().map(|h| h.round).collect();
    assert_eq!(rounds, [1, 2, 3]);
}

// --- auto-reveal --------------------------------------------------------------------

#[test]
fn auto_reveal_happens_on_the_last_vote() {
    let mut room = Room::with(auto());
    assert!(
        room.ok(vote("h", "5"))
            .iter()
            .all(|e| !matches!(e, Event::Revealed { .. }))
    );
    room.ok(vote("a", "5"));
    let events = room.ok(vote("b", "8"));
    assert_eq!(
        events,
        [
            Event::Voted {
                participant: id("b")
            },
            Event::Revealed {
                round: 1,
                auto: true
            }
        ]
    );
    assert_eq!(room.phase(), Phase::Revealed);
}

#[test]
fn absent_voters_do_not_stall_auto_reveal() {
    let mut room = Room::with(auto());
    room.ok(Command::SetPresence {
        participant: id("b"),
        presence: PresenceChange::Gone,
    });
    room.ok(vote("h", "5"));
    let events = room.ok(vote("a", "5"));
    assert!(events.contains(&Event::Revealed {
        round: 1,
        auto: true
    }));
}

#[test]
fn away_voters_hold_the_round_only_during_the_grace_period() {
    let mut room = Room::with(auto());
    room.ok(Command::SetPresence {
        participant: id("b"),
        presence: PresenceChange::Away,
    });
    room.ok(vote("h", "5"));
    room.ok(vote("a", "5"));
    assert_eq!(
        room.phase(),
        Phase::Voting,
        "Ben is within his grace period"
    );
    room.now += PRESENCE_GRACE_MS;
    let events = room.ok(Command::Tick);
    assert_eq!(
        events,
        [Event::Revealed {
            round: 1,
            auto: true
        }]
    );
}

#[test]
fn auto_reveal_ignores_spectators_and_needs_a_vote() {
    let mut room = Room::with(auto());
    room.ok(Command::Kick {
        by: by("h"),
        participant: id("a"),
    });
    room.ok(Command::Kick {
        by: by("h"),
        participant: id("b"),
    });
    room.ok(Command::SetRole {
        by: by("h"),
        participant: id("h"),
        role: Role::Spectator,
    });
    // No voter at all: nothing to reveal, whatever the time.
    room.now += 10 * PRESENCE_GRACE_MS;
    assert!(room.ok(Command::Tick).is_empty());
    assert_eq!(room.phase(), Phase::Voting);
}

#[test]
fn kicking_the_last_holdout_triggers_auto_reveal() {
    let mut room = Room::with(auto());
    room.ok(vote("h", "5"));
    room.ok(vote("a", "5"));
    let events = room.ok(Command::Kick {
        by: by("h"),
        participant: id("b"),
    });
    assert_eq!(
        events.last(),
        Some(&Event::Revealed {
            round: 1,
            auto: true
        })
    );
}

#[test]
fn turning_auto_reveal_on_reveals_a_finished_round() {
    let mut room = Room::new();
    room.ok(vote("h", "5"));
    room.ok(vote("a", "5"));
    room.ok(vote("b", "5"));
    assert_eq!(room.phase(), Phase::Voting);
    let events = room.ok(Command::UpdateSettings {
        by: by("h"),
        settings: auto(),
    });
    assert_eq!(
        events,
        [
            Event::SettingsChanged,
            Event::Revealed {
                round: 1,
                auto: true
            }
        ]
    );
}

#[test]
fn without_auto_reveal_everyone_voting_changes_nothing() {
    let mut room = Room::new();
    room.ok(vote("h", "5"));
    room.ok(vote("a", "5"));
    room.ok(vote("b", "5"));
    assert_eq!(room.phase(), Phase::Voting);
}

// --- timer --------------------------------------------------------------------------

#[test]
fn timer_set_start_stop_expire() {
    let mut room = Room::new();
    assert_eq!(
        room.ok(Command::SetTimer {
            by: by("h"),
            duration_secs: Some(60)
        }),
        [Event::TimerChanged {
            duration_secs: Some(60)
        }]
    );
    let events = room.ok(Command::StartTimer { by: by("h") });
    let deadline = room.at().plus_secs(60);
    assert_eq!(events, [Event::TimerStarted { deadline }]);
    assert_eq!(room.state.timer().and_then(Timer::deadline), Some(deadline));
    assert_eq!(
        room.ok(Command::StopTimer { by: by("h") }),
        [Event::TimerStopped]
    );
    assert!(room.ok(Command::StopTimer { by: by("h") }).is_empty());
    room.ok(Command::StartTimer { by: by("h") });
    assert!(room.ok(Command::Tick).is_empty(), "not yet");
    room.now += 60_000;
    assert_eq!(room.ok(Command::Tick), [Event::TimerExpired]);
    assert!(room.ok(Command::Tick).is_empty(), "expires once");
    assert_eq!(room.state.timer().map(|t| t.duration_secs), Some(60));
    room.ok(Command::SetTimer {
        by: by("h"),
        duration_secs: None,
    });
    assert_eq!(room.state.timer(), None);
}

#[test]
fn reveal_and_next_round_stop_the_timer() {
    let mut room = Room::new();
    room.ok(Command::SetTimer {
        by: by("h"),
        duration_secs: Some(30),
    });
    room.ok(Command::StartTimer { by: by("h") });
    room.ok(vote("a", "3"));
    let events = room.ok(Command::Reveal { by: by("a") });
    assert_eq!(
        events,
        [
            Event::TimerStopped,
            Event::Revealed {
                round: 1,
                auto: false
            }
        ]
    );
    room.ok(Command::StartTimer { by: by("h") });
    let events = room.ok(Command::NextRound {
        by: by("a"),
        topic: None,
    });
    assert!(events.contains(&Event::TimerStopped));
}

#[test]
fn timer_errors() {
    let mut room = Room::new();
    assert_eq!(
        room.err(Command::StartTimer { by: by("h") }),
        RoomError::NoTimer
    );
    assert_eq!(
        room.err(Command::StopTimer { by: by("h") }),
        RoomError::NoTimer
    );
    for bad in [0, 4, 3_601, u32::MAX] {
        assert_eq!(
            room.err(Command::SetTimer {
                by: by("h"),
                duration_secs: Some(bad)
            }),
            RoomError::InvalidTimer { min: 5, max: 3600 }
        );
    }
    assert_eq!(
        room.err(Command::SetTimer {
            by: by("a"),
            duration_secs: Some(60)
        }),
        not_allowed(Action::Timer)
    );
}

// --- plumbing -----------------------------------------------------------------------

#[test]
fn an_error_leaves_the_room_untouched() {
    let room = Room::new();
    let before = room.state.clone();
    assert!(before.apply(vote("a", "nope"), Timestamp(9_999)).is_err());
    assert_eq!(room.state, before);
}

#[test]
fn ticks_do_not_count_as_activity() {
    let mut room = Room::new();
    let active = room.state.last_activity();
    room.now += 5_000;
    room.ok(Command::Tick);
    assert_eq!(room.state.last_activity(), active);
    room.ok(vote("a", "3"));
    assert_eq!(room.state.last_activity(), room.at());
}

#[test]
fn events_never_carry_a_hidden_card() {
    let mut room = Room::new();
    let events = room.ok(vote("a", "21"));
    let json = serde_json::to_string(&events).unwrap();
    assert_eq!(json, r#"[{"type":"voted","participant":"a"}]"#);
}

#[test]
fn the_state_round_trips_through_json() {
    let mut room = Room::new().revealed();
    room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "5".into(),
    });
    room.ok(Command::NextRound {
        by: by("h"),
        topic: Some("two".into()),
    });
    room.ok(vote("a", "8"));
    let json = serde_json::to_string(&room.state).unwrap();
    let back: RoomState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, room.state);
    assert!(back.invariant_violations().is_empty());
}

#[test]
fn invariant_violations_catches_a_broken_snapshot() {
    let room = Room::new();
    let mut json = serde_json::to_value(&room.state).unwrap();
    json["host"] = serde_json::json!("nobody");
    json["round"]["votes"] = serde_json::json!({"s": "3", "a": "4"});
    let broken: RoomState = serde_json::from_value(json).unwrap();
    let problems = broken.invariant_violations();
    assert!(problems.iter().any(|p| p.contains("host")), "{problems:?}");
    assert!(
        problems.iter().any(|p| p.contains("spectator s")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.contains("\"4\"")), "{problems:?}");
}

#[test]
fn error_messages_say_what_to_do() {
    let cases = [
        (
            not_allowed(Action::Reveal),
            "you may not reveal the votes in this room; ask the host",
        ),
        (
            RoomError::RoomLocked,
            "this room is locked: ask the host to unlock it",
        ),
        (
            RoomError::UnknownCard { card: "4".into() },
            "\"4\" is not a card of this deck; pick one of the deck's cards",
        ),
        (
            RoomError::NotVoting {
                phase: Phase::Revealed,
            },
            "votes can only change while voting (the round is revealed); wait for the next round",
        ),
        (
            RoomError::InvalidDeck(DeckError::Empty),
            "a custom deck needs at least one card",
        ),
    ];
    for (error, message) in cases {
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn the_free_function_is_the_method() {
    let room = Room::new();
    let command = vote("a", "3");
    assert_eq!(
        apply(&room.state, command.clone(), Timestamp(5_000)),
        room.state.apply(command, Timestamp(5_000))
    );
    // And the view sees the vote only as "voted" for others.
    let (state, _) = apply(&room.state, vote("a", "3"), Timestamp(5_000)).unwrap();
    let view = view_for(&state, Some(&id("b")), Timestamp(5_000));
    assert!(view.participants.iter().all(|p| p.card.is_none()));
}

/// What a store would read back from its rows for `state`.
fn stored_parts(state: &RoomState) -> StoredRoom {
    let round = state.round();
    StoredRoom {
        name: state.name().map(str::to_owned),
        host: state.host().clone(),
        participants: state.participants().to_vec(),
        settings: *state.settings(),
        locked: state.locked(),
        deck: state.deck().spec().clone(),
        round_number: round.number(),
        round_topic: round.topic().map(str::to_owned),
        round_phase: round.phase(),
        round_deck: round.deck().spec().clone(),
        round_votes: round.votes().clone(),
        round_started_at: round.started_at(),
        round_revealed_at: round.revealed_at(),
        history: state.history().to_vec(),
        timer_secs: state.timer().map(|t| t.duration_secs),
        timer_started_at: state.timer().and_then(|t| t.started_at),
        last_activity: state.last_activity(),
        stories: state.queue().stories().to_vec(),
        round_story: round.story().cloned(),
    }
}

#[test]
fn restore_keeps_a_running_timer() {
    let mut room = Room::new();
    room.ok(Command::SetTimer {
        by: by("h"),
        duration_secs: Some(60),
    });
    room.ok(Command::StartTimer { by: by("h") });
    let deadline = room.state.timer().and_then(Timer::deadline);
    assert!(deadline.is_some());

    let restored = RoomState::restore(stored_parts(&room.state)).unwrap();
    assert_eq!(restored.timer().and_then(Timer::deadline), deadline);

    let mut stored = stored_parts(&room.state);
    stored.timer_secs = None;
    let removed = RoomState::restore(stored).unwrap();
    assert_eq!(removed.timer(), None, "a removed timer stays removed");

    // A countdown that ended while the server was down expires at the first tick.
    let (after, events) = restored
        .apply(Command::Tick, deadline.unwrap_or_default().plus_secs(1))
        .unwrap();
    assert_eq!(events, [Event::TimerExpired]);
    assert_eq!(after.timer().and_then(|t| t.started_at), None);
}

#[test]
fn restore_gives_back_the_same_room() {
    let host = id("host");
    let mut room = RoomState::new(NewRoom::new(host.clone(), "Host"), Timestamp(0)).unwrap();
    let mut t = 0;
    let mut run = |room: &mut RoomState, command: Command| {
        t += 1;
        *room = room.apply(command, Timestamp(t)).unwrap().0;
    };
    for name in ["ann", "bob"] {
        run(
            &mut room,
            Command::Join {
                participant: id(name),
                name: name.into(),
                role: Role::Voter,
            },
        );
    }
    run(
        &mut room,
        Command::Vote {
            by: id("ann"),
            card: "3".into(),
        },
    );
    run(
        &mut room,
        Command::Vote {
            by: id("bob"),
            card: "8".into(),
        },
    );
    run(&mut room, Command::Reveal { by: host.clone() });
    run(
        &mut room,
        Command::NextRound {
            by: host.clone(),
            topic: Some("two".into()),
        },
    );
    run(
        &mut room,
        Command::Kick {
            by: host.clone(),
            participant: id("bob"),
        },
    );
    run(
        &mut room,
        Command::SetCoHost {
            by: host.clone(),
            participant: id("ann"),
            co_host: true,
        },
    );
    run(
        &mut room,
        Command::SetTimer {
            by: host.clone(),
            duration_secs: Some(30),
        },
    );
    run(
        &mut room,
        Command::Lock {
            by: host.clone(),
            locked: true,
        },
    );
    run(
        &mut room,
        Command::Vote {
            by: id("ann"),
            card: "5".into(),
        },
    );
    assert_eq!(RoomState::restore(stored_parts(&room)), Ok(room));
}

#[test]
fn restore_repairs_what_an_admin_may_have_broken() {
    let host = id("host");
    let room = RoomState::new(NewRoom::new(host.clone(), "Host"), Timestamp(0)).unwrap();
    let (room, _) = room
        .apply(
            Command::Join {
                participant: id("sam"),
                name: "Sam".into(),
                role: Role::Spectator,
            },
            Timestamp(1),
        )
        .unwrap();
    let mut parts = stored_parts(&room);
    parts.round_votes.insert(id("sam"), "5".into());
    parts.round_votes.insert(id("ghost"), "5".into());
    parts.round_votes.insert(host.clone(), "not a card".into());
    parts.round_phase = Phase::Revealed;
    parts.round_revealed_at = Some(Timestamp(2));
    let restored = RoomState::restore(parts).unwrap();
    assert!(restored.round().votes().is_empty());
    assert_eq!(
        restored.round().phase(),
        Phase::Voting,
        "a revealed round needs votes"
    );
    let mut parts = stored_parts(&room);
    parts.host = id("nobody");
    assert!(
        RoomState::restore(parts).is_err(),
        "a host who is not in the room is refused"
    );
}

// ---- the story queue ----

fn add(by_who: &str, stories: &[(&str, &str)]) -> Command {
    Command::AddStories {
        by: by(by_who),
        stories: stories
            .iter()
            .map(|(id, title)| NewStory {
                id: StoryId::from(*id),
                title: (*title).into(),
                key: None,
                url: None,
                kind: None,
            })
            .collect(),
    }
}

fn status(room: &Room, story: &str) -> StoryStatus {
    room.state
        .queue()
        .get(&StoryId::from(story))
        .map(|s| s.status)
        .unwrap_or_else(|| panic!("no story {story}"))
}

fn queue_ids(room: &Room) -> Vec<&str> {
    room.state
        .queue()
        .stories()
        .iter()
        .map(|s| s.id.0.as_str())
        .collect()
}

/// A room whose queue holds `s1` (Login), `s2` (Logout), `s3` (Search); the
/// fresh round took `s1`.
fn queued() -> Room {
    let mut room = Room::new();
    room.ok(add(
        "h",
        &[("s1", "Login"), ("s2", "Logout"), ("s3", "Search")],
    ));
    room
}

#[test]
fn adding_stories_to_a_fresh_round_puts_the_first_on_the_table() {
    let room = queued();
    assert_eq!(room.state.round().story(), Some(&StoryId::from("s1")));
    assert_eq!(room.state.round().topic(), Some("Login"));
    assert_eq!(status(&room, "s1"), StoryStatus::Active);
    assert_eq!(status(&room, "s2"), StoryStatus::Pending);
}

#[test]
fn adding_stories_keeps_a_round_that_has_a_topic() {
    let mut room = Room::new();
    room.ok(Command::SetTopic {
        by: by("h"),
        topic: "Warm-up".into(),
    });
    room.ok(add("h", &[("s1", "Login")]));
    assert_eq!(room.state.round().topic(), Some("Warm-up"));
    assert_eq!(room.state.round().story(), None);
    assert_eq!(status(&room, "s1"), StoryStatus::Pending);
}

#[test]
fn only_moderators_manage_the_queue() {
    let mut room = queued();
    let refused = RoomError::NotAllowed {
        action: Action::ManageStories,
    };
    assert_eq!(room.err(add("a", &[("x", "X")])), refused);
    assert_eq!(
        room.err(Command::MoveStory {
            by: by("s"),
            story: "s3".into(),
            to: 0
        }),
        refused
    );
    assert_eq!(
        room.err(Command::RemoveStory {
            by: by("a"),
            story: "s3".into()
        }),
        refused
    );
    room.ok(Command::SetCoHost {
        by: by("h"),
        participant: by("a"),
        co_host: true,
    });
    room.ok(add("a", &[("s4", "Profile")]));
    assert_eq!(queue_ids(&room), ["s1", "s2", "s3", "s4"]);
}

#[test]
fn estimating_settles_the_story_and_next_round_takes_the_next() {
    let mut room = queued().revealed();
    let events = room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "5".into(),
    });
    assert!(events.contains(&Event::QueueChanged));
    assert_eq!(status(&room, "s1"), StoryStatus::Estimated);
    let s1 = room.state.queue().get(&"s1".into()).cloned();
    assert_eq!(s1.as_ref().and_then(|s| s.estimate.as_deref()), Some("5"));
    assert_eq!(s1.map(|s| s.rounds), Some(1));
    assert_eq!(room.state.history()[0].story, Some(StoryId::from("s1")));
    room.ok(Command::NextRound {
        by: by("h"),
        topic: None,
    });
    assert_eq!(room.state.round().topic(), Some("Logout"));
    assert_eq!(status(&room, "s2"), StoryStatus::Active);
    assert_eq!(status(&room, "s1"), StoryStatus::Estimated);
}

#[test]
fn next_round_after_a_reveal_without_estimate_marks_the_story_skipped() {
    let mut room = queued().revealed();
    room.ok(Command::NextRound {
        by: by("h"),
        topic: None,
    });
    assert_eq!(status(&room, "s1"), StoryStatus::Skipped);
    assert_eq!(status(&room, "s2"), StoryStatus::Active);
    assert_eq!(room.state.history()[0].story, Some(StoryId::from("s1")));
}

#[test]
fn next_round_with_a_typed_topic_leaves_the_queue_waiting() {
    let mut room = queued().revealed();
    room.ok(Command::NextRound {
        by: by("h"),
        topic: Some("Ad hoc".into()),
    });
    assert_eq!(room.state.round().topic(), Some("Ad hoc"));
    assert_eq!(room.state.round().story(), None);
    assert_eq!(status(&room, "s2"), StoryStatus::Pending);
}

#[test]
fn skipping_while_voting_clears_votes_and_moves_on_in_the_same_round() {
    let mut room = queued();
    room.ok(vote("a", "3"));
    let events = room.ok(Command::SkipStory { by: by("b") });
    assert!(events.contains(&Event::VotesCleared { round: 1 }));
    assert_eq!(room.state.round().number(), 1);
    assert!(room.votes().is_empty());
    assert_eq!(status(&room, "s1"), StoryStatus::Skipped);
    assert_eq!(status(&room, "s2"), StoryStatus::Active);
    assert_eq!(room.state.round().topic(), Some("Logout"));
}

#[test]
fn skipping_a_revealed_story_keeps_its_votes_in_the_history() {
    let mut room = queued().revealed();
    room.ok(Command::SkipStory { by: by("h") });
    assert_eq!(room.state.round().number(), 2);
    assert_eq!(room.state.history().len(), 1);
    assert_eq!(room.state.history()[0].final_estimate, None);
    assert_eq!(status(&room, "s1"), StoryStatus::Skipped);
    assert_eq!(status(&room, "s2"), StoryStatus::Active);
}

#[test]
fn skipping_the_last_story_leaves_a_round_without_topic() {
    let mut room = Room::new();
    room.ok(add("h", &[("s1", "Only")]));
    room.ok(Command::SkipStory { by: by("h") });
    assert_eq!(room.state.round().topic(), None);
    assert_eq!(room.state.round().story(), None);
    assert_eq!(
        room.err(Command::SkipStory { by: by("h") }),
        RoomError::NoStory
    );
}

#[test]
fn skip_follows_the_next_round_permission() {
    let mut room = Room::with(hosts_only());
    room.ok(add("h", &[("s1", "Login")]));
    assert_eq!(
        room.err(Command::SkipStory { by: by("a") }),
        RoomError::NotAllowed {
            action: Action::NextRound
        }
    );
}

#[test]
fn playing_a_story_out_of_order_retargets_an_empty_round() {
    let mut room = queued();
    room.ok(Command::PlayStory {
        by: by("h"),
        story: "s3".into(),
    });
    assert_eq!(room.state.round().number(), 1);
    assert_eq!(room.state.round().topic(), Some("Search"));
    assert_eq!(status(&room, "s3"), StoryStatus::Active);
    assert_eq!(status(&room, "s1"), StoryStatus::Pending, "never voted on");
}

#[test]
fn playing_another_story_is_refused_while_votes_are_cast() {
    let mut room = queued();
    room.ok(vote("a", "3"));
    assert_eq!(
        room.err(Command::PlayStory {
            by: by("h"),
            story: "s2".into()
        }),
        RoomError::RoundInProgress
    );
    // The story on the table: nothing to do.
    room.ok(Command::PlayStory {
        by: by("h"),
        story: "s1".into(),
    });
    assert_eq!(room.votes(), [("a", "3")]);
}

#[test]
fn re_estimating_keeps_both_rounds_and_the_old_estimate_until_replaced() {
    let mut room = queued().revealed();
    room.ok(Command::RecordEstimate {
        by: by("h"),
        estimate: "5".into(),
    });
    room.ok(Command::PlayStory {
        by: by("h"),
        story: "s1".into(),
    });
    assert_eq!(room.state.round().number(), 2);
    assert_eq!(status(&room, "s1"), StoryStatus::Active);
    // Left without a new estimate: the old one stands.
    room.ok(vote("a", "8"));
    room.ok(Command::Reveal { by: by("h") });
    room.ok(Command::NextRound {
        by: by("h"),
        topic: None,
    });
    let s1 = room.state.queue().get(&"s1".into()).cloned();
    assert_eq!(s1.as_ref().map(|s| s.status), Some(StoryStatus::Estimated));
    assert_eq!(s1.as_ref().and_then(|s| s.estimate.as_deref()), Some("5"));
    assert_eq!(s1.map(|s| s.rounds), Some(2), "re-estimated");
    let rounds: Vec<u32> = room
        .state
        .history()
        .iter()
        .filter(|h| h.story == Some(StoryId::from("s1")))
        .map(|h| h.round)
        .collect();
    assert_eq!(rounds, [1, 2]);
}

#[test]
fn editing_the_story_on_the_table_changes_the_topic() {
    let mut room = queued();
    let events = room.ok(Command::EditStory {
        by: by("h"),
        story: "s1".into(),
        title: "Log in with SSO".into(),
        key: Some("AUTH-1".into()),
        url: Some("https://tracker.test/AUTH-1".into()),
    });
    assert!(events.contains(&Event::TopicChanged { round: 1 }));
    assert_eq!(room.state.round().topic(), Some("Log in with SSO"));
    let bad = room.err(Command::EditStory {
        by: by("h"),
        story: "s1".into(),
        title: "x".into(),
        key: None,
        url: Some("javascript:alert(1)".into()),
    });
    assert!(matches!(
        bad,
        RoomError::Story(StoryError::InvalidUrl { .. })
    ));
    assert_eq!(
        room.err(Command::EditStory {
            by: by("h"),
            story: "nope".into(),
            title: "x".into(),
            key: None,
            url: None,
        }),
        RoomError::Story(StoryError::UnknownStory {
            story: "nope".into()
        })
    );
}

#[test]
fn moving_and_removing_stories() {
    let mut room = queued();
    room.ok(Command::MoveStory {
        by: by("h"),
        story: "s3".into(),
        to: 1,
    });
    assert_eq!(queue_ids(&room), ["s1", "s3", "s2"]);
    let events = room.ok(Command::MoveStory {
        by: by("h"),
        story: "s3".into(),
        to: 1,
    });
    assert!(events.is_empty(), "no move, no event");
    room.ok(Command::RemoveStory {
        by: by("h"),
        story: "s1".into(),
    });
    assert_eq!(queue_ids(&room), ["s3", "s2"]);
    assert_eq!(room.state.round().story(), None, "the round lost its story");
    assert_eq!(
        room.state.round().topic(),
        Some("Login"),
        "but keeps its topic"
    );
}

#[test]
fn a_stored_queue_is_repaired_on_restore() {
    let room = queued();
    let state = &room.state;
    let mut stories = state.queue().stories().to_vec();
    // An admin marks a second story active and an estimated one without estimate.
    stories[1].status = StoryStatus::Active;
    stories[2].status = StoryStatus::Estimated;
    let restored = RoomState::restore(StoredRoom {
        name: None,
        host: by("h"),
        participants: state.participants().to_vec(),
        settings: *state.settings(),
        locked: false,
        deck: state.deck().spec().clone(),
        round_number: 1,
        round_topic: Some("Login".into()),
        round_phase: Phase::Voting,
        round_deck: state.deck().spec().clone(),
        round_votes: BTreeMap::new(),
        round_started_at: Timestamp(1),
        round_revealed_at: None,
        history: Vec::new(),
        timer_secs: None,
        timer_started_at: None,
        last_activity: Timestamp(1),
        stories,
        round_story: Some("s1".into()),
    })
    .unwrap_or_else(|e| panic!("{e:?}"));
    let statuses: Vec<StoryStatus> = restored
        .queue()
        .stories()
        .iter()
        .map(|s| s.status)
        .collect();
    assert_eq!(
        statuses,
        [
            StoryStatus::Active,
            StoryStatus::Pending,
            StoryStatus::Skipped
        ]
    );
}
