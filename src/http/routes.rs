//! The route table: every HTTP route with the least access it needs, in one place.
//!
//! Routes are mounted only from this table, and the access middleware enforces the table's
//! entry before a handler runs, so a handler cannot forget its check. A route that reaches the
//! middleware without an entry is refused (fail closed). `tests/api/route_matrix.rs` holds the
//! expected outcome for every route × role and fails when a route is added without one.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::state;
use crate::auth::policy::origin_allowed;
use crate::auth::{self, Credential, Principal, Role, Scope};
use crate::error::{AppError, Kind};
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone; non-GET requests still get the Origin check when they carry one.
    Public,
    /// A signed-in agent (or admin API token) with at least this role.
    Role(Role),
    /// An API token of exactly this scope (or `admin`).
    Scope(Scope),
    /// Loopback without proxy headers, an admin session, or a token of scope metrics/admin.
    Metrics,
    /// Read-only figures: a signed-in supervisor or admin, or a token of scope metrics/admin
    /// (the reports and exports for scripts).
    Reports,
}

pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    mount: fn(&mut web::ServiceConfig),
}

macro_rules! route {
    ($method:ident $path:literal, $access:expr, $handler:path) => {
        ApiRoute {
            method: Method::$method,
            path: $path,
            access: $access,
            mount: |cfg| {
                cfg.route($path, web::method(Method::$method).to($handler));
            },
        }
    };
}

