//! The room state machine: `(state, command, now) → Result<(state, events), RoomError>`.
//!
//! [`RoomState::apply`] never mutates its input: it works on a copy and returns it
//! with the [`Event`]s to persist and broadcast, or returns an error and leaves the
//! room as it was. Fields are private, so the only way to change a room is through
//! a [`Command`], and every invariant below holds after every command:
//!
//! - exactly one host, who is a participant and not also a co-host;
//! - participant ids are unique; names are trimmed, 1–32 characters;
//! - the round number starts at 1 and only ever grows, by one, through `NextRound`;
//! - votes come only from current participants whose role is voter, and name a card
//!   of the round's deck;
//! - a completed round holds no live votes (they moved to its history entry);
//! - with auto-reveal on, a round still voting has a present voter who has not
//!   voted (or no votes at all).
//!
//! Round transitions (anything else is refused with an error):
//!
//! | from      | command                                   | to                          |
//! |-----------|-------------------------------------------|-----------------------------|
//! | Voting    | `Vote`, `ClearVote`, `SetTopic`, `Reset`  | Voting (same round)         |
//! | Voting    | `ChangeDeck` (no votes, or `reset_votes`) | Voting (votes cleared)      |
//! | Voting    | `Reveal` (≥ 1 vote)                       | Revealed                    |
//! | Voting    | any command, auto-reveal, all present voted | Revealed                  |
//! | Revealed  | `Reset`, `ChangeDeck { reset_votes }`     | Voting (same round, cleared)|
//! | Revealed  | `Kick`/`Leave`/`SetRole` removing the last vote | Voting (same round, cleared) |
//! | Revealed  | `RecordEstimate`                          | Completed (archived)        |
//! | Revealed  | `NextRound`                               | Voting, round + 1 (archived without estimate) |
//! | Completed | `RecordEstimate`                          | Completed (estimate amended)|
//! | Completed | `NextRound`                               | Voting, round + 1           |
//! | Completed | `ChangeDeck`                              | Completed (deck for next round) |
//!
//! Who may do what: the host alone manages settings, co-hosts and the host role;
//! the host and co-hosts ("moderators") kick, lock, rename the room, change the
//! deck, record the final estimate and run the timer; reveal, reset, next round and
//! topic edits follow the room's [`Settings`] (moderators only, or every voter): a
//! spectator who is not a moderator watches and never drives the round.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::deck::{Deck, DeckError, DeckSpec};
use super::stats::{self, Stats};
use super::stories::{self, NewStory, Queue, StoryError, StoryId, StoryStatus};
use super::{ParticipantId, Timestamp};

/// How long someone who went away still counts as present (30 s), so a flaky
/// connection neither stalls auto-reveal nor shows a voter as gone.
pub const PRESENCE_GRACE_MS: u64 = 30_000;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// Longest room name, in characters.
pub const MAX_ROOM_NAME_CHARS: usize = 64;
/// Longest topic, in characters.
pub const MAX_TOPIC_CHARS: usize = 200;
/// Longest final estimate, in characters.
pub const MAX_ESTIMATE_CHARS: usize = 24;
/// Most participants a room holds, so one room cannot grow without bound.
pub const MAX_PARTICIPANTS: usize = 100;
/// Shortest countdown, in seconds.
pub const MIN_TIMER_SECS: u32 = 5;
/// Longest countdown, in seconds.
pub const MAX_TIMER_SECS: u32 = 3_600;

/// Whether a participant estimates or only watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Votes in rounds.
    Voter,
    /// Watches; never votes.
    Spectator,
}

/// Stored presence of a participant; [`Participant::is_present`] interprets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Presence {
    /// At least one connection is open.
    Online,
    /// The last connection closed at `since`; still present for the grace period.
    Away {
        /// When the last connection closed.
        since: Timestamp,
    },
    /// Explicitly gone (e.g. closed the tab with "leave", or swept by the hub).
    Gone,
}

/// What the hub reports about someone's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceChange {
    /// A connection opened.
    Online,
    /// The last connection closed now.
    Away,
    /// The participant is gone for good (their seat stays for a reconnect).
    Gone,
}

/// Who may perform a room action whose permission is configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// The host and co-hosts.
    Hosts,
    /// Every voter, and the host and co-hosts (who may be spectators); a spectator
    /// who is not a moderator only watches.
    Everyone,
}

/// Room-wide settings, changed by the host with [`Command::UpdateSettings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Who may reveal the votes.
    pub reveal: Permission,
    /// Who may clear the votes of the current round.
    pub reset: Permission,
    /// Who may start the next round.
    pub next_round: Permission,
    /// Who may edit the topic.
    pub edit_topic: Permission,
    /// Reveal as soon as every present voter has voted.
    pub auto_reveal: bool,
    /// Whether people other than moderators may join or switch to spectator.
    pub allow_spectators: bool,
}

impl Default for Settings {
    /// Everyone may drive the round, as in most planning-poker tools; no auto-reveal.
    fn default() -> Self {
        Self {
            reveal: Permission::Everyone,
            reset: Permission::Everyone,
            next_round: Permission::Everyone,
            edit_topic: Permission::Everyone,
            auto_reveal: false,
            allow_spectators: true,
        }
    }
}

/// A person in the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Stable id (the seat), kept across reconnects.
    pub id: ParticipantId,
    /// Display name, trimmed, 1–32 characters.
    pub name: String,
    /// Voter or spectator.
    pub role: Role,
    /// Granted moderator rights by the host (the host itself is never a co-host).
    pub co_host: bool,
    /// Connection state.
    pub presence: Presence,
    /// When they joined; participants are kept in join order.
    pub joined_at: Timestamp,
}

impl Participant {
    /// Whether this person counts as in the room at `now`: online, or away for
    /// less than [`PRESENCE_GRACE_MS`]. Auto-reveal waits only for present voters.
    pub fn is_present(&self, now: Timestamp) -> bool {
        match self.presence {
            Presence::Online => true,
            Presence::Away { since } => now.millis_since(since) < PRESENCE_GRACE_MS,
            Presence::Gone => false,
        }
    }
}

/// Where the current round stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Votes are hidden and may change.
    Voting,
    /// Votes are public and frozen.
    Revealed,
    /// Archived in the history; waiting for the next round.
    Completed,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Voting => "voting",
            Phase::Revealed => "revealed",
            Phase::Completed => "completed",
        })
    }
}

/// The round being played.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    number: u32,
    topic: Option<String>,
    story: Option<StoryId>,
    phase: Phase,
    deck: Deck,
    votes: BTreeMap<ParticipantId, String>,
    started_at: Timestamp,
    revealed_at: Option<Timestamp>,
    /// Voters who changed a vote they had cast in this round (never which card).
    #[serde(default)]
    changed: BTreeSet<ParticipantId>,
}

impl Round {
    fn new(number: u32, topic: Option<String>, deck: Deck, now: Timestamp) -> Self {
        Self {
            number,
            topic,
            story: None,
            phase: Phase::Voting,
            deck,
            votes: BTreeMap::new(),
            started_at: now,
            revealed_at: None,
            changed: BTreeSet::new(),
        }
    }

    /// Who changed their cast vote to another card in this round: public, since it
    /// says nothing of any card. Someone who takes their vote back leaves it.
    pub fn changed_votes(&self) -> &BTreeSet<ParticipantId> {
        &self.changed
    }

    /// Round number, from 1.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The story being estimated.
    pub fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    /// The queued story this round estimates, if it came from the queue.
    pub fn story(&self) -> Option<&StoryId> {
        self.story.as_ref()
    }

