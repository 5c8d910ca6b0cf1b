//! Contact endpoints. What a caller sees and may change is decided by `auth::policy`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{ContactPatch, store};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use crate::tickets::ops::Caller;
use crate::tickets::store::{self as tickets, Filter};

type Data = web::Data<AppState>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    q: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/contacts?q=` — contacts the caller may see (one of their tickets or chats).
pub async fn list(state: Data, p: Principal, q: web::Query<Query>) -> Result<HttpResponse, AppError> {
    let Query { q, limit } = q.into_inner();
    let limit = limit.unwrap_or(50).clamp(1, 200);
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(AppError::invalid("q: at most 200 characters"));
    }
    let (v, colleagues) = (p.viewer().tickets(), state.agents_see_colleagues());
    let items = state.db.read(move |c| store::search(c, q.as_deref(), v, colleagues, limit)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// A contact with their history: the tickets and chats the caller may see (404 when the
/// caller may see none of them).
pub async fn get(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (viewer, colleagues) = (p.viewer(), state.agents_see_colleagues());
    let out = state
        .db
        .read(move |c| {
            viewer.check_contact(c, id, colleagues)?;
            let contact = store::get(c, id)?.ok_or_else(|| AppError::not_found("contact"))?;
            let filter = Filter { contact_id: Some(id), ..Default::default() };
            let tickets = tickets::list(c, &filter, viewer.tickets(), false, None, 100)?;
            let chats: Vec<serde_json::Value> = crate::chat::store::conversations_of_contact(c, id, 500)?
                .into_iter()
                .filter(|ch| viewer.may_view_chat(ch.agent_id, ch.status, colleagues))
                .take(50)
                .map(|ch| serde_json::json!({"id": ch.id, "status": ch.status, "created_at": ch.created_at}))
                .collect();
            Ok(serde_json::json!({"contact": contact, "tickets": tickets, "conversations": chats}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `PATCH /api/v1/contacts/{id}` — name, phone, email (the requester address of the contact's
/// tickets: audited and shown in each ticket's thread). Only for callers who may see all of
/// the contact's tickets and chats, or supervisors (`contacts::edit`).
pub async fn update(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<ContactPatch>) -> Result<HttpResponse, AppError> {
    let (id, who, b) = (path.into_inner(), Caller::from(&p), body.into_inner());
    let (now, colleagues) = (state.now(), state.agents_see_colleagues());
    let contact = state
        .db
        .write(move |c| {
            let id = super::edit(c, &who, id, &b, colleagues, now)?;
            store::get(c, id)?.ok_or_else(|| AppError::not_found("contact"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(contact))
}
