//! Request bodies as PocketBase accepts them: JSON, or multipart form data (what the
//! JS SDK sends for batches and forms) whose `@jsonPayload` part carries JSON,
//! whose file parts are uploads and whose other parts are plain values.
//!
//! A file part is streamed to a temp file as it arrives (never held whole in
//! memory); the body limit counts every part, files included.

use std::path::Path;

use actix_web::http::header::{CONTENT_TYPE, HeaderMap};
use actix_web::web::{self, Bytes};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::files::Upload;

/// A body read as a form: its values, and the files it uploaded (in temp files
/// removed when dropped).
#[derive(Debug, Default)]
pub struct Form {
    /// The values, as a JSON object.
    pub body: Map<String, Value>,
    /// The file parts, in the order they came.
    pub files: Vec<Upload>,
}

/// The body as a JSON object; anything else is a 400 in PocketBase's shape. File
/// parts are refused (only record writes take them, see [`read_form`]).
pub async fn read_object(
    headers: &HeaderMap,
    payload: web::Payload,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    read_body(headers, payload, limit, None)
        .await
        .map(|form| form.body)
}

/// The body as values and uploads: multipart file parts are written to temp
/// files under `temp_dir`.
pub async fn read_form(
    headers: &HeaderMap,
    payload: web::Payload,
    limit: usize,
    temp_dir: &Path,
) -> Result<Form, ApiError> {
    read_body(headers, payload, limit, Some(temp_dir)).await
}

async fn read_body(
    headers: &HeaderMap,
    mut payload: web::Payload,
    limit: usize,
    temp_dir: Option<&Path>,
) -> Result<Form, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        return read_multipart(headers, payload, limit, temp_dir).await;
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
        return Ok(Form {
            body: map,
            files: Vec::new(),
        });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Form::default());
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(Form {
            body: map,
            files: Vec::new(),
        }),
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
    temp_dir: Option<&Path>,
) -> Result<Form, ApiError> {
    let (values, files) =
        crate::files::form::read_multipart(headers, payload, limit, temp_dir).await?;
    let mut out = Form {
        body: Map::new(),
        files,
    };
    for (name, text) in values {
        if name == "@jsonPayload" {
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(obj)) => out.body.extend(obj),
                Ok(_) => return Err(ApiError::generic_bad_request()),
                Err(_) => return Err(unreadable_json(text.as_bytes())),
            }
        } else {
            push_value(&mut out.body, name, Value::String(text));
        }
    }
    Ok(out)
}
