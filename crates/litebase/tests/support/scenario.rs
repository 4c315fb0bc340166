//! Scenario tables for the API, run in this process: each [`Scenario`] is one
//! request (method, URL, body, who sends it) with the answer it must get (status,
//! JSON exactly or as a subset, text that must not show) and the realtime events
//! it must cause, run against a fresh app.
//!
//! "Fresh" is cheap: a [`World`] is built once per table (superuser, two users,
//! collections with rules, records) in a template data dir; every scenario then
//! runs `litebase serve` in-process ([`litebase::testing::InProcess`]) on a copy
//! of that dir, so no scenario sees another's writes. Tokens made for the template
//! stay valid on the copies (same secrets, same token keys).
//!
//! Events: before the request, one SSE subscriber per identity (superuser, Alice,
//! Bob, guest) subscribes to every collection of the world. After it, the
//! superuser adds a record to `marks` (public): events are delivered in commit
//! order, so once a subscriber has the mark it has every event the scenario
//! caused, and "nothing else" can be asserted without sleeping. The superuser
//! must receive exactly the scenario's events, in order; every other identity
//! exactly those whose `seen_by` names it.

use std::collections::BTreeMap;
use std::time::Duration;

use litebase::App;
use litebase::testing::{ADMIN_EMAIL, ADMIN_PASSWORD, Http, InProcess, Reply, Server};
use serde_json::{Value, json};

use super::sse::{SseClient, subscribe_as};

/// Who sends a request, or listens for events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Who {
    /// No `Authorization` header.
    #[default]
    Guest,
    /// A `users` record, the author of `{post_alice}` and `{note_alice}`.
    Alice,
    /// Another `users` record, the owner of `{note_bob}`.
    Bob,
    /// The superuser.
    Superuser,
}

impl Who {
    /// Every identity, superuser first.
    pub const ALL: [Who; 4] = [Who::Superuser, Who::Alice, Who::Bob, Who::Guest];
}

/// What the answer's body must be.
#[derive(Clone, Debug, Default)]
pub enum Body {
    /// Anything (the status says enough).
    #[default]
    Any,
    /// Exactly this JSON (after placeholders are filled in).
    Exact(Value),
    /// At least this: every key of an object with a matching value, arrays of
    /// the same length element by element, equal scalars.
    Contains(Value),
}

/// Which record an event is about.
#[derive(Clone, Debug)]
pub enum Rec {
    /// A record of the world, by placeholder name (`post_alice`).
    Named(&'static str),
    /// The record the request created: the answer's `id`.
    Created,
    /// The record item `i` of a batch created: `answer[i].body.id`.
    Batch(usize),
}

/// One realtime event a scenario causes.
#[derive(Clone, Debug)]
pub struct Event {
    /// The collection's name (a subscription topic of the same name).
    pub collection: &'static str,
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// The record.
    pub record: Rec,
    /// Who besides the superuser receives it (rules decide).
    pub seen_by: Vec<Who>,
}

impl Event {
    /// An event the superuser alone receives; widen it with [`Event::seen_by`].
    pub fn new(action: &'static str, collection: &'static str, record: Rec) -> Event {
        Event {
            collection,
            action,
            record,
            seen_by: Vec::new(),
        }
    }

    /// Also received by these identities.
    pub fn seen_by(mut self, who: &[Who]) -> Event {
        self.seen_by = who.to_vec();
        self
    }

