//! Cross-cutting HTTP behaviour: body limits, error shaping, request logs, headers.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PayloadError};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};

use crate::error::ApiError;

/// JSON extraction that answers bad bodies in PocketBase's shape: 413 over the
/// limit, 400 for anything unparsable.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req| json_error(&err).into())
}

fn json_error(err: &JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::too_large()
        }
        JsonPayloadError::Payload(PayloadError::Overflow) => ApiError::too_large(),
        JsonPayloadError::ContentType => {
            ApiError::bad_request("Unsupported Content-Type: send the body as application/json.")
        }
        JsonPayloadError::Deserialize(e) => ApiError::bad_request(format!(
            "An error occurred while loading the submitted data: {e}."
        )),
        _ => ApiError::bad_request("An error occurred while loading the submitted data."),
    }
}

/// Raw-body extraction with the same limit and error shape.
pub fn payload_config(limit: usize) -> web::PayloadConfig {
    web::PayloadConfig::new(limit)
}

/// The answer for every route nobody registered.
pub async fn not_found() -> HttpResponse {
    ApiError::not_found().error_response()
}

/// The length a request declares, if it declares one we can read.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Whether the request declares a body over `limit`: such requests are refused
/// before routing, so no handler ever reads them. Bodies without a declared length
/// are cut by the extractors' limits instead.
pub fn declares_too_large(req: &ServiceRequest, limit: usize) -> bool {
    declared_length(req.headers()).is_some_and(|n| n > limit as u64)
}

/// Logs one line per request (method, path, status, time taken) to the process
/// log, and records it in the request log ([`crate::logs`]) when that is on.
/// The request path only clones a few cheap handles; formatting happens on the
/// log's writer thread.
pub fn log_request<S, B>(
    core: &web::Data<crate::core::Core>,
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: actix_web::dev::Service<
            ServiceRequest,
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
        >,
{
    let started = Instant::now();
    let at = std::time::SystemTime::now();
    let core = core.clone();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let fut = srv.call(req);
    async move {
        let res = fut.await;
        let micros = started.elapsed().as_micros() as u64;
        let status = match &res {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        tracing::info!(
            target: "litebase::http",
            %method,
            path = uri.path(),
            status,
            micros,
        );
        if core.logs.enabled() {
            let mut entry = crate::logs::Entry {
                at,
                method,
                uri,
                status,
                micros,
                remote_ip: None,
                user_ip: None,
                user_agent: None,
                referer: None,
                auth: crate::logs::AuthKind::Guest,
                error: None,
            };
            match &res {
                Ok(r) => {
                    let req = r.request();
                    if core.logs.log_ip() {
                        entry.remote_ip = req.peer_addr().map(|a| a.ip().to_canonical());
                        entry.user_ip = core.client_ip(req);
                    }
                    entry.user_agent = req.headers().get(header::USER_AGENT).cloned();
                    entry.referer = req.headers().get(header::REFERER).cloned();
                    if let Some(kind) = req.extensions().get::<crate::logs::AuthKind>() {
                        entry.auth = *kind;
                    }
                    if status >= 400 {
                        entry.error = r
                            .response()
                            .extensions()
                            .get::<crate::logs::ErrorMessage>()
                            .map(|m| m.0.clone());
                    }
                }
                Err(e) => entry.error = Some(e.to_string()),
            }
            core.logs.record(entry);
        }
        res
    }
}

/// Turns any error answer that is not already JSON (actix's own 404/405, extractor
/// failures) into PocketBase's `{status, message, data}`, so clients only ever see
/// one error shape.
pub fn error_shape<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        // A response that already carries its own JSON or HTML body (an app's
        // error page) keeps it; only bare errors get the JSON shape.
        let has_body = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
        if has_body {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let err = ApiError::for_status(res.status());
        let (req, _) = res.into_parts();
        let response: HttpResponse<BoxBody> = err.error_response();
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, response).map_into_right_body(),
        ))
    })
}

/// Security headers PocketBase also sends on every answer.
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .add((
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        ))
        .add((
            header::X_XSS_PROTECTION,
            HeaderValue::from_static("1; mode=block"),
        ))
}
