//! A room's results webhook: when a story is estimated, its result is posted to
//! the URL the host gave — generic JSON, a Slack incoming-webhook message, or a
//! Microsoft Teams (incoming webhook / Workflows) Adaptive Card message.
//!
//! Built on litebase's app-owned webhook targets ([`litebase::webhooks::app`]):
//! the room's target is the `_webhooks` row [`target_id`]`(room id)` owned by
//! poker, and each estimate is queued inside the write that records it
//! ([`super::store::persist`]), so it is posted after the commit, retried with
//! backoff, and never posted for a write that rolled back. The target goes with
//! its room: a record hook ([`register`]) removes it in the room's delete,
//! whoever deletes (an admin, the API, the expiry sweep).
//!
//! Room hosts are anonymous, so their targets are `publicOnly` (the sender
//! connects to public addresses only) unless the operator allows private ones
//! ([`Policy`], `POKER_WEBHOOK_ALLOW_PRIVATE`); a loopback or private address
//! written as such is refused at once ([`check_url`]).
//!
//! Every payload is built from one neutral [`EstimateResult`] ([`results`] is
//! the one place its fields are read from the room), so a field added there
//! (a story's key or link) reaches every format.

use litebase::records::service::Records;
use litebase::webhooks::WebhookError;
use litebase::webhooks::app::{self, AppTarget};
use rusqlite::Connection;
use serde_json::{Value, json};

use super::stats::Stats;
use super::{Event, ParticipantId, RoomState, Timestamp};
use crate::i18n::{self, Lang};
use crate::render::number;

/// The owner of poker's targets (its app name).
pub const OWNER: &str = super::store::APP;
/// Longest webhook URL, in characters.
pub const MAX_URL_CHARS: usize = 500;

/// The id of room `room_id`'s target.
pub fn target_id(room_id: &str) -> String {
    format!("poker-{room_id}")
}

/// The shape of what is posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// poker's own JSON (see the README).
    Generic,
    /// A Slack incoming webhook: `{"text", "blocks"}`.
    Slack,
    /// A Microsoft Teams incoming webhook or Workflows trigger: an Adaptive Card
    /// in a `message`.
    Teams,
}

impl Kind {
    /// Every kind, in the order the form lists them.
    pub const ALL: [Kind; 3] = [Kind::Generic, Kind::Slack, Kind::Teams];

    /// Its name on the wire and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Generic => "generic",
            Kind::Slack => "slack",
            Kind::Teams => "teams",
        }
    }

    /// The kind called `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// What a client asks about the room's webhook (parsed by
/// [`super::protocol`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookRequest {
    /// Post results to `url` in `kind`'s shape; an empty URL removes the webhook.
    Set {
        /// The receiver (trimmed).
        url: String,
        /// The shape.
        kind: Kind,
    },
    /// Post a test message now.
    Test,
}

/// Why a webhook request was refused; the room's webhook is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookProblem {
    /// Only the host sets the webhook (its URL is a secret of the team's chat).
    #[error("only the host may change the room's webhook")]
    NotHost,
    /// Not an http(s) URL with a host.
    #[error("give an http or https URL with a host, without spaces")]
    BadUrl,
    /// Over [`MAX_URL_CHARS`].
    #[error("a webhook URL is at most 500 characters")]
    TooLong,
    /// A loopback, private or link-local address, refused by the operator's policy.
    #[error(
        "this server does not post to loopback, private or link-local addresses; use a public URL"
    )]
    PrivateAddress,
    /// A test was asked without a webhook.
    #[error("no webhook is set; save one first")]
    NotSet,
}

impl WebhookProblem {
    /// The message for someone reading `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let key = match self {
            WebhookProblem::NotHost => "webhook_not_host",
            WebhookProblem::BadUrl => "webhook_bad_url",
            WebhookProblem::TooLong => "webhook_too_long",
            WebhookProblem::PrivateAddress => "webhook_private",
            WebhookProblem::NotSet => "webhook_not_set",
        };
        i18n::text(lang, key).to_string()
    }
}

/// The operator's rule for room webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Hosts may name loopback, private and link-local addresses (a trusted
    /// network, or tests); off by default.
    pub allow_private: bool,
}

/// A room's webhook, as the hub keeps it and the host's panel shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomWebhook {
    /// The receiver.
    pub url: String,
    /// The shape of what is posted.
    pub kind: Kind,
    /// The language of the messages (the host's when they saved it).
    pub lang: Lang,
    /// The room's address in messages, from litebase's `meta.appURL` when the
    /// webhook was saved.
    pub link: Option<String>,
    /// Posted to public addresses only (the policy when it was saved).
    pub public_only: bool,
}

