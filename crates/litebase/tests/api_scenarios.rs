//! The collections and records API as tables of scenarios, each run in this
//! process against a fresh app (see `support/scenario.rs`): who sends what, the
//! status and JSON that come back, and the realtime events a superuser, Alice,
//! Bob and a guest receive because of it.
//!
//! The world: `posts` (public; the author alone edits), `notes` (the owner
//! alone, signed in), `vault` (superusers only), Alice and Bob in `users`,
//! `{post_alice}`, `{note_alice}`, `{note_bob}` and `{vault_one}`.

mod support;

use serde_json::json;
use support::scenario::Who::{Alice, Bob, Guest, Superuser};
use support::scenario::{
    Body::{Any, Contains, Exact},
    Event, NOTE_OF_BOB, Rec, Scenario, World, created, deleted, updated,
};

/// PocketBase's 404 body.
fn not_found() -> serde_json::Value {
    json!({"status": 404, "message": "The requested resource wasn't found.", "data": {}})
}

#[test]
fn collections_are_for_superusers_and_emit_no_record_events() -> anyhow::Result<()> {
    let table = [
        Scenario {
            name: "a guest may not list collections",
            method: "GET",
            url: "/api/collections",
            who: Guest,
            status: 401,
            ..Scenario::default()
        },
        Scenario {
            name: "a user may not list collections",
            method: "GET",
            url: "/api/collections",
            who: Alice,
            status: 403,
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser lists collections, system ones included",
            method: "GET",
            url: "/api/collections?filter=name%3D'posts'%20%7C%7C%20name%3D'users'&sort=name",
            who: Superuser,
            status: 200,
            json: Contains(json!({"totalItems": 2, "items": [
                {"name": "posts", "id": "{posts}", "listRule": ""},
                {"name": "users", "type": "auth"},
            ]})),
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser views a collection with its rules",
            method: "GET",
            url: "/api/collections/notes",
            who: Superuser,
            status: 200,
            json: Contains(json!({"name": "notes", "type": "base",
                "listRule": "owner = @request.auth.id", "createRule": "@request.auth.id != '' && owner = @request.auth.id"})),
            ..Scenario::default()
        },
        Scenario {
            name: "a guest may not create a collection",
            method: "POST",
            url: "/api/collections",
            body: Some(json!({"name": "intruders", "fields": [{"name": "x", "type": "text"}]})),
            who: Guest,
            status: 401,
            ..Scenario::default()
        },
        Scenario {
            name: "a user may not create a collection",
            method: "POST",
            url: "/api/collections",
            body: Some(json!({"name": "intruders", "fields": [{"name": "x", "type": "text"}]})),
            who: Bob,
            status: 403,
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser creates a collection",
            method: "POST",
            url: "/api/collections",
            body: Some(
                json!({"name": "tasks", "listRule": "", "fields": [{"name": "title", "type": "text"}]}),
            ),
            who: Superuser,
            status: 200,
            json: Contains(
                json!({"name": "tasks", "type": "base", "listRule": "", "viewRule": null}),
            ),
            ..Scenario::default()
        },
        Scenario {
            name: "a collection name that is taken is refused with data.name",
            method: "POST",
            url: "/api/collections",
            body: Some(json!({"name": "posts", "fields": []})),
            who: Superuser,
            status: 400,
            json: Contains(json!({"status": 400, "data": {"name": {}}})),
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser opens the vault to signed-in users",
            method: "PATCH",
            url: "/api/collections/vault",
            body: Some(json!({"listRule": "@request.auth.id != ''"})),
            who: Superuser,
            status: 200,
            json: Contains(
                json!({"name": "vault", "listRule": "@request.auth.id != ''", "viewRule": null}),
            ),
            ..Scenario::default()
        },
        Scenario {
            name: "a rule on an unknown field is refused with data.listRule",
            method: "PATCH",
            url: "/api/collections/posts",
            body: Some(json!({"listRule": "nope = 1"})),
            who: Superuser,
            status: 400,
            json: Contains(json!({"data": {"listRule": {}}})),
            ..Scenario::default()
        },
        Scenario {
            name: "a user may not change a collection",
            method: "PATCH",
            url: "/api/collections/posts",
            body: Some(json!({"updateRule": ""})),
            who: Alice,
            status: 403,
            ..Scenario::default()
        },
        Scenario {
            name: "deleting a collection sends no record events",
            method: "DELETE",
            url: "/api/collections/vault",
            who: Superuser,
            status: 204,
            json: Exact(serde_json::Value::Null),
            ..Scenario::default()
        },
        Scenario {
            name: "a system collection cannot be deleted",
            method: "DELETE",
            url: "/api/collections/_superusers",
            who: Superuser,
            status: 400,
            ..Scenario::default()
        },
        Scenario {
            name: "an unknown collection is a 404",
            method: "GET",
            url: "/api/collections/nope",
            who: Superuser,
            status: 404,
            json: Exact(not_found()),
            ..Scenario::default()
        },
    ];
    World::build()?.run(&table)
}

