//! Every route × every kind of caller. Adding a route to `api_routes()` without a row here
//! fails `matrix_covers_every_route`.

use frontdesk::auth::{Role, Scope};
use frontdesk::http::routes::api_routes;
use reqwest::{Method, StatusCode};

use crate::helpers::*;

/// Who may call a route: anonymous, agent, supervisor, admin, metrics token, inbound token.
type Row = (&'static str, &'static str, [bool; 6]);

const PUBLIC: [bool; 6] = [true; 6];
const AGENT: [bool; 6] = [false, true, true, true, false, false];
const ADMIN: [bool; 6] = [false, false, false, true, false, false];
const SUPERVISOR: [bool; 6] = [false, false, true, true, false, false];
// Anonymous here means "from loopback without proxy headers".
const METRICS: [bool; 6] = [true, false, false, true, true, false];
const VISITOR: [bool; 6] = [false; 6];
/// The second sign-in step needs the challenge cookie of a right password, which no session or
/// token is (tests/api/totp.rs covers it).
const CHALLENGE: [bool; 6] = [false; 6];
// Mail forwarders: an inbound token (or an admin token, which no column here is).
const INBOUND: [bool; 6] = [false, false, false, false, false, true];
// Reports and exports: supervisors and admins, and scripts with a metrics (read-only) token.
const REPORTS: [bool; 6] = [false, false, true, true, true, false];

