//! `/_/superusers`: list, create, change a password, delete (never yourself, never
//! the last one). Writes go through the records API's service functions, so the
//! validation is the API's and its `ApiError.data` is shown next to each field.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tera::Context;

use super::auth::AccountForm;
use super::i18n::{request_lang, text};
use super::render::{Page, see_other};
use super::session::AdminSession;
use crate::core::Core;
use crate::error::ApiError;
use crate::records::service::Caller;

const COLLECTION: &str = "_superusers";

/// Mounts `/_/superusers` and its forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/superusers", web::get().to(index))
        .route("/superusers", web::post().to(create))
        .route("/superusers/{id}/password", web::post().to(change_password))
        .route("/superusers/{id}/delete", web::post().to(delete));
}

/// A superuser in the list.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    email: String,
    created: String,
}

/// What went wrong with a form, for the page: which form, a message, per field.
#[derive(Debug, Default, Serialize)]
struct Problems {
    /// `"create"`, or the id of the row whose form failed.
    form: String,
    message: String,
    fields: BTreeMap<String, String>,
}

impl Problems {
    fn of(form: &str, err: &ApiError) -> Self {
        let fields = err
            .data
            .iter()
            .map(|(k, v)| {
                let msg = v["message"]
                    .as_str()
                    .unwrap_or("Invalid value.")
                    .to_string();
                (k.clone(), msg)
            })
            .collect();
        Self {
            form: form.to_string(),
            message: err.message.clone(),
            fields,
        }
    }

    fn message(form: &str, message: &str) -> Self {
        Self {
            form: form.to_string(),
            message: message.to_string(),
            fields: BTreeMap::new(),
        }
    }
}

async fn rows(core: &Core) -> Result<Vec<Row>, ApiError> {
    core.db
        .read(|conn| {
            let mut stmt =
                conn.prepare("SELECT id, email, created FROM _superusers ORDER BY created, email")?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Row {
                        id: r.get(0)?,
                        email: r.get(1)?,
                        created: r.get(2)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, ApiError>(rows)
        })
        .await
}

/// The page, optionally re-shown with a form's problems (status 400).
async fn page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    problems: Option<(Problems, String)>,
) -> Result<HttpResponse, ApiError> {
    let mut ctx = Context::new();
    ctx.insert("superusers", &rows(core).await?);
    Page::new(req, "superusers/index.html")
        .session(session)
        .form_problem(&mut ctx, ("problems", "email"), problems)
        .render(ctx)
}

async fn index(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    page(&req, &core, &session, None).await
}

fn body(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect()
}

async fn create(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, ApiError> {
    let data = body(&[
        ("email", &form.email),
        ("password", &form.password),
        ("passwordConfirm", &form.password_confirm),
    ]);
    let caller = Caller::request(session.auth(), Map::new(), Map::new());
    match core
        .records
        .create(&caller, COLLECTION, data)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => Ok(see_other("/_/superusers?flash=superuser_created")),
        Err(e) if e.status().is_client_error() => {
            let problems = Problems::of("create", &e);
            page(&req, &core, &session, Some((problems, form.email.clone()))).await
        }
        Err(e) => Err(e),
    }
}

async fn change_password(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    id: web::Path<String>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let data = body(&[
        ("password", &form.password),
        ("passwordConfirm", &form.password_confirm),
    ]);
    let caller = Caller::request(session.auth(), Map::new(), Map::new());
    match core
        .records
        .update(&caller, COLLECTION, id.clone(), data)
        .await
        .map_err(ApiError::from)
    {
        // A new password voids the account's tokens; keep our own session alive.
        Ok(_) if id == session.id() => {
            super::auth::refresh_session(&req, &core, &id, "/_/superusers?flash=password_changed")
                .await
        }
        Ok(_) => Ok(see_other("/_/superusers?flash=password_changed")),
        Err(e) if e.status().is_client_error() => {
            let problems = Problems::of(&id, &e);
            page(&req, &core, &session, Some((problems, String::new()))).await
        }
        Err(e) => Err(e),
    }
}

async fn delete(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let lang = request_lang(&req);
    let refusal = if id == session.id() {
        Some("cannot_delete_self")
    } else if crate::records::superusers::count(&core.db).await? <= 1 {
        Some("cannot_delete_last")
    } else {
        None
    };
    if let Some(key) = refusal {
        let problems = Problems::message(&id, text(lang, key));
        return page(&req, &core, &session, Some((problems, String::new()))).await;
    }
    let caller = Caller::request(session.auth(), Map::new(), Map::new());
    match core
        .records
        .delete(&caller, COLLECTION, id.clone())
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => Ok(see_other("/_/superusers?flash=superuser_deleted")),
        Err(e) if e.status().is_client_error() => {
            let problems = Problems::of(&id, &e);
            page(&req, &core, &session, Some((problems, String::new()))).await
        }
        Err(e) => Err(e),
    }
}