    /// Voting, revealed or completed.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The cards this round accepts (the room's deck when the round started or was
    /// last reset).
    pub fn deck(&self) -> &Deck {
        &self.deck
    }

    /// The live votes, **including hidden ones**: for persistence only. Anything
    /// shown to a person must go through [`crate::room::view_for`].
    pub fn votes(&self) -> &BTreeMap<ParticipantId, String> {
        &self.votes
    }

    /// When the round started.
    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }

    /// When the votes were revealed.
    pub fn revealed_at(&self) -> Option<Timestamp> {
        self.revealed_at
    }
}

/// One vote of a completed round, with the name its owner had at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryVote {
    /// Who voted.
    pub participant: ParticipantId,
    /// Their display name when the round completed.
    pub name: String,
    /// The card.
    pub card: String,
}

/// A completed round, as the history and exports show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Round number.
    pub round: u32,
    /// The story.
    pub topic: Option<String>,
    /// The queued story it estimated, if any.
    #[serde(default)]
    pub story: Option<StoryId>,
    /// The deck it was played with.
    pub deck: Deck,
    /// The votes, in join order of their owners.
    pub votes: Vec<HistoryVote>,
    /// What the room settled on, if recorded.
    pub final_estimate: Option<String>,
    /// [`stats::compute`] of `votes`.
    pub stats: Stats,
    /// When the votes were revealed.
    pub revealed_at: Timestamp,
    /// When the round completed.
    pub completed_at: Timestamp,
}

/// A shared countdown: everyone sees the same deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// Length of the countdown.
    pub duration_secs: u32,
    /// When it was started; `None` when stopped.
    pub started_at: Option<Timestamp>,
}

impl Timer {
    /// `started_at + duration`, when running.
    pub fn deadline(&self) -> Option<Timestamp> {
        self.started_at
            .map(|t| t.plus_secs(u64::from(self.duration_secs)))
    }
}

/// What the creator of a room chooses; the creator becomes its host.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRoom {
    /// The host's participant id.
    pub host: ParticipantId,
    /// The host's display name.
    pub host_name: String,
    /// Whether the host votes or only facilitates.
    pub host_role: Role,
    /// Optional room name.
    pub name: Option<String>,
    /// The deck.
    pub deck: DeckSpec,
    /// The settings.
    pub settings: Settings,
}

impl NewRoom {
    /// A room with a voting host, no name, the default deck and settings.
    pub fn new(host: ParticipantId, host_name: impl Into<String>) -> Self {
        Self {
            host,
            host_name: host_name.into(),
            host_role: Role::Voter,
            name: None,
            deck: DeckSpec::default(),
            settings: Settings::default(),
        }
    }
}

/// Everything a room can be asked to do. `by` is the participant acting (the hub
/// takes it from the authenticated session, never from the message).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// A new person takes a seat.
    Join {
        /// Their new id.
        participant: ParticipantId,
        /// Display name.
        name: String,
        /// Voter or spectator.
        role: Role,
    },
    /// Someone leaves for good (the host must transfer first).
    Leave {
        /// Who leaves.
        by: ParticipantId,
    },
    /// The hub reports a connection change.
    SetPresence {
        /// Whose connections changed.
        participant: ParticipantId,
        /// What happened.
        presence: PresenceChange,
    },
    /// Switch someone's role (themselves, or anyone for a moderator).
    SetRole {
        /// Who asks.
        by: ParticipantId,
        /// Whose role changes.
        participant: ParticipantId,
        /// The new role.
        role: Role,
    },
    /// Change one's own display name.
    SetName {
        /// Who renames themselves.
        by: ParticipantId,
        /// The new name.
        name: String,
    },
    /// Remove someone from the room (moderators; never the host).
    Kick {
        /// Who kicks.
        by: ParticipantId,
        /// Who is removed.
        participant: ParticipantId,
    },
    /// Grant or revoke co-host rights (host only).
    SetCoHost {
        /// Who asks.
        by: ParticipantId,
        /// Who is (un)named.
        participant: ParticipantId,
        /// Granted or revoked.
        co_host: bool,
    },
    /// Hand the host role to someone else; the old host becomes a co-host.
    TransferHost {
        /// The current host.
        by: ParticipantId,
        /// The new host.
        to: ParticipantId,
    },
    /// Rename the room (moderators); blank clears the name.
    RenameRoom {
        /// Who asks.
        by: ParticipantId,
        /// The new name.
        name: String,
    },
    /// Lock or unlock the room against new joins (moderators).
    Lock {
        /// Who asks.
        by: ParticipantId,
        /// Locked or not.
        locked: bool,
    },
    /// Replace the settings (host only).
    UpdateSettings {
        /// Who asks.
        by: ParticipantId,
        /// The new settings.
        settings: Settings,
    },
    /// Change the deck (moderators): between rounds, or clearing the current votes.
    ChangeDeck {
        /// Who asks.
        by: ParticipantId,
        /// The new deck.
        deck: DeckSpec,
        /// Clear the current round's votes so it can use the new deck right away.
        reset_votes: bool,
    },
    /// Set the current round's topic; blank clears it.
    SetTopic {
        /// Who asks.
        by: ParticipantId,
        /// The topic.
        topic: String,
    },
    /// Vote, or change one's vote, while voting.
    Vote {
        /// The voter.
        by: ParticipantId,
        /// A card label of the round's deck.
        card: String,
    },
    /// Take one's vote back while voting.
    ClearVote {
        /// The voter.
        by: ParticipantId,
    },
    /// Show everyone's votes.
    Reveal {
        /// Who asks.
        by: ParticipantId,
    },
    /// Clear the votes of the current round and vote again.
    Reset {
        /// Who asks.
        by: ParticipantId,
    },
    /// Record what the room settled on (moderators); completes a revealed round.
    RecordEstimate {
        /// Who asks.
        by: ParticipantId,
        /// The estimate, 1–24 characters (usually a card).
        estimate: String,
    },
    /// Start the next round, archiving the current one if it is only revealed.
    NextRound {
        /// Who asks.
        by: ParticipantId,
        /// The next story, if known.
        topic: Option<String>,
    },
    /// Configure (`Some`) or remove (`None`) the countdown (moderators).
    SetTimer {
        /// Who asks.
        by: ParticipantId,
        /// Length in seconds.
        duration_secs: Option<u32>,
    },
    /// Start (or restart) the countdown now (moderators).
    StartTimer {
        /// Who asks.
        by: ParticipantId,
    },
    /// Stop the countdown (moderators).
    StopTimer {
        /// Who asks.
        by: ParticipantId,
    },
    /// Append stories to the queue (moderators). A fresh round with no topic
    /// takes the first of them.
    AddStories {
        /// Who asks.
        by: ParticipantId,
        /// The stories, with their new ids.
        stories: Vec<NewStory>,
    },
    /// Change a story's title, key or link (moderators).
    EditStory {
        /// Who asks.
        by: ParticipantId,
        /// Which story.
        story: StoryId,
        /// New title.
        title: String,
        /// New key; blank clears it.
        key: Option<String>,
        /// New link; blank clears it.
        url: Option<String>,
    },
    /// Move a story to another place in the queue (moderators).
    MoveStory {
        /// Who asks.
        by: ParticipantId,
        /// Which story.
        story: StoryId,
        /// Its new position, from 0 (past the end means last).
        to: usize,
    },
    /// Take a story out of the queue (moderators); its rounds stay in the history.
    RemoveStory {
        /// Who asks.
        by: ParticipantId,
        /// Which story.
        story: StoryId,
    },
    /// Vote on this story now: out of order, or again (a re-estimate). Follows the
    /// next-round permission; refused while votes are being cast on another story.
    PlayStory {
        /// Who asks.
        by: ParticipantId,
        /// Which story.
        story: StoryId,
    },
    /// Leave the current story without an estimate and go on with the next one.
    /// Follows the next-round permission.
    SkipStory {
        /// Who asks.
        by: ParticipantId,
    },
    /// Time passes: the hub sends this periodically so that an expired countdown or
    /// an absent voter's grace period takes effect without anyone acting.
    Tick,
}

