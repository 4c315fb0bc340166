//! Rooms in the database: creating a room, loading one back into a [`RoomState`],
//! and writing each change of a live room through litebase's writer.
//!
//! The tables are the ordinary collections of `migrations/V2__poker_collections.sql`.
//! A room is stored as rows (participants, rounds, votes) rather than as a blob, so
//! the admin UI shows them; loading rebuilds the state by replaying those rows
//! through the pure state machine, so the rules that built it are the rules that
//! rebuild it.

use litebase::db::DbError;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{
    Command, DeckSpec, Event, NewRoom, ParticipantId, Phase, PresenceChange, Role, RoomError,
    RoomState, Settings, Timestamp,
};

/// Length of a room code (base62): about 71 bits, not guessable.
pub const CODE_LENGTH: usize = 12;
/// Length of a participant's secret token.
pub const TOKEN_LENGTH: usize = 32;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a room could not be stored or loaded.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A statement failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// No room has this code (it never existed, or it expired).
    #[error("no room has this code; check the link or create a new room")]
    NotFound,
    /// The room's rows do not describe a valid room.
    #[error("the stored room is invalid: {0}")]
    Invalid(String),
    /// The new room was refused by the rules.
    #[error(transparent)]
    Room(#[from] RoomError),
}

/// A new unguessable room code: 12 base62 characters.
pub fn new_code() -> String {
    litebase::id::random_string(CODE_LENGTH, BASE62)
}

/// A new participant secret: 32 base62 characters (about 190 bits).
pub fn new_token() -> String {
    litebase::id::random_string(TOKEN_LENGTH, BASE62)
}

/// What is stored of a token: its SHA-256 in hex. Tokens are long random strings,
/// so a fast hash is enough (there is nothing to brute-force).
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The current time as the state machine counts it.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// The current time as litebase stores dates: `2026-01-02 15:04:05.000Z`.
fn now_text() -> String {
    litebase::query::format_datetime(time::OffsetDateTime::now_utc())
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Voter => "voter",
        Role::Spectator => "spectator",
    }
}

fn phase_text(phase: Phase) -> &'static str {
    match phase {
        Phase::Voting => "voting",
        Phase::Revealed => "revealed",
        Phase::Completed => "completed",
    }
}

/// A room just created: what its creator needs to come back as host.
#[derive(Debug, Clone)]
pub struct CreatedRoom {
    /// The room's code (its URL).
    pub code: String,
    /// The host's secret token (only its hash is stored).
    pub host_token: String,
    /// The host's participant id.
    pub participant_id: String,
}

/// What the creator of a room chooses (the home page form or the JSON API).
#[derive(Debug, Clone, PartialEq)]
pub struct RoomSetup {
    /// Optional room name (blank means none).
    pub name: Option<String>,
    /// The host's display name.
    pub host_name: String,
    /// Whether the host votes or only watches.
    pub host_role: Role,
    /// The deck.
    pub deck: DeckSpec,
    /// Permissions, auto-reveal, spectators.
    pub settings: Settings,
}

impl Default for RoomSetup {
    /// An unnamed room of a voting host called "Host", default deck and settings.
    fn default() -> Self {
        Self {
            name: None,
            host_name: "Host".into(),
            host_role: Role::Voter,
            deck: DeckSpec::default(),
            settings: Settings::default(),
        }
    }
}

