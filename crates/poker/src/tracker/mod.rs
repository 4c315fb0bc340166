//! Stories in and estimates out: the files of the trackers teams already use.
//!
//! Pure: bytes in, stories out (and stories in, bytes out). No IO, no room state;
//! the room's upload dialog, preview, queue and download links call these.
//!
//! Reading a file:
//! 1. [`detect`] sniffs the format from the content (header names, XML root, JSON
//!    shape) so the dialog can preselect it;
//! 2. for CSV, [`columns`] lists the header names and [`guess_map`] proposes which
//!    column feeds which story field (English and a few French names), for the
//!    mapping step of the dialog;
//! 3. [`parse`] reads the stories. Rows that cannot become a story (no title) are
//!    listed in [`Parsed::skipped`] with the line or item they came from; a file
//!    that is not what it claims to be is an [`ImportError`].
//!
//! Writing estimates back: [`export`] writes, for a [`Target`], a file the tracker
//! re-imports to set the estimates ([`Target::for_source`] picks the one matching
//! an import). Stories the tracker could not take (no key, no number) are listed in
//! [`Exported::left_out`].
//!
//! ```
//! use poker::tracker::{self, EstimatedStory, Source, Target};
//!
//! let file = b"Issue key,Summary,Custom field (Story Points)\nSHOP-1,Checkout page,5\n";
//! assert_eq!(tracker::detect(file), Some(Source::JiraCsv));
//! let parsed = tracker::parse(Source::JiraCsv, file, None).unwrap();
//! assert_eq!(parsed.stories[0].key.as_deref(), Some("SHOP-1"));
//! assert_eq!(parsed.stories[0].estimate.as_deref(), Some("5"));
//!
//! let mut story = EstimatedStory::from(&parsed.stories[0]);
//! story.estimate = Some("8".into());
//! let out = tracker::export(Target::for_source(Source::JiraCsv), &[story]);
//! assert_eq!(out.body, b"Issue key,Summary,Story Points\r\nSHOP-1,Checkout page,8\r\n");
//! ```
//!
//! Limits (every file is untrusted): at most [`MAX_INPUT_BYTES`] of input and
//! [`MAX_STORIES`] stories per import (the rest are reported as left out); titles
//! are cut to [`MAX_TITLE_CHARS`]; keys longer than [`MAX_KEY_CHARS`], URLs longer
//! than [`MAX_URL_CHARS`] or not `http`/`https`, and estimates longer than
//! [`MAX_ESTIMATE_CHARS`] are dropped (a cut key or URL would point at another
//! issue). XML entities other than the five predefined ones and character
//! references are never expanded; a DOCTYPE is ignored.

mod azure_csv;
mod clean;
mod collect;
mod csv_generic;
mod detect;
mod export;
mod github_json;
mod jira_csv;
mod jira_xml;
mod linear_csv;
mod mapping;
mod table;
mod text;

#[cfg(test)]
mod proptests;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use detect::detect;
pub use export::{Exported, LeftOut, LeftOutReason, Target, export};
pub use mapping::guess_map;

/// The largest file [`parse`] reads: a tracker export of a few hundred stories is
/// far below it.
pub const MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;
/// The most stories one import adds to a room's queue.
pub const MAX_STORIES: usize = 500;
/// Titles longer than this are cut (in characters).
pub const MAX_TITLE_CHARS: usize = 200;
/// Keys longer than this are dropped.
pub const MAX_KEY_CHARS: usize = 64;
/// URLs longer than this are dropped.
pub const MAX_URL_CHARS: usize = 500;
/// Estimates longer than this are dropped.
pub const MAX_ESTIMATE_CHARS: usize = 24;
/// Descriptions longer than this are cut (in characters).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// The most columns a CSV header may have (Jira repeats columns, so its exports
/// can be wide).
pub const MAX_COLUMNS: usize = 1000;

/// One story read from a file, cleaned: one-line title, key and estimate,
/// `http`/`https` URL only, every limit above applied.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportedStory {
    /// What the team estimates; never empty.
    pub title: String,
    /// The tracker's id (`SHOP-12`, `#42`, `1234`), to write the estimate back.
    pub key: Option<String>,
    /// A link to the issue in the tracker.
    pub url: Option<String>,
    /// Plain text (HTML descriptions from Jira XML and Azure DevOps are turned
    /// into text).
    pub description: Option<String>,
    /// The estimate the file already has, as text (`5`, `0.5`, `XL`).
    pub estimate: Option<String>,
    /// The issue or work item type (`Story`, `User Story`, `Bug`), where the file
    /// has one: Azure DevOps needs it to update a work item.
    pub kind: Option<String>,
}

