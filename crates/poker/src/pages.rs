//! The HTML pages: home (create a room), a room (join form or the live room),
//! the seat link, the 404 page, and the embedded static files.
//!
//! Handlers only translate HTTP: a room's state is asked from its hub
//! ([`HubMsg::Snapshot`]) and new seats are taken through it ([`HubMsg::Join`]), so
//! the hub stays the single owner of the room.

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tera::Context;

use crate::assets::Assets;
use crate::i18n::{self, Lang};
use crate::render::{Renderer, RoomMeta};
use crate::room::export;
use crate::room::hub::{HubMsg, Hubs, Refusal, Snapshot};
use crate::room::store::{self, RoomSetup, StoreError};
use crate::room::{DeckKind, DeckSpec, Role, Settings, view_for};

/// How long a seat cookie lasts: 30 days.
const SEAT_COOKIE_MAX_AGE: u64 = 30 * 24 * 3600;
/// How long the language cookie lasts: a year.
const LANG_COOKIE_MAX_AGE: u64 = 365 * 24 * 3600;

/// Adds the page routes and the static files.
pub fn configure(cfg: &mut web::ServiceConfig, renderer: Arc<Renderer>, assets: Arc<Assets>) {
    cfg.app_data(web::Data::from(renderer))
        .app_data(web::Data::from(assets))
        .route("/", web::get().to(home))
        .route("/rooms", web::post().to(create_room))
        .route("/r/{code}", web::get().to(room_page))
        .route("/r/{code}/join", web::post().to(join_room))
        .route("/r/{code}/seat/{token}", web::get().to(seat_link))
        .route("/r/{code}/export.{format}", web::get().to(export_history))
        .configure(crate::story_pages::configure)
        .route("/static/{path:.*}", web::get().to(static_file));
}

/// The name of the cookie holding the seat token of room `code`.
pub fn seat_cookie_name(code: &str) -> String {
    format!("pk_{code}")
}

/// The value of cookie `name` in `req`'s `Cookie` header.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    litebase::cookie::read(req.headers(), name)
}

/// The page language, and whether `?lang=` asked for it (then it is remembered).
pub(crate) fn lang_of(req: &HttpRequest) -> (Lang, bool) {
    let asked = litebase::lang::query_lang(req).is_some();
    (litebase::lang::request_lang(req, "lang"), asked)
}

pub(crate) fn html(req: &HttpRequest, status: StatusCode, body: String) -> HttpResponse {
    let mut resp = HttpResponse::build(status);
    resp.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let (lang, true) = lang_of(req) {
        resp.append_header((
            header::SET_COOKIE,
            format!(
                "lang={}; Path=/; Max-Age={LANG_COOKIE_MAX_AGE}; SameSite=Lax",
                lang.code()
            ),
        ));
    }
    resp.body(body)
}

pub(crate) fn render(
    req: &HttpRequest,
    renderer: &Renderer,
    status: StatusCode,
    name: &str,
    ctx: &Context,
) -> HttpResponse {
    let (lang, _) = lang_of(req);
    match renderer.page(name, lang, ctx) {
        Ok(body) => html(req, status, body),
        Err(e) => {
            tracing::error!(error = %e, template = name, "cannot render a page");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("the page could not be shown; try again")
        }
    }
}

fn seat_cookie(code: &str, token: &str) -> String {
    format!(
        "{}={token}; Path=/; Max-Age={SEAT_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax",
        seat_cookie_name(code)
    )
}

pub(crate) fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The home page's create form, as posted (checkboxes are absent when off).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
struct CreateForm {
    #[serde(default)]
    room_name: String,
    #[serde(default)]
    your_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    deck: String,
    #[serde(default)]
    custom: String,
    #[serde(default, deserialize_with = "checkbox")]
    question: bool,
    #[serde(default, deserialize_with = "checkbox")]
    coffee: bool,
    #[serde(default, deserialize_with = "checkbox")]
    infinity: bool,
    #[serde(default, deserialize_with = "checkbox")]
    auto_reveal: bool,
}

