//! A minimal keep-alive HTTP/1.1 client on a tokio `TcpStream`.
//!
//! It exists so the load generator measures the servers, not a client stack: one
//! connection writes a prebuilt request, parses the status line and headers with
//! `httparse`, reads a `Content-Length` or chunked body into a reused buffer, and keeps
//! the socket for the next request unless the server asked to close it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Largest response head (status line + headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Most headers parsed from one response.
const MAX_HEADERS: usize = 64;

/// Builds the bytes of one HTTP/1.1 request, ready to be written as they are.
///
/// `auth` becomes an `Authorization` header (PocketBase takes the bare token) and a
/// `body` is sent as `application/json` with its `Content-Length`.
pub fn request_bytes(
    method: &str,
    host: SocketAddr,
    path: &str,
    auth: Option<&str>,
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: */*\r\n");
    if let Some(token) = auth {
        out.push_str("Authorization: ");
        out.push_str(token);
        out.push_str("\r\n");
    }
    match body {
        Some(b) => out.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            b.len()
        )),
        None => out.push_str("\r\n"),
    }
    let mut bytes = out.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    bytes
}

/// One keep-alive connection to a server; reconnects lazily after a close or an error.
pub struct Conn {
    addr: SocketAddr,
    /// Local address the socket binds to before connecting (port chosen by the kernel).
    source: Option<IpAddr>,
    stream: Option<TcpStream>,
    /// Bytes read from the socket and not consumed yet.
    buf: Vec<u8>,
    /// Body of the last response.
    body: Vec<u8>,
}

/// How the body of a response is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

impl Conn {
    /// A connection to `addr`; the socket opens on the first request.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            source: None,
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
            body: Vec::with_capacity(16 * 1024),
        }
    }

    /// A connection to `addr` from the local address `source` (PocketBase accepts a
    /// realtime subscription only from the stream's own IP).
    pub fn with_source(addr: SocketAddr, source: IpAddr) -> Self {
        Self {
            source: Some(source),
            ..Self::new(addr)
        }
    }

    /// Sends one prebuilt request and reads the whole response, within `timeout`.
    ///
    /// Returns the status code and the body (valid until the next request). On any
    /// error the socket is dropped, so the next call starts on a fresh connection.
    pub async fn send(&mut self, request: &[u8], timeout: Duration) -> Result<(u16, &[u8])> {
        let result = tokio::time::timeout(timeout, self.exchange(request)).await;
        match result {
            Ok(Ok((status, keep_alive))) => {
                if !keep_alive {
                    self.stream = None;
                }
                Ok((status, &self.body))
            }
            Ok(Err(e)) => {
                self.stream = None;
                Err(e)
            }
            Err(_) => {
                self.stream = None;
                Err(anyhow!("request timed out after {timeout:?}"))
            }
        }
    }

    async fn exchange(&mut self, request: &[u8]) -> Result<(u16, bool)> {
        if self.stream.is_none() {
            let s = match self.source {
                None => TcpStream::connect(self.addr).await,
                Some(ip) => {
                    let socket = if self.addr.is_ipv4() {
                        TcpSocket::new_v4()?
                    } else {
                        TcpSocket::new_v6()?
                    };
                    socket
                        .bind(SocketAddr::new(ip, 0))
                        .with_context(|| format!("binding to {ip}"))?;
                    socket.connect(self.addr).await
                }
            }
            .with_context(|| format!("connecting to {}", self.addr))?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
            self.buf.clear();
        }
        let Some(stream) = self.stream.as_mut() else {
            bail!("no connection");
        };
        stream.write_all(request).await.context("writing request")?;

        // Head: read until the blank line, then let httparse split it.
        let (status, framing, keep_alive, head_len) = loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf).context("parsing response head")? {
                httparse::Status::Complete(len) => {
                    let status = resp.code.unwrap_or(0);
                    let http11 = resp.version == Some(1);
                    let mut framing = Framing::UntilClose;
                    let mut keep_alive = http11;
                    for h in resp.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            let v = std::str::from_utf8(h.value)?.trim();
                            framing = Framing::Length(v.parse().context("Content-Length")?);
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            if h.value.eq_ignore_ascii_case(b"chunked") {
                                framing = Framing::Chunked;
                            }
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            if h.value.eq_ignore_ascii_case(b"close") {
                                keep_alive = false;
                            } else if h.value.eq_ignore_ascii_case(b"keep-alive") {
                                keep_alive = true;
                            }
                        }
                    }
                    // 1xx, 204 and 304 carry no body.
                    if status / 100 == 1 || status == 204 || status == 304 {
                        framing = Framing::Length(0);
                    }
                    break (status, framing, keep_alive, len);
                }
                httparse::Status::Partial => {
                    if self.buf.len() > MAX_HEAD {
                        bail!("response head larger than {MAX_HEAD} bytes");
                    }
                    if stream.read_buf(&mut self.buf).await? == 0 {
                        bail!("connection closed before the response head");
                    }
                }
            }
        };
        self.buf.drain(..head_len);
        self.body.clear();

        match framing {
            Framing::Length(n) => {
                while self.buf.len() < n {
                    if stream.read_buf(&mut self.buf).await? == 0 {
                        bail!("connection closed inside the body");
                    }
                }
                self.body.extend_from_slice(&self.buf[..n]);
                self.buf.drain(..n);
            }
            Framing::Chunked => {
                read_chunked(stream, &mut self.buf, &mut self.body).await?;
            }
            Framing::UntilClose => {
                while stream.read_buf(&mut self.buf).await? != 0 {}
                self.body.append(&mut self.buf);
                return Ok((status, false));
            }
        }
        Ok((status, keep_alive))
    }
}

/// Index of the first `\r\n` in `buf`.
fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

/// Decodes a chunked body from `buf` (refilled from `stream`) into `body`.
async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>, body: &mut Vec<u8>) -> Result<()> {
    loop {
        // Chunk size line: hex size, optional extensions, CRLF.
        let line_end = loop {
            if let Some(i) = find_crlf(buf) {
                break i;
            }
            if stream.read_buf(buf).await? == 0 {
                bail!("connection closed inside a chunk size");
            }
        };
        let line = std::str::from_utf8(&buf[..line_end])?;
        let hex = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(hex, 16).with_context(|| format!("chunk size {hex:?}"))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailers (usually none), then the final CRLF.
            loop {
                let end = loop {
                    if let Some(i) = find_crlf(buf) {
                        break i;
                    }
                    if stream.read_buf(buf).await? == 0 {
                        bail!("connection closed inside the chunked trailer");
                    }
                };
                buf.drain(..end + 2);
                if end == 0 {
                    return Ok(());
                }
            }
        }
        while buf.len() < size + 2 {
            if stream.read_buf(buf).await? == 0 {
                bail!("connection closed inside a chunk");
            }
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

/// One request on a fresh connection, for setup calls: returns status and JSON body.
pub async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<(u16, serde_json::Value)> {
    let mut conn = Conn::new(addr);
    call_on(&mut conn, method, path, auth, body).await
}

/// Like [`call`], on an existing connection.
pub async fn call_on(
    conn: &mut Conn,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<(u16, serde_json::Value)> {
    let body_bytes = body.map(serde_json::to_vec).transpose()?;
    let req = request_bytes(method, conn.addr, path, auth, body_bytes.as_deref());
    let (status, raw) = conn
        .send(&req, Duration::from_secs(60))
        .await
        .with_context(|| format!("{method} {path}"))?;
    let json = if raw.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(raw).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(raw).into_owned())
        })
    };
    Ok((status, json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A one-connection server that answers each request with the next canned response.
    async fn serve(responses: Vec<&'static [u8]>) -> Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 4096];
            for response in responses {
                // Every test request is small and arrives in one read.
                if socket.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                if socket.write_all(response).await.is_err() {
                    return;
                }
            }
        });
        Ok(addr)
    }

    #[tokio::test]
    async fn keeps_the_connection_across_length_chunked_and_empty_bodies() -> Result<()> {
        let addr = serve(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\n{}",
        ])
        .await?;
        let mut conn = Conn::new(addr);
        let req = request_bytes("GET", addr, "/", None, None);
        let t = Duration::from_secs(5);
        assert_eq!(conn.send(&req, t).await?, (200, &b"hello"[..]));
        assert_eq!(conn.send(&req, t).await?, (201, &b"abcde"[..]));
        assert_eq!(conn.send(&req, t).await?, (204, &b""[..]));
        assert_eq!(conn.send(&req, t).await?, (404, &b"{}"[..]));
        Ok(())
    }

    #[tokio::test]
    async fn reads_to_close_without_framing_then_reconnects() -> Result<()> {
        let addr = serve(vec![b"HTTP/1.0 200 OK\r\n\r\nbye"]).await?;
        let mut conn = Conn::new(addr);
        let req = request_bytes("GET", addr, "/", None, None);
        assert_eq!(
            conn.send(&req, Duration::from_secs(5)).await?,
            (200, &b"bye"[..])
        );
        assert!(conn.stream.is_none());
        Ok(())
    }

    #[test]
    fn request_bytes_frame_a_json_body() {
        let addr: SocketAddr = ([127, 0, 0, 1], 8090).into();
        let req = request_bytes("POST", addr, "/x", Some("TOKEN"), Some(b"{}"));
        assert_eq!(
            req,
            b"POST /x HTTP/1.1\r\nHost: 127.0.0.1:8090\r\nAccept: */*\r\nAuthorization: TOKEN\r\n\
              Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
    }
}
