//! The filter language: PocketBase filter/rule text → AST → parameterised SQLite.
//!
//! A pure compiler (no IO): `?filter=`, `?sort=` and the collection API rules all
//! go through here. Every literal and every `@request.*` value reaches SQL as a
//! bound `?` parameter; the SQL text contains only identifiers taken from the
//! schema, keywords, operators and placeholders.
//!
//! Storage model targeted: one table per collection (named like it), one column per
//! field; multi-valued select/relation/file fields hold JSON arrays; dates are text
//! `2026-01-02 15:04:05.000Z`.
//!
//! ```
//! use std::collections::HashMap;
//! use litebase::query::{compile_filter, CompileOptions, RequestInfo};
//! use litebase::query::schema::{CollectionInfo, FieldInfo, FieldKind};
//!
//! let mut schema = HashMap::new();
//! schema.insert("posts".to_string(), CollectionInfo::new(
//!     "posts",
//!     vec![FieldInfo::new("id", FieldKind::Text), FieldInfo::new("title", FieldKind::Text)],
//! ));
//! let opts = CompileOptions::client("t");
//! let sql = compile_filter("title ~ 'rust'", "posts", &schema, &RequestInfo::default(), &opts).unwrap();
//! assert_eq!(sql.sql, r#""t"."title" LIKE ? ESCAPE '\'"#);
//! assert_eq!(sql.params, vec![rusqlite::types::Value::Text("%rust%".into())]);
//! ```

pub mod ast;
pub(crate) mod compiler;
mod datetime;
pub mod error;
#[cfg(any(test, feature = "leak-check"))]
pub mod leak_check;
pub mod lexer;
mod parser;
pub mod request;
pub mod schema;
mod sort;
pub(crate) mod sql;

#[cfg(test)]
mod tests;

pub use datetime::format_datetime;
pub use error::FilterError;
pub use request::RequestInfo;
pub use schema::{CollectionInfo, FieldInfo, FieldKind, Schema};

/// Longest accepted filter or sort, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest accepted parenthesis nesting.
pub const MAX_DEPTH: usize = 32;
/// Most comparisons accepted in one filter.
pub const MAX_COMPARISONS: usize = 200;
/// Most relation hops in one path (`a.b.c.d.e.f.field` has 6).
pub const MAX_RELATION_DEPTH: usize = 6;

/// A compiled filter: a boolean SQL expression and the values of its `?`
/// placeholders, in order. Put it in `WHERE (<sql>)` and bind `params`.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlExpr {
    /// The expression; refers to the main table only through `table_alias`.
    pub sql: String,
    /// Values for the `?` placeholders, in text order.
    pub params: Vec<rusqlite::types::Value>,
}

/// What a compiled filter may reach, which depends on whose text it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// An API rule (written by whoever owns the schema) or a superuser's filter:
    /// every field and every collection.
    Full,
    /// A non-superuser's `?filter=`, `?sort=` or realtime filter: hidden fields are
    /// refused, and every other collection the text reaches (relation paths,
    /// back-relations, `@collection.*`) only shows the rows its own list rule lets
    /// this requester list; a collection only superusers may list is refused. This
    /// is what keeps a filter from being an oracle on rows the requester may not
    /// read (PocketBase's semantics; where PocketBase's "every item must match"
    /// check still reads a hidden related row's values, that row fails it here).
    Client,
}

/// How the caller's query looks and who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileOptions {
    /// Alias of the main table in the caller's `FROM` (e.g. `t` in
    /// `FROM "posts" AS t`).
    pub table_alias: String,
    /// What the text may reach.
    pub access: Access,
}

impl CompileOptions {
    /// Options for a rule or a superuser's filter on `FROM … AS {alias}`.
    pub fn full(alias: &str) -> Self {
        CompileOptions {
            table_alias: alias.to_string(),
            access: Access::Full,
        }
    }

    /// Options for a non-superuser's filter or sort on `FROM … AS {alias}`.
    pub fn client(alias: &str) -> Self {
        CompileOptions {
            table_alias: alias.to_string(),
            access: Access::Client,
        }
    }

    /// Whether hidden fields may be used.
    pub fn allow_hidden(&self) -> bool {
        self.access == Access::Full
    }
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions::client("t")
    }
}

/// A compiled sort: the body of an `ORDER BY`, and for a client's sort through
/// relations a condition the caller must add to its `WHERE` (records whose related
/// row the client may not list are left out, as PocketBase does).
#[derive(Debug, Clone, PartialEq)]
pub struct SortSql {
    /// `ORDER BY` body, e.g. `"t"."title" DESC, RANDOM()`.
    pub order: SqlExpr,
    /// A boolean condition for the `WHERE`, when the sort reaches other collections
    /// whose list rules narrow what the client may see.
    pub filter: Option<SqlExpr>,
}

/// Parses filter text into its syntax tree, without looking at any schema.
/// Blank input is [`FilterError::Empty`].
pub fn parse_filter(input: &str) -> Result<ast::Expr, FilterError> {
    parser::parse(input)
}

/// Compiles a filter for `collection` into SQL. Blank input (an empty rule or no
/// `?filter=`) compiles to `1 = 1`, i.e. "everything".
pub fn compile_filter(
    input: &str,
    collection: &str,
    schema: &dyn Schema,
    req: &RequestInfo,
    opts: &CompileOptions,
) -> Result<SqlExpr, FilterError> {
    let expr = match parser::parse(input) {
        Ok(expr) => expr,
        Err(FilterError::Empty) => {
            return Ok(SqlExpr {
                sql: "1 = 1".to_string(),
                params: Vec::new(),
            });
        }
        Err(e) => return Err(e),
    };
    let root = schema
        .collection(collection)
        .ok_or_else(|| FilterError::UnknownCollection {
            name: collection.to_string(),
            column: 1,
        })?;
    let frag = compiler::Compiler::new(input, schema, req, opts, root).compile(&expr)?;
    Ok(SqlExpr {
        sql: frag.text,
        params: frag.params,
    })
}

/// Compiles a sort spec (`-created,title,@random`) into the body of an `ORDER BY`:
/// `-field` descending, `+field`/`field` ascending, relation, back-relation and
/// json paths (a path through several related rows sorts by the first one the
/// requester may see), modifiers `:lower` `:length` `:each`, `@random` →
/// `RANDOM()`, `@rowid` → insertion order. Empty items (`a,,b`) are an error.
pub fn compile_sort(
    input: &str,
    collection: &str,
    schema: &dyn Schema,
    req: &RequestInfo,
    opts: &CompileOptions,
) -> Result<SortSql, FilterError> {
    sort::compile(input, collection, schema, req, opts)
}
