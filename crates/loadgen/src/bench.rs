//! The closed-loop load runner and the HTTP workloads.
//!
//! Every connection is one task that sends a request, waits for the whole response and
//! sends the next one. A run has a warm-up (requests sent, not measured), then a
//! measured window; it stops by itself at the end of the window or at the request cap,
//! whichever comes first, and every request has a timeout, so a stuck server cannot
//! hang the benchmark.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use std::borrow::Cow;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde_json::json;

use crate::http::{Conn, request_bytes};
use crate::setup::{self, COLLECTION, Fixture, USER_PASSWORD, USERS, User};

/// The HTTP workloads, in the order they run (`Create` last: it adds rows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// `GET /api/collections/posts/records/{random seeded id}`.
    View,
    /// A filtered, sorted page of 30: `views>500 && published=true`, `-views`.
    List,
    /// Each connection signs in once as its own user, then
    /// `GET /api/collections/users/records/{own id}` with that token (the default
    /// `users` view rule `id = @request.auth.id`).
    AuthView,
    /// `POST /api/collections/users/auth-with-password`, rotating through the users.
    AuthPassword,
    /// `POST /api/collections/posts/records` with a small JSON body.
    Create,
}

impl Workload {
    /// Every workload, in run order.
    pub const ALL: [Workload; 5] = [
        Workload::View,
        Workload::List,
        Workload::AuthView,
        Workload::AuthPassword,
        Workload::Create,
    ];

    /// Row label in the report.
    pub fn label(self) -> &'static str {
        match self {
            Workload::View => "view by id",
            Workload::List => "list filter+sort (30/page)",
            Workload::AuthView => "authenticated view (own user)",
            Workload::AuthPassword => "auth-with-password",
            Workload::Create => "create",
        }
    }
}

/// How hard and how long to drive one server with one workload.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Concurrent keep-alive connections (one task each).
    pub connections: usize,
    /// Unmeasured time before the measured window.
    pub warmup: Duration,
    /// Length of the measured window.
    pub duration: Duration,
    /// Most requests sent in the whole run, warm-up included.
    pub max_requests: u64,
    /// Longest wait for one response before it counts as an error.
    pub timeout: Duration,
}

/// The requests one workload sends to one server, prebuilt where possible.
enum Requests {
    /// Pick one at random each time.
    Pick(Vec<Vec<u8>>),
    /// Take them in turn, by the run's request number.
    Rotate(Vec<Vec<u8>>),
    /// One request per connection (by index); `None` for a connection that could not
    /// sign in, which then sends nothing.
    PerConnection(Vec<Option<Vec<u8>>>),
    /// Build a create request per call (numbered, so titles differ).
    Create(SocketAddr),
}

impl Requests {
    /// The requests of every workload but [`Workload::AuthView`], which needs tokens
    /// (see [`sign_in_all`]).
    fn new(workload: Workload, addr: SocketAddr, fixture: &Fixture) -> Self {
        let base = format!("/api/collections/{COLLECTION}/records");
        match workload {
            Workload::View => Requests::Pick(
                fixture
                    .ids
                    .iter()
                    .map(|id| request_bytes("GET", addr, &format!("{base}/{id}"), None, None))
                    .collect(),
            ),
            Workload::List => Requests::Pick(
                (1..=5)
                    .map(|page| {
                        let path = format!(
                            "{base}?filter=views%3E500%26%26published%3Dtrue&sort=-views&perPage=30&page={page}"
                        );
                        request_bytes("GET", addr, &path, None, None)
                    })
                    .collect(),
            ),
            Workload::AuthPassword => {
                let path = format!("/api/collections/{USERS}/auth-with-password");
                Requests::Rotate(
                    fixture
                        .users
                        .iter()
                        .map(|u| {
                            let body = json!({"identity": u.email, "password": USER_PASSWORD});
                            request_bytes("POST", addr, &path, None, Some(body.to_string().as_bytes()))
                        })
                        .collect(),
                )
            }
            Workload::AuthView => Requests::PerConnection(Vec::new()),
            Workload::Create => Requests::Create(addr),
        }
    }

    /// Request number `n` of the run, for connection `c`; `None` if `c` sends nothing.
    fn next(&self, rng: &mut fastrand::Rng, n: u64, c: usize) -> Option<Cow<'_, [u8]>> {
        match self {
            Requests::Pick(all) => Some(all[rng.usize(..all.len())].as_slice().into()),
            Requests::Rotate(all) => {
                let i = usize::try_from(n % all.len() as u64).unwrap_or(0);
                Some(all[i].as_slice().into())
            }
            Requests::PerConnection(all) => all.get(c)?.as_deref().map(Cow::from),
            Requests::Create(addr) => {
                let body = format!(
                    r#"{{"title":"bench {n}","views":{},"published":{},"tag":"{}"}}"#,
                    rng.u32(0..1000),
                    rng.bool(),
                    ["a", "b", "c", "d", "e"][rng.usize(..5)]
                );
                let path = format!("/api/collections/{COLLECTION}/records");
                Some(request_bytes("POST", *addr, &path, None, Some(body.as_bytes())).into())
            }
        }
    }
}

