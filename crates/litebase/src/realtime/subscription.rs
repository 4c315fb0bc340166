//! One SSE subscription as the SDK sends it: `posts/*`, `posts/RECORD_ID`, or a
//! custom topic, optionally with `?options={"query":{…},"headers":{…}}`.

use serde_json::{Map, Value};

/// Longest subscription string accepted.
pub const MAX_LEN: usize = 2500;

/// A parsed subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// The string as subscribed: events are named after it.
    pub raw: String,
    /// Collection name or id (`posts` of `posts/*`).
    pub collection: String,
    /// `None` for `*`, else the record id.
    pub record: Option<String>,
    /// `expand`, `fields`, `filter`… from the options.
    pub query: Map<String, Value>,
    /// Headers from the options (for `@request.headers` in rules).
    pub headers: Map<String, Value>,
}

impl Subscription {
    /// Parses a subscription; `None` for a topic that is not `COLLECTION/…`.
    pub fn parse(raw: &str) -> Option<Subscription> {
        let (topic, query) = match raw.split_once('?') {
            Some((t, q)) => (t, q),
            None => (raw, ""),
        };
        // A bare collection name means all its records.
        let (collection, record) = topic.split_once('/').unwrap_or((topic, "*"));
        if collection.is_empty() || record.is_empty() || record.contains('/') {
            return None;
        }
        let mut options = Map::new();
        if !query.is_empty() {
            let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(query)
                .map(|q| q.into_inner())
                .unwrap_or_default();
            if let Some((_, json)) = pairs.into_iter().find(|(k, _)| k == "options") {
                if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&json) {
                    options = o;
                }
            }
        }
        let as_map = |v: Option<&Value>| -> Map<String, Value> {
            match v {
                Some(Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(_) => v.clone(),
                            other => Value::String(other.to_string()),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
                _ => Map::new(),
            }
        };
        Some(Subscription {
            raw: raw.to_string(),
            collection: collection.to_string(),
            record: (record != "*").then(|| record.to_string()),
            query: as_map(options.get("query")),
            headers: as_map(options.get("headers"))
                .into_iter()
                .map(|(k, v)| (crate::query::request::normalize_header_name(&k), v))
                .collect(),
        })
    }

    /// The query option `key` (`expand`, `fields`, `filter`), or "".
    pub fn option(&self, key: &str) -> &str {
        self.query
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_sdk_sends() {
        let s = Subscription::parse("posts/*").unwrap_or_else(|| panic!("parse"));
        assert_eq!(
            (s.collection.as_str(), s.record.as_deref()),
            ("posts", None)
        );
        let s = Subscription::parse(
            "posts/abc?options=%7B%22query%22%3A%7B%22expand%22%3A%22author%22%7D%2C%22headers%22%3A%7B%7D%7D",
        )
        .unwrap_or_else(|| panic!("parse"));
        assert_eq!(s.record.as_deref(), Some("abc"));
        assert_eq!(s.option("expand"), "author");
        assert_eq!(
            Subscription::parse("posts").map(|s| s.record),
            Some(None),
            "a bare name is every record"
        );
        assert!(Subscription::parse("posts/").is_none());
        assert!(Subscription::parse("a/b/c").is_none());
    }
}