/// What changed, for the hub to persist and broadcast. Events never carry a card
/// of a hidden vote, so they can be broadcast as they are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Someone took a seat.
    Joined {
        /// Who.
        participant: ParticipantId,
    },
    /// Someone left.
    Left {
        /// Who.
        participant: ParticipantId,
    },
    /// Someone was removed by a moderator.
    Kicked {
        /// Who.
        participant: ParticipantId,
    },
    /// Someone's stored presence changed.
    PresenceChanged {
        /// Who.
        participant: ParticipantId,
        /// Now.
        presence: Presence,
    },
    /// Someone's role changed.
    RoleChanged {
        /// Who.
        participant: ParticipantId,
        /// New role.
        role: Role,
    },
    /// Someone renamed themselves.
    Renamed {
        /// Who.
        participant: ParticipantId,
    },
    /// Co-host rights granted or revoked.
    CoHostChanged {
        /// Who.
        participant: ParticipantId,
        /// Granted or revoked.
        co_host: bool,
    },
    /// The host role moved.
    HostTransferred {
        /// The old host (now co-host).
        from: ParticipantId,
        /// The new host.
        to: ParticipantId,
    },
    /// The room was renamed.
    RoomRenamed,
    /// The room was locked or unlocked.
    LockChanged {
        /// Locked or not.
        locked: bool,
    },
    /// The settings changed.
    SettingsChanged,
    /// The room's deck changed.
    DeckChanged,
    /// The current round's topic changed.
    TopicChanged {
        /// Round number.
        round: u32,
    },
    /// A voter voted or changed their vote (the card stays secret).
    Voted {
        /// Who.
        participant: ParticipantId,
    },
    /// A voter's vote was removed (taken back, role change, kick, leave).
    VoteCleared {
        /// Whose.
        participant: ParticipantId,
    },
    /// Every vote of the round was cleared.
    VotesCleared {
        /// Round number.
        round: u32,
    },
    /// The votes are public.
    Revealed {
        /// Round number.
        round: u32,
        /// Revealed by auto-reveal rather than by someone.
        auto: bool,
    },
    /// The round was archived into the history.
    RoundCompleted {
        /// Round number.
        round: u32,
    },
    /// A final estimate was recorded (or amended).
    EstimateRecorded {
        /// Round number.
        round: u32,
        /// The estimate.
        estimate: String,
    },
    /// A new round started.
    RoundStarted {
        /// Round number.
        round: u32,
    },
    /// The countdown was configured or removed.
    TimerChanged {
        /// Length, or `None` when removed.
        duration_secs: Option<u32>,
    },
    /// The countdown started.
    TimerStarted {
        /// When it ends.
        deadline: Timestamp,
    },
    /// The countdown was stopped before its end.
    TimerStopped,
    /// The countdown reached its deadline.
    TimerExpired,
    /// The story queue changed (stories added, edited, moved, removed, or one's
    /// status or estimate changed).
    QueueChanged,
}

/// Room actions that can be refused; named in [`RoomError::NotAllowed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Reveal votes.
    Reveal,
    /// Clear votes.
    Reset,
    /// Start the next round.
    NextRound,
    /// Edit the topic.
    EditTopic,
    /// Record the final estimate.
    RecordEstimate,
    /// Kick someone.
    Kick,
    /// Change someone else's role.
    ChangeRole,
    /// Name or remove co-hosts.
    ManageCoHosts,
    /// Transfer the host role.
    TransferHost,
    /// Rename the room.
    RenameRoom,
    /// Lock the room.
    Lock,
    /// Change settings.
    ChangeSettings,
    /// Change the deck.
    ChangeDeck,
    /// Run the countdown.
    Timer,
    /// Add, edit, reorder or remove stories.
    ManageStories,
    /// Leave the room.
    Leave,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Reveal => "reveal the votes",
            Action::Reset => "clear the votes",
            Action::NextRound => "start the next round",
            Action::EditTopic => "edit the topic",
            Action::RecordEstimate => "record the final estimate",
            Action::Kick => "remove this participant",
            Action::ChangeRole => "change someone else's role",
            Action::ManageCoHosts => "name or remove co-hosts",
            Action::TransferHost => "transfer the host role",
            Action::RenameRoom => "rename the room",
            Action::Lock => "lock or unlock the room",
            Action::ChangeSettings => "change the room settings",
            Action::ChangeDeck => "change the deck",
            Action::Timer => "run the timer",
            Action::ManageStories => "change the story queue",
            Action::Leave => "leave the room",
        })
    }
}

/// Why a command was refused; the room is unchanged. Messages say what to do.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RoomError {
    /// The acting or targeted participant is not in the room.
    #[error("participant {participant} is not in this room; join it first")]
    UnknownParticipant {
        /// The unknown id.
        participant: ParticipantId,
    },
    /// A join reused an id that already has a seat.
    #[error("participant {participant} already has a seat in this room; reconnect instead")]
    AlreadyJoined {
        /// The id.
        participant: ParticipantId,
    },
    /// The actor lacks the rights for this action.
    #[error("you may not {action} in this room; ask the host")]
    NotAllowed {
        /// What was refused.
        action: Action,
    },
    /// The room accepts no new participants.
    #[error("this room is locked: ask the host to unlock it")]
    RoomLocked,
    /// The room is full.
    #[error("this room is full ({max} participants)")]
    RoomFull {
        /// The limit.
        max: usize,
    },
    /// Spectators are disabled in this room.
    #[error("this room does not allow spectators; join as a voter")]
    SpectatorsNotAllowed,
    /// A display name is blank, too long or holds control characters.
    #[error("a name must be 1 to {max} characters, without control characters")]
    InvalidName {
        /// The limit.
        max: usize,
    },
    /// A room name is too long or holds control characters.
    #[error("a room name must be at most {max} characters, without control characters")]
    InvalidRoomName {
        /// The limit.
        max: usize,
    },
    /// A topic is too long.
    #[error("a topic must be at most {max} characters")]
    TopicTooLong {
        /// The limit.
        max: usize,
    },
    /// A final estimate is blank or too long.
    #[error("a final estimate must be 1 to {max} characters")]
    InvalidEstimate {
        /// The limit.
        max: usize,
    },
    /// The card is not in the round's deck.
    #[error("{card:?} is not a card of this deck; pick one of the deck's cards")]
    UnknownCard {
        /// The card asked for.
        card: String,
    },
    /// Votes can only change while the round is voting.
    #[error("votes can only change while voting (the round is {phase}); wait for the next round")]
    NotVoting {
        /// The current phase.
        phase: Phase,
    },
    /// Spectators do not vote.
    #[error("spectators cannot vote; switch to voter first")]
    SpectatorCannotVote,
    /// Revealing needs at least one vote.
    #[error("nobody has voted yet; there is nothing to reveal")]
    NoVotes,
    /// The action does not apply in the current phase.
    #[error("cannot {action} while the round is {phase}")]
    WrongPhase {
        /// What was asked.
        action: Action,
        /// The current phase.
        phase: Phase,
    },
    /// The deck can only change between rounds or when clearing the votes.
    #[error(
        "votes were cast with the current deck; change the deck with reset_votes, or after the round"
    )]
    DeckChangeNeedsReset,
    /// The new deck is invalid.
    #[error(transparent)]
    InvalidDeck(#[from] DeckError),
    /// The countdown length is out of range.
    #[error("a timer lasts {min} to {max} seconds")]
    InvalidTimer {
        /// Shortest.
        min: u32,
        /// Longest.
        max: u32,
    },
    /// No countdown is configured.
    #[error("no timer is set; set a duration first")]
    NoTimer,
    /// The host cannot leave without handing over.
    #[error("the host cannot leave; transfer the host role first")]
    HostCannotLeave,
    /// A story was refused or is unknown.
    #[error(transparent)]
    Story(#[from] StoryError),
    /// Another story cannot start while votes are being cast.
    #[error("votes are being cast on this story; reveal or clear them first")]
    RoundInProgress,
    /// Skipping needs a story on the table.
    #[error("this round has no story from the queue to skip")]
    NoStory,
    /// The command targets its own author where that makes no sense.
    #[error("you cannot {action} yourself")]
    SelfTarget {
        /// What was asked.
        action: Action,
    },
}

/// A whole room: people, settings, deck, the current round and the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomState {
    name: Option<String>,
    host: ParticipantId,
    participants: Vec<Participant>,
    settings: Settings,
    locked: bool,
    deck: Deck,
    round: Round,
    /// Shared until changed: every command copies the room, and the history only
    /// grows when a round completes.
    history: Arc<Vec<HistoryEntry>>,
    timer: Option<Timer>,
    last_activity: Timestamp,
    /// The story queue.
    /// Shared until changed, like the history: votes copy the room often.
    #[serde(default)]
    queue: Arc<Queue>,
}

