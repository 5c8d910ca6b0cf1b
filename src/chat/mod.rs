//! Live chat: visitors, conversations and their messages, and the lifecycle rules.

pub mod agent_ws;
pub mod files;
pub mod http;
pub mod socket;
pub mod store;
pub mod team;
pub mod visitor_ws;

use serde::Serialize;

use crate::error::AppError;

pub use socket::publish_message;

/// End a chat whose visitor went quiet (the scheduler's idle-chat job; tests call it too).
pub async fn end_idle(state: &crate::state::AppState, conversation: i64) -> Result<(), AppError> {
    socket::end_conversation(state, conversation, EndedBy::Timeout, String::new()).await
}

/// The visitor behind widget HTTP calls: the `X-Visitor-Token` header, as issued in `welcome`.
pub async fn visitor_from_request(state: &crate::state::AppState, req: &actix_web::HttpRequest) -> Result<i64, AppError> {
    let token = req.headers().get("x-visitor-token").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if token.is_empty() || token.len() > 128 {
        return Err(AppError::unauthenticated());
    }
    let hash = crate::auth::token_hash(&token);
    state.db.read(move |c| store::visitor_by_token(c, &hash)).await?.ok_or_else(AppError::unauthenticated)
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Active,
    Ended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Active => "active",
            Status::Ended => "ended",
        }
    }
    pub fn parse(s: &str) -> Status {
        match s {
            "queued" => Status::Queued,
            "active" => Status::Active,
            _ => Status::Ended,
        }
    }
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Served,
    Cancelled,
    Missed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Served => "served",
            Outcome::Cancelled => "cancelled",
            Outcome::Missed => "missed",
        }
    }
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EndedBy {
    Agent,
    Visitor,
    Timeout,
    System,
}

impl EndedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::Agent => "agent",
            EndedBy::Visitor => "visitor",
            EndedBy::Timeout => "timeout",
            EndedBy::System => "system",
        }
    }
}

/// A visitor who ends the chat this soon, before any agent reply, cancelled it (SPEC R5); the
/// admin may change it (`routing::RoutingSettings::cancel_window_s`).
pub const CANCEL_WINDOW_MS: i64 = 20_000;

/// SPEC R5: outcomes are mutually exclusive. Served when an agent replied; cancelled when the
/// visitor ended it within the cancel window (20 s by default) without a reply; missed for any
/// other end without a reply (the agent or a timeout ended it, or the visitor left later).
pub fn outcome(created_at: i64, ended_at: i64, ended_by: EndedBy, first_agent_reply_at: Option<i64>, cancel_window_ms: i64) -> Outcome {
    if first_agent_reply_at.is_some() {
        Outcome::Served
    } else if ended_by == EndedBy::Visitor && ended_at - created_at <= cancel_window_ms {
        Outcome::Cancelled
    } else {
        Outcome::Missed
    }
}

