//! Routing (SPEC C2, R1–R6, W5–W7, W11): agent status, slots, departments in chats, the queue
//! and the distribution decision.
//!
//! This file is pure: the decision is made by functions over a [`Snapshot`] (agents with their
//! status, slots and load; department rules; the waiting chats), so the rules are tested by
//! tables without a database. `store.rs` builds snapshots and holds the SQL, `ops.rs` applies
//! decisions inside one write job, `live.rs` publishes their effects after the commit, and
//! `http.rs` has the endpoints.

pub mod http;
pub mod live;
pub mod ops;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub use live::{dispatch, socket_closed};

// ---------------------------------------------------------------- agent status

/// SPEC C2: accepting gets new chats; not accepting keeps current chats and still monitors,
/// but gets no new ones; offline.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Accepting,
    NotAccepting,
    Offline,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Accepting => "accepting",
            AgentStatus::NotAccepting => "not_accepting",
            AgentStatus::Offline => "offline",
        }
    }
    pub fn parse(s: &str) -> Option<AgentStatus> {
        match s {
            "accepting" => Some(AgentStatus::Accepting),
            "not_accepting" => Some(AgentStatus::NotAccepting),
            "offline" => Some(AgentStatus::Offline),
            _ => None,
        }
    }
}

/// Why a status changed (kept in `agent_status_history` for online-time reports).
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StatusReason {
    /// The agent (header switch, hotkey, API) chose it.
    Manual,
    /// The last console socket was gone for the grace time.
    AutoOffline,
    /// Logout (or the session otherwise ended).
    SessionEnd,
    /// Login restored the last chosen status.
    Login,
}

impl StatusReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusReason::Manual => "manual",
            StatusReason::AutoOffline => "auto_offline",
            StatusReason::SessionEnd => "session_end",
            StatusReason::Login => "login",
        }
    }
}

// ---------------------------------------------------------------- settings

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A new chat goes to the accepting agent with the most free slots (ties: longest idle).
    Even,
    /// Chats wait in the queue until an agent picks one.
    Manual,
}

/// What the widget does when chat is not available (W6/W7).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OfflineBehaviour {
    /// Show the leave-a-message form.
    Form,
    /// Hide the widget.
    Hide,
}

impl OfflineBehaviour {
    pub fn as_str(self) -> &'static str {
        match self {
            OfflineBehaviour::Form => "form",
            OfflineBehaviour::Hide => "hide",
        }
    }
    pub fn parse(s: &str) -> OfflineBehaviour {
        if s == "hide" { OfflineBehaviour::Hide } else { OfflineBehaviour::Form }
    }
}

/// Admin routing settings (`GET/PATCH /api/v1/settings/routing`), stored as one JSON value.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingSettings {
    pub mode: Mode,
    /// Seconds of waiting before the widget shows the "please wait" line (W5).
    pub wait_notice_s: i64,
    /// Seconds of waiting before the widget offers to leave a message or ask for a callback.
    pub retention_s: i64,
    /// A visitor who ends a chat this soon without an agent reply cancelled it (R5).
    pub cancel_window_s: i64,
    /// An agent whose last console socket is gone this long goes offline (C2).
    pub offline_grace_s: i64,
    /// For chats without a department: form or hide when nobody can take them.
    pub offline_behaviour: OfflineBehaviour,
    /// The department a chat gets when the visitor did not choose one (None: any agent).
    pub default_department: Option<i64>,
    /// Site origins allowed to embed the widget (W11); empty: any site.
    pub allowed_origins: Vec<String>,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            mode: Mode::Even,
            wait_notice_s: 60,
            retention_s: 180,
            cancel_window_s: 20,
            offline_grace_s: 120,
            offline_behaviour: OfflineBehaviour::Form,
            default_department: None,
            allowed_origins: vec![],
        }
    }
}

impl RoutingSettings {
    pub fn validate(&mut self) -> Result<(), AppError> {
        let range = |name: &str, v: i64, lo: i64, hi: i64| {
            if (lo..=hi).contains(&v) { Ok(()) } else { Err(AppError::invalid(format!("{name}: between {lo} and {hi} seconds"))) }
        };
        range("wait_notice_s", self.wait_notice_s, 1, 86_400)?;
        range("retention_s", self.retention_s, 1, 86_400)?;
        if self.retention_s <= self.wait_notice_s {
            return Err(AppError::invalid("retention_s: must be longer than wait_notice_s"));
        }
        range("cancel_window_s", self.cancel_window_s, 0, 3_600)?;
        range("offline_grace_s", self.offline_grace_s, 0, 86_400)?;
        if self.allowed_origins.len() > 50 {
            return Err(AppError::invalid("allowed_origins: at most 50"));
        }
        self.allowed_origins = self.allowed_origins.iter().map(|o| normalize_origin(o)).collect::<Result<_, _>>()?;
        self.allowed_origins.sort();
        self.allowed_origins.dedup();
        Ok(())
    }

