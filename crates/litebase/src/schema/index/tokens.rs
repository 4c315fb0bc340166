//! The tokens of an index string: words, quoted names, string literals, numbers,
//! comparisons, parentheses, commas and signs. Anything else — `;`, comments,
//! parameters, other operators, non-ASCII outside quotes — stops here.

use super::{IndexError, Op};

/// One token of an index string.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    /// A bare word: keyword or identifier.
    Word(String),
    /// A quoted identifier, unquoted.
    Quoted(String),
    /// A string literal's value.
    Text(String),
    /// An unsigned number, as written.
    Number(String),
    /// A comparison.
    Op(Op),
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
    /// `+` (only ever a number's sign).
    Plus,
    /// `-` (only ever a number's sign).
    Minus,
}

impl Token {
    /// How an error message shows the token.
    pub(super) fn describe(&self) -> String {
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

    /// Whether it is the bare word `word` (any case).
    pub(super) fn is_word(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(word))
    }
}

/// Splits `sql` into tokens, refusing what no index needs.
pub(super) fn tokenize(sql: &str) -> Result<Vec<Token>, IndexError> {
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
