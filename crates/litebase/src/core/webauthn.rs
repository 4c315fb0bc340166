//! Passkeys (WebAuthn) for auth records, with kanidm's `webauthn-rs` as the
//! relying party: register a passkey (begin → the browser's
//! `navigator.credentials.create` → finish), list and remove them, and sign in
//! with one (begin → `navigator.credentials.get` → finish), as a first factor
//! or as MFA's second. A ceremony's state waits in `_webauthnCeremonies`
//! between its two requests (never sent to the client; 5 minutes); passkeys
//! live in `_webauthnCredentials`. Neither table is a collection.
//!
//! The relying party is the site the browser is on: its id is the request's
//! host name and the origin its scheme, host and port (any port), so one
//! binary serves `localhost` in development and its domain in production
//! without a setting. The browser binds each passkey to that host.

use rusqlite::OptionalExtension;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid,
    Webauthn, WebauthnBuilder,
};

use super::Core;
use crate::error::ApiError;
use crate::records::accounts::AuthRow;
use crate::schema::Collection;

/// Seconds a ceremony may take between begin and finish.
pub const CEREMONY_SECONDS: u32 = 300;
/// Passkeys one record may hold.
pub const MAX_PASSKEYS: usize = 20;

/// A registered passkey as its owner sees it (no key material).
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyInfo {
    /// The credential id (base64url).
    pub id: String,
    /// The name its owner gave it.
    pub name: String,
    /// When it was registered.
    pub created: String,
}

/// Where the browser is: the relying party's id (host) and origin.
#[derive(Debug, Clone)]
pub struct Site {
    /// `http://localhost:8090`.
    pub origin: Url,
    /// `localhost`.
    pub rp_id: String,
}

impl Site {
    /// The site a request was made to (`scheme`, `host[:port]` as the client sent them).
    pub fn of(scheme: &str, host: &str) -> Result<Site, ApiError> {
        let origin = Url::parse(&format!("{scheme}://{host}"))
            .map_err(|_| ApiError::bad_request("The request's host is not a valid origin."))?;
        let rp_id = origin
            .host_str()
            .ok_or_else(|| ApiError::bad_request("The request's host is not a valid origin."))?
            .to_string();
        Ok(Site { origin, rp_id })
    }

    fn relying_party(&self, name: &str) -> Result<Webauthn, ApiError> {
        WebauthnBuilder::new(&self.rp_id, &self.origin)
            .map(|b| b.rp_name(name).allow_any_port(true))
            .and_then(WebauthnBuilder::build)
            .map_err(|e| ApiError::bad_request(format!("Passkeys are not available here: {e}.")))
    }
}

fn refused() -> ApiError {
    ApiError::bad_request("The passkey could not be verified.")
}

fn rp(core: &Core, site: &Site) -> Result<Webauthn, ApiError> {
    site.relying_party(&core.settings.get().meta.app_name)
}

/// The user handle a record's passkeys carry: stable, and no record id on the authenticator.
fn user_handle(c: &Collection, record_id: &str) -> Uuid {
    let digest = Sha256::digest(format!("{}:{record_id}", c.id).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn encode_id(raw: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(raw)
}

/// The record's passkeys, with their stored state.
async fn passkeys(
    core: &Core,
    c: &Collection,
    record_id: &str,
) -> Result<Vec<(PasskeyInfo, Passkey)>, ApiError> {
    let (cid, rid) = (c.id.clone(), record_id.to_string());
    let rows: Vec<(String, String, String, String)> = core
        .db
        .read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, name, created, passkey FROM _webauthnCredentials
                 WHERE collectionRef = ?1 AND recordRef = ?2 ORDER BY created, id",
            )?;
            let rows = stmt
                .query_map(rusqlite::params![cid, rid], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, ApiError>(rows)
        })
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, created, json)| {
            let key = serde_json::from_str(&json).ok()?;
            Some((PasskeyInfo { id, name, created }, key))
        })
        .collect())
}

