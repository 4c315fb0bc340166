//! The pure core of a planning-poker room.
//!
//! Everything a room may do is decided here, without IO, clocks or async: the room
//! task (the hub) owns a [`RoomState`], feeds it one [`Command`] at a time with the
//! current time, persists and broadcasts the returned [`Event`]s, and renders what
//! each person may see with [`view_for`]. Because the rules live in pure functions,
//! they are tested exhaustively (unit tests and property tests) without a server.
//!
//! - [`deck`]: decks and cards (which cards exist, which are numbers).
//! - [`keys`]: what to type to pick each card of a deck.
//! - [`stats`]: the one function that summarises revealed votes.
//! - [`state`]: the room state machine: commands → new state + events, or an error.
//! - [`view`]: what a given viewer may see; hides other people's cards before reveal.
//!
//! ```
//! use poker::room::{Command, NewRoom, ParticipantId, Role, RoomState, Timestamp, view_for};
//!
//! let host = ParticipantId::from("host");
//! let room = RoomState::new(NewRoom::new(host.clone(), "Ada"), Timestamp(0)).unwrap();
//! let (room, _) = room
//!     .apply(Command::Join { participant: "bob".into(), name: "Bob".into(), role: Role::Voter }, Timestamp(1))
//!     .unwrap();
//! let (room, events) = room
//!     .apply(Command::Vote { by: "bob".into(), card: "5".into() }, Timestamp(2))
//!     .unwrap();
//! assert_eq!(events.len(), 1);
//! // Ada sees that Bob voted, not what.
//! let view = view_for(&room, Some(&host), Timestamp(3));
//! assert!(view.participants.iter().all(|p| p.card.is_none()));
//! ```

pub mod admin_sync;
pub mod capacity;
pub mod deck;
pub mod export;
pub mod frame;
pub mod hub;
pub mod keys;
/// A connection's queue of frames to write: litebase's realtime queue (the one
/// fan-out primitive SSE uses too), holding text frames.
pub mod outbox {
    use bytestring::ByteString;
    use litebase::realtime::queue;

    pub use queue::SendError;

    /// The hub's end of a connection's queue.
    pub type Outbox = queue::Sender<ByteString>;

    /// A new queue holding at most `capacity` frames, and the session's end.
    pub fn outbox(capacity: usize) -> (Outbox, queue::Receiver<ByteString>) {
        queue::channel(capacity)
    }
}
pub mod protocol;
pub mod results_hook;
pub mod shard;
pub mod state;
pub mod stats;
pub mod store;
pub mod stories;
pub mod sweeper;
pub mod view;
pub mod ws;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod protocol_proptests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use deck::{Card, Deck, DeckError, DeckKind, DeckSpec};
pub use state::{
    Action, Command, Event, HistoryEntry, HistoryVote, NewRoom, Participant, Permission, Phase,
    Presence, PresenceChange, Role, RoomError, RoomState, Round, Settings, StoredRoom, Timer,
    apply,
};
pub use stats::Stats;
pub use view::{RoomView, view_for};

/// Identifies a participant within a room (the hub uses the `participants` record id).
///
/// Opaque to the state machine: it is only compared, never parsed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParticipantId(pub String);

impl From<&str> for ParticipantId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

impl From<String> for ParticipantId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A point in time, in milliseconds since the Unix epoch.
///
/// The state machine never reads a clock: the caller passes `now` with every
/// command, which keeps every transition reproducible in tests.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// This time plus `secs` seconds (saturating, so a bad input cannot panic).
    pub fn plus_secs(self, secs: u64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// Milliseconds elapsed since `earlier` (zero if `earlier` is later).
    pub fn millis_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}
