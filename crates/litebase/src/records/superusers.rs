//! The `_superusers` accounts: created and removed from the CLI (and later the admin
//! UI); they may do anything through the API.

use rusqlite::{OptionalExtension, params};

use crate::auth::{AuthError, password};
use crate::db::Db;
use crate::id::{new_id, random_string};

/// Characters of a token key (rotating it invalidates every token of the account).
const TOKEN_KEY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// What `upsert` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted {
    /// A new account, with its id.
    Created(String),
    /// The existing account's password was replaced (and its tokens invalidated).
    Updated(String),
}

/// Checks an email address the way records' email fields are checked
/// (`records::parse::is_email`, PocketBase's rules: no trimming, no quoted or IP
/// parts) and at most 254 bytes; returns the address as given.
pub fn validate_email(email: &str) -> Result<String, AuthError> {
    if email.len() > 254 || !crate::records::parse::is_email(email) {
        return Err(AuthError::Invalid {
            field: "email",
            message: "Must be a valid email address.".into(),
        });
    }
    Ok(email.to_string())
}

/// Creates the superuser `email`, or sets a new password if it exists. Either way
/// the account's token key is rotated, so tokens issued before are void.
pub async fn upsert(db: &Db, email: &str, new_password: &str) -> Result<Upserted, AuthError> {
    let email = validate_email(email)?;
    password::validate(new_password)?;
    let hash = password::hash_async(new_password).await?;
    let token_key = random_string(50, TOKEN_KEY_ALPHABET);
    db.write(move |conn| {
        let existing: Option<String> = conn
            .query_row(
                "SELECT id FROM _superusers WHERE email = ?1 COLLATE NOCASE",
                [&email],
                |row| row.get(0),
            )
            .optional()?;
        match existing {
            Some(id) => {
                conn.execute(
                    "UPDATE _superusers SET password = ?1, tokenKey = ?2,
                     updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now') WHERE id = ?3",
                    params![hash, token_key, id],
                )?;
                Ok(Upserted::Updated(id))
            }
            None => {
                let id = new_id();
                conn.execute(
                    "INSERT INTO _superusers (id, email, password, tokenKey) VALUES (?1, ?2, ?3, ?4)",
                    params![id, email, hash, token_key],
                )?;
                Ok(Upserted::Created(id))
            }
        }
    })
    .await
}

/// Deletes the superuser `email`; `Ok(false)` if there was none.
pub async fn delete(db: &Db, email: &str) -> Result<bool, AuthError> {
    let email = email.trim().to_string();
    db.write(move |conn| {
        let n = conn.execute(
            "DELETE FROM _superusers WHERE email = ?1 COLLATE NOCASE",
            [email],
        )?;
        Ok(n > 0)
    })
    .await
}

/// How many superusers exist (the admin UI's first-run check needs it).
pub async fn count(db: &Db) -> Result<u64, AuthError> {
    db.read(|conn| {
        Ok(
            conn.query_row("SELECT count(*) FROM _superusers", [], |row| {
                row.get::<_, i64>(0)
            })? as u64,
        )
    })
    .await
}
