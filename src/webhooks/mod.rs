//! Signed webhooks (SPEC §1, A2): admin-registered URLs receive JSON events.
//!
//! **The outbox rule.** A domain operation that causes an event calls [`enqueue`] inside its
//! own write job, so the delivery rows commit together with the change (or not at all), as
//! outgoing mail does. The [`delivery`] worker then signs and POSTs due rows, retries with
//! exponential backoff and switches a webhook off when a delivery ran out of attempts.
//!
//! Signature: `X-Frontdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
//! with the webhook's own secret (docs/api.md has verification code).

pub mod delivery;
pub mod events;
pub mod http;
pub mod ssrf;
pub mod store;

use rusqlite::Connection;
use serde::Serialize;

use crate::error::AppError;

/// Every event a webhook can subscribe to. `ping` is sent only by "send test".
pub const EVENTS: &[&str] = &[
    "conversation.started",
    "conversation.ended",
    "message.created",
    "ticket.created",
    "ticket.updated",
    "ticket.replied",
    "contact.created",
    "rating.created",
];

pub const PING: &str = "ping";

/// Attempts per delivery before it is given up (and its webhook switched off).
pub const MAX_ATTEMPTS: i64 = 10;
/// The first retry waits this long; each further one twice as long, up to [`MAX_BACKOFF_MS`].
pub const FIRST_BACKOFF_MS: i64 = 30_000;
pub const MAX_BACKOFF_MS: i64 = 6 * 3_600_000;

/// Wait before attempt `attempts + 1`, after `attempts` failed ones: 30 s, 1 min, 2 min, …, 6 h.
pub fn backoff_ms(attempts: i64) -> i64 {
    let shift = (attempts.max(1) - 1).min(20) as u32;
    FIRST_BACKOFF_MS.saturating_mul(1i64 << shift).min(MAX_BACKOFF_MS)
}

#[derive(Serialize, Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Serialize, Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// Record `event` for every enabled webhook that subscribed to it, inside the caller's write
/// transaction. The body is built once: `{"id","event","created_at","data"}` (`created_at` in
/// ms). Costs one indexed query when nobody listens.
pub fn enqueue(c: &Connection, event: &str, data: serde_json::Value, now: i64) -> Result<(), AppError> {
    debug_assert!(EVENTS.contains(&event), "unknown webhook event {event}");
    if !store::anyone_listens(c, event)? {
        return Ok(());
    }
    let body = event_body(event, data, now);
    store::insert_deliveries(c, event, &body, now, None)?;
    Ok(())
}

pub fn event_body(event: &str, data: serde_json::Value, now: i64) -> String {
    let id = format!("evt_{}", hex::encode(crate::auth::random_bytes::<12>()));
    serde_json::json!({"id": id, "event": event, "created_at": now, "data": data}).to_string()
}

/// The `X-Frontdesk-Signature` value for `body` sent at unix second `t`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(ctx.sign().as_ref()))
}

/// A fresh secret for a new webhook: `whsec_` + 32 random bytes in hex.
pub fn new_secret() -> String {
    format!("whsec_{}", hex::encode(crate::auth::random_bytes::<32>()))
}

/// Validate a webhook URL: absolute http(s), a host, no credentials, at most 2,000 characters;
/// an IP-literal or `localhost` target must be public unless private targets are allowed
/// (host names are checked again on every delivery, after resolving).
pub fn validate_url(raw: &str, allow_private: bool) -> Result<url::Url, AppError> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().count() > 2000 {
        return Err(AppError::invalid("url: 1 to 2000 characters"));
    }
    let u = url::Url::parse(raw).map_err(|e| AppError::invalid(format!("url: not a URL ({e})")))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(AppError::invalid("url: must start with http:// or https://"));
    }
    if u.host().is_none() {
        return Err(AppError::invalid("url: has no host"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(AppError::invalid("url: must not carry a user name or password"));
    }
    if !allow_private {
        ssrf::check_literal_host(&u).map_err(|e| AppError::invalid(format!("url: {e}")))?;
    }
    Ok(u)
}

/// Known, deduplicated, at least one.
pub fn validate_events(events: &[String]) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if !EVENTS.contains(&e.as_str()) {
            return Err(AppError::invalid(format!("events: unknown event {e:?} (known: {})", EVENTS.join(", "))));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    if out.is_empty() {
        return Err(AppError::invalid("events: choose at least one event"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        let s = signature("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert!(s.starts_with("t=1700000000,v1="));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"whsec_test");
        let tag = hex::decode(s.split("v1=").nth(1).unwrap()).unwrap();
        ring::hmac::verify(&key, br#"1700000000.{"a":1}"#, &tag).unwrap();
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(3), 120_000);
        assert_eq!(backoff_ms(40), MAX_BACKOFF_MS);
    }

    #[test]
    fn urls_and_events_are_validated() {
        for bad in [
            "",
            "ftp://x.example",
            "https://",
            "https://u:p@x.example/",
            "not a url",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://localhost:9/",
        ] {
            assert!(validate_url(bad, false).is_err(), "{bad}");
        }
        assert!(validate_url("http://127.0.0.1:9/hook", true).is_ok());
        assert!(validate_url("https://hooks.example.com/x?y=1", false).is_ok());
        assert!(validate_events(&[]).is_err());
        assert!(validate_events(&["nope".into()]).is_err());
        assert_eq!(validate_events(&["ticket.created".into(), "ticket.created".into()]).unwrap(), ["ticket.created"]);
    }
}
