//! The client's address behind a reverse proxy, against the `litebase` binary:
//! with `trustedProxy.headers` set and the peer among `--trusted-proxies`, each
//! forwarded address has its own auth rate limit, shows as `userIP` in the
//! request logs and binds realtime streams; from an untrusted peer, or with no
//! headers configured, the header changes nothing.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use litebase::testing::{Http, ServerProcess};
use serde_json::{Value, json};

/// An answer: status and body.
struct Answer {
    status: u16,
    body: String,
}

/// `method url` with `headers`, a JSON `body` when given, no redirects.
fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> anyhow::Result<Answer> {
    let agent = support::agent();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = match body {
        Some(body) => agent.run(
            request
                .header("Content-Type", "application/json")
                .body(body.to_string())?,
        )?,
        None => agent.run(request.body(())?)?,
    };
    Ok(Answer {
        status: response.status().as_u16(),
        body: response.body_mut().read_to_string()?,
    })
}

/// One failed sign-in as `forwarded_for` (or with no header); its status.
fn sign_in_attempt(server: &ServerProcess, forwarded_for: Option<&str>) -> anyhow::Result<u16> {
    let headers: Vec<(&str, &str)> = forwarded_for
        .map(|ip| ("X-Forwarded-For", ip))
        .into_iter()
        .collect();
    let answer = send(
        "POST",
        &server.url("/api/collections/users/auth-with-password"),
        &headers,
        Some(&json!({"identity": "nobody@example.com", "password": "wrong-password"})),
    )?;
    Ok(answer.status)
}

