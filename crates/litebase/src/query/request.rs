//! The request data that `@request.*` and the datetime macros read.

use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Everything a filter or rule may read about the current request.
///
/// Values from here only ever reach SQL as bound parameters. `now` is passed in
/// (rather than read from the clock) so that compilation is a pure function.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The authenticated record as JSON (with `id`, `collectionName`,
    /// `collectionId`), or `None` for guests.
    pub auth: Option<Map<String, Value>>,
    /// The submitted body fields (`@request.body.*`).
    pub body: Map<String, Value>,
    /// The query string parameters (`@request.query.*`).
    pub query: Map<String, Value>,
    /// Headers, names lowercased with `-` replaced by `_` (`@request.headers.*`).
    pub headers: Map<String, Value>,
    /// HTTP method, e.g. `GET` (`@request.method`).
    pub method: String,
    /// Where the rule runs, e.g. `default`, `realtime` (`@request.context`).
    pub context: String,
    /// The instant `@now` and friends refer to.
    pub now: OffsetDateTime,
}

impl Default for RequestInfo {
    fn default() -> Self {
        RequestInfo {
            auth: None,
            body: Map::new(),
            query: Map::new(),
            headers: Map::new(),
            method: "GET".to_string(),
            context: "default".to_string(),
            now: OffsetDateTime::UNIX_EPOCH,
        }
    }
}

impl RequestInfo {
    /// Stores a header under the name PocketBase uses in filters
    /// (`X-Token` → `x_token`).
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.insert(
            normalize_header_name(name),
            Value::String(value.to_string()),
        );
    }
}

/// Lowercases a header name and replaces `-` with `_`, as `@request.headers.*` expects.
pub fn normalize_header_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}
