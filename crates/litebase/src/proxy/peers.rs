//! The peers whose forwarding headers are believed: a list of address ranges in
//! CIDR notation (`10.0.0.0/8`, `::1/128`, or a bare address), parsed from
//! `--trusted-proxies`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One address range: every address whose first `prefix` bits equal `network`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a range or a list of ranges could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The part before `/` is not an IPv4 or IPv6 address.
    #[error("{0:?} is not an IP address or range (write e.g. 10.0.0.0/8, 192.168.1.7 or fd00::/8)")]
    Address(String),
    /// The prefix length is not a number, or longer than the address.
    #[error("{text:?}: the prefix length must be a number from 0 to {max}")]
    Prefix {
        /// The range as written.
        text: String,
        /// 32 for IPv4, 128 for IPv6.
        max: u8,
    },
    /// Bits after the prefix are set, which usually means a typo in the range.
    #[error("{text:?} has bits set after the prefix; did you mean {suggestion}?")]
    HostBits {
        /// The range as written.
        text: String,
        /// The same range with those bits cleared.
        suggestion: String,
    },
}

impl Cidr {
    /// Whether `ip` is in this range. IPv4-mapped IPv6 addresses
    /// (`::ffff:10.0.0.1`) count as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask32(self.prefix);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask128(self.prefix);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| CidrError::Address(text.to_string()))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                p.parse::<u8>()
                    .ok()
                    .filter(|p| *p <= max)
                    .ok_or_else(|| CidrError::Prefix {
                        text: text.to_string(),
                        max,
                    })?
            }
        };
        let cleared = match network {
            IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & mask32(prefix)).into()),
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & mask128(prefix)).into()),
        };
        if cleared != network {
            return Err(CidrError::HostBits {
                text: text.to_string(),
                suggestion: format!("{cleared}/{prefix}"),
            });
        }
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The peers (reverse proxies) whose forwarding headers are believed; a
/// request from any other address is taken at its socket address, whatever
/// headers it sends.
///
/// ```
/// use litebase::proxy::TrustedPeers;
/// let peers: TrustedPeers = "127.0.0.1/32, 10.0.0.0/8".parse().unwrap();
/// assert!(peers.contains("10.1.2.3".parse().unwrap()));
/// assert!(!peers.contains("203.0.113.9".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedPeers {
    ranges: Vec<Cidr>,
}

impl TrustedPeers {
    /// The default of `--trusted-proxies`: loopback and the private ranges,
    /// where a reverse proxy in front of this server usually sits.
    pub const DEFAULT: &'static str =
        "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7";

    /// Whether `ip` is one of the trusted peers.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|r| r.contains(ip))
    }

    /// The ranges, as parsed.
    pub fn ranges(&self) -> &[Cidr] {
        &self.ranges
    }
}

impl FromStr for TrustedPeers {
    type Err = CidrError;

    /// A comma-separated list of ranges; an empty text trusts no peer.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let ranges = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Cidr>, _>>()?;
        Ok(TrustedPeers { ranges })
    }
}

impl fmt::Display for TrustedPeers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for r in &self.ranges {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn ranges_contain_exactly_their_addresses() {
        let cases = [
            ("10.0.0.0/8", "10.0.0.0", true),
            ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("10.0.0.0/8", "9.255.255.255", false),
            ("172.16.0.0/12", "172.31.0.1", true),
            ("172.16.0.0/12", "172.32.0.1", false),
            ("192.168.1.7", "192.168.1.7", true),
            ("192.168.1.7", "192.168.1.8", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "::1", false),
            ("::1/128", "::1", true),
            ("::1/128", "::2", false),
            ("fc00::/7", "fd12:3456::1", true),
            ("fc00::/7", "fe80::1", false),
            ("::/0", "2001:db8::1", true),
            ("::/0", "10.0.0.1", false),
            // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
            ("127.0.0.0/8", "::ffff:127.0.0.1", true),
            ("10.0.0.0/8", "::ffff:11.0.0.1", false),
        ];
        for (range, addr, expected) in cases {
            assert_eq!(cidr(range).contains(ip(addr)), expected, "{range} ∋ {addr}");
        }
    }

    #[test]
    fn bad_ranges_say_what_is_wrong() {
        assert_eq!(
            "example.com".parse::<Cidr>(),
            Err(CidrError::Address("example.com".into()))
        );
        assert_eq!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::Prefix {
                text: "10.0.0.0/33".into(),
                max: 32
            })
        );
        assert!(matches!(
            "::/129".parse::<Cidr>(),
            Err(CidrError::Prefix { max: 128, .. })
        ));
        assert!(matches!(
            "10.0.0.0/x".parse::<Cidr>(),
            Err(CidrError::Prefix { .. })
        ));
        assert!(matches!(
            "10.0.0.0/-1".parse::<Cidr>(),
            Err(CidrError::Prefix { .. })
        ));
        let err = "10.1.2.3/8".parse::<Cidr>().err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some("\"10.1.2.3/8\" has bits set after the prefix; did you mean 10.0.0.0/8?".into())
        );
    }

    #[test]
    fn lists_parse_trim_and_skip_empty_parts() {
        let peers: TrustedPeers = " 127.0.0.1/32 , 10.0.0.0/8,,".parse().unwrap_or_default();
        assert_eq!(peers.to_string(), "127.0.0.1/32,10.0.0.0/8");
        assert!(peers.contains(ip("10.9.9.9")));
        assert!(!peers.contains(ip("127.0.0.2")));
        let none: TrustedPeers = "".parse().unwrap_or_default();
        assert!(!none.contains(ip("127.0.0.1")), "empty trusts nobody");
        assert!("10.0.0.0/8,oops".parse::<TrustedPeers>().is_err());
    }

    #[test]
    fn the_default_is_loopback_and_private_ranges() {
        let peers: TrustedPeers = TrustedPeers::DEFAULT.parse().unwrap_or_default();
        assert_eq!(peers.ranges().len(), 6);
        for trusted in [
            "127.0.0.1",
            "::1",
            "10.1.1.1",
            "172.20.0.1",
            "192.168.0.10",
            "fd00::5",
        ] {
            assert!(peers.contains(ip(trusted)), "{trusted}");
        }
        for public in [
            "8.8.8.8",
            "203.0.113.9",
            "2001:db8::1",
            "172.32.0.1",
            "169.254.1.1",
        ] {
            assert!(!peers.contains(ip(public)), "{public}");
        }
    }
}
