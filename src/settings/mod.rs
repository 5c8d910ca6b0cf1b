//! Server-wide values kept in the database (generated secret, setup token, admin settings).

pub mod store;

pub const SECRET_KEY: &str = "secret_key";
pub const SETUP_TOKEN_HASH: &str = "setup_token_hash";
