//! Linear's CSV export (Settings → Import / Export → Export CSV).
//!
//! Its columns are "ID" (the identifier, `ENG-123`), "Team", "Title",
//! "Description" (Markdown), "Status", "Estimate", "Priority", "Project",
//! "Labels", cycle and date columns. It has no URL column and no issue type.

use super::csv_generic::{self, Columns, Names};
use super::{ColumnMap, ImportError, Parsed, Source};

const NAMES: Names = Names {
    title: &["title"],
    key: &["id"],
    description: &["description"],
    estimate: &["estimate"],
    kind: &[],
};

/// Reads a Linear CSV export; `map` overrides the column choice.
pub(super) fn parse(text: &str, map: Option<&ColumnMap>) -> Result<Parsed, ImportError> {
    csv_generic::read(text, |header| match map {
        Some(map) => Columns::from_map(map, header.len()),
        None => csv_generic::by_names(header, &NAMES, Source::LinearCsv, "Title"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_identifier_title_and_estimate() {
        let text = "ID,Team,Title,Description,Status,Estimate\nENG-7,Engineering,Ship it,\"Do **it**\",Todo,3\n";
        let s = &parse(text, None).unwrap().stories[0];
        assert_eq!(
            (
                s.key.as_deref(),
                s.title.as_str(),
                s.description.as_deref(),
                s.estimate.as_deref()
            ),
            (Some("ENG-7"), "Ship it", Some("Do **it**"), Some("3"))
        );
    }

    #[test]
    fn needs_a_title_column() {
        assert!(matches!(
            parse("ID,Team\nENG-1,Eng\n", None),
            Err(ImportError::MissingColumn {
                format: Source::LinearCsv,
                column: "Title"
            })
        ));
    }
}
