//! `?sort=` → the body of an `ORDER BY`.
//!
//! The result is returned as text (no parameters), so everything in it comes from
//! the schema or from a fixed vocabulary: field names are checked against the
//! schema, and JSON sub-paths may only contain `[A-Za-z0-9_]` (the lexer allows no
//! other identifier characters), so they are safe to inline as SQL string literals.

use super::error::{FilterError, column};
use super::lexer::{TokenKind, tokenize};
use super::parser::parse_ident;
use super::schema::{FieldKind, Schema};
use super::sql::quote_ident;
use super::{CompileOptions, MAX_FILTER_LEN, MAX_RELATION_DEPTH};

/// Compiles `-created,+title,@random` into `"t"."created" DESC, "t"."title" ASC, RANDOM()`.
pub(crate) fn compile(
    input: &str,
    collection: &str,
    schema: &dyn Schema,
    opts: &CompileOptions,
) -> Result<String, FilterError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(FilterError::TooLong {
            len: input.len(),
            max: MAX_FILTER_LEN,
        });
    }
    let root = schema
        .collection(collection)
        .ok_or_else(|| FilterError::UnknownCollection {
            name: collection.to_string(),
            column: 1,
        })?;
    let alias = quote_ident(&opts.table_alias);
    let mut terms = Vec::new();
    let mut offset = 0;
    for item in input.split(',') {
        let start = offset;
        offset += item.len() + 1;
        let trimmed = item.trim_start();
        let mut pos = start + (item.len() - trimmed.len());
        let trimmed = trimmed.trim_end();
        if trimmed.is_empty() {
            continue;
        }
        let (desc, name) = match trimmed.as_bytes()[0] {
            b'-' => (true, &trimmed[1..]),
            b'+' => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        if name.len() != trimmed.len() {
            pos += 1;
        }
        let dir = if desc { "DESC" } else { "ASC" };
        let tokens = tokenize(name).map_err(|e| shift(e, input, pos))?;
        let text = match tokens.as_slice() {
            [tok] => match &tok.kind {
                TokenKind::Ident(text) => text.clone(),
                _ => return Err(expected_field(input, pos)),
            },
            _ => return Err(expected_field(input, pos)),
        };
        match text.as_str() {
            "@random" => {
                terms.push("RANDOM()".to_string());
                continue;
            }
            "@rowid" => {
                terms.push(format!("{alias}.\"rowid\" {dir}"));
                continue;
            }
            _ => {}
        }
        let ident = parse_ident(input, text, pos)?;
        let bad = |reason: &str| FilterError::InvalidIdentifier {
            ident: ident.text.clone(),
            column: column(input, pos),
            reason: reason.to_string(),
        };
        // Only the last part may carry a modifier, and only `:length` (item count).
        let last_suffix = ident.segments.last().and_then(|s| s.suffix.as_deref());
        let inner_suffix = ident.segments[..ident.segments.len() - 1]
            .iter()
            .any(|s| s.suffix.is_some());
        if inner_suffix
            || last_suffix.is_some_and(|m| m != "length")
            || ident.segments[0].name.starts_with('@')
        {
            return Err(bad(
                "sort takes field paths (optionally :length), @random or @rowid",
            ));
        }
        // Walk single relations with a correlated scalar subquery per hop.
        let mut coll = root;
        let mut current = alias.clone();
        let mut from: Vec<String> = Vec::new();
        let mut expr = None;
        for (i, seg) in ident.segments.iter().enumerate() {
            let last = i + 1 == ident.segments.len();
            let field = coll
                .field(&seg.name)
                .ok_or_else(|| FilterError::UnknownField {
                    field: seg.name.clone(),
                    collection: coll.name.clone(),
                    column: column(input, pos),
                })?;
            if field.hidden && !opts.allow_hidden {
                return Err(FilterError::HiddenField {
                    field: field.name.clone(),
                    collection: coll.name.clone(),
                    column: column(input, pos),
                });
            }
            let col = format!("{current}.{}", quote_ident(&field.name));
            if last {
                expr = Some(match (last_suffix, field.multiple) {
                    (Some(_), true) => format!("COALESCE(json_array_length({col}), 0)"),
                    (Some(_), false) => {
                        format!("(CASE WHEN {col} IS NULL OR {col} = '' THEN 0 ELSE 1 END)")
                    }
                    (None, _) => col,
                });
                break;
            }
            match (field.kind, field.relation_to.as_deref(), field.multiple) {
                (FieldKind::Json, _, _) => {
                    let mut path = String::from("$");
                    for s in &ident.segments[i + 1..] {
                        if s.name.bytes().all(|b| b.is_ascii_digit()) {
                            path.push_str(&format!("[{}]", s.name));
                        } else {
                            path.push('.');
                            path.push_str(&s.name);
                        }
                    }
                    expr = Some(format!("json_extract({col}, '{path}')"));
                    break;
                }
                (FieldKind::Relation, Some(target), false) => {
                    if from.len() >= MAX_RELATION_DEPTH {
                        return Err(FilterError::PathTooDeep {
                            column: column(input, pos),
                            max: MAX_RELATION_DEPTH,
                        });
                    }
                    let target = schema.collection(target).ok_or_else(|| {
                        FilterError::UnknownCollection {
                            name: target.to_string(),
                            column: column(input, pos),
                        }
                    })?;
                    let next = format!("\"__lb_s{}\"", from.len() + 1);
                    from.push(format!(
                        "{} AS {next} ON {next}.\"id\" = {col}",
                        quote_ident(&target.name)
                    ));
                    current = next;
                    coll = target;
                }
                _ => {
                    return Err(bad(
                        "only single relations and json fields can be followed when sorting",
                    ));
                }
            }
        }
        let Some(expr) = expr else {
            return Err(bad("expected a field name"));
        };
        let term = if from.is_empty() {
            expr
        } else {
            // (SELECT last.col FROM (SELECT 1) LEFT JOIN a ON … LEFT JOIN b ON …)
            let joins: Vec<String> = from.iter().map(|f| format!("LEFT JOIN {f}")).collect();
            format!("(SELECT {expr} FROM (SELECT 1) {})", joins.join(" "))
        };
        terms.push(format!("{term} {dir}"));
    }
    Ok(terms.join(", "))
}

fn expected_field(input: &str, pos: usize) -> FilterError {
    FilterError::InvalidIdentifier {
        ident: input
            .get(pos..)
            .unwrap_or_default()
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
        column: column(input, pos),
        reason: "expected a field name, optionally prefixed with - or +".to_string(),
    }
}

/// Moves a lexer error found in a sort item to its column in the whole input.
fn shift(err: FilterError, input: &str, pos: usize) -> FilterError {
    let base = column(input, pos) - 1;
    match err {
        FilterError::UnexpectedChar { ch, column } => FilterError::UnexpectedChar {
            ch,
            column: column + base,
        },
        FilterError::UnterminatedString { column } => FilterError::UnterminatedString {
            column: column + base,
        },
        FilterError::InvalidNumber { text, column } => FilterError::InvalidNumber {
            text,
            column: column + base,
        },
        other => other,
    }
}
