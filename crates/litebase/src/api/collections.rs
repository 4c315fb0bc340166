//! `/api/collections`: superusers define collections; each change runs as one
//! transaction over the table and its `_collections` row.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::request::Auth;
use crate::core::Core;
use crate::error::ApiError;
use crate::schema::collection::{self, Problems};
use crate::schema::{Collection, CollectionType, Field, FieldKind, Schema, ddl, store};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/collections", web::get().to(list))
        .route("/api/collections", web::post().to(create))
        .route("/api/collections/{collection}", web::get().to(view))
        .route("/api/collections/{collection}", web::patch().to(update))
        .route("/api/collections/{collection}", web::delete().to(delete))
        .route(
            "/api/collections/{collection}/truncate",
            web::delete().to(truncate),
        );
}

#[derive(Deserialize)]
struct Paging {
    page: Option<String>,
    #[serde(rename = "perPage")]
    per_page: Option<String>,
    #[serde(rename = "skipTotal")]
    skip_total: Option<String>,
}

async fn list(
    core: web::Data<Core>,
    auth: Auth,
    q: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let schema = core.schema.current();
    let all = schema.all();
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let per_page = q
        .per_page
        .as_deref()
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 1000);
    let items: Vec<&Collection> = all
        .iter()
        .map(|c| c.as_ref())
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let skip_total = matches!(q.skip_total.as_deref(), Some("1" | "true"));
    let (total, pages) = if skip_total {
        (-1i64, -1i64)
    } else {
        let total = all.len() as i64;
        (total, (total + per_page as i64 - 1) / per_page as i64)
    };
    Ok(HttpResponse::Ok().json(json!({
        "page": page, "perPage": per_page, "totalItems": total, "totalPages": pages, "items": items
    })))
}

fn find(core: &Core, key: &str) -> Result<Collection, ApiError> {
    core.schema
        .current()
        .get(key)
        .map(|c| c.as_ref().clone())
        .ok_or_else(ApiError::not_found)
}

async fn view(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    Ok(HttpResponse::Ok().json(find(&core, &key)?))
}

fn invalid(problems: Problems) -> ApiError {
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
/// the definition that caused them.
fn apply(
    conn: &rusqlite::Connection,
    statements: &[String],
    c: &mut Collection,
) -> Result<Collection, ApiError> {
    for sql in statements {
        if let Err(err) = conn.execute(sql, []) {
            let key = if c.kind == CollectionType::View {
                "viewQuery"
            } else if c.indexes.iter().any(|i| i == sql) {
                "indexes"
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

fn parse_body(body: Value) -> Result<Collection, ApiError> {
    serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("Failed to load the collection data: {e}.")))
}

async fn create(
    core: web::Data<Core>,
    auth: Auth,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let mut c = parse_body(body.into_inner())?;
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
    let statements = ddl::create(&c);
    let stored = commit_schema_change(&core, statements, c, None).await?;
    Ok(HttpResponse::Ok().json(stored))
}

async fn update(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let previous = find(&core, &key)?;
    if previous.system {
        return Err(ApiError::bad_request(
            "System collections cannot be changed.",
        ));
    }
    // PATCH semantics: given keys replace, others stay.
    let mut merged = serde_json::to_value(&previous).map_err(|_| ApiError::internal())?;
    if let (Some(target), Value::Object(patch)) = (merged.as_object_mut(), body.into_inner()) {
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
    c.validate().map_err(invalid)?;
    if previous.system && previous.name != c.name {
        return Err(one_problem(
            "name",
            "validation_system_collection",
            "System collections cannot be renamed.",
        ));
    }
    let schema = core.schema.current();
    check_against(&schema, &mut c, Some(&previous))?;
    let statements = ddl::update(&previous, &c);
    let stored = commit_schema_change(&core, statements, c, Some(previous)).await?;
    Ok(HttpResponse::Ok().json(stored))
}

async fn delete(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let c = find(&core, &key)?;
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
    let statements = ddl::drop(&c);
    let id = c.id.clone();
    let collections = core
        .db
        .write(move |conn| {
            for sql in &statements {
                conn.execute(sql, [])?;
            }
            conn.execute(&store::delete_sql(&c), [])?;
            Ok::<_, ApiError>(store::load_all(conn)?)
        })
        .await?;
    core.schema
        .replace_if_newer(Schema::new(collections), generation);
    tracing::info!(collection = %id, "collection deleted");
    Ok(HttpResponse::NoContent().finish())
}

async fn truncate(
    core: web::Data<Core>,
    auth: Auth,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require_superuser()?;
    let c = find(&core, &key)?;
    if c.kind == CollectionType::View {
        return Err(ApiError::bad_request(
            "View collections cannot be truncated.",
        ));
    }
    let schema = core.schema.current();
    crate::records::write::truncate(&core, &schema, &c).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Applies a schema change in one transaction and installs the new snapshot.
async fn commit_schema_change(
    core: &Core,
    statements: Vec<String>,
    mut c: Collection,
    previous: Option<Collection>,
) -> Result<Collection, ApiError> {
    let generation = core.schema.next_generation();
    let (stored, collections) = core
        .db
        .write(move |conn| {
            let stored = apply(conn, &statements, &mut c)?;
            Ok::<_, ApiError>((stored, store::load_all(conn)?))
        })
        .await?;
    core.schema
        .replace_if_newer(Schema::new(collections), generation);
    tracing::info!(
        collection = %stored.name,
        action = if previous.is_some() { "updated" } else { "created" },
        "collection schema changed"
    );
    Ok(stored)
}