const MATRIX: &[Row] = &[
    ("GET", "/healthz", PUBLIC),
    ("GET", "/readyz", PUBLIC),
    ("GET", "/metrics", METRICS),
    ("GET", "/api/v1/setup", PUBLIC),
    ("POST", "/api/v1/setup", PUBLIC),
    ("POST", "/api/v1/auth/login", PUBLIC),
    ("POST", "/api/v1/auth/password-reset", PUBLIC),
    ("GET", "/api/v1/auth/reset", PUBLIC),
    ("POST", "/api/v1/auth/reset", PUBLIC),
    ("POST", "/api/v1/auth/totp", CHALLENGE),
    ("POST", "/api/v1/auth/totp/enrol", CHALLENGE),
    ("POST", "/api/v1/auth/totp/enrol/confirm", CHALLENGE),
    ("POST", "/api/v1/auth/logout", AGENT),
    ("GET", "/api/v1/me", AGENT),
    ("PATCH", "/api/v1/me", AGENT),
    ("POST", "/api/v1/me/password", AGENT),
    ("POST", "/api/v1/me/totp", AGENT),
    ("POST", "/api/v1/me/totp/confirm", AGENT),
    ("POST", "/api/v1/me/totp/disable", AGENT),
    ("POST", "/api/v1/me/totp/recovery-codes", AGENT),
    ("PUT", "/api/v1/me/status", AGENT),
    ("GET", "/api/v1/me/notifications", AGENT),
    ("PUT", "/api/v1/me/notifications", AGENT),
    ("GET", "/api/v1/agents", AGENT),
    ("POST", "/api/v1/agents", ADMIN),
    ("PUT", "/api/v1/agents/chat-limits", ADMIN),
    ("GET", "/api/v1/agents/{id}", AGENT),
    ("GET", "/api/v1/agents/{id}/status-history", SUPERVISOR),
    ("GET", "/api/v1/reports/chats", REPORTS),
    ("GET", "/api/v1/reports/tickets", REPORTS),
    ("GET", "/api/v1/reports/agents", REPORTS),
    ("GET", "/api/v1/reports/heatmap", REPORTS),
    ("GET", "/api/v1/reports/tags", REPORTS),
    ("GET", "/api/v1/exports/conversations", REPORTS),
    ("GET", "/api/v1/exports/tickets", REPORTS),
    ("GET", "/api/v1/monitor", SUPERVISOR),
    ("GET", "/api/v1/me/report-metrics", AGENT),
    ("PUT", "/api/v1/me/report-metrics", AGENT),
    ("GET", "/api/v1/settings/reports", SUPERVISOR),
    ("PATCH", "/api/v1/settings/reports", ADMIN),
    ("PATCH", "/api/v1/agents/{id}", ADMIN),
    ("POST", "/api/v1/agents/{id}/password", ADMIN),
    ("POST", "/api/v1/agents/{id}/invite", ADMIN),
    ("POST", "/api/v1/invitations", ADMIN),
    ("DELETE", "/api/v1/agents/{id}/totp", ADMIN),
    ("GET", "/api/v1/departments", AGENT),
    ("GET", "/api/v1/departments/overview", AGENT),
    ("POST", "/api/v1/departments", ADMIN),
    ("PATCH", "/api/v1/departments/{id}", ADMIN),
    ("DELETE", "/api/v1/departments/{id}", ADMIN),
    ("PUT", "/api/v1/departments/{id}/members", ADMIN),
    ("GET", "/api/v1/tokens", ADMIN),
    ("POST", "/api/v1/tokens", ADMIN),
    ("DELETE", "/api/v1/tokens/{id}", ADMIN),
    ("GET", "/api/v1/audit", ADMIN),
    ("GET", "/api/v1/settings/chat", AGENT),
    ("PATCH", "/api/v1/settings/chat", ADMIN),
    ("GET", "/api/v1/settings/mail", ADMIN),
    ("PATCH", "/api/v1/settings/mail", ADMIN),
    ("POST", "/api/v1/settings/mail/test", ADMIN),
    ("GET", "/api/v1/mail/outbox", ADMIN),
    ("POST", "/api/v1/mail/outbox/{id}/retry", AGENT),
    ("GET", "/api/v1/settings/security", ADMIN),
    ("GET", "/api/v1/onboarding", ADMIN),
    ("PATCH", "/api/v1/settings/security", ADMIN),
    ("GET", "/api/v1/settings/routing", AGENT),
    ("PATCH", "/api/v1/settings/routing", ADMIN),
    ("GET", "/api/v1/settings/widget", ADMIN),
    ("PUT", "/api/v1/settings/widget", ADMIN),
    ("DELETE", "/api/v1/settings/widget", ADMIN),
    ("GET", "/api/v1/settings/identity", ADMIN),
    ("POST", "/api/v1/settings/identity/rotate", ADMIN),
    ("GET", "/api/v1/conversations", AGENT),
    ("GET", "/api/v1/conversations/{id}", AGENT),
    ("GET", "/api/v1/conversations/{id}/messages", AGENT),
    ("PUT", "/api/v1/conversations/{id}/tags", AGENT),
    ("GET", "/api/v1/tags", AGENT),
    ("GET", "/api/v1/visitors/{id}", AGENT),
    // Agents ban visitors they may see (tests/api/bans_tags.rs); the ban list is for supervisors.
    ("POST", "/api/v1/bans", AGENT),
    ("GET", "/api/v1/bans", SUPERVISOR),
    ("DELETE", "/api/v1/bans/{id}", SUPERVISOR),
    ("GET", "/api/v1/visitors", AGENT),
    ("GET", "/api/v1/invitation-rules", ADMIN),
    ("POST", "/api/v1/invitation-rules", ADMIN),
    ("PATCH", "/api/v1/invitation-rules/{id}", ADMIN),
    ("DELETE", "/api/v1/invitation-rules/{id}", ADMIN),
    ("GET", "/api/v1/invitation-stats", SUPERVISOR),
    ("GET", "/api/v1/settings/visitors", AGENT),
    ("PUT", "/api/v1/settings/visitors", ADMIN),
    ("POST", "/api/v1/conversations/{id}/transcript", AGENT),
    // Needs a visitor's widget token.
    ("POST", "/api/v1/widget/transcript", VISITOR),
    ("POST", "/api/v1/uploads", AGENT),
    // Needs a visitor's widget token, which no staff credential is.
    ("POST", "/api/v1/widget/uploads", VISITOR),
    ("GET", "/files/{token}/{name}", PUBLIC),
    ("GET", "/ws/visitor", PUBLIC),
    ("GET", "/ws/agent", AGENT),
    ("GET", "/api/v1/team/rooms", AGENT),
    ("GET", "/api/v1/team/rooms/{id}/messages", AGENT),
    ("POST", "/api/v1/team/direct", AGENT),
    ("GET", "/api/v1/tickets", AGENT),
    ("POST", "/api/v1/tickets", AGENT),
    ("GET", "/api/v1/tickets/counts", AGENT),
    ("GET", "/api/v1/tickets/tags", AGENT),
    ("POST", "/api/v1/tickets/next", AGENT),
    ("GET", "/api/v1/tickets/{number}", AGENT),
    ("PATCH", "/api/v1/tickets/{number}", AGENT),
    ("POST", "/api/v1/tickets/{number}/reply", AGENT),
    ("POST", "/api/v1/tickets/{number}/notes", AGENT),
    ("POST", "/api/v1/tickets/{number}/customer-messages", AGENT),
    ("POST", "/api/v1/tickets/{number}/release", AGENT),
    ("POST", "/api/v1/tickets/{number}/transfer", AGENT),
    ("POST", "/api/v1/tickets/{number}/merge", AGENT),
    ("POST", "/api/v1/tickets/{number}/split", AGENT),
    ("POST", "/api/v1/conversations/{id}/ticket", AGENT),
    ("POST", "/api/v1/widget/offline", VISITOR),
    ("GET", "/api/v1/widget/tickets", VISITOR),
    ("GET", "/api/v1/widget/chats", VISITOR),
    ("POST", "/api/v1/widget/callback", VISITOR),
    ("GET", "/api/v1/widget/settings", PUBLIC),
    ("POST", "/api/v1/widget/rating", VISITOR),
    ("GET", "/api/v1/views", AGENT),
    ("POST", "/api/v1/views", AGENT),
    ("DELETE", "/api/v1/views/{id}", AGENT),
    ("GET", "/api/v1/canned", AGENT),
    ("POST", "/api/v1/canned", AGENT),
    ("PATCH", "/api/v1/canned/{id}", AGENT),
    ("DELETE", "/api/v1/canned/{id}", AGENT),
    ("GET", "/api/v1/contacts", AGENT),
    ("GET", "/api/v1/contacts/{id}", AGENT),
    ("PATCH", "/api/v1/contacts/{id}", AGENT),
    ("GET", "/api/v1/contacts/{id}/export", ADMIN),
    ("POST", "/api/v1/contacts/{id}/erase", ADMIN),
    ("GET", "/api/v1/settings/retention", ADMIN),
    ("PATCH", "/api/v1/settings/retention", ADMIN),
    ("GET", "/api/v1/backups", ADMIN),
    ("POST", "/api/v1/backups", ADMIN),
    ("GET", "/api/v1/webhooks", ADMIN),
    ("POST", "/api/v1/webhooks", ADMIN),
    ("GET", "/api/v1/webhooks/{id}", ADMIN),
    ("PATCH", "/api/v1/webhooks/{id}", ADMIN),
    ("DELETE", "/api/v1/webhooks/{id}", ADMIN),
    ("POST", "/api/v1/webhooks/{id}/secret", ADMIN),
    ("POST", "/api/v1/webhooks/{id}/test", ADMIN),
    ("GET", "/api/v1/webhooks/{id}/deliveries", ADMIN),
    ("POST", "/api/v1/contacts/{id}/notes", AGENT),
    ("POST", "/api/v1/inbound/mime", INBOUND),
    ("POST", "/api/v1/settings/imap/check", ADMIN),
];