    pub fn cancel_window_ms(&self) -> i64 {
        self.cancel_window_s * 1000
    }

    /// W11: whether a page of this origin may embed the widget.
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        self.allowed_origins.is_empty() || origin.is_some_and(|o| self.allowed_origins.iter().any(|a| a == o))
    }
}

/// `https://Shop.example:443/` → `https://shop.example`; anything that is not a plain http(s)
/// origin is refused.
pub fn normalize_origin(s: &str) -> Result<String, AppError> {
    let bad = || AppError::invalid(format!("origin {s:?}: expected scheme://host[:port], e.g. https://shop.example"));
    let u = url::Url::parse(s.trim()).map_err(|_| bad())?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() || !matches!(u.path(), "" | "/") || u.query().is_some() {
        return Err(bad());
    }
    Ok(u.origin().ascii_serialization())
}

/// The origin of a page URL, if it has one.
pub fn origin_of(page_url: &str) -> Option<String> {
    let u = url::Url::parse(page_url).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.origin().ascii_serialization())
}

// ---------------------------------------------------------------- department rules

/// Opening hours of one week: minutes since midnight, `[from, to)`, per weekday (Monday first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Week(pub [Vec<(u16, u16)>; 7]);

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Week {
    /// From `{"mon":[["09:00","18:00"]], …}`; a missing day is closed.
    pub fn from_json(v: &serde_json::Value) -> Result<Week, AppError> {
        let obj = v.as_object().ok_or_else(|| AppError::invalid("hours: an object like {\"mon\":[[\"09:00\",\"18:00\"]]}"))?;
        let mut week = Week::default();
        for (k, spans) in obj {
            let day = WEEKDAYS.iter().position(|d| d == k).ok_or_else(|| AppError::invalid(format!("hours: unknown day {k:?}")))?;
            let spans = spans.as_array().ok_or_else(|| AppError::invalid(format!("hours.{k}: a list of [from, to] pairs")))?;
            if spans.len() > 10 {
                return Err(AppError::invalid(format!("hours.{k}: at most 10 spans")));
            }
            for s in spans {
                let pair =
                    s.as_array().filter(|p| p.len() == 2).ok_or_else(|| AppError::invalid(format!("hours.{k}: [\"HH:MM\", \"HH:MM\"]")))?;
                let from = parse_hhmm(pair[0].as_str().unwrap_or(""), false)
                    .ok_or_else(|| AppError::invalid(format!("hours.{k}: times are HH:MM")))?;
                let to = parse_hhmm(pair[1].as_str().unwrap_or(""), true)
                    .ok_or_else(|| AppError::invalid(format!("hours.{k}: times are HH:MM")))?;
                if from >= to {
                    return Err(AppError::invalid(format!("hours.{k}: a span must end after it starts")));
                }
                week.0[day].push((from, to));
            }
            week.0[day].sort_unstable();
        }
        Ok(week)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (i, spans) in self.0.iter().enumerate() {
            if !spans.is_empty() {
                let list: Vec<serde_json::Value> = spans.iter().map(|(f, t)| serde_json::json!([fmt_hhmm(*f), fmt_hhmm(*t)])).collect();
                m.insert(WEEKDAYS[i].to_string(), serde_json::Value::Array(list));
            }
        }
        serde_json::Value::Object(m)
    }

    fn open_at(&self, weekday: usize, minute: u16) -> bool {
        self.0[weekday].iter().any(|(f, t)| *f <= minute && minute < *t)
    }
}

fn parse_hhmm(s: &str, allow_24: bool) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && (m != 0 || !allow_24)) {
        return None;
    }
    Some(h * 60 + m)
}

fn fmt_hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

pub fn validate_timezone(tz: &str) -> Result<(), AppError> {
    jiff::tz::TimeZone::get(tz)
        .map(|_| ())
        .map_err(|_| AppError::invalid(format!("timezone: unknown time zone {tz:?} (use an IANA name like Europe/Warsaw)")))
}

pub fn validate_holiday(d: &str) -> Result<(), AppError> {
    d.parse::<jiff::civil::Date>().map(|_| ()).map_err(|_| AppError::invalid(format!("holidays: {d:?} is not a YYYY-MM-DD date")))
}

