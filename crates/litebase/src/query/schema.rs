//! The slice of collection metadata the filter compiler needs.
//!
//! The caller builds these owned values from its collections; the compiler never
//! touches the database, so it stays a pure function of (text, schema, request).

use std::collections::HashMap;

/// The type of a field, as far as filtering cares: it decides how a value is stored
/// (see the storage model in `query/mod.rs`) and therefore how it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// Plain text, stored as TEXT.
    Text,
    /// A number, stored as REAL.
    Number,
    /// A boolean, stored as INTEGER 0/1.
    Bool,
    /// An e-mail address, stored as TEXT.
    Email,
    /// A URL, stored as TEXT.
    Url,
    /// Rich text, stored as TEXT.
    Editor,
    /// A date, stored as TEXT `2026-01-02 15:04:05.000Z`.
    Date,
    /// A date set automatically on create/update, stored like [`FieldKind::Date`].
    Autodate,
    /// One value (TEXT) or several (JSON array of strings) from a fixed list.
    Select,
    /// Arbitrary JSON, stored as JSON text; dot paths navigate into it.
    Json,
    /// Record id(s) of another collection: TEXT, or a JSON array when `multiple`.
    Relation,
    /// File name(s): TEXT, or a JSON array when `multiple`.
    File,
    /// A password hash, stored as TEXT (normally also `hidden`).
    Password,
}

/// One field of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// Column name (also the name used in filters).
    pub name: String,
    /// Storage/comparison kind.
    pub kind: FieldKind,
    /// Holds a JSON array of values (select, relation, file).
    pub multiple: bool,
    /// For relations: the NAME of the target collection.
    pub relation_to: Option<String>,
    /// Hidden fields may only be filtered on with [`crate::query::Access::Full`].
    pub hidden: bool,
    /// A bool column of the same row that must be true for this field to be
    /// filterable by non-superusers (auth `email` and `emailVisibility`); when it
    /// is false the field reads as null.
    pub visible_if: Option<String>,
}

impl FieldInfo {
    /// A visible, single-valued field of the given kind (handy for building schemas).
    pub fn new(name: &str, kind: FieldKind) -> Self {
        FieldInfo {
            name: name.to_string(),
            kind,
            multiple: false,
            relation_to: None,
            hidden: false,
            visible_if: None,
        }
    }

    /// A relation field pointing at collection `target`.
    pub fn relation(name: &str, target: &str, multiple: bool) -> Self {
        FieldInfo {
            name: name.to_string(),
            kind: FieldKind::Relation,
            multiple,
            relation_to: Some(target.to_string()),
            hidden: false,
            visible_if: None,
        }
    }

    /// Builder: mark the field as holding several values.
    pub fn multiple(mut self) -> Self {
        self.multiple = true;
        self
    }

    /// Builder: mark the field as hidden.
    pub fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }
}

/// A collection: its table name, its fields (including `id`) and who may list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionInfo {
    /// Collection name, which is also its table name.
    pub name: String,
    /// All fields, including the `id` field.
    pub fields: Vec<FieldInfo>,
    /// The list rule: `None` = superusers only, `Some("")` = everyone. A client's
    /// filter or sort that reaches this collection from another one only sees the
    /// rows this rule lets the client list (see [`crate::query::Access::Client`]).
    pub list_rule: Option<String>,
    /// A view collection (a SQL view: no `rowid`).
    pub is_view: bool,
}

impl CollectionInfo {
    /// A table collection anyone may list, with these fields.
    pub fn new(name: &str, fields: Vec<FieldInfo>) -> Self {
        CollectionInfo {
            name: name.to_string(),
            fields,
            list_rule: Some(String::new()),
            is_view: false,
        }
    }

    /// Builder: the list rule (`None` = superusers only).
    pub fn list_rule(mut self, rule: Option<&str>) -> Self {
        self.list_rule = rule.map(str::to_string);
        self
    }

    /// Looks a field up by its exact name.
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Where the compiler looks collections up; implemented by whatever the caller
/// keeps its collections in.
pub trait Schema {
    /// The collection with this exact name, if any.
    fn collection(&self, name: &str) -> Option<&CollectionInfo>;
}

impl Schema for HashMap<String, CollectionInfo> {
    fn collection(&self, name: &str) -> Option<&CollectionInfo> {
        self.get(name)
    }
}
