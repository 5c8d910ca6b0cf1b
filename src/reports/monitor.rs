//! The live monitor (SPEC M1): queue, chats in progress, free slots and agents by status per
//! department, today's outcomes, and the queue-wait norm that turns a department red. `build`
//! is pure; `current` reads the facts; `spawn` pushes a `monitor` frame to every console that
//! watches (supervisors and admins, agent frame `monitor`) whenever the picture changes.
//!
//! The graphs of the last hours (`history`) are computed from the stored facts — the chats'
//! times and the agents' status history — not kept in memory, so they are the same after a
//! restart: `history` is pure; `current` reads the facts for the window, and the pusher
//! re-reads them when a new 5-minute point starts (in between it raises the current point to
//! the live figures).

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::web;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::realtime::{Audience, ServerFrame};
use crate::routing::{AgentLoad, AgentStatus};
use crate::state::AppState;

/// How often the monitor is recomputed while someone watches (and pushed when it changed).
pub const TICK: Duration = Duration::from_secs(1);
pub const DEFAULT_WAIT_NORM_S: i64 = 60;

/// Admin report settings (`GET/PATCH /api/v1/settings/reports`), stored as one JSON value.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// The shop's time zone (IANA name): report days, weeks and months, the monitor's "today".
    pub timezone: String,
    /// Queue-wait norm in seconds for departments without their own.
    pub wait_norm_s: i64,
    /// Per-department norms, by department id.
    pub department_wait_norm_s: BTreeMap<i64, i64>,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings { timezone: "UTC".into(), wait_norm_s: DEFAULT_WAIT_NORM_S, department_wait_norm_s: BTreeMap::new() }
    }
}

impl ReportSettings {
    pub fn validate(&self) -> Result<(), AppError> {
        jiff::tz::TimeZone::get(&self.timezone).map_err(|_| AppError::invalid("timezone: not a known IANA time zone"))?;
        let ok = |v: i64| (1..=86_400).contains(&v);
        if !ok(self.wait_norm_s) || !self.department_wait_norm_s.values().all(|v| ok(*v)) {
            return Err(AppError::invalid("wait_norm_s: between 1 and 86400 seconds"));
        }
        if self.department_wait_norm_s.len() > 500 {
            return Err(AppError::invalid("department_wait_norm_s: at most 500 departments"));
        }
        Ok(())
    }
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.timezone).unwrap_or(jiff::tz::TimeZone::UTC)
    }
    pub fn norm_s(&self, department: Option<i64>) -> i64 {
        department.and_then(|d| self.department_wait_norm_s.get(&d).copied()).unwrap_or(self.wait_norm_s)
    }
}