fn checkbox<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let value = String::deserialize(d)?;
    Ok(matches!(value.as_str(), "on" | "true" | "1" | "yes"))
}

fn deck_kind(name: &str) -> DeckKind {
    match name {
        "modified" => DeckKind::ModifiedFibonacci,
        "tshirt" => DeckKind::TShirt,
        "powers2" => DeckKind::PowersOfTwo,
        "custom" => DeckKind::Custom,
        _ => DeckKind::Fibonacci,
    }
}

fn role(name: &str) -> Role {
    if name == "spectator" {
        Role::Spectator
    } else {
        Role::Voter
    }
}

impl CreateForm {
    fn setup(&self) -> RoomSetup {
        let kind = deck_kind(&self.deck);
        let base = if kind == DeckKind::Custom {
            DeckSpec::custom(
                self.custom
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty()),
            )
        } else {
            DeckSpec::new(kind)
        };
        RoomSetup {
            name: Some(self.room_name.clone()),
            host_name: self.your_name.clone(),
            host_role: role(&self.role),
            deck: base
                .with_question(self.question)
                .with_coffee(self.coffee)
                .with_infinity(self.infinity),
            settings: Settings {
                auto_reveal: self.auto_reveal,
                ..Settings::default()
            },
        }
    }
}

fn home_page(
    req: &HttpRequest,
    renderer: &Renderer,
    status: StatusCode,
    form: &CreateForm,
    error: Option<String>,
) -> HttpResponse {
    let mut ctx = Context::new();
    ctx.insert("form", form);
    ctx.insert("error", &error);
    render(req, renderer, status, "home.html", &ctx)
}

async fn home(req: HttpRequest, renderer: web::Data<Renderer>) -> HttpResponse {
    let form = CreateForm {
        role: "voter".into(),
        deck: "fibonacci".into(),
        question: true,
        coffee: true,
        ..CreateForm::default()
    };
    home_page(&req, &renderer, StatusCode::OK, &form, None)
}

async fn create_room(
    req: HttpRequest,
    core: web::Data<litebase::core::Core>,
    renderer: web::Data<Renderer>,
    body: web::Bytes,
) -> HttpResponse {
    let (lang, _) = lang_of(&req);
    let form: CreateForm = parse_form(&body);
    if form.your_name.trim().is_empty() {
        let error = i18n::text(lang, "name_required").to_string();
        return home_page(&req, &renderer, StatusCode::BAD_REQUEST, &form, Some(error));
    }
    match store::create_room(&core.records, form.setup()).await {
        Ok(room) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/r/{}", room.code)))
            .insert_header((
                header::SET_COOKIE,
                seat_cookie(&room.code, &room.host_token),
            ))
            .finish(),
        Err(StoreError::Room(e)) => {
            let error = i18n::room_error(lang, &e);
            home_page(&req, &renderer, StatusCode::BAD_REQUEST, &form, Some(error))
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot create a room");
            let error = i18n::text(lang, "save_error").to_string();
            home_page(
                &req,
                &renderer,
                StatusCode::INTERNAL_SERVER_ERROR,
                &form,
                Some(error),
            )
        }
    }
}

pub(crate) fn not_found(req: &HttpRequest, renderer: &Renderer) -> HttpResponse {
    render(
        req,
        renderer,
        StatusCode::NOT_FOUND,
        "not_found.html",
        &Context::new(),
    )
}

/// Why a room could not be asked.
pub(crate) enum Lookup {
    Missing,
    Failed,
}

