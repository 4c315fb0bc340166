//! The MFA step of every sign-in answer: after a factor passed, either the
//! token (`{token, record}`) or PocketBase's 401 `{"mfaId": …}` asking for a
//! second factor. Sign-in handlers (password, OTP, TOTP, passkeys) end with
//! [`sign_in_answer`]; one that builds its own answer (OAuth2) asks
//! [`second_factor_wanted`] first.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};

use crate::core::Core;
use crate::core::mfa::{self, Outcome};
use crate::error::ApiError;
use crate::records::accounts::AuthRow;
use crate::schema::Collection;

/// The `mfaId` a sign-in request carries: in its query string, else its body
/// (as PocketBase reads it); `""` when none.
pub(crate) fn mfa_id_of(req: &HttpRequest, body: &Map<String, Value>) -> String {
    let from_query = super::query_map(req.query_string())
        .ok()
        .and_then(|q| q.get("mfaId").and_then(Value::as_str).map(str::to_string))
        .filter(|s| !s.is_empty());
    from_query.unwrap_or_else(|| {
        body.get("mfaId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    })
}

/// The answer to a sign-in of `row` whose factor `method` (see
/// [`crate::core::mfa::method`]) passed: the token, or 401 `{"mfaId"}` when
/// the collection's MFA wants a second factor. `mfa_id` is the client's (see
/// [`mfa_id_of`]).
pub(crate) async fn sign_in_answer(
    core: &Core,
    c: &Arc<Collection>,
    row: &AuthRow,
    req: &HttpRequest,
    method: &str,
    mfa_id: &str,
) -> Result<HttpResponse, ApiError> {
    if let Some(ask) = second_factor_wanted(core, c, row, method, mfa_id).await? {
        return Ok(ask);
    }
    super::auth::auth_response(core, c, row, req, None, true).await
}

/// The MFA step alone, for a sign-in that builds its own answer (OAuth2, whose
/// answer carries `meta`): `Some(401 {"mfaId"})` to send as it is, or `None`
/// when the sign-in is complete and the caller issues the token.
///
/// ```ignore
/// if let Some(ask) = super::mfa::second_factor_wanted(&core, &c, &row, method::OAUTH2, &mfa_id).await? {
///     return Ok(ask);
/// }
/// ```
pub(crate) async fn second_factor_wanted(
    core: &Core,
    c: &Arc<Collection>,
    row: &AuthRow,
    method: &str,
    mfa_id: &str,
) -> Result<Option<HttpResponse>, ApiError> {
    Ok(match mfa::check(core, c, row, method, mfa_id).await? {
        Outcome::SignedIn => None,
        Outcome::SecondFactor(id) => {
            Some(HttpResponse::build(StatusCode::UNAUTHORIZED).json(json!({ "mfaId": id })))
        }
    })
}
