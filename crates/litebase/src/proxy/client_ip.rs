//! The client's address from the peer and the configured forwarding headers.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;

use super::TrustedPeers;

/// Which forwarding headers to read, and from which end of a list: the
/// settings' `trustedProxy` ([`crate::settings::TrustedProxy`]) is one.
pub trait ForwardingHeaders {
    /// Headers to read, in order; the first that holds a valid address wins.
    fn header_names(&self) -> &[String];
    /// Take a list header's leftmost address instead of its rightmost.
    fn leftmost(&self) -> bool;
}

/// The client's address.
///
/// When `peer` is one of `trusted` and `proxy.headers` is not empty, the
/// headers are read in order and the first that holds a valid address wins:
///
/// - a list header (`X-Forwarded-For`, any name ending in `Forwarded-For`,
///   and `Forwarded`'s `for=` parameters) gives its rightmost valid address,
///   the one the nearest proxy appended, or the leftmost with
///   `useLeftmostIP`; several lines of a header read as one list, in order;
/// - any other header (`X-Real-IP`, `CF-Connecting-IP`, `Fly-Client-IP`…)
///   holds one address; a value that is not exactly one address is skipped.
///
/// Otherwise, and when no header holds a valid address, the answer is the
/// peer. Addresses come back canonical: `::ffff:10.0.0.1` is `10.0.0.1`.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
/// use litebase::proxy::{TrustedPeers, client_ip};
/// use litebase::settings::TrustedProxy;
///
/// let mut headers = HeaderMap::new();
/// headers.insert(
///     HeaderName::from_static("x-forwarded-for"),
///     HeaderValue::from_static("203.0.113.7, 198.51.100.2"),
/// );
/// let proxy = TrustedProxy { headers: vec!["X-Forwarded-For".into()], use_leftmost_ip: false };
/// let peers: TrustedPeers = TrustedPeers::DEFAULT.parse().unwrap();
/// let nginx = "127.0.0.1".parse().ok();
/// assert_eq!(client_ip(nginx, &headers, &proxy, &peers), "198.51.100.2".parse().ok());
/// let stranger = "192.0.2.1".parse().ok();
/// assert_eq!(client_ip(stranger, &headers, &proxy, &peers), stranger);
/// ```
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    proxy: &impl ForwardingHeaders,
    trusted: &TrustedPeers,
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if proxy.header_names().is_empty() || !trusted.contains(peer) {
        return Some(peer);
    }
    proxy
        .header_names()
        .iter()
        .find_map(|name| from_header(headers, name, proxy.leftmost()))
        .or(Some(peer))
}

/// How a header's value holds addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `a, b, c`: each hop appends one.
    List,
    /// RFC 7239: `for=a;proto=https, for="[b]:443"`.
    Forwarded,
    /// The whole value is one address.
    Single,
}

fn kind_of(name: &str) -> Kind {
    let lower = name.to_ascii_lowercase();
    if lower == "forwarded" {
        Kind::Forwarded
    } else if lower.ends_with("forwarded-for") {
        Kind::List
    } else {
        Kind::Single
    }
}

/// The address header `name` gives, if any of its values holds a valid one.
fn from_header(headers: &HeaderMap, name: &str, leftmost: bool) -> Option<IpAddr> {
    let kind = kind_of(name);
    let mut candidates = Vec::new();
    for value in headers.get_all(name) {
        // A value that is not text holds no address; it is skipped, not fatal.
        let Ok(text) = value.to_str() else {
            candidates.push(None);
            continue;
        };
        match kind {
            Kind::Single => candidates.push(parse_node(text)),
            Kind::List => candidates.extend(text.split(',').map(parse_node)),
            Kind::Forwarded => candidates.extend(text.split(',').map(forwarded_for)),
        }
    }
    if leftmost {
        candidates.into_iter().flatten().next()
    } else {
        candidates.into_iter().rev().flatten().next()
    }
}

