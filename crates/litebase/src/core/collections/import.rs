//! Importing a whole set of collections (PocketBase's `PUT /api/collections/import`
//! and the admin's Import page): each imported definition is laid over the
//! collection of the same id (or name), missing ones are created, and with
//! `deleteMissing` the other non-system collections (and, in the imported
//! ones, the fields not listed) are deleted, all in one transaction. System
//! collections are left as they are: listed in an import, they are skipped.
//!
//! [`plan`] works out what would change and checks every definition against
//! the schema as it will be, without touching anything (the admin's preview);
//! [`import`] applies a plan. A definition equal to what is stored is left
//! alone, so importing an export again changes nothing and, in `--dev`, writes
//! no migration.

use serde_json::{Map, Value, json};

use super::{apply, check_against, dev_migration, dev_target, write_dev_migration};
use crate::auth::request::Auth;
use crate::core::Core;
use crate::error::ApiError;
use crate::schema::{Collection, CollectionType, Schema, ddl, store};

/// What an import would do.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// New collections, as they will be stored.
    pub added: Vec<Collection>,
    /// Changed collections: (as stored now, as they will be).
    pub changed: Vec<(Collection, Collection)>,
    /// Collections that will be deleted (with their records).
    pub deleted: Vec<Collection>,
}

impl ImportPlan {
    /// Whether the import changes nothing.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.deleted.is_empty()
    }
}

/// The import request's body: `{"collections": [...], "deleteMissing": false}`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportBody {
    /// The definitions, as `GET /api/collections` lists them.
    #[serde(default)]
    pub collections: Option<Vec<Map<String, Value>>>,
    /// Whether collections (and fields) absent from `collections` are deleted.
    #[serde(default)]
    pub delete_missing: bool,
}

impl ImportBody {
    /// Reads a request body; anything but the shape above is PocketBase's 400.
    pub fn parse(body: Value) -> Result<ImportBody, ApiError> {
        serde_json::from_value(body).map_err(|_| {
            ApiError::bad_request("An error occurred while loading the submitted data.")
        })
    }
}

/// PocketBase's answer for an import that fails a check: 400 "Failed to import
/// collections." with `data.collections` naming the collection and its problems.
fn failure(c: Option<&Collection>, err: &ApiError) -> ApiError {
    let message = match c {
        Some(c) => {
            let details =
                serde_json::to_string_pretty(&Value::Object(err.data.clone())).unwrap_or_default();
            let details = if err.data.is_empty() {
                err.message.clone()
            } else {
                details
            };
            format!(
                "Data validations failed for collection {:?} ({}):\n{details}",
                c.name, c.id
            )
        }
        None => format!(
            "Failed to import the collections configuration. Raw error:\n{}",
            err.message
        ),
    };
    let mut data = Map::new();
    data.insert(
        "collections".into(),
        json!({"code": "validation_collections_import_failure", "message": message}),
    );
    ApiError::bad_request("Failed to import collections.").with_data(data)
}

/// Whether two definitions say the same (timestamps aside).
fn same(a: &Collection, b: &Collection) -> bool {
    let mut b = b.clone();
    b.created.clone_from(&a.created);
    b.updated.clone_from(&a.updated);
    *a == b
}

/// Lays imported definition `data` over `existing`: keys it gives replace
/// (objects merge key by key), fields it leaves out are kept unless
/// `delete_missing` (system fields always are), and a field given by name
/// only keeps the id of the existing field of that name and type, so its
/// column and data stay.
fn overlay(
    existing: &Collection,
    mut data: Map<String, Value>,
    delete_missing: bool,
) -> Result<Collection, ApiError> {
    if delete_missing && data.get("fields").is_none_or(Value::is_null) {
        data.insert("fields".into(), json!([]));
    }
    let mut merged = serde_json::to_value(existing).map_err(|_| ApiError::internal())?;
    for (key, value) in data {
        match (key.as_str(), merged.get_mut(&key)) {
            ("fields" | "indexes", Some(slot)) => *slot = value,
            (_, Some(slot)) => crate::settings::merge(slot, &value),
            (_, None) => {
                if let Some(object) = merged.as_object_mut() {
                    object.insert(key, value);
                }
            }
        }
    }
    let mut c = super::parse_body(merged)?;
    for (at, old) in existing.fields.iter().enumerate() {
        if c.fields.iter().any(|f| f.id == old.id) {
            continue;
        }
        let same_name = c.fields.iter_mut().find(|f| {
            f.name == old.name && (f.id.is_empty() || !existing.fields.iter().any(|o| o.id == f.id))
        });
        match same_name {
            Some(f) if f.kind.type_name() == old.kind.type_name() => f.id.clone_from(&old.id),
            Some(_) => {}
            // System fields (`id` first) keep their place.
            None if old.system => c.fields.insert(at.min(c.fields.len()), old.clone()),
            None if !delete_missing => c.fields.push(old.clone()),
            None => {}
        }
    }
    Ok(c)
}

