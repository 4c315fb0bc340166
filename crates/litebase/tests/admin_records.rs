//! The admin UI's records pages against the `litebase` binary: the table (filter
//! with inline errors, sort, pages, bulk delete), the record form for every field
//! type (validation errors inline, nothing stored), the relation picker's search,
//! and auth collections.

mod support;

use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};
use support::admin::{Browser, Page};

/// A signed-in admin browser on a fresh server; also the superuser's API token.
fn admin(dir: &std::path::Path) -> anyhow::Result<(ServerProcess, String, Browser)> {
    let (server, token) = support::serve_as_admin(dir)?;
    let browser = Browser::signed_in(&server)?;
    Ok((server, token, browser))
}

fn create_collection(server: &ServerProcess, token: &str, body: Value) -> anyhow::Result<Value> {
    let reply = Http::new().post_json_auth(&server.url("/api/collections"), token, &body)?;
    anyhow::ensure!(reply.status == 200, "create collection: {}", reply.text);
    Ok(reply.json)
}

fn create_record(
    server: &ServerProcess,
    token: &str,
    collection: &str,
    body: Value,
) -> anyhow::Result<String> {
    let reply = Http::new().post_json_auth(
        &server.url(&format!("/api/collections/{collection}/records")),
        token,
        &body,
    )?;
    anyhow::ensure!(reply.status == 200, "create record: {}", reply.text);
    Ok(reply.json["id"].as_str().unwrap_or_default().to_string())
}

fn list(server: &ServerProcess, token: &str, collection: &str) -> anyhow::Result<Value> {
    let reply = Http::new().get_auth(
        &server.url(&format!(
            "/api/collections/{collection}/records?perPage=100"
        )),
        token,
    )?;
    anyhow::ensure!(reply.status == 200, "list: {}", reply.text);
    Ok(reply.json)
}

fn rows(page: &Page) -> usize {
    page.body.matches("<tr data-id=").count()
}

/// `authors` (name) and `books` with text, number, bool, select, json, date and
/// relation fields; two authors. Returns (ursula id, terry id).
fn books(server: &ServerProcess, token: &str) -> anyhow::Result<(String, String)> {
    let authors = create_collection(
        server,
        token,
        json!({"name": "authors", "type": "base", "fields": [{"name": "name", "type": "text"}]}),
    )?;
    create_collection(
        server,
        token,
        json!({"name": "books", "type": "base", "fields": [
            {"name": "title", "type": "text", "required": true},
            {"name": "pages", "type": "number"},
            {"name": "published", "type": "bool"},
            {"name": "genre", "type": "select", "values": ["fiction", "poetry", "essay"], "maxSelect": 1},
            {"name": "tags", "type": "select", "values": ["old", "new", "long"], "maxSelect": 3},
            {"name": "meta", "type": "json"},
            {"name": "released", "type": "date"},
            {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1},
            {"name": "editors", "type": "relation", "collectionId": authors["id"], "maxSelect": 5},
        ]}),
    )?;
    let ursula = create_record(server, token, "authors", json!({"name": "Ursula"}))?;
    let terry = create_record(server, token, "authors", json!({"name": "Terry"}))?;
    Ok((ursula, terry))
}

