//! Tokens → [`Expr`]. Recursive descent whose recursion is bounded by
//! [`MAX_DEPTH`](super::MAX_DEPTH) (only parentheses nest), so hostile input cannot
//! overflow the stack; `&&`/`||` chains are flat vectors.

use super::ast::{Comparison, Expr, Ident, Operand, Operator, Segment};
use super::error::{FilterError, column};
use super::lexer::{Token, TokenKind, tokenize};
use super::{MAX_COMPARISONS, MAX_DEPTH, MAX_FILTER_LEN};

/// Parses a whole filter. Blank input (or only comments) is [`FilterError::Empty`].
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(FilterError::TooLong {
            len: input.len(),
            max: MAX_FILTER_LEN,
        });
    }
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Err(FilterError::Empty);
    }
    let mut parser = Parser {
        input,
        tokens,
        next: 0,
        comparisons: 0,
    };
    let expr = parser.or_expr(0)?;
    if let Some(tok) = parser.peek() {
        return Err(parser.unexpected(tok, "&&, || or the end of the filter"));
    }
    Ok(expr)
}

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Token>,
    next: usize,
    comparisons: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn bump(&mut self, expected: &'static str) -> Result<Token, FilterError> {
        match self.tokens.get(self.next) {
            Some(tok) => {
                self.next += 1;
                Ok(tok.clone())
            }
            None => Err(FilterError::UnexpectedEnd {
                column: column(self.input, self.input.len()),
                expected,
            }),
        }
    }

    fn unexpected(&self, tok: &Token, expected: &'static str) -> FilterError {
        FilterError::UnexpectedToken {
            found: describe(&tok.kind),
            column: column(self.input, tok.pos),
            expected,
        }
    }

    fn or_expr(&mut self, depth: usize) -> Result<Expr, FilterError> {
        let mut items = vec![self.and_expr(depth)?];
        while matches!(
            self.peek(),
            Some(Token {
                kind: TokenKind::Or,
                ..
            })
        ) {
            self.next += 1;
            items.push(self.and_expr(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and_expr(&mut self, depth: usize) -> Result<Expr, FilterError> {
        let mut items = vec![self.primary(depth)?];
        while matches!(
            self.peek(),
            Some(Token {
                kind: TokenKind::And,
                ..
            })
        ) {
            self.next += 1;
            items.push(self.primary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, FilterError> {
        let expected = "an expression";
        let Some(tok) = self.peek().cloned() else {
            return Err(FilterError::UnexpectedEnd {
                column: column(self.input, self.input.len()),
                expected,
            });
        };
        if tok.kind == TokenKind::LParen {
            if depth >= MAX_DEPTH {
                return Err(FilterError::TooDeep {
                    column: column(self.input, tok.pos),
                    max: MAX_DEPTH,
                });
            }
            self.next += 1;
            let inner = self.or_expr(depth + 1)?;
            let close = self.bump("a closing parenthesis")?;
            if close.kind != TokenKind::RParen {
                return Err(self.unexpected(&close, "a closing parenthesis"));
            }
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let left = self.operand("a field or value")?;
        let op_tok = self.bump("an operator such as = or ~")?;
        let op = match &op_tok.kind {
            TokenKind::Op(text) => Operator::from_text(text),
            _ => None,
        };
        let Some(op) = op else {
            return Err(self.unexpected(&op_tok, "an operator such as = or ~"));
        };
        let right = self.operand("a value")?;
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(FilterError::TooManyExpressions {
                column: column(self.input, left.pos()),
                max: MAX_COMPARISONS,
            });
        }
        Ok(Expr::Compare(Comparison {
            left,
            op,
            right,
            pos: op_tok.pos,
        }))
    }

    fn operand(&mut self, expected: &'static str) -> Result<Operand, FilterError> {
        let tok = self.bump(expected)?;
        let pos = tok.pos;
        Ok(match tok.kind {
            TokenKind::Str(value) => Operand::Str { value, pos },
            TokenKind::Num(text) => Operand::Num { text, pos },
            TokenKind::Ident(text) => match text.as_str() {
                "true" => Operand::Bool { value: true, pos },
                "false" => Operand::Bool { value: false, pos },
                "null" => Operand::Null { pos },
                _ => Operand::Ident(parse_ident(self.input, text, pos)?),
            },
            _ => return Err(self.unexpected(&tok, expected)),
        })
    }
}

/// Splits an identifier token into segments and checks its shape.
pub(crate) fn parse_ident(input: &str, text: String, pos: usize) -> Result<Ident, FilterError> {
    let invalid = |reason: &str| FilterError::InvalidIdentifier {
        ident: text.clone(),
        column: column(input, pos),
        reason: reason.to_string(),
    };
    let mut segments = Vec::new();
    for (i, part) in text.split('.').enumerate() {
        let (name, suffix) = match part.split_once(':') {
            Some((name, suffix)) => (name, Some(suffix)),
            None => (part, None),
        };
        if name.is_empty() {
            return Err(invalid("empty path segment"));
        }
        if name[1..].contains('@') || (i > 0 && name.starts_with('@')) {
            return Err(invalid("'@' may only start the identifier"));
        }
        if let Some(suffix) = suffix {
            if suffix.is_empty() || suffix.contains([':', '@']) {
                return Err(invalid("expected one name after ':'"));
            }
        }
        segments.push(Segment {
            name: name.to_string(),
            suffix: suffix.map(str::to_string),
        });
    }
    Ok(Ident {
        text,
        segments,
        pos,
    })
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::LParen => "\"(\"".to_string(),
        TokenKind::RParen => "\")\"".to_string(),
        TokenKind::And => "\"&&\"".to_string(),
        TokenKind::Or => "\"||\"".to_string(),
        TokenKind::Comma => "\",\"".to_string(),
        TokenKind::Op(op) => format!("operator \"{op}\""),
        TokenKind::Str(_) => "string".to_string(),
        TokenKind::Num(text) => format!("number {text}"),
        TokenKind::Ident(text) => format!("identifier {text:?}"),
    }
}
