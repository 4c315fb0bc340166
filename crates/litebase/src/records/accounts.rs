//! Records of auth collections as the auth flows need them: found by identity,
//! with their password hash and token key, and the few updates the flows make.

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use std::sync::Arc;

use super::error::RecordError;
use crate::changes::{Origin, RecordAction, RecordChange};
use crate::hooks::{Hooks, RecordEvent};
use crate::id::random_string;
use crate::records::read::{row_to_record, select_list};
use crate::schema::{Collection, FieldKind, quote_ident};

const TOKEN_KEY_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A fresh token key: rotating it voids every token the record had.
pub fn new_token_key() -> String {
    random_string(50, TOKEN_KEY_ALPHABET)
}

/// An auth record with its secrets.
#[derive(Debug, Clone)]
pub struct AuthRow {
    /// The record id.
    pub id: String,
    /// The record as its owner sees it (email included; no password, no token key).
    pub record: Map<String, Value>,
    /// The key its tokens are signed with.
    pub token_key: String,
    /// The argon2id hash of its password (empty: none set).
    pub password_hash: String,
}

impl AuthRow {
    /// The record's email address.
    pub fn email(&self) -> &str {
        self.record
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Whether the address was confirmed.
    pub fn verified(&self) -> bool {
        self.record
            .get("verified")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

fn select(c: &Collection, condition: &str) -> String {
    format!(
        "SELECT {}, t.\"tokenKey\", t.\"password\" FROM {} AS t WHERE {condition} LIMIT 1",
        select_list(c),
        quote_ident(&c.name)
    )
}

fn read_row(c: &Collection, row: &rusqlite::Row<'_>) -> rusqlite::Result<AuthRow> {
    let record = row_to_record(c, row, true)?;
    let n = record.len() - 2; // collectionId and collectionName are not columns
    Ok(AuthRow {
        id: record
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        token_key: row.get(n)?,
        password_hash: row.get(n + 1)?,
        record,
    })
}

/// The auth record `id` of `c`.
pub fn load(conn: &Connection, c: &Collection, id: &str) -> Result<Option<AuthRow>, RecordError> {
    Ok(conn
        .prepare_cached(&select(c, "t.\"id\" = ?1"))?
        .query_row([id], |row| read_row(c, row))
        .optional()?)
}

/// The record whose email (case-insensitive) is `email`.
pub fn by_email(
    conn: &Connection,
    c: &Collection,
    email: &str,
) -> Result<Option<AuthRow>, RecordError> {
    if email.trim().is_empty() {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached(&select(c, "t.\"email\" = ?1 COLLATE NOCASE"))?
        .query_row([email.trim()], |row| read_row(c, row))
        .optional()?)
}

/// The record matching `identity` on one of the collection's identity fields
/// (`only`: just that one, if it is an identity field).
pub fn by_identity(
    conn: &Connection,
    c: &Collection,
    identity: &str,
    only: Option<&str>,
) -> Result<Option<AuthRow>, RecordError> {
    let fields = c
        .auth
        .as_ref()
        .map(|a| a.password_auth.identity_fields.clone())
        .unwrap_or_else(|| vec!["email".into()]);
    for field in fields
        .iter()
        .filter(|f| only.is_none_or(|o| o == f.as_str()))
    {
        if c.field(field).is_none() {
            continue;
        }
        let condition = if field == "email" {
            "t.\"email\" = ?1 COLLATE NOCASE".to_string()
        } else {
            format!("t.{} = ?1", quote_ident(field))
        };
        let found = conn
            .prepare_cached(&select(c, &condition))?
            .query_row([identity.trim()], |row| read_row(c, row))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Sets fields of an auth record for an auth flow that checked its own token
/// (verification, password reset, email change, OTP), bumping `onUpdate`
/// autodate fields. Like every write it runs the record hooks (which may
/// abort it) and announces the change to the commit stream as the client's
/// request.
pub fn set(
    conn: &Connection,
    hooks: &Hooks,
    c: &Arc<Collection>,
    id: &str,
    values: &[(&str, rusqlite::types::Value)],
) -> Result<(), RecordError> {
    let existing = super::write::load(conn, c, id)?.ok_or(RecordError::NotFound)?;
    let was_verified = existing.get("verified").and_then(Value::as_bool) == Some(true);
    let mut record = existing;
    for (key, value) in values {
        if let Some(field) = c.field(key) {
            record.insert(
                key.to_string(),
                super::value::from_sql(field, value.clone()),
            );
        }
    }
    let mut event = RecordEvent {
        action: RecordAction::Update,
        collection: c,
        record,
        conn,
    };
    hooks.run(&mut event, &mut |_| Ok(write_fields(conn, c, id, values)?))?;
    let stored = super::write::load(conn, c, id)?.ok_or(RecordError::Internal)?;
    let now_verified = stored.get("verified").and_then(Value::as_bool) == Some(true);
    crate::db::events::emit(RecordChange {
        action: RecordAction::Update,
        collection: c.clone(),
        record: stored,
        origin: Origin::Request,
    });
    if !was_verified && now_verified {
        verified_upgrade(conn, hooks, c, id)?;
    }
    Ok(())
}

/// [`super::external_auths::on_verified`] for the auth flows, which write
/// without a request's schema snapshot: the links collection is read here.
fn verified_upgrade(
    conn: &Connection,
    hooks: &Hooks,
    c: &Arc<Collection>,
    id: &str,
) -> Result<(), RecordError> {
    let Some(links) = crate::schema::store::load_one(conn, super::external_auths::COLLECTION_ID)?
    else {
        return Ok(());
    };
    let schema = crate::schema::Schema::new(vec![links]);
    let req = crate::query::RequestInfo::default();
    let ctx = super::write::WriteCtx {
        hooks,
        origin: Origin::Request,
        schema: &schema,
        req: &req,
        superuser: true,
        validate: true,
        auth: super::write::PreparedAuth::default(),
        uploads: &[],
        new_id: None,
    };
    super::external_auths::on_verified(conn, &ctx, c, id)
}

/// The UPDATE of [`set`].
fn write_fields(
    conn: &Connection,
    c: &Collection,
    id: &str,
    values: &[(&str, rusqlite::types::Value)],
) -> Result<(), RecordError> {
    let mut sets: Vec<String> = values
        .iter()
        .map(|(k, _)| format!("{} = ?", quote_ident(k)))
        .collect();
    let mut params: Vec<rusqlite::types::Value> = values.iter().map(|(_, v)| v.clone()).collect();
    let now = crate::query::format_datetime(time::OffsetDateTime::now_utc());
    for f in &c.fields {
        if let FieldKind::Autodate {
            on_update: true, ..
        } = f.kind
        {
            sets.push(format!("{} = ?", quote_ident(&f.name)));
            params.push(rusqlite::types::Value::Text(now.clone()));
        }
    }
    params.push(rusqlite::types::Value::Text(id.to_string()));
    let sql = format!(
        "UPDATE {} SET {} WHERE \"id\" = ?",
        quote_ident(&c.name),
        sets.join(", ")
    );
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(params.iter()))?;
    Ok(())
}

/// New password (already hashed) and a new token key, so older tokens stop working.
pub fn set_password(
    conn: &Connection,
    hooks: &Hooks,
    c: &Arc<Collection>,
    id: &str,
    hash: &str,
) -> Result<(), RecordError> {
    use rusqlite::types::Value as V;
    set(
        conn,
        hooks,
        c,
        id,
        &[
            ("password", V::Text(hash.into())),
            ("tokenKey", V::Text(new_token_key())),
        ],
    )
}
