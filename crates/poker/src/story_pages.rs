//! The pages around a room's story queue: the session summary to share after
//! the meeting, the import of stories from a tracker's file, and the estimates
//! back out in the tracker's own format.
//!
//! Like the history export, the summary and the estimates are open to anyone
//! with the room's link (anyone with it may join and see them in the room);
//! importing changes the queue, so it needs the seat of a host or co-host.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tera::Context;

use crate::i18n::{self, Lang};
use crate::pages::{base_url, cookie, lang_of, not_found, render, room_or_page, seat_cookie_name};
use crate::render::{Renderer, card_counts, estimate_points, iso, number, utc_text};
use crate::room::RoomState;
use crate::room::hub::Hubs;
use crate::room::hub::{HubMsg, Refusal, StoryText};
use crate::room::stories::MAX_STORIES;
use crate::room::stories::StoryStatus;
use crate::tracker::{self, ColumnMap, EstimatedStory, ImportError, Source, Target};

/// Adds the story pages' routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/r/{code}/summary", web::get().to(summary))
        .route("/r/{code}/import", web::get().to(import_page))
        .route("/r/{code}/import", web::post().to(import_post))
        .route("/r/{code}/estimates.{ext}", web::get().to(estimates));
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
    let snap = match room_or_page(&req, &core, &hubs, &renderer, &code, None).await {
        Ok(snap) => snap,
        Err(page) => return page,
    };
    let title = snap.state.name().unwrap_or(&code).to_owned();
    let mut ctx = summary_context(&snap.state, &code, &title);
    ctx.insert(
        "summary_url",
        &format!("{}/r/{code}/summary", base_url(&core, &req)),
    );
    render(&req, &renderer, StatusCode::OK, "summary.html", &ctx)
}

/// The largest import form: the file, plus room for the form's other fields.
const IMPORT_BODY_LIMIT: usize = tracker::MAX_INPUT_BYTES + 64 * 1024;
/// How many stories the preview lists (the rest are counted).
const PREVIEW_ROWS: usize = 50;

/// One choice of the format menu.
#[derive(Serialize)]
struct FormatOption {
    value: &'static str,
    label: &'static str,
}

/// One story field of the column mapping, with the column chosen for it.
#[derive(Serialize)]
struct MapField {
    field: &'static str,
    label: &'static str,
    required: bool,
    chosen: Option<usize>,
}

/// The import form as posted: the file (or the text kept from a preview), the
/// format, the column mapping, and whether to add the stories now.
#[derive(Default)]
struct ImportForm {
    file: Vec<u8>,
    content: String,
    format: String,
    map: Vec<(String, String)>,
    confirm: bool,
}

fn formats() -> Vec<FormatOption> {
    Source::ALL
        .iter()
        .map(|s| FormatOption {
            value: s.as_str(),
            label: s.label(),
        })
        .collect()
}

/// The room, when the page's seat cookie is a host's or co-host's; anyone else
/// gets the page to show instead (who may import, a missing room, a busy one).
async fn moderator_room(
    req: &HttpRequest,
    core: &litebase::core::Core,
    hubs: &std::sync::Arc<Hubs>,
    renderer: &Renderer,
    code: &str,
) -> Result<crate::room::hub::Snapshot, HttpResponse> {
    let token = cookie(req, &seat_cookie_name(code));
    let snap = room_or_page(req, core, hubs, renderer, code, token).await?;
    let moderator = snap
        .me
        .as_ref()
        .is_some_and(|me| snap.state.is_moderator(me));
    if !moderator {
        let (lang, _) = lang_of(req);
        let mut ctx = Context::new();
        ctx.insert("code", code);
        ctx.insert("room_title", snap.state.name().unwrap_or(code));
        ctx.insert("formats", &formats());
        ctx.insert("format", "");
        ctx.insert("content", "");
        ctx.insert("error", i18n::text(lang, "import_hosts_only"));
        return Err(render(
            req,
            renderer,
            StatusCode::FORBIDDEN,
            "import.html",
            &ctx,
        ));
    }
    Ok(snap)
}