/// A stored room's parts, for [`RoomState::restore`]: what the store reads back
/// from its rows, so that a restart (or an admin edit) gives back the same room.
#[derive(Debug, Clone)]
pub struct StoredRoom {
    /// Room name.
    pub name: Option<String>,
    /// The host.
    pub host: ParticipantId,
    /// Everyone, in join order.
    pub participants: Vec<Participant>,
    /// The settings.
    pub settings: Settings,
    /// Whether joins are refused.
    pub locked: bool,
    /// The room's deck.
    pub deck: DeckSpec,
    /// Current round number.
    pub round_number: u32,
    /// Current round topic.
    pub round_topic: Option<String>,
    /// Current round phase.
    pub round_phase: Phase,
    /// The deck the current round is played with.
    pub round_deck: DeckSpec,
    /// The current round's votes.
    pub round_votes: BTreeMap<ParticipantId, String>,
    /// When the current round started.
    pub round_started_at: Timestamp,
    /// When the current round was revealed.
    pub round_revealed_at: Option<Timestamp>,
    /// Completed rounds, oldest first (stats are recomputed).
    pub history: Vec<HistoryEntry>,
    /// The countdown's length, if one is configured.
    pub timer_secs: Option<u32>,
    /// When the countdown was started, if it is running (it keeps counting across
    /// a restart; one that ended meanwhile expires at the next tick).
    pub timer_started_at: Option<Timestamp>,
    /// Last activity.
    pub last_activity: Timestamp,
    /// The story queue, in order.
    pub stories: Vec<stories::Story>,
    /// The current round's story.
    pub round_story: Option<StoryId>,
}

/// Applies a command; see [`RoomState::apply`].
pub fn apply(
    state: &RoomState,
    command: Command,
    now: Timestamp,
) -> Result<(RoomState, Vec<Event>), RoomError> {
    state.apply(command, now)
}

impl RoomState {
    /// Creates a room whose host is the creator, in round 1, voting.
    pub fn new(setup: NewRoom, now: Timestamp) -> Result<Self, RoomError> {
        let deck = Deck::new(setup.deck)?;
        let host = Participant {
            id: setup.host.clone(),
            name: display_name(&setup.host_name)?,
            role: setup.host_role,
            co_host: false,
            presence: Presence::Online,
            joined_at: now,
        };
        Ok(Self {
            name: room_name(setup.name.as_deref().unwrap_or(""))?,
            host: setup.host,
            participants: vec![host],
            settings: setup.settings,
            locked: false,
            round: Round::new(1, None, deck.clone(), now),
            deck,
            history: Arc::default(),
            timer: None,
            last_activity: now,
            queue: Arc::default(),
        })
    }

    /// Rebuilds a room from its stored parts. Rows an admin edited into
    /// nonsense are repaired where the fix is obvious (a vote by a spectator or
    /// for a card the deck lacks is dropped, a revealed round without votes goes
    /// back to voting); anything else is refused with the broken invariants.
    pub fn restore(stored: StoredRoom) -> Result<Self, Vec<String>> {
        let deck = Deck::new(stored.deck).map_err(|e| vec![format!("deck: {e}")])?;
        let round_deck = Deck::new(stored.round_deck).unwrap_or_else(|_| deck.clone());
        let voters: Vec<&ParticipantId> = stored
            .participants
            .iter()
            .filter(|p| p.role == Role::Voter)
            .map(|p| &p.id)
            .collect();
        let mut votes = stored.round_votes;
        votes.retain(|who, card| voters.contains(&who) && round_deck.contains(card));
        let mut phase = stored.round_phase;
        let mut revealed_at = stored.round_revealed_at;
        match phase {
            Phase::Voting => revealed_at = None,
            Phase::Revealed if votes.is_empty() => {
                phase = Phase::Voting;
                revealed_at = None;
            }
            Phase::Revealed => revealed_at = revealed_at.or(Some(stored.round_started_at)),
            Phase::Completed => {
                votes.clear();
                revealed_at = revealed_at.or(Some(stored.round_started_at));
            }
        }
        let mut history = stored.history;
        for entry in &mut history {
            entry.stats = stats::compute(
                &entry.deck,
                entry
                    .votes
                    .iter()
                    .map(|v| (&v.participant, v.card.as_str())),
            );
        }
        let mut queue = stored.stories;
        let round_story = stored
            .round_story
            .filter(|id| queue.iter().any(|s| &s.id == id));
        for story in &mut queue {
            // Only the round's story can be on the table; an estimate survives.
            if story.status == StoryStatus::Active && round_story.as_ref() != Some(&story.id) {
                story.status = if story.estimate.is_some() {
                    StoryStatus::Estimated
                } else {
                    StoryStatus::Pending
                };
            }
            if story.status == StoryStatus::Estimated && story.estimate.is_none() {
                story.status = StoryStatus::Skipped;
            }
        }
        for story in &mut queue {
            let rounds = history
                .iter()
                .filter(|h| h.story.as_ref() == Some(&story.id))
                .count();
            story.rounds = u32::try_from(rounds).unwrap_or(u32::MAX);
        }
        let mut participants = stored.participants;
        for p in &mut participants {
            if p.id == stored.host {
                p.co_host = false;
            }
        }
        let state = Self {
            name: stored.name.filter(|n| !n.trim().is_empty()),
            host: stored.host,
            participants,
            settings: stored.settings,
            locked: stored.locked,
            deck,
            round: Round {
                number: stored.round_number.max(1),
                topic: stored.round_topic.filter(|t| !t.is_empty()),
                story: round_story,
                phase,
                deck: round_deck,
                votes,
                started_at: stored.round_started_at,
                revealed_at,
                changed: BTreeSet::new(),
            },
            history: Arc::new(history),
            timer: stored
                .timer_secs
                .filter(|d| (MIN_TIMER_SECS..=MAX_TIMER_SECS).contains(d))
                .map(|duration_secs| Timer {
                    duration_secs,
                    started_at: stored.timer_started_at,
                }),
            last_activity: stored.last_activity,
            queue: Arc::new(Queue::from_stories(queue)),
        };
        let problems = state.invariant_violations();
        if problems.is_empty() {
            Ok(state)
        } else {
            Err(problems)
        }
    }

