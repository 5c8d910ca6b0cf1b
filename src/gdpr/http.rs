//! GDPR endpoints (admins): `GET /api/v1/contacts/{id}/export` (a ZIP) and
//! `POST /api/v1/contacts/{id}/erase` `{"confirm": true}`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::audit::Actor;
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// `GET /api/v1/contacts/{id}/export` → `application/zip` (`export.json` + `files/…`).
pub async fn export(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let now = state.now();
    let (bytes, files) = state.db.read(move |c| super::export_zip(c, id, now)).await?;
    let actor = Actor::from(&p);
    state.db.write(move |c| super::record_export(c, id, files, &actor, now)).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"contact-{id}-export.zip\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    /// Must be true: erasing cannot be undone.
    confirm: bool,
}

/// `POST /api/v1/contacts/{id}/erase` `{"confirm": true}` → `{"erased": {counts}}`.
pub async fn erase(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<EraseBody>) -> Result<HttpResponse, AppError> {
    if !body.confirm {
        return Err(AppError::invalid("confirm: must be true (erasing cannot be undone)"));
    }
    let id = path.into_inner();
    let (actor, now) = (Actor::from(&p), state.now());
    let erased = state.db.write(move |c| super::erase(c, id, &actor, now)).await?;
    state.db.write(super::purge_search_index).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"erased": erased})))
}
