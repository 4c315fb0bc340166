//! `healthcheck`: one plain HTTP/1.1 GET over a std `TcpStream`, so a
//! container built `FROM scratch` (no shell, no curl) can use the binary
//! itself as its `HEALTHCHECK`. Healthy means a 2xx answer within the
//! timeout; anything else is a [`HealthError`] saying why.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// How long connecting and reading the answer may take together.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Why the check failed (or could not start).
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The URL or address given cannot be checked.
    #[error("{0}")]
    Usage(String),
    /// Nothing answered at the address.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The URL checked.
        url: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The deadline passed before an answer came.
    #[error("no answer from {url} within {} s", .timeout.as_secs())]
    Timeout {
        /// The URL checked.
        url: String,
        /// The time allowed.
        timeout: Duration,
    },
    /// The connection broke while talking.
    #[error("{url}: {source}")]
    Io {
        /// The URL checked.
        url: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The peer answered something that is not an HTTP status line.
    #[error("{url} did not answer HTTP (got {got:?})")]
    NotHttp {
        /// The URL checked.
        url: String,
        /// The start of what came back.
        got: String,
    },
    /// An answer, but not a 2xx one.
    #[error("{url} answered {status_line}")]
    Unhealthy {
        /// The URL checked.
        url: String,
        /// The status code.
        status: u16,
        /// The whole status line after the version: `503 Service Unavailable`.
        status_line: String,
    },
}

/// A parsed `http://host[:port][/path]` to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthUrl {
    /// Host name or address, without brackets.
    pub host: String,
    /// Port (80 when the URL gives none).
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
    /// The URL's authority as written, for the `Host` header.
    authority: String,
}

impl FromStr for HealthUrl {
    type Err = HealthError;

    /// Only plain `http://` URLs: the check talks HTTP/1.1 over TCP itself.
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let usage = |why: &str| {
            HealthError::Usage(format!(
                "{url:?}: {why} (e.g. http://127.0.0.1:8090/api/health)"
            ))
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(usage("give an http:// URL"));
        };
        if scheme.eq_ignore_ascii_case("https") {
            return Err(usage(
                "https is not supported: the check speaks plain HTTP, so point it at the server's own http listener, not the TLS proxy",
            ));
        }
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(usage("only http:// URLs can be checked"));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let path = path.split('#').next().unwrap_or_default();
        let path = match path {
            "" => "/".to_string(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_string(),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(usage("give a host, and no user name"));
        }
        if path.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(usage("the path may not hold spaces or control characters"));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| usage("bad host or port"))?;
        Ok(HealthUrl {
            host: host.to_string(),
            port: port.unwrap_or(80),
            path,
            authority: authority.to_string(),
        })
    }
}

impl std::fmt::Display for HealthUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority, self.path)
    }
}

/// `host:port`, `[v6]:port`, `host` or `[v6]` → host (no brackets) and port.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port)),
            Some(_) => return None,
            None => (authority, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0)?),
    };
    valid_host.then_some((host, port))
}

/// The URL `serve --http ADDR` is checked at: `http://ADDR/api/health`, with
/// an unspecified host (`0.0.0.0`, `[::]`) replaced by loopback of the same
/// family, which is where a listener on every address can be reached.
///
/// ```
/// use litebase::healthcheck::default_url;
/// assert_eq!(default_url("0.0.0.0:8090").unwrap().to_string(), "http://127.0.0.1:8090/api/health");
/// assert_eq!(default_url("[::]:80").unwrap().to_string(), "http://[::1]:80/api/health");
/// ```
pub fn default_url(http: &str) -> Result<HealthUrl, HealthError> {
    let usage = || {
        HealthError::Usage(format!(
            "--http {http:?} is not an address to check: give HOST:PORT (e.g. 0.0.0.0:8090), or --url"
        ))
    };
    let (host, port) = split_host_port(http.trim()).ok_or_else(usage)?;
    let port = port.ok_or_else(usage)?;
    let host = match host {
        "0.0.0.0" => "127.0.0.1".to_string(),
        "::" => "[::1]".to_string(),
        v6 if v6.contains(':') => format!("[{v6}]"),
        other => other.to_string(),
    };
    format!("http://{host}:{port}/api/health").parse()
}

