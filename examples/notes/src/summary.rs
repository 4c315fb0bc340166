//! `GET /api/notes/summary`: the signed-in user's note counts, read from the
//! database, next to what they changed since the server started, from
//! [`Activity`].
//!
//! A custom route is an ordinary actix-web handler: litebase's [`Core`] and the
//! [`Auth`] extractor give it the database and the requester, and [`ApiError`]
//! gives its errors PocketBase's shape.

use std::sync::Arc;

use actix_web::web;
use litebase::ApiError;
use litebase::auth::request::Auth;
use litebase::core::Core;
use serde::Serialize;

use crate::activity::{Activity, Counts};

/// Where the route is mounted.
pub const PATH: &str = "/api/notes/summary";

/// The route's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The user's notes.
    pub total: i64,
    /// Those not done yet.
    pub open: i64,
    /// Those done.
    pub done: i64,
    /// Changes to the user's notes since the server started.
    pub activity: Counts,
}

/// Mounts the route; `activity` is the one the after-commit subscriber fills.
pub fn configure(cfg: &mut web::ServiceConfig, activity: Arc<Activity>) {
    cfg.service(
        web::resource(PATH)
            .app_data(web::Data::from(activity))
            .route(web::get().to(summary)),
    );
}

async fn summary(
    core: web::Data<Core>,
    activity: web::Data<Activity>,
    auth: Auth,
) -> Result<web::Json<Summary>, ApiError> {
    // Like PocketBase's routes that require auth: a guest (no token, or one that
    // does not verify) gets 401.
    let Some(user) = auth.record() else {
        return Err(ApiError::unauthorized(
            "The request requires valid record authorization token.",
        ));
    };
    let owner = user.id.clone();
    // SQLite runs on litebase's read pool, never on the async worker.
    let (total, done) = core
        .db
        .read(move |conn| {
            let counts = conn.query_row(
                "SELECT count(*), coalesce(sum(\"done\" != 0), 0) FROM \"notes\" WHERE \"owner\" = ?1",
                [&owner],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            Ok::<(i64, i64), ApiError>(counts)
        })
        .await?;
    Ok(web::Json(Summary {
        total,
        open: total - done,
        done,
        activity: activity.of(&user.id),
    }))
}
