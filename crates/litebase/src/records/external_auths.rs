//! `_externalAuths`: the system collection linking a provider's user (`provider`
//! and `providerId`) to an auth record (`collectionRef`, `recordRef`). OAuth2 sign-in
//! reads and adds links; a record's owner lists and removes its own through the
//! records API (the collection's rules); deleting an auth record removes its
//! links, each through the record pipeline.

use rusqlite::{Connection, OptionalExtension};

use super::error::RecordError;
use super::write::{self, WriteCtx};
use crate::schema::Collection;

/// The collection's name (and table).
pub const COLLECTION: &str = "_externalAuths";

/// The link of a provider's user in an auth collection: `(link id, record id)`.
pub fn find(
    conn: &Connection,
    collection_id: &str,
    provider: &str,
    provider_id: &str,
) -> Result<Option<(String, String)>, RecordError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, recordRef FROM _externalAuths
             WHERE collectionRef = ?1 AND provider = ?2 AND providerId = ?3 LIMIT 1",
        )?
        .query_row([collection_id, provider, provider_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// The ids of every link of one record.
pub fn of_record(
    conn: &Connection,
    collection_id: &str,
    record_id: &str,
) -> Result<Vec<String>, RecordError> {
    let ids = conn
        .prepare_cached(
            "SELECT id FROM _externalAuths WHERE collectionRef = ?1 AND recordRef = ?2",
        )?
        .query_map([collection_id, record_id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

/// The id of the `_externalAuths` collection (PocketBase's).
pub const COLLECTION_ID: &str = "pbc_2281828961";

/// Deletes the links of auth record `record_id` of `c` (after the record went,
/// or when its email became verified), each with its hooks and its change
/// announced. Returns how many there were.
pub(super) fn drop_links(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Collection,
    record_id: &str,
) -> Result<usize, RecordError> {
    let Some(links) = ctx.schema.get(COLLECTION).cloned() else {
        return Ok(0);
    };
    if links.id == c.id {
        return Ok(0);
    }
    let ids = of_record(conn, &c.id, record_id)?;
    for id in &ids {
        write::delete_alone(conn, ctx, &links, id)?;
    }
    Ok(ids.len())
}

/// When an auth record's email becomes verified, the OAuth2 links it had while
/// unverified go (someone who pre-registered the address with their own
/// provider account loses it), and if there were any, its tokens too — as
/// PocketBase does on every unverified → verified change.
pub(super) fn on_verified(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Collection,
    record_id: &str,
) -> Result<(), RecordError> {
    if c.kind != crate::schema::CollectionType::Auth || c.id == COLLECTION_ID {
        return Ok(());
    }
    if drop_links(conn, ctx, c, record_id)? > 0 {
        conn.prepare_cached(&format!(
            "UPDATE {} SET \"tokenKey\" = ?1 WHERE \"id\" = ?2",
            crate::schema::quote_ident(&c.name)
        ))?
        .execute([super::accounts::new_token_key().as_str(), record_id])?;
    }
    Ok(())
}
