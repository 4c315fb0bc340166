//! The bookkeeping of one poker room under load, without IO: which votes are on
//! their way to which members, where the round stands, and what a `view` frame says.
//!
//! A worker's room task feeds it every frame each member reads and asks it what to
//! send next; the latencies it reports are measured from a vote's send to the first
//! frame at each *other* member that shows the voter as voted. Keeping this pure
//! lets the rules (one vote per voter per round, reveal then reset, nothing counted
//! twice) be tested without a server.

use std::time::{Duration, Instant};

/// Where the room's round stands, as this client drives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Voters may vote (each once per round).
    Voting,
    /// The host sent `reveal` and waits to see the round revealed.
    Revealing,
    /// The host sent `reset` and waits to see an empty voting round.
    Resetting,
}

/// A vote on its way to the other members.
#[derive(Debug)]
struct InFlight {
    voter: usize,
    sent: Instant,
    /// Bit `m` set: member `m` still has to see it.
    waiting: u128,
}

/// What a frame did to the room's votes in flight.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Arrival latencies of votes this frame showed for the first time to its reader.
    pub arrivals: Vec<Duration>,
    /// The host saw the revealed round: send `reset` now.
    pub send_reset: bool,
}

/// One room's votes in flight and round stage.
#[derive(Debug)]
pub struct Room {
    /// `"id":"…"` needles of the members, by index (0 is the host).
    needles: Vec<String>,
    /// Members whose socket is still open.
    alive: u128,
    /// Members that voted in this round.
    voted: u128,
    in_flight: Vec<InFlight>,
    stage: Stage,
    /// When the stage last changed (to notice a room that stopped answering).
    stage_since: Instant,
}

impl Room {
    /// Most members a room may have here (one bit each).
    pub const MAX_MEMBERS: usize = 128;

    /// A room whose members have these participant ids (index 0 is the host).
    pub fn new(ids: &[String], now: Instant) -> Self {
        let n = ids.len().min(Self::MAX_MEMBERS);
        Self {
            needles: ids[..n]
                .iter()
                .map(|id| format!("\"id\":\"{id}\""))
                .collect(),
            alive: mask(n),
            voted: 0,
            in_flight: Vec::new(),
            stage: Stage::Voting,
            stage_since: now,
        }
    }

