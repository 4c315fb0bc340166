//! Outgoing webhooks against the real server and a receiver on loopback: each
//! committed change is posted once, signed, in the realtime event shape; a
//! rolled-back write posts nothing; failures are retried and logged; a pending
//! delivery survives kill -9; bad configuration gets PocketBase's error shape.

mod support;

use std::time::Duration;

use litebase::testing::receiver::{Received, Receiver};
use litebase::testing::{Http, ServerProcess, assert_error_shape};
use litebase::webhooks::signature;
use serde_json::{Value, json};

const SECRET: &str = "a-secret-of-32-characters-000000";
const WAIT: Duration = Duration::from_secs(15);

struct Setup {
    server: ServerProcess,
    token: String,
    http: Http,
}

impl Setup {
    fn start(dir: &std::path::Path) -> anyhow::Result<Setup> {
        let (server, token) = support::serve_as_admin(dir)?;
        Ok(Setup {
            server,
            token,
            http: Http::new(),
        })
    }

    fn post(&self, path: &str, body: Value) -> anyhow::Result<litebase::testing::Reply> {
        Ok(self
            .http
            .post_json_auth(&self.server.url(path), &self.token, &body)?)
    }

    fn get(&self, path: &str) -> anyhow::Result<litebase::testing::Reply> {
        Ok(self.http.get_auth(&self.server.url(path), &self.token)?)
    }

    /// A `posts` collection anyone may write, with a hidden field.
    fn posts(&self) -> anyhow::Result<String> {
        let reply = self.post(
            "/api/collections",
            json!({"name": "posts", "listRule": "", "viewRule": "", "createRule": "",
                   "updateRule": "", "deleteRule": "",
                   "fields": [{"name": "title", "type": "text", "required": true},
                              {"name": "note", "type": "text", "hidden": true}]}),
        )?;
        anyhow::ensure!(reply.status == 200, "collection: {}", reply.text);
        Ok(reply.json["id"].as_str().unwrap_or_default().to_string())
    }

    fn webhook(&self, url: &str, actions: &[&str]) -> anyhow::Result<Value> {
        let reply = self.post(
            "/api/webhooks",
            json!({"collection": "posts", "url": url, "actions": actions, "secret": SECRET}),
        )?;
        anyhow::ensure!(reply.status == 200, "webhook: {}", reply.text);
        Ok(reply.json)
    }

    /// Waits until the newest delivery of `webhook` has `key` = `value`; returns it.
    fn newest_delivery_once(
        &self,
        webhook: &str,
        key: &str,
        value: Value,
    ) -> anyhow::Result<Value> {
        eventually(|| {
            let log = self.deliveries(webhook)?;
            Ok(log.first().filter(|d| d[key] == value).cloned())
        })
    }

    fn deliveries(&self, webhook: &str) -> anyhow::Result<Vec<Value>> {
        let reply = self.get(&format!("/api/webhooks/{webhook}/deliveries"))?;
        anyhow::ensure!(reply.status == 200, "deliveries: {}", reply.text);
        Ok(reply.json["items"].as_array().cloned().unwrap_or_default())
    }
}

fn assert_signed(r: &Received) {
    let ts: u64 = r
        .header(signature::TIMESTAMP_HEADER)
        .parse()
        .expect("a numeric timestamp header");
    assert!(
        signature::verify(SECRET, ts, &r.body, r.header(signature::SIGNATURE_HEADER)),
        "signature {:?} does not match the body",
        r.header(signature::SIGNATURE_HEADER)
    );
    assert_eq!(r.header("content-type"), "application/json");
}

