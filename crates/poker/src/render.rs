//! Turns rooms into HTML: the pages and the fragments sent over WebSockets.
//!
//! One [`Renderer`] is built at start-up (templates parsed once, embedded in the
//! binary) and shared through an `Arc` by the pages and every room hub.
//!
//! Hidden votes cannot leak through a fragment by construction: the shared
//! fragment is rendered from the *anonymous* view (no card before reveal), and the
//! personal fragment is built from a context that holds the viewer's own card and
//! nobody else's.

use serde::Serialize;
use tera::{Context, Tera};

use crate::assets::AssetUrls;
use crate::i18n::{self, Lang};
use crate::room::results_hook::{Kind, RoomWebhook};
use crate::room::stories::StoryStatus;
use crate::room::view::{ParticipantView, PresenceStatus, RoomView, TimerView};
use crate::room::{DeckKind, Permission, Role, Timestamp, stats::Stats};

/// Why a template could not be loaded or rendered (a bug, never user input).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Tera refused a template or failed to render.
    #[error("template error: {0}")]
    Tera(#[from] tera::Error),
}

/// Every template, by name, embedded at compile time.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../templates/base.html")),
    ("home.html", include_str!("../../../templates/home.html")),
    ("join.html", include_str!("../../../templates/join.html")),
    ("room.html", include_str!("../../../templates/room.html")),
    (
        "not_found.html",
        include_str!("../../../templates/not_found.html"),
    ),
    (
        "room/_shared.html",
        include_str!("../../../templates/room/_shared.html"),
    ),
    (
        "room/_header.html",
        include_str!("../../../templates/room/_header.html"),
    ),
    (
        "room/_participants.html",
        include_str!("../../../templates/room/_participants.html"),
    ),
    (
        "room/_round.html",
        include_str!("../../../templates/room/_round.html"),
    ),
    (
        "room/_results.html",
        include_str!("../../../templates/room/_results.html"),
    ),
    (
        "room/_history.html",
        include_str!("../../../templates/room/_history.html"),
    ),
    (
        "room/_queue.html",
        include_str!("../../../templates/room/_queue.html"),
    ),
    (
        "summary.html",
        include_str!("../../../templates/summary.html"),
    ),
    (
        "import.html",
        include_str!("../../../templates/import.html"),
    ),
    (
        "room/_personal.html",
        include_str!("../../../templates/room/_personal.html"),
    ),
    (
        "room/_hand.html",
        include_str!("../../../templates/room/_hand.html"),
    ),
    (
        "room/_controls.html",
        include_str!("../../../templates/room/_controls.html"),
    ),
    (
        "room/_toast.html",
        include_str!("../../../templates/room/_toast.html"),
    ),
];

/// What a room fragment needs besides the view.
#[derive(Debug, Clone)]
pub struct RoomMeta<'a> {
    /// The room code (URLs).
    pub code: &'a str,
    /// When the room expires if nothing happens (last activity + the room TTL).
    pub expires: Timestamp,
    /// The render time, for the countdown's clock offset.
    pub now: Timestamp,
    /// The room's results webhook, if set: moderators see that it is, the host
    /// sees its masked URL.
    pub webhook: Option<&'a RoomWebhook>,
}

/// The templates, parsed once.
pub struct Renderer {
    tera: Tera,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Renderer")
    }
}

#[derive(Serialize)]
struct PersonView<'a> {
    id: &'a str,
    name: &'a str,
    role: Role,
    host: bool,
    co_host: bool,
    presence: PresenceStatus,
    voted: bool,
    changed: bool,
    card: Option<&'a str>,
    outlier: bool,
}

#[derive(Serialize)]
struct StatsView {
    average: String,
    median: String,
    mode: String,
    min: String,
    max: String,
    agreement: String,
    votes: usize,
    bars: Vec<Bar>,
}

#[derive(Serialize)]
struct Bar {
    card: String,
    count: usize,
    percent: usize,
}

#[derive(Serialize)]
struct HistoryView {
    round: u32,
    topic: Option<String>,
    estimate: Option<String>,
    votes: usize,
    average: String,
    cards: String,
}

