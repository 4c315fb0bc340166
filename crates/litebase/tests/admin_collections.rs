//! The admin UI's collection editor against the real binary: a collection made
//! with the form exists in the API with its table and rule; a rule with a syntax
//! error is reported by the live check and refuses the form; editing, truncating
//! and deleting work (with typed confirmation). (`--dev` writing the editor's
//! change as a migration is in `dev_migrations.rs`.)

mod support;

use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};
use support::admin::Browser;

/// The fields of the `tasks` collection, as the editor's Alpine rows post them.
fn task_fields() -> String {
    json!([
        {"name": "title", "type": "text", "required": true, "min": 0, "max": 200, "pattern": ""},
        {"name": "points", "type": "number", "min": 0, "max": null, "onlyInt": true},
        {"name": "done", "type": "bool"},
        {"name": "status", "type": "select", "values": ["todo", "doing", "done"], "maxSelect": 1},
        {"name": "due", "type": "date", "min": "", "max": ""},
        {"name": "meta", "type": "json", "maxSize": 0}
    ])
    .to_string()
}

/// The editor's form for a new collection: every rule locked but `list`.
fn new_collection_form<'a>(
    name: &'a str,
    fields: &'a str,
    list_rule: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("type", "base"),
        ("fields", fields),
        ("indexes", ""),
        ("listRule", list_rule),
        ("viewRuleLocked", "1"),
        ("createRuleLocked", "1"),
        ("updateRuleLocked", "1"),
        ("deleteRuleLocked", "1"),
    ]
}

