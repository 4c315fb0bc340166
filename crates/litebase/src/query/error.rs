//! Why a filter or sort could not be compiled, with a 1-based column.

use thiserror::Error;

/// A filter/sort compilation failure. `Display` is one line that names the problem
/// and where it is (1-based column, counted in characters), so it can be shown to
/// API clients as is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// The input is longer than [`super::MAX_FILTER_LEN`] bytes.
    #[error("filter is too long: {len} bytes (at most {max} allowed)")]
    TooLong {
        /// Input length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The input holds no expression at all.
    #[error("empty filter: expected an expression such as title = \"x\"")]
    Empty,
    /// A character that starts no token.
    #[error("unexpected character {ch:?} at column {column}")]
    UnexpectedChar {
        /// The character.
        ch: char,
        /// 1-based column.
        column: usize,
    },
    /// A quoted string without its closing quote.
    #[error("unterminated string starting at column {column}")]
    UnterminatedString {
        /// 1-based column of the opening quote.
        column: usize,
    },
    /// A number the lexer could not read (e.g. `1.`).
    #[error("invalid number {text:?} at column {column}")]
    InvalidNumber {
        /// The text.
        text: String,
        /// 1-based column.
        column: usize,
    },
    /// The input ended where something else was required.
    #[error("unexpected end of filter at column {column}: expected {expected}")]
    UnexpectedEnd {
        /// 1-based column just past the input.
        column: usize,
        /// What the parser needed.
        expected: &'static str,
    },
    /// A token that does not fit the grammar here.
    #[error("unexpected {found} at column {column}: expected {expected}")]
    UnexpectedToken {
        /// Description of the token found.
        found: String,
        /// 1-based column.
        column: usize,
        /// What the parser needed.
        expected: &'static str,
    },
    /// Parentheses nested deeper than [`super::MAX_DEPTH`].
    #[error("parentheses nested too deeply at column {column} (at most {max} levels)")]
    TooDeep {
        /// 1-based column.
        column: usize,
        /// The limit.
        max: usize,
    },
    /// More comparisons than [`super::MAX_COMPARISONS`].
    #[error("too many expressions at column {column} (at most {max} comparisons)")]
    TooManyExpressions {
        /// 1-based column.
        column: usize,
        /// The limit.
        max: usize,
    },
    /// A field name that the collection does not have.
    #[error("unknown field {field:?} at column {column} (collection {collection:?})")]
    UnknownField {
        /// The name as written.
        field: String,
        /// The collection searched.
        collection: String,
        /// 1-based column of the identifier.
        column: usize,
    },
    /// A hidden field in a client's filter or sort ([`super::Access::Client`]).
    #[error(
        "field {field:?} at column {column} is hidden and cannot be filtered (collection {collection:?})"
    )]
    HiddenField {
        /// The field.
        field: String,
        /// Its collection.
        collection: String,
        /// 1-based column.
        column: usize,
    },
    /// A collection name (in `@collection.*`, a relation target or a back-relation)
    /// that the schema does not have.
    #[error("unknown collection {name:?} at column {column}")]
    UnknownCollection {
        /// The name.
        name: String,
        /// 1-based column.
        column: usize,
    },
    /// An identifier that is not valid here (bad `@` name, bad path shape, …).
    #[error("invalid identifier {ident:?} at column {column}: {reason}")]
    InvalidIdentifier {
        /// The identifier as written.
        ident: String,
        /// 1-based column.
        column: usize,
        /// Why it is invalid.
        reason: String,
    },
    /// A `:modifier` that does not exist or does not apply to this operand.
    #[error("invalid modifier \":{modifier}\" at column {column}: {reason}")]
    InvalidModifier {
        /// The modifier name.
        modifier: String,
        /// 1-based column.
        column: usize,
        /// Why it is invalid.
        reason: String,
    },
    /// A client's filter or sort reaching a collection only superusers may list.
    #[error(
        "the path at column {column} reaches collection {collection:?}, which only superusers may list"
    )]
    SuperusersOnly {
        /// The collection reached.
        collection: String,
        /// 1-based column of the identifier.
        column: usize,
    },
    /// The stored list rule of a collection a client's filter reaches does not
    /// compile (a schema problem, not the client's).
    #[error("the list rule of collection {collection:?} cannot be applied: {reason}")]
    BrokenRule {
        /// The collection whose rule failed.
        collection: String,
        /// The rule's own compile error.
        reason: String,
    },
    /// An empty item in a sort (`title,,-created`).
    #[error("empty sort item at column {column}: expected a field name")]
    EmptySortItem {
        /// 1-based column where the empty item starts.
        column: usize,
    },
    /// A relation path with more hops than [`super::MAX_RELATION_DEPTH`].
    #[error("relation path too deep at column {column} (at most {max} relations)")]
    PathTooDeep {
        /// 1-based column.
        column: usize,
        /// The limit.
        max: usize,
    },
}

/// 1-based character column of byte offset `pos` in `input`.
pub(crate) fn column(input: &str, pos: usize) -> usize {
    let mut end = pos.min(input.len());
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    input[..end].chars().count() + 1
}
