//! Defining collections (superusers only): each change runs as one transaction
//! over the table and its `_collections` row, then the schema in force is
//! replaced. Shared by `/api/collections` and the admin UI.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::Core;
use crate::auth::request::Auth;
use crate::error::ApiError;
use crate::schema::collection::{self, Problems};
use crate::schema::{Collection, CollectionType, Field, FieldKind, Schema, ddl, store};

pub mod import;
mod indexes;

pub fn find(core: &Core, key: &str) -> Result<Collection, ApiError> {
    core.schema
        .current()
        .get(key)
        .map(|c| c.as_ref().clone())
        .ok_or_else(ApiError::not_found)
}

pub fn invalid(problems: Problems) -> ApiError {
    ApiError::bad_request("Failed to validate the collection.").with_data(problems)
}

fn one_problem(key: &str, code: &str, message: impl Into<String>) -> ApiError {
    let mut p = Map::new();
    p.insert(key.into(), json!({"code": code, "message": message.into()}));
    invalid(p)
}

/// Checks what needs the whole schema: a unique name, relation targets (given by
/// name or id, stored as id).
fn check_against(
    schema: &Schema,
    c: &mut Collection,
    previous: Option<&Collection>,
) -> Result<(), ApiError> {
    if let Some(other) = schema.get(&c.name) {
        if previous.is_none_or(|p| p.id != other.id) {
            return Err(one_problem(
                "name",
                "validation_collection_name_exists",
                "Collection name must be unique (case insensitive).",
            ));
        }
    }
    if c.name.starts_with('_') && previous.is_none_or(|p| p.name != c.name) {
        return Err(one_problem(
            "name",
            "validation_invalid_name",
            "Names starting with '_' are reserved for system collections.",
        ));
    }
    if c.kind == CollectionType::View && !c.indexes.is_empty() {
        return Err(one_problem(
            "indexes",
            "validation_indexes_not_supported",
            "View collections cannot have indexes; index the collections the view reads.",
        ));
    }
    let mut problems = Map::new();
    for (i, field) in c.fields.iter_mut().enumerate() {
        if let FieldKind::Relation { collection_id, .. } = &mut field.kind {
            match schema.get(collection_id) {
                Some(target) if target.kind != CollectionType::View => {
                    *collection_id = target.id.clone();
                }
                _ if previous
                    .is_some_and(|p| p.id == *collection_id || p.name == *collection_id) =>
                {
                    // A self-relation.
                    if let Some(p) = previous {
                        *collection_id = p.id.clone();
                    }
                }
                _ if *collection_id == c.id || *collection_id == c.name => {
                    *collection_id = c.id.clone();
                }
                _ => {
                    problems.insert(
                        i.to_string(),
                        json!({"collectionId": {"code": "validation_missing_rel_collection",
                                "message": "The relation collection doesn't exist."}}),
                    );
                }
            }
        }
    }
    if !problems.is_empty() {
        let mut p = Map::new();
        p.insert("fields".into(), Value::Object(problems));
        return Err(invalid(p));
    }
    if let Some(previous) = previous {
        for old in previous.fields.iter().filter(|f| f.system) {
            if !c
                .fields
                .iter()
                .any(|f| f.id == old.id && f.name == old.name)
            {
                return Err(one_problem(
                    "fields",
                    "validation_system_field_change",
                    format!("System field {:?} cannot be removed or renamed.", old.name),
                ));
            }
        }
        for new in &c.fields {
            if let Some(old) = previous.fields.iter().find(|f| f.id == new.id) {
                if old.kind.type_name() != new.kind.type_name() {
                    return Err(one_problem(
                        "fields",
                        "validation_field_type_change",
                        format!("The type of field {:?} cannot be changed.", old.name),
                    ));
                }
            }
        }
    }
    crate::records::rules::check_rules(schema, c).map_err(invalid)?;
    Ok(())
}

