//! A tiny fixed-size pool of read-only connections.

use std::path::Path;
use std::sync::{Condvar, Mutex};

use rusqlite::Connection;

use crate::error::AppError;

pub struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    available: Condvar,
}

impl ReaderPool {
    pub fn new(path: &Path, size: usize, open: fn(&Path) -> rusqlite::Result<Connection>) -> Result<ReaderPool, AppError> {
        let conns = (0..size).map(|_| open(path)).collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ReaderPool { idle: Mutex::new(conns), available: Condvar::new() })
    }

    /// Borrow a connection for the duration of `f` (blocks while all are busy).
    pub fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T, AppError>) -> Result<T, AppError> {
        let conn = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(c) = idle.pop() {
                    break c;
                }
                idle = self.available.wait(idle).unwrap_or_else(|p| p.into_inner());
            }
        };
        // Give the connection back even if `f` panics.
        struct Return<'a>(&'a ReaderPool, Option<Connection>);
        impl Drop for Return<'_> {
            fn drop(&mut self) {
                if let Some(c) = self.1.take() {
                    self.0.idle.lock().unwrap_or_else(|p| p.into_inner()).push(c);
                    self.0.available.notify_one();
                }
            }
        }
        let guard = Return(self, Some(conn));
        f(guard.1.as_ref().expect("connection present"))
    }
}
