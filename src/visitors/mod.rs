//! Visitor engagement (SPEC C13, W9, C5): who is on the site now (the live visitors list),
//! proactive invitations (an agent's by hand, and automatic rules), and the admin's visitor
//! settings (the per-visitor cap, link templates).
//!
//! `mod.rs` holds the types and the pure rules (device and country, pattern matching, which
//! rule fires for a visitor, link templates); `store.rs` the SQL; `ops.rs` the operations over
//! `&Connection`; `live.rs` the running part (who is online comes from the hub, frames out,
//! the automatic round); `http.rs` the endpoints.

pub mod http;
pub mod live;
pub mod ops;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A pending invitation becomes `ignored` this long after it was shown without an answer.
pub const INVITATION_TTL_MS: i64 = 10 * 60_000;
/// The automatic cap counts invitations within this window.
pub const CAP_WINDOW_MS: i64 = 24 * 3_600_000;
/// Longest invitation text, in characters.
pub const MAX_INVITATION_CHARS: usize = 1_000;

/// One visitor on the site now, as the live list shows it (and the `visitor` frame carries it).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct LiveVisitor {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    /// The first external referrer of this visit, and the search words in it.
    pub referrer: Option<String>,
    pub search_query: Option<String>,
    /// When this visit began (time on site) and when the current page was opened.
    pub since: i64,
    pub page_since: i64,
    /// Pages viewed in this visit, and visits so far.
    pub pages: i64,
    pub visits: i64,
    pub timezone: Option<String>,
    /// ISO 3166 code guessed from the browser's time zone.
    pub country: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub device: Device,
    /// `browsing`, `invited` (an invitation is showing) or `chatting`.
    pub state: LiveState,
    /// The open chat, if any, and its agent.
    pub conversation: Option<i64>,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    /// The invitation showing now, if any.
    pub invitation: Option<InvitationInfo>,
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    Desktop,
    Mobile,
    Tablet,
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LiveState {
    Browsing,
    Invited,
    Chatting,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct InvitationInfo {
    pub id: i64,
    pub agent_name: String,
    pub automatic: bool,
    pub at: i64,
}

/// What became of an invitation.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    Sent,
    Accepted,
    Ignored,
    Closed,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Sent => "sent",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Ignored => "ignored",
            InvitationStatus::Closed => "closed",
        }
    }
}

/// An automatic invitation rule (W9): every condition that is set must hold.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    pub url_pattern: Option<String>,
    pub min_seconds_on_page: i64,
    pub min_visits: i64,
    pub referrer_pattern: Option<String>,
    pub department_id: Option<i64>,
    pub body: String,
}

/// A rule as the admin sends it (create: every field; PATCH: any).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::visitors::double_option")]
    pub url_pattern: Option<Option<String>>,
    pub min_seconds_on_page: Option<i64>,
    pub min_visits: Option<i64>,
    #[serde(default, deserialize_with = "crate::visitors::double_option")]
    pub referrer_pattern: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::visitors::double_option")]
    pub department_id: Option<Option<i64>>,
    pub body: Option<String>,
}

/// `null` and absent differ in a PATCH: absent keeps, `null` clears.
pub fn double_option<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl RuleInput {
    /// The rule after this change (`base`: the stored one, or an empty one for a new rule).
    pub fn apply(&self, mut r: Rule) -> Result<Rule, AppError> {
        if let Some(n) = &self.name {
            r.name = crate::text::single_line(n, 100);
        }
        if r.name.is_empty() {
            return Err(AppError::invalid("name: required"));
        }
        if let Some(e) = self.enabled {
            r.enabled = e;
        }
        let pattern = |p: &Option<String>, what: &str| -> Result<Option<String>, AppError> {
            match p.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) if s.chars().count() > 500 => Err(AppError::invalid(format!("{what}: at most 500 characters"))),
                Some(s) => Ok(Some(s.to_string())),
            }
        };
        if let Some(p) = &self.url_pattern {
            r.url_pattern = pattern(p, "url_pattern")?;
        }
        if let Some(p) = &self.referrer_pattern {
            r.referrer_pattern = pattern(p, "referrer_pattern")?;
        }
        if let Some(s) = self.min_seconds_on_page {
            if !(0..=86_400).contains(&s) {
                return Err(AppError::invalid("min_seconds_on_page: between 0 and 86400"));
            }
            r.min_seconds_on_page = s;
        }
        if let Some(v) = self.min_visits {
            if !(0..=10_000).contains(&v) {
                return Err(AppError::invalid("min_visits: between 0 and 10000"));
            }
            r.min_visits = v;
        }
        if let Some(d) = self.department_id {
            r.department_id = d;
        }
        if let Some(b) = &self.body {
            r.body = b.trim().to_string();
        }
        check_body(&r.body)?;
        Ok(r)
    }
}

