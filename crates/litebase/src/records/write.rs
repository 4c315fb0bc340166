//! Creating, updating and deleting records inside the writer's transaction: rules,
//! coercion and validation, hooks, relation checks and cascades.

use std::sync::Arc;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use serde_json::{Map, Value, json};

use super::error::RecordError;
use super::read::{ReadCtx, Where, add_rule, row_to_record, select_list};
use super::value;
use crate::changes::{Origin, RecordAction, RecordChange};
use crate::hooks::{Hooks, RecordEvent};
use crate::id::{is_valid_id, new_id};
use crate::query::RequestInfo;
use crate::schema::{Collection, CollectionType, FieldKind, Schema, quote_ident};

/// Who writes, and with which request data.
pub struct WriteCtx<'a> {
    /// The app's record hooks, run around each write.
    pub hooks: &'a Hooks,
    /// Who writes, as the changes will say.
    pub origin: Origin,
    /// The schema snapshot of this request.
    pub schema: &'a Schema,
    /// Request data for rules.
    pub req: &'a RequestInfo,
    /// Rules bypassed.
    pub superuser: bool,
    /// Whether values and relations are checked: always for clients; an app's own
    /// writes skip it (its code is trusted, as PocketBase's `SaveNoValidate`), and
    /// still run hooks and announce their changes.
    pub validate: bool,
    /// Auth collections: what was prepared off the writer thread (hashing is slow).
    pub auth: PreparedAuth,
    /// The files this write uploaded (already stored under their new names).
    pub uploads: &'a [super::uploads::NewFile],
    /// The id a create uses when the body gives none (its uploads were stored
    /// under it).
    pub new_id: Option<String>,
}

/// Password work done before a write reaches the writer thread.
#[derive(Debug, Clone, Default)]
pub struct PreparedAuth {
    /// The argon2id hash of the body's `password`, if it had a usable one.
    pub password_hash: Option<String>,
    /// Whether the body's `oldPassword` matched the stored one.
    pub old_password_ok: bool,
}

impl WriteCtx<'_> {
    fn read_ctx<'b>(&'b self, req: &'b RequestInfo) -> ReadCtx<'b> {
        ReadCtx {
            schema: self.schema,
            req,
            superuser: self.superuser,
        }
    }
}

fn failed(action: RecordAction, data: Map<String, Value>) -> RecordError {
    let message = match action {
        RecordAction::Create => "Failed to create record.",
        RecordAction::Update => "Failed to update record.",
        RecordAction::Delete => "Failed to delete record.",
    };
    RecordError::bad_request(message).with_data(data)
}

fn field_error(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

fn now() -> String {
    crate::query::format_datetime(time::OffsetDateTime::now_utc())
}

/// The full stored record (hidden fields included).
pub(crate) fn load(
    conn: &Connection,
    c: &Collection,
    id: &str,
) -> Result<Option<Map<String, Value>>, RecordError> {
    let sql = format!(
        "SELECT {} FROM {} AS t WHERE t.\"id\" = ?1",
        select_list(c),
        quote_ident(&c.name)
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], |row| row_to_record(c, row, true))
        .optional()?)
}

/// The stored record if the rule lets this requester act on it.
fn load_with_rule(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    req: &RequestInfo,
    c: &Collection,
    rule: Option<&str>,
    id: &str,
) -> Result<Map<String, Value>, RecordError> {
    super::read::one_by_rule(conn, &ctx.read_ctx(req), c, rule, id, true)
}

/// `@request.body` as rules see it: the submitted keys, with field values coerced.
fn rule_request(req: &RequestInfo, c: &Collection, body: &Map<String, Value>) -> RequestInfo {
    let mut req = req.clone();
    let mut coerced = body.clone();
    for f in &c.fields {
        if let Some(v) = body.get(&f.name) {
            coerced.insert(f.name.clone(), value::coerce(f, v));
        }
    }
    req.body = coerced;
    req
}

