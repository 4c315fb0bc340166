//! `POST /api/files/token`: a short-lived token a browser link can carry as
//! `?token=` (PocketBase's file token; here it opens backup downloads).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::auth::request::Auth;
use crate::auth::token;
use crate::core::Core;
use crate::error::ApiError;
use crate::records::accounts;

/// How long a file token works, in seconds (PocketBase: 3 minutes).
pub const FILE_TOKEN_TTL: u64 = 180;

/// Mounts the route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/files/token", web::post().to(file_token));
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