/// Runs `statements` then stores `c`, mapping SQLite's complaints to the part of
/// the definition that caused them (an index that SQLite refuses, say for a name
/// in use, is reported at its position).
fn apply(
    conn: &rusqlite::Connection,
    statements: &[String],
    c: &mut Collection,
) -> Result<Collection, ApiError> {
    // `ddl::create` and `ddl::update` end with one statement per entry of
    // `c.indexes`, in order (a view has none).
    let first_index = statements.len().saturating_sub(c.indexes.len());
    for (n, sql) in statements.iter().enumerate() {
        if let Err(err) = conn.execute(sql, []) {
            if let Some(position) = n.checked_sub(first_index) {
                return Err(indexes::refused_by_sqlite(c, position, &err));
            }
            let key = if c.kind == CollectionType::View {
                "viewQuery"
            } else {
                "fields"
            };
            return Err(one_problem(key, "validation_invalid_sql", format!("{err}")));
        }
    }
    if c.kind == CollectionType::View {
        c.fields = infer_view_fields(conn, &c.name)?;
    }
    conn.execute(&store::upsert_sql(c)?, [])?;
    let stored = store::load_one(conn, &c.id)?.ok_or_else(ApiError::internal)?;
    Ok(stored)
}

/// A view's fields, from the columns SQLite reports. Views must select an `id`.
fn infer_view_fields(conn: &rusqlite::Connection, name: &str) -> Result<Vec<Field>, ApiError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name, type FROM pragma_table_info({})",
        crate::schema::quote_literal(name)
    ))?;
    let cols: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    if !cols.iter().any(|(n, _)| n == "id") {
        return Err(one_problem(
            "viewQuery",
            "validation_missing_id",
            "The view query must select an id column.",
        ));
    }
    Ok(cols
        .into_iter()
        .map(|(name, ty)| {
            let kind = match ty.to_ascii_uppercase().as_str() {
                "NUMERIC" | "REAL" | "INTEGER" | "INT" => FieldKind::Number {
                    min: None,
                    max: None,
                    only_int: false,
                },
                "BOOLEAN" => FieldKind::Bool {},
                "TEXT" => FieldKind::Text {
                    min: 0,
                    max: 0,
                    pattern: String::new(),
                    autogenerate_pattern: String::new(),
                    primary_key: false,
                },
                _ => FieldKind::Json { max_size: 0 },
            };
            let mut f = if name == "id" {
                Field::id_field()
            } else {
                Field::new(&name, kind)
            };
            if f.id.is_empty() {
                f.id = format!("{}{}", f.kind.type_name(), collection::stable_number(&name));
            }
            f
        })
        .collect())
}

pub fn parse_body(body: Value) -> Result<Collection, ApiError> {
    serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("Failed to load the collection data: {e}.")))
}

/// Creates a collection from its JSON definition (the body of
/// `POST /api/collections`): validated, applied in one transaction and, in
/// `--dev`, written as a migration. Shared by the API and the admin UI.
pub async fn create_collection(
    core: &Core,
    auth: &Auth,
    body: Value,
) -> Result<Collection, ApiError> {
    auth.require_superuser()?;
    let mut c = parse_body(body)?;
    if c.id.is_empty() {
        c.id = format!("pbc_{}", crate::id::random_string(10, b"0123456789"));
    }
    c.normalize();
    c.validate().map_err(invalid)?;
    let schema = core.schema.current();
    if schema.get(&c.id).is_some() {
        return Err(one_problem(
            "id",
            "validation_not_unique",
            "The id is already in use.",
        ));
    }
    check_against(&schema, &mut c, None)?;
    let statements = ddl::create(&c).map_err(indexes::refused)?;
    commit_schema_change(core, statements, c, None).await
}

