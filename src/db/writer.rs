//! The single writer thread.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::fts;
use crate::error::AppError;

/// Bounded so a write flood applies back-pressure to request handlers instead of growing memory.
const QUEUE: usize = 1024;
/// Most jobs folded into one transaction; keeps commit latency bounded under load.
const MAX_BATCH: usize = 256;

/// A job runs inside the open transaction and hands back what to do once the outcome of the
/// commit is known.
type Done = Box<dyn FnOnce(Result<(), AppError>) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Done + Send>;

enum Msg {
    Job(Job),
    Shutdown(std::sync::mpsc::SyncSender<()>),
}

/// Upper bounds (seconds) of the commit-time histogram's buckets; the last one is +Inf. A commit
/// is where the fsync happens: one slow disk flush holds every message of its batch, so the
/// benchmark reads these to tell a storage stall from a slow server (BENCHMARKS P2).
pub const COMMIT_BUCKETS: [f64; 4] = [0.005, 0.025, 0.1, f64::INFINITY];

#[derive(Default)]
struct Counters {
    jobs: AtomicU64,
    batches: AtomicU64,
    failed_commits: AtomicU64,
    /// Commits per bucket of [`COMMIT_BUCKETS`] (not cumulative), and their total time.
    commit_buckets: [AtomicU64; 4],
    commit_micros: AtomicU64,
}

