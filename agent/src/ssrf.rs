//! The SSRF guard: destinations must have public addresses, checked where connections are made.
//!
//! Names are checked by the HTTP client's resolver ([`NetworkGuard::resolver`]), so the address
//! connected to is the address checked; IP-literal URLs skip the resolver and are checked by
//! [`NetworkGuard::check_url`]. The client never follows redirects nor uses a proxy.

use crate::{Error, Result};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use url::{Host, Url};

/// Which destination addresses deliveries may connect to (operator configuration).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkGuard {
    /// Let every address through, private and loopback included (dev, tests).
    pub allow_private: bool,
    /// Non-public ranges allowed even when `allow_private` is off.
    pub allowed_cidrs: Vec<IpNet>,
}

impl NetworkGuard {
    /// Parses a comma-separated CIDR list such as `WEBHOOK_ALLOWED_CIDRS`.
    pub fn parse_cidrs(list: &str) -> Result<Vec<IpNet>> {
        list.split(',')
            .map(str::trim)
            .filter(|cidr| !cidr.is_empty())
            .map(|cidr| {
                cidr.parse()
                    .map_err(|_| Error::InvalidCidr(cidr.to_owned()))
            })
            .collect()
    }

    /// Whether a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.allow_private
            || is_public(ip)
            || self.allowed_cidrs.iter().any(|net| net.contains(&ip))
    }

    /// Refuses URLs whose host is a non-public IP literal (those never reach the resolver).
    pub fn check_url(&self, url: &Url) -> Result<()> {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        if self.permits(ip) {
            Ok(())
        } else {
            Err(Error::DestinationRefused(ip.to_string()))
        }
    }

    /// A resolver for the HTTP client that drops the addresses this guard refuses.
    pub fn resolver(&self) -> Arc<impl Resolve + 'static> {
        Arc::new(GuardedResolver {
            guard: self.clone(),
        })
    }
}

/// Resolves with the system resolver (names under `localhost` to loopback, as RFC 6761 lets
/// applications do), then keeps only permitted addresses.
struct GuardedResolver {
    guard: NetworkGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = if is_localhost_name(&host) {
                vec![
                    SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                    SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
                ]
            } else {
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect()
            };
            let permitted: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| guard.permits(addr.ip()))
                .collect();
            if permitted.is_empty() {
                return Err(Box::new(Error::DestinationRefused(host)) as Box<_>);
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// Whether `host` is `localhost` or a name under it, which always means this machine.
pub fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Whether `ip` is a globally reachable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

/// IPv4 ranges that are never a webhook destination (RFC 6890 and friends).
const NON_PUBLIC_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),       // "this network", unspecified
    (Ipv4Addr::new(10, 0, 0, 0), 8),      // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),   // CGNAT
    (Ipv4Addr::new(127, 0, 0, 0), 8),     // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16),  // link-local, cloud metadata
    (Ipv4Addr::new(172, 16, 0, 0), 12),   // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),    // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),    // documentation
    (Ipv4Addr::new(192, 88, 99, 0), 24),  // 6to4 relay anycast
    (Ipv4Addr::new(192, 168, 0, 0), 16),  // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),   // benchmarking
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation
    (Ipv4Addr::new(203, 0, 113, 0), 24),  // documentation
    (Ipv4Addr::new(224, 0, 0, 0), 4),     // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),     // reserved, broadcast
];

/// IPv6 ranges that are never a webhook destination; embedded-IPv4 forms are handled apart.
const NON_PUBLIC_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96), // unspecified, loopback, IPv4-compatible
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use NAT64
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF assignments, Teredo, ORCHID
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
];

fn is_public_v4(ip: Ipv4Addr) -> bool {
    !NON_PUBLIC_V4
        .iter()
        .any(|&(net, len)| Ipv4Net::new_assert(net, len).contains(&ip))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // Forms that carry an IPv4 address are as public as that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let low_v4 = Ipv4Addr::from_bits(ip.to_bits() as u32);
    if Ipv6Net::new_assert(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96).contains(&ip) {
        return is_public_v4(low_v4); // NAT64
    }
    if segments[0] == 0x2002 {
        let v4 = Ipv4Addr::from_bits(((segments[1] as u32) << 16) | segments[2] as u32);
        return is_public_v4(v4); // 6to4
    }
    !NON_PUBLIC_V6
        .iter()
        .any(|&(net, len)| Ipv6Net::new_assert(net, len).contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_public(ip.parse().unwrap())
    }

    #[test]
    fn private_loopback_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fd00::1",
            "ff02::1",
        ] {
            assert!(!public(ip), "{ip} must not be public");
        }
    }

    #[test]
    fn ipv6_forms_embedding_a_private_ipv4_are_not_public() {
        for ip in [
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001::1",
            "::127.0.0.1",
        ] {
            assert!(!public(ip), "{ip} must not be public");
        }
    }

    #[test]
    fn ordinary_internet_addresses_are_public() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(public(ip), "{ip} must be public");
        }
    }

    #[test]
    fn allowed_cidrs_open_only_their_range() {
        let guard = NetworkGuard {
            allow_private: false,
            allowed_cidrs: NetworkGuard::parse_cidrs("10.1.0.0/16, fd00::/8").unwrap(),
        };
        assert!(guard.permits("10.1.2.3".parse().unwrap()));
        assert!(guard.permits("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!guard.permits("10.2.0.1".parse().unwrap()));
        assert!(guard.permits("fd00::5".parse().unwrap()));
    }

    #[test]
    fn the_private_switch_permits_everything() {
        let guard = NetworkGuard {
            allow_private: true,
            ..NetworkGuard::default()
        };
        assert!(guard.permits("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn ip_literal_urls_are_checked_without_the_resolver() {
        let guard = NetworkGuard::default();
        let refused = guard
            .check_url(&Url::parse("http://[::ffff:7f00:1]:8080/").unwrap())
            .unwrap_err();
        assert!(matches!(refused, Error::DestinationRefused(_)));
        assert!(
            guard
                .check_url(&Url::parse("http://8.8.8.8/").unwrap())
                .is_ok()
        );
        assert!(
            guard
                .check_url(&Url::parse("http://localhost/").unwrap())
                .is_ok(),
            "names go to the resolver"
        );
    }

    #[test]
    fn names_under_localhost_are_this_machine() {
        assert!(is_localhost_name("localhost"));
        assert!(is_localhost_name("Hook.Partner.LOCALHOST."));
        assert!(!is_localhost_name("localhost.evil.io"));
        assert!(!is_localhost_name("notlocalhost"));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_under_localhost_unless_private_is_allowed() {
        let name = || "hook.partner.localhost".parse::<Name>().unwrap();
        let refused = NetworkGuard::default().resolver().resolve(name()).await;
        assert!(refused.is_err());
        let allowed = NetworkGuard {
            allow_private: true,
            ..NetworkGuard::default()
        };
        let addrs: Vec<_> = allowed.resolver().resolve(name()).await.unwrap().collect();
        assert_eq!(addrs[0].ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn bad_cidrs_are_named_in_the_error() {
        let err = NetworkGuard::parse_cidrs("10.0.0.0/8,nope").unwrap_err();
        assert!(err.to_string().contains("`nope`"));
    }
}
