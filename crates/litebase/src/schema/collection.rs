//! Collections in PocketBase's JSON shape, and the checks a definition must pass.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::field::{Field, FieldKind};

/// The kinds of collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CollectionType {
    /// A table of records.
    #[default]
    Base,
    /// A read-only SQL view.
    View,
    /// Records that can sign in.
    Auth,
}

/// A collection: a real SQLite table (or view) plus what SQL cannot say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    /// `pbc_` + digits, stable across renames; relations point at it.
    #[serde(default)]
    pub id: String,
    /// Table name.
    pub name: String,
    /// base, view or auth.
    #[serde(rename = "type", default)]
    pub kind: CollectionType,
    /// System collections cannot be deleted or renamed.
    #[serde(default)]
    pub system: bool,
    /// Every field, `id` first.
    #[serde(default)]
    pub fields: Vec<Field>,
    /// `CREATE [UNIQUE] INDEX` statements.
    #[serde(default)]
    pub indexes: Vec<String>,
    /// Who may list: `None` superusers only, `""` everyone, else a filter.
    #[serde(default)]
    pub list_rule: Option<String>,
    /// Who may view one record.
    #[serde(default)]
    pub view_rule: Option<String>,
    /// Who may create.
    #[serde(default)]
    pub create_rule: Option<String>,
    /// Who may update.
    #[serde(default)]
    pub update_rule: Option<String>,
    /// Who may delete.
    #[serde(default)]
    pub delete_rule: Option<String>,
    /// The SELECT of a view collection.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub view_query: String,
    /// Auth collections only: sign-in options.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<super::auth::AuthOptions>,
    /// When it was created.
    #[serde(default)]
    pub created: String,
    /// When it last changed.
    #[serde(default)]
    pub updated: String,
}

/// Names a record's JSON already uses, so no field may take them.
const RESERVED_FIELD_NAMES: &[&str] = &[
    "expand",
    "collectionId",
    "collectionName",
    "_rowid_",
    "rowid",
    "oid",
];

/// A definition problem, reported per field like PocketBase's validation errors.
pub type Problems = Map<String, Value>;

