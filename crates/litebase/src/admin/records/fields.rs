//! The record form's fields: how each field type is shown (input kind, current
//! value, options) and how a posted form becomes the JSON body the records API
//! takes. Validation stays the API's; only what the API cannot see (a number
//! or JSON text that does not parse) is checked here.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::schema::{Collection, CollectionType, Field, FieldKind, system};

/// The raw values of a form (or a record turned into form values): field → values.
pub type Raw = BTreeMap<String, Vec<String>>;

/// A related record shown as a chip: its id and its display text.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Chip {
    /// The related record's id.
    pub id: String,
    /// Its display field's value (the id when it has none).
    pub label: String,
}

/// One field of the record form, ready for the template.
#[derive(Debug, Serialize)]
pub struct FieldView {
    /// Field name (also the input's name).
    pub name: String,
    /// The field type (`text`, `select`, …): picks the template's widget.
    pub kind: &'static str,
    /// The HTML input type for simple inputs.
    pub input: &'static str,
    /// Required by the schema.
    pub required: bool,
    /// Several values (multi-select, multi-relation).
    pub multiple: bool,
    /// The current text (first value).
    pub value: String,
    /// Every current value (selects, relations).
    pub values: Vec<String>,
    /// A select's choices.
    pub options: Vec<String>,
    /// The related collection's name (relations).
    pub target: String,
    /// Chosen related records, as JSON for the picker (relations).
    pub chips: String,
    /// Shown but not editable (autodate, id).
    pub readonly: bool,
    /// A file field's stored files, with their links.
    pub files: Vec<FileLink>,
    /// The field's error from the last submit, if any.
    pub error: Option<String>,
    /// A date field's stored value (with milliseconds), posted back unchanged
    /// under [`stored_key`]; empty for other fields.
    pub stored: String,
}

/// A stored file as the form lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FileLink {
    /// The stored name.
    pub name: String,
    /// Where it downloads (with a file token for protected fields).
    pub url: String,
    /// A 100x100 thumb for images, `""` otherwise.
    pub thumb: String,
}

/// Fills each file field's links for record `id` (`token`: a file token for
/// protected fields).
pub fn link_files(c: &Collection, id: &str, token: Option<&str>, views: &mut [FieldView]) {
    for view in views.iter_mut().filter(|v| v.kind == "file") {
        let protected = c.field(&view.name).is_some_and(|f| {
            matches!(
                f.kind,
                FieldKind::File {
                    protected: true,
                    ..
                }
            )
        });
        let query = match (protected, token) {
            (true, Some(token)) => format!("?token={token}"),
            _ => String::new(),
        };
        view.files = view
            .values
            .iter()
            .filter(|n| crate::files::name::is_safe(n))
            .map(|name| {
                let url = format!("/api/files/{}/{id}/{name}", c.id);
                let lower = name.to_ascii_lowercase();
                let image = [".png", ".jpg", ".jpeg", ".gif", ".webp"]
                    .iter()
                    .any(|ext| lower.ends_with(ext));
                let sep = if query.is_empty() { '?' } else { '&' };
                FileLink {
                    name: name.clone(),
                    thumb: if image {
                        format!("{url}{query}{sep}thumb=100x100")
                    } else {
                        String::new()
                    },
                    url: format!("{url}{query}"),
                }
            })
            .collect();
    }
}

/// The `remove:FIELD` checkboxes of the form as the API's `FIELD-` modifier.
pub fn file_removals(c: &Collection, raw: &Raw, body: &mut Map<String, Value>) {
    for f in c
        .fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::File { .. }))
    {
        let removed: Vec<&String> = raw
            .get(&format!("remove:{}", f.name))
            .map(|v| v.iter().filter(|n| !n.is_empty()).collect())
            .unwrap_or_default();
        if !removed.is_empty() {
            body.insert(format!("{}-", f.name), json!(removed));
        }
    }
}

/// Whether the form shows field `f` of `c` at all (secrets never; `id` only read-only).
pub fn shown(c: &Collection, f: &Field) -> bool {
    !(system::is_secret_field(c, &f.name) && f.name != "password")
}

/// The datetime-local value (`2026-01-02T03:04:05`) of a stored date, `""` if none.
pub fn date_input(stored: &str) -> String {
    let s = stored.trim();
    if s.len() < 19 {
        return String::new();
    }
    s[..19].replace(' ', "T")
}

/// The form name of the hidden input carrying a date field's stored value, so
/// an unchanged date keeps its milliseconds (the picker has whole seconds).
/// Field names cannot contain `:`, so it never meets a real field.
pub fn stored_key(field: &str) -> String {
    format!("stored:{field}")
}