/// An invitation's text: 1 to [`MAX_INVITATION_CHARS`] characters.
pub fn check_body(body: &str) -> Result<(), AppError> {
    if body.trim().is_empty() {
        return Err(AppError::invalid("body: the invitation needs a text"));
    }
    if body.chars().count() > MAX_INVITATION_CHARS {
        return Err(AppError::invalid(format!("body: at most {MAX_INVITATION_CHARS} characters")));
    }
    Ok(())
}

/// The admin's visitor settings: how many automatic invitations one visitor may get within
/// [`CAP_WINDOW_MS`], and the link templates of the visitor panel.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VisitorSettings {
    pub invite_cap: i64,
    pub link_templates: Vec<LinkTemplate>,
}

impl Default for VisitorSettings {
    fn default() -> Self {
        VisitorSettings { invite_cap: 1, link_templates: vec![] }
    }
}

/// A link in the visitor panel: `url` with `{email}`, `{name}`, `{phone}`, `{id}` placeholders.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LinkTemplate {
    pub name: String,
    pub url: String,
}

pub const PLACEHOLDERS: [&str; 4] = ["email", "name", "phone", "id"];

impl VisitorSettings {
    pub fn validate(&mut self) -> Result<(), AppError> {
        if !(0..=100).contains(&self.invite_cap) {
            return Err(AppError::invalid("invite_cap: between 0 and 100"));
        }
        if self.link_templates.len() > 20 {
            return Err(AppError::invalid("link_templates: at most 20"));
        }
        for t in &mut self.link_templates {
            t.name = crate::text::single_line(&t.name, 100);
            if t.name.is_empty() {
                return Err(AppError::invalid("link_templates: every link needs a name"));
            }
            t.url = t.url.trim().to_string();
            // A template must be a real http(s) link once filled in (no javascript: links).
            let filled = PLACEHOLDERS.iter().fold(t.url.clone(), |u, p| u.replace(&format!("{{{p}}}"), "x"));
            if filled.contains(['{', '}']) {
                return Err(AppError::invalid(format!(
                    "link_templates: {:?} has an unknown placeholder (use {{email}}, {{name}}, {{phone}}, {{id}})",
                    t.url
                )));
            }
            match url::Url::parse(&filled) {
                Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && t.url.len() <= 2000 => {}
                _ => return Err(AppError::invalid(format!("link_templates: {:?} is not an http(s) URL", t.url))),
            }
        }
        Ok(())
    }
}

/// A link template filled with the visitor's values, each URL-encoded; None when a placeholder
/// it uses has no value (the panel leaves such a link out).
pub fn fill_template(url: &str, values: &[(&str, Option<&str>)]) -> Option<String> {
    let mut out = url.to_string();
    for (key, value) in values {
        let p = format!("{{{key}}}");
        if out.contains(&p) {
            let v = value.filter(|v| !v.is_empty())?;
            let enc: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
            out = out.replace(&p, &enc.replace('+', "%20"));
        }
    }
    Some(out)
}

/// Desktop, phone or tablet, from the User-Agent.
pub fn device_of(ua: &str) -> Device {
    if ua.contains("iPad") || (ua.contains("Android") && !ua.contains("Mobile")) || ua.contains("Tablet") {
        Device::Tablet
    } else if ua.contains("Mobi") || ua.contains("iPhone") || ua.contains("Android") {
        Device::Mobile
    } else {
        Device::Desktop
    }
}

