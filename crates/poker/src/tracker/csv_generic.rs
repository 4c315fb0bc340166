//! Any CSV with a header row, and the reading every tracker's CSV shares: pick
//! the columns from the header, then turn each record into a story.

use super::collect::{Collector, RawStory};
use super::table::{self, Records};
use super::{
    ColumnMap, ImportError, MAX_COLUMNS, Parsed, Place, Source, clean, guess_map, mapping,
};

/// Where each story field comes from: candidate columns, best first; a field
/// takes the first candidate that is not empty in the record (Jira has two story
/// points columns, Azure DevOps' tree queries one title column per level).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Columns {
    pub title: Vec<usize>,
    pub key: Vec<usize>,
    pub url: Vec<usize>,
    pub description: Vec<usize>,
    pub estimate: Vec<usize>,
    pub kind: Vec<usize>,
    /// Descriptions are HTML (Azure DevOps).
    pub html_description: bool,
}

impl Columns {
    /// A person's (or [`guess_map`]'s) mapping, checked against the header.
    pub fn from_map(map: &ColumnMap, count: usize) -> Result<Self, ImportError> {
        let check = |field: &'static str, column: Option<usize>| match column {
            Some(c) if c >= count => Err(ImportError::NoSuchColumn {
                field,
                column: c,
                count,
            }),
            c => Ok(c.into_iter().collect::<Vec<_>>()),
        };
        Ok(Self {
            title: check("title", Some(map.title))?,
            key: check("key", map.key)?,
            url: check("url", map.url)?,
            description: check("description", map.description)?,
            estimate: check("estimate", map.estimate)?,
            kind: check("type", map.kind)?,
            html_description: false,
        })
    }
}

/// A tracker's column names for each field, tried before the generic ones of
/// [`mapping`].
pub(super) struct Names {
    pub title: &'static [&'static str],
    pub key: &'static [&'static str],
    pub description: &'static [&'static str],
    pub estimate: &'static [&'static str],
    pub kind: &'static [&'static str],
}

/// The columns of a tracker's CSV from its header names; an error when no column
/// can be the title (then it is not that tracker's export, nor a usable CSV).
pub(super) fn by_names(
    header: &[String],
    names: &Names,
    format: Source,
    title_column: &'static str,
) -> Result<Columns, ImportError> {
    let norm: Vec<String> = header.iter().map(|h| mapping::normalise(h)).collect();
    let mut taken = Vec::new();
    let pick = |own: &[&str], generic: &[&str], taken: &mut Vec<usize>| {
        let mut found = mapping::find_all(&norm, own, taken);
        if found.is_empty() {
            found = mapping::find(&norm, generic, taken).into_iter().collect();
        }
        taken.extend(&found);
        found
    };
    let mut title = pick(names.title, &[], &mut taken);
    if title.is_empty() {
        title.extend(mapping::title_by_name(&norm));
        taken.extend(&title);
    }
    if title.is_empty() {
        return Err(ImportError::MissingColumn {
            format,
            column: title_column,
        });
    }
    let key = pick(names.key, mapping::KEY, &mut taken);
    let url = pick(&[], mapping::URL, &mut taken);
    let estimate = pick(names.estimate, mapping::ESTIMATE, &mut taken);
    let description = pick(names.description, mapping::DESCRIPTION, &mut taken);
    let kind = pick(names.kind, mapping::KIND, &mut taken);
    Ok(Columns {
        title,
        key,
        url,
        description,
        estimate,
        kind,
        html_description: false,
    })
}

