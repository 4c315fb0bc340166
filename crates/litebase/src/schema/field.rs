//! Field definitions, in PocketBase's JSON shape (`{"name", "type", …options}`), and
//! what each type means for storage.

use serde::{Deserialize, Serialize};

/// One field of a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// Stable id, so a rename is told apart from a drop + add.
    #[serde(default)]
    pub id: String,
    /// Column name: letters, digits and `_`, not starting with a digit.
    pub name: String,
    /// System fields (`id`, auth fields) cannot be removed or renamed.
    #[serde(default)]
    pub system: bool,
    /// Hidden fields are returned and filterable for superusers only.
    #[serde(default)]
    pub hidden: bool,
    /// Shown in relation pickers of the admin UI.
    #[serde(default)]
    pub presentable: bool,
    /// A value is required (non-empty, non-zero, non-false).
    #[serde(default)]
    pub required: bool,
    /// Type and type-specific options.
    #[serde(flatten)]
    pub kind: FieldKind,
}

/// The field types and their options, tagged by `type` like PocketBase's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum FieldKind {
    /// Plain text. `min`/`max` count characters (0 = no limit).
    Text {
        #[serde(default)]
        min: u32,
        #[serde(default)]
        max: u32,
        #[serde(default)]
        pattern: String,
        #[serde(default)]
        autogenerate_pattern: String,
        #[serde(default)]
        primary_key: bool,
    },
    /// A number (stored as REAL).
    Number {
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
        #[serde(default)]
        only_int: bool,
    },
    /// true/false.
    Bool {},
    /// An email address.
    Email {
        #[serde(default)]
        except_domains: Vec<String>,
        #[serde(default)]
        only_domains: Vec<String>,
    },
    /// An http(s) URL.
    Url {
        #[serde(default)]
        except_domains: Vec<String>,
        #[serde(default)]
        only_domains: Vec<String>,
    },
    /// Rich text (HTML).
    Editor {
        #[serde(default)]
        max_size: u64,
        #[serde(default)]
        convert_urls: bool,
    },
    /// A date-time, stored as `2006-01-02 15:04:05.000Z`.
    Date {
        #[serde(default)]
        min: String,
        #[serde(default)]
        max: String,
    },
    /// A date-time set by the server on create and/or update.
    Autodate {
        #[serde(default)]
        on_create: bool,
        #[serde(default)]
        on_update: bool,
    },
    /// One or several values from a fixed list.
    Select {
        #[serde(default)]
        values: Vec<String>,
        #[serde(default)]
        max_select: u32,
    },
    /// Any JSON value.
    Json {
        #[serde(default)]
        max_size: u64,
    },
    /// Id(s) of records of another collection.
    Relation {
        #[serde(default)]
        collection_id: String,
        #[serde(default)]
        cascade_delete: bool,
        #[serde(default)]
        min_select: u32,
        #[serde(default)]
        max_select: u32,
    },
    /// File name(s); the files themselves live in the data directory.
    File {
        #[serde(default)]
        max_select: u32,
        #[serde(default)]
        max_size: u64,
        #[serde(default)]
        mime_types: Vec<String>,
        #[serde(default)]
        thumbs: Vec<String>,
        #[serde(default)]
        protected: bool,
    },
    /// A password hash (auth collections); never returned.
    Password {
        #[serde(default)]
        min: u32,
        #[serde(default)]
        max: u32,
        #[serde(default)]
        pattern: String,
        #[serde(default)]
        cost: u32,
    },
}

impl FieldKind {
    /// The type name as in JSON (`text`, `relation`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            FieldKind::Text { .. } => "text",
            FieldKind::Number { .. } => "number",
            FieldKind::Bool {} => "bool",
            FieldKind::Email { .. } => "email",
            FieldKind::Url { .. } => "url",
            FieldKind::Editor { .. } => "editor",
            FieldKind::Date { .. } => "date",
            FieldKind::Autodate { .. } => "autodate",
            FieldKind::Select { .. } => "select",
            FieldKind::Json { .. } => "json",
            FieldKind::Relation { .. } => "relation",
            FieldKind::File { .. } => "file",
            FieldKind::Password { .. } => "password",
        }
    }
}

impl Field {
    /// Whether the value is a list (stored as a JSON array).
    pub fn is_multiple(&self) -> bool {
        match &self.kind {
            FieldKind::Select { max_select, .. }
            | FieldKind::Relation { max_select, .. }
            | FieldKind::File { max_select, .. } => *max_select > 1,
            _ => false,
        }
    }

    /// The column definition for `CREATE TABLE` / `ALTER TABLE ADD COLUMN`.
    pub fn column_sql(&self) -> String {
        let name = super::quote_ident(&self.name);
        if self.name == "id" {
            return format!("{name} TEXT PRIMARY KEY NOT NULL");
        }
        let def = match &self.kind {
            FieldKind::Number { .. } => "NUMERIC DEFAULT 0 NOT NULL",
            FieldKind::Bool {} => "BOOLEAN DEFAULT FALSE NOT NULL",
            FieldKind::Json { .. } => "JSON DEFAULT NULL",
            FieldKind::Select { .. } | FieldKind::Relation { .. } | FieldKind::File { .. }
                if self.is_multiple() =>
            {
                "JSON DEFAULT '[]' NOT NULL"
            }
            _ => "TEXT DEFAULT '' NOT NULL",
        };
        format!("{name} {def}")
    }

    /// A new field with PocketBase's defaults for its type.
    pub fn new(name: &str, kind: FieldKind) -> Self {
        Field {
            id: String::new(),
            name: name.to_string(),
            system: false,
            hidden: false,
            presentable: false,
            required: false,
            kind,
        }
    }

    /// The system `id` field every collection has.
    pub fn id_field() -> Self {
        Field {
            id: "text3208210256".into(),
            name: "id".into(),
            system: true,
            hidden: false,
            presentable: false,
            required: true,
            kind: FieldKind::Text {
                min: 15,
                max: 15,
                pattern: "^[a-z0-9]+$".into(),
                autogenerate_pattern: "[a-z0-9]{15}".into(),
                primary_key: true,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_writes_pocketbase_field_json() -> Result<(), serde_json::Error> {
        let f: Field = serde_json::from_value(json!({
            "name": "tags", "type": "select", "values": ["a", "b"], "maxSelect": 2,
            "required": true
        }))?;
        assert!(f.is_multiple());
        assert!(f.required);
        let back = serde_json::to_value(&f)?;
        assert_eq!(back["type"], "select");
        assert_eq!(back["maxSelect"], 2);
        assert_eq!(back["values"], json!(["a", "b"]));
        let n: Field = serde_json::from_value(json!({"name": "n", "type": "number"}))?;
        assert_eq!(
            n.kind,
            FieldKind::Number {
                min: None,
                max: None,
                only_int: false
            }
        );
        assert!(serde_json::from_value::<Field>(json!({"name": "x", "type": "nope"})).is_err());
        Ok(())
    }
}
