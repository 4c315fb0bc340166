//! Field values: PocketBase's coercion of input, its validation rules and error
//! codes, and the conversion between JSON and SQLite values.

use std::collections::HashSet;

use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Number, Value, json};

use crate::schema::{Collection, Field, FieldKind};

/// The zero value of a field, as records show it.
pub fn zero(field: &Field) -> Value {
    match &field.kind {
        FieldKind::Number { .. } => json!(0),
        FieldKind::Bool {} => json!(false),
        FieldKind::Json { .. } => Value::Null,
        _ if field.is_multiple() => json!([]),
        _ => json!(""),
    }
}

/// A JSON number that prints `5` rather than `5.0` when it is whole.
pub fn number(n: f64) -> Value {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        json!(n as i64)
    } else {
        Number::from_f64(n).map_or(json!(0), Value::Number)
    }
}

/// Text as PocketBase makes it from any input (Go's `cast.ToString`): strings as
/// they are, numbers in plain decimal without an exponent (`1e21` is
/// `"1000000000000000000000"`), booleans as `true`/`false`, and `""` for null,
/// arrays and objects. Text, email, url, editor fields and record ids are read so.
pub fn to_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        // Go holds every JSON number as an f64 and prints it in the shortest form
        // that reads back the same, with no exponent; Rust's `Display` does that too.
        Value::Number(n) => n.as_f64().map(|f| f.to_string()).unwrap_or_default(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// Keeps the first of each name and drops empty ones (in linear time: a list of
/// 100,000 values must not stall the writer).
pub(crate) fn unique_nonempty(items: Vec<String>) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::with_capacity(items.len());
    items
        .into_iter()
        .filter(|item| !item.is_empty() && seen.insert(item.clone()))
        .collect()
}

/// The values of a select or relation as PocketBase reads them: one value, a list
/// (all or nothing: one array or object inside makes the whole list empty), or a
/// string holding a JSON array of strings (`"[\"a\",\"b\"]"`, as forms send them).
/// Objects are no values at all. Duplicates and empty strings are dropped.
fn to_list(v: &Value) -> Vec<String> {
    let items = match v {
        Value::Null | Value::Object(_) => Vec::new(),
        Value::String(s) if s.contains('[') => {
            match serde_json::from_str::<Vec<Option<String>>>(s) {
                Ok(items) => items.into_iter().map(Option::unwrap_or_default).collect(),
                Err(_) => vec![s.clone()],
            }
        }
        Value::Array(items) => {
            if items.iter().any(|i| i.is_array() || i.is_object()) {
                Vec::new()
            } else {
                items.iter().map(to_text).collect()
            }
        }
        other => vec![to_text(other)],
    };
    unique_nonempty(items)
}

/// The names of a file field as PocketBase reads them: like [`to_list`], except
/// that a list is read item by item, and an item that is not exactly one name (an
/// object, an empty string, a nested list of several) is skipped.
fn to_file_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => unique_nonempty(
            items
                .iter()
                .filter_map(|item| match to_file_list(item).as_slice() {
                    [one] => Some(one.clone()),
                    _ => None,
                })
                .collect(),
        ),
        other => to_list(other),
    }
}

/// A boolean as Go's `strconv.ParseBool` reads a string (`1 t T TRUE true True`
/// are true, anything else false, no trimming); numbers are true unless 0.
fn to_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => matches!(s.as_str(), "1" | "t" | "T" | "TRUE" | "true" | "True"),
        _ => false,
    }
}

/// The key of the placeholder [`coerce`] leaves for input it cannot turn into the
/// field's type (a number that is NaN or infinite, JSON text that serde_json cannot
/// hold), so that [`validate`] rejects it. A value is a JSON object
/// `{KEY: reason}`; the NUL keeps it out of anyone's way (a client sending exactly
/// this object to a JSON field only gets the matching validation error).
const REJECTED: &str = "\u{0}litebase:rejected";
const NOT_A_NUMBER: &str = "not_a_number";
const INVALID_JSON: &str = "invalid_json";
const JSON_TOO_DEEP: &str = "json_too_deep";

fn rejected(reason: &str) -> Value {
    let mut m = Map::new();
    m.insert(REJECTED.into(), json!(reason));
    Value::Object(m)
}

/// The validation error for a [`rejected`] placeholder, `None` for real values.
fn rejection(v: &Value) -> Option<Value> {
    let obj = v.as_object().filter(|o| o.len() == 1)?;
    match obj.get(REJECTED)?.as_str()? {
        NOT_A_NUMBER => Some(err(
            "validation_not_a_number",
            "The submitted number is not properly formatted.".into(),
            None,
        )),
        INVALID_JSON => Some(err(
            "validation_invalid_json",
            "Must be a valid json value.".into(),
            None,
        )),
        JSON_TOO_DEEP => Some(err(
            "validation_invalid_json",
            format!(
                "JSON nested more than {} levels deep is not supported.",
                super::parse::JSON_DEPTH_LIMIT - 1
            ),
            None,
        )),
        _ => None,
    }
}

/// A number field's value: the number, or the not-a-number placeholder.
fn number_value(n: f64) -> Value {
    if n.is_finite() {
        number(n)
    } else {
        rejected(NOT_A_NUMBER)
    }
}

/// What a (coerced or stored) number field holds; NaN for the placeholder.
fn number_of(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        _ if rejection(v).is_some() => f64::NAN,
        _ => 0.0,
    }
}

