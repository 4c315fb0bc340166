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

/// A create or update body: values, and file parts streamed to temp files.
async fn read_form(
    core: &Core,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<body::Form, ApiError> {
    body::read_form(
        req.headers(),
        payload,
        core.config.serve.body_limit,
        core.records.files().temp_dir(),
    )
    .await
}

async fn create(
    core: web::Data<Core>,
    auth: Auth,
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    core.records.check_collection(&name)?;
    let form = read_form(&core, &req, payload).await?;
    let record = core
        .records
        .create_with_files(&caller(auth, &req)?, &name, form.body, form.files)
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
    let form = read_form(&core, &req, payload).await?;
    let record = core
        .records
        .update_with_files(&caller(auth, &req)?, &name, id, form.body, form.files)
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
    let form = read_form(&core, &req, payload).await?;
    let requests = match form.body.get("requests") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    // Files go under `requests.N.field` or `requests[N].field`, as PocketBase reads them.
    let files = form
        .files
        .into_iter()
        .filter_map(|mut upload| {
            let (index, key) = batch_file_key(&upload.key)?;
            upload.key = key;
            Some((index, upload))
        })
        .collect();
    let caller = Caller::request(auth, Map::new(), headers_map(&req));
    let results = core
        .records
        .batch_with_files(&caller, &requests, files)
        .await?;
    Ok(HttpResponse::Ok().json(results))
}

/// The sub-request index and field key of a batch's file part
/// (`requests.0.avatar`, `requests[0].avatar+`); `None` for other names.
fn batch_file_key(name: &str) -> Option<(usize, String)> {
    let rest = name.strip_prefix("requests")?;
    let (index, key) = if let Some(dotted) = rest.strip_prefix('.') {
        dotted.split_once('.')?
    } else {
        let inner = rest.strip_prefix('[')?;
        let (index, key) = inner.split_once(']')?;
        (index, key.strip_prefix('.')?)
    };
    let index = index.parse().ok()?;
    (!key.is_empty()).then(|| (index, key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::batch_file_key;

    #[test]
    fn batch_file_keys() {
        assert_eq!(
            batch_file_key("requests.0.avatar"),
            Some((0, "avatar".into()))
        );
        assert_eq!(
            batch_file_key("requests[12].docs+"),
            Some((12, "docs+".into()))
        );
        for other in [
            "avatar",
            "requests.x.a",
            "requests.0.",
            "requests[1]a",
            "requests.1",
        ] {
            assert_eq!(batch_file_key(other), None, "{other}");
        }
    }
}