/// A story with its estimate, to write back to a tracker.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EstimatedStory {
    /// The tracker's id; stories without one cannot update anything and are left
    /// out of the trackers' files.
    pub key: Option<String>,
    /// The title, for people reading the file.
    pub title: String,
    /// A link to the issue (GitHub's script uses it to find the repository).
    pub url: Option<String>,
    /// The final estimate; `None` when the story was not estimated.
    pub estimate: Option<String>,
    /// The issue or work item type, as imported (Azure DevOps needs it).
    pub kind: Option<String>,
}

impl From<&ImportedStory> for EstimatedStory {
    fn from(s: &ImportedStory) -> Self {
        Self {
            key: s.key.clone(),
            title: s.title.clone(),
            url: s.url.clone(),
            estimate: s.estimate.clone(),
            kind: s.kind.clone(),
        }
    }
}

/// The file formats stories are imported from (serde uses the
/// [`as_str`](Self::as_str) names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Any CSV, with a header row and a [`ColumnMap`].
    Csv,
    /// Jira Cloud / Data Center "Export CSV (all fields)".
    JiraCsv,
    /// Jira's "Export XML" (an RSS document of issues).
    JiraXml,
    /// `gh issue list --json number,title,url,body,labels`.
    GithubJson,
    /// Linear's "Export CSV".
    LinearCsv,
    /// Azure DevOps Boards' query "Export to CSV".
    AzureCsv,
}

impl Source {
    /// Every source, in the order the upload dialog lists them.
    pub const ALL: [Source; 6] = [
        Source::Csv,
        Source::JiraCsv,
        Source::JiraXml,
        Source::GithubJson,
        Source::LinearCsv,
        Source::AzureCsv,
    ];

    /// The name used in forms and URLs: `csv`, `jira-csv`, `jira-xml`,
    /// `github-json`, `linear-csv`, `azure-csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Csv => "csv",
            Source::JiraCsv => "jira-csv",
            Source::JiraXml => "jira-xml",
            Source::GithubJson => "github-json",
            Source::LinearCsv => "linear-csv",
            Source::AzureCsv => "azure-csv",
        }
    }

    /// The source named by [`as_str`](Self::as_str); `None` for anything else.
    pub fn parse(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// What people call the format, for messages (English; the UI translates the
    /// [`as_str`](Self::as_str) name).
    pub fn label(self) -> &'static str {
        match self {
            Source::Csv => "CSV",
            Source::JiraCsv => "Jira CSV",
            Source::JiraXml => "Jira XML",
            Source::GithubJson => "GitHub issues JSON",
            Source::LinearCsv => "Linear CSV",
            Source::AzureCsv => "Azure DevOps CSV",
        }
    }

    /// Whether the format is CSV (so [`columns`] and a [`ColumnMap`] apply).
    pub fn is_csv(self) -> bool {
        !matches!(self, Source::JiraXml | Source::GithubJson)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which CSV column (0-based, as in [`columns`]) feeds which story field.
///
/// The generic CSV needs one (from the mapping step, or [`guess_map`]); the
/// trackers' CSVs have fixed mappings and take one only as an override.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ColumnMap {
    /// The title column (required).
    pub title: usize,
    /// The key column.
    pub key: Option<usize>,
    /// The URL column.
    pub url: Option<usize>,
    /// The description column.
    pub description: Option<usize>,
    /// The estimate column.
    pub estimate: Option<usize>,
    /// The issue / work item type column.
    pub kind: Option<usize>,
}

/// What [`parse`] read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// The stories, in file order; at most [`MAX_STORIES`].
    pub stories: Vec<ImportedStory>,
    /// Rows or items that did not become a story, and why (at most 50 entries,
    /// then one that counts the rest). Includes one entry when the file had more
    /// than [`MAX_STORIES`] stories.
    pub skipped: Vec<Skipped>,
}

/// A row or item [`parse`] did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Where it is in the file.
    pub at: Place,
    /// Why it was not taken.
    pub reason: SkipReason,
}

/// A place in an imported file, as a person finds it in an editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A CSV row, by the line (1-based) it starts on.
    Line(usize),
    /// The n-th (1-based) issue of a JSON array or XML channel.
    Item(usize),
}