/// A number as PocketBase reads input (Go's `cast.ToFloat64`): strings in Go's
/// float syntax, untrimmed (anything else is 0, so `" 12 "` is 0), booleans 1/0.
/// NaN and infinities parse, and are rejected by [`validate`].
fn to_number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(s) => super::parse::go_float(s).unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

/// A JSON field's value. A string is read as JSON text only when it is `null`,
/// `true`, `false`, or starts like a number, string, array or object (no leading
/// whitespace) and is valid JSON; any other string is stored as a JSON string.
/// Valid JSON that serde_json cannot hold (a number beyond f64, a lone surrogate,
/// too deep a nesting) becomes a placeholder [`validate`] rejects.
fn to_json(v: &Value) -> Value {
    let Value::String(s) = v else {
        return v.clone();
    };
    let starts_like_json = matches!(
        s.as_bytes().first(),
        Some(b'0'..=b'9' | b'-' | b'"' | b'[' | b'{')
    );
    if !matches!(s.as_str(), "null" | "true" | "false") && !starts_like_json {
        return v.clone();
    }
    // Whatever serde_json reads is JSON text, so the scan only runs when it fails,
    // to tell text that is not JSON (kept as a string) from JSON it cannot hold.
    serde_json::from_str(s).unwrap_or_else(|_| match super::parse::json_depth(s) {
        None => v.clone(),
        Some(depth) if depth >= super::parse::JSON_DEPTH_LIMIT => rejected(JSON_TOO_DEEP),
        Some(_) => rejected(INVALID_JSON),
    })
}

/// The names a file field's value holds (a name, a list, JSON text of a list).
pub fn file_names(v: &Value) -> Vec<String> {
    to_file_list(v)
}

/// Parses the date formats PocketBase accepts into its storage format, or `""`.
pub fn normalize_date(s: &str) -> String {
    super::parse::parse_date(s)
        .map(crate::query::format_datetime)
        .unwrap_or_default()
}

/// The values of a select, relation or file field as given in `v` (file names are
/// read by their own rules).
fn list_of(field: &Field, v: &Value) -> Vec<String> {
    if matches!(field.kind, FieldKind::File { .. }) {
        to_file_list(v)
    } else {
        to_list(v)
    }
}

/// Turns any input into the field's type the way PocketBase does: lenient, never
/// failing (`"abc"` for a number is 0, a lone value for a multi-select is `[v]`,
/// an array for a text field is `""`). Input that parses but has no value of the
/// type (NaN for a number) becomes a placeholder that [`validate`] rejects.
pub fn coerce(field: &Field, v: &Value) -> Value {
    match &field.kind {
        FieldKind::Number { .. } => number_value(to_number(v)),
        FieldKind::Bool {} => json!(to_bool(v)),
        FieldKind::Json { .. } => to_json(v),
        FieldKind::Date { .. } | FieldKind::Autodate { .. } => json!(normalize_date(&to_text(v))),
        FieldKind::Select { .. } | FieldKind::Relation { .. } | FieldKind::File { .. } => {
            let list = list_of(field, v);
            if field.is_multiple() {
                json!(list)
            } else {
                json!(list.last().cloned().unwrap_or_default())
            }
        }
        _ => json!(to_text(v)),
    }
}

/// Whether a (coerced) value counts as blank for `required`.
pub fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn err(code: &str, message: String, params: Option<Value>) -> Value {
    let mut e = json!({"code": code, "message": message});
    if let (Some(p), Some(obj)) = (params, e.as_object_mut()) {
        obj.insert("params".into(), p);
    }
    e
}

fn domain_allowed(host: &str, only: &[String], except: &[String]) -> bool {
    let host = host.to_ascii_lowercase();
    (only.is_empty() || only.iter().any(|d| d.eq_ignore_ascii_case(&host)))
        && !except.iter().any(|d| d.eq_ignore_ascii_case(&host))
}

