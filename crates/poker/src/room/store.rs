//! Rooms in the database: creating a room, loading one back into a [`RoomState`],
//! and writing each change of a live room through litebase's writer.
//!
//! The tables are the ordinary collections of `migrations/V2__poker_collections.sql`.
//! A room is stored as rows (participants, rounds, votes) rather than as a blob, so
//! the admin UI shows them; loading rebuilds the state by replaying those rows
//! through the pure state machine, so the rules that built it are the rules that
//! rebuild it.

use litebase::db::DbError;
use litebase::records::service::AppTx;
use rusqlite::{OptionalExtension, params};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::shard::BASE62;
use super::state::{HistoryEntry, HistoryVote, MAX_NAME_CHARS, StoredRoom};
use super::stories::{self, Story, StoryId, StoryStatus};
use super::{
    DeckSpec, Event, NewRoom, Participant, ParticipantId, Phase, Presence, Role, RoomError,
    RoomState, Settings, Timestamp,
};

/// Length of a room code (base62): about 71 bits, not guessable.
pub const CODE_LENGTH: usize = 12;
/// Length of a participant's secret token.
pub const TOKEN_LENGTH: usize = 32;

/// Why a room could not be stored or loaded.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A statement failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// litebase's record pipeline refused a write (a hook, a missing record).
    #[error(transparent)]
    Record(#[from] litebase::records::RecordError),
    /// No room has this code (it never existed, or it expired).
    #[error("no room has this code; check the link or create a new room")]
    NotFound,
    /// The room's rows do not describe a valid room.
    #[error("the stored room is invalid: {0}")]
    Invalid(String),
    /// The new room was refused by the rules.
    #[error(transparent)]
    Room(#[from] RoomError),
    /// The room's results webhook could not be read or queued.
    #[error(transparent)]
    Webhook(#[from] litebase::webhooks::WebhookError),
}

/// A new unguessable room code: 12 base62 characters, the first of them this
/// node's shard mark in a cluster (see [`super::shard`]).
pub fn new_code() -> String {
    super::shard::new_code(super::shard::this_node(), CODE_LENGTH)
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

/// Idle seconds before a room expires; set once at start-up from the config.
static ROOM_TTL_SECS: AtomicU64 = AtomicU64::new(crate::config::DEFAULT_ROOM_TTL_SECS);

/// Sets how long an idle room lives (`expires` = last activity + this).
pub fn set_room_ttl(secs: u64) {
    ROOM_TTL_SECS.store(secs, Ordering::Relaxed);
}

/// How long an idle room lives, in seconds.
pub fn room_ttl() -> u64 {
    ROOM_TTL_SECS.load(Ordering::Relaxed)
}

/// `t` as litebase stores dates.
pub fn timestamp_text(t: Timestamp) -> String {
    let nanos = i128::from(t.0).saturating_mul(1_000_000);
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    litebase::query::format_datetime(at)
}

/// A stored date (`2026-01-02 15:04:05.000Z`, or with a `T`) as a timestamp.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    let text = text.trim().trim_end_matches('Z').replace('T', " ");
    let at = time::PrimitiveDateTime::parse(&text, format)
        .ok()?
        .assume_utc();
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    u64::try_from(ms).ok().map(Timestamp)
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
pub async fn create_room(
    records: &litebase::records::service::Records,
    room: RoomSetup,
) -> Result<CreatedRoom, StoreError> {
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
    let deck = serde_json::to_value(&setup.deck).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let settings =
        serde_json::to_value(state.settings()).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let room_name = state.name().unwrap_or_default().to_string();
    let (code2, host2) = (code.clone(), host.clone());
    records
        .app_write(APP, move |tx| -> Result<(), StoreError> {
            let ts = now_text();
            let room_id = litebase::id::new_id();
            tx.create(
                "rooms",
                fields(
                    json!({"id": room_id, "code": code2, "name": room_name, "deck": deck,
                    "settings": settings, "host_token_hash": hash, "locked": false,
                    "last_activity": ts, "expires": ""}),
                ),
            )?;
            tx.create(
                "participants",
                fields(
                    json!({"id": host2, "room": room_id, "name": host_name, "role": host_role,
                    "is_host": true, "is_cohost": false, "token_hash": hash, "online": false,
                    "last_seen": ts}),
                ),
            )?;
            tx.create(
                "rounds",
                fields(
                    json!({"room": room_id, "number": 1, "topic": "", "state": "voting",
                    "started": ts, "revealed": "", "final_estimate": ""}),
                ),
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
    /// The room's results webhook, if set.
    pub webhook: Option<super::results_hook::RoomWebhook>,
}

struct RoomRow {
    id: String,
    name: String,
    deck: String,
    settings: String,
    locked: bool,
    timer_secs: i64,
    timer_started: String,
    last_activity: String,
    expires: String,
}

struct ParticipantRow {
    id: String,
    name: String,
    role: String,
    is_host: bool,
    is_cohost: bool,
    token_hash: String,
    online: bool,
    last_seen: String,
    created: String,
}

struct RoundRow {
    number: u32,
    topic: String,
    story: String,
    state: String,
    estimate: String,
    deck: String,
    started: String,
    revealed: String,
    updated: String,
    /// (participant, card, name at the time)
    votes: Vec<(String, String, String)>,
}

type Rows = (RoomRow, Vec<ParticipantRow>, Vec<RoundRow>, Vec<Story>);

fn read_rows(conn: &rusqlite::Connection, code: &str) -> Result<Option<Rows>, StoreError> {
    let room = conn
        .query_row(
            "SELECT id, name, COALESCE(deck, 'null'), COALESCE(settings, 'null'), locked, \
             CAST(timer_secs AS INTEGER), last_activity, expires, timer_started \
             FROM rooms WHERE code = ?1",
            params![code],
            |r| {
                Ok(RoomRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    deck: r.get(2)?,
                    settings: r.get(3)?,
                    locked: r.get(4)?,
                    timer_secs: r.get(5)?,
                    last_activity: r.get(6)?,
                    expires: r.get(7)?,
                    timer_started: r.get(8)?,
                })
            },
        )
        .optional()?;
    let Some(room) = room else {
        return Ok(None);
    };
    let mut stmt = conn.prepare(
        "SELECT id, name, role, is_host, is_cohost, token_hash, online, last_seen, created \
         FROM participants WHERE room = ?1 ORDER BY created, rowid",
    )?;
    let participants = stmt
        .query_map(params![room.id], |r| {
            Ok(ParticipantRow {
                id: r.get(0)?,
                name: r.get(1)?,
                role: r.get(2)?,
                is_host: r.get(3)?,
                is_cohost: r.get(4)?,
                token_hash: r.get(5)?,
                online: r.get(6)?,
                last_seen: r.get(7)?,
                created: r.get(8)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare(
        "SELECT id, CAST(number AS INTEGER), topic, state, final_estimate, COALESCE(deck, 'null'), \
         started, revealed, updated, story FROM rounds WHERE room = ?1 ORDER BY number",
    )?;
    let heads = stmt
        .query_map(params![room.id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                RoundRow {
                    number: r.get(1)?,
                    topic: r.get(2)?,
                    state: r.get(3)?,
                    estimate: r.get(4)?,
                    deck: r.get(5)?,
                    started: r.get(6)?,
                    revealed: r.get(7)?,
                    updated: r.get(8)?,
                    story: r.get(9)?,
                    votes: Vec::new(),
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut votes_stmt = conn.prepare(
        "SELECT participant, value, name FROM votes WHERE round = ?1 ORDER BY created, rowid",
    )?;
    let mut rounds = Vec::with_capacity(heads.len());
    for (id, mut round) in heads {
        round.votes = votes_stmt
            .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rounds.push(round);
    }
    let stories = read_stories(conn, &room.id)?;
    Ok(Some((room, participants, rounds, stories)))
}

/// The room's story queue in order. Rows an admin edited into nonsense are made
/// valid (a blank title becomes "?", a bad key or link is dropped).
fn read_stories(conn: &rusqlite::Connection, room_id: &str) -> Result<Vec<Story>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, title, key, url, status, estimate, kind FROM stories \
         WHERE room = ?1 ORDER BY position, rowid",
    )?;
    let rows = stmt
        .query_map(params![room_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .take(stories::MAX_STORIES)
        .map(|(id, title, key, url, status, estimate, kind)| {
            let title: String = title
                .trim()
                .chars()
                .take(stories::MAX_TITLE_CHARS)
                .collect();
            Story {
                id: StoryId::from(id),
                title: if title.is_empty() { "?".into() } else { title },
                key: stories::key_text(Some(&key)).ok().flatten(),
                url: stories::url_text(Some(&url)).ok().flatten(),
                kind: stories::key_text(Some(&kind)).ok().flatten(),
                status: StoryStatus::parse(&status),
                estimate: Some(estimate.trim().to_owned()).filter(|e| !e.is_empty()),
                rounds: 0,
            }
        })
        .collect())
}

/// A stored display name made valid (an admin may have typed anything).
fn clean_name(name: &str) -> String {
    let name: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let name = name.trim().to_string();
    if name.is_empty() {
        "Player".into()
    } else {
        name
    }
}

fn phase_of(text: &str) -> Phase {
    match text {
        "revealed" => Phase::Revealed,
        "completed" => Phase::Completed,
        _ => Phase::Voting,
    }
}

fn json_or_default<T: serde::de::DeserializeOwned + Default>(
    text: &str,
    what: &str,
) -> Result<T, StoreError> {
    serde_json::from_str::<Option<T>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| StoreError::Invalid(format!("{what}: {e}")))
}

/// Loads the room with `code` (unless it expired) and rebuilds its state from its
/// rows: settings, deck, lock, timer (a running one keeps counting), people with
/// their roles and rights,
/// the current round with its votes, and every completed round.
pub async fn load_room(db: &litebase::Db, code: String) -> Result<LoadedRoom, StoreError> {
    let (rows, webhook) = db
        .read(move |conn| -> Result<_, StoreError> {
            let Some(rows) = read_rows(conn, &code)? else {
                return Err(StoreError::NotFound);
            };
            let webhook = super::results_hook::read(conn, &rows.0.id)?;
            Ok((rows, webhook))
        })
        .await?;
    let (room, people, rounds, stories) = rows;
    let t = now();
    if parse_timestamp(&room.expires).is_some_and(|e| e < t) {
        return Err(StoreError::NotFound);
    }
    let deck: DeckSpec = json_or_default(&room.deck, "deck")?;
    let settings: Settings = json_or_default(&room.settings, "settings")?;
    let host = people
        .iter()
        .find(|p| p.is_host)
        .or(people.first())
        .map(|p| ParticipantId::from(p.id.as_str()))
        .ok_or_else(|| StoreError::Invalid("the room has no participants".into()))?;
    let names: BTreeMap<&str, String> = people
        .iter()
        .map(|p| (p.id.as_str(), clean_name(&p.name)))
        .collect();
    let participants: Vec<Participant> = people
        .iter()
        .map(|p| Participant {
            id: p.id.as_str().into(),
            name: clean_name(&p.name),
            role: if p.role == "spectator" {
                Role::Spectator
            } else {
                Role::Voter
            },
            co_host: p.is_cohost,
            // Someone online when the process stopped gets the grace period to come back.
            presence: Presence::Away {
                since: if p.online {
                    t
                } else {
                    parse_timestamp(&p.last_seen).unwrap_or_default()
                },
            },
            joined_at: parse_timestamp(&p.created).unwrap_or_default(),
        })
        .collect();
    let round_deck = |text: &str| -> DeckSpec {
        serde_json::from_str::<Option<DeckSpec>>(text)
            .ok()
            .flatten()
            .unwrap_or_else(|| deck.clone())
    };
    let mut history = Vec::new();
    for r in rounds.iter().filter(|r| r.state == "completed") {
        let Ok(round_deck) = super::Deck::new(round_deck(&r.deck)) else {
            continue;
        };
        let stats = super::stats::compute(&round_deck, std::iter::empty());
        history.push(HistoryEntry {
            round: r.number,
            topic: Some(r.topic.clone()).filter(|t| !t.is_empty()),
            story: Some(StoryId::from(r.story.as_str())).filter(|s| !s.0.is_empty()),
            deck: round_deck,
            votes: r
                .votes
                .iter()
                .map(|(p, card, name)| HistoryVote {
                    participant: p.as_str().into(),
                    name: if name.is_empty() {
                        names.get(p.as_str()).cloned().unwrap_or_else(|| "?".into())
                    } else {
                        name.clone()
                    },
                    card: card.clone(),
                })
                .collect(),
            final_estimate: Some(r.estimate.clone()).filter(|e| !e.is_empty()),
            stats,
            revealed_at: parse_timestamp(&r.revealed).unwrap_or_default(),
            completed_at: parse_timestamp(&r.updated).unwrap_or_default(),
        });
    }
    let current = rounds.last();
    let stored = StoredRoom {
        name: Some(room.name.clone()),
        host,
        participants,
        settings,
        locked: room.locked,
        deck: deck.clone(),
        round_number: current.map_or(1, |r| r.number),
        round_topic: current.map(|r| r.topic.clone()),
        round_phase: current.map_or(Phase::Voting, |r| phase_of(&r.state)),
        round_deck: current.map_or_else(|| deck.clone(), |r| round_deck(&r.deck)),
        round_votes: current
            .map(|r| {
                r.votes
                    .iter()
                    .map(|(p, card, _)| (ParticipantId::from(p.as_str()), card.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        round_started_at: current
            .and_then(|r| parse_timestamp(&r.started))
            .unwrap_or(t),
        round_revealed_at: current.and_then(|r| parse_timestamp(&r.revealed)),
        history,
        timer_secs: u32::try_from(room.timer_secs).ok().filter(|s| *s > 0),
        timer_started_at: parse_timestamp(&room.timer_started),
        last_activity: parse_timestamp(&room.last_activity).unwrap_or(t),
        round_story: current
            .map(|r| StoryId::from(r.story.as_str()))
            .filter(|s| !s.0.is_empty()),
        stories,
    };
    let state =
        RoomState::restore(stored).map_err(|problems| StoreError::Invalid(problems.join("; ")))?;
    let tokens = people
        .into_iter()
        .filter(|p| !p.token_hash.is_empty())
        .map(|p| (p.token_hash, ParticipantId::from(p.id)))
        .collect();
    Ok(LoadedRoom {
        room_id: room.id,
        state,
        tokens,
        webhook,
    })
}

/// An archived round as written: number, topic, estimate, stats JSON, deck JSON,
/// votes (participant, card, name).
type ArchivedRound = (
    u32,
    String,
    String,
    Value,
    Value,
    Vec<(String, String, String)>,
    String,
);

/// A participant who just joined, with the hash of their new token.
#[derive(Debug, Clone)]
pub struct NewSeat {
    /// Their id.
    pub id: ParticipantId,
    /// SHA-256 of their token.
    pub token_hash: String,
}

/// Writes what `events` changed in `state` (the state after the command), in one
/// write: the room row (always: settings, deck, lock, timer, activity and expiry),
/// participants (rows of people who left or were removed are deleted; their votes
/// in completed rounds stay, with their names), presence, the current round and
/// its votes, and a round that was just archived. Returns once committed.
pub async fn persist(
    records: &litebase::records::service::Records,
    room_id: &str,
    state: &RoomState,
    events: &[Event],
    new_seat: Option<NewSeat>,
    stored_activity: &mut Timestamp,
) -> Result<(), StoreError> {
    if new_seat.is_none() && is_vote_only(events) {
        return persist_votes(records, room_id, state, events, stored_activity).await;
    }
    let people_changed = new_seat.is_some()
        || events.iter().any(|e| {
            matches!(
                e,
                Event::Joined { .. }
                    | Event::Left { .. }
                    | Event::Kicked { .. }
                    | Event::RoleChanged { .. }
                    | Event::Renamed { .. }
                    | Event::CoHostChanged { .. }
                    | Event::HostTransferred { .. }
            )
        });
    let round_changed = events
        .iter()
        .any(|e| !matches!(e, Event::PresenceChanged { .. }));
    if events.is_empty() && new_seat.is_none() {
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
    let ids_json = serde_json::to_string(
        &state
            .participants()
            .iter()
            .map(|p| p.id.0.as_str())
            .collect::<Vec<_>>(),
    )
    .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let presence: Vec<(String, bool)> = events
        .iter()
        .filter_map(|e| match e {
            Event::PresenceChanged {
                participant,
                presence,
            } => Some((participant.0.clone(), *presence == Presence::Online)),
            _ => None,
        })
        .collect();
    let name_of = |id: &ParticipantId| {
        state
            .participant(id)
            .map(|p| p.name.clone())
            .unwrap_or_default()
    };
    let round = state.round();
    let current = (
        round.number(),
        round.topic().unwrap_or_default().to_string(),
        phase_text(round.phase()),
        round.revealed_at().is_some(),
        serde_json::to_value(round.deck().spec()).unwrap_or(Value::Null),
        round
            .votes()
            .iter()
            .map(|(p, v)| (p.0.clone(), v.clone(), name_of(p)))
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
                serde_json::to_value(&h.stats).unwrap_or(Value::Null),
                serde_json::to_value(h.deck.spec()).unwrap_or(Value::Null),
                h.votes
                    .iter()
                    .map(|v| (v.participant.0.clone(), v.card.clone(), v.name.clone()))
                    .collect(),
                h.story.as_ref().map(|s| s.0.clone()).unwrap_or_default(),
            )
        })
        .collect();
    let queue: Option<Vec<Story>> = events
        .iter()
        .any(|e| matches!(e, Event::QueueChanged))
        .then(|| state.queue().stories().to_vec());
    let round_story = round.story().map(|s| s.0.clone()).unwrap_or_default();
    // Estimates go to the room's webhook, queued in this same write.
    let results = super::results_hook::results(state, events, now());
    let room_id = room_id.to_string();
    let activity = state.last_activity();
    let room = fields(json!({
        "name": state.name().unwrap_or_default(),
        "locked": state.locked(),
        "deck": serde_json::to_value(state.deck().spec()).map_err(|e| StoreError::Invalid(e.to_string()))?,
        "settings": serde_json::to_value(state.settings()).map_err(|e| StoreError::Invalid(e.to_string()))?,
        "timer_secs": state.timer().map_or(0, |t| t.duration_secs),
        "timer_started": state.timer().and_then(|t| t.started_at).map(timestamp_text).unwrap_or_default(),
        "last_activity": timestamp_text(state.last_activity()),
        "expires": timestamp_text(state.last_activity().plus_secs(room_ttl())),
    }));
    records
        .app_write(APP, move |tx| -> Result<(), StoreError> {
            let ts = now_text();
            tx.update("rooms", &room_id, room)?;
            if let Some(seat) = &new_seat {
                tx.create(
                    "participants",
                    fields(
                        json!({"id": seat.id.0, "room": room_id, "name": "", "role": "voter",
                        "is_host": false, "is_cohost": false, "token_hash": seat.token_hash,
                        "online": true, "last_seen": ts}),
                    ),
                )?;
            }
            if people_changed {
                let gone: Vec<String> = tx
                    .conn()
                    .prepare_cached(
                        "SELECT id FROM participants WHERE room = ?1 \
                         AND id NOT IN (SELECT value FROM json_each(?2))",
                    )?
                    .query_map(params![room_id, ids_json], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                // Their votes in completed rounds stay, with their names.
                for id in gone {
                    tx.delete_alone("participants", &id)?;
                }
            }
            if !people.is_empty() || !presence.is_empty() {
                let stored = stored_people(tx, &room_id)?;
                for (id, name, role, is_host, co_host) in &people {
                    let now = (name.clone(), role.to_string(), *is_host, *co_host);
                    if stored.get(id).is_some_and(|(seat, _)| *seat != now) {
                        tx.update(
                            "participants",
                            id,
                            fields(json!({"name": name, "role": role, "is_host": is_host,
                                "is_cohost": co_host})),
                        )?;
                    }
                }
                for (id, online) in &presence {
                    if stored.get(id).is_some_and(|(_, stored)| stored != online) {
                        tx.update(
                            "participants",
                            id,
                            fields(json!({"online": online, "last_seen": ts})),
                        )?;
                    }
                }
            }
            if let Some(queue) = &queue {
                sync_stories(tx, &room_id, queue)?;
            }
            if round_changed {
                let (number, topic, phase, revealed, deck, votes) = &current;
                let round = RoundWrite {
                    room_id: &room_id,
                    number: *number,
                    topic,
                    story: &round_story,
                    phase,
                    revealed: *revealed,
                    deck,
                    ts: &ts,
                };
                let round_id = upsert_round(tx, &round, None)?;
                replace_votes(tx, &round_id, votes)?;
            }
            for (number, topic, estimate, stats, deck, votes, story) in &archived {
                let round = RoundWrite {
                    room_id: &room_id,
                    number: *number,
                    topic,
                    story,
                    phase: "completed",
                    revealed: true,
                    deck,
                    ts: &ts,
                };
                let round_id = upsert_round(tx, &round, Some((estimate, stats)))?;
                replace_votes(tx, &round_id, votes)?;
            }
            super::results_hook::queue_results(tx.conn(), &room_id, &results)?;
            Ok(())
        })
        .await?;
    *stored_activity = activity;
    Ok(())
}

/// A seat as stored: (name, role, host, co-host), and whether it is online.
type StoredSeat = ((String, String, bool, bool), bool);

/// The room's seats as stored, by participant id.
fn stored_people(
    tx: &AppTx<'_>,
    room_id: &str,
) -> Result<std::collections::HashMap<String, StoredSeat>, StoreError> {
    let mut stmt = tx.conn().prepare_cached(
        "SELECT id, name, role, is_host, is_cohost, online FROM participants WHERE room = ?1",
    )?;
    let rows = stmt.query_map(params![room_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (
                (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                r.get::<_, bool>(5)?,
            ),
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The poker app's name on the changes it writes: its own after-commit hooks
/// skip them (they are already in the live room).
pub const APP: &str = "poker";

/// A JSON object literal as a record's fields.
fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// What a round row is to say.
struct RoundWrite<'a> {
    room_id: &'a str,
    number: u32,
    topic: &'a str,
    story: &'a str,
    phase: &'a str,
    revealed: bool,
    deck: &'a Value,
    ts: &'a str,
}

/// A round row as stored: id, topic, state, revealed, estimate, stats, deck, story.
type StoredRound = (String, String, String, String, String, Value, Value, String);

/// Round `number` of the room as stored, if it exists.
fn stored_round(
    tx: &AppTx<'_>,
    room_id: &str,
    number: u32,
) -> Result<Option<StoredRound>, StoreError> {
    let json = |text: String| serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(tx
        .conn()
        .prepare_cached(
            "SELECT id, topic, state, revealed, final_estimate, COALESCE(stats, 'null'), \
             COALESCE(deck, 'null'), story FROM rounds WHERE room = ?1 AND number = ?2",
        )?
        .query_row(params![room_id, number], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                json(r.get(5)?),
                json(r.get(6)?),
                r.get(7)?,
            ))
        })
        .optional()?)
}

/// Writes round `number` of the room (created if new): topic, state, deck, when
/// it was revealed (kept from the first reveal), and for an archived round its
/// estimate and stats; only what differs from the stored row. Returns its id.
fn upsert_round(
    tx: &AppTx<'_>,
    round: &RoundWrite<'_>,
    archived: Option<(&String, &Value)>,
) -> Result<String, StoreError> {
    let Some((id, topic, phase, revealed, estimate, stats, deck, story)) =
        stored_round(tx, round.room_id, round.number)?
    else {
        let id = litebase::id::new_id();
        let mut record = fields(
            json!({"id": id, "room": round.room_id, "number": round.number,
            "topic": round.topic, "story": round.story, "state": round.phase, "deck": round.deck,
            "started": round.ts, "revealed": if round.revealed { round.ts } else { "" }}),
        );
        if let Some((estimate, stats)) = archived {
            record.insert("final_estimate".into(), json!(estimate));
            record.insert("stats".into(), stats.clone());
        }
        tx.create("rounds", record)?;
        return Ok(id);
    };
    let mut patch = Map::new();
    if topic != round.topic {
        patch.insert("topic".into(), json!(round.topic));
    }
    if phase != round.phase {
        patch.insert("state".into(), json!(round.phase));
    }
    if story != round.story {
        patch.insert("story".into(), json!(round.story));
    }
    if deck != *round.deck {
        patch.insert("deck".into(), round.deck.clone());
    }
    match (round.revealed, revealed.is_empty()) {
        (true, true) => {
            patch.insert("revealed".into(), json!(round.ts));
        }
        (false, false) => {
            patch.insert("revealed".into(), json!(""));
        }
        _ => {}
    }
    if let Some((new_estimate, new_stats)) = archived {
        if estimate != *new_estimate {
            patch.insert("final_estimate".into(), json!(new_estimate));
        }
        if stats != *new_stats {
            patch.insert("stats".into(), new_stats.clone());
        }
    }
    if !patch.is_empty() {
        tx.update("rounds", &id, patch)?;
    }
    Ok(id)
}

/// Makes the room's `stories` rows exactly `queue` (position = index): only the
/// rows that differ are written, so reordering one story near the top rewrites
/// the positions below it and nothing else.
fn sync_stories(tx: &AppTx<'_>, room_id: &str, queue: &[Story]) -> Result<(), StoreError> {
    type Row = (i64, String, String, String, String, String, String);
    let stored: std::collections::HashMap<String, Row> = tx
        .conn()
        .prepare_cached(
            "SELECT id, CAST(position AS INTEGER), title, key, url, status, estimate, kind \
             FROM stories WHERE room = ?1",
        )?
        .query_map(params![room_id], |r| {
            Ok((
                r.get(0)?,
                (
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ),
            ))
        })?
        .collect::<Result<_, _>>()?;
    for id in stored.keys() {
        if !queue.iter().any(|s| &s.id.0 == id) {
            tx.delete("stories", id)?;
        }
    }
    for (position, story) in queue.iter().enumerate() {
        let now: Row = (
            i64::try_from(position).unwrap_or(i64::MAX),
            story.title.clone(),
            story.key.clone().unwrap_or_default(),
            story.url.clone().unwrap_or_default(),
            story.status.as_str().to_owned(),
            story.estimate.clone().unwrap_or_default(),
            story.kind.clone().unwrap_or_default(),
        );
        let (pos, title, key, url, status, estimate, kind) = &now;
        let record = json!({"position": pos, "title": title, "key": key, "url": url,
            "status": status, "estimate": estimate, "kind": kind});
        match stored.get(&story.id.0) {
            Some(row) if *row == now => {}
            Some(_) => {
                tx.update("stories", &story.id.0, fields(record))?;
            }
            None => {
                let mut record = fields(record);
                record.insert("id".into(), json!(story.id.0));
                record.insert("room".into(), json!(room_id));
                tx.create("stories", record)?;
            }
        }
    }
    Ok(())
}

/// Makes the votes of round `round_id` exactly `votes` (participant, card, name):
/// only the votes that differ are written.
fn replace_votes(
    tx: &AppTx<'_>,
    round_id: &str,
    votes: &[(String, String, String)],
) -> Result<(), StoreError> {
    // participant → (id, card, name)
    let stored: std::collections::HashMap<String, (String, String, String)> = tx
        .conn()
        .prepare_cached("SELECT participant, id, value, name FROM votes WHERE round = ?1")?
        .query_map(params![round_id], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
        })?
        .collect::<Result<_, _>>()?;
    for (participant, (id, _, _)) in &stored {
        if !votes.iter().any(|(p, _, _)| p == participant) {
            tx.delete("votes", id)?;
        }
    }
    for (participant, value, name) in votes {
        match stored.get(participant) {
            Some((_, v, n)) if v == value && n == name => {}
            Some((id, _, _)) => write_vote(tx, round_id, Some(id), participant, value, name)?,
            None => write_vote(tx, round_id, None, participant, value, name)?,
        }
    }
    Ok(())
}

/// Writes one vote: a change of the stored one (`id`), or a new one.
fn write_vote(
    tx: &AppTx<'_>,
    round_id: &str,
    id: Option<&str>,
    participant: &str,
    value: &str,
    name: &str,
) -> Result<(), StoreError> {
    match id {
        Some(id) => {
            tx.update("votes", id, fields(json!({"value": value, "name": name})))?;
        }
        None => {
            tx.create(
                "votes",
                fields(
                    json!({"round": round_id, "participant": participant, "value": value,
                    "name": name}),
                ),
            )?;
        }
    }
    Ok(())
}

/// Whether `events` only cast or took back votes (the hot path under load).
fn is_vote_only(events: &[Event]) -> bool {
    !events.is_empty()
        && events
            .iter()
            .all(|e| matches!(e, Event::Voted { .. } | Event::VoteCleared { .. }))
}

/// How stale the stored `last_activity` may get while people vote: a tenth of
/// the room's lifetime, at most a minute. Expiry is counted in hours, so the
/// room row is not rewritten (and announced) for every vote.
fn activity_step_ms() -> u64 {
    (room_ttl().saturating_mul(100)).min(60_000)
}

/// How often a room with people connected counts as active although nobody acts:
/// a quarter of the room's lifetime, at most every five minutes (the hub checks
/// at each tick, every 5 s).
pub fn keep_alive_step_ms() -> u64 {
    (room_ttl().saturating_mul(250)).min(300_000)
}

/// [`persist`] for votes alone: only the votes that changed (one write each)
/// and, when the stored activity is stale, the room's activity — instead of
/// every row of the room.
async fn persist_votes(
    records: &litebase::records::service::Records,
    room_id: &str,
    state: &RoomState,
    events: &[Event],
    stored_activity: &mut Timestamp,
) -> Result<(), StoreError> {
    let round = state.round();
    let number = round.number();
    let current = (
        round.topic().unwrap_or_default().to_string(),
        round.story().map(|s| s.0.clone()).unwrap_or_default(),
        phase_text(round.phase()),
        round.revealed_at().is_some(),
        serde_json::to_value(round.deck().spec()).unwrap_or(Value::Null),
    );
    // (participant, Some((card, name))) for a vote, None for a vote taken back.
    let changes: Vec<(String, Option<(String, String)>)> = events
        .iter()
        .map(|e| match e {
            Event::Voted { participant } | Event::VoteCleared { participant } => {
                let vote = round.votes().get(participant).map(|card| {
                    let name = state
                        .participant(participant)
                        .map(|p| p.name.clone())
                        .unwrap_or_default();
                    (card.clone(), name)
                });
                (participant.0.clone(), vote)
            }
            _ => (String::new(), None),
        })
        .filter(|(p, _)| !p.is_empty())
        .collect();
    let room_id = room_id.to_string();
    let activity = state.last_activity();
    let stale = stored_activity.0.saturating_add(activity_step_ms()) <= activity.0;
    records
        .app_write(APP, move |tx| -> Result<(), StoreError> {
            let ts = now_text();
            if stale {
                tx.update(
                    "rooms",
                    &room_id,
                    fields(json!({"last_activity": timestamp_text(activity),
                        "expires": timestamp_text(activity.plus_secs(room_ttl()))})),
                )?;
            }
            for (participant, vote) in &changes {
                // The round and this person's vote in it, in one look.
                let found: Option<(String, Option<String>)> = tx
                    .conn()
                    .prepare_cached(
                        "SELECT r.id, v.id FROM rounds r LEFT JOIN votes v \
                         ON v.round = r.id AND v.participant = ?3 \
                         WHERE r.room = ?1 AND r.number = ?2",
                    )?
                    .query_row(params![room_id, number, participant], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                let (round_id, id) = match found {
                    Some(found) => found,
                    None => {
                        let (topic, story, phase, revealed, deck) = &current;
                        let round = RoundWrite {
                            room_id: &room_id,
                            number,
                            topic,
                            story,
                            phase,
                            revealed: *revealed,
                            deck,
                            ts: &ts,
                        };
                        (upsert_round(tx, &round, None)?, None)
                    }
                };
                match (vote, id) {
                    (Some((card, name)), id) => {
                        write_vote(tx, &round_id, id.as_deref(), participant, card, name)?;
                    }
                    (None, Some(id)) => tx.delete("votes", &id)?,
                    (None, None) => {}
                }
            }
            Ok(())
        })
        .await?;
    if stale {
        *stored_activity = activity;
    }
    Ok(())
}

/// Marks the room's people offline, as a freshly started hub finds them (after a
/// crash the rows may still say online). Writes only rows that say online.
pub async fn mark_offline(
    records: &litebase::records::service::Records,
    room_id: &str,
) -> Result<(), StoreError> {
    let room_id = room_id.to_string();
    records
        .app_write(APP, move |tx| -> Result<(), StoreError> {
            let ids: Vec<String> = tx
                .conn()
                .prepare_cached("SELECT id FROM participants WHERE room = ?1 AND online")?
                .query_map(params![room_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let ts = now_text();
            for id in ids {
                tx.update(
                    "participants",
                    &id,
                    fields(json!({"online": false, "last_seen": ts})),
                )?;
            }
            Ok(())
        })
        .await
}

/// Moves the room's `last_activity` to `activity` and its `expires` one room
/// lifetime after it: people connected to a room keep it alive while they only
/// watch (the hub calls this every few minutes while it has connections).
pub async fn keep_alive(
    records: &litebase::records::service::Records,
    room_id: &str,
    activity: Timestamp,
) -> Result<(), StoreError> {
    let room_id = room_id.to_string();
    records
        .app_write(APP, move |tx| -> Result<(), StoreError> {
            tx.update(
                "rooms",
                &room_id,
                fields(json!({"last_activity": timestamp_text(activity),
                    "expires": timestamp_text(activity.plus_secs(room_ttl()))})),
            )?;
            Ok(())
        })
        .await
}

/// Deletes every room whose `expires` has passed (a room never given an expiry
/// counts from its last activity), with its participants, rounds and votes, in
/// one write. Returns the codes of the rooms deleted.
pub async fn delete_expired(
    records: &litebase::records::service::Records,
) -> Result<Vec<String>, StoreError> {
    delete_expired_except(records, Vec::new()).await
}

/// [`delete_expired`], sparing the rooms whose record ids are in `keep` (rooms
/// people are connected to: they are alive whatever their stored expiry says).
pub async fn delete_expired_except(
    records: &litebase::records::service::Records,
    keep: Vec<String>,
) -> Result<Vec<String>, StoreError> {
    let now_ts = now();
    let now_text = timestamp_text(now_ts);
    let idle_cutoff = timestamp_text(Timestamp(
        now_ts.0.saturating_sub(room_ttl().saturating_mul(1000)),
    ));
    records
        .app_write(APP, move |tx| -> Result<Vec<String>, StoreError> {
            let expired: Vec<(String, String)> = tx
                .conn()
                .prepare_cached(
                    "SELECT id, code FROM rooms WHERE (expires != '' AND expires < ?1) \
                     OR (expires = '' AND last_activity != '' AND last_activity < ?2)",
                )?
                .query_map(params![now_text, idle_cutoff], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut codes = Vec::with_capacity(expired.len());
            for (id, code) in expired.into_iter().filter(|(id, _)| !keep.contains(id)) {
                // The cascade takes its participants, rounds and votes.
                tx.delete("rooms", &id)?;
                codes.push(code);
            }
            Ok(codes)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_dates_round_trip() {
        let t = Timestamp(1_767_366_245_123);
        let text = timestamp_text(t);
        assert_eq!(text, "2026-01-02 15:04:05.123Z");
        assert_eq!(parse_timestamp(&text), Some(t));
        assert_eq!(
            parse_timestamp("2026-01-02T15:04:05Z"),
            Some(Timestamp(1_767_366_245_000))
        );
        assert_eq!(parse_timestamp(""), None);
        assert_eq!(parse_timestamp("soon"), None);
    }

    #[test]
    fn stored_names_are_made_valid() {
        assert_eq!(clean_name("  Ada \u{7}"), "Ada");
        assert_eq!(clean_name(""), "Player");
        assert_eq!(clean_name(&"x".repeat(50)).chars().count(), MAX_NAME_CHARS);
    }
}