/// Polls `f` until it returns `Some` (or the wait is over).
fn eventually<T>(mut f: impl FnMut() -> anyhow::Result<Option<T>>) -> anyhow::Result<T> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn each_committed_change_is_posted_once_signed_in_the_realtime_shape() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Setup::start(dir.path())?;
    let posts_id = s.posts()?;
    let all = Receiver::start(&[])?;
    let deletes = Receiver::start(&[])?;
    let hook = s.webhook(&all.url("/all"), &["create", "update", "delete"])?;
    assert_eq!(
        hook["collection"],
        json!(posts_id),
        "stored by collection id"
    );
    assert_eq!(hook["actions"], json!(["create", "update", "delete"]));
    assert_eq!(hook["enabled"], json!(true));
    s.webhook(&deletes.url("/deletes"), &["delete"])?;

    let created = s.http.post_json(
        &s.server.url("/api/collections/posts/records"),
        &json!({"title": "hello", "note": "private"}),
    )?;
    assert_eq!(created.status, 200, "{}", created.text);
    let id = created.json["id"].as_str().unwrap_or_default().to_string();
    let updated = s.http.patch_json_auth(
        &s.server
            .url(&format!("/api/collections/posts/records/{id}")),
        "",
        &json!({"title": "hello again"}),
    )?;
    assert_eq!(updated.status, 200, "{}", updated.text);
    let deleted = s.http.agent_delete(
        &s.server
            .url(&format!("/api/collections/posts/records/{id}")),
        "",
    )?;
    assert_eq!(deleted, 204);

    let got = all.wait_for(3, WAIT);
    assert_eq!(got.len(), 3, "create, update, delete: {got:?}");
    let actions: Vec<Value> = got.iter().map(|r| r.json()["action"].clone()).collect();
    assert_eq!(
        actions,
        vec![json!("create"), json!("update"), json!("delete")]
    );
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/all");
        assert_signed(r);
        let body = r.json();
        assert_eq!(
            body.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["action".to_string(), "record".to_string()])
        );
        let record = &body["record"];
        assert_eq!(record["collectionName"], json!("posts"));
        assert_eq!(record["collectionId"], json!(posts_id));
        assert_eq!(record["id"], json!(id));
        assert!(
            record.get("note").is_none(),
            "hidden fields stay home: {record}"
        );
        assert_eq!(
            r.header("x-litebase-webhook"),
            hook["id"].as_str().unwrap_or_default()
        );
        assert_eq!(
            r.header("x-litebase-event"),
            body["action"].as_str().unwrap_or_default()
        );
    }
    assert_eq!(got[1].json()["record"]["title"], json!("hello again"));
    let only_delete = deletes.wait_for(1, WAIT);
    assert_eq!(only_delete.len(), 1);
    assert_eq!(only_delete[0].json()["action"], json!("delete"));

    // Nothing more arrives: each change was posted once.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(all.received().len(), 3);
    assert_eq!(deletes.received().len(), 1);
    let log = s.deliveries(hook["id"].as_str().unwrap_or_default())?;
    assert_eq!(log.len(), 3);
    for d in &log {
        assert_eq!(d["status"], json!("delivered"), "{d}");
        assert_eq!(d["attempts"], json!(1));
        assert_eq!(d["lastStatus"], json!(200));
    }
    Ok(())
}

