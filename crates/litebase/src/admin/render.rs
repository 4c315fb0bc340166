//! The admin UI's HTML: one [`Renderer`] with every template of `admin-ui/templates/`
//! embedded, and [`Page`], which renders a template inside `base.html` with what
//! every page shows (sidebar, language, CSRF token, flash message).
//!
//! A page handler builds its own context and hands it over:
//!
//! ```ignore
//! async fn list(req: HttpRequest, session: AdminSession) -> Result<HttpResponse, ApiError> {
//!     let mut ctx = tera::Context::new();
//!     ctx.insert("items", &items);
//!     Page::new(&req, "superusers/index.html").session(&session).render(ctx)
//! }
//! ```
//!
//! Templates `{% extends "base.html" %}` and fill `title` and `content`; every form
//! carries `<input type="hidden" name="_csrf" value="{{ csrf }}">`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use tera::{Context, Tera};

use super::AdminState;
use super::assets::AssetUrls;
use super::i18n::{self, Lang};
use super::session::{self, AdminSession};
use crate::core::Core;
use crate::error::ApiError;

/// Why a template could not be loaded or rendered (a bug, never user input).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Tera refused a template or failed to render.
    #[error("template error: {0}")]
    Tera(#[from] tera::Error),
}

impl From<RenderError> for ApiError {
    fn from(err: RenderError) -> Self {
        tracing::error!(%err, "admin template failed");
        ApiError::internal()
    }
}

/// Every template, by name, embedded at compile time. A new page: one line here.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../../../admin-ui/templates/base.html"),
    ),
    (
        "dashboard.html",
        include_str!("../../../../admin-ui/templates/dashboard.html"),
    ),
    (
        "not_found.html",
        include_str!("../../../../admin-ui/templates/not_found.html"),
    ),
    (
        "auth/login.html",
        include_str!("../../../../admin-ui/templates/auth/login.html"),
    ),
    (
        "auth/setup.html",
        include_str!("../../../../admin-ui/templates/auth/setup.html"),
    ),
    (
        "superusers/index.html",
        include_str!("../../../../admin-ui/templates/superusers/index.html"),
    ),
    (
        "account/index.html",
        include_str!("../../../../admin-ui/templates/account/index.html"),
    ),
    // Operations (opsui).
    (
        "settings/index.html",
        include_str!("../../../../admin-ui/templates/settings/index.html"),
    ),
    (
        "settings/_test_mail.html",
        include_str!("../../../../admin-ui/templates/settings/_test_mail.html"),
    ),
    (
        "logs/index.html",
        include_str!("../../../../admin-ui/templates/logs/index.html"),
    ),
    (
        "logs/view.html",
        include_str!("../../../../admin-ui/templates/logs/view.html"),
    ),
    (
        "logs/_results.html",
        include_str!("../../../../admin-ui/templates/logs/_results.html"),
    ),
    (
        "backups/index.html",
        include_str!("../../../../admin-ui/templates/backups/index.html"),
    ),
    (
        "webhooks/_form.html",
        include_str!("../../../../admin-ui/templates/webhooks/_form.html"),
    ),
    (
        "webhooks/index.html",
        include_str!("../../../../admin-ui/templates/webhooks/index.html"),
    ),
    (
        "webhooks/edit.html",
        include_str!("../../../../admin-ui/templates/webhooks/edit.html"),
    ),
    (
        "crons/index.html",
        include_str!("../../../../admin-ui/templates/crons/index.html"),
    ),
    (
        "import/export.html",
        include_str!("../../../../admin-ui/templates/import/export.html"),
    ),
    (
        "import/import.html",
        include_str!("../../../../admin-ui/templates/import/import.html"),
    ),
    // Records.
    (
        "records/index.html",
        include_str!("../../../../admin-ui/templates/records/index.html"),
    ),
    (
        "records/_table.html",
        include_str!("../../../../admin-ui/templates/records/_table.html"),
    ),
    (
        "records/_filter_error.html",
        include_str!("../../../../admin-ui/templates/records/_filter_error.html"),
    ),
    (
        "records/_options.html",
        include_str!("../../../../admin-ui/templates/records/_options.html"),
    ),
    (
        "records/form.html",
        include_str!("../../../../admin-ui/templates/records/form.html"),
    ),
    // Collections editor.
    (
        "collections/edit.html",
        include_str!("../../../../admin-ui/templates/collections/edit.html"),
    ),
    (
        "collections/_rule_check.html",
        include_str!("../../../../admin-ui/templates/collections/_rule_check.html"),
    ),
];

/// The templates, parsed once at start-up.
pub struct Renderer {
    tera: Tera,
}

impl Renderer {
    /// Parses every embedded template; `assets` become the global `assets.*`.
    pub fn new(assets: &AssetUrls) -> Result<Self, RenderError> {
        let mut tera = Tera::new();
        tera.add_raw_templates(TEMPLATES.iter().copied())?;
        tera.global_context().insert("assets", assets);
        Ok(Self { tera })
    }

    /// Renders template `name` with `ctx` as it is.
    pub fn render(&self, name: &str, ctx: &Context) -> Result<String, RenderError> {
        Ok(self.tera.render(name, ctx)?)
    }
}

