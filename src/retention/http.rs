//! `GET`/`PATCH /api/v1/settings/retention` (admins): the periods, when the next run is, and
//! what it would delete.

use actix_web::{HttpResponse, web};

use super::Policy;
use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

async fn view(state: &AppState) -> Result<serde_json::Value, AppError> {
    let now = state.now();
    state
        .db
        .read(move |c| {
            let policy = super::load(c)?;
            let last = super::last_run(c)?;
            let next = super::next_run_at(last, now);
            let counts = super::preview(c, &policy, next)?;
            Ok(serde_json::json!({"policy": policy, "last_run_at": last, "next_run_at": next, "next_run": counts}))
        })
        .await
}

/// `GET /api/v1/settings/retention` → `{"policy":{…_days},"last_run_at","next_run_at","next_run":{counts}}`
pub async fn get(state: Data) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(view(&state).await?))
}

/// `PATCH /api/v1/settings/retention` `{"chats_days"?,"tickets_days"?,"page_views_days"?,"attachments_days"?}`
/// (0 keeps forever); answers like GET.
pub async fn update(state: Data, p: Principal, body: web::Json<serde_json::Value>) -> Result<HttpResponse, AppError> {
    let patch = body.into_inner();
    let (actor, now) = (Actor::from(&p), state.now());
    state
        .db
        .write(move |c| {
            // Merge the patch over the stored policy, then parse strictly (unknown fields, types).
            let mut merged = serde_json::to_value(super::load(c)?).map_err(|e| AppError::internal(e.to_string()))?;
            let Some(fields) = patch.as_object() else { return Err(AppError::invalid("send a JSON object")) };
            for (k, v) in fields {
                merged[k] = v.clone();
            }
            let policy: Policy = serde_json::from_value(merged).map_err(|e| crate::error::deserialize_error(&e))?;
            policy.validate()?;
            super::save(c, &policy)?;
            let details = serde_json::to_value(policy).map_err(|e| AppError::internal(e.to_string()))?;
            audit::store::record(c, now, &actor, "settings.retention", None, Some(&details))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view(&state).await?))
}
