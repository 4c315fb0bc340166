//! One task per live room: it owns the room's [`RoomState`], applies every command
//! through the pure state machine, writes each change through litebase before
//! anyone hears of it, and sends each connection its own view.
//!
//! Sessions talk to a hub only through [`HubMsg`]s; a hub talks to a session only
//! through the session's bounded outbox. A session whose outbox is full is evicted
//! (its outbox is dropped, which closes its socket) instead of slowing the room.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::frame::ViewFrames;
use super::outbox::{Outbox, SendError};
use super::results_hook::{self, Policy, RoomWebhook, WebhookProblem, WebhookRequest};
use super::store::{self, LoadedRoom, NewSeat, StoreError};
use super::stories::{NewStory, StoryId};
use super::view::{PresenceStatus, presence_status};
use super::{
    Command, DeckSpec, Event, ParticipantId, PresenceChange, Role, RoomError, RoomState, Settings,
    Timestamp, view_for,
};
use crate::i18n::{self, Lang};
use crate::render::{Renderer, RoomMeta};

/// What a connection speaks: JSON frames (tests, tools) or HTML fragments (pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `welcome`, `ack`, `error` and `view` JSON frames.
    Json,
    /// Out-of-band HTML fragments for htmx, in one language.
    Html(Lang),
}

/// Why the hub refused a connection or a seat; said in the connection's language.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The room rules refused (locked, full, bad name…).
    Room(RoomError),
    /// The token names no seat of this room.
    BadToken,
    /// The database did not take the change.
    NotSaved,
    /// The connection closed while joining.
    Closed,
    /// No room has this code.
    NotFound,
    /// The room could not be loaded from the database.
    NotLoaded,
    /// The room kept restarting while joining.
    Busy,
    /// A moderator removed this person.
    Removed,
    /// An administrator deleted the room.
    Deleted,
    /// The room expired after its idle time.
    Expired,
    /// A results-webhook request was refused.
    Webhook(WebhookProblem),
}

impl Refusal {
    /// The message for a person reading `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Refusal::Room(e), lang) => i18n::room_error(lang, e),
            (Refusal::BadToken, Lang::En) => {
                "this token is not valid in this room; join without it".into()
            }
            (Refusal::BadToken, lang) => i18n::text(lang, "no_seat").into(),
            (Refusal::NotSaved, Lang::En) => "the room could not be saved; try again".into(),
            (Refusal::NotSaved, lang) => i18n::text(lang, "save_error").into(),
            (Refusal::Closed, Lang::En) => "connection closed".into(),
            (Refusal::Closed, lang) => i18n::text(lang, "closed").into(),
            (Refusal::NotFound, Lang::En) => StoreError::NotFound.to_string(),
            (Refusal::NotFound, lang) => i18n::text(lang, "room_missing").into(),
            (Refusal::NotLoaded, Lang::En) => "the room could not be loaded; try again".into(),
            (Refusal::NotLoaded, lang) => i18n::text(lang, "room_busy").into(),
            (Refusal::Busy, Lang::En) => "the room is busy; try again".into(),
            (Refusal::Busy, lang) => i18n::text(lang, "room_busy").into(),
            (Refusal::Removed, Lang::En) => "you were removed from the room".into(),
            (Refusal::Removed, lang) => i18n::text(lang, "kicked").into(),
            (Refusal::Deleted, Lang::En) => "this room was deleted".into(),
            (Refusal::Deleted, lang) => i18n::text(lang, "room_deleted").into(),
            (Refusal::Expired, Lang::En) => "this room expired; create a new room".into(),
            (Refusal::Expired, lang) => i18n::text(lang, "room_expired").into(),
            (Refusal::Webhook(problem), lang) => problem.message(lang),
        }
    }
}

/// A copy of a room for rendering a page, and whose seat a token is.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The room now.
    pub state: RoomState,
    /// The seat of the token asked about, if it is valid.
    pub me: Option<ParticipantId>,
    /// The room's results webhook, if set (shown to moderators only).
    pub webhook: Option<RoomWebhook>,
}

/// Frames a connection may have queued before it counts as too slow.
pub const OUTBOX_CAPACITY: usize = 64;
/// How long a room with nobody connected keeps its task.
const IDLE_EXIT: Duration = Duration::from_secs(60);
/// How often time passes for the state machine (countdowns, presence grace).
const TICK: Duration = Duration::from_secs(5);

