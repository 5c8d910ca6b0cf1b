//! Scheduled daily backups (SPEC A4): at the configured local time (`backup_time`), an online
//! snapshot (`db::backup`: `VACUUM INTO`, integrity-checked before it gets its name) goes into
//! `DATA_DIR/backups/daily-<UTC stamp>.db`; the newest `backup_keep` are kept; with
//! `backup_copy_dir` each one is also copied there. The scheduler asks every round whether the
//! latest slot has been done; a missed slot (server down at that time) is made up at start.

pub mod http;

use serde::{Deserialize, Serialize};

use crate::db::backup;
use crate::error::AppError;
use crate::settings;
use crate::state::AppState;

const LAST_RUN: &str = "backup.last_run";

/// The outcome of the last scheduled backup, kept in the settings table for the Backups page.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    /// When it ran (ms) and which daily slot it was for.
    pub at: i64,
    pub slot: i64,
    pub file: Option<String>,
    pub size: Option<u64>,
    pub copied_to: Option<String>,
    pub error: Option<String>,
}

pub fn last_run(c: &rusqlite::Connection) -> Result<Option<LastRun>, AppError> {
    Ok(settings::store::get(c, LAST_RUN)?.and_then(|v| serde_json::from_str(&v).ok()))
}

/// The slot the next scheduled backup is for (a time in ms), if backups are scheduled.
pub fn next_slot(state: &AppState, last: Option<&LastRun>) -> Option<i64> {
    let minutes = state.config.backup_time?;
    let now = state.now();
    let current = backup::daily_slot(now, minutes, backup::local_offset_ms(now));
    Some(if last.is_some_and(|l| l.slot >= current) { current + 86_400_000 } else { current })
}

/// Write one backup named `<prefix>-<stamp>.db` now, prune that kind to `backup_keep`, copy it
/// when configured. Returns (file name, size, copy).
pub async fn make(state: &AppState, prefix: &'static str) -> Result<(String, u64, Option<String>), AppError> {
    let dir = state.config.backups_dir();
    let name = format!("{prefix}-{}.db", backup::timestamp_at(state.now()));
    let target = dir.join(&name);
    let db_path = state.db.path().to_path_buf();
    let keep = state.config.backup_keep;
    let copy_dir = state.config.backup_copy_dir.clone();
    tokio::task::spawn_blocking(move || {
        backup::backup_file(&db_path, &target)?;
        backup::prune(&dir, &format!("{prefix}-"), keep);
        let size = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
        let copied = match &copy_dir {
            Some(d) => Some(backup::copy_into(&target, d, &format!("{prefix}-"), keep)?.display().to_string()),
            None => None,
        };
        Ok((name, size, copied))
    })
    .await
    .map_err(|e| AppError::internal(format!("backup task failed: {e}")))?
}

/// Make the daily backup when its slot has come and it was not made yet. Returns the record
/// of the run (also stored) or None when nothing was due.
pub async fn run_if_due(state: &AppState) -> Result<Option<LastRun>, AppError> {
    let Some(minutes) = state.config.backup_time else { return Ok(None) };
    // One check-and-backup at a time (the scheduler's timer and a hand-driven round must not
    // both find the slot undone).
    static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = RUNNING.lock().await;
    let now = state.now();
    let slot = backup::daily_slot(now, minutes, backup::local_offset_ms(now));
    let last = state.db.read(last_run).await?;
    if last.as_ref().is_some_and(|l| l.slot >= slot) {
        return Ok(None);
    }
    let mut run = LastRun { at: now, slot, file: None, size: None, copied_to: None, error: None };
    match make(state, "daily").await {
        Ok((file, size, copied)) => {
            tracing::info!(file = %file, size, "daily backup written and verified");
            (run.file, run.size, run.copied_to) = (Some(file), Some(size), copied);
        }
        Err(e) => {
            tracing::error!(error = %e.message, "daily backup failed");
            run.error = Some(e.message.clone());
        }
    }
    let text = serde_json::to_string(&run).map_err(|e| AppError::internal(e.to_string()))?;
    state.db.write(move |c| settings::store::set(c, LAST_RUN, &text)).await?;
    Ok(Some(run))
}
