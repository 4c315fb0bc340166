//! Turns filter text into tokens. Iterative, never panics, never allocates more
//! than the input size.

use super::error::{FilterError, column};

/// One token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `&&`
    And,
    /// `||`
    Or,
    /// A comparison operator, as written (`=`, `?!~`, …).
    Op(&'static str),
    /// A quoted string, escapes resolved.
    Str(String),
    /// A number, as written (`-1.5`).
    Num(String),
    /// An identifier or keyword: `title`, `author.name:lower`, `@request.auth.id`,
    /// `true`, `null`.
    Ident(String),
    /// `,` (only meaningful inside function calls).
    Comma,
}

/// A token with the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Byte offset into the input.
    pub pos: usize,
}

/// Operators, longest first so that `?!=` wins over `?!` prefixes.
const OPERATORS: [&str; 16] = [
    "?!=", "?>=", "?<=", "?!~", "!=", ">=", "<=", "!~", "?=", "?>", "?<", "?~", "=", ">", "<", "~",
];

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '.' | ':')
}

/// Splits `input` into tokens, skipping whitespace and `//` line comments.
pub fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                tokens.push(Token {
                    kind: TokenKind::LParen,
                    pos: i,
                });
                i += 1;
            }
            b')' => {
                tokens.push(Token {
                    kind: TokenKind::RParen,
                    pos: i,
                });
                i += 1;
            }
            b',' => {
                tokens.push(Token {
                    kind: TokenKind::Comma,
                    pos: i,
                });
                i += 1;
            }
            b'&' if bytes.get(i + 1) == Some(&b'&') => {
                tokens.push(Token {
                    kind: TokenKind::And,
                    pos: i,
                });
                i += 2;
            }
            b'|' if bytes.get(i + 1) == Some(&b'|') => {
                tokens.push(Token {
                    kind: TokenKind::Or,
                    pos: i,
                });
                i += 2;
            }
            b'"' | b'\'' => {
                let (s, next) = read_string(input, i)?;
                tokens.push(Token {
                    kind: TokenKind::Str(s),
                    pos: i,
                });
                i = next;
            }
            b'-' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let next = read_number(input, i + 1)?;
                tokens.push(Token {
                    kind: TokenKind::Num(input[i..next].to_string()),
                    pos: i,
                });
                i = next;
            }
            b'0'..=b'9' => {
                let next = read_number(input, i)?;
                tokens.push(Token {
                    kind: TokenKind::Num(input[i..next].to_string()),
                    pos: i,
                });
                i = next;
            }
            _ if is_ident_start(c as char) => {
                let start = i;
                while i < bytes.len() && is_ident_char(bytes[i] as char) {
                    i += 1;
                }
                tokens.push(Token {
                    kind: TokenKind::Ident(input[start..i].to_string()),
                    pos: start,
                });
            }
            _ => {
                let rest = &input[i..];
                if let Some(op) = OPERATORS.iter().find(|op| rest.starts_with(**op)) {
                    tokens.push(Token {
                        kind: TokenKind::Op(op),
                        pos: i,
                    });
                    i += op.len();
                } else {
                    let ch = rest.chars().next().unwrap_or('?');
                    return Err(FilterError::UnexpectedChar {
                        ch,
                        column: column(input, i),
                    });
                }
            }
        }
    }
    Ok(tokens)
}

/// Reads a quoted string starting at the quote at `start`; returns the value and
/// the offset after the closing quote. A backslash makes the next character
/// literal when it is a quote or a backslash; before anything else it is kept.
fn read_string(input: &str, start: usize) -> Result<(String, usize), FilterError> {
    let quote = input.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = input[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, n)) if n == '"' || n == '\'' || n == '\\' => out.push(n),
                Some((_, n)) => {
                    out.push('\\');
                    out.push(n);
                }
                None => break,
            },
            c if c == quote => return Ok((out, start + 1 + off + c.len_utf8())),
            c => out.push(c),
        }
    }
    Err(FilterError::UnterminatedString {
        column: column(input, start),
    })
}

/// Reads `[0-9]+(\.[0-9]+)?` from `start`; returns the end offset.
fn read_number(input: &str, start: usize) -> Result<usize, FilterError> {
    let bytes = input.as_bytes();
    let mut i = start;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == frac {
            return Err(FilterError::InvalidNumber {
                text: input[start..i].to_string(),
                column: column(input, start),
            });
        }
    }
    // `1abc` is neither a number nor an identifier.
    if i < bytes.len() && is_ident_char(bytes[i] as char) && bytes[i] != b':' {
        let mut end = i;
        while end < bytes.len() && is_ident_char(bytes[end] as char) {
            end += 1;
        }
        return Err(FilterError::InvalidNumber {
            text: input[start..end].to_string(),
            column: column(input, start),
        });
    }
    Ok(i)
}
