//! Who is calling, and may they: passwords, sessions, API tokens, roles.

pub mod http;
pub mod links;
pub mod policy;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use base64::Engine;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Admin,
    Inbound,
    Metrics,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Inbound => "inbound",
            Scope::Metrics => "metrics",
        }
    }
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "admin" => Some(Scope::Admin),
            "inbound" => Some(Scope::Inbound),
            "metrics" => Some(Scope::Metrics),
            _ => None,
        }
    }
}

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum Credential {
    Session { session_id: i64 },
    Token { token_id: i64, scope: Scope },
}

/// The authenticated caller, put into request extensions by the access middleware.
#[derive(Clone, Debug)]
pub struct Principal {
    /// None for API tokens created from the CLI (not tied to a person).
    pub agent_id: Option<i64>,
    pub role: Option<Role>,
    /// For the audit log: "agent:3 ann@shop.example", "token:2 ci".
    pub label: String,
    /// For people: the agent's name, or the token's name.
    pub name: String,
    pub credential: Credential,
}

impl Principal {
    pub fn has_role(&self, least: Role) -> bool {
        self.role.is_some_and(|r| r >= least)
    }
    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }
    /// The agent behind this caller, or a clear error for person-less API tokens.
    pub fn agent_id(&self) -> Result<i64, AppError> {
        self.agent_id.ok_or_else(|| AppError::invalid("this API token does not belong to an agent"))
    }
}

/// Handlers take a `Principal` argument; the access middleware (`http::routes::enforce`) put it
/// into the request extensions, so a missing one means the route is public: 401.
impl actix_web::FromRequest for Principal {
    type Error = AppError;
    type Future = std::future::Ready<Result<Principal, AppError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::HttpMessage;
        std::future::ready(req.extensions().get::<Principal>().cloned().ok_or_else(AppError::unauthenticated))
    }
}

/// argon2id with OWASP's recommended parameters (19 MiB, 2 passes). Hashing runs on the
/// blocking pool behind a semaphore with one permit per core: a login flood waits its turn
/// instead of starving chat traffic of CPU and memory.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// argon2 computations started (hash or verify), for tests and capacity planning.
    runs: Arc<AtomicU64>,
}

pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 256;

pub fn validate_password(p: &str) -> Result<(), AppError> {
    let n = p.chars().count();
    if n < MIN_PASSWORD {
        return Err(AppError::invalid(format!("password: at least {MIN_PASSWORD} characters")));
    }
    if n > MAX_PASSWORD {
        return Err(AppError::invalid(format!("password: at most {MAX_PASSWORD} characters")));
    }
    Ok(())
}

impl PasswordHasher {
    pub fn new() -> PasswordHasher {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        PasswordHasher { permits: Arc::new(Semaphore::new(cores)), runs: Arc::new(AtomicU64::new(0)) }
    }

    /// How many argon2 computations (hash or verify) this hasher has started.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    pub fn hash_blocking(password: &str) -> Result<String, AppError> {
        let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| AppError::internal(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("hashing failed: {e}")))
    }

    pub fn verify_blocking(password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        }
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        let _permit = self.permits.acquire().await.map_err(|_| AppError::internal("hasher closed"))?;
        self.runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || Self::hash_blocking(&password))
            .await
            .map_err(|e| AppError::internal(format!("hash task: {e}")))?
    }

    /// Verifies against `phc`, or against a fixed dummy hash when the account does not exist,
    /// so response time does not reveal which emails have accounts.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, AppError> {
        let _permit = self.permits.acquire().await.map_err(|_| AppError::internal("hasher closed"))?;
        self.runs.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let target = phc.clone().unwrap_or_else(|| dummy_hash().to_string());
            let ok = Self::verify_blocking(&password, &target);
            ok && phc.is_some()
        })
        .await
        .map_err(|e| AppError::internal(format!("verify task: {e}")))
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| PasswordHasher::hash_blocking("not-a-real-password").unwrap_or_default())
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rng().fill_bytes(&mut b);
    b
}

/// 256 random bits, URL-safe text.
pub fn new_secret_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

pub const API_TOKEN_PREFIX: &str = "fdt_";

pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", new_secret_token())
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Normalized login key for an email address.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn validate_email(email: &str) -> Result<(), AppError> {
    let e = email.trim();
    let bad = || AppError::invalid(format!("email: {e:?} is not a valid address"));
    if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = e.rsplit_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || local.contains('@')
        || domain.len() < 3
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains('@')
    {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in ["a@b.co", "Ann.Lee+x@shop.example", " x@y.org "] {
            assert!(validate_email(good).is_ok(), "{good}");
        }
        for bad in ["", "a", "a@", "@b.co", "a@b", "a b@c.de", "a@b.", "a@.b", "a@@b.co"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        assert_eq!(normalize_email(" Ann@Shop.Example "), "ann@shop.example");
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = PasswordHasher::hash_blocking("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(PasswordHasher::verify_blocking("correct horse", &h));
        assert!(!PasswordHasher::verify_blocking("wrong horse", &h));
        assert!(!PasswordHasher::verify_blocking("x", "not a phc string"));
        assert!(validate_password("short").is_err());
        assert!(validate_password(&"x".repeat(257)).is_err());
        assert!(validate_password("long enough").is_ok());
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin > Role::Supervisor && Role::Supervisor > Role::Agent);
        assert_eq!(Role::parse("boss"), None);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_api_token();
        assert!(a.starts_with(API_TOKEN_PREFIX));
        assert_ne!(a, new_api_token());
        assert_eq!(token_hash(&a).len(), 32);
    }
}
