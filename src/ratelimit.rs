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

    /// `check` then `hit` in one step.
    pub fn take(&self, key: &str, now: i64) -> Result<(), u64> {
        self.check(key, now)?;
        self.hit(key, now);
        Ok(())
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
    fn many_keys_are_swept() {
        let l = Limiter::new(Rate { count: 1, per: Duration::from_secs(1) });
        for i in 0..SWEEP_AT {
            l.hit(&i.to_string(), 0);
        }
        l.hit("late", 5_000);
        assert_eq!(l.hits.lock().unwrap().len(), 1);
    }
}