/// Every route of the server except the static web assets.
pub fn api_routes() -> Vec<ApiRoute> {
    use crate::{
        agents, audit, backups, bans, canned, chat, contacts, departments, gdpr, inbound, mail, reports, retention, routing, settings,
        tags, teamchat, tickets, visitors, webhooks, widget,
    };
    use Access::{Metrics, Public, Role as R};
    use Role::{Admin, Agent, Supervisor};
    vec![
        route!(GET "/healthz", Public, super::health::healthz),
        route!(GET "/readyz", Public, super::health::readyz),
        route!(GET "/metrics", Metrics, super::health::metrics),
        route!(GET "/api/v1/setup", Public, auth::http::setup_status),
        route!(POST "/api/v1/setup", Public, auth::http::setup),
        route!(POST "/api/v1/auth/login", Public, auth::http::login),
        route!(POST "/api/v1/auth/password-reset", Public, auth::links::request_reset),
        route!(GET "/api/v1/auth/reset", Public, auth::links::check),
        route!(POST "/api/v1/auth/reset", Public, auth::links::reset),
        route!(POST "/api/v1/auth/totp", Public, auth::totp_http::second_step),
        route!(POST "/api/v1/auth/totp/enrol", Public, auth::totp_http::enrol_begin),
        route!(POST "/api/v1/auth/totp/enrol/confirm", Public, auth::totp_http::enrol_confirm),
        route!(POST "/api/v1/auth/logout", R(Agent), auth::http::logout),
        route!(GET "/api/v1/me", R(Agent), auth::http::me),
        route!(PATCH "/api/v1/me", R(Agent), auth::http::update_me),
        route!(POST "/api/v1/me/password", R(Agent), auth::http::change_password),
        route!(POST "/api/v1/me/totp", R(Agent), auth::totp_http::me_begin),
        route!(POST "/api/v1/me/totp/confirm", R(Agent), auth::totp_http::me_confirm),
        route!(POST "/api/v1/me/totp/disable", R(Agent), auth::totp_http::me_disable),
        route!(POST "/api/v1/me/totp/recovery-codes", R(Agent), auth::totp_http::me_recovery_codes),
        route!(PUT "/api/v1/me/status", R(Agent), routing::http::put_status),
        route!(GET "/api/v1/me/notifications", R(Agent), agents::http::get_notify),
        route!(PUT "/api/v1/me/notifications", R(Agent), agents::http::put_notify),
        route!(GET "/api/v1/agents", R(Agent), agents::http::list),
        route!(POST "/api/v1/agents", R(Admin), agents::http::create),
        route!(PUT "/api/v1/agents/chat-limits", R(Admin), routing::http::put_chat_limits),
        route!(GET "/api/v1/agents/{id}", R(Agent), agents::http::get),
        route!(GET "/api/v1/agents/{id}/status-history", R(Supervisor), routing::http::status_history),
        route!(GET "/api/v1/reports/chats", Access::Reports, reports::http::chats),
        route!(GET "/api/v1/reports/tickets", Access::Reports, reports::http::tickets),
        route!(GET "/api/v1/reports/agents", Access::Reports, reports::http::agents),
        route!(GET "/api/v1/reports/heatmap", Access::Reports, reports::http::heatmap),
        route!(GET "/api/v1/reports/tags", Access::Reports, reports::http::tags),
        route!(GET "/api/v1/exports/conversations", Access::Reports, reports::http::export_conversations),
        route!(GET "/api/v1/exports/tickets", Access::Reports, reports::http::export_tickets),
        route!(GET "/api/v1/monitor", R(Supervisor), reports::http::monitor),
        route!(GET "/api/v1/me/report-metrics", R(Agent), reports::http::get_metrics),
        route!(PUT "/api/v1/me/report-metrics", R(Agent), reports::http::put_metrics),
        route!(GET "/api/v1/settings/reports", R(Supervisor), reports::http::get_settings),
        route!(PATCH "/api/v1/settings/reports", R(Admin), reports::http::patch_settings),
        route!(PATCH "/api/v1/agents/{id}", R(Admin), agents::http::update),
        route!(POST "/api/v1/agents/{id}/password", R(Admin), agents::http::set_password),
        route!(POST "/api/v1/agents/{id}/invite", R(Admin), auth::links::reinvite),
        route!(POST "/api/v1/invitations", R(Admin), auth::links::invite_new),
        route!(DELETE "/api/v1/agents/{id}/totp", R(Admin), auth::totp_http::reset),
        route!(GET "/api/v1/departments", R(Agent), departments::http::list),
        route!(GET "/api/v1/departments/overview", R(Agent), departments::http::overview),
        route!(POST "/api/v1/departments", R(Admin), departments::http::create),
        route!(PATCH "/api/v1/departments/{id}", R(Admin), departments::http::update),
        route!(DELETE "/api/v1/departments/{id}", R(Admin), departments::http::delete),
        route!(PUT "/api/v1/departments/{id}/members", R(Admin), departments::http::set_members),
        route!(GET "/api/v1/tokens", R(Admin), auth::http::list_tokens),
        route!(POST "/api/v1/tokens", R(Admin), auth::http::create_token),
        route!(DELETE "/api/v1/tokens/{id}", R(Admin), auth::http::delete_token),
        route!(GET "/api/v1/audit", R(Admin), audit::http::list),
        route!(GET "/api/v1/settings/chat", R(Agent), settings::http::get_chat),
        route!(PATCH "/api/v1/settings/chat", R(Admin), settings::http::update_chat),
        route!(GET "/api/v1/settings/mail", R(Admin), mail::http::get_settings),
        route!(PATCH "/api/v1/settings/mail", R(Admin), mail::http::update_settings),
        route!(POST "/api/v1/settings/mail/test", R(Admin), mail::http::test),
        route!(GET "/api/v1/mail/outbox", R(Admin), mail::http::outbox),
        route!(POST "/api/v1/mail/outbox/{id}/retry", R(Agent), mail::http::retry),
        route!(GET "/api/v1/settings/security", R(Admin), auth::totp_http::get_security),
        route!(GET "/api/v1/onboarding", R(Admin), settings::http::onboarding),
        route!(PATCH "/api/v1/settings/security", R(Admin), auth::totp_http::update_security),
        route!(GET "/api/v1/settings/routing", R(Agent), routing::http::get_settings),
        route!(GET "/api/v1/settings/widget", R(Admin), widget::http::get),
        route!(PUT "/api/v1/settings/widget", R(Admin), widget::http::put),
        route!(DELETE "/api/v1/settings/widget", R(Admin), widget::http::delete),
        route!(GET "/api/v1/settings/identity", R(Admin), widget::http::get_identity),
        route!(POST "/api/v1/settings/identity/rotate", R(Admin), widget::http::rotate_identity),
        route!(PATCH "/api/v1/settings/routing", R(Admin), routing::http::patch_settings),
        route!(GET "/api/v1/conversations", R(Agent), chat::http::list),
        route!(GET "/api/v1/conversations/{id}", R(Agent), chat::http::get),
        route!(GET "/api/v1/conversations/{id}/messages", R(Agent), chat::http::messages),
        route!(PUT "/api/v1/conversations/{id}/tags", R(Agent), chat::http::set_tags),
        route!(GET "/api/v1/tags", R(Agent), tags::http::list),
        route!(GET "/api/v1/visitors/{id}", R(Agent), chat::http::visitor),
        route!(POST "/api/v1/bans", R(Agent), bans::http::create),
        route!(GET "/api/v1/bans", R(Supervisor), bans::http::list),
        route!(DELETE "/api/v1/bans/{id}", R(Supervisor), bans::http::delete),
        route!(GET "/api/v1/visitors", R(Agent), visitors::http::list),
        route!(GET "/api/v1/invitation-rules", R(Admin), visitors::http::rules),
        route!(POST "/api/v1/invitation-rules", R(Admin), visitors::http::create_rule),
        route!(PATCH "/api/v1/invitation-rules/{id}", R(Admin), visitors::http::update_rule),
        route!(DELETE "/api/v1/invitation-rules/{id}", R(Admin), visitors::http::delete_rule),
        route!(GET "/api/v1/invitation-stats", R(Supervisor), visitors::http::stats),
        route!(GET "/api/v1/settings/visitors", R(Agent), visitors::http::get_settings),
        route!(PUT "/api/v1/settings/visitors", R(Admin), visitors::http::put_settings),
        route!(POST "/api/v1/conversations/{id}/transcript", R(Agent), mail::http::transcript_by_agent),
        route!(POST "/api/v1/widget/transcript", Public, mail::http::transcript_by_visitor),
        route!(POST "/api/v1/uploads", R(Agent), chat::files::upload_agent),
        route!(POST "/api/v1/widget/uploads", Public, chat::files::upload_visitor),
        route!(GET "/files/{token}/{name}", Public, chat::files::download),
        route!(GET "/ws/visitor", Public, chat::visitor_ws::upgrade),
        route!(GET "/ws/agent", R(Agent), chat::agent_ws::upgrade),
        route!(GET "/api/v1/team/rooms", R(Agent), teamchat::http::rooms),
        route!(GET "/api/v1/team/rooms/{id}/messages", R(Agent), teamchat::http::messages),
        route!(POST "/api/v1/team/direct", R(Agent), teamchat::http::direct),
        route!(GET "/api/v1/tickets", R(Agent), tickets::http::list),
        route!(POST "/api/v1/tickets", R(Agent), tickets::http::create),
        route!(GET "/api/v1/tickets/counts", R(Agent), tickets::http::counts),
        route!(GET "/api/v1/tickets/tags", R(Agent), tickets::http::tags),
        route!(POST "/api/v1/tickets/next", R(Agent), tickets::http::next),
        route!(GET "/api/v1/tickets/{number}", R(Agent), tickets::http::get),
        route!(PATCH "/api/v1/tickets/{number}", R(Agent), tickets::http::update),
        route!(POST "/api/v1/tickets/{number}/reply", R(Agent), tickets::http::reply),
        route!(POST "/api/v1/tickets/{number}/notes", R(Agent), tickets::http::note),
        route!(POST "/api/v1/tickets/{number}/customer-messages", R(Agent), tickets::http::customer_message),
        route!(POST "/api/v1/tickets/{number}/release", R(Agent), tickets::http::release),
        route!(POST "/api/v1/tickets/{number}/transfer", R(Agent), tickets::http::transfer),
        route!(POST "/api/v1/tickets/{number}/merge", R(Agent), tickets::http::merge),
        route!(POST "/api/v1/tickets/{number}/split", R(Agent), tickets::http::split),
        route!(POST "/api/v1/conversations/{id}/ticket", R(Agent), tickets::http::from_conversation),
        route!(POST "/api/v1/widget/offline", Public, tickets::widget::offline),
        route!(GET "/api/v1/widget/tickets", Public, tickets::widget::tickets),
        route!(GET "/api/v1/widget/chats", Public, chat::http::widget_chats),
        route!(POST "/api/v1/widget/callback", Public, routing::http::callback),
        route!(GET "/api/v1/widget/settings", Public, widget::http::public),
        route!(POST "/api/v1/widget/rating", Public, widget::http::rate),
        route!(GET "/api/v1/views", R(Agent), tickets::views::list),
        route!(POST "/api/v1/views", R(Agent), tickets::views::create),
        route!(DELETE "/api/v1/views/{id}", R(Agent), tickets::views::delete),
        route!(GET "/api/v1/canned", R(Agent), canned::http::list),
        route!(POST "/api/v1/canned", R(Agent), canned::http::create),
        route!(PATCH "/api/v1/canned/{id}", R(Agent), canned::http::update),
        route!(DELETE "/api/v1/canned/{id}", R(Agent), canned::http::delete),
        route!(GET "/api/v1/contacts", R(Agent), contacts::http::list),
        route!(GET "/api/v1/contacts/{id}", R(Agent), contacts::http::get),
        route!(PATCH "/api/v1/contacts/{id}", R(Agent), contacts::http::update),
        route!(GET "/api/v1/contacts/{id}/export", R(Admin), gdpr::http::export),
        route!(POST "/api/v1/contacts/{id}/erase", R(Admin), gdpr::http::erase),
        route!(GET "/api/v1/settings/retention", R(Admin), retention::http::get),
        route!(PATCH "/api/v1/settings/retention", R(Admin), retention::http::update),
        route!(GET "/api/v1/backups", R(Admin), backups::http::list),
        route!(POST "/api/v1/backups", R(Admin), backups::http::create),
        route!(GET "/api/v1/webhooks", R(Admin), webhooks::http::list),
        route!(POST "/api/v1/webhooks", R(Admin), webhooks::http::create),
        route!(GET "/api/v1/webhooks/{id}", R(Admin), webhooks::http::get),
        route!(PATCH "/api/v1/webhooks/{id}", R(Admin), webhooks::http::update),
        route!(DELETE "/api/v1/webhooks/{id}", R(Admin), webhooks::http::delete),
        route!(POST "/api/v1/webhooks/{id}/secret", R(Admin), webhooks::http::rotate_secret),
        route!(POST "/api/v1/webhooks/{id}/test", R(Admin), webhooks::http::test),
        route!(GET "/api/v1/webhooks/{id}/deliveries", R(Admin), webhooks::http::deliveries),
        route!(POST "/api/v1/contacts/{id}/notes", R(Agent), visitors::http::add_note),
        route!(POST "/api/v1/inbound/mime", Access::Scope(Scope::Inbound), inbound::http::mime_message),
        route!(POST "/api/v1/settings/imap/check", R(Admin), inbound::http::check),
    ]
}

