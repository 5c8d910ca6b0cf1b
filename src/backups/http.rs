//! The Backups page (admins): `GET /api/v1/backups` lists the files with size and time, the
//! schedule and the last run; `POST /api/v1/backups` makes one now.

use actix_web::{HttpResponse, web};

use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::db::backup;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// `GET /api/v1/backups` → `{"items":[{"name","kind","size","modified_at"}],"schedule":{…},"last_run"}`
pub async fn list(state: Data) -> Result<HttpResponse, AppError> {
    let dir = state.config.backups_dir();
    let items = tokio::task::spawn_blocking(move || backup::list(&dir)).await.map_err(|e| AppError::internal(e.to_string()))?;
    let last = state.db.read(super::last_run).await?;
    let time = state.config.backup_time.map(|m| format!("{:02}:{:02}", m / 60, m % 60));
    let schedule = serde_json::json!({
        "time": time,
        "keep": state.config.backup_keep,
        "copy_dir": state.config.backup_copy_dir.as_ref().map(|d| d.display().to_string()),
        "next_at": super::next_slot(&state, last.as_ref()),
    });
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "schedule": schedule, "last_run": last})))
}

/// `POST /api/v1/backups` → 201 the new file (`manual-<stamp>.db`, verified, pruned to `backup_keep`).
pub async fn create(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let (name, size, copied) = super::make(&state, "manual").await?;
    let (actor, now, n) = (Actor::from(&p), state.now(), name.clone());
    state
        .db
        .write(move |c| {
            let details = serde_json::json!({"size": size, "copied_to": copied});
            audit::store::record(c, now, &actor, "backup.create", Some(&n), Some(&details))
        })
        .await?;
    let dir = state.config.backups_dir();
    let item = backup::list(&dir).into_iter().find(|f| f.name == name).ok_or_else(|| AppError::internal("backup vanished"))?;
    Ok(HttpResponse::Created().json(item))
}
