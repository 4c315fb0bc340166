//! `/_/collections/…`: the collection editor (new, edit: fields, indexes, the five
//! API rules with a live check), truncate and delete with typed confirmation.
//!
//! Every change goes through the collections API's service functions
//! (`api::collections::{create,update,delete,truncate}_collection`), so validation,
//! the single transaction and the `--dev` migration file are the API's; its
//! `ApiError.data` comes back next to the inputs that caused it.
//! `/_/collections/{name}` itself (the records table) belongs to `records.rs`.

pub mod form;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tera::Context;

use self::form::{CollectionForm, FIELD_TYPES, flatten_errors};
use super::i18n::{request_lang, text};
use super::render::{Page, see_other};
use super::session::AdminSession;
use crate::core::Core;
use crate::core::collections::{
    check_draft_rules, create_collection, delete_collection, truncate_collection, update_collection,
};
use crate::error::ApiError;
use crate::schema::CollectionType;

/// Mounts the editor's routes (before `records.rs`, so `/collections/new` is ours).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/collections/new", web::get().to(new_page))
        .route("/collections/new", web::post().to(create))
        .route("/collections/check-rule", web::post().to(check_rule))
        .route("/collections/{name}/edit", web::get().to(edit_page))
        .route("/collections/{name}/edit", web::post().to(update))
        .route("/collections/{name}/truncate", web::post().to(truncate))
        .route("/collections/{name}/delete", web::post().to(delete));
}

/// A collection a relation field may point at.
#[derive(Debug, Serialize)]
struct Target {
    id: String,
    name: String,
}

/// What the editor page shows besides the form itself.
struct Editor<'a> {
    /// The collection being edited (its current name), `None` for a new one.
    editing: Option<&'a str>,
    form: CollectionForm,
    errors: BTreeMap<String, String>,
    message: String,
    /// Which danger-zone form failed, and why.
    danger: Option<(&'static str, String)>,
}

impl<'a> Editor<'a> {
    fn new(editing: Option<&'a str>, form: CollectionForm) -> Self {
        Self {
            editing,
            form,
            errors: BTreeMap::new(),
            message: String::new(),
            danger: None,
        }
    }

    fn failed(mut self, err: &ApiError) -> Self {
        self.errors = flatten_errors(&err.data);
        // One textarea holds every index: each refused one's message (they name
        // the index) shows under it.
        let indexes: Vec<&str> = self
            .errors
            .iter()
            .filter(|(key, _)| key.starts_with("indexes."))
            .map(|(_, message)| message.as_str())
            .collect();
        if !indexes.is_empty() {
            let joined = indexes.join(" ");
            self.errors.insert("indexes".into(), joined);
        }
        self.message = err.message.clone();
        self
    }
}

/// Renders the editor; with errors it answers 400 and keeps what was typed.
fn render(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    editor: Editor<'_>,
) -> Result<HttpResponse, ApiError> {
    let schema = core.schema.current();
    let current = editor.editing.and_then(|name| schema.get(name));
    let targets: Vec<Target> = schema
        .all()
        .iter()
        .filter(|c| c.kind != CollectionType::View)
        .map(|c| Target {
            id: c.id.clone(),
            name: c.name.clone(),
        })
        .collect();
    // Unreadable posted fields (a broken page) show as an empty list.
    let fields = editor.form.field_values().unwrap_or_default();
    let oauth2 = editor.form.oauth2_value().ok().flatten();
    let initial = json!({
        "fields": fields,
        "oauth2": oauth2,
        "errors": editor.errors,
        "type": if editor.form.kind.is_empty() { "base" } else { editor.form.kind.as_str() },
    });
    let mut ctx = Context::new();
    ctx.insert("editing", &editor.editing);
    ctx.insert("system", &current.is_some_and(|c| c.system));
    ctx.insert("form", &editor.form);
    ctx.insert("rules", &editor.form.rules());
    ctx.insert("errors", &editor.errors);
    ctx.insert("message", &editor.message);
    ctx.insert("field_types", &FIELD_TYPES);
    ctx.insert("oauth2_providers", &crate::oauth2::catalog::NAMES);
    ctx.insert("targets", &targets);
    ctx.insert("initial", &initial.to_string());
    ctx.insert("danger", &editor.danger.as_ref().map(|(k, _)| *k));
    ctx.insert(
        "danger_message",
        &editor.danger.as_ref().map(|(_, m)| m.as_str()),
    );
    let failed = !editor.message.is_empty() || editor.danger.is_some();
    let mut page = Page::new(req, "collections/edit.html").session(session);
    if failed {
        page = page.status(StatusCode::BAD_REQUEST);
    }
    page.render(ctx)
}

