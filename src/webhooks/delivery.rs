//! The delivery worker: claims due outbox rows, signs and POSTs them, records the answer,
//! retries with exponential backoff, and switches a webhook off once a delivery has used up
//! its attempts (audited; the console shows why).
//!
//! SSRF: the HTTP client resolves names through [`VettingResolver`], which refuses a host
//! when any of its addresses is not public and hands the vetted addresses to the connector
//! (so the address checked is the address connected to: no DNS rebinding in between). IP
//! literals never reach a resolver and are checked before each request. Redirects are not
//! followed by the client; each `Location` goes through the same checks as a fresh URL.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;

use super::{MAX_ATTEMPTS, PING, backoff_ms, signature, ssrf, store};
use crate::audit::{self, Actor};
use crate::db::Db;
use crate::error::AppError;
use crate::state::AppState;

/// How long a claimed delivery stays claimed (longer than one attempt with its redirects).
const LEASE_MS: i64 = 120_000;
const MAX_REDIRECTS: usize = 5;
const BATCH: u32 = 32;
const PARALLEL: usize = 4;
/// How often the worker looks for due deliveries while any webhook is enabled.
const POLL: Duration = Duration::from_millis(500);

/// Which addresses deliveries may reach.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// `webhook_allow_private`: any address.
    pub allow_private: bool,
    /// Addresses treated as public anyway (tests: a local receiver standing in for a public
    /// site, so that a redirect from it to a private address can be seen refused).
    pub trusted: Vec<IpAddr>,
}

impl Reach {
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private || ssrf::is_public(ip) || self.trusted.contains(&ip)
    }

    /// Refuse an IP-literal host this reach does not permit, or a name that always means this
    /// machine; other names are vetted by the resolver when connecting.
    pub fn check_url(&self, u: &url::Url) -> Result<(), String> {
        let ip = match u.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) if self.allow_private => return Ok(()),
            Some(url::Host::Domain(_)) => return ssrf::check_literal_host(u),
            None => return Err("no host".into()),
        };
        if self.permits(ip) { Ok(()) } else { Err(format!("{ip} is not a public address")) }
    }
}

/// The HTTP client and switches, built once in `startup`.
pub struct Runtime {
    client: reqwest::Client,
    reach: Arc<Reach>,
    pub allow_private: bool,
    /// Whether any webhook is enabled; the worker sleeps without touching the database when not.
    active: AtomicBool,
}

impl Runtime {
    pub fn new(allow_private: bool) -> Result<Runtime, AppError> {
        Self::with_reach(Reach { allow_private, trusted: Vec::new() })
    }

    pub fn with_reach(reach: Reach) -> Result<Runtime, AppError> {
        let reach = Arc::new(reach);
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(VettingResolver { reach: reach.clone() }))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(1)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("frontdesk-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AppError::internal(format!("webhook HTTP client: {e}")))?;
        Ok(Runtime { client, allow_private: reach.allow_private, reach, active: AtomicBool::new(false) })
    }

    /// Re-read whether any webhook is enabled (after start and after every change).
    pub async fn refresh(&self, db: &Db) -> Result<(), AppError> {
        let any = db.read(store::any_enabled).await?;
        self.active.store(any, Ordering::Relaxed);
        Ok(())
    }

    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }
}

struct VettingResolver {
    reach: Arc<Reach>,
}

impl reqwest::dns::Resolve for VettingResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let reach = self.reach.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if let Some(bad) = addrs.iter().find(|a| !reach.permits(a.ip())) {
                return Err(format!("{host} resolves to {}, which is not a public address", bad.ip()).into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// What one attempt came to.
#[derive(Debug)]
pub enum Outcome {
    Delivered(u16),
    Failed { status: Option<u16>, error: String },
}

/// POST `body` to `url` (following up to five redirects, each vetted), signed for unix second `t`.
pub async fn send(rt: &Runtime, url: &str, secret: &str, event: &str, delivery_id: i64, body: &str, t: i64) -> Outcome {
    let failed = |status: Option<u16>, error: String| Outcome::Failed { status, error };
    let mut url = match url::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return failed(None, format!("invalid URL: {e}")),
    };
    let sig = signature(secret, t, body);
    for _hop in 0..=MAX_REDIRECTS {
        if url.scheme() != "http" && url.scheme() != "https" {
            return failed(None, format!("refused redirect to a {} URL", url.scheme()));
        }
        if let Err(e) = rt.reach.check_url(&url) {
            return failed(None, format!("refused {}: {e}", url.host_str().unwrap_or("")));
        }
        let res = rt
            .client
            .post(url.clone())
            .header("content-type", "application/json")
            .header("x-frontdesk-signature", &sig)
            .header("x-frontdesk-event", event)
            .header("x-frontdesk-delivery", delivery_id.to_string())
            .body(body.to_string())
            .send()
            .await;
        let res = match res {
            Ok(r) => r,
            Err(e) => return failed(None, error_chain(&e)),
        };
        let status = res.status();
        if status.is_redirection() {
            let Some(loc) = res.headers().get("location").and_then(|v| v.to_str().ok()) else {
                return failed(Some(status.as_u16()), format!("HTTP {} without a Location", status.as_u16()));
            };
            url = match url.join(loc) {
                Ok(u) => u,
                Err(e) => return failed(Some(status.as_u16()), format!("bad redirect Location: {e}")),
            };
            continue;
        }
        // Read (and bound) the answer so the connection can be reused; its content is ignored.
        let _ = tokio::time::timeout(Duration::from_secs(5), res.bytes()).await;
        return if status.is_success() {
            Outcome::Delivered(status.as_u16())
        } else {
            failed(Some(status.as_u16()), format!("HTTP {}", status.as_u16()))
        };
    }
    failed(None, format!("more than {MAX_REDIRECTS} redirects"))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        cur = s.source();
    }
    out.chars().take(500).collect()
}