/// Checks a coerced value against the field's options; the error is PocketBase's
/// `{code, message[, params]}`. Relation targets are checked by the writer, which
/// can see the database.
pub fn validate(field: &Field, v: &Value) -> Option<Value> {
    if matches!(
        field.kind,
        FieldKind::Number { .. } | FieldKind::Json { .. }
    ) {
        if let Some(e) = rejection(v) {
            return Some(e);
        }
    }
    if is_blank(v) {
        // `0` and `false` are legitimate values of optional fields.
        return field
            .required
            .then(|| err("validation_required", "Cannot be blank.".into(), None));
    }
    match &field.kind {
        FieldKind::Text {
            min, max, pattern, ..
        } => {
            let s = v.as_str().unwrap_or_default();
            let len = s.chars().count() as u32;
            if *min > 0 && len < *min {
                return Some(err(
                    "validation_min_text_constraint",
                    format!("Must be at least {min} character(s)."),
                    Some(json!({"min": min})),
                ));
            }
            let limit = if *max == 0 { 5000 } else { *max };
            if len > limit {
                return Some(err(
                    "validation_max_text_constraint",
                    format!("Must be less than {limit} character(s)."),
                    Some(json!({"max": limit})),
                ));
            }
            if !pattern.is_empty() && !regex::Regex::new(pattern).is_ok_and(|re| re.is_match(s)) {
                return Some(err(
                    "validation_invalid_format",
                    "Invalid value format.".into(),
                    None,
                ));
            }
        }
        FieldKind::Number { min, max, only_int } => {
            let n = v.as_f64().unwrap_or(0.0);
            if *only_int && n.fract() != 0.0 {
                return Some(err(
                    "validation_only_int_constraint",
                    "Decimal numbers are not allowed.".into(),
                    None,
                ));
            }
            if let Some(min) = min.filter(|m| n < *m) {
                return Some(err(
                    "validation_min_number_constraint",
                    format!("Must be larger than {}.", number(min)),
                    Some(json!({"min": number(min)})),
                ));
            }
            if let Some(max) = max.filter(|m| n > *m) {
                return Some(err(
                    "validation_max_number_constraint",
                    format!("Must be less than {}.", number(max)),
                    Some(json!({"max": number(max)})),
                ));
            }
        }
        FieldKind::Email {
            only_domains,
            except_domains,
        } => {
            let s = v.as_str().unwrap_or_default();
            if !super::parse::is_email(s) {
                return Some(err(
                    "validation_is_email",
                    "Must be a valid email address.".into(),
                    None,
                ));
            }
            let host = s.rsplit('@').next().unwrap_or_default();
            if !domain_allowed(host, only_domains, except_domains) {
                return Some(err(
                    "validation_email_domain_not_allowed",
                    "Email domain is not allowed.".into(),
                    None,
                ));
            }
        }
        FieldKind::Url {
            only_domains,
            except_domains,
        } => {
            let s = v.as_str().unwrap_or_default();
            let Some(host) = super::parse::http_url_host(s) else {
                return Some(err(
                    "validation_invalid_url",
                    "Must be a valid url.".into(),
                    None,
                ));
            };
            if !domain_allowed(host, only_domains, except_domains) {
                return Some(err(
                    "validation_url_domain_not_allowed",
                    "Url domain is not allowed.".into(),
                    None,
                ));
            }
        }
        FieldKind::Editor { max_size, .. } | FieldKind::Json { max_size } => {
            let size = match v {
                Value::String(s) => s.len() as u64,
                other => other.to_string().len() as u64,
            };
            let limit = if *max_size == 0 { 5 << 20 } else { *max_size };
            if size > limit {
                return Some(err(
                    "validation_json_size_limit",
                    format!("The maximum allowed size is {limit} bytes."),
                    Some(json!({"maxSize": limit})),
                ));
            }
        }
        FieldKind::Date { min, max } => {
            let s = v.as_str().unwrap_or_default();
            let min = normalize_date(min);
            let max = normalize_date(max);
            if !min.is_empty() && s < min.as_str() {
                return Some(err(
                    "validation_min_date_constraint",
                    format!("Must be no earlier than {min}."),
                    None,
                ));
            }
            if !max.is_empty() && s > max.as_str() {
                return Some(err(
                    "validation_max_date_constraint",
                    format!("Must be no later than {max}."),
                    None,
                ));
            }
        }
        FieldKind::Select { values, max_select } => {
            // PocketBase counts before it checks the values.
            let list = to_list(v);
            let max = (*max_select).max(1) as usize;
            if list.len() > max {
                return Some(err(
                    "validation_too_many_values",
                    format!("Select no more than {max}."),
                    Some(json!({"maxSelect": max})),
                ));
            }
            if let Some(item) = list.iter().find(|item| !values.contains(item)) {
                return Some(err(
                    "validation_invalid_value",
                    format!("Invalid value {item}."),
                    Some(json!({"value": item})),
                ));
            }
        }
        FieldKind::Relation {
            max_select,
            min_select,
            ..
        } => {
            let list = to_list(v);
            let max = (*max_select).max(1) as usize;
            if list.len() > max {
                return Some(err(
                    "validation_too_many_values",
                    format!("Select no more than {max}."),
                    Some(json!({"maxSelect": max})),
                ));
            }
            if (*min_select as usize) > list.len() {
                return Some(err(
                    "validation_not_enough_values",
                    format!("Select at least {min_select}."),
                    Some(json!({"minSelect": min_select})),
                ));
            }
        }
        FieldKind::File { max_select, .. } => {
            let max = (*max_select).max(1) as usize;
            if to_file_list(v).len() > max {
                return Some(err(
                    "validation_too_many_files",
                    format!("The maximum allowed files is {max}."),
                    Some(json!({"maxSelect": max})),
                ));
            }
        }
        _ => {}
    }
    None
}

/// Whether a file name can only be a plain name: nothing that could reach another
/// directory once names become paths.
fn safe_file_name(name: &str) -> bool {
    !name.contains(['/', '\\']) && !name.contains("..")
}

/// PocketBase's `validation_invalid_file` for the names of file field `field`: a
/// client may keep or remove the names the stored record has (`stored`; `None` for
/// a new record), but never add one as a plain string, since new files come only
/// as uploads (whose new names the caller adds to `stored`). Names with `/`, `\` or `..` are
/// refused even when stored. The error lists the refused names, each cut to 250
/// bytes, in `params.invalidFiles`.
pub fn invalid_files(field: &Field, new: &Value, stored: Option<&Value>) -> Option<Value> {
    if !matches!(field.kind, FieldKind::File { .. }) {
        return None;
    }
    let kept = stored.map(to_file_list).unwrap_or_default();
    let refused: Vec<String> = to_file_list(new)
        .into_iter()
        .filter(|name| !kept.contains(name) || !safe_file_name(name))
        .map(|name| {
            let mut end = name.len().min(250);
            while !name.is_char_boundary(end) {
                end -= 1;
            }
            name[..end].to_string()
        })
        .collect();
    (!refused.is_empty()).then(|| {
        err(
            "validation_invalid_file",
            format!("Invalid new files: [{}].", refused.join(" ")),
            Some(json!({"invalidFiles": refused})),
        )
    })
}