/// The sign-in log entries whose `userIP` is `ip`, once the log writer wrote
/// at least `n` of them.
fn logged_from(
    server: &ServerProcess,
    token: &str,
    ip: &str,
    n: usize,
) -> anyhow::Result<Vec<Value>> {
    let filter = support::percent_encode(&format!(
        "userIP = \"{ip}\" && url ~ \"auth-with-password\""
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let reply = Http::new().get_auth(
            &server.url(&format!("/api/logs?filter={filter}&perPage=50")),
            token,
        )?;
        anyhow::ensure!(reply.status == 200, "logs: {}", reply.text);
        let items = reply.json["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= n {
            return Ok(items);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "fewer than {n} logs from {ip}: {}",
            reply.text
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `litebase serve` with a superuser, `--auth-rate-limit 3` and `extra` flags.
fn serve(dir: &std::path::Path, extra: &[&str]) -> anyhow::Result<(ServerProcess, String)> {
    support::add_superuser(dir)?;
    let mut flags = vec!["--log-level", "warn", "--auth-rate-limit", "3"];
    flags.extend_from_slice(extra);
    let server = support::serve(dir, &flags)?;
    let token = support::superuser_token(&server)?;
    Ok((server, token))
}

#[test]
fn a_trusted_proxy_gives_each_client_its_own_limit_and_log_address() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, token) = serve(dir.path(), &["--trusted-proxy-headers", "X-Forwarded-For"])?;
    let settings = Http::new().get_auth(&server.url("/api/settings"), &token)?;
    assert_eq!(
        settings.json["trustedProxy"],
        json!({"headers": ["X-Forwarded-For"], "useLeftmostIP": false}),
        "the flag is the setting's default"
    );

    // The rightmost address is the one our proxy (the test, on loopback) added.
    for _ in 0..3 {
        assert_eq!(
            sign_in_attempt(&server, Some("203.0.113.66, 198.51.100.1"))?,
            400
        );
    }
    assert_eq!(
        sign_in_attempt(&server, Some("198.51.100.1"))?,
        429,
        "the fourth from 198.51.100.1 is over the limit"
    );
    for _ in 0..3 {
        assert_eq!(
            sign_in_attempt(&server, Some("198.51.100.2"))?,
            400,
            "198.51.100.2 has a limit of its own"
        );
    }
    assert_eq!(sign_in_attempt(&server, Some("198.51.100.2"))?, 429);

    for ip in ["198.51.100.1", "198.51.100.2"] {
        let items = logged_from(&server, &token, ip, 4)?;
        assert_eq!(items.len(), 4, "{items:?}");
        for item in &items {
            assert_eq!(item["data"]["userIP"], ip);
            assert_eq!(item["data"]["remoteIP"], "127.0.0.1", "the peer stays");
        }
    }
    assert!(
        logged_from(&server, &token, "203.0.113.66", 0)?.is_empty(),
        "the leftmost, client-written address is not used"
    );
    Ok(())
}

#[test]
fn an_untrusted_peer_or_no_configured_header_changes_nothing() -> anyhow::Result<()> {
    // Loopback is not among the trusted proxies here, so the test is a
    // client talking to the server directly.
    let dir = tempfile::tempdir()?;
    let (server, token) = serve(
        dir.path(),
        &[
            "--trusted-proxy-headers",
            "X-Forwarded-For",
            "--trusted-proxies",
            "10.0.0.0/8",
        ],
    )?;
    // The superuser's sign-in counted once for 127.0.0.1; every forged
    // address lands in that same bucket.
    assert_eq!(sign_in_attempt(&server, Some("198.51.100.1"))?, 400);
    assert_eq!(sign_in_attempt(&server, Some("198.51.100.2"))?, 400);
    assert_eq!(sign_in_attempt(&server, Some("198.51.100.3"))?, 429);
    // The superuser's sign-in and the three attempts, all from the peer.
    assert_eq!(logged_from(&server, &token, "127.0.0.1", 4)?.len(), 4);
    assert!(logged_from(&server, &token, "198.51.100.1", 0)?.is_empty());
    drop(server);

    // Trusted peer, but no header configured (the default): the same.
    let dir = tempfile::tempdir()?;
    let (server, token) = serve(dir.path(), &[])?;
    let settings = Http::new().get_auth(&server.url("/api/settings"), &token)?;
    assert_eq!(
        settings.json["trustedProxy"],
        json!({"headers": [], "useLeftmostIP": false})
    );
    assert_eq!(sign_in_attempt(&server, Some("198.51.100.1"))?, 400);
    assert_eq!(sign_in_attempt(&server, Some("198.51.100.2"))?, 400);
    assert_eq!(sign_in_attempt(&server, Some("198.51.100.3"))?, 429);

    // Naming a header in the settings takes effect at once, no restart.
    let saved = Http::new().patch_json_auth(
        &server.url("/api/settings"),
        &token,
        &json!({"trustedProxy": {"headers": ["X-Forwarded-For"]}}),
    )?;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(sign_in_attempt(&server, Some("198.51.100.4"))?, 400);
    assert_eq!(
        sign_in_attempt(&server, None)?,
        429,
        "the peer's own bucket"
    );
    Ok(())
}

/// Opens `/api/realtime` as `forwarded_for` and returns the stream (kept open)
/// and its client id.
fn open_stream(server: &ServerProcess, forwarded_for: &str) -> anyhow::Result<(TcpStream, String)> {
    let mut stream = TcpStream::connect(&server.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET /api/realtime HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\nX-Forwarded-For: {forwarded_for}\r\n\r\n"
    )?;
    let mut seen = String::new();
    let mut buf = [0u8; 1024];
    let marker = "\"clientId\":\"";
    loop {
        let n = stream.read(&mut buf)?;
        anyhow::ensure!(n > 0, "stream closed before PB_CONNECT: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        if let Some(start) = seen.find(marker).map(|i| i + marker.len()) {
            if let Some(len) = seen[start..].find('"') {
                let id = seen[start..start + len].to_string();
                return Ok((stream, id));
            }
        }
    }
}

#[test]
fn realtime_binds_a_stream_to_the_forwarded_address() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (server, _token) = serve(dir.path(), &["--trusted-proxy-headers", "X-Forwarded-For"])?;
    let (_stream, client_id) = open_stream(&server, "198.51.100.7")?;
    let body = json!({"clientId": client_id, "subscriptions": ["users/*"]});
    let url = server.url("/api/realtime");

    let other = send(
        "POST",
        &url,
        &[("X-Forwarded-For", "198.51.100.8")],
        Some(&body),
    )?;
    assert_eq!(
        other.status, 400,
        "another client's address: {}",
        other.body
    );
    assert!(
        other.body.contains("Invalid realtime client."),
        "{}",
        other.body
    );
    let same = send(
        "POST",
        &url,
        &[("X-Forwarded-For", "198.51.100.7")],
        Some(&body),
    )?;
    assert_eq!(same.status, 204, "{}", same.body);
    Ok(())
}

#[test]
fn bad_trusted_proxy_flags_stop_the_start_with_a_clear_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    for (flags, needle) in [
        (
            vec!["--trusted-proxies", "10.1.2.3/8"],
            "did you mean 10.0.0.0/8?",
        ),
        (
            vec!["--trusted-proxies", "10.0.0.0/8,example.com"],
            "\"example.com\" is not an IP address or range",
        ),
        (
            vec!["--trusted-proxy-headers", "X-Real-IP,Not A Header"],
            "\"Not A Header\" is not a header name",
        ),
    ] {
        let out = support::litebase(dir.path())
            .args(["serve", "--http", "127.0.0.1:0"])
            .args(&flags)
            .output()?;
        assert_eq!(out.status.code(), Some(2), "{flags:?} is a usage error");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
    Ok(())
}