/// `GET /r/{code}/import`: the form (hosts and co-hosts).
async fn import_page(
    req: HttpRequest,
    code: web::Path<String>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
) -> HttpResponse {
    let code = code.into_inner();
    let hubs = hubs.into_inner();
    let snap = match moderator_room(&req, &core, &hubs, &renderer, &code).await {
        Ok(snap) => snap,
        Err(page) => return page,
    };
    let mut ctx = Context::new();
    ctx.insert("code", &code);
    ctx.insert("room_title", snap.state.name().unwrap_or(&code));
    ctx.insert("formats", &formats());
    ctx.insert("format", "");
    ctx.insert("content", "");
    ctx.insert("error", &Option::<String>::None);
    render(&req, &renderer, StatusCode::OK, "import.html", &ctx)
}

/// Reads the multipart import form, at most [`IMPORT_BODY_LIMIT`] bytes.
async fn read_import_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<ImportForm, &'static str> {
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut form = ImportForm::default();
    let mut used = 0usize;
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(|_| "import_bad_form")?;
        let name = field.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| "import_bad_form")?;
            used += chunk.len();
            if used > IMPORT_BODY_LIMIT {
                return Err("import_too_large");
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "file" => form.file = bytes,
            "content" => form.content = text(),
            "format" => form.format = text(),
            "confirm" => form.confirm = !bytes.is_empty(),
            other if other.starts_with("map_") => form.map.push((other[4..].to_owned(), text())),
            _ => {}
        }
    }
    Ok(form)
}

/// The column map of the form, or the guessed one for `columns`.
fn column_map(form: &ImportForm, columns: &[String]) -> ColumnMap {
    if form.map.is_empty() {
        return tracker::guess_map(columns);
    }
    let pick = |field: &str| {
        form.map
            .iter()
            .find(|(f, _)| f == field)
            .and_then(|(_, v)| v.trim().parse::<usize>().ok())
            .filter(|i| *i < columns.len())
    };
    ColumnMap {
        title: pick("title").unwrap_or(0),
        key: pick("key"),
        url: pick("url"),
        description: None,
        estimate: pick("estimate"),
        kind: pick("kind"),
    }
}

/// `POST /r/{code}/import`: preview the file (the column mapping for CSV), or
/// add its stories to the queue and go back to the room.
async fn import_post(
    req: HttpRequest,
    code: web::Path<String>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
    payload: web::Payload,
) -> HttpResponse {
    let code = code.into_inner();
    let hubs = hubs.into_inner();
    let snap = match moderator_room(&req, &core, &hubs, &renderer, &code).await {
        Ok(snap) => snap,
        Err(page) => return page,
    };
    let (lang, _) = lang_of(&req);
    let mut ctx = Context::new();
    ctx.insert("code", &code);
    ctx.insert("room_title", snap.state.name().unwrap_or(&code));
    ctx.insert("formats", &formats());
    let form = match read_import_form(&req, payload).await {
        Ok(form) => form,
        Err(key) => {
            ctx.insert("format", "");
            ctx.insert("content", "");
            ctx.insert("error", i18n::text(lang, key));
            return render(
                &req,
                &renderer,
                StatusCode::BAD_REQUEST,
                "import.html",
                &ctx,
            );
        }
    };
    let bytes: &[u8] = if form.file.is_empty() {
        form.content.as_bytes()
    } else {
        &form.file
    };
    // The file's text goes back in the form, so a preview can be refined or confirmed.
    let content = String::from_utf8_lossy(bytes).into_owned();
    let source = Source::parse(form.format.trim()).or_else(|| tracker::detect(bytes));
    ctx.insert("format", source.map_or("", Source::as_str));
    ctx.insert("content", &content);
    let fail = |ctx: &mut Context, message: String| {
        ctx.insert("error", &message);
        render(&req, &renderer, StatusCode::BAD_REQUEST, "import.html", ctx)
    };
    let Some(source) = source else {
        let message = if bytes.is_empty() {
            i18n::text(lang, "import_empty").to_owned()
        } else {
            i18n::text(lang, "import_unknown_format").to_owned()
        };
        return fail(&mut ctx, message);
    };
    let map = if source == Source::Csv {
        match tracker::columns(bytes) {
            Ok(columns) => {
                let map = column_map(&form, &columns);
                ctx.insert("columns", &columns);
                ctx.insert("mapping", &mapping_fields(lang, &map));
                Some(map)
            }
            Err(e) => return fail(&mut ctx, import_error(lang, &e)),
        }
    } else {
        None
    };
    let parsed = match tracker::parse(source, bytes, map.as_ref()) {
        Ok(parsed) => parsed,
        Err(e) => return fail(&mut ctx, import_error(lang, &e)),
    };
    let room_left = MAX_STORIES.saturating_sub(snap.state.queue().stories().len());
    if form.confirm && !parsed.stories.is_empty() {
        let stories: Vec<StoryText> = parsed
            .stories
            .iter()
            .map(|s| StoryText {
                title: s.title.clone(),
                key: s.key.clone(),
                url: s.url.clone(),
                kind: s.kind.clone(),
            })
            .collect();
        let token = cookie(&req, &seat_cookie_name(&code));
        let asked = hubs
            .ask(&core.records, &code, |reply| HubMsg::AddStories {
                token: token.clone(),
                stories: stories.clone(),
                reply,
            })
            .await;
        match asked {
            Ok(_) => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, format!("/r/{code}")))
                    .finish();
            }
            Err(Refusal::NotFound) => return not_found(&req, &renderer),
            Err(refusal) => {
                ctx.insert("room_left", &room_left);
                return fail(&mut ctx, refusal.message(lang));
            }
        }
    }
    let skipped: Vec<String> = parsed.skipped.iter().map(ToString::to_string).collect();
    ctx.insert("count", &parsed.stories.len());
    ctx.insert(
        "stories",
        &parsed.stories.iter().take(PREVIEW_ROWS).collect::<Vec<_>>(),
    );
    ctx.insert("more", &parsed.stories.len().saturating_sub(PREVIEW_ROWS));
    ctx.insert("skipped", &skipped);
    ctx.insert("room_left", &room_left);
    let error = parsed
        .stories
        .is_empty()
        .then(|| i18n::text(lang, "import_no_stories"));
    ctx.insert("error", &error);
    render(&req, &renderer, StatusCode::OK, "import.html", &ctx)
}

