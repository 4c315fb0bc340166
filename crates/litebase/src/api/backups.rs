//! `/api/backups`: PocketBase's backup endpoints (the JS SDK's
//! `pb.backups.getFullList()`, `create()`, `delete()`, `restore()`,
//! `getDownloadURL()`), superusers only.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::request::{Auth, resolve, resolve_as};
use crate::auth::token::Purpose;
use crate::backups;
use crate::core::Core;
use crate::error::ApiError;

/// Mounts the backup routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/backups", web::get().to(list))
        .route("/api/backups", web::post().to(create))
        .route("/api/backups/{key}", web::get().to(download))
        .route("/api/backups/{key}", web::delete().to(delete))
        .route("/api/backups/{key}/restore", web::post().to(restore));
}

async fn list(core: web::Data<Core>, auth: Auth) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(backups::list(&core).await?))
}

#[derive(Deserialize, Default)]
struct CreateBody {
    #[serde(default)]
    name: Option<String>,
}

async fn create(
    core: web::Data<Core>,
    auth: Auth,
    body: Option<web::Json<CreateBody>>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let body = body.map(web::Json::into_inner).unwrap_or_default();
    backups::create(&core, body.name.as_deref()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A download is allowed with a superuser's `Authorization` header, or with
/// `?token=` holding a superuser's file token (or auth token), so a plain
/// browser link works.
async fn download(
    core: web::Data<Core>,
    auth: Auth,
    req: HttpRequest,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let query = super::query_map(req.query_string())?;
    let link_token = query
        .get("token")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let allowed = auth.is_superuser()
        || (!link_token.is_empty()
            && (resolve_as(&core, link_token, Purpose::File)
                .await
                .is_superuser()
                || resolve(&core, link_token).await.is_superuser()));
    if !allowed {
        auth.require_superuser()?;
        return Err(ApiError::forbidden());
    }
    file_response(&core, &key).await
}

/// Backup `key` as an attachment, streamed in chunks: the API's download and
/// the admin UI's download link answer with this.
pub(crate) async fn file_response(core: &Core, key: &str) -> Result<HttpResponse, ApiError> {
    let path = backups::file(core, key)?;
    let file = web::block(move || {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok::<_, std::io::Error>((file, len))
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|_| ApiError::not_found())?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{key}\""),
        ))
        .body(actix_web::body::SizedStream::new(file.1, chunks(file.0))))
}

/// Size of one read of a download.
const CHUNK: usize = 256 * 1024;

/// The file's bytes as a stream of chunks, each read on a blocking thread, so
/// a large backup never sits in memory whole.
fn chunks(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, actix_web::Error>> {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            use std::io::Read;
            let mut buf = vec![0; CHUNK];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(bytes::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
            Err(e) => Some((Err(actix_web::error::ErrorInternalServerError(e)), None)),
        }
    })
}

async fn delete(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    backups::delete(&core, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn restore(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    backups::restore(&core, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}
