//! The JSON `view` frames of one room state for all its viewers, serialised once.
//!
//! Every change sends each connection its own view, and views differ only in the
//! viewer's own entry (their hidden card, while voting) and the `viewer` part. So
//! a broadcast serialises the anonymous view once, in pieces, and each frame is
//! those pieces with the viewer's few bytes put in: the same text as serialising
//! that viewer's [`view_for`](super::view_for) whole (a property test checks it
//! byte for byte), at a fraction of the cost with ten or a hundred people a room.

use serde::Serialize;

use super::view::{ParticipantView, RoomView, RoundView, TimerView, personal_parts};
use super::{ParticipantId, RoomState, Timestamp, view_for};
use crate::room::deck::{Card, DeckSpec};
use crate::room::state::{HistoryEntry, Settings};
use crate::room::stats::Stats;

/// `{"type":"view", …view}`: the frame of one view, serialised whole.
#[derive(Serialize)]
struct Frame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a RoomView,
}

/// The frame of `view`, serialised whole (the reference the pieces must match).
pub fn view_frame(view: &RoomView) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Frame {
        kind: "view",
        body: view,
    })
}

/// The fields before `participants`, in [`RoomView`]'s order.
#[derive(Serialize)]
struct Head<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a Option<String>,
    locked: bool,
    settings: &'a Settings,
    host: &'a ParticipantId,
    deck: &'a [Card],
    deck_spec: &'a DeckSpec,
    next_deck: &'a Option<Vec<Card>>,
    round: &'a RoundView,
}

/// The fields between `participants` and `viewer`.
#[derive(Serialize)]
struct Tail<'a> {
    stats: &'a Option<Stats>,
    timer: &'a Option<TimerView>,
    history: &'a [HistoryEntry],
    queue: &'a crate::room::stories::Queue,
}

/// One state's anonymous view, serialised in pieces, ready for every viewer.
pub struct ViewFrames {
    anon: RoomView,
    /// `{"type":"view",…,"participants":[`
    head: String,
    /// Each participant's anonymous entry.
    entries: Vec<String>,
    /// `],"stats":…,"history":[…],"viewer":`
    tail: String,
    now: Timestamp,
}

impl ViewFrames {
    /// Serialises the anonymous view of `state` at `now`.
    pub fn new(state: &RoomState, now: Timestamp) -> Result<Self, serde_json::Error> {
        let anon = view_for(state, None, now);
        let mut head = serde_json::to_string(&Head {
            kind: "view",
            name: &anon.name,
            locked: anon.locked,
            settings: &anon.settings,
            host: &anon.host,
            deck: &anon.deck,
            deck_spec: &anon.deck_spec,
            next_deck: &anon.next_deck,
            round: &anon.round,
        })?;
        head.pop(); // the closing brace
        head.push_str(",\"participants\":[");
        let entries = anon
            .participants
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        let tail_obj = serde_json::to_string(&Tail {
            stats: &anon.stats,
            timer: &anon.timer,
            history: &anon.history,
            queue: &anon.queue,
        })?;
        // `{"stats":…}` → `],"stats":…,"viewer":`
        let inner = tail_obj
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or_default();
        let tail = format!("],{inner},\"viewer\":");
        Ok(Self {
            anon,
            head,
            entries,
            tail,
            now,
        })
    }

    /// The frame `viewer` gets: byte for byte `view_frame(&view_for(state,
    /// Some(viewer), now))` for the state these frames were made from.
    pub fn frame_for(
        &self,
        state: &RoomState,
        viewer: &ParticipantId,
    ) -> Result<String, serde_json::Error> {
        let Some((index, card, me)) = personal_parts(state, &self.anon, viewer) else {
            return view_frame(&view_for(state, Some(viewer), self.now));
        };
        let own = match self.anon.participants.get(index) {
            Some(entry) if entry.card != card => Some(serde_json::to_string(&ParticipantView {
                card,
                ..entry.clone()
            })?),
            _ => None,
        };
        let me = serde_json::to_string(&me)?;
        let size = self.head.len()
            + self.entries.iter().map(|e| e.len() + 1).sum::<usize>()
            + own.as_ref().map_or(0, String::len)
            + self.tail.len()
            + me.len()
            + 1;
        let mut out = String::with_capacity(size);
        out.push_str(&self.head);
        for (i, entry) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match (&own, i == index) {
                (Some(own), true) => out.push_str(own),
                _ => out.push_str(entry),
            }
        }
        out.push_str(&self.tail);
        out.push_str(&me);
        out.push('}');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::{Command, NewRoom, Role};

    #[test]
    fn pieces_make_the_same_frame_as_a_whole_view() {
        let id = ParticipantId::from;
        let mut state = RoomState::new(NewRoom::new(id("h"), "Hana"), Timestamp(0)).unwrap();
        let script = [
            Command::Join {
                participant: id("a"),
                name: "Ann \"the\" first".into(),
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
                by: id("h"),
                card: "8".into(),
            },
            Command::Reveal { by: id("h") },
            Command::NextRound {
                by: id("h"),
                topic: Some("Login".into()),
            },
            Command::Vote {
                by: id("h"),
                card: "5".into(),
            },
        ];
        for (t, command) in script.into_iter().enumerate() {
            state = state.apply(command, Timestamp(t as u64 + 1)).unwrap().0;
            let now = Timestamp(t as u64 + 2);
            let frames = ViewFrames::new(&state, now).unwrap();
            for viewer in ["h", "a", "s", "nobody"] {
                let whole = view_frame(&view_for(&state, Some(&id(viewer)), now)).unwrap();
                assert_eq!(frames.frame_for(&state, &id(viewer)).unwrap(), whole);
            }
        }
    }
}
