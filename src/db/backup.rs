//! Consistent online snapshots, restore, and the data-dir lock that tells them apart.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::error::AppError;

/// `VACUUM INTO` reads one consistent snapshot (a read transaction in WAL mode does not block
/// the writer) and writes a compact standalone file. We write beside the target and rename,
/// so a crash never leaves a half-written file under the final name.
pub fn snapshot(conn: &Connection, target: &Path) -> Result<(), AppError> {
    if let Some(dir) = target.parent() {
        super::create_private_dir(dir)?;
    }
    let partial = partial_path(target);
    let _ = std::fs::remove_file(&partial);
    conn.execute("VACUUM INTO ?1", [partial.to_string_lossy().as_ref()])?;
    check_integrity(&partial)?;
    std::fs::rename(&partial, target).map_err(|e| AppError::internal(format!("cannot move snapshot into place: {e}")))?;
    Ok(())
}

fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    target.with_file_name(name)
}

/// Back up the live database at `db_path` into `target` (works while `serve` runs).
pub fn backup_file(db_path: &Path, target: &Path) -> Result<(), AppError> {
    if !db_path.exists() {
        return Err(AppError::invalid(format!("no database at {}", db_path.display())));
    }
    if target.exists() {
        return Err(AppError::invalid(format!("{} already exists; refusing to overwrite", target.display())));
    }
    let conn = super::open_connection(db_path)?;
    snapshot(&conn, target)
}

/// `PRAGMA integrity_check` plus a check that the file is a frontdesk database at all.
pub fn check_integrity(path: &Path) -> Result<(), AppError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| AppError::invalid(format!("{} cannot be opened as SQLite: {e}", path.display())))?;
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| AppError::invalid(format!("{} is not a readable SQLite database: {e}", path.display())))?;
    if result != "ok" {
        return Err(AppError::invalid(format!("{} failed the integrity check: {result}", path.display())));
    }
    let is_ours: bool = conn
        .query_row(
            "SELECT count(*) = 2 FROM sqlite_master WHERE type = 'table' AND name IN ('refinery_schema_history', 'agents')",
            [],
            |r| r.get(0),
        )
        .unwrap_or(false);
    if !is_ours {
        return Err(AppError::invalid(format!("{} is not a frontdesk database", path.display())));
    }
    Ok(())
}

/// Replace the database with `source` after verifying it. The caller must hold the data-dir
/// lock (no server running). The replaced database is kept as a snapshot first.
pub fn restore_file(source: &Path, db_path: &Path, backups_dir: &Path, keep: usize) -> Result<Option<PathBuf>, AppError> {
    check_integrity(source)?;
    let mut saved = None;
    if db_path.exists() {
        let conn = super::open_connection(db_path)?;
        let target = backups_dir.join(format!("pre-restore-{}.db", timestamp()));
        snapshot(&conn, &target)?;
        drop(conn);
        prune(backups_dir, "pre-restore-", keep);
        saved = Some(target);
    }
    if let Some(dir) = db_path.parent() {
        super::create_private_dir(dir)?;
    }
    let partial = partial_path(db_path);
    std::fs::copy(source, &partial).map_err(|e| AppError::internal(format!("cannot copy backup: {e}")))?;
    File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| AppError::internal(format!("cannot sync: {e}")))?;
    // The old WAL belongs to the old database; replaying it onto the restored file would corrupt it.
    for suffix in ["-wal", "-shm"] {
        let mut p = db_path.as_os_str().to_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    std::fs::rename(&partial, db_path).map_err(|e| AppError::internal(format!("cannot move restored file: {e}")))?;
    Ok(saved)
}

/// Keep the newest `keep` files in `dir` whose names start with `prefix`.
pub fn prune(dir: &Path, prefix: &str, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix) && n.ends_with(".db")))
        .collect();
    // Names embed a sortable UTC timestamp, so name order is age order.
    files.sort();
    let excess = files.len().saturating_sub(keep);
    for old in &files[..excess] {
        let _ = std::fs::remove_file(old);
    }
}

/// `20261123T073000Z`-style UTC stamp, sortable as text.
pub fn timestamp() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0) as i64;
    timestamp_at(ms)
}

/// [`timestamp`] for a given time (ms since the epoch).
pub fn timestamp_at(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86400));
    let rem = secs.rem_euclid(86400);
    format!("{y:04}{mo:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const DAY_MS: i64 = 86_400_000;

/// Offset of the process's local time (TZ) from UTC at `ms`, in ms.
pub fn local_offset_ms(ms: i64) -> i64 {
    #[cfg(unix)]
    {
        let t = ms.div_euclid(1000) as libc::time_t;
        let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
        // SAFETY: localtime_r only writes the struct we pass; both pointers are valid.
        let filled = unsafe { !libc::localtime_r(&t, tm.as_mut_ptr()).is_null() };
        if filled {
            // SAFETY: localtime_r succeeded, so every field is initialized (and it was zeroed).
            let gmtoff = unsafe { tm.assume_init() }.tm_gmtoff;
            // c_long: i64 here, i32 on 32-bit targets.
            #[allow(clippy::unnecessary_cast)]
            return gmtoff as i64 * 1000;
        }
    }
    let _ = ms;
    0
}

/// The most recent daily slot at or before `now`: local time `minutes` after midnight, as ms
/// since the epoch. `offset_ms` is the local offset from UTC.
pub fn daily_slot(now: i64, minutes: u32, offset_ms: i64) -> i64 {
    let local = now + offset_ms;
    let mut slot = local.div_euclid(DAY_MS) * DAY_MS + minutes as i64 * 60_000;
    if slot > local {
        slot -= DAY_MS;
    }
    slot - offset_ms
}

/// A backup file in a backups directory.
#[derive(serde::Serialize, Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    pub name: String,
    /// daily, manual, pre-migrate or pre-restore (from the name).
    pub kind: String,
    pub size: u64,
    /// Modification time, ms since the epoch.
    pub modified_at: i64,
}