/// Works out and checks what importing `body` would do, against the schema in
/// force; changes nothing. Errors are in PocketBase's import shape.
pub fn plan(core: &Core, body: &ImportBody) -> Result<ImportPlan, ApiError> {
    let items = body.collections.clone().unwrap_or_default();
    if items.is_empty() {
        let mut data = Map::new();
        data.insert(
            "collections".into(),
            json!({"code": "validation_required", "message": "Cannot be blank."}),
        );
        return Err(ApiError::bad_request(
            "An error occurred while validating the submitted data.",
        )
        .with_data(data));
    }
    let schema = core.schema.current();
    let mut plan = ImportPlan::default();
    let mut imported_ids = std::collections::HashSet::new();
    let mut next: Vec<(Collection, Option<Collection>)> = Vec::new();
    for data in items {
        let key = match data
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(id) => id.to_string(),
            None => data
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        };
        let existing = schema.get(&key).map(|c| c.as_ref().clone());
        // System collections stay as they are: ours are never changed by an
        // import, and PocketBase's own (`_mfas`, `_otps`…) are tables here.
        let system = data.get("system").and_then(Value::as_bool) == Some(true);
        if existing.as_ref().map_or(system, |e| e.system) {
            continue;
        }
        let mut c = match &existing {
            Some(e) => {
                overlay(e, data, body.delete_missing).map_err(|err| failure(Some(e), &err))?
            }
            None => super::parse_body(Value::Object(data)).map_err(|err| failure(None, &err))?,
        };
        if c.id.is_empty() {
            c.id = format!("pbc_{}", crate::id::random_string(10, b"0123456789"));
        }
        if !imported_ids.insert(c.id.clone()) {
            let err = ApiError::bad_request("The collection is listed twice in the import.");
            return Err(failure(Some(&c), &err));
        }
        if let Some(e) = existing.as_ref().filter(|e| e.kind != c.kind) {
            let err = super::one_problem(
                "type",
                "validation_collection_type_change",
                "The type of a collection cannot be changed; create a new collection instead.",
            );
            return Err(failure(Some(e), &err));
        }
        c.normalize();
        if let Some(e) = &existing {
            // Exports leave provider secrets out: an import keeps the saved ones.
            crate::core::oauth2::keep_secrets(e, &mut c);
        }
        c.validate()
            .map_err(|problems| failure(Some(&c), &super::invalid(problems)))?;
        if let Some(e) = &existing {
            c.created.clone_from(&e.created);
            c.updated.clone_from(&e.updated);
            if c.system {
                let err = super::one_problem(
                    "system",
                    "validation_collection_system_flag_change",
                    "The system flag of a collection cannot be changed.",
                );
                return Err(failure(Some(&c), &err));
            }
        }
        next.push((c, existing));
    }
    if body.delete_missing {
        plan.deleted = schema
            .all()
            .iter()
            .filter(|c| !c.system && !imported_ids.contains(&c.id))
            .map(|c| c.as_ref().clone())
            .collect();
    }
    // The schema as it will be: what stays, then every imported definition.
    let staying: Vec<Collection> = schema
        .all()
        .iter()
        .filter(|c| !imported_ids.contains(&c.id) && !plan.deleted.iter().any(|d| d.id == c.id))
        .map(|c| c.as_ref().clone())
        .collect();
    let future: Vec<Collection> = staying
        .iter()
        .cloned()
        .chain(next.iter().map(|(c, _)| c.clone()))
        .collect();
    for (mut c, existing) in next {
        let others = Schema::new(future.iter().filter(|o| o.id != c.id).cloned().collect());
        check_against(&others, &mut c, existing.as_ref()).map_err(|err| failure(Some(&c), &err))?;
        match existing {
            None => plan.added.push(c),
            Some(e) if same(&e, &c) => {}
            Some(e) => {
                super::indexes::retarget(&mut c, &e.name).map_err(|err| failure(Some(&c), &err))?;
                plan.changed.push((e, c));
            }
        }
    }
    Ok(plan)
}