/// The `users` editor as posted: its fields and rules as the page holds them,
/// plus `extra` inputs.
fn users_form(field_json: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    [
        ("name", "users"),
        ("type", "auth"),
        ("fields", field_json),
        ("indexes", ""),
        ("listRule", "id = @request.auth.id"),
        ("viewRule", "id = @request.auth.id"),
        ("createRule", ""),
        ("updateRule", "id = @request.auth.id"),
        ("deleteRule", "id = @request.auth.id"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn api_collection(server: &ServerProcess, token: &str, name: &str) -> anyhow::Result<(u16, Value)> {
    let reply = Http::new().get_auth(&server.url(&format!("/api/collections/{name}")), token)?;
    Ok((reply.status, reply.json))
}

fn field_names(c: &Value) -> Vec<String> {
    c["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn create_tasks(browser: &mut Browser) -> anyhow::Result<()> {
    let fields = task_fields();
    let form = new_collection_form("tasks", &fields, "done = false && points >= 0");
    let created = browser.submit("/_/collections/new", "/_/collections/new", &form)?;
    anyhow::ensure!(
        created.status == 303,
        "create: {} {}",
        created.status,
        created.body
    );
    Ok(())
}

#[test]
fn a_collection_made_in_the_editor_exists_with_its_table_and_rule() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::signed_in(&server)?;

    let editor = browser.get("/_/collections/new")?;
    assert_eq!(editor.status, 200);
    for part in [
        "data-testid=\"collection-form\"",
        "hx-post=\"/_/collections/check-rule\"",
        "relation",
        "autodate",
    ] {
        assert!(editor.body.contains(part), "the editor shows {part}");
    }

    let fields = task_fields();
    let form = new_collection_form("tasks", &fields, "done = false && points >= 0");
    let created = browser.submit("/_/collections/new", "/_/collections/new", &form)?;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(
        created.location.as_deref(),
        Some("/_/collections/tasks/edit?flash=collection_created")
    );

    let (status, c) = api_collection(&server, &token, "tasks")?;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        field_names(&c),
        ["id", "title", "points", "done", "status", "due", "meta"]
    );
    assert_eq!(c["fields"][1]["required"], true);
    assert_eq!(c["fields"][4]["values"], json!(["todo", "doing", "done"]));
    assert_eq!(c["listRule"], "done = false && points >= 0");
    assert_eq!(c["viewRule"], Value::Null);

    // The table is real: a record goes in and the list rule applies to guests.
    let http = Http::new();
    let record = json!({"title": "Write tests", "points": 3, "status": "todo", "meta": {"a": 1}});
    let made = http.post_json_auth(
        &server.url("/api/collections/tasks/records"),
        &token,
        &record,
    )?;
    assert_eq!(made.status, 200, "{}", made.text);
    let guest = http.get(&server.url("/api/collections/tasks/records"))?;
    assert_eq!(guest.json["totalItems"], 1, "{}", guest.text);

    // The sidebar lists it, and its edit page shows what was saved.
    let dashboard = browser.get("/_/")?;
    assert!(dashboard.body.contains("href=\"/_/collections/tasks\""));
    assert!(dashboard.body.contains("href=\"/_/collections/new\""));
    let edit = browser.get("/_/collections/tasks/edit")?;
    assert_eq!(edit.status, 200);
    assert!(
        edit.body.contains("done = false &amp;&amp; points &gt;= 0"),
        "the rule is shown"
    );
    assert!(
        edit.body.contains("&quot;status&quot;"),
        "the fields are in the editor"
    );
    Ok(())
}

#[test]
fn a_rule_with_a_syntax_error_is_reported_live_and_refuses_the_form() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::signed_in(&server)?;
    let fields = task_fields();

    // The live check compiles the rule against the fields as they are in the form.
    let csrf = browser
        .get("/_/collections/new")?
        .csrf()
        .unwrap_or_default();
    let check = |browser: &mut Browser, rule: &str| {
        let mut form = new_collection_form("tasks", &fields, rule);
        form.push(("rule", "listRule"));
        browser.send(
            "POST",
            "/_/collections/check-rule",
            Some(&form),
            &[("HX-Request", "true"), ("X-CSRF-Token", &csrf)],
        )
    };
    let broken = check(&mut browser, "done = ")?;
    assert_eq!(broken.status, 200, "{}", broken.body);
    assert!(broken.body.contains("rule-error"), "{}", broken.body);
    assert!(
        broken.body.contains("column 8"),
        "the error says where: {}",
        broken.body
    );
    let unknown = check(&mut browser, "nope = 1")?;
    assert!(
        unknown.body.contains("rule-error") && unknown.body.contains("nope"),
        "{}",
        unknown.body
    );
    let fine = check(&mut browser, "done = false")?;
    assert!(fine.body.contains("rule-ok"), "{}", fine.body);
    let public = check(&mut browser, "")?;
    assert!(public.body.contains("rule-public"), "{}", public.body);

    // Submitting it anyway is refused, inline, keeping what was typed.
    let form = new_collection_form("tasks", &fields, "done = ");
    let refused = browser.submit("/_/collections/new", "/_/collections/new", &form)?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("data-testid=\"rule-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("column 8"));
    assert!(refused.body.contains("value=\"tasks\""), "the name is kept");
    assert!(
        refused.body.contains("value=\"done = \""),
        "the rule is kept"
    );
    assert!(
        refused.body.contains("&quot;points&quot;"),
        "the fields are kept"
    );
    assert_eq!(
        api_collection(&server, &token, "tasks")?.0,
        404,
        "nothing was created"
    );

    // A bad field name is shown against its row (fields.N.name).
    let bad =
        json!([{"name": "ok", "type": "text"}, {"name": "9lives", "type": "bool"}]).to_string();
    let form = new_collection_form("pets", &bad, "");
    let refused = browser.submit("/_/collections/new", "/_/collections/new", &form)?;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("fields.2.name"), "{}", refused.body);
    assert_eq!(api_collection(&server, &token, "pets")?.0, 404);
    Ok(())
}

#[test]
fn editing_truncating_and_deleting_a_collection() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::signed_in(&server)?;
    create_tasks(&mut browser)?;
    let http = Http::new();
    let made = http.post_json_auth(
        &server.url("/api/collections/tasks/records"),
        &token,
        &json!({"title": "Keep me", "points": 2}),
    )?;
    assert_eq!(made.status, 200, "{}", made.text);

    // On the edit page the live check sees the fields as they are in the form,
    // not as saved: a rule on a field only added in the page is valid there.
    let csrf = browser
        .get("/_/collections/tasks/edit")?
        .csrf()
        .unwrap_or_default();
    let (_, saved) = api_collection(&server, &token, "tasks")?;
    let mut draft = saved["fields"].as_array().cloned().unwrap_or_default();
    let without = Value::Array(draft.clone()).to_string();
    draft.push(json!({"name": "notes", "type": "text"}));
    let with = Value::Array(draft).to_string();
    for (fields, expected) in [(&with, "rule-ok"), (&without, "rule-error")] {
        let mut form = new_collection_form("tasks", fields, "notes != ''");
        form.extend([("editing", "tasks"), ("rule", "listRule")]);
        let checked = browser.send(
            "POST",
            "/_/collections/check-rule",
            Some(&form),
            &[("HX-Request", "true"), ("X-CSRF-Token", &csrf)],
        )?;
        assert!(
            checked.body.contains(expected),
            "{expected}: {}",
            checked.body
        );
    }

    // A view collection is a SELECT; its fields come from the query.
    let view = [
        ("name", "open_tasks"),
        ("type", "view"),
        (
            "viewQuery",
            "SELECT id, title FROM tasks WHERE done = false",
        ),
        ("listRule", ""),
    ];
    let made_view = browser.submit("/_/collections/new", "/_/collections/new", &view)?;
    assert_eq!(made_view.status, 303, "{}", made_view.body);
    let (_, v) = api_collection(&server, &token, "open_tasks")?;
    assert_eq!(v["type"], "view");
    assert_eq!(field_names(&v), ["id", "title"]);
    let bad_view = [
        ("name", "bad_view"),
        ("type", "view"),
        ("viewQuery", "SELECT nope FROM"),
    ];
    let refused = browser.submit("/_/collections/new", "/_/collections/new", &bad_view)?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("viewQuery"), "{}", refused.body);
    let dropped = browser.submit(
        "/_/collections/open_tasks/edit",
        "/_/collections/open_tasks/delete",
        &[("confirm", "open_tasks")],
    )?;
    assert_eq!(dropped.status, 303, "{}", dropped.body);

    // Rename `title` to `name` (same field id) and add `notes`.
    let (_, before) = api_collection(&server, &token, "tasks")?;
    let mut fields = before["fields"].as_array().cloned().unwrap_or_default();
    fields[1]["name"] = json!("name");
    fields.push(json!({"name": "notes", "type": "editor", "maxSize": 0, "convertUrls": false}));
    let fields = Value::Array(fields).to_string();
    let mut form = new_collection_form("todo", &fields, "");
    form.push(("editing", "tasks"));
    let saved = browser.submit(
        "/_/collections/tasks/edit",
        "/_/collections/tasks/edit",
        &form,
    )?;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some("/_/collections/todo/edit?flash=collection_saved")
    );
    let (status, after) = api_collection(&server, &token, "todo")?;
    assert_eq!(status, 200);
    assert_eq!(after["id"], before["id"]);
    assert_eq!(
        field_names(&after),
        [
            "id", "name", "points", "done", "status", "due", "meta", "notes"
        ]
    );
    assert_eq!(after["listRule"], "");
    let list = http.get_auth(&server.url("/api/collections/todo/records"), &token)?;
    assert_eq!(
        list.json["items"][0]["name"], "Keep me",
        "the renamed column kept its data"
    );

    // Truncate: the typed name must match.
    let wrong = browser.submit(
        "/_/collections/todo/edit",
        "/_/collections/todo/truncate",
        &[("confirm", "tasks")],
    )?;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("does not match"), "{}", wrong.body);
    let count = |http: &Http| -> anyhow::Result<Value> {
        Ok(http
            .get_auth(&server.url("/api/collections/todo/records"), &token)?
            .json["totalItems"]
            .clone())
    };
    assert_eq!(count(&http)?, 1);
    let emptied = browser.submit(
        "/_/collections/todo/edit",
        "/_/collections/todo/truncate",
        &[("confirm", "todo")],
    )?;
    assert_eq!(emptied.status, 303, "{}", emptied.body);
    assert_eq!(count(&http)?, 0);

    // Delete: same confirmation; then it is gone from the API and the sidebar.
    let wrong = browser.submit(
        "/_/collections/todo/edit",
        "/_/collections/todo/delete",
        &[("confirm", "")],
    )?;
    assert_eq!(wrong.status, 400);
    assert_eq!(api_collection(&server, &token, "todo")?.0, 200);
    let deleted = browser.submit(
        "/_/collections/todo/edit",
        "/_/collections/todo/delete",
        &[("confirm", "todo")],
    )?;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(
        deleted.location.as_deref(),
        Some("/_/?flash=collection_deleted")
    );
    assert_eq!(api_collection(&server, &token, "todo")?.0, 404);
    assert!(
        !browser
            .get("/_/")?
            .body
            .contains("href=\"/_/collections/todo\"")
    );

    // System collections are protected as in the API.
    let system = browser.submit(
        "/_/collections/_superusers/edit",
        "/_/collections/_superusers/delete",
        &[("confirm", "_superusers")],
    )?;
    assert_eq!(system.status, 400, "{}", system.body);
    assert!(
        system.body.contains("System collections cannot be deleted"),
        "{}",
        system.body
    );
    assert_eq!(api_collection(&server, &token, "_superusers")?.0, 200);
    assert_eq!(browser.get("/_/collections/nope/edit")?.status, 404);

    // An auth collection keeps its system fields and sign-in options when edited.
    let (_, users) = api_collection(&server, &token, "users")?;
    let mut fields = users["fields"].as_array().cloned().unwrap_or_default();
    fields.push(json!({"name": "nickname", "type": "text"}));
    let fields = Value::Array(fields).to_string();
    let mut form = new_collection_form("users", &fields, "id = @request.auth.id");
    form[1] = ("type", "auth");
    let saved = browser.submit(
        "/_/collections/users/edit",
        "/_/collections/users/edit",
        &form,
    )?;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, after) = api_collection(&server, &token, "users")?;
    assert!(field_names(&after).contains(&"nickname".to_string()));
    assert!(users["passwordAuth"].is_object(), "{users}");
    assert_eq!(after["passwordAuth"], users["passwordAuth"]);
    assert_eq!(after["listRule"], "id = @request.auth.id");
    Ok(())
}

