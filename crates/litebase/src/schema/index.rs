//! Index definitions: a collection's `CREATE INDEX` strings are parsed into a
//! small, closed form, checked against the collection, and the statement that
//! runs is always written back from that form — never the string a client sent.
//!
//! Accepted: `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (col [COLLATE
//! BINARY|NOCASE|RTRIM] [ASC|DESC], …) [WHERE condition]`. Keywords in any case;
//! identifiers bare or quoted with backticks, double quotes or brackets; no `;`
//! anywhere, no comments, no expressions as columns. The condition knows column
//! names, string literals, numbers (with an optional sign), `TRUE`/`FALSE`/`NULL`,
//! `= == != <> < <= > >=`, `AND OR NOT IS IN LIKE GLOB BETWEEN`, parentheses and
//! commas (inside `IN (…)`), in SQLite's grammar; anything else is refused.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::collection::Collection;

mod grammar;
mod tokens;

/// How deep `NOT`s and parentheses may nest in a condition (bounds the parser's
/// recursion; SQLite's own limit is far above any real index).
const MAX_DEPTH: usize = 32;

/// Why an index string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// Not a `CREATE [UNIQUE] INDEX` at all.
    #[error("only CREATE [UNIQUE] INDEX statements are allowed, not {0}")]
    NotCreateIndex(String),
    /// A `;` anywhere: one index is one statement.
    #[error("`;` is not allowed: an index is exactly one statement")]
    Semicolon,
    /// `--` or `/*` outside a string literal.
    #[error("comments are not allowed")]
    Comment,
    /// A character outside the vocabulary.
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    /// A quote that never closes.
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    /// A number SQLite would not read the way it looks (`1abc`, `0x1F`, `1e`).
    #[error("invalid number {0:?}")]
    BadNumber(String),
    /// A token where the grammar wants another.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the grammar wanted.
        expected: &'static str,
        /// What was there.
        found: String,
    },
    /// `CREATE INDEX ON …`.
    #[error("the index has no name")]
    MissingName,
    /// No `ON table`.
    #[error("the index names no table (ON table)")]
    MissingTable,
    /// No column list, or an empty one.
    #[error("the index has no columns")]
    MissingColumns,
    /// An identifier with characters outside letters, digits and `_`.
    #[error("{0:?} is not a valid name (letters, digits and underscores only)")]
    InvalidName(String),
    /// `sqlite_…` names belong to SQLite.
    #[error("index names starting with sqlite_ are reserved")]
    ReservedName,
    /// A collation other than BINARY, NOCASE or RTRIM.
    #[error("unknown collation {0:?} (use BINARY, NOCASE or RTRIM)")]
    UnknownCollation(String),
    /// An expression (function call, arithmetic…) in the column list.
    #[error("columns must be plain field names, not expressions ({0})")]
    ExpressionColumn(String),
    /// `WHERE` with nothing after it.
    #[error("WHERE needs a condition")]
    EmptyCondition,
    /// A keyword or token the condition's vocabulary does not have.
    #[error("{0} is not allowed in an index condition")]
    NotAllowed(String),
    /// An SQLite keyword outside the condition's vocabulary, written bare.
    #[error(
        "the keyword {0} is not allowed in an index condition (a field of that name must be quoted)"
    )]
    Keyword(String),
    /// `name(…)` in the condition.
    #[error("function calls are not allowed in an index condition ({0}(…))")]
    FunctionCall(String),
    /// Nesting beyond [`MAX_DEPTH`].
    #[error("the condition nests too deeply")]
    TooDeep,
    /// `ON` another table.
    #[error("the index must be on this collection ({expected}), not on {found}")]
    WrongTable {
        /// The collection's table.
        expected: String,
        /// What the statement named.
        found: String,
    },
    /// A column (in the list or the condition) that is not a field.
    #[error("{column} is not a field of {collection}")]
    UnknownColumn {
        /// The column named.
        column: String,
        /// The collection it was looked up in.
        collection: String,
    },
    /// Two indexes of one definition with the same name (case-insensitive).
    #[error("another index of this collection already has this name")]
    DuplicatedName,
}

impl IndexError {
    /// The validation code of PocketBase's error shape.
    pub fn code(&self) -> &'static str {
        match self {
            IndexError::DuplicatedName => "validation_duplicated_index_name",
            _ => "validation_invalid_index_expression",
        }
    }
}

/// A collation a column may use: SQLite's built-in ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collation {
    /// Byte by byte (SQLite's default).
    Binary,
    /// ASCII case folded.
    Nocase,
    /// Trailing spaces ignored.
    Rtrim,
}

