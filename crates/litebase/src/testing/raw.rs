//! Raw HTTP/1 requests written byte for byte, so they can be as broken as a test
//! needs (a normal client refuses to send most of them), and the answer read
//! until the server closes: for hostile-input tables and HTTP-layer checks.
//!
//! ```no_run
//! # fn demo(addr: &str) -> std::io::Result<()> {
//! use litebase::testing::raw::{Length, Req, send};
//! let lying = Req::post("/api/collections/posts/records")
//!     .bytes("application/json", "{}")
//!     .length(Length::Lie("-1".into()));
//! let answer = send(addr, &lying)?;
//! assert!(answer.status == 0 || answer.status == 400);
//! # Ok(())
//! # }
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Reply;
/// How a request declares its body length.
#[derive(Clone, Debug)]
pub enum Length {
    /// `Content-Length` of the body when there is one (or the method sends one).
    Auto,
    /// No `Content-Length` (chunked bodies, requests without a body).
    Omit,
    /// This exact `Content-Length` value, whatever the body (a lie).
    Lie(String),
}

/// One HTTP/1 request, written byte for byte by [`send`] so that it can be as
/// broken as a case needs (a normal client refuses to send most of these).
#[derive(Clone, Debug)]
pub struct Req {
    /// The method, as written (any bytes a case wants).
    pub method: String,
    /// The request target (path and query, or an absolute URI).
    pub target: String,
    /// `HTTP/1.1` unless a case says otherwise.
    pub version: &'static str,
    /// Headers in order, as written.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// How the body's length is declared.
    pub length: Length,
    /// Sent instead of everything above.
    pub raw: Option<Vec<u8>>,
    /// Shut the write side after sending (the body ends early).
    pub half_close: bool,
    /// Send the head only and wait for an answer (`Expect: 100-continue`).
    pub head_only: bool,
}

impl Req {
    /// `method target HTTP/1.1` with no headers and no body.
    pub fn new(method: &str, target: impl Into<String>) -> Req {
        Req {
            method: method.into(),
            target: target.into(),
            version: "HTTP/1.1",
            headers: Vec::new(),
            body: Vec::new(),
            length: Length::Auto,
            raw: None,
            half_close: false,
            head_only: false,
        }
    }

    /// `GET target`.
    pub fn get(target: impl Into<String>) -> Req {
        Req::new("GET", target)
    }

    /// `POST target`.
    pub fn post(target: impl Into<String>) -> Req {
        Req::new("POST", target)
    }

    /// `PATCH target`.
    pub fn patch(target: impl Into<String>) -> Req {
        Req::new("PATCH", target)
    }

    /// `DELETE target`.
    pub fn delete(target: impl Into<String>) -> Req {
        Req::new("DELETE", target)
    }

    /// These bytes and nothing else.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Req {
        let mut req = Req::new("RAW", "");
        req.raw = Some(bytes.into());
        req
    }

    /// Adds a header (repeats allowed: a case may send two `Host`s).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Req {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// `Authorization: TOKEN` (no header for an empty token).
    pub fn auth(self, token: &str) -> Req {
        if token.is_empty() {
            self
        } else {
            self.header("Authorization", token)
        }
    }

    /// A JSON body with its content type.
    pub fn json(self, body: &Value) -> Req {
        self.bytes("application/json", body.to_string())
    }

    /// These body bytes, labelled `content_type`.
    pub fn bytes(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Req {
        self.body = body.into();
        self.header("Content-Type", content_type)
    }

    /// A urlencoded form body (as given: it may be malformed on purpose).
    pub fn form(self, body: &str) -> Req {
        self.bytes("application/x-www-form-urlencoded", body)
    }

    /// How the body's length is declared.
    pub fn length(mut self, length: Length) -> Req {
        self.length = length;
        self
    }

    /// Another protocol version on the request line.
    pub fn version(mut self, version: &'static str) -> Req {
        self.version = version;
        self
    }

    /// Shut the write side after sending.
    pub fn half_close(mut self) -> Req {
        self.half_close = true;
        self
    }

    /// Send the head only (for `Expect: 100-continue` and declared lengths).
    pub fn head_only(mut self) -> Req {
        self.head_only = true;
        self
    }

    /// The bytes on the wire; `Host` and `Connection: close` are added unless the
    /// case set them.
    pub fn to_bytes(&self, host: &str) -> Vec<u8> {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        let mut head = format!("{} {} {}\r\n", self.method, self.target, self.version);
        if !has("host") && self.version == "HTTP/1.1" {
            head.push_str(&format!("Host: {host}\r\n"));
        }
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        match &self.length {
            Length::Auto => {
                if !self.body.is_empty() || matches!(self.method.as_str(), "POST" | "PATCH" | "PUT")
                {
                    head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
                }
            }
            Length::Omit => {}
            Length::Lie(value) => head.push_str(&format!("Content-Length: {value}\r\n")),
        }
        if !has("connection") {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        if !self.head_only {
            out.extend_from_slice(&self.body);
        }
        out
    }

    /// A short description for failure messages.
    pub fn summary(&self) -> String {
        let text = match &self.raw {
            Some(raw) => format!("{:?}", String::from_utf8_lossy(raw)),
            None => {
                let body = String::from_utf8_lossy(&self.body);
                format!(
                    "{} {} ({} header(s), {}-byte body {:?})",
                    self.method,
                    self.target,
                    self.headers.len(),
                    self.body.len(),
                    clip(&body, 80)
                )
            }
        };
        clip(&text, 240)
    }
}

/// `s` cut to `n` characters, with the length it had when cut.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let head: String = s.chars().take(n).collect();
        format!("{head}… ({} bytes)", s.len())
    }
}