async fn new_page(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    render(
        &req,
        &core,
        &session,
        Editor::new(None, CollectionForm::blank()),
    )
}

async fn edit_page(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Some(c) = core.schema.current().get(&name).cloned() else {
        return not_found(&req, &session);
    };
    let editor = Editor::new(Some(&c.name), CollectionForm::of(&c));
    render(&req, &core, &session, editor)
}

fn not_found(req: &HttpRequest, session: &AdminSession) -> Result<HttpResponse, ApiError> {
    Page::new(req, "not_found.html")
        .session(session)
        .status(StatusCode::NOT_FOUND)
        .render(Context::new())
}

/// The editor re-shown with a problem of the form itself (its field list unreadable).
fn problem_page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    editing: Option<&str>,
    form: &CollectionForm,
    problem: form::FormProblem,
) -> Result<HttpResponse, ApiError> {
    let mut editor = Editor::new(editing, form.clone());
    editor
        .errors
        .insert(problem.key.to_string(), problem.message.clone());
    editor.message = problem.message;
    render(req, core, session, editor)
}

async fn create(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<CollectionForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let body = match form.body() {
        Ok(body) => body,
        Err(p) => return problem_page(&req, &core, &session, None, &form, p),
    };
    match create_collection(&core, &session.auth(), body).await {
        Ok(c) => Ok(see_other(&format!(
            "/_/collections/{}/edit?flash=collection_created",
            c.name
        ))),
        Err(e) if e.status().is_client_error() => {
            render(&req, &core, &session, Editor::new(None, form).failed(&e))
        }
        Err(e) => Err(e),
    }
}

/// The page edits only some keys of `mfa` and `otp`: the others (the code
/// mail's template) stay as stored rather than falling back to defaults.
fn keep_unedited_options(current: &crate::schema::Collection, body: &mut Value) {
    let Some(auth) = current.auth.as_ref() else {
        return;
    };
    let stored = serde_json::to_value(auth).unwrap_or_default();
    for key in ["mfa", "otp"] {
        if let (Some(edited), Some(kept)) = (
            body.get(key).and_then(Value::as_object).cloned(),
            stored.get(key).and_then(Value::as_object),
        ) {
            let mut merged = kept.clone();
            merged.extend(edited);
            body[key] = Value::Object(merged);
        }
    }
}

async fn update(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
    form: web::Form<CollectionForm>,
) -> Result<HttpResponse, ApiError> {
    let Some(current) = core.schema.current().get(&name).cloned() else {
        return not_found(&req, &session);
    };
    let form = form.into_inner();
    let mut body = match form.body() {
        Ok(body) => body,
        Err(p) => return problem_page(&req, &core, &session, Some(&current.name), &form, p),
    };
    keep_unedited_options(&current, &mut body);
    match update_collection(&core, &session.auth(), &current.id, body).await {
        Ok(c) => Ok(see_other(&format!(
            "/_/collections/{}/edit?flash=collection_saved",
            c.name
        ))),
        Err(e) if e.status().is_client_error() => {
            let editor = Editor::new(Some(&current.name), form).failed(&e);
            render(&req, &core, &session, editor)
        }
        Err(e) => Err(e),
    }
}

/// The typed confirmation of a destructive action.
#[derive(Debug, Deserialize)]
struct Confirm {
    #[serde(default)]
    confirm: String,
}

/// Re-shows the editor with a danger-zone form's refusal.
fn refuse(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    name: &str,
    which: &'static str,
    message: String,
) -> Result<HttpResponse, ApiError> {
    let schema = core.schema.current();
    let Some(c) = schema.get(name) else {
        return not_found(req, session);
    };
    let mut editor = Editor::new(Some(&c.name), CollectionForm::of(c));
    editor.danger = Some((which, message));
    render(req, core, session, editor)
}

