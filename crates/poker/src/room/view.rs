//! What one person may see of a room: [`view_for`] builds a serialisable
//! [`RoomView`] that pages, fragments and APIs render.
//!
//! This is the only door from a [`RoomState`] to a screen, and it is where hidden
//! votes stay hidden: while a round is voting, a participant entry carries only
//! `voted: true/false` (and `changed: true` once they changed a cast vote, which
//! says nothing of either card), except the viewer's own entry, which also carries
//! their card. After reveal every card and the [`Stats`] are shown.

use serde::Serialize;

use super::deck::{Card, DeckSpec};
use super::state::{HistoryEntry, Participant, Phase, Presence, Role, RoomState, Settings};
use super::stats::{self, Stats};
use super::stories::{Queue, StoryId};
use super::{ParticipantId, Timestamp};

/// Everything a viewer may see of a room at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoomView {
    /// Room name.
    pub name: Option<String>,
    /// Whether new joins are refused.
    pub locked: bool,
    /// Room settings (permissions, auto-reveal, spectators).
    pub settings: Settings,
    /// The host's id.
    pub host: ParticipantId,
    /// The cards of the current round, in order.
    pub deck: Vec<Card>,
    /// The room's deck as configured (what the next round will use).
    pub deck_spec: DeckSpec,
    /// The next round's cards, when the deck was changed after this round started.
    pub next_deck: Option<Vec<Card>>,
    /// The current round.
    pub round: RoundView,
    /// Everyone, in join order.
    pub participants: Vec<ParticipantView>,
    /// Results, once revealed.
    pub stats: Option<Stats>,
    /// The countdown, if configured.
    pub timer: Option<TimerView>,
    /// Completed rounds, oldest first (all public); shared with the room's state,
    /// not copied per view.
    pub history: std::sync::Arc<Vec<HistoryEntry>>,
    /// The story queue (all public), shared with the room's state.
    pub queue: std::sync::Arc<Queue>,
    /// The viewer's own seat and rights; `None` for an anonymous viewer.
    pub viewer: Option<ViewerView>,
}

/// The current round as a viewer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundView {
    /// Round number.
    pub number: u32,
    /// The story.
    pub topic: Option<String>,
    /// The queued story on the table, if the topic came from the queue.
    pub story: Option<StoryId>,
    /// Voting, revealed or completed.
    pub phase: Phase,
    /// How many votes were cast (public even before reveal).
    pub votes_cast: usize,
    /// How many voters count as present (auto-reveal waits for them).
    pub present_voters: usize,
    /// While voting: at least one vote, and every present voter has voted (the
    /// moment a facilitator reveals; auto-reveal fires on the same condition).
    pub everyone_voted: bool,
    /// When the round started.
    pub started_at: Timestamp,
    /// When it was revealed.
    pub revealed_at: Option<Timestamp>,
    /// The recorded final estimate, once completed.
    pub final_estimate: Option<String>,
}

/// Presence as shown: away past the grace period shows as gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// Connected.
    Online,
    /// Disconnected, within the grace period.
    Away,
    /// Disconnected past the grace period, or gone.
    Gone,
}

/// One participant as a viewer sees them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParticipantView {
    /// Id.
    pub id: ParticipantId,
    /// Display name.
    pub name: String,
    /// Voter or spectator.
    pub role: Role,
    /// Whether they are the host.
    pub host: bool,
    /// Whether they are a co-host.
    pub co_host: bool,
    /// Presence at the time of the view.
    pub presence: PresenceStatus,
    /// Whether they voted in the current round.
    pub voted: bool,
    /// Whether they changed a vote they had cast in this round (voting or
    /// revealed; never which card it was or is).
    pub changed: bool,
    /// Their card: after reveal for everyone, before reveal only in the viewer's
    /// own entry.
    pub card: Option<String>,
    /// Whether their revealed vote is an outlier.
    pub outlier: bool,
}

/// The countdown as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimerView {
    /// Length.
    pub duration_secs: u32,
    /// When it ends, if running.
    pub deadline: Option<Timestamp>,
}

/// The viewer's own seat and what the UI should offer them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewerView {
    /// Their id.
    pub id: ParticipantId,
    /// Their card in the current round (hidden from others until reveal).
    pub card: Option<String>,
    /// Host.
    pub is_host: bool,
    /// Host or co-host.
    pub is_moderator: bool,
    /// May vote now.
    pub can_vote: bool,
    /// May reveal.
    pub can_reveal: bool,
    /// May clear the votes.
    pub can_reset: bool,
    /// May start the next round.
    pub can_next_round: bool,
    /// May edit the topic.
    pub can_edit_topic: bool,
    /// May add, edit, reorder and remove stories.
    pub can_manage_stories: bool,
}