#[test]
fn a_rolled_back_write_posts_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Setup::start(dir.path())?;
    s.posts()?;
    let receiver = Receiver::start(&[])?;
    let hook = s.webhook(&receiver.url("/"), &["create"])?;
    // The second create fails validation, so the batch — and its first create — is
    // rolled back.
    let batch = s.post(
        "/api/batch",
        json!({"requests": [
            {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": "kept?"}},
            {"method": "POST", "url": "/api/collections/posts/records", "body": {"title": ""}}
        ]}),
    )?;
    assert_eq!(batch.status, 400, "{}", batch.text);
    // A committed create afterwards is posted: the receiver works.
    let ok = s.post(
        "/api/collections/posts/records",
        json!({"title": "committed"}),
    )?;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let got = receiver.wait_for(1, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    let got_all = receiver.received();
    assert_eq!(got_all.len(), 1, "only the committed create: {got:?}");
    assert_eq!(got_all[0].json()["record"]["title"], json!("committed"));
    assert_eq!(
        s.deliveries(hook["id"].as_str().unwrap_or_default())?.len(),
        1
    );
    Ok(())
}

#[test]
fn a_failed_delivery_is_retried_with_backoff_and_logged() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Setup::start(dir.path())?;
    s.posts()?;
    let receiver = Receiver::start(&[500])?;
    let hook = s.webhook(&receiver.url("/"), &["create"])?;
    let id = hook["id"].as_str().unwrap_or_default().to_string();
    let created = s.post(
        "/api/collections/posts/records",
        json!({"title": "retry me"}),
    )?;
    assert_eq!(created.status, 200);
    let first = receiver.wait_for(1, WAIT);
    assert_eq!(first.first().map(|r| r.answered), Some(500));
    let pending = s.newest_delivery_once(&id, "attempts", json!(1))?;
    assert_eq!(pending["status"], json!("pending"));
    assert_eq!(pending["lastStatus"], json!(500));
    assert!(
        pending["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("500")
    );
    // The retry comes about two seconds later, with the same delivery id.
    let both = receiver.wait_for(2, WAIT);
    assert_eq!(both.len(), 2);
    assert_eq!(
        both[0].header("x-litebase-delivery"),
        both[1].header("x-litebase-delivery")
    );
    assert_eq!(both[1].header("x-litebase-attempt"), "2");
    assert_eq!(both[0].body, both[1].body, "the same payload");
    let done = s.newest_delivery_once(&id, "status", json!("delivered"))?;
    assert_eq!(done["attempts"], json!(2));
    assert_eq!(done["lastStatus"], json!(200));

    // An admin may send a delivery again.
    let delivery = done["id"].as_str().unwrap_or_default();
    let retried = s.post(
        &format!("/api/webhooks/{id}/deliveries/{delivery}/retry"),
        json!({}),
    )?;
    assert_eq!(retried.status, 204, "{}", retried.text);
    assert_eq!(receiver.wait_for(3, WAIT).len(), 3);
    Ok(())
}

#[test]
fn a_pending_delivery_survives_kill_9() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut s = Setup::start(dir.path())?;
    s.posts()?;
    // A receiver that is not listening yet: its port is taken and released.
    let port_holder = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = port_holder.local_addr()?.to_string();
    drop(port_holder);
    let hook = s.webhook(&format!("http://{addr}/late"), &["create"])?;
    let id = hook["id"].as_str().unwrap_or_default().to_string();
    let created = s.post(
        "/api/collections/posts/records",
        json!({"title": "durable"}),
    )?;
    assert_eq!(created.status, 200);
    s.newest_delivery_once(&id, "attempts", json!(1))?;
    s.server.signal("KILL")?;
    s.server.wait(Duration::from_secs(10));

    let receiver = Receiver::start_on(&addr, &[])?;
    let s = Setup::start(dir.path())?;
    let got = receiver.wait_for(1, WAIT);
    assert_eq!(
        got.len(),
        1,
        "the delivery queued before the kill arrives after the restart"
    );
    assert_eq!(got[0].json()["record"]["title"], json!("durable"));
    assert_signed(&got[0]);
    let done = s.newest_delivery_once(&id, "status", json!("delivered"))?;
    assert_eq!(done["attempts"], json!(2));
    Ok(())
}

#[test]
fn bad_configuration_and_strangers_get_clear_errors() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let s = Setup::start(dir.path())?;
    s.posts()?;
    let cases = [
        (
            json!({"collection": "nope", "url": "http://127.0.0.1:1/", "actions": ["create"]}),
            "collection",
        ),
        (
            json!({"collection": "posts", "url": "ftp://x", "actions": ["create"]}),
            "url",
        ),
        (
            json!({"collection": "posts", "url": "http://127.0.0.1:1/", "actions": ["explode"]}),
            "actions",
        ),
        (
            json!({"collection": "posts", "url": "http://127.0.0.1:1/", "actions": []}),
            "actions",
        ),
        (
            json!({"collection": "posts", "url": "http://127.0.0.1:1/", "actions": ["create"], "secret": "short"}),
            "secret",
        ),
        (
            json!({"url": "http://127.0.0.1:1/", "actions": ["create"]}),
            "collection",
        ),
    ];
    for (body, field) in cases {
        let reply = s.post("/api/webhooks", body.clone())?;
        assert_error_shape(&reply, 400);
        assert!(
            reply.json["data"][field]["code"].is_string(),
            "{body} → {}",
            reply.text
        );
    }
    let wrong_type = s.post("/api/webhooks", json!({"collection": "posts", "url": 5}))?;
    assert_error_shape(&wrong_type, 400);
    let not_object = s.post("/api/webhooks", json!([1, 2]))?;
    assert_error_shape(&not_object, 400);
    let missing = s.get("/api/webhooks/doesnotexist123")?;
    assert_error_shape(&missing, 404);
    assert_eq!(
        s.get("/api/webhooks")?.json,
        json!([]),
        "nothing was stored"
    );

    // Guests and users may not see or change webhooks.
    let guest = s.http.get(&s.server.url("/api/webhooks"))?;
    assert_error_shape(&guest, 401);
    let (_, user) = litebase::testing::sign_up(&s.server.url(""), "u@example.com", "password123")?;
    let by_user = s.http.post_json_auth(
        &s.server.url("/api/webhooks"),
        &user,
        &json!({"collection": "posts", "url": "http://127.0.0.1:1/", "actions": ["create"]}),
    )?;
    assert_error_shape(&by_user, 403);

    // Update and delete.
    let hook = s.webhook("http://127.0.0.1:1/", &["create"])?;
    let id = hook["id"].as_str().unwrap_or_default();
    let changed = s.http.patch_json_auth(
        &s.server.url(&format!("/api/webhooks/{id}")),
        &s.token,
        &json!({"enabled": false, "actions": ["delete", "create"]}),
    )?;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json["enabled"], json!(false));
    assert_eq!(changed.json["actions"], json!(["create", "delete"]));
    assert_eq!(changed.json["secret"], json!(SECRET));
    assert_eq!(
        s.http
            .agent_delete(&s.server.url(&format!("/api/webhooks/{id}")), &s.token)?,
        204
    );
    assert_error_shape(&s.get(&format!("/api/webhooks/{id}/deliveries"))?, 404);
    Ok(())
}

