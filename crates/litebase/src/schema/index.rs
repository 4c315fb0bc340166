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
    let tokens = tokenize(sql)?;
    Parser {
        tokens: &tokens,
        at: 0,
    }
    .statement()
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

// ---------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A bare word: keyword or identifier.
    Word(String),
    /// A quoted identifier, unquoted.
    Quoted(String),
    /// A string literal's value.
    Text(String),
    Number(String),
    Op(Op),
    Open,
    Close,
    Comma,
    Plus,
    Minus,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Quoted(q) => format!("`{q}`"),
            Token::Text(_) => "a string".into(),
            Token::Number(n) => n.clone(),
            Token::Op(op) => op.text().into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Comma => ",".into(),
            Token::Plus => "+".into(),
            Token::Minus => "-".into(),
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(word))
    }
}

fn tokenize(sql: &str) -> Result<Vec<Token>, IndexError> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' | '\n' | '\r' | '\x0c' => i += 1,
            '-' if next == Some('-') => return Err(IndexError::Comment),
            '/' if next == Some('*') => return Err(IndexError::Comment),
            '\'' => {
                let (text, end) = quoted(&chars, i, '\'', "string literal")?;
                tokens.push(Token::Text(text));
                i = end;
            }
            '`' => {
                let (name, end) = quoted(&chars, i, '`', "quoted name")?;
                tokens.push(Token::Quoted(name));
                i = end;
            }
            '"' => {
                let (name, end) = quoted(&chars, i, '"', "quoted name")?;
                tokens.push(Token::Quoted(name));
                i = end;
            }
            '[' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&ch| ch == ']')
                    .ok_or(IndexError::Unterminated("quoted name"))?;
                tokens.push(Token::Quoted(chars[i + 1..i + 1 + close].iter().collect()));
                i += close + 2;
            }
            '0'..='9' => {
                let (number, end) = number(&chars, i)?;
                tokens.push(Token::Number(number));
                i = end;
            }
            '.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                let (number, end) = number(&chars, i)?;
                tokens.push(Token::Number(number));
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = chars[i..]
                    .iter()
                    .position(|ch| !(ch.is_ascii_alphanumeric() || *ch == '_'))
                    .map_or(chars.len(), |p| i + p);
                tokens.push(Token::Word(chars[i..end].iter().collect()));
                i = end;
            }
            '=' if next == Some('=') => {
                tokens.push(Token::Op(Op::EqEq));
                i += 2;
            }
            '=' => {
                tokens.push(Token::Op(Op::Eq));
                i += 1;
            }
            '!' if next == Some('=') => {
                tokens.push(Token::Op(Op::Ne));
                i += 2;
            }
            '<' if next == Some('>') => {
                tokens.push(Token::Op(Op::LtGt));
                i += 2;
            }
            '<' if next == Some('=') => {
                tokens.push(Token::Op(Op::Le));
                i += 2;
            }
            '>' if next == Some('=') => {
                tokens.push(Token::Op(Op::Ge));
                i += 2;
            }
            '<' | '>' if next == Some(c) => {
                return Err(IndexError::NotAllowed(format!("`{c}{c}`")));
            }
            '<' => {
                tokens.push(Token::Op(Op::Lt));
                i += 1;
            }
            '>' => {
                tokens.push(Token::Op(Op::Gt));
                i += 1;
            }
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '+' => {
                tokens.push(Token::Plus);
                i += 1;
            }
            '-' => {
                tokens.push(Token::Minus);
                i += 1;
            }
            other => return Err(IndexError::UnexpectedChar(other)),
        }
    }
    Ok(tokens)
}