/// What routing needs to know about a department.
#[derive(Debug, Clone, PartialEq)]
pub struct DeptRules {
    pub id: i64,
    pub name: String,
    pub visible: bool,
    pub priority: i64,
    pub timezone: String,
    /// None: always open.
    pub hours: Option<Week>,
    /// `YYYY-MM-DD` in the department's time zone: closed all day.
    pub holidays: Vec<String>,
    /// None: no limit.
    pub queue_limit: Option<i64>,
    pub offline: OfflineBehaviour,
    /// Site origins this department serves; empty: every site.
    pub origins: Vec<String>,
}

impl DeptRules {
    pub fn serves_origin(&self, origin: Option<&str>) -> bool {
        self.origins.is_empty() || origin.is_some_and(|o| self.origins.iter().any(|x| x == o))
    }
}

/// A department's chat rules as the API shows and takes them (flattened into `Department`).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ChatRules {
    pub priority: i64,
    pub timezone: String,
    /// `{"mon":[["09:00","18:00"]], …}`; null: always open.
    pub hours: Option<serde_json::Value>,
    pub holidays: Vec<String>,
    pub queue_limit: Option<i64>,
    pub offline_behaviour: OfflineBehaviour,
    pub origins: Vec<String>,
}

impl Default for ChatRules {
    fn default() -> Self {
        ChatRules {
            priority: 0,
            timezone: "UTC".into(),
            hours: None,
            holidays: vec![],
            queue_limit: None,
            offline_behaviour: OfflineBehaviour::Form,
            origins: vec![],
        }
    }
}

impl From<&DeptRules> for ChatRules {
    fn from(d: &DeptRules) -> ChatRules {
        ChatRules {
            priority: d.priority,
            timezone: d.timezone.clone(),
            hours: d.hours.as_ref().map(Week::to_json),
            holidays: d.holidays.clone(),
            queue_limit: d.queue_limit,
            offline_behaviour: d.offline,
            origins: d.origins.clone(),
        }
    }
}

/// Changes to a department's chat rules (the routing fields of `PATCH /api/v1/departments/{id}`).
/// `Some(None)` clears hours (always open) or the queue limit (no limit).
#[derive(Debug, Default, Clone)]
pub struct ChatRulesPatch {
    pub priority: Option<i64>,
    pub timezone: Option<String>,
    pub hours: Option<Option<serde_json::Value>>,
    pub holidays: Option<Vec<String>>,
    pub queue_limit: Option<Option<i64>>,
    pub offline_behaviour: Option<OfflineBehaviour>,
    pub origins: Option<Vec<String>>,
}

impl ChatRulesPatch {
    pub fn is_empty(&self) -> bool {
        self.priority.is_none()
            && self.timezone.is_none()
            && self.hours.is_none()
            && self.holidays.is_none()
            && self.queue_limit.is_none()
            && self.offline_behaviour.is_none()
            && self.origins.is_none()
    }

    /// The rules after this patch, validated.
    pub fn apply(&self, mut d: DeptRules) -> Result<DeptRules, AppError> {
        if let Some(p) = self.priority {
            if !(-100..=100).contains(&p) {
                return Err(AppError::invalid("priority: between -100 and 100"));
            }
            d.priority = p;
        }
        if let Some(tz) = &self.timezone {
            validate_timezone(tz)?;
            d.timezone = tz.clone();
        }
        if let Some(h) = &self.hours {
            d.hours = h.as_ref().map(Week::from_json).transpose()?;
        }
        if let Some(list) = &self.holidays {
            if list.len() > 366 {
                return Err(AppError::invalid("holidays: at most 366 dates"));
            }
            for h in list {
                validate_holiday(h)?;
            }
            let mut list = list.clone();
            list.sort();
            list.dedup();
            d.holidays = list;
        }
        if let Some(q) = self.queue_limit {
            if q.is_some_and(|q| !(0..=10_000).contains(&q)) {
                return Err(AppError::invalid("queue_limit: between 0 and 10000, or null for no limit"));
            }
            d.queue_limit = q;
        }
        if let Some(o) = self.offline_behaviour {
            d.offline = o;
        }
        if let Some(list) = &self.origins {
            if list.len() > 50 {
                return Err(AppError::invalid("origins: at most 50"));
            }
            let mut list = list.iter().map(|o| normalize_origin(o)).collect::<Result<Vec<_>, _>>()?;
            list.sort();
            list.dedup();
            d.origins = list;
        }
        Ok(d)
    }
}

