//! `/_/crons`: the scheduled jobs (the built-in ones, the apps', the scheduled
//! backup) with their schedule, next run and last run, and a "Run now" button
//! for each — what `GET /api/crons` and `POST /api/crons/{id}` do.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tera::Context;

use super::i18n::{request_lang, text};
use super::render::{Page, see_other};
use super::session::AdminSession;
use crate::core::Core;
use crate::cron::{JobInfo, Started};
use crate::error::ApiError;

/// Mounts `/_/crons` and its action.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/crons", web::get().to(index))
        .route("/crons/{id}/run", web::post().to(run));
}

/// A job as the table shows it.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    expression: String,
    next: String,
    running: bool,
    /// When the last run started, empty when it has not run since the start.
    last: String,
    millis: String,
    /// Empty when the last run succeeded.
    error: String,
}

/// `2026-12-05 03:00 UTC`.
fn when(t: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

impl From<JobInfo> for Row {
    fn from(j: JobInfo) -> Self {
        Row {
            next: j.next.map(when).unwrap_or_default(),
            running: j.running,
            last: j.last.as_ref().map(|l| when(l.started)).unwrap_or_default(),
            millis: j
                .last
                .as_ref()
                .map(|l| format!("{} ms", l.millis))
                .unwrap_or_default(),
            error: j.last.and_then(|l| l.error).unwrap_or_default(),
            id: j.id,
            expression: j.expression,
        }
    }
}

async fn page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    problem: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let rows: Vec<Row> = core.crons.list().into_iter().map(Row::from).collect();
    let mut ctx = Context::new();
    ctx.insert("jobs", &rows);
    let mut page = Page::new(req, "crons/index.html").session(session);
    if problem.is_some() {
        page = page.status(actix_web::http::StatusCode::NOT_FOUND);
    }
    ctx.insert("problem", &problem.unwrap_or_default());
    page.render(ctx)
}

async fn index(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    page(&req, &core, &session, None).await
}

/// Starts job `id` and goes back to the list, which says it started (or was
/// still running); an unknown job re-shows the list with the refusal.
async fn run(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    match core.crons.run(&id) {
        Started::Yes => Ok(see_other("/_/crons?flash=cron_started")),
        Started::AlreadyRunning => Ok(see_other("/_/crons?flash=cron_still_running")),
        Started::Unknown => {
            let message = text(request_lang(&req), "cron_missing").to_string();
            page(&req, &core, &session, Some(message)).await
        }
    }
}
