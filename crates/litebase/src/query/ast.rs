//! The parsed form of a filter: what was written, with byte positions for errors.
//! No schema knowledge here; names are checked by the compiler.

/// A boolean expression. `&&` binds tighter than `||`, as in SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All of these hold (`a && b && …`).
    And(Vec<Expr>),
    /// Any of these holds (`a || b || …`).
    Or(Vec<Expr>),
    /// One comparison `left op right`.
    Compare(Comparison),
}

/// `left op right`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Left operand.
    pub left: Operand,
    /// The operator.
    pub op: Operator,
    /// Right operand.
    pub right: Operand,
    /// Byte offset of the operator.
    pub pos: usize,
}

/// The comparison itself, without the any-of flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `=`
    Eq,
    /// `!=`
    Neq,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `~` (contains, case-insensitive for ASCII)
    Like,
    /// `!~`
    NotLike,
}

/// A comparison operator: `kind`, and whether it was written with `?` (at least
/// one item of a multi-valued operand must match, instead of all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// Which comparison.
    pub kind: OpKind,
    /// Written as `?op`.
    pub any_of: bool,
}

impl Operator {
    /// Reads an operator as written (`"?!="`), or `None`.
    pub fn from_text(text: &str) -> Option<Operator> {
        let (any_of, rest) = match text.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let kind = match rest {
            "=" => OpKind::Eq,
            "!=" => OpKind::Neq,
            ">" => OpKind::Gt,
            ">=" => OpKind::Gte,
            "<" => OpKind::Lt,
            "<=" => OpKind::Lte,
            "~" => OpKind::Like,
            "!~" => OpKind::NotLike,
            _ => return None,
        };
        Some(Operator { kind, any_of })
    }

    /// The operator as written in filter syntax.
    pub fn as_text(&self) -> &'static str {
        let (plain, any) = match self.kind {
            OpKind::Eq => ("=", "?="),
            OpKind::Neq => ("!=", "?!="),
            OpKind::Gt => (">", "?>"),
            OpKind::Gte => (">=", "?>="),
            OpKind::Lt => ("<", "?<"),
            OpKind::Lte => ("<=", "?<="),
            OpKind::Like => ("~", "?~"),
            OpKind::NotLike => ("!~", "?!~"),
        };
        if self.any_of { any } else { plain }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A quoted string (escapes resolved).
    Str {
        /// The value.
        value: String,
        /// Byte offset.
        pos: usize,
    },
    /// A number, as written (`-1.5`).
    Num {
        /// The digits.
        text: String,
        /// Byte offset.
        pos: usize,
    },
    /// `true` / `false`.
    Bool {
        /// The value.
        value: bool,
        /// Byte offset.
        pos: usize,
    },
    /// `null`.
    Null {
        /// Byte offset.
        pos: usize,
    },
    /// A field path, `@request.*`, `@collection.*` or a datetime macro.
    Ident(Ident),
}

impl Operand {
    /// Byte offset where the operand starts.
    pub fn pos(&self) -> usize {
        match self {
            Operand::Str { pos, .. }
            | Operand::Num { pos, .. }
            | Operand::Bool { pos, .. }
            | Operand::Null { pos } => *pos,
            Operand::Ident(ident) => ident.pos,
        }
    }
}

/// A dotted identifier such as `author.name:lower` or `@collection.users:u.email`.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The identifier as written.
    pub text: String,
    /// The dot-separated parts.
    pub segments: Vec<Segment>,
    /// Byte offset.
    pub pos: usize,
}

/// One dot-separated part of an identifier, with its optional `:suffix` (a
/// modifier like `lower`, or an `@collection` alias).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The name before any `:`.
    pub name: String,
    /// The text after `:`, if any.
    pub suffix: Option<String>,
}
