//! The pages around a room's story queue: the session summary to share after
//! the meeting, the import of stories from a tracker's file, and the estimates
//! back out in the tracker's own format.
//!
//! Like the history export, the summary and the estimates are open to anyone
//! with the room's link (anyone with it may join and see them in the room);
//! importing changes the queue, so it needs the seat of a host or co-host.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tera::Context;

use crate::pages::{Lookup, base_url, busy, not_found, render, snapshot};
use crate::render::{Renderer, estimate_points, iso, number, utc_text};
use crate::room::RoomState;
use crate::room::hub::Hubs;
use crate::room::stories::StoryStatus;

/// Adds the story pages' routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/r/{code}/summary", web::get().to(summary));
}

/// One story's line in the summary.
#[derive(Serialize)]
struct SummaryStory<'a> {
    key: Option<&'a str>,
    url: Option<&'a str>,
    title: &'a str,
    status: &'static str,
    estimate: Option<&'a str>,
    rounds: u32,
    /// The cards of its last round, e.g. `3 ×2 · 5`.
    votes: Option<String>,
    agreement: Option<String>,
}

/// A round that estimated no queued story.
#[derive(Serialize)]
struct LooseRound<'a> {
    round: u32,
    topic: Option<&'a str>,
    estimate: Option<&'a str>,
    votes: String,
    agreement: Option<String>,
}

/// The cards of a round, most voted first: `5 ×3 · 8 · 3`.
fn card_counts(entry: &crate::room::HistoryEntry) -> String {
    let mut counts: Vec<(&str, usize)> = entry
        .stats
        .distribution
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| (c.card.as_str(), c.count))
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1));
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

fn agreement(entry: &crate::room::HistoryEntry) -> Option<String> {
    entry.stats.agreement.map(|a| format!("{}%", a.round()))
}

/// Everything the summary page shows of `state`.
fn summary_context(state: &RoomState, code: &str, room_title: &str) -> Context {
    let history = state.history();
    let stories = state.queue().stories();
    let last_round_of = |id: &crate::room::stories::StoryId| {
        history.iter().rev().find(|h| h.story.as_ref() == Some(id))
    };
    let lines: Vec<SummaryStory<'_>> = stories
        .iter()
        .map(|s| {
            let last = last_round_of(&s.id);
            SummaryStory {
                key: s.key.as_deref(),
                url: s.url.as_deref(),
                title: &s.title,
                status: s.status.as_str(),
                estimate: s.estimate.as_deref(),
                rounds: s.rounds,
                votes: last.map(card_counts).filter(|v| !v.is_empty()),
                agreement: last.and_then(agreement),
            }
        })
        .collect();
    let loose: Vec<LooseRound<'_>> = history
        .iter()
        .filter(|h| h.story.is_none())
        .map(|h| LooseRound {
            round: h.round,
            topic: h.topic.as_deref(),
            estimate: h.final_estimate.as_deref(),
            votes: card_counts(h),
            agreement: agreement(h),
        })
        .collect();
    // A story being voted on again still counts with its last estimate.
    let has_estimate = |s: &&crate::room::stories::Story| {
        matches!(s.status, StoryStatus::Estimated | StoryStatus::Active) && s.estimate.is_some()
    };
    let estimated = stories.iter().filter(has_estimate).count();
    let points: Vec<f64> = stories
        .iter()
        .filter(has_estimate)
        .filter_map(|s| s.estimate.as_deref().and_then(estimate_points))
        .chain(
            history
                .iter()
                .filter(|h| h.story.is_none())
                .filter_map(|h| h.final_estimate.as_deref().and_then(estimate_points)),
        )
        .collect();
    let count = |status: StoryStatus| stories.iter().filter(|s| s.status == status).count();
    let mut ctx = Context::new();
    ctx.insert("code", code);
    ctx.insert("room_title", room_title);
    ctx.insert("stories", &lines);
    ctx.insert("loose", &loose);
    ctx.insert(
        "estimated",
        &(estimated + loose.iter().filter(|r| r.estimate.is_some()).count()),
    );
    ctx.insert(
        "points",
        &(!points.is_empty()).then(|| number(Some(points.iter().sum()))),
    );
    ctx.insert("skipped", &count(StoryStatus::Skipped));
    ctx.insert(
        "waiting",
        &(stories.len() - estimated - count(StoryStatus::Skipped)),
    );
    ctx.insert("rounds", &history.len());
    ctx.insert("people", &state.participants().len());
    let first = history.first().map(|h| h.revealed_at);
    let last = history.last().map(|h| h.completed_at);
    ctx.insert("first", &first.map(utc_text));
    ctx.insert("first_iso", &first.map(iso));
    ctx.insert("last", &last.map(utc_text));
    ctx.insert("last_iso", &last.map(iso));
    ctx
}

