//! The live monitor (SPEC M1): queue, chats in progress, free slots and agents by status per
//! department, today's outcomes, and the queue-wait norm that turns a department red. `build`
//! is pure; `current` reads the facts; `spawn` pushes a `monitor` frame to every console that
//! watches (supervisors and admins, agent frame `monitor`) whenever the picture changes.

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
    }
}

/// The monitor now.
pub async fn current(state: &AppState) -> Result<Monitor, AppError> {
    let now = state.now();
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
            Ok(build(&facts, &s))
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
            match current(&state).await {
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