/// Why a row or item was not taken (the UI may translate by variant; `Display`
/// is English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// The title field is empty.
    EmptyTitle,
    /// A JSON array element that is not an object.
    NotAnIssue,
    /// Past [`MAX_STORIES`]: this and `more` further stories were left out.
    TooMany {
        /// Stories after this one that were also left out.
        more: usize,
    },
    /// After 50 skipped entries, the count of further skipped rows or items.
    AndMore {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Item(n) => write!(f, "item {n}"),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::EmptyTitle => f.write_str("the title is empty"),
            SkipReason::NotAnIssue => f.write_str("not an issue (expected an object)"),
            SkipReason::TooMany { more } => write!(
                f,
                "a room takes at most {MAX_STORIES} stories per import: this one and the {more} after it were left out (split the file)"
            ),
            SkipReason::AndMore { count } => write!(f, "{count} more were skipped"),
        }
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            SkipReason::AndMore { .. } => write!(f, "{}", self.reason),
            _ => write!(f, "{}: {}", self.at, self.reason),
        }
    }
}

/// Why a file could not be read at all. Messages say what was wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// Nothing in the file.
    #[error("the file is empty")]
    Empty,
    /// Over [`MAX_INPUT_BYTES`].
    #[error(
        "the file is {size} bytes; at most {max} bytes (2 MiB) can be imported: split it into smaller files"
    )]
    TooLarge {
        /// The file's size.
        size: usize,
        /// [`MAX_INPUT_BYTES`].
        max: usize,
    },
    /// Binary data (an image, a spreadsheet, a zip).
    #[error(
        "this is not a {} file: it holds binary data (a spreadsheet must be saved as CSV first)",
        .format.label()
    )]
    Binary {
        /// The format that was expected.
        format: Source,
    },
    /// No header row in a CSV.
    #[error(
        "the file has no header row: its first line must name the columns (e.g. Title,Key,Estimate)"
    )]
    NoHeader,
    /// Over [`MAX_COLUMNS`].
    #[error("the file has more than {max} columns")]
    TooManyColumns {
        /// [`MAX_COLUMNS`].
        max: usize,
    },
    /// An opening quote without its closing one.
    #[error("line {line}: a quoted field is never closed (a \" is missing)")]
    UnclosedQuote {
        /// The line the field starts on.
        line: usize,
    },
    /// A [`ColumnMap`] names a column the file does not have.
    #[error("the {field} column {} does not exist: the file has {count} columns", .column + 1)]
    NoSuchColumn {
        /// `title`, `key`, `url`, `description`, `estimate` or `type`.
        field: &'static str,
        /// The 0-based index that was asked for (the message says it 1-based).
        column: usize,
        /// How many columns the header has.
        count: usize,
    },
    /// A tracker's CSV without the column its title comes from.
    #[error("this is not a {} export: it has no {column} column", .format.label())]
    MissingColumn {
        /// The format that was expected.
        format: Source,
        /// The column it must have.
        column: &'static str,
    },
    /// Not well-formed XML, or not Jira's RSS document.
    #[error("this is not a Jira XML export: {reason}")]
    NotJiraXml {
        /// What is wrong, with the line where known.
        reason: String,
    },
    /// Not JSON, or not a list of issues.
    #[error("this is not a GitHub issues JSON export: {reason}")]
    NotGithubJson {
        /// What is wrong, with the line where known.
        reason: String,
    },
}

/// The header names of a CSV file (any delimiter, BOM stripped), for the mapping
/// step of the upload dialog; indexes are those a [`ColumnMap`] uses.
pub fn columns(bytes: &[u8]) -> Result<Vec<String>, ImportError> {
    let text = text::decode(bytes, Source::Csv)?;
    let mut records = table::Records::new(&text, MAX_COLUMNS + 1);
    let header = table::header(&mut records)?;
    Ok(header.into_iter().map(|h| clean::one_line(&h)).collect())
}