#[test]
fn the_admin_adds_a_webhook_sees_its_deliveries_and_sends_one_again() -> anyhow::Result<()> {
    use litebase::testing::browser::Browser;
    let dir = tempfile::tempdir()?;
    let s = Setup::start(dir.path())?;
    s.posts()?;
    let receiver = Receiver::start(&[503, 503, 503, 503, 503, 503, 503, 503])?;
    let mut browser = Browser::signed_in(&s.server)?;

    // A refused form is shown again with the field's problem, nothing stored.
    let refused = browser.submit(
        "/_/webhooks",
        "/_/webhooks",
        &[
            ("collection", "posts"),
            ("url", "not a url"),
            ("action_create", "on"),
        ],
    )?;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("err-wh-url"), "{}", refused.body);
    assert_eq!(s.get("/api/webhooks")?.json, json!([]));

    let saved = browser.submit(
        "/_/webhooks",
        "/_/webhooks",
        &[
            ("collection", "posts"),
            ("url", &receiver.url("/admin")),
            ("action_create", "on"),
            ("enabled", "on"),
            ("secret", SECRET),
        ],
    )?;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let location = saved.location.unwrap_or_default();
    let listed = s.get("/api/webhooks")?.json;
    let id = listed[0]["id"].as_str().unwrap_or_default().to_string();
    assert!(
        location.starts_with(&format!("/_/webhooks/{id}")),
        "{location}"
    );
    assert_eq!(listed[0]["actions"], json!(["create"]));
    assert!(
        browser
            .get("/_/webhooks")?
            .body
            .contains(&receiver.url("/admin"))
    );

    let created = s.post(
        "/api/collections/posts/records",
        json!({"title": "from the API"}),
    )?;
    assert_eq!(created.status, 200);
    assert_eq!(receiver.wait_for(1, WAIT).len(), 1);
    let page = eventually(|| {
        let page = browser.get(&format!("/_/webhooks/{id}"))?;
        Ok(page.body.contains("HTTP 503").then_some(page))
    })?;
    assert!(
        page.body.contains("data-status=\"pending\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("from the API"), "the payload is shown");
    let delivery = s.deliveries(&id)?[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let before = receiver.received().len();
    let again = browser.submit(
        &format!("/_/webhooks/{id}"),
        &format!("/_/webhooks/{id}/deliveries/{delivery}/retry"),
        &[],
    )?;
    assert_eq!(again.status, 303, "{}", again.body);
    assert!(
        receiver.wait_for(before + 1, WAIT).len() > before,
        "sent again at once"
    );

    // Switched off from the edit form: nothing new is queued.
    let off = browser.submit(
        &format!("/_/webhooks/{id}"),
        &format!("/_/webhooks/{id}"),
        &[
            ("collection", "posts"),
            ("url", &receiver.url("/admin")),
            ("action_create", "on"),
        ],
    )?;
    assert_eq!(off.status, 303, "{}", off.body);
    assert_eq!(
        s.get(&format!("/api/webhooks/{id}"))?.json["enabled"],
        json!(false)
    );
    s.post(
        "/api/collections/posts/records",
        json!({"title": "while off"}),
    )?;
    assert_eq!(s.deliveries(&id)?.len(), 1);

    let delete = browser.submit(
        &format!("/_/webhooks/{id}"),
        &format!("/_/webhooks/{id}/delete"),
        &[],
    )?;
    assert_eq!(delete.status, 303);
    assert_eq!(s.get("/api/webhooks")?.json, json!([]));
    Ok(())
}
