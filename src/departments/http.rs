//! Department endpoints.

use actix_web::{HttpResponse, web};

use super::{DepartmentPatch, NewDepartment, store};
use crate::audit::Actor;
use crate::auth::Principal;
use crate::error::AppError;
use crate::http::AppState;

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
    Ok(HttpResponse::Created().json(d))
}

pub async fn update(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<DepartmentPatch>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let patch = body.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    let d = state.db.write(move |c| super::update(c, id, &patch, &actor, now)).await?;
    Ok(HttpResponse::Ok().json(d))
}

pub async fn delete(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let actor = Actor::from(&p);
    let now = state.now();
    state.db.write(move |c| super::delete(c, id, &actor, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}