#[test]
fn records_follow_the_rules_for_each_identity_and_emit_events_to_who_may_see_them()
-> anyhow::Result<()> {
    let public = |e: Event| e.public();
    let table = [
        // Listing and viewing.
        Scenario {
            name: "a guest lists public posts",
            method: "GET",
            url: "/api/collections/posts/records",
            who: Guest,
            status: 200,
            json: Contains(
                json!({"totalItems": 1, "items": [{"id": "{post_alice}", "title": "Alice's post"}]}),
            ),
            ..Scenario::default()
        },
        Scenario {
            name: "a guest's list of notes is empty, not refused",
            method: "GET",
            url: "/api/collections/notes/records",
            who: Guest,
            status: 200,
            json: Contains(json!({"totalItems": 0, "items": []})),
            hidden: vec![NOTE_OF_BOB],
            ..Scenario::default()
        },
        Scenario {
            name: "Alice lists her own note only",
            method: "GET",
            url: "/api/collections/notes/records",
            who: Alice,
            status: 200,
            json: Contains(
                json!({"totalItems": 1, "items": [{"id": "{note_alice}", "owner": "{alice}"}]}),
            ),
            hidden: vec![NOTE_OF_BOB],
            ..Scenario::default()
        },
        Scenario {
            name: "a filter cannot reach past the list rule",
            method: "GET",
            url: "/api/collections/notes/records?filter=owner%3D'{bob}'",
            who: Alice,
            status: 200,
            json: Contains(json!({"totalItems": 0})),
            hidden: vec![NOTE_OF_BOB],
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser lists every note",
            method: "GET",
            url: "/api/collections/notes/records?sort=text",
            who: Superuser,
            status: 200,
            json: Contains(
                json!({"totalItems": 2, "items": [{"text": "alice's note"}, {"text": NOTE_OF_BOB}]}),
            ),
            ..Scenario::default()
        },
        Scenario {
            name: "a user may not list a superusers-only collection",
            method: "GET",
            url: "/api/collections/vault/records",
            who: Alice,
            status: 403,
            hidden: vec!["1234"],
            ..Scenario::default()
        },
        Scenario {
            name: "a guest views a public post",
            method: "GET",
            url: "/api/collections/posts/records/{post_alice}",
            who: Guest,
            status: 200,
            json: Contains(
                json!({"id": "{post_alice}", "collectionName": "posts", "author": "{alice}"}),
            ),
            ..Scenario::default()
        },
        Scenario {
            name: "Bob cannot view Alice's note: a 404, as if it did not exist",
            method: "GET",
            url: "/api/collections/notes/records/{note_alice}",
            who: Bob,
            status: 404,
            json: Exact(not_found()),
            ..Scenario::default()
        },
        Scenario {
            name: "Bob views his note",
            method: "GET",
            url: "/api/collections/notes/records/{note_bob}",
            who: Bob,
            status: 200,
            json: Contains(json!({"id": "{note_bob}", "text": NOTE_OF_BOB})),
            ..Scenario::default()
        },
        // Creating.
        Scenario {
            name: "a guest creates a post; everyone hears of it",
            method: "POST",
            url: "/api/collections/posts/records",
            body: Some(json!({"title": "from a guest"})),
            who: Guest,
            status: 200,
            json: Contains(json!({"title": "from a guest", "collectionName": "posts"})),
            events: vec![public(created("posts"))],
            ..Scenario::default()
        },
        Scenario {
            name: "a post without its required title is refused with data.title",
            method: "POST",
            url: "/api/collections/posts/records",
            body: Some(json!({"author": "{alice}"})),
            who: Alice,
            status: 400,
            json: Contains(
                json!({"status": 400, "data": {"title": {"code": "validation_required"}}}),
            ),
            ..Scenario::default()
        },
        Scenario {
            name: "a guest may not create a note",
            method: "POST",
            url: "/api/collections/notes/records",
            body: Some(json!({"owner": "{alice}", "text": "forged"})),
            who: Guest,
            status: 400,
            ..Scenario::default()
        },
        Scenario {
            name: "Alice creates her note; only she and the superuser hear of it",
            method: "POST",
            url: "/api/collections/notes/records",
            body: Some(json!({"owner": "{alice}", "text": "another"})),
            who: Alice,
            status: 200,
            json: Contains(json!({"owner": "{alice}", "text": "another"})),
            events: vec![created("notes").seen_by(&[Alice])],
            ..Scenario::default()
        },
        Scenario {
            name: "Alice may not create a note owned by Bob",
            method: "POST",
            url: "/api/collections/notes/records",
            body: Some(json!({"owner": "{bob}", "text": "planted"})),
            who: Alice,
            status: 400,
            ..Scenario::default()
        },
        Scenario {
            name: "a user may not write to a superusers-only collection",
            method: "POST",
            url: "/api/collections/vault/records",
            body: Some(json!({"code": "0000"})),
            who: Bob,
            status: 403,
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser writes to the vault; nobody else hears of it",
            method: "POST",
            url: "/api/collections/vault/records",
            body: Some(json!({"code": "5678"})),
            who: Superuser,
            status: 200,
            json: Contains(json!({"code": "5678"})),
            events: vec![created("vault")],
            ..Scenario::default()
        },
        // Updating.
        Scenario {
            name: "Alice edits her post; everyone hears of it",
            method: "PATCH",
            url: "/api/collections/posts/records/{post_alice}",
            body: Some(json!({"title": "Alice's post, edited"})),
            who: Alice,
            status: 200,
            json: Contains(json!({"id": "{post_alice}", "title": "Alice's post, edited"})),
            events: vec![public(updated("posts", "post_alice"))],
            ..Scenario::default()
        },
        Scenario {
            name: "Bob may not edit Alice's post: a 404",
            method: "PATCH",
            url: "/api/collections/posts/records/{post_alice}",
            body: Some(json!({"title": "defaced"})),
            who: Bob,
            status: 404,
            ..Scenario::default()
        },
        Scenario {
            name: "a guest may not edit a post",
            method: "PATCH",
            url: "/api/collections/posts/records/{post_alice}",
            body: Some(json!({"title": "defaced"})),
            who: Guest,
            status: 404,
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser edits Alice's note; Bob does not hear of it",
            method: "PATCH",
            url: "/api/collections/notes/records/{note_alice}",
            body: Some(json!({"text": "moderated"})),
            who: Superuser,
            status: 200,
            json: Contains(json!({"text": "moderated", "owner": "{alice}"})),
            events: vec![updated("notes", "note_alice").seen_by(&[Alice])],
            ..Scenario::default()
        },
        Scenario {
            // The update rule is checked on the record as it was (as in
            // PocketBase); the event is checked on the record as it is now.
            name: "Alice hands her note to Bob: Bob hears of it, she no longer does",
            method: "PATCH",
            url: "/api/collections/notes/records/{note_alice}",
            body: Some(json!({"owner": "{bob}"})),
            who: Alice,
            status: 200,
            json: Contains(json!({"id": "{note_alice}", "owner": "{bob}"})),
            events: vec![updated("notes", "note_alice").seen_by(&[Bob])],
            ..Scenario::default()
        },
        Scenario {
            name: "Alice updates her own account; users' rules show it to her alone",
            method: "PATCH",
            url: "/api/collections/users/records/{alice}",
            body: Some(json!({"name": "Alice A."})),
            who: Alice,
            status: 200,
            json: Contains(json!({"id": "{alice}", "name": "Alice A."})),
            events: vec![updated("users", "alice").seen_by(&[Alice])],
            ..Scenario::default()
        },
        // Deleting.
        Scenario {
            name: "Bob may not delete Alice's note",
            method: "DELETE",
            url: "/api/collections/notes/records/{note_alice}",
            who: Bob,
            status: 404,
            ..Scenario::default()
        },
        Scenario {
            name: "Alice deletes her note; only she and the superuser hear of it",
            method: "DELETE",
            url: "/api/collections/notes/records/{note_alice}",
            who: Alice,
            status: 204,
            events: vec![deleted("notes", "note_alice").seen_by(&[Alice])],
            ..Scenario::default()
        },
        Scenario {
            name: "Alice deletes her post; everyone hears of it",
            method: "DELETE",
            url: "/api/collections/posts/records/{post_alice}",
            who: Alice,
            status: 204,
            events: vec![public(deleted("posts", "post_alice"))],
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser empties the vault; nobody else hears of it",
            method: "DELETE",
            url: "/api/collections/vault/records/{vault_one}",
            who: Superuser,
            status: 204,
            events: vec![deleted("vault", "vault_one")],
            ..Scenario::default()
        },
        Scenario {
            name: "a record that does not exist is a 404",
            method: "DELETE",
            url: "/api/collections/posts/records/nosuchrecord000",
            who: Superuser,
            status: 404,
            json: Exact(not_found()),
            ..Scenario::default()
        },
    ];
    World::build()?.run(&table)
}