#[test]
fn record_forms_create_edit_and_delete_every_field_type() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, mut b) = admin(dir.path())?;
    let (ursula, terry) = books(&server, &token)?;

    let form = b.get("/_/collections/books/records/new")?;
    assert_eq!(form.status, 200, "{}", form.body);
    for widget in [
        "name=\"title\"",
        "type=\"number\"",
        "type=\"checkbox\"",
        "<option value=\"poetry\"",
        "multiple",
        "type=\"datetime-local\"",
        "class=\"rec-json\"",
        "relation-options?field=author",
    ] {
        assert!(
            form.body.contains(widget),
            "{widget} missing: {}",
            form.body
        );
    }

    let new = "/_/collections/books/records/new";
    let created = b.submit(
        new,
        "/_/collections/books/records",
        &[
            ("title", "The Dispossessed"),
            ("pages", "387"),
            ("published", ""),
            ("published", "on"),
            ("genre", "fiction"),
            ("tags", ""),
            ("tags", "old"),
            ("tags", "long"),
            ("meta", "{\"awards\": [\"Hugo\", \"Nebula\"]}"),
            ("released", "1974-05-01T10:30:00"),
            ("author", ""),
            ("author", &ursula),
            ("editors", ""),
            ("editors", &terry),
            ("editors", &ursula),
        ],
    )?;
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(
        created.location.as_deref(),
        Some("/_/collections/books?flash=record_created")
    );
    let stored = list(&server, &token, "books")?;
    let book = &stored["items"][0];
    assert_eq!(book["title"], "The Dispossessed");
    assert_eq!(book["pages"], 387);
    assert_eq!(book["published"], true);
    assert_eq!(book["genre"], "fiction");
    assert_eq!(book["tags"], json!(["old", "long"]));
    assert_eq!(book["meta"], json!({"awards": ["Hugo", "Nebula"]}));
    assert_eq!(book["released"], "1974-05-01 10:30:00.000Z");
    assert_eq!(book["author"], ursula.as_str());
    assert_eq!(book["editors"], json!([terry, ursula]));
    let id = book["id"].as_str().unwrap_or_default().to_string();

    // The API's validation error, inline next to its field; what was typed stays.
    let refused = b.submit(
        new,
        "/_/collections/books/records",
        &[("title", ""), ("pages", "42"), ("genre", "poetry")],
    )?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("data-testid=\"error-title\""));
    assert!(refused.body.contains("value=\"42\""), "typed number kept");
    // Text that is not JSON is caught before the write, also inline.
    let bad_json = b.submit(
        new,
        "/_/collections/books/records",
        &[("title", "Kept title"), ("meta", "{not json")],
    )?;
    assert_eq!(bad_json.status, 400, "{}", bad_json.body);
    assert!(bad_json.body.contains("data-testid=\"error-meta\""));
    assert!(bad_json.body.contains("value=\"Kept title\""));
    assert!(bad_json.body.contains("{not json"));
    assert_eq!(
        list(&server, &token, "books")?["totalItems"],
        1,
        "nothing stored"
    );

    // Edit: the form shows the stored values, the relation by its display name.
    let edit_path = format!("/_/collections/books/records/{id}");
    let edit = b.get(&edit_path)?;
    assert_eq!(edit.status, 200, "{}", edit.body);
    assert!(edit.body.contains("value=\"The Dispossessed\""));
    assert!(edit.body.contains("value=\"1974-05-01T10:30:00\""));
    assert!(edit.body.contains("Ursula"), "related record by name");
    let saved = b.submit(
        &edit_path,
        &edit_path,
        &[
            ("title", "The Dispossessed (2nd ed.)"),
            ("published", ""),
            ("author", ""),
            ("author", &terry),
            ("tags", ""),
            ("editors", ""),
        ],
    )?;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let book = &list(&server, &token, "books")?["items"][0];
    assert_eq!(book["title"], "The Dispossessed (2nd ed.)");
    assert_eq!(book["published"], false, "an unchecked box is false");
    assert_eq!(book["author"], terry.as_str());
    assert_eq!(book["pages"], 387, "fields not posted are kept");
    assert_eq!(
        book["tags"],
        json!([]),
        "an emptied multi-select is cleared"
    );
    assert_eq!(
        book["editors"],
        json!([]),
        "an emptied relation picker is cleared"
    );

    // A date saved elsewhere with milliseconds survives a re-save of the form
    // (the picker has whole seconds): the form posts the stored value back.
    let precise = "1974-05-01 10:30:00.123Z";
    let patched = Http::new().patch_json_auth(
        &server.url(&format!("/api/collections/books/records/{id}")),
        &token,
        &json!({"released": precise}),
    )?;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let edit = b.get(&edit_path)?;
    let hidden = format!("name=\"stored:released\" value=\"{precise}\"");
    assert!(edit.body.contains(&hidden), "{}", edit.body);
    let resave = |b: &mut Browser, released: &str| {
        b.submit(
            &edit_path,
            &edit_path,
            &[("released", released), ("stored:released", precise)],
        )
    };
    let kept = resave(&mut b, "1974-05-01T10:30:00")?;
    assert_eq!(kept.status, 303, "{}", kept.body);
    assert_eq!(
        list(&server, &token, "books")?["items"][0]["released"],
        precise
    );
    let changed = resave(&mut b, "1974-05-01T10:30:01")?;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(
        list(&server, &token, "books")?["items"][0]["released"],
        "1974-05-01 10:30:01.000Z"
    );

    // The table shows the relation by its display field.
    let table = b.get("/_/collections/books")?;
    assert_eq!(table.status, 200, "{}", table.body);
    assert!(table.body.contains(">Terry</span>"), "{}", table.body);

    // Relation picker search.
    let options = b.get("/_/collections/books/relation-options?field=author&q=ters")?;
    assert_eq!(options.status, 200, "{}", options.body);
    assert!(!options.body.contains("Terry") && !options.body.contains("Ursula"));
    let options = b.get("/_/collections/books/relation-options?field=author&q=ERR")?;
    assert!(options.body.contains(&format!("data-id=\"{terry}\"")));
    assert!(!options.body.contains("Ursula"));
    let all = b.get("/_/collections/books/relation-options?field=author&q=")?;
    assert!(all.body.contains("Ursula") && all.body.contains("Terry"));
    let wrong = b.get("/_/collections/books/relation-options?field=title&q=")?;
    assert_eq!(wrong.status, 404, "{}", wrong.body);

    // Delete through the form.
    let deleted = b.submit(&edit_path, &format!("{edit_path}/delete"), &[])?;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(list(&server, &token, "books")?["totalItems"], 0);
    assert_eq!(b.get(&edit_path)?.status, 404);
    assert_eq!(b.get("/_/collections/nope")?.status, 404);
    Ok(())
}

