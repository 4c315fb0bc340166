//! A minimal Server-Sent Events client on a tokio `TcpStream`, built for holding
//! thousands of streams in one process.
//!
//! [`SseStream::open`] connects from a chosen loopback source address, sends
//! `GET /api/realtime`, checks the response head, then decodes the body (chunked or
//! read until close) with [`ChunkDecoder`] and splits it into events with
//! [`SseParser`], which follows the SSE spec: `\n`, `\r\n` or `\r` line ends, an
//! optional space after the colon, comment lines (`:`) ignored, `data` lines joined.
//! Each event carries the time the read that completed it returned.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Largest response head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Longest chunk-size or trailer line accepted.
const MAX_CHUNK_LINE: usize = 1024;
/// Longest SSE line accepted (an event's data is one line on both servers).
const MAX_LINE: usize = 1024 * 1024;
/// Bytes read from the socket at a time.
const READ_SIZE: usize = 4096;

/// One dispatched SSE event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The last event id seen on the stream (`id:` lines persist across events).
    pub id: Option<String>,
    /// The event type; `message` when the event had no `event:` line.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// When the read that completed this event returned.
    pub at: Instant,
}

/// An incremental SSE parser: bytes in, complete events out.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous byte was a `\r`, so a following `\n` belongs to the same line end.
    skip_lf: bool,
    last_id: Option<String>,
    event: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// Parses `input`, appending each event it completes to `out` (stamped `at`).
    pub fn feed(&mut self, mut input: &[u8], at: Instant, out: &mut VecDeque<Event>) -> Result<()> {
        while !input.is_empty() {
            if std::mem::take(&mut self.skip_lf) && input[0] == b'\n' {
                input = &input[1..];
                continue;
            }
            match input.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(i) => {
                    self.push(&input[..i])?;
                    self.skip_lf = input[i] == b'\r';
                    self.end_line(at, out);
                    input = &input[i + 1..];
                }
                None => {
                    self.push(input)?;
                    break;
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, bytes: &[u8]) -> Result<()> {
        if self.line.len() + bytes.len() > MAX_LINE {
            bail!("SSE line longer than {MAX_LINE} bytes");
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn end_line(&mut self, at: Instant, out: &mut VecDeque<Event>) {
        let mut line = std::mem::take(&mut self.line);
        if line.is_empty() {
            self.dispatch(at, out);
        } else if line[0] != b':' {
            let (field, value) = match line.iter().position(|&c| c == b':') {
                Some(i) => {
                    let v = &line[i + 1..];
                    (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
                }
                None => (&line[..], &[][..]),
            };
            match field {
                b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
                b"data" => {
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.data.push_str(&String::from_utf8_lossy(value));
                    self.has_data = true;
                }
                b"id" if !value.contains(&0) => {
                    self.last_id = Some(String::from_utf8_lossy(value).into_owned());
                }
                _ => {}
            }
        }
        line.clear();
        self.line = line;
    }

    fn dispatch(&mut self, at: Instant, out: &mut VecDeque<Event>) {
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            // No data: per the spec, nothing is dispatched and the type is reset.
            self.data.clear();
            return;
        }
        out.push_back(Event {
            id: self.last_id.clone(),
            event: if event.is_empty() {
                "message".into()
            } else {
                event
            },
            data: std::mem::take(&mut self.data),
            at,
        });
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChunkState {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk, with this many data bytes to go.
    Data(usize),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until a blank one.
    Trailer,
    /// The body is complete.
    Done,
}

/// An incremental decoder of `Transfer-Encoding: chunked` bodies.
#[derive(Debug)]
pub struct ChunkDecoder {
    state: ChunkState,
    /// Undecoded input (a partial size line or CRLF).
    pending: Vec<u8>,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self {
            state: ChunkState::Size,
            pending: Vec::new(),
        }
    }
}

impl ChunkDecoder {
    /// Whether the terminating zero-size chunk and trailer have been read.
    pub fn done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes `input`, appending the body bytes it carries to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.pending.extend_from_slice(input);
        let buf = std::mem::take(&mut self.pending);
        let mut pos = 0;
        let result = self.decode(&buf, &mut pos, out);
        self.pending = buf;
        self.pending.drain(..pos);
        result
    }

    fn decode(&mut self, buf: &[u8], pos: &mut usize, out: &mut Vec<u8>) -> Result<()> {
        loop {
            let rest = &buf[*pos..];
            match self.state {
                ChunkState::Size | ChunkState::Trailer => {
                    let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                        if rest.len() > MAX_CHUNK_LINE {
                            bail!("chunk-size line longer than {MAX_CHUNK_LINE} bytes");
                        }
                        return Ok(());
                    };
                    let line = &rest[..end];
                    *pos += end + 2;
                    if self.state == ChunkState::Trailer {
                        if line.is_empty() {
                            self.state = ChunkState::Done;
                        }
                        continue;
                    }
                    let text = std::str::from_utf8(line).context("chunk-size line")?;
                    let hex = text.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(hex, 16)
                        .with_context(|| format!("chunk size {hex:?}"))?;
                    self.state = if size == 0 {
                        ChunkState::Trailer
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if rest.is_empty() {
                        return Ok(());
                    }
                    let take = left.min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    *pos += take;
                    self.state = if take == left {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(left - take)
                    };
                }
                ChunkState::DataEnd => {
                    if rest.len() < 2 {
                        return Ok(());
                    }
                    if &rest[..2] != b"\r\n" {
                        bail!("chunk data not followed by CRLF");
                    }
                    *pos += 2;
                    self.state = ChunkState::Size;
                }
                ChunkState::Done => {
                    // Anything after the body is not ours to read.
                    *pos = buf.len();
                    return Ok(());
                }
            }
        }
    }
}

/// One open SSE stream.
pub struct SseStream {
    stream: TcpStream,
    read: Vec<u8>,
    body: Vec<u8>,
    /// `Some` for a chunked body, `None` for a body that runs until the close.
    chunks: Option<ChunkDecoder>,
    parser: SseParser,
    events: VecDeque<Event>,
    closed: bool,
}

impl SseStream {
    /// Connects to `server` (from `source` when given, port chosen by the kernel),
    /// requests `path` and reads the response head; fails unless it is a 200.
    pub async fn open(server: SocketAddr, source: Option<IpAddr>, path: &str) -> Result<Self> {
        let socket = if server.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if let Some(ip) = source {
            socket
                .bind(SocketAddr::new(ip, 0))
                .with_context(|| format!("binding to {ip}"))?;
        }
        let mut stream = socket
            .connect(server)
            .await
            .with_context(|| format!("connecting to {server}"))?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\n\
             Cache-Control: no-store\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .context("writing the request")?;

        let mut head = Vec::with_capacity(1024);
        let (status, chunked, head_len) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&head).context("parsing the response head")? {
                httparse::Status::Complete(len) => {
                    let chunked = resp.headers.iter().any(|h| {
                        h.name.eq_ignore_ascii_case("transfer-encoding")
                            && h.value.eq_ignore_ascii_case(b"chunked")
                    });
                    break (resp.code.unwrap_or(0), chunked, len);
                }
                httparse::Status::Partial => {
                    if head.len() > MAX_HEAD {
                        bail!("response head larger than {MAX_HEAD} bytes");
                    }
                    if stream.read_buf(&mut head).await? == 0 {
                        bail!("connection closed before the response head");
                    }
                }
            }
        };
        if status != 200 {
            let tail = String::from_utf8_lossy(&head[head_len..]);
            bail!("GET {path} answered {status}: {tail}");
        }
        let mut s = Self {
            stream,
            read: Vec::with_capacity(READ_SIZE),
            body: Vec::new(),
            chunks: chunked.then(ChunkDecoder::default),
            parser: SseParser::default(),
            events: VecDeque::new(),
            closed: false,
        };
        s.ingest(&head[head_len..], Instant::now())?;
        Ok(s)
    }

    fn ingest(&mut self, bytes: &[u8], at: Instant) -> Result<()> {
        match &mut self.chunks {
            Some(decoder) => {
                self.body.clear();
                decoder.feed(bytes, &mut self.body)?;
                if decoder.done() {
                    self.closed = true;
                }
                self.parser.feed(&self.body, at, &mut self.events)
            }
            None => self.parser.feed(bytes, at, &mut self.events),
        }
    }

    /// The next event; `None` once the server has ended the stream.
    pub async fn next_event(&mut self) -> Result<Option<Event>> {
        loop {
            if let Some(event) = self.events.pop_front() {
                return Ok(Some(event));
            }
            if self.closed {
                return Ok(None);
            }
            self.read.clear();
            let n = self.stream.read_buf(&mut self.read).await?;
            let at = Instant::now();
            if n == 0 {
                if self.chunks.is_some() {
                    bail!("connection closed inside the chunked stream");
                }
                self.closed = true;
                continue;
            }
            let read = std::mem::take(&mut self.read);
            let result = self.ingest(&read, at);
            self.read = read;
            result?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    fn parse_all(parts: &[&[u8]]) -> Vec<(Option<String>, String, String)> {
        let mut p = SseParser::default();
        let mut out = VecDeque::new();
        for part in parts {
            p.feed(part, Instant::now(), &mut out).unwrap();
        }
        out.into_iter().map(|e| (e.id, e.event, e.data)).collect()
    }

    #[test]
    fn parses_both_servers_framings_and_ignores_comments() {
        let ours = parse_all(&[
            b"id:abc\n",
            b"event:PB_CONNECT\ndata:{\"clientId\":\"abc\"}\n\n",
            b":\n\n",
            b"id:abc\nevent:posts/*\ndata:{\"a\":1}\n\n",
        ]);
        assert_eq!(
            ours,
            vec![
                (
                    Some("abc".into()),
                    "PB_CONNECT".into(),
                    "{\"clientId\":\"abc\"}".into()
                ),
                (Some("abc".into()), "posts/*".into(), "{\"a\":1}".into()),
            ]
        );
        // Spaces after the colon, CRLF and lone CR line ends, split anywhere.
        let spaced = parse_all(&[b"id: x\r", b"\nevent: e\rdata: 1\r\ndata:  2\r", b"\r\n"]);
        assert_eq!(spaced, vec![(Some("x".into()), "e".into(), "1\n 2".into())]);
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        assert_eq!(
            parse_all(&[b"event:x\n\ndata\n\n"]),
            vec![(None, "message".into(), String::new())]
        );
    }

    #[test]
    fn decodes_chunks_split_at_every_byte() {
        let body = b"5\r\nhello\r\n3;ext=1\r\n wo\r\n2\r\nrl\r\n0\r\n\r\n";
        for split in 0..body.len() {
            let mut d = ChunkDecoder::default();
            let mut out = Vec::new();
            d.feed(&body[..split], &mut out).unwrap();
            d.feed(&body[split..], &mut out).unwrap();
            assert_eq!(out, b"hello worl", "split at {split}");
            assert!(d.done());
        }
        let mut d = ChunkDecoder::default();
        let mut out = Vec::new();
        for b in body {
            d.feed(std::slice::from_ref(b), &mut out).unwrap();
        }
        assert_eq!(out, b"hello worl");
        assert!(ChunkDecoder::default().feed(b"zz\r\n", &mut out).is_err());
    }

    #[tokio::test]
    async fn reads_events_from_a_chunked_stream_until_it_ends() -> Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nid:c1\n\r\n")
                .await
                .unwrap();
            s.write_all(b"1a\r\nevent:PB_CONNECT\ndata:{}\n\n\r\n3\r\n:\n\n\r\n0\r\n\r\n")
                .await
                .unwrap();
        });
        let mut stream =
            SseStream::open(addr, Some([127, 0, 0, 2].into()), "/api/realtime").await?;
        let e = stream.next_event().await?.context("an event")?;
        assert_eq!(
            (e.id.as_deref(), e.event.as_str(), e.data.as_str()),
            (Some("c1"), "PB_CONNECT", "{}")
        );
        assert!(stream.next_event().await?.is_none());
        Ok(())
    }
}
