//! Visitor bans (SPEC C11, W10, §1 bans API): by the visitor's identity token, by address or
//! range (IPv4/IPv6 CIDR), or both; with an optional reason and expiry on the app clock. A
//! banned visitor gets no widget (the socket is refused with 1008 and an open one closed) and
//! no offline form. Who may ban: supervisors and admins anyone and any range; an agent only a
//! visitor they may see (`Viewer::check_visitor`), by token and at most that visitor's own
//! address. Every ban and unban is in the audit log.

pub mod http;
pub mod store;

use std::fmt;
use std::net::IpAddr;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::auth::policy::Viewer;
use crate::error::{AppError, Kind};

/// An address range: an address with its prefix length, host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(a) => (u32::from(a) as u128, 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// The network mask of a `prefix` in an address `width` bits wide (prefix 1..=width).
fn mask(width: u8, prefix: u8) -> u128 {
    match (width, prefix) {
        (_, 0) => 0,
        (32, p) => (u32::MAX << (32 - u32::from(p))) as u128,
        (_, p) => u128::MAX << (128 - u32::from(p)),
    }
}

impl Cidr {
    /// `203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`, `::ffff:10.0.0.1` (an IPv4 address
    /// written as IPv6 is taken as IPv4). Host bits are cleared; a prefix of 0 (everyone) is
    /// refused.
    pub fn parse(s: &str) -> Result<Cidr, AppError> {
        let s = s.trim();
        let bad = || AppError::invalid(format!("ip: {s:?} is not an IPv4/IPv6 address or CIDR range such as 203.0.113.0/24"));
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
        let width = bits(addr).1;
        let prefix = match prefix {
            None => width,
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u8>().map_err(|_| bad())?,
            Some(_) => return Err(bad()),
        };
        if prefix > width {
            return Err(bad());
        }
        if prefix == 0 {
            return Err(AppError::invalid("ip: a /0 range would ban everyone"));
        }
        let (value, _) = bits(addr);
        let masked = value & mask(width, prefix);
        let addr = match addr {
            IpAddr::V4(_) => IpAddr::V4((masked as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(masked.into()),
        };
        Ok(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        let ((net, width), (value, w)) = (bits(self.addr), bits(ip));
        width == w && value & mask(width, self.prefix) == net
    }

    /// The first and last address of the range as 16 big-endian bytes (IPv4 as
    /// `::ffff:a.b.c.d`): byte strings compare like the addresses, so SQL can test membership.
    pub fn bounds(&self) -> ([u8; 16], [u8; 16]) {
        let (net, width) = bits(self.addr);
        let last = net | !mask(width, self.prefix) & if width == 32 { u32::MAX as u128 } else { u128::MAX };
        (address_key_of(net, width), address_key_of(last, width))
    }

    /// One address, not a range.
    pub fn is_single(&self) -> bool {
        self.prefix == bits(self.addr).1
    }
}

fn address_key_of(value: u128, width: u8) -> [u8; 16] {
    if width == 32 { std::net::Ipv4Addr::from(value as u32).to_ipv6_mapped().octets() } else { value.to_be_bytes() }
}

/// An address as the 16 bytes [`Cidr::bounds`] compares it with.
pub fn address_key(ip: IpAddr) -> [u8; 16] {
    let (value, width) = bits(ip.to_canonical());
    address_key_of(value, width)
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A ban as the Bans page and the API show it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub id: i64,
    pub visitor_id: Option<i64>,
    pub visitor_name: Option<String>,
    pub ip: Option<String>,
    pub reason: Option<String>,
    pub conversation_id: Option<i64>,
    pub created_at: i64,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub expires_at: Option<i64>,
    /// Still in force (not expired) at the time of the answer.
    pub active: bool,
}

/// `POST /api/v1/bans`.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct NewBan {
    pub visitor_id: Option<i64>,
    /// The chat the ban was made from; its visitor is banned when `visitor_id` is absent.
    pub conversation_id: Option<i64>,
    pub ip: Option<String>,
    pub expires_at: Option<i64>,
    pub reason: Option<String>,
}

/// The refusal a banned visitor gets (HTTP 403, socket `error` frame then close 1008).
pub fn banned() -> AppError {
    AppError::new(Kind::Banned, "chat is not available to you")
}

/// Create a ban as `viewer` (see the module rules), audited, in the caller's transaction.
pub fn create(c: &Connection, viewer: Viewer, actor: &Actor, new: NewBan, now: i64, agents_see_colleagues: bool) -> Result<Ban, AppError> {
    let ip = new.ip.as_deref().filter(|s| !s.trim().is_empty()).map(Cidr::parse).transpose()?;
    let reason = new.reason.as_deref().map(|r| crate::text::single_line(r, 500)).filter(|r| !r.is_empty());
    if new.visitor_id.is_none() && new.conversation_id.is_none() && ip.is_none() {
        return Err(AppError::invalid("give visitor_id, conversation_id or ip"));
    }
    if let Some(at) = new.expires_at
        && at <= now
    {
        return Err(AppError::invalid("expires_at: must be in the future (milliseconds since the epoch)"));
    }
    let mut visitor = new.visitor_id;
    if let Some(conv) = new.conversation_id {
        let row = viewer.visible_conversation(c, conv, agents_see_colleagues)?;
        match visitor {
            Some(v) if v != row.visitor_id => return Err(AppError::invalid("visitor_id: not the visitor of this conversation")),
            _ => visitor = Some(row.visitor_id),
        }
    }
    let visitor_ip = match visitor {
        Some(v) => {
            viewer.check_visitor(c, v, agents_see_colleagues)?;
            Some(crate::chat::store::visitor_ip(c, v)?.ok_or_else(|| AppError::not_found("visitor"))?)
        }
        None => None,
    };
    // Agents ban the visitor in front of them, not address ranges shared with others.
    let own_address = visitor_ip.flatten().and_then(|a| a.parse::<IpAddr>().ok());
    viewer.may_ban(visitor.is_some(), ip.map(|r| r.is_single() && own_address.is_some_and(|a| r.contains(a))))?;
    let ip_text = ip.map(|r| r.to_string());
    let bounds = ip.map(|r| r.bounds());
    let id = store::insert(
        c,
        &store::NewRow {
            visitor_id: visitor,
            ip: ip_text.as_deref(),
            ip_range: bounds,
            reason: reason.as_deref(),
            conversation_id: new.conversation_id,
            created_at: now,
            created_by: actor.agent_id,
            created_by_name: &actor.label,
            expires_at: new.expires_at,
        },
    )?;
    let details = serde_json::json!({"visitor_id": visitor, "ip": ip_text, "reason": reason, "expires_at": new.expires_at, "conversation_id": new.conversation_id});
    audit::store::record(c, now, actor, "ban.create", Some(&format!("ban:{id}")), Some(&details))?;
    store::get(c, id, now)?.ok_or_else(|| AppError::internal("ban vanished"))
}

/// Lift a ban: the row goes, the audit log keeps who lifted what.
pub fn remove(c: &Connection, actor: &Actor, id: i64, now: i64) -> Result<Ban, AppError> {
    let ban = store::get(c, id, now)?.ok_or_else(|| AppError::not_found("ban"))?;
    store::delete(c, id)?;
    let details = serde_json::json!({"visitor_id": ban.visitor_id, "ip": ban.ip, "reason": ban.reason, "expires_at": ban.expires_at});
    audit::store::record(c, now, actor, "ban.delete", Some(&format!("ban:{id}")), Some(&details))?;
    Ok(ban)
}

/// Whether a ban in force at `now` covers this visitor or this address.
pub fn is_banned(c: &Connection, visitor: Option<i64>, ip: Option<IpAddr>, now: i64) -> Result<bool, AppError> {
    if let Some(v) = visitor
        && store::visitor_banned(c, v, now)?
    {
        return Ok(true);
    }
    let Some(ip) = ip else { return Ok(false) };
    store::address_banned(c, &address_key(ip), now)
}

/// [`is_banned`] as the `banned` refusal.
pub fn refuse_if_banned(c: &Connection, visitor: Option<i64>, ip: Option<IpAddr>, now: i64) -> Result<(), AppError> {
    if is_banned(c, visitor, ip, now)? { Err(banned()) } else { Ok(()) }
}

/// Refuse a widget HTTP request (offline form, callback) from a banned visitor or address.
pub async fn refuse_banned_request(state: &crate::state::AppState, req: &actix_web::HttpRequest, visitor: i64) -> Result<(), AppError> {
    let (ip, now) = (state.client_ip(req), state.now());
    state.db.read(move |c| refuse_if_banned(c, Some(visitor), ip, now)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_normalize_and_match() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let r = Cidr::parse("127.0.0.0/8").unwrap();
        assert_eq!(r.to_string(), "127.0.0.0/8");
        assert!(r.contains(ip("127.0.0.1")) && r.contains(ip("127.255.1.2")) && !r.contains(ip("128.0.0.1")));
        assert!(r.contains(ip("::ffff:127.0.0.1")), "an IPv4-mapped address is the IPv4 one");
        assert!(!r.contains(ip("::1")));
        assert_eq!(Cidr::parse("203.0.113.77/24").unwrap().to_string(), "203.0.113.0/24", "host bits cleared");
        let one = Cidr::parse(" 203.0.113.7 ").unwrap();
        assert_eq!(one.to_string(), "203.0.113.7/32");
        assert!(one.is_single() && one.contains(ip("203.0.113.7")) && !one.contains(ip("203.0.113.8")));
        let v6 = Cidr::parse("2001:db8:abcd::1/48").unwrap();
        assert_eq!(v6.to_string(), "2001:db8:abcd::/48");
        assert!(v6.contains(ip("2001:db8:abcd:12::9")) && !v6.contains(ip("2001:db8:abce::1")) && !v6.contains(ip("203.0.113.7")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("::1/128").unwrap().is_single());
        assert_eq!(Cidr::parse("::ffff:10.1.2.3").unwrap().to_string(), "10.1.2.3/32");
        assert!(Cidr::parse("10.0.0.0/31").unwrap().contains(ip("10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/1").unwrap().contains(ip("127.0.0.1")));
        // The byte bounds SQL compares agree with `contains`.
        let key = |s: &str| address_key(ip(s));
        let (lo, hi) = r.bounds();
        assert_eq!((lo, hi), (key("127.0.0.0"), key("127.255.255.255")));
        assert!(lo <= key("::ffff:127.0.0.1") && key("127.0.0.1") <= hi && key("128.0.0.0") > hi && key("126.255.255.255") < lo);
        assert_eq!(one.bounds(), (key("203.0.113.7"), key("203.0.113.7")));
        let (lo, hi) = v6.bounds();
        assert_eq!((lo, hi), (key("2001:db8:abcd::"), key("2001:db8:abcd:ffff:ffff:ffff:ffff:ffff")));
        assert!(key("203.0.113.7") < lo || key("203.0.113.7") > hi, "an IPv4 address is outside an IPv6 range");
        for bad in [
            "",
            "x",
            "1.2.3",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/-1",
            "1.2.3.4/+8",
            "::/129",
            "1.2.3.4/8/8",
            "0.0.0.0/0",
            "::/0",
            "1.2.3.4/0008",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
