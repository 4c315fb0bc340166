//! Azure DevOps Boards' CSV ("Export to CSV" of a query).
//!
//! Columns are the query's: "ID", "Work Item Type", "Title", "State", and the
//! estimate field of the project's process: "Story Points" (Agile), "Effort"
//! (Scrum, Basic) or "Size" (CMMI). A tree query writes one title column per level
//! ("Title 1", "Title 2", …), each row filling one of them. Descriptions are HTML.
//! There is no URL column.

use super::csv_generic::{self, Columns, Names};
use super::{ColumnMap, ImportError, Parsed, Source};

const NAMES: Names = Names {
    title: &[
        "title", "title 1", "title 2", "title 3", "title 4", "title 5", "title 6", "title 7",
        "title 8", "title 9",
    ],
    key: &["id"],
    description: &["description"],
    estimate: &["story points", "effort", "size"],
    kind: &["work item type"],
};

/// Reads an Azure DevOps CSV export; `map` overrides the column choice.
pub(super) fn parse(text: &str, map: Option<&ColumnMap>) -> Result<Parsed, ImportError> {
    csv_generic::read(text, |header| {
        let mut columns = match map {
            Some(map) => Columns::from_map(map, header.len())?,
            None => csv_generic::by_names(header, &NAMES, Source::AzureCsv, "Title")?,
        };
        columns.html_description = true;
        Ok(columns)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_tree_query_with_one_title_column_per_level() {
        let text = "ID,Work Item Type,Title 1,Title 2,State,Effort,Description\n\
                    10,Feature,Checkout,,New,,\n\
                    11,Product Backlog Item,,Pay by card,New,5,\"<div>Card <b>only</b></div>\"\n";
        let parsed = parse(text, None).unwrap();
        let s = &parsed.stories;
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].key.as_deref(), s[0].title.as_str()),
            (Some("10"), "Checkout")
        );
        assert_eq!(s[0].kind.as_deref(), Some("Feature"));
        assert_eq!(s[1].title, "Pay by card");
        assert_eq!(s[1].estimate.as_deref(), Some("5"));
        assert_eq!(s[1].kind.as_deref(), Some("Product Backlog Item"));
        assert_eq!(s[1].description.as_deref(), Some("Card only"));
    }
}