/// What a player asks a room to do, already parsed (see [`super::protocol`]).
#[derive(Debug, Clone)]
pub enum Action {
    /// Vote, or change one's vote.
    Vote(String),
    /// Take one's vote back.
    Clear,
    /// Show the votes.
    Reveal,
    /// Clear every vote and vote again.
    Reset,
    /// Start the next round.
    Next(Option<String>),
    /// Set the topic.
    Topic(String),
    /// Record the final estimate.
    Estimate(String),
    /// Remove someone from the room.
    Kick(ParticipantId),
    /// Grant (`true`) or revoke co-host rights.
    CoHost {
        /// Who.
        participant: ParticipantId,
        /// Granted or revoked.
        value: bool,
    },
    /// Hand the host role to someone.
    Transfer(ParticipantId),
    /// Lock or unlock the room.
    Lock(bool),
    /// Rename the room (blank clears the name).
    Rename(String),
    /// Replace the room settings.
    Settings(Settings),
    /// Change the deck.
    Deck {
        /// The new deck.
        spec: DeckSpec,
        /// Clear the current votes so the round uses the new deck now.
        reset_votes: bool,
    },
    /// Configure (`Some`) or remove the countdown.
    Timer(Option<u32>),
    /// Start the countdown.
    TimerStart,
    /// Stop the countdown.
    TimerStop,
    /// Change a role: one's own, or someone else's (moderators).
    Role {
        /// The new role.
        role: Role,
        /// Whose role; the sender's when `None`.
        participant: Option<ParticipantId>,
    },
    /// Change one's own display name.
    Name(String),
    /// Leave the room for good.
    Leave,
    /// Add stories to the queue.
    StoryAdd(Vec<StoryText>),
    /// Change a story.
    StoryEdit {
        /// Which.
        story: StoryId,
        /// New title.
        title: String,
        /// New key (blank clears).
        key: Option<String>,
        /// New link (blank clears).
        url: Option<String>,
    },
    /// Move a story in the queue.
    StoryMove {
        /// Which.
        story: StoryId,
        /// Its new position, from 0.
        to: usize,
    },
    /// Remove a story.
    StoryRemove(StoryId),
    /// Vote on this story now.
    StoryPlay(StoryId),
    /// Skip the current story.
    StorySkip,
}

/// A story as a person typed it or a file held it, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryText {
    /// Title.
    pub title: String,
    /// Tracker key.
    pub key: Option<String>,
    /// Link.
    pub url: Option<String>,
    /// Issue type (imports only).
    pub kind: Option<String>,
}

impl Action {
    /// The state-machine command for this action sent by `by`: the one mapping from
    /// wire to room, public so the protocol fuzz target drives the room the way the
    /// hub does.
    pub fn command(self, by: ParticipantId) -> Command {
        match self {
            Action::Vote(card) => Command::Vote { by, card },
            Action::Clear => Command::ClearVote { by },
            Action::Reveal => Command::Reveal { by },
            Action::Reset => Command::Reset { by },
            Action::Next(topic) => Command::NextRound { by, topic },
            Action::Topic(topic) => Command::SetTopic { by, topic },
            Action::Estimate(estimate) => Command::RecordEstimate { by, estimate },
            Action::Kick(participant) => Command::Kick { by, participant },
            Action::CoHost { participant, value } => Command::SetCoHost {
                by,
                participant,
                co_host: value,
            },
            Action::Transfer(to) => Command::TransferHost { by, to },
            Action::Lock(locked) => Command::Lock { by, locked },
            Action::Rename(name) => Command::RenameRoom { by, name },
            Action::Settings(settings) => Command::UpdateSettings { by, settings },
            Action::Deck { spec, reset_votes } => Command::ChangeDeck {
                by,
                deck: spec,
                reset_votes,
            },
            Action::Timer(duration_secs) => Command::SetTimer { by, duration_secs },
            Action::TimerStart => Command::StartTimer { by },
            Action::TimerStop => Command::StopTimer { by },
            Action::Role { role, participant } => Command::SetRole {
                participant: participant.unwrap_or_else(|| by.clone()),
                by,
                role,
            },
            Action::Name(name) => Command::SetName { by, name },
            Action::Leave => Command::Leave { by },
            Action::StoryAdd(stories) => Command::AddStories {
                by,
                stories: stories
                    .into_iter()
                    .map(|s| NewStory {
                        id: StoryId::from(litebase::id::new_id()),
                        title: s.title,
                        key: s.key,
                        url: s.url,
                        kind: s.kind,
                    })
                    .collect(),
            },
            Action::StoryEdit {
                story,
                title,
                key,
                url,
            } => Command::EditStory {
                by,
                story,
                title,
                key,
                url,
            },
            Action::StoryMove { story, to } => Command::MoveStory { by, story, to },
            Action::StoryRemove(story) => Command::RemoveStory { by, story },
            Action::StoryPlay(story) => Command::PlayStory { by, story },
            Action::StorySkip => Command::SkipStory { by },
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Action::Vote(_) => "vote",
            Action::Clear => "clear",
            Action::Reveal => "reveal",
            Action::Reset => "reset",
            Action::Next(_) => "next",
            Action::Topic(_) => "topic",
            Action::Estimate(_) => "estimate",
            Action::Kick(_) => "kick",
            Action::CoHost { .. } => "cohost",
            Action::Transfer(_) => "transfer",
            Action::Lock(_) => "lock",
            Action::Rename(_) => "rename",
            Action::Settings(_) => "settings",
            Action::Deck { .. } => "deck",
            Action::Timer(_) => "timer",
            Action::TimerStart => "timer_start",
            Action::TimerStop => "timer_stop",
            Action::Role { .. } => "role",
            Action::Name(_) => "name",
            Action::Leave => "leave",
            Action::StoryAdd(_) => "story_add",
            Action::StoryEdit { .. } => "story_edit",
            Action::StoryMove { .. } => "story_move",
            Action::StoryRemove(_) => "story_remove",
            Action::StoryPlay(_) => "story_play",
            Action::StorySkip => "story_skip",
        }
    }
}