impl RoomWebhook {
    /// The URL with only its scheme and host shown (`https://hooks.slack.com/…`):
    /// the rest of a Slack or Teams URL is the secret that lets anyone post.
    pub fn masked_url(&self) -> String {
        mask(&self.url)
    }

    /// What a JSON client is told: the kind and the masked URL.
    pub fn status(&self) -> Value {
        json!({"kind": self.kind.as_str(), "url": self.masked_url()})
    }
}

/// The parts of an http(s) URL this module looks at.
struct Parsed<'a> {
    scheme: &'a str,
    /// `host` or `host:port`, without user info.
    authority: &'a str,
    /// The host alone (an IPv6 address without its brackets).
    host: &'a str,
    /// Whether anything follows the authority.
    has_rest: bool,
}

fn parse_url(url: &str) -> Option<Parsed<'_>> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        ("http", rest)
    } else {
        return None;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return None;
    }
    Some(Parsed {
        scheme,
        authority,
        host,
        has_rest: end < rest.len(),
    })
}

fn mask(url: &str) -> String {
    match parse_url(url) {
        Some(p) if p.has_rest => format!("{}://{}/…", p.scheme, p.authority),
        Some(p) => format!("{}://{}", p.scheme, p.authority),
        None => "…".into(),
    }
}

/// `url` checked as a room webhook (trimmed): http(s), a host, at most
/// [`MAX_URL_CHARS`], and — unless `policy` allows them — not a loopback,
/// private or link-local address written as such (names are checked when
/// posting, on the addresses they resolve to).
pub fn check_url(url: &str, policy: Policy) -> Result<String, WebhookProblem> {
    let url = url.trim();
    if url.chars().count() > MAX_URL_CHARS {
        return Err(WebhookProblem::TooLong);
    }
    let parsed = parse_url(url).ok_or(WebhookProblem::BadUrl)?;
    if !policy.allow_private {
        let host = parsed.host.to_ascii_lowercase();
        let host = host.trim_end_matches('.');
        let private_ip = host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| !litebase::outbound::is_public(ip));
        if private_ip || host == "localhost" || host.ends_with(".localhost") {
            return Err(WebhookProblem::PrivateAddress);
        }
    }
    Ok(url.to_string())
}

/// The room's address for messages, from litebase's `meta.appURL` (none when
/// it names no reachable host, as the default `http://0.0.0.0:…` does).
pub fn room_link(app_url: &str, code: &str) -> Option<String> {
    let base = app_url.trim().trim_end_matches('/');
    let parsed = parse_url(base)?;
    let unspecified = parsed
        .host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified());
    (!unspecified).then(|| format!("{base}/r/{code}"))
}

/// One estimated story, in no particular format: what every payload is built
/// from.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateResult {
    /// The room's name, if it has one.
    pub room_name: Option<String>,
    /// The round number.
    pub round: u32,
    /// The story's title (the round's topic).
    pub title: Option<String>,
    /// The story's key in its tracker (e.g. `PROJ-42`), when known.
    pub key: Option<String>,
    /// The story's page in its tracker, when known.
    pub url: Option<String>,
    /// The final estimate.
    pub estimate: String,
    /// An earlier estimate of this round was changed.
    pub updated: bool,
    /// The revealed votes' summary.
    pub stats: Stats,
    /// When the estimate was recorded.
    pub at: Timestamp,
}

/// The results to post for `events` (applied to give `state`): one per
/// recorded or amended estimate.
pub fn results(state: &RoomState, events: &[Event], now: Timestamp) -> Vec<EstimateResult> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::EstimateRecorded { round, estimate } => Some((*round, estimate)),
            _ => None,
        })
        .filter_map(|(round, estimate)| {
            let entry = state.history().iter().rev().find(|h| h.round == round)?;
            let completed_now = events
                .iter()
                .any(|e| matches!(e, Event::RoundCompleted { round: r } if *r == round));
            // A round that estimated a queued story speaks for it: the story's
            // title, tracker key and link.
            let story = entry.story.as_ref().and_then(|id| state.queue().get(id));
            Some(EstimateResult {
                room_name: state.name().map(str::to_string),
                round,
                title: story
                    .map(|s| s.title.clone())
                    .or_else(|| entry.topic.clone()),
                key: story.and_then(|s| s.key.clone()),
                url: story.and_then(|s| s.url.clone()),
                estimate: estimate.clone(),
                updated: !completed_now,
                stats: entry.stats.clone(),
                at: now,
            })
        })
        .collect()
}