/// Reads a `q`-quoted run starting at `start` (a doubled `q` is one `q`); returns
/// its content and the index after the closing quote. Control characters other
/// than whitespace are refused inside.
fn quoted(
    chars: &[char],
    start: usize,
    q: char,
    what: &'static str,
) -> Result<(String, usize), IndexError> {
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(IndexError::Unterminated(what)),
            Some(&c) if c == q => {
                if chars.get(i + 1) == Some(&q) {
                    out.push(q);
                    i += 2;
                } else {
                    return Ok((out, i + 1));
                }
            }
            Some(&c) if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {
                return Err(IndexError::UnexpectedChar(c));
            }
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Reads `digits[.digits][e[+-]digits]` (or `.digits…`) at `start`; anything
/// glued to it (letters, another dot) makes it invalid.
fn number(chars: &[char], start: usize) -> Result<(String, usize), IndexError> {
    let digits = |from: usize| {
        chars[from..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .map_or(chars.len(), |p| from + p)
    };
    let mut i = digits(start);
    if chars.get(i) == Some(&'.') {
        let end = digits(i + 1);
        if end == i + 1 {
            return Err(IndexError::BadNumber(chars[start..=i].iter().collect()));
        }
        i = end;
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        let end = digits(j);
        if end == j {
            return Err(IndexError::BadNumber(chars[start..end].iter().collect()));
        }
        i = end;
    }
    if chars
        .get(i)
        .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '.' || *c == '$')
    {
        let end = chars[i..]
            .iter()
            .position(|c| !(c.is_alphanumeric() || *c == '_' || *c == '.'))
            .map_or(chars.len(), |p| i + p);
        return Err(IndexError::BadNumber(chars[start..end].iter().collect()));
    }
    Ok((chars[start..i].iter().collect(), i))
}

// ---------------------------------------------------------------------------
// Grammar

/// SQLite's keywords (besides those a condition may use): refused as bare words
/// in a condition, where they would change its meaning; quoted, they are names.
const SQLITE_KEYWORDS: &str = "\
    ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AS ASC ATTACH AUTOINCREMENT BEFORE \
    BEGIN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE \
    CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE \
    DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE \
    EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED \
    GROUP GROUPS HAVING IF IGNORE IMMEDIATE INDEX INDEXED INITIALLY INNER INSERT INSTEAD \
    INTERSECT INTO ISNULL JOIN KEY LAST LEFT LIMIT MATCH MATERIALIZED NATURAL NO NOTHING \
    NOTNULL NULLS OF OFFSET ON ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING \
    PRIMARY QUERY RAISE RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE \
    RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY \
    THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES \
    VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT";

/// The error for `token` where the column list wants `expected`: operators,
/// literals and parentheses mean an expression; anything else is out of place.
fn not_a_column(token: &Token, expected: &'static str) -> IndexError {
    match token {
        Token::Word(_) | Token::Quoted(_) | Token::Comma | Token::Close => IndexError::Expected {
            expected,
            found: token.describe(),
        },
        _ => IndexError::ExpressionColumn(token.describe()),
    }
}

fn is_sqlite_keyword(word: &str) -> bool {
    SQLITE_KEYWORDS
        .split_ascii_whitespace()
        .any(|k| k.eq_ignore_ascii_case(word))
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn peek2(&self) -> Option<&Token> {
        self.tokens.get(self.at + 1)
    }

    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at);
        if token.is_some() {
            self.at += 1;
        }
        token
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "the end".to_string(), Token::describe)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if self.peek().is_some_and(|t| t.is_word(word)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, word: &'static str) -> Result<(), IndexError> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(IndexError::Expected {
                expected: word,
                found: self.found(),
            })
        }
    }

    /// A name: a bare word or a quoted identifier, letters, digits and `_` only.
    fn name(&mut self, missing: IndexError) -> Result<String, IndexError> {
        let name = match self.peek() {
            Some(Token::Word(w)) => w.clone(),
            Some(Token::Quoted(q)) => q.clone(),
            _ => return Err(missing),
        };
        self.at += 1;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(IndexError::InvalidName(name));
        }
        Ok(name)
    }

    fn statement(mut self) -> Result<Index, IndexError> {
        if !self.eat_word("CREATE") {
            return Err(IndexError::NotCreateIndex(self.found()));
        }
        let unique = self.eat_word("UNIQUE");
        if !self.eat_word("INDEX") {
            let what = if unique {
                format!("CREATE UNIQUE {}", self.found())
            } else {
                format!("CREATE {}", self.found())
            };
            return Err(IndexError::NotCreateIndex(what));
        }
        let if_not_exists = self.peek().is_some_and(|t| t.is_word("IF"))
            && self.peek2().is_some_and(|t| t.is_word("NOT"));
        if if_not_exists {
            self.at += 2;
            self.expect_word("EXISTS")?;
        }
        if self.peek().is_some_and(|t| t.is_word("ON")) {
            return Err(IndexError::MissingName);
        }
        let name = self.name(IndexError::MissingName)?;
        if name.to_ascii_lowercase().starts_with("sqlite_") {
            return Err(IndexError::ReservedName);
        }
        if self.peek().is_none() {
            return Err(IndexError::MissingTable);
        }
        self.expect_word("ON")?;
        let table = self.name(IndexError::MissingTable)?;
        match self.next() {
            Some(Token::Open) => {}
            None => return Err(IndexError::MissingColumns),
            Some(other) => {
                return Err(IndexError::Expected {
                    expected: "(",
                    found: other.describe(),
                });
            }
        }
        let columns = self.columns()?;
        let condition = if self.eat_word("WHERE") {
            Some(self.condition()?)
        } else {
            None
        };
        if let Some(extra) = self.peek() {
            return Err(IndexError::Expected {
                expected: "the end of the statement",
                found: extra.describe(),
            });
        }
        Ok(Index {
            unique,
            if_not_exists,
            name,
            table,
            columns,
            condition,
        })
    }

    /// The column list after `(`, through `)`.
    fn columns(&mut self) -> Result<Vec<IndexColumn>, IndexError> {
        let mut columns = Vec::new();
        loop {
            match self.peek() {
                Some(Token::Close) if columns.is_empty() => return Err(IndexError::MissingColumns),
                None => return Err(IndexError::Unterminated("column list")),
                Some(Token::Word(_) | Token::Quoted(_)) => {}
                Some(other) => return Err(not_a_column(other, "a column name")),
            }
            let name = self.name(IndexError::MissingColumns)?;
            if self.peek() == Some(&Token::Open) {
                return Err(IndexError::ExpressionColumn(format!("{name}(…)")));
            }
            let collation = if self.eat_word("COLLATE") {
                let which = match self.next() {
                    Some(Token::Word(w)) => w.clone(),
                    other => {
                        let found = other.map_or_else(|| "the end".into(), Token::describe);
                        return Err(IndexError::UnknownCollation(found));
                    }
                };
                Some(match which.to_ascii_uppercase().as_str() {
                    "BINARY" => Collation::Binary,
                    "NOCASE" => Collation::Nocase,
                    "RTRIM" => Collation::Rtrim,
                    _ => return Err(IndexError::UnknownCollation(which)),
                })
            } else {
                None
            };
            let order = if self.eat_word("ASC") {
                Some(Order::Asc)
            } else if self.eat_word("DESC") {
                Some(Order::Desc)
            } else {
                None
            };
            columns.push(IndexColumn {
                name,
                collation,
                order,
            });
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::Close) => return Ok(columns),
                None => return Err(IndexError::Unterminated("column list")),
                Some(other) => return Err(not_a_column(other, ", or ) after a column")),
            }
        }
    }

    /// Everything after `WHERE`, which must be one expression.
    fn condition(&mut self) -> Result<Vec<Term>, IndexError> {
        let rest = &self.tokens[self.at..];
        if rest.is_empty() {
            return Err(IndexError::EmptyCondition);
        }
        let mut terms = Vec::with_capacity(rest.len());
        let mut i = 0;
        while let Some(token) = rest.get(i) {
            let term = match token {
                Token::Word(w) => match Keyword::from_word(w) {
                    Some(k) => Term::Keyword(k),
                    None if is_sqlite_keyword(w) => {
                        return Err(IndexError::Keyword(w.to_ascii_uppercase()));
                    }
                    None if rest.get(i + 1) == Some(&Token::Open) => {
                        return Err(IndexError::FunctionCall(w.clone()));
                    }
                    None => Term::Column(w.clone()),
                },
                Token::Quoted(q) => {
                    if rest.get(i + 1) == Some(&Token::Open) {
                        return Err(IndexError::FunctionCall(q.clone()));
                    }
                    if q.is_empty() || !q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        return Err(IndexError::InvalidName(q.clone()));
                    }
                    Term::Column(q.clone())
                }
                Token::Text(t) => Term::Text(t.clone()),
                Token::Number(n) => Term::Number(n.clone()),
                Token::Op(op) => Term::Op(*op),
                Token::Open => Term::Open,
                Token::Close => Term::Close,
                Token::Comma => Term::Comma,
                Token::Plus | Token::Minus => {
                    // Only as the sign of a number, never as arithmetic.
                    let sign = if *token == Token::Minus { "-" } else { "+" };
                    let after_operand = matches!(
                        terms.last(),
                        Some(
                            Term::Column(_)
                                | Term::Text(_)
                                | Term::Number(_)
                                | Term::Close
                                | Term::Keyword(Keyword::True | Keyword::False | Keyword::Null)
                        )
                    );
                    match rest.get(i + 1) {
                        Some(Token::Number(n)) if !after_operand => {
                            i += 1;
                            Term::Number(format!("{sign}{n}"))
                        }
                        _ => {
                            return Err(IndexError::NotAllowed(format!(
                                "`{sign}` (only as the sign of a number)"
                            )));
                        }
                    }
                }
            };
            terms.push(term);
            i += 1;
        }
        self.at = self.tokens.len();
        Grammar {
            terms: &terms,
            at: 0,
        }
        .check()?;
        Ok(terms)
    }
}

