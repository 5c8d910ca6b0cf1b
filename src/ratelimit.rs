//! Sliding-window limiter keyed by string (client IP, account email, ...).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::config::Rate;

/// Past this many keys, stale ones are swept before a new key is admitted, so a flood of
/// distinct keys cannot grow memory without bound.
const SWEEP_AT: usize = 10_000;

pub struct Limiter {
    rate: Rate,
    hits: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Limiter {
    pub fn new(rate: Rate) -> Limiter {
        Limiter { rate, hits: Mutex::new(HashMap::new()) }
    }

    fn window_ms(&self) -> i64 {
        self.rate.per.as_millis() as i64
    }

    /// Ok when another hit is allowed now; Err(seconds until one is).
    pub fn check(&self, key: &str, now: i64) -> Result<(), u64> {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        self.room(&mut hits, key, now)
    }

    fn room(&self, hits: &mut HashMap<String, VecDeque<i64>>, key: &str, now: i64) -> Result<(), u64> {
        let Some(q) = hits.get_mut(key) else { return Ok(()) };
        let window = self.window_ms();
        while q.front().is_some_and(|&t| t <= now - window) {
            q.pop_front();
        }
        if q.len() < self.rate.count as usize {
            return Ok(());
        }
        let oldest = *q.front().expect("non-empty");
        Err(((oldest + window - now).max(0) as u64).div_ceil(1000).max(1))
    }

    pub fn hit(&self, key: &str, now: i64) {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        self.record(&mut hits, key, now);
    }

    fn record(&self, hits: &mut HashMap<String, VecDeque<i64>>, key: &str, now: i64) {
        let window = self.window_ms();
        if hits.len() >= SWEEP_AT && !hits.contains_key(key) {
            hits.retain(|_, q| q.back().is_some_and(|&t| t > now - window));
        }
        let q = hits.entry(key.to_string()).or_default();
        q.push_back(now);
        while q.len() > self.rate.count as usize {
            q.pop_front();
        }
    }

    /// Reserve a hit: `check` and `hit` under one lock, so simultaneous callers cannot all pass
    /// the check before any of them is counted. Give it back with [`Limiter::release`] when the
    /// attempt should not count after all (a successful login).
    pub fn take(&self, key: &str, now: i64) -> Result<(), u64> {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        self.room(&mut hits, key, now)?;
        self.record(&mut hits, key, now);
        Ok(())
    }

    /// Give back one hit taken at `at` (no-op when it already left the window).
    pub fn release(&self, key: &str, at: i64) {
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = hits.get_mut(key) {
            if let Some(i) = q.iter().rposition(|&t| t == at) {
                q.remove(i);
            }
            if q.is_empty() {
                hits.remove(key);
            }
        }
    }

    pub fn clear(&self, key: &str) {
        self.hits.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_count_per_window_then_reports_wait() {
        let l = Limiter::new(Rate { count: 3, per: Duration::from_secs(60) });
        for t in [0, 1000, 2000] {
            assert!(l.take("a", t).is_ok());
        }
        assert_eq!(l.take("a", 3000), Err(57));
        assert!(l.take("b", 3000).is_ok(), "keys are independent");
        assert!(l.take("a", 60_001).is_ok(), "oldest hit left the window");
        l.clear("a");
        assert!(l.check("a", 60_002).is_ok());
    }

    #[test]
    fn take_is_atomic_across_threads_and_release_gives_back() {
        let l = std::sync::Arc::new(Limiter::new(Rate { count: 5, per: Duration::from_secs(60) }));
        let admitted: usize = (0..16)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || (0..50).filter(|_| l.take("k", 1000).is_ok()).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(admitted, 5);
        l.release("k", 1000);
        assert!(l.take("k", 1000).is_ok(), "a released hit frees its place");
        assert!(l.take("k", 1000).is_err());
        l.release("k", 7); // never taken at that time: nothing changes
        assert!(l.take("k", 1000).is_err());
    }

    #[test]
    fn many_keys_are_swept() {
        let l = Limiter::new(Rate { count: 1, per: Duration::from_secs(1) });
        for i in 0..SWEEP_AT {
            l.hit(&i.to_string(), 0);
        }
        l.hit("late", 5_000);
        assert_eq!(l.hits.lock().unwrap().len(), 1);
    }
}
