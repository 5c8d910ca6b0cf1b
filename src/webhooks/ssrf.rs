//! Which addresses a webhook may reach. Outside `webhook_allow_private`, only public unicast
//! addresses: never loopback, private (RFC 1918), shared (CGNAT), link-local, unique-local,
//! multicast, unspecified, broadcast, documentation or reserved ranges, in IPv4 or IPv6,
//! including IPv4 addresses carried inside IPv6 (mapped, compatible, NAT64, 6to4).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0                                   // "this network"
        || (a == 100 && (64..128).contains(&b))     // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0)           // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b))      // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00                // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80                // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0                // site-local (deprecated) fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8)       // documentation
        || (s[0] == 0x2001 && s[1] == 0)            // Teredo: tunnels to anywhere
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)) // discard-only
}

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible, NAT64 or 6to4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || (s[5] == 0 && !ip.is_loopback() && !ip.is_unspecified())) {
        return Some(tail); // ::ffff:a.b.c.d and the deprecated ::a.b.c.d
    }
    if s[0] == 0x0064 && s[1] == 0xff9b {
        return Some(tail); // NAT64 64:ff9b::/96 and 64:ff9b:1::/48
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8)); // 6to4
    }
    None
}

/// Refuse a URL whose host is an IP literal outside the public ranges, or a name that always
/// means this machine. Other names are vetted after resolving, on every delivery.
pub fn check_literal_host(u: &url::Url) -> Result<(), String> {
    match u.host() {
        Some(url::Host::Ipv4(ip)) if !is_public(IpAddr::V4(ip)) => Err(format!("{ip} is not a public address")),
        Some(url::Host::Ipv6(ip)) if !is_public(IpAddr::V6(ip)) => Err(format!("{ip} is not a public address")),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") { Err(format!("{d} is this machine")) } else { Ok(()) }
        }
        Some(_) => Ok(()),
        None => Err("no host".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "2001:0:1::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:2800:220:1::1", "::ffff:8.8.8.8", "2002:808:808::"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn literal_hosts() {
        let check = |s: &str| check_literal_host(&url::Url::parse(s).unwrap());
        assert!(check("http://[::ffff:7f00:1]/").is_err());
        assert!(check("http://LOCALHOST./").is_err());
        assert!(check("http://a.localhost/").is_err());
        assert!(check("http://2130706433/").is_err(), "decimal IPv4 is parsed as 127.0.0.1");
        assert!(check("https://hooks.example.com/").is_ok());
    }
}