/// A message from a session to its room's hub.
#[derive(Debug)]
pub enum HubMsg {
    /// A connection joins: resumes the seat of `token`, or takes a new one.
    Connect {
        /// Display name (used for a new seat, or to rename a resumed one).
        name: String,
        /// Voter or spectator (for a new seat).
        role: Role,
        /// A token from an earlier `welcome` or room creation.
        token: Option<String>,
        /// Where the hub sends this connection's frames.
        outbox: Outbox,
        /// JSON or HTML (and its language).
        format: Format,
        /// The connection id, or why the join was refused.
        reply: oneshot::Sender<Result<u64, Refusal>>,
    },
    /// A page form takes a new seat (no connection yet): the seat's id and token.
    Join {
        /// Display name.
        name: String,
        /// Voter or spectator.
        role: Role,
        /// The new seat and its secret token, or why it was refused.
        reply: oneshot::Sender<Result<(ParticipantId, String), Refusal>>,
    },
    /// A page asks for the room as it is now, and whose seat `token` is.
    Snapshot {
        /// The token from the page's seat cookie.
        token: Option<String>,
        /// The answer.
        reply: oneshot::Sender<Result<Snapshot, Refusal>>,
    },
    /// A joined connection acts.
    Act {
        /// The connection.
        conn: u64,
        /// What it asks.
        action: Action,
    },
    /// A joined connection sets, removes or tests the results webhook.
    Webhook {
        /// The connection.
        conn: u64,
        /// What it asks.
        request: WebhookRequest,
        /// litebase's `meta.appURL` now (the room's link in messages).
        app_url: String,
    },
    /// A connection went away.
    Disconnect {
        /// The connection.
        conn: u64,
    },
    /// The room's rows changed behind the hub's back (an admin edit through
    /// `/api`): reload the state, keep the connections, broadcast.
    Reload,
    /// A page adds stories to the queue for the seat of `token` (an import):
    /// how many were added, or why not.
    AddStories {
        /// The token from the page's seat cookie.
        token: Option<String>,
        /// The stories, in order.
        stories: Vec<StoryText>,
        /// The number added, or the refusal.
        reply: oneshot::Sender<Result<usize, Refusal>>,
    },
    /// The room is gone (deleted or expired): tell every connection `reason`,
    /// close them, and stop.
    Close {
        /// What the players are told.
        reason: Refusal,
    },
}

/// The live rooms of this process, by code.
pub struct Hubs {
    rooms: Mutex<HashMap<String, mpsc::Sender<HubMsg>>>,
    renderer: Arc<Renderer>,
    /// Room record id → (code, hub), readable without awaiting, for callers that
    /// cannot await (after-commit hooks, metrics).
    live: std::sync::Mutex<HashMap<String, (String, mpsc::Sender<HubMsg>)>>,
    /// Record ids of the rooms someone is connected to: the sweeper spares them.
    connected: std::sync::Mutex<std::collections::HashSet<String>>,
    /// The operator's rule for the rooms' results webhooks.
    webhook_policy: Policy,
}

