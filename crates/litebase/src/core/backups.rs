//! Backups as admins manage them: of the running database, into the data
//! directory's backups folder; a restore reloads everything the app keeps in
//! memory (schema, settings, realtime clients, the app's own state).
//!
//! [`create`], [`list`], [`delete`] and [`file`] are the one place backups are
//! saved, listed and removed: the API, the admin pages and the scheduled
//! backup (`__pbAutoBackup__`, in `core/crons.rs`) all go through them, so
//! remote storage (PocketBase's `backups.s3`) plugs in here.

use std::path::PathBuf;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::Core;
use crate::backups::*;
use crate::db::DbError;
use crate::error::ApiError;

fn backups_dir(core: &Core) -> PathBuf {
    dir_of(&core.config.global.data_dir)
}

/// Makes a backup of the running database (`name` or a generated one).
pub async fn create(core: &Core, name: Option<&str>) -> Result<BackupInfo, ApiError> {
    Ok(create_in(&core.db, &backups_dir(core), name).await?)
}

/// Every backup, newest first.
pub async fn list(core: &Core) -> Result<Vec<BackupInfo>, ApiError> {
    let dir = backups_dir(core);
    actix_web::web::block(move || list_in(&dir))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(Into::into)
}

/// The file of backup `key`, for downloading; 400 for a bad name, 404 when
/// missing.
pub fn file(core: &Core, key: &str) -> Result<PathBuf, ApiError> {
    let path = path_in(&backups_dir(core), key)?;
    if !path.is_file() {
        return Err(ApiError::not_found());
    }
    Ok(path)
}

/// Deletes backup `key`.
pub async fn delete(core: &Core, key: &str) -> Result<(), ApiError> {
    let path = file(core, key)?;
    actix_web::web::block(move || std::fs::remove_file(path))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| ApiError::from(BackupError::Io(e)))
}

/// Restores backup `key` into the running server: copies it into the live
/// database, applies pending migrations, reloads the schema and settings,
/// disconnects realtime subscribers (they reconnect and resubscribe) and runs
/// the apps' after-restore functions.
pub async fn restore(core: &Core, key: &str) -> Result<(), ApiError> {
    restore_into(&core.db, &backups_dir(core), key).await?;
    let mut sets = vec![crate::system_migration_set()];
    sets.extend(core.app_migrations);
    crate::db::migrate::apply(&core.db, &sets).await?;
    let (collections, stored) = core
        .db
        .read(|conn| {
            let collections = crate::schema::store::load_all(conn)?;
            let stored = crate::settings::read_stored(conn)?;
            Ok::<_, DbError>((collections, stored))
        })
        .await?;
    core.schema.replace(crate::schema::Schema::new(collections));
    let defaults = crate::settings::Settings::from_config(&core.config, core.settings.declared());
    let settings = crate::settings::effective(&defaults, stored.as_ref(), core.settings.declared());
    let mailer = crate::settings::mailer_for(&settings).unwrap_or_else(|_| core.mailer());
    core.apply_settings(settings, mailer);
    core.realtime.close_all();
    core.changes.restored();
    core.run_after_restore();
    tracing::info!(backup = key, "restored a backup into the running database");
    Ok(())
}

/// Backup `key` as an attachment, streamed in chunks: the API's download and
/// the admin UI's download link answer with this.
pub async fn file_response(core: &Core, key: &str) -> Result<HttpResponse, ApiError> {
    let path = file(core, key)?;
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