/// Send every due delivery (up to one batch). Returns how many were attempted.
pub async fn run_due(state: &AppState) -> Result<usize, AppError> {
    let now = state.now();
    let due = state.db.write(move |c| store::claim_due(c, now, LEASE_MS, BATCH, None)).await?;
    let n = due.len();
    futures_util::stream::iter(due).map(|d| attempt(state, d)).buffer_unordered(PARALLEL).collect::<Vec<_>>().await;
    Ok(n)
}

/// Send one delivery now, whatever its schedule ("send test"). Returns None when it was
/// already claimed elsewhere or is not pending.
pub async fn send_now(state: &AppState, delivery_id: i64) -> Result<Option<Outcome>, AppError> {
    let now = state.now();
    let mut due = state.db.write(move |c| store::claim_due(c, now, LEASE_MS, 1, Some(delivery_id))).await?;
    match due.pop() {
        Some(d) => Ok(Some(attempt(state, d).await)),
        None => Ok(None),
    }
}

async fn attempt(state: &AppState, d: store::Due) -> Outcome {
    let event = d.event.clone();
    let t = state.now().div_euclid(1000);
    let outcome = send(&state.webhooks, &d.url, &d.secret, &event, d.id, &d.body, t).await;
    let now = state.now();
    let (id, webhook_id, attempts) = (d.id, d.webhook_id, d.attempts);
    let result = match &outcome {
        Outcome::Delivered(status) => {
            let status = *status;
            state.db.write(move |c| store::mark_delivered(c, id, status, now)).await.map(|_| false)
        }
        Outcome::Failed { status, error } => {
            let (status, error) = (*status, error.clone());
            let ping = event == PING;
            let give_up = ping || attempts >= MAX_ATTEMPTS;
            let retry_at = (!give_up).then(|| now + backoff_ms(attempts));
            tracing::info!(delivery = id, webhook = webhook_id, attempts, error = %error, "webhook delivery failed");
            state
                .db
                .write(move |c| {
                    store::mark_failed(c, id, status, &error, retry_at)?;
                    if give_up && !ping {
                        let reason = format!("a delivery failed {attempts} times; last error: {error}");
                        if store::disable(c, webhook_id, &reason, now)? {
                            let actor = Actor { agent_id: None, label: "system".into() };
                            let details = serde_json::json!({"reason": reason, "delivery": id});
                            audit::store::record(
                                c,
                                now,
                                &actor,
                                "webhook.disabled",
                                Some(&format!("webhook:{webhook_id}")),
                                Some(&details),
                            )?;
                            return Ok(true);
                        }
                    }
                    Ok(false)
                })
                .await
        }
    };
    match result {
        Ok(true) => {
            tracing::warn!(webhook = webhook_id, "webhook switched off after repeated delivery failures");
            if let Err(e) = state.webhooks.refresh(&state.db).await {
                tracing::warn!(error = %e, "re-reading webhooks failed");
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, delivery = id, "recording a webhook attempt failed"),
    }
    outcome
}

/// The worker task: while any webhook is enabled, send what is due every [`POLL`].
pub async fn run(state: actix_web::web::Data<AppState>) {
    if let Err(e) = state.webhooks.refresh(&state.db).await {
        tracing::warn!(error = %e, "reading webhooks failed");
    }
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !state.webhooks.active() {
            continue;
        }
        loop {
            match run_due(&state).await {
                // A full batch: more may be waiting.
                Ok(n) if n as u32 == BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook delivery round failed");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::dns::Resolve;

    #[tokio::test]
    async fn the_resolver_refuses_names_of_private_addresses() {
        let strict = VettingResolver { reach: Arc::new(Reach::default()) };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = strict.resolve(name).await.err().expect("localhost is refused");
        assert!(err.to_string().contains("not a public address"), "{err}");
        let open = VettingResolver { reach: Arc::new(Reach { allow_private: true, trusted: vec![] }) };
        let addrs: Vec<SocketAddr> = open.resolve("localhost".parse().unwrap()).await.expect("allowed").collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }

    #[test]
    fn reach_checks_literals() {
        let strict = Reach::default();
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert!(strict.check_url(&u("http://127.0.0.1/")).is_err());
        assert!(strict.check_url(&u("http://[::ffff:10.0.0.1]/")).is_err());
        assert!(strict.check_url(&u("http://localhost/")).is_err());
        assert!(strict.check_url(&u("https://93.184.216.34/")).is_ok());
        let trusted = Reach { allow_private: false, trusted: vec!["127.0.0.1".parse().unwrap()] };
        assert!(trusted.check_url(&u("http://127.0.0.1:9/")).is_ok());
        assert!(trusted.check_url(&u("http://127.0.0.2:9/")).is_err());
        assert!(Reach { allow_private: true, trusted: vec![] }.check_url(&u("http://localhost/")).is_ok());
    }
}