/// Each field's problem with `record`. File fields may only keep or drop the names
/// the stored record has (`stored`; `None` on create): new files come as uploads,
/// never as plain names, and that error wins over the field's other ones, as in
/// PocketBase.
fn validate_all(
    c: &Collection,
    record: &Map<String, Value>,
    stored: Option<&Map<String, Value>>,
    uploads: &[super::uploads::NewFile],
) -> Map<String, Value> {
    let mut problems = Map::new();
    for f in &c.fields {
        if f.name == "id"
            || matches!(
                f.kind,
                FieldKind::Autodate { .. } | FieldKind::Password { .. }
            )
            || crate::schema::system::is_secret_field(c, &f.name)
        {
            continue;
        }
        let v = record
            .get(&f.name)
            .cloned()
            .unwrap_or_else(|| value::zero(f));
        let old = stored.and_then(|s| s.get(&f.name));
        // The names this write uploaded count as kept.
        let kept = uploads.iter().any(|u| u.field == f.name).then(|| {
            let mut names = old.map(value::file_names).unwrap_or_default();
            names.extend(
                uploads
                    .iter()
                    .filter(|u| u.field == f.name)
                    .map(|u| u.name.clone()),
            );
            json!(names)
        });
        let old = kept.as_ref().or(old);
        if let Some(e) = value::invalid_files(f, &v, old)
            .or_else(|| value::validate(f, &v))
            .or_else(|| super::uploads::problem(f, &v, uploads))
        {
            problems.insert(f.name.clone(), e);
        }
    }
    problems
}

/// Every relation id must exist in its target collection.
fn check_relations(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Collection,
    record: &Map<String, Value>,
    problems: &mut Map<String, Value>,
) -> Result<(), RecordError> {
    for f in &c.fields {
        let FieldKind::Relation { collection_id, .. } = &f.kind else {
            continue;
        };
        if problems.contains_key(&f.name) {
            continue;
        }
        let ids: Vec<String> = match record.get(&f.name) {
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => continue,
        };
        if ids.is_empty() {
            continue;
        }
        let target = match ctx.schema.get(collection_id) {
            Some(t) => t.name.clone(),
            None if *collection_id == c.id => c.name.clone(),
            None => continue,
        };
        let sql = format!(
            "SELECT count(*) FROM {} WHERE \"id\" IN (SELECT value FROM json_each(?1))",
            quote_ident(&target)
        );
        let found: i64 = conn
            .prepare_cached(&sql)?
            .query_row([json!(ids).to_string()], |r| r.get(0))?;
        if found != ids.len() as i64 {
            problems.insert(
                f.name.clone(),
                field_error(
                    "validation_missing_rel_records",
                    "Failed to find all relation records with the provided ids.",
                ),
            );
        }
    }
    Ok(())
}

/// Maps a UNIQUE violation to the field(s) it concerns.
fn unique_violation(err: &rusqlite::Error, c: &Collection) -> Option<Map<String, Value>> {
    let text = err.to_string();
    let cols = text.strip_prefix("UNIQUE constraint failed: ")?;
    let mut data = Map::new();
    for col in cols.split(',') {
        let name = col.trim().rsplit('.').next().unwrap_or_default();
        if c.field(name).is_some() {
            data.insert(
                name.to_string(),
                field_error("validation_not_unique", "Value must be unique."),
            );
        }
    }
    (!data.is_empty()).then_some(data)
}