/// One line of the monitor (a department; `id` null: chats without one).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct DeptLine {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub queue: u64,
    pub longest_wait_s: i64,
    pub in_progress: i64,
    /// Free slots of accepting agents who serve it.
    pub free_slots: i64,
    pub wait_norm_s: i64,
    /// The longest wait is past the norm and nobody has a free slot.
    pub alert: bool,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct AgentsByStatus {
    pub accepting: u64,
    pub not_accepting: u64,
    pub offline: u64,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct Today {
    pub served: u64,
    pub missed: u64,
    pub cancelled: u64,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Monitor {
    pub departments: Vec<DeptLine>,
    pub queue: u64,
    pub longest_wait_s: i64,
    pub in_progress: i64,
    pub free_slots: i64,
    pub agents: AgentsByStatus,
    /// Chats that started today (shop time zone) and ended, by outcome.
    pub today: Today,
    /// Some department is red.
    pub alert: bool,
    /// The graphs of the last [`HISTORY_HOURS`] hours.
    pub history: History,
}

/// How far back the monitor's graphs go, and the width of one point.
pub const HISTORY_HOURS: i64 = 6;
pub const HISTORY_STEP_MS: i64 = 5 * 60_000;
/// Chats that started this long before the graphs' window are not read: a chat still waiting
/// or in progress after more than a day is left out of the graphs (not of the live figures).
pub const HISTORY_LOOKBACK_MS: i64 = 24 * 3_600_000;

/// One point of the graphs: the highest value within `[at, at + step)` (milliseconds).
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct HistoryPoint {
    pub at: i64,
    /// Chats waiting in the queue at once.
    pub queue: u64,
    /// Chats with an agent at once.
    pub in_progress: u64,
    /// Agents accepting chats at once.
    pub accepting: u64,
    /// Agents online (accepting or not accepting) at once.
    pub online: u64,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct History {
    pub step_s: i64,
    /// Oldest first; the last one is the current (still open) 5 minutes.
    pub points: Vec<HistoryPoint>,
}

/// The graphs' window at `now`: `[start, end)`, `end` the end of the point `now` falls in.
pub fn history_window(now: i64) -> (i64, i64) {
    let end = (now.div_euclid(HISTORY_STEP_MS) + 1) * HISTORY_STEP_MS;
    (end - HISTORY_HOURS * 3_600_000, end)
}

/// The highest number of `[from, to)` spans that overlap at once within each step of
/// `[start, start + n * step)`.
fn peaks(spans: &[(i64, i64)], start: i64, step: i64, n: usize) -> Vec<u64> {
    let end = start + step * n as i64;
    let mut events: Vec<(i64, i64)> = Vec::with_capacity(spans.len() * 2);
    for &(a, b) in spans.iter().filter(|(a, b)| a < b && *b > start && *a < end) {
        events.push((a.max(start), 1));
        events.push((b, -1));
    }
    // At the same instant an end comes before a start: `[a, b)` and `[b, c)` never overlap.
    events.sort_unstable();
    let (mut cur, mut i) = (0i64, 0usize);
    (0..n)
        .map(|k| {
            let (bs, be) = (start + step * k as i64, start + step * (k as i64 + 1));
            while i < events.len() && events[i].0 <= bs {
                cur += events[i].1;
                i += 1;
            }
            let mut peak = cur;
            while i < events.len() && events[i].0 < be {
                cur += events[i].1;
                peak = peak.max(cur);
                i += 1;
            }
            peak.max(0) as u64
        })
        .collect()
}

/// The graphs from the stored facts: chats (a chat waits from its start until an agent has it
/// or it ends, and is in progress from then until it ends) and the agents' status timelines.
/// Nothing is known after `now`.
pub fn history(chats: &[super::ChatFact], timelines: &[super::Timeline], now: i64) -> History {
    let (start, end) = history_window(now);
    let n = ((end - start) / HISTORY_STEP_MS) as usize;
    let open = |t: Option<i64>| t.unwrap_or(i64::MAX).min(now + 1);
    let waiting: Vec<(i64, i64)> = chats
        .iter()
        .map(|c| {
            (
                c.created_at,
                open(match (c.assigned_at, c.ended_at) {
                    (Some(a), Some(e)) => Some(a.min(e)),
                    (a, e) => a.or(e),
                }),
            )
        })
        .collect();
    let serving: Vec<(i64, i64)> = chats.iter().filter_map(|c| Some((c.assigned_at?, open(c.ended_at)))).collect();
    let mut timelines = timelines.to_vec();
    super::until_now(&mut timelines, now + 1);
    let (mut accepting, mut online) = (Vec::new(), Vec::new());
    for t in &timelines {
        for (status, a, b) in super::intervals(t, start, end) {
            match status {
                AgentStatus::Accepting => {
                    accepting.push((a, b));
                    online.push((a, b));
                }
                AgentStatus::NotAccepting => online.push((a, b)),
                AgentStatus::Offline => {}
            }
        }
    }
    let (q, p, a, o) = (
        peaks(&waiting, start, HISTORY_STEP_MS, n),
        peaks(&serving, start, HISTORY_STEP_MS, n),
        peaks(&accepting, start, HISTORY_STEP_MS, n),
        peaks(&online, start, HISTORY_STEP_MS, n),
    );
    History {
        step_s: HISTORY_STEP_MS / 1000,
        points: (0..n)
            .map(|k| HistoryPoint { at: start + HISTORY_STEP_MS * k as i64, queue: q[k], in_progress: p[k], accepting: a[k], online: o[k] })
            .collect(),
    }
}

/// The current point is at least what the monitor shows now (between two reads of the facts).
fn raise_last(m: &mut Monitor) {
    if let Some(last) = m.history.points.last_mut() {
        last.queue = last.queue.max(m.queue);
        last.in_progress = last.in_progress.max(m.in_progress.max(0) as u64);
        last.accepting = last.accepting.max(m.agents.accepting);
        last.online = last.online.max(m.agents.accepting + m.agents.not_accepting);
    }
}

/// What the monitor is computed from.
pub struct Facts {
    pub now: i64,
    pub departments: Vec<(i64, String)>,
    pub waiting: Vec<(Option<i64>, i64)>,
    pub in_progress: Vec<(Option<i64>, i64)>,
    pub agents: Vec<AgentLoad>,
    pub today: Today,
}

pub fn build(f: &Facts, s: &ReportSettings) -> Monitor {
    let mut lines: Vec<DeptLine> = f
        .departments
        .iter()
        .map(|(id, name)| (Some(*id), Some(name.clone())))
        .chain([(None, None)])
        .map(|(id, name)| {
            let waits: Vec<i64> = f.waiting.iter().filter(|w| w.0 == id).map(|w| (f.now - w.1).max(0) / 1000).collect();
            let free_slots: i64 = f.agents.iter().filter(|a| a.status == AgentStatus::Accepting && a.serves(id)).map(AgentLoad::free).sum();
            let longest = waits.iter().copied().max().unwrap_or(0);
            let norm = s.norm_s(id);
            DeptLine {
                id,
                name,
                queue: waits.len() as u64,
                longest_wait_s: longest,
                in_progress: f.in_progress.iter().filter(|p| p.0 == id).map(|p| p.1).sum(),
                free_slots,
                wait_norm_s: norm,
                alert: !waits.is_empty() && longest > norm && free_slots == 0,
            }
        })
        .collect();
    // The "no department" line only when it has something to show.
    lines.retain(|l| l.id.is_some() || l.queue > 0 || l.in_progress > 0);
    let mut agents = AgentsByStatus::default();
    for a in &f.agents {
        match a.status {
            AgentStatus::Accepting => agents.accepting += 1,
            AgentStatus::NotAccepting => agents.not_accepting += 1,
            AgentStatus::Offline => agents.offline += 1,
        }
    }
    Monitor {
        queue: lines.iter().map(|l| l.queue).sum(),
        longest_wait_s: lines.iter().map(|l| l.longest_wait_s).max().unwrap_or(0),
        in_progress: lines.iter().map(|l| l.in_progress).sum(),
        free_slots: f.agents.iter().filter(|a| a.status == AgentStatus::Accepting).map(AgentLoad::free).sum(),
        alert: lines.iter().any(|l| l.alert),
        departments: lines,
        agents,
        today: f.today.clone(),
        history: History::default(),
    }
}

/// The monitor now, its graphs read from the stored facts.
pub async fn current(state: &AppState) -> Result<Monitor, AppError> {
    current_with(state, None).await
}

/// The monitor now; the graphs of `known` when they cover the same window (only the current
/// point moves then: raised to the live figures), else read from the stored facts.
async fn current_with(state: &AppState, known: Option<History>) -> Result<Monitor, AppError> {
    let now = state.now();
    let (start, end) = history_window(now);
    state
        .db
        .read(move |c| {
            let s = super::store::settings(c)?;
            let today = jiff::Timestamp::from_millisecond(now)
                .map_err(|e| AppError::internal(e.to_string()))?
                .to_zoned(s.tz())
                .start_of_day()
                .map_err(|e| AppError::internal(e.to_string()))?
                .timestamp()
                .as_millisecond();
            let snap = crate::routing::store::snapshot(c, now)?;
            let (served, missed, cancelled) = super::store::outcomes_since(c, today)?;
            let facts = Facts {
                now,
                departments: snap.departments.iter().map(|d| (d.id, d.name.clone())).collect(),
                waiting: super::store::waiting(c)?,
                in_progress: super::store::in_progress(c)?,
                agents: snap.agents,
                today: Today { served, missed, cancelled },
            };
            let mut m = build(&facts, &s);
            let same_window = known.as_ref().and_then(|h| h.points.first()).is_some_and(|p| p.at == start);
            m.history = match known {
                Some(h) if same_window => h,
                _ => history(
                    &super::store::chats(c, start - HISTORY_LOOKBACK_MS, end, super::store::Needed::All)?,
                    &super::store::timelines(c, start, end)?,
                    now,
                ),
            };
            raise_last(&mut m);
            Ok(m)
        })
        .await
}

/// The pusher: while any console watches, recompute every [`TICK`] and publish when changed.
pub fn spawn(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last: Option<Monitor> = None;
        loop {
            tick.tick().await;
            let watchers = state.hub.monitor_watchers().await;
            if watchers.is_empty() {
                last = None;
                continue;
            }
            match current_with(&state, last.as_ref().map(|m| m.history.clone())).await {
                Ok(m) if last.as_ref() != Some(&m) => {
                    state.hub.publish(Audience::Monitors, ServerFrame::Monitor(Box::new(m.clone()))).await;
                    last = Some(m);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "monitor: could not compute"),
            }
        }
    });
}

#[cfg(test)]
mod history_tests {
    use super::*;
    use crate::reports::{ChatFact, Timeline};

    const MIN: i64 = 60_000;
    const H: i64 = 60 * MIN;

    fn chat(created: i64, assigned: Option<i64>, ended: Option<i64>) -> ChatFact {
        ChatFact { created_at: created, assigned_at: assigned, ended_at: ended, ..Default::default() }
    }

    fn at(h: &History, t: i64) -> &HistoryPoint {
        h.points.iter().find(|p| p.at == t).unwrap_or_else(|| panic!("no point at {t}"))
    }

    #[test]
    fn spans_that_touch_do_not_overlap_and_each_step_keeps_its_peak() {
        assert_eq!(peaks(&[(0, 10), (10, 20)], 0, 5, 4), vec![1, 1, 1, 1]);
        assert_eq!(peaks(&[(0, 10), (9, 20), (2, 3)], 0, 5, 4), vec![2, 2, 1, 1]);
        // Before the window, after it, empty: nothing; an open span runs to the end.
        assert_eq!(peaks(&[(-10, -1), (40, 50), (3, 3), (12, i64::MAX)], 0, 5, 4), vec![0, 0, 1, 1]);
    }

    #[test]
    fn the_graphs_follow_the_chats_and_the_status_history() {
        let now = 10 * H + 2 * MIN; // 10:02: the last point is 10:00–10:05
        let chats = [
            chat(9 * H, Some(9 * H + 3 * MIN), Some(9 * H + 30 * MIN)), // waited 3 min, then served
            chat(9 * H + MIN, None, Some(9 * H + 2 * MIN)),             // cancelled while waiting
            chat(9 * H + 58 * MIN, None, None),                         // still waiting
            chat(3 * H, Some(3 * H + 10 * MIN), None),                  // started before the window, still going
        ];
        let timelines = [
            Timeline {
                agent_id: 1,
                initial: AgentStatus::Offline,
                changes: vec![
                    (8 * H, AgentStatus::Accepting),
                    (9 * H + 10 * MIN, AgentStatus::NotAccepting),
                    (9 * H + 40 * MIN, AgentStatus::Offline),
                ],
            },
            Timeline { agent_id: 2, initial: AgentStatus::Accepting, changes: vec![] },
        ];
        let h = history(&chats, &timelines, now);
        assert_eq!(h.step_s, 300);
        assert_eq!(h.points.len(), 72, "6 hours of 5 minutes");
        assert_eq!(h.points[0].at, 4 * H + 5 * MIN);
        assert_eq!(h.points.last().unwrap().at, 10 * H);

        // The queue: two at once at 9:01, none from 9:05, the waiting one from 9:58.
        assert_eq!(at(&h, 9 * H).queue, 2);
        assert_eq!(at(&h, 9 * H + 5 * MIN).queue, 0);
        assert_eq!(at(&h, 9 * H + 55 * MIN).queue, 1);
        assert_eq!(at(&h, 10 * H).queue, 1);
        // In progress: the long chat all along, the served one from 9:03 until 9:30 (exclusive).
        assert_eq!(at(&h, 4 * H + 5 * MIN).in_progress, 1);
        assert_eq!(at(&h, 9 * H).in_progress, 2);
        assert_eq!(at(&h, 9 * H + 25 * MIN).in_progress, 2);
        assert_eq!(at(&h, 9 * H + 30 * MIN).in_progress, 1);
        // Agents: 2 accepting all along; 1 accepting 8:00–9:10, online until 9:40.
        assert_eq!((at(&h, 7 * H).accepting, at(&h, 7 * H).online), (1, 1));
        assert_eq!((at(&h, 9 * H + 5 * MIN).accepting, at(&h, 9 * H + 5 * MIN).online), (2, 2));
        assert_eq!((at(&h, 9 * H + 10 * MIN).accepting, at(&h, 9 * H + 10 * MIN).online), (1, 2));
        assert_eq!((at(&h, 9 * H + 40 * MIN).accepting, at(&h, 9 * H + 40 * MIN).online), (1, 1));
        assert_eq!(at(&h, 10 * H).accepting, 1, "the current point runs until now");
    }

    #[test]
    fn the_current_point_is_raised_to_the_live_figures_only() {
        let now = 10 * H + 2 * MIN;
        let mut m = build(
            &Facts {
                now,
                departments: vec![],
                waiting: vec![(None, now - 1000), (None, now - 2000)],
                in_progress: vec![(None, 3)],
                agents: vec![],
                today: Today::default(),
            },
            &ReportSettings::default(),
        );
        m.history = history(&[], &[], now);
        raise_last(&mut m);
        let last = m.history.points.last().unwrap();
        assert_eq!((last.queue, last.in_progress), (2, 3));
        assert!(m.history.points[..71].iter().all(|p| p.queue == 0 && p.in_progress == 0));
    }
}