/// The finished backups in `dir` (`*.db`), newest name first.
pub fn list(dir: &Path) -> Vec<BackupFile> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<BackupFile> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.ends_with(".db") {
                return None;
            }
            let meta = e.metadata().ok()?;
            let kind = ["daily", "manual", "pre-migrate", "pre-restore"].into_iter().find(|k| name.starts_with(&format!("{k}-")))?;
            let modified_at =
                meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64).unwrap_or(0);
            Some(BackupFile { kind: kind.to_string(), size: meta.len(), modified_at, name })
        })
        .collect();
    out.sort_by(|a, b| b.name.cmp(&a.name));
    out
}

/// Copy `file` into `dir` (beside, then renamed, then synced) and keep the newest `keep` of
/// `prefix` there.
pub fn copy_into(file: &Path, dir: &Path, prefix: &str, keep: usize) -> Result<PathBuf, AppError> {
    super::create_private_dir(dir)?;
    let name = file.file_name().ok_or_else(|| AppError::internal("backup has no file name"))?;
    let target = dir.join(name);
    let partial = partial_path(&target);
    std::fs::copy(file, &partial).map_err(|e| AppError::internal(format!("cannot copy to {}: {e}", dir.display())))?;
    File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| AppError::internal(format!("cannot sync: {e}")))?;
    std::fs::rename(&partial, &target).map_err(|e| AppError::internal(format!("cannot move copy into place: {e}")))?;
    prune(dir, prefix, keep);
    Ok(target)
}

/// An exclusive advisory lock on `DATA_DIR/frontdesk.lock`, held by `serve` for its lifetime.
/// `restore` takes it too, so it can refuse while a server runs.
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, AppError> {
        super::create_private_dir(data_dir)?;
        let path = data_dir.join("frontdesk.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| AppError::internal(format!("cannot open {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: flock on a file descriptor we own; no memory is shared.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc != 0 {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                return Err(AppError::conflict(if holder.is_empty() {
                    format!("a frontdesk server is running on {}", data_dir.display())
                } else {
                    format!("a frontdesk server is running on {} (pid {holder})", data_dir.display())
                }));
            }
            let _ = file.set_len(0);
            let _ = std::io::Write::write_all(&mut &file, std::process::id().to_string().as_bytes());
        }
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn daily_slots() {
        let day = 86_400_000;
        let midnight = 20_000 * day; // a UTC midnight
        // 03:00 UTC: before it, yesterday's slot; at and after it, today's.
        assert_eq!(daily_slot(midnight + 2 * 3_600_000, 180, 0), midnight - day + 3 * 3_600_000);
        assert_eq!(daily_slot(midnight + 3 * 3_600_000, 180, 0), midnight + 3 * 3_600_000);
        assert_eq!(daily_slot(midnight + 23 * 3_600_000, 180, 0), midnight + 3 * 3_600_000);
        // Local time two hours ahead of UTC: 03:00 local is 01:00 UTC.
        let two = 2 * 3_600_000;
        assert_eq!(daily_slot(midnight + 3_600_000 + 1, 180, two), midnight + 3_600_000);
        assert_eq!(daily_slot(midnight + 3_600_000 - 1, 180, two), midnight + 3_600_000 - day);
        assert_eq!(timestamp_at(midnight + 3 * 3_600_000 + 61_000), "20241004T030101Z");
    }

    #[test]
    fn prune_keeps_newest() {
        let dir = tempfile::tempdir().unwrap();
        for stamp in ["20260101", "20260102", "20260103"] {
            std::fs::write(dir.path().join(format!("pre-migrate-{stamp}.db")), b"x").unwrap();
        }
        std::fs::write(dir.path().join("other.db"), b"x").unwrap();
        prune(dir.path(), "pre-migrate-", 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, ["other.db", "pre-migrate-20260102.db", "pre-migrate-20260103.db"]);
    }

    #[test]
    fn integrity_check_rejects_garbage_and_foreign_databases() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, b"this is not sqlite at all, just text").unwrap();
        assert!(check_integrity(&garbage).is_err());
        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
        let err = check_integrity(&foreign).unwrap_err();
        assert!(err.to_string().contains("not a frontdesk database"), "{err}");
    }

    #[test]
    fn lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let second = DataDirLock::acquire(dir.path());
        assert!(second.is_err());
        drop(first);
        assert!(DataDirLock::acquire(dir.path()).is_ok());
    }
}
