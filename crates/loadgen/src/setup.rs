//! Bringing a fresh server to the benchmark's starting state over its REST API.
//!
//! Both servers get the same steps (superuser sign-in, batch settings, the `posts`
//! collection, then the seed records), so the workloads compare like with like. The
//! seed data comes from a fixed PRNG seed: both servers hold the same rows. Both also
//! get the same pool of users in the default `users` auth collection, for the auth
//! workloads.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::http::{self, Conn};
use crate::server::{EMAIL, Kind, PASSWORD};

/// Name of the benchmark collection.
pub const COLLECTION: &str = "posts";
/// Sub-requests per `/api/batch` call while seeding (both servers' limit).
const BATCH: usize = 50;
/// Concurrent batch calls while seeding.
const SEED_CONNECTIONS: usize = 4;
/// The default auth collection both servers ship with.
pub const USERS: &str = "users";
/// Password of every benchmark user.
pub const USER_PASSWORD: &str = "user-password-123";
/// Concurrent create calls while adding users (each one hashes a password).
const USER_CONNECTIONS: usize = 4;

/// One user of the `users` collection, created during setup.
#[derive(Clone, Debug)]
pub struct User {
    /// Sign-in identity.
    pub email: String,
    /// Record id, for the authenticated view.
    pub id: String,
}

/// What the workloads need from a prepared server.
#[derive(Clone, Debug, Default)]
pub struct Fixture {
    /// Ids of the seeded `posts` records, in creation order.
    pub ids: Vec<String>,
    /// The users created in `users`, in creation order.
    pub users: Vec<User>,
}

/// Email of benchmark user `n`.
pub fn user_email(n: usize) -> String {
    format!("user{n}@bench.example.com")
}

/// Signs in as the superuser and returns the token.
pub async fn superuser_token(addr: SocketAddr) -> Result<String> {
    let (status, body) = http::call(
        addr,
        "POST",
        "/api/collections/_superusers/auth-with-password",
        None,
        Some(&json!({"identity": EMAIL, "password": PASSWORD})),
    )
    .await?;
    if status != 200 {
        bail!("superuser sign-in answered {status}: {body}");
    }
    body.get("token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("sign-in response has no token")
}

/// The `posts` collection as `POST /api/collections` takes it: public list, view and
/// create rules, so the workloads run as anonymous clients.
pub fn collection_body() -> Value {
    json!({
        "name": COLLECTION,
        "type": "base",
        "listRule": "",
        "viewRule": "",
        "createRule": "",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "views", "type": "number"},
            {"name": "published", "type": "bool"},
            {"name": "tag", "type": "select", "maxSelect": 1, "values": ["a", "b", "c", "d", "e"]}
        ],
        "indexes": ["CREATE INDEX idx_posts_views ON posts (views)"]
    })
}

/// One record's fields; deterministic in `rng`.
pub fn record_body(rng: &mut fastrand::Rng, n: usize) -> Value {
    let tag = ["a", "b", "c", "d", "e"][rng.usize(..5)];
    json!({
        "title": format!("Post number {n}"),
        "views": rng.u32(0..1000),
        "published": rng.bool(),
        "tag": tag,
    })
}

/// Prepares `kind`'s server at `addr`: collection plus `records` seed records, and
/// `users` users in the `users` collection.
pub async fn prepare(
    kind: Kind,
    addr: SocketAddr,
    records: usize,
    users: usize,
) -> Result<Fixture> {
    let token = superuser_token(addr).await?;
    if kind == Kind::PocketBase {
        // PocketBase ships with batch requests disabled, and its rate limiter off (made
        // explicit here: ours runs with `--auth-rate-limit 0`).
        let (status, body) = http::call(
            addr,
            "PATCH",
            "/api/settings",
            Some(&token),
            Some(&json!({
                "batch": {"enabled": true, "maxRequests": BATCH, "timeout": 30},
                "rateLimits": {"enabled": false},
            })),
        )
        .await?;
        if status != 200 {
            bail!("PATCH /api/settings answered {status}: {body}");
        }
    }
    let (status, body) = http::call(
        addr,
        "POST",
        "/api/collections",
        Some(&token),
        Some(&collection_body()),
    )
    .await?;
    if status != 200 {
        bail!("POST /api/collections answered {status}: {body}");
    }
    let ids = seed(addr, &token, records).await?;
    let users = create_users(addr, &token, users).await?;
    Ok(Fixture { ids, users })
}