pub fn mount(cfg: &mut web::ServiceConfig, routes: &[ApiRoute]) {
    for r in routes {
        (r.mount)(cfg);
    }
}

/// Whether the path belongs to the API namespace (never answered by the SPA fallback).
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/api" || path.starts_with("/ws/") || path == "/ws"
}

/// The policy table in registration order, with each path compiled for matching. Built once
/// in `startup` and registered as its own app data next to `AppState`.
pub struct Policies {
    entries: Vec<(Method, &'static str, actix_web::dev::ResourceDef, Access)>,
}

impl Policies {
    pub fn new(routes: &[ApiRoute]) -> Policies {
        Policies {
            entries: routes.iter().map(|r| (r.method.clone(), r.path, actix_web::dev::ResourceDef::new(r.path), r.access)).collect(),
        }
    }

    /// The access of the first route (in mount order, as the router picks) matching method
    /// and path; `Err(true)` when the path exists with other methods only.
    fn lookup(&self, method: &Method, path: &str) -> Result<Access, bool> {
        let mut path_known = false;
        for (m, _, def, access) in &self.entries {
            if def.is_match(path) {
                if m == method || (*method == Method::HEAD && *m == Method::GET) {
                    return Ok(*access);
                }
                path_known = true;
            }
        }
        Err(path_known)
    }

