//! Department endpoints.

use actix_web::{HttpResponse, web};

use super::{DepartmentPatch, Members, NewDepartment, store};
use crate::audit::Actor;
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

pub async fn list(state: Data) -> Result<HttpResponse, AppError> {
    let items = state.db.read(store::list).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

pub async fn create(state: Data, p: Principal, body: web::Json<NewDepartment>) -> Result<HttpResponse, AppError> {
    let new = body.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    let d = state.db.write(move |c| super::create(c, &new, &actor, now)).await?;
    // Internal chat: the department's new team room is every admin's; open consoles re-read
    // their rooms (an `access` frame) and follow it.
    state.hub.agents_changed().await;
    Ok(HttpResponse::Created().json(d))
}

pub async fn update(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<DepartmentPatch>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let patch = body.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    let d = state.db.write(move |c| super::update(c, id, &patch, &actor, now)).await?;
    // Routing: priorities and limits change the queue.
    crate::routing::dispatch(&state).await;
    Ok(HttpResponse::Ok().json(d))
}

pub async fn delete(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    state.db.write(move |c| super::delete(c, id, &actor, now)).await?;
    // Internal chat: its team room is gone; consoles re-read their rooms.
    state.hub.agents_changed().await;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /api/v1/departments/{id}/members` — exactly these agents are the department's members.
pub async fn set_members(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<Members>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let body = body.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    let changed = state.db.write(move |c| super::set_members(c, id, &body, &actor, now)).await?;
    // Committed: the agents who joined or left re-check what their sockets may see.
    for a in changed.added.iter().chain(&changed.removed) {
        state.hub.agent_changed(*a).await;
    }
    // Routing: new members may take waiting chats of this department.
    crate::routing::dispatch(&state).await;
    Ok(HttpResponse::Ok().json(serde_json::json!({"agent_ids": changed.agent_ids})))
}

/// `GET /api/v1/departments/overview` — per department: open, pending and unassigned tickets,
/// queued chats, and which members are online now (T6).
pub async fn overview(state: Data) -> Result<HttpResponse, AppError> {
    let online = state.hub.online_agents().await;
    let items = state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for d in store::list(c)? {
                let (open, pending, unassigned) = store::ticket_counts(c, d.id)?;
                let members = store::members(c, d.id)?;
                let online_members: Vec<serde_json::Value> = members
                    .iter()
                    .filter(|(id, _)| online.contains(id))
                    .map(|(id, name)| serde_json::json!({"id": id, "name": name}))
                    .collect();
                out.push(serde_json::json!({
                    "id": d.id, "name": d.name, "visible": d.visible,
                    "open": open, "pending": pending, "unassigned": unassigned,
                    "members": members.len(), "online": online_members,
                }));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}
