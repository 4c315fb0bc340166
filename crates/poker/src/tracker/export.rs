//! Estimates back out: for each tracker, a file that tracker takes back to set
//! the estimates of the issues the stories came from (what each file is: [`export`]).
//!
//! The trackers' files only list stories they can take: with a key of the
//! tracker's shape and, where the field is a number, a numeric estimate (`½` is
//! written `0.5`); the others are in [`Exported::left_out`]. Every CSV cell a
//! person typed is guarded against spreadsheet formulas (a leading `'`, as the
//! room's history CSV does), and the importers remove that guard again. Scripts
//! quote every value for the shell and put titles only in comments.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{EstimatedStory, Source, clean};
use crate::room::deck::numeric_value;
use crate::room::export::push_csv_field;

/// What [`export`] writes (serde uses the [`as_str`](Self::as_str) names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// `Key,Title,URL,Estimate`: every story, for any tool.
    Csv,
    /// `Issue key,Summary,Story Points`, for Jira's CSV import.
    JiraCsv,
    /// `[{number,title,url,estimate}]`: every story.
    GithubJson,
    /// A shell script adding `estimate: N` labels with the GitHub CLI.
    #[serde(rename = "github-sh")]
    GithubScript,
    /// `ID,Title,Estimate` of Linear issues.
    LinearCsv,
    /// A shell script setting Linear estimates through Linear's API.
    #[serde(rename = "linear-sh")]
    LinearScript,
    /// `ID,Work Item Type,Title,<estimate field>`, for Azure Boards' CSV import.
    AzureCsv,
}

impl Target {
    /// Every target, in the order the room lists download links.
    pub const ALL: [Target; 7] = [
        Target::Csv,
        Target::JiraCsv,
        Target::GithubJson,
        Target::GithubScript,
        Target::LinearCsv,
        Target::LinearScript,
        Target::AzureCsv,
    ];

    /// The name used in URLs: `csv`, `jira-csv`, `github-json`, `github-sh`,
    /// `linear-csv`, `linear-sh`, `azure-csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Csv => "csv",
            Target::JiraCsv => "jira-csv",
            Target::GithubJson => "github-json",
            Target::GithubScript => "github-sh",
            Target::LinearCsv => "linear-csv",
            Target::LinearScript => "linear-sh",
            Target::AzureCsv => "azure-csv",
        }
    }

    /// The target named by [`as_str`](Self::as_str); `None` for anything else.
    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The file that goes back where stories of `source` came from. Jira's XML
    /// cannot be imported into Jira, so its stories go back as Jira CSV.
    pub fn for_source(source: Source) -> Target {
        match source {
            Source::Csv => Target::Csv,
            Source::JiraCsv | Source::JiraXml => Target::JiraCsv,
            Source::GithubJson => Target::GithubJson,
            Source::LinearCsv => Target::LinearCsv,
            Source::AzureCsv => Target::AzureCsv,
        }
    }

    /// The importer that reads this target's file back (scripts have none).
    pub fn reimport_source(self) -> Option<Source> {
        match self {
            Target::Csv => Some(Source::Csv),
            Target::JiraCsv => Some(Source::JiraCsv),
            Target::GithubJson => Some(Source::GithubJson),
            Target::LinearCsv => Some(Source::LinearCsv),
            Target::AzureCsv => Some(Source::AzureCsv),
            Target::GithubScript | Target::LinearScript => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The HTTP content type (`text/csv; charset=utf-8`, …).
    pub content_type: &'static str,
    /// The file name extension, without the dot (`csv`, `json`, `sh`).
    pub extension: &'static str,
    /// The file: UTF-8, CSV with CRLF line ends, scripts with LF.
    pub body: Vec<u8>,
    /// Stories the file does not list, and why (by index into the input).
    pub left_out: Vec<LeftOut>,
}

/// A story an export could not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// Its index in the stories given to [`export`].
    pub index: usize,
    /// Why.
    pub reason: LeftOutReason,
}

/// Why a story is not in a tracker's file (the UI may translate by variant;
/// `Display` is English).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOutReason {
    /// No key: nothing in the tracker to update.
    NoKey,
    /// A key that is not the tracker's shape (`SHOP-12` for Jira and Linear, a
    /// number for Azure DevOps, an issue number or link for GitHub).
    BadKey,
    /// Not estimated.
    NoEstimate,
    /// The tracker's estimate field takes numbers and this estimate is not one.
    NotANumber,
    /// Linear estimates are whole numbers.
    NotAWholeNumber,
    /// Azure DevOps needs the work item type to update an item.
    NoKind,
}