/// A conversation as lists and the visitor panel show it.
#[derive(Serialize, Debug, Clone)]
pub struct Conversation {
    pub id: i64,
    pub status: Status,
    pub outcome: Option<Outcome>,
    pub visitor: VisitorSummary,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub department_id: Option<i64>,
    pub last_seq: i64,
    pub created_at: i64,
    pub assigned_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub last_message_at: Option<i64>,
    pub last_visitor_message_at: Option<i64>,
    pub last_agent_message_at: Option<i64>,
    pub agent_delivered_seq: i64,
    pub agent_read_seq: i64,
    pub visitor_read_seq: i64,
    pub page_url: Option<String>,
    pub preview: Option<String>,
    /// Tags from the shared vocabulary (`crate::tags`), sorted.
    pub tags: Vec<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct VisitorSummary {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Everything the visitor panel (SPEC C5) shows about a visitor.
#[derive(Serialize, Debug, Clone)]
pub struct VisitorDetails {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    pub visits: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub timezone: Option<String>,
    pub language: Option<String>,
    pub referrer: Option<String>,
    pub search_query: Option<String>,
    pub current_url: Option<String>,
    pub current_title: Option<String>,
    pub pages: Vec<PageView>,
    pub conversations: Vec<PastConversation>,
    /// The contact behind the visitor with their history and notes, and the admin's links
    /// filled in (`visitors::ops::panel`).
    pub contact: Option<crate::visitors::ops::PanelContact>,
    pub links: Vec<crate::visitors::LinkTemplate>,
}

#[derive(Serialize, Debug, Clone)]
pub struct PageView {
    pub url: String,
    pub title: Option<String>,
    pub at: i64,
}

#[derive(Serialize, Debug, Clone)]
pub struct PastConversation {
    pub id: i64,
    pub status: Status,
    pub outcome: Option<Outcome>,
    pub created_at: i64,
    pub agent_name: Option<String>,
    /// For the access rules (which of a visitor's chats the viewer may see); not sent.
    #[serde(skip)]
    pub agent_id: Option<i64>,
}

/// The search words of a search-engine referrer (`q`, `text`, `p`, `query`, `wd`).
pub fn search_query_from_referrer(referrer: &str) -> Option<String> {
    let url = url::Url::parse(referrer).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let engines = ["google.", "bing.", "yandex.", "duckduckgo.", "yahoo.", "baidu.", "ecosia.", "qwant.", "search.brave."];
    if !engines.iter().any(|e| host.contains(e)) {
        return None;
    }
    url.query_pairs()
        .find(|(k, _)| matches!(k.as_ref(), "q" | "text" | "p" | "query" | "wd"))
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Browser and OS names from a User-Agent string: enough for the visitor panel.
pub fn browser_and_os(ua: &str) -> (Option<String>, Option<String>) {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("YaBrowser/", "Yandex Browser"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(needle, name)| {
        let version = ua.split(needle).nth(1).and_then(|rest| rest.split(['.', ' ']).next()).unwrap_or("");
        let version =
            if *name == "Safari" { ua.split("Version/").nth(1).and_then(|r| r.split(['.', ' ']).next()).unwrap_or("") } else { version };
        if version.is_empty() { name.to_string() } else { format!("{name} {version}") }
    });
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name.to_string());
    (browser, os)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_table() {
        let t0 = 1_000_000;
        let cases = [
            // (ended after ms, by, agent replied, expected) with the default 20 s window
            (0, EndedBy::Visitor, false, Outcome::Cancelled),
            (5_000, EndedBy::Visitor, false, Outcome::Cancelled),
            (20_000, EndedBy::Visitor, false, Outcome::Cancelled),
            (20_001, EndedBy::Visitor, false, Outcome::Missed),
            (5_000, EndedBy::Agent, false, Outcome::Missed),
            (5_000, EndedBy::Timeout, false, Outcome::Missed),
            (5_000, EndedBy::Visitor, true, Outcome::Served),
            (900_000, EndedBy::Agent, true, Outcome::Served),
            (900_000, EndedBy::System, false, Outcome::Missed),
        ];
        for (after, by, replied, want) in cases {
            let got = outcome(t0, t0 + after, by, replied.then_some(t0 + 1), CANCEL_WINDOW_MS);
            assert_eq!(got, want, "{after} {by:?} {replied}");
        }
        // A configured window: 5 s.
        let window = [(4_000, Outcome::Cancelled), (5_000, Outcome::Cancelled), (5_001, Outcome::Missed)];
        for (after, want) in window {
            assert_eq!(outcome(t0, t0 + after, EndedBy::Visitor, None, 5_000), want, "{after} with a 5 s window");
        }
        assert_eq!(outcome(t0, t0 + 1, EndedBy::Visitor, Some(t0), 0), Outcome::Served);
        assert_eq!(outcome(t0, t0 + 1, EndedBy::Visitor, None, 0), Outcome::Missed, "window 0: nothing counts as cancelled");
    }

    #[test]
    fn search_queries() {
        let cases = [
            ("https://www.google.com/search?q=red+shoes&hl=en", Some("red shoes")),
            ("https://yandex.ru/search/?text=%D0%BA%D1%80%D0%B0%D1%81%D0%BD%D1%8B%D0%B5", Some("красные")),
            ("https://duckduckgo.com/?q=", None),
            ("https://blog.example/?q=shoes", None),
            ("not a url", None),
        ];
        for (r, want) in cases {
            assert_eq!(search_query_from_referrer(r).as_deref(), want, "{r}");
        }
    }

    #[test]
    fn user_agents() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
                "Chrome 126",
                "Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari 17",
                "iOS",
            ),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128", "Linux"),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36 Edg/126.0",
                "Edge 126",
                "Android",
            ),
        ];
        for (ua, b, o) in cases {
            let (browser, os) = browser_and_os(ua);
            assert_eq!((browser.as_deref(), os.as_deref()), (Some(b), Some(o)), "{ua}");
        }
        assert_eq!(browser_and_os(""), (None, None));
    }
}