#[test]
fn a_batch_commits_all_or_nothing_and_its_events_follow_the_rules() -> anyhow::Result<()> {
    let item = |method: &str, url: &str, body: serde_json::Value| json!({"method": method, "url": url, "body": body});
    let table = [
        Scenario {
            name: "Alice's batch: a post and a note, each heard by who may see it",
            method: "POST",
            url: "/api/batch",
            body: Some(json!({"requests": [
                item("POST", "/api/collections/posts/records", json!({"title": "batched", "author": "{alice}"})),
                item("POST", "/api/collections/notes/records", json!({"owner": "{alice}", "text": "batched"})),
            ]})),
            who: Alice,
            status: 200,
            json: Contains(json!([
                {"status": 200, "body": {"title": "batched"}},
                {"status": 200, "body": {"text": "batched"}},
            ])),
            events: vec![
                Event::new("create", "posts", Rec::Batch(0)).public(),
                Event::new("create", "notes", Rec::Batch(1)).seen_by(&[Alice]),
            ],
            ..Scenario::default()
        },
        Scenario {
            name: "one refused item (a note for Bob) refuses the whole batch: no events",
            method: "POST",
            url: "/api/batch",
            body: Some(json!({"requests": [
                item("POST", "/api/collections/posts/records", json!({"title": "batched"})),
                item("POST", "/api/collections/notes/records", json!({"owner": "{bob}", "text": "planted"})),
            ]})),
            who: Alice,
            status: 400,
            json: Contains(json!({"status": 400, "data": {"requests": {"1": {}}}})),
            ..Scenario::default()
        },
        Scenario {
            name: "a guest's batch into the vault is refused",
            method: "POST",
            url: "/api/batch",
            body: Some(
                json!({"requests": [item("POST", "/api/collections/vault/records", json!({"code": "0"}))]}),
            ),
            who: Guest,
            status: 400,
            ..Scenario::default()
        },
        Scenario {
            name: "the superuser's batch: update, delete, create, each event in order",
            method: "POST",
            url: "/api/batch",
            body: Some(json!({"requests": [
                item("PATCH", "/api/collections/vault/records/{vault_one}", json!({"code": "4321"})),
                item("DELETE", "/api/collections/posts/records/{post_alice}", json!({})),
                item("POST", "/api/collections/notes/records", json!({"owner": "{bob}", "text": "for Bob"})),
            ]})),
            who: Superuser,
            status: 200,
            json: Contains(json!([
                {"status": 200, "body": {"code": "4321"}},
                {"status": 204},
                {"status": 200, "body": {"owner": "{bob}"}},
            ])),
            events: vec![
                updated("vault", "vault_one"),
                deleted("posts", "post_alice").public(),
                Event::new("create", "notes", Rec::Batch(2)).seen_by(&[Bob]),
            ],
            ..Scenario::default()
        },
        Scenario {
            name: "an empty batch is refused",
            method: "POST",
            url: "/api/batch",
            body: Some(json!({"requests": []})),
            who: Superuser,
            status: 400,
            json: Any,
            ..Scenario::default()
        },
    ];
    World::build()?.run(&table)
}