impl Hubs {
    fn live_map(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (String, mpsc::Sender<HubMsg>)>> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends `msg` to the live hub of the room with record id `room_id`, if any.
    /// Never waits: a hub whose queue is full misses it (it is reloaded on its
    /// next admin edit or restart).
    pub fn notify_room(&self, room_id: &str, msg: HubMsg) {
        if let Some((_, tx)) = self.live_map().get(room_id) {
            let _ = tx.try_send(msg);
        }
    }

    /// Sends `msg` to the live hub of room `code`, if any.
    pub fn notify_code(&self, code: &str, msg: HubMsg) {
        let tx = self
            .live_map()
            .values()
            .find(|(c, _)| c == code)
            .map(|(_, tx)| tx.clone());
        if let Some(tx) = tx {
            let _ = tx.try_send(msg);
        }
    }

    /// Asks every live hub to reload (for a change whose room is unknown).
    pub fn reload_all(&self) {
        for (_, tx) in self.live_map().values() {
            let _ = tx.try_send(HubMsg::Reload);
        }
    }

    /// How many rooms have a live task.
    pub fn live_count(&self) -> usize {
        self.live_map().len()
    }

    fn connected_set(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        self.connected
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Record ids of the rooms someone is connected to now: people sitting in a
    /// room keep it alive, so the sweeper never deletes these.
    pub fn connected_rooms(&self) -> Vec<String> {
        self.connected_set().iter().cloned().collect()
    }

    /// Stops sparing room `room_id` from the sweeper before its hub has closed
    /// (an administrator expired it on purpose: it goes at the next sweep).
    pub fn release(&self, room_id: &str) {
        self.connected_set().remove(room_id);
    }

    fn set_connected(&self, room_id: &str, connected: bool) {
        let mut set = self.connected_set();
        if connected {
            set.insert(room_id.to_string());
        } else {
            set.remove(room_id);
        }
    }

    async fn unregister(&self, code: &str, room_id: &str, me: &mpsc::Sender<HubMsg>) {
        let mut rooms = self.rooms.lock().await;
        if rooms.get(code).is_some_and(|tx| tx.same_channel(me)) {
            rooms.remove(code);
        }
        drop(rooms);
        let mut live = self.live_map();
        if live.get(room_id).is_some_and(|(_, tx)| tx.same_channel(me)) {
            live.remove(room_id);
        }
    }
}

impl Hubs {
    /// No live room yet; every hub renders HTML with `renderer`.
    pub fn new(renderer: Arc<Renderer>) -> Self {
        Self {
            rooms: Mutex::new(HashMap::new()),
            live: std::sync::Mutex::new(HashMap::new()),
            connected: std::sync::Mutex::default(),
            renderer,
            webhook_policy: Policy::default(),
        }
    }

    /// The rooms' results webhooks follow `policy` (private addresses refused
    /// by default).
    pub fn with_webhook_policy(mut self, policy: Policy) -> Self {
        self.webhook_policy = policy;
        self
    }

    /// Asks the hub of room `code` (started if needed) and waits for its answer;
    /// returns the hub with it. A hub may be exiting as it is asked: its reply is
    /// then dropped, and one retry reaches its successor.
    pub async fn ask<T>(
        self: &Arc<Self>,
        records: &litebase::records::service::Records,
        code: &str,
        message: impl Fn(oneshot::Sender<Result<T, Refusal>>) -> HubMsg,
    ) -> Result<(mpsc::Sender<HubMsg>, T), Refusal> {
        for _ in 0..2 {
            let hub = match self.get(records, code).await {
                Ok(hub) => hub,
                Err(StoreError::NotFound) => return Err(Refusal::NotFound),
                Err(e) => {
                    tracing::error!(error = %e, "cannot load a room");
                    return Err(Refusal::NotLoaded);
                }
            };
            let (reply, answer) = oneshot::channel();
            if hub.send(message(reply)).await.is_err() {
                continue;
            }
            match answer.await {
                Ok(Ok(value)) => return Ok((hub, value)),
                Ok(Err(refusal)) => return Err(refusal),
                Err(_) => continue,
            }
        }
        Err(Refusal::Busy)
    }

    /// The hub of room `code`, started (and loaded from the database) if needed.
    pub async fn get(
        self: &Arc<Self>,
        records: &litebase::records::service::Records,
        code: &str,
    ) -> Result<mpsc::Sender<HubMsg>, StoreError> {
        let mut rooms = self.rooms.lock().await;
        if let Some(tx) = rooms.get(code).filter(|tx| !tx.is_closed()) {
            return Ok(tx.clone());
        }
        let mut loaded = store::load_room(records.db(), code.to_string()).await?;
        results_hook::enforce(
            records,
            &loaded.room_id,
            &mut loaded.webhook,
            self.webhook_policy,
        )
        .await;
        let (tx, rx) = mpsc::channel(256);
        rooms.insert(code.to_string(), tx.clone());
        self.live_map()
            .insert(loaded.room_id.clone(), (code.to_string(), tx.clone()));
        let mut hub = Hub::new(
            loaded,
            records.clone(),
            self.renderer.clone(),
            code.to_string(),
        );
        hub.webhook_policy = self.webhook_policy;
        let hubs = self.clone();
        let code = code.to_string();
        let me = tx.clone();
        tokio::spawn(async move {
            hub.run(rx, hubs, code, me).await;
        });
        Ok(tx)
    }
}

struct Conn {
    participant: ParticipantId,
    outbox: Outbox,
    format: Format,
    /// A hash of the last personal fragment sent (HTML), to skip repeats.
    last_personal: Option<u64>,
    /// The queue version last sent (HTML): the queue goes out only when it changed.
    last_queue: Option<u64>,
}

/// An `{"type":"error","message":…}` frame.
pub fn error_frame(message: &str) -> String {
    crate::metrics::ws_error();
    serde_json::json!({"type": "error", "message": message}).to_string()
}

struct Hub {
    records: litebase::records::service::Records,
    renderer: Arc<Renderer>,
    code: String,
    room_id: String,
    state: RoomState,
    /// The room's `last_activity` as last written (votes skip the room row
    /// while it is fresh enough).
    stored_activity: Timestamp,
    tokens: HashMap<String, ParticipantId>,
    conns: HashMap<u64, Conn>,
    next_conn: u64,
    /// People whose connection the hub dropped while sending (too slow, or
    /// already gone): their presence is settled after the current message, as
    /// their session's `Disconnect` will no longer find the connection.
    dropped: Vec<ParticipantId>,
    /// The results webhook, as stored.
    webhook: Option<RoomWebhook>,
    webhook_policy: Policy,
}

impl Hub {
    fn new(
        loaded: LoadedRoom,
        records: litebase::records::service::Records,
        renderer: Arc<Renderer>,
        code: String,
    ) -> Self {
        Self {
            records,
            renderer,
            code,
            room_id: loaded.room_id,
            stored_activity: loaded.state.last_activity(),
            state: loaded.state,
            tokens: loaded.tokens.into_iter().collect(),
            conns: HashMap::new(),
            next_conn: 1,
            dropped: Vec::new(),
            webhook: loaded.webhook,
            webhook_policy: Policy::default(),
        }
    }

    async fn run(
        mut self,
        mut rx: mpsc::Receiver<HubMsg>,
        hubs: Arc<Hubs>,
        code: String,
        me: mpsc::Sender<HubMsg>,
    ) {
        if let Err(e) = store::mark_offline(&self.records, &self.room_id).await {
            tracing::warn!(error = %e, "cannot reset the presence of a room's people");
        }
        let mut tick = tokio::time::interval(TICK);
        let mut idle_since = tokio::time::Instant::now();
        let mut shown = self.shown_presence();
        let mut online = 0;
        let mut spared = false;
        loop {
            online = self.report_online(online);
            if spared == self.conns.is_empty() {
                spared = !spared;
                hubs.set_connected(&self.room_id, spared);
            }
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(HubMsg::Close { reason }) => {
                        self.close_all(reason);
                        break;
                    }
                    Some(HubMsg::Reload) => {
                        if let Err(reason) = self.reload(&code).await {
                            self.close_all(reason);
                            break;
                        }
                    }
                    Some(msg) => {
                        self.handle(msg).await;
                        self.settle_dropped().await;
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    let changed = self.step(Command::Tick, None).await;
                    let kept = self.keep_alive().await;
                    // Away turns into gone after the grace period without any event.
                    let now_shown = self.shown_presence();
                    if changed || kept || now_shown != shown {
                        self.broadcast();
                    }
                    self.settle_dropped().await;
                    shown = self.shown_presence();
                    if !self.conns.is_empty() {
                        idle_since = tokio::time::Instant::now();
                    } else if idle_since.elapsed() >= IDLE_EXIT {
                        break;
                    }
                }
            }
        }
        crate::metrics::participants_online_add(-online);
        if spared {
            hubs.set_connected(&self.room_id, false);
        }
        hubs.unregister(&code, &self.room_id, &me).await;
        // Whoever raced the exit loses their reply, which tells `Hubs::ask` to
        // retry with this room's next hub.
        rx.close();
    }

    /// While someone is connected, counts the time as activity every
    /// [`store::keep_alive_step_ms`] (not every tick), so a room whose people sit
    /// and watch does not expire under them. Returns whether it wrote.
    async fn keep_alive(&mut self) -> bool {
        let now = store::now();
        if self.conns.is_empty()
            || now.millis_since(self.stored_activity) < store::keep_alive_step_ms()
        {
            return false;
        }
        match store::keep_alive(&self.records, &self.room_id, now).await {
            Ok(()) => {
                self.state.keep_alive(now);
                self.stored_activity = now;
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot keep a connected room alive");
                false
            }
        }
    }

    /// Reports the change of this room's online people to the metrics gauge;
    /// returns the new count.
    fn report_online(&self, before: i64) -> i64 {
        let people: std::collections::HashSet<&ParticipantId> =
            self.conns.values().map(|c| &c.participant).collect();
        let now = i64::try_from(people.len()).unwrap_or(i64::MAX);
        crate::metrics::participants_online_add(now - before);
        now
    }

    /// Each participant's presence as shown, to notice changes that happen by
    /// the clock alone (away turning into gone).
    fn shown_presence(&self) -> Vec<(ParticipantId, PresenceStatus)> {
        let now = store::now();
        self.state
            .participants()
            .iter()
            .map(|p| (p.id.clone(), presence_status(p, now)))
            .collect()
    }

    /// Tells every connection `reason` in an error frame and drops it (which
    /// closes its socket once the frame is written).
    fn close_all(&mut self, reason: Refusal) {
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        for id in ids {
            self.send_refusal(id, &reason);
            self.conns.remove(&id);
        }
    }

    /// Drops the connections of people who left or were removed; a removed
    /// person is told why first. Their token no longer resumes a seat.
    fn drop_departed(&mut self, events: &[Event]) {
        for event in events {
            let (who, message) = match event {
                Event::Kicked { participant } => (participant, Some(Refusal::Removed)),
                Event::Left { participant } => (participant, None),
                _ => continue,
            };
            self.tokens.retain(|_, p| p != who);
            let ids: Vec<u64> = self
                .conns
                .iter()
                .filter(|(_, c)| &c.participant == who)
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                if let Some(message) = &message {
                    self.send_refusal(id, message);
                }
                self.conns.remove(&id);
            }
        }
    }