/// The country (ISO 3166 alpha-2) a browser time zone belongs to, for the zones most visitors
/// have; None for the rest (and for `UTC`).
pub fn country_of_timezone(tz: &str) -> Option<&'static str> {
    const ZONES: &[(&str, &str)] = &[
        ("Europe/Kyiv", "UA"),
        ("Europe/Kiev", "UA"),
        ("Europe/Uzhgorod", "UA"),
        ("Europe/Zaporozhye", "UA"),
        ("Europe/Simferopol", "UA"),
        ("Europe/Warsaw", "PL"),
        ("Europe/Moscow", "RU"),
        ("Europe/Samara", "RU"),
        ("Europe/Volgograd", "RU"),
        ("Europe/Kaliningrad", "RU"),
        ("Asia/Yekaterinburg", "RU"),
        ("Asia/Novosibirsk", "RU"),
        ("Asia/Omsk", "RU"),
        ("Asia/Krasnoyarsk", "RU"),
        ("Asia/Irkutsk", "RU"),
        ("Asia/Vladivostok", "RU"),
        ("Europe/Minsk", "BY"),
        ("Europe/Vilnius", "LT"),
        ("Europe/Riga", "LV"),
        ("Europe/Tallinn", "EE"),
        ("Europe/Chisinau", "MD"),
        ("Europe/Bucharest", "RO"),
        ("Europe/Sofia", "BG"),
        ("Europe/Athens", "GR"),
        ("Europe/Istanbul", "TR"),
        ("Europe/Berlin", "DE"),
        ("Europe/Vienna", "AT"),
        ("Europe/Zurich", "CH"),
        ("Europe/Paris", "FR"),
        ("Europe/Brussels", "BE"),
        ("Europe/Amsterdam", "NL"),
        ("Europe/Luxembourg", "LU"),
        ("Europe/London", "GB"),
        ("Europe/Dublin", "IE"),
        ("Europe/Lisbon", "PT"),
        ("Europe/Madrid", "ES"),
        ("Europe/Rome", "IT"),
        ("Europe/Prague", "CZ"),
        ("Europe/Bratislava", "SK"),
        ("Europe/Budapest", "HU"),
        ("Europe/Ljubljana", "SI"),
        ("Europe/Zagreb", "HR"),
        ("Europe/Belgrade", "RS"),
        ("Europe/Copenhagen", "DK"),
        ("Europe/Stockholm", "SE"),
        ("Europe/Oslo", "NO"),
        ("Europe/Helsinki", "FI"),
        ("Atlantic/Reykjavik", "IS"),
        ("Asia/Tbilisi", "GE"),
        ("Asia/Yerevan", "AM"),
        ("Asia/Baku", "AZ"),
        ("Asia/Almaty", "KZ"),
        ("Asia/Tashkent", "UZ"),
        ("Asia/Jerusalem", "IL"),
        ("Asia/Tel_Aviv", "IL"),
        ("Asia/Dubai", "AE"),
        ("Asia/Kolkata", "IN"),
        ("Asia/Calcutta", "IN"),
        ("Asia/Shanghai", "CN"),
        ("Asia/Hong_Kong", "HK"),
        ("Asia/Tokyo", "JP"),
        ("Asia/Seoul", "KR"),
        ("Asia/Singapore", "SG"),
        ("Asia/Bangkok", "TH"),
        ("Asia/Jakarta", "ID"),
        ("Asia/Manila", "PH"),
        ("Australia/Sydney", "AU"),
        ("Australia/Melbourne", "AU"),
        ("Australia/Perth", "AU"),
        ("Australia/Brisbane", "AU"),
        ("Pacific/Auckland", "NZ"),
        ("America/New_York", "US"),
        ("America/Chicago", "US"),
        ("America/Denver", "US"),
        ("America/Phoenix", "US"),
        ("America/Los_Angeles", "US"),
        ("America/Anchorage", "US"),
        ("Pacific/Honolulu", "US"),
        ("America/Detroit", "US"),
        ("America/Toronto", "CA"),
        ("America/Vancouver", "CA"),
        ("America/Edmonton", "CA"),
        ("America/Winnipeg", "CA"),
        ("America/Halifax", "CA"),
        ("America/Mexico_City", "MX"),
        ("America/Sao_Paulo", "BR"),
        ("America/Argentina/Buenos_Aires", "AR"),
        ("America/Buenos_Aires", "AR"),
        ("America/Santiago", "CL"),
        ("America/Bogota", "CO"),
        ("America/Lima", "PE"),
        ("Africa/Cairo", "EG"),
        ("Africa/Johannesburg", "ZA"),
        ("Africa/Lagos", "NG"),
        ("Africa/Nairobi", "KE"),
        ("Africa/Casablanca", "MA"),
    ];
    ZONES.iter().find(|(z, _)| *z == tz).map(|(_, c)| *c)
}

/// Case-insensitive match of `pattern` (a substring; `*` matches anything) inside `text`.
pub fn pattern_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_lowercase(), text.to_lowercase());
    let parts: Vec<&str> = p.split('*').filter(|s| !s.is_empty()).collect();
    let mut rest = t.as_str();
    for part in parts {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// The facts an automatic rule looks at, for one visitor.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleFacts<'a> {
    pub page_url: Option<&'a str>,
    pub page_since: i64,
    pub visits: i64,
    pub referrer: Option<&'a str>,
    /// Rules that already invited this visitor in this visit.
    pub fired_this_visit: &'a [i64],
}

