//! `/api/files`: downloads of record files (`GET /api/files/{collection}/{record}/{name}`,
//! with `?thumb=WxH` and `?download=1`) and `POST /api/files/token`, a
//! short-lived token a link can carry as `?token=` (for protected files, and
//! backup downloads).

use std::io::Read;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use actix_web::http::header::{self, HttpDate};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::auth::request::Auth;
use crate::auth::token;
use crate::core::Core;
use crate::error::ApiError;
use crate::files::storage::{ByteRange, Object, Storage};
use crate::files::{sniff, thumb};
use crate::records::accounts;
use crate::records::download::FileTarget;
use crate::schema::FieldKind;

/// How long a file token works, in seconds (PocketBase: 3 minutes).
pub const FILE_TOKEN_TTL: u64 = 180;

/// The thumb size every image field has, listed or not (as in PocketBase).
const DEFAULT_THUMB: &str = "100x100";

/// Mounts the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/files/token", web::post().to(file_token))
        .route(
            "/api/files/{collection}/{record}/{filename}",
            web::get().to(download),
        )
        .route(
            "/api/files/{collection}/{record}/{filename}",
            web::head().to(download),
        );
}

async fn file_token(core: web::Data<Core>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let Some(me) = auth.record().cloned() else {
        return Err(ApiError::unauthorized(
            "The request requires valid record authorization token.",
        ));
    };
    let collection = core
        .schema
        .current()
        .get(&me.collection_id)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    let c = collection.clone();
    let id = me.id.clone();
    let row = core
        .db
        .read(move |conn| accounts::load(conn, &c, &id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let claims = token::Claims {
        id: me.id,
        kind: token::Purpose::File.as_str().into(),
        collection_id: me.collection_id.clone(),
        refreshable: false,
        email: None,
        new_email: None,
        exp: token::expiry(FILE_TOKEN_TTL),
    };
    let secret = core.token_secret(&me.collection_id, token::Purpose::File);
    let token = token::sign(&claims, &secret, &row.token_key)?;
    Ok(HttpResponse::Ok().json(json!({"token": token})))
}

/// A query parameter (lenient: an unreadable query string has none).
fn param(req: &HttpRequest, name: &str) -> String {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get(name).cloned())
        .unwrap_or_default()
}

/// Go's `strconv.ParseBool` truth, as PocketBase reads `?download=`.
fn truthy(v: &str) -> bool {
    matches!(v, "1" | "t" | "T" | "TRUE" | "true" | "True")
}

async fn download(
    core: web::Data<Core>,
    path: web::Path<(String, String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (collection, record, filename) = path.into_inner();
    let target = core
        .records
        .file_for_download(&collection, record, filename.clone(), &param(&req, "token"))
        .await?;
    let storage = core.records.files().storage();
    let size = param(&req, "thumb");
    let wants_thumb = !size.is_empty()
        && thumb::parse(&size).is_some()
        && (size == DEFAULT_THUMB
            || matches!(&target.field.kind, FieldKind::File { thumbs, .. } if thumbs.contains(&size)));
    if wants_thumb {
        let (object, served_name) = open_thumb(storage, target, filename, size).await?;
        return Ok(respond(&req, object, &served_name, None));
    }
    let key = crate::files::key(&target.collection_id, &target.record_id, &filename);
    let object = open(storage.clone(), key.clone()).await?;
    // One byte range (seeking in audio and video), unless `If-Range` asks for
    // a condition litebase does not check: then the whole file.
    let range = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| !req.headers().contains_key(header::IF_RANGE))
        .and_then(ByteRange::parse);
    let Some(range) = range else {
        return Ok(respond(&req, object, &filename, None));
    };
    let Some((start, len)) = range.resolve(object.size) else {
        return Ok(HttpResponse::RangeNotSatisfiable()
            .insert_header((header::CONTENT_RANGE, format!("bytes */{}", object.size)))
            .json(json!({"status": 416, "message": "The requested range is not satisfiable.", "data": {}})));
    };
    drop(object);
    let part = web::block(move || storage.get_range(&key, start, len))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::warn!(error = %e, "could not open a stored file");
            ApiError::not_found()
        })?
        .ok_or_else(ApiError::not_found)?;
    Ok(respond(&req, part, &filename, Some((start, len))))
}

