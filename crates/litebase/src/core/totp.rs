//! Authenticator apps (TOTP) for auth records, litebase's addition to
//! PocketBase's factors: enrol (a secret, its `otpauth://` URI and QR code),
//! confirm with a first code (which returns one-time recovery codes), check a
//! code or a recovery code as a second factor, remove. State lives in the
//! `_totps` and `_totpRecoveryCodes` tables, which no collection exposes; each
//! check runs on the writer thread, so replays and failure counts are exact.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Core;
use super::auth::field_problem;
use crate::auth::totp;
use crate::error::ApiError;
use crate::records::accounts::AuthRow;
use crate::schema::Collection;

/// Recovery codes handed out at confirmation.
pub const RECOVERY_CODES: usize = 10;
/// Wrong codes in a row before the record is locked out of TOTP for [`LOCK_SECONDS`].
pub const MAX_FAILURES: i64 = 5;
/// How long a lock-out lasts.
pub const LOCK_SECONDS: i64 = 300;

/// 32 letters and digits without look-alikes (l, o, 0, 1): 5 bits a character.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// What enrolment gives the user: the secret to type, the URI to scan, its QR code.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    /// The secret in base32, for typing into an app.
    pub secret: String,
    /// The `otpauth://totp/…` URI.
    pub uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr: String,
}

/// Whether a record has TOTP on, for its account page.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// A confirmed authenticator app is set up.
    pub enabled: bool,
    /// Enrolment started and waits for its first code.
    pub pending: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
}

fn invalid_code() -> ApiError {
    field_problem(
        "code",
        "validation_invalid_code",
        "Invalid or expired code.",
    )
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Starts (or restarts) enrolment for `row`: a new secret, not yet confirmed.
/// Refused while a confirmed app is set up (remove it first).
pub async fn setup(core: &Core, c: &Collection, row: &AuthRow) -> Result<Enrolment, ApiError> {
    let secret = totp::new_secret();
    let shown = enrolment(core, &secret, row.email())?;
    let (cid, rid, stored) = (c.id.clone(), row.id.clone(), shown.secret.clone());
    core.db
        .write(move |conn| {
            if state(conn, &cid, &rid)?.is_some_and(|s| s.confirmed) {
                return Err(ApiError::bad_request(
                    "An authenticator app is already set up; remove it first.",
                ));
            }
            conn.execute(
                "INSERT INTO _totps (collectionRef, recordRef, secret) VALUES (?1, ?2, ?3)
                 ON CONFLICT (collectionRef, recordRef) DO UPDATE SET secret = excluded.secret,
                 confirmed = 0, lastStep = 0, failures = 0, failedAt = '',
                 updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now')",
                rusqlite::params![cid, rid, stored],
            )?;
            Ok(())
        })
        .await?;
    Ok(shown)
}

/// The enrolment waiting for its first code, shown again (a wrong code, a
/// reload); `None` when none waits.
pub async fn pending(
    core: &Core,
    c: &Collection,
    row: &AuthRow,
) -> Result<Option<Enrolment>, ApiError> {
    let (cid, rid) = (c.id.clone(), row.id.clone());
    let found = core
        .db
        .read(move |conn| Ok::<_, ApiError>(state(conn, &cid, &rid)?.filter(|s| !s.confirmed)))
        .await?;
    let Some(secret) = found.and_then(|s| totp::decode_secret(&s.secret)) else {
        return Ok(None);
    };
    Ok(Some(enrolment(core, &secret, row.email())?))
}

fn enrolment(core: &Core, secret: &[u8], account: &str) -> Result<Enrolment, ApiError> {
    let issuer = core.settings.get().meta.app_name.clone();
    let uri = totp::otpauth_uri(secret, &issuer, account);
    let qr = totp::qr_svg(&uri).ok_or_else(ApiError::internal)?;
    Ok(Enrolment {
        secret: totp::encode_secret(secret),
        uri,
        qr,
    })
}

/// Finishes enrolment with the first code the app shows; returns the recovery
/// codes (shown once: only their hashes are kept).
pub async fn confirm(
    core: &Core,
    c: &Collection,
    record_id: &str,
    code: &str,
) -> Result<Vec<String>, ApiError> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| hash_recovery(c)).collect();
    let (cid, rid, code) = (c.id.clone(), record_id.to_string(), code.to_string());
    let ok = core
        .db
        .write(move |conn| {
            let s = state(conn, &cid, &rid)?
                .filter(|s| !s.confirmed)
                .ok_or_else(|| {
                    ApiError::bad_request("No authenticator app setup is waiting for a code.")
                })?;
            if !check_code(conn, &cid, &rid, &s, &code, false)? {
                return Ok(false);
            }
            conn.execute(
                "UPDATE _totps SET confirmed = 1 WHERE collectionRef = ?1 AND recordRef = ?2",
                rusqlite::params![cid, rid],
            )?;
            conn.execute(
                "DELETE FROM _totpRecoveryCodes WHERE collectionRef = ?1 AND recordRef = ?2",
                rusqlite::params![cid, rid],
            )?;
            for hash in &hashes {
                conn.execute(
                    "INSERT INTO _totpRecoveryCodes (collectionRef, recordRef, hash) VALUES (?1, ?2, ?3)",
                    rusqlite::params![cid, rid, hash],
                )?;
            }
            Ok::<_, ApiError>(true)
        })
        .await?;
    if !ok {
        return Err(invalid_code());
    }
    Ok(codes)
}