/// Why chat is not available now.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Closed {
    Hours,
    Holiday,
    NobodyAccepting,
    QueueFull,
}

impl Closed {
    pub fn message(self) -> &'static str {
        match self {
            Closed::Hours => "chat is closed at this hour; leave a message",
            Closed::Holiday => "chat is closed today; leave a message",
            Closed::NobodyAccepting => "nobody is accepting chats now; leave a message",
            Closed::QueueFull => "the queue is full; leave a message",
        }
    }
}

/// Hours and holidays (R6) at `now_ms`. An unknown time zone counts as UTC.
pub fn hours_state(d: &DeptRules, now_ms: i64) -> Result<(), Closed> {
    if d.hours.is_none() && d.holidays.is_empty() {
        return Ok(());
    }
    let tz = jiff::tz::TimeZone::get(&d.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    let Ok(ts) = jiff::Timestamp::from_millisecond(now_ms) else { return Ok(()) };
    let local = ts.to_zoned(tz);
    let date = local.date().to_string();
    if d.holidays.contains(&date) {
        return Err(Closed::Holiday);
    }
    if let Some(week) = &d.hours {
        let weekday = local.weekday().to_monday_zero_offset() as usize;
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        if !week.open_at(weekday, minute) {
            return Err(Closed::Hours);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- the snapshot

/// One agent as routing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLoad {
    pub id: i64,
    pub status: AgentStatus,
    pub chat_limit: i64,
    /// Active chats now.
    pub active: i64,
    /// When the agent last got a chat (None: never): ties go to the longest idle.
    pub last_assigned_at: Option<i64>,
    pub departments: Vec<i64>,
}

impl AgentLoad {
    pub fn free(&self) -> i64 {
        (self.chat_limit - self.active).max(0)
    }
    /// Accepting with a free slot.
    pub fn available(&self) -> bool {
        self.status == AgentStatus::Accepting && self.free() > 0
    }
    /// Chats without a department go to anyone; others to the department's members.
    pub fn serves(&self, department: Option<i64>) -> bool {
        department.is_none_or(|d| self.departments.contains(&d))
    }
}

/// A chat waiting for an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub conversation: i64,
    pub department_id: Option<i64>,
    /// When it started waiting: its start, or the transfer that put it back into a queue.
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub agents: Vec<AgentLoad>,
    pub departments: Vec<DeptRules>,
    pub waiting: Vec<Waiting>,
    /// Average length of recent served chats (for the wait estimate); None without history.
    pub avg_chat_ms: Option<i64>,
}

impl Snapshot {
    pub fn department(&self, id: Option<i64>) -> Option<&DeptRules> {
        id.and_then(|id| self.departments.iter().find(|d| d.id == id))
    }

    fn priority(&self, department: Option<i64>) -> i64 {
        self.department(department).map(|d| d.priority).unwrap_or(0)
    }
}

/// R3: the accepting agent serving `department` with the most free slots; ties go to the
/// longest idle (never assigned first), then the lowest id. None: nobody has a free slot.
pub fn pick(agents: &[AgentLoad], department: Option<i64>) -> Option<i64> {
    agents
        .iter()
        .filter(|a| a.available() && a.serves(department))
        .min_by_key(|a| (std::cmp::Reverse(a.free()), a.last_assigned_at.unwrap_or(i64::MIN), a.id))
        .map(|a| a.id)
}

/// R4: the waiting chats in queue order: department priority (higher first), then arrival.
pub fn queue_order(s: &Snapshot) -> Vec<Waiting> {
    let mut q = s.waiting.clone();
    q.sort_by_key(|w| (std::cmp::Reverse(s.priority(w.department_id)), w.created_at, w.conversation));
    q
}

/// Even distribution over the whole queue, in queue order: which waiting chat goes to whom.
/// Each assignment takes a slot before the next chat is placed. Manual mode assigns nothing.
pub fn plan(mode: Mode, s: &Snapshot, now: i64) -> Vec<(i64, i64)> {
    if mode == Mode::Manual {
        return vec![];
    }
    let mut agents = s.agents.clone();
    let mut out = Vec::new();
    for w in queue_order(s) {
        if let Some(id) = pick(&agents, w.department_id) {
            let a = agents.iter_mut().find(|a| a.id == id).expect("picked from the list");
            a.active += 1;
            a.last_assigned_at = Some(now);
            out.push((w.conversation, id));
        }
    }
    out
}

/// Whether a new chat for `department` may start now (W6, W7, R6): the department is open,
/// someone serving it is accepting, and — unless it can be assigned at once — its queue has room.
pub fn admission(mode: Mode, s: &Snapshot, department: Option<i64>, now: i64) -> Result<(), Closed> {
    if let Some(d) = s.department(department) {
        hours_state(d, now)?;
    }
    let serving: Vec<&AgentLoad> = s.agents.iter().filter(|a| a.serves(department) && a.status == AgentStatus::Accepting).collect();
    if serving.is_empty() {
        return Err(Closed::NobodyAccepting);
    }
    if mode == Mode::Even && serving.iter().any(|a| a.free() > 0) {
        return Ok(());
    }
    let limit = s.department(department).and_then(|d| d.queue_limit);
    if let Some(limit) = limit {
        let queued = s.waiting.iter().filter(|w| w.department_id == department).count() as i64;
        if queued >= limit {
            return Err(Closed::QueueFull);
        }
    }
    Ok(())
}

/// The department a new chat from the widget goes to: the visitor's choice (or the page's
/// `data-frontdesk-open`) must be a visible department serving this site — hidden ones only
/// receive transfers (R1); without a choice, the default department (if it still exists).
pub fn department_for_chat(s: &Snapshot, chosen: Option<i64>, default: Option<i64>, origin: Option<&str>) -> Result<Option<i64>, AppError> {
    match chosen {
        Some(id) => match s.department(Some(id)) {
            Some(d) if d.visible && d.serves_origin(origin) => Ok(Some(id)),
            _ => Err(AppError::invalid("department: no such department for chats on this site")),
        },
        None => Ok(default.filter(|id| s.department(Some(*id)).is_some())),
    }
}

/// The departments the widget offers on a page of `origin`: visible ones serving that site.
pub fn widget_departments<'a>(s: &'a Snapshot, origin: Option<&str>) -> Vec<&'a DeptRules> {
    s.departments.iter().filter(|d| d.visible && d.serves_origin(origin)).collect()
}