/// The room's state from its hub, with the seat of `token`.
pub(crate) async fn snapshot(
    core: &litebase::core::Core,
    hubs: &Arc<Hubs>,
    code: &str,
    token: Option<String>,
) -> Result<Snapshot, Lookup> {
    let asked = hubs
        .ask(&core.records, code, |reply| HubMsg::Snapshot {
            token: token.clone(),
            reply,
        })
        .await;
    match asked {
        Ok((_, snapshot)) => Ok(snapshot),
        Err(Refusal::NotFound) => Err(Lookup::Missing),
        Err(_) => Err(Lookup::Failed),
    }
}

/// [`snapshot`], with the page to answer when there is no room (404) or it is
/// busy (503).
pub(crate) async fn room_or_page(
    req: &HttpRequest,
    core: &litebase::core::Core,
    hubs: &Arc<Hubs>,
    renderer: &Renderer,
    code: &str,
    token: Option<String>,
) -> Result<Snapshot, HttpResponse> {
    match snapshot(core, hubs, code, token).await {
        Ok(snap) => Ok(snap),
        Err(Lookup::Missing) => Err(not_found(req, renderer)),
        Err(Lookup::Failed) => Err(busy(req)),
    }
}

pub(crate) fn busy(req: &HttpRequest) -> HttpResponse {
    let (lang, _) = lang_of(req);
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body(i18n::text(lang, "room_busy"))
}

/// `scheme://host` as the player reached the server: a trusted proxy's
/// forwarded scheme and host, never those of a client talking to us directly.
pub(crate) fn base_url(core: &litebase::core::Core, req: &HttpRequest) -> String {
    core.origin(req).to_string()
}

fn join_page(
    req: &HttpRequest,
    renderer: &Renderer,
    status: StatusCode,
    code: &str,
    snap: &Snapshot,
    name: &str,
    error: Option<String>,
) -> HttpResponse {
    let mut ctx = Context::new();
    let room_name = snap.state.name().map(str::to_owned);
    ctx.insert("code", code);
    ctx.insert("room_title", &room_title(req, room_name.as_deref(), code));
    ctx.insert("room_name", &room_name);
    ctx.insert("locked", &snap.state.locked());
    ctx.insert("allow_spectators", &snap.state.settings().allow_spectators);
    ctx.insert("name", name);
    ctx.insert("error", &error);
    render(req, renderer, status, "join.html", &ctx)
}

/// What a room is called in titles: its name, else "Room CODE" in the page's
/// language (never the brand alone, so two unnamed rooms' tabs differ).
fn room_title(req: &HttpRequest, name: Option<&str>, code: &str) -> String {
    match name {
        Some(name) => name.to_owned(),
        None => format!("{} {code}", i18n::text(lang_of(req).0, "untitled_room")),
    }
}

async fn room_page(
    req: HttpRequest,
    code: web::Path<String>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
) -> HttpResponse {
    let code = code.into_inner();
    let token = cookie(&req, &seat_cookie_name(&code));
    let hubs = hubs.into_inner();
    let snap = match snapshot(&core, &hubs, &code, token.clone()).await {
        Ok(snap) => snap,
        Err(Lookup::Missing) => return not_found(&req, &renderer),
        Err(Lookup::Failed) => return busy(&req),
    };
    let Some(me) = snap.me.clone() else {
        return join_page(&req, &renderer, StatusCode::OK, &code, &snap, "", None);
    };
    let (lang, _) = lang_of(&req);
    let now = store::now();
    let meta = RoomMeta {
        code: &code,
        expires: snap.state.last_activity().plus_secs(store::room_ttl()),
        now,
        webhook: snap.webhook.as_ref(),
    };
    let anonymous = view_for(&snap.state, None, now);
    let mine = view_for(&snap.state, Some(&me), now);
    let mut ctx = renderer.room_context(&anonymous, &mine, &meta, lang);
    let base = base_url(&core, &req);
    ctx.insert("room_title", &room_title(&req, snap.state.name(), &code));
    ctx.insert("share_url", &format!("{base}/r/{code}"));
    // Everyone seated gets their own link (the host's is the host link): opened
    // on another device, it moves the seat there (`seat_link`).
    let seat_url = token.map(|token| format!("{base}/r/{code}/seat/{token}"));
    ctx.insert("seat_url", &seat_url);
    render(&req, &renderer, StatusCode::OK, "room.html", &ctx)
}

