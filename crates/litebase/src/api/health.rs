//! `GET /api/health`, answered exactly as PocketBase does, for load balancers and
//! the SDK alike.

use actix_web::{HttpResponse, web};
use serde_json::json;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/health", web::get().to(health))
        .route("/api/health", web::head().to(health));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"message": "API is healthy.", "code": 200, "data": {}}))
}