    /// The round's stage.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// How long the room has been in its stage.
    pub fn stage_age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.stage_since)
    }

    /// The host repeated its command at `now`: wait a whole retry period again
    /// before repeating it once more (not at every tick).
    pub fn retried(&mut self, now: Instant) {
        self.stage_since = now;
    }

    /// Votes sent whose arrival some member has not shown yet.
    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// A member that may vote now (alive, not voted this round), picked from `pick`
    /// (any number; it is reduced modulo the candidates), or `None`.
    pub fn next_voter(&self, pick: usize) -> Option<usize> {
        if self.stage != Stage::Voting {
            return None;
        }
        let free = self.alive & !self.voted;
        let count = free.count_ones() as usize;
        if count == 0 {
            return None;
        }
        let mut k = pick % count;
        (0..self.needles.len()).find(|&m| {
            if free & (1 << m) == 0 {
                return false;
            }
            if k == 0 {
                return true;
            }
            k -= 1;
            false
        })
    }

    /// Records that `voter` sent its vote at `sent`; returns how many arrivals it
    /// should have (the other live members).
    pub fn voted(&mut self, voter: usize, sent: Instant) -> u64 {
        self.voted |= 1 << voter;
        let waiting = self.alive & !(1 << voter);
        if waiting != 0 {
            self.in_flight.push(InFlight {
                voter,
                sent,
                waiting,
            });
        }
        u64::from(waiting.count_ones())
    }

    /// Whether the host should reveal now: every live member voted and every vote
    /// arrived everywhere (or `patience` passed since the last vote's send).
    pub fn ready_to_reveal(&self, now: Instant, patience: Duration) -> bool {
        self.stage == Stage::Voting
            && self.alive & !self.voted == 0
            && self.voted != 0
            && self
                .in_flight
                .iter()
                .all(|v| now.saturating_duration_since(v.sent) > patience)
    }

    /// The host sent `reveal`: votes still in flight will never be counted.
    /// Returns how many arrivals were given up.
    pub fn revealing(&mut self, now: Instant) -> u64 {
        let lost = self.give_up();
        self.stage = Stage::Revealing;
        self.stage_since = now;
        lost
    }

    fn give_up(&mut self) -> u64 {
        let lost = self
            .in_flight
            .iter()
            .map(|v| u64::from((v.waiting & self.alive).count_ones()))
            .sum();
        self.in_flight.clear();
        lost
    }

    /// Member `member` read the text frame `text` at `at`.
    pub fn frame(&mut self, member: usize, text: &str, at: Instant) -> Seen {
        let mut seen = Seen::default();
        if !text.starts_with("{\"type\":\"view\"") {
            return seen;
        }
        let bit = 1u128 << member;
        let needles = &self.needles;
        self.in_flight.retain_mut(|v| {
            if v.waiting & bit != 0 && shows_voted(text, &needles[v.voter]) {
                v.waiting &= !bit;
                seen.arrivals.push(at.saturating_duration_since(v.sent));
            }
            v.waiting != 0
        });
        if member == 0 {
            match self.stage {
                Stage::Revealing if text.contains("\"phase\":\"revealed\"") => {
                    self.stage = Stage::Resetting;
                    self.stage_since = at;
                    seen.send_reset = true;
                }
                Stage::Resetting if text.contains("\"phase\":\"voting\",\"votes_cast\":0,") => {
                    self.stage = Stage::Voting;
                    self.stage_since = at;
                    self.voted = 0;
                }
                _ => {}
            }
        }
        seen
    }

    /// Member `member`'s socket closed: it votes no more and is waited for no more.
    /// Returns the arrivals given up because of it.
    pub fn lost(&mut self, member: usize) -> u64 {
        let bit = 1u128 << member;
        self.alive &= !bit;
        let mut lost = 0;
        self.in_flight.retain_mut(|v| {
            if v.waiting & bit != 0 {
                v.waiting &= !bit;
                lost += 1;
            }
            v.waiting != 0
        });
        lost
    }

    /// Member `member` took its seat back on a new socket: it is waited for and
    /// may vote again (its vote of this round, if any, still counts as cast).
    pub fn rejoined(&mut self, member: usize) {
        if member < self.needles.len() {
            self.alive |= 1u128 << member;
        }
    }

    /// Arrivals still awaited (given up when the run ends).
    pub fn pending_arrivals(&self) -> u64 {
        self.in_flight
            .iter()
            .map(|v| u64::from(v.waiting.count_ones()))
            .sum()
    }
}

fn mask(n: usize) -> u128 {
    if n >= 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    }
}

