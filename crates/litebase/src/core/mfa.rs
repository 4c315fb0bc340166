//! Multi-factor auth as PocketBase 0.40 does it: when an auth collection's
//! `mfa` is on (and its `rule` matches the record), a first factor that passed
//! leaves an `_mfas` row and the client is answered 401 `{"mfaId"}`; a second
//! sign-in of the same record with another method and that `mfaId` spends the
//! row and gets the token. Every sign-in endpoint (password, OTP, OAuth2, TOTP,
//! passkeys) calls [`check`] once the factor itself passed.

use std::sync::Arc;

use actix_web::web;

use rusqlite::OptionalExtension;
use rusqlite::types::Value as SqlValue;

use super::Core;
use crate::error::ApiError;
use crate::records::accounts::AuthRow;
use crate::records::read::{ReadCtx, Where, add_rule};
use crate::schema::{Collection, quote_ident};

/// The names of the factors, as `_mfas.method` stores them (PocketBase's for
/// password, OTP and OAuth2; litebase's own for TOTP and passkeys).
pub mod method {
    /// `auth-with-password`.
    pub const PASSWORD: &str = "password";
    /// `auth-with-otp` (a code by email).
    pub const OTP: &str = "otp";
    /// `auth-with-oauth2`.
    pub const OAUTH2: &str = "oauth2";
    /// `auth-with-totp` (an authenticator app or a recovery code).
    pub const TOTP: &str = "totp";
    /// A passkey (WebAuthn).
    pub const WEBAUTHN: &str = "webauthn";
}

/// What a sign-in that passed its factor leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Signed in: issue the token.
    SignedIn,
    /// A second factor is owed: answer 401 with this `mfaId`.
    SecondFactor(String),
}

/// Decides the MFA step of a sign-in of `row` whose factor `method` passed.
/// `mfa_id` is what the client sent (`""`: none): none starts an MFA session
/// (when the collection wants one for this record), a valid one of another
/// method completes it. Errors are PocketBase's 400s for unknown, expired,
/// foreign or same-method sessions.
pub async fn check(
    core: &Core,
    c: &Arc<Collection>,
    row: &AuthRow,
    method: &str,
    mfa_id: &str,
) -> Result<Outcome, ApiError> {
    let Some(mfa) = c.auth.as_ref().map(|a| a.mfa.clone()).filter(|m| m.enabled) else {
        return Ok(Outcome::SignedIn);
    };
    if !applies_to(core, c, &row.id, &mfa.rule).await? {
        return Ok(Outcome::SignedIn);
    }
    if mfa_id.is_empty() {
        return start(core, c, &row.id, method, mfa.duration)
            .await
            .map(Outcome::SecondFactor);
    }
    let session = find(core, mfa_id, mfa.duration).await?;
    let Some(session) = session.filter(|s| !s.expired) else {
        forget(core, mfa_id).await?;
        return Err(ApiError::bad_request("Invalid or expired MFA session."));
    };
    if session.record_ref != row.id || session.collection_ref != c.id {
        return Err(ApiError::bad_request("Invalid MFA session."));
    }
    if session.method == method {
        return Err(ApiError::bad_request(
            "A different authentication method is required.",
        ));
    }
    forget(core, mfa_id).await?;
    Ok(Outcome::SignedIn)
}

/// The record an unexpired MFA session of `c` belongs to: second factors that
/// carry no identity (TOTP, recovery codes) learn whom they check from it.
pub async fn record_of(
    core: &Core,
    c: &Collection,
    mfa_id: &str,
) -> Result<Option<String>, ApiError> {
    let duration = c.auth.as_ref().map_or(0, |a| a.mfa.duration);
    let session = find(core, mfa_id, duration).await?;
    Ok(session
        .filter(|s| !s.expired && s.collection_ref == c.id)
        .map(|s| s.record_ref))
}

/// Ends an MFA session early (too many wrong second factors).
pub async fn forget(core: &Core, mfa_id: &str) -> Result<(), ApiError> {
    let id = mfa_id.to_string();
    core.db
        .write(move |conn| {
            conn.execute("DELETE FROM _mfas WHERE id = ?1", [id])?;
            Ok::<_, ApiError>(())
        })
        .await
}

/// One `_mfas` row as read back.
struct Session {
    collection_ref: String,
    record_ref: String,
    method: String,
    expired: bool,
}

