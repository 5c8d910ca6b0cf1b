//! Sliding-window limiter keyed by string (client IP, account email, ...), and the widget
//! socket's budgets built from it ([`VisitorBudgets`]).

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

/// One budget counted twice: per visitor (their token, whichever socket they use) and per client
/// IP (however many visitors it makes up). Opening more sockets or new tokens does not reset it.
pub struct Budget {
    visitor: Limiter,
    ip: Limiter,
}

impl Budget {
    pub fn new(per_visitor: Rate, per_ip: Rate) -> Budget {
        Budget { visitor: Limiter::new(per_visitor), ip: Limiter::new(per_ip) }
    }

    /// Take one from both budgets, or from neither: Err(seconds until one is free). `visitor`
    /// is None before a visitor is known (a first hello): only the IP counts.
    pub fn take(&self, visitor: Option<i64>, ip: &str, now: i64) -> Result<(), u64> {
        let key = visitor.map(|v| v.to_string());
        if let Some(k) = &key {
            self.visitor.take(k, now)?;
        }
        if let Err(wait) = self.ip.take(ip, now) {
            if let Some(k) = &key {
                self.visitor.release(k, now);
            }
            return Err(wait);
        }
        Ok(())
    }

    /// Count one for a visitor that did not exist when [`Budget::take`] ran (a first hello,
    /// which created it), so its first connection counts like the ones after.
    pub fn charge_visitor(&self, visitor: i64, now: i64) {
        self.visitor.hit(&visitor.to_string(), now);
    }
}

/// The widget socket's budgets (SPEC S7), shared by every socket of a visitor and of an IP:
/// messages, page views, typing frames, and connections (hello, reconnects).
pub struct VisitorBudgets {
    pub messages: Budget,
    pub pages: Budget,
    pub typing: Budget,
    pub hellos: Budget,
}

impl VisitorBudgets {
    pub fn new(c: &crate::config::Config) -> VisitorBudgets {
        VisitorBudgets {
            messages: Budget::new(c.visitor_message_rate, c.visitor_message_rate_ip),
            pages: Budget::new(c.visitor_page_rate, c.visitor_page_rate_ip),
            typing: Budget::new(c.visitor_typing_rate, c.visitor_typing_rate_ip),
            hellos: Budget::new(c.visitor_hello_rate, c.visitor_hello_rate_ip),
        }
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
    fn a_budget_counts_per_visitor_and_per_ip_and_takes_both_or_neither() {
        let rate = |count| Rate { count, per: Duration::from_secs(10) };
        let b = Budget::new(rate(2), rate(3));
        assert!(b.take(Some(1), "ip", 0).is_ok());
        assert!(b.take(Some(1), "ip", 0).is_ok());
        assert_eq!(b.take(Some(1), "ip", 0), Err(10), "visitor 1 spent its 2");
        assert!(b.take(Some(2), "ip", 0).is_ok(), "the refusal above did not use up the IP's third");
        assert!(b.take(Some(3), "ip", 0).is_err(), "the IP spent its 3");
        assert!(b.take(Some(3), "other-ip", 0).is_ok(), "and visitor 3 kept its budget");
        assert!(b.take(None, "ip", 10_000).is_ok(), "the window passed");
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
