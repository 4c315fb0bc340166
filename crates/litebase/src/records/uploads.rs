//! Uploads in record writes, as PocketBase takes them: each file part under a
//! file field's key (`docs`, `docs+` to append, `+docs` to prepend) gets a new
//! stored name ([`crate::files::name`]); the body then names it like any kept
//! file, so the ordinary merge applies `docs-`, `+docs`, `docs+` and the field's
//! single or multiple shape. Inside the write, [`problem`] checks `maxSize` and
//! `mimeTypes` of the uploads that end up in the record.
//!
//! Bytes are stored before the write that names them (so a committed record
//! never names a missing file) and removed again when the write fails or drops
//! them; files a committed write lets go of are [`crate::files::Released`].

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::value;
use crate::files::{Files, Upload, name, sniff};
use crate::schema::{Collection, Field, FieldKind};

/// PocketBase's `maxSize` when a file field sets none: 5 MiB.
pub const DEFAULT_MAX_SIZE: u64 = 5 << 20;

/// An upload with its stored name, as the write sees it.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// The file field it is for.
    pub field: String,
    /// Its stored name.
    pub name: String,
    /// The name the client gave it.
    pub original_name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its detected content type.
    pub content_type: String,
}

/// The uploads of one write: named, and the temp files to store.
#[derive(Default)]
pub struct Staged {
    /// What the write checks.
    pub files: Vec<NewFile>,
    uploads: Vec<(NewFile, Upload)>,
}

/// The largest `maxSize` of field `f` (PocketBase's default when unset).
pub fn max_size(f: &Field) -> u64 {
    match f.kind {
        FieldKind::File { max_size, .. } if max_size > 0 => max_size,
        _ => DEFAULT_MAX_SIZE,
    }
}

/// How many bytes a body of a write to `c` may have beyond the usual limit:
/// every file field full (PocketBase sizes its body limit the same way).
pub fn body_allowance(c: &Collection) -> usize {
    c.fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::File { .. }))
        .map(|f| {
            let count = match f.kind {
                FieldKind::File { max_select, .. } => u64::from(max_select.max(1)),
                _ => 1,
            };
            max_size(f).saturating_mul(count)
        })
        .fold(0u64, u64::saturating_add)
        .try_into()
        .unwrap_or(usize::MAX)
}

/// The file field a form key is for (`docs`, `docs+`, `+docs`).
fn field_of<'c>(c: &'c Collection, key: &str) -> Option<&'c Field> {
    let name = key
        .strip_suffix('+')
        .or_else(|| key.strip_prefix('+'))
        .unwrap_or(key);
    c.field(name)
        .filter(|f| matches!(f.kind, FieldKind::File { .. }))
}

/// Names the uploads and puts their names into `body` under their keys: a plain
/// key keeps the names the body already gave it and adds the new ones (so an
/// upload does not drop the files a form resent); a modifier key gets the new
/// names. Uploads under keys that are no file field are dropped.
pub fn stage(c: &Collection, body: &mut Map<String, Value>, uploads: Vec<Upload>) -> Staged {
    let mut staged = Staged::default();
    let mut by_key: Vec<(String, Vec<String>)> = Vec::new();
    for upload in uploads {
        let Some(field) = field_of(c, &upload.key) else {
            continue;
        };
        let file = NewFile {
            field: field.name.clone(),
            name: name::stored_name(
                &upload.original_name,
                sniff::extension_for(&upload.content_type),
            ),
            original_name: upload.original_name.clone(),
            size: upload.size,
            content_type: upload.content_type.clone(),
        };
        match by_key.iter_mut().find(|(k, _)| *k == upload.key) {
            Some((_, names)) => names.push(file.name.clone()),
            None => by_key.push((upload.key.clone(), vec![file.name.clone()])),
        }
        staged.files.push(file.clone());
        staged.uploads.push((file, upload));
    }
    for (key, new_names) in by_key {
        let plain = !key.starts_with('+') && !key.ends_with('+');
        let mut names = match body.get(&key) {
            Some(given) if plain => value::file_names(given),
            _ => Vec::new(),
        };
        names.extend(new_names);
        body.insert(key, json!(names));
    }
    staged
}

