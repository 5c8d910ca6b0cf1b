//! Two-factor endpoints: the second sign-in step (and enrolment when an admin requires it),
//! the agent's own enrolment, an admin's reset, and the admin's requirement setting.

use std::sync::atomic::Ordering::Relaxed;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::totp::{self, Answer, Attempt, Requirement};
use super::{Principal, normalize_email};
use crate::agents;
use crate::audit::{self, Actor};
use crate::error::{AppError, Kind};
use crate::settings;
use crate::state::AppState;

type Data = web::Data<AppState>;

fn challenge_cookie_name(state: &AppState) -> &'static str {
    if state.https() { "__Host-frontdesk_2fa" } else { "frontdesk_2fa" }
}

fn challenge_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(challenge_cookie_name(state), value)
        .path("/")
        .http_only(true)
        .secure(state.https())
        // Only ever sent by this server's own pages.
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::milliseconds(totp::CHALLENGE_TTL_MS))
        .finish()
}

fn clear_challenge_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = challenge_cookie(state, String::new());
    c.make_removal();
    c
}

fn expired() -> AppError {
    AppError::new(Kind::Unauthenticated, "the sign-in step expired or was used up; enter your password again")
}

/// The right password of an agent who has (or must set up) a second factor: no session yet,
/// only a short-lived challenge cookie for the next step.
pub(super) async fn open_second_step(state: &AppState, agent: &agents::Agent, now: i64) -> Result<HttpResponse, AppError> {
    let purpose = if agent.totp_enabled { "code" } else { "enrol" };
    let id = agent.id;
    let token = state.db.write(move |c| totp::open_challenge(c, id, purpose, now)).await?;
    let next = if agent.totp_enabled { "totp" } else { "enrol" };
    Ok(HttpResponse::Ok()
        .cookie(challenge_cookie(state, token))
        .json(serde_json::json!({"second_factor": next, "expires_at": now + totp::CHALLENGE_TTL_MS})))
}

/// The challenge cookie of a request. Only pages of this server send it (SameSite=Strict); a
/// request without an Origin is refused as well, as the session routes do.
fn challenge_token(state: &AppState, req: &HttpRequest) -> Result<String, AppError> {
    if !req.headers().contains_key(header::ORIGIN) {
        return Err(AppError::new(Kind::BadOrigin, "the sign-in steps must carry an Origin header"));
    }
    req.cookie(challenge_cookie_name(state)).map(|c| c.value().to_string()).filter(|v| !v.is_empty()).ok_or_else(expired)
}

/// One answer to a challenge, counted like a login attempt: a place in the per-IP and
/// per-account windows is reserved before the code is checked and given back on success.
async fn answer(state: &AppState, req: &HttpRequest, purpose: &'static str, answer: Answer) -> Result<HttpResponse, AppError> {
    // Without a challenge nothing else matters: the caller needs the password step first.
    let token = challenge_token(state, req)?;
    answer.validate()?;
    let now = state.now();
    let ip = state.client_ip(req).map(|i| i.to_string()).unwrap_or_default();
    let lookup = token.clone();
    let email = state
        .db
        .read(move |c| match totp::find_challenge(c, &lookup, now)? {
            Some(ch) => Ok(agents::store::get(c, ch.agent_id)?.map(|a| normalize_email(&a.email))),
            None => Ok(None),
        })
        .await?
        .ok_or_else(expired)?;
    let reserved =
        state.login_ip.take(&ip, now).and_then(|_| state.login_account.take(&email, now).inspect_err(|_| state.login_ip.release(&ip, now)));
    if let Err(wait) = reserved {
        state.metrics.logins_limited.fetch_add(1, Relaxed);
        return Err(AppError::rate_limited(wait));
    }
    let outcome = state.db.write(move |c| totp::attempt(c, &token, purpose, &answer, now)).await?;
    match outcome {
        Attempt::Passed { agent_id, recovery_codes } => {
            state.login_ip.release(&ip, now);
            state.login_account.release(&email, now);
            state.metrics.logins_ok.fetch_add(1, Relaxed);
            let agent = state.db.read(move |c| agents::store::get(c, agent_id)).await?.ok_or_else(|| AppError::not_found("agent"))?;
            // The session starts, and the agent's status comes back, only now.
            let (session, agent) = super::http::new_session(state, req, agent).await?;
            let mut res = HttpResponse::Ok();
            res.cookie(session).cookie(clear_challenge_cookie(state));
            Ok(match recovery_codes {
                Some(codes) => res.json(serde_json::json!({"agent": agent, "recovery_codes": codes})),
                None => res.json(agent),
            })
        }
        Attempt::Wrong => {
            state.metrics.logins_failed.fetch_add(1, Relaxed);
            tracing::info!(%ip, "wrong second-factor code");
            Err(AppError::new(Kind::InvalidCredentials, "wrong or already used code"))
        }
        Attempt::Expired => Err(expired()),
    }
}

