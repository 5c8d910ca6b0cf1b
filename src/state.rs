//! The shared application state: built once in `startup`, before `HttpServer::new`, and
//! handed to every worker, socket task and background job. Domains depend on this module,
//! never on `http` (which depends on every domain through the route table).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::HttpRequest;

use crate::auth::PasswordHasher;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::ratelimit::Limiter;
use crate::settings::ChatSettings;

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
    pub started_at: std::time::Instant,
    pub hub: crate::realtime::Hub,
    /// New widget visitors per client IP.
    pub widget_sessions: Limiter,
    /// Uploads per uploader (visitor token or agent).
    pub uploads: Limiter,
    /// The widget socket's budgets per visitor and per IP (messages, pages, typing, hellos).
    pub visitor_budgets: crate::ratelimit::VisitorBudgets,
    /// Upload quotas (bytes per hour per visitor and IP) and downloads running per IP.
    pub files: crate::chat::files::limits::FileLimits,
    pub chat_settings: ChatSettings,
    /// Webhook HTTP client and switches (the delivery worker and "send test" use it).
    pub webhooks: crate::webhooks::delivery::Runtime,
    /// The outgoing mail worker's wake-up, lock and reply-address key.
    pub mail: crate::mail::Mailer,
    /// The IMAP fetcher of the `imap_url` in force (config or console), restarted when it changes.
    pub imap: crate::inbound::imap::Supervisor,
    /// Routing settings and live routing state (queue places told, agents' sockets gone).
    pub routing: crate::routing::live::Live,
    /// Engagement: the enabled automatic invitation rules (the live list itself is the hub's).
    pub visitors: crate::visitors::live::Live,
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

    /// An agent may end a chat only once it has a tag (SPEC C9).
    pub fn require_tag(&self) -> bool {
        self.chat_settings.require_tag.load(Ordering::Relaxed)
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