/// The story queue as the `#queue` fragment shows it.
#[derive(Serialize)]
struct QueueCtx<'a> {
    stories: Vec<StoryCtx<'a>>,
    total: usize,
    pending: usize,
    estimated: usize,
    skipped: usize,
    /// The sum of the numeric estimates, when there is one.
    points: Option<String>,
}

#[derive(Serialize)]
struct StoryCtx<'a> {
    id: &'a str,
    pos: usize,
    last: bool,
    title: &'a str,
    key: Option<&'a str>,
    url: Option<&'a str>,
    status: &'static str,
    estimate: Option<&'a str>,
    rounds: u32,
    current: bool,
    /// The cards of its last round, once it has one.
    last_votes: Option<String>,
}

fn queue_ctx<'a>(view: &'a RoomView) -> QueueCtx<'a> {
    let stories = view.queue.stories();
    let count = |status: StoryStatus| stories.iter().filter(|s| s.status == status).count();
    // A story being voted on again still counts with its last estimate.
    let estimated: Vec<&str> = stories
        .iter()
        .filter(|s| matches!(s.status, StoryStatus::Estimated | StoryStatus::Active))
        .filter_map(|s| s.estimate.as_deref())
        .collect();
    let numeric: Vec<f64> = estimated
        .iter()
        .filter_map(|e| estimate_points(e))
        .collect();
    QueueCtx {
        stories: stories
            .iter()
            .enumerate()
            .map(|(pos, s)| StoryCtx {
                id: &s.id.0,
                pos,
                last: pos + 1 == stories.len(),
                title: &s.title,
                key: s.key.as_deref(),
                url: s.url.as_deref(),
                status: s.status.as_str(),
                estimate: s.estimate.as_deref(),
                rounds: s.rounds,
                current: view.round.story.as_ref() == Some(&s.id),
                last_votes: (s.rounds > 0)
                    .then(|| {
                        view.history
                            .iter()
                            .rev()
                            .find(|h| h.story.as_ref() == Some(&s.id))
                    })
                    .flatten()
                    .map(card_counts)
                    .filter(|c| !c.is_empty()),
            })
            .collect(),
        total: stories.len(),
        pending: stories.len() - estimated.len() - count(StoryStatus::Skipped),
        estimated: estimated.len(),
        skipped: count(StoryStatus::Skipped),
        points: (!numeric.is_empty()).then(|| number(Some(numeric.iter().sum()))),
    }
}

/// The cards of a round, most voted first: `5 ×3 · 8 · 3` (the queue and the
/// summary show a story's last round so).
pub fn card_counts(entry: &crate::room::HistoryEntry) -> String {
    let mut counts: Vec<(&str, usize)> = entry
        .stats
        .distribution
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| (c.card.as_str(), c.count))
        .collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
        .into_iter()
        .map(|(card, n)| {
            if n > 1 {
                format!("{card} ×{n}")
            } else {
                card.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// An estimate's points, when it is a number (`5`, `0.5`, `½`); sizes and `?`
/// have none.
pub fn estimate_points(estimate: &str) -> Option<f64> {
    match estimate.trim() {
        "½" => Some(0.5),
        text => text
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite()),
    }
}

#[derive(Serialize)]
struct TimerCtx {
    duration: u32,
    deadline: Option<u64>,
}

#[derive(Serialize)]
struct HandCard<'a> {
    label: &'a str,
    /// What to type to pick it ([`crate::room::keys`]).
    key: Option<String>,
    mine: bool,
}

#[derive(Serialize)]
struct Seat<'a> {
    id: &'a str,
    name: &'a str,
    role: Role,
    host: bool,
    co_host: bool,
    is_host: bool,
    is_moderator: bool,
    can_vote: bool,
    can_reveal: bool,
    can_reset: bool,
    can_next_round: bool,
    can_edit_topic: bool,
}

/// The results webhook as a moderator's panel shows it.
#[derive(Serialize)]
struct WebhookCtx {
    /// `generic`, `slack` or `teams`.
    kind: &'static str,
    /// Its name in the page's language.
    kind_label: &'static str,
    /// The masked URL: the host's eyes only.
    url: Option<String>,
}

/// One choice of the host's webhook form.
#[derive(Serialize)]
struct KindOption {
    value: &'static str,
    label: &'static str,
}

