//! Multipart bodies read part by part: plain values as text, file parts streamed
//! to temp files as they arrive (never held whole in memory), every part
//! counted against the body limit. Shared by the API's body reader and the
//! admin UI's record form.

use std::io::Write;
use std::path::{Path, PathBuf};

use actix_web::http::header::HeaderMap;
use actix_web::web::{self, Bytes};
use futures_util::StreamExt;

use super::Upload;
use crate::error::ApiError;

/// Most parts one body may have (Go's default, which PocketBase inherits):
/// each file part is a temp file, so a body of tiny parts is refused early.
pub const MAX_PARTS: usize = 1000;

/// The values (name, text) and uploads of a multipart body, in order. File
/// parts are refused when there is no `temp_dir` to put them in.
pub async fn read_multipart(
    headers: &HeaderMap,
    payload: web::Payload,
    limit: usize,
    temp_dir: Option<&Path>,
) -> Result<(Vec<(String, String)>, Vec<Upload>), ApiError> {
    let mut form = actix_multipart::Multipart::new(headers, payload);
    let mut values = Vec::new();
    let mut files = Vec::new();
    let mut used = 0usize;
    let mut parts = 0usize;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| ApiError::generic_bad_request())?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::bad_request(format!(
                "The form has more than {MAX_PARTS} parts; send fewer values or files at once."
            )));
        }
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
            files.push(Upload {
                key: name,
                original_name,
                size,
                content_type: super::sniff::content_type(&head),
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
        values.push((name, text));
    }
    Ok((values, files))
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
            let room = super::sniff::SNIFF_LEN.saturating_sub(head.len());
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
