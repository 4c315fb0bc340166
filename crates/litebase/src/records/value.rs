//! Field values: PocketBase's coercion of input, its validation rules and error
//! codes, and the conversion between JSON and SQLite values.

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

fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn as_list(v: &Value) -> Vec<String> {
    let items: Vec<String> = match v {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(as_text).collect(),
        Value::String(s) if s.is_empty() => Vec::new(),
        other => vec![as_text(other)],
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Parses the date formats PocketBase accepts into its storage format, or `""`.
pub fn normalize_date(s: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let s = s.trim();
    if s.is_empty() {
        return String::new();
    }
    let utc =
        |t: time::OffsetDateTime| crate::query::format_datetime(t.to_offset(time::UtcOffset::UTC));
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return utc(t);
    }
    let candidate = s.trim_end_matches('Z').replace('T', " ");
    let with_ms = format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]");
    let no_ms = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let minutes = format_description!("[year]-[month]-[day] [hour]:[minute]");
    for fmt in [with_ms, no_ms, minutes] {
        if let Ok(t) = time::PrimitiveDateTime::parse(&candidate, fmt) {
            return utc(t.assume_utc());
        }
    }
    if let Ok(d) = time::Date::parse(&candidate, format_description!("[year]-[month]-[day]")) {
        return utc(d.midnight().assume_utc());
    }
    String::new()
}

/// Turns any input into the field's type the way PocketBase does: lenient, never
/// failing (`"abc"` for a number is 0, a lone value for a multi-select is `[v]`).
pub fn coerce(field: &Field, v: &Value) -> Value {
    match &field.kind {
        FieldKind::Number { .. } => match v {
            Value::Number(n) => number(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => number(
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .unwrap_or(0.0),
            ),
            Value::Bool(b) => json!(i64::from(*b)),
            _ => json!(0),
        },
        FieldKind::Bool {} => json!(match v {
            Value::Bool(b) => *b,
            Value::String(s) => matches!(s.as_str(), "true" | "1"),
            Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
            _ => false,
        }),
        FieldKind::Json { .. } => match v {
            Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
            other => other.clone(),
        },
        FieldKind::Date { .. } | FieldKind::Autodate { .. } => json!(normalize_date(&as_text(v))),
        FieldKind::Select { .. } | FieldKind::Relation { .. } | FieldKind::File { .. } => {
            let list = as_list(v);
            if field.is_multiple() {
                json!(list)
            } else {
                json!(list.last().cloned().unwrap_or_default())
            }
        }
        _ => json!(as_text(v)),
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
            match crate::auth::superusers::validate_email(s) {
                Err(_) => {
                    return Some(err(
                        "validation_is_email",
                        "Must be a valid email address.".into(),
                        None,
                    ));
                }
                Ok(e) => {
                    let host = e.rsplit('@').next().unwrap_or_default();
                    if !domain_allowed(host, only_domains, except_domains) {
                        return Some(err(
                            "validation_email_domain_not_allowed",
                            "Email domain is not allowed.".into(),
                            None,
                        ));
                    }
                }
            }
        }
        FieldKind::Url {
            only_domains,
            except_domains,
        } => {
            let s = v.as_str().unwrap_or_default();
            let rest = s
                .strip_prefix("https://")
                .or_else(|| s.strip_prefix("http://"));
            let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
            match host {
                Some(h)
                    if !h.is_empty() && !h.contains(char::is_whitespace) && !s.contains(' ') =>
                {
                    let bare = h.rsplit('@').next().unwrap_or(h);
                    let bare = bare.split(':').next().unwrap_or(bare);
                    if !domain_allowed(bare, only_domains, except_domains) {
                        return Some(err(
                            "validation_url_domain_not_allowed",
                            "Url domain is not allowed.".into(),
                            None,
                        ));
                    }
                }
                _ => {
                    return Some(err(
                        "validation_invalid_url",
                        "Must be a valid url.".into(),
                        None,
                    ));
                }
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
            let list = as_list(v);
            for item in &list {
                if !values.contains(item) {
                    return Some(err(
                        "validation_invalid_value",
                        format!("Invalid value {item}."),
                        Some(json!({"value": item})),
                    ));
                }
            }
            let max = (*max_select).max(1) as usize;
            if list.len() > max {
                return Some(err(
                    "validation_too_many_values",
                    format!("Select no more than {max}."),
                    Some(json!({"maxSelect": max})),
                ));
            }
        }
        FieldKind::Relation {
            max_select,
            min_select,
            ..
        } => {
            let list = as_list(v);
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
        _ => {}
    }
    None
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
        (_, other) => SqlValue::Text(as_text(other)),
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
            let a = current.as_f64().unwrap_or(0.0);
            let b = coerce(field, operand).as_f64().unwrap_or(0.0);
            number(if modifier == '-' { a - b } else { a + b })
        }
        FieldKind::Select { .. } | FieldKind::Relation { .. } | FieldKind::File { .. } => {
            let mut list = as_list(current);
            let given = as_list(operand);
            if modifier == '-' {
                list.retain(|x| !given.contains(x));
            } else if prepend {
                let mut front: Vec<String> =
                    given.into_iter().filter(|g| !list.contains(g)).collect();
                front.append(&mut list);
                list = front;
            } else {
                for g in given {
                    if !list.contains(&g) {
                        list.push(g);
                    }
                }
            }
            coerce(field, &json!(list))
        }
        FieldKind::Text { .. } | FieldKind::Editor { .. } if modifier == '+' => {
            let a = as_text(current);
            let b = as_text(operand);
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
/// read-only keys are ignored. Returns the new values and which fields were given.
pub fn merge(
    collection: &Collection,
    base: &Map<String, Value>,
    body: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = base.clone();
    for field in &collection.fields {
        if matches!(
            field.kind,
            FieldKind::Autodate { .. } | FieldKind::Password { .. }
        ) {
            continue;
        }
        let name = &field.name;
        if let Some(v) = body.get(name) {
            out.insert(name.clone(), coerce(field, v));
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