/// The kinds the host's form offers.
fn webhook_kinds(lang: Lang) -> Vec<KindOption> {
    Kind::ALL
        .iter()
        .map(|k| KindOption {
            value: k.as_str(),
            label: webhook_kind_label(lang, *k),
        })
        .collect()
}

fn webhook_kind_label(lang: Lang, kind: Kind) -> &'static str {
    i18n::text(
        lang,
        match kind {
            Kind::Generic => "webhook_generic",
            Kind::Slack => "webhook_slack",
            Kind::Teams => "webhook_teams",
        },
    )
}

#[derive(Serialize)]
struct Member<'a> {
    id: &'a str,
    name: &'a str,
    role: Role,
    host: bool,
    co_host: bool,
}

/// A number as people read it: at most one decimal, no trailing `.0`.
pub fn number(value: Option<f64>) -> String {
    match value {
        None => "–".into(),
        Some(v) => {
            let rounded = (v * 10.0).round() / 10.0;
            if rounded.fract() == 0.0 {
                format!("{rounded:.0}")
            } else {
                format!("{rounded:.1}")
            }
        }
    }
}

/// `2026-12-01 14:05 UTC` for a timestamp.
pub fn utc_text(at: Timestamp) -> String {
    let secs = i64::try_from(at.0 / 1000).unwrap_or(i64::MAX);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => String::new(),
    }
}

/// RFC 3339 for `<time datetime>`.
pub fn iso(at: Timestamp) -> String {
    let secs = i64::try_from(at.0 / 1000).unwrap_or(i64::MAX);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn stats_view(stats: &Stats) -> StatsView {
    let most = stats
        .distribution
        .iter()
        .map(|c| c.count)
        .max()
        .unwrap_or(0)
        .max(1);
    StatsView {
        average: number(stats.average),
        median: number(stats.median),
        mode: if stats.mode.is_empty() {
            "–".into()
        } else {
            stats.mode.join(", ")
        },
        min: number(stats.min),
        max: number(stats.max),
        agreement: stats
            .agreement
            .map(|a| format!("{}%", a.round()))
            .unwrap_or_else(|| "–".into()),
        votes: stats.votes,
        bars: stats
            .distribution
            .iter()
            .filter(|c| c.count > 0)
            .map(|c| Bar {
                card: c.card.clone(),
                count: c.count,
                percent: c.count * 100 / most,
            })
            .collect(),
    }
}

/// The card to prefill the final estimate with: the single most voted card, else
/// the deck card nearest the average.
fn suggestion(view: &RoomView) -> String {
    let Some(stats) = &view.stats else {
        return String::new();
    };
    if let [only] = stats.mode.as_slice() {
        return only.clone();
    }
    let Some(avg) = stats.average else {
        return stats.mode.first().cloned().unwrap_or_default();
    };
    view.deck
        .iter()
        .filter_map(|c| c.value.map(|v| (c, (v - avg).abs())))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c.label.clone())
        .unwrap_or_default()
}

fn person(p: &ParticipantView) -> PersonView<'_> {
    PersonView {
        id: &p.id.0,
        name: &p.name,
        role: p.role,
        host: p.host,
        co_host: p.co_host,
        presence: p.presence,
        voted: p.voted,
        changed: p.changed,
        card: p.card.as_deref(),
        outlier: p.outlier,
    }
}

fn timer(t: &Option<TimerView>) -> Option<TimerCtx> {
    t.map(|t| TimerCtx {
        duration: t.duration_secs,
        deadline: t.deadline.map(|d| d.0),
    })
}

fn deck_kind(kind: DeckKind) -> &'static str {
    match kind {
        DeckKind::Fibonacci => "fibonacci",
        DeckKind::ModifiedFibonacci => "modified",
        DeckKind::TShirt => "tshirt",
        DeckKind::PowersOfTwo => "powers2",
        DeckKind::Custom => "custom",
    }
}

fn permission(p: Permission) -> &'static str {
    match p {
        Permission::Hosts => "hosts",
        Permission::Everyone => "everyone",
    }
}

impl Renderer {
    /// Parses every embedded template; `assets` are the URLs pages link to.
    pub fn new(assets: &AssetUrls) -> Result<Self, RenderError> {
        let mut tera = Tera::new();
        tera.add_raw_templates(TEMPLATES.iter().copied())?;
        tera.global_context().insert("assets", assets);
        Ok(Self { tera })
    }