/// Checks that a condition's terms form one expression in (a subset of)
/// SQLite's grammar, with SQLite's precedence: OR < AND < NOT < (= == != <> IS
/// IN LIKE GLOB BETWEEN) < (< <= > >=).
struct Grammar<'a> {
    terms: &'a [Term],
    at: usize,
}

impl Grammar<'_> {
    fn check(mut self) -> Result<(), IndexError> {
        self.or(0)?;
        match self.peek() {
            None => Ok(()),
            Some(term) => Err(IndexError::Expected {
                expected: "the end of the condition",
                found: describe(term),
            }),
        }
    }

    fn peek(&self) -> Option<&Term> {
        self.terms.get(self.at)
    }

    fn peek2(&self) -> Option<&Term> {
        self.terms.get(self.at + 1)
    }

    fn eat(&mut self, k: Keyword) -> bool {
        if self.peek() == Some(&Term::Keyword(k)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn found(&self) -> String {
        self.peek().map_or_else(|| "the end".to_string(), describe)
    }

    fn or(&mut self, depth: usize) -> Result<(), IndexError> {
        self.and(depth)?;
        while self.eat(Keyword::Or) {
            self.and(depth)?;
        }
        Ok(())
    }

    fn and(&mut self, depth: usize) -> Result<(), IndexError> {
        self.not(depth)?;
        while self.eat(Keyword::And) {
            self.not(depth)?;
        }
        Ok(())
    }

    fn not(&mut self, depth: usize) -> Result<(), IndexError> {
        if self.eat(Keyword::Not) {
            if depth >= MAX_DEPTH {
                return Err(IndexError::TooDeep);
            }
            return self.not(depth + 1);
        }
        self.equality(depth)
    }

    fn equality(&mut self, depth: usize) -> Result<(), IndexError> {
        self.relational(depth)?;
        loop {
            match self.peek() {
                Some(Term::Op(op)) if !op.is_relational() => {
                    self.at += 1;
                    self.relational(depth)?;
                }
                Some(Term::Keyword(Keyword::Is)) => {
                    self.at += 1;
                    self.eat(Keyword::Not);
                    self.relational(depth)?;
                }
                Some(Term::Keyword(Keyword::Not)) => match self.peek2() {
                    Some(Term::Keyword(Keyword::Null)) => self.at += 2,
                    Some(Term::Keyword(
                        Keyword::In | Keyword::Like | Keyword::Glob | Keyword::Between,
                    )) => {
                        self.at += 1;
                        self.negatable(depth)?;
                    }
                    _ => {
                        self.at += 1;
                        return Err(IndexError::Expected {
                            expected: "IN, LIKE, GLOB, BETWEEN or NULL after NOT",
                            found: self.found(),
                        });
                    }
                },
                Some(Term::Keyword(
                    Keyword::In | Keyword::Like | Keyword::Glob | Keyword::Between,
                )) => self.negatable(depth)?,
                _ => return Ok(()),
            }
        }
    }

    /// `IN (…)`, `LIKE x`, `GLOB x` or `BETWEEN x AND y`, at the keyword.
    fn negatable(&mut self, depth: usize) -> Result<(), IndexError> {
        if self.eat(Keyword::In) {
            if self.peek() != Some(&Term::Open) {
                return Err(IndexError::Expected {
                    expected: "( after IN",
                    found: self.found(),
                });
            }
            if depth >= MAX_DEPTH {
                return Err(IndexError::TooDeep);
            }
            self.at += 1;
            loop {
                self.or(depth + 1)?;
                match self.peek() {
                    Some(Term::Comma) => self.at += 1,
                    Some(Term::Close) => {
                        self.at += 1;
                        return Ok(());
                    }
                    _ => {
                        return Err(IndexError::Expected {
                            expected: ", or ) in the IN list",
                            found: self.found(),
                        });
                    }
                }
            }
        }
        if self.eat(Keyword::Like) || self.eat(Keyword::Glob) {
            return self.relational(depth);
        }
        if self.eat(Keyword::Between) {
            self.relational(depth)?;
            if !self.eat(Keyword::And) {
                return Err(IndexError::Expected {
                    expected: "AND in BETWEEN … AND …",
                    found: self.found(),
                });
            }
            return self.relational(depth);
        }
        Err(IndexError::Expected {
            expected: "IN, LIKE, GLOB or BETWEEN",
            found: self.found(),
        })
    }

    fn relational(&mut self, depth: usize) -> Result<(), IndexError> {
        self.operand(depth)?;
        while matches!(self.peek(), Some(Term::Op(op)) if op.is_relational()) {
            self.at += 1;
            self.operand(depth)?;
        }
        Ok(())
    }

    fn operand(&mut self, depth: usize) -> Result<(), IndexError> {
        match self.peek() {
            Some(
                Term::Column(_)
                | Term::Text(_)
                | Term::Number(_)
                | Term::Keyword(Keyword::True | Keyword::False | Keyword::Null),
            ) => {
                self.at += 1;
                Ok(())
            }
            Some(Term::Open) => {
                if depth >= MAX_DEPTH {
                    return Err(IndexError::TooDeep);
                }
                self.at += 1;
                self.or(depth + 1)?;
                if self.peek() != Some(&Term::Close) {
                    return Err(IndexError::Expected {
                        expected: ")",
                        found: self.found(),
                    });
                }
                self.at += 1;
                Ok(())
            }
            _ => Err(IndexError::Expected {
                expected: "a column, a value or (",
                found: self.found(),
            }),
        }
    }
}

fn describe(term: &Term) -> String {
    match term {
        Term::Column(c) => c.clone(),
        Term::Text(_) => "a string".into(),
        Term::Number(n) => n.clone(),
        Term::Keyword(k) => k.text().into(),
        Term::Op(op) => op.text().into(),
        Term::Open => "(".into(),
        Term::Close => ")".into(),
        Term::Comma => ",".into(),
    }
}

#[cfg(test)]
mod tests;
