//! A room's history as a downloadable file: CSV, Markdown or JSON.
//!
//! Pure functions from the room's name and its completed rounds
//! ([`HistoryEntry`]) to a file body; the HTTP route only picks one and sets the
//! content type. Every number comes from the entry's [`Stats`](super::Stats), so a
//! file never disagrees with what the room showed.
//!
//! Names, topics and custom cards are typed by anyone holding the room link, so
//! every format treats them as hostile:
//! - [`csv`]: RFC 4180 quoting, and a text cell that a spreadsheet would run as a
//!   formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`.
//! - [`markdown`]: `|`, `\`, `<`, `>`, `&` and backticks are escaped and line breaks
//!   become spaces, so a name can neither break a table nor inject HTML.
//! - [`json`]: serde escapes strings; the shape is documented on [`json`].

use serde::Serialize;
use time::OffsetDateTime;

use super::{HistoryEntry, Timestamp};

/// Why an export could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// JSON serialisation failed (not expected for these plain types).
    #[error("could not write the history as JSON: {0}; try the CSV or Markdown export")]
    Json(#[from] serde_json::Error),
}

/// The CSV header row; one data row per vote follows.
pub const CSV_HEADER: [&str; 10] = [
    "round",
    "topic",
    "participant",
    "card",
    "final_estimate",
    "average",
    "median",
    "agreement",
    "revealed_at",
    "completed_at",
];

/// The history as CSV (RFC 4180: comma-separated, CRLF line ends, quoted when needed).
///
/// A header row ([`CSV_HEADER`]), then one row per vote, rounds in history order. A
/// round nobody voted in still gets one row with empty participant and card, so no
/// round disappears. `average` and `median` are numbers with at most two decimals,
/// `agreement` a percentage, times RFC 3339 in UTC with milliseconds
/// (`2026-11-30T12:00:00.000Z`, always three decimals); an absent value is an empty cell.
/// The room name is not a column: it is the file's name.
pub fn csv(history: &[HistoryEntry]) -> String {
    let mut out = String::new();
    push_csv_row(&mut out, CSV_HEADER.iter().map(|h| Cell::Ours(h)));
    for entry in history {
        let round = entry.round.to_string();
        let topic = entry.topic.as_deref().unwrap_or("");
        let estimate = entry.final_estimate.as_deref().unwrap_or("");
        let average = number(entry.stats.average);
        let median = number(entry.stats.median);
        let agreement = number(entry.stats.agreement);
        let revealed = rfc3339(entry.revealed_at);
        let completed = rfc3339(entry.completed_at);
        let mut row = |name: &str, card: &str| {
            push_csv_row(
                &mut out,
                [
                    Cell::Ours(&round),
                    Cell::Typed(topic),
                    Cell::Typed(name),
                    Cell::Typed(card),
                    Cell::Typed(estimate),
                    Cell::Ours(&average),
                    Cell::Ours(&median),
                    Cell::Ours(&agreement),
                    Cell::Ours(&revealed),
                    Cell::Ours(&completed),
                ],
            );
        };
        if entry.votes.is_empty() {
            row("", "");
        }
        for vote in &entry.votes {
            row(&vote.name, &vote.card);
        }
    }
    out
}

/// A CSV cell: text we produced (numbers, times) or text a person typed.
enum Cell<'a> {
    Ours(&'a str),
    Typed(&'a str),
}

fn push_csv_row<'a>(out: &mut String, cells: impl IntoIterator<Item = Cell<'a>>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let text = match cell {
            Cell::Ours(t) => std::borrow::Cow::Borrowed(t),
            Cell::Typed(t) => defuse_formula(t),
        };
        push_csv_field(out, &text);
    }
    out.push_str("\r\n");
}

