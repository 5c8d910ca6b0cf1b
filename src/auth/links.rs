//! One-time links that let an agent choose a password, sent by mail (SPEC A2, E2): invitations
//! (an admin invites by email; valid 7 days) and password resets (anyone asks with an email
//! address; valid 1 hour). The link is `PUBLIC_URL/reset#token=…`: the token rides in the
//! fragment, so it never reaches server or proxy logs nor a Referer. Only its SHA-256 is
//! stored; a link works once, and a newer link of the same kind replaces older ones.

use actix_web::{HttpRequest, HttpResponse, web};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;

use super::{Principal, store, token_hash};
use crate::agents::{self, Agent};
use crate::audit::Actor;
use crate::error::{AppError, Kind};
use crate::state::AppState;

type Data = web::Data<AppState>;

pub const INVITATION: &str = "invitation";
pub const PASSWORD_RESET: &str = "password_reset";
pub const INVITATION_DAYS: i64 = 7;
pub const RESET_MINUTES: i64 = 60;
/// At most one reset mail per agent per this long (a flood of requests sends one mail).
const RESET_SPACING_MS: i64 = 60_000;

fn expired() -> AppError {
    AppError::new(Kind::LinkExpired, "this link is invalid, has expired or was already used; ask for a new one")
}

fn host_of(state: &AppState) -> String {
    state.public_url.host_str().unwrap_or("localhost").to_string()
}

/// Make a link for the agent; returns the URL to mail.
pub fn issue(c: &Connection, agent_id: i64, kind: &str, public_url: &url::Url, now: i64) -> Result<String, AppError> {
    let token = super::new_secret_token();
    let ttl = if kind == INVITATION { INVITATION_DAYS * 86_400_000 } else { RESET_MINUTES * 60_000 };
    store::create_link(c, agent_id, kind, &token_hash(&token), now, now + ttl)?;
    Ok(format!("{}reset#token={token}", public_url.as_str()))
}

/// The agent a valid link belongs to, with the link's id and kind.
fn valid(c: &Connection, token: &str, now: i64) -> Result<(i64, String, Agent), AppError> {
    if token.is_empty() || token.len() > 128 {
        return Err(expired());
    }
    let (id, agent_id, kind, expires_at, used_at) = store::find_link(c, &token_hash(token))?.ok_or_else(expired)?;
    if used_at.is_some() || expires_at <= now {
        return Err(expired());
    }
    let agent = agents::store::get(c, agent_id)?.filter(|a| !a.disabled).ok_or_else(expired)?;
    Ok((id, kind, agent))
}

/// `POST /api/v1/invitations` — an admin invites someone by email: the agent is created
/// without a password and the invitation goes out in the same transaction. 201 with the agent.
pub async fn invite_new(state: Data, p: Principal, body: web::Json<agents::Invitee>) -> Result<HttpResponse, AppError> {
    let (new, actor, now, url, host) = (body.into_inner(), Actor::from(&p), state.now(), state.public_url.clone(), host_of(&state));
    let inviter = p.name.clone();
    let (agent, outbox_id) = state
        .db
        .write(move |c| {
            let agent = agents::create_invited(c, &new, &actor, now)?;
            let link = issue(c, agent.id, INVITATION, &url, now)?;
            let id = crate::mail::kinds::invitation(c, &agent, &inviter, &link, INVITATION_DAYS, &host, now)?;
            Ok((agent, id))
        })
        .await?;
    state.mail.wake();
    let mut v = serde_json::to_value(agent).map_err(|e| AppError::internal(e.to_string()))?;
    v["outbox_id"] = outbox_id.into();
    Ok(HttpResponse::Created().json(v))
}

