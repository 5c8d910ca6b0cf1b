use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::store;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    limit: Option<u32>,
    before: Option<i64>,
}

pub async fn list(state: web::Data<AppState>, q: web::Query<Page>) -> Result<HttpResponse, AppError> {
    let Page { limit, before } = q.into_inner();
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit: between 1 and 500"));
    }
    let items = state.db.read(move |c| store::list(c, limit, before)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}
