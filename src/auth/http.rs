//! Setup, login/logout, the caller's own profile, and API tokens.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{Credential, Principal, Role, Scope, normalize_email, store};
use crate::agents::{self, NewAgent};
use crate::audit::{self, Actor};
use crate::error::{AppError, Kind};
use crate::settings;
use crate::state::AppState;

type Data = web::Data<AppState>;

fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(state.cookie_name(), value)
        .path("/")
        .http_only(true)
        .secure(state.https())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(state.config.session_max.as_secs() as i64))
        .finish()
}

fn clear_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, String::new());
    c.make_removal();
    c
}

/// Create a session row and restore the status the agent last chose (SPEC C2), in one
/// transaction; returns the cookie that carries the session and the agent as it now is. Every
/// sign-in ends here: straight after the password, or after the second factor passed.
pub(super) async fn new_session(
    state: &AppState,
    req: &HttpRequest,
    agent: agents::Agent,
) -> Result<(Cookie<'static>, agents::Agent), AppError> {
    let token = super::new_secret_token();
    let hash = super::token_hash(&token);
    let now = state.now();
    let expires = now + state.config.session_max.as_millis() as i64;
    let ip = state.client_ip(req).map(|i| i.to_string()).unwrap_or_default();
    let ua = crate::http::user_agent(req);
    let agent_id = agent.id;
    let (changed, agent) = state
        .db
        .write(move |c| {
            store::create_session(c, agent_id, &hash, now, expires, &ip, &ua)?;
            let changed = crate::routing::ops::restore_on_login(c, agent_id, now)?;
            Ok((changed, agents::store::get(c, agent_id)?.unwrap_or(agent)))
        })
        .await?;
    if changed.is_some() {
        crate::routing::live::publish_status(state, agent_id, agent.status).await;
    }
    Ok((session_cookie(state, token), agent))
}

/// Create a session row and the answer carrying its cookie.
async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    agent: agents::Agent,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, AppError> {
    let (cookie, agent) = new_session(state, req, agent).await?;
    Ok(HttpResponse::build(status).cookie(cookie).json(agent))
}

pub async fn setup_status(state: Data) -> Result<HttpResponse, AppError> {
    let has_admin = state.db.read(agents::store::any_admin).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"needed": !has_admin})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupBody {
    token: String,
    email: String,
    name: String,
    password: String,
    #[serde(default)]
    locale: Option<String>,
}

/// Creates the first admin with the one-time token printed by `serve`.
///
/// Nothing here hashes before it knows the hash can be used: once an admin exists the answer
/// is 409 straight away, and a wrong token is refused (and counted) before the password is
/// hashed. Each attempt reserves its place in the per-IP login window first, so a burst of
/// simultaneous guesses is limited like a sequence of them.
pub async fn setup(state: Data, req: HttpRequest, body: web::Json<SetupBody>) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let new = NewAgent {
        email: body.email,
        name: body.name,
        role: Role::Admin,
        password: body.password,
        chat_limit: None,
        department_ids: vec![],
        locale: body.locale,
    };
    let already_done = || AppError::conflict("setup is already done; sign in instead");
    let wrong_token = || AppError::forbidden("the setup link is wrong or was already used");
    let presented = hex::encode(super::token_hash(&body.token));
    let (has_admin, expected) =
        state.db.read(|c| Ok((agents::store::any_admin(c)?, settings::store::get(c, settings::SETUP_TOKEN_HASH)?))).await?;
    if has_admin {
        return Err(already_done());
    }
    new.validate()?;
    let ip = state.client_ip(&req).map(|i| i.to_string()).unwrap_or_default();
    // Guessing the setup token is a login attempt like any other.
    let now = state.now();
    state.login_ip.take(&ip, now).map_err(AppError::rate_limited)?;
    if !token_matches(expected, &presented) {
        return Err(wrong_token());
    }
    let result = async {
        let hash = state.hasher.hash(new.password.clone()).await?;
        state
            .db
            .write(move |c| {
                if agents::store::any_admin(c)? {
                    return Err(already_done());
                }
                // Checked again in the transaction: a concurrent setup may have used it.
                if !token_matches(settings::store::get(c, settings::SETUP_TOKEN_HASH)?, &presented) {
                    return Err(wrong_token());
                }
                let actor = Actor { agent_id: None, label: "setup".into() };
                let agent = agents::create(c, &new, &hash, &actor, now)?;
                settings::store::delete(c, settings::SETUP_TOKEN_HASH)?;
                Ok(agent)
            })
            .await
    }
    .await;
    // Only a wrong token counts against the IP; anything else gives the reservation back.
    if !matches!(&result, Err(e) if e.kind == Kind::Forbidden) {
        state.login_ip.release(&ip, now);
    }
    let agent = result?;
    tracing::info!(email = %agent.email, "first admin created through the setup page");
    start_session(&state, &req, agent, actix_web::http::StatusCode::CREATED).await
}