impl Counters {
    fn commit_took(&self, took: std::time::Duration) {
        let s = took.as_secs_f64();
        let i = COMMIT_BUCKETS.iter().position(|&le| s <= le).unwrap_or(COMMIT_BUCKETS.len() - 1);
        self.commit_buckets[i].fetch_add(1, Ordering::Relaxed);
        self.commit_micros.fetch_add(took.as_micros() as u64, Ordering::Relaxed);
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct WriteStats {
    pub jobs: u64,
    pub batches: u64,
    pub failed_commits: u64,
    /// Commits per bucket of [`COMMIT_BUCKETS`] (not cumulative).
    pub commit_buckets: [u64; 4],
    pub commit_seconds: f64,
}

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    counters: Arc<Counters>,
}

impl Writer {
    pub fn start(conn: Connection) -> Result<Writer, AppError> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || run(conn, rx, c))
            .map_err(|e| AppError::internal(format!("cannot start writer thread: {e}")))?;
        Ok(Writer { tx, counters })
    }

    fn job<T, F>(f: F) -> (Job, oneshot::Receiver<Result<T, AppError>>)
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        let (otx, orx) = oneshot::channel();
        let job: Job = Box::new(move |conn: &Connection| -> Done {
            // Cached: every job opens and releases its savepoint (two statements parsed per job
            // otherwise, on the message path's one thread).
            if let Err(e) = conn.prepare_cached("SAVEPOINT job").and_then(|mut s| s.execute([])) {
                let e = AppError::from(e);
                return Box::new(move |_| {
                    let _ = otx.send(Err(e));
                });
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|_| Err(AppError::internal("write job panicked")));
            match outcome {
                Ok(v) => {
                    if let Err(e) = conn.prepare_cached("RELEASE job").and_then(|mut s| s.execute([])) {
                        let e = AppError::from(e);
                        let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                        return Box::new(move |_| {
                            let _ = otx.send(Err(e));
                        });
                    }
                    Box::new(move |commit| {
                        let _ = otx.send(commit.map(|_| v));
                    })
                }
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
                    Box::new(move |_| {
                        let _ = otx.send(Err(e));
                    })
                }
            }
        });
        (job, orx)
    }

    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        let (job, rx) = Self::job(f);
        self.tx.send(Msg::Job(job)).await.map_err(|_| AppError::unavailable("database is shutting down"))?;
        rx.await.map_err(|_| AppError::internal("writer dropped a job"))?
    }

    pub fn write_blocking<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        let (job, rx) = Self::job(f);
        self.tx.blocking_send(Msg::Job(job)).map_err(|_| AppError::unavailable("database is shutting down"))?;
        rx.blocking_recv().map_err(|_| AppError::internal("writer dropped a job"))?
    }

    /// Commit what is queued, then stop. Safe to call more than once. Blocks the calling
    /// thread (meant for shutdown paths: the CLI, tests, `spawn_blocking`).
    pub fn shutdown(&self) {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let mut msg = Msg::Shutdown(tx);
        // try_send in a loop rather than blocking_send: this may run on a thread that belongs
        // to a runtime, where blocking_send panics. A full queue drains within milliseconds.
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(mpsc::error::TrySendError::Full(m)) => {
                    msg = m;
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
        let _ = rx.recv();
    }

    pub fn stats(&self) -> WriteStats {
        WriteStats {
            jobs: self.counters.jobs.load(Ordering::Relaxed),
            batches: self.counters.batches.load(Ordering::Relaxed),
            failed_commits: self.counters.failed_commits.load(Ordering::Relaxed),
            commit_buckets: std::array::from_fn(|i| self.counters.commit_buckets[i].load(Ordering::Relaxed)),
            commit_seconds: self.counters.commit_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Msg>, counters: Arc<Counters>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut stop: Option<std::sync::mpsc::SyncSender<()>> = None;
    // Chat messages wait for the full-text indexer (db::fts); it runs when the queue is empty
    // and INDEX_PAUSE has passed since its last run (each run is a commit with its own fsync:
    // after every batch, at low rates it doubled the fsyncs a message could wait behind), and
    // at least every INDEX_EVERY under constant load. Rows left over when the writer goes idle
    // wait for the next job, a search (which catches up first) or the next start.
    let mut index_more = true;
    let mut last_index = Instant::now();
    while stop.is_none() {
        let first = if index_more && last_index.elapsed() >= fts::INDEX_PAUSE {
            match rx.try_recv() {
                Ok(m) => Some(m),
                Err(mpsc::error::TryRecvError::Empty) => None,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        } else {
            match rx.blocking_recv() {
                Some(m) => Some(m),
                None => break,
            }
        };
        match first {
            Some(Msg::Job(j)) => batch.push(j),
            Some(Msg::Shutdown(ack)) => stop = Some(ack),
            None => {}
        }
        while batch.len() < MAX_BATCH && stop.is_none() {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Shutdown(ack)) => stop = Some(ack),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&conn, &mut batch, &counters);
            index_more = true;
        }
        let since = last_index.elapsed();
        if stop.is_none() && index_more && ((rx.is_empty() && since >= fts::INDEX_PAUSE) || since >= fts::INDEX_EVERY) {
            index_more = index_chunk(&conn);
            last_index = Instant::now();
        }
    }
    // Anything still queued behind the shutdown request is refused by dropping it: callers get
    // an error, never a false acknowledgement.
    rx.close();
    drop(conn);
    if let Some(ack) = stop {
        let _ = ack.send(());
    }
}

/// One chunk of full-text indexing in its own transaction. True when more is waiting.
fn index_chunk(conn: &Connection) -> bool {
    match fts::messages_pending(conn) {
        Ok(false) => return false,
        Ok(true) => {}
        Err(e) => {
            tracing::error!(error = %e, "full-text index: cannot read progress");
            return false;
        }
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "full-text index: cannot begin");
        return false;
    }
    match fts::index_messages(conn, fts::INDEX_CHUNK) {
        Ok(n) => match conn.execute_batch("COMMIT") {
            Ok(()) => n == fts::INDEX_CHUNK,
            Err(e) => {
                tracing::error!(error = %e, "full-text index: commit failed");
                let _ = conn.execute_batch("ROLLBACK");
                false
            }
        },
        Err(e) => {
            // Left for the next start (or the next search's catch-up) rather than retried in a loop.
            tracing::error!(error = %e, "full-text index: indexing failed");
            let _ = conn.execute_batch("ROLLBACK");
            false
        }
    }
}

fn commit_batch(conn: &Connection, batch: &mut Vec<Job>, counters: &Counters) {
    let n = batch.len() as u64;
    // Cached like every statement on the message path: one batch per few messages at speed.
    let done: Vec<Done> = match conn.prepare_cached("BEGIN IMMEDIATE").and_then(|mut s| s.execute([])) {
        Ok(_) => {
            let done: Vec<Done> = batch.drain(..).map(|job| job(conn)).collect();
            let started = Instant::now();
            let committed = conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([]));
            counters.commit_took(started.elapsed());
            match committed {
                Ok(_) => {
                    for d in done {
                        d(Ok(()));
                    }
                    counters.jobs.fetch_add(n, Ordering::Relaxed);
                    counters.batches.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "commit failed; rolling back batch");
                    let _ = conn.execute_batch("ROLLBACK");
                    done
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot begin write transaction");
            // Dropping a job unrun drops its reply channel: the caller gets an error.
            batch.clear();
            counters.failed_commits.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    counters.failed_commits.fetch_add(1, Ordering::Relaxed);
    for d in done {
        d(Err(AppError::unavailable("the database could not commit; nothing was saved")));
    }
}
