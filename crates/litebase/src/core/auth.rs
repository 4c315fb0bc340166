//! Signing in: the auth collection asked for, password checks (timing-safe),
//! the collection's `authRule`, and the tokens issued. Shared by the API's auth
//! endpoints and the admin UI's login.

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use serde_json::json;

use super::Core;
use crate::auth::token::{self, Purpose};
use crate::auth::{AuthError, password};
use crate::error::ApiError;
use crate::records::accounts::{self, AuthRow};
use crate::records::missing_collection;
use crate::records::read::{ReadCtx, Where, add_rule};
use crate::schema::{Collection, CollectionType, quote_ident};

/// The auth collection named in the path.
pub fn auth_collection(core: &Core, name: &str) -> Result<Arc<Collection>, ApiError> {
    let schema = core.schema.current();
    let c = schema.get(name).cloned().ok_or_else(missing_collection)?;
    if c.kind != CollectionType::Auth {
        return Err(ApiError::bad_request(
            "The collection is not an auth collection.",
        ));
    }
    Ok(c)
}

pub async fn verify_password(given: &str, hash: &str) -> bool {
    password::verify_async(given, hash).await
}

/// A signed auth token for `row` (the collection's token duration unless `ttl`
/// says otherwise). Shared by the API's sign-in answers and the admin UI's session.
pub fn issue_auth_token(
    core: &Core,
    c: &Collection,
    row: &AuthRow,
    ttl: Option<u64>,
    refreshable: bool,
) -> Result<String, ApiError> {
    let duration =
        ttl.unwrap_or_else(|| c.auth.as_ref().map_or(604_800, |a| a.auth_token.duration));
    Ok(token::issue(
        &core.token_secret(&c.id, Purpose::Auth),
        &row.token_key,
        &row.id,
        &c.id,
        duration,
        refreshable,
    )?)
}

/// The collection's `authRule`: `null` refuses everyone, `""` allows, else the
/// record must match it (with itself as `@request.auth`).
pub async fn check_auth_rule(
    core: &Core,
    c: &Arc<Collection>,
    row: &AuthRow,
) -> Result<(), ApiError> {
    let rule = c.auth.as_ref().and_then(|a| a.auth_rule.clone());
    let Some(rule) = rule else {
        return Err(ApiError::forbidden_with(
            "The collection does not allow signing in.",
        ));
    };
    if rule.trim().is_empty() {
        return Ok(());
    }
    let mut auth = row.record.clone();
    auth.insert("collectionId".into(), json!(c.id));
    auth.insert("collectionName".into(), json!(c.name));
    let info = crate::query::RequestInfo {
        auth: Some(auth),
        now: time::OffsetDateTime::now_utc(),
        ..Default::default()
    };
    let (c, id, schema) = (c.clone(), row.id.clone(), core.schema.current());
    let allowed = core
        .db
        .read(move |conn| {
            let ctx = ReadCtx {
                schema: &schema,
                req: &info,
                superuser: false,
            };
            let mut w = Where::default();
            w.push("t.\"id\" = ?".into(), vec![SqlValue::Text(id)]);
            add_rule(&mut w, &ctx, &c, Some(&rule))?;
            let sql = format!("SELECT 1 FROM {} AS t{}", quote_ident(&c.name), w.sql());
            Ok::<_, ApiError>(
                conn.prepare(&sql)?
                    .exists(rusqlite::params_from_iter(w.params.iter()))?,
            )
        })
        .await?;
    if allowed {
        Ok(())
    } else {
        Err(AuthError::BadCredentials.into())
    }
}

/// 400 unless the collection allows password sign-in.
pub fn ensure_password_auth(c: &Collection) -> Result<(), ApiError> {
    if c.auth.as_ref().is_some_and(|a| a.password_auth.enabled) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "The collection is not configured to allow password authentication.",
        ))
    }
}

/// Checks `identity` + `password` against the auth collection `c` (password auth
/// must be enabled, the `authRule` must admit the record) and returns the record.
/// Shared by the API's `auth-with-password` and the admin UI's login form.
pub async fn sign_in_with_password(
    core: &Core,
    c: &Arc<Collection>,
    identity: &str,
    given_password: &str,
    only: Option<String>,
) -> Result<AuthRow, ApiError> {
    ensure_password_auth(c)?;
    let identity = identity.to_string();
    let c2 = c.clone();
    let row = core
        .db
        .read(move |conn| accounts::by_identity(conn, &c2, &identity, only.as_deref()))
        .await?;
    // Verify even when nobody matched, so timing does not tell which identities exist.
    let hash = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.with(|h| h.clone()));
    let ok = verify_password(given_password, &hash).await;
    let Some(row) = row.filter(|_| ok) else {
        return Err(AuthError::BadCredentials.into());
    };
    check_auth_rule(core, c, &row).await?;
    Ok(row)
}

thread_local! {
    /// A hash of a random password, verified against when no record matched.
    static DUMMY_HASH: String = password::hash(&crate::id::new_id()).unwrap_or_default();
}