    /// Reloads the state from the database after an outside edit. Connections
    /// whose seat disappeared are told and dropped; the others are marked online
    /// again (in memory only, so a reload never writes and cannot loop).
    /// `Err` is the reason to close the room.
    async fn reload(&mut self, code: &str) -> Result<(), Refusal> {
        let loaded = match store::load_room(self.records.db(), code.to_string()).await {
            Ok(loaded) => loaded,
            Err(StoreError::NotFound) => return Err(Refusal::Deleted),
            Err(e) => {
                tracing::error!(error = %e, "cannot reload a room; keeping the live state");
                return Ok(());
            }
        };
        self.room_id = loaded.room_id;
        self.webhook = loaded.webhook;
        self.stored_activity = loaded.state.last_activity();
        self.state = loaded.state;
        self.tokens = loaded.tokens.into_iter().collect();
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        for id in ids {
            let Some(participant) = self.conns.get(&id).map(|c| c.participant.clone()) else {
                continue;
            };
            if self.state.participant(&participant).is_none() {
                self.send_refusal(id, &Refusal::Removed);
                self.conns.remove(&id);
                continue;
            }
            let online = Command::SetPresence {
                participant,
                presence: PresenceChange::Online,
            };
            if let Ok((next, _)) = self.state.apply(online, store::now()) {
                self.state = next;
            }
        }
        self.broadcast();
        Ok(())
    }

