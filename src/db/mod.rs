//! The only module that knows about connections.
//!
//! One writer connection lives on its own thread and takes jobs from a bounded channel;
//! jobs that queue up while a transaction runs are committed together (one fsync for many
//! writes under load), each inside its own savepoint so one failing job never undoes another.
//! A job's caller hears back only after the commit that made its change durable.
//! Reads go to a small pool of read-only connections on the blocking thread pool.

pub mod backup;
pub mod fts;
mod pool;
pub mod seed;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;

use crate::error::AppError;
pub use pool::ReaderPool;
pub use writer::{COMMIT_BUCKETS, WriteStats, Writer};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Applied to every connection we open (per-connection pragmas).
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Room for every statement the message path and the jobs around it cache (the default, 16,
    // let them push each other out on the writer).
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

pub fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    Ok(conn)
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = open_connection(path)?;
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(conn)
}

#[derive(Clone)]
pub struct Db {
    writer: Writer,
    readers: Arc<ReaderPool>,
    path: Arc<PathBuf>,
}

/// What opening did, for the start-up log.
#[derive(Debug, Default)]
pub struct OpenReport {
    pub applied_migrations: Vec<String>,
    pub snapshot: Option<PathBuf>,
}

impl Db {
    /// Open (creating if needed) and migrate the database at `path`. Before migrations touch a
    /// database that already has data, it is snapshotted into `backups_dir` (SPEC A4).
    pub fn open(path: &Path, backups_dir: &Path, backup_keep: usize) -> Result<(Db, OpenReport), AppError> {
        if let Some(parent) = path.parent() {
            create_private_dir(parent)?;
        }
        let mut conn = open_connection(path)?;
        // WAL is a property of the file; set once here, every later connection inherits it.
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(AppError::internal(format!("database refused WAL mode (got {mode})")));
        }
        let report = migrate(&mut conn, backups_dir, backup_keep)?;
        // Messages committed before a crash but not yet in the full-text index go in now.
        let tx = conn.transaction()?;
        fts::catch_up_messages(&tx)?;
        tx.commit()?;
        let readers = ReaderPool::new(path, reader_count(), open_reader)?;
        let writer = Writer::start(conn)?;
        Ok((Db { writer, readers: Arc::new(readers), path: Arc::new(path.to_path_buf()) }, report))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` inside the writer's transaction; resolves after the commit.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        self.writer.write(f).await
    }

    /// Same as [`Db::write`] for synchronous callers (CLI, scheduler threads).
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        self.writer.write_blocking(f)
    }

    /// Run `f` on a pooled read-only connection, off the async threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || readers.with(f)).await.map_err(|e| AppError::internal(format!("reader task failed: {e}")))?
    }

    pub fn read_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&Connection) -> Result<T, AppError>,
    {
        self.readers.with(f)
    }

    pub fn write_stats(&self) -> WriteStats {
        self.writer.stats()
    }

    /// Stop the writer after it has committed everything queued, then checkpoint the WAL.
    pub fn close(&self) -> Result<(), AppError> {
        self.writer.shutdown();
        let conn = open_connection(&self.path)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

fn reader_count() -> usize {
    std::thread::available_parallelism().map(|n| n.get() * 2).unwrap_or(4).clamp(2, 8)
}

pub fn create_private_dir(dir: &Path) -> Result<(), AppError> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| AppError::internal(format!("cannot create {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

fn migrate(conn: &mut Connection, backups_dir: &Path, backup_keep: usize) -> Result<OpenReport, AppError> {
    let runner = embedded::migrations::runner();
    let newest = runner.get_migrations().iter().map(|m| m.version()).max().unwrap_or(0);
    let has_history = count(conn, "SELECT count(*) FROM sqlite_master WHERE name = 'refinery_schema_history'", [])? > 0;
    let current = if has_history {
        runner
            .get_last_applied_migration(conn)
            .map_err(|e| AppError::internal(format!("reading migration history: {e}")))?
            .map(|m| m.version())
            .unwrap_or(0)
    } else {
        0
    };
    let mut report = OpenReport::default();
    if current >= newest {
        return Ok(report);
    }
    if current > 0 {
        let stamp = backup::timestamp();
        let target = backups_dir.join(format!("pre-migrate-v{current}-{stamp}.db"));
        backup::snapshot(conn, &target)?;
        backup::prune(backups_dir, "pre-migrate-", backup_keep);
        report.snapshot = Some(target);
    }
    let done = runner.run(conn).map_err(|e| AppError::internal(format!("migration failed: {e}")))?;
    report.applied_migrations = done.applied_migrations().iter().map(|m| m.to_string()).collect();
    Ok(report)
}

/// Highest migration version compiled into this binary.
pub fn newest_migration() -> u32 {
    embedded::migrations::runner().get_migrations().iter().map(|m| m.version()).max().unwrap_or(0) as u32
}

/// Count rows in a query expected to return one integer (helper for store modules).
/// The cheapest round trip through SQLite (readiness probe).
pub fn ping(conn: &Connection) -> Result<(), AppError> {
    conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
    Ok(())
}

pub fn count(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<i64, AppError> {
    Ok(conn.query_row(sql, params, |r| r.get(0))?)
}

/// A connection to a fresh, migrated database in a temp dir (kept alive by the returned dir),
/// for unit tests of store functions.
#[cfg(test)]
pub fn test_connection() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let (db, _) = Db::open(&path, &dir.path().join("backups"), 3).unwrap();
    db.close().unwrap();
    let conn = open_connection(&path).unwrap();
    (dir, conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_a_database_with_data_snapshots_it_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frontdesk.db");
        let backups = dir.path().join("backups");
        // An "old" database: only the first migration applied, with a row in it.
        {
            let mut conn = open_connection(&path).unwrap();
            embedded::migrations::runner().set_target(refinery::Target::Version(1)).run(&mut conn).unwrap();
            conn.execute("INSERT INTO departments (name, visible, created_at) VALUES ('Sales', 1, 0)", []).unwrap();
        }
        let (db, report) = Db::open(&path, &backups, 3).unwrap();
        let snap = report.snapshot.expect("snapshot taken");
        assert!(snap.file_name().unwrap().to_string_lossy().starts_with("pre-migrate-v1-"));
        assert!(!report.applied_migrations.is_empty());
        backup::check_integrity(&snap).unwrap();
        let old = rusqlite::Connection::open(&snap).unwrap();
        let n: i64 = old.query_row("SELECT count(*) FROM departments", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "the snapshot holds the pre-migration data");
        let has_chat: i64 = old.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'messages'", [], |r| r.get(0)).unwrap();
        assert_eq!(has_chat, 0, "and the pre-migration schema");
        db.close().unwrap();
        // Opening again: nothing pending, no new snapshot.
        let (db, report) = Db::open(&path, &backups, 3).unwrap();
        assert!(report.snapshot.is_none() && report.applied_migrations.is_empty());
        db.close().unwrap();
    }

    #[test]
    fn batched_writes_commit_together_and_failures_stay_isolated() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open(&dir.path().join("t.db"), &dir.path().join("b"), 3).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            // Keep the writer busy so the next jobs queue up behind it, as under load.
            let (started_tx, started_rx) = tokio::sync::oneshot::channel();
            let busy = {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(move |_| {
                        let _ = started_tx.send(());
                        std::thread::sleep(std::time::Duration::from_millis(200));
                        Ok(())
                    })
                    .await
                })
            };
            started_rx.await.unwrap();
            let mut tasks = Vec::new();
            for i in 0..200 {
                let db = db.clone();
                tasks.push(tokio::spawn(async move {
                    db.write(move |c| {
                        if i % 10 == 0 {
                            // A failing job after it already wrote: only its own savepoint rolls back.
                            c.execute("INSERT INTO departments (name, created_at) VALUES (?1, 0)", [format!("bad{i}")])?;
                            return Err(AppError::invalid("refused"));
                        }
                        c.execute("INSERT INTO departments (name, created_at) VALUES (?1, 0)", [format!("d{i}")])?;
                        Ok(i)
                    })
                    .await
                }));
            }
            let mut ok = 0;
            for t in tasks {
                if t.await.unwrap().is_ok() {
                    ok += 1;
                }
            }
            busy.await.unwrap().unwrap();
            assert_eq!(ok, 180);
            let n = db.read(|c| count(c, "SELECT count(*) FROM departments", [])).await.unwrap();
            assert_eq!(n, 180);
            let bad = db.read(|c| count(c, "SELECT count(*) FROM departments WHERE name LIKE 'bad%'", [])).await.unwrap();
            assert_eq!(bad, 0);
            let stats = db.write_stats();
            assert!(stats.batches <= 3, "jobs were batched: {} transactions for {} jobs", stats.batches, stats.jobs);
        });
        db.close().unwrap();
        // After close, writes are refused rather than silently dropped.
        assert!(db.write_blocking(|_| Ok(())).is_err());
    }
}