/// Prefixes `'` to text a spreadsheet would evaluate as a formula (OWASP "CSV
/// injection"). Only typed text: our own numbers are never formulas. The tracker
/// exports (`crate::tracker`) guard their cells with it too.
pub(crate) fn defuse_formula(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// RFC 4180: a field with a comma, quote, CR or LF is quoted, quotes doubled.
pub(crate) fn push_csv_field(out: &mut String, text: &str) {
    if text.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// The history as Markdown: a title, then per round a heading, its summary and a
/// table of votes (`| Participant | Card |`).
pub fn markdown(room_name: Option<&str>, history: &[HistoryEntry]) -> String {
    let title = room_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map_or_else(|| "Planning poker".to_owned(), md);
    let mut out = format!("# {title} — estimation history\n\n");
    if history.is_empty() {
        out.push_str("No completed rounds yet.\n");
    }
    for entry in history {
        out.push_str(&format!("## Round {}", entry.round));
        if let Some(topic) = entry.topic.as_deref().filter(|t| !t.trim().is_empty()) {
            out.push_str(&format!(": {}", md(topic)));
        }
        out.push_str("\n\n");
        let estimate = entry.final_estimate.as_deref().map_or("—".to_owned(), md);
        let dash = |s: String| if s.is_empty() { "—".to_owned() } else { s };
        out.push_str(&format!("- Final estimate: {estimate}\n"));
        out.push_str(&format!(
            "- Average: {} · Median: {} · Agreement: {}\n",
            dash(number(entry.stats.average)),
            dash(number(entry.stats.median)),
            dash(percent(entry.stats.agreement)),
        ));
        out.push_str(&format!(
            "- Revealed: {} · Completed: {}\n\n",
            dash(rfc3339(entry.revealed_at)),
            dash(rfc3339(entry.completed_at)),
        ));
        if entry.votes.is_empty() {
            out.push_str("No votes.\n\n");
            continue;
        }
        out.push_str("| Participant | Card |\n| --- | --- |\n");
        for vote in &entry.votes {
            out.push_str(&format!("| {} | {} |\n", md(&vote.name), md(&vote.card)));
        }
        out.push('\n');
    }
    out
}

/// [`number`] followed by ` %`; empty when absent.
fn percent(v: Option<f64>) -> String {
    let n = number(v);
    if n.is_empty() { n } else { format!("{n} %") }
}

/// Escapes text for a Markdown table cell or heading: one line, no table breaks, no
/// raw HTML, no code spans.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push(' ');
            }
            '\n' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The history as pretty-printed JSON, in this shape (version 1):
///
/// ```json
/// {
///   "version": 1,
///   "room": { "name": "Sprint 42" },
///   "rounds": [{
///     "round": 1,
///     "topic": "Login page",
///     "deck": ["0", "1", "2", "3", "5", "8", "?", "☕"],
///     "votes": [{ "name": "Ada", "card": "5", "outlier": false }],
///     "final_estimate": "5",
///     "stats": {
///       "votes": 1, "numeric_votes": 1, "average": 5.0, "median": 5.0,
///       "min": 5.0, "max": 5.0, "mode": ["5"], "agreement": 100.0,
///       "distribution": [{ "card": "5", "count": 1 }]
///     },
///     "revealed_at": "2026-11-30T12:00:00.000Z",
///     "completed_at": "2026-11-30T12:01:00.000Z"
///   }]
/// }
/// ```
///
/// `room.name`, `topic`, `final_estimate` and the stats' numbers are `null` when
/// absent; `distribution` lists only cards that were played. Participant ids are
/// left out on purpose: the name is what a reader needs.
pub fn json(room_name: Option<&str>, history: &[HistoryEntry]) -> Result<String, ExportError> {
    let doc = JsonDoc {
        version: 1,
        room: JsonRoom { name: room_name },
        rounds: history.iter().map(JsonRound::from).collect(),
    };
    Ok(serde_json::to_string_pretty(&doc)?)
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    version: u32,
    room: JsonRoom<'a>,
    rounds: Vec<JsonRound<'a>>,
}

#[derive(Serialize)]
struct JsonRoom<'a> {
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRound<'a> {
    round: u32,
    topic: Option<&'a str>,
    deck: Vec<&'a str>,
    votes: Vec<JsonVote<'a>>,
    final_estimate: Option<&'a str>,
    stats: JsonStats<'a>,
    revealed_at: Option<String>,
    completed_at: Option<String>,
}

#[derive(Serialize)]
struct JsonVote<'a> {
    name: &'a str,
    card: &'a str,
    outlier: bool,
}

#[derive(Serialize)]
struct JsonStats<'a> {
    votes: usize,
    numeric_votes: usize,
    average: Option<f64>,
    median: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    mode: &'a [String],
    agreement: Option<f64>,
    distribution: Vec<JsonCount<'a>>,
}

