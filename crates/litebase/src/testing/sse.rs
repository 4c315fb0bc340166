//! A raw `/api/realtime` (SSE) client for tests: HTTP/1.1, the chunked body
//! decoded as it arrives and kept as text, so a test can wait for an event and
//! check what else came.
//!
//! ```no_run
//! # async fn demo(addr: &str) -> std::io::Result<()> {
//! use litebase::testing::sse::{SseClient, subscribe};
//! let mut client = SseClient::connect(addr).await?;
//! subscribe(addr.to_string(), client.client_id.clone(), "posts").await?;
//! client.wait_for("\"action\":\"create\"").await?;
//! # Ok(())
//! # }
//! ```

use std::io::{Error, Result};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::Http;

/// A raw SSE connection: HTTP/1.1, chunked body decoded as it arrives.
pub struct SseClient {
    reader: BufReader<TcpStream>,
    /// Everything received so far.
    pub buffer: String,
    /// The id `PB_CONNECT` gave.
    pub client_id: String,
}

impl SseClient {
    /// Connects and waits for `PB_CONNECT`.
    pub async fn connect(addr: &str) -> Result<SseClient> {
        let mut stream = TcpStream::connect(addr).await?;
        stream
            .write_all(
                b"GET /api/realtime HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n",
            )
            .await?;
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Err(Error::other("closed during headers"));
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut client = SseClient {
            reader,
            buffer: String::new(),
            client_id: String::new(),
        };
        client.wait_for("PB_CONNECT").await?;
        let start = client
            .buffer
            .find("\"clientId\":\"")
            .map(|i| i + 12)
            .unwrap_or(0);
        client.client_id = client.buffer[start..]
            .chars()
            .take_while(|c| *c != '"')
            .collect();
        Ok(client)
    }

    /// Reads one chunk of the body; `false` once the server ended the stream.
    pub async fn read_chunk(&mut self) -> Result<bool> {
        let mut size = String::new();
        if self.reader.read_line(&mut size).await? == 0 {
            return Ok(false);
        }
        let n = usize::from_str_radix(size.trim(), 16).map_err(Error::other)?;
        if n == 0 {
            return Ok(false);
        }
        let mut data = vec![0u8; n + 2];
        self.reader.read_exact(&mut data).await?;
        self.buffer.push_str(&String::from_utf8_lossy(&data[..n]));
        Ok(true)
    }

    /// Reads until `needle` arrived.
    pub async fn wait_for(&mut self, needle: &str) -> Result<()> {
        while !self.buffer.contains(needle) {
            if !self.read_chunk().await? {
                return Err(Error::other(format!("stream ended before {needle:?}")));
            }
        }
        Ok(())
    }

    /// How often `needle` arrived so far.
    pub fn count(&self, needle: &str) -> usize {
        self.buffer.matches(needle).count()
    }
}

/// Sets the subscriptions of `client_id` to `topic`, as a guest.
pub async fn subscribe(addr: String, client_id: String, topic: &str) -> Result<()> {
    subscribe_as(addr, client_id, &[topic], None).await
}

/// Sets the subscriptions of `client_id`, with `token`'s auth if given.
pub async fn subscribe_as(
    addr: String,
    client_id: String,
    topics: &[&str],
    token: Option<&str>,
) -> Result<()> {
    let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
    let token = token.map(str::to_string);
    let reply = tokio::task::spawn_blocking(move || {
        let url = format!("http://{addr}/api/realtime");
        let body = json!({"clientId": client_id, "subscriptions": topics});
        match token {
            Some(t) => Http::new().post_json_auth(&url, &t, &body),
            None => Http::new().post_json(&url, &body),
        }
    })
    .await
    .map_err(Error::other)??;
    if reply.status == 204 {
        Ok(())
    } else {
        Err(Error::other(format!("subscribe: {}", reply.text)))
    }
}
