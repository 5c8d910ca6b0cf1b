//! `GET /api/v1/tags`: the vocabulary the console offers when tagging a chat or a ticket.

use actix_web::{HttpResponse, web};

use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

/// Built-in tags and the tags on chats and tickets the caller may see, with counts.
pub async fn list(state: web::Data<AppState>, p: Principal) -> Result<HttpResponse, AppError> {
    let viewer = p.viewer();
    let restrict = if viewer.sees_colleagues_chats(state.agents_see_colleagues()) { None } else { Some(viewer.agent_key()) };
    let items = state
        .db
        .read(move |c| {
            let flags = super::store::flags(c)?;
            let tickets = crate::tickets::store::tags_in_use(c, viewer.tickets(), 200)?;
            let chats = super::store::chat_tags_in_use(c, restrict, 200)?;
            Ok(super::merge(flags, tickets, chats))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}