#[derive(Serialize)]
struct JsonCount<'a> {
    card: &'a str,
    count: usize,
}

impl<'a> From<&'a HistoryEntry> for JsonRound<'a> {
    fn from(e: &'a HistoryEntry) -> Self {
        let s = &e.stats;
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        Self {
            round: e.round,
            topic: e.topic.as_deref(),
            deck: e.deck.cards().iter().map(|c| c.label.as_str()).collect(),
            votes: e
                .votes
                .iter()
                .map(|v| JsonVote {
                    name: &v.name,
                    card: &v.card,
                    outlier: s.outliers.contains(&v.participant),
                })
                .collect(),
            final_estimate: e.final_estimate.as_deref(),
            stats: JsonStats {
                votes: s.votes,
                numeric_votes: s.numeric_votes,
                average: finite(s.average),
                median: finite(s.median),
                min: finite(s.min),
                max: finite(s.max),
                mode: &s.mode,
                agreement: finite(s.agreement),
                distribution: s
                    .distribution
                    .iter()
                    .filter(|c| c.count > 0)
                    .map(|c| JsonCount {
                        card: &c.card,
                        count: c.count,
                    })
                    .collect(),
            },
            revealed_at: Some(rfc3339(e.revealed_at)).filter(|t| !t.is_empty()),
            completed_at: Some(rfc3339(e.completed_at)).filter(|t| !t.is_empty()),
        }
    }
}

/// A number with at most two decimals and no trailing zeros (`5`, `5.25`, `4.33`);
/// empty when absent or not finite.
fn number(v: Option<f64>) -> String {
    match v.filter(|v| v.is_finite()) {
        None => String::new(),
        Some(v) => {
            let s = format!("{v:.2}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            if s == "-0" {
                "0".to_owned()
            } else {
                s.to_owned()
            }
        }
    }
}

