//! HTTP clients for requests the server makes to a URL someone else chose (an
//! OAuth2 provider's avatar, an app's webhook target set by an anonymous user):
//! [`public_agent`] connects only to public addresses, so such a URL cannot turn
//! the server into a client of its own network (loopback, private ranges, the
//! cloud metadata address at 169.254.169.254).
//!
//! The check is on the addresses the connection will use, after resolution, so
//! a name that resolves to a private address (or changes its answer later) is
//! refused as surely as a literal one; each redirect is resolved the same way.
//!
//! ```
//! let agent = litebase::outbound::public_agent(
//!     ureq::Agent::config_builder()
//!         .timeout_global(Some(std::time::Duration::from_secs(5)))
//!         .build(),
//! );
//! assert!(agent.get("http://127.0.0.1:9/").call().is_err());
//! ```

use std::net::IpAddr;

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};

/// An agent with `config` that connects only to public addresses; a host with
/// none is refused with an error that says so.
pub fn public_agent(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        PublicAddresses::default(),
    )
}

/// Resolves only to public addresses (PocketBase refuses the same ranges for
/// its avatar downloads: loopback, private, link-local, multicast,
/// unspecified).
#[derive(Debug, Default)]
pub struct PublicAddresses(DefaultResolver);

impl Resolver for PublicAddresses {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let all = self.0.resolve(uri, config, timeout)?;
        let mut public = self.empty();
        for addr in all.iter().filter(|a| is_public(a.ip())) {
            public.push(*addr);
        }
        if public.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "refused: {} has no public address (loopback, private and link-local \
                     addresses cannot be reached from here)",
                    uri.host().unwrap_or_default()
                ),
            )));
        }
        Ok(public)
    }
}

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT: shared, not public.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // fc00::/7 unique local, fe80::/10 link-local.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::",
        ] {
            let ip: IpAddr = private.parse().expect("an address");
            assert!(!is_public(ip), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "2606:4700:4700::1111"] {
            let ip: IpAddr = public.parse().expect("an address");
            assert!(is_public(ip), "{public}");
        }
    }

    #[test]
    fn a_loopback_server_is_never_reached_and_the_error_says_why() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}/", listener.local_addr().expect("an address"));
        let agent = public_agent(ureq::Agent::config_builder().build());
        let err = agent.post(&url).send("{}").expect_err("refused");
        assert!(err.to_string().contains("no public address"), "{err}");
        listener.set_nonblocking(true).expect("non-blocking");
        assert!(listener.accept().is_err(), "nothing connected");
    }
}
