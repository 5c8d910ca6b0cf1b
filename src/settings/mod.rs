//! Server-wide values kept in the database (generated secret, setup token, admin settings).

pub mod http;
pub mod store;

pub const SECRET_KEY: &str = "secret_key";
pub const SETUP_TOKEN_HASH: &str = "setup_token_hash";
pub const SNEAK_PEEK: &str = "chat.sneak_peek";
pub const AGENTS_SEE_COLLEAGUES: &str = "chat.agents_see_colleagues";
pub const REPLY_OVERDUE_S: &str = "chat.reply_overdue_s";
pub const VISITOR_IDLE_S: &str = "chat.visitor_idle_s";

/// Status colours of chat lists (SPEC C8): a visitor waiting this long for an agent's reply
/// turns the chat red; a visitor silent this long (after the agent answered) turns it grey.
pub const DEFAULT_REPLY_OVERDUE_S: i64 = 120;
pub const DEFAULT_VISITOR_IDLE_S: i64 = 300;
/// Allowed range of both thresholds, in seconds.
pub const THRESHOLD_RANGE_S: std::ops::RangeInclusive<i64> = 10..=86_400;
pub const REQUIRE_TAG: &str = "chat.require_tag";

/// Admin chat switches, read on start and updated when an admin changes them.
#[derive(Default)]
pub struct ChatSettings {
    /// Agents see what visitors type before sending (SPEC C4); off: drafts never leave the widget.
    pub sneak_peek: std::sync::atomic::AtomicBool,
    /// Agents may read colleagues' chats (SPEC C3).
    pub agents_see_colleagues: std::sync::atomic::AtomicBool,
    /// Seconds a visitor's message may wait for a reply before the chat shows red (C8).
    pub reply_overdue_s: std::sync::atomic::AtomicI64,
    /// Seconds of visitor silence before the chat shows grey (C8).
    pub visitor_idle_s: std::sync::atomic::AtomicI64,
    /// An agent ends a chat only once it carries a tag (SPEC C9); visitors and timeouts still end it.
    pub require_tag: std::sync::atomic::AtomicBool,
}