    fn base(lang: Lang) -> Context {
        let mut ctx = Context::new();
        ctx.insert("t", i18n::strings(lang));
        ctx.insert("lang", lang.code());
        ctx
    }

    /// A page: `name` with `ctx`, plus the language's strings.
    pub fn page(&self, name: &str, lang: Lang, ctx: &Context) -> Result<String, RenderError> {
        let mut full = Self::base(lang);
        full.extend(ctx.clone());
        Ok(self.tera.render(name, &full)?)
    }

    fn shared_context(&self, view: &RoomView, meta: &RoomMeta<'_>, lang: Lang) -> Context {
        let mut ctx = Self::base(lang);
        ctx.insert("code", meta.code);
        ctx.insert("room_name", &view.name);
        ctx.insert("locked", &view.locked);
        ctx.insert("expires_iso", &iso(meta.expires));
        ctx.insert("expires_text", &utc_text(meta.expires));
        let people: Vec<PersonView<'_>> = view.participants.iter().map(person).collect();
        ctx.insert("participants", &people);
        ctx.insert(
            "voters",
            &view
                .participants
                .iter()
                .filter(|p| p.role == Role::Voter)
                .count(),
        );
        ctx.insert("round", &view.round);
        ctx.insert("phase", &view.round.phase);
        ctx.insert("stats", &view.stats.as_ref().map(stats_view));
        ctx.insert("timer", &timer(&view.timer));
        ctx.insert("now", &meta.now.0);
        let history: Vec<HistoryView> = view
            .history
            .iter()
            .rev()
            .map(|h| HistoryView {
                round: h.round,
                topic: h.topic.clone(),
                estimate: h.final_estimate.clone(),
                votes: h.votes.len(),
                average: number(h.stats.average),
                cards: h
                    .votes
                    .iter()
                    .map(|v| format!("{} {}", v.name, v.card))
                    .collect::<Vec<_>>()
                    .join(" · "),
            })
            .collect();
        ctx.insert("history", &history);
        ctx
    }

    /// The fragment everyone sees (`#room-header`, `#participants`, `#round`,
    /// `#results`, `#history`), from the anonymous view of the room.
    ///
    /// `view` must be anonymous (`view_for(state, None, now)`): it is the same
    /// bytes for every connection of this language.
    pub fn shared(
        &self,
        view: &RoomView,
        meta: &RoomMeta<'_>,
        lang: Lang,
    ) -> Result<String, RenderError> {
        let ctx = self.shared_context(view, meta, lang);
        Ok(self.tera.render("room/_shared.html", &ctx)?)
    }