/// The problem of an upload that fails field `f`'s size or type limits, for the
/// uploads the record `v` names (PocketBase's `validation_file_size_limit`,
/// `validation_invalid_mime_type`).
pub fn problem(f: &Field, v: &Value, uploads: &[NewFile]) -> Option<Value> {
    let FieldKind::File { mime_types, .. } = &f.kind else {
        return None;
    };
    let names = value::file_names(v);
    uploads
        .iter()
        .filter(|u| u.field == f.name && names.contains(&u.name))
        .find_map(|u| check(f, mime_types, u))
}

fn check(f: &Field, mime_types: &[String], u: &NewFile) -> Option<Value> {
    let shown: String = u.original_name.chars().take(300).collect();
    if !name::is_safe(&u.name) {
        return Some(json!({"code": "validation_invalid_file_name",
            "message": "The file name is not valid."}));
    }
    let max = max_size(f);
    if u.size > max {
        return Some(json!({
            "code": "validation_file_size_limit",
            "message": format!("Failed to upload {shown} - the maximum allowed file size is {max} bytes."),
            "params": {"file": shown, "maxSize": max},
        }));
    }
    if !mime_types.is_empty() && !sniff::is_allowed(&u.content_type, mime_types) {
        return Some(json!({
            "code": "validation_invalid_mime_type",
            "message": format!("{:?} mime type must be one of: {}.", u.name, mime_types.join(", ")),
        }));
    }
    None
}

impl Staged {
    /// Stores the uploads that can pass their field's checks under record `id`
    /// (the others would fail the write anyway); returns the stored names. On a
    /// storage error, what was stored is removed again.
    pub async fn store(
        &mut self,
        files: &Arc<Files>,
        c: &Collection,
        id: &str,
    ) -> Result<Vec<String>, std::io::Error> {
        let mut todo = Vec::new();
        for (file, upload) in self.uploads.drain(..) {
            let Some(f) = c.field(&file.field) else {
                continue;
            };
            let mime_types = match &f.kind {
                FieldKind::File { mime_types, .. } => mime_types.clone(),
                _ => continue,
            };
            if check(f, &mime_types, &file).is_none() {
                todo.push((crate::files::key(&c.id, id, &file.name), file, upload));
            }
        }
        if todo.is_empty() {
            return Ok(Vec::new());
        }
        let storage = files.storage();
        tokio::task::spawn_blocking(move || {
            let mut stored: Vec<String> = Vec::new();
            for (key, file, upload) in &todo {
                if let Err(e) = storage.put_file(key, &upload.file, &file.content_type) {
                    for done in &stored {
                        let _ = storage.delete(done);
                    }
                    return Err(e);
                }
                stored.push(key.clone());
            }
            Ok(todo.into_iter().map(|(_, file, _)| file.name).collect())
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

/// Removes stored uploads the write did not keep: all of them when it failed,
/// else those `record` does not name (dropped by a later upload to a single
/// field, a `-` modifier, a hidden field…).
pub async fn remove_unkept(
    files: &Arc<Files>,
    c: &Collection,
    id: &str,
    stored: Vec<String>,
    record: Option<&Map<String, Value>>,
) {
    let kept: Vec<String> = match record {
        Some(r) => c
            .fields
            .iter()
            .filter(|f| matches!(f.kind, FieldKind::File { .. }))
            .flat_map(|f| r.get(&f.name).map(value::file_names).unwrap_or_default())
            .collect(),
        None => Vec::new(),
    };
    let names: Vec<String> = stored.into_iter().filter(|n| !kept.contains(n)).collect();
    if names.is_empty() {
        return;
    }
    let released = [crate::files::Released {
        collection_id: c.id.clone(),
        record_id: id.to_string(),
        names,
    }];
    let files = files.clone();
    let _ = tokio::task::spawn_blocking(move || files.remove_released(&released)).await;
}

/// The files a write let go of: names in `old` that `new` no longer has, per
/// file field (`new`: `None` for a delete).
pub fn released(
    c: &Collection,
    old: &Map<String, Value>,
    new: Option<&Map<String, Value>>,
) -> Option<crate::files::Released> {
    let mut names = Vec::new();
    for f in c
        .fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::File { .. }))
    {
        let before = old.get(&f.name).map(value::file_names).unwrap_or_default();
        let after = new
            .and_then(|n| n.get(&f.name))
            .map(value::file_names)
            .unwrap_or_default();
        names.extend(before.into_iter().filter(|n| !after.contains(n)));
    }
    let id = old.get("id").and_then(Value::as_str)?;
    (!names.is_empty()).then(|| crate::files::Released {
        collection_id: c.id.clone(),
        record_id: id.to_string(),
        names,
    })
}