/// What `viewer` may see of `state` at `now` (`None` or an unknown id: an
/// anonymous viewer, who sees no card before reveal).
///
/// `now` only decides how presence is shown (away past the grace period is gone).
pub fn view_for(state: &RoomState, viewer: Option<&ParticipantId>, now: Timestamp) -> RoomView {
    let viewer = viewer.and_then(|id| state.participant(id)).map(|p| &p.id);
    let round = state.round();
    let completed = match round.phase() {
        Phase::Completed => state.history().last(),
        Phase::Voting | Phase::Revealed => None,
    };
    // The cards this viewer may see, by owner.
    let visible = |who: &ParticipantId| -> Option<String> {
        match round.phase() {
            Phase::Voting if Some(who) != viewer => None,
            Phase::Voting | Phase::Revealed => round.votes().get(who).cloned(),
            Phase::Completed => completed.and_then(|entry| {
                entry
                    .votes
                    .iter()
                    .find(|v| &v.participant == who)
                    .map(|v| v.card.clone())
            }),
        }
    };
    let stats = match round.phase() {
        Phase::Voting => None,
        Phase::Revealed => Some(stats::compute(
            round.deck(),
            round.votes().iter().map(|(who, card)| (who, card.as_str())),
        )),
        Phase::Completed => completed.map(|entry| entry.stats.clone()),
    };
    let participants = state
        .participants()
        .iter()
        .map(|p| ParticipantView {
            id: p.id.clone(),
            name: p.name.clone(),
            role: p.role,
            host: &p.id == state.host(),
            co_host: p.co_host,
            presence: presence_status(p, now),
            voted: match completed {
                Some(entry) => entry.votes.iter().any(|v| v.participant == p.id),
                None => round.votes().contains_key(&p.id),
            },
            changed: completed.is_none() && round.changed_votes().contains(&p.id),
            card: visible(&p.id),
            outlier: stats.as_ref().is_some_and(|s| s.outliers.contains(&p.id)),
        })
        .collect();
    let viewer = viewer.map(|id| viewer_view(state, id, visible(id)));
    RoomView {
        name: state.name().map(str::to_owned),
        locked: state.locked(),
        settings: *state.settings(),
        host: state.host().clone(),
        deck: round.deck().cards().to_vec(),
        deck_spec: state.deck().spec().clone(),
        next_deck: (state.deck() != round.deck()).then(|| state.deck().cards().to_vec()),
        round: RoundView {
            number: round.number(),
            topic: round.topic().map(str::to_owned),
            story: round.story().cloned(),
            phase: round.phase(),
            votes_cast: completed.map_or(round.votes().len(), |e| e.votes.len()),
            present_voters: state
                .participants()
                .iter()
                .filter(|p| p.role == Role::Voter && p.is_present(now))
                .count(),
            everyone_voted: everyone_voted(state, now),
            started_at: round.started_at(),
            revealed_at: round.revealed_at(),
            final_estimate: completed.and_then(|e| e.final_estimate.clone()),
        },
        participants,
        stats,
        timer: state.timer().map(|t| TimerView {
            duration_secs: t.duration_secs,
            deadline: t.deadline(),
        }),
        history: state.history_shared(),
        queue: state.queue_shared(),
        viewer,
    }
}

/// The viewer's own seat and rights, with `card`, the card they may see as theirs.
fn viewer_view(state: &RoomState, id: &ParticipantId, card: Option<String>) -> ViewerView {
    let me = state.participant(id);
    ViewerView {
        id: id.clone(),
        card,
        is_host: id == state.host(),
        is_moderator: state.is_moderator(id),
        can_vote: state.round().phase() == Phase::Voting
            && me.is_some_and(|p| p.role == Role::Voter),
        can_reveal: state.permits(id, state.settings().reveal),
        can_reset: state.permits(id, state.settings().reset),
        can_next_round: state.permits(id, state.settings().next_round),
        can_edit_topic: state.permits(id, state.settings().edit_topic),
        can_manage_stories: state.is_moderator(id),
    }
}