fn token_matches(expected: Option<String>, presented: &str) -> bool {
    expected.is_some_and(|e| constant_time_eq(e.as_bytes(), presented.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

pub async fn login(state: Data, req: HttpRequest, body: web::Json<LoginBody>) -> Result<HttpResponse, AppError> {
    use std::sync::atomic::Ordering::Relaxed;
    let LoginBody { email, password } = body.into_inner();
    if email.len() > 254 || password.len() > 4 * super::MAX_PASSWORD {
        return Err(AppError::new(Kind::InvalidCredentials, "wrong email or password"));
    }
    let email = normalize_email(&email);
    let ip = state.client_ip(&req).map(|i| i.to_string()).unwrap_or_default();
    let now = state.now();
    // Reserve this attempt's place in both windows before the (slow) hash, in one step per
    // limiter: simultaneous guesses cannot all pass a check that only counts after hashing.
    // A refused attempt takes nothing; a successful login gives both places back.
    let reserved =
        state.login_ip.take(&ip, now).and_then(|_| state.login_account.take(&email, now).inspect_err(|_| state.login_ip.release(&ip, now)));
    if let Err(wait) = reserved {
        state.metrics.logins_limited.fetch_add(1, Relaxed);
        return Err(AppError::rate_limited(wait));
    }
    let lookup = email.clone();
    let creds = state.db.read(move |c| agents::store::credentials(c, &lookup)).await?;
    let (id, phc, disabled) = match creds {
        Some((id, phc, disabled)) => (Some(id), phc, disabled),
        None => (None, None, false),
    };
    // Always hashed, and a disabled account answers exactly like a wrong password whether or
    // not the password is right: neither the answer nor its timing confirms the password.
    let ok = state.hasher.verify(password, phc).await?;
    let Some(id) = id.filter(|_| ok && !disabled) else {
        state.metrics.logins_failed.fetch_add(1, Relaxed);
        tracing::info!(%ip, disabled, "failed login");
        return Err(AppError::new(Kind::InvalidCredentials, "wrong email or password"));
    };
    state.login_ip.release(&ip, now);
    state.login_account.release(&email, now);
    let (agent, required) = state.db.read(move |c| Ok((agents::store::get(c, id)?, super::totp::Requirement::load(c)?))).await?;
    let agent = agent.ok_or_else(|| AppError::not_found("agent"))?;
    // With a second factor (or one required and not yet set up), the right password only opens
    // the second step; its own attempts count against the same two windows.
    if agent.totp_enabled || required.applies_to(agent.role) {
        return super::totp_http::open_second_step(&state, &agent, now).await;
    }
    state.metrics.logins_ok.fetch_add(1, Relaxed);
    start_session(&state, &req, agent, actix_web::http::StatusCode::OK).await
}

pub async fn logout(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    if let Credential::Session { session_id } = p.credential {
        let (agent_id, now) = (p.agent_id()?, state.now());
        // Logging out takes the agent offline (SPEC C2), with its history row.
        let changed = state
            .db
            .write(move |c| {
                store::delete_session(c, session_id)?;
                crate::routing::ops::set_status(
                    c,
                    agent_id,
                    crate::routing::AgentStatus::Offline,
                    crate::routing::StatusReason::SessionEnd,
                    now,
                )
            })
            .await?;
        // That session's console socket closes now (the agent's other sessions stay open).
        state.hub.agent_changed(agent_id).await;
        if changed.is_some() {
            crate::routing::live::publish_status(&state, agent_id, crate::routing::AgentStatus::Offline).await;
        }
    }
    Ok(HttpResponse::NoContent().cookie(clear_cookie(&state)).finish())
}

/// The caller's own agent record, plus whether the admin requires a second factor of them
/// (`GET` and `PATCH /api/v1/me`).
#[derive(serde::Serialize)]
struct Me {
    #[serde(flatten)]
    agent: agents::Agent,
    totp_required: bool,
    /// Gets the daily summary mail (SPEC E6; off: opted out in the profile).
    daily_summary: bool,
}

pub async fn me(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let (agent, required, daily_summary) = state
        .db
        .read(move |c| Ok((agents::store::get(c, id)?, super::totp::Requirement::load(c)?, crate::reports::store::daily_opted_in(c, id)?)))
        .await?;
    let agent = agent.ok_or_else(|| AppError::not_found("agent"))?;
    let totp_required = required.applies_to(agent.role);
    Ok(HttpResponse::Ok().json(Me { agent, totp_required, daily_summary }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeBody {
    name: Option<String>,
    locale: Option<String>,
    daily_summary: Option<bool>,
}

/// Own profile: name, UI language, the daily summary mail. Not an admin action, so not audited.
pub async fn update_me(state: Data, p: Principal, body: web::Json<MeBody>) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let MeBody { name, locale, daily_summary } = body.into_inner();
    let name = name.as_deref().map(agents::validate_name).transpose()?;
    if let Some(l) = &locale {
        agents::validate_locale(l)?;
    }
    let now = state.now();
    let agent = state
        .db
        .write(move |c| {
            agents::store::update_fields(c, id, name.as_deref(), None, None, None, locale.as_deref(), now)?;
            if let Some(on) = daily_summary {
                crate::reports::store::daily_set_opted_in(c, id, on)?;
            }
            let agent = agents::store::get(c, id)?.ok_or_else(|| AppError::not_found("agent"))?;
            let totp_required = super::totp::Requirement::load(c)?.applies_to(agent.role);
            let daily_summary = crate::reports::store::daily_opted_in(c, id)?;
            Ok(Me { agent, totp_required, daily_summary })
        })
        .await?;
    Ok(HttpResponse::Ok().json(agent))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Change one's own password; every other session of the agent ends.
pub async fn change_password(state: Data, p: Principal, body: web::Json<PasswordChange>) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let PasswordChange { current_password, new_password } = body.into_inner();
    super::validate_password(&new_password)?;
    let phc = state.db.read(move |c| agents::store::password_hash(c, id)).await?;
    if !state.hasher.verify(current_password, phc).await? {
        return Err(AppError::invalid("current_password: wrong password"));
    }
    let hash = state.hasher.hash(new_password).await?;
    let keep = match p.credential {
        Credential::Session { session_id } => Some(session_id),
        Credential::Token { .. } => None,
    };
    let actor = Actor::from(&p);
    let now = state.now();
    state.db.write(move |c| agents::set_password(c, id, &hash, keep, &actor, now)).await?;
    // The other sessions ended: their sockets close now.
    state.hub.agent_changed(id).await;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn list_tokens(state: Data) -> Result<HttpResponse, AppError> {
    let items = state.db.read(store::list_tokens).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    scope: Scope,
}

pub async fn create_token(state: Data, p: Principal, body: web::Json<NewToken>) -> Result<HttpResponse, AppError> {
    let NewToken { name, scope } = body.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    let (id, name, token) = state.db.write(move |c| create_token_tx(c, &name, scope, &actor, now)).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"id": id, "name": name, "scope": scope, "token": token})))
}

/// Shared by the API and `frontdesk token create`: returns (id, name, the token in clear).
pub fn create_token_tx(
    c: &rusqlite::Connection,
    name: &str,
    scope: Scope,
    actor: &Actor,
    now: i64,
) -> Result<(i64, String, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(AppError::invalid("name: 1 to 80 characters"));
    }
    let token = super::new_api_token();
    let id = store::create_token(c, name, scope, &super::token_hash(&token), actor.agent_id, now)?;
    let details = serde_json::json!({"scope": scope});
    audit::store::record(c, now, actor, "token.create", Some(name), Some(&details))?;
    Ok((id, name.to_string(), token))
}

pub async fn delete_token(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    state
        .db
        .write(move |c| {
            if !store::delete_token(c, id)? {
                return Err(AppError::not_found("token"));
            }
            audit::store::record(c, now, &actor, "token.delete", Some(&id.to_string()), None)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
