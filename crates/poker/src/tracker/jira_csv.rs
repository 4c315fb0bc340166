//! Jira's CSV export ("Export Excel CSV (all fields)", Cloud and Data Center).
//!
//! Jira names columns after its fields ("Summary", "Issue key", "Issue Type",
//! "Description", custom fields as "Custom field (Story Points)") and repeats a
//! column for each value of a multi-valued field ("Sprint", "Labels", "Comment"),
//! so names are matched leftmost first. Company-managed projects keep story points
//! in "Story Points", team-managed ones in "Story point estimate": the first of them
//! that has a value wins. There is no URL column. The export written back
//! ([`Target::JiraCsv`](super::Target::JiraCsv)) reads back through here too.

use super::csv_generic::{self, Columns, Names};
use super::{ColumnMap, ImportError, Parsed, Source};

const NAMES: Names = Names {
    title: &["summary"],
    key: &["issue key"],
    description: &["description"],
    estimate: &[
        "custom field (story points)",
        "custom field (story point estimate)",
        "story points",
        "story point estimate",
    ],
    kind: &["issue type"],
};

/// Reads a Jira CSV export; `map` overrides the column choice.
pub(super) fn parse(text: &str, map: Option<&ColumnMap>) -> Result<Parsed, ImportError> {
    csv_generic::read(text, |header| match map {
        Some(map) => Columns::from_map(map, header.len()),
        None => csv_generic::by_names(header, &NAMES, Source::JiraCsv, "Summary"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_first_story_points_column_with_a_value() {
        let text = "Summary,Issue key,Sprint,Sprint,Custom field (Story Points),Custom field (Story point estimate)\n\
                    A,K-1,S1,S2,,3.0\n\
                    B,K-2,,,5,8\n";
        let parsed = parse(text, None).unwrap();
        let got: Vec<_> = parsed
            .stories
            .iter()
            .map(|s| (s.title.as_str(), s.key.as_deref(), s.estimate.as_deref()))
            .collect();
        assert_eq!(
            got,
            [("A", Some("K-1"), Some("3")), ("B", Some("K-2"), Some("5"))]
        );
    }

    #[test]
    fn without_a_summary_column_it_is_not_jira() {
        let err = parse("Foo,Bar\n1,2\n", None).unwrap_err();
        assert_eq!(
            err,
            ImportError::MissingColumn {
                format: Source::JiraCsv,
                column: "Summary"
            }
        );
        assert_eq!(
            err.to_string(),
            "this is not a Jira CSV export: it has no Summary column"
        );
    }

    #[test]
    fn a_french_jira_still_reads() {
        let parsed = parse(
            "Résumé;Clé de ticket;Points d'histoire\nPayer;P-1;2\n",
            None,
        )
        .unwrap();
        assert_eq!(parsed.stories[0].title, "Payer");
        assert_eq!(parsed.stories[0].key.as_deref(), Some("P-1"));
        assert_eq!(parsed.stories[0].estimate.as_deref(), Some("2"));
    }
}
