//! Who the client is when the server sits behind a reverse proxy (nginx,
//! Caddy, a load balancer): its address, for rate limits, request logs and
//! realtime's same-address rule, and the scheme and host it asked for, for
//! links and cookies.
//!
//! Forwarding headers are believed only from the peers of `--trusted-proxies`
//! (loopback and private ranges by default), and only the headers the
//! settings' `trustedProxy.headers` name. A client talking to the server
//! directly from elsewhere cannot choose its address by sending a header.
//!
//! The rules live in pure functions ([`client_ip`], [`origin`]);
//! [`crate::core::Core::client_ip`] and [`crate::core::Core::origin`] apply
//! them to a live request with the settings in force.

mod client_ip;
mod origin;
mod peers;

pub use client_ip::{ForwardingHeaders, client_ip};
pub use origin::{Origin, origin};
pub use peers::{Cidr, CidrError, TrustedPeers};

/// Whether `name` can be an HTTP header name (a token: letters, digits and
/// `!#$%&'*+-.^_`|~`), so that a configured header can ever match.
pub fn is_header_name(name: &str) -> bool {
    actix_web::http::header::HeaderName::from_bytes(name.as_bytes()).is_ok()
}

/// The `key=value` pairs of one `Forwarded` element (RFC 7239:
/// `for=1.2.3.4;proto=https;host="a.example"`), keys as sent and values
/// unquoted; a part without `=` is skipped.
fn forwarded_pairs(element: &str) -> impl Iterator<Item = (&str, &str)> {
    element.split(';').filter_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        Some((key.trim(), value.trim().trim_matches('"')))
    })
}

/// A header map with each `(name, value)` appended in order (repeats make
/// several lines of one header), for the resolvers' tests.
#[cfg(test)]
fn test_headers(pairs: &[(&str, &str)]) -> actix_web::http::header::HeaderMap {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name =
            HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let value = HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{value}: {e}"));
        map.append(name, value);
    }
    map
}