async fn find(core: &Core, mfa_id: &str, duration: u64) -> Result<Option<Session>, ApiError> {
    if mfa_id.is_empty() || mfa_id.len() > 100 {
        return Ok(None);
    }
    let (id, max_age) = (mfa_id.to_string(), format!("-{duration} seconds"));
    core.db
        .read(move |conn| {
            Ok::<_, ApiError>(
                conn.query_row(
                    "SELECT collectionRef, recordRef, method,
                            created < strftime('%Y-%m-%d %H:%M:%fZ', 'now', ?2)
                     FROM _mfas WHERE id = ?1",
                    rusqlite::params![id, max_age],
                    |r| {
                        Ok(Session {
                            collection_ref: r.get(0)?,
                            record_ref: r.get(1)?,
                            method: r.get(2)?,
                            expired: r.get(3)?,
                        })
                    },
                )
                .optional()?,
            )
        })
        .await
}

/// A new `_mfas` row for the record's first factor; the collection's expired
/// rows go at the same time.
async fn start(
    core: &Core,
    c: &Collection,
    record_id: &str,
    method: &str,
    duration: u64,
) -> Result<String, ApiError> {
    let id = crate::id::new_id();
    let (row_id, cid, rid, method) = (
        id.clone(),
        c.id.clone(),
        record_id.to_string(),
        method.to_string(),
    );
    let max_age = format!("-{duration} seconds");
    core.db
        .write(move |conn| {
            conn.execute(
                "DELETE FROM _mfas WHERE collectionRef = ?1
                 AND created < strftime('%Y-%m-%d %H:%M:%fZ', 'now', ?2)",
                rusqlite::params![cid, max_age],
            )?;
            conn.execute(
                "INSERT INTO _mfas (id, collectionRef, recordRef, method) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![row_id, cid, rid, method],
            )?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(id)
}

/// Whether the collection's `mfa.rule` asks this record for MFA: an empty
/// rule asks everyone; otherwise the record must match it. As in PocketBase,
/// `@request.auth` is the sign-in request's own (normally nobody), and a rule
/// that fails to compile refuses the sign-in.
async fn applies_to(
    core: &Core,
    c: &Arc<Collection>,
    record_id: &str,
    rule: &str,
) -> Result<bool, ApiError> {
    if rule.trim().is_empty() {
        return Ok(true);
    }
    let info = crate::query::RequestInfo {
        now: time::OffsetDateTime::now_utc(),
        ..Default::default()
    };
    let (c, id, rule, schema) = (
        c.clone(),
        record_id.to_string(),
        rule.to_string(),
        core.schema.current(),
    );
    let matched = core
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
        .await;
    match matched {
        Ok(m) => Ok(m),
        Err(e) if e.status().is_client_error() => {
            Err(ApiError::bad_request("Failed to authenticate."))
        }
        Err(e) => Err(e),
    }
}

/// Forgets the second factors of deleted auth records: their MFA sessions,
/// authenticator apps, recovery codes, passkeys and passkey ceremonies go when
/// the delete commits (as PocketBase deletes a record's `_mfas`). Runs as a
/// change-stream subscriber for as long as the server runs.
pub fn forget_deleted_records(core: web::Data<Core>) {
    use crate::changes::{Committed, RecordAction};
    use crate::schema::CollectionType;
    let interest: crate::changes::Interest = Arc::new(|change| {
        change.action == RecordAction::Delete && change.collection.kind == CollectionType::Auth
    });
    let mut changes = core.changes.subscribe_where(interest);
    actix_web::rt::spawn(async move {
        while let Some(committed) = changes.recv().await {
            let Committed::Changes(batch) = committed else {
                continue;
            };
            let gone: Vec<(String, String)> = batch
                .iter()
                .filter(|c| c.action == RecordAction::Delete)
                .map(|c| (c.collection.id.clone(), c.id().to_string()))
                .collect();
            if gone.is_empty() {
                continue;
            }
            let swept = core
                .db
                .write(move |conn| {
                    for (cid, rid) in &gone {
                        for table in FACTOR_TABLES {
                            conn.execute(
                                &format!("DELETE FROM {table} WHERE collectionRef = ?1 AND recordRef = ?2"),
                                rusqlite::params![cid, rid],
                            )?;
                        }
                    }
                    Ok::<_, ApiError>(())
                })
                .await;
            if let Err(err) = swept {
                tracing::warn!(error = %err.message, "forgetting a deleted record's second factors failed");
            }
        }
    });
}

/// The tables keyed by (collectionRef, recordRef) that hold a record's factors.
const FACTOR_TABLES: &[&str] = &[
    "_mfas",
    "_otps",
    "_totps",
    "_totpRecoveryCodes",
    "_webauthnCredentials",
    "_webauthnCeremonies",
];