/// Whether `rule` fires for these facts now.
pub fn rule_fires(rule: &Rule, f: &RuleFacts, now: i64) -> bool {
    rule.enabled
        && !f.fired_this_visit.contains(&rule.id)
        && rule.url_pattern.as_deref().is_none_or(|p| f.page_url.is_some_and(|u| pattern_matches(p, u)))
        && now - f.page_since >= rule.min_seconds_on_page * 1000
        && f.visits >= rule.min_visits
        && rule.referrer_pattern.as_deref().is_none_or(|p| f.referrer.is_some_and(|r| pattern_matches(p, r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            id: 1,
            name: "pricing".into(),
            enabled: true,
            url_pattern: Some("/pricing".into()),
            min_seconds_on_page: 10,
            min_visits: 0,
            referrer_pattern: None,
            department_id: None,
            body: "Questions about plans?".into(),
        }
    }

    #[test]
    fn rules_fire_only_when_every_condition_holds() {
        let r = rule();
        let f = |url: &'static str, since: i64, visits: i64, referrer: Option<&'static str>, fired: &'static [i64]| RuleFacts {
            page_url: Some(url),
            page_since: since,
            visits,
            referrer,
            fired_this_visit: fired,
        };
        assert!(!rule_fires(&r, &f("https://s.example/pricing", 0, 1, None, &[]), 9_999), "9.999 s on the page");
        assert!(rule_fires(&r, &f("https://s.example/pricing", 0, 1, None, &[]), 10_000));
        assert!(rule_fires(&r, &f("https://s.example/PRICING?plan=2", 0, 1, None, &[]), 10_000), "case-insensitive substring");
        assert!(!rule_fires(&r, &f("https://s.example/shoes", 0, 1, None, &[]), 60_000), "other page");
        assert!(!rule_fires(&r, &f("https://s.example/pricing", 0, 1, None, &[1]), 60_000), "once per visit");
        let r2 = Rule { min_visits: 2, referrer_pattern: Some("google.*q=".into()), url_pattern: None, ..rule() };
        assert!(!rule_fires(&r2, &f("https://s.example/", 0, 1, Some("https://www.google.com/search?q=x"), &[]), 60_000), "first visit");
        assert!(rule_fires(&r2, &f("https://s.example/", 0, 2, Some("https://www.google.com/search?q=x"), &[]), 60_000));
        assert!(!rule_fires(&r2, &f("https://s.example/", 0, 2, None, &[]), 60_000), "no referrer");
        assert!(!rule_fires(&Rule { enabled: false, ..rule() }, &f("https://s.example/pricing", 0, 1, None, &[]), 60_000));
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("*", "anything"));
        assert!(pattern_matches("shop.example/*/checkout", "https://shop.example/en/checkout?x"));
        assert!(!pattern_matches("checkout*shop", "https://shop.example/checkout"));
    }

    #[test]
    fn link_templates_are_encoded_and_checked() {
        let vals = [("email", Some("a+b@x.example")), ("name", Some("Jo Ann & Co")), ("phone", None), ("id", Some("7"))];
        assert_eq!(
            fill_template("https://shop.example/admin/orders?email={email}&n={name}", &vals).as_deref(),
            Some("https://shop.example/admin/orders?email=a%2Bb%40x.example&n=Jo%20Ann%20%26%20Co")
        );
        assert_eq!(fill_template("https://crm.example/?p={phone}", &vals), None, "no phone: no link");
        let bad = |url: &str| {
            VisitorSettings { invite_cap: 1, link_templates: vec![LinkTemplate { name: "x".into(), url: url.into() }] }.validate()
        };
        assert!(bad("https://shop.example/?q={email}").is_ok());
        assert!(bad("javascript:alert({email})").is_err());
        assert!(bad("https://shop.example/?q={password}").is_err());
        assert!(VisitorSettings { invite_cap: -1, link_templates: vec![] }.validate().is_err());
    }

    #[test]
    fn devices_and_countries() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1";
        let tab = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/120.0 Safari/537.36";
        let desk = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!((device_of(iphone), device_of(tab), device_of(desk)), (Device::Mobile, Device::Tablet, Device::Desktop));
        assert_eq!(country_of_timezone("Europe/Kyiv"), Some("UA"));
        assert_eq!(country_of_timezone("Europe/Warsaw"), Some("PL"));
        assert_eq!(country_of_timezone("UTC"), None);
    }
}