/// What came back: the final status (0 when the server closed without one),
/// its head, its body (chunked bodies decoded), and whether a `100 Continue`
/// came first.
#[derive(Debug, Default)]
pub struct Answer {
    /// The final status; 0 when the server closed without one.
    pub status: u16,
    /// The status line and headers, as text.
    pub head: String,
    /// The body, chunked bodies decoded.
    pub body: Vec<u8>,
    /// Whether a `100 Continue` came before the answer.
    pub continued: bool,
}

impl Answer {
    /// The answer in the bytes a server sent, skipping `100 Continue`.
    pub fn parse(raw: &[u8]) -> Answer {
        let mut rest = raw;
        let mut continued = false;
        loop {
            let Some(end) = find(rest, b"\r\n\r\n") else {
                return Answer {
                    head: String::from_utf8_lossy(rest).to_string(),
                    continued,
                    ..Answer::default()
                };
            };
            let head = String::from_utf8_lossy(&rest[..end]).to_string();
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            rest = &rest[end + 4..];
            if status == 100 {
                continued = true;
                continue;
            }
            let chunked = head.lines().any(|l| {
                let l = l.to_ascii_lowercase();
                l.starts_with("transfer-encoding:") && l.contains("chunked")
            });
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            // Bytes past the answer (an answer to leftover bytes) are not its body.
            let body = match (chunked, length) {
                (true, _) => dechunk(rest),
                (false, Some(n)) => rest[..n.min(rest.len())].to_vec(),
                (false, None) => rest.to_vec(),
            };
            return Answer {
                status,
                head,
                body,
                continued,
            };
        }
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    /// As a [`Reply`] (for [`super::check_error_shape`]).
    pub fn reply(&self) -> Reply {
        let text = self.text();
        Reply {
            status: self.status,
            json: serde_json::from_str(text.trim()).unwrap_or(Value::Null),
            text,
        }
    }

    /// A short description for failure messages.
    pub fn summary(&self) -> String {
        if self.status == 0 {
            return format!(
                "no answer (connection closed; got {:?})",
                clip(&self.head, 80)
            );
        }
        format!("{} {}", self.status, clip(&self.text(), 200))
    }
}

/// Where `needle` first is in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A chunked body, decoded (as much of it as arrived).
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = find(rest, b"\r\n") {
        let size = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        rest = &rest[end + 2..];
        if size == 0 || rest.len() < size {
            out.extend_from_slice(&rest[..size.min(rest.len())]);
            break;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
    out
}

/// Sends `req` on a new connection to `addr` and reads the answer until the
/// server closes (every request asks for `Connection: close`). Write errors are
/// ignored: a server may answer and close before a huge request is written.
/// ([`super::raw_request`] does the same but keeps no head and does not decode
/// chunked bodies.)
pub fn send(addr: &str, req: &Req) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    let wait = if req.head_only { 10 } else { 30 };
    stream.set_read_timeout(Some(Duration::from_secs(wait)))?;
    stream.set_write_timeout(Some(Duration::from_secs(20)))?;
    let _ = stream.write_all(&req.to_bytes(addr));
    if req.half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    // A stream that never ends (an event stream) is cut after 40 s.
    let deadline = Instant::now() + Duration::from_secs(40);
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    Ok(Answer::parse(&raw))
}
