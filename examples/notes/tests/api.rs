//! The notes app over real HTTP, against the `notes` binary: the collection its
//! migration creates, the owner-only rules, the title hook and the summary route.

mod support;

use litebase::testing::{Http, Reply, assert_error_shape};
use serde_json::{Value, json};
use support::{Fixture, NOTES, note_url};

#[test]
fn the_migration_creates_the_notes_collection() -> anyhow::Result<()> {
    let fx = Fixture::start()?;
    let http = Http::new();
    let notes = http.get_auth(&fx.server.url("/api/collections/notes"), &fx.admin)?;
    assert_eq!(notes.status, 200, "{}", notes.text);
    let users = http.get_auth(&fx.server.url("/api/collections/users"), &fx.admin)?;
    let c = &notes.json;
    assert_eq!(c["name"], "notes");
    assert_eq!(c["type"], "base");
    let fields: Vec<(&str, &str)> = c["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    let s = |k: &str| f[k].as_str().unwrap_or_default();
                    (s("name"), s("type"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        fields,
        [
            ("id", "text"),
            ("title", "text"),
            ("body", "text"),
            ("done", "bool"),
            ("owner", "relation"),
            ("created", "autodate"),
            ("updated", "autodate"),
        ]
    );
    let field = |name: &str| {
        c["fields"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(field("title")["required"], true);
    assert_eq!(field("owner")["required"], true);
    assert_eq!(field("owner")["maxSelect"], 1);
    assert_eq!(field("owner")["collectionId"], users.json["id"]);
    assert_eq!(c["listRule"], "owner = @request.auth.id");
    assert_eq!(c["viewRule"], "owner = @request.auth.id");
    assert_eq!(
        c["createRule"],
        "@request.auth.id != \"\" && owner = @request.auth.id"
    );
    assert_eq!(
        c["updateRule"],
        "owner = @request.auth.id && (@request.body.owner:isset = false || @request.body.owner = @request.auth.id)"
    );
    assert_eq!(c["deleteRule"], "owner = @request.auth.id");
    Ok(())
}

/// A request of a rules scenario.
enum Req {
    List,
    View(String),
    Create(Value),
    Update(String, Value),
    Delete(String),
}

/// What a scenario expects: a list of exactly these titles, a record with this
/// title, an empty success, or an error in PocketBase's shape with this status
/// and message.
enum Want {
    Titles(&'static [&'static str]),
    Title(&'static str),
    NoContent,
    Error(u16, &'static str),
}

const NOT_FOUND: Want = Want::Error(404, "The requested resource wasn't found.");
const CREATE_REFUSED: Want = Want::Error(400, "Failed to create record.");

fn send(fx: &Fixture, token: &str, req: &Req) -> anyhow::Result<Reply> {
    let http = Http::new();
    let url = |path: &str| fx.server.url(path);
    Ok(match req {
        Req::List => http.get_auth(&url(&format!("{NOTES}?sort=title")), token)?,
        Req::View(id) => http.get_auth(&url(&note_url(id)), token)?,
        Req::Create(body) => http.post_json_auth(&url(NOTES), token, body)?,
        Req::Update(id, body) => http.patch_json_auth(&url(&note_url(id)), token, body)?,
        Req::Delete(id) => {
            let status = http.agent_delete(&url(&note_url(id)), token)?;
            Reply {
                status,
                json: Value::Null,
                text: String::new(),
            }
        }
    })
}

fn titles(reply: &Reply) -> Vec<&str> {
    reply.json["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["title"].as_str()).collect())
        .unwrap_or_default()
}

#[test]
fn each_user_reaches_only_their_own_notes() -> anyhow::Result<()> {
    let fx = Fixture::start()?;
    let a1 = fx.note(&fx.alice, "a1")?;
    fx.note(&fx.alice, "a2")?;
    let b1 = fx.note(&fx.bob, "b1")?;
    let (alice, bob, guest, admin) = (&fx.alice, &fx.bob, "", fx.admin.as_str());
    let a = alice.id.as_str();
    let b = bob.id.as_str();

    // Run in order: the writes near the end change what later rows see.
    #[rustfmt::skip]
    let scenarios: Vec<(&str, &str, Req, Want)> = vec![
        ("a guest lists nothing", guest, Req::List, Want::Titles(&[])),
        ("alice lists her notes", &alice.token, Req::List, Want::Titles(&["a1", "a2"])),
        ("bob lists his note", &bob.token, Req::List, Want::Titles(&["b1"])),
        ("a superuser lists all", admin, Req::List, Want::Titles(&["a1", "a2", "b1"])),
        ("alice views her note", &alice.token, Req::View(a1.clone()), Want::Title("a1")),
        ("bob cannot view alice's", &bob.token, Req::View(a1.clone()), NOT_FOUND),
        ("a guest cannot view alice's", guest, Req::View(a1.clone()), NOT_FOUND),
        ("a guest cannot create", guest, Req::Create(json!({"title": "g", "owner": a})), CREATE_REFUSED),
        ("alice cannot create for bob", &alice.token, Req::Create(json!({"title": "x", "owner": b})), CREATE_REFUSED),
        ("alice creates her own", &alice.token, Req::Create(json!({"title": "a3", "owner": a})), Want::Title("a3")),
        ("bob cannot edit alice's", &bob.token, Req::Update(a1.clone(), json!({"title": "mine"})), NOT_FOUND),
        ("alice cannot give hers to bob", &alice.token, Req::Update(a1.clone(), json!({"owner": b})), NOT_FOUND),
        ("alice edits hers", &alice.token, Req::Update(a1.clone(), json!({"done": true, "owner": a})), Want::Title("a1")),
        ("bob cannot delete alice's", &bob.token, Req::Delete(a1.clone()), NOT_FOUND),
        ("a guest cannot delete alice's", guest, Req::Delete(a1.clone()), NOT_FOUND),
        ("bob deletes his", &bob.token, Req::Delete(b1.clone()), Want::NoContent),
        ("alice deletes hers", &alice.token, Req::Delete(a1.clone()), Want::NoContent),
        ("alice's list after the writes", &alice.token, Req::List, Want::Titles(&["a2", "a3"])),
        ("bob's list after the writes", &bob.token, Req::List, Want::Titles(&[])),
    ];
    for (name, token, req, want) in &scenarios {
        let reply = send(&fx, token, req)?;
        match want {
            Want::Titles(want) => {
                assert_eq!(reply.status, 200, "{name}: {}", reply.text);
                assert_eq!(titles(&reply), *want, "{name}: {}", reply.text);
            }
            Want::Title(want) => {
                assert_eq!(reply.status, 200, "{name}: {}", reply.text);
                assert_eq!(reply.json["title"], *want, "{name}: {}", reply.text);
            }
            Want::NoContent => assert_eq!(reply.status, 204, "{name}"),
            // A delete's body is not read; its status is what PocketBase answers.
            Want::Error(status, _) if matches!(req, Req::Delete(_)) => {
                assert_eq!(reply.status, *status, "{name}")
            }
            Want::Error(status, message) => {
                let got = litebase::testing::check_error_shape(&reply, *status)
                    .map_err(|why| anyhow::anyhow!("{name}: {why}"))?;
                assert_eq!(got, *message, "{name}");
            }
        }
    }
    Ok(())
}

#[test]
fn the_title_hook_tidies_titles_and_refuses_blank_ones() -> anyhow::Result<()> {
    let fx = Fixture::start()?;
    let alice = &fx.alice;
    let new = |title: &str| json!({"title": title, "owner": alice.id});

    // An empty title is refused by litebase's `required` check, a title of
    // spaces by the hook, with the same answer.
    let blank = json!({
        "status": 400,
        "message": "Failed to create record.",
        "data": {"title": {"code": "validation_required", "message": "Cannot be blank."}}
    });
    for title in ["", "   ", "\n\t "] {
        let reply = fx.create(&alice.token, &new(title))?;
        assert_error_shape(&reply, 400);
        assert_eq!(reply.json, blank, "title {title:?}");
    }

    let reply = fx.create(&alice.token, &new("  Buy   oat\tmilk \n"))?;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["title"], "Buy oat milk");
    let id = reply.json["id"].as_str().unwrap_or_default().to_string();

    // What was stored, not only what was answered.
    let http = Http::new();
    let url = fx.server.url(&note_url(&id));
    let stored = http.get_auth(&url, &alice.token)?;
    assert_eq!(stored.json["title"], "Buy oat milk", "{}", stored.text);

    // Updates go through the same rule.
    let refused = http.patch_json_auth(&url, &alice.token, &json!({"title": "  "}))?;
    assert_error_shape(&refused, 400);
    assert_eq!(refused.json["message"], "Failed to update record.");
    assert_eq!(refused.json["data"]["title"]["code"], "validation_required");
    let renamed = http.patch_json_auth(&url, &alice.token, &json!({"title": " Buy  bread "}))?;
    assert_eq!(renamed.json["title"], "Buy bread", "{}", renamed.text);

    // Only the one tidy note exists: no refused write left a row behind.
    let list = http.get_auth(&fx.server.url(NOTES), &alice.token)?;
    assert_eq!(list.json["totalItems"], 1, "{}", list.text);
    Ok(())
}

#[test]
fn the_summary_counts_the_callers_notes_and_changes() -> anyhow::Result<()> {
    let fx = Fixture::start()?;
    let (alice, bob) = (&fx.alice, &fx.bob);
    let http = Http::new();

    // Guests, and tokens that do not verify, are turned away.
    for token in ["", "not-a-token"] {
        let reply = fx.summary(token)?;
        assert_eq!(
            assert_error_shape(&reply, 401),
            "The request requires valid record authorization token.",
            "token {token:?}"
        );
    }
    let zero = json!({"total": 0, "open": 0, "done": 0,
        "activity": {"created": 0, "updated": 0, "deleted": 0}});
    assert_eq!(fx.summary(&alice.token)?.json, zero);

    let first = fx.note(alice, "first")?;
    fx.note(alice, "second")?;
    let third = fx.note(alice, "third")?;
    fx.note(bob, "bob's")?;
    let done = http.patch_json_auth(
        &fx.server.url(&note_url(&first)),
        &alice.token,
        &json!({"done": true}),
    )?;
    assert_eq!(done.status, 200, "{}", done.text);
    let deleted = http.agent_delete(&fx.server.url(&note_url(&third)), &alice.token)?;
    assert_eq!(deleted, 204);
    // Refused writes never commit, so the subscriber never counts them.
    let refused = fx.create(&alice.token, &json!({"title": " ", "owner": alice.id}))?;
    assert_eq!(refused.status, 400, "{}", refused.text);
    let refused = fx.create(&bob.token, &json!({"title": "x", "owner": alice.id}))?;
    assert_eq!(refused.status, 400, "{}", refused.text);

    let want_alice = json!({"total": 2, "open": 1, "done": 1,
        "activity": {"created": 3, "updated": 1, "deleted": 1}});
    let got = fx.summary_once_settled(&alice.token, &want_alice)?;
    assert_eq!(got.status, 200, "{}", got.text);
    assert_eq!(got.json, want_alice);
    let want_bob = json!({"total": 1, "open": 1, "done": 0,
        "activity": {"created": 1, "updated": 0, "deleted": 0}});
    assert_eq!(
        fx.summary_once_settled(&bob.token, &want_bob)?.json,
        want_bob
    );
    Ok(())
}