impl fmt::Display for LeftOutReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LeftOutReason::NoKey => "it has no key, so there is no issue to update",
            LeftOutReason::BadKey => "its key is not one of this tracker's",
            LeftOutReason::NoEstimate => "it has no estimate",
            LeftOutReason::NotANumber => {
                "its estimate is not a number, and this tracker takes numbers only"
            }
            LeftOutReason::NotAWholeNumber => {
                "its estimate is not a whole number, and Linear takes whole numbers only"
            }
            LeftOutReason::NoKind => "its work item type is unknown, and Azure DevOps needs it",
        })
    }
}

const CSV: &str = "text/csv; charset=utf-8";
const SH: &str = "text/x-shellscript; charset=utf-8";

/// Writes the stories' estimates in the target's format:
///
/// | Target | File | What the user does with it |
/// |---|---|---|
/// | `csv` | `Key,Title,URL,Estimate`, every story | a record; any spreadsheet |
/// | `jira-csv` | `Issue key,Summary,Story Points` | Jira's CSV import (External System Import), mapping Issue key → Issue key and Story Points → the story points field: issues with that key are updated |
/// | `github-json` | `[{number,title,url,estimate}]`, every story | scripts; [`parse`](super::parse) reads it back |
/// | `github-sh` | a shell script of `gh issue edit … --add-label "estimate: 5"` | run it with the GitHub CLI signed in |
/// | `linear-csv` | `ID,Title,Estimate` | a record, or bulk tools (Linear's CSV import creates issues, it does not update them) |
/// | `linear-sh` | a shell script calling Linear's API `issueUpdate` | run it with `LINEAR_API_KEY` set |
/// | `azure-csv` | `ID,Work Item Type,Title,Story Points` (or `Effort`, `Size`) | Boards → Queries → Import work items: rows with an ID update that work item |
///
/// The trackers' files list only the stories they can take (see
/// [`Exported::left_out`]); `csv` and `github-json` list every story.
pub fn export(target: Target, stories: &[EstimatedStory]) -> Exported {
    let mut left_out = Vec::new();
    let (content_type, extension, body) = match target {
        Target::Csv => (CSV, "csv", generic_csv(stories)),
        Target::JiraCsv => (CSV, "csv", jira_csv(stories, &mut left_out)),
        Target::GithubJson => ("application/json", "json", github_json(stories)),
        Target::GithubScript => (SH, "sh", github_script(stories, &mut left_out)),
        Target::LinearCsv => (CSV, "csv", linear_csv(stories, &mut left_out)),
        Target::LinearScript => (SH, "sh", linear_script(stories, &mut left_out)),
        Target::AzureCsv => (CSV, "csv", azure_csv(stories, &mut left_out)),
    };
    Exported {
        content_type,
        extension,
        body: body.into_bytes(),
        left_out,
    }
}

/// Appends one CSV row (CRLF); typed cells are guarded against formulas.
fn row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, &clean::guard(cell));
    }
    out.push_str("\r\n");
}

/// The story's estimate as the room holds it, cleaned; `None` when absent.
fn estimate_text(story: &EstimatedStory) -> Option<String> {
    story.estimate.as_deref().and_then(clean::estimate)
}

/// A number as trackers write it: `5`, `0.5`, `2.25`.
fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The story's estimate as a number, or why it has none.
fn numeric_estimate(story: &EstimatedStory) -> Result<(f64, String), LeftOutReason> {
    let text = estimate_text(story).ok_or(LeftOutReason::NoEstimate)?;
    let v = numeric_value(&text).ok_or(LeftOutReason::NotANumber)?;
    Ok((v, number_text(v)))
}

/// A Jira or Linear key: letters, digits or `_` starting with a letter, `-`, digits.
fn project_key(story: &EstimatedStory) -> Result<String, LeftOutReason> {
    let key = story
        .key
        .as_deref()
        .and_then(clean::key)
        .ok_or(LeftOutReason::NoKey)?;
    let ok = key.rsplit_once('-').is_some_and(|(project, n)| {
        project.starts_with(|c: char| c.is_ascii_alphabetic())
            && project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
    });
    if ok {
        Ok(key)
    } else {
        Err(LeftOutReason::BadKey)
    }
}

