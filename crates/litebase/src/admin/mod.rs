//! The built-in admin UI at `/_/`: server-rendered pages (tera templates from
//! `admin-ui/`, htmx + Alpine embedded) for superusers.
//!
//! Everything is mounted by [`configure`] inside one `/_` scope wrapped by
//! [`session::guard`], which requires a superuser session on every path but the
//! public ones and a CSRF token on every non-GET request. An area adds a module
//! with its own `configure` (paths relative to `/_`, e.g. `"/logs"`), one line in
//! [`configure`], its templates in [`render`]'s list, and its routes to the
//! `ADMIN_ROUTES` table of `crates/poker/tests/admin_access.rs`.

pub mod account;
pub mod assets;
pub mod auth;
pub mod backups;
pub mod collections;
pub mod crons;
pub mod dashboard;
pub mod i18n;
pub mod import_export;
pub mod logs;
mod mfa;
pub mod passkeys;
pub mod records;
pub mod render;
pub mod session;
pub mod settings;
pub mod setup;
pub mod superusers;
pub mod webhooks;

use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::core::Core;
use crate::error::ApiError;

/// What the admin pages share: templates, static files, the first-run link.
/// Registered as `web::Data<AdminState>` by the server.
pub struct AdminState {
    /// Every admin template, parsed.
    pub renderer: render::Renderer,
    /// The embedded static files.
    pub assets: assets::Assets,
    /// The one-time setup link, while no superuser exists.
    pub setup: setup::SetupLink,
    /// The binary's name, for the CLI hints pages show (`poker superuser upsert`).
    pub command: String,
}

impl AdminState {
    /// Parses the templates and, when no superuser exists yet, creates the
    /// one-time setup token (its path is in [`AdminState::setup`]).
    pub async fn new(core: &Core) -> Result<Self, AdminInitError> {
        let assets = assets::embedded();
        let renderer = render::Renderer::new(assets.urls())?;
        let count = crate::records::superusers::count(&core.db).await?;
        let setup = if count == 0 {
            setup::SetupLink::new()
        } else {
            setup::SetupLink::none()
        };
        let command = std::env::args_os()
            .next()
            .and_then(|arg0| {
                std::path::Path::new(&arg0)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "litebase".into());
        Ok(Self {
            renderer,
            assets,
            setup,
            command,
        })
    }
}

/// Why the admin UI could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminInitError {
    /// A template does not parse (a bug caught by the unit tests).
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// Counting superusers failed.
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
}

/// Mounts the admin UI under `/_` (call before the app's routes).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_")
            .wrap(from_fn(session::guard))
            .route("", web::get().to(|| async { render::see_other("/_/") }))
            .route("/static/{path:.*}", web::get().to(static_file))
            .configure(auth::configure)
            .configure(dashboard::configure)
            .configure(superusers::configure)
            .configure(account::configure)
            .configure(passkeys::configure)
            // Operations (opsui).
            .configure(settings::configure)
            .configure(logs::configure)
            .configure(backups::configure)
            .configure(webhooks::configure)
            .configure(crons::configure)
            .configure(import_export::configure)
            // Before records.rs: `/collections/new` is the editor, not a collection.
            .configure(collections::configure)
            // Records last: its `/collections/{name}` must not shadow the editor's routes.
            .configure(records::configure)
            .default_service(web::to(not_found)),
    );
}

async fn static_file(state: web::Data<AdminState>, path: web::Path<String>) -> HttpResponse {
    state.assets.respond(&path)
}

/// The admin 404 page (HTML, inside the layout).
async fn not_found(req: HttpRequest, s: session::AdminSession) -> Result<HttpResponse, ApiError> {
    render::Page::new(&req, "not_found.html")
        .session(&s)
        .status(actix_web::http::StatusCode::NOT_FOUND)
        .render(tera::Context::new())
}
