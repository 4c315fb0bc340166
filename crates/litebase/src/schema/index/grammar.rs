//! The grammar of an index string: the statement's fixed shape, and the
//! condition checked against (a subset of) SQLite's expression grammar, so that
//! what is accepted is exactly what SQLite will read.

use super::tokens::Token;
use super::{Collation, Index, IndexColumn, IndexError, Keyword, MAX_DEPTH, Order, Term};

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

/// Reads a statement from its tokens.
pub(super) struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `tokens`.
    pub(super) fn new(tokens: &'a [Token]) -> Self {
        Parser { tokens, at: 0 }
    }

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
        if !is_plain_name(&name) {
            return Err(IndexError::InvalidName(name));
        }
        Ok(name)
    }

    /// The whole statement; nothing may follow it.
    pub(super) fn statement(mut self) -> Result<Index, IndexError> {
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
                    if !is_plain_name(q) {
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

/// Whether a quoted name is one we can write back unambiguously: letters, digits
/// and `_` only.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