/// The status code of an answer's first line (`HTTP/1.1 200 OK`), and the
/// line after the version (`200 OK`).
pub fn parse_status_line(line: &str) -> Option<(u16, &str)> {
    let rest = line.strip_prefix("HTTP/1.")?;
    let (_minor, rest) = rest.split_once(' ')?;
    let rest = rest.trim_end_matches(['\r', '\n']);
    let code = rest.get(..3)?;
    let digits = code.bytes().all(|b| b.is_ascii_digit());
    if !digits || (rest.len() > 3 && !rest[3..].starts_with(' ')) {
        return None;
    }
    Some((code.parse().ok()?, rest))
}

/// GETs `url` and waits at most `timeout` for the status line: `Ok(status)`
/// for a 2xx, an error saying why otherwise.
pub fn check(url: &HealthUrl, timeout: Duration) -> Result<u16, HealthError> {
    let shown = url.to_string();
    let deadline = Instant::now() + timeout;
    let timed_out = || HealthError::Timeout {
        url: shown.clone(),
        timeout,
    };
    let io = |source: std::io::Error| {
        if matches!(
            source.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            timed_out()
        } else {
            HealthError::Io {
                url: shown.clone(),
                source,
            }
        }
    };
    let addrs: Vec<_> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|source| HealthError::Connect {
            url: shown.clone(),
            source,
        })?
        .collect();
    let mut last = None;
    let mut stream = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(mut stream) = stream else {
        return Err(match last {
            Some(e) if e.kind() == std::io::ErrorKind::TimedOut => timed_out(),
            Some(source) => HealthError::Connect {
                url: shown.clone(),
                source,
            },
            None => HealthError::Connect {
                url: shown.clone(),
                source: std::io::Error::other("the host has no address"),
            },
        });
    };
    let left = deadline.saturating_duration_since(Instant::now());
    stream
        .set_write_timeout(Some(left.max(Duration::from_millis(1))))
        .map_err(io)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: litebase-healthcheck\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path, url.authority
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.contains(&b'\n') && head.len() < 8192 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out());
        }
        stream.set_read_timeout(Some(left)).map_err(io)?;
        let n = stream.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or_default();
    let Some((status, status_line)) = parse_status_line(line) else {
        return Err(HealthError::NotHttp {
            url: shown,
            got: line.chars().take(80).collect(),
        });
    };
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(HealthError::Unhealthy {
            url: shown,
            status,
            status_line: status_line.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn url(text: &str) -> HealthUrl {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn urls_parse_into_host_port_and_path() {
        let cases = [
            (
                "http://127.0.0.1:8090/api/health",
                "127.0.0.1",
                8090,
                "/api/health",
            ),
            (
                "http://localhost/api/health",
                "localhost",
                80,
                "/api/health",
            ),
            ("HTTP://example.com:81", "example.com", 81, "/"),
            (
                "http://[::1]:8090/api/health?x=1",
                "::1",
                8090,
                "/api/health?x=1",
            ),
            ("http://[::1]", "::1", 80, "/"),
            ("http://h:1?q", "h", 1, "/?q"),
            ("http://h:1/p#frag", "h", 1, "/p"),
        ];
        for (text, host, port, path) in cases {
            let u = url(text);
            assert_eq!(
                (u.host.as_str(), u.port, u.path.as_str()),
                (host, port, path),
                "{text}"
            );
        }
        assert_eq!(
            url("http://[::1]:8090/x").to_string(),
            "http://[::1]:8090/x"
        );
    }

    #[test]
    fn https_and_odd_urls_are_usage_errors() {
        let https = "https://127.0.0.1/api/health".parse::<HealthUrl>();
        assert!(
            matches!(&https, Err(HealthError::Usage(m)) if m.contains("https is not supported")),
            "{https:?}"
        );
        for bad in [
            "127.0.0.1:8090",
            "ftp://h/",
            "http://",
            "http:///x",
            "http://user@h/",
            "http://h:0/",
            "http://h:99999/",
            "http://h:x/",
            "http://::1/",
            "http://[::1/",
            "http://h/a b",
            "http://h<script>/",
        ] {
            assert!(
                matches!(bad.parse::<HealthUrl>(), Err(HealthError::Usage(_))),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn the_default_url_reaches_an_every_address_listener_on_loopback() {
        let cases = [
            ("127.0.0.1:8090", "http://127.0.0.1:8090/api/health"),
            ("0.0.0.0:8090", "http://127.0.0.1:8090/api/health"),
            ("[::]:8090", "http://[::1]:8090/api/health"),
            ("[::1]:9000", "http://[::1]:9000/api/health"),
            ("10.1.2.3:80", "http://10.1.2.3:80/api/health"),
            ("localhost:8090", "http://localhost:8090/api/health"),
        ];
        for (http, expected) in cases {
            let got = default_url(http).map(|u| u.to_string());
            assert_eq!(got.ok().as_deref(), Some(expected), "{http}");
        }
        for bad in ["", "8090", "0.0.0.0", "a b:1", "[::]"] {
            assert!(default_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            parse_status_line("HTTP/1.1 200 OK\r\n"),
            Some((200, "200 OK"))
        );
        assert_eq!(parse_status_line("HTTP/1.0 204"), Some((204, "204")));
        assert_eq!(
            parse_status_line("HTTP/1.1 503 Service Unavailable"),
            Some((503, "503 Service Unavailable"))
        );
        for bad in [
            "",
            "SSH-2.0-OpenSSH",
            "HTTP/2 200",
            "HTTP/1.1 2000 OK",
            "HTTP/1.1 OK",
            "HTTP/1.1 20",
        ] {
            assert_eq!(parse_status_line(bad), None, "{bad:?}");
        }
    }

    /// A one-shot server on a free loopback port that answers `answer` to the
    /// first request (after `delay`), and the URL to reach it.
    fn fake_server(answer: &'static [u8], delay: Duration) -> std::io::Result<HealthUrl> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        std::thread::spawn(move || {
            if let Ok((mut conn, _)) = listener.accept() {
                let mut buf = [0u8; 1024];
                let _ = conn.read(&mut buf);
                std::thread::sleep(delay);
                let _ = conn.write_all(answer);
            }
        });
        Ok(url(&format!("http://127.0.0.1:{port}/api/health")))
    }

    #[test]
    fn a_2xx_is_healthy_anything_else_says_why() -> std::io::Result<()> {
        let ok = fake_server(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
            Duration::ZERO,
        )?;
        assert_eq!(check(&ok, TIMEOUT).ok(), Some(200));

        let busy = fake_server(b"HTTP/1.1 503 Service Unavailable\r\n\r\n", Duration::ZERO)?;
        let err = check(&busy, TIMEOUT).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(format!("{busy} answered 503 Service Unavailable").as_str())
        );

        let garbage = fake_server(b"hello\r\n", Duration::ZERO)?;
        assert!(matches!(
            check(&garbage, TIMEOUT),
            Err(HealthError::NotHttp { .. })
        ));

        let silent = fake_server(b"", Duration::ZERO)?;
        assert!(matches!(
            check(&silent, TIMEOUT),
            Err(HealthError::NotHttp { .. })
        ));

        let slow = fake_server(b"HTTP/1.1 200 OK\r\n\r\n", Duration::from_secs(2))?;
        let started = Instant::now();
        let err = check(&slow, Duration::from_millis(300));
        assert!(matches!(err, Err(HealthError::Timeout { .. })), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the deadline holds"
        );
        Ok(())
    }

    #[test]
    fn nothing_listening_is_a_connect_error() -> std::io::Result<()> {
        // A port that was just free: bind, note it, close.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let target = url(&format!("http://127.0.0.1:{port}/api/health"));
        let err = check(&target, TIMEOUT);
        assert!(matches!(err, Err(HealthError::Connect { .. })), "{err:?}");
        Ok(())
    }
}