/// Changes collection `key` (name or id) with PATCH semantics (the body of
/// `PATCH /api/collections/{key}`), in one transaction, written as a migration
/// in `--dev`. Shared by the API and the admin UI.
pub async fn update_collection(
    core: &Core,
    auth: &Auth,
    key: &str,
    body: Value,
) -> Result<Collection, ApiError> {
    auth.require_superuser()?;
    let previous = find(core, key)?;
    // PATCH semantics: given keys replace, others stay.
    let mut merged = serde_json::to_value(&previous).map_err(|_| ApiError::internal())?;
    if previous.system && !only_sign_in_options_change(&merged, &body) {
        return Err(ApiError::bad_request(
            "System collections cannot be changed.",
        ));
    }
    if let (Some(asked), Some(current)) = (body.get("type"), merged.get("type")) {
        if asked != current {
            return Err(one_problem(
                "type",
                "validation_collection_type_change",
                "The type of a collection cannot be changed; create a new collection instead.",
            ));
        }
    }
    if let (Some(target), Value::Object(patch)) = (merged.as_object_mut(), body) {
        for (k, v) in patch {
            if k != "id" && k != "created" && k != "updated" && k != "type" {
                target.insert(k, v);
            }
        }
    }
    let mut c = parse_body(merged)?;
    // Fields sent without ids keep the id of the old field of the same name.
    for f in &mut c.fields {
        if f.id.is_empty() {
            if let Some(old) = previous.fields.iter().find(|o| o.name == f.name) {
                f.id = old.id.clone();
            }
        }
    }
    c.normalize();
    super::oauth2::keep_secrets(&previous, &mut c);
    c.validate().map_err(invalid)?;
    let schema = core.schema.current();
    check_against(&schema, &mut c, Some(&previous))?;
    indexes::retarget(&mut c, &previous.name)?;
    let statements = ddl::update(&previous, &c).map_err(indexes::refused)?;
    commit_schema_change(core, statements, c, Some(previous)).await
}

/// Whether a PATCH of a system collection touches only how its records sign
/// in (MFA, OTP, token lifetimes), which PocketBase lets superusers change
/// (MFA for `_superusers`, say); everything else of a system collection is fixed.
fn only_sign_in_options_change(current: &Value, patch: &Value) -> bool {
    const CHANGEABLE: &[&str] = &[
        "mfa",
        "otp",
        "authToken",
        "passwordResetToken",
        "emailChangeToken",
        "verificationToken",
        "fileToken",
    ];
    let Value::Object(patch) = patch else {
        return false;
    };
    patch
        .iter()
        .all(|(k, v)| CHANGEABLE.contains(&k.as_str()) || current.get(k) == Some(v))
}

/// Drops collection `key` (name or id) and its table, unless it is a system
/// collection or another collection's relation points at it. Shared by the API
/// and the admin UI.
pub async fn delete_collection(core: &Core, auth: &Auth, key: &str) -> Result<(), ApiError> {
    auth.require_superuser()?;
    let c = find(core, key)?;
    if c.system {
        return Err(ApiError::bad_request(
            "System collections cannot be deleted.",
        ));
    }
    let schema = core.schema.current();
    for other in schema.all().iter().filter(|o| o.id != c.id) {
        let refers = other.fields.iter().any(|f| {
            matches!(&f.kind, FieldKind::Relation { collection_id, .. } if *collection_id == c.id)
        });
        if refers {
            return Err(ApiError::bad_request(format!(
                "The collection is referenced by a relation field of {:?}: remove that field first.",
                other.name
            )));
        }
    }
    let generation = core.schema.next_generation();
    let mut statements = ddl::drop(&c);
    statements.push(store::delete_sql(&c));
    let id = c.id.clone();
    let dev = dev_target(core, format!("delete_{}", c.name));
    let (collections, migration) = core
        .db
        .write(move |conn| {
            for sql in &statements {
                conn.execute(sql, [])?;
            }
            let migration = dev_migration(conn, dev, &statements)?;
            Ok::<_, ApiError>((store::load_all(conn)?, migration))
        })
        .await?;
    core.schema
        .replace_if_newer(Schema::new(collections), generation);
    write_dev_migration(migration);
    if c.kind == CollectionType::Auth {
        super::oauth2::drop_links_of_collection(core, &id).await?;
    }
    tracing::info!(collection = %id, "collection deleted");
    // Its records' files go with it, once the drop has committed.
    if c.fields
        .iter()
        .any(|f| matches!(f.kind, FieldKind::File { .. }))
    {
        let storage = core.records.files().storage();
        let prefix = format!("{id}/");
        let removed = tokio::task::spawn_blocking(move || storage.delete_prefix(&prefix)).await;
        if let Ok(Err(e)) = removed {
            tracing::warn!(error = %e, collection = %c.id, "could not remove the collection's files");
        }
    }
    Ok(())
}