    async fn handle(&mut self, msg: HubMsg) {
        match msg {
            HubMsg::Connect {
                name,
                role,
                token,
                outbox,
                format,
                reply,
            } => {
                let result = self.connect(name, role, token, outbox, format).await;
                let _ = reply.send(result);
            }
            HubMsg::Join { name, role, reply } => {
                let result = self.add_seat(name, role).await;
                if result.is_ok() {
                    self.broadcast();
                }
                let _ = reply.send(result);
            }
            HubMsg::AddStories {
                token,
                stories,
                reply,
            } => {
                let result = self.add_stories(token.as_deref(), stories).await;
                let _ = reply.send(result);
            }
            HubMsg::Snapshot { token, reply } => {
                let me = token.as_deref().and_then(|t| self.seat_of(t));
                let _ = reply.send(Ok(Snapshot {
                    state: self.state.clone(),
                    me,
                    webhook: self.webhook.clone(),
                }));
            }
            HubMsg::Act { conn, action } => {
                let Some(by) = self.conns.get(&conn).map(|c| c.participant.clone()) else {
                    return;
                };
                let label = action.name();
                if let Some(events) = self.step_events(action.command(by), Some(conn)).await {
                    if self
                        .conns
                        .get(&conn)
                        .is_some_and(|c| c.format == Format::Json)
                    {
                        self.send(
                            conn,
                            serde_json::json!({"type": "ack", "action": label}).to_string(),
                        );
                    }
                    self.drop_departed(&events);
                    self.broadcast();
                }
            }
            HubMsg::Webhook {
                conn,
                request,
                app_url,
            } => self.webhook_request(conn, request, &app_url).await,
            HubMsg::Disconnect { conn } => {
                if let Some(c) = self.conns.remove(&conn) {
                    self.presence(&c.participant).await;
                }
            }
            // Handled by the run loop.
            HubMsg::Reload | HubMsg::Close { .. } => {}
        }
    }

    /// Sets, removes or tests the results webhook for `conn` (see
    /// [`results_hook::apply`]); the host's panel and JSON ack show the result.
    async fn webhook_request(&mut self, conn: u64, request: WebhookRequest, app_url: &str) {
        let Some((by, format)) = self
            .conns
            .get(&conn)
            .map(|c| (c.participant.clone(), c.format))
        else {
            return;
        };
        let lang = match format {
            Format::Html(lang) => lang,
            Format::Json => Lang::En,
        };
        let test = request == WebhookRequest::Test;
        let applied = results_hook::apply(
            &self.records,
            &self.room_id,
            &self.code,
            &self.state,
            &by,
            request,
            self.webhook.as_ref(),
            self.webhook_policy,
            lang,
            app_url,
        )
        .await;
        match applied {
            Ok(webhook) => {
                self.webhook = webhook;
                let frame = match (format, test) {
                    (Format::Json, true) => {
                        serde_json::json!({"type": "ack", "action": "webhook_test"}).to_string()
                    }
                    (Format::Json, false) => serde_json::json!({"type": "ack", "action": "webhook",
                        "webhook": self.webhook.as_ref().map(RoomWebhook::status)})
                    .to_string(),
                    (Format::Html(lang), true) => self
                        .renderer
                        .toast(lang, i18n::text(lang, "webhook_test_queued")),
                    (Format::Html(_), false) => String::new(),
                };
                if !frame.is_empty() {
                    self.send(conn, frame);
                }
                if !test {
                    self.broadcast();
                }
            }
            Err(results_hook::Failure::Problem(problem)) => {
                self.send_refusal(conn, &Refusal::Webhook(problem));
            }
            Err(results_hook::Failure::NotSaved(e)) => {
                tracing::error!(error = %e, "cannot store a room's webhook");
                self.send_refusal(conn, &Refusal::NotSaved);
            }
        }
    }

