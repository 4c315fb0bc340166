//! `/api/webhooks`: outgoing webhooks (superusers). PocketBase has none (its
//! long-open #317); the shapes follow its other superuser APIs: JSON objects,
//! list envelopes for the delivery log, `{status, message, data}` errors.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::auth::request::Auth;
use crate::core::Core;
use crate::error::ApiError;
use crate::webhooks::store::WebhookInput;

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/webhooks", web::get().to(list))
        .route("/api/webhooks", web::post().to(create))
        .route("/api/webhooks/{id}", web::get().to(view))
        .route("/api/webhooks/{id}", web::patch().to(update))
        .route("/api/webhooks/{id}", web::delete().to(delete))
        .route("/api/webhooks/{id}/deliveries", web::get().to(deliveries))
        .route(
            "/api/webhooks/{id}/deliveries/{delivery}/retry",
            web::post().to(retry),
        );
}

/// The body as a webhook; a field of the wrong type is a 400 naming the problem.
fn input(body: Value) -> Result<WebhookInput, ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "The submitted data must be a JSON object.",
        ));
    }
    serde_json::from_value(body).map_err(|e| {
        ApiError::bad_request(format!(
            "Failed to load the submitted data due to invalid formatting: {e}."
        ))
    })
}

async fn list(core: web::Data<Core>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(core.webhooks.list().await?))
}

async fn view(
    core: web::Data<Core>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(core.webhooks.get(&id).await?))
}

async fn create(
    core: web::Data<Core>,
    auth: Auth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let input = input(body.into_inner())?;
    let schema = core.schema.current();
    Ok(HttpResponse::Ok().json(core.webhooks.create(&schema, input).await?))
}

async fn update(
    core: web::Data<Core>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let input = input(body.into_inner())?;
    let schema = core.schema.current();
    Ok(HttpResponse::Ok().json(core.webhooks.update(&schema, &id, input).await?))
}

async fn delete(
    core: web::Data<Core>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    core.webhooks.delete(&id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn deliveries(
    core: web::Data<Core>,
    auth: Auth,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let query = super::query_map(req.query_string())?;
    let number = |key: &str, default: usize| -> Result<usize, ApiError> {
        match crate::records::read::param(&query, key).trim() {
            "" => Ok(default),
            s => s
                .parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("Invalid {key}."))),
        }
    };
    let page = number("page", 1)?;
    let per_page = number("perPage", 30)?;
    Ok(HttpResponse::Ok().json(core.webhooks.deliveries(&id, page, per_page).await?))
}

async fn retry(
    core: web::Data<Core>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let (id, delivery) = path.into_inner();
    core.webhooks.retry(&id, &delivery).await?;
    Ok(HttpResponse::NoContent().finish())
}