/// RFC 3339 in UTC with exactly three decimals (`2026-11-30T12:00:00.000Z`), so
/// every time of a file has the same width and sorts as text; empty when the time
/// is out of range.
fn rfc3339(t: Timestamp) -> String {
    let nanos = i128::from(t.0) * 1_000_000;
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|dt| dt.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::{Deck, HistoryVote, ParticipantId, stats};

    fn entry(round: u32, topic: Option<&str>, votes: &[(&str, &str)]) -> HistoryEntry {
        let deck = Deck::default();
        let votes: Vec<HistoryVote> = votes
            .iter()
            .enumerate()
            .map(|(i, (name, card))| HistoryVote {
                participant: ParticipantId::from(format!("p{i}")),
                name: (*name).to_owned(),
                card: (*card).to_owned(),
            })
            .collect();
        let stats = stats::compute(
            &deck,
            votes.iter().map(|v| (&v.participant, v.card.as_str())),
        );
        HistoryEntry {
            round,
            topic: topic.map(str::to_owned),
            story: None,
            deck,
            votes,
            final_estimate: Some("5".to_owned()),
            stats,
            revealed_at: Timestamp(1_764_504_000_000),
            completed_at: Timestamp(1_764_504_060_500),
        }
    }

    /// A minimal RFC 4180 reader, so tests check what a spreadsheet would read.
    fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        let mut row = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut field)),
                (false, '\r') => {
                    assert_eq!(chars.next(), Some('\n'), "bare CR outside quotes");
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, '\n') => panic!("bare LF outside quotes in {text:?}"),
                (false, c) => field.push(c),
            }
        }
        assert!(!quoted, "unterminated quote");
        assert!(field.is_empty() && row.is_empty(), "last row lacks CRLF");
        rows
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_vote() {
        let h = [
            entry(1, Some("Login"), &[("Ada", "3"), ("Bob", "5"), ("Cy", "?")]),
            entry(2, None, &[("Ada", "8")]),
        ];
        let rows = parse_csv(&csv(&h));
        assert_eq!(rows[0], CSV_HEADER);
        assert_eq!(rows.len(), 1 + 3 + 1);
        assert_eq!(
            rows[1],
            [
                "1",
                "Login",
                "Ada",
                "3",
                "5",
                "4",
                "4",
                "50",
                "2025-11-30T12:00:00.000Z",
                "2025-11-30T12:01:00.500Z"
            ]
        );
        assert_eq!(rows[3][2..4], ["Cy", "?"]);
        assert_eq!(rows[4][..4], ["2", "", "Ada", "8"]);
    }

    #[test]
    fn csv_keeps_a_round_without_votes() {
        let rows = parse_csv(&csv(&[entry(1, Some("Empty"), &[])]));
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][..5], ["1", "Empty", "", "", "5"]);
        assert_eq!(rows[1][5], "", "no average without votes");
    }

    #[test]
    fn csv_quotes_hostile_names_and_round_trips_them() {
        let name = "Smith, \"The Hammer\"\r\nJr.";
        let text = csv(&[entry(1, Some("a,b"), &[(name, "5")])]);
        let rows = parse_csv(&text);
        assert_eq!(rows.len(), 2, "{text}");
        assert_eq!(rows[1][1], "a,b");
        assert_eq!(rows[1][2], name);
    }

    #[test]
    fn csv_neutralises_formulas_in_typed_text() {
        for hostile in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            let rows = parse_csv(&csv(&[entry(1, Some(hostile), &[(hostile, "5")])]));
            assert_eq!(rows[1][1], format!("'{hostile}"), "topic {hostile:?}");
            assert_eq!(rows[1][2], format!("'{hostile}"), "name {hostile:?}");
        }
        let rows = parse_csv(&csv(&[entry(1, Some("a=b"), &[("Ada", "5")])]));
        assert_eq!(rows[1][1], "a=b", "only a leading sign is dangerous");
    }

    #[test]
    fn times_always_have_three_decimals_in_utc() {
        for (ms, text) in [
            (1_764_504_000_000, "2025-11-30T12:00:00.000Z"),
            (1_764_504_000_500, "2025-11-30T12:00:00.500Z"),
            (1_764_504_000_050, "2025-11-30T12:00:00.050Z"),
            (1_764_504_000_007, "2025-11-30T12:00:00.007Z"),
            (1_764_504_000_123, "2025-11-30T12:00:00.123Z"),
            (0, "1970-01-01T00:00:00.000Z"),
        ] {
            assert_eq!(rfc3339(Timestamp(ms)), text);
        }
        assert_eq!(rfc3339(Timestamp(u64::MAX)), "", "out of range");
        // Every time cell of a CSV has the same width.
        let mut e = entry(1, None, &[("Ada", "3")]);
        e.revealed_at = Timestamp(1_764_504_000_000);
        e.completed_at = Timestamp(1_764_504_060_020);
        let rows = parse_csv(&csv(&[e]));
        assert_eq!(rows[1][8], "2025-11-30T12:00:00.000Z");
        assert_eq!(rows[1][9], "2025-11-30T12:01:00.020Z");
    }

    #[test]
    fn numbers_have_at_most_two_decimals() {
        assert_eq!(number(Some(4.0)), "4");
        assert_eq!(number(Some(5.25)), "5.25");
        assert_eq!(number(Some(13.0 / 3.0)), "4.33");
        assert_eq!(number(Some(0.5)), "0.5");
        assert_eq!(number(Some(66.666_666)), "66.67");
        assert_eq!(number(Some(100.0)), "100");
        assert_eq!(number(Some(0.0)), "0");
        assert_eq!(number(None), "");
        assert_eq!(number(Some(f64::NAN)), "");
    }

    #[test]
    fn markdown_has_a_title_and_a_table_per_round() {
        let h = [
            entry(1, Some("Login"), &[("Ada", "3"), ("Bob", "5")]),
            entry(2, Some("Logout"), &[("Ada", "8")]),
        ];
        let text = markdown(Some("Sprint 42"), &h);
        assert!(
            text.starts_with("# Sprint 42 — estimation history\n"),
            "{text}"
        );
        assert!(text.contains("## Round 1: Login\n"), "{text}");
        assert!(text.contains("## Round 2: Logout\n"), "{text}");
        assert_eq!(text.matches("| Participant | Card |").count(), 2);
        assert!(text.contains("| Ada | 3 |\n| Bob | 5 |\n"), "{text}");
        assert!(text.contains("- Final estimate: 5\n"), "{text}");
        assert!(
            text.contains("Average: 4 · Median: 4 · Agreement: 50 %"),
            "{text}"
        );
    }

    #[test]
    fn markdown_without_a_name_or_rounds() {
        let text = markdown(None, &[]);
        assert!(text.starts_with("# Planning poker — estimation history"));
        assert!(text.contains("No completed rounds yet."));
        let text = markdown(Some("  "), &[entry(1, None, &[])]);
        assert!(text.contains("## Round 1\n"), "{text}");
        assert!(text.contains("No votes."), "{text}");
    }

    #[test]
    fn markdown_escapes_hostile_names() {
        let hostile = "a|b\nc\r\nd<script>`x`\\";
        let text = markdown(Some(hostile), &[entry(1, Some(hostile), &[(hostile, "5")])]);
        let escaped = "a\\|b c d&lt;script&gt;\\`x\\`\\\\";
        assert!(text.starts_with(&format!("# {escaped} — ")), "{text}");
        assert!(text.contains(&format!("## Round 1: {escaped}\n")), "{text}");
        let row = format!("| {escaped} | 5 |\n");
        assert!(text.contains(&row), "{text}");
        assert!(!text.contains("<script>"));
        // Every table row still has exactly two cells (three unescaped pipes).
        for line in text.lines().filter(|l| l.starts_with('|')) {
            let unescaped = line.replace("\\\\", "").replace("\\|", "");
            assert_eq!(unescaped.matches('|').count(), 3, "{line}");
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let h = [entry(
            3,
            Some("Login"),
            &[("Ada", "3"), ("Bob", "5"), ("Cy", "?")],
        )];
        let text = json(Some("Sprint \"42\""), &h).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["room"]["name"], "Sprint \"42\"");
        let r = &v["rounds"][0];
        assert_eq!(r["round"], 3);
        assert_eq!(r["topic"], "Login");
        assert_eq!(r["final_estimate"], "5");
        assert_eq!(r["deck"][0], "0");
        assert_eq!(
            r["votes"],
            serde_json::json!([
                {"name": "Ada", "card": "3", "outlier": false},
                {"name": "Bob", "card": "5", "outlier": false},
                {"name": "Cy", "card": "?", "outlier": false},
            ])
        );
        assert_eq!(r["stats"]["average"], 4.0);
        assert_eq!(r["stats"]["median"], 4.0);
        assert_eq!(r["stats"]["agreement"], 50.0);
        assert_eq!(r["stats"]["votes"], 3);
        assert_eq!(r["stats"]["numeric_votes"], 2);
        assert_eq!(
            r["stats"]["distribution"],
            serde_json::json!([{"card": "3", "count": 1}, {"card": "5", "count": 1}, {"card": "?", "count": 1}])
        );
        assert_eq!(r["revealed_at"], "2025-11-30T12:00:00.000Z");
        assert_eq!(r["completed_at"], "2025-11-30T12:01:00.500Z");
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 8, "{keys:?}");
        assert!(r.get("participant").is_none() && r["votes"][0].get("participant").is_none());
    }

    #[test]
    fn json_absent_values_are_null_and_hostile_text_round_trips() {
        let hostile = "</script>\"\\\n\u{0}";
        let mut e = entry(1, None, &[(hostile, "?")]);
        e.final_estimate = None;
        let v: serde_json::Value = serde_json::from_str(&json(None, &[e]).unwrap()).unwrap();
        assert!(v["room"]["name"].is_null());
        let r = &v["rounds"][0];
        assert!(r["topic"].is_null() && r["final_estimate"].is_null());
        assert!(r["stats"]["average"].is_null() && r["stats"]["agreement"].is_null());
        assert_eq!(r["votes"][0]["name"], hostile);
    }

    #[test]
    fn json_marks_outliers() {
        let e = entry(1, None, &[("A", "1"), ("B", "2"), ("C", "2"), ("D", "21")]);
        assert_eq!(e.stats.outliers, [ParticipantId::from("p3")]);
        let v: serde_json::Value = serde_json::from_str(&json(None, &[e]).unwrap()).unwrap();
        assert_eq!(v["rounds"][0]["votes"][3]["outlier"], true);
        assert_eq!(v["rounds"][0]["votes"][0]["outlier"], false);
    }
}