/// Creates `count` users (`user{n}@bench.example.com`, [`USER_PASSWORD`]) one request
/// each over a few connections, as the superuser; returns them in creation order.
async fn create_users(addr: SocketAddr, token: &str, count: usize) -> Result<Vec<User>> {
    let per_task = count.div_ceil(USER_CONNECTIONS).max(1);
    let numbers: Vec<usize> = (0..count).collect();
    let mut tasks = Vec::new();
    for group in numbers.chunks(per_task) {
        let group = group.to_vec();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let path = format!("/api/collections/{USERS}/records");
            let mut users = Vec::with_capacity(group.len());
            for n in group {
                let email = user_email(n);
                let body = json!({
                    "email": email,
                    "password": USER_PASSWORD,
                    "passwordConfirm": USER_PASSWORD,
                });
                let (status, resp) =
                    http::call_on(&mut conn, "POST", &path, Some(&token), Some(&body)).await?;
                if status != 200 {
                    bail!("creating user {email}: POST {path} answered {status}: {resp}");
                }
                let id = resp
                    .get("id")
                    .and_then(Value::as_str)
                    .with_context(|| format!("created user without an id: {resp}"))?;
                users.push(User {
                    email,
                    id: id.to_owned(),
                });
            }
            Ok::<_, anyhow::Error>(users)
        }));
    }
    let mut users = Vec::with_capacity(count);
    for task in tasks {
        users.extend(task.await??);
    }
    Ok(users)
}

/// Signs in as `email` in the `users` collection on `conn`; returns the token.
pub async fn user_token(conn: &mut Conn, email: &str) -> Result<String> {
    let path = format!("/api/collections/{USERS}/auth-with-password");
    let (status, body) = http::call_on(
        conn,
        "POST",
        &path,
        None,
        Some(&json!({"identity": email, "password": USER_PASSWORD})),
    )
    .await?;
    if status != 200 {
        bail!("POST {path} as {email} answered {status}: {body}");
    }
    body.get("token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("POST {path}: no token in {body}"))
}

/// The list workload's query, page 1, as both servers should answer it: returns
/// `totalItems` and the `views` of the first item, so runs can check both servers hold
/// the same data and apply the filter the same way.
pub async fn list_fingerprint(addr: SocketAddr) -> Result<(u64, u64)> {
    let path = format!(
        "/api/collections/{COLLECTION}/records?filter=views%3E500%26%26published%3Dtrue&sort=-views&perPage=30&page=1"
    );
    let (status, body) = http::call(addr, "GET", &path, None, None).await?;
    if status != 200 {
        bail!("GET {path} answered {status}: {body}");
    }
    let total = body.get("totalItems").and_then(Value::as_u64);
    let first = body.pointer("/items/0/views").and_then(Value::as_u64);
    match (total, first) {
        (Some(t), Some(f)) => Ok((t, f)),
        _ => bail!("GET {path}: unexpected list body {body}"),
    }
}

/// Creates `records` records in batches over a few connections; returns their ids in
/// creation order.
async fn seed(addr: SocketAddr, token: &str, records: usize) -> Result<Vec<String>> {
    let mut rng = fastrand::Rng::with_seed(42);
    let url = format!("/api/collections/{COLLECTION}/records");
    let bodies: Vec<Value> = (0..records)
        .map(|n| json!({"method": "POST", "url": url, "body": record_body(&mut rng, n)}))
        .collect();
    let chunks: Vec<Vec<Value>> = bodies.chunks(BATCH).map(<[Value]>::to_vec).collect();
    let per_task = chunks.len().div_ceil(SEED_CONNECTIONS).max(1);
    let mut tasks = Vec::new();
    for (t, group) in chunks.chunks(per_task).enumerate() {
        let group = group.to_vec();
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let mut ids = Vec::new();
            for (i, requests) in group.into_iter().enumerate() {
                let (status, body) = http::call_on(
                    &mut conn,
                    "POST",
                    "/api/batch",
                    Some(&token),
                    Some(&json!({"requests": requests})),
                )
                .await?;
                if status != 200 {
                    bail!("seeding: batch {t}/{i}: POST /api/batch answered {status}: {body}");
                }
                let items = body.as_array().context("batch response is not an array")?;
                for item in items {
                    let id = item
                        .pointer("/body/id")
                        .and_then(Value::as_str)
                        .with_context(|| format!("batch result without an id: {item}"))?;
                    ids.push(id.to_owned());
                }
            }
            Ok::<_, anyhow::Error>(ids)
        }));
    }
    let mut ids = Vec::with_capacity(records);
    for task in tasks {
        ids.extend(task.await??);
    }
    if ids.len() != records {
        bail!("seeded {} records, expected {records}", ids.len());
    }
    Ok(ids)
}
