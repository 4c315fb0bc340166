//! Which CSV column is which story field, from the header names: the names the
//! trackers export and people type, in English and French.

use super::{ColumnMap, clean};

/// Title columns, most specific first (matched after [`normalise`]).
pub(super) const TITLE: &[&str] = &[
    "summary",
    "title",
    "story title",
    "issue title",
    "name",
    "subject",
    "story",
    "headline",
    "task",
    "title 1",
    "résumé",
    "titre",
    "intitulé",
    "nom",
    "sujet",
    "tâche",
];
/// Key columns: Jira's "Issue key" before its numeric "Issue id".
pub(super) const KEY: &[&str] = &[
    "issue key",
    "key",
    "id",
    "#",
    "number",
    "no",
    "no.",
    "num",
    "issue",
    "issue id",
    "issue number",
    "work item id",
    "ticket",
    "ticket id",
    "ref",
    "reference",
    "identifier",
    "clé",
    "clé de ticket",
    "clé du ticket",
    "identifiant",
    "numéro",
    "n°",
    "référence",
];
/// URL columns.
pub(super) const URL: &[&str] = &[
    "url",
    "link",
    "issue url",
    "web url",
    "html url",
    "html_url",
    "href",
    "permalink",
    "lien",
    "adresse",
];
/// Description columns.
pub(super) const DESCRIPTION: &[&str] = &[
    "description",
    "body",
    "details",
    "detail",
    "notes",
    "desc",
    "détails",
    "détail",
    "contenu",
];
/// Estimate columns: Jira's company-managed and team-managed story points
/// fields, Azure DevOps' per-process fields, and the common words.
pub(super) const ESTIMATE: &[&str] = &[
    "story points",
    "custom field (story points)",
    "story point estimate",
    "custom field (story point estimate)",
    "story point",
    "estimate",
    "estimation",
    "effort",
    "size",
    "points",
    "sp",
    "pts",
    "story size",
    "points d'histoire",
    "points de récit",
    "points d'effort",
    "taille",
    "charge",
    "complexité",
];
/// Issue / work item type columns.
pub(super) const KIND: &[&str] = &[
    "issue type",
    "work item type",
    "type",
    "kind",
    "item type",
    "type de ticket",
    "type de demande",
    "type d'élément de travail",
];

/// A header name for matching: one line, lower case, no trailing colon.
pub(super) fn normalise(name: &str) -> String {
    clean::one_line(name)
        .to_lowercase()
        .trim_end_matches(':')
        .trim_end()
        .to_owned()
}

/// The first column (not in `taken`) whose name is one of `names`, trying the
/// names in order; with duplicate names (Jira repeats some), the leftmost.
pub(super) fn find(normalised: &[String], names: &[&str], taken: &[usize]) -> Option<usize> {
    names.iter().find_map(|name| {
        normalised
            .iter()
            .enumerate()
            .find(|(i, c)| c.as_str() == *name && !taken.contains(i))
            .map(|(i, _)| i)
    })
}

/// Every column (not in `taken`) whose name is one of `names`, in `names` order
/// then left to right: the columns a field may come from, best first.
pub(super) fn find_all(normalised: &[String], names: &[&str], taken: &[usize]) -> Vec<usize> {
    let mut found = Vec::new();
    for name in names {
        for (i, c) in normalised.iter().enumerate() {
            if c.as_str() == *name && !taken.contains(&i) && !found.contains(&i) {
                found.push(i);
            }
        }
    }
    found
}

/// The first column (not in `taken`) whose name contains one of `parts`.
fn find_containing(normalised: &[String], parts: &[&str], taken: &[usize]) -> Option<usize> {
    normalised
        .iter()
        .enumerate()
        .find(|(i, c)| !taken.contains(i) && parts.iter().any(|p| c.contains(p)))
        .map(|(i, _)| i)
}

/// The title column by name, if any column is named like one.
pub(super) fn title_by_name(normalised: &[String]) -> Option<usize> {
    find(normalised, TITLE, &[])
        .or_else(|| find_containing(normalised, &["summary", "title", "titre", "résumé"], &[]))
}