/// Agents who could take a chat of `department` right now (accepting, free slot): the
/// widget's "agents online", never the number of open console tabs.
pub fn available_agents(s: &Snapshot, department: Option<i64>) -> usize {
    s.agents.iter().filter(|a| a.available() && a.serves(department)).count()
}

/// A waiting chat's place: 1 + the chats ahead of it in queue order that compete for the
/// same agents (some enabled agent serves both; without any agent: same department, or either
/// without one).
pub fn positions(s: &Snapshot) -> Vec<(i64, i64)> {
    let q = queue_order(s);
    // Whether two chats compete depends only on their departments, so it is decided once per
    // pair of departments and each place is a sum over departments of the chats ahead: linear
    // in the queue, which matters when thousands wait (a reconnect storm behind few agents).
    let mut depts: Vec<Option<i64>> = q.iter().map(|w| w.department_id).collect();
    depts.sort_unstable();
    depts.dedup();
    let served: Vec<Vec<i64>> = depts.iter().map(|d| s.agents.iter().filter(|a| a.serves(*d)).map(|a| a.id).collect()).collect();
    let compete = |i: usize, j: usize| {
        if served[i].is_empty() && served[j].is_empty() {
            depts[i] == depts[j] || depts[i].is_none() || depts[j].is_none()
        } else {
            served[i].iter().any(|x| served[j].contains(x))
        }
    };
    let rivals: Vec<Vec<usize>> = (0..depts.len()).map(|i| (0..depts.len()).filter(|&j| compete(i, j)).collect()).collect();
    let mut ahead = vec![0i64; depts.len()];
    q.iter()
        .map(|w| {
            let k = depts.binary_search(&w.department_id).expect("every department of the queue is listed");
            let place = rivals[k].iter().map(|&j| ahead[j]).sum::<i64>() + 1;
            ahead[k] += 1;
            (w.conversation, place)
        })
        .collect()
}

/// A rough wait estimate in seconds: with `slots` chats running in parallel, each as long as
/// an average recent chat, a slot frees every `avg / slots`; this chat needs `position` of
/// them. None without accepting agents or history.
pub fn estimated_wait_s(s: &Snapshot, department: Option<i64>, position: i64) -> Option<i64> {
    let slots: i64 = s.agents.iter().filter(|a| a.status == AgentStatus::Accepting && a.serves(department)).map(|a| a.chat_limit).sum();
    let avg = s.avg_chat_ms?;
    if slots <= 0 {
        return None;
    }
    Some((position * avg / slots / 1000).max(1))
}

#[cfg(test)]
mod tests;
