//! In-memory limits on file traffic: upload quotas (bytes per hour per visitor and per client
//! IP) and the number of downloads one client IP may run at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::Config;

/// Past this many keys, keys without bytes in the window are swept before a new one is admitted.
const SWEEP_AT: usize = 10_000;

/// The quota window: limits are bytes per hour.
pub const QUOTA_WINDOW_MS: i64 = 3_600_000;

/// One upload's bytes under one key, counted from when the upload started.
struct Entry {
    at: i64,
    upload: u64,
    bytes: u64,
}

/// Bytes per key in a sliding hour. An upload reserves its bytes as they arrive (under several
/// keys at once, all or none), so parallel uploads cannot together pass a limit; an upload
/// that fails gives its bytes back (they were not stored).
pub struct UploadQuota {
    entries: Mutex<HashMap<String, Vec<Entry>>>,
    next_upload: AtomicU64,
}

impl Default for UploadQuota {
    fn default() -> Self {
        Self::new()
    }
}

impl UploadQuota {
    pub fn new() -> UploadQuota {
        UploadQuota { entries: Mutex::new(HashMap::new()), next_upload: AtomicU64::new(1) }
    }

    /// A fresh id for one upload's reservations.
    pub fn start(&self) -> u64 {
        self.next_upload.fetch_add(1, Ordering::Relaxed)
    }

    /// Add `bytes` to `upload`'s reservation under every key, or under none when any key would
    /// pass its limit: then Err(seconds until enough bytes leave that key's window).
    pub fn reserve(&self, keys: &[(String, u64)], upload: u64, now: i64, bytes: u64) -> Result<(), u64> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= SWEEP_AT {
            map.retain(|_, v| v.iter().any(|e| e.at > now - QUOTA_WINDOW_MS));
        }
        for (key, limit) in keys {
            if let Some(v) = map.get_mut(key) {
                v.retain(|e| e.at > now - QUOTA_WINDOW_MS || e.upload == upload);
            }
            let list = map.get(key).map(Vec::as_slice).unwrap_or(&[]);
            let used: u64 = list.iter().map(|e| e.bytes).sum();
            if used + bytes > *limit {
                return Err(wait_secs(list, used + bytes - limit, now));
            }
        }
        for (key, _) in keys {
            let v = map.entry(key.clone()).or_default();
            match v.iter_mut().find(|e| e.upload == upload) {
                Some(e) => e.bytes += bytes,
                None => v.push(Entry { at: now, upload, bytes }),
            }
        }
        Ok(())
    }

    /// Whether `bytes` more would fit under every key now, reserving nothing.
    pub fn check(&self, keys: &[(String, u64)], now: i64, bytes: u64) -> Result<(), u64> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for (key, limit) in keys {
            let list = map.get(key).map(Vec::as_slice).unwrap_or(&[]);
            let live: Vec<&Entry> = list.iter().filter(|e| e.at > now - QUOTA_WINDOW_MS).collect();
            let used: u64 = live.iter().map(|e| e.bytes).sum();
            if used + bytes > *limit {
                let mut times: Vec<(i64, u64)> = live.iter().map(|e| (e.at, e.bytes)).collect();
                times.sort_unstable();
                return Err(wait_from(&times, used + bytes - limit, now));
            }
        }
        Ok(())
    }

    /// Give back everything `upload` reserved.
    pub fn release(&self, keys: &[(String, u64)], upload: u64) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        for (key, _) in keys {
            if let Some(v) = map.get_mut(key) {
                v.retain(|e| e.upload != upload);
                if v.is_empty() {
                    map.remove(key);
                }
            }
        }
    }
}

fn wait_secs(list: &[Entry], need: u64, now: i64) -> u64 {
    let mut times: Vec<(i64, u64)> = list.iter().map(|e| (e.at, e.bytes)).collect();
    times.sort_unstable();
    wait_from(&times, need, now)
}

