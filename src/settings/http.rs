//! Admin settings endpoints.

use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

fn chat_json(state: &AppState) -> serde_json::Value {
    serde_json::json!({
        "sneak_peek": state.sneak_peek(),
        "agents_see_colleagues": state.agents_see_colleagues(),
        "reply_overdue_s": state.chat_settings.reply_overdue_s.load(Ordering::Relaxed),
        "visitor_idle_s": state.chat_settings.visitor_idle_s.load(Ordering::Relaxed),
        "require_tag": state.require_tag(),
    })
}

/// `GET /api/v1/settings/chat`
pub async fn get_chat(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(chat_json(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatPatch {
    sneak_peek: Option<bool>,
    agents_see_colleagues: Option<bool>,
    /// Status colours (C8): seconds until an unanswered visitor turns the chat red.
    reply_overdue_s: Option<i64>,
    /// Seconds of visitor silence until the chat turns grey.
    visitor_idle_s: Option<i64>,
    require_tag: Option<bool>,
}

/// `PATCH /api/v1/settings/chat` — stored, audited, and in force for the next frame.
pub async fn update_chat(state: web::Data<AppState>, p: Principal, body: web::Json<ChatPatch>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    for (name, v) in [("reply_overdue_s", b.reply_overdue_s), ("visitor_idle_s", b.visitor_idle_s)] {
        if let Some(v) = v
            && !super::THRESHOLD_RANGE_S.contains(&v)
        {
            let (lo, hi) = (super::THRESHOLD_RANGE_S.start(), super::THRESHOLD_RANGE_S.end());
            return Err(AppError::invalid(format!("{name}: {v} is not between {lo} and {hi} seconds")));
        }
    }
    let (actor, now) = (Actor::from(&p), state.now());
    let (sp, ac, overdue, idle, rt) = (b.sneak_peek, b.agents_see_colleagues, b.reply_overdue_s, b.visitor_idle_s, b.require_tag);
    state
        .db
        .write(move |c| {
            if let Some(v) = sp {
                super::store::set(c, super::SNEAK_PEEK, if v { "true" } else { "false" })?;
            }
            if let Some(v) = ac {
                super::store::set(c, super::AGENTS_SEE_COLLEAGUES, if v { "true" } else { "false" })?;
            }
            if let Some(v) = overdue {
                super::store::set(c, super::REPLY_OVERDUE_S, &v.to_string())?;
            }
            if let Some(v) = idle {
                super::store::set(c, super::VISITOR_IDLE_S, &v.to_string())?;
            }
            if let Some(v) = rt {
                super::store::set(c, super::REQUIRE_TAG, if v { "true" } else { "false" })?;
            }
            let details = serde_json::json!({
                "sneak_peek": sp, "agents_see_colleagues": ac, "reply_overdue_s": overdue, "visitor_idle_s": idle, "require_tag": rt
            });
            audit::store::record(c, now, &actor, "settings.chat", None, Some(&details))
        })
        .await?;
    if let Some(v) = sp {
        state.chat_settings.sneak_peek.store(v, Ordering::Relaxed);
    }
    if let Some(v) = overdue {
        state.chat_settings.reply_overdue_s.store(v, Ordering::Relaxed);
    }
    if let Some(v) = idle {
        state.chat_settings.visitor_idle_s.store(v, Ordering::Relaxed);
    }
    if let Some(v) = rt {
        state.chat_settings.require_tag.store(v, Ordering::Relaxed);
    }
    if let Some(v) = ac {
        state.chat_settings.agents_see_colleagues.store(v, Ordering::Relaxed);
        // What agents may follow changed: open agent sockets re-check their followed chats.
        state.hub.agents_changed().await;
    }
    Ok(HttpResponse::Ok().json(chat_json(&state)))
}

/// `GET /api/v1/onboarding` (admin): the first steps of a new shop, each done or not — another
/// agent, the widget snippet on the shop's site, a look at `/demo`, outgoing mail. The console
/// shows the list on its first page until every step is done.
pub async fn onboarding(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let own = state.public_url.origin().ascii_serialization();
    let config = state.config.clone();
    let (agents, demo, snippet, mail) = state
        .db
        .read(move |c| {
            let (agents, demo, snippet) = super::store::onboarding_facts(c, &own)?;
            let mail = crate::mail::settings(c, &config)?.not_ready().is_none();
            Ok((agents, demo, snippet, mail))
        })
        .await?;
    let steps = [("agent", agents > 1), ("snippet", snippet), ("demo", demo), ("mail", mail)];
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "steps": steps.iter().map(|(key, done)| serde_json::json!({"key": key, "done": done})).collect::<Vec<_>>(),
        "done": steps.iter().all(|(_, d)| *d),
    })))
}
