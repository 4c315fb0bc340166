//! `/_/settings/export-collections` and `/_/settings/import-collections`
//! (where PocketBase's UI has them): the collections as one JSON document to
//! copy or download, and an import that first shows what would change
//! (added, changed field by field, deleted) and applies it once confirmed,
//! through [`crate::core::collections::import`] like `PUT /api/collections/import`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tera::Context;

use super::render::{Page, see_other};
use super::session::AdminSession;
use crate::core::Core;
use crate::core::collections::import::{self, ImportBody, ImportPlan};
use crate::error::ApiError;
use crate::schema::Collection;

/// Mounts the export and import pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/export-collections", web::get().to(export))
        .route(
            "/settings/export-collections/download",
            web::get().to(download),
        )
        .route("/settings/import-collections", web::get().to(import_form))
        .route("/settings/import-collections", web::post().to(import_post));
}

/// Every collection as PocketBase's export has them: no timestamps, no OAuth2
/// client secrets.
fn exported(core: &Core) -> String {
    let all: Vec<Value> = core
        .schema
        .current()
        .all()
        .iter()
        .map(|c| crate::core::oauth2::without_secrets(c))
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("created");
                o.remove("updated");
            }
            v
        })
        .collect();
    serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into())
}

async fn export(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = Context::new();
    ctx.insert("json", &exported(&core));
    Page::new(&req, "import/export.html")
        .session(&session)
        .render(ctx)
}

async fn download(core: web::Data<Core>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"lb_schema.json\"",
        ))
        .body(exported(&core))
}

/// The import form's fields.
#[derive(Debug, Default, Deserialize)]
struct ImportForm {
    #[serde(default)]
    json: String,
    /// Present (any value) when "delete missing" is ticked.
    #[serde(default, rename = "deleteMissing")]
    delete_missing: Option<String>,
    /// `preview` or `apply`.
    #[serde(default)]
    action: String,
}

/// One collection in the preview.
#[derive(Debug, Serialize)]
struct Change {
    name: String,
    kind: String,
    /// What changes, one line each (fields added, removed, changed; rules…).
    details: Vec<String>,
}

/// The preview: what the import would do.
#[derive(Debug, Default, Serialize)]
struct Preview {
    added: Vec<Change>,
    changed: Vec<Change>,
    deleted: Vec<Change>,
}

fn kind_of(c: &Collection) -> String {
    serde_json::to_value(c.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The differences between two versions of a collection, one line each.
fn differences(before: &Collection, after: &Collection) -> Vec<String> {
    let mut out = Vec::new();
    for f in &after.fields {
        match before.fields.iter().find(|b| b.id == f.id) {
            None => out.push(format!("+ field {} ({})", f.name, f.kind.type_name())),
            Some(b) if b.name != f.name => out.push(format!("~ field {} → {}", b.name, f.name)),
            Some(b) if b != f => out.push(format!("~ field {}", f.name)),
            Some(_) => {}
        }
    }
    for b in &before.fields {
        if !after.fields.iter().any(|f| f.id == b.id) {
            out.push(format!("− field {} ({})", b.name, b.kind.type_name()));
        }
    }
    let (Ok(Value::Object(b)), Ok(Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return out;
    };
    for (key, value) in &a {
        if matches!(key.as_str(), "fields" | "created" | "updated") {
            continue;
        }
        if b.get(key) != Some(value) {
            out.push(format!("~ {key}"));
        }
    }
    out
}

fn preview_of(plan: &ImportPlan) -> Preview {
    let fields = |c: &Collection| {
        c.fields
            .iter()
            .map(|f| format!("{} ({})", f.name, f.kind.type_name()))
            .collect::<Vec<_>>()
    };
    Preview {
        added: plan
            .added
            .iter()
            .map(|c| Change {
                name: c.name.clone(),
                kind: kind_of(c),
                details: fields(c),
            })
            .collect(),
        changed: plan
            .changed
            .iter()
            .map(|(before, after)| Change {
                name: if before.name == after.name {
                    after.name.clone()
                } else {
                    format!("{} → {}", before.name, after.name)
                },
                kind: kind_of(after),
                details: differences(before, after),
            })
            .collect(),
        deleted: plan
            .deleted
            .iter()
            .map(|c| Change {
                name: c.name.clone(),
                kind: kind_of(c),
                details: Vec::new(),
            })
            .collect(),
    }
}

/// The form again, with a preview or a refusal.
async fn render(
    req: &HttpRequest,
    session: &AdminSession,
    form: &ImportForm,
    preview: Option<Preview>,
    problem: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = Context::new();
    ctx.insert("json", &form.json);
    ctx.insert("delete_missing", &form.delete_missing.is_some());
    ctx.insert("problem", &problem.clone().unwrap_or_default());
    ctx.insert("has_preview", &preview.is_some());
    let empty = preview
        .as_ref()
        .is_some_and(|p| p.added.is_empty() && p.changed.is_empty() && p.deleted.is_empty());
    ctx.insert("no_change", &empty);
    ctx.insert("preview", &preview.unwrap_or_default());
    let mut page = Page::new(req, "import/import.html").session(session);
    if problem.is_some() {
        page = page.status(actix_web::http::StatusCode::BAD_REQUEST);
    }
    page.render(ctx)
}

async fn import_form(req: HttpRequest, session: AdminSession) -> Result<HttpResponse, ApiError> {
    render(&req, &session, &ImportForm::default(), None, None).await
}

/// The request body the pasted JSON stands for: an array of collections (an
/// export) or `{"collections": [...]}`.
fn body_of(form: &ImportForm) -> Result<Value, String> {
    let parsed: Value = serde_json::from_str(form.json.trim())
        .map_err(|e| format!("The text is not valid JSON: {e}."))?;
    let collections = match parsed {
        Value::Array(items) => Value::Array(items),
        Value::Object(mut o) => o.remove("collections").unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Ok(serde_json::json!({
        "collections": collections,
        "deleteMissing": form.delete_missing.is_some(),
    }))
}

/// The refusal as one readable text: the message, then `data`'s details.
fn explain(err: &ApiError) -> String {
    match err
        .data
        .get("collections")
        .and_then(|c| c["message"].as_str())
    {
        Some(detail) => format!("{}\n{detail}", err.message),
        None => err.message.clone(),
    }
}

async fn import_post(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<ImportForm>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let body = match body_of(&form) {
        Ok(body) => body,
        Err(message) => return render(&req, &session, &form, None, Some(message)).await,
    };
    if form.action == "apply" {
        let auth = session.auth();
        return match import::import(&core, &auth, body).await {
            Ok(_) => Ok(see_other(
                "/_/settings/import-collections?flash=collections_imported",
            )),
            Err(e) if e.status().is_client_error() => {
                render(&req, &session, &form, None, Some(explain(&e))).await
            }
            Err(e) => Err(e),
        };
    }
    let planned = ImportBody::parse(body).and_then(|body| import::plan(&core, &body));
    match planned {
        Ok(plan) => render(&req, &session, &form, Some(preview_of(&plan)), None).await,
        Err(e) if e.status().is_client_error() => {
            render(&req, &session, &form, None, Some(explain(&e))).await
        }
        Err(e) => Err(e),
    }
}