/// Checks a code of the record's confirmed app, or one of its recovery codes
/// (spent on use). Wrong codes count toward a lock-out.
pub async fn verify(
    core: &Core,
    c: &Collection,
    record_id: &str,
    code: &str,
) -> Result<(), ApiError> {
    let (cid, rid, code) = (c.id.clone(), record_id.to_string(), code.to_string());
    let ok = core
        .db
        .write(
            move |conn| match state(conn, &cid, &rid)?.filter(|s| s.confirmed) {
                Some(s) => check_code(conn, &cid, &rid, &s, &code, true),
                None => Ok(false),
            },
        )
        .await?;
    if ok { Ok(()) } else { Err(invalid_code()) }
}

/// Removes the record's authenticator app and recovery codes, once a current
/// code (or a recovery code) proves the owner holds it.
pub async fn remove(
    core: &Core,
    c: &Collection,
    record_id: &str,
    code: &str,
) -> Result<(), ApiError> {
    let (cid, rid, code) = (c.id.clone(), record_id.to_string(), code.to_string());
    let ok = core
        .db
        .write(move |conn| {
            let s = state(conn, &cid, &rid)?
                .filter(|s| s.confirmed)
                .ok_or_else(|| ApiError::bad_request("No authenticator app is set up."))?;
            if !check_code(conn, &cid, &rid, &s, &code, true)? {
                return Ok(false);
            }
            delete_all(conn, &cid, &rid)?;
            Ok::<_, ApiError>(true)
        })
        .await?;
    if ok { Ok(()) } else { Err(invalid_code()) }
}

/// Whether the record has TOTP on, and how many recovery codes it has left.
pub async fn status(core: &Core, c: &Collection, record_id: &str) -> Result<Status, ApiError> {
    let (cid, rid) = (c.id.clone(), record_id.to_string());
    core.db
        .read(move |conn| {
            let Some(s) = state(conn, &cid, &rid)? else {
                return Ok(Status::default());
            };
            let left: u32 = conn.query_row(
                "SELECT count(*) FROM _totpRecoveryCodes WHERE collectionRef = ?1 AND recordRef = ?2",
                rusqlite::params![cid, rid],
                |r| r.get(0),
            )?;
            Ok::<_, ApiError>(Status {
                enabled: s.confirmed,
                pending: !s.confirmed,
                recovery_codes_left: if s.confirmed { left } else { 0 },
            })
        })
        .await
}