/// What is posted: a result, or the host's test.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    /// A story was estimated.
    Estimate(&'a EstimateResult),
    /// The host checks the webhook.
    Test {
        /// The room's name.
        room_name: Option<&'a str>,
    },
}

impl Message<'_> {
    /// The delivery's event name (`X-Litebase-Event`, and `event` in the
    /// generic JSON).
    pub fn event(&self) -> &'static str {
        match self {
            Message::Estimate(r) if r.updated => "estimate.updated",
            Message::Estimate(_) => "estimate.recorded",
            Message::Test { .. } => "test",
        }
    }

    fn room_name(&self) -> Option<&str> {
        match self {
            Message::Estimate(r) => r.room_name.as_deref(),
            Message::Test { room_name } => *room_name,
        }
    }
}

/// The body posted for `message` to a webhook of `kind`, worded in `lang`,
/// with `link` to the room.
pub fn payload(kind: Kind, lang: Lang, link: Option<&str>, message: &Message<'_>) -> Value {
    match kind {
        Kind::Generic => generic(link, message),
        Kind::Slack => slack(lang, link, message),
        Kind::Teams => teams(lang, link, message),
    }
}

fn iso(at: Timestamp) -> String {
    let nanos = i128::from(at.0).saturating_mul(1_000_000);
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The cards people picked, with their counts, in deck order.
fn voted_cards(stats: &Stats) -> impl Iterator<Item = (&str, usize)> {
    stats
        .distribution
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| (c.card.as_str(), c.count))
}

fn consensus(stats: &Stats) -> bool {
    stats.agreement.is_some_and(|a| a >= 100.0)
}

fn generic(link: Option<&str>, message: &Message<'_>) -> Value {
    let room = json!({"name": message.room_name(), "link": link});
    match message {
        Message::Test { .. } => json!({"event": message.event(), "room": room}),
        Message::Estimate(r) => json!({
            "event": message.event(),
            "room": room,
            "story": {"title": r.title, "key": r.key, "url": r.url},
            "round": r.round,
            "estimate": r.estimate,
            "votes": r.stats.votes,
            "stats": {
                "average": r.stats.average,
                "median": r.stats.median,
                "min": r.stats.min,
                "max": r.stats.max,
                "mode": r.stats.mode,
                "agreement": r.stats.agreement,
                "consensus": consensus(&r.stats),
                "distribution": voted_cards(&r.stats)
                    .map(|(card, count)| json!({"card": card, "count": count}))
                    .collect::<Vec<_>>(),
            },
            "estimatedAt": iso(r.at),
        }),
    }
}