#[test]
fn the_editor_sets_oauth2_providers_without_ever_showing_a_secret() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::signed_in(&server)?;
    let editor = browser.get("/_/collections/users/edit")?;
    assert!(editor.body.contains("data-testid=\"oauth2-section\""));
    assert!(editor.body.contains("<option value=\"oidc2\">"));

    let oauth2 = |secret: &str| {
        json!({"enabled": true, "mappedFields": {"name": "name", "avatarURL": ""},
               "providers": [{"name": "oidc", "clientId": "corp-app", "clientSecret": secret,
                              "authURL": "https://sso.example.com/auth", "tokenURL": "https://sso.example.com/token",
                              "userInfoURL": "https://sso.example.com/me", "displayName": "Corp", "pkce": null, "extra": null}]})
        .to_string()
    };
    let fields = browser
        .get("/_/collections/users/edit")?
        .body
        .contains("&quot;email&quot;");
    assert!(fields, "the auth fields are in the editor");
    let users = api_collection(&server, &token, "users")?.1;
    let field_json = users["fields"].to_string();
    let form = |oauth2: &str| users_form(&field_json, &[("oauth2", oauth2)]);
    let pairs = form(&oauth2("s3cret-value"));
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = browser.submit(
        "/_/collections/users/edit",
        "/_/collections/users/edit",
        &refs,
    )?;
    assert_eq!(saved.status, 303, "{}", saved.body);

    let (_, c) = api_collection(&server, &token, "users")?;
    assert_eq!(c["oauth2"]["enabled"], true);
    assert_eq!(c["oauth2"]["providers"][0]["clientId"], "corp-app");
    assert_eq!(c["oauth2"]["providers"][0]["displayName"], "Corp");
    assert!(c["oauth2"]["providers"][0].get("clientSecret").is_none());
    let methods = Http::new().get(&server.url("/api/collections/users/auth-methods"))?;
    assert_eq!(
        methods.json["oauth2"]["providers"][0]["displayName"],
        "Corp"
    );
    assert!(
        methods.json["oauth2"]["providers"][0]["authURL"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://sso.example.com/auth?client_id=corp-app&"))
    );

    let page = browser.get("/_/collections/users/edit")?;
    assert!(page.body.contains("corp-app"));
    assert!(
        !page.body.contains("s3cret-value"),
        "the secret is not on the page"
    );

    // Saved again without a secret: the old one stays (the provider stays valid).
    let pairs = form(&oauth2(""));
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let again = browser.submit(
        "/_/collections/users/edit",
        "/_/collections/users/edit",
        &refs,
    )?;
    assert_eq!(again.status, 303, "{}", again.body);

    // A provider without a client id is refused, with the message at its row.
    let bad =
        json!({"enabled": true, "providers": [{"name": "github", "clientId": ""}]}).to_string();
    let pairs = form(&bad);
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = browser.submit(
        "/_/collections/users/edit",
        "/_/collections/users/edit",
        &refs,
    )?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("oauth2.providers.0.clientId"),
        "{}",
        refused.body
    );
    Ok(())
}