/// A sensible default mapping from header names (as [`columns`](super::columns)
/// returns them), for the mapping step to start from.
///
/// Recognises the trackers' own names (Jira's "Summary", "Issue key", "Custom
/// field (Story Points)", Azure's "Work Item Type", "Effort"), common English ones
/// (Title, Name, Key, ID, #, URL, Link, Description, Body, Estimate, Points, Size)
/// and French ones (Titre, Résumé, Clé, Identifiant, Lien, Estimation, Points
/// d'histoire, Taille). Each column feeds at most one field. Without any title-like
/// name, the title is the first column no other field took.
///
/// ```
/// let cols = ["ID", "Titre", "Estimation"].map(String::from);
/// let map = poker::tracker::guess_map(&cols);
/// assert_eq!((map.title, map.key, map.estimate), (1, Some(0), Some(2)));
/// ```
pub fn guess_map(columns: &[String]) -> ColumnMap {
    let names: Vec<String> = columns.iter().map(|c| normalise(c)).collect();
    let mut taken = Vec::new();
    let pick = |list: &[&str], parts: &[&str], taken: &mut Vec<usize>| {
        let found = find(&names, list, taken).or_else(|| find_containing(&names, parts, taken));
        taken.extend(found);
        found
    };
    let title = pick(TITLE, &["summary", "title", "titre", "résumé"], &mut taken);
    let key = pick(KEY, &[], &mut taken);
    let url = pick(URL, &["url", "link", "lien"], &mut taken);
    let estimate = pick(ESTIMATE, &["story point", "estimat"], &mut taken);
    let description = pick(DESCRIPTION, &["description"], &mut taken);
    let kind = pick(KIND, &[], &mut taken);
    let title = title
        .or_else(|| (0..columns.len()).find(|i| !taken.contains(i)))
        .unwrap_or(0);
    ColumnMap {
        title,
        key,
        url,
        description,
        estimate,
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(cols: &[&str]) -> ColumnMap {
        guess_map(&cols.iter().map(|c| c.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn jira_cloud_headers() {
        let m = map(&[
            "Summary",
            "Issue key",
            "Issue id",
            "Issue Type",
            "Status",
            "Description",
            "Sprint",
            "Sprint",
            "Custom field (Story point estimate)",
        ]);
        assert_eq!(
            m,
            ColumnMap {
                title: 0,
                key: Some(1),
                url: None,
                description: Some(5),
                estimate: Some(8),
                kind: Some(3),
            }
        );
    }

    #[test]
    fn common_english_headers() {
        assert_eq!(
            map(&["#", "Name", "Link", "Points", "Notes"]),
            ColumnMap {
                title: 1,
                key: Some(0),
                url: Some(2),
                description: Some(4),
                estimate: Some(3),
                kind: None,
            }
        );
        let m = map(&["Key", "Title", "URL", "Estimate"]);
        assert_eq!(
            (m.title, m.key, m.url, m.estimate),
            (1, Some(0), Some(2), Some(3))
        );
    }

    #[test]
    fn french_headers() {
        let m = map(&[
            "Clé",
            "Résumé",
            "Lien",
            "Points d'histoire",
            "Détails",
            "Type",
        ]);
        assert_eq!(
            m,
            ColumnMap {
                title: 1,
                key: Some(0),
                url: Some(2),
                description: Some(4),
                estimate: Some(3),
                kind: Some(5),
            }
        );
        let m = map(&[" Identifiant ", "Intitulé:", "Estimation"]);
        assert_eq!((m.title, m.key, m.estimate), (1, Some(0), Some(2)));
    }

    #[test]
    fn loose_names_and_fallbacks() {
        let m = map(&["Ref", "Story title (short)", "Story Points (Sprint 3)"]);
        assert_eq!((m.title, m.key, m.estimate), (1, Some(0), Some(2)));
        let m = map(&["Owner", "Whatever"]);
        assert_eq!(m.title, 0, "no title-like name: the first free column");
        let m = map(&["ID", "Thing"]);
        assert_eq!((m.title, m.key), (1, Some(0)));
        assert_eq!(map(&[]).title, 0);
    }

    #[test]
    fn each_column_feeds_one_field() {
        let m = map(&["Title", "Title"]);
        assert_eq!(m.title, 0);
        let m = map(&["Estimate"]);
        assert_eq!(
            (m.title, m.estimate),
            (0, Some(0)),
            "a lone column is still the title"
        );
    }
}
