//! `?sort=` → the body of an `ORDER BY`, plus (for a client) a `WHERE` condition.
//!
//! Each item is a field path resolved by the filter compiler, so sorting sees the
//! same fields, hidden-field checks, relation and back-relation hops, modifiers and
//! list-rule guards as filtering. A path through other collections becomes a
//! correlated scalar subquery that yields the value of the first related row (in
//! relation-array order, then table order) the requester may see, which is the row
//! PocketBase's `SELECT DISTINCT … LEFT JOIN … ORDER BY` keeps. For a client, a
//! record whose related row it may not list drops out of the result, as in
//! PocketBase; that is what [`SortSql::filter`] carries.

use super::compiler::{Compiler, JoinSink};
use super::error::{FilterError, column};
use super::lexer::{TokenKind, tokenize};
use super::parser::parse_ident;
use super::schema::Schema;
use super::sql::{Frag, frag, quote_ident};
use super::{CompileOptions, MAX_FILTER_LEN, RequestInfo, SortSql, SqlExpr};

/// Compiles `-created,+title,@random` (see [`super::compile_sort`]).
pub(crate) fn compile(
    input: &str,
    collection: &str,
    schema: &dyn Schema,
    req: &RequestInfo,
    opts: &CompileOptions,
) -> Result<SortSql, FilterError> {
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
    let mut compiler = Compiler::new(input, schema, req, opts, root);
    let mut order = Frag::default();
    let mut filter: Option<Frag> = None;
    let mut offset = 0;
    for (n, item) in input.split(',').enumerate() {
        let start = offset;
        offset += item.len() + 1;
        let trimmed = item.trim_start();
        let mut pos = start + (item.len() - trimmed.len());
        let trimmed = trimmed.trim_end();
        if trimmed.is_empty() {
            return Err(FilterError::EmptySortItem {
                column: column(input, pos),
            });
        }
        let (desc, name) = match trimmed.as_bytes()[0] {
            b'-' => (true, &trimmed[1..]),
            b'+' => (false, &trimmed[1..]),
            _ => (false, trimmed),
        };
        if name.len() != trimmed.len() {
            pos += 1;
        }
        let dir = if desc { " DESC" } else { " ASC" };
        if n > 0 {
            order.push_str(", ");
        }
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
                order.push_str("RANDOM()");
                continue;
            }
            "@rowid" => {
                order.push_str(&format!("{alias}.\"rowid\"{dir}"));
                continue;
            }
            _ => {}
        }
        let ident = parse_ident(input, text, pos)?;
        let mut sink = JoinSink::shared();
        let value = compiler.resolve_for_sort(&ident, &mut sink)?;
        if sink.is_empty() {
            order.push(&value).push_str(dir);
            continue;
        }
        let guards = sink.guards();
        let clauses = sink.clauses();
        let mut term = frag![
            "(SELECT ",
            &value,
            " FROM (SELECT 1) AS \"__lb_sort\"",
            &clauses
        ];
        if let Some(g) = &guards {
            term.push_str(" WHERE ").push(g);
        }
        let keys = sink.order_keys();
        if !keys.is_empty() {
            term.push_str(" ORDER BY ").push_str(&keys.join(", "));
        }
        term.push_str(" LIMIT 1)");
        order.push(&term).push_str(dir);
        if let Some(g) = guards {
            let cond = frag![
                "EXISTS (SELECT 1 FROM (SELECT 1) AS \"__lb_sort\"",
                &clauses,
                " WHERE ",
                &g,
                ")"
            ];
            match &mut filter {
                None => filter = Some(cond),
                Some(all) => {
                    all.push_str(" AND ").push(&cond);
                }
            }
        }
    }
    Ok(SortSql {
        order: SqlExpr {
            sql: order.text,
            params: order.params,
        },
        filter: filter.map(|f| SqlExpr {
            sql: f.text,
            params: f.params,
        }),
    })
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