/// Reads a CSV: the header, `choose` picks the columns, then one story per
/// record (blank records ignored, a record without a title skipped).
pub(super) fn read(
    text: &str,
    choose: impl FnOnce(&[String]) -> Result<Columns, ImportError>,
) -> Result<Parsed, ImportError> {
    let mut records = Records::new(text, MAX_COLUMNS + 1);
    let header = table::header(&mut records)?;
    let columns = choose(&header)?;
    let mut out = Collector::default();
    for record in records {
        let record = record?;
        let cell = |candidates: &[usize]| -> &str {
            candidates
                .iter()
                .filter_map(|&i| record.fields.get(i))
                .map(|f| clean::unguard(f))
                .find(|v| !v.trim().is_empty())
                .unwrap_or("")
        };
        let description = cell(&columns.description);
        let description = if columns.html_description {
            clean::html_to_text(description)
        } else {
            description.to_owned()
        };
        out.story(
            Place::Line(record.line),
            RawStory {
                title: cell(&columns.title),
                key: cell(&columns.key),
                url: cell(&columns.url),
                description: &description,
                estimate: cell(&columns.estimate),
                kind: cell(&columns.kind),
            },
        );
    }
    Ok(out.finish())
}

/// A CSV with the given mapping, or [`guess_map`]'s.
pub(super) fn parse(text: &str, map: Option<&ColumnMap>) -> Result<Parsed, ImportError> {
    read(text, |header| match map {
        Some(map) => Columns::from_map(map, header.len()),
        None => Columns::from_map(&guess_map(header), header.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::{ImportedStory, SkipReason, Skipped};

    fn story(title: &str, key: Option<&str>, estimate: Option<&str>) -> ImportedStory {
        ImportedStory {
            title: title.into(),
            key: key.map(Into::into),
            estimate: estimate.map(Into::into),
            ..ImportedStory::default()
        }
    }

    #[test]
    fn reads_with_the_guessed_map() {
        let parsed = parse(
            "Key;Title;Estimate\nA-1;Log in;3\n\n;;\nA-2;;5\nA-3;Pay;\n",
            None,
        )
        .unwrap();
        assert_eq!(
            parsed.stories,
            [
                story("Log in", Some("A-1"), Some("3")),
                story("Pay", Some("A-3"), None)
            ]
        );
        assert_eq!(
            parsed.skipped,
            [Skipped {
                at: Place::Line(5),
                reason: SkipReason::EmptyTitle
            }]
        );
    }

    #[test]
    fn reads_with_any_mapping() {
        let map = ColumnMap {
            title: 2,
            key: Some(0),
            estimate: Some(1),
            ..ColumnMap::default()
        };
        let parsed = parse("a,b,c\nK1,8,First\nK2,,Second,extra\nK3", Some(&map)).unwrap();
        assert_eq!(
            parsed.stories,
            [
                story("First", Some("K1"), Some("8")),
                story("Second", Some("K2"), None)
            ]
        );
        assert_eq!(parsed.skipped.len(), 1, "K3 has no title: {parsed:?}");
    }

    #[test]
    fn a_missing_column_is_an_error() {
        let map = ColumnMap {
            title: 0,
            estimate: Some(6),
            ..ColumnMap::default()
        };
        let err = parse("a,b\n1,2\n", Some(&map)).unwrap_err();
        assert_eq!(
            err,
            ImportError::NoSuchColumn {
                field: "estimate",
                column: 6,
                count: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "the estimate column 7 does not exist: the file has 2 columns"
        );
        let map = ColumnMap {
            title: 2,
            ..ColumnMap::default()
        };
        assert!(parse("a,b\n", Some(&map)).is_err());
    }

    #[test]
    fn undoes_the_formula_guard() {
        let parsed = parse("Title,Estimate\n'=SUM(1),'-1\n'plain,5\n", None).unwrap();
        assert_eq!(parsed.stories[0].title, "=SUM(1)");
        assert_eq!(parsed.stories[0].estimate.as_deref(), Some("-1"));
        assert_eq!(parsed.stories[1].title, "'plain");
    }

    #[test]
    fn fatal_errors() {
        assert_eq!(parse("\n \n", None), Err(ImportError::NoHeader));
        assert_eq!(
            parse("Title\n\"open\nnever closed", None),
            Err(ImportError::UnclosedQuote { line: 2 })
        );
        let wide = vec!["c"; MAX_COLUMNS + 1].join(",");
        assert_eq!(
            parse(&wide, None),
            Err(ImportError::TooManyColumns { max: MAX_COLUMNS })
        );
    }
}
