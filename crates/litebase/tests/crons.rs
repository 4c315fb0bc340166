//! Cron jobs as PocketBase's `/api/crons` shows them: the built-in jobs listed
//! (superusers only), run now (204) or 404 for an unknown id; an app's own job
//! registered with `App::cron` runs when asked, and a bad expression stops
//! `serve`; the scheduled backup follows `backups.cron` and keeps the newest
//! `cronMaxKeep` scheduled backups (hand-made ones untouched).

mod support;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use litebase::App;
use litebase::testing::{Http, Server, assert_error_shape};
use serde_json::json;

fn wait_for(what: &str, mut check: impl FnMut() -> anyhow::Result<bool>) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(10);
    while !check()? {
        anyhow::ensure!(Instant::now() < until, "timed out waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn jobs(server: &impl Server, token: &str) -> anyhow::Result<Vec<(String, String)>> {
    let reply = Http::new().get_auth(&server.url("/api/crons"), token)?;
    anyhow::ensure!(reply.status == 200, "list crons: {}", reply.text);
    Ok(reply
        .json
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| {
            (
                j["id"].as_str().unwrap_or_default().to_string(),
                j["expression"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

#[test]
fn superusers_list_and_run_jobs_and_nobody_else_may() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();

    let listed = jobs(&server, &token)?;
    let expected: Vec<(String, String)> = [
        ("__lbWebhooksCleanup__", "30 * * * *"),
        ("__pbDBOptimize__", "0 0 * * *"),
        ("__pbLogsCleanup__", "0 */6 * * *"),
        ("__pbOTPCleanup__", "0 * * * *"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(listed, expected, "no scheduled backup until one is set");
    let raw = http.get_auth(&server.url("/api/crons"), &token)?;
    assert_eq!(
        raw.json[1],
        json!({"id": "__pbDBOptimize__", "expression": "0 0 * * *"}),
        "exactly PocketBase's {{id, expression}}"
    );

    for id in [
        "__pbDBOptimize__",
        "__pbLogsCleanup__",
        "__pbOTPCleanup__",
        "__lbWebhooksCleanup__",
    ] {
        let ran =
            http.post_json_auth(&server.url(&format!("/api/crons/{id}")), &token, &json!({}))?;
        assert_eq!(ran.status, 204, "{id}: {}", ran.text);
    }
    let missing = http.post_json_auth(&server.url("/api/crons/nope"), &token, &json!({}))?;
    assert_error_shape(&missing, 404);
    assert_eq!(missing.json["message"], "Missing or invalid cron job.");

    // Guests are asked to sign in, other accounts are refused.
    let guest = http.get(&server.url("/api/crons"))?;
    assert_error_shape(&guest, 401);
    let guest_run = http.post_json(&server.url("/api/crons/__pbDBOptimize__"), &json!({}))?;
    assert_error_shape(&guest_run, 401);
    let user = support::admin::user_token(&server, &token)?;
    assert_error_shape(&http.get_auth(&server.url("/api/crons"), &user)?, 403);
    let user_run = http.post_json_auth(
        &server.url("/api/crons/__pbDBOptimize__"),
        &user,
        &json!({}),
    )?;
    assert_error_shape(&user_run, 403);

    // The runs above finished without a failure in the server's log.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !server.stderr().contains("cron job failed"),
        "{}",
        server.stderr()
    );
    Ok(())
}

fn app_with_a_job(runs: Arc<AtomicUsize>) -> App {
    App::new("ticker").cron("countTicks", "*/5 * * * *", move |ctx| {
        // A job may wait for the database from its own thread.
        let n: i64 = ctx.block_on(ctx.core().db.read(|conn| {
            Ok::<_, litebase::db::DbError>(conn.query_row("SELECT 1", [], |r| r.get(0))?)
        }))?;
        runs.fetch_add(usize::try_from(n)?, Ordering::SeqCst);
        Ok(())
    })
}

#[test]
fn an_apps_job_is_listed_first_and_runs_when_asked() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let runs = Arc::new(AtomicUsize::new(0));
    support::add_superuser_in_process(App::new("ticker"), dir.path())?;
    let server = support::serve_in_process(app_with_a_job(runs.clone()), dir.path(), &[])?;
    let token = support::superuser_token(&server)?;
    let listed = jobs(&server, &token)?;
    assert_eq!(
        listed.first(),
        Some(&("countTicks".to_string(), "*/5 * * * *".to_string())),
        "{listed:?}"
    );
    let ran =
        Http::new().post_json_auth(&server.url("/api/crons/countTicks"), &token, &json!({}))?;
    assert_eq!(ran.status, 204, "{}", ran.text);
    wait_for("the job ran", || Ok(runs.load(Ordering::SeqCst) == 1))?;
    Ok(())
}

#[test]
fn a_job_with_a_bad_expression_stops_serve() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let app = App::new("bad").cron("broken", "every day", |_| Ok(()));
    let started = support::serve_in_process(app, dir.path(), &[]);
    assert!(
        started.is_err(),
        "serve must refuse an invalid cron expression"
    );
    let code = support::run_in_process(App::new("bad"), dir.path(), &["migrate", "status"]);
    assert_eq!(code, ExitCode::SUCCESS, "other commands are unaffected");
    Ok(())
}

fn backup_keys(server: &impl Server, token: &str) -> anyhow::Result<Vec<String>> {
    let reply = Http::new().get_auth(&server.url("/api/backups"), token)?;
    anyhow::ensure!(reply.status == 200, "list backups: {}", reply.text);
    let mut keys: Vec<String> = reply
        .json
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["key"].as_str().map(str::to_string))
        .collect();
    keys.sort();
    Ok(keys)
}

#[test]
fn scheduled_backups_follow_the_settings_and_keep_the_newest() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let http = Http::new();
    let settings = server.url("/api/settings");

    let refused = http.patch_json_auth(
        &settings,
        &token,
        &json!({"backups": {"cron": "at three", "cronMaxKeep": 0}}),
    )?;
    assert_error_shape(&refused, 400);
    assert_eq!(
        refused.json["data"]["backups"]["cron"]["code"],
        "validation_invalid_cron"
    );
    assert_eq!(
        refused.json["data"]["backups"]["cronMaxKeep"]["code"],
        "validation_required"
    );

    let saved = http.patch_json_auth(
        &settings,
        &token,
        &json!({"backups": {"cron": "@daily", "cronMaxKeep": 2}}),
    )?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.json["backups"]["cron"], "@daily");
    assert_eq!(saved.json["backups"]["cronMaxKeep"], 2);
    assert_eq!(
        saved.json["backups"]["s3"]["enabled"], false,
        "PocketBase's shape"
    );
    let listed = jobs(&server, &token)?;
    assert!(
        listed.contains(&("__pbAutoBackup__".to_string(), "0 0 * * *".to_string())),
        "{listed:?}"
    );

    let by_hand = http.post_json_auth(
        &server.url("/api/backups"),
        &token,
        &json!({"name": "mine.db"}),
    )?;
    assert_eq!(by_hand.status, 204, "{}", by_hand.text);
    let mut made: Vec<String> = Vec::new();
    for _ in 0..3 {
        let ran = http.post_json_auth(
            &server.url("/api/crons/__pbAutoBackup__"),
            &token,
            &json!({}),
        )?;
        assert_eq!(ran.status, 204, "{}", ran.text);
        wait_for("a new scheduled backup", || {
            let autos: Vec<String> = backup_keys(&server, &token)?
                .into_iter()
                .filter(|k| k.starts_with("@auto_lb_backup_litebase_"))
                .collect();
            let new = autos.iter().find(|k| !made.contains(k)).cloned();
            Ok(match new {
                Some(k) if autos.len() <= 2 => {
                    made.push(k);
                    true
                }
                _ => false,
            })
        })?;
        // Names carry the second: the next one must not share it.
        std::thread::sleep(Duration::from_millis(1100));
    }
    let keys = backup_keys(&server, &token)?;
    let mut expected: Vec<String> = made[1..].to_vec();
    expected.push("mine.db".into());
    expected.sort();
    assert_eq!(
        keys, expected,
        "the two newest scheduled backups and the hand-made one"
    );

    // A scheduled backup downloads and restores like any other.
    let newest = made.last().cloned().unwrap_or_default();
    let restored = http.post_json_auth(
        &server.url(&format!("/api/backups/{newest}/restore")),
        &token,
        &json!({}),
    )?;
    assert_eq!(restored.status, 204, "{}", restored.text);

    let off = http.patch_json_auth(&settings, &token, &json!({"backups": {"cron": ""}}))?;
    assert_eq!(off.status, 200, "{}", off.text);
    let listed = jobs(&server, &token)?;
    assert!(
        !listed.iter().any(|(id, _)| id == "__pbAutoBackup__"),
        "{listed:?}"
    );
    let gone = http.post_json_auth(
        &server.url("/api/crons/__pbAutoBackup__"),
        &token,
        &json!({}),
    )?;
    assert_error_shape(&gone, 404);
    Ok(())
}
