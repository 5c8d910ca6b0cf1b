//! Webhook endpoints (admins): register, list, change, delete, rotate the secret, send a
//! test, read the delivery log.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{EVENTS, PING, delivery, store};
use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

fn target(id: i64) -> String {
    format!("webhook:{id}")
}

/// `GET /api/v1/webhooks`
pub async fn list(state: Data) -> Result<HttpResponse, AppError> {
    let items = state.db.read(store::list).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "events": EVENTS})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    url: String,
    events: Vec<String>,
}

/// `POST /api/v1/webhooks` `{"url","events":[…]}` → 201 `{"id","secret",…}` (the secret is shown only here).
pub async fn create(state: Data, p: Principal, body: web::Json<NewWebhook>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let url = super::validate_url(&b.url, state.webhooks.allow_private)?.to_string();
    let events = super::validate_events(&b.events)?;
    let secret = super::new_secret();
    let (actor, now, by) = (Actor::from(&p), state.now(), p.agent_id);
    let s = secret.clone();
    let hook = state
        .db
        .write(move |c| {
            let id = store::insert(c, &url, &events, &s, by, now)?;
            let details = serde_json::json!({"url": url, "events": events});
            audit::store::record(c, now, &actor, "webhook.create", Some(&target(id)), Some(&details))?;
            store::get(c, id)?.ok_or_else(|| AppError::internal("webhook vanished"))
        })
        .await?;
    state.webhooks.refresh(&state.db).await?;
    let mut out = serde_json::to_value(&hook).map_err(|e| AppError::internal(e.to_string()))?;
    out["secret"] = serde_json::Value::String(secret);
    Ok(HttpResponse::Created().json(out))
}

/// `GET /api/v1/webhooks/{id}`
pub async fn get(state: Data, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let hook = state.db.read(move |c| store::get(c, id)).await?.ok_or_else(|| AppError::not_found("webhook"))?;
    Ok(HttpResponse::Ok().json(hook))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    url: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
}

/// `PATCH /api/v1/webhooks/{id}` `{"url"?,"events"?,"enabled"?}` — enabling clears the
/// "switched off after failures" notice.
pub async fn update(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<Patch>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let url = b.url.as_deref().map(|u| super::validate_url(u, state.webhooks.allow_private)).transpose()?.map(|u| u.to_string());
    let events = b.events.as_deref().map(super::validate_events).transpose()?;
    let (actor, now, enabled) = (Actor::from(&p), state.now(), b.enabled);
    let hook = state
        .db
        .write(move |c| {
            store::get(c, id)?.ok_or_else(|| AppError::not_found("webhook"))?;
            store::update(c, id, url.as_deref(), events.as_deref(), enabled, now)?;
            let details = serde_json::json!({"url": url, "events": events, "enabled": enabled});
            audit::store::record(c, now, &actor, "webhook.update", Some(&target(id)), Some(&details))?;
            store::get(c, id)?.ok_or_else(|| AppError::internal("webhook vanished"))
        })
        .await?;
    state.webhooks.refresh(&state.db).await?;
    Ok(HttpResponse::Ok().json(hook))
}

/// `DELETE /api/v1/webhooks/{id}` — with its pending deliveries and log.
pub async fn delete(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (actor, now) = (Actor::from(&p), state.now());
    state
        .db
        .write(move |c| {
            if !store::delete(c, id)? {
                return Err(AppError::not_found("webhook"));
            }
            audit::store::record(c, now, &actor, "webhook.delete", Some(&target(id)), None)
        })
        .await?;
    state.webhooks.refresh(&state.db).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/v1/webhooks/{id}/secret` → `{"secret"}`: a new signing secret, shown once.
pub async fn rotate_secret(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let secret = super::new_secret();
    let (actor, now, s) = (Actor::from(&p), state.now(), secret.clone());
    state
        .db
        .write(move |c| {
            store::get(c, id)?.ok_or_else(|| AppError::not_found("webhook"))?;
            store::set_secret(c, id, &s, now)?;
            audit::store::record(c, now, &actor, "webhook.rotate_secret", Some(&target(id)), None)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"id": id, "secret": secret})))
}

/// `POST /api/v1/webhooks/{id}/test` → the `ping` delivery, sent now and logged like any other.
pub async fn test(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (actor, now) = (Actor::from(&p), state.now());
    let data = serde_json::json!({"webhook": id, "by": p.name});
    let delivery_id = state
        .db
        .write(move |c| {
            store::get(c, id)?.ok_or_else(|| AppError::not_found("webhook"))?;
            let body = super::event_body(PING, data, now);
            let ids = store::insert_deliveries(c, PING, &body, now, Some(id))?;
            audit::store::record(c, now, &actor, "webhook.test", Some(&target(id)), None)?;
            ids.first().copied().ok_or_else(|| AppError::internal("test delivery not written"))
        })
        .await?;
    delivery::send_now(&state, delivery_id).await?;
    let d = state.db.read(move |c| store::delivery(c, delivery_id)).await?.ok_or_else(|| AppError::not_found("delivery"))?;
    Ok(HttpResponse::Ok().json(d))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    limit: Option<u32>,
    before: Option<i64>,
}

/// `GET /api/v1/webhooks/{id}/deliveries?limit=&before=` → `{"items":[…]}`, newest first.
pub async fn deliveries(state: Data, path: web::Path<i64>, q: web::Query<LogQuery>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let before = q.before;
    let items = state
        .db
        .read(move |c| {
            store::get(c, id)?.ok_or_else(|| AppError::not_found("webhook"))?;
            store::deliveries(c, id, limit, before)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}
