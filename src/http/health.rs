//! Liveness, readiness and Prometheus metrics.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::state::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// Ready when the database answers; it was opened and migrated before the listener started.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.db.read(crate::db::ping).await {
        Ok(_) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(_) => HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable"})),
    }
}

pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (agents, sessions) =
        state.db.read(|c| Ok((crate::agents::store::count_enabled(c)?, crate::auth::store::count_sessions(c)?))).await?;
    let hub = state.hub.stats().await;
    let m = &state.metrics;
    let w = state.db.write_stats();
    let mut out = String::with_capacity(2048);
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    let classes: Vec<(String, f64)> =
        (0..5).map(|i| (format!("{{class=\"{}xx\"}}", i + 1), m.responses[i].load(Ordering::Relaxed) as f64)).collect();
    let class_refs: Vec<(&str, f64)> = classes.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    metric("frontdesk_http_responses_total", "counter", "HTTP responses by status class", &class_refs);
    metric(
        "frontdesk_logins_total",
        "counter",
        "Login attempts by outcome",
        &[
            ("{outcome=\"ok\"}", m.logins_ok.load(Ordering::Relaxed) as f64),
            ("{outcome=\"failed\"}", m.logins_failed.load(Ordering::Relaxed) as f64),
            ("{outcome=\"rate_limited\"}", m.logins_limited.load(Ordering::Relaxed) as f64),
        ],
    );
    metric("frontdesk_db_write_jobs_total", "counter", "Write jobs committed", &[("", w.jobs as f64)]);
    metric("frontdesk_db_write_batches_total", "counter", "Write transactions committed", &[("", w.batches as f64)]);
    metric("frontdesk_db_failed_commits_total", "counter", "Write transactions that failed", &[("", w.failed_commits as f64)]);
    metric("frontdesk_agents_enabled", "gauge", "Enabled agents", &[("", agents as f64)]);
    metric("frontdesk_sessions", "gauge", "Stored console sessions", &[("", sessions as f64)]);
    metric("frontdesk_sockets", "gauge", "Open WebSockets", &[("", hub.sockets as f64)]);
    metric("frontdesk_agents_online", "gauge", "Agents with an open console", &[("", hub.agents_online as f64)]);
    metric("frontdesk_visitors_online", "gauge", "Visitors with an open widget", &[("", hub.visitors_online as f64)]);
    metric("frontdesk_sockets_dropped_slow_total", "counter", "Sockets dropped for falling behind", &[("", hub.dropped_slow as f64)]);
    metric("frontdesk_uptime_seconds", "gauge", "Seconds since start", &[("", state.started_at.elapsed().as_secs_f64())]);
    if let Some(rss) = resident_bytes() {
        metric("frontdesk_process_resident_bytes", "gauge", "Resident memory", &[("", rss as f64)]);
    }
    // A histogram by hand: cumulative buckets, then sum and count.
    let _ = writeln!(
        out,
        "# HELP frontdesk_db_commit_seconds Time each write transaction took to commit (the fsync)\n# TYPE frontdesk_db_commit_seconds histogram"
    );
    let mut cumulative = 0;
    for (le, n) in crate::db::COMMIT_BUCKETS.iter().zip(w.commit_buckets) {
        cumulative += n;
        let le = if le.is_infinite() { "+Inf".to_string() } else { le.to_string() };
        let _ = writeln!(out, "frontdesk_db_commit_seconds_bucket{{le=\"{le}\"}} {cumulative}");
    }
    let _ = writeln!(out, "frontdesk_db_commit_seconds_sum {}\nfrontdesk_db_commit_seconds_count {cumulative}", w.commit_seconds);
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(out))
}

/// Resident set size from /proc (Linux); None elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * page.max(0) as u64)
}
