//! Server-wide values kept in the database (generated secret, setup token, admin settings).

pub mod http;
pub mod store;

pub const SECRET_KEY: &str = "secret_key";
pub const SETUP_TOKEN_HASH: &str = "setup_token_hash";
pub const SNEAK_PEEK: &str = "chat.sneak_peek";
pub const AGENTS_SEE_COLLEAGUES: &str = "chat.agents_see_colleagues";
pub const REQUIRE_TAG: &str = "chat.require_tag";

/// Admin chat switches, read on start and updated when an admin changes them.
#[derive(Default)]
pub struct ChatSettings {
    /// Agents see what visitors type before sending (SPEC C4); off: drafts never leave the widget.
    pub sneak_peek: std::sync::atomic::AtomicBool,
    /// Agents may read colleagues' chats (SPEC C3).
    pub agents_see_colleagues: std::sync::atomic::AtomicBool,
    /// An agent ends a chat only once it carries a tag (SPEC C9); visitors and timeouts still end it.
    pub require_tag: std::sync::atomic::AtomicBool,
}
