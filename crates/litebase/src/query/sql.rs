//! A piece of SQL text together with the values of its `?` placeholders, in order.
//! Building SQL only through this type keeps text and parameters from drifting apart.

use rusqlite::types::Value;

/// SQL text plus the parameters of its placeholders, in text order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Frag {
    pub text: String,
    pub params: Vec<Value>,
}

impl Frag {
    /// Trusted SQL text with no parameters (identifiers from the schema, keywords).
    pub fn raw(text: impl Into<String>) -> Frag {
        Frag {
            text: text.into(),
            params: Vec::new(),
        }
    }

    /// A single placeholder bound to `value`.
    pub fn param(value: Value) -> Frag {
        Frag {
            text: "?".to_string(),
            params: vec![value],
        }
    }

    /// Appends trusted text.
    pub fn push_str(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends another fragment (its text and its parameters).
    pub fn push(&mut self, other: &Frag) -> &mut Self {
        self.text.push_str(&other.text);
        self.params.extend(other.params.iter().cloned());
        self
    }
}

/// Builds a fragment from a mix of trusted text and sub-fragments, in order:
/// `frag!["(", a, " = ", b, ")"]`.
macro_rules! frag {
    ($($part:expr),* $(,)?) => {{
        let mut out = $crate::query::sql::Frag::default();
        $( $crate::query::sql::FragPart::append($part, &mut out); )*
        out
    }};
}
pub(crate) use frag;

/// Something `frag!` can append: trusted text or a fragment.
pub(crate) trait FragPart {
    fn append(self, out: &mut Frag);
}

impl FragPart for &str {
    fn append(self, out: &mut Frag) {
        out.push_str(self);
    }
}

impl FragPart for &String {
    fn append(self, out: &mut Frag) {
        out.push_str(self);
    }
}

impl FragPart for &Frag {
    fn append(self, out: &mut Frag) {
        out.push(self);
    }
}

/// `"name"` with embedded quotes doubled: the only way identifiers enter SQL.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