/// A column's sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// One column of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexColumn {
    /// The field's name, as written (unquoted).
    pub name: String,
    /// `COLLATE …`, if given.
    pub collation: Option<Collation>,
    /// `ASC`/`DESC`, if given.
    pub order: Option<Order>,
}

/// The comparison operators a condition may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `==`
    EqEq,
    /// `!=`
    Ne,
    /// `<>`
    LtGt,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::EqEq => "==",
            Op::Ne => "!=",
            Op::LtGt => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn is_relational(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }
}

/// The keywords a condition may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `NOT`
    Not,
    /// `IS`
    Is,
    /// `IN`
    In,
    /// `LIKE`
    Like,
    /// `GLOB`
    Glob,
    /// `BETWEEN`
    Between,
    /// `TRUE`
    True,
    /// `FALSE`
    False,
    /// `NULL`
    Null,
}

impl Keyword {
    const ALL: [(Keyword, &'static str); 11] = [
        (Keyword::And, "AND"),
        (Keyword::Or, "OR"),
        (Keyword::Not, "NOT"),
        (Keyword::Is, "IS"),
        (Keyword::In, "IN"),
        (Keyword::Like, "LIKE"),
        (Keyword::Glob, "GLOB"),
        (Keyword::Between, "BETWEEN"),
        (Keyword::True, "TRUE"),
        (Keyword::False, "FALSE"),
        (Keyword::Null, "NULL"),
    ];

    fn from_word(word: &str) -> Option<Keyword> {
        Self::ALL
            .iter()
            .find(|(_, text)| text.eq_ignore_ascii_case(word))
            .map(|(k, _)| *k)
    }

    fn text(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, text)| *text)
            .unwrap_or("")
    }
}

/// One token of a checked condition; the condition is re-emitted token by token,
/// so it means to SQLite exactly what the client wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A column (unquoted name).
    Column(String),
    /// A string literal (its value, quotes removed).
    Text(String),
    /// A number, with its sign if it had one (`-1`, `2.5e3`).
    Number(String),
    /// A keyword.
    Keyword(Keyword),
    /// A comparison.
    Op(Op),
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
}

/// A parsed `CREATE INDEX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// `UNIQUE`.
    pub unique: bool,
    /// `IF NOT EXISTS`.
    pub if_not_exists: bool,
    /// The index's name (unquoted).
    pub name: String,
    /// The table it was written for (unquoted); the statement that runs uses the
    /// collection's current name instead.
    pub table: String,
    /// At least one column.
    pub columns: Vec<IndexColumn>,
    /// The partial index's condition, checked against SQLite's grammar.
    pub condition: Option<Vec<Term>>,
}

impl Index {
    /// Every column the index reads: its columns, then those of its condition.
    pub fn referenced_columns(&self) -> impl Iterator<Item = &str> {
        let listed = self.columns.iter().map(|c| c.name.as_str());
        let in_condition = self.condition.iter().flatten().filter_map(|t| match t {
            Term::Column(name) => Some(name.as_str()),
            _ => None,
        });
        listed.chain(in_condition)
    }