/// Imports `body` (PocketBase's `PUT /api/collections/import`): checked as
/// [`plan`] does, then applied in one transaction (deletions first, views
/// last), the schema reloaded and, in `--dev`, one migration written. Returns
/// what changed (nothing for a re-import of the same definitions).
pub async fn import(core: &Core, auth: &Auth, body: Value) -> Result<ImportPlan, ApiError> {
    auth.require_superuser()?;
    let body = ImportBody::parse(body)?;
    let plan = plan(core, &body)?;
    if plan.is_empty() {
        return Ok(plan);
    }
    let generation = core.schema.next_generation();
    let dev = dev_target(core, "import_collections".into());
    let todo = plan.clone();
    let (collections, migration) = core
        .db
        .write(move |conn| {
            let mut all = Vec::new();
            // Views first: they may read the tables that go.
            let mut deleted = todo.deleted.clone();
            deleted.sort_by_key(|c| c.kind != CollectionType::View);
            for c in &deleted {
                let mut statements = ddl::drop(c);
                statements.push(store::delete_sql(c));
                for sql in &statements {
                    conn.execute(sql, [])
                        .map_err(|e| failure(Some(c), &ApiError::from(e)))?;
                }
                all.extend(statements);
            }
            let upserts = todo.added.iter().map(|c| (c.clone(), None)).chain(
                todo.changed
                    .iter()
                    .map(|(e, c)| (c.clone(), Some(e.clone()))),
            );
            let (views, tables): (Vec<_>, Vec<_>) =
                upserts.partition(|(c, _)| c.kind == CollectionType::View);
            for (mut c, previous) in tables.into_iter().chain(views) {
                let statements = match &previous {
                    None => ddl::create(&c),
                    Some(p) => ddl::update(p, &c),
                }
                .map_err(|e| failure(Some(&c), &super::indexes::refused(e)))?;
                let statements =
                    super::indexes::check_names(conn, &c, previous.as_ref(), statements)
                        .map_err(|err| failure(Some(&c), &err))?;
                let stored =
                    apply(conn, &statements, &mut c).map_err(|err| failure(Some(&c), &err))?;
                all.extend(statements);
                all.push(store::upsert_sql(&stored)?);
            }
            let migration = dev_migration(conn, dev, &all)?;
            Ok::<_, ApiError>((store::load_all(conn)?, migration))
        })
        .await?;
    core.schema
        .replace_if_newer(Schema::new(collections), generation);
    write_dev_migration(migration);
    tracing::info!(
        added = plan.added.len(),
        changed = plan.changed.len(),
        deleted = plan.deleted.len(),
        "collections imported"
    );
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> Collection {
        let mut c: Collection = serde_json::from_value(json!({
            "id": "pbc_1", "name": "posts", "type": "base", "listRule": "",
            "fields": [
                {"id": "text1", "name": "title", "type": "text"},
                {"id": "num1", "name": "score", "type": "number"}
            ]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        c.normalize();
        c
    }

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn names(c: &Collection) -> Vec<(&str, &str)> {
        c.fields
            .iter()
            .map(|f| (f.name.as_str(), f.id.as_str()))
            .collect()
    }

    #[test]
    fn fields_left_out_are_kept_unless_delete_missing() -> Result<(), ApiError> {
        let data = object(json!({"name": "posts", "fields": [{"name": "body", "type": "text"}]}));
        let kept = overlay(&stored(), data.clone(), false)?;
        let ids: Vec<&str> = names(&kept).into_iter().map(|(n, _)| n).collect();
        assert_eq!(ids, ["id", "body", "title", "score"]);
        let dropped = overlay(&stored(), data, true)?;
        let ids: Vec<&str> = names(&dropped).into_iter().map(|(n, _)| n).collect();
        assert_eq!(ids, ["id", "body"], "only the system field stays");
        Ok(())
    }

    #[test]
    fn a_field_given_by_name_keeps_the_old_id_when_the_type_matches() -> Result<(), ApiError> {
        let data = object(json!({"fields": [
            {"name": "title", "type": "text", "max": 10},
            {"name": "score", "type": "text"}
        ]}));
        let c = overlay(&stored(), data, true)?;
        let title = c.field("title").map(|f| f.id.as_str());
        assert_eq!(title, Some("text1"), "same type: same column, data kept");
        let score = c.field("score").map(|f| f.id.clone()).unwrap_or_default();
        assert_ne!(score, "num1", "another type is another field");
        Ok(())
    }

    #[test]
    fn given_keys_replace_and_the_rest_stays() -> Result<(), ApiError> {
        let c = overlay(
            &stored(),
            object(json!({"viewRule": "x = 1", "listRule": null})),
            false,
        )?;
        assert_eq!(c.view_rule.as_deref(), Some("x = 1"));
        assert_eq!(c.list_rule, None);
        assert_eq!(c.name, "posts");
        // (As `plan` does: normalizing drops what a base collection cannot have.)
        let mut again = overlay(&stored(), Map::new(), false)?;
        again.normalize();
        assert!(same(&stored(), &again), "{:?}\n{:?}", stored(), again);
        Ok(())
    }
}