    /// Received by every identity (a public collection).
    pub fn public(self) -> Event {
        self.seen_by(&[Who::Alice, Who::Bob, Who::Guest])
    }
}

/// `create` of the record the request made.
pub fn created(collection: &'static str) -> Event {
    Event::new("create", collection, Rec::Created)
}

/// `update` of a record of the world.
pub fn updated(collection: &'static str, name: &'static str) -> Event {
    Event::new("update", collection, Rec::Named(name))
}

/// `delete` of a record of the world.
pub fn deleted(collection: &'static str, name: &'static str) -> Event {
    Event::new("delete", collection, Rec::Named(name))
}

/// One request against a fresh app and everything it must get and cause.
/// `{name}` in the URL, the body and the expected JSON stands for the world's
/// ids (`{alice}`, `{post_alice}`, `{posts}` for a collection's id…).
#[derive(Clone, Debug, Default)]
pub struct Scenario {
    /// What it checks, as a sentence.
    pub name: &'static str,
    /// `GET`, `POST`, `PATCH`, `DELETE`.
    pub method: &'static str,
    /// Path and query.
    pub url: &'static str,
    /// A JSON body.
    pub body: Option<Value>,
    /// Who sends it.
    pub who: Who,
    /// The status it must get.
    pub status: u16,
    /// What the body must be.
    pub json: Body,
    /// Text that must not appear in the answer (a value the caller may not see).
    pub hidden: Vec<&'static str>,
    /// The realtime events it must cause, in order; none if empty.
    pub events: Vec<Event>,
}

/// The text of Bob's note: only Bob and the superuser may ever see it.
pub const NOTE_OF_BOB: &str = "bob's secret note";

/// The template every scenario copies: its data dir, tokens and ids.
pub struct World {
    dir: tempfile::TempDir,
    tokens: BTreeMap<Who, String>,
    ids: BTreeMap<String, String>,
}

/// The collections events are listened to on.
const TOPICS: [&str; 5] = ["posts", "notes", "vault", "users", "marks"];

impl World {
    /// Builds the world with a server in this process:
    /// - `posts`: anyone lists, views and creates; only the author updates or
    ///   deletes (`author = @request.auth.id`);
    /// - `notes`: only the owner does anything, and only signed in;
    /// - `vault`: superusers only (every rule locked);
    /// - `marks`: public, the end-of-scenario marker;
    /// - Alice and Bob (`users`), Alice's post, a note each, a vault record.
    pub fn build() -> anyhow::Result<World> {
        let dir = tempfile::tempdir()?;
        super::add_superuser_in_process(App::new("litebase"), dir.path())?;
        let server = super::serve_in_process(App::new("litebase"), dir.path(), &[])?;
        let http = Http::new();
        let admin = http.superuser_token(&server.url(""), ADMIN_EMAIL, ADMIN_PASSWORD)?;
        let mut world = World {
            dir,
            tokens: BTreeMap::new(),
            ids: BTreeMap::new(),
        };
        world.tokens.insert(Who::Superuser, admin.clone());
        for (who, name) in [(Who::Alice, "alice"), (Who::Bob, "bob")] {
            let (id, token) = sign_up(&server, &format!("{name}@example.com"))?;
            world.ids.insert(name.into(), id);
            world.tokens.insert(who, token);
        }
        let owner = "owner = @request.auth.id";
        let author = "author = @request.auth.id";
        for body in [
            json!({"name": "posts", "listRule": "", "viewRule": "", "createRule": "",
                   "updateRule": author, "deleteRule": author,
                   "fields": [{"name": "title", "type": "text", "required": true},
                              {"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1}]}),
            json!({"name": "notes", "listRule": owner, "viewRule": owner,
                   "createRule": "@request.auth.id != '' && owner = @request.auth.id",
                   "updateRule": owner, "deleteRule": owner,
                   "fields": [{"name": "owner", "type": "relation", "required": true, "collectionId": "_pb_users_auth_", "maxSelect": 1},
                              {"name": "text", "type": "text"}]}),
            json!({"name": "vault", "fields": [{"name": "code", "type": "text"}]}),
            json!({"name": "marks", "listRule": "", "viewRule": "",
                   "fields": [{"name": "text", "type": "text"}]}),
        ] {
            let made = http.post_json_auth(&server.url("/api/collections"), &admin, &body)?;
            anyhow::ensure!(made.status == 200, "create collection: {}", made.text);
            let name = made.json["name"].as_str().unwrap_or_default().to_string();
            let id = made.json["id"].as_str().unwrap_or_default().to_string();
            world.ids.insert(name, id);
        }
        world.ids.insert("users".into(), "_pb_users_auth_".into());
        let alice = world.ids["alice"].clone();
        let bob = world.ids["bob"].clone();
        for (name, who, collection, body) in [
            (
                "post_alice",
                Who::Alice,
                "posts",
                json!({"title": "Alice's post", "author": alice}),
            ),
            (
                "note_alice",
                Who::Alice,
                "notes",
                json!({"owner": alice, "text": "alice's note"}),
            ),
            (
                "note_bob",
                Who::Bob,
                "notes",
                json!({"owner": bob, "text": NOTE_OF_BOB}),
            ),
            (
                "vault_one",
                Who::Superuser,
                "vault",
                json!({"code": "1234"}),
            ),
        ] {
            let made = http.post_json_auth(
                &server.url(&format!("/api/collections/{collection}/records")),
                &world.tokens[&who],
                &body,
            )?;
            anyhow::ensure!(made.status == 200, "create {name}: {}", made.text);
            let id = made.json["id"].as_str().unwrap_or_default().to_string();
            world.ids.insert(name.into(), id);
        }
        server.stop()?;
        Ok(world)
    }

    /// `text` with every `{name}` of the world replaced by its id.
    pub fn fill(&self, text: &str) -> String {
        self.ids.iter().fold(text.to_string(), |t, (name, id)| {
            t.replace(&format!("{{{name}}}"), id)
        })
    }

    /// [`World::fill`] on every string of `value`.
    fn fill_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.fill(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.fill_json(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.fill_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// A fresh app on a copy of the world: its data dir and the running server.
    fn fresh(&self) -> anyhow::Result<(tempfile::TempDir, InProcess)> {
        let copy = tempfile::tempdir()?;
        for entry in std::fs::read_dir(self.dir.path())? {
            let entry = entry?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("data.db") {
                std::fs::copy(entry.path(), copy.path().join(&name))?;
            }
        }
        let server = super::serve_in_process(App::new("litebase"), copy.path(), &[])?;
        Ok((copy, server))
    }

    /// Runs every scenario, each on a fresh app, and fails at the end with every
    /// one that did not hold.
    ///
    /// # Panics
    /// When any scenario fails (it is the table's assertion).
    pub fn run(&self, table: &[Scenario]) -> anyhow::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let mut failures = Vec::new();
        for (n, scenario) in table.iter().enumerate() {
            if let Err(why) = self.run_one(&runtime, n, scenario) {
                failures.push(format!("{}: {why:#}", scenario.name));
            }
        }
        println!("{} scenarios, {} failed", table.len(), failures.len());
        assert!(
            failures.is_empty(),
            "{} scenario(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        Ok(())
    }

    fn run_one(
        &self,
        runtime: &tokio::runtime::Runtime,
        n: usize,
        scenario: &Scenario,
    ) -> anyhow::Result<()> {
        let (_dir, server) = self.fresh()?;
        let mut listeners = runtime.block_on(self.listen(&server))?;
        let reply = self.send(&server, scenario)?;
        self.check_answer(scenario, &reply)?;

        let mark = format!("end of scenario {n}");
        let made = Http::new().post_json_auth(
            &server.url("/api/collections/marks/records"),
            &self.tokens[&Who::Superuser],
            &json!({"text": mark}),
        )?;
        anyhow::ensure!(made.status == 200, "the mark: {}", made.text);
        for (who, client) in &mut listeners {
            let arrived = runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), client.wait_for(&mark)).await
            });
            anyhow::ensure!(
                matches!(arrived, Ok(Ok(()))),
                "{who:?} never got the end-of-scenario mark: {arrived:?}"
            );
        }
        for (who, client) in &listeners {
            let expected: Vec<(String, String, String)> = scenario
                .events
                .iter()
                .filter(|e| *who == Who::Superuser || e.seen_by.contains(who))
                .map(|e| self.expected_event(e, &reply))
                .collect::<anyhow::Result<_>>()?;
            let got = received_events(&client.buffer);
            anyhow::ensure!(
                got == expected,
                "{who:?} received {got:?}, expected {expected:?}"
            );
        }
        drop(listeners);
        server.stop()?;
        Ok(())
    }

    /// One SSE subscriber per identity, each subscribed to every topic.
    async fn listen(&self, server: &InProcess) -> anyhow::Result<Vec<(Who, SseClient)>> {
        let mut out = Vec::new();
        for who in Who::ALL {
            let client = SseClient::connect(server.addr()).await?;
            subscribe_as(
                server.addr().to_string(),
                client.client_id.clone(),
                &TOPICS,
                self.tokens.get(&who).map(String::as_str),
            )
            .await?;
            out.push((who, client));
        }
        Ok(out)
    }

    /// Sends the scenario's request as its identity.
    fn send(&self, server: &InProcess, scenario: &Scenario) -> anyhow::Result<Reply> {
        let url = server.url(&self.fill(scenario.url));
        let mut request = ureq::http::Request::builder()
            .method(scenario.method)
            .uri(&url);
        if let Some(token) = self.tokens.get(&scenario.who) {
            request = request.header("Authorization", token);
        }
        let body = match &scenario.body {
            Some(body) => {
                request = request.header("Content-Type", "application/json");
                self.fill_json(body).to_string()
            }
            None => String::new(),
        };
        let mut response = litebase::testing::agent().run(request.body(body)?)?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string()?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply { status, json, text })
    }

    fn check_answer(&self, scenario: &Scenario, reply: &Reply) -> anyhow::Result<()> {
        anyhow::ensure!(
            reply.status == scenario.status,
            "status {} (expected {}): {}",
            reply.status,
            scenario.status,
            reply.text
        );
        match &scenario.json {
            Body::Any => {}
            Body::Exact(expected) => {
                let expected = self.fill_json(expected);
                anyhow::ensure!(
                    reply.json == expected,
                    "body {}, expected exactly {expected}",
                    reply.text
                );
            }
            Body::Contains(expected) => {
                let expected = self.fill_json(expected);
                if let Err(at) = contains(&reply.json, &expected, "") {
                    anyhow::bail!("body {} lacks {expected} (at {at})", reply.text);
                }
            }
        }
        for text in &scenario.hidden {
            anyhow::ensure!(
                !reply.text.contains(text),
                "the answer shows {text:?}: {}",
                reply.text
            );
        }
        Ok(())
    }

    /// (collection, action, record id) of an expected event.
    fn expected_event(
        &self,
        event: &Event,
        reply: &Reply,
    ) -> anyhow::Result<(String, String, String)> {
        let id = match &event.record {
            Rec::Named(name) => self.ids.get(*name).cloned(),
            Rec::Created => reply.json["id"].as_str().map(str::to_string),
            Rec::Batch(i) => reply.json[*i]["body"]["id"].as_str().map(str::to_string),
        }
        .ok_or_else(|| anyhow::anyhow!("no id for {:?} in {}", event.record, reply.text))?;
        Ok((event.collection.into(), event.action.into(), id))
    }
}

/// Signs a user up through the public API and in; (id, token).
fn sign_up(server: &InProcess, email: &str) -> anyhow::Result<(String, String)> {
    Ok(litebase::testing::sign_up(
        &server.url(""),
        email,
        "scenario-password-1",
    )?)
}

/// The record events in an SSE stream, as (collection, action, record id),
/// leaving out the connect event and the end-of-scenario marks.
fn received_events(stream: &str) -> Vec<(String, String, String)> {
    stream
        .split("\n\n")
        .filter_map(|block| {
            let topic = block.lines().find_map(|l| l.strip_prefix("event:"))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data:"))?;
            if topic == "PB_CONNECT" || topic == "marks" {
                return None;
            }
            let data: Value = serde_json::from_str(data).ok()?;
            let record = &data["record"];
            Some((
                record["collectionName"]
                    .as_str()
                    .unwrap_or(topic)
                    .to_string(),
                data["action"].as_str().unwrap_or_default().to_string(),
                record["id"].as_str().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// `Ok` when `actual` holds `expected` (see [`Body::Contains`]); else the path
/// where it does not.
fn contains(actual: &Value, expected: &Value, at: &str) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e.iter().try_for_each(|(k, v)| {
            let path = format!("{at}.{k}");
            a.get(k)
                .ok_or_else(|| path.clone())
                .and_then(|got| contains(got, v, &path))
        }),
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => a
            .iter()
            .zip(e)
            .enumerate()
            .try_for_each(|(i, (got, v))| contains(got, v, &format!("{at}[{i}]"))),
        _ if actual == expected => Ok(()),
        _ => Err(if at.is_empty() {
            "the top".into()
        } else {
            at.to_string()
        }),
    }
}