/// Signs connection `c` in as user `c % users.len()` on its own keep-alive connection,
/// all connections at once, before the clock starts. Returns the connections (to keep
/// using; a failed one reconnects by itself), each one's `GET` of its own user record with its token, and the sign-ins
/// that failed, as errors.
async fn sign_in_all(
    addr: SocketAddr,
    users: &[User],
    connections: usize,
    timeout: Duration,
) -> Result<(Vec<Conn>, Requests, BTreeMap<String, ErrorKind>)> {
    let mut tasks = Vec::with_capacity(connections);
    for c in 0..connections {
        let user = users
            .get(c % users.len().max(1))
            .cloned()
            .context("no users to sign in as")?;
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let token =
                tokio::time::timeout(timeout, setup::user_token(&mut conn, &user.email)).await;
            let request = match token {
                Ok(Ok(token)) => {
                    let path = format!("/api/collections/{USERS}/records/{}", user.id);
                    Ok(request_bytes("GET", addr, &path, Some(&token), None))
                }
                Ok(Err(e)) => Err(format!("{e:#}")),
                Err(_) => Err(format!(
                    "sign-in as {} timed out after {timeout:?}",
                    user.email
                )),
            };
            (conn, request)
        }));
    }
    let mut conns = Vec::with_capacity(connections);
    let mut requests = Vec::with_capacity(connections);
    let mut errors = BTreeMap::new();
    for task in tasks {
        let (conn, request) = task.await?;
        match request {
            Ok(r) => requests.push(Some(r)),
            Err(e) => {
                let mut key = format!("sign-in: {e}");
                key.truncate(120);
                note_error(&mut errors, key, || e);
                requests.push(None);
            }
        }
        conns.push(conn);
    }
    Ok((conns, Requests::PerConnection(requests), errors))
}

/// One failure kind seen during a run: how often, and the first example.
#[derive(Debug, Default)]
pub struct ErrorKind {
    /// How many requests failed this way.
    pub count: u64,
    /// The first such request line and what came back.
    pub example: String,
}

/// What one run measured.
pub struct Outcome {
    /// Responses counted in the measured window (successes and failures).
    pub requests: u64,
    /// Requests per second over the measured window.
    pub rate: f64,
    /// Latency of the measured successful requests, in microseconds.
    pub latency: Histogram<u64>,
    /// Failures by kind (`HTTP 404`, `io: …`), warm-up included.
    pub errors: BTreeMap<String, ErrorKind>,
}

impl Outcome {
    /// All failures, warm-up included.
    pub fn error_count(&self) -> u64 {
        self.errors.values().map(|e| e.count).sum()
    }
}

/// What one connection task brings back.
struct TaskResult {
    measured: u64,
    latency: Histogram<u64>,
    errors: BTreeMap<String, ErrorKind>,
}

fn new_histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 120_000_000, 3)?)
}

fn first_line(request: &[u8]) -> String {
    let end = request
        .iter()
        .position(|&b| b == b'\r')
        .unwrap_or(request.len());
    String::from_utf8_lossy(&request[..end]).into_owned()
}

fn note_error(
    errors: &mut BTreeMap<String, ErrorKind>,
    key: String,
    example: impl FnOnce() -> String,
) {
    let e = errors.entry(key).or_default();
    if e.count == 0 {
        e.example = example();
    }
    e.count += 1;
}

/// Drives the server at `addr` with `workload` as `settings` say.
pub async fn run(
    workload: Workload,
    addr: SocketAddr,
    fixture: &Fixture,
    settings: Settings,
) -> Result<Outcome> {
    let (conns, requests, mut errors) = if workload == Workload::AuthView {
        sign_in_all(addr, &fixture.users, settings.connections, settings.timeout).await?
    } else {
        let conns = (0..settings.connections).map(|_| Conn::new(addr)).collect();
        (
            conns,
            Requests::new(workload, addr, fixture),
            BTreeMap::new(),
        )
    };
    let requests = Arc::new(requests);
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let measure_from = start + settings.warmup;
    let end = measure_from + settings.duration;
    let mut tasks = Vec::with_capacity(settings.connections);
    for (c, mut conn) in conns.into_iter().enumerate() {
        let requests = Arc::clone(&requests);
        let issued = Arc::clone(&issued);
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(1000 + c as u64);
            let mut out = TaskResult {
                measured: 0,
                latency: new_histogram()?,
                errors: BTreeMap::new(),
            };
            loop {
                let sent_at = Instant::now();
                if sent_at >= end {
                    break;
                }
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= settings.max_requests {
                    break;
                }
                let Some(request) = requests.next(&mut rng, n, c) else {
                    break;
                };
                let result = conn.send(&request, settings.timeout).await;
                let done = Instant::now();
                let measured = sent_at >= measure_from;
                match result {
                    Ok((status, _)) if (200..300).contains(&status) => {
                        if measured {
                            let us = u64::try_from(done.duration_since(sent_at).as_micros())
                                .unwrap_or(u64::MAX);
                            out.latency.saturating_record(us.max(1));
                        }
                    }
                    Ok((status, body)) => {
                        note_error(&mut out.errors, format!("HTTP {status}"), || {
                            let body = String::from_utf8_lossy(&body[..body.len().min(300)]);
                            format!("{} -> {status} {body}", first_line(&request))
                        });
                    }
                    Err(e) => {
                        let mut key = format!("io: {e:#}");
                        key.truncate(120);
                        note_error(&mut out.errors, key, || first_line(&request));
                        // Back off a little so a dead server is not spun on.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                if measured {
                    out.measured += 1;
                }
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut latency = new_histogram()?;
    let mut measured = 0;
    for task in tasks {
        let r = task.await??;
        measured += r.measured;
        latency.add(&r.latency)?;
        for (k, v) in r.errors {
            let e = errors.entry(k).or_default();
            if e.count == 0 {
                e.example = v.example;
            }
            e.count += v.count;
        }
    }
    // The window ends when the last measured request came back (at least at `end`,
    // unless the request cap stopped the run early).
    let finished = Instant::now();
    let window = finished.saturating_duration_since(measure_from);
    let rate = if window.is_zero() {
        0.0
    } else {
        measured as f64 / window.as_secs_f64()
    };
    Ok(Outcome {
        requests: measured,
        rate,
        latency,
        errors,
    })
}