/// Seconds until entries (sorted by start) worth `need` bytes have left the window; a whole
/// window when even that would not free enough.
fn wait_from(times: &[(i64, u64)], need: u64, now: i64) -> u64 {
    let mut freed = 0;
    for &(at, bytes) in times {
        freed += bytes;
        if freed >= need {
            return ((at + QUOTA_WINDOW_MS - now).max(0) as u64).div_ceil(1000).max(1);
        }
    }
    (QUOTA_WINDOW_MS / 1000) as u64
}

/// Downloads running per client IP, with a cap.
pub struct DownloadSlots {
    per_ip: usize,
    active: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One running download; its place is given back when it is dropped (the response finished
/// or the client went away).
pub struct DownloadSlot {
    ip: IpAddr,
    active: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl DownloadSlots {
    pub fn new(per_ip: usize) -> DownloadSlots {
        DownloadSlots { per_ip, active: Arc::default() }
    }

    /// A place for one more download from `ip`, or None when it already runs `per_ip`.
    pub fn acquire(&self, ip: IpAddr) -> Option<DownloadSlot> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        let n = active.entry(ip).or_insert(0);
        if *n >= self.per_ip {
            return None;
        }
        *n += 1;
        Some(DownloadSlot { ip, active: self.active.clone() })
    }

    /// Downloads running now from `ip`.
    pub fn running(&self, ip: IpAddr) -> usize {
        self.active.lock().unwrap_or_else(|p| p.into_inner()).get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for DownloadSlot {
    fn drop(&mut self) {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = active.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                active.remove(&self.ip);
            }
        }
    }
}

/// Slices all downloads together read from the database at once.
pub const DOWNLOAD_READS: usize = 2;

/// The file limits kept in [`crate::state::AppState`].
pub struct FileLimits {
    pub uploads: UploadQuota,
    pub downloads: DownloadSlots,
    /// [`DOWNLOAD_READS`] permits: a download waits for one (asynchronously) to read a slice.
    pub reads: tokio::sync::Semaphore,
}

impl FileLimits {
    pub fn new(config: &Config) -> FileLimits {
        FileLimits {
            uploads: UploadQuota::new(),
            downloads: DownloadSlots::new(config.download_concurrency_ip),
            reads: tokio::sync::Semaphore::new(DOWNLOAD_READS),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: u64, ip: u64) -> Vec<(String, u64)> {
        vec![("v1".into(), v), ("ip".into(), ip)]
    }

    #[test]
    fn reservations_grow_per_upload_and_fail_all_or_nothing() {
        let q = UploadQuota::new();
        let (a, b) = (q.start(), q.start());
        let k = keys(100, 150);
        assert!(q.reserve(&k, a, 0, 60).is_ok());
        assert!(q.reserve(&k, a, 10, 30).is_ok());
        // Visitor key: 90 + 20 > 100. Nothing is reserved under the IP key either.
        assert_eq!(q.reserve(&k, b, 1000, 20), Err(3599));
        let other = vec![("v2".into(), 100), ("ip".into(), 150)];
        assert!(q.reserve(&other, b, 1000, 60).is_ok(), "the IP key still had 60 free");
        assert!(q.reserve(&other, b, 1000, 1).is_err(), "IP at 150");
        assert!(q.check(&other, 1000, 1).is_err());
        // A failed upload gives its bytes back.
        q.release(&k, a);
        assert!(q.check(&k, 1000, 90).is_ok());
        // Bytes leave the window an hour after their upload started.
        assert!(q.reserve(&other, q.start(), 2000, 50).is_err());
        assert_eq!(q.check(&other, 2000, 50), Err(3599));
        assert!(q.check(&other, 1000 + QUOTA_WINDOW_MS + 1, 50).is_ok());
    }

    #[test]
    fn download_slots_are_capped_per_ip_and_given_back_on_drop() {
        let slots = DownloadSlots::new(2);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let a = slots.acquire(ip).unwrap();
        let _b = slots.acquire(ip).unwrap();
        assert!(slots.acquire(ip).is_none());
        assert!(slots.acquire(other).is_some());
        drop(a);
        assert_eq!(slots.running(ip), 1);
        assert!(slots.acquire(ip).is_some());
    }
}