/// One `_totps` row.
struct State {
    secret: String,
    confirmed: bool,
    last_step: i64,
    failures: i64,
    failed_at: i64,
}

fn state(conn: &Connection, cid: &str, rid: &str) -> Result<Option<State>, ApiError> {
    Ok(conn
        .query_row(
            "SELECT secret, confirmed, lastStep, failures, CAST(failedAt AS INTEGER)
             FROM _totps WHERE collectionRef = ?1 AND recordRef = ?2",
            rusqlite::params![cid, rid],
            |r| {
                Ok(State {
                    secret: r.get(0)?,
                    confirmed: r.get(1)?,
                    last_step: r.get(2)?,
                    failures: r.get(3)?,
                    failed_at: r.get(4)?,
                })
            },
        )
        .optional()?)
}

fn delete_all(conn: &Connection, cid: &str, rid: &str) -> Result<(), ApiError> {
    conn.execute(
        "DELETE FROM _totps WHERE collectionRef = ?1 AND recordRef = ?2",
        rusqlite::params![cid, rid],
    )?;
    conn.execute(
        "DELETE FROM _totpRecoveryCodes WHERE collectionRef = ?1 AND recordRef = ?2",
        rusqlite::params![cid, rid],
    )?;
    Ok(())
}

/// Checks `given` against the app's codes (each step accepted once) and, when
/// `recovery` allows, the recovery codes. A wrong code is `Ok(false)` (its
/// failure is counted, and must be committed); while locked out, 429.
fn check_code(
    conn: &Connection,
    cid: &str,
    rid: &str,
    s: &State,
    given: &str,
    recovery: bool,
) -> Result<bool, ApiError> {
    let now = now();
    if s.failures >= MAX_FAILURES && now - s.failed_at < LOCK_SECONDS {
        return Err(ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong codes; try again in a few minutes.",
        ));
    }
    let secret = totp::decode_secret(&s.secret).ok_or_else(ApiError::internal)?;
    let step = totp::matching_step(&secret, given, now.max(0) as u64)
        .map(|step| step as i64)
        .filter(|step| *step > s.last_step);
    let ok = match step {
        Some(step) => {
            conn.execute(
                "UPDATE _totps SET lastStep = ?3 WHERE collectionRef = ?1 AND recordRef = ?2",
                rusqlite::params![cid, rid, step],
            )?;
            true
        }
        None if recovery => {
            let spent = conn.execute(
                "DELETE FROM _totpRecoveryCodes WHERE collectionRef = ?1 AND recordRef = ?2 AND hash = ?3",
                rusqlite::params![cid, rid, hash_recovery(given)],
            )?;
            spent == 1
        }
        None => false,
    };
    if ok {
        conn.execute(
            "UPDATE _totps SET failures = 0, failedAt = '' WHERE collectionRef = ?1 AND recordRef = ?2",
            rusqlite::params![cid, rid],
        )?;
        return Ok(true);
    }
    // A failure after the lock-out window starts a new count.
    let failures = if now - s.failed_at >= LOCK_SECONDS {
        1
    } else {
        s.failures + 1
    };
    conn.execute(
        "UPDATE _totps SET failures = ?3, failedAt = ?4 WHERE collectionRef = ?1 AND recordRef = ?2",
        rusqlite::params![cid, rid, failures, now.to_string()],
    )?;
    Ok(false)
}

/// A recovery code: 16 characters of 5 random bits (80 bits), in groups of four.
fn new_recovery_code() -> String {
    let raw = crate::id::random_string(16, RECOVERY_ALPHABET);
    raw.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a recovery code: SHA-256 of its characters (dashes,
/// spaces and case ignored), hex.
fn hash_recovery(code: &str) -> String {
    let clean: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Sha256::digest(clean.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_grouped_and_hash_the_same_however_typed() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        let typed = code.replace('-', " ").to_uppercase();
        assert_eq!(hash_recovery(&code), hash_recovery(&typed));
        assert_ne!(hash_recovery(&code), hash_recovery(&new_recovery_code()));
    }
}