#[test]
fn the_editor_sets_an_auth_collections_manage_rule_mfa_and_one_time_codes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let mut browser = Browser::signed_in(&server)?;
    let editor = browser.get("/_/collections/users/edit")?;
    for testid in [
        "rule-manageRule",
        "rule-authRule",
        "mfa-enabled",
        "otp-length",
    ] {
        assert!(
            editor.body.contains(&format!("data-testid=\"{testid}\"")),
            "{testid} is on the page"
        );
    }
    let users = api_collection(&server, &token, "users")?.1;
    let field_json = users["fields"].to_string();
    let form = |mfa_duration: &str| {
        users_form(
            &field_json,
            &[
                ("authRule", "verified = true"),
                ("manageRule", "@request.auth.name = \"staff\""),
                ("signInShown", "1"),
                ("mfaEnabled", "on"),
                ("mfaDuration", mfa_duration),
                ("mfaRule", ""),
                ("otpEnabled", "on"),
                ("otpDuration", "300"),
                ("otpLength", "6"),
            ],
        )
    };
    let post = |browser: &mut Browser, pairs: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        browser.submit(
            "/_/collections/users/edit",
            "/_/collections/users/edit",
            &refs,
        )
    };
    let saved = post(&mut browser, form("600"))?;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, c) = api_collection(&server, &token, "users")?;
    assert_eq!(c["manageRule"], "@request.auth.name = \"staff\"");
    assert_eq!(c["authRule"], "verified = true");
    assert_eq!(c["mfa"]["enabled"], true);
    assert_eq!(c["mfa"]["duration"], 600);
    assert_eq!(c["otp"]["enabled"], true);
    assert_eq!(c["otp"]["duration"], 300);
    assert_eq!(c["otp"]["length"], 6);
    assert_eq!(
        c["otp"]["emailTemplate"], users["otp"]["emailTemplate"],
        "what the page does not edit stays as it was"
    );
    let shown = browser.get("/_/collections/users/edit")?.body;
    assert!(
        shown.contains("@request.auth.name = &quot;staff&quot;"),
        "the rule is shown again"
    );

    // A duration PocketBase refuses is refused here too, next to its input, and
    // nothing changes.
    let refused = post(&mut browser, form("5"))?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("err-mfa-duration"),
        "{}",
        refused.body
    );
    let (_, after) = api_collection(&server, &token, "users")?;
    assert_eq!(after["mfa"]["duration"], 600);
    Ok(())
}