/// A collection in the sidebar.
#[derive(Debug, Serialize)]
struct NavItem {
    name: String,
    kind: crate::schema::CollectionType,
}

/// The sidebar: (app collections, system collections), each sorted by name.
fn nav(core: &Core) -> (Vec<NavItem>, Vec<NavItem>) {
    let schema = core.schema.current();
    let mut all: Vec<_> = schema.all().to_vec();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let (system, app): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|c| c.system || c.name.starts_with('_'));
    let item = |c: std::sync::Arc<crate::schema::Collection>| NavItem {
        name: c.name.clone(),
        kind: c.kind,
    };
    (
        app.into_iter().map(item).collect(),
        system.into_iter().map(item).collect(),
    )
}

/// One page answer being put together: template, status, session.
pub struct Page<'a> {
    req: &'a HttpRequest,
    template: &'a str,
    session: Option<&'a AdminSession>,
    status: StatusCode,
}

impl<'a> Page<'a> {
    /// The page `template` (a name from the embedded list) for `req`.
    pub fn new(req: &'a HttpRequest, template: &'a str) -> Self {
        Self {
            req,
            template,
            session: None,
            status: StatusCode::OK,
        }
    }

    /// Renders for a signed-in superuser: sidebar, their email, their CSRF token.
    pub fn session(mut self, session: &'a AdminSession) -> Self {
        self.session = Some(session);
        self
    }

    /// Answers with `status` instead of 200 (a form re-shown with errors: 400).
    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Fills the state of a page's form into `ctx`: `problem` under `keys.0` and
    /// the value typed under `keys.1`; a problem (a refused post re-shown) makes
    /// the answer 400, none puts `P`'s default and an empty value.
    pub fn form_problem<P: Serialize + Default>(
        self,
        ctx: &mut Context,
        keys: (&'static str, &'static str),
        problem: Option<(P, String)>,
    ) -> Self {
        match problem {
            Some((problem, typed)) => {
                ctx.insert(keys.0, &problem);
                ctx.insert(keys.1, &typed);
                self.status(StatusCode::BAD_REQUEST)
            }
            None => {
                ctx.insert(keys.0, &P::default());
                ctx.insert(keys.1, "");
                self
            }
        }
    }

    /// Renders the page with `ctx` plus the shared variables: `t` (strings),
    /// `lang`, `csrf`, `me` (email, absent before sign-in), `nav_app` /
    /// `nav_system` (collections), `path`, `app_name`, `command` (the binary's name), `flash` (from `?flash=KEY`).
    pub fn render(self, ctx: Context) -> Result<HttpResponse, ApiError> {
        let req = self.req;
        let state = req
            .app_data::<web::Data<AdminState>>()
            .ok_or_else(ApiError::internal)?;
        let core = req
            .app_data::<web::Data<Core>>()
            .ok_or_else(ApiError::internal)?;
        let lang = i18n::request_lang(req);
        let mut full = Context::new();
        full.insert("t", i18n::strings(lang));
        full.insert("lang", lang.code());
        full.insert("app_name", &core.app_name());
        full.insert("command", &state.command);
        full.insert("path", req.path());
        // Defaults, so templates may test these without `is defined`.
        full.insert("me", &Option::<&str>::None);
        full.insert("me_id", "");
        full.insert("nav_app", &Vec::<NavItem>::new());
        full.insert("nav_system", &Vec::<NavItem>::new());
        full.insert("flash", &Option::<&str>::None);
        let mut response = HttpResponse::build(self.status);
        match self.session {
            Some(s) => {
                full.insert("csrf", s.csrf());
                full.insert("me", s.email());
                full.insert("me_id", s.id());
                let (app, system) = nav(core);
                full.insert("nav_app", &app);
                full.insert("nav_system", &system);
            }
            None => {
                let (token, set) = session::pre_session_token(req);
                full.insert("csrf", &token);
                if let Some(set) = set {
                    response.append_header((header::SET_COOKIE, set));
                }
            }
        }
        if let Some(flash) = flash(req, lang) {
            full.insert("flash", flash);
        }
        if let Some(lang) = i18n::lang_param(req) {
            response.append_header((
                header::SET_COOKIE,
                format!(
                    "{}={}; Path=/_/; Max-Age=31536000; SameSite=Lax",
                    i18n::LANG_COOKIE,
                    lang.code()
                ),
            ));
        }
        full.extend(ctx);
        let html = state.renderer.render(self.template, &full)?;
        Ok(response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(html))
    }
}

/// The message of `?flash=KEY`, if KEY is a known string (nothing else is shown).
fn flash(req: &HttpRequest, lang: Lang) -> Option<&'static str> {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .ok()?;
    let key = query.get("flash")?;
    i18n::strings(lang).get(key.as_str()).copied()
}

/// Whether `req` is an htmx request swapping the element with id `target`: the
/// handler then answers only that fragment (and with 200, as htmx swaps no errors).
pub fn htmx_target_is(req: &HttpRequest, target: &str) -> bool {
    req.headers().contains_key("HX-Request")
        && req
            .headers()
            .get("HX-Target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t == target)
}

/// A 303 to `location` (after a successful form post).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let assets = super::super::assets::embedded();
        if let Err(e) = Renderer::new(assets.urls()) {
            panic!("{e:?}");
        }
    }
}