/// Whether the participant entry that starts with `needle` (`"id":"…"`) in a view
/// frame says `"voted":true`. Entries are flat objects and names cannot hold `}`
/// unescaped in a way that matters here: the search stops at the entry's end.
fn shows_voted(text: &str, needle: &str) -> bool {
    let Some(start) = text.find(needle) else {
        return false;
    };
    let rest = &text[start + needle.len()..];
    let entry = rest.find('}').map_or(rest, |end| &rest[..end]);
    entry.contains("\"voted\":true")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(votes: &[(&str, bool)], phase: &str, cast: usize) -> String {
        let people: Vec<String> = votes
            .iter()
            .map(|(id, voted)| {
                format!(
                    "{{\"id\":\"{id}\",\"name\":\"P\",\"role\":\"voter\",\"host\":false,\"voted\":{voted},\"card\":null}}"
                )
            })
            .collect();
        format!(
            "{{\"type\":\"view\",\"host\":\"a\",\"round\":{{\"number\":1,\"phase\":\"{phase}\",\"votes_cast\":{cast},\"x\":1}},\"participants\":[{}]}}",
            people.join(",")
        )
    }

    fn ids() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn a_vote_arrives_once_at_each_other_member() {
        let t0 = Instant::now();
        let mut room = Room::new(&ids(), t0);
        assert_eq!(room.voted(1, t0), 2);
        let before = view(&[("a", false), ("b", false), ("c", false)], "voting", 0);
        assert!(room.frame(0, &before, t0).arrivals.is_empty());
        let after = view(&[("a", false), ("b", true), ("c", false)], "voting", 1);
        let t1 = t0 + Duration::from_millis(7);
        assert_eq!(
            room.frame(0, &after, t1).arrivals,
            vec![Duration::from_millis(7)]
        );
        // The same member seeing it again counts nothing; the voter never counts.
        assert!(room.frame(0, &after, t1).arrivals.is_empty());
        assert!(room.frame(1, &after, t1).arrivals.is_empty());
        assert_eq!(room.in_flight(), 1);
        assert_eq!(room.frame(2, &after, t1).arrivals.len(), 1);
        assert_eq!(room.in_flight(), 0);
    }

    #[test]
    fn the_viewers_own_entry_does_not_count_for_another_id() {
        // "ab" voted; "a" did not: the needle must match the whole id.
        assert!(!shows_voted(
            &view(&[("a", false), ("ab", true)], "voting", 1),
            "\"id\":\"a\""
        ));
        assert!(shows_voted(
            &view(&[("a", false), ("ab", true)], "voting", 1),
            "\"id\":\"ab\""
        ));
        assert!(!shows_voted("{\"type\":\"ack\"}", "\"id\":\"a\""));
    }

    #[test]
    fn each_member_votes_once_per_round_then_the_host_reveals_and_resets() {
        let t0 = Instant::now();
        let mut room = Room::new(&ids(), t0);
        let mut sent = Vec::new();
        for pick in 0..3 {
            let voter = room.next_voter(pick).expect("a voter is free");
            room.voted(voter, t0);
            sent.push(voter);
        }
        sent.sort_unstable();
        assert_eq!(sent, vec![0, 1, 2]);
        assert_eq!(room.next_voter(0), None);
        // Votes still travelling: no reveal until they arrive or patience runs out.
        let patience = Duration::from_secs(5);
        assert!(!room.ready_to_reveal(t0, patience));
        let all = view(&[("a", true), ("b", true), ("c", true)], "voting", 3);
        for m in 0..3 {
            room.frame(m, &all, t0);
        }
        assert!(room.ready_to_reveal(t0, patience));
        assert_eq!(room.revealing(t0), 0);
        assert_eq!(room.next_voter(0), None);
        // Only the host's frames move the stage.
        let revealed = view(&[("a", true), ("b", true), ("c", true)], "revealed", 3);
        assert!(!room.frame(1, &revealed, t0).send_reset);
        assert!(room.frame(0, &revealed, t0).send_reset);
        assert_eq!(room.stage(), Stage::Resetting);
        let fresh = view(&[("a", false), ("b", false), ("c", false)], "voting", 0);
        room.frame(0, &fresh, t0);
        assert_eq!(room.stage(), Stage::Voting);
        assert!(room.next_voter(0).is_some());
    }

    #[test]
    fn a_closed_member_is_neither_waited_for_nor_picked() {
        let t0 = Instant::now();
        let mut room = Room::new(&ids(), t0);
        room.voted(0, t0);
        assert_eq!(room.pending_arrivals(), 2);
        assert_eq!(room.lost(2), 1);
        assert_eq!(room.pending_arrivals(), 1);
        assert_eq!(room.next_voter(0), Some(1));
        assert_eq!(room.next_voter(1), Some(1));
        room.voted(1, t0);
        assert_eq!(room.revealing(t0), 2);
    }

    #[test]
    fn a_member_back_on_a_new_socket_is_waited_for_again() {
        let t0 = Instant::now();
        let mut room = Room::new(&ids(), t0);
        room.lost(2);
        room.rejoined(2);
        assert_eq!(room.voted(0, t0), 2);
        assert_eq!(room.next_voter(1), Some(2));
    }
}