    fn personal_context(&self, view: &RoomView, meta: &RoomMeta<'_>, lang: Lang) -> Context {
        let mut ctx = Self::base(lang);
        ctx.insert("code", meta.code);
        ctx.insert("phase", &view.round.phase);
        ctx.insert("topic", &view.round.topic);
        ctx.insert("has_story", &view.round.story.is_some());
        ctx.insert(
            "next_story",
            &view.queue.next_pending().map(|s| s.title.as_str()),
        );
        let me = view.viewer.as_ref();
        let my_card = me.and_then(|v| v.card.as_deref());
        let cards: Vec<HandCard<'_>> = view
            .deck
            .iter()
            .zip(crate::room::keys::key_sequences(&view.deck))
            .map(|(c, key)| HandCard {
                label: &c.label,
                key,
                mine: Some(c.label.as_str()) == my_card,
            })
            .collect();
        ctx.insert("pick_delay_ms", &crate::room::keys::PICK_DELAY_MS);
        ctx.insert("cards", &cards);
        let seat = me.and_then(|v| {
            let p = view.participants.iter().find(|p| p.id == v.id)?;
            Some(Seat {
                id: &v.id.0,
                name: &p.name,
                role: p.role,
                host: p.host,
                co_host: p.co_host,
                is_host: v.is_host,
                is_moderator: v.is_moderator,
                can_vote: v.can_vote,
                can_reveal: v.can_reveal,
                can_reset: v.can_reset,
                can_next_round: v.can_next_round,
                can_edit_topic: v.can_edit_topic,
            })
        });
        let moderator = seat.as_ref().is_some_and(|s| s.is_moderator);
        ctx.insert("me", &seat);
        ctx.insert("has_vote", &my_card.is_some());
        ctx.insert("everyone_voted", &view.round.everyone_voted);
        ctx.insert("suggestion", &suggestion(view));
        if moderator {
            let members: Vec<Member<'_>> = view
                .participants
                .iter()
                .map(|p| Member {
                    id: &p.id.0,
                    name: &p.name,
                    role: p.role,
                    host: p.host,
                    co_host: p.co_host,
                })
                .collect();
            ctx.insert("members", &members);
            ctx.insert("room_name", &view.name);
            ctx.insert("locked", &view.locked);
            ctx.insert("deck_kind", deck_kind(view.deck_spec.kind));
            ctx.insert("deck_custom", &view.deck_spec.custom.join(", "));
            ctx.insert("deck_question", &view.deck_spec.question);
            ctx.insert("deck_coffee", &view.deck_spec.coffee);
            ctx.insert("deck_infinity", &view.deck_spec.infinity);
            let s = &view.settings;
            ctx.insert("perm_reveal", permission(s.reveal));
            ctx.insert("perm_reset", permission(s.reset));
            ctx.insert("perm_next_round", permission(s.next_round));
            ctx.insert("perm_edit_topic", permission(s.edit_topic));
            ctx.insert("auto_reveal", &s.auto_reveal);
            ctx.insert("allow_spectators", &s.allow_spectators);
            ctx.insert("timer", &timer(&view.timer));
            let is_host = seat.as_ref().is_some_and(|s| s.is_host);
            let webhook = meta.webhook.map(|w| WebhookCtx {
                kind: w.kind.as_str(),
                kind_label: webhook_kind_label(lang, w.kind),
                url: is_host.then(|| w.masked_url()),
            });
            ctx.insert("webhook", &webhook);
            ctx.insert("webhook_kinds", &webhook_kinds(lang));
        }
        ctx
    }

    /// The fragment only `view.viewer` sees (`#hand`, `#controls`).
    pub fn personal(
        &self,
        view: &RoomView,
        meta: &RoomMeta<'_>,
        lang: Lang,
    ) -> Result<String, RenderError> {
        let ctx = self.personal_context(view, meta, lang);
        Ok(self.tera.render("room/_personal.html", &ctx)?)
    }

    /// The context of the whole room page: the shared parts from `anonymous`
    /// (`view_for(state, None, now)`) and the personal ones from `mine`.
    pub fn room_context(
        &self,
        anonymous: &RoomView,
        mine: &RoomView,
        meta: &RoomMeta<'_>,
        lang: Lang,
    ) -> Context {
        let mut ctx = self.shared_context(anonymous, meta, lang);
        ctx.extend(self.personal_context(mine, meta, lang));
        ctx.insert("queue", &queue_ctx(anonymous));
        ctx
    }

    /// The `#queue` fragment: the story queue, the same for everyone of a
    /// language (moderators' buttons are shown by CSS from their `#controls`).
    pub fn queue(
        &self,
        view: &RoomView,
        meta: &RoomMeta<'_>,
        lang: Lang,
    ) -> Result<String, RenderError> {
        let mut ctx = Self::base(lang);
        ctx.insert("code", meta.code);
        ctx.insert("queue", &queue_ctx(view));
        Ok(self.tera.render("room/_queue.html", &ctx)?)
    }

    /// An error toast, swapped into `#toasts`.
    pub fn toast(&self, lang: Lang, message: &str) -> String {
        let mut ctx = Self::base(lang);
        ctx.insert("message", message);
        self.tera
            .render("room/_toast.html", &ctx)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot render a toast");
                String::new()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::embedded;
    use crate::room::{Command, NewRoom, ParticipantId, RoomState, view_for};

    fn renderer() -> Renderer {
        Renderer::new(embedded().urls()).expect("templates parse")
    }

    fn meta() -> RoomMeta<'static> {
        RoomMeta {
            code: "AbC123",
            expires: Timestamp(86_400_000),
            now: Timestamp(10),
            webhook: None,
        }
    }