#[test]
fn records_table_filters_sorts_pages_and_bulk_deletes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, mut b) = admin(dir.path())?;
    create_collection(
        &server,
        &token,
        json!({"name": "items", "type": "base", "fields": [
            {"name": "label", "type": "text"}, {"name": "n", "type": "number"},
        ]}),
    )?;
    for n in 1..=25 {
        create_record(
            &server,
            &token,
            "items",
            json!({"label": format!("item{n:02}"), "n": n}),
        )?;
    }
    let first = b.get("/_/collections/items")?;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(rows(&first), 20, "default page size");
    assert!(first.body.contains("data-testid=\"next-page\""));
    assert!(first.body.contains("/_/collections/items/edit"));
    let last = b.get("/_/collections/items?perPage=10&page=3")?;
    assert_eq!(rows(&last), 5);
    assert!(!last.body.contains("data-testid=\"next-page\""));

    let sorted = b.get("/_/collections/items?sort=-n")?;
    let pos = |p: &Page, s: &str| p.body.find(s).unwrap_or(usize::MAX);
    assert!(pos(&sorted, "item25") < pos(&sorted, "item24"));
    assert!(sorted.body.contains("aria-sort=\"descending\""));
    assert!(
        sorted.body.contains("href=\"?sort=n\""),
        "the header toggles"
    );

    let filtered = b.get("/_/collections/items?filter=n%20%3E%2020")?;
    assert_eq!(filtered.status, 200);
    assert_eq!(rows(&filtered), 5);

    // A bad filter: the compiler's message inline, never a 500.
    let bad = b.get("/_/collections/items?filter=n%20%3E%3E%3E")?;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("data-testid=\"filter-error\""));
    assert!(bad.body.contains("Invalid filter"), "{}", bad.body);
    let bad_field = b.get("/_/collections/items?filter=nope%3D1")?;
    assert_eq!(bad_field.status, 400);
    // htmx: only the error, retargeted, so the table stays.
    let htmx = [("HX-Request", "true"), ("HX-Target", "records")];
    let fragment = b.send(
        "GET",
        "/_/collections/items?filter=n%20%3E%3E%3E",
        None,
        &htmx,
    )?;
    assert_eq!(fragment.status, 200, "{}", fragment.body);
    assert!(fragment.body.contains("id=\"filter-error\""));
    assert!(!fragment.body.contains("records-table") && !fragment.body.contains("<html"));
    let good = b.send("GET", "/_/collections/items?filter=n%3C3", None, &htmx)?;
    assert_eq!(rows(&good), 2);
    assert!(good.body.contains("id=\"records\"") && !good.body.contains("<html"));

    // Bulk delete: one POST for the checked rows.
    let items = list(&server, &token, "items")?;
    let ids: Vec<String> = items["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(3)
                .filter_map(|i| i["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut fields: Vec<(&str, &str)> = ids.iter().map(|id| ("ids", id.as_str())).collect();
    fields.push(("ids", ""));
    let done = b.submit(
        "/_/collections/items",
        "/_/collections/items/bulk-delete",
        &fields,
    )?;
    assert_eq!(done.status, 303, "{}", done.body);
    let left = list(&server, &token, "items")?;
    assert_eq!(left["totalItems"], 22);
    let ids_left: Vec<String> = left["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .take(2)
                .filter_map(|i| i["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(ids_left.len(), 2);
    let none = b.submit(
        "/_/collections/items",
        "/_/collections/items/bulk-delete",
        &[],
    )?;
    assert_eq!(none.status, 400);
    assert!(none.body.contains("data-testid=\"bulk-error\""));

    // All or nothing: one id that cannot be deleted (gone already) keeps the
    // two before it, and the refusal names it.
    let refused = b.submit(
        "/_/collections/items",
        "/_/collections/items/bulk-delete",
        &[
            ("ids", ids_left[0].as_str()),
            ("ids", ids_left[1].as_str()),
            ("ids", ids[0].as_str()),
        ],
    )?;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("data-testid=\"bulk-error\""));
    assert!(
        refused.body.contains(&format!("{}: ", ids[0])),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Nothing was deleted."));
    assert_eq!(list(&server, &token, "items")?["totalItems"], 22);
    Ok(())
}

#[test]
fn auth_collection_records_get_a_password_form() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token, mut b) = admin(dir.path())?;
    let new = "/_/collections/users/records/new";
    let form = b.get(new)?;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("name=\"passwordConfirm\""));
    assert!(!form.body.contains("tokenKey"), "secrets never shown");
    let mismatch = b.submit(
        new,
        "/_/collections/users/records",
        &[
            ("email", "reader@example.com"),
            ("password", "reader-password-1"),
            ("passwordConfirm", "something-else-1"),
        ],
    )?;
    assert_eq!(mismatch.status, 400, "{}", mismatch.body);
    assert!(mismatch.body.contains("value=\"reader@example.com\""));
    assert_eq!(list(&server, &token, "users")?["totalItems"], 0);
    let created = b.submit(
        new,
        "/_/collections/users/records",
        &[
            ("email", "reader@example.com"),
            ("password", "reader-password-1"),
            ("passwordConfirm", "reader-password-1"),
            ("verified", ""),
            ("verified", "on"),
        ],
    )?;
    assert_eq!(created.status, 303, "{}", created.body);
    let signed_in = Http::new().post_json(
        &server.url("/api/collections/users/auth-with-password"),
        &json!({"identity": "reader@example.com", "password": "reader-password-1"}),
    )?;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert_eq!(signed_in.json["record"]["verified"], true);
    Ok(())
}
