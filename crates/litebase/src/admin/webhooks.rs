//! `/_/webhooks`: the outgoing webhooks: list, add, edit, switch off, delete,
//! and each one's delivery log with "send again". Every action is a call to
//! [`crate::webhooks::store::Webhooks`], the functions the JSON API uses too.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tera::Context;

use super::render::{Page, see_other};
use super::session::AdminSession;
use crate::core::Core;
use crate::error::ApiError;
use crate::schema::CollectionType;
use crate::webhooks::store::{ACTIONS, WebhookInput};
use crate::webhooks::{Webhook, WebhookError};

/// Mounts `/_/webhooks` and its forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks", web::get().to(index))
        .route("/webhooks", web::post().to(create))
        .route("/webhooks/{id}", web::get().to(edit))
        .route("/webhooks/{id}", web::post().to(update))
        .route("/webhooks/{id}/delete", web::post().to(delete))
        .route(
            "/webhooks/{id}/deliveries/{delivery}/retry",
            web::post().to(retry),
        );
}

/// The add/edit form: checkboxes come as `on` when ticked.
#[derive(Debug, Default, Deserialize, Serialize)]
struct Form {
    #[serde(default)]
    collection: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    action_create: Option<String>,
    #[serde(default)]
    action_update: Option<String>,
    #[serde(default)]
    action_delete: Option<String>,
    #[serde(default)]
    enabled: Option<String>,
}

impl Form {
    fn of(w: &Webhook, collection_name: &str) -> Form {
        let has = |a: &str| w.actions.iter().any(|x| x == a).then(|| "on".to_string());
        Form {
            collection: collection_name.to_string(),
            url: w.url.clone(),
            secret: w.secret.clone(),
            action_create: has("create"),
            action_update: has("update"),
            action_delete: has("delete"),
            enabled: w.enabled.then(|| "on".to_string()),
        }
    }

    fn input(&self) -> WebhookInput {
        let ticked = [
            &self.action_create,
            &self.action_update,
            &self.action_delete,
        ];
        let actions = ACTIONS
            .iter()
            .zip(ticked)
            .filter(|(_, on)| on.is_some())
            .map(|(a, _)| a.as_str().to_string())
            .collect();
        WebhookInput {
            collection: Some(self.collection.clone()),
            url: Some(self.url.clone()),
            actions: Some(actions),
            secret: (!self.secret.trim().is_empty()).then(|| self.secret.trim().to_string()),
            enabled: Some(self.enabled.is_some()),
        }
    }
}

/// A webhook as the list shows it.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    collection: String,
    url: String,
    actions: String,
    enabled: bool,
}

/// Per field, what was wrong with a submitted form.
#[derive(Debug, Default, Serialize)]
struct Problems {
    message: String,
    fields: BTreeMap<String, String>,
}

impl Problems {
    fn of(err: WebhookError) -> Result<Problems, ApiError> {
        match err {
            WebhookError::Invalid(data) => Ok(Problems {
                message: String::new(),
                fields: data
                    .iter()
                    .map(|(k, v)| {
                        let m = v["message"].as_str().unwrap_or("Invalid value.");
                        (k.clone(), m.to_string())
                    })
                    .collect(),
            }),
            other => Err(other.into()),
        }
    }
}

fn collection_name(core: &Core, id: &str) -> String {
    core.schema
        .current()
        .get(id)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Names of the collections a webhook can follow (not views).
fn collection_names(core: &Core) -> Vec<String> {
    let schema = core.schema.current();
    let mut names: Vec<String> = schema
        .all()
        .iter()
        .filter(|c| c.kind != CollectionType::View)
        .map(|c| c.name.clone())
        .collect();
    names.sort();
    names
}

async fn list_page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    form: Form,
    problems: Option<Problems>,
) -> Result<HttpResponse, ApiError> {
    let rows: Vec<Row> = core
        .webhooks
        .list()
        .await?
        .into_iter()
        .map(|w| Row {
            collection: collection_name(core, &w.collection),
            actions: w.actions.join(", "),
            id: w.id,
            url: w.url,
            enabled: w.enabled,
        })
        .collect();
    let mut ctx = Context::new();
    ctx.insert("webhooks", &rows);
    ctx.insert("collections", &collection_names(core));
    let status = if problems.is_some() { 400 } else { 200 };
    ctx.insert("problems", &problems.unwrap_or_default());
    ctx.insert("form", &form);
    Page::new(req, "webhooks/index.html")
        .session(session)
        .status(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .render(ctx)
}

async fn index(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
) -> Result<HttpResponse, ApiError> {
    let fresh = Form {
        action_create: Some("on".into()),
        action_update: Some("on".into()),
        action_delete: Some("on".into()),
        enabled: Some("on".into()),
        ..Form::default()
    };
    list_page(&req, &core, &session, fresh, None).await
}

async fn create(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    form: web::Form<Form>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let schema = core.schema.current();
    match core.webhooks.create(&schema, form.input()).await {
        Ok(w) => Ok(see_other(&format!(
            "/_/webhooks/{}?flash=webhook_saved",
            w.id
        ))),
        Err(e) => {
            let problems = Problems::of(e)?;
            list_page(&req, &core, &session, form, Some(problems)).await
        }
    }
}

async fn edit_page(
    req: &HttpRequest,
    core: &Core,
    session: &AdminSession,
    id: &str,
    form: Option<Form>,
    problems: Option<Problems>,
) -> Result<HttpResponse, ApiError> {
    let webhook = core.webhooks.get(id).await?;
    let log = core.webhooks.deliveries(id, 1, 50).await?;
    let mut deliveries: Vec<Value> = log["items"].as_array().cloned().unwrap_or_default();
    for d in &mut deliveries {
        let text = serde_json::to_string_pretty(&d["payload"]).unwrap_or_default();
        d["payloadText"] = Value::String(text);
    }
    let name = collection_name(core, &webhook.collection);
    let mut ctx = Context::new();
    ctx.insert("form", &form.unwrap_or_else(|| Form::of(&webhook, &name)));
    ctx.insert("webhook", &webhook);
    ctx.insert("collection_name", &name);
    ctx.insert("collections", &collection_names(core));
    ctx.insert("deliveries", &deliveries);
    ctx.insert("total", &log["totalItems"]);
    let status = if problems.is_some() { 400 } else { 200 };
    ctx.insert("problems", &problems.unwrap_or_default());
    Page::new(req, "webhooks/edit.html")
        .session(session)
        .status(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .render(ctx)
}

async fn edit(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    edit_page(&req, &core, &session, &id, None, None).await
}

async fn update(
    req: HttpRequest,
    core: web::Data<Core>,
    session: AdminSession,
    id: web::Path<String>,
    form: web::Form<Form>,
) -> Result<HttpResponse, ApiError> {
    let form = form.into_inner();
    let schema = core.schema.current();
    match core.webhooks.update(&schema, &id, form.input()).await {
        Ok(w) => Ok(see_other(&format!(
            "/_/webhooks/{}?flash=webhook_saved",
            w.id
        ))),
        Err(e) => {
            let problems = Problems::of(e)?;
            edit_page(&req, &core, &session, &id, Some(form), Some(problems)).await
        }
    }
}

async fn delete(core: web::Data<Core>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    core.webhooks.delete(&id).await?;
    Ok(see_other("/_/webhooks?flash=webhook_deleted"))
}

async fn retry(
    core: web::Data<Core>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    core.webhooks.retry(&id, &delivery).await?;
    Ok(see_other(&format!("/_/webhooks/{id}?flash=webhook_retry")))
}
