//! `PUT /api/collections/import` as PocketBase 0.40.6 answers it: definitions
//! laid over the collections of the same id or name (records kept), new ones
//! created with relations between them, `deleteMissing` deleting the rest
//! (never system collections), a re-import of an export changing nothing (not
//! even a `--dev` migration), and bad input refused in PocketBase's shape
//! with nothing applied.

mod support;

use litebase::testing::{Http, Server, assert_error_shape};
use serde_json::{Value, json};
use support::{add_superuser_in_process, app_with_migrations, serve_in_process};

/// Every collection as `GET /api/collections` lists it (an export).
fn export(server: &impl Server, token: &str) -> anyhow::Result<Vec<Value>> {
    let reply = Http::new().get_auth(&server.url("/api/collections?perPage=500"), token)?;
    anyhow::ensure!(reply.status == 200, "list collections: {}", reply.text);
    Ok(reply.json["items"].as_array().cloned().unwrap_or_default())
}

fn names(collections: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = collections
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

fn import(
    server: &impl Server,
    token: &str,
    body: &Value,
) -> anyhow::Result<litebase::testing::Reply> {
    Ok(Http::new().put_json_auth(&server.url("/api/collections/import"), token, body)?)
}

#[test]
fn imports_create_update_delete_and_repeat_as_a_no_op() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    let migrations = tmp.path().join("migrations");
    add_superuser_in_process(app_with_migrations(), &data)?;
    let migrations_dir = migrations.display().to_string();
    let server = serve_in_process(
        app_with_migrations(),
        &data,
        &["--dev", "--migrations-dir", &migrations_dir],
    )?;
    let token = support::superuser_token(&server)?;
    let http = Http::new();
    let made = http.post_json_auth(
        &server.url("/api/collections"),
        &token,
        &json!({"name": "authors", "listRule": "", "fields": [{"name": "name", "type": "text"}]}),
    )?;
    assert_eq!(made.status, 200, "{}", made.text);
    let author = http.post_json_auth(
        &server.url("/api/collections/authors/records"),
        &token,
        &json!({"name": "Ada"}),
    )?;
    assert_eq!(author.status, 200, "{}", author.text);
    let files = || {
        std::fs::read_dir(&migrations)
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let migrations_before = files();

    // authors gains a field (its old one is kept: no deleteMissing); posts is
    // new and points at authors by name.
    let reply = import(
        &server,
        &token,
        &json!({"collections": [
            {"name": "authors", "fields": [{"name": "bio", "type": "text"}]},
            {"name": "posts", "type": "base", "fields": [
                {"name": "title", "type": "text", "required": true},
                {"name": "author", "type": "relation", "collectionId": "authors", "maxSelect": 1}
            ]}
        ]}),
    )?;
    assert_eq!(reply.status, 204, "{}", reply.text);
    let after = export(&server, &token)?;
    assert_eq!(
        names(&after),
        ["_externalAuths", "_superusers", "authors", "posts", "users"]
    );
    let authors = after
        .iter()
        .find(|c| c["name"] == "authors")
        .cloned()
        .unwrap_or_default();
    let fields: Vec<&str> = authors["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(fields, ["id", "bio", "name"], "{authors}");
    let posts = after
        .iter()
        .find(|c| c["name"] == "posts")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        posts["fields"][2]["collectionId"], authors["id"],
        "stored by id"
    );
    let kept = http.get_auth(&server.url("/api/collections/authors/records"), &token)?;
    assert_eq!(kept.json["items"][0]["name"], "Ada", "records stay");
    assert_eq!(
        files(),
        migrations_before + 1,
        "one migration for the import"
    );

    // Importing the export again changes nothing, not even `updated`.
    let again = import(
        &server,
        &token,
        &json!({"collections": after, "deleteMissing": true}),
    )?;
    assert_eq!(again.status, 204, "{}", again.text);
    assert_eq!(export(&server, &token)?, after);
    assert_eq!(files(), migrations_before + 1, "no migration for no change");

    // deleteMissing: only authors listed, with one field; system collections stay.
    let mut only = authors.clone();
    only["fields"] = json!([{"name": "name", "type": "text"}]);
    let pruned = import(
        &server,
        &token,
        &json!({"collections": [only], "deleteMissing": true}),
    )?;
    assert_eq!(pruned.status, 204, "{}", pruned.text);
    let left = export(&server, &token)?;
    assert_eq!(names(&left), ["_externalAuths", "_superusers", "authors"]);
    let authors = left
        .iter()
        .find(|c| c["name"] == "authors")
        .cloned()
        .unwrap_or_default();
    let fields: Vec<&str> = authors["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(fields, ["id", "name"], "{authors}");
    let kept = http.get_auth(&server.url("/api/collections/authors/records"), &token)?;
    assert_eq!(
        kept.json["items"][0]["name"], "Ada",
        "the field kept its id, so its data"
    );
    Ok(())
}

#[test]
fn bad_imports_are_refused_whole_in_pocketbases_shape() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = support::serve_as_admin(dir.path())?;
    let before = export(&server, &token)?;

    let empty = import(&server, &token, &json!({"collections": []}))?;
    assert_error_shape(&empty, 400);
    assert_eq!(
        empty.json["message"],
        "An error occurred while validating the submitted data."
    );
    assert_eq!(
        empty.json["data"]["collections"]["code"],
        "validation_required"
    );

    let shapeless = import(&server, &token, &json!({"collections": "all of them"}))?;
    assert_error_shape(&shapeless, 400);
    assert_eq!(
        shapeless.json["message"],
        "An error occurred while loading the submitted data."
    );

    // One bad definition: the good one next to it is not created either.
    let bad = import(
        &server,
        &token,
        &json!({"collections": [
            {"name": "fine", "fields": [{"name": "a", "type": "text"}]},
            {"name": "broken", "fields": [{"name": "1st", "type": "text"}]}
        ]}),
    )?;
    assert_error_shape(&bad, 400);
    assert_eq!(bad.json["message"], "Failed to import collections.");
    assert_eq!(
        bad.json["data"]["collections"]["code"],
        "validation_collections_import_failure"
    );
    let message = bad.json["data"]["collections"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("\"broken\""), "{message}");
    assert!(message.contains("validation_invalid_name"), "{message}");

    let retyped = import(
        &server,
        &token,
        &json!({"collections": [{"name": "users", "type": "base"}]}),
    )?;
    assert_error_shape(&retyped, 400);
    let message = retyped.json["data"]["collections"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("validation_collection_type_change"),
        "{message}"
    );

    let dangling = import(
        &server,
        &token,
        &json!({"collections": [{"name": "orphans", "fields": [
            {"name": "parent", "type": "relation", "collectionId": "nowhere"}]}]}),
    )?;
    assert_error_shape(&dangling, 400);

    // A system collection in an import is left as it is.
    let mut superusers = before
        .iter()
        .find(|c| c["name"] == "_superusers")
        .cloned()
        .unwrap_or_default();
    superusers["listRule"] = json!("");
    let skipped = import(&server, &token, &json!({"collections": [superusers]}))?;
    assert_eq!(skipped.status, 204, "{}", skipped.text);
    assert_eq!(export(&server, &token)?, before, "nothing changed");

    // Superusers only.
    let body = json!({"collections": [{"name": "x"}]});
    let guest = import(&server, "", &body)?;
    assert_error_shape(&guest, 401);
    let user = support::admin::user_token(&server, &token)?;
    assert_error_shape(&import(&server, &user, &body)?, 403);
    Ok(())
}
