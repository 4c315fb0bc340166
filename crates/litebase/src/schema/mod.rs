//! Collections: their definitions, the DDL that keeps each table in step with its
//! definition, and an in-memory snapshot every request reads without touching SQLite.

pub mod auth;
pub mod collection;
pub mod ddl;
pub mod field;
pub mod index;
pub mod query_view;
pub mod store;
pub mod system;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

pub use collection::{Collection, CollectionType, RuleAction};
pub use field::{Field, FieldKind};

/// `"name"` with inner quotes doubled: the only way identifiers reach SQL text.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with inner quotes doubled, for SQL written to migration files.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Every collection at one moment; immutable, shared by `Arc`.
#[derive(Default)]
pub struct Schema {
    collections: Vec<Arc<Collection>>,
    by_key: HashMap<String, usize>,
    query_view: query_view::QuerySchema,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.collections.iter().map(|c| &c.name))
            .finish()
    }
}

impl Schema {
    /// A snapshot of `collections`.
    pub fn new(collections: Vec<Collection>) -> Self {
        let collections: Vec<Arc<Collection>> = collections.into_iter().map(Arc::new).collect();
        let mut by_key = HashMap::with_capacity(collections.len() * 2);
        for (i, c) in collections.iter().enumerate() {
            by_key.insert(c.id.clone(), i);
            by_key.insert(c.name.to_ascii_lowercase(), i);
        }
        let query_view =
            query_view::QuerySchema::build(collections.iter().map(|c| c.as_ref()), None);
        Schema {
            collections,
            by_key,
            query_view,
        }
    }

    /// The collection with this id or (case-insensitive) name.
    pub fn get(&self, name_or_id: &str) -> Option<&Arc<Collection>> {
        let i = match self.by_key.get(name_or_id) {
            Some(i) => *i,
            None => *self.by_key.get(&name_or_id.to_ascii_lowercase())?,
        };
        self.collections.get(i)
    }

    /// What the filter compiler needs to know about these collections.
    pub fn query_view(&self) -> &query_view::QuerySchema {
        &self.query_view
    }

    /// Every collection, in creation order.
    pub fn all(&self) -> &[Arc<Collection>] {
        &self.collections
    }
}

/// The current [`Schema`], swapped whole after each committed schema change.
#[derive(Debug, Default)]
pub struct SchemaCache {
    current: RwLock<(u64, Arc<Schema>)>,
    generations: AtomicU64,
}

impl SchemaCache {
    /// The snapshot to use for one request.
    pub fn current(&self) -> Arc<Schema> {
        match self.current.read() {
            Ok(s) => s.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        }
    }

    /// Installs a snapshot unconditionally (at start).
    pub fn replace(&self, schema: Schema) {
        let generation = self.next_generation();
        self.replace_if_newer(schema, generation);
    }

    /// A number for a schema change about to be queued; changes are applied by the
    /// single writer in queue order, so a higher number is a later schema.
    pub fn next_generation(&self) -> u64 {
        self.generations.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Installs `schema` (read back after a committed change) unless a later change
    /// already installed its own.
    pub fn replace_if_newer(&self, schema: Schema, generation: u64) {
        let mut slot = match self.current.write() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if generation >= slot.0 {
            *slot = (generation, Arc::new(schema));
        }
    }
}