/// The mapping step's fields, in the page's language.
fn mapping_fields(lang: Lang, map: &ColumnMap) -> Vec<MapField> {
    vec![
        MapField {
            field: "title",
            label: i18n::text(lang, "story_title"),
            required: true,
            chosen: Some(map.title),
        },
        MapField {
            field: "key",
            label: i18n::text(lang, "story_key_short"),
            required: false,
            chosen: map.key,
        },
        MapField {
            field: "url",
            label: i18n::text(lang, "story_url"),
            required: false,
            chosen: map.url,
        },
        MapField {
            field: "estimate",
            label: i18n::text(lang, "import_current_estimate"),
            required: false,
            chosen: map.estimate,
        },
    ]
}

/// An import error in the page's language (the tracker's messages are English;
/// French readers get the French gist and the detail).
fn import_error(lang: Lang, e: &ImportError) -> String {
    match lang {
        Lang::En => e.to_string(),
        _ => format!("{} ({e})", i18n::text(lang, "import_failed")),
    }
}

/// `?format=` of the estimates download.
#[derive(Deserialize)]
struct EstimatesQuery {
    #[serde(default)]
    format: String,
}

/// `GET /r/{code}/estimates.{ext}?format=jira-csv|azure-csv|linear-csv|github-json|…`:
/// the queue's estimates as a file the tracker takes back. Open to anyone with the
/// room's link, like the history export.
async fn estimates(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<EstimatesQuery>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
) -> HttpResponse {
    let (code, _ext) = path.into_inner();
    let Some(target) = Target::parse(query.format.trim()) else {
        return HttpResponse::BadRequest().json(serde_json::json!({
            "status": 400,
            "message": format!(
                "unknown estimates format {:?}; use one of {}",
                query.format,
                Target::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")
            ),
            "data": {},
        }));
    };
    let hubs = hubs.into_inner();
    let snap = match room_or_page(&req, &core, &hubs, &renderer, &code, None).await {
        Ok(snap) => snap,
        Err(page) => return page,
    };
    let stories: Vec<EstimatedStory> = snap
        .state
        .queue()
        .stories()
        .iter()
        .filter(|s| s.estimate.is_some())
        .map(|s| EstimatedStory {
            key: s.key.clone(),
            title: s.title.clone(),
            url: s.url.clone(),
            estimate: s.estimate.clone(),
            kind: s.kind.clone(),
        })
        .collect();
    let out = tracker::export(target, &stories);
    HttpResponse::Ok()
        .content_type(out.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"estimates-{code}-{}.{}\"",
                target.as_str(),
                out.extension
            ),
        ))
        .body(out.body)
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
                kind: None,
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