fn problem(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

/// Whether `name` is a valid table or column name for us: ASCII letters, digits and
/// `_`, not starting with a digit, at most 100 bytes.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl Collection {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The rule for an action.
    pub fn rule(&self, action: RuleAction) -> Option<&str> {
        match action {
            RuleAction::List => self.list_rule.as_deref(),
            RuleAction::View => self.view_rule.as_deref(),
            RuleAction::Create => self.create_rule.as_deref(),
            RuleAction::Update => self.update_rule.as_deref(),
            RuleAction::Delete => self.delete_rule.as_deref(),
        }
    }

    /// Fills in what a client may leave out: the `id` field, field ids, and for
    /// auth collections their system fields, indexes and options.
    pub fn normalize(&mut self) {
        if self.kind != CollectionType::View && !self.fields.iter().any(|f| f.name == "id") {
            self.fields.insert(0, Field::id_field());
        }
        if self.kind == CollectionType::Auth {
            self.auth.get_or_insert_with(Default::default);
            for (at, f) in (1..).zip(super::auth::system_fields()) {
                if !self.fields.iter().any(|x| x.name == f.name) {
                    self.fields.insert(at.min(self.fields.len()), f);
                }
            }
            for index in super::auth::system_indexes(&self.name) {
                let name = super::index::index_name(&index);
                if !self
                    .indexes
                    .iter()
                    .any(|i| super::index::index_name(i) == name)
                {
                    self.indexes.push(index);
                }
            }
        } else {
            self.auth = None;
        }
        for field in &mut self.fields {
            if field.id.is_empty() {
                field.id = format!("{}{}", field.kind.type_name(), stable_number(&field.name));
            }
            if field.name == "id" {
                field.system = true;
            }
        }
        // Whitespace-only rules mean "everyone", like an empty one.
        for rule in [
            &mut self.list_rule,
            &mut self.view_rule,
            &mut self.create_rule,
            &mut self.update_rule,
            &mut self.delete_rule,
        ]
        .into_iter()
        .flatten()
        {
            if rule.trim().is_empty() {
                rule.clear();
            }
        }
    }

    /// Checks the definition on its own (names, options); cross-collection checks
    /// (unique name, relation targets, rules) are done by the caller that has the
    /// whole schema.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::new();
        if !is_valid_name(&self.name) {
            problems.insert(
                "name".into(),
                problem(
                    "validation_invalid_name",
                    "Use letters, digits and underscores only, not starting with a digit.",
                ),
            );
        }
        if self.kind == CollectionType::View && self.view_query.trim().is_empty() {
            problems.insert(
                "viewQuery".into(),
                problem("validation_required", "Cannot be blank."),
            );
        }
        let mut fields = Problems::new();
        let mut seen = std::collections::HashSet::new();
        for (i, field) in self.fields.iter().enumerate() {
            let mut message = None;
            if !is_valid_name(&field.name) {
                message = Some(("validation_invalid_name", "Invalid field name."));
            } else if RESERVED_FIELD_NAMES.contains(&field.name.as_str()) {
                message = Some(("validation_reserved_name", "This name is reserved."));
            } else if !seen.insert(field.name.to_ascii_lowercase()) {
                message = Some(("validation_duplicated_field_name", "Duplicated field name."));
            } else {
                match &field.kind {
                    FieldKind::Select { values, .. } if values.is_empty() => {
                        message = Some(("validation_required", "Select fields need values."));
                    }
                    FieldKind::Select { values, max_select }
                        if *max_select as usize > values.len() =>
                    {
                        message = Some((
                            "validation_max_select_constraint",
                            "maxSelect cannot be larger than the number of values.",
                        ));
                    }
                    FieldKind::Relation { collection_id, .. } if collection_id.is_empty() => {
                        message = Some((
                            "validation_required",
                            "Relation fields need a collectionId.",
                        ));
                    }
                    FieldKind::Text { pattern, .. }
                        if !pattern.is_empty() && regex::Regex::new(pattern).is_err() =>
                    {
                        message = Some(("validation_invalid_regex", "Invalid pattern."));
                    }
                    FieldKind::Password { .. } if self.kind != CollectionType::Auth => {
                        message = Some((
                            "validation_invalid_type",
                            "Password fields belong to auth collections.",
                        ));
                    }
                    _ => {}
                }
            }
            if let Some((code, text)) = message {
                fields.insert(i.to_string(), json!({"name": problem(code, text)}));
            }
        }
        if !fields.is_empty() {
            problems.insert("fields".into(), Value::Object(fields));
        }
        if let Some(Err((key, problem))) = self.auth.as_ref().map(|a| a.validate()) {
            problems.insert(key, problem);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// The five API actions that have a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// List/search.
    List,
    /// View one.
    View,
    /// Create.
    Create,
    /// Update.
    Update,
    /// Delete.
    Delete,
}

/// A deterministic number from a name (FNV-1a), for ids PocketBase derives the same
/// way: `pbc_` + number for collections, type + number for fields.
pub fn stable_number(name: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Collection {
        match serde_json::from_value(v) {
            Ok(c) => c,
            Err(e) => panic!("bad fixture: {e}"),
        }
    }

    #[test]
    fn normalize_adds_the_id_field_and_field_ids() {
        let mut c = parse(json!({"name": "posts", "fields": [{"name": "title", "type": "text"}]}));
        c.normalize();
        assert_eq!(c.fields[0].name, "id");
        assert!(c.fields[1].id.starts_with("text"));
        assert_eq!(c.list_rule, None);
    }

    #[test]
    fn validation_names_the_bad_field() {
        let c = parse(json!({"name": "posts", "fields": [
            {"name": "ok", "type": "text"},
            {"name": "expand", "type": "text"},
            {"name": "OK", "type": "bool"},
            {"name": "s", "type": "select"}
        ]}));
        let problems = c.validate().err().unwrap_or_default();
        let fields = &problems["fields"];
        assert_eq!(fields["1"]["name"]["code"], "validation_reserved_name");
        assert_eq!(
            fields["2"]["name"]["code"],
            "validation_duplicated_field_name"
        );
        assert_eq!(fields["3"]["name"]["code"], "validation_required");
        assert!(fields.get("0").is_none());
        assert!(parse(json!({"name": "9lives"})).validate().is_err());
        assert!(parse(json!({"name": "a b"})).validate().is_err());
    }
}
