//! `/_/backups`: list the backups, make one (optionally named), download,
//! delete and restore one. Every action is a call to [`crate::backups`], the
//! functions the JSON API and the CLI use too.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tera::Context;

use super::render::{Page, see_other};
use super::session::AdminSession;
use crate::backups::BackupInfo;
use crate::core::Core;
use crate::core::backups;
use crate::error::ApiError;

/// Mounts `/_/backups` and its actions.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/backups", web::get().to(index))
        .route("/backups", web::post().to(create))
        .route("/backups/{key}/download", web::get().to(download))
        .route("/backups/{key}/delete", web::post().to(delete))
        .route("/backups/{key}/restore", web::post().to(restore));
}

/// A backup as the table shows it.
#[derive(Debug, Serialize)]
struct Row {
    key: String,
    size: String,
    modified: String,
}

impl From<BackupInfo> for Row {
    fn from(b: BackupInfo) -> Self {
        Row {
            size: human_size(b.size),
            key: b.key,
            modified: b.modified,
        }
    }
}

/// `1.4 MB`, `512 B`: sizes an admin reads at a glance.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The create form's field.
#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
}

/// What went wrong, for the page: which form (`"create"` or a backup's key)
/// and the message.
#[derive(Debug, Default, Serialize)]
struct Problem {
    form: String,
    message: String,
}

async fn page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    problem: Option<(Problem, String)>,
) -> Result<HttpResponse, ApiError> {
    let rows: Vec<Row> = backups::list(core)
        .await?
        .into_iter()
        .map(Row::from)
        .collect();
    let mut ctx = Context::new();
    ctx.insert("backups", &rows);
    Page::new(req, "backups/index.html")
        .session(session)
        .form_problem(&mut ctx, ("problem", "name"), problem)
        .render(ctx)
}

async fn index(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    page(&req, &core, &session, None).await
}

async fn create(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<CreateForm>,
) -> Result<HttpResponse, ApiError> {
    let name = form.name.trim();
    match backups::create(&core, Some(name)).await {
        Ok(_) => Ok(see_other("/_/backups?flash=backup_created")),
        Err(e) if e.status().is_client_error() => {
            let problem = Problem {
                form: "create".into(),
                message: e.message,
            };
            page(&req, &core, &session, Some((problem, name.to_string()))).await
        }
        Err(e) => Err(e),
    }
}

/// The file itself, streamed; the admin session guards it like every page.
async fn download(core: web::Data<Core>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    backups::file_response(&core, &key).await
}

/// After an action on backup `key`: back to the list with toast `flash`, or
/// the list re-shown with the refusal.
async fn finish(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    key: String,
    done: Result<(), ApiError>,
    flash: &str,
) -> Result<HttpResponse, ApiError> {
    match done {
        Ok(()) => Ok(see_other(&format!("/_/backups?flash={flash}"))),
        Err(e) => refused(req, core, session, key, e).await,
    }
}

/// Re-shows the list with `err` next to backup `key`'s actions, unless it is
/// a server failure.
async fn refused(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    key: String,
    err: ApiError,
) -> Result<HttpResponse, ApiError> {
    if !err.status().is_client_error() {
        return Err(err);
    }
    let message = if err.status() == StatusCode::NOT_FOUND {
        super::i18n::text(super::i18n::request_lang(req), "backup_missing").to_string()
    } else {
        err.message
    };
    let problem = Problem { form: key, message };
    page(req, core, session, Some((problem, String::new()))).await
}

async fn delete(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let done = backups::delete(&core, &key).await;
    finish(&req, &core, &session, key, done, "backup_deleted").await
}

async fn restore(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let done = backups::restore(&core, &key).await;
    finish(&req, &core, &session, key, done, "backup_restored").await
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_at_a_glance() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
    }
}
