//! The answers the HTTP/1 layer (the vendored actix-http dispatcher) makes on its own,
//! before any handler runs, against the `litebase` binary over raw TCP: request
//! heads up to PocketBase's limits (1 MiB, 500 header fields) are served, larger or
//! malformed ones are refused in PocketBase's JSON shape, and `Expect: 100-continue`
//! with a declared body over the limit gets its 413 without `100 Continue`.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use litebase::testing::{Reply, ServerProcess, assert_error_shape};

/// One response read off a connection.
struct Answer {
    status: u16,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    /// Asserts a `200`.
    fn assert_ok(&self) {
        let body = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, 200, "{body}");
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Asserts a JSON error in PocketBase's shape with the answer's own status as
    /// `status`; returns its message.
    fn assert_pocketbase_error(&self, status: u16) -> String {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "a {} without a JSON content type",
            self.status
        );
        let text = String::from_utf8_lossy(&self.body).to_string();
        let reply = Reply {
            status: self.status,
            json: serde_json::from_str(&text).unwrap_or_default(),
            text,
        };
        assert_error_shape(&reply, status)
    }
}

/// A connection that reads answers as they come, without waiting for the server to
/// close (after an error it may reset the connection instead).
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(server: &ServerProcess) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(&server.addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Self {
            stream,
            buf: Vec::new(),
        })
    }

    /// Writes `bytes` on another thread, so a server that answers before reading
    /// everything (and then closes) is read here instead of blocking the write; a
    /// failed write is the server having closed, which the answer shows.
    fn send_in_background(&self, bytes: Vec<u8>) -> anyhow::Result<()> {
        let mut writer = self.stream.try_clone()?;
        std::thread::spawn(move || {
            if writer.write_all(&bytes).is_err() {
                let _ = writer.shutdown(Shutdown::Write);
            }
        });
        Ok(())
    }

    /// The next response (interim `1xx` ones included).
    fn answer(&mut self) -> anyhow::Result<Answer> {
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no status line in {head:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let length: usize = match headers.iter().find(|(n, _)| n == "content-length") {
            Some((_, v)) => v.parse()?,
            None => 0,
        };
        let end = head_end + 4 + length;
        while self.buf.len() < end {
            self.fill()?;
        }
        let body = self.buf[head_end + 4..end].to_vec();
        self.buf.drain(..end);
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    fn fill(&mut self) -> anyhow::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        anyhow::ensure!(
            n > 0,
            "closed before a whole answer; got {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// `GET target` with `headers` (each `Name: value`), closing after the answer.
fn get(target: &str, headers: &[String]) -> Vec<u8> {
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n");
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    request.into_bytes()
}

/// Sends `request` on a new connection; the first answer.
fn exchange(server: &ServerProcess, request: Vec<u8>) -> anyhow::Result<Answer> {
    let mut conn = Conn::open(server)?;
    conn.send_in_background(request)?;
    conn.answer()
}

/// `count` headers `X-Fill-N` of `size` bytes of value each.
fn fill_headers(count: usize, size: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("X-Fill-{i}: {}", "a".repeat(size)))
        .collect()
}

fn assert_healthy(server: &ServerProcess) -> anyhow::Result<()> {
    exchange(server, get("/api/health", &[]))?.assert_ok();
    Ok(())
}

#[test]
fn heads_up_to_pocketbases_limits_are_served_and_larger_ones_refused_in_json() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;

    // 900 KB in one header, and spread over 90 headers.
    for headers in [fill_headers(1, 900_000), fill_headers(90, 10_000)] {
        exchange(&server, get("/api/health", &headers))?.assert_ok();
    }

    // A 900 KB head on a kept-alive connection, then a small request on it.
    let mut conn = Conn::open(&server)?;
    let mut two = format!(
        "GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Fill: {}\r\n\r\n",
        "a".repeat(900_000)
    )
    .into_bytes();
    two.extend_from_slice(&get("/api/health", &[]));
    conn.send_in_background(two)?;
    conn.answer()?.assert_ok();
    conn.answer()?.assert_ok();

    // 500 header fields are served, as by PocketBase (Host and Connection count).
    exchange(&server, get("/api/health", &fill_headers(498, 1)))?.assert_ok();

    // Over 1 MiB, in one header or in the URL; over 500 header fields.
    let big = 1_100 * 1024;
    for request in [
        get("/api/health", &fill_headers(1, big)),
        get(&format!("/api/health?filter={}", "a".repeat(big)), &[]),
        get("/api/health", &fill_headers(499, 1)),
    ] {
        let message = exchange(&server, request)?.assert_pocketbase_error(431);
        assert!(message.contains("1 MiB"), "{message}");
    }

    // A URL over the 65,534 bytes the `http` crate takes.
    let long_url = format!("/api/health?filter={}", "a".repeat(70_000));
    let message = exchange(&server, get(&long_url, &[]))?.assert_pocketbase_error(414);
    assert!(message.contains("URL"), "{message}");

    // A malformed request line.
    exchange(
        &server,
        b"GET /api/health HTTP/1.1 extra\r\nHost: x\r\n\r\n".to_vec(),
    )?
    .assert_pocketbase_error(400);
    exchange(&server, b"GARBAGE\r\n\r\n".to_vec())?.assert_pocketbase_error(400);

    assert_healthy(&server)?;
    Ok(())
}

/// A `POST` head for `users` records declaring `length` bytes and expecting
/// `100 Continue`.
fn expect_head(length: u64) -> Vec<u8> {
    format!(
        "POST /api/collections/users/records HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn expect_continue_over_the_body_limit_gets_413_without_100_continue() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // The default body limit, 32 MiB.
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;

    // 40 MiB declared: the 413 comes first and alone.
    let mut conn = Conn::open(&server)?;
    conn.send_in_background(expect_head(40 * 1024 * 1024))?;
    let answer = conn.answer()?;
    assert_eq!(
        answer.status, 413,
        "expected the 413 before any 100 Continue"
    );
    assert_eq!(
        answer.assert_pocketbase_error(413),
        "Request entity too large."
    );

    // A small body: 100 Continue, then the body is read and answered as usual.
    let mut conn = Conn::open(&server)?;
    conn.send_in_background(expect_head(2))?;
    let interim = conn.answer()?;
    assert_eq!(interim.status, 100);
    conn.send_in_background(b"{}".to_vec())?;
    let answer = conn.answer()?;
    assert_eq!(
        answer.assert_pocketbase_error(400),
        "Failed to create record."
    );

    assert_healthy(&server)?;
    Ok(())
}

#[test]
fn a_head_that_never_finishes_gets_408_in_json() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = support::serve(dir.path(), &["--log-level", "warn"])?;
    let mut conn = Conn::open(&server)?;
    conn.send_in_background(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n".to_vec())?;
    // actix-web's default client request timeout is 5 s.
    conn.answer()?.assert_pocketbase_error(408);
    assert_healthy(&server)?;
    Ok(())
}
