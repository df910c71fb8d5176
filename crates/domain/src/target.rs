//! Where Ricochet may connect: by default only public unicast addresses, plus the ranges an
//! operator opens (`--allow-targets`). Decided on parsed addresses, never on text, so every
//! spelling of an address (decimal, hex, octal, IPv4-mapped IPv6, NAT64) meets the same rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// IPv4 ranges that are not public unicast (special-purpose registry: this network, private,
/// shared, loopback, link-local, IETF protocol, documentation, 6to4 relay, benchmarking,
/// multicast, reserved and broadcast).
const BLOCKED_V4: [(Ipv4Addr, u8); 15] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    (Ipv4Addr::new(192, 88, 99, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    (Ipv4Addr::new(198, 51, 100, 0), 24),
    (Ipv4Addr::new(203, 0, 113, 0), 24),
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// IPv6 ranges that are not public unicast: `::/8` (unspecified, loopback, IPv4-compatible and
/// -mapped forms), discard, IETF protocol (Teredo and others), documentation, 6to4, the
/// local-use NAT64 prefix, unique-local, link-local, site-local and multicast.
const BLOCKED_V6: [(Ipv6Addr, u8); 12] = [
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 8),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64),
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),
    (Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16),
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
];

/// Host names of cloud metadata services (they resolve to 169.254.169.254 inside the cloud).
const METADATA_NAMES: [&str; 5] = [
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
];

/// The IPv4 address an IPv6 one carries to an IPv4 host: IPv4-mapped (`::ffff:a.b.c.d`) or
/// the well-known NAT64 prefix (`64:ff9b::a.b.c.d`, RFC 6052).
fn carried_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]).then(|| {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    })
}

/// Whether `ip` is a public unicast address (an IPv6 form of an IPv4 address is judged by the
/// IPv4 address it reaches).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !BLOCKED_V4
            .iter()
            .any(|&(net, len)| Ipv4Net::new(net, len).is_ok_and(|n| n.contains(&v4))),
        IpAddr::V6(v6) => match carried_v4(v6) {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => !BLOCKED_V6
                .iter()
                .any(|&(net, len)| Ipv6Net::new(net, len).is_ok_and(|n| n.contains(&v6))),
        },
    }
}

/// Why a target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The address is not public and no allowed range holds it.
    #[error(
        "{0} is not a public address (private, loopback, link-local, reserved or similar); an operator can open a range with --allow-targets"
    )]
    Blocked(IpAddr),
    /// A cloud metadata service's name.
    #[error("`{0}` names a cloud metadata service")]
    Metadata(String),
    /// Plain HTTP while HTTPS is required.
    #[error("must use https (this server runs with --require-https)")]
    HttpsRequired,
}

/// Where outbound requests may go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Ranges opened beyond the public addresses.
    pub allow: Vec<IpNet>,
    /// Whether plain `http` targets are refused.
    pub require_https: bool,
}

impl TargetPolicy {
    /// Public addresses only, HTTP allowed.
    pub fn public_only() -> TargetPolicy {
        TargetPolicy::default()
    }

    /// Whether Ricochet may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let carried = match ip {
            IpAddr::V6(v6) => carried_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        is_public(ip)
            || self
                .allow
                .iter()
                .any(|net| net.contains(&ip) || carried.is_some_and(|c| net.contains(&c)))
    }

    /// Checks an address about to be connected.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), TargetError> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(TargetError::Blocked(ip))
        }
    }

    /// Checks what can be known of a URL without resolving it: its scheme, and its host when
    /// that is an address literal (in any spelling the URL parser accepts) or a metadata name.
    pub fn check_url(&self, url: &url::Url) -> Result<(), TargetError> {
        if self.require_https && url.scheme() != "https" {
            return Err(TargetError::HttpsRequired);
        }
        match url.host() {
            Some(url::Host::Ipv4(v4)) => self.check_ip(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => self.check_ip(IpAddr::V6(v6)),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if METADATA_NAMES.contains(&name.as_str())
                    && !self.permits(IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)))
                {
                    Err(TargetError::Metadata(name))
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &TargetPolicy, url: &str) -> bool {
        policy
            .check_url(&url::Url::parse(url).expect("a URL"))
            .is_err()
    }

    #[test]
    fn every_spelling_of_a_private_or_local_address_is_refused() {
        let policy = TargetPolicy::public_only();
        for url in [
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://0.0.0.0/",
            "http://0/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[64:ff9b::7f00:1]/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://%31%32%37.0.0.1/",
            "http://169.254.169.254./",
            "http://[fe80::1]/",
            "http://[::]/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://100.64.0.1/",
            "http://192.168.1.1:8080/",
            "http://172.31.255.255/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://METADATA.google.internal./",
        ] {
            assert!(refused(&policy, url), "{url} must be refused");
        }
    }

    #[test]
    fn public_addresses_and_names_pass() {
        let policy = TargetPolicy::public_only();
        for url in [
            "https://api.example.com/hook",
            "http://93.184.216.34/",
            "http://[2606:2800:220:1:248:1893:25c8:1946]/",
            "http://[64:ff9b::5db8:d822]/",
            "http://[::ffff:93.184.216.34]/",
            "http://localhost/",
        ] {
            assert!(!refused(&policy, url), "{url} must pass the literal check");
        }
    }

    #[test]
    fn allowed_ranges_open_addresses_in_every_form() {
        let policy = TargetPolicy {
            allow: vec![
                "127.0.0.0/8".parse().expect("cidr"),
                "::1/128".parse().expect("cidr"),
            ],
            require_https: false,
        };
        for url in [
            "http://127.0.0.1:9/",
            "http://2130706433/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(!refused(&policy, url), "{url} is allowed");
        }
        assert!(refused(&policy, "http://10.0.0.1/"));
        assert!(refused(&policy, "http://metadata.google.internal/"));
    }

    #[test]
    fn require_https_refuses_plain_http() {
        let policy = TargetPolicy {
            require_https: true,
            ..TargetPolicy::default()
        };
        assert_eq!(
            policy.check_url(&url::Url::parse("http://example.com/").expect("url")),
            Err(TargetError::HttpsRequired)
        );
        assert!(!refused(&policy, "https://example.com/"));
    }
}
