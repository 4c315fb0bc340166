//! GitHub issues as `gh issue list --json number,title,url,body,labels` prints
//! them: an array of objects, any field may be missing.
//!
//! ```json
//! [{"number": 12, "title": "Dark mode", "url": "https://github.com/o/r/issues/12",
//!   "body": "…", "labels": [{"name": "estimate: 5"}, {"name": "ui"}]}]
//! ```
//!
//! The key is `#12`. GitHub has no estimate field, so it comes from an `estimate`
//! member (what [`Target::GithubJson`](super::Target::GithubJson) writes) or from a
//! label such as `estimate: 5`, `points:3`, `sp-3`, `story points = 8` or `size/L`.
//! serde_json refuses nesting deeper than 128 levels with an error, never a stack
//! overflow.

use serde_json::Value;

use super::collect::{Collector, RawStory};
use super::{ImportError, Parsed, Place, SkipReason};

/// Label prefixes that carry an estimate, longest first so `story points` wins
/// over `points`.
const LABEL_PREFIXES: &[&str] = &[
    "story points",
    "story-points",
    "storypoints",
    "estimation",
    "estimate",
    "points",
    "size",
    "pts",
    "sp",
];

/// Reads a GitHub issues JSON export.
pub(super) fn parse(text: &str) -> Result<Parsed, ImportError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ImportError::NotGithubJson {
        reason: e.to_string(),
    })?;
    let Value::Array(issues) = value else {
        return Err(ImportError::NotGithubJson {
            reason: "expected a list of issues ([…]), as `gh issue list --json number,title,url,body,labels` prints".into(),
        });
    };
    let mut out = Collector::default();
    for (i, issue) in issues.iter().enumerate() {
        let at = Place::Item(i + 1);
        let Value::Object(issue) = issue else {
            out.skip(at, SkipReason::NotAnIssue);
            continue;
        };
        let text = |name: &str| match issue.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let key = match issue.get("number") {
            Some(Value::Number(n)) => format!("#{n}"),
            Some(Value::String(s)) if !s.trim().is_empty() => {
                format!("#{}", s.trim().trim_start_matches('#'))
            }
            _ => String::new(),
        };
        let mut estimate = text("estimate");
        if estimate.trim().is_empty() {
            estimate = labels(issue.get("labels"))
                .find_map(estimate_from_label)
                .unwrap_or_default();
        }
        out.story(
            at,
            RawStory {
                title: &text("title"),
                key: &key,
                url: &text("url"),
                description: &text("body"),
                estimate: &estimate,
                kind: "",
            },
        );
    }
    Ok(out.finish())
}

/// Label names: `gh` writes objects with a `name`; plain strings are taken too.
fn labels(value: Option<&Value>) -> impl Iterator<Item = &str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| match l {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("name").and_then(Value::as_str),
            _ => None,
        })
}

/// The estimate in a label like `estimate: 5`, `sp-3` or `size/L`: a known
/// prefix, then a separator (`:`, `-`, `=`, `/`, `_`, space) or a digit, then the
/// value. `spike` or `points` alone are not estimates.
pub(super) fn estimate_from_label(label: &str) -> Option<String> {
    let label = label.trim();
    LABEL_PREFIXES.iter().find_map(|prefix| {
        let head = label.get(..prefix.len())?;
        if !head.eq_ignore_ascii_case(prefix) {
            return None;
        }
        let rest = &label[prefix.len()..];
        let value = rest.trim_start_matches([':', '-', '=', '/', '_', ' ']);
        let separated = value.len() < rest.len() || value.starts_with(|c: char| c.is_ascii_digit());
        let value = value.trim();
        (separated && !value.is_empty()).then(|| value.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::ImportedStory;

    #[test]
    fn reads_gh_output_with_missing_fields() {
        let json = r#"[
          {"number": 12, "title": "Dark mode", "url": "https://github.com/o/r/issues/12",
           "body": "Night\r\nowls", "labels": [{"name": "ui"}, {"name": "estimate: 5"}]},
          {"title": "No number"},
          {"number": 14, "title": "", "labels": []},
          42,
          {"number": "15", "title": "Own export", "estimate": 8}
        ]"#;
        let parsed = parse(json).unwrap();
        assert_eq!(
            parsed.stories,
            [
                ImportedStory {
                    title: "Dark mode".into(),
                    key: Some("#12".into()),
                    url: Some("https://github.com/o/r/issues/12".into()),
                    description: Some("Night\nowls".into()),
                    estimate: Some("5".into()),
                    kind: None,
                },
                ImportedStory {
                    title: "No number".into(),
                    ..ImportedStory::default()
                },
                ImportedStory {
                    title: "Own export".into(),
                    key: Some("#15".into()),
                    estimate: Some("8".into()),
                    ..ImportedStory::default()
                },
            ]
        );
        let skipped: Vec<String> = parsed.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(
            skipped,
            [
                "item 3: the title is empty",
                "item 4: not an issue (expected an object)"
            ]
        );
    }

    #[test]
    fn estimates_from_labels() {
        for (label, want) in [
            ("estimate: 5", Some("5")),
            ("Estimate:13", Some("13")),
            ("points:5", Some("5")),
            ("sp-3", Some("3")),
            ("SP 2", Some("2")),
            ("sp3", Some("3")),
            ("story points = 8", Some("8")),
            ("size/L", Some("L")),
            ("pts_1", Some("1")),
            ("spike", None),
            ("points", None),
            ("estimate:", None),
            ("bug", None),
            ("ſp-3", None),
        ] {
            assert_eq!(estimate_from_label(label).as_deref(), want, "{label}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_list_of_issues() {
        for json in ["{\"title\": \"x\"}", "nope", "[1,", "\"x\""] {
            assert!(
                matches!(parse(json), Err(ImportError::NotGithubJson { .. })),
                "{json}"
            );
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        match parse(&deep) {
            Err(ImportError::NotGithubJson { reason }) => {
                assert!(reason.contains("recursion limit"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
}
