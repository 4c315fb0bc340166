//! Request bodies as PocketBase accepts them: JSON, or multipart form data (what the
//! JS SDK sends for batches and forms) whose `@jsonPayload` part carries JSON,
//! whose file parts are uploads and whose other parts are plain values.
//!
//! A file part is streamed to a temp file as it arrives (never held whole in
//! memory); the body limit counts every part, files included.

use std::io::Write;
use std::path::{Path, PathBuf};

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
    let mut form = actix_multipart::Multipart::new(headers, payload);
    let mut out = Form::default();
    let mut used = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| ApiError::generic_bad_request())?;
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .filter(|f| !f.is_empty())
            .map(str::to_string);
        if let Some(original_name) = file_name {
            let Some(dir) = temp_dir else {
                return Err(ApiError::bad_request(
                    "File uploads are only accepted by record create and update requests.",
                ));
            };
            let (file, size, head) =
                stream_to_temp(&mut field, dir.to_path_buf(), limit, &mut used).await?;
            out.files.push(Upload {
                key: name,
                original_name,
                size,
                content_type: crate::files::sniff::content_type(&head),
                file,
            });
            continue;
        }
        let bytes = match field.bytes(limit.saturating_sub(used)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => return Err(ApiError::generic_bad_request()),
            Err(_) => return Err(ApiError::too_large()),
        };
        used += bytes.len();
        let text =
            String::from_utf8(bytes.to_vec()).map_err(|_| ApiError::generic_bad_request())?;
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

/// What a finished file part left: its temp file, size and first bytes.
type Written = (tempfile::TempPath, u64, Vec<u8>);

/// Writes a file part to a new temp file under `dir` on a blocking thread, chunk
/// by chunk as it arrives; `used` counts the body's bytes against `limit`.
async fn stream_to_temp(
    field: &mut actix_multipart::Field,
    dir: PathBuf,
    limit: usize,
    used: &mut usize,
) -> Result<Written, ApiError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<Written> {
        std::fs::create_dir_all(&dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&dir)?;
        let mut head = Vec::new();
        let mut size = 0u64;
        while let Some(chunk) = rx.blocking_recv() {
            let room = crate::files::sniff::SNIFF_LEN.saturating_sub(head.len());
            head.extend_from_slice(&chunk[..room.min(chunk.len())]);
            file.write_all(&chunk)?;
            size += chunk.len() as u64;
        }
        file.flush()?;
        Ok((file.into_temp_path(), size, head))
    });
    let mut refused = None;
    while let Some(chunk) = field.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(_) => {
                refused = Some(ApiError::generic_bad_request());
                break;
            }
        };
        *used += chunk.len();
        if *used > limit {
            refused = Some(ApiError::too_large());
            break;
        }
        if tx.send(chunk).await.is_err() {
            break; // the writer failed; its error is below
        }
    }
    drop(tx);
    let written = writer.await;
    if let Some(e) = refused {
        return Err(e); // the temp file, if any, is removed as `written` drops
    }
    match written {
        Ok(Ok(written)) => Ok(written),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "could not write an upload to the temp folder");
            Err(ApiError::internal())
        }
        Err(_) => Err(ApiError::internal()),
    }
}