/// What `view_for(state, Some(viewer), now)` has that the anonymous view `anon`
/// (of the same state and time) lacks: the viewer's own entry index and card (a
/// hidden card is visible only to its owner, while voting) and the `viewer`
/// part. `None` when `viewer` has no seat (their view is the anonymous one).
///
/// Lets a broadcast build the view once and add each person's few bytes, instead
/// of building (and serialising) a whole view per person.
pub fn personal_parts(
    state: &RoomState,
    anon: &RoomView,
    viewer: &ParticipantId,
) -> Option<(usize, Option<String>, ViewerView)> {
    let index = state.participants().iter().position(|p| &p.id == viewer)?;
    let card = match state.round().phase() {
        Phase::Voting => state.round().votes().get(viewer).cloned(),
        Phase::Revealed | Phase::Completed => anon.participants.get(index)?.card.clone(),
    };
    let me = viewer_view(state, viewer, card.clone());
    Some((index, card, me))
}

/// Whether the round is voting, has a vote, and every present voter has voted.
fn everyone_voted(state: &RoomState, now: Timestamp) -> bool {
    let round = state.round();
    round.phase() == Phase::Voting
        && !round.votes().is_empty()
        && state
            .participants()
            .iter()
            .filter(|p| p.role == Role::Voter && p.is_present(now))
            .all(|p| round.votes().contains_key(&p.id))
}

