//! Canned response endpoints.

use actix_web::{HttpResponse, web};
use rusqlite::Connection;

use super::{Canned, CannedInput, store};
use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// Shared snippets are managed by admins and supervisors: each change goes to the audit log.
/// Personal ones are the author's own notes, like their profile, and are not audited.
fn audit_shared(c: &Connection, p: &Principal, now: i64, action: &str, item: &Canned) -> Result<(), AppError> {
    if item.owner_id.is_some() {
        return Ok(());
    }
    let details = serde_json::json!({"department_id": item.department_id, "title": item.title});
    audit::store::record(c, now, &Actor::from(p), action, Some(&format!("#{}", item.shortcut)), Some(&details))
}

/// Whether the caller may create, change or delete a snippet of this owner and department
/// (`auth::policy::Viewer::may_manage_canned`).
fn may_manage(c: &Connection, p: &Principal, owner: Option<i64>, department: Option<i64>) -> Result<bool, AppError> {
    let v = p.viewer();
    Ok(v.may_manage_canned(&v.departments(c)?, owner, department))
}

pub async fn list(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let me = p.agent_id()?;
    let all = p.viewer().sees_all();
    let items = state.db.read(move |c| store::visible(c, me, all)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

pub async fn create(state: Data, p: Principal, body: web::Json<CannedInput>) -> Result<HttpResponse, AppError> {
    let mut input = body.into_inner();
    input.validate()?;
    let me = p.agent_id()?;
    let now = state.now();
    let item: Canned = state
        .db
        .write(move |c| {
            if let Some(d) = input.department_id {
                crate::departments::store::get(c, d)?.ok_or_else(|| AppError::invalid("department_id: no such department"))?;
            }
            let owner = input.personal.then_some(me);
            if !may_manage(c, &p, owner, input.department_id)? {
                return Err(AppError::forbidden("shared snippets are managed by admins and the department's supervisors"));
            }
            let id = store::insert(c, &input, owner, now)?;
            let item = store::get(c, id)?.ok_or_else(|| AppError::internal("snippet vanished"))?;
            audit_shared(c, &p, now, "canned.create", &item)?;
            Ok(item)
        })
        .await?;
    Ok(HttpResponse::Created().json(item))
}

pub async fn update(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<CannedInput>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let mut input = body.into_inner();
    input.validate()?;
    let now = state.now();
    let item = state
        .db
        .write(move |c| {
            let old = store::get(c, id)?.ok_or_else(|| AppError::not_found("snippet"))?;
            // Scope may change (personal <-> shared): the caller must be allowed both before and after.
            let new_owner = if input.personal { p.agent_id } else { None };
            if !may_manage(c, &p, old.owner_id, old.department_id)? || !may_manage(c, &p, new_owner, input.department_id)? {
                return Err(AppError::forbidden("you cannot change this snippet"));
            }
            store::update(c, id, &input, new_owner, now)?;
            let item = store::get(c, id)?.ok_or_else(|| AppError::not_found("snippet"))?;
            // Moving a shared snippet into someone's personal list is recorded too.
            audit_shared(c, &p, now, "canned.update", if item.owner_id.is_some() { &old } else { &item })?;
            Ok(item)
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

pub async fn delete(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let now = state.now();
    state
        .db
        .write(move |c| {
            let old = store::get(c, id)?.ok_or_else(|| AppError::not_found("snippet"))?;
            if !may_manage(c, &p, old.owner_id, old.department_id)? {
                return Err(AppError::forbidden("you cannot delete this snippet"));
            }
            store::delete(c, id)?;
            audit_shared(c, &p, now, "canned.delete", &old)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