/// `GET /r/{code}/summary`: what the session estimated, to share or print.
async fn summary(
    req: HttpRequest,
    code: web::Path<String>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
) -> HttpResponse {
    let code = code.into_inner();
    let hubs = hubs.into_inner();
    let snap = match snapshot(&core, &hubs, &code, None).await {
        Ok(snap) => snap,
        Err(Lookup::Missing) => return not_found(&req, &renderer),
        Err(Lookup::Failed) => return busy(&req),
    };
    let title = snap.state.name().unwrap_or(&code).to_owned();
    let mut ctx = summary_context(&snap.state, &code, &title);
    ctx.insert(
        "summary_url",
        &format!("{}/r/{code}/summary", base_url(&core, &req)),
    );
    render(&req, &renderer, StatusCode::OK, "summary.html", &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::stories::{NewStory, StoryId};
    use crate::room::{Command, NewRoom, ParticipantId, Role, Timestamp};

    fn step(state: RoomState, command: Command) -> RoomState {
        match state.apply(command.clone(), Timestamp(10)) {
            Ok((next, _)) => next,
            Err(e) => panic!("{command:?}: {e}"),
        }
    }

    #[test]
    fn the_summary_counts_estimates_points_and_skips() {
        let h = ParticipantId::from("h");
        let mut state = match RoomState::new(NewRoom::new(h.clone(), "Hana"), Timestamp(1)) {
            Ok(state) => state,
            Err(e) => panic!("{e}"),
        };
        state = step(
            state,
            Command::Join {
                participant: "a".into(),
                name: "Ann".into(),
                role: Role::Voter,
            },
        );
        let stories = ["One", "Two", "Three"]
            .iter()
            .enumerate()
            .map(|(i, t)| NewStory {
                id: StoryId::from(format!("s{i}")),
                title: (*t).into(),
                key: Some(format!("P-{i}")),
                url: None,
            })
            .collect();
        state = step(
            state,
            Command::AddStories {
                by: h.clone(),
                stories,
            },
        );
        for (card, estimate) in [("3", Some("3")), ("8", None), ("5", Some("5"))] {
            state = step(
                state,
                Command::Vote {
                    by: "a".into(),
                    card: card.into(),
                },
            );
            state = step(state, Command::Reveal { by: h.clone() });
            if let Some(e) = estimate {
                state = step(
                    state,
                    Command::RecordEstimate {
                        by: h.clone(),
                        estimate: e.into(),
                    },
                );
            }
            state = step(
                state,
                Command::NextRound {
                    by: h.clone(),
                    topic: None,
                },
            );
        }
        let ctx = summary_context(&state, "CODE", "Room CODE");
        // tera's `Value` is its own serde_json's: convert through serde.
        let json = |key: &str| -> serde_json::Value {
            ctx.get(key)
                .and_then(|v| serde_json::to_value(v).ok())
                .unwrap_or_default()
        };
        assert_eq!(json("estimated"), 2);
        assert_eq!(json("points"), "8");
        assert_eq!(json("skipped"), 1);
        assert_eq!(json("rounds"), 3);
        assert_eq!(json("stories")[1]["status"], "skipped");
        assert_eq!(json("stories")[0]["votes"], "3");
        assert_eq!(json("stories")[2]["agreement"], "100%");
        assert_eq!(json("loose").as_array().map(Vec::len), Some(0));
    }
}
