//! The scheme and host a client used, for absolute links (a room's share
//! URL) and for the `Secure` cookie flag.

use std::fmt;

use actix_web::http::header::HeaderMap;

/// Where the client reached the app: `https` and `poker.example.com`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or address, with the port when not the default.
    pub host: String,
}

impl Origin {
    /// Whether the client is on https (directly or at a trusted proxy).
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }
}

impl fmt::Display for Origin {
    /// `scheme://host`, the root of absolute links.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)
    }
}

/// The client's scheme and host. From a `trusted` peer (a reverse proxy),
/// `Forwarded`'s first `proto=`/`host=`, else the first `X-Forwarded-Proto` /
/// `X-Forwarded-Host`, else the request's own (`own_scheme`, `own_host`). A
/// value that is not a plain `http`/`https` or host name is ignored, so a
/// header cannot smuggle markup or a path into a link.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
/// use litebase::proxy::origin;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(HeaderName::from_static("x-forwarded-proto"), HeaderValue::from_static("https"));
/// headers.insert(HeaderName::from_static("x-forwarded-host"), HeaderValue::from_static("poker.example.com"));
/// let proxied = origin(true, &headers, "http", "127.0.0.1:8090");
/// assert_eq!(proxied.to_string(), "https://poker.example.com");
/// let direct = origin(false, &headers, "http", "127.0.0.1:8090");
/// assert_eq!(direct.to_string(), "http://127.0.0.1:8090");
/// ```
pub fn origin(trusted: bool, headers: &HeaderMap, own_scheme: &str, own_host: &str) -> Origin {
    let (mut scheme, mut host) = (None, None);
    if trusted {
        if let Some(first) = first_value(headers, "forwarded") {
            for (key, value) in super::forwarded_pairs(first) {
                match key.to_ascii_lowercase().as_str() {
                    "proto" => scheme = scheme.or_else(|| plain_scheme(value)),
                    "host" => host = host.or_else(|| plain_host(value)),
                    _ => {}
                }
            }
        }
        scheme =
            scheme.or_else(|| first_value(headers, "x-forwarded-proto").and_then(plain_scheme));
        host = host.or_else(|| first_value(headers, "x-forwarded-host").and_then(plain_host));
    }
    Origin {
        scheme: scheme.unwrap_or_else(|| own_scheme.to_string()),
        host: host.unwrap_or_else(|| own_host.to_string()),
    }
}

/// The first comma-separated element of header `name`'s first line: the one
/// the proxy nearest the client wrote.
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get(name)?.to_str().ok()?;
    value.split(',').next().map(str::trim)
}

fn plain_scheme(value: &str) -> Option<String> {
    let lower = value.trim().to_ascii_lowercase();
    matches!(lower.as_str(), "http" | "https").then_some(lower)
}

fn plain_host(value: &str) -> Option<String> {
    let value = value.trim();
    let plain = !value.is_empty()
        && value.len() <= 255
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']')
        });
    plain.then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::test_headers as headers;

    const OWN: (&str, &str) = ("http", "127.0.0.1:8090");

    /// One scenario: whether the peer is trusted, headers sent, the origin.
    type Case<'a> = (bool, &'a [(&'a str, &'a str)], &'a str);

    #[test]
    fn scenarios() {
        let cases: &[Case] = &[
            (true, &[], "http://127.0.0.1:8090"),
            (
                true,
                &[
                    ("X-Forwarded-Proto", "https"),
                    ("X-Forwarded-Host", "poker.example.com"),
                ],
                "https://poker.example.com",
            ),
            (
                true,
                &[
                    ("X-Forwarded-Proto", "HTTPS, http"),
                    ("X-Forwarded-Host", "a.example:8443, b"),
                ],
                "https://a.example:8443",
            ),
            (
                true,
                &[(
                    "Forwarded",
                    "for=1.2.3.4;proto=https;host=\"p.example\", for=10.0.0.1",
                )],
                "https://p.example",
            ),
            // Forwarded wins over X-Forwarded-*.
            (
                true,
                &[
                    ("Forwarded", "proto=https;host=f.example"),
                    ("X-Forwarded-Host", "x.example"),
                ],
                "https://f.example",
            ),
            // What Forwarded leaves out comes from X-Forwarded-*.
            (
                true,
                &[
                    ("Forwarded", "for=1.2.3.4;proto=https"),
                    ("X-Forwarded-Host", "x.example"),
                ],
                "https://x.example",
            ),
            (
                true,
                &[("X-Forwarded-Host", "[2001:db8::1]:8443")],
                "http://[2001:db8::1]:8443",
            ),
            // Values that are not plain schemes or hosts are ignored.
            (
                true,
                &[("X-Forwarded-Proto", "javascript")],
                "http://127.0.0.1:8090",
            ),
            (
                true,
                &[("X-Forwarded-Host", "evil.example/<script>")],
                "http://127.0.0.1:8090",
            ),
            (
                true,
                &[("X-Forwarded-Host", "a b")],
                "http://127.0.0.1:8090",
            ),
            (true, &[("X-Forwarded-Host", "")], "http://127.0.0.1:8090"),
            // An untrusted peer's headers are never read.
            (
                false,
                &[
                    ("X-Forwarded-Proto", "https"),
                    ("X-Forwarded-Host", "evil.example"),
                ],
                "http://127.0.0.1:8090",
            ),
            (
                false,
                &[("Forwarded", "proto=https;host=evil.example")],
                "http://127.0.0.1:8090",
            ),
        ];
        for (trusted, sent, expected) in cases {
            let got = origin(*trusted, &headers(sent), OWN.0, OWN.1);
            assert_eq!(got.to_string(), *expected, "trusted {trusted}, {sent:?}");
        }
    }

    #[test]
    fn https_is_the_scheme_not_a_guess() {
        let proxied = origin(
            true,
            &headers(&[("X-Forwarded-Proto", "https")]),
            "http",
            "h",
        );
        assert!(proxied.is_https());
        let spoofed = origin(
            false,
            &headers(&[("X-Forwarded-Proto", "https")]),
            "http",
            "h",
        );
        assert!(!spoofed.is_https());
        assert!(origin(false, &HeaderMap::new(), "https", "h").is_https());
    }
}