#[test]
fn matrix_covers_every_route() {
    let mut served: Vec<(String, &str)> = api_routes().iter().map(|r| (r.method.to_string(), r.path)).collect();
    let mut listed: Vec<(String, &str)> = MATRIX.iter().map(|(m, p, _)| (m.to_string(), *p)).collect();
    served.sort();
    listed.sort();
    let missing: Vec<_> = served.iter().filter(|r| !listed.contains(r)).collect();
    let stale: Vec<_> = listed.iter().filter(|r| !served.contains(r)).collect();
    assert!(missing.is_empty(), "routes without a matrix row: {missing:?}");
    assert!(stale.is_empty(), "matrix rows for routes that no longer exist: {stale:?}");
}

#[actix_web::test]
async fn every_route_allows_exactly_its_callers() {
    let app = spawn_app().await;
    let agent = app.add_agent("agent@shop.example", Role::Agent).await;
    let supervisor = app.add_agent("super@shop.example", Role::Supervisor).await;
    let admin = app.add_agent("admin@shop.example", Role::Admin).await;
    let metrics_token = app.api_token(Scope::Metrics).await;
    let inbound_token = app.api_token(Scope::Inbound).await;
    let callers = ["anonymous", "agent", "supervisor", "admin", "metrics token", "inbound token"];

    for (method, path, allowed) in MATRIX {
        for (i, caller) in callers.iter().enumerate() {
            // Agent routes point at a real agent; other ids at nothing, so deleting routes
            // cannot remove the tokens and departments this test relies on.
            let id = if path.starts_with("/api/v1/agents/") { agent.to_string() } else { "999999".into() };
            let path = &path.replace("{number}", "999999");
            // Fresh sessions per request: some routes (logout) end the caller's session.
            let mut rb = app
                .plain()
                .request(Method::from_bytes(method.as_bytes()).unwrap(), app.url(&path.replace("{id}", &id)))
                .header("origin", &app.address);
            rb = match i {
                1 => rb.header("cookie", app.cookie_header(&app.session_for(agent).await)),
                2 => rb.header("cookie", app.cookie_header(&app.session_for(supervisor).await)),
                3 => rb.header("cookie", app.cookie_header(&app.session_for(admin).await)),
                4 => rb.bearer_auth(&metrics_token),
                5 => rb.bearer_auth(&inbound_token),
                _ => rb,
            };
            if *method != "GET" {
                rb = rb.json(&serde_json::json!({}));
            }
            let status = rb.send().await.unwrap().status();
            if let Err(why) = verdict(status, allowed[i]) {
                panic!("{method} {path} as {caller}: {why}");
            }
        }
    }
}