/// A posted form's fields; a body that is not a form reads as an empty one, so
/// the page answers with the form again and its message. Read from the raw body
/// so the limit is litebase's body limit (as for the API), not the 16 KiB of
/// `web::Form`, whose overflow would answer JSON to a browser.
pub(crate) fn parse_form<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> T {
    std::str::from_utf8(body)
        .ok()
        .and_then(|text| web::Query::<T>::from_query(text).ok())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

/// The join form, as posted.
#[derive(Debug, Default, Deserialize)]
struct JoinForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

async fn join_room(
    req: HttpRequest,
    code: web::Path<String>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
    body: web::Bytes,
) -> HttpResponse {
    let code = code.into_inner();
    let (lang, _) = lang_of(&req);
    let hubs = hubs.into_inner();
    let form: JoinForm = parse_form(&body);
    let asked = hubs
        .ask(&core.records, &code, |reply| HubMsg::Join {
            name: form.name.clone(),
            role: role(&form.role),
            reply,
        })
        .await;
    let refusal = match asked {
        Ok((_, (_, token))) => {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("/r/{code}")))
                .insert_header((header::SET_COOKIE, seat_cookie(&code, &token)))
                .finish();
        }
        Err(Refusal::NotFound) => return not_found(&req, &renderer),
        Err(Refusal::NotLoaded | Refusal::Busy) => return busy(&req),
        Err(refusal) => refusal,
    };
    let snap = match snapshot(&core, &hubs, &code, None).await {
        Ok(snap) => snap,
        Err(Lookup::Missing) => return not_found(&req, &renderer),
        Err(Lookup::Failed) => return busy(&req),
    };
    join_page(
        &req,
        &renderer,
        StatusCode::BAD_REQUEST,
        &code,
        &snap,
        &form.name,
        Some(refusal.message(lang)),
    )
}

async fn seat_link(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
) -> HttpResponse {
    let (code, token) = path.into_inner();
    let hubs = hubs.into_inner();
    match snapshot(&core, &hubs, &code, Some(token.clone())).await {
        Ok(snap) if snap.me.is_some() => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/r/{code}")))
            .insert_header((header::SET_COOKIE, seat_cookie(&code, &token)))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .finish(),
        Ok(_) => redirect(&format!("/r/{code}")),
        Err(Lookup::Missing) => not_found(&req, &renderer),
        Err(Lookup::Failed) => busy(&req),
    }
}

/// The room's history as a file: `csv`, `md` or `json`. Anyone with the room's
/// link may read it, as anyone with the link may join and see the history.
async fn export_history(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    core: web::Data<litebase::core::Core>,
    hubs: web::Data<Hubs>,
    renderer: web::Data<Renderer>,
) -> HttpResponse {
    let (code, format) = path.into_inner();
    let hubs = hubs.into_inner();
    let snap = match room_or_page(&req, &core, &hubs, &renderer, &code, None).await {
        Ok(snap) => snap,
        Err(page) => return page,
    };
    let history = snap.state.history();
    let name = snap.state.name();
    let (body, content_type) = match format.as_str() {
        "csv" => (export::csv(history), "text/csv; charset=utf-8"),
        "md" => (
            export::markdown(name, history),
            "text/markdown; charset=utf-8",
        ),
        "json" => match export::json(name, history) {
            Ok(body) => (body, "application/json"),
            Err(e) => {
                tracing::error!(error = %e, "cannot export a room");
                return busy(&req);
            }
        },
        _ => return not_found(&req, &renderer),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"poker-{code}.{format}\""),
        ))
        .body(body)
}

async fn static_file(path: web::Path<String>, assets: web::Data<Assets>) -> HttpResponse {
    assets.respond(&path)
}