/// Opens `key` off the runtime; a missing file is a 404.
async fn open(storage: Arc<dyn Storage>, key: String) -> Result<Object, ApiError> {
    web::block(move || storage.get(&key))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::warn!(error = %e, "could not open a stored file");
            ApiError::not_found()
        })?
        .ok_or_else(ApiError::not_found)
}

/// At most this many thumbs are made at once (each decodes a whole image).
fn thumb_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores + 2)
    })
}

/// The thumb `size` of an image file, made and stored the first time; the
/// original when the file is no image or the thumb cannot be made.
async fn open_thumb(
    storage: Arc<dyn Storage>,
    target: FileTarget,
    filename: String,
    size: String,
) -> Result<(Object, String), ApiError> {
    let original_key = crate::files::key(&target.collection_id, &target.record_id, &filename);
    let thumb_key =
        crate::files::thumb_key(&target.collection_id, &target.record_id, &filename, &size);
    let thumb_name = format!("{size}_{filename}");
    let s = storage.clone();
    let key = thumb_key.clone();
    if let Ok(Ok(Some(existing))) = web::block(move || s.get(&key)).await {
        return Ok((existing, thumb_name));
    }
    let original = open(storage.clone(), original_key.clone()).await?;
    if !sniff::is_thumbable(&original.content_type) {
        return Ok((original, filename));
    }
    let _permit = thumb_permits().acquire().await.ok();
    let parsed = thumb::parse(&size).ok_or_else(ApiError::not_found)?;
    let s = storage.clone();
    let made = web::block(move || -> Result<(), String> {
        let mut original = original;
        let mut bytes = Vec::with_capacity(usize::try_from(original.size).unwrap_or(0));
        original
            .reader
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        let (thumb, content_type) =
            thumb::make(&bytes, &original.content_type, parsed).map_err(|e| e.to_string())?;
        s.put_bytes(&thumb_key, &thumb, content_type)
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|_| ApiError::internal())?;
    match made {
        Ok(()) => {
            let key =
                crate::files::thumb_key(&target.collection_id, &target.record_id, &filename, &size);
            Ok((open(storage, key).await?, thumb_name))
        }
        Err(e) => {
            tracing::warn!(error = %e, file = filename, "thumb failed; serving the original");
            Ok((open(storage, original_key).await?, filename))
        }
    }
}

/// The answer for a stored file: PocketBase's headers (inline for images,
/// audio, video and PDF unless `?download=1`, a sandboxing CSP, 30 days of
/// caching) and the bytes streamed from storage; 304 when the client's copy is
/// current.
fn respond(
    req: &HttpRequest,
    object: Object,
    served_name: &str,
    part: Option<(u64, u64)>,
) -> HttpResponse {
    let forced = truthy(&param(req, "download"));
    let disposition = if !forced && sniff::is_inline(&object.content_type) {
        "inline"
    } else {
        "attachment"
    };
    let modified = object.modified.map(|m| {
        // Whole seconds, as HTTP dates carry.
        let secs = m
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs)
    });
    let mut answer = match part {
        Some(_) => HttpResponse::PartialContent(),
        None => HttpResponse::Ok(),
    };
    answer
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{served_name}\""),
        ))
        .insert_header((
            header::CONTENT_TYPE,
            sniff::served_type(&object.content_type, served_name),
        ))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
        ))
        .insert_header((
            header::CACHE_CONTROL,
            "max-age=2592000, stale-while-revalidate=86400",
        ));
    if let Some(modified) = modified {
        answer.insert_header((header::LAST_MODIFIED, HttpDate::from(modified)));
        let since = req
            .headers()
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<HttpDate>().ok())
            .map(SystemTime::from);
        if since.is_some_and(|since| modified <= since) {
            return HttpResponse::NotModified()
                .insert_header((header::LAST_MODIFIED, HttpDate::from(modified)))
                .finish();
        }
    }
    let length = match part {
        Some((start, len)) => {
            answer.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {start}-{}/{}", start + len - 1, object.size),
            ));
            len
        }
        None => object.size,
    };
    answer.no_chunking(length);
    if req.method() == actix_web::http::Method::HEAD {
        return answer.finish();
    }
    answer.streaming(stream(object.reader))
}

/// The bytes of `reader`, read on a blocking thread in 64 KiB chunks as the
/// client takes them.
fn stream(
    reader: Box<dyn Read + Send>,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        loop {
            let mut buf = vec![0u8; 64 * 1024];
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(web::Bytes::from(buf))).is_err() {
                        break; // the client left
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}