/// Applies `check` to each story: the rows of those that pass, the reasons of
/// the others.
fn each<T>(
    stories: &[EstimatedStory],
    left_out: &mut Vec<LeftOut>,
    check: impl Fn(&EstimatedStory) -> Result<T, LeftOutReason>,
) -> Vec<(usize, T)> {
    let mut rows = Vec::new();
    for (index, story) in stories.iter().enumerate() {
        match check(story) {
            Ok(v) => rows.push((index, v)),
            Err(reason) => left_out.push(LeftOut { index, reason }),
        }
    }
    rows
}

fn generic_csv(stories: &[EstimatedStory]) -> String {
    let mut out = String::new();
    row(&mut out, &["Key", "Title", "URL", "Estimate"]);
    for s in stories {
        row(
            &mut out,
            &[
                &s.key.as_deref().and_then(clean::key).unwrap_or_default(),
                &clean::one_line(&s.title),
                &s.url.as_deref().and_then(clean::url).unwrap_or_default(),
                &estimate_text(s).unwrap_or_default(),
            ],
        );
    }
    out
}

/// Jira's and Linear's update files: the key, the title for people, the points.
fn key_title_points(
    header: [&str; 3],
    stories: &[EstimatedStory],
    left_out: &mut Vec<LeftOut>,
) -> String {
    let mut out = String::new();
    row(&mut out, &header);
    for (_, (key, title, points)) in each(stories, left_out, |s| {
        let key = project_key(s)?;
        let (_, points) = numeric_estimate(s)?;
        Ok((key, clean::one_line(&s.title), points))
    }) {
        row(&mut out, &[&key, &title, &points]);
    }
    out
}

fn jira_csv(stories: &[EstimatedStory], left_out: &mut Vec<LeftOut>) -> String {
    key_title_points(["Issue key", "Summary", "Story Points"], stories, left_out)
}

fn linear_csv(stories: &[EstimatedStory], left_out: &mut Vec<LeftOut>) -> String {
    key_title_points(["ID", "Title", "Estimate"], stories, left_out)
}

/// Azure's estimate field depends on the project's process, which the work item
/// types give away: User Story (Agile) → Story Points, Product Backlog Item
/// (Scrum) and Issue (Basic) → Effort, Requirement (CMMI) → Size.
fn azure_estimate_field<'a>(kinds: impl IntoIterator<Item = &'a str>) -> &'static str {
    kinds
        .into_iter()
        .find_map(|k| match k.to_lowercase().as_str() {
            "user story" => Some("Story Points"),
            "product backlog item" | "issue" => Some("Effort"),
            "requirement" => Some("Size"),
            _ => None,
        })
        .unwrap_or("Story Points")
}

fn azure_csv(stories: &[EstimatedStory], left_out: &mut Vec<LeftOut>) -> String {
    let rows = each(stories, left_out, |s| {
        let key = s
            .key
            .as_deref()
            .and_then(clean::key)
            .ok_or(LeftOutReason::NoKey)?;
        if key.len() > 10 || !key.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LeftOutReason::BadKey);
        }
        let kind = s
            .kind
            .as_deref()
            .and_then(clean::kind)
            .ok_or(LeftOutReason::NoKind)?;
        let (_, points) = numeric_estimate(s)?;
        Ok((key, kind, clean::one_line(&s.title), points))
    });
    let field = azure_estimate_field(rows.iter().map(|(_, (_, kind, _, _))| kind.as_str()));
    let mut out = String::new();
    row(&mut out, &["ID", "Work Item Type", "Title", field]);
    for (_, (key, kind, title, points)) in &rows {
        row(&mut out, &[key, kind, title, points]);
    }
    out
}

/// A GitHub issue: its number, and its repository when a link gives it
/// (`owner/repo`, or `host/owner/repo` for GitHub Enterprise).
struct GithubIssue {
    number: u64,
    repo: Option<String>,
    url: Option<String>,
}

fn github_issue(story: &EstimatedStory) -> Result<GithubIssue, LeftOutReason> {
    if let Some(issue) = story.url.as_deref().and_then(github_url) {
        return Ok(issue);
    }
    let key = story.key.as_deref().map(str::trim).unwrap_or("");
    if key.is_empty() {
        return Err(LeftOutReason::NoKey);
    }
    let digits = key.strip_prefix('#').unwrap_or(key);
    match digits.parse::<u64>() {
        Ok(number) if digits.bytes().all(|b| b.is_ascii_digit()) => Ok(GithubIssue {
            number,
            repo: None,
            url: None,
        }),
        _ => Err(LeftOutReason::BadKey),
    }
}