/// The value to save for date field `name`: the stored value when the posted
/// picker value is that same second (unchanged), else the posted value with its
/// seconds (records take no minute-only dates, as in PocketBase).
fn date_value(raw: &Raw, name: &str, posted: &str) -> String {
    let stored = first(raw, &stored_key(name));
    let posted = posted.trim();
    // Browsers drop `:00` seconds from a datetime-local value.
    let posted = match posted.len() {
        16 => format!("{posted}:00"),
        _ => posted.to_string(),
    };
    if date_input(&stored) == posted && !stored.is_empty() {
        stored
    } else {
        posted
    }
}

/// A stored record as form values.
pub fn raw_of_record(c: &Collection, record: &Map<String, Value>) -> Raw {
    let mut raw = Raw::new();
    for f in &c.fields {
        let v = record.get(&f.name).cloned().unwrap_or(Value::Null);
        let values = match (&f.kind, &v) {
            (FieldKind::Password { .. }, _) => vec![],
            (FieldKind::Bool {}, Value::Bool(true)) => vec!["on".into()],
            (FieldKind::Bool {}, _) => vec![],
            (FieldKind::Date { .. }, Value::String(s)) => {
                raw.insert(stored_key(&f.name), vec![s.clone()]);
                vec![date_input(s)]
            }
            (FieldKind::Autodate { .. }, Value::String(s)) => vec![s.clone()],
            (FieldKind::Json { .. }, Value::Null) => vec![String::new()],
            (FieldKind::Json { .. }, v) => {
                vec![serde_json::to_string_pretty(v).unwrap_or_default()]
            }
            (_, Value::Array(items)) => items.iter().map(text_of).collect(),
            (_, Value::Null) => vec![],
            (_, v) => vec![text_of(v)],
        };
        raw.insert(f.name.clone(), values);
    }
    raw
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Posted form pairs as [`Raw`] (every value of a repeated name kept, in order).
pub fn raw_of_pairs(pairs: Vec<(String, String)>) -> Raw {
    let mut raw = Raw::new();
    for (k, v) in pairs {
        raw.entry(k).or_default().push(v);
    }
    raw
}

fn first(raw: &Raw, name: &str) -> String {
    raw.get(name)
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default()
}

/// Whether a field is written by the form (others are shown read-only or not at all).
fn writable(c: &Collection, f: &Field) -> bool {
    shown(c, f)
        && f.name != "id"
        && !matches!(f.kind, FieldKind::Autodate { .. } | FieldKind::File { .. })
}

/// Turns a posted form into the API body. Errors the API cannot see (text that
/// is not a number, or not JSON) come back per field, in `ApiError.data`'s shape.
pub fn body_of_form(
    c: &Collection,
    raw: &Raw,
    creating: bool,
) -> Result<Map<String, Value>, Map<String, Value>> {
    let mut body = Map::new();
    let mut errors = Map::new();
    let mut problem = |name: &str, code: &str, message: &str| {
        errors.insert(name.into(), json!({"code": code, "message": message}));
    };
    // Only posted fields are written: checkboxes, multi-selects and relation
    // pickers post an empty hidden value first, so "none chosen" is posted too.
    for f in c
        .fields
        .iter()
        .filter(|f| writable(c, f) && raw.contains_key(&f.name))
    {
        let text = first(raw, &f.name);
        let all = raw.get(&f.name).cloned().unwrap_or_default();
        let value = match &f.kind {
            FieldKind::Password { .. } => {
                if text.is_empty() && !creating {
                    continue;
                }
                body.insert(
                    "passwordConfirm".into(),
                    json!(first(raw, "passwordConfirm")),
                );
                json!(text)
            }
            FieldKind::Bool {} => json!(all.iter().any(|v| v == "on" || v == "true")),
            FieldKind::Number { .. } => match text.trim() {
                "" => Value::Null,
                t => match t.parse::<f64>() {
                    Ok(n) if n.is_finite() => json!(n),
                    _ => {
                        problem(&f.name, "validation_not_a_number", "Enter a number.");
                        continue;
                    }
                },
            },
            FieldKind::Json { .. } => match text.trim() {
                "" => Value::Null,
                t => match serde_json::from_str::<Value>(t) {
                    Ok(v) => v,
                    Err(e) => {
                        problem(
                            &f.name,
                            "validation_invalid_json",
                            &format!("Not valid JSON ({e}); fix it or clear the field."),
                        );
                        continue;
                    }
                },
            },
            FieldKind::Select { .. } | FieldKind::Relation { .. } => {
                let chosen: Vec<String> = all.into_iter().filter(|v| !v.is_empty()).collect();
                if f.is_multiple() {
                    json!(chosen)
                } else {
                    json!(chosen.last().cloned().unwrap_or_default())
                }
            }
            FieldKind::Date { .. } => json!(date_value(raw, &f.name, &text)),
            _ => json!(text),
        };
        body.insert(f.name.clone(), value);
    }
    if errors.is_empty() {
        Ok(body)
    } else {
        Err(errors)
    }
}

/// The form's fields for `c`, with values from `raw`, errors from `errors`
/// (`ApiError.data`) and relation chips from `chips` (field → chips).
pub fn views(
    c: &Collection,
    target_names: &BTreeMap<String, String>,
    raw: &Raw,
    errors: &Map<String, Value>,
    chips: &BTreeMap<String, Vec<Chip>>,
) -> Vec<FieldView> {
    c.fields
        .iter()
        .filter(|f| shown(c, f))
        .map(|f| {
            let values = raw.get(&f.name).cloned().unwrap_or_default();
            let (input, options) = match &f.kind {
                FieldKind::Number { .. } => ("number", vec![]),
                FieldKind::Email { .. } => ("email", vec![]),
                FieldKind::Url { .. } => ("url", vec![]),
                FieldKind::Date { .. } => ("datetime-local", vec![]),
                FieldKind::Password { .. } => ("password", vec![]),
                FieldKind::Select { values, .. } => ("select", values.clone()),
                _ => ("text", vec![]),
            };
            let target = match &f.kind {
                FieldKind::Relation { collection_id, .. } => {
                    target_names.get(collection_id).cloned().unwrap_or_default()
                }
                _ => String::new(),
            };
            let chips = chips.get(&f.name).cloned().unwrap_or_else(|| {
                if matches!(f.kind, FieldKind::Relation { .. }) {
                    values
                        .iter()
                        .filter(|v| !v.is_empty())
                        .map(|v| Chip {
                            id: v.clone(),
                            label: v.clone(),
                        })
                        .collect()
                } else {
                    vec![]
                }
            });
            let error = errors
                .get(&f.name)
                .map(|e| {
                    e["message"]
                        .as_str()
                        .unwrap_or("Invalid value.")
                        .to_string()
                })
                .or_else(|| {
                    (f.name == "password")
                        .then(|| errors.get("passwordConfirm"))
                        .flatten()
                        .map(|e| e["message"].as_str().unwrap_or("Invalid value.").into())
                });
            FieldView {
                name: f.name.clone(),
                kind: f.kind.type_name(),
                input,
                required: f.required,
                multiple: f.is_multiple(),
                value: values.first().cloned().unwrap_or_default(),
                values,
                options,
                target,
                chips: serde_json::to_string(&chips).unwrap_or_else(|_| "[]".into()),
                readonly: f.name == "id" || matches!(f.kind, FieldKind::Autodate { .. }),
                files: Vec::new(),
                error,
                stored: first(raw, &stored_key(&f.name)),
            }
        })
        .filter(|v| !(v.name == "id" && v.value.is_empty()))
        .collect()
}

/// Whether `c` is an auth collection (the form then asks for a password confirmation).
pub fn is_auth(c: &Collection) -> bool {
    c.kind == CollectionType::Auth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_inputs_are_utc_without_zone() {
        assert_eq!(
            date_input("2026-01-02 03:04:05.000Z"),
            "2026-01-02T03:04:05"
        );
        assert_eq!(date_input(""), "");
    }

    #[test]
    fn an_unchanged_date_keeps_its_milliseconds() {
        let stored = "2026-01-02 03:04:05.678Z";
        let raw = |posted: &str| {
            raw_of_pairs(vec![
                ("when".into(), posted.into()),
                (stored_key("when"), stored.into()),
            ])
        };
        let value = |posted: &str| date_value(&raw(posted), "when", posted);
        assert_eq!(value("2026-01-02T03:04:05"), stored);
        assert_eq!(value("2026-01-02T03:04:06"), "2026-01-02T03:04:06");
        assert_eq!(value(""), "");
        let on_the_minute = "2026-01-02 03:04:00.250Z";
        let raw = raw_of_pairs(vec![(stored_key("when"), on_the_minute.into())]);
        assert_eq!(date_value(&raw, "when", "2026-01-02T03:04"), on_the_minute);
        // Nothing stored (a new record): the picker's value as posted, with seconds.
        let raw = raw_of_pairs(vec![]);
        assert_eq!(
            date_value(&raw, "when", "2026-01-02T03:04:05"),
            "2026-01-02T03:04:05"
        );
        assert_eq!(
            date_value(&raw, "when", "2026-01-02T03:04"),
            "2026-01-02T03:04:00"
        );
    }

    #[test]
    fn repeated_names_keep_every_value() {
        let raw = raw_of_pairs(vec![
            ("tags".into(), "a".into()),
            ("tags".into(), "b".into()),
        ]);
        assert_eq!(raw["tags"], vec!["a", "b"]);
    }
}