    pub fn knows_pattern(&self, pattern: &str) -> bool {
        self.entries.iter().any(|(_, p, _, _)| *p == pattern)
    }

    pub fn path_known(&self, path: &str) -> bool {
        self.entries.iter().any(|(_, _, def, _)| def.is_match(path))
    }
}

pub async fn enforce(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let st = state(&req);
    let policies = req.app_data::<web::Data<Policies>>().cloned().expect("Policies are registered");
    let access = match policies.lookup(req.method(), req.path()) {
        Ok(a) => a,
        Err(true) => return Ok(req.error_response(AppError::new(Kind::MethodNotAllowed, "method not allowed on this path"))),
        Err(false) => {
            // Fail closed: a route mounted outside the table never runs unchecked.
            if let Some(pattern) = req.match_pattern()
                && (is_api_path(&pattern) || pattern.starts_with("/files") || pattern == "/metrics")
                && !policies.knows_pattern(&pattern)
            {
                tracing::error!(%pattern, "route has no access policy; refusing");
                return Ok(req.error_response(AppError::internal(format!("route {pattern} has no access policy"))));
            }
            return Ok(next.call(req).await?.map_into_boxed_body());
        }
    };
    match check(&req, &st, access).await {
        Ok(principal) => {
            if let Some(p) = principal {
                req.extensions_mut().insert(p);
            }
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Err(e) => Ok(req.error_response(e)),
    }
}

async fn check(req: &ServiceRequest, st: &AppState, access: Access) -> Result<Option<Principal>, AppError> {
    let bearer = bearer_token(req)?;
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let has_cookie = req.cookie(st.cookie_name()).is_some();
    // CSRF defence: a browser always sends Origin on cross-site non-GET requests.
    if unsafe_method && bearer.is_none() {
        match req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) if origin_allowed(st, origin, req.connection_info().host()) => {}
            Some(_) => return Err(AppError::new(Kind::BadOrigin, "request Origin is not this server")),
            None if has_cookie => {
                return Err(AppError::new(Kind::BadOrigin, "cookie-authenticated requests must carry an Origin header"));
            }
            None => {}
        }
    }
    if access == Access::Public {
        return Ok(None);
    }
    if access == Access::Metrics && bearer.is_none() && !has_cookie && is_direct_loopback(req) {
        return Ok(None);
    }
    let principal = authenticate(req, st, bearer).await?.ok_or_else(AppError::unauthenticated)?;
    let allowed = match access {
        Access::Public => true,
        Access::Role(r) => principal.has_role(r),
        Access::Scope(s) => matches!(principal.credential, Credential::Token { scope, .. } if scope == s || scope == Scope::Admin),
        Access::Metrics => principal.is_admin() || matches!(principal.credential, Credential::Token { scope: Scope::Metrics, .. }),
        Access::Reports => {
            principal.has_role(Role::Supervisor) || matches!(principal.credential, Credential::Token { scope: Scope::Metrics, .. })
        }
    };
    if !allowed {
        return Err(AppError::forbidden("your role or token scope does not allow this"));
    }
    Ok(Some(principal))
}