/// Whether `status` is the right answer for a caller who is (or is not) allowed. A 5xx is
/// never right: "allowed" means the handler ran and answered (2xx, 3xx, or a 4xx about the
/// request itself), not that it fell over after the access check let the caller through.
fn verdict(status: StatusCode, allowed: bool) -> Result<(), String> {
    if status.is_server_error() {
        return Err(format!("server error {status}"));
    }
    let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
    match (allowed, refused) {
        (true, true) => Err(format!("expected access, got {status}")),
        (false, false) => Err(format!("expected 401 or 403, got {status}")),
        _ => Ok(()),
    }
}

#[test]
fn server_errors_fail_the_matrix() {
    for s in [500, 502, 503] {
        let s = StatusCode::from_u16(s).unwrap();
        assert!(verdict(s, true).is_err(), "{s} must not count as allowed");
        assert!(verdict(s, false).is_err(), "{s} must not count as refused");
    }
    assert!(verdict(StatusCode::OK, true).is_ok());
    assert!(verdict(StatusCode::NOT_FOUND, true).is_ok());
    assert!(verdict(StatusCode::UNAUTHORIZED, true).is_err());
    assert!(verdict(StatusCode::FORBIDDEN, false).is_ok());
    assert!(verdict(StatusCode::OK, false).is_err());
}