    /// Applies one command at `now`: the new room and what changed, or why not.
    ///
    /// `self` is never modified, so on error the caller simply keeps its state.
    /// After every accepted command auto-reveal is re-evaluated at `now`.
    pub fn apply(
        &self,
        command: Command,
        now: Timestamp,
    ) -> Result<(RoomState, Vec<Event>), RoomError> {
        let mut next = self.clone();
        let mut events = Vec::new();
        let is_tick = command == Command::Tick;
        next.execute(command, now, &mut events)?;
        next.auto_reveal(now, &mut events);
        if !is_tick {
            next.last_activity = now;
        }
        Ok((next, events))
    }

    /// The room's name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The host's id.
    pub fn host(&self) -> &ParticipantId {
        &self.host
    }

    /// Everyone in the room, in join order.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    /// One participant.
    pub fn participant(&self, id: &ParticipantId) -> Option<&Participant> {
        self.participants.iter().find(|p| &p.id == id)
    }

    /// Whether `id` is the host or a co-host.
    pub fn is_moderator(&self, id: &ParticipantId) -> bool {
        &self.host == id || self.participant(id).is_some_and(|p| p.co_host)
    }

    /// Whether `id` may perform an action governed by `permission`: moderators
    /// always; with [`Permission::Everyone`], every voter too, never a spectator
    /// who is not a moderator.
    pub fn permits(&self, id: &ParticipantId, permission: Permission) -> bool {
        match permission {
            Permission::Hosts => self.is_moderator(id),
            Permission::Everyone => {
                self.is_moderator(id) || self.participant(id).is_some_and(|p| p.role == Role::Voter)
            }
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether new joins are refused.
    pub fn locked(&self) -> bool {
        self.locked
    }

    /// The room's deck (used by the next round; the current round has its own).
    pub fn deck(&self) -> &Deck {
        &self.deck
    }

    /// The current round.
    pub fn round(&self) -> &Round {
        &self.round
    }

    /// The history as shared with views (a reference count, not a copy).
    pub fn history_shared(&self) -> Arc<Vec<HistoryEntry>> {
        self.history.clone()
    }

    /// Completed rounds, oldest first.
    pub fn history(&self) -> &[HistoryEntry] {
        self.history.as_slice()
    }

    /// The countdown, if configured.
    pub fn timer(&self) -> Option<&Timer> {
        self.timer.as_ref()
    }

    /// Counts `now` as activity without any command: people connected to the room
    /// keep it alive even while they only watch (the hub calls this every few
    /// minutes while someone is connected). Time never goes back.
    pub fn keep_alive(&mut self, now: Timestamp) {
        self.last_activity = self.last_activity.max(now);
    }

    /// The story queue.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The story queue, shared (views hold it without copying).
    pub fn queue_shared(&self) -> Arc<Queue> {
        self.queue.clone()
    }

    /// When someone last did something (ticks excluded): drives room expiry.
    pub fn last_activity(&self) -> Timestamp {
        self.last_activity
    }

    /// Lists every broken invariant (empty when the room is sound). Used by the
    /// tests after every step, and by the hub after restoring a snapshot.
    pub fn invariant_violations(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut problem = |ok: bool, what: String| {
            if !ok {
                problems.push(what);
            }
        };
        match self.participant(&self.host) {
            Some(host) => problem(!host.co_host, "the host is also a co-host".into()),
            None => problem(false, format!("host {} is not a participant", self.host)),
        }
        for (i, p) in self.participants.iter().enumerate() {
            problem(
                self.participants[..i].iter().all(|q| q.id != p.id),
                format!("participant {} appears twice", p.id),
            );
            problem(
                display_name(&p.name).as_deref() == Ok(p.name.as_str()),
                format!("participant {} has an invalid name", p.id),
            );
        }
        problem(
            self.participants.len() <= MAX_PARTICIPANTS,
            "too many participants".into(),
        );
        let round = &self.round;
        problem(round.number >= 1, "round number 0".into());
        for (who, card) in &round.votes {
            match self.participant(who) {
                Some(p) => problem(p.role == Role::Voter, format!("spectator {who} voted")),
                None => problem(false, format!("vote from non-participant {who}")),
            }
            problem(
                round.deck.contains(card),
                format!("vote {card:?} is not in the deck"),
            );
        }
        problem(
            round
                .changed
                .iter()
                .all(|who| round.votes.contains_key(who)),
            "a changed-vote mark without a vote".into(),
        );
        problem(
            round.phase == Phase::Voting || round.revealed_at.is_some(),
            "a revealed round without a reveal time".into(),
        );
        problem(
            round.phase != Phase::Voting || round.revealed_at.is_none(),
            "a voting round with a reveal time".into(),
        );
        problem(
            round.phase != Phase::Revealed || !round.votes.is_empty(),
            "a revealed round without votes".into(),
        );
        if round.phase == Phase::Completed {
            problem(
                round.votes.is_empty(),
                "a completed round kept live votes".into(),
            );
            problem(
                self.history.last().map(|h| h.round) == Some(round.number),
                "a completed round missing from the history".into(),
            );
        } else {
            problem(
                self.history.iter().all(|h| h.round < round.number),
                "history mentions the current round".into(),
            );
        }
        problem(
            self.history.windows(2).all(|w| w[0].round < w[1].round),
            "history out of order".into(),
        );
        for entry in self.history.iter() {
            let votes = entry
                .votes
                .iter()
                .map(|v| (&v.participant, v.card.as_str()));
            problem(
                entry.stats == stats::compute(&entry.deck, votes),
                format!("round {} stats are stale", entry.round),
            );
        }
        problem(
            round
                .topic
                .as_ref()
                .is_none_or(|t| t.chars().count() <= MAX_TOPIC_CHARS),
            "topic too long".into(),
        );
        problem(
            self.timer
                .is_none_or(|t| (MIN_TIMER_SECS..=MAX_TIMER_SECS).contains(&t.duration_secs)),
            "timer out of range".into(),
        );
        for story in self.queue.stories() {
            problem(
                story.status != StoryStatus::Active || round.story.as_ref() == Some(&story.id),
                format!("story {} is active but not the round's", story.id),
            );
        }
        problem(
            round
                .story
                .as_ref()
                .is_none_or(|id| self.queue.get(id).is_some()),
            "the round's story is not in the queue".into(),
        );
        problems.extend(self.queue.violations());
        problems
    }

    fn execute(
        &mut self,
        command: Command,
        now: Timestamp,
        events: &mut Vec<Event>,
    ) -> Result<(), RoomError> {
        match command {
            Command::Join {
                participant,
                name,
                role,
            } => {
                if self.participant(&participant).is_some() {
                    return Err(RoomError::AlreadyJoined { participant });
                }
                if self.locked {
                    return Err(RoomError::RoomLocked);
                }
                if self.participants.len() >= MAX_PARTICIPANTS {
                    return Err(RoomError::RoomFull {
                        max: MAX_PARTICIPANTS,
                    });
                }
                let name = display_name(&name)?;
                if role == Role::Spectator && !self.settings.allow_spectators {
                    return Err(RoomError::SpectatorsNotAllowed);
                }
                self.participants.push(Participant {
                    id: participant.clone(),
                    name,
                    role,
                    co_host: false,
                    presence: Presence::Online,
                    joined_at: now,
                });
                events.push(Event::Joined { participant });
            }
            Command::Leave { by } => {
                self.member(&by)?;
                if by == self.host {
                    return Err(RoomError::HostCannotLeave);
                }
                self.remove(&by, events);
                events.push(Event::Left { participant: by });
            }
            Command::SetPresence {
                participant,
                presence,
            } => {
                let p = self.member_mut(&participant)?;
                let next = match (presence, p.presence) {
                    (PresenceChange::Online, _) => Presence::Online,
                    (PresenceChange::Away, Presence::Away { since }) => Presence::Away { since },
                    (PresenceChange::Away, _) => Presence::Away { since: now },
                    (PresenceChange::Gone, _) => Presence::Gone,
                };
                if next != p.presence {
                    p.presence = next;
                    events.push(Event::PresenceChanged {
                        participant,
                        presence: next,
                    });
                }
            }
            Command::SetRole {
                by,
                participant,
                role,
            } => {
                self.member(&by)?;
                self.member(&participant)?;
                // Moderators may move others, but like kicks, never the host, and
                // co-hosts never each other.
                let outranked = participant == self.host
                    || (by != self.host && self.is_moderator(&participant));
                if by != participant && (!self.is_moderator(&by) || outranked) {
                    return Err(RoomError::NotAllowed {
                        action: Action::ChangeRole,
                    });
                }
                if role == Role::Spectator
                    && !self.settings.allow_spectators
                    && !self.is_moderator(&participant)
                {
                    return Err(RoomError::SpectatorsNotAllowed);
                }
                let p = self.member_mut(&participant)?;
                if p.role != role {
                    p.role = role;
                    if role == Role::Spectator && self.round.votes.remove(&participant).is_some() {
                        self.round.changed.remove(&participant);
                        events.push(Event::VoteCleared {
                            participant: participant.clone(),
                        });
                        if self.round.phase == Phase::Revealed && self.round.votes.is_empty() {
                            self.back_to_voting();
                            events.push(Event::VotesCleared {
                                round: self.round.number,
                            });
                        }
                    }
                    events.push(Event::RoleChanged { participant, role });
                }
            }
            Command::SetName { by, name } => {
                let name = display_name(&name)?;
                let p = self.member_mut(&by)?;
                if p.name != name {
                    p.name = name;
                    events.push(Event::Renamed { participant: by });
                }
            }
            Command::Kick { by, participant } => {
                self.require_moderator(&by, Action::Kick)?;
                self.member(&participant)?;
                if by == participant {
                    return Err(RoomError::SelfTarget {
                        action: Action::Kick,
                    });
                }
                // Nobody kicks the host; co-hosts cannot kick each other.
                if participant == self.host || (by != self.host && self.is_moderator(&participant))
                {
                    return Err(RoomError::NotAllowed {
                        action: Action::Kick,
                    });
                }
                self.remove(&participant, events);
                events.push(Event::Kicked { participant });
            }
            Command::SetCoHost {
                by,
                participant,
                co_host,
            } => {
                self.require_host(&by, Action::ManageCoHosts)?;
                self.member(&participant)?;
                if participant == self.host {
                    return Err(RoomError::SelfTarget {
                        action: Action::ManageCoHosts,
                    });
                }
                let p = self.member_mut(&participant)?;
                if p.co_host != co_host {
                    p.co_host = co_host;
                    events.push(Event::CoHostChanged {
                        participant,
                        co_host,
                    });
                }
            }
            Command::TransferHost { by, to } => {
                self.require_host(&by, Action::TransferHost)?;
                self.member(&to)?;
                if to == by {
                    return Err(RoomError::SelfTarget {
                        action: Action::TransferHost,
                    });
                }
                self.member_mut(&to)?.co_host = false;
                self.member_mut(&by)?.co_host = true;
                self.host = to.clone();
                events.push(Event::HostTransferred { from: by, to });
            }
            Command::RenameRoom { by, name } => {
                self.require_moderator(&by, Action::RenameRoom)?;
                let name = room_name(&name)?;
                if name != self.name {
                    self.name = name;
                    events.push(Event::RoomRenamed);
                }
            }
            Command::Lock { by, locked } => {
                self.require_moderator(&by, Action::Lock)?;
                if self.locked != locked {
                    self.locked = locked;
                    events.push(Event::LockChanged { locked });
                }
            }
            Command::UpdateSettings { by, settings } => {
                self.require_host(&by, Action::ChangeSettings)?;
                if self.settings != settings {
                    self.settings = settings;
                    events.push(Event::SettingsChanged);
                }
            }
            Command::ChangeDeck {
                by,
                deck,
                reset_votes,
            } => {
                self.require_moderator(&by, Action::ChangeDeck)?;
                let deck = Deck::new(deck)?;
                match self.round.phase {
                    Phase::Completed => {}
                    Phase::Voting if self.round.votes.is_empty() => {
                        self.round.deck = deck.clone();
                    }
                    Phase::Voting | Phase::Revealed if reset_votes => {
                        self.back_to_voting();
                        self.round.deck = deck.clone();
                        events.push(Event::VotesCleared {
                            round: self.round.number,
                        });
                    }
                    Phase::Voting | Phase::Revealed => return Err(RoomError::DeckChangeNeedsReset),
                }
                self.deck = deck;
                events.push(Event::DeckChanged);
            }
            Command::SetTopic { by, topic } => {
                self.require_permission(&by, self.settings.edit_topic, Action::EditTopic)?;
                if self.round.phase == Phase::Completed {
                    return Err(RoomError::WrongPhase {
                        action: Action::EditTopic,
                        phase: Phase::Completed,
                    });
                }
                let topic = topic_text(&topic)?;
                if topic != self.round.topic {
                    self.round.topic = topic;
                    events.push(Event::TopicChanged {
                        round: self.round.number,
                    });
                }
            }
            Command::Vote { by, card } => {
                self.require_can_vote(&by)?;
                let card = card.trim();
                if !self.round.deck.contains(card) {
                    return Err(RoomError::UnknownCard {
                        card: card.to_owned(),
                    });
                }
                if self.round.votes.get(&by).map(String::as_str) != Some(card) {
                    if self
                        .round
                        .votes
                        .insert(by.clone(), card.to_owned())
                        .is_some()
                    {
                        self.round.changed.insert(by.clone());
                    }
                    events.push(Event::Voted { participant: by });
                }
            }
            Command::ClearVote { by } => {
                self.require_can_vote(&by)?;
                if self.round.votes.remove(&by).is_some() {
                    self.round.changed.remove(&by);
                    events.push(Event::VoteCleared { participant: by });
                }
            }
            Command::Reveal { by } => {
                self.require_permission(&by, self.settings.reveal, Action::Reveal)?;
                if self.round.phase != Phase::Voting {
                    return Err(RoomError::WrongPhase {
                        action: Action::Reveal,
                        phase: self.round.phase,
                    });
                }
                if self.round.votes.is_empty() {
                    return Err(RoomError::NoVotes);
                }
                self.reveal(now, false, events);
            }
            Command::Reset { by } => {
                self.require_permission(&by, self.settings.reset, Action::Reset)?;
                if self.round.phase == Phase::Completed {
                    return Err(RoomError::WrongPhase {
                        action: Action::Reset,
                        phase: Phase::Completed,
                    });
                }
                self.back_to_voting();
                events.push(Event::VotesCleared {
                    round: self.round.number,
                });
            }
            Command::RecordEstimate { by, estimate } => {
                self.require_moderator(&by, Action::RecordEstimate)?;
                let estimate = estimate.trim();
                if estimate.is_empty() || estimate.chars().count() > MAX_ESTIMATE_CHARS {
                    return Err(RoomError::InvalidEstimate {
                        max: MAX_ESTIMATE_CHARS,
                    });
                }
                match self.round.phase {
                    Phase::Voting => {
                        return Err(RoomError::WrongPhase {
                            action: Action::RecordEstimate,
                            phase: Phase::Voting,
                        });
                    }
                    Phase::Revealed => self.complete(Some(estimate.to_owned()), now, events),
                    Phase::Completed => {
                        if let Some(entry) = Arc::make_mut(&mut self.history).last_mut() {
                            entry.final_estimate = Some(estimate.to_owned());
                        }
                    }
                }
                if let Some(id) = self.round.story.clone() {
                    let story = Arc::make_mut(&mut self.queue).get_mut(&id)?;
                    story.estimate = Some(estimate.to_owned());
                    story.status = StoryStatus::Estimated;
                    events.push(Event::QueueChanged);
                }
                events.push(Event::EstimateRecorded {
                    round: self.round.number,
                    estimate: estimate.to_owned(),
                });
            }
            Command::NextRound { by, topic } => {
                self.require_permission(&by, self.settings.next_round, Action::NextRound)?;
                let topic = topic_text(topic.as_deref().unwrap_or(""))?;
                match self.round.phase {
                    Phase::Voting => {
                        return Err(RoomError::WrongPhase {
                            action: Action::NextRound,
                            phase: Phase::Voting,
                        });
                    }
                    Phase::Revealed | Phase::Completed => {}
                }
                let story = match topic {
                    Some(_) => None,
                    None => self.queue.next_pending().map(|s| s.id.clone()),
                };
                self.start_round(story, topic, now, events);
            }
            Command::AddStories { by, stories } => {
                self.require_moderator(&by, Action::ManageStories)?;
                if stories.is_empty() {
                    return Ok(());
                }
                Arc::make_mut(&mut self.queue).add(stories)?;
                events.push(Event::QueueChanged);
                let fresh = self.round.phase == Phase::Voting
                    && self.round.votes.is_empty()
                    && self.round.topic.is_none()
                    && self.round.story.is_none();
                if fresh {
                    let first = self.queue.next_pending().map(|s| s.id.clone());
                    self.take_story(first, events);
                }
            }
            Command::EditStory {
                by,
                story,
                title,
                key,
                url,
            } => {
                self.require_moderator(&by, Action::ManageStories)?;
                let title = stories::title_text(&title)?;
                let key = stories::key_text(key.as_deref())?;
                let url = stories::url_text(url.as_deref())?;
                let entry = Arc::make_mut(&mut self.queue).get_mut(&story)?;
                if (&entry.title, &entry.key, &entry.url) != (&title, &key, &url) {
                    entry.title = title.clone();
                    entry.key = key;
                    entry.url = url;
                    events.push(Event::QueueChanged);
                }
                let on_table = self.round.story.as_ref() == Some(&story)
                    && self.round.phase != Phase::Completed;
                if on_table && self.round.topic.as_deref() != Some(title.as_str()) {
                    self.round.topic = Some(title);
                    events.push(Event::TopicChanged {
                        round: self.round.number,
                    });
                }
            }
            Command::MoveStory { by, story, to } => {
                self.require_moderator(&by, Action::ManageStories)?;
                if Arc::make_mut(&mut self.queue).move_to(&story, to)? {
                    events.push(Event::QueueChanged);
                }
            }
            Command::RemoveStory { by, story } => {
                self.require_moderator(&by, Action::ManageStories)?;
                Arc::make_mut(&mut self.queue).remove(&story)?;
                if self.round.story.as_ref() == Some(&story) {
                    self.round.story = None;
                }
                events.push(Event::QueueChanged);
            }
            Command::PlayStory { by, story } => {
                self.require_permission(&by, self.settings.next_round, Action::NextRound)?;
                if self.queue.get(&story).is_none() {
                    return Err(StoryError::UnknownStory { story }.into());
                }
                if self.round.phase != Phase::Voting {
                    self.start_round(Some(story), None, now, events);
                } else if self.round.story.as_ref() != Some(&story) {
                    if !self.round.votes.is_empty() {
                        return Err(RoomError::RoundInProgress);
                    }
                    self.release_story(false, events);
                    self.take_story(Some(story), events);
                }
            }
            Command::SkipStory { by } => {
                self.require_permission(&by, self.settings.next_round, Action::NextRound)?;
                if self.round.story.is_none() {
                    return Err(RoomError::NoStory);
                }
                let next = |queue: &Queue| queue.next_pending().map(|s| s.id.clone());
                match self.round.phase {
                    Phase::Completed => {
                        return Err(RoomError::WrongPhase {
                            action: Action::NextRound,
                            phase: Phase::Completed,
                        });
                    }
                    Phase::Revealed => {
                        // The votes shown stay in the history; the story is left unestimated.
                        self.complete(None, now, events);
                        let story = next(&self.queue);
                        self.start_round(story, None, now, events);
                    }
                    Phase::Voting => {
                        if !self.round.votes.is_empty() {
                            self.back_to_voting();
                            events.push(Event::VotesCleared {
                                round: self.round.number,
                            });
                        }
                        self.stop_timer(events);
                        self.release_story(true, events);
                        self.round.story = None;
                        self.round.topic = None;
                        let story = next(&self.queue);
                        self.take_story(story, events);
                        events.push(Event::TopicChanged {
                            round: self.round.number,
                        });
                    }
                }
            }
            Command::SetTimer { by, duration_secs } => {
                self.require_moderator(&by, Action::Timer)?;
                let timer = match duration_secs {
                    None => None,
                    Some(d) if (MIN_TIMER_SECS..=MAX_TIMER_SECS).contains(&d) => Some(Timer {
                        duration_secs: d,
                        started_at: None,
                    }),
                    Some(_) => {
                        return Err(RoomError::InvalidTimer {
                            min: MIN_TIMER_SECS,
                            max: MAX_TIMER_SECS,
                        });
                    }
                };
                self.timer = timer;
                events.push(Event::TimerChanged { duration_secs });
            }
            Command::StartTimer { by } => {
                self.require_moderator(&by, Action::Timer)?;
                let timer = self.timer.as_mut().ok_or(RoomError::NoTimer)?;
                timer.started_at = Some(now);
                let deadline = timer.deadline().unwrap_or(now);
                events.push(Event::TimerStarted { deadline });
            }
            Command::StopTimer { by } => {
                self.require_moderator(&by, Action::Timer)?;
                if self.timer.is_none() {
                    return Err(RoomError::NoTimer);
                }
                self.stop_timer(events);
            }
            Command::Tick => {
                let expired = self
                    .timer
                    .and_then(|t| t.deadline())
                    .is_some_and(|deadline| now >= deadline);
                if let (true, Some(timer)) = (expired, self.timer.as_mut()) {
                    timer.started_at = None;
                    events.push(Event::TimerExpired);
                }
            }
        }
        Ok(())
    }

    fn member(&self, id: &ParticipantId) -> Result<&Participant, RoomError> {
        self.participant(id)
            .ok_or_else(|| RoomError::UnknownParticipant {
                participant: id.clone(),
            })
    }

    fn member_mut(&mut self, id: &ParticipantId) -> Result<&mut Participant, RoomError> {
        self.participants
            .iter_mut()
            .find(|p| &p.id == id)
            .ok_or_else(|| RoomError::UnknownParticipant {
                participant: id.clone(),
            })
    }

    fn require_host(&self, by: &ParticipantId, action: Action) -> Result<(), RoomError> {
        self.member(by)?;
        if by == &self.host {
            Ok(())
        } else {
            Err(RoomError::NotAllowed { action })
        }
    }

    fn require_moderator(&self, by: &ParticipantId, action: Action) -> Result<(), RoomError> {
        self.require_permission(by, Permission::Hosts, action)
    }

    fn require_permission(
        &self,
        by: &ParticipantId,
        permission: Permission,
        action: Action,
    ) -> Result<(), RoomError> {
        self.member(by)?;
        if self.permits(by, permission) {
            Ok(())
        } else {
            Err(RoomError::NotAllowed { action })
        }
    }

    fn require_can_vote(&self, by: &ParticipantId) -> Result<(), RoomError> {
        if self.member(by)?.role != Role::Voter {
            return Err(RoomError::SpectatorCannotVote);
        }
        if self.round.phase != Phase::Voting {
            return Err(RoomError::NotVoting {
                phase: self.round.phase,
            });
        }
        Ok(())
    }

    /// Removes a participant and their live vote. A revealed round left without
    /// votes goes back to voting (a revealed round always shows some votes).
    fn remove(&mut self, id: &ParticipantId, events: &mut Vec<Event>) {
        self.participants.retain(|p| &p.id != id);
        self.round.changed.remove(id);
        if self.round.votes.remove(id).is_some() {
            events.push(Event::VoteCleared {
                participant: id.clone(),
            });
            if self.round.phase == Phase::Revealed && self.round.votes.is_empty() {
                self.back_to_voting();
                events.push(Event::VotesCleared {
                    round: self.round.number,
                });
            }
        }
    }

    fn back_to_voting(&mut self) {
        self.round.votes.clear();
        self.round.changed.clear();
        self.round.phase = Phase::Voting;
        self.round.revealed_at = None;
    }

    fn reveal(&mut self, now: Timestamp, auto: bool, events: &mut Vec<Event>) {
        self.round.phase = Phase::Revealed;
        self.round.revealed_at = Some(now);
        self.stop_timer(events);
        events.push(Event::Revealed {
            round: self.round.number,
            auto,
        });
    }

    /// Reveals when auto-reveal is on and every present voter has voted. Absent
    /// voters (gone, or away past the grace period) do not hold the round up.
    fn auto_reveal(&mut self, now: Timestamp, events: &mut Vec<Event>) {
        if !self.settings.auto_reveal
            || self.round.phase != Phase::Voting
            || self.round.votes.is_empty()
        {
            return;
        }
        let everyone_voted = self
            .participants
            .iter()
            .filter(|p| p.role == Role::Voter && p.is_present(now))
            .all(|p| self.round.votes.contains_key(&p.id));
        if everyone_voted {
            self.reveal(now, true, events);
        }
    }

    /// Archives the revealed round into the history, votes in join order.
    fn complete(&mut self, estimate: Option<String>, now: Timestamp, events: &mut Vec<Event>) {
        let votes: Vec<HistoryVote> = self
            .participants
            .iter()
            .filter_map(|p| {
                self.round.votes.get(&p.id).map(|card| HistoryVote {
                    participant: p.id.clone(),
                    name: p.name.clone(),
                    card: card.clone(),
                })
            })
            .collect();
        let stats = stats::compute(
            &self.round.deck,
            votes.iter().map(|v| (&v.participant, v.card.as_str())),
        );
        Arc::make_mut(&mut self.history).push(HistoryEntry {
            round: self.round.number,
            topic: self.round.topic.clone(),
            story: self.round.story.clone(),
            deck: self.round.deck.clone(),
            votes,
            final_estimate: estimate,
            stats,
            revealed_at: self.round.revealed_at.unwrap_or(now),
            completed_at: now,
        });
        if let Some(id) = self.round.story.clone()
            && let Ok(story) = Arc::make_mut(&mut self.queue).get_mut(&id)
        {
            story.rounds = story.rounds.saturating_add(1);
            events.push(Event::QueueChanged);
        }
        self.round.votes.clear();
        self.round.changed.clear();
        self.round.phase = Phase::Completed;
        events.push(Event::RoundCompleted {
            round: self.round.number,
        });
    }

    /// Starts the next round on `story` (whose title becomes the topic) or on
    /// `topic`: a revealed round is archived without an estimate first, and the
    /// story being left is settled.
    fn start_round(
        &mut self,
        story: Option<StoryId>,
        topic: Option<String>,
        now: Timestamp,
        events: &mut Vec<Event>,
    ) {
        if self.round.phase == Phase::Revealed {
            self.complete(None, now, events);
        }
        self.stop_timer(events);
        self.release_story(true, events);
        self.round = Round::new(self.round.number + 1, topic, self.deck.clone(), now);
        self.take_story(story, events);
        events.push(Event::RoundStarted {
            round: self.round.number,
        });
    }

    /// Settles the story the round is leaving: estimated if it ever got an
    /// estimate, else skipped once the team voted on it or passed it over
    /// (`passed`), else waiting again.
    fn release_story(&mut self, passed: bool, events: &mut Vec<Event>) {
        let Some(id) = self.round.story.clone() else {
            return;
        };
        if let Ok(story) = Arc::make_mut(&mut self.queue).get_mut(&id) {
            let next = if story.estimate.is_some() {
                StoryStatus::Estimated
            } else if passed {
                StoryStatus::Skipped
            } else {
                StoryStatus::Pending
            };
            if story.status != next {
                story.status = next;
                events.push(Event::QueueChanged);
            }
        }
        self.round.story = None;
    }

    /// Puts a story on the table of the current (fresh) round: its title
    /// becomes the topic. `None` leaves the round as it is.
    fn take_story(&mut self, story: Option<StoryId>, events: &mut Vec<Event>) {
        let Some(id) = story else {
            return;
        };
        let Ok(entry) = Arc::make_mut(&mut self.queue).get_mut(&id) else {
            return;
        };
        entry.status = StoryStatus::Active;
        self.round.topic = Some(entry.title.clone());
        self.round.story = Some(id);
        events.push(Event::QueueChanged);
        events.push(Event::TopicChanged {
            round: self.round.number,
        });
    }

    fn stop_timer(&mut self, events: &mut Vec<Event>) {
        let was_running = self
            .timer
            .as_mut()
            .is_some_and(|t| t.started_at.take().is_some());
        if was_running {
            events.push(Event::TimerStopped);
        }
    }
}

/// Trims and checks a display name.
fn display_name(raw: &str) -> Result<String, RoomError> {
    let name = raw.trim();
    let len = name.chars().count();
    if len == 0 || len > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(RoomError::InvalidName {
            max: MAX_NAME_CHARS,
        });
    }
    Ok(name.to_owned())
}

/// Trims and checks a room name; blank means no name.
fn room_name(raw: &str) -> Result<Option<String>, RoomError> {
    let name = raw.trim();
    if name.chars().count() > MAX_ROOM_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(RoomError::InvalidRoomName {
            max: MAX_ROOM_NAME_CHARS,
        });
    }
    Ok((!name.is_empty()).then(|| name.to_owned()))
}

/// Trims and checks a topic; blank means no topic. Newlines are allowed (stories
/// are often pasted), so only the length is checked.
fn topic_text(raw: &str) -> Result<Option<String>, RoomError> {
    let topic = raw.trim();
    if topic.chars().count() > MAX_TOPIC_CHARS {
        return Err(RoomError::TopicTooLong {
            max: MAX_TOPIC_CHARS,
        });
    }
    Ok((!topic.is_empty()).then(|| topic.to_owned()))
}

#[cfg(test)]
mod tests;
