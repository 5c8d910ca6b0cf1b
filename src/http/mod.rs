//! HTTP plumbing shared by every domain: app state, the route table, access control,
//! security headers, the embedded web assets, health and metrics.

pub mod assets;
pub mod health;
pub mod routes;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::auth::{PasswordHasher, Principal};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, deserialize_error, json_payload_error};
use crate::ratelimit::Limiter;

/// Built once, before `HttpServer::new`, and shared by every worker.
pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub public_url: url::Url,
    /// True when `public_url` was derived from the listen address rather than configured.
    pub public_url_derived: bool,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub login_ip: Limiter,
    pub login_account: Limiter,
    pub metrics: Metrics,
    pub policies: routes::Policies,
    pub started_at: std::time::Instant,
    pub hub: crate::realtime::Hub,
    /// New widget visitors per client IP.
    pub widget_sessions: Limiter,
    /// Uploads per uploader (visitor token or agent).
    pub uploads: Limiter,
    pub chat_settings: ChatSettings,
}

/// Admin chat switches, read on start and updated when an admin changes them.
#[derive(Default)]
pub struct ChatSettings {
    /// Agents see what visitors type before sending (SPEC C4); off: drafts never leave the widget.
    pub sneak_peek: std::sync::atomic::AtomicBool,
    /// Agents may read colleagues' chats (SPEC C3).
    pub agents_see_colleagues: std::sync::atomic::AtomicBool,
}

impl AppState {
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn sneak_peek(&self) -> bool {
        self.chat_settings.sneak_peek.load(Ordering::Relaxed)
    }

    pub fn agents_see_colleagues(&self) -> bool {
        self.chat_settings.agents_see_colleagues.load(Ordering::Relaxed)
    }

    pub fn https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// `__Host-` cookies require Secure, which browsers only keep over https.
    pub fn cookie_name(&self) -> &'static str {
        if self.https() { "__Host-frontdesk_session" } else { "frontdesk_session" }
    }

    pub fn own_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    /// The client address, believing `X-Forwarded-For` only from configured proxies.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip();
        if !self.config.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("");
        forwarded
            .split(',')
            .rev()
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .find(|ip| !self.config.trusted_proxies.contains(ip))
            .or(Some(peer))
    }
}

#[derive(Default)]
pub struct Metrics {
    pub responses: [AtomicU64; 5],
    pub logins_ok: AtomicU64,
    pub logins_failed: AtomicU64,
    pub logins_limited: AtomicU64,
}

impl Metrics {
    pub fn count_status(&self, status: u16) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = std::future::Ready<Result<Principal, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<Principal>().cloned().ok_or_else(AppError::unauthenticated))
    }
}

impl Principal {
    /// The agent behind this caller, or a clear error for person-less API tokens.
    pub fn agent_id(&self) -> Result<i64, AppError> {
        self.agent_id.ok_or_else(|| AppError::invalid("this API token does not belong to an agent"))
    }
}

/// The client's User-Agent, cut to a sane length for storage.
pub fn user_agent(req: &HttpRequest) -> String {
    req.headers().get(actix_web::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(300).collect()
}

/// Extractor configs so every malformed body, path and query answers in our error shape.
pub fn extractor_configs(cfg: &mut web::ServiceConfig, max_json: usize) {
    cfg.app_data(web::JsonConfig::default().limit(max_json).error_handler(|e, _| json_payload_error(e).into()))
        .app_data(web::PathConfig::default().error_handler(|_, _| AppError::not_found("object").into()))
        .app_data(web::QueryConfig::default().error_handler(|e, _| AppError::invalid(format!("query string: {e}")).into()));
}

/// Parse a JSON value we already hold (e.g. from a socket frame) with the same errors as bodies.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AppError> {
    serde_json::from_str(text).map_err(|e| deserialize_error(&e))
}

pub fn state(req: &ServiceRequest) -> web::Data<AppState> {
    req.app_data::<web::Data<AppState>>().cloned().expect("AppState is registered")
}