/// Creates a room with its host and first round, in one write.
pub async fn create_room(db: &litebase::Db, room: RoomSetup) -> Result<CreatedRoom, StoreError> {
    let host = litebase::id::new_id();
    let mut setup = NewRoom::new(ParticipantId::from(host.as_str()), room.host_name);
    setup.name = room.name.filter(|n| !n.trim().is_empty());
    setup.deck = room.deck;
    setup.host_role = room.host_role;
    setup.settings = room.settings;
    let state = RoomState::new(setup.clone(), now())?;
    let host_name = state
        .participant(state.host())
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let host_role = role_text(setup.host_role);
    let code = new_code();
    let host_token = new_token();
    let hash = token_hash(&host_token);
    let deck_json =
        serde_json::to_string(&setup.deck).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let settings_json =
        serde_json::to_string(state.settings()).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let room_name = state.name().unwrap_or_default().to_string();
    let (code2, host2) = (code.clone(), host.clone());
    db.write(move |conn| -> Result<(), StoreError> {
        let ts = now_text();
        let room_id = litebase::id::new_id();
        conn.execute(
            "INSERT INTO rooms (id, code, name, deck, settings, host_token_hash, locked, last_activity, expires, created, updated) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, FALSE, ?7, '', ?7, ?7)",
            params![room_id, code2, room_name, deck_json, settings_json, hash, ts],
        )?;
        conn.execute(
            "INSERT INTO participants (id, room, name, role, is_host, is_cohost, token_hash, online, last_seen, created, updated) \
             VALUES (?1, ?2, ?5, ?6, TRUE, FALSE, ?3, FALSE, ?4, ?4, ?4)",
            params![host2, room_id, hash, ts, host_name, host_role],
        )?;
        conn.execute(
            "INSERT INTO rounds (id, room, number, topic, state, started, revealed, final_estimate, stats, created, updated) \
             VALUES (?1, ?2, 1, '', 'voting', ?3, '', '', NULL, ?3, ?3)",
            params![litebase::id::new_id(), room_id, ts],
        )?;
        Ok(())
    })
    .await?;
    Ok(CreatedRoom {
        code,
        host_token,
        participant_id: host,
    })
}

/// A room loaded from the database, ready for its hub.
#[derive(Debug, Clone)]
pub struct LoadedRoom {
    /// The `rooms` record id.
    pub room_id: String,
    /// The rebuilt state (everyone away until they reconnect).
    pub state: RoomState,
    /// Token hash → participant id, for resuming seats.
    pub tokens: Vec<(String, ParticipantId)>,
}

struct StoredParticipant {
    id: String,
    name: String,
    role: Role,
    is_host: bool,
    token_hash: String,
}

struct StoredRound {
    number: u32,
    topic: String,
    state: String,
    estimate: String,
    votes: Vec<(String, String)>,
}

