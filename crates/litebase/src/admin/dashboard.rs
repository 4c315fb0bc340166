//! `GET /_/`: an overview of the collections and how many records each holds.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tera::Context;

use super::render::Page;
use super::session::AdminSession;
use crate::core::Core;
use crate::error::ApiError;
use crate::schema::{CollectionType, quote_ident};

/// Mounts `/_/`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(dashboard));
}

/// One row of the overview.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    kind: CollectionType,
    system: bool,
    /// `None` for a view whose query fails (shown as "—").
    count: Option<i64>,
}

async fn dashboard(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    let schema = core.schema.current();
    let mut collections: Vec<_> = schema.all().to_vec();
    collections.sort_by(|a, b| (a.system, &a.name).cmp(&(b.system, &b.name)));
    let rows = core
        .db
        .read(move |conn| {
            let rows = collections
                .iter()
                .map(|c| Row {
                    name: c.name.clone(),
                    kind: c.kind,
                    system: c.system || c.name.starts_with('_'),
                    count: conn
                        .query_row(
                            &format!("SELECT count(*) FROM {}", quote_ident(&c.name)),
                            [],
                            |r| r.get(0),
                        )
                        .ok(),
                })
                .collect::<Vec<_>>();
            Ok::<_, ApiError>(rows)
        })
        .await?;
    let mut ctx = Context::new();
    ctx.insert("collections", &rows);
    Page::new(&req, "dashboard.html")
        .session(&session)
        .render(ctx)
}
