//! Contact endpoints.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{ContactPatch, store};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;
use crate::tickets::store::{self as tickets, Filter};

type Data = web::Data<AppState>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    q: Option<String>,
    limit: Option<u32>,
}

pub async fn list(state: Data, q: web::Query<Query>) -> Result<HttpResponse, AppError> {
    let Query { q, limit } = q.into_inner();
    let limit = limit.unwrap_or(50).clamp(1, 200);
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(AppError::invalid("q: at most 200 characters"));
    }
    let items = state.db.read(move |c| store::search(c, q.as_deref(), limit)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// A contact with their history: tickets the caller may see and chats.
pub async fn get(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let viewer = p.viewer().tickets();
    let out = state
        .db
        .read(move |c| {
            let contact = store::get(c, id)?.ok_or_else(|| AppError::not_found("contact"))?;
            let tickets = tickets::list(c, &Filter { contact_id: Some(id), ..Default::default() }, viewer, false, None, 100)?;
            let chats: Vec<serde_json::Value> = crate::chat::store::conversations_of_contact(c, id, 50)?
                .into_iter()
                .map(|(id, status, created_at)| serde_json::json!({"id": id, "status": status, "created_at": created_at}))
                .collect();
            Ok(serde_json::json!({"contact": contact, "tickets": tickets, "conversations": chats}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

pub async fn update(state: Data, path: web::Path<i64>, body: web::Json<ContactPatch>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let b = body.into_inner();
    let clean = |s: Option<String>, max: usize, field: &str| -> Result<Option<String>, AppError> {
        match s.map(|s| s.trim().to_string()) {
            Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => {
                Err(AppError::invalid(format!("{field}: at most {max} characters")))
            }
            other => Ok(other),
        }
    };
    let name = clean(b.name, 100, "name")?;
    let phone = clean(b.phone, 40, "phone")?;
    let now = state.now();
    let contact = state
        .db
        .write(move |c| {
            store::get(c, id)?.ok_or_else(|| AppError::not_found("contact"))?;
            let id = match b.email.as_deref() {
                Some(e) => store::attach_email(c, id, e, now)?,
                None => id,
            };
            store::update(c, id, name.as_deref(), phone.as_deref(), now)?;
            store::get(c, id)?.ok_or_else(|| AppError::not_found("contact"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(contact))
}