fn write_row(
    conn: &Connection,
    c: &Collection,
    record: &Map<String, Value>,
    update_id: Option<&str>,
    action: RecordAction,
) -> Result<(), RecordError> {
    let fields: Vec<&crate::schema::Field> = c
        .fields
        .iter()
        .filter(|f| {
            // Secrets are written only when the auth code set them (new password).
            let secret = matches!(f.kind, FieldKind::Password { .. })
                || crate::schema::system::is_secret_field(c, &f.name);
            !secret || record.contains_key(&f.name)
        })
        .collect();
    let values: Vec<SqlValue> = fields
        .iter()
        .map(|f| value::to_sql(f, record.get(&f.name).unwrap_or(&value::zero(f))))
        .collect();
    let table = quote_ident(&c.name);
    let sql = match update_id {
        None => {
            let cols: Vec<String> = fields.iter().map(|f| quote_ident(&f.name)).collect();
            let marks = vec!["?"; cols.len()].join(", ");
            format!("INSERT INTO {table} ({}) VALUES ({marks})", cols.join(", "))
        }
        Some(_) => {
            let sets: Vec<String> = fields
                .iter()
                .map(|f| format!("{} = ?", quote_ident(&f.name)))
                .collect();
            format!("UPDATE {table} SET {} WHERE \"id\" = ?", sets.join(", "))
        }
    };
    let mut params = values;
    if let Some(id) = update_id {
        params.push(SqlValue::Text(id.to_string()));
    }
    match conn
        .prepare_cached(&sql)?
        .execute(params_from_iter(params.iter()))
    {
        Ok(_) => Ok(()),
        Err(e) => match unique_violation(&e, c) {
            Some(data) => Err(failed(action, data)),
            None => Err(e.into()),
        },
    }
}

fn password_problem(code: &str, message: &str) -> Value {
    field_error(code, message)
}