    /// Host "Hana" and voter `<script>alert(1)</script>` (id `x`); `x` voted 13.
    fn room() -> RoomState {
        let host = ParticipantId::from("h");
        let mut state = RoomState::new(NewRoom::new(host, "Hana"), Timestamp(0)).unwrap();
        for command in [
            Command::Join {
                participant: "x".into(),
                name: "<script>alert(1)</script>".into(),
                role: Role::Voter,
            },
            Command::Vote {
                by: "x".into(),
                card: "13".into(),
            },
        ] {
            state = state.apply(command, Timestamp(1)).unwrap().0;
        }
        state
    }

    fn shared(state: &RoomState, lang: Lang) -> String {
        renderer()
            .shared(&view_for(state, None, Timestamp(10)), &meta(), lang)
            .unwrap()
    }

    fn personal(state: &RoomState, who: &str) -> String {
        let view = view_for(state, Some(&ParticipantId::from(who)), Timestamp(10));
        renderer().personal(&view, &meta(), Lang::En).unwrap()
    }

    #[test]
    fn names_are_escaped() {
        let html = shared(&room(), Lang::En);
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
                || html.contains("&lt;script&gt;")
        );
    }

    #[test]
    fn french_strings_appear_with_lang_fr() {
        let html = shared(&room(), Lang::Fr);
        assert!(html.contains("a voté"), "{html}");
        assert!(html.contains("Historique"));
        let en = shared(&room(), Lang::En);
        assert!(en.contains(">voted<") && en.contains("History"));
        let home = renderer()
            .page("home.html", Lang::Fr, &{
                let mut ctx = Context::new();
                ctx.insert("form", &serde_json::json!({"your_name": "", "room_name": "", "role": "voter", "deck": "fibonacci", "custom": "", "question": true, "coffee": true, "infinity": false, "auto_reveal": false}));
                ctx.insert("error", &Option::<String>::None);
                ctx
            })
            .unwrap();
        assert!(home.contains("<html lang=\"fr\""));
        assert!(home.contains("Créer la salle"));
    }

    #[test]
    fn a_hidden_vote_shows_as_voted_and_the_owner_sees_it_pressed() {
        let state = room();
        let html = shared(&state, Lang::En);
        assert!(html.contains("data-phase=\"voting\""));
        assert!(html.contains("data-voted=\"true\""));
        assert!(!html.contains(">13<"), "the card leaked: {html}");
        let mine = personal(&state, "x");
        assert!(
            mine.contains(
                "data-card=\"13\" data-keys=\"13\" aria-keyshortcuts=\"13\" aria-pressed=\"true\""
            ),
            "{mine}"
        );
        let hers = personal(&state, "h");
        assert!(!hers.contains("aria-pressed=\"true\""), "{hers}");
        assert!(
            hers.contains("data-testid=\"host-panel\""),
            "the host manages"
        );
        assert!(!mine.contains("data-testid=\"host-panel\""));
    }

    #[test]
    fn reveal_shows_cards_and_stats() {
        let state = room()
            .apply(Command::Reveal { by: "h".into() }, Timestamp(2))
            .unwrap()
            .0;
        let html = shared(&state, Lang::En);
        assert!(html.contains("data-phase=\"revealed\""));
        assert!(html.contains("data-voted=\"true\">13<"), "{html}");
        assert!(html.contains("data-testid=\"stat-average\">13<"));
        assert!(html.contains("data-testid=\"bar\" data-card=\"13\" data-count=\"1\""));
        let host = personal(&state, "h");
        assert!(host.contains("data-testid=\"estimate-form\""));
        assert!(
            host.contains("name=\"value\" maxlength=\"20\" required value=\"13\""),
            "{host}"
        );
    }

    #[test]
    fn every_page_renders_in_both_languages() {
        let r = renderer();
        for lang in Lang::ALL {
            let mut ctx = Context::new();
            ctx.insert("code", "AbC123");
            ctx.insert("room_title", "AbC123");
            ctx.insert("room_name", &Option::<String>::None);
            ctx.insert("locked", &false);
            ctx.insert("allow_spectators", &true);
            ctx.insert("name", "");
            ctx.insert("error", &Option::<String>::None);
            let join = r.page("join.html", lang, &ctx).unwrap();
            assert!(join.contains("data-testid=\"join-room\""));
            assert!(
                r.page("not_found.html", lang, &Context::new())
                    .unwrap()
                    .contains("href=\"/\"")
            );
            let state = room();
            let mut ctx = r.room_context(
                &view_for(&state, None, Timestamp(10)),
                &view_for(&state, Some(&"h".into()), Timestamp(10)),
                &meta(),
                lang,
            );
            ctx.insert("room_title", "AbC123");
            ctx.insert("share_url", "http://x/r/AbC123");
            ctx.insert("seat_url", "http://x/r/AbC123/seat/t");
            let page = r.page("room.html", lang, &ctx).unwrap();
            for id in [
                "share-link",
                "seat-link",
                "room-code",
                "announcer",
                "participant",
                "connection",
                "expires",
                "card",
                "reveal",
                "topic-form",
            ] {
                assert!(
                    page.contains(&format!("data-testid=\"{id}\"")),
                    "{id} missing in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn a_running_timer_carries_its_deadline_and_the_server_clock() {
        let mut state = room();
        for command in [
            Command::SetTimer {
                by: "h".into(),
                duration_secs: Some(90),
            },
            Command::StartTimer { by: "h".into() },
        ] {
            state = state.apply(command, Timestamp(5)).unwrap().0;
        }
        let html = shared(&state, Lang::En);
        assert!(html.contains("countdown(90005, 10, 90)"), "{html}");
        let host = personal(&state, "h");
        assert!(host.contains("data-testid=\"timer-stop\""));
        assert!(host.contains("name=\"seconds\" min=\"5\" max=\"3600\" step=\"5\" value=\"90\""));
    }

    #[test]
    fn spectators_watch_and_are_offered_no_round_controls() {
        let state = room()
            .apply(
                Command::Join {
                    participant: "s".into(),
                    name: "Sam".into(),
                    role: Role::Spectator,
                },
                Timestamp(2),
            )
            .unwrap()
            .0;
        for phase in ["voting", "revealed"] {
            let state = if phase == "revealed" {
                state
                    .apply(Command::Reveal { by: "h".into() }, Timestamp(3))
                    .unwrap()
                    .0
            } else {
                state.clone()
            };
            for lang in Lang::ALL {
                let html = shared(&state, lang);
                let row = html
                    .split("data-testid=\"participant\"")
                    .find(|r| r.contains("data-name=\"Sam\""))
                    .unwrap_or_default();
                let row = &row[..row.find("</li>").unwrap_or(row.len())];
                let watching = i18n::text(lang, "watching");
                assert!(row.contains(watching), "{phase} {lang:?}: {row}");
                for word in ["waiting", "voted"] {
                    assert!(
                        !row.contains(&format!(">{}<", i18n::text(lang, word))),
                        "{phase} {lang:?}: {row}"
                    );
                }
            }
        }
        let sam = personal(&state, "s");
        for id in ["reveal", "reset", "next-round", "topic-form"] {
            assert!(
                !sam.contains(&format!("data-testid=\"{id}\"")),
                "{id}: {sam}"
            );
        }
        assert!(sam.contains(">Join as voter<"), "{sam}");
        let voter = personal(&state, "x");
        assert!(voter.contains("data-testid=\"reveal\"") && voter.contains(">Watch only<"));
    }

    #[test]
    fn no_empty_topic_heading_and_unnamed_rooms_show_their_code() {
        let html = shared(&room(), Lang::En);
        assert!(!html.contains("<h2 class=\"topic\""), "{html}");
        assert!(html.contains("data-testid=\"no-topic\">No topic yet<"));
        assert!(html.contains("<h1>Room AbC123"), "{html}");
        assert!(shared(&room(), Lang::Fr).contains("<h1>Salle AbC123"));
        let state = room()
            .apply(
                Command::SetTopic {
                    by: "h".into(),
                    topic: "Login".into(),
                },
                Timestamp(2),
            )
            .unwrap()
            .0;
        assert!(
            shared(&state, Lang::En)
                .contains("<h2 class=\"topic\" data-testid=\"topic\">Login</h2>")
        );
    }

    #[test]
    fn cards_show_what_to_type_and_moderators_hear_when_everyone_voted() {
        let mine = personal(&room(), "x");
        for (card, keys) in [
            ("1", "1"),
            ("13", "13"),
            ("8", "8"),
            ("?", "?"),
            ("☕", "c"),
        ] {
            assert!(
                mine.contains(&format!(
                    "data-card=\"{card}\" data-keys=\"{keys}\" aria-keyshortcuts=\"{keys}\""
                )),
                "{card}: {mine}"
            );
        }
        assert!(mine.contains("<kbd aria-hidden=\"true\">13</kbd>"));
        assert!(mine.contains("data-pick-delay=\"600\""));
        // `x` voted, the host has not: no cue yet.
        let host = personal(&room(), "h");
        assert!(
            host.contains("data-all-voted=\"false\"")
                && !host.contains("data-testid=\"all-voted\"")
        );
        assert!(
            host.contains("data-testid=\"sound-toggle\""),
            "moderators get the switch"
        );
        assert!(!mine.contains("data-testid=\"sound-toggle\""));
        let state = room()
            .apply(
                Command::Vote {
                    by: "h".into(),
                    card: "5".into(),
                },
                Timestamp(2),
            )
            .unwrap()
            .0;
        let host = personal(&state, "h");
        assert!(host.contains("data-all-voted=\"true\""), "{host}");
        assert!(host.contains("data-testid=\"all-voted\""));
        assert!(
            host.contains("btn primary ready\" data-testid=\"reveal\""),
            "{host}"
        );
        let voter = personal(&state, "x");
        assert!(
            voter.contains("data-all-voted=\"false\""),
            "the cue is the moderators'"
        );
    }

    #[test]
    fn a_changed_vote_shows_a_mark_without_the_card() {
        let state = room()
            .apply(
                Command::Vote {
                    by: "x".into(),
                    card: "3".into(),
                },
                Timestamp(2),
            )
            .unwrap()
            .0;
        let html = shared(&state, Lang::En);
        assert!(html.contains("data-testid=\"vote-changed\""), "{html}");
        assert!(!html.contains(">13<") && !html.contains(">3<"), "{html}");
        assert!(shared(&state, Lang::Fr).contains("modifié"));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(Some(8.0)), "8");
        assert_eq!(number(Some(4.25)), "4.3");
        assert_eq!(number(None), "–");
        assert_eq!(utc_text(Timestamp(86_400_000)), "1970-01-02 00:00 UTC");
    }

    #[test]
    fn the_webhook_is_shown_to_moderators_and_its_url_only_to_the_host() {
        let state = room()
            .apply(
                Command::SetCoHost {
                    by: "h".into(),
                    participant: "x".into(),
                    co_host: true,
                },
                Timestamp(2),
            )
            .unwrap()
            .0;
        let hook = RoomWebhook {
            url: "https://hooks.slack.com/services/T0/B0/secret".into(),
            kind: Kind::Slack,
            lang: Lang::En,
            link: None,
            public_only: true,
        };
        let with_hook = RoomMeta {
            webhook: Some(&hook),
            ..meta()
        };
        let render = |who: &str, lang: Lang| {
            let view = view_for(&state, Some(&ParticipantId::from(who)), Timestamp(10));
            renderer().personal(&view, &with_hook, lang).unwrap()
        };
        let host = render("h", Lang::En);
        assert!(host.contains("data-testid=\"webhook-form\""), "{host}");
        assert!(host.contains("Estimates are posted to Slack"));
        assert!(
            host.contains("https:&#x2F;&#x2F;hooks.slack.com&#x2F;…")
                || host.contains("https://hooks.slack.com/…"),
            "{host}"
        );
        assert!(
            !host.contains("secret"),
            "the URL's secret part is never shown"
        );
        assert!(host.contains("data-testid=\"webhook-test\""));
        let co_host = render("x", Lang::Fr);
        assert!(
            co_host.contains("Les estimations sont publiées vers Slack"),
            "{co_host}"
        );
        assert!(
            !co_host.contains("hooks.slack.com"),
            "a co-host never sees the URL"
        );
        assert!(!co_host.contains("data-testid=\"webhook-form\""));
        let unset = renderer()
            .personal(
                &view_for(&state, Some(&"h".into()), Timestamp(10)),
                &meta(),
                Lang::En,
            )
            .unwrap();
        assert!(unset.contains("No webhook"), "{unset}");
        assert!(
            !unset.contains("data-testid=\"webhook-test\""),
            "nothing to test"
        );
    }
}