/// The SQLite value to store for a coerced value.
pub fn to_sql(field: &Field, v: &Value) -> SqlValue {
    match (&field.kind, v) {
        (_, Value::Null) if matches!(field.kind, FieldKind::Json { .. }) => SqlValue::Null,
        (FieldKind::Number { .. }, v) => SqlValue::Real(v.as_f64().unwrap_or(0.0)),
        (FieldKind::Bool {}, v) => SqlValue::Integer(i64::from(v.as_bool().unwrap_or(false))),
        (FieldKind::Json { .. }, v) => SqlValue::Text(v.to_string()),
        (_, Value::Array(_)) => SqlValue::Text(v.to_string()),
        (_, Value::String(s)) => SqlValue::Text(s.clone()),
        (_, other) => SqlValue::Text(to_text(other)),
    }
}

/// The JSON a stored value is shown as.
pub fn from_sql(field: &Field, v: SqlValue) -> Value {
    match &field.kind {
        FieldKind::Number { .. } => match v {
            SqlValue::Integer(i) => json!(i),
            SqlValue::Real(r) => number(r),
            SqlValue::Text(t) => number(t.trim().parse().unwrap_or(0.0)),
            _ => json!(0),
        },
        FieldKind::Bool {} => json!(match v {
            SqlValue::Integer(i) => i != 0,
            SqlValue::Real(r) => r != 0.0,
            SqlValue::Text(t) => t == "true" || t == "1",
            _ => false,
        }),
        FieldKind::Json { .. } => match v {
            SqlValue::Null => Value::Null,
            SqlValue::Integer(i) => json!(i),
            SqlValue::Real(r) => number(r),
            SqlValue::Text(t) => serde_json::from_str(&t).unwrap_or(Value::String(t)),
            SqlValue::Blob(b) => json!(String::from_utf8_lossy(&b)),
        },
        _ if field.is_multiple() => match v {
            SqlValue::Text(t) => match serde_json::from_str::<Value>(&t) {
                Ok(Value::Array(a)) => Value::Array(a),
                _ if t.is_empty() => json!([]),
                _ => json!([t]),
            },
            _ => json!([]),
        },
        _ => match v {
            SqlValue::Text(t) => json!(t),
            SqlValue::Integer(i) => json!(i.to_string()),
            SqlValue::Real(r) => json!(r.to_string()),
            _ => json!(""),
        },
    }
}

/// The value after a `field+` / `+field` / `field-` modifier.
pub fn apply_modifier(
    field: &Field,
    current: &Value,
    modifier: char,
    prepend: bool,
    operand: &Value,
) -> Value {
    match &field.kind {
        FieldKind::Number { .. } => {
            // NaN and infinities carry through, so `n+: "NaN"` is rejected.
            let a = number_of(current);
            let b = to_number(operand);
            number_value(if modifier == '-' { a - b } else { a + b })
        }
        FieldKind::Select { .. } | FieldKind::Relation { .. } | FieldKind::File { .. } => {
            let mut list = list_of(field, current);
            let given = list_of(field, operand);
            if modifier == '-' {
                let given: HashSet<&String> = given.iter().collect();
                list.retain(|x| !given.contains(x));
            } else {
                let present: HashSet<String> = list.iter().cloned().collect();
                let new = given.into_iter().filter(|g| !present.contains(g));
                list = if prepend {
                    new.chain(list).collect()
                } else {
                    list.into_iter().chain(new).collect()
                };
            }
            coerce(field, &json!(list))
        }
        FieldKind::Text { .. } | FieldKind::Editor { .. } if modifier == '+' => {
            let a = to_text(current);
            let b = to_text(operand);
            json!(if prepend {
                format!("{b}{a}")
            } else {
                format!("{a}{b}")
            })
        }
        _ => current.clone(),
    }
}