fn bearer_token(req: &ServiceRequest) -> Result<Option<String>, AppError> {
    let Some(h) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let h = h.to_str().map_err(|_| AppError::unauthenticated())?;
    match h.strip_prefix("Bearer ") {
        Some(t) if !t.trim().is_empty() => Ok(Some(t.trim().to_string())),
        _ => Err(AppError::new(Kind::Unauthenticated, "Authorization must be 'Bearer <token>'")),
    }
}

fn is_direct_loopback(req: &ServiceRequest) -> bool {
    let proxied = req.headers().contains_key("x-forwarded-for") || req.headers().contains_key(header::FORWARDED);
    !proxied && req.peer_addr().is_some_and(|a| a.ip().is_loopback())
}

/// Resolve the caller from a bearer token or the session cookie. Expired sessions are
/// deleted on sight; active ones get `last_seen_at` bumped at most once a minute.
async fn authenticate(req: &ServiceRequest, st: &AppState, bearer: Option<String>) -> Result<Option<Principal>, AppError> {
    let now = st.now();
    if let Some(token) = bearer {
        let hash = auth::token_hash(&token);
        let row = st.db.read(move |c| auth::store::find_token(c, &hash)).await?;
        let Some(t) = row else { return Err(AppError::new(Kind::Unauthenticated, "unknown or revoked API token")) };
        if t.last_used_at.is_none_or(|at| now - at > 60_000) {
            let db = st.db.clone();
            actix_web::rt::spawn(async move { db.write(move |c| auth::store::touch_token(c, t.id, now)).await });
        }
        return Ok(Some(Principal {
            agent_id: None,
            role: (t.scope == Scope::Admin).then_some(Role::Admin),
            label: format!("token:{} {}", t.id, t.name),
            name: t.name.clone(),
            credential: Credential::Token { token_id: t.id, scope: t.scope },
        }));
    }
    let Some(cookie) = req.cookie(st.cookie_name()) else { return Ok(None) };
    let hash = auth::token_hash(cookie.value());
    let Some(s) = st.db.read(move |c| auth::store::find_session(c, &hash)).await? else { return Ok(None) };
    let idle_ms = st.config.session_idle.as_millis() as i64;
    if s.disabled || now >= s.expires_at || now - s.last_seen_at >= idle_ms {
        let db = st.db.clone();
        actix_web::rt::spawn(async move { db.write(move |c| auth::store::delete_session(c, s.session_id)).await });
        return Ok(None);
    }
    if now - s.last_seen_at > 60_000 {
        let db = st.db.clone();
        actix_web::rt::spawn(async move { db.write(move |c| auth::store::touch_session(c, s.session_id, now)).await });
    }
    Ok(Some(Principal {
        agent_id: Some(s.agent_id),
        role: Some(s.role),
        label: format!("agent:{} {}", s.agent_id, s.email),
        name: s.name,
        credential: Credential::Session { session_id: s.session_id },
    }))
}