/// Deletes every record of collection `key` (not views). Shared by the API and
/// the admin UI.
pub async fn truncate_collection(core: &Arc<Core>, auth: &Auth, key: &str) -> Result<(), ApiError> {
    auth.require_superuser()?;
    let c = find(core, key)?;
    if c.kind == CollectionType::View {
        return Err(ApiError::bad_request(
            "View collections cannot be truncated.",
        ));
    }
    let caller = crate::records::service::Caller::request(
        auth.clone(),
        Default::default(),
        Default::default(),
    );
    Ok(core.records.truncate(&caller, &c.id).await?)
}

/// Compiles the API rules of a definition that is not saved yet (the admin UI's
/// live check) exactly as a save would; `editing` names the collection it
/// replaces. Fields are not validated here, only what the rules need.
pub fn check_draft_rules(
    core: &Core,
    auth: &Auth,
    body: Value,
    editing: Option<&str>,
) -> Result<(), ApiError> {
    auth.require_superuser()?;
    let mut c = parse_body(body)?;
    let schema = core.schema.current();
    if let Some(previous) = editing.and_then(|key| schema.get(key)) {
        c.id = previous.id.clone();
        c.kind = previous.kind;
    }
    c.normalize();
    crate::records::rules::check_rules(&schema, &c).map_err(invalid)
}

/// Where `--dev` records a schema change, if it is on and the app has migrations.
struct DevTarget {
    set: crate::db::migrate::MigrationSet,
    dir: std::path::PathBuf,
    name: String,
}

fn dev_target(core: &Core, name: String) -> Option<DevTarget> {
    let set = core.app_migrations.filter(|_| core.config.serve.dev)?;
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    Some(DevTarget {
        set,
        dir: core.config.global.migrations_dir.clone(),
        name: name.trim_start_matches('_').to_string(),
    })
}

fn dev_migration(
    conn: &rusqlite::Connection,
    dev: Option<DevTarget>,
    statements: &[String],
) -> Result<Option<crate::db::migrate::DevMigration>, ApiError> {
    let Some(dev) = dev else { return Ok(None) };
    Ok(Some(crate::db::migrate::prepare_dev_migration(
        conn, &dev.set, &dev.dir, &dev.name, statements,
    )?))
}

fn write_dev_migration(migration: Option<crate::db::migrate::DevMigration>) {
    if let Some(m) = migration {
        match m.write() {
            Ok(()) => {
                tracing::info!(path = %m.path.display(), "schema change written as a migration")
            }
            Err(e) => {
                tracing::error!(error = %e, "the schema change is applied but its migration file could not be written")
            }
        }
    }
}

/// Applies a schema change in one transaction and installs the new snapshot.
async fn commit_schema_change(
    core: &Core,
    statements: Vec<String>,
    mut c: Collection,
    previous: Option<Collection>,
) -> Result<Collection, ApiError> {
    let generation = core.schema.next_generation();
    let updating = previous.is_some();
    let verb = if updating { "update" } else { "create" };
    let dev = dev_target(core, format!("{verb}_{}", c.name));
    let (stored, collections, migration) = core
        .db
        .write(move |conn| {
            let statements = indexes::check_names(conn, &c, previous.as_ref(), statements)?;
            let stored = apply(conn, &statements, &mut c)?;
            let mut all = statements.clone();
            all.push(store::upsert_sql(&stored)?);
            let migration = dev_migration(conn, dev, &all)?;
            Ok::<_, ApiError>((stored, store::load_all(conn)?, migration))
        })
        .await?;
    core.schema
        .replace_if_newer(Schema::new(collections), generation);
    write_dev_migration(migration);
    tracing::info!(
        collection = %stored.name,
        action = if updating { "updated" } else { "created" },
        "collection schema changed"
    );
    Ok(stored)
}
