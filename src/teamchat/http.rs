//! Internal chat endpoints: the caller's rooms, a room's history by pages, opening a 1:1 room.
//! Messages, typing and read positions travel over the agent socket (`team_*` frames).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::auth::Principal;
use crate::error::AppError;
use crate::realtime::ServerFrame;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// `GET /api/v1/team/rooms`: the caller's rooms with unread counts.
pub async fn rooms(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let viewer = p.viewer();
    let items = state.db.read(move |c| super::rooms(c, &viewer)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/v1/team/rooms/{id}/messages?before=SEQ&limit=N`: up to `limit` (default 50, at
/// most 200) messages before seq `before` (default: the newest), oldest first; `more` when
/// older ones exist.
pub async fn messages(state: Data, p: Principal, path: web::Path<i64>, q: web::Query<PageQuery>) -> Result<HttpResponse, AppError> {
    let (room, q, viewer) = (path.into_inner(), q.into_inner(), p.viewer());
    let (items, more) = state.db.read(move |c| super::page(c, &viewer, room, q.before, q.limit.unwrap_or(50))).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items, "more": more })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectBody {
    agent_id: i64,
}

/// `POST /api/v1/team/direct {"agent_id"}`: the caller's 1:1 room with a colleague, created when
/// missing (201; 200 when it existed). A new room is followed at once by both agents' consoles
/// (`team_room` frame).
pub async fn direct(state: Data, p: Principal, body: web::Json<DirectBody>) -> Result<HttpResponse, AppError> {
    let (other, viewer, now) = (body.into_inner().agent_id, p.viewer(), state.now());
    let (room, created) = state.db.write(move |c| super::open_direct(c, &viewer, other, now)).await?;
    if created {
        // Each side sees the room under the other's name.
        let me = viewer.agent_id.unwrap_or_default();
        let (id, db) = (room.id, state.db.clone());
        let theirs = db.read(move |c| super::store::summary(c, other, id)).await?;
        state.hub.join_room(me, room.id, ServerFrame::TeamRoom { room: room.clone() }).await;
        if let Some(theirs) = theirs {
            state.hub.join_room(other, room.id, ServerFrame::TeamRoom { room: theirs }).await;
        }
        return Ok(HttpResponse::Created().json(room));
    }
    Ok(HttpResponse::Ok().json(room))
}
