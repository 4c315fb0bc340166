//! The admin's Crons page (jobs, next and last run, "Run now"), the scheduled
//! backups section of the settings page, and the collections export and
//! import pages (preview of added, changed and deleted collections, then
//! confirm), against the `litebase` binary.

mod support;

use std::time::{Duration, Instant};

use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};
use support::admin::Browser;

fn signed_in(dir: &std::path::Path) -> anyhow::Result<(ServerProcess, Browser, String)> {
    let (server, token) = support::serve_as_admin(dir)?;
    let browser = Browser::signed_in(&server)?;
    Ok((server, browser, token))
}

#[test]
fn the_crons_page_lists_jobs_and_runs_one_now() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (_server, mut browser, _token) = signed_in(dir.path())?;
    let page = browser.get("/_/crons")?;
    assert_eq!(page.status, 200, "{}", page.body);
    for id in ["__pbDBOptimize__", "__pbLogsCleanup__", "__pbOTPCleanup__"] {
        assert!(
            page.body.contains(&format!("data-id=\"{id}\"")),
            "{id}: {}",
            page.body
        );
    }
    assert!(page.body.contains("0 */6 * * *"));
    assert!(page.body.contains("Not run yet"));

    let ran = browser.submit("/_/crons", "/_/crons/__pbDBOptimize__/run", &[])?;
    assert_eq!(ran.status, 303, "{}", ran.body);
    assert_eq!(ran.location.as_deref(), Some("/_/crons?flash=cron_started"));
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let page = browser.get("/_/crons?lang=fr")?;
        let row = page
            .body
            .split("data-id=\"__pbDBOptimize__\"")
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_default()
            .to_string();
        if row.contains("terminée") {
            assert!(row.contains(" ms"), "{row}");
            break;
        }
        assert!(Instant::now() < until, "the run never showed: {row}");
        std::thread::sleep(Duration::from_millis(50));
    }

    let missing = browser.submit("/_/crons", "/_/crons/nope/run", &[])?;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(
        // In French: `?lang=fr` above is remembered.
        missing.body.contains("Cette tâche n&#39;existe plus"),
        "{}",
        missing.body
    );
    // Without the CSRF token nothing runs.
    let forged = browser.post("/_/crons/__pbDBOptimize__/run", &[])?;
    assert_eq!(forged.status, 403, "{}", forged.body);
    Ok(())
}

#[test]
fn the_backup_schedule_is_edited_in_the_settings() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, mut browser, token) = signed_in(dir.path())?;
    let page = browser.get("/_/settings")?;
    assert!(page.body.contains("name=\"backups.cron\""), "{}", page.body);

    let refused = browser.submit(
        "/_/settings",
        "/_/settings",
        &[
            ("section", "backups"),
            ("backups.cron", "nightly"),
            ("backups.cronMaxKeep", "2"),
        ],
    )?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("invalid cron expression"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"nightly\""),
        "the typed value is kept"
    );

    let saved = browser.submit(
        "/_/settings",
        "/_/settings",
        &[
            ("section", "backups"),
            ("backups.cron", "30 2 * * *"),
            ("backups.cronMaxKeep", "4"),
        ],
    )?;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let settings = Http::new().get_auth(&server.url("/api/settings"), &token)?;
    assert_eq!(settings.json["backups"]["cron"], "30 2 * * *");
    assert_eq!(settings.json["backups"]["cronMaxKeep"], 4);
    let crons = browser.get("/_/crons")?;
    assert!(
        crons.body.contains("data-id=\"__pbAutoBackup__\""),
        "{}",
        crons.body
    );
    assert!(crons.body.contains("30 2 * * *"));
    Ok(())
}

#[test]
fn collections_are_exported_then_imported_after_a_preview() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, mut browser, token) = signed_in(dir.path())?;
    let http = Http::new();
    let made = http.post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "drafts", "fields": [{"name": "text", "type": "text"}]}),
    )?;
    assert_eq!(made.status, 200, "{}", made.text);

    let export = browser.get("/_/settings/export-collections")?;
    assert_eq!(export.status, 200, "{}", export.body);
    assert!(
        export.body.contains("&quot;drafts&quot;"),
        "{}",
        export.body
    );
    let download = browser.get("/_/settings/export-collections/download")?;
    assert_eq!(download.status, 200);
    let mut collections: Vec<Value> = serde_json::from_str(&download.body)?;
    assert!(
        collections.iter().all(|c| c.get("created").is_none()),
        "no timestamps"
    );

    // The export as it is: nothing to do.
    let same = serde_json::to_string(&collections)?;
    let preview = browser.submit(
        "/_/settings/import-collections",
        "/_/settings/import-collections",
        &[("json", &same), ("action", "preview")],
    )?;
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("data-testid=\"import-no-change\""),
        "{}",
        preview.body
    );

    // posts added, drafts gains a field, users goes (deleteMissing).
    collections.retain(|c| c["name"] != "users");
    for c in &mut collections {
        if c["name"] == "drafts" {
            if let Some(fields) = c["fields"].as_array_mut() {
                fields.push(json!({"name": "title", "type": "text"}));
            }
        }
    }
    collections.push(json!({"name": "posts", "fields": [{"name": "body", "type": "editor"}]}));
    let json_text = serde_json::to_string(&collections)?;
    let fields = [
        ("json", json_text.as_str()),
        ("deleteMissing", "true"),
        ("action", "preview"),
    ];
    let preview = browser.submit(
        "/_/settings/import-collections",
        "/_/settings/import-collections",
        &fields,
    )?;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let body = &preview.body;
    assert!(
        body.contains("data-change=\"added\"><strong>+ posts"),
        "{body}"
    );
    assert!(
        body.contains("data-change=\"changed\"><strong>~ drafts"),
        "{body}"
    );
    assert!(body.contains("+ field title (text)"), "{body}");
    assert!(
        body.contains("data-change=\"deleted\" class=\"danger\"><strong>− users"),
        "{body}"
    );
    let listed = |server: &ServerProcess| -> anyhow::Result<Vec<String>> {
        let reply = Http::new().get_auth(&server.url("/api/collections?perPage=100"), &token)?;
        let mut names: Vec<String> = reply.json["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    };
    assert_eq!(
        listed(&server)?,
        ["_externalAuths", "_superusers", "drafts", "users"],
        "a preview changes nothing"
    );

    let mut confirm = fields.to_vec();
    confirm.retain(|(k, _)| *k != "action");
    confirm.push(("action", "apply"));
    let applied = browser.submit(
        "/_/settings/import-collections",
        "/_/settings/import-collections",
        &confirm,
    )?;
    assert_eq!(applied.status, 303, "{}", applied.body);
    assert_eq!(
        applied.location.as_deref(),
        Some("/_/settings/import-collections?flash=collections_imported")
    );
    assert_eq!(
        listed(&server)?,
        ["_externalAuths", "_superusers", "drafts", "posts"]
    );

    let bad = browser.submit(
        "/_/settings/import-collections",
        "/_/settings/import-collections",
        &[("json", "[{\"name\": \"2bad\"}]"), ("action", "preview")],
    )?;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("Failed to import collections."),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("validation_invalid_name"), "{}", bad.body);
    let not_json = browser.submit(
        "/_/settings/import-collections",
        "/_/settings/import-collections",
        &[("json", "{oops"), ("action", "preview")],
    )?;
    assert_eq!(not_json.status, 400, "{}", not_json.body);
    assert!(
        not_json.body.contains("not valid JSON"),
        "{}",
        not_json.body
    );
    Ok(())
}