/// The `for=` address of one `Forwarded` element (`for=1.2.3.4;proto=https`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    super::forwarded_pairs(element).find_map(|(key, value)| {
        key.eq_ignore_ascii_case("for")
            .then(|| parse_node(value))
            .flatten()
    })
}

/// One address as proxies write it: `1.2.3.4`, `2001:db8::1`, and tolerated
/// with a port, `1.2.3.4:5678`, `[2001:db8::1]` or `[2001:db8::1]:443`.
/// Anything else (`unknown`, an obfuscated `_hidden` node, a host name) is
/// not an address.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = text.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    text.strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .and_then(|t| t.parse::<std::net::Ipv6Addr>().ok())
        .map(|ip| IpAddr::V6(ip).to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::test_headers as headers;
    use crate::settings::TrustedProxy;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn peers() -> TrustedPeers {
        TrustedPeers::DEFAULT
            .parse()
            .unwrap_or_else(|e| panic!("default peers: {e}"))
    }

    fn proxy(headers: &[&str], leftmost: bool) -> TrustedProxy {
        TrustedProxy {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            use_leftmost_ip: leftmost,
        }
    }

    const NGINX: &str = "127.0.0.1";

    /// One scenario: peer, headers sent, headers configured, leftmost, answer.
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        bool,
        &'a str,
    );

    #[test]
    fn scenarios() {
        let xff = "X-Forwarded-For";
        let cases: &[Case] = &[
            // Nothing configured: the peer, whatever it sends.
            (NGINX, &[(xff, "1.1.1.1")], &[], false, NGINX),
            // Configured and trusted: the rightmost by default…
            (NGINX, &[(xff, "1.1.1.1")], &[xff], false, "1.1.1.1"),
            (
                NGINX,
                &[(xff, "6.6.6.6, 1.1.1.1")],
                &[xff],
                false,
                "1.1.1.1",
            ),
            // …the leftmost when asked.
            (NGINX, &[(xff, "6.6.6.6, 1.1.1.1")], &[xff], true, "6.6.6.6"),
            // Names are case-insensitive.
            (
                NGINX,
                &[("x-forwarded-for", "1.1.1.1")],
                &["X-FORWARDED-FOR"],
                false,
                "1.1.1.1",
            ),
            // Invalid entries are skipped in either direction.
            (
                NGINX,
                &[(xff, "6.6.6.6, unknown")],
                &[xff],
                false,
                "6.6.6.6",
            ),
            (NGINX, &[(xff, "garbage, 1.1.1.1")], &[xff], true, "1.1.1.1"),
            (NGINX, &[(xff, " , ,1.1.1.1 , ")], &[xff], false, "1.1.1.1"),
            // Several lines are one list, in order.
            (
                NGINX,
                &[(xff, "6.6.6.6"), (xff, "1.1.1.1, 2.2.2.2")],
                &[xff],
                false,
                "2.2.2.2",
            ),
            (
                NGINX,
                &[(xff, "6.6.6.6"), (xff, "1.1.1.1, 2.2.2.2")],
                &[xff],
                true,
                "6.6.6.6",
            ),
            // Ports and brackets are tolerated, IPv6 and mapped IPv4 too.
            (NGINX, &[(xff, "1.1.1.1:4711")], &[xff], false, "1.1.1.1"),
            (
                NGINX,
                &[(xff, "[2001:db8::1]:443")],
                &[xff],
                false,
                "2001:db8::1",
            ),
            (
                NGINX,
                &[(xff, "[2001:db8::1]")],
                &[xff],
                false,
                "2001:db8::1",
            ),
            (NGINX, &[(xff, "2001:db8::2")], &[xff], false, "2001:db8::2"),
            (NGINX, &[(xff, "::ffff:1.1.1.1")], &[xff], false, "1.1.1.1"),
            // Nothing valid: the next header, then the peer.
            (
                NGINX,
                &[(xff, "unknown"), ("X-Real-IP", "3.3.3.3")],
                &[xff, "X-Real-IP"],
                false,
                "3.3.3.3",
            ),
            (NGINX, &[(xff, "")], &[xff], false, NGINX),
            (NGINX, &[(xff, "not, an, ip")], &[xff], false, NGINX),
            (NGINX, &[], &[xff], false, NGINX),
            // The first configured header that holds an address wins.
            (
                NGINX,
                &[(xff, "1.1.1.1"), ("X-Real-IP", "3.3.3.3")],
                &["X-Real-IP", xff],
                false,
                "3.3.3.3",
            ),
            (
                NGINX,
                &[(xff, "1.1.1.1"), ("X-Real-IP", "3.3.3.3")],
                &[xff, "X-Real-IP"],
                false,
                "1.1.1.1",
            ),
            // A header that was not configured is never read.
            (NGINX, &[("X-Real-IP", "3.3.3.3")], &[xff], false, NGINX),
            // Single-value headers hold exactly one address.
            (
                NGINX,
                &[("X-Real-IP", " 3.3.3.3 ")],
                &["X-Real-IP"],
                false,
                "3.3.3.3",
            ),
            (
                NGINX,
                &[("CF-Connecting-IP", "2001:db8::9")],
                &["CF-Connecting-IP"],
                false,
                "2001:db8::9",
            ),
            (
                NGINX,
                &[("Fly-Client-IP", "4.4.4.4")],
                &["Fly-Client-IP"],
                false,
                "4.4.4.4",
            ),
            (
                NGINX,
                &[("X-Real-IP", "3.3.3.3, 4.4.4.4")],
                &["X-Real-IP"],
                false,
                NGINX,
            ),
            (
                NGINX,
                &[("X-Real-IP", "nope")],
                &["X-Real-IP"],
                false,
                NGINX,
            ),
            // Other names ending in Forwarded-For are lists too.
            (
                NGINX,
                &[("X-Original-Forwarded-For", "5.5.5.5, 1.1.1.1")],
                &["X-Original-Forwarded-For"],
                true,
                "5.5.5.5",
            ),
            // RFC 7239 Forwarded: the for= of each element.
            (
                NGINX,
                &[(
                    "Forwarded",
                    "for=6.6.6.6;proto=http, for=1.1.1.1;by=10.0.0.1",
                )],
                &["Forwarded"],
                false,
                "1.1.1.1",
            ),
            (
                NGINX,
                &[("Forwarded", "for=6.6.6.6, For=\"[2001:db8::1]:4711\"")],
                &["Forwarded"],
                false,
                "2001:db8::1",
            ),
            (
                NGINX,
                &[("Forwarded", "for=6.6.6.6, for=unknown")],
                &["Forwarded"],
                false,
                "6.6.6.6",
            ),
            (
                NGINX,
                &[("Forwarded", "proto=https;for=1.1.1.1")],
                &["Forwarded"],
                true,
                "1.1.1.1",
            ),
            (
                NGINX,
                &[("Forwarded", "for=_hidden, by=1.1.1.1")],
                &["Forwarded"],
                false,
                NGINX,
            ),
            // Every default range is trusted…
            ("10.1.2.3", &[(xff, "1.1.1.1")], &[xff], false, "1.1.1.1"),
            ("172.16.0.9", &[(xff, "1.1.1.1")], &[xff], false, "1.1.1.1"),
            ("192.168.5.5", &[(xff, "1.1.1.1")], &[xff], false, "1.1.1.1"),
            ("::1", &[(xff, "1.1.1.1")], &[xff], false, "1.1.1.1"),
            ("fd00::1", &[(xff, "1.1.1.1")], &[xff], false, "1.1.1.1"),
            (
                "::ffff:127.0.0.1",
                &[(xff, "1.1.1.1")],
                &[xff],
                false,
                "1.1.1.1",
            ),
            // …a public peer is never: its headers are ignored.
            (
                "203.0.113.9",
                &[(xff, "1.1.1.1")],
                &[xff],
                false,
                "203.0.113.9",
            ),
            (
                "203.0.113.9",
                &[("X-Real-IP", "1.1.1.1")],
                &["X-Real-IP"],
                true,
                "203.0.113.9",
            ),
            (
                "2001:db8::5",
                &[(xff, "1.1.1.1")],
                &[xff],
                false,
                "2001:db8::5",
            ),
            // The peer comes back canonical.
            ("::ffff:203.0.113.9", &[], &[], false, "203.0.113.9"),
        ];
        for (peer, sent, configured, leftmost, expected) in cases {
            let got = client_ip(
                Some(ip(peer)),
                &headers(sent),
                &proxy(configured, *leftmost),
                &peers(),
            );
            assert_eq!(
                got,
                Some(ip(expected)),
                "peer {peer}, headers {sent:?}, configured {configured:?}, leftmost {leftmost}"
            );
        }
    }

    #[test]
    fn no_peer_no_address() {
        let sent = headers(&[("X-Forwarded-For", "1.1.1.1")]);
        let p = proxy(&["X-Forwarded-For"], false);
        assert_eq!(client_ip(None, &sent, &p, &peers()), None);
    }

    #[test]
    fn an_empty_trust_list_believes_no_one() {
        let sent = headers(&[("X-Forwarded-For", "1.1.1.1")]);
        let p = proxy(&["X-Forwarded-For"], false);
        let none = TrustedPeers::default();
        assert_eq!(
            client_ip(Some(ip(NGINX)), &sent, &p, &none),
            Some(ip(NGINX))
        );
    }

    #[test]
    fn values_that_are_not_text_are_skipped() {
        let mut sent = HeaderMap::new();
        let name = HeaderName::from_static("x-forwarded-for");
        sent.append(name.clone(), HeaderValue::from_static("1.1.1.1"));
        if let Ok(v) = HeaderValue::from_bytes(b"\xff\xfe") {
            sent.append(name, v);
        }
        let p = proxy(&["X-Forwarded-For"], false);
        assert_eq!(
            client_ip(Some(ip(NGINX)), &sent, &p, &peers()),
            Some(ip("1.1.1.1"))
        );
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    proptest! {
        /// A peer outside the trusted ranges always gets its own address,
        /// whatever headers it sends and whatever is configured.
        #[test]
        fn an_untrusted_peer_cannot_choose_its_address(
            peer in any_ip(),
            values in proptest::collection::vec("[ -~]{0,40}", 0..4),
            forged in proptest::collection::vec(any_ip(), 0..3),
            leftmost in any::<bool>(),
        ) {
            let trusted = peers();
            prop_assume!(!trusted.contains(peer));
            let names = ["X-Forwarded-For", "X-Real-IP", "Forwarded", "CF-Connecting-IP"];
            let mut sent = Vec::new();
            for (i, v) in values.iter().enumerate() {
                sent.push((names[i % names.len()].to_string(), v.clone()));
            }
            for (i, f) in forged.iter().enumerate() {
                sent.push((names[i % names.len()].to_string(), format!("for={f}, {f}")));
                sent.push((names[(i + 1) % names.len()].to_string(), f.to_string()));
            }
            let pairs: Vec<(&str, &str)> = sent.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let got = client_ip(Some(peer), &headers(&pairs), &proxy(&names, leftmost), &trusted);
            prop_assert_eq!(got, Some(peer.to_canonical()));
        }

        /// A trusted peer's answer is the peer or an address that was in a
        /// configured header, never anything else.
        #[test]
        fn a_trusted_peer_gives_a_sent_address_or_itself(
            last in any::<u8>(),
            forged in proptest::collection::vec(any_ip(), 0..4),
            leftmost in any::<bool>(),
        ) {
            let peer = IpAddr::from([10, 0, 0, last]);
            let list = forged.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            let sent = headers(&[("X-Forwarded-For", list.as_str())]);
            let got = client_ip(Some(peer), &sent, &proxy(&["X-Forwarded-For"], leftmost), &peers());
            let expected = if leftmost { forged.first() } else { forged.last() };
            prop_assert_eq!(got, Some(expected.map_or(peer, |ip| ip.to_canonical())));
        }
    }
}