/// Text people read, shared by the chat formats.
struct Lines {
    /// The story's title, or "Round N".
    heading: String,
    /// "Final estimate: 5" (and "updated").
    estimate: String,
    /// (label, value) pairs.
    facts: Vec<(&'static str, String)>,
    /// "Sprint 7 · Round 3".
    context: String,
}

fn lines(lang: Lang, r: &EstimateResult) -> Lines {
    let t = |key| i18n::text(lang, key);
    let round = format!("{} {}", t("round"), r.round);
    let heading = match (&r.key, &r.title) {
        (Some(key), Some(title)) => format!("{key} · {title}"),
        (Some(key), None) => key.clone(),
        (None, Some(title)) => title.clone(),
        (None, None) => round.clone(),
    };
    // French puts a space before a colon.
    let colon = if lang == Lang::Fr { " : " } else { ": " };
    let mut estimate = format!("{}{colon}{}", t("final_estimate"), r.estimate);
    if r.updated {
        estimate.push_str(&format!(" ({})", t("hook_updated")));
    }
    let mut facts = vec![
        (t("hook_votes"), r.stats.votes.to_string()),
        (t("average"), number(r.stats.average)),
        (t("median"), number(r.stats.median)),
    ];
    if let Some(a) = r.stats.agreement {
        let mut agreement = format!("{}%", a.round());
        if consensus(&r.stats) {
            agreement.push_str(&format!(" ({})", t("hook_consensus")));
        }
        facts.push((t("agreement"), agreement));
    }
    let cards: Vec<String> = voted_cards(&r.stats)
        .map(|(card, count)| format!("{card} ×{count}"))
        .collect();
    if !cards.is_empty() {
        facts.push((t("hook_cards"), cards.join(" · ")));
    }
    let context = match &r.room_name {
        Some(name) => format!("{name} · {round}"),
        None => round,
    };
    Lines {
        heading,
        estimate,
        facts,
        context,
    }
}

/// Text made safe for Slack's mrkdwn (its three control characters).
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `<url|label>`, with the characters that would end the link encoded.
fn slack_link(url: &str, label: &str) -> String {
    let url = url
        .replace('|', "%7C")
        .replace('>', "%3E")
        .replace('<', "%3C");
    format!("<{url}|{}>", slack_escape(label))
}

/// At most `max` characters (Slack and Teams cap some fields).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn slack(lang: Lang, link: Option<&str>, message: &Message<'_>) -> Value {
    let t = |key| i18n::text(lang, key);
    let mut links = Vec::new();
    if let Message::Estimate(r) = message {
        if let Some(url) = &r.url {
            links.push(slack_link(url, t("hook_open_story")));
        }
    }
    if let Some(link) = link {
        links.push(slack_link(link, t("hook_open_room")));
    }
    match message {
        Message::Test { room_name } => {
            let mut text = slack_escape(t("hook_test"));
            if let Some(name) = room_name {
                text = format!("{} ({})", text, slack_escape(name));
            }
            let mut blocks =
                vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})];
            if !links.is_empty() {
                blocks.push(json!({"type": "context", "elements": [
                    {"type": "mrkdwn", "text": links.join(" · ")}
                ]}));
            }
            json!({"text": text, "blocks": blocks})
        }
        Message::Estimate(r) => {
            let l = lines(lang, r);
            let fallback = slack_escape(&format!("{} — {}", l.heading, l.estimate));
            let fields: Vec<Value> = l
                .facts
                .iter()
                .map(|(label, value)| {
                    json!({"type": "mrkdwn", "text": clip(&format!("*{}*\n{}", slack_escape(label), slack_escape(value)), 2000)})
                })
                .collect();
            let mut context = slack_escape(&l.context);
            if !links.is_empty() {
                context = format!("{context} · {}", links.join(" · "));
            }
            json!({
                "text": fallback,
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": clip(&l.heading, 150), "emoji": true}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", slack_escape(&l.estimate))}},
                    {"type": "section", "fields": fields},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
                ],
            })
        }
    }
}

