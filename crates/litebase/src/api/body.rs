//! Request bodies as PocketBase accepts them: JSON, or multipart form data (what the
//! JS SDK sends for batches and forms) whose `@jsonPayload` part carries JSON and
//! whose other parts are plain values.

use actix_web::http::header::{CONTENT_TYPE, HeaderMap};
use actix_web::web::{self, Bytes};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The body as a JSON object; anything else is a 400 in PocketBase's shape.
pub async fn read_object(
    headers: &HeaderMap,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return read_multipart(headers, payload, limit).await;
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::generic_bad_request())?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let body: Bytes = body.freeze();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&body)?;
        let mut map = Map::new();
        for (k, v) in pairs {
            push_value(&mut map, k, Value::String(v));
        }
        return Ok(map);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::generic_bad_request()),
        Err(_) => Err(unreadable_json(&body)),
    }
}

/// The 400 for a body serde_json could not read. Malformed JSON gets PocketBase's
/// generic message; valid JSON nested deeper than serde_json goes (PocketBase takes
/// it, litebase refuses it to protect its stack) says so.
fn unreadable_json(body: &[u8]) -> ApiError {
    let limit = crate::records::parse::JSON_DEPTH_LIMIT;
    match std::str::from_utf8(body)
        .ok()
        .and_then(crate::records::parse::json_depth)
    {
        Some(depth) if depth >= limit => ApiError::bad_request(format!(
            "The JSON body is nested {depth} levels deep; at most {} levels are supported.",
            limit - 1
        )),
        _ => ApiError::generic_bad_request(),
    }
}

fn serde_urlencoded_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    web::Query::<Vec<(String, String)>>::from_query(
        std::str::from_utf8(body).map_err(|_| ApiError::generic_bad_request())?,
    )
    .map(web::Query::into_inner)
    .map_err(|_| ApiError::generic_bad_request())
}

/// Adds a form value; a repeated key becomes an array, as PocketBase reads forms.
fn push_value(map: &mut Map<String, Value>, key: String, value: Value) {
    match map.get_mut(&key) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            map.insert(key, value);
        }
    }
}

async fn read_multipart(
    headers: &HeaderMap,
    payload: web::Payload,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    let mut form = actix_multipart::Multipart::new(headers, payload);
    let mut map = Map::new();
    let mut used = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| ApiError::generic_bad_request())?;
        let name = field.name().unwrap_or_default().to_string();
        let is_file = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .is_some();
        let bytes = match field.bytes(limit.saturating_sub(used)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => return Err(ApiError::generic_bad_request()),
            Err(_) => return Err(ApiError::too_large()),
        };
        used += bytes.len();
        if is_file {
            return Err(ApiError::bad_request("File uploads are not supported yet."));
        }
        let text =
            String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::generic_bad_request())?;
        if name == "@jsonPayload" {
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(obj)) => map.extend(obj),
                Ok(_) => return Err(ApiError::generic_bad_request()),
                Err(_) => return Err(unreadable_json(text.as_bytes())),
            }
        } else {
            push_value(&mut map, name, Value::String(text));
        }
    }
    Ok(map)
}
