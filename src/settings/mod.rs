//! Server-wide values kept in the database (generated secret, setup token, admin settings).

pub mod http;
pub mod store;

pub const SECRET_KEY: &str = "secret_key";
pub const SETUP_TOKEN_HASH: &str = "setup_token_hash";
pub const SNEAK_PEEK: &str = "chat.sneak_peek";
pub const AGENTS_SEE_COLLEAGUES: &str = "chat.agents_see_colleagues";

/// Admin chat switches, read on start and updated when an admin changes them.
#[derive(Default)]
pub struct ChatSettings {
    /// Agents see what visitors type before sending (SPEC C4); off: drafts never leave the widget.
    pub sneak_peek: std::sync::atomic::AtomicBool,
    /// Agents may read colleagues' chats (SPEC C3).
    pub agents_see_colleagues: std::sync::atomic::AtomicBool,
}
