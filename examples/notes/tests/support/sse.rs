//! A small blocking client of `/api/realtime` (server-sent events): it reads the
//! chunked HTTP/1.1 body as it arrives, so a test can wait for one event.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use litebase::testing::Http;
use serde_json::json;

/// How long one read may wait before the test fails instead of hanging.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// An open `/api/realtime` stream.
pub struct SseClient {
    reader: BufReader<TcpStream>,
    /// Everything received so far.
    pub received: String,
    /// The id the server gave in its `PB_CONNECT` event.
    pub client_id: String,
}

impl SseClient {
    /// Opens the stream at `addr` and waits for `PB_CONNECT`.
    pub fn connect(addr: &str) -> anyhow::Result<SseClient> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.write_all(
            b"GET /api/realtime HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n",
        )?;
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status)?;
        anyhow::ensure!(status.contains(" 200 "), "GET /api/realtime: {status}");
        let mut header = String::new();
        while header != "\r\n" {
            header.clear();
            anyhow::ensure!(reader.read_line(&mut header)? > 0, "closed in the headers");
        }
        let mut client = SseClient {
            reader,
            received: String::new(),
            client_id: String::new(),
        };
        client.wait_for("PB_CONNECT")?;
        let key = "\"clientId\":\"";
        let start = client
            .received
            .find(key)
            .map(|i| i + key.len())
            .ok_or_else(|| anyhow::anyhow!("no clientId in {:?}", client.received))?;
        client.client_id = client.received[start..]
            .chars()
            .take_while(|c| *c != '"')
            .collect();
        Ok(client)
    }

    /// Subscribes this stream to `topics`, as the user holding `token`.
    pub fn subscribe(&self, addr: &str, token: &str, topics: &[&str]) -> anyhow::Result<()> {
        let reply = Http::new().post_json_auth(
            &format!("http://{addr}/api/realtime"),
            token,
            &json!({"clientId": self.client_id, "subscriptions": topics}),
        )?;
        anyhow::ensure!(reply.status == 204, "subscribe: {}", reply.text);
        Ok(())
    }

    /// Reads until `needle` has arrived; fails if the stream ends or stays
    /// silent for [`READ_TIMEOUT`].
    pub fn wait_for(&mut self, needle: &str) -> anyhow::Result<()> {
        while !self.received.contains(needle) {
            self.read_chunk().map_err(|e| {
                anyhow::anyhow!("waiting for {needle:?}: {e}; received: {}", self.received)
            })?;
        }
        Ok(())
    }

    /// How many events named `name` arrived so far.
    pub fn events(&self, name: &str) -> usize {
        self.received.matches(&format!("event:{name}\n")).count()
    }

    /// Reads one chunk of the body into `received`.
    fn read_chunk(&mut self) -> anyhow::Result<()> {
        let mut size = String::new();
        anyhow::ensure!(self.reader.read_line(&mut size)? > 0, "stream closed");
        let n = usize::from_str_radix(size.trim(), 16)?;
        anyhow::ensure!(n > 0, "stream ended");
        // The chunk, then its CRLF.
        let mut data = vec![0u8; n + 2];
        self.reader.read_exact(&mut data)?;
        self.received.push_str(&String::from_utf8_lossy(&data[..n]));
        Ok(())
    }
}