/// Reads the stories of a file in the given format.
///
/// `map` picks the columns of a CSV source: required in effect for [`Source::Csv`]
/// (without one, [`guess_map`] decides), an override for the trackers' CSVs, and
/// ignored for [`Source::JiraXml`] and [`Source::GithubJson`].
pub fn parse(source: Source, bytes: &[u8], map: Option<&ColumnMap>) -> Result<Parsed, ImportError> {
    let text = text::decode(bytes, source)?;
    match source {
        Source::Csv => csv_generic::parse(&text, map),
        Source::JiraCsv => jira_csv::parse(&text, map),
        Source::LinearCsv => linear_csv::parse(&text, map),
        Source::AzureCsv => azure_csv::parse(&text, map),
        Source::JiraXml => jira_xml::parse(&text),
        Source::GithubJson => github_json::parse(&text),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// Bytes that look like nothing: a fixed pseudo-random stream.
    fn garbage(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Runs `f` and fails if it takes far longer than a debug build needs (about
    /// 1 s on a busy machine): catches quadratic work on 2 MiB, not slowness.
    fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        let took = start.elapsed();
        assert!(took < Duration::from_secs(15), "{what} took {took:?}");
        out
    }

    #[test]
    fn names_round_trip() {
        for s in Source::ALL {
            assert_eq!(Source::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(Source::parse("CSV"), None);
        for s in Source::ALL {
            let json = serde_json::to_value(s).unwrap();
            assert_eq!(json, s.as_str(), "serde and as_str agree");
            assert_eq!(serde_json::from_value::<Source>(json).unwrap(), s);
        }
        for t in Target::ALL {
            let json = serde_json::to_value(t).unwrap();
            assert_eq!(json, t.as_str(), "serde and as_str agree");
            assert_eq!(serde_json::from_value::<Target>(json).unwrap(), t);
        }
        assert!(Source::Csv.is_csv() && !Source::JiraXml.is_csv() && !Source::GithubJson.is_csv());
    }

    #[test]
    fn binary_garbage_is_refused_by_every_reader() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
        let zip = b"PK\x03\x04\x14\0\x06\0\x08\0\0\0!\0";
        for bytes in [&png[..], &zip[..], &garbage(4096, 7), &garbage(100_000, 11)] {
            assert_eq!(detect(bytes), None);
            assert!(columns(bytes).is_err());
            for source in Source::ALL {
                assert_eq!(
                    parse(source, bytes, None),
                    Err(ImportError::Binary { format: source }),
                    "{source}"
                );
            }
        }
        assert_eq!(
            ImportError::Binary {
                format: Source::Csv
            }
            .to_string(),
            "this is not a CSV file: it holds binary data (a spreadsheet must be saved as CSV first)"
        );
    }

    #[test]
    fn files_over_two_mib_are_refused() {
        let big = format!("Title\n{}", "x,".repeat(MAX_INPUT_BYTES / 2));
        for source in Source::ALL {
            assert!(matches!(
                parse(source, big.as_bytes(), None),
                Err(ImportError::TooLarge { .. })
            ));
        }
        assert_eq!(detect(big.as_bytes()), None);
    }

    #[test]
    fn a_huge_line_and_a_million_rows_stay_fast() {
        let line = format!("Title,Key\n{},K-1\n", "word ".repeat(400_000));
        let parsed = quick("a 2 MB line", || parse(Source::Csv, line.as_bytes(), None)).unwrap();
        assert_eq!(
            parsed.stories[0].title.chars().count(),
            MAX_TITLE_CHARS - 1,
            "cut, then trimmed"
        );
        let rows = format!("Title\n{}", "x\n".repeat(MAX_INPUT_BYTES / 2 - 4));
        let parsed = quick("a million rows", || {
            parse(Source::Csv, rows.as_bytes(), None)
        })
        .unwrap();
        assert_eq!(parsed.stories.len(), MAX_STORIES);
        assert_eq!(
            parsed.skipped,
            [Skipped {
                at: Place::Line(MAX_STORIES + 2),
                reason: SkipReason::TooMany {
                    more: MAX_INPUT_BYTES / 2 - 4 - MAX_STORIES - 1
                }
            }]
        );
        let wide = "c,".repeat(MAX_INPUT_BYTES / 2 - 1);
        assert_eq!(
            quick("a million columns", || parse(
                Source::Csv,
                wide.as_bytes(),
                None
            )),
            Err(ImportError::TooManyColumns { max: MAX_COLUMNS })
        );
    }

    #[test]
    fn pathological_markup_stays_fast() {
        let amps = format!(
            "<rss><channel><item><summary>x</summary><description>{}</description></item></channel></rss>",
            "&amp;".repeat(300_000)
        );
        let parsed = quick("entities", || parse(Source::JiraXml, amps.as_bytes(), None)).unwrap();
        assert_eq!(parsed.stories.len(), 1);
        let html = format!("Title,Description\nx,\"{}\"\n", "&".repeat(1_500_000));
        let parsed = quick("ampersands", || {
            parse(Source::AzureCsv, html.as_bytes(), None)
        })
        .unwrap();
        assert_eq!(
            parsed.stories[0].description.as_ref().map(|d| d.len()),
            Some(MAX_DESCRIPTION_CHARS)
        );
        let decls = format!("{}<rss/>", "<!a>".repeat(400_000));
        assert_eq!(
            quick("declarations", || detect(decls.as_bytes())),
            Some(Source::JiraXml)
        );
        let tags = "<".repeat(MAX_INPUT_BYTES);
        quick("angle brackets", || {
            for source in Source::ALL {
                let _ = parse(source, tags.as_bytes(), None);
            }
        });
    }

    #[test]
    fn unbalanced_quotes_are_an_error_in_every_csv_reader() {
        for (source, header) in [
            (Source::Csv, "Title,Key"),
            (Source::JiraCsv, "Summary,Issue key"),
            (Source::LinearCsv, "ID,Team,Title"),
            (Source::AzureCsv, "ID,Work Item Type,Title"),
        ] {
            let text = format!("{header}\nok,1,2\n\"never, closed,1\nmore,2\n");
            let err = parse(source, text.as_bytes(), None).unwrap_err();
            assert_eq!(err, ImportError::UnclosedQuote { line: 3 }, "{source}");
            assert_eq!(
                err.to_string(),
                "line 3: a quoted field is never closed (a \" is missing)"
            );
        }
    }

    #[test]
    fn xml_entities_and_doctypes_expand_nothing() {
        let laughs = format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY a \"aaaaaaaaaa\">\n{}\n<!ENTITY % remote SYSTEM \"http://127.0.0.1:9/x.dtd\"> %remote;\n<!ENTITY file SYSTEM \"file:///etc/hostname\">\n]>\n<rss><channel><item><summary>[&l9;&file;]</summary><key>&a;K-1</key></item></channel></rss>",
            (1..10)
                .map(|n| format!(
                    "<!ENTITY l{n} \"{}\">",
                    format!("&l{};", n - 1).repeat(10).replace("&l0;", "&a;")
                ))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let parsed = quick("billion laughs", || {
            parse(Source::JiraXml, laughs.as_bytes(), None)
        })
        .unwrap();
        assert_eq!(parsed.stories[0].title, "[]");
        assert_eq!(parsed.stories[0].key.as_deref(), Some("K-1"));
        assert_eq!(detect(laughs.as_bytes()), Some(Source::JiraXml));
    }

    #[test]
    fn deeply_nested_json_and_xml_are_errors() {
        let json = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
        assert!(matches!(
            quick("deep json", || parse(
                Source::GithubJson,
                json.as_bytes(),
                None
            )),
            Err(ImportError::NotGithubJson { .. })
        ));
        let objects = format!("[{}1{}]", "{\"a\":".repeat(200), "}".repeat(200));
        assert!(matches!(
            parse(Source::GithubJson, objects.as_bytes(), None),
            Err(ImportError::NotGithubJson { .. })
        ));
        let xml = format!("<rss>{}", "<x>".repeat(600_000));
        assert!(matches!(
            quick("deep xml", || parse(Source::JiraXml, xml.as_bytes(), None)),
            Err(ImportError::NotJiraXml { .. })
        ));
    }

    #[test]
    fn columns_lists_the_header() {
        assert_eq!(
            columns(b"\xEF\xBB\xBF Title ;Story\tPoints;\"Key\"\r\n1;2;3").unwrap(),
            ["Title", "Story Points", "Key"]
        );
        assert_eq!(columns(b"\n\n  \n"), Err(ImportError::Empty));
        assert_eq!(
            columns(b"\"a\n"),
            Err(ImportError::UnclosedQuote { line: 1 })
        );
    }

    #[test]
    fn the_map_is_an_override_for_trackers_and_ignored_elsewhere() {
        let jira = b"Summary,Issue key,Other\nA,K-1,Z\n";
        let map = ColumnMap {
            title: 2,
            key: Some(1),
            ..ColumnMap::default()
        };
        assert_eq!(
            parse(Source::JiraCsv, jira, Some(&map)).unwrap().stories[0].title,
            "Z"
        );
        let json = br#"[{"title":"T"}]"#;
        assert_eq!(
            parse(Source::GithubJson, json, Some(&map)).unwrap().stories[0].title,
            "T"
        );
    }
}