/// `POST /api/v1/agents/{id}/invite` — send the invitation again (a new link; older ones stop
/// working). Only for agents who have not chosen a password yet (409 otherwise).
pub async fn reinvite(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, actor, now, url, host) = (path.into_inner(), Actor::from(&p), state.now(), state.public_url.clone(), host_of(&state));
    let inviter = p.name.clone();
    let outbox_id = state
        .db
        .write(move |c| {
            let agent = agents::store::get(c, id)?.ok_or_else(|| AppError::not_found("agent"))?;
            if agent.disabled {
                return Err(AppError::conflict("this agent is disabled; enable them first"));
            }
            if agents::store::password_hash(c, id)?.is_some() {
                return Err(AppError::conflict("this agent already has a password; they can use \"Forgot password\""));
            }
            let link = issue(c, id, INVITATION, &url, now)?;
            crate::audit::store::record(c, now, &actor, "agent.invite", Some(&agent.email), None)?;
            crate::mail::kinds::invitation(c, &agent, &inviter, &link, INVITATION_DAYS, &host, now)
        })
        .await?;
    state.mail.wake();
    Ok(HttpResponse::Accepted().json(json!({"outbox_id": outbox_id})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    email: String,
}

/// `POST /api/v1/auth/password-reset` `{"email"}` — always 200 `{"ok":true}`, whether or not
/// the address has an account (the answer reveals nothing). An enabled agent gets a link,
/// at most one mail a minute. Counted like a login attempt per IP.
pub async fn request_reset(state: Data, req: HttpRequest, body: web::Json<ResetRequest>) -> Result<HttpResponse, AppError> {
    let email = super::normalize_email(&body.into_inner().email);
    if email.len() > 254 {
        return Err(AppError::invalid("email: too long"));
    }
    let ip = state.client_ip(&req).map(|i| i.to_string()).unwrap_or_default();
    let now = state.now();
    state.login_ip.take(&ip, now).map_err(AppError::rate_limited)?;
    let (url, host) = (state.public_url.clone(), host_of(&state));
    let queued = state
        .db
        .write(move |c| {
            let Some(agent) = agents::store::find_by_email(c, &email)?.filter(|a| !a.disabled) else { return Ok(false) };
            if store::last_link_at(c, agent.id, PASSWORD_RESET)?.is_some_and(|at| now - at < RESET_SPACING_MS) {
                return Ok(false);
            }
            let link = issue(c, agent.id, PASSWORD_RESET, &url, now)?;
            crate::mail::kinds::password_reset(c, &agent, &link, RESET_MINUTES, &host, now)?;
            Ok(true)
        })
        .await?;
    if queued {
        state.mail.wake();
    }
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkQuery {
    token: String,
}

/// `GET /api/v1/auth/reset?token=` — whether a link still works, and for whom: 200
/// `{"kind","email","name"}`, or 410 `link_expired`.
pub async fn check(state: Data, q: web::Query<LinkQuery>) -> Result<HttpResponse, AppError> {
    let (token, now) = (q.into_inner().token, state.now());
    let (_, kind, agent) = state.db.read(move |c| valid(c, &token, now)).await?;
    Ok(HttpResponse::Ok().json(json!({"kind": kind, "email": agent.email, "name": agent.name})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    token: String,
    password: String,
}

/// `POST /api/v1/auth/reset` `{"token","password"}` — use the link: the password is set, the
/// agent's sessions end, the link stops working. 200 `{"email"}` (sign in next); 410
/// `link_expired` for a link that is unknown, expired or used.
pub async fn reset(state: Data, body: web::Json<ResetBody>) -> Result<HttpResponse, AppError> {
    let ResetBody { token, password } = body.into_inner();
    super::validate_password(&password)?;
    let now = state.now();
    let t = token.clone();
    // Refuse a dead link before spending a hash on it.
    state.db.read(move |c| valid(c, &t, now)).await?;
    let hash = state.hasher.hash(password).await?;
    let email = state
        .db
        .write(move |c| {
            let (id, kind, agent) = valid(c, &token, now)?;
            if !store::use_link(c, id, now)? {
                return Err(expired());
            }
            let actor = Actor { agent_id: Some(agent.id), label: format!("{kind} link") };
            agents::set_password(c, agent.id, &hash, None, &actor, now)?;
            Ok(agent.email)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"email": email})))
}
