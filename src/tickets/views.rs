//! Saved views: an agent's named ticket-list filters, with their current counts.

use actix_web::{HttpResponse, web};
use rusqlite::Connection;
use serde::Deserialize;

use super::http::{ListQuery, to_filter};
use super::store::{self, Filter, SavedView};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    name: String,
    filters: ListQuery,
}

/// Stored filters this version cannot read are an error naming the view, never "no filter".
fn filter_of(v: &SavedView) -> Result<Filter, AppError> {
    serde_json::from_str(&v.filters).map_err(|e| {
        tracing::warn!(view = v.id, error = %e, "unreadable saved view");
        AppError::conflict(format!(
            "the saved view {:?} (#{}) has filters this version cannot read; delete it and save it again",
            v.name, v.id
        ))
    })
}

/// The filter of one of my views (404 when it is not mine or does not exist).
pub(super) fn saved_filter(c: &Connection, id: i64, me: i64) -> Result<Filter, AppError> {
    filter_of(&store::saved_view_of(c, id, me)?.ok_or_else(|| AppError::not_found("view"))?)
}

/// `GET /api/v1/views` — my saved views with their current counts.
pub async fn list(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let me = p.agent_id()?;
    let viewer = p.viewer().tickets();
    let items = state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for v in store::saved_views(c, me)? {
                let f = filter_of(&v)?;
                let count = store::count(c, &f, viewer)?;
                out.push(serde_json::json!({"id": v.id, "name": v.name, "filters": f, "count": count}));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// `POST /api/v1/views` — save the list's current filters under a name.
pub async fn create(state: Data, p: Principal, body: web::Json<NewView>) -> Result<HttpResponse, AppError> {
    let me = p.agent_id()?;
    let b = body.into_inner();
    let name = b.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::invalid("name: 1 to 60 characters"));
    }
    let filter = to_filter(&b.filters, &p)?;
    let json = serde_json::to_string(&filter).map_err(|e| AppError::internal(e.to_string()))?;
    let now = state.now();
    let id = state.db.write(move |c| store::insert_saved_view(c, me, &name, &json, now)).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"id": id})))
}

/// `DELETE /api/v1/views/{id}`
pub async fn delete(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = p.agent_id()?;
    let id = path.into_inner();
    if !state.db.write(move |c| store::delete_saved_view(c, id, me)).await? {
        return Err(AppError::not_found("view"));
    }
    Ok(HttpResponse::NoContent().finish())
}
