//! Server-wide values kept in the database (generated secret, setup token, admin settings).

pub mod http;
pub mod store;

pub const SECRET_KEY: &str = "secret_key";
pub const SETUP_TOKEN_HASH: &str = "setup_token_hash";
pub const SNEAK_PEEK: &str = "chat.sneak_peek";
pub const AGENTS_SEE_COLLEAGUES: &str = "chat.agents_see_colleagues";