    /// Adds stories for the seat of `token` through the rules (moderators only),
    /// then tells everyone.
    async fn add_stories(
        &mut self,
        token: Option<&str>,
        stories: Vec<StoryText>,
    ) -> Result<usize, Refusal> {
        let by = token
            .and_then(|t| self.seat_of(t))
            .ok_or(Refusal::BadToken)?;
        let count = stories.len();
        let command = Action::StoryAdd(stories).command(by);
        self.commit(command, None, "imported stories").await?;
        self.broadcast();
        Ok(count)
    }

    /// Applies `command` through the rules, stores its changes (with `seat`'s
    /// row, for a join) and keeps the new state only once they are committed.
    /// Returns what changed; nothing is stored when nothing did. `what` names the
    /// change in the log when it cannot be stored.
    async fn commit(
        &mut self,
        command: Command,
        seat: Option<NewSeat>,
        what: &str,
    ) -> Result<Vec<Event>, Refusal> {
        let (next, events) = self
            .state
            .apply(command, store::now())
            .map_err(Refusal::Room)?;
        if events.is_empty() {
            return Ok(events);
        }
        store::persist(
            &self.records,
            &self.room_id,
            &next,
            &events,
            seat,
            &mut self.stored_activity,
        )
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot store {what}");
            Refusal::NotSaved
        })?;
        self.state = next;
        Ok(events)
    }

    /// The live seat of `token`, if any.
    fn seat_of(&self, token: &str) -> Option<ParticipantId> {
        self.tokens
            .get(&store::token_hash(token))
            .cloned()
            .filter(|p| self.state.participant(p).is_some())
    }

    /// Creates a seat (a `Join` through the rules, then its row and token hash).
    async fn add_seat(
        &mut self,
        name: String,
        role: Role,
    ) -> Result<(ParticipantId, String), Refusal> {
        let id = ParticipantId::from(litebase::id::new_id());
        let token = store::new_token();
        let seat = NewSeat {
            id: id.clone(),
            token_hash: store::token_hash(&token),
        };
        let command = Command::Join {
            participant: id.clone(),
            name,
            role,
        };
        let events = self
            .commit(command, Some(seat.clone()), "a new participant")
            .await?;
        if events.is_empty() {
            // A join always changes the room; without a change there is no row.
            return Err(Refusal::NotSaved);
        }
        self.tokens.insert(seat.token_hash, id.clone());
        Ok((id, token))
    }

    async fn connect(
        &mut self,
        name: String,
        role: Role,
        token: Option<String>,
        outbox: Outbox,
        format: Format,
    ) -> Result<u64, Refusal> {
        let resumed = token.as_deref().and_then(|t| self.seat_of(t));
        let (participant, new_token) = match resumed {
            Some(p) => (p, None),
            None if token.is_some() => return Err(Refusal::BadToken),
            None => {
                let (id, token) = self.add_seat(name, role).await?;
                (id, Some(token))
            }
        };
        let conn = self.next_conn;
        self.next_conn += 1;
        if format == Format::Json {
            let mut welcome =
                serde_json::json!({"type": "welcome", "participantId": participant.0});
            if let Some(token) = new_token {
                welcome["token"] = serde_json::Value::String(token);
            }
            if outbox.try_send(welcome.to_string().into()).is_err() {
                return Err(Refusal::Closed);
            }
        }
        self.conns.insert(
            conn,
            Conn {
                participant: participant.clone(),
                outbox,
                format,
                last_personal: None,
                last_queue: None,
            },
        );
        // `presence` broadcasts, so the new connection gets its fragments.
        self.presence(&participant).await;
        Ok(conn)
    }

    /// Reports `participant`'s presence from their open connections.
    async fn presence(&mut self, participant: &ParticipantId) {
        let online = self.conns.values().any(|c| &c.participant == participant);
        let presence = if online {
            PresenceChange::Online
        } else {
            PresenceChange::Away
        };
        let command = Command::SetPresence {
            participant: participant.clone(),
            presence,
        };
        self.step(command, None).await;
        self.broadcast();
    }

    /// Applies `command`, persists its changes, and keeps the new state only once
    /// they are committed. Errors go to `conn`. Returns whether the state changed.
    async fn step(&mut self, command: Command, conn: Option<u64>) -> bool {
        self.step_events(command, conn).await.is_some()
    }

    /// [`Hub::step`], returning what changed (`None`: nothing did).
    async fn step_events(&mut self, command: Command, conn: Option<u64>) -> Option<Vec<Event>> {
        match self.commit(command, None, "a room change").await {
            Ok(events) if events.is_empty() => None,
            Ok(events) => Some(events),
            Err(refusal) => {
                if let Some(conn) = conn {
                    self.send_refusal(conn, &refusal);
                }
                None
            }
        }
    }

    /// Tells `conn` why its request was refused: an error frame or a toast.
    fn send_refusal(&mut self, conn: u64, refusal: &Refusal) {
        let frame = match self.conns.get(&conn).map(|c| c.format) {
            Some(Format::Html(lang)) => self.renderer.toast(lang, &refusal.message(lang)),
            Some(Format::Json) => error_frame(&refusal.message(Lang::En)),
            None => return,
        };
        self.send(conn, frame);
    }

    fn send(&mut self, conn: u64, frame: String) {
        let result = match self.conns.get(&conn) {
            Some(c) => c.outbox.try_send(frame.into()),
            None => return,
        };
        if let Err(e) = result {
            self.drop_conn(conn, &e);
        }
    }

    /// Drops `conn` after a failed send: a full outbox means the client is too
    /// slow (evicted, counted; dropping the outbox closes its socket); a closed
    /// one means its session already ended. Either way its presence is settled
    /// by [`Hub::settle_dropped`].
    fn drop_conn(&mut self, conn: u64, error: &SendError) {
        if *error == SendError::Full {
            crate::metrics::ws_dropped();
            crate::metrics::ws_eviction();
            tracing::info!(conn, "evicting a slow connection");
        }
        if let Some(c) = self.conns.remove(&conn) {
            self.dropped.push(c.participant);
        }
    }

    /// Reports the presence of the people whose connections were dropped while
    /// sending (which may drop more, hence the loop).
    async fn settle_dropped(&mut self) {
        while let Some(participant) = self.dropped.pop() {
            self.presence(&participant).await;
        }
    }

    /// Sends every connection its own view: JSON connections a `view` frame; HTML
    /// connections the shared fragment (rendered once per language, the same bytes
    /// for all) and their personal fragment when it changed.
    fn broadcast(&mut self) {
        let now = store::now();
        let meta = RoomMeta {
            code: &self.code,
            expires: self.state.last_activity().plus_secs(store::room_ttl()),
            now,
            webhook: self.webhook.as_ref(),
        };
        let mut anonymous = None;
        let mut shared: [Option<ByteString>; 2] = [None, None];
        let queue_key = queue_fingerprint(&self.state);
        let mut queue_html: [Option<ByteString>; 2] = [None, None];
        // JSON views: the anonymous view serialised once, each frame spliced from it.
        let mut frames: Option<ViewFrames> = None;
        let mut evicted = Vec::new();
        for (id, c) in self.conns.iter_mut() {
            let lang = match c.format {
                Format::Json => {
                    let frame = match &frames {
                        Some(f) => f.frame_for(&self.state, &c.participant),
                        None => ViewFrames::new(&self.state, now)
                            .and_then(|f| frames.insert(f).frame_for(&self.state, &c.participant)),
                    };
                    match frame {
                        Ok(frame) => {
                            if let Err(e) = c.outbox.try_send(frame.into()) {
                                evicted.push((*id, e));
                            }
                        }
                        Err(e) => tracing::error!(error = %e, "cannot render a view"),
                    }
                    continue;
                }
                Format::Html(lang) => lang,
            };
            let view = view_for(&self.state, Some(&c.participant), now);
            let frame = once_per_lang(&mut shared[lang.index()], "a room", || {
                let anon = anonymous.get_or_insert_with(|| view_for(&self.state, None, now));
                self.renderer.shared(anon, &meta, lang)
            });
            if let Some(frame) = frame {
                if let Err(e) = c.outbox.try_send(frame) {
                    evicted.push((*id, e));
                    continue;
                }
            }
            if c.last_queue != Some(queue_key) {
                let frame = once_per_lang(&mut queue_html[lang.index()], "a story queue", || {
                    let anon = anonymous.get_or_insert_with(|| view_for(&self.state, None, now));
                    self.renderer.queue(anon, &meta, lang)
                });
                if let Some(frame) = frame {
                    if let Err(e) = c.outbox.try_send(frame) {
                        evicted.push((*id, e));
                        continue;
                    }
                    c.last_queue = Some(queue_key);
                }
            }
            match self.renderer.personal(&view, &meta, lang) {
                Ok(html) => {
                    let hash = fingerprint(&html);
                    if c.last_personal != Some(hash) {
                        c.last_personal = Some(hash);
                        if let Err(e) = c.outbox.try_send(html.into()) {
                            evicted.push((*id, e));
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot render a hand"),
            }
        }
        for (id, error) in evicted {
            self.drop_conn(id, &error);
        }
    }
}

/// A fragment the same for every connection of a language, rendered on first
/// use in this broadcast (`slot` holds it); `None` when it cannot be rendered.
fn once_per_lang(
    slot: &mut Option<ByteString>,
    what: &str,
    render: impl FnOnce() -> Result<String, crate::render::RenderError>,
) -> Option<ByteString> {
    if slot.is_none() {
        match render() {
            Ok(html) => *slot = Some(ByteString::from(html)),
            Err(e) => tracing::error!(error = %e, "cannot render {what}"),
        }
    }
    slot.clone()
}

/// What the `#queue` fragment shows: the stories and which one is on the table.
fn queue_fingerprint(state: &RoomState) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    state.queue().hash(&mut hasher);
    state.round().story().hash(&mut hasher);
    hasher.finish()
}

fn fingerprint(html: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    html.hash(&mut hasher);
    hasher.finish()
}