/// The record's passkeys, for its account page.
pub async fn list(
    core: &Core,
    c: &Collection,
    record_id: &str,
) -> Result<Vec<PasskeyInfo>, ApiError> {
    Ok(passkeys(core, c, record_id)
        .await?
        .into_iter()
        .map(|(info, _)| info)
        .collect())
}

/// Removes one of the record's passkeys; 404 when it has none of that id.
pub async fn remove(
    core: &Core,
    c: &Collection,
    record_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    let (cid, rid, id) = (c.id.clone(), record_id.to_string(), id.to_string());
    let gone = core
        .db
        .write(move |conn| {
            Ok::<_, ApiError>(conn.execute(
                "DELETE FROM _webauthnCredentials WHERE id = ?1 AND collectionRef = ?2 AND recordRef = ?3",
                rusqlite::params![id, cid, rid],
            )?)
        })
        .await?;
    if gone == 1 {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

/// Keeps a ceremony's state; returns its id.
async fn keep(
    core: &Core,
    c: &Collection,
    record_id: &str,
    kind: &'static str,
    state: String,
) -> Result<String, ApiError> {
    let id = crate::id::new_id();
    let (row_id, cid, rid) = (id.clone(), c.id.clone(), record_id.to_string());
    let max_age = format!("-{CEREMONY_SECONDS} seconds");
    core.db
        .write(move |conn| {
            conn.execute(
                "DELETE FROM _webauthnCeremonies WHERE created < strftime('%Y-%m-%d %H:%M:%fZ', 'now', ?1)",
                [max_age],
            )?;
            conn.execute(
                "INSERT INTO _webauthnCeremonies (id, collectionRef, recordRef, kind, state) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![row_id, cid, rid, kind, state],
            )?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(id)
}

/// Takes (and deletes) an unexpired ceremony of `kind`: its record and state.
async fn take(
    core: &Core,
    c: &Collection,
    ceremony_id: &str,
    kind: &'static str,
) -> Result<(String, String), ApiError> {
    let (id, cid) = (ceremony_id.to_string(), c.id.clone());
    let max_age = format!("-{CEREMONY_SECONDS} seconds");
    let found = core
        .db
        .write(move |conn| {
            let found: Option<(String, String)> = conn
                .query_row(
                    "SELECT recordRef, state FROM _webauthnCeremonies WHERE id = ?1 AND collectionRef = ?2
                     AND kind = ?3 AND created >= strftime('%Y-%m-%d %H:%M:%fZ', 'now', ?4)",
                    rusqlite::params![id, cid, kind, max_age],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            conn.execute("DELETE FROM _webauthnCeremonies WHERE id = ?1", [&id])?;
            Ok::<_, ApiError>(found)
        })
        .await?;
    found.ok_or_else(|| ApiError::bad_request("Invalid or expired passkey ceremony."))
}

/// Starts registering a passkey for `row`: the options for
/// `navigator.credentials.create` and the ceremony's id.
pub async fn register_begin(
    core: &Core,
    site: &Site,
    c: &Collection,
    row: &AuthRow,
) -> Result<(String, CreationChallengeResponse), ApiError> {
    let existing = passkeys(core, c, &row.id).await?;
    if existing.len() >= MAX_PASSKEYS {
        return Err(ApiError::bad_request(format!(
            "At most {MAX_PASSKEYS} passkeys per account; remove one first."
        )));
    }
    let exclude = existing.iter().map(|(_, k)| k.cred_id().clone()).collect();
    let (options, state) = rp(core, site)?
        .start_passkey_registration(
            user_handle(c, &row.id),
            row.email(),
            row.email(),
            Some(exclude),
        )
        .map_err(|_| ApiError::internal())?;
    let state = serde_json::to_string(&state).map_err(|_| ApiError::internal())?;
    let id = keep(core, c, &row.id, "register", state).await?;
    Ok((id, options))
}

/// Finishes a registration with the browser's answer; the new passkey.
pub async fn register_finish(
    core: &Core,
    site: &Site,
    c: &Collection,
    record_id: &str,
    ceremony_id: &str,
    credential: &Value,
    name: &str,
) -> Result<PasskeyInfo, ApiError> {
    let (owner, state) = take(core, c, ceremony_id, "register").await?;
    if owner != record_id {
        return Err(ApiError::bad_request(
            "Invalid or expired passkey ceremony.",
        ));
    }
    let state: PasskeyRegistration =
        serde_json::from_str(&state).map_err(|_| ApiError::internal())?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_value(credential.clone()).map_err(|_| refused())?;
    let passkey = rp(core, site)?
        .finish_passkey_registration(&credential, &state)
        .map_err(|_| refused())?;
    let id = encode_id(passkey.cred_id());
    let name: String = match name.trim() {
        "" => "Passkey".to_string(),
        n => n.chars().take(100).collect(),
    };
    let json = serde_json::to_string(&passkey).map_err(|_| ApiError::internal())?;
    let (row_id, cid, rid, stored_name) = (
        id.clone(),
        c.id.clone(),
        record_id.to_string(),
        name.clone(),
    );
    let created = core
        .db
        .write(move |conn| {
            let taken: bool = conn
                .prepare("SELECT 1 FROM _webauthnCredentials WHERE id = ?1")?
                .exists([&row_id])?;
            if taken {
                return Err(ApiError::bad_request("This passkey is already registered."));
            }
            conn.execute(
                "INSERT INTO _webauthnCredentials (id, collectionRef, recordRef, name, passkey) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![row_id, cid, rid, stored_name, json],
            )?;
            Ok(conn.query_row(
                "SELECT created FROM _webauthnCredentials WHERE id = ?1",
                [&row_id],
                |r| r.get::<_, String>(0),
            )?)
        })
        .await?;
    Ok(PasskeyInfo { id, name, created })
}

/// Starts a sign-in with one of the passkeys of `record_id`: the options for
/// `navigator.credentials.get` and the ceremony's id.
pub async fn auth_begin(
    core: &Core,
    site: &Site,
    c: &Collection,
    record_id: &str,
) -> Result<(String, RequestChallengeResponse), ApiError> {
    let keys: Vec<Passkey> = passkeys(core, c, record_id)
        .await?
        .into_iter()
        .map(|(_, k)| k)
        .collect();
    if keys.is_empty() {
        return Err(ApiError::bad_request(
            "No passkey is registered for this account.",
        ));
    }
    let (options, state) = rp(core, site)?
        .start_passkey_authentication(&keys)
        .map_err(|_| ApiError::internal())?;
    let state = serde_json::to_string(&state).map_err(|_| ApiError::internal())?;
    let id = keep(core, c, record_id, "authenticate", state).await?;
    Ok((id, options))
}

/// Checks the browser's signed answer to a sign-in ceremony; the record it
/// signs in (the passkey's counter is updated).
pub async fn auth_finish(
    core: &Core,
    site: &Site,
    c: &Collection,
    ceremony_id: &str,
    credential: &Value,
) -> Result<String, ApiError> {
    let (record_id, state) = take(core, c, ceremony_id, "authenticate").await?;
    let state: PasskeyAuthentication =
        serde_json::from_str(&state).map_err(|_| ApiError::internal())?;
    let credential: PublicKeyCredential =
        serde_json::from_value(credential.clone()).map_err(|_| refused())?;
    let result = rp(core, site)?
        .finish_passkey_authentication(&credential, &state)
        .map_err(|_| refused())?;
    let used = encode_id(result.cred_id());
    let mut keys = passkeys(core, c, &record_id).await?;
    let Some((_, key)) = keys.iter_mut().find(|(info, _)| info.id == used) else {
        return Err(refused());
    };
    if key.update_credential(&result) == Some(true) {
        let json = serde_json::to_string(key).map_err(|_| ApiError::internal())?;
        core.db
            .write(move |conn| {
                conn.execute(
                    "UPDATE _webauthnCredentials SET passkey = ?2,
                     updated = strftime('%Y-%m-%d %H:%M:%fZ', 'now') WHERE id = ?1",
                    rusqlite::params![used, json],
                )?;
                Ok::<_, ApiError>(())
            })
            .await?;
    }
    Ok(record_id)
}