/// `https://HOST/OWNER/REPO/issues/N` (or `/pull/N`), every part checked to be
/// plain characters so it is safe anywhere in a script.
fn github_url(url: &str) -> Option<GithubIssue> {
    let url = clean::url(url)?;
    let rest = url.split_once("://")?.1;
    let parts: Vec<&str> = rest.split('/').collect();
    let [host, owner, repo, kind, number] = parts.as_slice() else {
        return None;
    };
    let plain = |s: &str, extra: &[u8]| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    let number: u64 = number.parse().ok()?;
    let ok = plain(host, b".-:")
        && plain(owner, b"-_.")
        && plain(repo, b"-_.")
        && matches!(*kind, "issues" | "pull");
    ok.then(|| GithubIssue {
        number,
        repo: Some(if host.eq_ignore_ascii_case("github.com") {
            format!("{owner}/{repo}")
        } else {
            format!("{host}/{owner}/{repo}")
        }),
        url: Some(format!("https://{host}/{owner}/{repo}/{kind}/{number}")),
    })
}

fn github_json(stories: &[EstimatedStory]) -> String {
    let issues: Vec<_> = stories
        .iter()
        .map(|s| {
            let issue = github_issue(s).ok();
            json!({
                "number": issue.as_ref().map(|i| i.number),
                "title": clean::one_line(&s.title),
                "url": s.url.as_deref().and_then(clean::url),
                "estimate": estimate_text(s),
            })
        })
        .collect();
    format!("{:#}\n", serde_json::Value::Array(issues))
}

/// Single quotes for the shell: everything inside is literal.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A title for a script comment: one line, so it cannot end the comment.
fn comment(title: &str) -> String {
    clean::one_line(title)
}

fn github_script(stories: &[EstimatedStory], left_out: &mut Vec<LeftOut>) -> String {
    let rows = each(stories, left_out, |s| {
        let issue = github_issue(s)?;
        let estimate = estimate_text(s).ok_or(LeftOutReason::NoEstimate)?;
        // gh splits --add-label values at commas.
        let value =
            numeric_value(&estimate).map_or_else(|| estimate.replace(',', "."), number_text);
        Ok((issue, format!("estimate: {value}"), comment(&s.title)))
    });
    let mut out = String::from(
        "#!/bin/sh\n\
         # Planning poker estimates for GitHub issues, as labels \"estimate: N\".\n\
         #\n\
         # Run it once with the GitHub CLI (https://cli.github.com) signed in (gh auth login).\n\
         # Issues given by number only are those of the repository in the current directory.\n\
         # It creates the labels it needs, then adds one to each issue. An older\n\
         # \"estimate: ...\" label of an issue stays: remove it in GitHub if the estimate changed.\n\
         set -eu\n\
         command -v gh >/dev/null 2>&1 || { echo 'This script needs the GitHub CLI (gh): https://cli.github.com' >&2; exit 1; }\n\
         failed=0\n\
         estimate() {\n\
         \x20 if gh issue edit \"$1\" --add-label \"$2\" >/dev/null; then\n\
         \x20   echo \"$1: $2\"\n\
         \x20 else\n\
         \x20   echo \"$1: not updated\" >&2\n\
         \x20   failed=1\n\
         \x20 fi\n\
         }\n",
    );
    let mut labels: Vec<(Option<&str>, &str)> = Vec::new();
    for (_, (issue, label, _)) in &rows {
        let pair = (issue.repo.as_deref(), label.as_str());
        if !labels.contains(&pair) {
            labels.push(pair);
        }
    }
    if !labels.is_empty() {
        out.push_str("\n# The labels (one that exists already is left as it is).\n");
    }
    for (repo, label) in labels {
        let repo = repo.map_or(String::new(), |r| format!(" --repo {}", sh_quote(r)));
        out.push_str(&format!(
            "gh label create {}{repo} --color C5DEF5 --description 'Planning poker estimate' >/dev/null 2>&1 || true\n",
            sh_quote(label)
        ));
    }
    if !rows.is_empty() {
        out.push_str("\n# The estimates.\n");
    }
    for (_, (issue, label, title)) in &rows {
        let target = issue
            .url
            .clone()
            .unwrap_or_else(|| issue.number.to_string());
        out.push_str(&format!(
            "estimate {} {} # {title}\n",
            sh_quote(&target),
            sh_quote(label)
        ));
    }
    out.push_str("exit \"$failed\"\n");
    out
}