/// The record's values after applying `body` to `base` (the stored record, or zero
/// values for a new one): plain keys replace, modifiers adjust, unknown and
/// read-only keys are ignored, and so are hidden fields (all their forms) unless a
/// superuser writes, as PocketBase does. Returns the new values.
pub fn merge(
    collection: &Collection,
    base: &Map<String, Value>,
    body: &Map<String, Value>,
    superuser: bool,
) -> Map<String, Value> {
    let mut out = base.clone();
    // `+name`, `name+` and `name-` keys are rare: look for them only when some key
    // could be one.
    let modifiers = body
        .keys()
        .any(|k| k.starts_with('+') || k.ends_with('+') || k.ends_with('-'));
    for field in &collection.fields {
        if matches!(
            field.kind,
            FieldKind::Autodate { .. } | FieldKind::Password { .. }
        ) || (field.hidden && !superuser)
        {
            continue;
        }
        let name = &field.name;
        if let Some(v) = body.get(name) {
            out.insert(name.clone(), coerce(field, v));
        }
        if !modifiers {
            continue;
        }
        let current = out.get(name).cloned().unwrap_or_else(|| zero(field));
        if let Some(v) = body.get(&format!("+{name}")) {
            out.insert(name.clone(), apply_modifier(field, &current, '+', true, v));
        }
        let current = out.get(name).cloned().unwrap_or_else(|| zero(field));
        if let Some(v) = body.get(&format!("{name}+")) {
            out.insert(name.clone(), apply_modifier(field, &current, '+', false, v));
        }
        let current = out.get(name).cloned().unwrap_or_else(|| zero(field));
        if let Some(v) = body.get(&format!("{name}-")) {
            out.insert(name.clone(), apply_modifier(field, &current, '-', false, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: Value) -> Field {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn coerces_like_pocketbase() {
        let n = field(json!({"name": "n", "type": "number"}));
        assert_eq!(coerce(&n, &json!("12")), json!(12));
        assert_eq!(coerce(&n, &json!("abc")), json!(0));
        assert_eq!(coerce(&n, &json!(1.5)), json!(1.5));
        let b = field(json!({"name": "b", "type": "bool"}));
        assert_eq!(coerce(&b, &json!("true")), json!(true));
        assert_eq!(coerce(&b, &json!("yes")), json!(false));
        let t = field(json!({"name": "t", "type": "text"}));
        assert_eq!(coerce(&t, &json!(12345)), json!("12345"));
        assert_eq!(coerce(&t, &Value::Null), json!(""));
        let tags =
            field(json!({"name": "tags", "type": "select", "values": ["a", "b"], "maxSelect": 3}));
        assert_eq!(coerce(&tags, &json!("a")), json!(["a"]));
        assert_eq!(coerce(&tags, &json!(["a", "a", "b"])), json!(["a", "b"]));
        let j = field(json!({"name": "j", "type": "json"}));
        assert_eq!(coerce(&j, &json!("{\"a\":1}")), json!({"a": 1}));
        assert_eq!(coerce(&j, &json!("not json")), json!("not json"));
        let d = field(json!({"name": "d", "type": "date"}));
        assert_eq!(
            coerce(&d, &json!("2024-01-02")),
            json!("2024-01-02 00:00:00.000Z")
        );
        assert_eq!(
            coerce(&d, &json!("2024-01-02T10:11:12+02:00")),
            json!("2024-01-02 08:11:12.000Z")
        );
        assert_eq!(coerce(&d, &json!("nope")), json!(""));
    }

    #[test]
    fn validation_codes_match_pocketbase() {
        let t = field(json!({"name": "t", "type": "text", "min": 3, "required": true}));
        assert_eq!(
            validate(&t, &json!("")).map(|e| e["code"].clone()),
            Some(json!("validation_required"))
        );
        assert_eq!(
            validate(&t, &json!("ab")).map(|e| e["params"]["min"].clone()),
            Some(json!(3))
        );
        let n = field(json!({"name": "n", "type": "number", "max": 10, "onlyInt": true}));
        assert_eq!(
            validate(&n, &json!(11)).map(|e| e["code"].clone()),
            Some(json!("validation_max_number_constraint"))
        );
        assert_eq!(
            validate(&n, &json!(1.5)).map(|e| e["code"].clone()),
            Some(json!("validation_only_int_constraint"))
        );
        assert!(
            validate(&n, &json!(0)).is_none(),
            "0 is fine when not required"
        );
        let e = field(json!({"name": "e", "type": "email"}));
        assert!(validate(&e, &json!("a@b.co")).is_none());
        assert_eq!(
            validate(&e, &json!("nope")).map(|e| e["code"].clone()),
            Some(json!("validation_is_email"))
        );
        let u = field(json!({"name": "u", "type": "url"}));
        assert!(validate(&u, &json!("https://example.com/x")).is_none());
        assert!(validate(&u, &json!("example.com")).is_some());
        let s = field(json!({"name": "s", "type": "select", "values": ["a"], "maxSelect": 1}));
        assert_eq!(
            validate(&s, &json!("z")).map(|e| e["params"]["value"].clone()),
            Some(json!("z"))
        );
    }

    #[test]
    fn stored_values_round_trip() {
        let fields = [
            (json!({"name": "n", "type": "number"}), json!(2.5)),
            (json!({"name": "b", "type": "bool"}), json!(true)),
            (json!({"name": "j", "type": "json"}), json!({"x": [1, 2]})),
            (json!({"name": "j", "type": "json"}), Value::Null),
            (
                json!({"name": "m", "type": "select", "values": ["a", "b"], "maxSelect": 2}),
                json!(["b", "a"]),
            ),
            (json!({"name": "t", "type": "text"}), json!("héllo")),
        ];
        for (f, v) in fields {
            let f = field(f);
            assert_eq!(from_sql(&f, to_sql(&f, &v)), v, "{}", f.name);
        }
    }

    fn code(e: Option<Value>) -> Option<Value> {
        e.map(|e| e["code"].clone())
    }

    #[test]
    fn numbers_read_like_go_and_nan_or_infinity_is_rejected() {
        let n = field(json!({"name": "n", "type": "number"}));
        for bad in [
            "NaN",
            "nan",
            "-Infinity",
            "Infinity",
            "inf",
            "+Inf",
            "INFINITY",
        ] {
            let v = coerce(&n, &json!(bad));
            let e = validate(&n, &v).unwrap_or_else(|| panic!("{bad} passed"));
            assert_eq!(e["code"], "validation_not_a_number", "{bad}");
            assert_eq!(
                e["message"], "The submitted number is not properly formatted.",
                "{bad}"
            );
        }
        let cases = [
            (json!(" 12 "), json!(0)),
            (json!("\t12"), json!(0)),
            (json!("12\n"), json!(0)),
            (json!("12"), json!(12)),
            (json!("0x1p4"), json!(16)),
            (json!("1_000"), json!(1000)),
            (json!("1e400"), json!(0)),
            (json!("-nan"), json!(0)),
            (json!(".5"), json!(0.5)),
            (json!(true), json!(1)),
            (json!([1]), json!(0)),
            (json!({}), json!(0)),
            (Value::Null, json!(0)),
        ];
        for (input, want) in cases {
            let v = coerce(&n, &input);
            assert_eq!(v, want, "{input}");
            assert!(validate(&n, &v).is_none(), "{input}");
        }
        // Modifiers carry NaN and infinity through to validation.
        let plus_nan = apply_modifier(&n, &json!(5), '+', false, &json!("NaN"));
        assert_eq!(
            code(validate(&n, &plus_nan)),
            Some(json!("validation_not_a_number"))
        );
        let then_minus = apply_modifier(&n, &plus_nan, '-', false, &json!(1));
        assert_eq!(
            code(validate(&n, &then_minus)),
            Some(json!("validation_not_a_number"))
        );
        let overflow = apply_modifier(&n, &json!(1e308), '+', false, &json!(1e308));
        assert_eq!(
            code(validate(&n, &overflow)),
            Some(json!("validation_not_a_number"))
        );
        let required = field(json!({"name": "n", "type": "number", "required": true}));
        assert_eq!(
            code(validate(&required, &coerce(&required, &json!("NaN")))),
            Some(json!("validation_not_a_number"))
        );
    }

    #[test]
    fn text_like_fields_read_lists_and_objects_as_empty() {
        let t = field(json!({"name": "t", "type": "text"}));
        for input in [
            json!(["x"]),
            json!({"a": 1}),
            json!([null]),
            json!([]),
            Value::Null,
        ] {
            assert_eq!(coerce(&t, &input), json!(""), "{input}");
        }
        // Numbers in plain decimal, as Go prints an f64.
        assert_eq!(coerce(&t, &json!(1e21)), json!("1000000000000000000000"));
        assert_eq!(coerce(&t, &json!(1e-7)), json!("0.0000001"));
        assert_eq!(
            coerce(&t, &json!(12_345_678_901_234_567_890_u64)),
            json!("12345678901234567000")
        );
        assert_eq!(coerce(&t, &json!(-0.0)), json!("-0"));
        assert_eq!(coerce(&t, &json!(1.5)), json!("1.5"));
        assert_eq!(coerce(&t, &json!(true)), json!("true"));
        let e = field(json!({"name": "e", "type": "email"}));
        for input in [json!(["a@b.co"]), json!({"a": 1})] {
            let v = coerce(&e, &input);
            assert_eq!(v, json!(""), "{input}");
            assert!(validate(&e, &v).is_none(), "{input}");
        }
        let u = field(json!({"name": "u", "type": "url"}));
        for input in [json!(["http://a.b"]), json!({})] {
            let v = coerce(&u, &input);
            assert_eq!(v, json!(""), "{input}");
            assert!(validate(&u, &v).is_none(), "{input}");
        }
        let ed = field(json!({"name": "ed", "type": "editor"}));
        assert_eq!(coerce(&ed, &json!(["<p>x</p>"])), json!(""));
        assert_eq!(coerce(&ed, &json!({"a": 1})), json!(""));
        // `t+` with a list appends nothing.
        assert_eq!(
            apply_modifier(&t, &json!("a"), '+', false, &json!(["b"])),
            json!("a")
        );
    }

    #[test]
    fn email_fields_use_pocketbase_grammar_untrimmed() {
        let e = field(json!({"name": "e", "type": "email"}));
        for bad in [
            " a@b.co",
            "a@b.co ",
            "a@b.co\n",
            ".a@b.co",
            "a..b@c.de",
            "a@-b.cd",
            "a@1.2.3.4",
            "\"a\"@b.co",
        ] {
            assert_eq!(
                code(validate(&e, &coerce(&e, &json!(bad)))),
                Some(json!("validation_is_email")),
                "{bad:?}"
            );
        }
        for ok in ["a@b.co", "a@b.co.", "A@B.CO", "a@b_c.de"] {
            assert!(validate(&e, &json!(ok)).is_none(), "{ok:?}");
        }
        let only = field(json!({"name": "e", "type": "email", "onlyDomains": ["b.co"]}));
        assert!(validate(&only, &json!("x@b.co")).is_none());
        assert_eq!(
            code(validate(&only, &json!("x@c.co"))),
            Some(json!("validation_email_domain_not_allowed"))
        );
    }

    #[test]
    fn selects_and_relations_read_lists_like_pocketbase() {
        let s = field(json!({"name": "s", "type": "select", "values": ["a", "b"], "maxSelect": 1}));
        let m = field(
            json!({"name": "m", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3}),
        );
        let r =
            field(json!({"name": "r", "type": "relation", "collectionId": "x", "maxSelect": 1}));
        let rm =
            field(json!({"name": "rm", "type": "relation", "collectionId": "x", "maxSelect": 5}));
        let cases = [
            (&s, json!({}), json!("")),
            (&s, json!(["a", "b"]), json!("b")),
            (&s, json!(["a", {}]), json!("")),
            (&s, json!([["a"]]), json!("")),
            (&s, json!("[\"a\"]"), json!("a")),
            (&m, json!({}), json!([])),
            (&m, json!({"a": 1}), json!([])),
            (&m, json!(["a", {}]), json!([])),
            (&m, json!(["a", ["b"]]), json!([])),
            (&m, json!(["a", null]), json!(["a"])),
            (&m, json!("[\"a\",\"b\"]"), json!(["a", "b"])),
            (&m, json!("[\"a\", null]"), json!(["a"])),
            (&m, json!("[]"), json!([])),
            (&m, json!("[1]"), json!(["[1]"])),
            (&m, json!("x["), json!(["x["])),
            (&m, json!([1.0]), json!(["1"])),
            (&m, json!(true), json!(["true"])),
            (&r, json!({}), json!("")),
            (&r, json!(["x", {}]), json!("")),
            (&rm, json!({"a": 1}), json!([])),
            (&rm, json!("[\"x\"]"), json!(["x"])),
        ];
        for (f, input, want) in cases {
            assert_eq!(coerce(f, &input), want, "{} {input}", f.name);
        }
        for (f, input) in [(&s, json!({})), (&m, json!({})), (&m, json!(["a", {}]))] {
            assert!(validate(f, &coerce(f, &input)).is_none(), "{input}");
        }
        // Too many is reported before an unknown value.
        assert_eq!(
            code(validate(&m, &coerce(&m, &json!(["a", "x", "y", "z"])))),
            Some(json!("validation_too_many_values"))
        );
        assert_eq!(
            validate(&m, &coerce(&m, &json!([1.0]))).map(|e| e["params"]["value"].clone()),
            Some(json!("1"))
        );
        // Modifiers read their operand the same way.
        assert_eq!(
            apply_modifier(&m, &json!(["c"]), '+', false, &json!({})),
            json!(["c"])
        );
        assert_eq!(
            apply_modifier(&m, &json!(["c"]), '+', false, &json!("[\"a\",\"b\"]")),
            json!(["c", "a", "b"])
        );
    }

    #[test]
    fn bools_read_like_go_parse_bool() {
        let b = field(json!({"name": "b", "type": "bool"}));
        for yes in [
            json!("1"),
            json!("t"),
            json!("T"),
            json!("TRUE"),
            json!("true"),
            json!("True"),
            json!(2),
            json!(-1),
            json!(0.5),
            json!(true),
        ] {
            assert_eq!(coerce(&b, &yes), json!(true), "{yes}");
        }
        for no in [
            json!("0"),
            json!(" true"),
            json!("tRuE"),
            json!("yes"),
            json!("2"),
            json!("F"),
            json!(""),
            json!([true]),
            json!({}),
            Value::Null,
            json!(0),
        ] {
            assert_eq!(coerce(&b, &no), json!(false), "{no}");
        }
    }

    #[test]
    fn dates_are_not_trimmed_and_lists_are_empty() {
        let d = field(json!({"name": "d", "type": "date"}));
        for input in [
            json!(["2024-01-02"]),
            json!({"a": 1}),
            json!(0),
            json!(true),
            json!(" 2024-01-02 "),
            json!("2024-01-02 "),
            json!("2024-01-02 10:00"),
            json!("2024-01-02T10:00Z"),
            json!("2024-01-02t10:00:00z"),
        ] {
            assert_eq!(coerce(&d, &input), json!(""), "{input}");
        }
        assert_eq!(
            coerce(&d, &json!("2024-01-02T10:00:00+0200")),
            json!("2024-01-02 08:00:00.000Z")
        );
    }

    #[test]
    fn json_strings_are_json_only_when_pocketbase_reads_them_so() {
        let j = field(json!({"name": "j", "type": "json"}));
        let cases = [
            (json!("NaN"), json!("NaN")),
            (json!("Infinity"), json!("Infinity")),
            (json!(" 5"), json!(" 5")),
            (json!(" {}"), json!(" {}")),
            (json!("5 "), json!(5)),
            (json!("01"), json!("01")),
            (json!("[1] x"), json!("[1] x")),
            (json!(""), json!("")),
            (json!("null"), Value::Null),
            (json!("true"), json!(true)),
            (json!("\"q\""), json!("q")),
            (json!("-x"), json!("-x")),
            (json!("{\"a\":[1]}"), json!({"a": [1]})),
        ];
        for (input, want) in cases {
            let v = coerce(&j, &input);
            assert_eq!(v, want, "{input}");
            assert!(validate(&j, &v).is_none(), "{input}");
        }
        for bad in ["1e400", "-1e400", "[1e400]", "{\"a\":1e400}", "\"\\ud800\""] {
            let e = validate(&j, &coerce(&j, &json!(bad))).unwrap_or_else(|| panic!("{bad}"));
            assert_eq!(e["code"], "validation_invalid_json", "{bad}");
            assert_eq!(e["message"], "Must be a valid json value.", "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        let e = validate(&j, &coerce(&j, &json!(deep))).unwrap_or_else(|| panic!("deep"));
        assert_eq!(e["code"], "validation_invalid_json");
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("127 levels")),
            "{e}"
        );
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(validate(&j, &coerce(&j, &json!(ok))).is_none());
        // Real values are kept as they are, whatever their shape.
        assert_eq!(coerce(&j, &json!({"a": 1})), json!({"a": 1}));
    }

    #[test]
    fn file_names_only_as_the_stored_record_has_them() {
        let f = field(json!({"name": "f", "type": "file", "maxSelect": 3}));
        let f1 = field(json!({"name": "f1", "type": "file", "maxSelect": 1}));
        assert_eq!(coerce(&f, &json!("../x.png")), json!(["../x.png"]));
        assert_eq!(coerce(&f, &json!({})), json!([]));
        assert_eq!(coerce(&f, &json!([{}])), json!([]));
        assert_eq!(coerce(&f, &json!(["x", {}])), json!(["x"]));
        assert_eq!(coerce(&f, &json!([["a"], ["b", "c"]])), json!(["a"]));
        assert_eq!(coerce(&f1, &json!(["a", "b"])), json!("b"));
        // On create nothing is stored, so every name is refused.
        for (input, names) in [
            (json!("../x.png"), json!(["../x.png"])),
            (json!(["../etc/passwd"]), json!(["../etc/passwd"])),
            (json!("/etc/passwd"), json!(["/etc/passwd"])),
            (json!("x.png"), json!(["x.png"])),
            (json!(5), json!(["5"])),
        ] {
            let e = invalid_files(&f, &coerce(&f, &input), None)
                .unwrap_or_else(|| panic!("{input} passed"));
            assert_eq!(e["code"], "validation_invalid_file");
            assert_eq!(e["params"]["invalidFiles"], names);
        }
        let e = invalid_files(&f, &json!(["a.png", "b c.png"]), None);
        assert_eq!(
            e.map(|e| e["message"].clone()),
            Some(json!("Invalid new files: [a.png b c.png]."))
        );
        assert!(invalid_files(&f, &json!([]), None).is_none());
        assert!(invalid_files(&f1, &json!(""), None).is_none());
        // On update: stored names may stay or go, new ones are refused.
        let stored = json!(["a_1.png", "b_2.png"]);
        assert!(invalid_files(&f, &json!(["a_1.png"]), Some(&stored)).is_none());
        assert!(invalid_files(&f, &json!([]), Some(&stored)).is_none());
        let e = invalid_files(&f, &json!(["a_1.png", "new.png", "../x"]), Some(&stored));
        assert_eq!(
            e.map(|e| e["params"]["invalidFiles"].clone()),
            Some(json!(["new.png", "../x"]))
        );
        assert!(invalid_files(&f1, &json!("a_1.png"), Some(&json!("a_1.png"))).is_none());
        // A stored name that could be a path is refused too.
        let unsafe_stored = json!(["../x", "a\\b", "ok.png"]);
        let e = invalid_files(&f, &unsafe_stored, Some(&unsafe_stored));
        assert_eq!(
            e.map(|e| e["params"]["invalidFiles"].clone()),
            Some(json!(["../x", "a\\b"]))
        );
        // Long names are cut to 250 bytes in the error, on a char boundary.
        let long = "é".repeat(200);
        let e = invalid_files(&f, &json!([long]), None).unwrap_or_else(|| panic!("long"));
        let shown = e["params"]["invalidFiles"][0].as_str().unwrap_or_default();
        assert_eq!(shown.len(), 250);
        assert!(
            invalid_files(
                &field(json!({"name": "t", "type": "text"})),
                &json!("x"),
                None
            )
            .is_none()
        );
        // More names than maxSelect (only possible with stored names).
        let four = json!(["a", "b", "c", "d"]);
        assert_eq!(
            code(validate(&f, &four)),
            Some(json!("validation_too_many_files"))
        );
    }

    #[test]
    fn merge_applies_the_same_reading() {
        let c: Collection = serde_json::from_value(json!({
            "id": "c1", "name": "c", "type": "base",
            "fields": [
                {"name": "n", "type": "number"},
                {"name": "t", "type": "text"},
                {"name": "m", "type": "select", "values": ["a", "b"], "maxSelect": 2},
            ],
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let base: Map<String, Value> = json!({"n": 2, "t": "x", "m": ["a"]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let body = |v: Value| v.as_object().cloned().unwrap_or_default();
        let out = merge(&c, &base, &body(json!({"n+": "Infinity"})), false);
        assert!(validate(&c.fields[0], &out["n"]).is_some());
        let out = merge(
            &c,
            &base,
            &body(json!({"t": ["y"], "m+": "[\"b\"]", "n": " 3 "})),
            false,
        );
        assert_eq!(out["t"], json!(""));
        assert_eq!(out["m"], json!(["a", "b"]));
        assert_eq!(out["n"], json!(0));
    }

    #[test]
    fn modifiers_add_remove_and_prepend() {
        let n = field(json!({"name": "n", "type": "number"}));
        assert_eq!(
            apply_modifier(&n, &json!(5), '+', false, &json!(2)),
            json!(7)
        );
        assert_eq!(
            apply_modifier(&n, &json!(5), '-', false, &json!("2")),
            json!(3)
        );
        let tags = field(
            json!({"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3}),
        );
        assert_eq!(
            apply_modifier(&tags, &json!(["a"]), '+', false, &json!("b")),
            json!(["a", "b"])
        );
        assert_eq!(
            apply_modifier(&tags, &json!(["a"]), '+', true, &json!("c")),
            json!(["c", "a"])
        );
        assert_eq!(
            apply_modifier(&tags, &json!(["a", "b"]), '-', false, &json!(["a"])),
            json!(["b"])
        );
    }
}