/// The auth-specific part of a create (`existing: None`) or update: password and
/// its confirmation (hash prepared off-thread), a fresh token key when the password
/// changes, and fields only superusers may set (`verified`; on update `email`).
fn auth_fields(
    ctx: &WriteCtx<'_>,
    manager: bool,
    c: &Collection,
    body: &Map<String, Value>,
    existing: Option<&Map<String, Value>>,
    record: &mut Map<String, Value>,
    problems: &mut Map<String, Value>,
) {
    let given = body
        .get("password")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let confirm = body
        .get("passwordConfirm")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let creating = existing.is_none();
    // Superusers and managers (the collection's `manageRule`) may set what the
    // record's owner may not: `verified`, the email directly, a password
    // without the old one.
    let manages_all = ctx.superuser || manager;
    if creating || !given.is_empty() {
        if given.is_empty() {
            problems.insert(
                "password".into(),
                password_problem("validation_required", "Cannot be blank."),
            );
        } else if given.chars().count() < crate::auth::password::MIN_LENGTH {
            problems.insert(
                "password".into(),
                json!({"code": "validation_min_text_constraint",
                       "message": format!("Must be at least {} character(s).", crate::auth::password::MIN_LENGTH),
                       "params": {"min": crate::auth::password::MIN_LENGTH}}),
            );
        } else if given.chars().count() > crate::auth::password::MAX_LENGTH {
            problems.insert(
                "password".into(),
                json!({"code": "validation_max_text_constraint",
                       "message": format!("Must be less than {} character(s).", crate::auth::password::MAX_LENGTH),
                       "params": {"max": crate::auth::password::MAX_LENGTH}}),
            );
        }
        if confirm.is_empty() {
            problems.insert(
                "passwordConfirm".into(),
                password_problem("validation_required", "Cannot be blank."),
            );
        } else if confirm != given && !given.is_empty() {
            problems.insert(
                "passwordConfirm".into(),
                password_problem("validation_values_mismatch", "Values don't match."),
            );
        }
        if !creating && !manages_all && !ctx.auth.old_password_ok {
            let old = body
                .get("oldPassword")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let problem = if old.is_empty() {
                password_problem("validation_required", "Cannot be blank.")
            } else {
                password_problem(
                    "validation_invalid_old_password",
                    "Missing or invalid old password.",
                )
            };
            problems.insert("oldPassword".into(), problem);
        }
        if problems.is_empty() {
            match &ctx.auth.password_hash {
                Some(hash) => {
                    record.insert("password".into(), json!(hash));
                    record.insert(
                        "tokenKey".into(),
                        json!(crate::records::accounts::new_token_key()),
                    );
                }
                None => {
                    problems.insert(
                        "password".into(),
                        password_problem("validation_required", "Cannot be blank."),
                    );
                }
            }
        }
    }
    // Fields only superusers and managers may change: asking for a different
    // value is an error.
    if !manages_all {
        let guarded: &[&str] = if creating {
            &["verified"]
        } else {
            &["verified", "email"]
        };
        for key in guarded {
            let Some(field) = c.field(key) else { continue };
            let Some(asked) = body.get(*key) else {
                continue;
            };
            let current = match existing {
                Some(old) => old.get(*key).cloned().unwrap_or_else(|| value::zero(field)),
                None => value::zero(field),
            };
            let asked = value::coerce(field, asked);
            let same = match (&asked, &current) {
                (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
                (a, b) => a == b,
            };
            if !same {
                problems.insert(
                    (*key).into(),
                    password_problem("validation_values_mismatch", "Values don't match."),
                );
            }
        }
    }
    match existing {
        None => {
            record
                .entry("tokenKey")
                .or_insert_with(|| json!(crate::records::accounts::new_token_key()));
            if !manages_all {
                record.insert("verified".into(), json!(false));
            }
        }
        Some(old) if !manages_all => {
            for key in ["email", "verified"] {
                if let Some(v) = old.get(key) {
                    record.insert(key.into(), v.clone());
                }
            }
        }
        Some(_) => {}
    }
    let _ = c;
}

/// Views are read-only; auth records change through the auth endpoints (their
/// passwords need hashing), not the generic records API.
fn read_only(c: &Collection) -> Result<(), RecordError> {
    match c.kind {
        CollectionType::View => Err(RecordError::bad_request("View collections are read-only.")),
        CollectionType::Auth | CollectionType::Base => Ok(()),
    }
}

/// Creates a record; returns it as stored (hidden fields included).
pub fn create(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, RecordError> {
    read_only(c)?;
    if c.create_rule.is_none() && !ctx.superuser {
        return Err(super::superusers_only());
    }
    let mut base = Map::new();
    for f in &c.fields {
        if !matches!(f.kind, FieldKind::Password { .. }) {
            base.insert(f.name.clone(), value::zero(f));
        }
    }
    let mut record = value::merge(c, &base, body, ctx.superuser);
    let mut problems = Map::new();
    // PocketBase reads the id as text: `123` is "123" (too short), while null, an
    // array or an object is "" (so a new id is generated).
    let id = match body.get("id").map(value::to_text) {
        Some(s) if !s.is_empty() => {
            if s.chars().count() < crate::id::ID_LENGTH {
                problems.insert(
                    "id".into(),
                    json!({"code": "validation_min_text_constraint",
                    "message": "Must be at least 15 character(s).", "params": {"min": 15}}),
                );
            } else if s.chars().count() > crate::id::ID_LENGTH {
                problems.insert(
                    "id".into(),
                    json!({"code": "validation_max_text_constraint",
                    "message": "Must be less than 15 character(s).", "params": {"max": 15}}),
                );
            } else if !is_valid_id(&s) {
                problems.insert(
                    "id".into(),
                    field_error("validation_invalid_format", "Invalid value format."),
                );
            }
            s
        }
        _ => ctx.new_id.clone().unwrap_or_else(new_id),
    };
    record.insert("id".into(), json!(id));
    let stamp = now();
    for f in &c.fields {
        if let FieldKind::Autodate {
            on_create: true, ..
        } = f.kind
        {
            record.insert(f.name.clone(), json!(stamp));
        }
    }
    // Whether the new record will match the manage rule is known once it is
    // written: a `verified` only a manager may set is accepted here and checked
    // against the rule right after the row (the savepoint undoes it if not).
    let manager_claimed = !ctx.superuser
        && super::read::manage_rule(&ctx.read_ctx(ctx.req), c).is_some()
        && body.get("verified").is_some_and(|v| {
            c.field("verified")
                .is_some_and(|f| value::coerce(f, v) != value::zero(f))
        });
    if c.kind == CollectionType::Auth {
        auth_fields(
            ctx,
            manager_claimed,
            c,
            body,
            None,
            &mut record,
            &mut problems,
        );
    }
    if ctx.validate {
        problems.extend(validate_all(c, &record, None, ctx.uploads));
        check_relations(conn, ctx, c, &record, &mut problems)?;
    }
    if problems.is_empty() && ctx.validate && load(conn, c, &id)?.is_some() {
        problems.insert(
            "id".into(),
            field_error("validation_not_unique", "Value must be unique."),
        );
    }
    if !problems.is_empty() {
        return Err(failed(RecordAction::Create, problems));
    }
    let req = rule_request(ctx.req, c, body);
    let mut event = RecordEvent {
        action: RecordAction::Create,
        collection: c,
        record,
        conn,
    };
    ctx.hooks.run(&mut event, &mut |e| {
        write_row(conn, c, &e.record, None, RecordAction::Create)?;
        let rule = c.create_rule.as_deref().unwrap_or_default();
        if !ctx.superuser && !rule.trim().is_empty() {
            let mut w = Where::default();
            let stored_id = e
                .record
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            w.push("t.\"id\" = ?".into(), vec![SqlValue::Text(stored_id)]);
            add_rule(&mut w, &ctx.read_ctx(&req), c, Some(rule))?;
            let sql = format!("SELECT 1 FROM {} AS t{}", quote_ident(&c.name), w.sql());
            let allowed = conn
                .prepare_cached(&sql)?
                .exists(params_from_iter(w.params.iter()))?;
            if !allowed {
                return Err(failed(RecordAction::Create, Map::new()).into());
            }
        }
        if manager_claimed {
            let stored_id = e
                .record
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !manages(conn, ctx, &req, c, stored_id)? {
                let mut data = Map::new();
                data.insert(
                    "verified".into(),
                    password_problem("validation_values_mismatch", "Values don't match."),
                );
                return Err(failed(RecordAction::Create, data).into());
            }
        }
        Ok(())
    })?;
    let stored_id = event
        .record
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or(&id)
        .to_string();
    // An app's write knows what it wrote; a client's is read back as stored.
    let stored = if ctx.validate {
        load(conn, c, &stored_id)?.ok_or_else(RecordError::internal)?
    } else {
        let mut stored = Map::new();
        stored.insert("collectionId".into(), json!(c.id));
        stored.insert("collectionName".into(), json!(c.name));
        stored.extend(event.record);
        stored
    };
    let change = RecordChange {
        action: RecordAction::Create,
        collection: c.clone(),
        record: stored.clone(),
        origin: ctx.origin,
    };
    crate::db::events::emit(change);
    Ok(stored)
}

/// Updates a record the update rule lets this requester change; returns it as
/// stored and whether anything changed (an app's write that changes nothing is
/// neither written nor announced).
pub fn update(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
    id: &str,
    body: &Map<String, Value>,
) -> Result<(Map<String, Value>, bool), RecordError> {
    read_only(c)?;
    if c.update_rule.is_none() && !ctx.superuser {
        return Err(super::superusers_only());
    }
    let req = rule_request(ctx.req, c, body);
    let existing = if ctx.validate {
        load_with_rule(conn, ctx, &req, c, c.update_rule.as_deref(), id)?
    } else {
        load(conn, c, id)?.ok_or_else(RecordError::not_found)?
    };
    let mut record = value::merge(c, &existing, body, ctx.superuser);
    // An app's write that changes nothing is not a change: nothing to write,
    // nothing to announce.
    if !ctx.validate && body.keys().all(|k| record.get(k) == existing.get(k)) {
        return Ok((existing, false));
    }
    let mut problems = Map::new();
    // Any `id` in the body is read as text and must be the record's own: `null`,
    // `123` or `[]` are changes too.
    if let Some(given) = body.get("id") {
        if value::to_text(given) != id {
            problems.insert(
                "id".into(),
                field_error(
                    "validation_pk_change",
                    "The record primary key cannot be changed.",
                ),
            );
        }
    }
    record.insert("id".into(), json!(id));
    let stamp = now();
    for f in &c.fields {
        if let FieldKind::Autodate {
            on_update: true, ..
        } = f.kind
        {
            record.insert(f.name.clone(), json!(stamp));
        }
    }
    if c.kind == CollectionType::Auth {
        let manager = !ctx.superuser && manages(conn, ctx, &req, c, id)?;
        auth_fields(
            ctx,
            manager,
            c,
            body,
            Some(&existing),
            &mut record,
            &mut problems,
        );
    }
    if ctx.validate {
        problems.extend(validate_all(c, &record, Some(&existing), ctx.uploads));
        check_relations(conn, ctx, c, &record, &mut problems)?;
    }
    if !problems.is_empty() {
        return Err(failed(RecordAction::Update, problems));
    }
    let mut event = RecordEvent {
        action: RecordAction::Update,
        collection: c,
        record,
        conn,
    };
    ctx.hooks.run(&mut event, &mut |e| {
        Ok(write_row(
            conn,
            c,
            &e.record,
            Some(id),
            RecordAction::Update,
        )?)
    })?;
    let stored = if ctx.validate {
        load(conn, c, id)?.ok_or_else(RecordError::internal)?
    } else {
        event.record
    };
    if let Some(released) = super::uploads::released(c, &existing, Some(&stored)) {
        crate::db::events::emit(released);
    }
    let change = RecordChange {
        action: RecordAction::Update,
        collection: c.clone(),
        record: stored.clone(),
        origin: ctx.origin,
    };
    crate::db::events::emit(change);
    let verified =
        |r: &Map<String, Value>| r.get("verified").and_then(Value::as_bool) == Some(true);
    if c.kind == CollectionType::Auth && !verified(&existing) && verified(&stored) {
        super::external_auths::on_verified(conn, ctx, c, id)?;
    }
    Ok((stored, true))
}

/// Deletes a record the delete rule lets this requester remove, with cascades.
pub fn delete(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
    id: &str,
) -> Result<(), RecordError> {
    read_only(c)?;
    if c.delete_rule.is_none() && !ctx.superuser {
        return Err(super::superusers_only());
    }
    let existing = load_with_rule(conn, ctx, ctx.req, c, c.delete_rule.as_deref(), id)?;
    delete_record(conn, ctx, c, existing, Some(0))
}

/// Deletes record `id` alone, leaving the records that point at it as they are
/// (no cascade, no unlinking): for an app that keeps history rows of a record it
/// removes (poker keeps the votes of people who left, with their names). Hooks
/// run and the change is announced as for any delete. `false` if there was none.
pub fn delete_alone(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
    id: &str,
) -> Result<bool, RecordError> {
    read_only(c)?;
    let Some(existing) = load(conn, c, id)? else {
        return Ok(false);
    };
    delete_record(conn, ctx, c, existing, None)?;
    Ok(true)
}

/// How deep cascading deletes may chain.
const MAX_CASCADE_DEPTH: usize = 16;

fn delete_record(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
    record: Map<String, Value>,
    cascade_depth: Option<usize>,
) -> Result<(), RecordError> {
    if cascade_depth.is_some_and(|depth| depth > MAX_CASCADE_DEPTH) {
        return Err(RecordError::bad_request("Too many cascading deletes."));
    }
    let id = record
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut event = RecordEvent {
        action: RecordAction::Delete,
        collection: c,
        record,
        conn,
    };
    ctx.hooks.run(&mut event, &mut |_| {
        conn.prepare_cached(&format!(
            "DELETE FROM {} WHERE \"id\" = ?1",
            quote_ident(&c.name)
        ))?
        .execute([&id])?;
        Ok(())
    })?;
    if let Some(released) = super::uploads::released(c, &event.record, None) {
        crate::db::events::emit(released);
    }
    let change = RecordChange {
        action: RecordAction::Delete,
        collection: c.clone(),
        record: event.record,
        origin: ctx.origin,
    };
    crate::db::events::emit(change);
    if c.kind == CollectionType::Auth {
        super::external_auths::drop_links(conn, ctx, c, &id)?;
    }
    let Some(depth) = cascade_depth else {
        return Ok(());
    };
    // Records pointing at the deleted one: deleted too (cascade) or unlinked.
    for other in ctx.schema.all() {
        if other.kind == CollectionType::View {
            continue;
        }
        for f in &other.fields {
            let FieldKind::Relation {
                collection_id,
                cascade_delete,
                ..
            } = &f.kind
            else {
                continue;
            };
            if *collection_id != c.id {
                continue;
            }
            let table = quote_ident(&other.name);
            let col = quote_ident(&f.name);
            let refers = if f.is_multiple() {
                format!("EXISTS (SELECT 1 FROM json_each({col}) WHERE value = ?1)")
            } else {
                format!("{col} = ?1")
            };
            if *cascade_delete {
                let ids: Vec<String> = conn
                    .prepare_cached(&format!("SELECT \"id\" FROM {table} WHERE {refers}"))?
                    .query_map([&id], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                for child in ids {
                    if let Some(rec) = load(conn, other, &child)? {
                        delete_record(conn, ctx, other, rec, Some(depth + 1))?;
                    }
                }
            } else if f.is_multiple() {
                conn.prepare_cached(&format!(
                    "UPDATE {table} SET {col} = (SELECT json_group_array(value) FROM json_each({col}) WHERE value != ?1) WHERE {refers}"
                ))?
                .execute([&id])?;
            } else {
                conn.prepare_cached(&format!("UPDATE {table} SET {col} = '' WHERE {refers}"))?
                    .execute([&id])?;
            }
        }
    }
    Ok(())
}

/// Deletes every record of `c`, with cascades, as `ctx` (meant for superusers).
pub fn truncate(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    c: &Arc<Collection>,
) -> Result<(), RecordError> {
    let ids: Vec<String> = conn
        .prepare(&format!("SELECT \"id\" FROM {}", quote_ident(&c.name)))?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        if let Some(rec) = load(conn, c, &id)? {
            delete_record(conn, ctx, c, rec, Some(0))?;
        }
    }
    Ok(())
}

/// Drops hidden fields for non-superusers before a record is returned, and the
/// email of an auth record the requester may not see (`managed`: the requester
/// matches the collection's `manageRule` for it, see [`manages`]).
pub fn visible(
    c: &Collection,
    mut record: Map<String, Value>,
    superuser: bool,
    requester: Option<&Map<String, Value>>,
    managed: bool,
) -> Map<String, Value> {
    if !superuser {
        for f in c.fields.iter().filter(|f| f.hidden) {
            record.remove(&f.name);
        }
    }
    super::read::hide_private(c, record, superuser, requester, managed)
}

/// Whether the requester manages record `id` of auth collection `c`: matches
/// its `manageRule`, which lets a non-superuser change another user's email,
/// `verified` and password without the old one (PocketBase's manager access).
pub fn manages(
    conn: &Connection,
    ctx: &WriteCtx<'_>,
    req: &RequestInfo,
    c: &Collection,
    id: &str,
) -> Result<bool, RecordError> {
    let read = ctx.read_ctx(req);
    Ok(!super::read::managed_ids(conn, &read, c, &[id])?.is_empty())
}
