//! The filter compiler's view of the collections (names, types, relation targets).

use std::collections::HashMap;

use super::{Collection, FieldKind};
use crate::query::{self, CollectionInfo, FieldInfo};

/// The filter compiler's view of the collections.
#[derive(Default)]
pub struct QuerySchema(HashMap<String, CollectionInfo>);

impl query::Schema for QuerySchema {
    fn collection(&self, name: &str) -> Option<&CollectionInfo> {
        self.0.get(name)
    }
}

fn info_kind(kind: &FieldKind) -> query::FieldKind {
    use query::FieldKind as Q;
    match kind {
        FieldKind::Text { .. } => Q::Text,
        FieldKind::Number { .. } => Q::Number,
        FieldKind::Bool {} => Q::Bool,
        FieldKind::Email { .. } => Q::Email,
        FieldKind::Url { .. } => Q::Url,
        FieldKind::Editor { .. } => Q::Editor,
        FieldKind::Date { .. } => Q::Date,
        FieldKind::Autodate { .. } => Q::Autodate,
        FieldKind::Select { .. } => Q::Select,
        FieldKind::Json { .. } => Q::Json,
        FieldKind::Relation { .. } => Q::Relation,
        FieldKind::File { .. } => Q::File,
        FieldKind::Password { .. } => Q::Password,
    }
}

impl QuerySchema {
    /// Builds the compiler's view from collections (`extra` replaces or adds one,
    /// e.g. a definition being validated before it is saved).
    pub fn build<'a>(
        collections: impl Iterator<Item = &'a Collection>,
        extra: Option<&'a Collection>,
    ) -> QuerySchema {
        let mut all: Vec<&Collection> = collections
            .filter(|c| extra.is_none_or(|e| e.id != c.id))
            .collect();
        all.extend(extra);
        let names: HashMap<&str, &str> = all
            .iter()
            .map(|c| (c.id.as_str(), c.name.as_str()))
            .collect();
        let mut map = HashMap::new();
        for c in &all {
            let fields = c
                .fields
                .iter()
                .map(|f| {
                    let relation_to = match &f.kind {
                        FieldKind::Relation { collection_id, .. } => names
                            .get(collection_id.as_str())
                            .map(|n| n.to_string())
                            .or_else(|| Some(collection_id.clone())),
                        _ => None,
                    };
                    FieldInfo {
                        name: f.name.clone(),
                        kind: info_kind(&f.kind),
                        multiple: f.is_multiple(),
                        relation_to,
                        hidden: f.hidden,
                        visible_if: (c.kind == super::CollectionType::Auth && f.name == "email")
                            .then(|| "emailVisibility".to_string()),
                    }
                })
                .collect();
            map.insert(
                c.name.clone(),
                CollectionInfo {
                    name: c.name.clone(),
                    fields,
                    list_rule: c.list_rule.clone(),
                    is_view: c.kind == super::CollectionType::View,
                },
            );
        }
        QuerySchema(map)
    }
}
