//! The tracker files under `tests/fixtures/tracker/` (written like each tool
//! exports them): each is detected, read to the exact stories it holds, and its
//! stories go back out, with new estimates, in a file that the matching importer
//! reads back to the same keys and estimates. The two shell scripts are run
//! against stand-ins for `gh` and `curl` that record what they were asked.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use poker::tracker::{
    self, ColumnMap, EstimatedStory, ImportedStory, LeftOutReason, Place, SkipReason, Skipped,
    Source, Target,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/tracker")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn story(
    title: &str,
    key: &str,
    url: Option<&str>,
    description: Option<&str>,
    estimate: Option<&str>,
    kind: Option<&str>,
) -> ImportedStory {
    ImportedStory {
        title: title.into(),
        key: Some(key.into()),
        url: url.map(Into::into),
        description: description.map(Into::into),
        estimate: estimate.map(Into::into),
        kind: kind.map(Into::into),
    }
}

fn read(source: Source, name: &str) -> tracker::Parsed {
    tracker::parse(source, &fixture(name), None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_is_detected() {
    for (name, source) in [
        ("jira.csv", Source::JiraCsv),
        ("jira.xml", Source::JiraXml),
        ("github.json", Source::GithubJson),
        ("linear.csv", Source::LinearCsv),
        ("azure.csv", Source::AzureCsv),
        ("generic-semicolon.csv", Source::Csv),
        ("quoted-newlines.csv", Source::Csv),
    ] {
        assert_eq!(tracker::detect(&fixture(name)), Some(source), "{name}");
    }
}

#[test]
fn jira_csv() {
    let parsed = read(Source::JiraCsv, "jira.csv");
    assert_eq!(
        parsed.stories,
        [
            story(
                "Checkout page shows the basket total",
                "SHOP-101",
                None,
                Some(
                    "As a buyer I want to see the total before I pay.\n\n*Acceptance*\n* total includes VAT\n* shipping shown separately"
                ),
                Some("5"),
                Some("Story"),
            ),
            story(
                "Pay by card, with 3-D Secure",
                "SHOP-102",
                None,
                Some("Card payments go through the \"PayCo\" gateway."),
                Some("8"),
                Some("Story"),
            ),
            story(
                "Fix: coupon code accepted twice",
                "SHOP-103",
                None,
                None,
                None,
                Some("Bug")
            ),
            story(
                "=Export orders to the ERP",
                "SHOP-104",
                None,
                None,
                Some("2.5"),
                Some("Sub-task")
            ),
        ]
    );
    assert_eq!(parsed.skipped, []);
}

#[test]
fn jira_xml() {
    let parsed = read(Source::JiraXml, "jira.xml");
    assert_eq!(
        parsed.stories,
        [
            story(
                "Checkout page shows the basket total",
                "SHOP-101",
                Some("https://acme-shop.atlassian.net/browse/SHOP-101"),
                Some(
                    "As a buyer I want to see the total before I pay.\n\nAcceptance\n\n- total includes VAT\n- shipping shown separately"
                ),
                Some("5"),
                Some("Story"),
            ),
            story(
                "Pay by card, with 3-D Secure & Apple Pay",
                "SHOP-102",
                Some("https://acme-shop.atlassian.net/browse/SHOP-102"),
                Some("Card payments go through the \"PayCo\" gateway."),
                Some("8"),
                Some("Story"),
            ),
            story(
                "Fix: coupon code accepted twice",
                "SHOP-103",
                Some("https://acme-shop.atlassian.net/browse/SHOP-103"),
                None,
                None,
                Some("Bug"),
            ),
        ]
    );
    assert_eq!(parsed.skipped, []);
}

#[test]
fn github_json() {
    let parsed = read(Source::GithubJson, "github.json");
    let url = |n: u32| format!("https://github.com/acme/shop-web/issues/{n}");
    assert_eq!(
        parsed.stories,
        [
            story(
                "Dark mode",
                "#214",
                Some(&url(214)),
                Some(
                    "The header is unreadable at night.\n\n- [ ] toggle in settings\n- [ ] follow the OS setting"
                ),
                Some("5"),
                None,
            ),
            story(
                "Search box loses focus after typing",
                "#213",
                Some(&url(213)),
                None,
                None,
                None
            ),
            story(
                "Cache product images in the service worker",
                "#209",
                Some(&url(209)),
                Some("See #200."),
                Some("3"),
                None,
            ),
            story(
                "Wishlist: share by link",
                "#205",
                Some(&url(205)),
                Some("Needs design first."),
                None,
                None,
            ),
        ]
    );
}

#[test]
fn linear_csv() {
    let parsed = read(Source::LinearCsv, "linear.csv");
    assert_eq!(
        parsed.stories,
        [
            story(
                "Rate-limit the public search API",
                "ENG-41",
                None,
                Some(
                    "Limit to 20 requests/s per key.\n\n- return `429` with `Retry-After`\n- log the key"
                ),
                Some("3"),
                None,
            ),
            story(
                "Search results: highlight matched words",
                "ENG-42",
                None,
                None,
                None,
                None
            ),
            story(
                "Typo-tolerant search (\"serach\" → \"search\")",
                "ENG-43",
                None,
                Some("Use a Levenshtein distance of at most 2."),
                Some("5"),
                None,
            ),
        ]
    );
}

#[test]
fn azure_csv() {
    let parsed = read(Source::AzureCsv, "azure.csv");
    assert_eq!(
        parsed.stories,
        [
            story(
                "Sign in with a passkey",
                "2041",
                None,
                Some(
                    "As a returning user I sign in with a passkey.\n\nDone when Chrome and Safari work."
                ),
                Some("8"),
                Some("User Story"),
            ),
            story(
                "Remember the language choice",
                "2042",
                None,
                None,
                Some("2"),
                Some("User Story")
            ),
            story(
                "Session cookie lacks SameSite",
                "2043",
                None,
                Some("Set SameSite=Lax & keep Secure."),
                None,
                Some("Bug"),
            ),
        ]
    );
}

#[test]
fn generic_csv_with_a_bom_semicolons_and_french_headers() {
    let bytes = fixture("generic-semicolon.csv");
    let columns = tracker::columns(&bytes).unwrap();
    assert_eq!(columns, ["Clé", "Titre", "Lien", "Estimation", "Détails"]);
    let map = tracker::guess_map(&columns);
    assert_eq!(
        map,
        ColumnMap {
            title: 1,
            key: Some(0),
            url: Some(2),
            description: Some(4),
            estimate: Some(3),
            kind: None,
        }
    );
    let parsed = tracker::parse(Source::Csv, &bytes, Some(&map)).unwrap();
    assert_eq!(parsed, tracker::parse(Source::Csv, &bytes, None).unwrap());
    let link = |k: &str| format!("https://intranet.example.fr/tickets/{k}");
    assert_eq!(
        parsed.stories,
        [
            story(
                "Page d'accueil : bandeau des promotions",
                "WEB-1",
                Some(&link("WEB-1")),
                Some("Le bandeau défile toutes les 5 s"),
                Some("3"),
                None,
            ),
            story(
                "Formulaire de contact ; envoi d'un accusé de réception",
                "WEB-2",
                Some(&link("WEB-2")),
                None,
                Some("5"),
                None,
            ),
            story(
                "Traduction de la FAQ",
                "WEB-3",
                None,
                Some("Lien invalide : il n'est pas gardé"),
                Some("½"),
                None,
            ),
            story(
                "Mentions légales mises à jour",
                "WEB-5",
                None,
                None,
                None,
                None
            ),
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
fn generic_csv_with_quoted_newlines() {
    let parsed = read(Source::Csv, "quoted-newlines.csv");
    assert_eq!(
        parsed.stories,
        [
            story(
                "Onboarding e-mail, day 1",
                "MKT-7",
                None,
                Some("Subject: \"Welcome!\"\nBody: short, friendly\nSign-off: the team"),
                Some("3"),
                None,
            ),
            story("Two-line title", "MKT-8", None, None, Some("8"), None),
            story(
                "Last one",
                "MKT-10",
                None,
                Some("ends with a quote \""),
                None,
                None
            ),
        ]
    );
    let skipped: Vec<String> = parsed.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped, ["line 8: the title is empty"]);
}

/// New estimates for the stories, as a room would record them (a `½` among them).
fn estimated(stories: &[ImportedStory]) -> Vec<EstimatedStory> {
    const CARDS: [&str; 5] = ["3", "½", "13", "1", "20"];
    stories
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut e = EstimatedStory::from(s);
            e.estimate = Some(CARDS[i % CARDS.len()].into());
            e
        })
        .collect()
}

/// Keys and estimates, as the trackers spell numbers.
fn keys_and_estimates(stories: &[EstimatedStory]) -> Vec<(Option<String>, Option<String>)> {
    stories
        .iter()
        .map(|s| {
            let e = s.estimate.as_deref().map(|e| e.replace('½', "0.5"));
            (s.key.clone(), e)
        })
        .collect()
}

#[test]
fn every_fixture_round_trips_with_new_estimates() {
    for (name, source) in [
        ("jira.csv", Source::JiraCsv),
        ("jira.xml", Source::JiraXml),
        ("github.json", Source::GithubJson),
        ("linear.csv", Source::LinearCsv),
        ("azure.csv", Source::AzureCsv),
        ("generic-semicolon.csv", Source::Csv),
        ("quoted-newlines.csv", Source::Csv),
    ] {
        let stories = estimated(&read(source, name).stories);
        let target = Target::for_source(source);
        let out = tracker::export(target, &stories);
        assert_eq!(out.left_out, [], "{name}");
        let back_source = target.reimport_source().unwrap();
        assert_eq!(
            back_source,
            if source == Source::JiraXml {
                Source::JiraCsv
            } else {
                source
            }
        );
        let back = tracker::parse(back_source, &out.body, None)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", String::from_utf8_lossy(&out.body)));
        let back: Vec<EstimatedStory> = back.stories.iter().map(EstimatedStory::from).collect();
        assert_eq!(
            keys_and_estimates(&back),
            keys_and_estimates(&stories),
            "{name}"
        );
        let titles = |s: &[EstimatedStory]| s.iter().map(|s| s.title.clone()).collect::<Vec<_>>();
        assert_eq!(titles(&back), titles(&stories), "{name}");
    }
}

#[test]
fn jira_export_is_what_jira_imports() {
    let stories = estimated(&read(Source::JiraXml, "jira.xml").stories);
    let out = tracker::export(Target::JiraCsv, &stories);
    assert_eq!(
        (out.content_type, out.extension),
        ("text/csv; charset=utf-8", "csv")
    );
    assert_eq!(
        String::from_utf8(out.body).unwrap(),
        "Issue key,Summary,Story Points\r\n\
         SHOP-101,Checkout page shows the basket total,3\r\n\
         SHOP-102,\"Pay by card, with 3-D Secure & Apple Pay\",0.5\r\n\
         SHOP-103,Fix: coupon code accepted twice,13\r\n"
    );
}

#[test]
fn the_formula_guard_survives_the_round_trip() {
    let stories = estimated(&read(Source::JiraCsv, "jira.csv").stories);
    let body = tracker::export(Target::JiraCsv, &stories).body;
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("SHOP-104,'=Export orders to the ERP,1\r\n"),
        "{text}"
    );
}

#[test]
fn azure_export_keeps_the_work_item_types() {
    let stories = estimated(&read(Source::AzureCsv, "azure.csv").stories);
    let out = tracker::export(Target::AzureCsv, &stories);
    assert_eq!(
        String::from_utf8(out.body).unwrap(),
        "ID,Work Item Type,Title,Story Points\r\n\
         2041,User Story,Sign in with a passkey,3\r\n\
         2042,User Story,Remember the language choice,0.5\r\n\
         2043,Bug,Session cookie lacks SameSite,13\r\n"
    );
}

#[test]
fn exports_leave_out_what_a_tracker_cannot_take() {
    let mut stories = estimated(&read(Source::GithubJson, "github.json").stories);
    stories[1].estimate = Some("?".into());
    stories[2].estimate = None;
    let out = tracker::export(Target::JiraCsv, &stories);
    let reasons: Vec<_> = out.left_out.iter().map(|l| (l.index, l.reason)).collect();
    assert_eq!(
        reasons,
        [
            (0, LeftOutReason::BadKey),
            (1, LeftOutReason::BadKey),
            (2, LeftOutReason::BadKey),
            (3, LeftOutReason::BadKey),
        ],
        "GitHub numbers are no Jira keys"
    );
    let out = tracker::export(Target::GithubScript, &stories);
    let reasons: Vec<_> = out.left_out.iter().map(|l| (l.index, l.reason)).collect();
    assert_eq!(reasons, [(2, LeftOutReason::NoEstimate)]);
}

/// A directory with a stand-in for `program` that appends its arguments (count,
/// then one per line) to `calls.log` and prints `stdout`.
fn stand_in(program: &str, stdout: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$#\" \"$@\" >> '{}'\nprintf '%s' '{stdout}'\n",
        dir.path().join("calls.log").display()
    );
    let path = dir.path().join(program);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn calls(dir: &Path) -> Vec<Vec<String>> {
    let log = std::fs::read_to_string(dir.join("calls.log")).unwrap_or_default();
    let mut lines = log.lines();
    let mut calls = Vec::new();
    while let Some(n) = lines.next() {
        let n: usize = n.parse().unwrap();
        calls.push(lines.by_ref().take(n).map(String::from).collect());
    }
    calls
}

fn run_script(body: &[u8], bin: &Path, envs: &[(&str, &str)]) -> std::process::Output {
    let script: PathBuf = bin.join("estimates.sh");
    std::fs::write(&script, body).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    Command::new("sh")
        .arg(&script)
        .current_dir(bin)
        .env_clear()
        .env("PATH", path)
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

#[test]
fn the_github_script_labels_each_issue() {
    let mut stories = estimated(&read(Source::GithubJson, "github.json").stories);
    stories.push(EstimatedStory {
        key: Some("#7".into()),
        title: "Hostile\n touch pwned-title".into(),
        url: None,
        estimate: Some("it's $(touch pwned)".into()),
        kind: None,
    });
    let out = tracker::export(Target::GithubScript, &stories);
    assert_eq!(out.left_out, []);
    let bin = stand_in("gh", "");
    let run = run_script(&out.body, bin.path(), &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        String::from_utf8_lossy(&run.stdout)
            .starts_with("https://github.com/acme/shop-web/issues/214: estimate: 3\n")
    );
    let issue = |n: u32| format!("https://github.com/acme/shop-web/issues/{n}");
    let label = |repo: Option<&str>, name: &str| {
        let mut call = vec!["label".to_owned(), "create".to_owned(), name.to_owned()];
        if let Some(repo) = repo {
            call.extend(["--repo".to_owned(), repo.to_owned()]);
        }
        call.extend(
            [
                "--color",
                "C5DEF5",
                "--description",
                "Planning poker estimate",
            ]
            .map(String::from),
        );
        call
    };
    let edit = |target: String, name: &str| {
        vec![
            "issue".to_owned(),
            "edit".to_owned(),
            target,
            "--add-label".to_owned(),
            name.to_owned(),
        ]
    };
    assert_eq!(
        calls(bin.path()),
        [
            label(Some("acme/shop-web"), "estimate: 3"),
            label(Some("acme/shop-web"), "estimate: 0.5"),
            label(Some("acme/shop-web"), "estimate: 13"),
            label(Some("acme/shop-web"), "estimate: 1"),
            label(None, "estimate: it's $(touch pwned)"),
            edit(issue(214), "estimate: 3"),
            edit(issue(213), "estimate: 0.5"),
            edit(issue(209), "estimate: 13"),
            edit(issue(205), "estimate: 1"),
            edit("7".into(), "estimate: it's $(touch pwned)"),
        ]
    );
    for file in ["pwned", "pwned-title"] {
        assert!(!bin.path().join(file).exists(), "{file} was created");
    }
    let failing = tempfile::tempdir().unwrap();
    let gh = failing.path().join("gh");
    std::fs::write(&gh, "#!/bin/sh\n[ \"$1\" = label ] || exit 1\n").unwrap();
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = run_script(&out.body, failing.path(), &[]);
    assert!(!run.status.success(), "a failed edit fails the script");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(
        stderr.matches("not updated").count(),
        5,
        "every issue is tried: {stderr}"
    );
}

#[test]
fn the_linear_script_updates_each_issue() {
    let stories = estimated(&read(Source::LinearCsv, "linear.csv").stories);
    let out = tracker::export(Target::LinearScript, &stories);
    let halves: Vec<_> = out.left_out.iter().map(|l| (l.index, l.reason)).collect();
    assert_eq!(
        halves,
        [(1, LeftOutReason::NotAWholeNumber)],
        "½ is not on Linear's scale"
    );
    let bin = stand_in("curl", r#"{"data":{"issueUpdate":{"success":true}}}"#);
    let run = run_script(&out.body, bin.path(), &[("LINEAR_API_KEY", "lin_api_test")]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "ENG-41: 3\nENG-43: 13\n"
    );
    let queries: Vec<String> = calls(bin.path())
        .into_iter()
        .map(|call| {
            assert!(
                call.contains(&"https://api.linear.app/graphql".to_owned()),
                "{call:?}"
            );
            assert!(
                call.contains(&"Authorization: lin_api_test".to_owned()),
                "{call:?}"
            );
            let data = call.iter().position(|a| a == "--data").expect("--data");
            let body: serde_json::Value = serde_json::from_str(&call[data + 1]).unwrap();
            body["query"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        queries,
        [
            "mutation { issueUpdate(id: \"ENG-41\", input: { estimate: 3 }) { success } }",
            "mutation { issueUpdate(id: \"ENG-43\", input: { estimate: 13 }) { success } }",
        ]
    );
    let refused = stand_in("curl", r#"{"errors":[{"message":"Entity not found"}]}"#);
    let run = run_script(&out.body, refused.path(), &[("LINEAR_API_KEY", "x")]);
    assert!(!run.status.success(), "a failed update fails the script");
    assert!(String::from_utf8_lossy(&run.stderr).contains("ENG-41: not updated"));
    let run = run_script(&out.body, refused.path(), &[]);
    assert!(!run.status.success(), "no key, no run");
    assert!(String::from_utf8_lossy(&run.stderr).contains("LINEAR_API_KEY"));
}
