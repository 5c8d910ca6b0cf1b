//! Routing endpoints: the agent's own status, status history, routing settings, chat limits in
//! bulk, and the widget's callback request.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Deserializer};

use super::{AgentStatus, Mode, OfflineBehaviour, StatusReason, store};
use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// `Some(None)` for an explicit `null`, `None` for an absent key.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: AgentStatus,
}

/// `PUT /api/v1/me/status` `{"status":"accepting"|"not_accepting"|"offline"}` → `{"status"}` (SPEC §1).
pub async fn put_status(state: Data, p: Principal, body: web::Json<StatusBody>) -> Result<HttpResponse, AppError> {
    let agent_id = p.agent_id()?;
    let to = body.into_inner().status;
    super::live::set_status(&state, agent_id, to, StatusReason::Manual).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": to})))
}

/// `GET /api/v1/agents/{id}/status-history` — status changes with their reason (supervisors).
pub async fn status_history(state: Data, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let items = state
        .db
        .read(move |c| {
            crate::agents::store::get(c, id)?.ok_or_else(|| AppError::not_found("agent"))?;
            store::history(c, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// `GET /api/v1/settings/routing`
pub async fn get_settings(state: Data) -> HttpResponse {
    HttpResponse::Ok().json(state.routing.settings())
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    mode: Option<Mode>,
    wait_notice_s: Option<i64>,
    retention_s: Option<i64>,
    cancel_window_s: Option<i64>,
    offline_grace_s: Option<i64>,
    offline_behaviour: Option<OfflineBehaviour>,
    #[serde(default, deserialize_with = "nullable")]
    default_department: Option<Option<i64>>,
    allowed_origins: Option<Vec<String>>,
}

/// `PATCH /api/v1/settings/routing` — validated, stored, audited, in force at once.
pub async fn patch_settings(state: Data, p: Principal, body: web::Json<SettingsPatch>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let mut s = state.routing.settings();
    s.mode = b.mode.unwrap_or(s.mode);
    s.wait_notice_s = b.wait_notice_s.unwrap_or(s.wait_notice_s);
    s.retention_s = b.retention_s.unwrap_or(s.retention_s);
    s.cancel_window_s = b.cancel_window_s.unwrap_or(s.cancel_window_s);
    s.offline_grace_s = b.offline_grace_s.unwrap_or(s.offline_grace_s);
    s.offline_behaviour = b.offline_behaviour.unwrap_or(s.offline_behaviour);
    if let Some(d) = b.default_department {
        s.default_department = d;
    }
    if let Some(o) = b.allowed_origins {
        s.allowed_origins = o;
    }
    s.validate()?;
    let (actor, now) = (Actor::from(&p), state.now());
    let saved = s.clone();
    state
        .db
        .write(move |c| {
            if let Some(d) = saved.default_department {
                crate::departments::store::get(c, d)?.ok_or_else(|| AppError::invalid("default_department: no such department"))?;
            }
            store::save_settings(c, &saved)?;
            let details = serde_json::to_value(&saved).unwrap_or_default();
            audit::store::record(c, now, &actor, "settings.routing", None, Some(&details))
        })
        .await?;
    state.routing.set_settings(s.clone());
    // Switching to even distribution (or other rules) may place waiting chats now.
    super::dispatch(&state).await;
    Ok(HttpResponse::Ok().json(s))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    agent_ids: Vec<i64>,
    chat_limit: i64,
}

/// `PUT /api/v1/agents/chat-limits` `{"agent_ids":[…],"chat_limit":N}` — slots in bulk (R2).
pub async fn put_chat_limits(state: Data, p: Principal, body: web::Json<LimitsBody>) -> Result<HttpResponse, AppError> {
    let LimitsBody { agent_ids, chat_limit } = body.into_inner();
    crate::agents::validate_chat_limit(chat_limit)?;
    if agent_ids.is_empty() || agent_ids.len() > 1000 {
        return Err(AppError::invalid("agent_ids: 1 to 1000 agent ids"));
    }
    let (actor, now) = (Actor::from(&p), state.now());
    let updated = state
        .db
        .write(move |c| {
            for id in &agent_ids {
                crate::agents::store::get(c, *id)?.ok_or_else(|| AppError::invalid(format!("agent_ids: no agent {id}")))?;
            }
            let n = store::set_chat_limits(c, &agent_ids, chat_limit, now)?;
            let details = serde_json::json!({"agent_ids": agent_ids, "chat_limit": chat_limit});
            audit::store::record(c, now, &actor, "agent.chat_limits", None, Some(&details))?;
            Ok(n)
        })
        .await?;
    // A raised limit frees slots for waiting chats.
    super::dispatch(&state).await;
    Ok(HttpResponse::Ok().json(serde_json::json!({"updated": updated, "chat_limit": chat_limit})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackBody {
    phone: String,
    /// Preferred window, local "HH:MM" times of the visitor.
    from: String,
    to: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    department_id: Option<i64>,
}

/// `POST /api/v1/widget/callback` — a waiting visitor asks to be called back in a time window
/// (W5); it becomes a ticket with the phone number and the window.
pub async fn callback(state: Data, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let visitor = crate::chat::visitor_from_request(&state, &req).await?;
    crate::bans::refuse_banned_request(&state, &req, visitor).await?;
    let text = std::str::from_utf8(&body).map_err(|_| AppError::new(crate::error::Kind::InvalidJson, "body is not UTF-8"))?;
    let b: CallbackBody = crate::http::parse_json(text)?;
    let phone = b.phone.trim().to_string();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    if !(5..=20).contains(&digits) || phone.len() > 30 || !phone.chars().all(|ch| ch.is_ascii_digit() || " +-().".contains(ch)) {
        return Err(AppError::invalid("phone: 5 to 20 digits; spaces, +, -, ( and ) allowed"));
    }
    let hhmm = |s: &str| super::parse_hhmm(s, true).ok_or_else(|| AppError::invalid("from/to: times are HH:MM"));
    let (from, to) = (hhmm(&b.from)?, hhmm(&b.to)?);
    if from >= to {
        return Err(AppError::invalid("to: the window must end after it starts"));
    }
    let now = state.now();
    state.uploads.take(&format!("offline{visitor}"), now).map_err(AppError::rate_limited)?;
    let (name, department_id) = (b.name, b.department_id);
    let opened = state
        .db
        .write(move |c| {
            let tz = crate::chat::store::visitor_details(c, visitor)?.and_then(|v| v.timezone).unwrap_or_else(|| "UTC".into());
            let message =
                format!("Callback requested.\nPhone: {phone}\nPreferred time: {}–{} ({tz})", super::fmt_hhmm(from), super::fmt_hhmm(to));
            crate::chat::store::set_visitor_phone(c, visitor, &phone)?;
            let m = crate::tickets::ops::OfflineMessage { name, email: None, message, department_id };
            crate::tickets::ops::offline_message(c, visitor, &m, now)
        })
        .await?;
    state.hub.publish(crate::realtime::Audience::Agents, crate::realtime::ticket_changed(opened.number)).await;
    Ok(HttpResponse::Created().json(serde_json::json!({"number": opened.number})))
}