    /// Checks the index against collection `c`: it must be on `c`'s table (or, in
    /// a rename, on `previous_name`), and read only `c`'s fields. SQLite compares
    /// names case-insensitively, and so does this.
    pub fn check(&self, c: &Collection, previous_name: Option<&str>) -> Result<(), IndexError> {
        let own_table = self.table.eq_ignore_ascii_case(&c.name)
            || previous_name.is_some_and(|p| self.table.eq_ignore_ascii_case(p));
        if !own_table {
            return Err(IndexError::WrongTable {
                expected: c.name.clone(),
                found: self.table.clone(),
            });
        }
        for column in self.referenced_columns() {
            if !c.fields.iter().any(|f| f.name.eq_ignore_ascii_case(column)) {
                return Err(IndexError::UnknownColumn {
                    column: column.to_string(),
                    collection: c.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// The statement to run, on `table`: keywords uppercase, identifiers in
    /// backticks, literals quoted afresh.
    pub fn to_sql(&self, table: &str) -> String {
        let mut sql = String::from("CREATE ");
        if self.unique {
            sql.push_str("UNIQUE ");
        }
        sql.push_str("INDEX ");
        if self.if_not_exists {
            sql.push_str("IF NOT EXISTS ");
        }
        sql.push_str(&quote(&self.name));
        sql.push_str(" ON ");
        sql.push_str(&quote(table));
        sql.push_str(" (");
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&quote(&column.name));
            match column.collation {
                Some(Collation::Binary) => sql.push_str(" COLLATE BINARY"),
                Some(Collation::Nocase) => sql.push_str(" COLLATE NOCASE"),
                Some(Collation::Rtrim) => sql.push_str(" COLLATE RTRIM"),
                None => {}
            }
            match column.order {
                Some(Order::Asc) => sql.push_str(" ASC"),
                Some(Order::Desc) => sql.push_str(" DESC"),
                None => {}
            }
        }
        sql.push(')');
        if let Some(terms) = &self.condition {
            sql.push_str(" WHERE ");
            let mut previous: Option<&Term> = None;
            for term in terms {
                let tight = matches!(previous, None | Some(Term::Open))
                    || matches!(term, Term::Close | Term::Comma);
                if !tight {
                    sql.push(' ');
                }
                match term {
                    Term::Column(name) => sql.push_str(&quote(name)),
                    Term::Text(text) => {
                        sql.push('\'');
                        sql.push_str(&text.replace('\'', "''"));
                        sql.push('\'');
                    }
                    Term::Number(n) => sql.push_str(n),
                    Term::Keyword(k) => sql.push_str(k.text()),
                    Term::Op(op) => sql.push_str(op.text()),
                    Term::Open => sql.push('('),
                    Term::Close => sql.push(')'),
                    Term::Comma => sql.push(','),
                }
                previous = Some(term);
            }
        }
        sql
    }
}

/// `` `name` `` with inner backticks doubled (names are checked to have none).
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Parses one index string; see the module doc for what is accepted.
pub fn parse(sql: &str) -> Result<Index, IndexError> {
    if sql.contains(';') {
        return Err(IndexError::Semicolon);
    }
    let tokens = tokens::tokenize(sql)?;
    grammar::Parser::new(&tokens).statement()
}

/// The name an index string creates: the parser's reading, or — for strings
/// stored before indexes were checked — a lenient reading of its head, so such
/// an index can still be dropped when its collection changes.
pub fn index_name(sql: &str) -> Option<String> {
    if let Ok(index) = parse(sql) {
        return Some(index.name);
    }
    static HEAD: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
        regex::Regex::new(
            r#"(?i)^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?[`"\[]?([A-Za-z0-9_]+)"#,
        )
        .ok()
    });
    let head = HEAD.as_ref()?;
    let name = head.captures(sql)?[1].to_string();
    (!name.eq_ignore_ascii_case("ON")).then_some(name)
}

/// One refused index of a collection definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Its position in the definition's `indexes` (the key of PocketBase's error).
    pub position: usize,
    /// Its name, if one could be read.
    pub name: Option<String>,
    /// What is wrong.
    pub error: IndexError,
}

impl Refusal {
    /// A sentence that names the index and what is wrong with it.
    pub fn message(&self) -> String {
        match &self.name {
            Some(name) => format!("Index {name}: {}.", self.error),
            None => format!("Index at position {}: {}.", self.position, self.error),
        }
    }
}

/// Every refused index of a definition, in order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} index(es) refused", .0.len())]
pub struct Refused(pub Vec<Refusal>);

/// Parses and checks every index of `c` (whose table was called `previous_name`
/// before this change, when it is renamed); names must be unique within the
/// definition, case-insensitively.
pub fn check_all(c: &Collection, previous_name: Option<&str>) -> Result<Vec<Index>, Refused> {
    let mut parsed = Vec::with_capacity(c.indexes.len());
    let mut refusals = Vec::new();
    let mut names = HashSet::new();
    for (position, raw) in c.indexes.iter().enumerate() {
        let result = parse(raw).and_then(|index| {
            index.check(c, previous_name)?;
            if !names.insert(index.name.to_ascii_lowercase()) {
                return Err(IndexError::DuplicatedName);
            }
            Ok(index)
        });
        match result {
            Ok(index) => parsed.push(index),
            Err(error) => refusals.push(Refusal {
                position,
                name: index_name(raw),
                error,
            }),
        }
    }
    if refusals.is_empty() {
        Ok(parsed)
    } else {
        Err(Refused(refusals))
    }
}

/// The statements that create `c`'s indexes, written from their parsed form on
/// `c`'s current table.
pub fn statements(c: &Collection, previous_name: Option<&str>) -> Result<Vec<String>, Refused> {
    Ok(check_all(c, previous_name)?
        .iter()
        .map(|index| index.to_sql(&c.name))
        .collect())
}

#[cfg(test)]
mod tests;