fn teams(lang: Lang, link: Option<&str>, message: &Message<'_>) -> Value {
    let t = |key| i18n::text(lang, key);
    let mut actions = Vec::new();
    if let Message::Estimate(r) = message {
        if let Some(url) = &r.url {
            actions
                .push(json!({"type": "Action.OpenUrl", "title": t("hook_open_story"), "url": url}));
        }
    }
    if let Some(link) = link {
        actions.push(json!({"type": "Action.OpenUrl", "title": t("hook_open_room"), "url": link}));
    }
    let body = match message {
        Message::Test { room_name } => {
            let mut body = vec![json!({"type": "TextBlock", "text": t("hook_test"), "wrap": true})];
            if let Some(name) = room_name {
                body.push(
                    json!({"type": "TextBlock", "text": name, "isSubtle": true, "wrap": true}),
                );
            }
            body
        }
        Message::Estimate(r) => {
            let l = lines(lang, r);
            vec![
                json!({"type": "TextBlock", "text": l.heading, "size": "Large", "weight": "Bolder", "wrap": true}),
                json!({"type": "TextBlock", "text": l.estimate, "size": "Medium", "weight": "Bolder", "color": "Accent", "wrap": true}),
                json!({"type": "FactSet", "facts": l.facts.iter()
                    .map(|(label, value)| json!({"title": label, "value": value}))
                    .collect::<Vec<_>>()}),
                json!({"type": "TextBlock", "text": l.context, "isSubtle": true, "wrap": true, "spacing": "Small"}),
            ]
        }
    };
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if !actions.is_empty() {
        card["actions"] = Value::Array(actions);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

/// What the target's `appData` holds.
fn target_data(hook: &RoomWebhook) -> Value {
    json!({"kind": hook.kind.as_str(), "lang": hook.lang.code(), "link": hook.link})
}

fn from_target(target: &AppTarget) -> RoomWebhook {
    let data = &target.data;
    RoomWebhook {
        url: target.url.clone(),
        kind: data["kind"]
            .as_str()
            .and_then(Kind::parse)
            .unwrap_or(Kind::Generic),
        lang: data["lang"]
            .as_str()
            .and_then(Lang::parse)
            .unwrap_or(Lang::En),
        link: data["link"].as_str().map(str::to_string),
        public_only: target.public_only,
    }
}

/// Room `room_id`'s webhook, if it has one.
pub fn read(conn: &Connection, room_id: &str) -> Result<Option<RoomWebhook>, WebhookError> {
    Ok(app::app_target(conn, OWNER, &target_id(room_id))?
        .filter(|t| t.enabled)
        .map(|t| from_target(&t)))
}

/// Queues `results` for room `room_id`'s webhook, if it has one, inside the
/// caller's write.
pub fn queue_results(
    conn: &Connection,
    room_id: &str,
    results: &[EstimateResult],
) -> Result<(), WebhookError> {
    if results.is_empty() {
        return Ok(());
    }
    let Some(hook) = read(conn, room_id)? else {
        return Ok(());
    };
    for r in results {
        let message = Message::Estimate(r);
        let body = payload(hook.kind, hook.lang, hook.link.as_deref(), &message);
        app::queue_app(conn, OWNER, &target_id(room_id), message.event(), &body)?;
    }
    Ok(())
}

/// Why a request failed.
#[derive(Debug)]
pub enum Failure {
    /// Refused; nothing changed.
    Problem(WebhookProblem),
    /// The database did not take it.
    NotSaved(WebhookError),
}

/// Carries out `request` from `by` in room `room_id` (code `code`, now
/// `state`, whose webhook is `current`): only the host may; answers the room's
/// webhook afterwards. `lang` is the host's language, `app_url` litebase's
/// `meta.appURL`.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    records: &Records,
    room_id: &str,
    code: &str,
    state: &RoomState,
    by: &ParticipantId,
    request: WebhookRequest,
    current: Option<&RoomWebhook>,
    policy: Policy,
    lang: Lang,
    app_url: &str,
) -> Result<Option<RoomWebhook>, Failure> {
    if state.host() != by {
        return Err(Failure::Problem(WebhookProblem::NotHost));
    }
    let id = target_id(room_id);
    match request {
        WebhookRequest::Set { url, .. } if url.trim().is_empty() => {
            records
                .app_write(OWNER, move |tx| {
                    app::remove_app_target(tx.conn(), OWNER, &id)
                })
                .await
                .map_err(Failure::NotSaved)?;
            Ok(None)
        }
        WebhookRequest::Set { url, kind } => {
            let url = check_url(&url, policy).map_err(Failure::Problem)?;
            let hook = RoomWebhook {
                url,
                kind,
                lang,
                link: room_link(app_url, code),
                public_only: !policy.allow_private,
            };
            let target = target_of(room_id, &hook);
            records
                .app_write(OWNER, move |tx| {
                    app::set_app_target(tx.conn(), &target, None)
                })
                .await
                .map_err(Failure::NotSaved)?;
            Ok(Some(hook))
        }
        WebhookRequest::Test => {
            let Some(hook) = current.cloned() else {
                return Err(Failure::Problem(WebhookProblem::NotSet));
            };
            let message = Message::Test {
                room_name: state.name(),
            };
            let body = payload(hook.kind, hook.lang, hook.link.as_deref(), &message);
            let event = message.event();
            records
                .app_write(OWNER, move |tx| {
                    app::queue_app(tx.conn(), OWNER, &id, event, &body)
                })
                .await
                .map_err(Failure::NotSaved)?;
            Ok(Some(hook))
        }
    }
}

fn target_of(room_id: &str, hook: &RoomWebhook) -> AppTarget {
    let mut target = AppTarget::new(&target_id(room_id), OWNER, &hook.url);
    target.public_only = hook.public_only;
    target.data = target_data(hook);
    target
}

/// Holds a room's stored webhook to today's `policy` as its room opens: one
/// saved while private addresses were allowed becomes public-only once the
/// operator withdraws that (the flag is read at start-up).
pub async fn enforce(
    records: &Records,
    room_id: &str,
    webhook: &mut Option<RoomWebhook>,
    policy: Policy,
) {
    let Some(hook) = webhook
        .as_mut()
        .filter(|h| !h.public_only && !policy.allow_private)
    else {
        return;
    };
    hook.public_only = true;
    let target = target_of(room_id, hook);
    let saved = records
        .app_write(OWNER, move |tx| {
            app::set_app_target(tx.conn(), &target, None)
        })
        .await;
    if let Err(e) = saved {
        tracing::error!(error = %e, "cannot make a room's webhook public-only");
    }
}

/// Adds the record hook that removes a room's target in the room's own delete.
pub fn register(app: litebase::App) -> litebase::App {
    app.on_record(
        litebase::hooks::RecordAction::Delete,
        Some("rooms"),
        |e, next| {
            next.run(e)?;
            let room_id = e
                .record
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            app::remove_app_target(e.conn, OWNER, &target_id(room_id)).map_err(|err| {
                tracing::error!(error = %err, "cannot remove a deleted room's webhook");
                litebase::ApiError::internal()
            })?;
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::{Command, NewRoom, Role};

    const PUBLIC: Policy = Policy {
        allow_private: false,
    };

    /// Host "h" and voters a, b, c; round 1 on "Login page" revealed with 3, 5, 5.
    fn revealed() -> RoomState {
        let mut room = RoomState::new(NewRoom::new("h".into(), "Hana"), Timestamp(0)).unwrap();
        let mut commands = vec![Command::RenameRoom {
            by: "h".into(),
            name: "Sprint <7> & co".into(),
        }];
        for id in ["a", "b", "c"] {
            commands.push(Command::Join {
                participant: id.into(),
                name: id.to_uppercase(),
                role: Role::Voter,
            });
        }
        commands.push(Command::SetTopic {
            by: "h".into(),
            topic: "Login page".into(),
        });
        for (id, card) in [("a", "3"), ("b", "5"), ("c", "5")] {
            commands.push(Command::Vote {
                by: id.into(),
                card: card.into(),
            });
        }
        commands.push(Command::Reveal { by: "h".into() });
        for command in commands {
            room = room.apply(command, Timestamp(1)).unwrap().0;
        }
        room
    }

    fn estimate(room: &RoomState, value: &str) -> (RoomState, Vec<Event>) {
        room.apply(
            Command::RecordEstimate {
                by: "h".into(),
                estimate: value.into(),
            },
            Timestamp(1_767_366_245_000),
        )
        .unwrap()
    }

    fn result() -> EstimateResult {
        let (room, events) = estimate(&revealed(), "5");
        results(&room, &events, Timestamp(1_767_366_245_000)).remove(0)
    }

    #[test]
    fn an_estimate_gives_one_result_and_an_amendment_an_update() {
        let (room, events) = estimate(&revealed(), "5");
        let first = results(&room, &events, Timestamp(9));
        assert_eq!(first.len(), 1);
        let r = &first[0];
        assert_eq!(r.round, 1);
        assert_eq!(r.title.as_deref(), Some("Login page"));
        assert_eq!(r.room_name.as_deref(), Some("Sprint <7> & co"));
        assert_eq!(r.estimate, "5");
        assert!(!r.updated);
        assert_eq!(r.stats.votes, 3);
        let (room, events) = estimate(&room, "8");
        let again = results(&room, &events, Timestamp(10));
        assert_eq!(again.len(), 1);
        assert!(again[0].updated, "an amended estimate says so");
        assert_eq!(again[0].estimate, "8");
        // Revealing or starting a round posts nothing.
        let (_, events) = room
            .apply(
                Command::NextRound {
                    by: "h".into(),
                    topic: None,
                },
                Timestamp(11),
            )
            .unwrap();
        assert!(results(&room, &events, Timestamp(11)).is_empty());
    }

    #[test]
    fn a_queued_story_gives_its_title_key_and_link() {
        let room = RoomState::new(NewRoom::new("h".into(), "Hana"), Timestamp(0)).unwrap();
        let steps = [
            Command::AddStories {
                by: "h".into(),
                stories: vec![crate::room::stories::NewStory {
                    id: "s1".into(),
                    title: "Sign in with SSO".into(),
                    key: Some("AUTH-7".into()),
                    url: Some("https://tracker.example/AUTH-7".into()),
                    kind: None,
                }],
            },
            Command::Vote {
                by: "h".into(),
                card: "3".into(),
            },
            Command::Reveal { by: "h".into() },
        ];
        let room = steps
            .into_iter()
            .fold(room, |room, c| room.apply(c, Timestamp(1)).unwrap().0);
        let (room, events) = estimate(&room, "3");
        let r = results(&room, &events, Timestamp(2)).remove(0);
        assert_eq!(r.title.as_deref(), Some("Sign in with SSO"));
        assert_eq!(r.key.as_deref(), Some("AUTH-7"));
        assert_eq!(r.url.as_deref(), Some("https://tracker.example/AUTH-7"));
    }

    #[test]
    fn generic_json_carries_every_field() {
        let body = payload(
            Kind::Generic,
            Lang::En,
            Some("https://poker.example.com/r/ABC"),
            &Message::Estimate(&result()),
        );
        assert_eq!(
            body,
            json!({
                "event": "estimate.recorded",
                "room": {"name": "Sprint <7> & co", "link": "https://poker.example.com/r/ABC"},
                "story": {"title": "Login page", "key": null, "url": null},
                "round": 1,
                "estimate": "5",
                "votes": 3,
                "stats": {
                    "average": 13.0 / 3.0,
                    "median": 5.0,
                    "min": 3.0,
                    "max": 5.0,
                    "mode": ["5"],
                    "agreement": 200.0 / 3.0,
                    "consensus": false,
                    "distribution": [{"card": "3", "count": 1}, {"card": "5", "count": 2}],
                },
                "estimatedAt": "2026-01-02T15:04:05Z",
            })
        );
        let test = payload(
            Kind::Generic,
            Lang::En,
            None,
            &Message::Test { room_name: None },
        );
        assert_eq!(
            test,
            json!({"event": "test", "room": {"name": null, "link": null}})
        );
    }

    #[test]
    fn slack_gets_text_and_blocks_with_its_characters_escaped() {
        let mut r = result();
        r.updated = true;
        r.url = Some("https://tracker.example.com/PROJ-1?a|b".into());
        r.key = Some("PROJ-1".into());
        let body = payload(
            Kind::Slack,
            Lang::En,
            Some("https://p.example.com/r/ABC"),
            &Message::Estimate(&r),
        );
        assert_eq!(
            body["text"],
            "PROJ-1 · Login page — Final estimate: 5 (updated)"
        );
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["type"], "plain_text");
        assert_eq!(blocks[0]["text"]["text"], "PROJ-1 · Login page");
        assert_eq!(blocks[1]["text"]["text"], "*Final estimate: 5 (updated)*");
        let fields = blocks[2]["fields"].as_array().unwrap();
        assert_eq!(fields[0]["text"], "*Votes*\n3");
        assert_eq!(fields[1]["text"], "*Average*\n4.3");
        assert_eq!(fields[3]["text"], "*Agreement*\n67%");
        assert_eq!(fields[4]["text"], "*Cards*\n3 ×1 · 5 ×2");
        assert!(fields.len() <= 10, "Slack takes ten fields at most");
        assert_eq!(
            blocks[3]["elements"][0]["text"],
            "Sprint &lt;7&gt; &amp; co · Round 1 · \
             <https://tracker.example.com/PROJ-1?a%7Cb|Open the story> · \
             <https://p.example.com/r/ABC|Open the room>"
        );
        let fr = payload(Kind::Slack, Lang::Fr, None, &Message::Estimate(&result()));
        assert_eq!(fr["blocks"][1]["text"]["text"], "*Estimation finale : 5*");
        let test = payload(
            Kind::Slack,
            Lang::En,
            None,
            &Message::Test {
                room_name: Some("A<b"),
            },
        );
        assert!(
            test["text"].as_str().unwrap().ends_with("(A&lt;b)"),
            "{test}"
        );
        assert_eq!(test["blocks"][0]["type"], "section");
    }

    #[test]
    fn teams_gets_an_adaptive_card_message() {
        let body = payload(
            Kind::Teams,
            Lang::En,
            Some("https://p.example.com/r/ABC"),
            &Message::Estimate(&result()),
        );
        assert_eq!(body["type"], "message");
        let attachments = body["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 1);
        assert_eq!(
            attachments[0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        let card = &attachments[0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        assert_eq!(card["body"][0]["text"], "Login page");
        assert_eq!(card["body"][1]["text"], "Final estimate: 5");
        assert_eq!(card["body"][2]["type"], "FactSet");
        assert_eq!(
            card["body"][2]["facts"][0],
            json!({"title": "Votes", "value": "3"})
        );
        assert_eq!(card["body"][3]["text"], "Sprint <7> & co · Round 1");
        assert_eq!(
            card["actions"],
            json!([{"type": "Action.OpenUrl", "title": "Open the room", "url": "https://p.example.com/r/ABC"}])
        );
        let test = payload(
            Kind::Teams,
            Lang::Fr,
            None,
            &Message::Test { room_name: None },
        );
        let card = &test["attachments"][0]["content"];
        assert!(card.get("actions").is_none(), "no link, no button");
        assert!(
            card["body"][0]["text"]
                .as_str()
                .unwrap()
                .starts_with("Message de test")
        );
    }

    #[test]
    fn a_unanimous_round_says_consensus() {
        let mut room = RoomState::new(NewRoom::new("h".into(), "Hana"), Timestamp(0)).unwrap();
        for command in [
            Command::Vote {
                by: "h".into(),
                card: "8".into(),
            },
            Command::Reveal { by: "h".into() },
            Command::RecordEstimate {
                by: "h".into(),
                estimate: "8".into(),
            },
        ] {
            room = room.apply(command, Timestamp(1)).unwrap().0;
        }
        let events = [
            Event::RoundCompleted { round: 1 },
            Event::EstimateRecorded {
                round: 1,
                estimate: "8".into(),
            },
        ];
        let r = &results(&room, &events, Timestamp(2))[0];
        assert_eq!(
            payload(Kind::Generic, Lang::En, None, &Message::Estimate(r))["stats"]["consensus"],
            true
        );
        let slack = payload(Kind::Slack, Lang::En, None, &Message::Estimate(r));
        assert_eq!(
            slack["blocks"][0]["text"]["text"], "Round 1",
            "no topic: the round names it"
        );
        assert_eq!(
            slack["blocks"][2]["fields"][3]["text"],
            "*Agreement*\n100% (consensus)"
        );
    }

    #[test]
    fn urls_are_checked_and_private_addresses_refused_unless_allowed() {
        for ok in [
            "https://hooks.slack.com/services/T0/B0/x",
            "  https://example.com  ",
            "http://example.com:8080/hook?a=1",
            "https://8.8.8.8/x",
        ] {
            assert_eq!(check_url(ok, PUBLIC), Ok(ok.trim().to_string()), "{ok}");
        }
        for (bad, problem) in [
            ("", WebhookProblem::BadUrl),
            ("ftp://example.com", WebhookProblem::BadUrl),
            ("https://", WebhookProblem::BadUrl),
            ("https://exa mple.com", WebhookProblem::BadUrl),
            ("javascript:alert(1)", WebhookProblem::BadUrl),
            ("https://[::1", WebhookProblem::BadUrl),
            ("http://127.0.0.1:9000/hook", WebhookProblem::PrivateAddress),
            ("http://localhost/hook", WebhookProblem::PrivateAddress),
            ("http://LOCALHOST./hook", WebhookProblem::PrivateAddress),
            ("http://app.localhost/hook", WebhookProblem::PrivateAddress),
            ("http://10.0.0.5/", WebhookProblem::PrivateAddress),
            (
                "http://169.254.169.254/latest/meta-data",
                WebhookProblem::PrivateAddress,
            ),
            ("http://[::1]:80/", WebhookProblem::PrivateAddress),
            ("http://user@192.168.0.1/", WebhookProblem::PrivateAddress),
        ] {
            assert_eq!(check_url(bad, PUBLIC), Err(problem), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(500));
        assert_eq!(check_url(&long, PUBLIC), Err(WebhookProblem::TooLong));
        let open = Policy {
            allow_private: true,
        };
        assert!(check_url("http://127.0.0.1:9000/hook", open).is_ok());
        assert_eq!(
            check_url("ftp://127.0.0.1", open),
            Err(WebhookProblem::BadUrl)
        );
    }

    #[test]
    fn only_the_scheme_and_host_are_shown() {
        let hook = |url: &str| RoomWebhook {
            url: url.into(),
            kind: Kind::Slack,
            lang: Lang::En,
            link: None,
            public_only: true,
        };
        assert_eq!(
            hook("https://hooks.slack.com/services/T0/B0/secret").masked_url(),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            hook("https://a:b@example.com:8443?k=secret").masked_url(),
            "https://example.com:8443/…"
        );
        assert_eq!(
            hook("http://example.com").masked_url(),
            "http://example.com"
        );
        assert_eq!(
            hook("https://x.example.com/y").status(),
            json!({"kind": "slack", "url": "https://x.example.com/…"})
        );
    }

    #[test]
    fn the_room_link_comes_from_the_app_url() {
        assert_eq!(
            room_link("https://poker.example.com/", "ABC").as_deref(),
            Some("https://poker.example.com/r/ABC")
        );
        assert_eq!(room_link("http://0.0.0.0:8090", "ABC"), None);
        assert_eq!(room_link("", "ABC"), None);
    }

    #[test]
    fn kinds_and_problems_have_names_in_both_languages() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("discord"), None);
        for p in [
            WebhookProblem::NotHost,
            WebhookProblem::BadUrl,
            WebhookProblem::TooLong,
            WebhookProblem::PrivateAddress,
            WebhookProblem::NotSet,
        ] {
            assert!(!p.message(Lang::En).is_empty(), "{p:?}");
            assert_ne!(p.message(Lang::Fr), p.message(Lang::En), "{p:?}");
        }
    }
}
