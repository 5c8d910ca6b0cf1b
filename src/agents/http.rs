//! Agent administration endpoints.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{AgentPatch, NewAgent, store};
use crate::audit::Actor;
use crate::auth::{Principal, validate_password};
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

pub async fn list(state: Data) -> Result<HttpResponse, AppError> {
    let items = state.db.read(store::list).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

pub async fn get(state: Data, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let agent = state.db.read(move |c| store::get(c, id)).await?.ok_or_else(|| AppError::not_found("agent"))?;
    Ok(HttpResponse::Ok().json(agent))
}

pub async fn create(state: Data, p: Principal, body: web::Json<NewAgent>) -> Result<HttpResponse, AppError> {
    let new = body.into_inner();
    new.validate()?;
    let hash = state.hasher.hash(new.password.clone()).await?;
    let actor = Actor::from(&p);
    let now = state.now();
    let agent = state.db.write(move |c| super::create(c, &new, &hash, &actor, now)).await?;
    Ok(HttpResponse::Created().json(agent))
}

pub async fn update(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<AgentPatch>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let patch = body.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    let agent = state.db.write(move |c| super::update(c, id, patch, &actor, now)).await?;
    // Committed: the agent's open sockets re-read role, departments and session now.
    state.hub.agent_changed(id).await;
    // Routing: a raised limit or new membership may place waiting chats.
    crate::routing::dispatch(&state).await;
    Ok(HttpResponse::Ok().json(agent))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

pub async fn set_password(
    state: Data,
    p: Principal,
    path: web::Path<i64>,
    body: web::Json<PasswordBody>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let PasswordBody { password } = body.into_inner();
    validate_password(&password)?;
    let hash = state.hasher.hash(password).await?;
    let actor = Actor::from(&p);
    let now = state.now();
    state.db.write(move |c| super::set_password(c, id, &hash, None, &actor, now)).await?;
    state.hub.agent_changed(id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/me/notifications` — the caller's notification settings.
pub async fn get_notify(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let prefs = state.db.read(move |c| store::notify_prefs(c, id)).await?.ok_or_else(|| AppError::not_found("agent"))?;
    Ok(HttpResponse::Ok().json(prefs))
}

/// `PUT /api/v1/me/notifications` — replace them (every field required).
pub async fn put_notify(state: Data, p: Principal, body: web::Json<super::NotifyPrefs>) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let prefs = body.into_inner();
    state.db.write(move |c| store::set_notify_prefs(c, id, &prefs)).await?;
    Ok(HttpResponse::Ok().json(prefs))
}