/// The two destructive actions on a collection, each confirmed by typing its name.
#[derive(Clone, Copy)]
enum Danger {
    Truncate,
    Delete,
}

impl Danger {
    /// The danger-zone form it comes from (the template shows its error there).
    fn form(self) -> &'static str {
        match self {
            Danger::Truncate => "truncate",
            Danger::Delete => "delete",
        }
    }
}

async fn truncate(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
    confirm: web::Form<Confirm>,
) -> Result<HttpResponse, ApiError> {
    confirmed(req, core, session, &name, &confirm, Danger::Truncate).await
}

async fn delete(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: web::Path<String>,
    confirm: web::Form<Confirm>,
) -> Result<HttpResponse, ApiError> {
    confirmed(req, core, session, &name, &confirm, Danger::Delete).await
}

/// Runs `danger` on collection `name` once the typed confirmation matches; a
/// mismatch or a refusal is shown next to the form it came from.
async fn confirmed(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    name: &str,
    confirm: &Confirm,
    danger: Danger,
) -> Result<HttpResponse, ApiError> {
    let Some(c) = core.schema.current().get(name).cloned() else {
        return not_found(&req, &session);
    };
    if confirm.confirm.trim() != c.name {
        let message = text(request_lang(&req), "confirm_name_mismatch").to_string();
        return refuse(&req, &core, &session, &c.name, danger.form(), message);
    }
    let (done, next) = match danger {
        Danger::Truncate => (
            truncate_collection(&core, &session.auth(), &c.id).await,
            format!("/_/collections/{}/edit?flash=collection_truncated", c.name),
        ),
        Danger::Delete => (
            delete_collection(&core, &session.auth(), &c.id).await,
            "/_/?flash=collection_deleted".to_string(),
        ),
    };
    match done {
        Ok(()) => Ok(see_other(&next)),
        Err(e) if e.status().is_client_error() => {
            refuse(&req, &core, &session, &c.name, danger.form(), e.message)
        }
        Err(e) => Err(e),
    }
}

/// The live check of one rule (htmx, on keyup): the whole form is posted, so the
/// rule is compiled against the fields as they are in the page.
async fn check_rule(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<CollectionForm>,
) -> Result<HttpResponse, ApiError> {
    let key = form::RULES
        .iter()
        .chain(form::AUTH_RULES.iter())
        .map(|(k, _)| *k)
        .find(|k| *k == form.rule)
        .ok_or_else(|| {
            ApiError::bad_request("Say which rule to check: rule=listRule, viewRule, …")
        })?;
    let (state, message) = match form.rule_value(key) {
        None => ("locked", String::new()),
        Some(rule) if rule.trim().is_empty() => ("public", String::new()),
        Some(_) => {
            let editing = Some(form.editing.as_str()).filter(|e| !e.is_empty());
            let mut body = match form.body() {
                Ok(body) => body,
                Err(p) => return fragment(&req, &session, key, "error", p.message),
            };
            // An unnamed draft still compiles (a rule may name its own fields).
            if body["name"].as_str().is_none_or(str::is_empty) {
                body["name"] = json!(editing.unwrap_or("draft"));
            }
            match check_draft_rules(&core, &session.auth(), body, editing) {
                Ok(()) => ("ok", String::new()),
                Err(e) => {
                    let message = e.data.get(key).and_then(|v| v["message"].as_str());
                    match message {
                        Some(m) => ("error", m.to_string()),
                        // Another rule's problem, or a draft the API cannot read.
                        None if e.data.is_empty() => ("error", e.message),
                        None => ("ok", String::new()),
                    }
                }
            }
        }
    };
    fragment(&req, &session, key, state, message)
}

fn fragment(
    req: &HttpRequest,
    session: &AdminSession,
    key: &str,
    state: &str,
    message: String,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = Context::new();
    ctx.insert("key", key);
    ctx.insert("state", state);
    ctx.insert("message", &message);
    Page::new(req, "collections/_rule_check.html")
        .session(session)
        .render(ctx)
}
