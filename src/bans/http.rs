//! `POST /api/v1/bans`, `GET /api/v1/bans`, `DELETE /api/v1/bans/{id}` (SPEC §1).

use std::net::IpAddr;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{Cidr, NewBan};
use crate::audit::Actor;
use crate::auth::Principal;
use crate::error::AppError;
use crate::realtime::protocol::{self, close};
use crate::state::AppState;

type Data = web::Data<AppState>;

/// Ban a visitor (token), an address or range, or both; open widgets it covers close with 1008.
pub async fn create(state: Data, p: Principal, body: web::Json<NewBan>) -> Result<HttpResponse, AppError> {
    let (viewer, actor, now, colleagues) = (p.viewer(), Actor::from(&p), state.now(), state.agents_see_colleagues());
    let new = body.into_inner();
    let ban = state.db.write(move |c| super::create(c, viewer, &actor, new, now, colleagues)).await?;
    close_banned_sockets(&state, ban.visitor_id, ban.ip.as_deref()).await?;
    Ok(HttpResponse::Created().json(ban))
}

/// Close the widget sockets a new ban covers: the visitor's own, and every connected visitor
/// whose current address is in the range.
async fn close_banned_sockets(state: &AppState, visitor: Option<i64>, range: Option<&str>) -> Result<(), AppError> {
    let mut targets: Vec<i64> = visitor.into_iter().collect();
    if let Some(range) = range.and_then(|r| Cidr::parse(r).ok()) {
        let online = state.hub.online_visitors().await;
        let ips = state.db.read(move |c| crate::chat::store::visitor_ips(c, &online)).await?;
        targets.extend(ips.into_iter().filter(|(_, ip)| ip.parse::<IpAddr>().is_ok_and(|a| range.contains(a))).map(|(id, _)| id));
    }
    targets.sort_unstable();
    targets.dedup();
    for v in targets {
        let b = super::banned();
        state.hub.refuse_visitor(v, protocol::error(b.kind.code(), &b.message, None), close::POLICY, "banned").await;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    expired: Option<bool>,
    limit: Option<u32>,
}

/// Bans in force, newest first (`?expired=true`: expired ones too).
pub async fn list(state: Data, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let limit = q.limit.unwrap_or(200);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit: between 1 and 500"));
    }
    let (now, expired) = (state.now(), q.expired.unwrap_or(false));
    let items = state.db.read(move |c| super::store::list(c, now, expired, limit)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// Lift a ban.
pub async fn delete(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, actor, now) = (path.into_inner(), Actor::from(&p), state.now());
    state.db.write(move |c| super::remove(c, &actor, id, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}
