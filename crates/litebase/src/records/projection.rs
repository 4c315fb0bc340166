//! `?fields=id,title,expand.author.name,body:excerpt(100,true)`: trims each
//! returned record to the listed keys.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A parsed `fields` parameter.
#[derive(Debug, Default)]
pub struct Projection {
    root: Node,
}

#[derive(Debug, Default)]
struct Node {
    all: bool,
    excerpt: Option<(usize, bool)>,
    children: BTreeMap<String, Node>,
}

fn parse_excerpt(modifier: &str) -> Option<(usize, bool)> {
    let args = modifier.strip_prefix("excerpt(")?.strip_suffix(')')?;
    let mut parts = args.split(',').map(str::trim);
    let len = parts.next()?.parse().ok()?;
    let dots = parts.next().is_some_and(|p| p == "true" || p == "1");
    Some((len, dots))
}

/// Plain text of HTML, cut to `len` characters.
fn excerpt(text: &str, len: usize, dots: bool) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                plain.push(' ');
            }
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if plain.chars().count() <= len {
        return plain;
    }
    let mut cut: String = plain.chars().take(len).collect();
    if dots {
        cut.push_str("...");
    }
    cut
}

/// Splits on commas that are not inside parentheses (`a,b:excerpt(5,true)`).
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, ch) in s.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth <= 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

impl Projection {
    /// `None` for an empty parameter (keep everything).
    pub fn parse(param: &str) -> Option<Projection> {
        let param = param.trim();
        if param.is_empty() {
            return None;
        }
        let mut root = Node::default();
        for item in split_top_level(param)
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (path, modifier) = match item.split_once(':') {
                Some((p, m)) => (p, Some(m)),
                None => (item, None),
            };
            let mut node = &mut root;
            let segments: Vec<&str> = path.split('.').collect();
            for (i, seg) in segments.iter().enumerate() {
                if *seg == "*" {
                    node.all = true;
                    break;
                }
                node = node.children.entry((*seg).to_string()).or_default();
                if i == segments.len() - 1 {
                    node.excerpt = modifier.and_then(parse_excerpt);
                }
            }
        }
        Some(Projection { root })
    }

    /// Trims `record` in place.
    pub fn apply(&self, record: &mut Map<String, Value>) {
        apply_node(&self.root, record);
    }
}

fn apply_node(node: &Node, obj: &mut Map<String, Value>) {
    let keys: Vec<String> = obj.keys().cloned().collect();
    for key in keys {
        match node.children.get(&key) {
            Some(child) => {
                if let Some(v) = obj.get_mut(&key) {
                    apply_value(child, v);
                }
            }
            None if node.all && key != "expand" => {}
            None => {
                obj.remove(&key);
            }
        }
    }
}

fn apply_value(node: &Node, v: &mut Value) {
    if let (Some((len, dots)), Value::String(s)) = (node.excerpt, &mut *v) {
        *s = excerpt(s, len, dots);
        return;
    }
    if node.children.is_empty() && !node.all {
        return;
    }
    match v {
        Value::Object(o) => apply_node(node, o),
        Value::Array(items) => {
            for item in items {
                if let Value::Object(o) = item {
                    apply_node(node, o);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn project(fields: &str, mut v: Value) -> Value {
        if let (Some(p), Some(o)) = (Projection::parse(fields), v.as_object_mut()) {
            p.apply(o);
        }
        v
    }

    #[test]
    fn keeps_listed_keys_and_trims_inside_expand() {
        let rec = json!({"id": "a", "title": "T", "body": "<p>Hello <b>big</b> world</p>",
            "expand": {"author": {"id": "u", "name": "Ann", "email": "x"}}});
        assert_eq!(project("id", rec.clone()), json!({"id": "a"}));
        assert_eq!(project("nope", rec.clone()), json!({}));
        assert_eq!(
            project("title,expand.author.name", rec.clone()),
            json!({"title": "T", "expand": {"author": {"name": "Ann"}}})
        );
        assert_eq!(
            project("body:excerpt(9,true)", rec.clone()),
            json!({"body": "Hello big..."})
        );
        assert_eq!(
            project("id,title:excerpt(0,true)", rec.clone()),
            json!({"id": "a", "title": "..."})
        );
        let all = project("*", rec.clone());
        assert!(all.get("title").is_some() && all.get("expand").is_none());
        assert_eq!(
            project("*,expand.author.id", rec)["expand"],
            json!({"author": {"id": "u"}})
        );
    }
}