/// How `p`'s presence shows at `now` (the hub also uses it to notice a change
/// that happens by the clock alone).
pub fn presence_status(p: &Participant, now: Timestamp) -> PresenceStatus {
    match p.presence {
        Presence::Online => PresenceStatus::Online,
        Presence::Away { .. } if p.is_present(now) => PresenceStatus::Away,
        Presence::Away { .. } | Presence::Gone => PresenceStatus::Gone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::state::{Command, NewRoom, PRESENCE_GRACE_MS, PresenceChange};

    fn id(s: &str) -> ParticipantId {
        ParticipantId::from(s)
    }

    /// Host `h`, voters `a` and `b`, spectator `s`; `a` voted 3 and `b` voted 13.
    fn voted_room() -> RoomState {
        let mut state = RoomState::new(NewRoom::new(id("h"), "Hana"), Timestamp(0)).unwrap();
        let commands = [
            Command::Join {
                participant: id("a"),
                name: "Ann".into(),
                role: Role::Voter,
            },
            Command::Join {
                participant: id("b"),
                name: "Ben".into(),
                role: Role::Voter,
            },
            Command::Join {
                participant: id("s"),
                name: "Sam".into(),
                role: Role::Spectator,
            },
            Command::Vote {
                by: id("a"),
                card: "3".into(),
            },
            Command::Vote {
                by: id("b"),
                card: "13".into(),
            },
        ];
        for (t, command) in commands.into_iter().enumerate() {
            state = state.apply(command, Timestamp(t as u64 + 1)).unwrap().0;
        }
        state
    }

    fn apply(state: RoomState, command: Command) -> RoomState {
        state.apply(command, Timestamp(100)).unwrap().0
    }

    fn card_of<'a>(view: &'a RoomView, who: &str) -> Option<&'a str> {
        view.participants
            .iter()
            .find(|p| p.id.0 == who)
            .and_then(|p| p.card.as_deref())
    }

    #[test]
    fn before_reveal_others_see_only_that_someone_voted() {
        let state = voted_room();
        for viewer in [None, Some(id("h")), Some(id("s")), Some(id("b"))] {
            let view = view_for(&state, viewer.as_ref(), Timestamp(10));
            assert_eq!(card_of(&view, "a"), None, "{viewer:?}");
            let ann = &view.participants[1];
            assert!(ann.voted);
            assert!(view.stats.is_none());
            assert_eq!(view.round.votes_cast, 2);
            let json = serde_json::to_string(&view.participants[1]).unwrap();
            assert!(!json.contains("\"3\""), "{json}");
        }
    }

    #[test]
    fn before_reveal_i_see_my_own_card() {
        let state = voted_room();
        let view = view_for(&state, Some(&id("a")), Timestamp(10));
        assert_eq!(card_of(&view, "a"), Some("3"));
        assert_eq!(card_of(&view, "b"), None);
        let me = view.viewer.unwrap();
        assert_eq!(me.card.as_deref(), Some("3"));
        assert!(me.can_vote);
        assert!(!me.is_host);
    }

    #[test]
    fn an_unknown_viewer_is_anonymous() {
        let state = voted_room();
        let view = view_for(&state, Some(&id("intruder")), Timestamp(10));
        assert!(view.viewer.is_none());
        assert!(view.participants.iter().all(|p| p.card.is_none()));
    }

    #[test]
    fn after_reveal_everyone_sees_every_card_and_the_stats() {
        let state = apply(voted_room(), Command::Reveal { by: id("a") });
        let view = view_for(&state, None, Timestamp(200));
        assert_eq!(card_of(&view, "a"), Some("3"));
        assert_eq!(card_of(&view, "b"), Some("13"));
        assert_eq!(card_of(&view, "h"), None, "the host did not vote");
        let stats = view.stats.unwrap();
        assert_eq!(stats.average, Some(8.0));
        assert_eq!(view.round.phase, Phase::Revealed);
    }

    #[test]
    fn outliers_are_marked_on_their_owner() {
        let mut state = voted_room();
        state = apply(
            state,
            Command::Vote {
                by: id("h"),
                card: "3".into(),
            },
        );
        state = apply(state, Command::Reveal { by: id("h") });
        let view = view_for(&state, None, Timestamp(200));
        let marked: Vec<&str> = view
            .participants
            .iter()
            .filter(|p| p.outlier)
            .map(|p| p.id.0.as_str())
            .collect();
        assert_eq!(marked, ["b"]);
    }

    #[test]
    fn a_completed_round_shows_its_history_entry() {
        let mut state = apply(voted_room(), Command::Reveal { by: id("h") });
        state = apply(
            state,
            Command::RecordEstimate {
                by: id("h"),
                estimate: "8".into(),
            },
        );
        let view = view_for(&state, Some(&id("s")), Timestamp(200));
        assert_eq!(view.round.phase, Phase::Completed);
        assert_eq!(view.round.final_estimate.as_deref(), Some("8"));
        assert_eq!(card_of(&view, "b"), Some("13"));
        assert!(view.participants[2].voted);
        assert_eq!(view.round.votes_cast, 2);
        assert_eq!(view.stats, Some(view.history[0].stats.clone()));
        assert!(!view.viewer.unwrap().can_vote);
    }

    #[test]
    fn presence_shows_away_then_gone() {
        let state = apply(
            voted_room(),
            Command::SetPresence {
                participant: id("a"),
                presence: PresenceChange::Away,
            },
        );
        let status = |now: u64| view_for(&state, None, Timestamp(now)).participants[1].presence;
        assert_eq!(status(100), PresenceStatus::Away);
        assert_eq!(status(100 + PRESENCE_GRACE_MS), PresenceStatus::Gone);
        assert_eq!(
            view_for(&state, None, Timestamp(100)).round.present_voters,
            3
        );
        assert_eq!(
            view_for(&state, None, Timestamp(100 + PRESENCE_GRACE_MS))
                .round
                .present_voters,
            2
        );
    }

    #[test]
    fn capabilities_follow_the_settings() {
        let state = voted_room();
        let host = view_for(&state, Some(&id("h")), Timestamp(10))
            .viewer
            .unwrap();
        assert!(host.is_host && host.is_moderator && host.can_reveal);
        let spectator = view_for(&state, Some(&id("s")), Timestamp(10))
            .viewer
            .unwrap();
        assert!(!spectator.can_vote);
        assert!(
            !spectator.can_reveal && !spectator.can_reset,
            "\"everyone\" is every voter; a spectator watches"
        );
        assert!(!spectator.can_next_round && !spectator.can_edit_topic);
        let voter = view_for(&state, Some(&id("b")), Timestamp(10))
            .viewer
            .unwrap();
        assert!(voter.can_reveal && voter.can_reset && voter.can_edit_topic);
        let strict = apply(
            state,
            Command::UpdateSettings {
                by: id("h"),
                settings: Settings {
                    reveal: crate::room::Permission::Hosts,
                    ..Settings::default()
                },
            },
        );
        let voter = view_for(&strict, Some(&id("a")), Timestamp(10))
            .viewer
            .unwrap();
        assert!(!voter.can_reveal && voter.can_reset && !voter.is_moderator);
    }

    #[test]
    fn next_deck_appears_when_the_deck_changes_between_rounds() {
        let mut state = apply(voted_room(), Command::Reveal { by: id("h") });
        state = apply(
            state,
            Command::RecordEstimate {
                by: id("h"),
                estimate: "8".into(),
            },
        );
        assert!(view_for(&state, None, Timestamp(0)).next_deck.is_none());
        state = apply(
            state,
            Command::ChangeDeck {
                by: id("h"),
                deck: crate::room::DeckSpec::new(crate::room::DeckKind::TShirt),
                reset_votes: false,
            },
        );
        let view = view_for(&state, None, Timestamp(0));
        assert_eq!(view.next_deck.map(|d| d.len()), Some(6));
        assert!(view.deck.iter().any(|c| c.label == "13"));
        assert_eq!(view.deck_spec.kind, crate::room::DeckKind::TShirt);
    }

    #[test]
    fn the_timer_shows_its_deadline() {
        let mut state = voted_room();
        state = apply(
            state,
            Command::SetTimer {
                by: id("h"),
                duration_secs: Some(90),
            },
        );
        state = apply(state, Command::StartTimer { by: id("h") });
        let view = view_for(&state, None, Timestamp(0));
        assert_eq!(
            view.timer,
            Some(TimerView {
                duration_secs: 90,
                deadline: Some(Timestamp(100 + 90_000))
            })
        );
    }

    #[test]
    fn everyone_voted_waits_for_every_present_voter() {
        // `h` has not voted yet.
        let state = voted_room();
        assert!(!view_for(&state, None, Timestamp(10)).round.everyone_voted);
        let state = apply(
            state,
            Command::Vote {
                by: id("h"),
                card: "5".into(),
            },
        );
        assert!(view_for(&state, None, Timestamp(10)).round.everyone_voted);
        // A voter who joins without voting holds it up; one gone for good does not.
        let state = apply(
            state,
            Command::Join {
                participant: id("c"),
                name: "Cy".into(),
                role: Role::Voter,
            },
        );
        assert!(!view_for(&state, None, Timestamp(200)).round.everyone_voted);
        let state = apply(
            state,
            Command::SetPresence {
                participant: id("c"),
                presence: PresenceChange::Gone,
            },
        );
        assert!(view_for(&state, None, Timestamp(200)).round.everyone_voted);
        let revealed = apply(state, Command::Reveal { by: id("h") });
        assert!(
            !view_for(&revealed, None, Timestamp(300))
                .round
                .everyone_voted
        );
        // No votes at all is not "everyone voted".
        let empty = RoomState::new(NewRoom::new(id("h"), "Hana"), Timestamp(0)).unwrap();
        assert!(!view_for(&empty, None, Timestamp(1)).round.everyone_voted);
    }

    /// The room where `a` voted `first` then changed to `second` (`b` voted 13).
    fn changed_room(first: &str, second: &str) -> RoomState {
        let mut state = voted_room();
        for card in [first, second] {
            state = apply(
                state,
                Command::Vote {
                    by: id("a"),
                    card: card.into(),
                },
            );
        }
        state
    }

    #[test]
    fn a_changed_vote_is_marked_for_everyone_without_its_card() {
        let state = changed_room("5", "8");
        for viewer in [
            None,
            Some(id("h")),
            Some(id("s")),
            Some(id("b")),
            Some(id("a")),
        ] {
            let view = view_for(&state, viewer.as_ref(), Timestamp(10));
            let marked: Vec<&str> = view
                .participants
                .iter()
                .filter(|p| p.changed)
                .map(|p| p.id.0.as_str())
                .collect();
            assert_eq!(marked, ["a"], "{viewer:?}");
        }
        // The JSON frame of everyone but `a` is the same whatever `a` voted: the
        // mark tells that the vote changed, nothing of the cards.
        let other = changed_room("2", "21");
        for viewer in ["h", "s", "b", "nobody"] {
            let frames = crate::room::frame::ViewFrames::new(&state, Timestamp(10)).unwrap();
            let frame = frames.frame_for(&state, &id(viewer)).unwrap();
            let other_frames = crate::room::frame::ViewFrames::new(&other, Timestamp(10)).unwrap();
            assert_eq!(frame, other_frames.frame_for(&other, &id(viewer)).unwrap());
            let json: serde_json::Value = serde_json::from_str(&frame).unwrap();
            let ann = &json["participants"][1];
            assert_eq!(ann["changed"], true, "{ann}");
            assert!(ann["card"].is_null(), "{ann}");
            for card in ["\"3\"", "\"5\"", "\"8\""] {
                let people = json["participants"].to_string();
                let round = json["round"].to_string();
                assert!(!people.contains(card) && !round.contains(card), "{frame}");
            }
        }
        // After the reveal the mark stays for the round; the next round drops it.
        let revealed = apply(state, Command::Reveal { by: id("h") });
        assert!(view_for(&revealed, None, Timestamp(20)).participants[1].changed);
        let next = apply(
            revealed,
            Command::NextRound {
                by: id("h"),
                topic: None,
            },
        );
        assert!(
            view_for(&next, None, Timestamp(30))
                .participants
                .iter()
                .all(|p| !p.changed)
        );
    }
}