/// `POST /api/v1/auth/totp` — the second step: `{"code"}` or `{"recovery_code"}`.
pub async fn second_step(state: Data, req: HttpRequest, body: web::Json<Answer>) -> Result<HttpResponse, AppError> {
    answer(&state, &req, "code", body.into_inner()).await
}

/// `POST /api/v1/auth/totp/enrol` — 2FA is required and not set up: a secret and its QR code.
pub async fn enrol_begin(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let token = challenge_token(&state, &req)?;
    let now = state.now();
    let enrolment = state
        .db
        .write(move |c| match totp::find_challenge(c, &token, now)? {
            Some(ch) if ch.purpose == "enrol" => totp::begin(c, ch.agent_id, now),
            _ => Err(expired()),
        })
        .await?;
    Ok(HttpResponse::Ok().json(enrolment))
}

/// `POST /api/v1/auth/totp/enrol/confirm` — `{"code"}`, the first code from the app: the second
/// factor is on, the session starts, and the ten recovery codes come back this once.
pub async fn enrol_confirm(state: Data, req: HttpRequest, body: web::Json<Answer>) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    if body.recovery_code.is_some() {
        challenge_token(&state, &req)?;
        return Err(AppError::invalid("recovery_code: not accepted while enrolling; send the app's code"));
    }
    answer(&state, &req, "enrol", body).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST /api/v1/me/totp` — start enrolling from the profile page.
pub async fn me_begin(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let now = state.now();
    let enrolment = state.db.write(move |c| totp::begin(c, id, now)).await?;
    Ok(HttpResponse::Ok().json(enrolment))
}

/// `POST /api/v1/me/totp/confirm` — `{"code"}` from the app; answers the recovery codes.
pub async fn me_confirm(state: Data, p: Principal, body: web::Json<CodeBody>) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let code = body.into_inner().code;
    if code.len() > 20 {
        return Err(AppError::invalid("code: too long"));
    }
    let (actor, now) = (Actor::from(&p), state.now());
    let codes = state.db.write(move |c| totp::confirm(c, id, &code, &actor, now)).await?;
    let codes = codes.ok_or_else(|| AppError::invalid("code: wrong code; check that the phone's clock is right and try the next one"))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"recovery_codes": codes})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

async fn check_own_password(state: &AppState, id: i64, password: String) -> Result<(), AppError> {
    if password.len() > 4 * super::MAX_PASSWORD {
        return Err(AppError::invalid("password: wrong password"));
    }
    let phc = state.db.read(move |c| agents::store::password_hash(c, id)).await?;
    if !state.hasher.verify(password, phc).await? {
        return Err(AppError::invalid("password: wrong password"));
    }
    Ok(())
}

/// `POST /api/v1/me/totp/disable` — `{"password"}`; refused while required for the role.
pub async fn me_disable(state: Data, p: Principal, body: web::Json<PasswordBody>) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    check_own_password(&state, id, body.into_inner().password).await?;
    let (actor, now) = (Actor::from(&p), state.now());
    state.db.write(move |c| totp::disable_own(c, id, &actor, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/me/totp/recovery-codes` — `{"password"}`: ten new codes, the old ones void.
pub async fn me_recovery_codes(state: Data, p: Principal, body: web::Json<PasswordBody>) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    check_own_password(&state, id, body.into_inner().password).await?;
    let (actor, now) = (Actor::from(&p), state.now());
    let codes = state.db.write(move |c| totp::regenerate_recovery_codes(c, id, &actor, now)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"recovery_codes": codes})))
}

/// `DELETE /api/v1/agents/{id}/totp` — an admin removes an agent's second factor (audited).
pub async fn reset(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (actor, now) = (Actor::from(&p), state.now());
    let agent = state.db.write(move |c| totp::reset(c, id, &actor, now)).await?;
    Ok(HttpResponse::Ok().json(agent))
}

fn security_json(r: Requirement) -> serde_json::Value {
    serde_json::json!({"require_2fa": r})
}

/// `GET /api/v1/settings/security`
pub async fn get_security(state: Data) -> Result<HttpResponse, AppError> {
    let r = state.db.read(Requirement::load).await?;
    Ok(HttpResponse::Ok().json(security_json(r)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityPatch {
    require_2fa: Requirement,
}

/// `PATCH /api/v1/settings/security` — who must use a second factor; applies from each
/// agent's next sign-in (they are led to enrolment after their password).
pub async fn update_security(state: Data, p: Principal, body: web::Json<SecurityPatch>) -> Result<HttpResponse, AppError> {
    let r = body.into_inner().require_2fa;
    let (actor, now) = (Actor::from(&p), state.now());
    state
        .db
        .write(move |c| {
            settings::store::set(c, totp::REQUIRE_KEY, r.as_str())?;
            audit::store::record(c, now, &actor, "settings.security", None, Some(&security_json(r)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(security_json(r)))
}
