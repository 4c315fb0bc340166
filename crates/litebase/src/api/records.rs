//! `/api/collections/{collection}/records` and `/api/batch`: requests translated
//! into calls of the record service ([`crate::records::service`]).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{body, query_map};
use crate::auth::request::Auth;
use crate::core::Core;
use crate::error::ApiError;
use crate::records::service::Caller;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    let base = "/api/collections/{collection}/records";
    cfg.route(base, web::get().to(list))
        .route(base, web::post().to(create))
        .route(
            "/api/collections/{collection}/records/{id}",
            web::get().to(view),
        )
        .route(
            "/api/collections/{collection}/records/{id}",
            web::patch().to(update),
        )
        .route(
            "/api/collections/{collection}/records/{id}",
            web::delete().to(delete),
        )
        .route("/api/batch", web::post().to(batch));
}

/// The request's headers as rules read them (`@request.headers.x_real_ip`):
/// names normalized, values that are not text left out.
pub(crate) fn headers_map(req: &HttpRequest) -> Map<String, Value> {
    req.headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str().ok().map(|v| {
                (
                    crate::query::request::normalize_header_name(k.as_str()),
                    json!(v),
                )
            })
        })
        .collect()
}

/// The caller of a client request: who, with the query and headers rules read.
pub(super) fn caller(auth: Auth, req: &HttpRequest) -> Result<Caller, ApiError> {
    Ok(Caller::request(
        auth,
        query_map(req.query_string())?,
        headers_map(req),
    ))
}

async fn list(
    core: web::Data<Core>,
    auth: Auth,
    name: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = core.records.list(&caller(auth, &req)?, &name).await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn view(
    core: web::Data<Core>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let record = core.records.view(&caller(auth, &req)?, &name, id).await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn create(
    core: web::Data<Core>,
    auth: Auth,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    core.records.check_collection(&name)?;
    let body = body::read_object(req.headers(), payload, core.config.serve.body_limit).await?;
    let record = core
        .records
        .create(&caller(auth, &req)?, &name, body)
        .await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn update(
    core: web::Data<Core>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    core.records.check_collection(&name)?;
    let body = body::read_object(req.headers(), payload, core.config.serve.body_limit).await?;
    let record = core
        .records
        .update(&caller(auth, &req)?, &name, id, body)
        .await?;
    Ok(HttpResponse::Ok().json(record))
}

async fn delete(
    core: web::Data<Core>,
    auth: Auth,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    core.records.delete(&caller(auth, &req)?, &name, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn batch(
    core: web::Data<Core>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = body::read_object(req.headers(), payload, core.config.serve.body_limit).await?;
    let requests = match body.get("requests") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let caller = Caller::request(auth, Map::new(), headers_map(&req));
    let results = core.records.batch(&caller, &requests).await?;
    Ok(HttpResponse::Ok().json(results))
}