fn linear_script(stories: &[EstimatedStory], left_out: &mut Vec<LeftOut>) -> String {
    let rows = each(stories, left_out, |s| {
        let key = project_key(s)?;
        let (v, points) = numeric_estimate(s)?;
        if v.fract() != 0.0 || v > f64::from(i32::MAX) {
            return Err(LeftOutReason::NotAWholeNumber);
        }
        Ok((key, points, comment(&s.title)))
    });
    let mut out = String::from(
        "#!/bin/sh\n\
         # Planning poker estimates for Linear issues, set through Linear's API.\n\
         #\n\
         # Linear's CSV import creates issues rather than updating them, so this script\n\
         # sets each estimate with the API. It needs curl and a personal API key\n\
         # (Linear: Settings > Security & access > Personal API keys):\n\
         #   LINEAR_API_KEY=lin_api_... sh this-file.sh\n\
         # Estimates must be on the team's estimate scale.\n\
         set -eu\n\
         : \"${LINEAR_API_KEY:?Set LINEAR_API_KEY to a Linear personal API key}\"\n\
         command -v curl >/dev/null 2>&1 || { echo 'This script needs curl' >&2; exit 1; }\n\
         failed=0\n\
         estimate() {\n\
         \x20 body=$(printf '{\"query\":\"mutation { issueUpdate(id: \\\\\"%s\\\\\", input: { estimate: %s }) { success } }\"}' \"$1\" \"$2\")\n\
         \x20 if curl -sS https://api.linear.app/graphql -H 'Content-Type: application/json' \\\n\
         \x20     -H \"Authorization: $LINEAR_API_KEY\" --data \"$body\" | grep -q '\"success\":true'; then\n\
         \x20   echo \"$1: $2\"\n\
         \x20 else\n\
         \x20   echo \"$1: not updated\" >&2\n\
         \x20   failed=1\n\
         \x20 fi\n\
         }\n\n",
    );
    for (_, (key, points, title)) in &rows {
        out.push_str(&format!("estimate {} {points} # {title}\n", sh_quote(key)));
    }
    out.push_str("exit \"$failed\"\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story(key: Option<&str>, title: &str, estimate: Option<&str>) -> EstimatedStory {
        EstimatedStory {
            key: key.map(Into::into),
            title: title.into(),
            url: None,
            estimate: estimate.map(Into::into),
            kind: None,
        }
    }

    fn text(e: &Exported) -> &str {
        std::str::from_utf8(&e.body).unwrap()
    }

    #[test]
    fn names_round_trip() {
        for t in Target::ALL {
            assert_eq!(Target::parse(t.as_str()), Some(t));
        }
        assert_eq!(Target::parse("jira-xml"), None);
        assert_eq!(Target::for_source(Source::JiraXml), Target::JiraCsv);
        for s in Source::ALL {
            assert_eq!(
                Target::for_source(s)
                    .reimport_source()
                    .map(Target::for_source),
                Some(Target::for_source(s))
            );
        }
    }

    #[test]
    fn generic_csv_lists_every_story_and_guards_formulas() {
        let e = export(
            Target::Csv,
            &[
                story(Some("A-1"), "=HYPERLINK(\"x\")", Some("5")),
                story(None, "Line\nbreak, comma", None),
            ],
        );
        assert_eq!((e.content_type, e.extension), (CSV, "csv"));
        assert_eq!(
            text(&e),
            "Key,Title,URL,Estimate\r\nA-1,\"'=HYPERLINK(\"\"x\"\")\",,5\r\n,\"Line break, comma\",,\r\n"
        );
        assert_eq!(e.left_out, []);
    }

    #[test]
    fn jira_takes_keyed_numeric_estimates() {
        let e = export(
            Target::JiraCsv,
            &[
                story(Some("SHOP-1"), "Pay", Some("½")),
                story(Some("SHOP-2"), "Ship", Some("?")),
                story(None, "Loose", Some("3")),
                story(Some("#4"), "GitHub", Some("3")),
                story(Some("SHOP-5"), "Later", None),
                story(Some("shop_x-6"), "Lower case", Some("0,5")),
            ],
        );
        assert_eq!(
            text(&e),
            "Issue key,Summary,Story Points\r\nSHOP-1,Pay,0.5\r\nshop_x-6,Lower case,0.5\r\n"
        );
        let reasons: Vec<_> = e.left_out.iter().map(|l| (l.index, l.reason)).collect();
        assert_eq!(
            reasons,
            [
                (1, LeftOutReason::NotANumber),
                (2, LeftOutReason::NoKey),
                (3, LeftOutReason::BadKey),
                (4, LeftOutReason::NoEstimate),
            ]
        );
    }

    #[test]
    fn azure_names_the_field_of_the_process() {
        let mut pbi = story(Some("42"), "Pay", Some("8"));
        pbi.kind = Some("Product Backlog Item".into());
        let e = export(
            Target::AzureCsv,
            &[pbi.clone(), story(Some("43"), "No type", Some("1"))],
        );
        assert_eq!(
            text(&e),
            "ID,Work Item Type,Title,Effort\r\n42,Product Backlog Item,Pay,8\r\n"
        );
        assert_eq!(e.left_out[0].reason, LeftOutReason::NoKind);
        pbi.kind = Some("User Story".into());
        assert!(
            text(&export(Target::AzureCsv, &[pbi.clone()]))
                .starts_with("ID,Work Item Type,Title,Story Points\r\n")
        );
        pbi.kind = Some("Requirement".into());
        assert!(text(&export(Target::AzureCsv, &[pbi.clone()])).contains(",Size\r\n"));
        pbi.key = Some("AB-1".into());
        assert_eq!(
            export(Target::AzureCsv, &[pbi]).left_out[0].reason,
            LeftOutReason::BadKey
        );
    }

    #[test]
    fn github_json_lists_every_story() {
        let mut s = story(Some("#12"), "Dark mode", Some("5"));
        s.url = Some("https://github.com/o/r/issues/12".into());
        let e = export(Target::GithubJson, &[s, story(None, "Loose", None)]);
        assert_eq!((e.content_type, e.extension), ("application/json", "json"));
        let v: serde_json::Value = serde_json::from_slice(&e.body).unwrap();
        assert_eq!(
            v,
            json!([
                {"number": 12, "title": "Dark mode", "url": "https://github.com/o/r/issues/12", "estimate": "5"},
                {"number": null, "title": "Loose", "url": null, "estimate": null},
            ])
        );
    }

    #[test]
    fn github_script_quotes_everything() {
        let mut linked = story(Some("#12"), "Dark mode", Some("5"));
        linked.url = Some("https://github.com/o/r.js/issues/12".into());
        let hostile = story(
            Some("#13"),
            "x\n rm -rf / # $(reboot) `id`",
            Some("it's;$(id)"),
        );
        let e = export(
            Target::GithubScript,
            &[
                linked,
                hostile,
                story(Some("13a"), "Bad", Some("1")),
                story(Some("#14"), "French", Some("0,5")),
            ],
        );
        let body = text(&e);
        assert!(body.starts_with("#!/bin/sh\n"), "{body}");
        assert!(
            body.contains("gh label create 'estimate: 5' --repo 'o/r.js' --color"),
            "{body}"
        );
        assert!(
            body.contains(
                "\nestimate 'https://github.com/o/r.js/issues/12' 'estimate: 5' # Dark mode\n"
            ),
            "{body}"
        );
        assert!(
            body.contains(
                "\nestimate '13' 'estimate: it'\\''s;$(id)' # x rm -rf / # $(reboot) `id`\n"
            ),
            "{body}"
        );
        assert!(body.ends_with("exit \"$failed\"\n"));
        assert!(
            body.contains("\nestimate '14' 'estimate: 0.5' # French\n"),
            "{body}"
        );
        assert_eq!(
            e.left_out,
            [LeftOut {
                index: 2,
                reason: LeftOutReason::BadKey
            }]
        );
        assert_eq!(e.extension, "sh");
    }

    #[test]
    fn linear_script_takes_whole_numbers() {
        let e = export(
            Target::LinearScript,
            &[
                story(Some("ENG-1"), "One", Some("3")),
                story(Some("ENG-2"), "Half", Some("½")),
                story(Some("ENG 3"), "Bad", Some("3")),
            ],
        );
        let body = text(&e);
        assert!(body.contains("estimate 'ENG-1' 3 # One\n"), "{body}");
        assert!(!body.contains("ENG-2'"), "{body}");
        assert!(body.ends_with("exit \"$failed\"\n"));
        let reasons: Vec<_> = e.left_out.iter().map(|l| l.reason).collect();
        assert_eq!(
            reasons,
            [LeftOutReason::NotAWholeNumber, LeftOutReason::BadKey]
        );
    }

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(number_text(5.0), "5");
        assert_eq!(number_text(0.5), "0.5");
        assert_eq!(number_text(2.25), "2.25");
        assert_eq!(number_text(100.0), "100");
    }
}