/// Loads the room with `code` and rebuilds its state by replaying its rows.
pub async fn load_room(db: &litebase::Db, code: String) -> Result<LoadedRoom, StoreError> {
    type Rows = (
        String,
        String,
        String,
        String,
        Vec<StoredParticipant>,
        Vec<StoredRound>,
    );
    let rows: Option<Rows> = db
        .read(move |conn| -> Result<Option<Rows>, StoreError> {
            let room = conn
                .query_row(
                    "SELECT id, name, COALESCE(deck, 'null'), COALESCE(settings, 'null') FROM rooms WHERE code = ?1",
                    params![code],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)),
                )
                .optional()?;
            let Some((room_id, name, deck, settings)) = room else {
                return Ok(None);
            };
            let mut stmt = conn.prepare(
                "SELECT id, name, role, is_host, token_hash FROM participants WHERE room = ?1 ORDER BY created, rowid",
            )?;
            let participants = stmt
                .query_map(params![room_id], |r| {
                    let role: String = r.get(2)?;
                    Ok(StoredParticipant {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        role: if role == "spectator" { Role::Spectator } else { Role::Voter },
                        is_host: r.get(3)?,
                        token_hash: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut stmt = conn.prepare(
                "SELECT id, number, topic, state, final_estimate FROM rounds WHERE room = ?1 ORDER BY number",
            )?;
            let heads = stmt
                .query_map(params![room_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let mut votes_stmt = conn.prepare(
                "SELECT participant, value FROM votes WHERE round = ?1 ORDER BY created, rowid",
            )?;
            let mut rounds = Vec::with_capacity(heads.len());
            for (id, number, topic, state, estimate) in heads {
                let votes = votes_stmt
                    .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                rounds.push(StoredRound { number, topic, state, estimate, votes });
            }
            Ok(Some((room_id, name, deck, settings, participants, rounds)))
        })
        .await?;
    let Some((room_id, name, deck, settings, participants, rounds)) = rows else {
        return Err(StoreError::NotFound);
    };
    let deck: DeckSpec = serde_json::from_str::<Option<DeckSpec>>(&deck)
        .map_err(|e| StoreError::Invalid(format!("deck: {e}")))?
        .unwrap_or_default();
    let settings: Settings = serde_json::from_str::<Option<Settings>>(&settings)
        .map_err(|e| StoreError::Invalid(format!("settings: {e}")))?
        .unwrap_or_default();
    let host = participants
        .iter()
        .find(|p| p.is_host)
        .ok_or_else(|| StoreError::Invalid("the room has no host".into()))?;
    let host_id = ParticipantId::from(host.id.as_str());
    let t = now();
    let mut setup = NewRoom::new(host_id.clone(), host.name.clone());
    setup.host_role = host.role;
    setup.name = Some(name).filter(|n| !n.is_empty());
    setup.deck = deck;
    setup.settings = settings;
    let mut state = RoomState::new(setup, t)?;
    // Replaying is best effort: a row the rules refuse (say, a vote by someone who
    // became a spectator later) is skipped rather than losing the whole room.
    let run = |state: &mut RoomState, command: Command| {
        if let Ok((next, _)) = state.apply(command, t) {
            *state = next;
        }
    };
    for p in participants.iter().filter(|p| !p.is_host) {
        run(
            &mut state,
            Command::Join {
                participant: p.id.as_str().into(),
                name: p.name.clone(),
                role: p.role,
            },
        );
    }
    let last = rounds.len();
    for (i, round) in rounds.into_iter().enumerate() {
        if round.number != state.round().number() {
            tracing::warn!(number = round.number, "skipping an out-of-order round");
            continue;
        }
        if !round.topic.is_empty() {
            run(
                &mut state,
                Command::SetTopic {
                    by: host_id.clone(),
                    topic: round.topic,
                },
            );
        }
        for (participant, card) in round.votes {
            run(
                &mut state,
                Command::Vote {
                    by: participant.into(),
                    card,
                },
            );
        }
        if round.state != "voting" {
            run(
                &mut state,
                Command::Reveal {
                    by: host_id.clone(),
                },
            );
        }
        if !round.estimate.is_empty() {
            run(
                &mut state,
                Command::RecordEstimate {
                    by: host_id.clone(),
                    estimate: round.estimate,
                },
            );
        }
        if i + 1 < last {
            run(
                &mut state,
                Command::NextRound {
                    by: host_id.clone(),
                    topic: None,
                },
            );
        }
    }
    for p in &participants {
        run(
            &mut state,
            Command::SetPresence {
                participant: p.id.as_str().into(),
                presence: PresenceChange::Away,
            },
        );
    }
    let tokens = participants
        .into_iter()
        .filter(|p| !p.token_hash.is_empty())
        .map(|p| (p.token_hash, ParticipantId::from(p.id)))
        .collect();
    Ok(LoadedRoom {
        room_id,
        state,
        tokens,
    })
}

/// An archived round as written: number, topic, estimate, stats JSON, votes.
type ArchivedRound = (u32, String, String, String, Vec<(String, String)>);

/// A participant who just joined, with the hash of their new token.
#[derive(Debug, Clone)]
pub struct NewSeat {
    /// Their id.
    pub id: ParticipantId,
    /// SHA-256 of their token.
    pub token_hash: String,
}

/// Writes what `events` changed in `state` (the state after the command), in one
/// write: participants, the current round and its votes, and a round that was
/// just archived. Returns once committed.
pub async fn persist(
    db: &litebase::Db,
    room_id: &str,
    state: &RoomState,
    events: &[Event],
    new_seat: Option<NewSeat>,
) -> Result<(), StoreError> {
    let people_changed = new_seat.is_some()
        || events.iter().any(|e| {
            matches!(
                e,
                Event::Joined { .. }
                    | Event::RoleChanged { .. }
                    | Event::Renamed { .. }
                    | Event::CoHostChanged { .. }
                    | Event::HostTransferred { .. }
            )
        });
    let round_changed = events
        .iter()
        .any(|e| !matches!(e, Event::PresenceChanged { .. }));
    if !people_changed && !round_changed {
        return Ok(());
    }
    let host = state.host().clone();
    let people: Vec<(String, String, &'static str, bool, bool)> = if people_changed {
        state
            .participants()
            .iter()
            .map(|p| {
                (
                    p.id.0.clone(),
                    p.name.clone(),
                    role_text(p.role),
                    p.id == host,
                    p.co_host,
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let round = state.round();
    let current = (
        round.number(),
        round.topic().unwrap_or_default().to_string(),
        phase_text(round.phase()),
        round.revealed_at().is_some(),
        round
            .votes()
            .iter()
            .map(|(p, v)| (p.0.clone(), v.clone()))
            .collect::<Vec<_>>(),
    );
    let archived: Vec<ArchivedRound> = events
        .iter()
        .filter_map(|e| match e {
            Event::RoundCompleted { round } | Event::EstimateRecorded { round, .. } => Some(*round),
            _ => None,
        })
        .filter_map(|n| state.history().iter().find(|h| h.round == n))
        .map(|h| {
            (
                h.round,
                h.topic.clone().unwrap_or_default(),
                h.final_estimate.clone().unwrap_or_default(),
                serde_json::to_string(&h.stats).unwrap_or_else(|_| "null".into()),
                h.votes
                    .iter()
                    .map(|v| (v.participant.0.clone(), v.card.clone()))
                    .collect(),
            )
        })
        .collect();
    let room_id = room_id.to_string();
    let locked = state.locked();
    let room_name = state.name().unwrap_or_default().to_string();
    db.write(move |conn| -> Result<(), StoreError> {
        let ts = now_text();
        conn.execute(
            "UPDATE rooms SET name = ?2, locked = ?3, last_activity = ?4, updated = ?4 WHERE id = ?1",
            params![room_id, room_name, locked, ts],
        )?;
        if let Some(seat) = &new_seat {
            conn.execute(
                "INSERT INTO participants (id, room, name, role, is_host, is_cohost, token_hash, online, last_seen, created, updated) \
                 VALUES (?1, ?2, '', 'voter', FALSE, FALSE, ?3, TRUE, ?4, ?4, ?4)",
                params![seat.id.0, room_id, seat.token_hash, ts],
            )?;
        }
        for (id, name, role, is_host, co_host) in &people {
            conn.execute(
                "UPDATE participants SET name = ?2, role = ?3, is_host = ?4, is_cohost = ?5, updated = ?6 WHERE id = ?1",
                params![id, name, role, is_host, co_host, ts],
            )?;
        }
        if round_changed {
            let (number, topic, phase, revealed, votes) = &current;
            let round_id = upsert_round(conn, &room_id, *number, topic, phase, *revealed, &ts)?;
            replace_votes(conn, &round_id, votes, &ts)?;
        }
        for (number, topic, estimate, stats, votes) in &archived {
            let round_id = upsert_round(conn, &room_id, *number, topic, "completed", true, &ts)?;
            conn.execute(
                "UPDATE rounds SET final_estimate = ?2, stats = ?3 WHERE id = ?1",
                params![round_id, estimate, stats],
            )?;
            replace_votes(conn, &round_id, votes, &ts)?;
        }
        Ok(())
    })
    .await
}

fn upsert_round(
    conn: &rusqlite::Connection,
    room_id: &str,
    number: u32,
    topic: &str,
    phase: &str,
    revealed: bool,
    ts: &str,
) -> Result<String, StoreError> {
    conn.execute(
        "INSERT INTO rounds (id, room, number, topic, state, started, revealed, final_estimate, stats, created, updated) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, '', '', NULL, ?6, ?6) \
         ON CONFLICT(room, number) DO UPDATE SET topic = excluded.topic, state = excluded.state, updated = excluded.updated",
        params![litebase::id::new_id(), room_id, number, topic, phase, ts],
    )?;
    if revealed {
        conn.execute(
            "UPDATE rounds SET revealed = ?3 WHERE room = ?1 AND number = ?2 AND revealed = ''",
            params![room_id, number, ts],
        )?;
    } else {
        conn.execute(
            "UPDATE rounds SET revealed = '' WHERE room = ?1 AND number = ?2",
            params![room_id, number],
        )?;
    }
    Ok(conn.query_row(
        "SELECT id FROM rounds WHERE room = ?1 AND number = ?2",
        params![room_id, number],
        |r| r.get(0),
    )?)
}

fn replace_votes(
    conn: &rusqlite::Connection,
    round_id: &str,
    votes: &[(String, String)],
    ts: &str,
) -> Result<(), StoreError> {
    conn.execute("DELETE FROM votes WHERE round = ?1", params![round_id])?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO votes (id, round, participant, value, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?;
    for (participant, value) in votes {
        stmt.execute(params![
            litebase::id::new_id(),
            round_id,
            participant,
            value,
            ts
        ])?;
    }
    Ok(())
}
