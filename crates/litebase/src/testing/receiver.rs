//! A webhook receiver on a loopback port: it records every request it gets and
//! answers each with the next status of a script (then 200), so a test can see
//! what was posted, signed how, and how failures were retried.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST`, …
    pub method: String,
    /// The request target (`/hook?x=1`).
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The status it was answered with.
    pub answered: u16,
}

impl Received {
    /// The body parsed as JSON (`Null` if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value (`""` when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Received>>,
    arrived: Condvar,
    script: Mutex<VecDeque<u16>>,
    stop: AtomicBool,
}

/// The receiver; stops when dropped.
pub struct Receiver {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Listens on a free loopback port; the first requests are answered with
    /// `script`'s statuses in turn, every later one with 200.
    pub fn start(script: &[u16]) -> std::io::Result<Receiver> {
        Self::start_on("127.0.0.1:0", script)
    }

    /// Like [`Receiver::start`] on a given address (to come back on the same
    /// port after a restart).
    pub fn start_on(addr: &str, script: &[u16]) -> std::io::Result<Receiver> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?.to_string();
        let shared = Arc::new(Shared::default());
        shared
            .script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(script);
        let worker = shared.clone();
        std::thread::spawn(move || {
            while !worker.stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let worker = worker.clone();
                        std::thread::spawn(move || serve(stream, &worker));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(Receiver { addr, shared })
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .got
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until at least `n` requests arrived (or `timeout` passed); returns
    /// what arrived.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        let mut got = self.shared.got.lock().unwrap_or_else(|p| p.into_inner());
        while got.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            got = match self.shared.arrived.wait_timeout(got, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        got.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(mut write) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let answered = shared
        .script
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front()
        .unwrap_or(200);
    let _ = write!(
        write,
        "HTTP/1.1 {answered} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    );
    let _ = write.flush();
    let mut got = shared.got.lock().unwrap_or_else(|p| p.into_inner());
    got.push(Received {
        method,
        path,
        headers,
        body,
        answered,
    });
    shared.arrived.notify_all();
}
