//! Who is calling, and may they: passwords, sessions, API tokens, roles.

pub mod http;
pub mod links;
pub mod policy;
pub mod store;
pub mod totp;
pub mod totp_http;

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

/// argon2id with OWASP's recommended parameters (19 MiB, 2 passes), computed on a pool of its
/// own: one thread per core, fed through a semaphore with as many permits, so a login flood
/// waits its turn instead of starving chat traffic of CPU, and at most that many hashes' memory
/// exists at once. See "Password hashing and memory" in docs/architecture.md.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<Job>,
    /// argon2 computations started (hash or verify), for tests and capacity planning.
    runs: Arc<AtomicU64>,
}

type Job = Box<dyn FnOnce() + Send>;

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

/// Makes glibc give large blocks back to the kernel when they are freed.
///
/// glibc serves an allocation of 128 KiB or more with its own mapping, but the first time such
/// a block is freed it raises that threshold to the block's size, so every later 19 MiB argon2
/// block comes from a heap arena instead, and each thread's arena keeps it after the hash: the
/// idle server grew by ~19 MiB per thread that ever hashed (132 MB after 8 logins). Fixing the
/// threshold at 1 MiB keeps large blocks as mappings, unmapped on free. Small allocations (all
/// of the request path) are unaffected. Measured in BENCHMARKS.md (P5, login memory).
pub fn return_large_allocations() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // SAFETY: mallopt only changes allocator parameters; 1 MiB is a valid threshold.
            let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
            if ok != 1 {
                tracing::warn!("mallopt(M_MMAP_THRESHOLD) refused; memory after logins may stay high");
            }
        }
    });
}

impl PasswordHasher {
    pub fn new() -> PasswordHasher {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        PasswordHasher::with_threads(cores)
    }

    /// A hasher with `threads` dedicated threads (and as many permits). The threads end when
    /// the last clone of the hasher is dropped.
    pub fn with_threads(threads: usize) -> PasswordHasher {
        return_large_allocations();
        let threads = threads.max(1);
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || {
                loop {
                    let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(job) = job else { break };
                    // A panicking job drops its answer channel (the caller gets an error);
                    // the thread stays for the next one.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            });
            if let Err(e) = spawned {
                tracing::error!("could not start password hashing thread {i}: {e}");
            }
        }
        PasswordHasher { permits: Arc::new(Semaphore::new(threads)), jobs: tx, runs: Arc::new(AtomicU64::new(0)) }
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

    /// Runs `f` on one of the hashing threads once a permit is free.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let _permit = self.permits.acquire().await.map_err(|_| AppError::internal("hasher closed"))?;
        self.runs.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .map_err(|_| AppError::internal("password hashing threads stopped"))?;
        rx.await.map_err(|_| AppError::internal("password hashing failed"))
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || Self::hash_blocking(&password)).await?
    }

    /// Verifies against `phc`, or against a fixed dummy hash when the account does not exist,
    /// so response time does not reveal which emails have accounts.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, AppError> {
        self.run(move || {
            let target = phc.clone().unwrap_or_else(|| dummy_hash().to_string());
            let ok = Self::verify_blocking(&password, &target);
            ok && phc.is_some()
        })
        .await
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

    #[tokio::test]
    async fn hashing_runs_on_its_own_bounded_threads_and_survives_a_panic() {
        let hasher = PasswordHasher::with_threads(2);
        let names =
            futures_util::future::join_all((0..6).map(|_| hasher.run(|| std::thread::current().name().unwrap_or_default().to_string())))
                .await;
        for n in names {
            let n = n.unwrap();
            assert!(n == "argon2-0" || n == "argon2-1", "{n}");
        }
        let failed = hasher.run(|| -> u8 { panic!("boom") }).await;
        assert!(failed.is_err(), "a panicking job is an error for its caller");
        let (a, b) = tokio::join!(hasher.hash("password one".into()), hasher.hash("password two".into()));
        assert!(PasswordHasher::verify_blocking("password two", &b.unwrap()));
        assert!(hasher.verify("password one".into(), Some(a.unwrap())).await.unwrap());
        assert!(!hasher.verify("password one".into(), None).await.unwrap(), "no account: never true");
        assert_eq!(hasher.runs(), 11);
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
