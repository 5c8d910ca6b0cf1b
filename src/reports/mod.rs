//! Monitoring and analytics (SPEC M1–M3): every figure defined once, as pure functions over
//! stored facts. The monitor, the reports, the CSV export, the API and the daily summary all
//! call these; `store.rs` loads the facts, `http.rs` shapes them. Definitions: docs/api.md,
//! "Reports".

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::chat::{EndedBy, Outcome};
use crate::error::AppError;
use crate::routing::AgentStatus;

pub mod daily;
pub mod http;
pub mod monitor;
pub mod store;
#[cfg(test)]
mod tests;

/// The chat channel every widget chat belongs to (the only chat channel so far).
pub const CHAT_CHANNEL: &str = "widget";
/// The tag SPEC C9 names: chats tagged so can be left out of the figures.
pub const NON_TARGET: &str = "non-target";
/// Longest period one report covers.
pub const MAX_DAYS: i32 = 800;

// ---------------------------------------------------------------- periods

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Hour,
    Day,
    Week,
    Month,
}

impl Granularity {
    pub fn parse(s: &str) -> Option<Granularity> {
        match s {
            "hour" => Some(Granularity::Hour),
            "day" => Some(Granularity::Day),
            "week" => Some(Granularity::Week),
            "month" => Some(Granularity::Month),
            _ => None,
        }
    }
}

/// One row's time span: `[start, end)` in ms, labelled in the shop's time zone.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub period: String,
    pub start: i64,
    pub end: i64,
}

/// A range of whole local days, `from` and `to` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: Date,
    pub to: Date,
    pub tz: TimeZone,
}

fn ms(d: Date, tz: &TimeZone) -> Result<i64, AppError> {
    Ok(d.to_zoned(tz.clone()).map_err(|e| AppError::invalid(format!("date {d}: {e}")))?.timestamp().as_millisecond())
}

fn next_day(d: Date) -> Result<Date, AppError> {
    d.tomorrow().map_err(|_| AppError::invalid("date out of range"))
}

impl Range {
    pub fn new(from: Date, to: Date, tz: TimeZone) -> Result<Range, AppError> {
        if to < from {
            return Err(AppError::invalid("to: must not be before from"));
        }
        if (to - from).get_days() >= MAX_DAYS {
            return Err(AppError::invalid(format!("the period is longer than {MAX_DAYS} days")));
        }
        Ok(Range { from, to, tz })
    }
    /// Parse `from`/`to` as ISO dates.
    pub fn parse(from: &str, to: &str, tz: TimeZone) -> Result<Range, AppError> {
        let date =
            |name: &str, s: &str| s.parse::<Date>().map_err(|_| AppError::invalid(format!("{name}: expected a date like 2026-01-31")));
        Range::new(date("from", from)?, date("to", to)?, tz)
    }
    pub fn start(&self) -> Result<i64, AppError> {
        ms(self.from, &self.tz)
    }
    pub fn end(&self) -> Result<i64, AppError> {
        ms(next_day(self.to)?, &self.tz)
    }
    pub fn days(&self) -> i32 {
        (self.to - self.from).get_days() + 1
    }
    /// The period of as many days just before this one.
    pub fn previous(&self) -> Result<Range, AppError> {
        let n = self.days();
        let to = self.from.yesterday().map_err(|_| AppError::invalid("date out of range"))?;
        let from = to.checked_sub((n - 1).days()).map_err(|_| AppError::invalid("date out of range"))?;
        Range::new(from, to, self.tz.clone())
    }
}

/// The rows of a report: the range cut at the granularity's boundaries in the shop's time zone.
/// Days are local midnights (23 or 25 hours long on DST changes), weeks start on Monday,
/// months on the 1st; the first and last period are clipped to the range. Hours are real hours,
/// labelled with their offset, so a repeated autumn hour is two rows.
pub fn periods(r: &Range, g: Granularity) -> Result<Vec<Period>, AppError> {
    let (start, end) = (r.start()?, r.end()?);
    let mut out = Vec::new();
    match g {
        Granularity::Hour => {
            let mut t = start;
            while t < end {
                let z = Timestamp::from_millisecond(t).map_err(|e| AppError::internal(e.to_string()))?.to_zoned(r.tz.clone());
                // The next hour boundary in local time (zones with half-hour offsets included).
                let next = z
                    .with()
                    .minute(0)
                    .second(0)
                    .subsec_nanosecond(0)
                    .build()
                    .ok()
                    .and_then(|h| h.timestamp().checked_add(1.hour()).ok())
                    .map(|t| t.as_millisecond())
                    .unwrap_or(t + 3_600_000)
                    .min(end);
                out.push(Period { period: z.strftime("%Y-%m-%dT%H:%M%:z").to_string(), start: t, end: next.max(t + 1) });
                t = next.max(t + 1);
            }
        }
        Granularity::Day | Granularity::Week | Granularity::Month => {
            let mut d = r.from;
            while d <= r.to {
                let first = match g {
                    Granularity::Week => d
                        .checked_sub((d.weekday().to_monday_zero_offset() as i32).days())
                        .map_err(|_| AppError::invalid("date out of range"))?,
                    Granularity::Month => d.first_of_month(),
                    _ => d,
                };
                let next = match g {
                    Granularity::Day => next_day(d)?,
                    Granularity::Week => first.checked_add(7.days()).map_err(|_| AppError::invalid("date out of range"))?,
                    _ => first.checked_add(1.month()).map_err(|_| AppError::invalid("date out of range"))?,
                };
                let label = match g {
                    Granularity::Month => first.strftime("%Y-%m").to_string(),
                    _ => first.to_string(),
                };
                let stop = next.min(next_day(r.to)?);
                out.push(Period { period: label, start: ms(d, &r.tz)?, end: ms(stop, &r.tz)? });
                d = stop;
            }
        }
    }
    Ok(out)
}

/// Index of the period holding `t` (periods are sorted and contiguous).
pub fn bucket(periods: &[Period], t: i64) -> Option<usize> {
    let i = periods.partition_point(|p| p.end <= t);
    (i < periods.len() && periods[i].start <= t).then_some(i)
}

// ---------------------------------------------------------------- chats

/// What is stored about one chat.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatFact {
    pub id: i64,
    pub department_id: Option<i64>,
    /// The agent who had the chat last.
    pub agent_id: Option<i64>,
    /// Every agent who had the chat, in order (a transfer, take-over or requeue adds one; the
    /// store reads them from `conversation_handoffs`, V30); empty when it never moved.
    pub handlers: Vec<i64>,
    pub channel: &'static str,
    pub created_at: i64,
    pub assigned_at: Option<i64>,
    pub first_agent_reply_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub ended_by: Option<EndedBy>,
    /// As stored when the chat ended (`chat::outcome`); recomputed when missing.
    pub outcome: Option<Outcome>,
    /// The chat's tags (SPEC C9), when tags are stored.
    pub tags: Vec<String>,
    /// The visitor's rating on a 1–5 scale (a good/bad rating is stored as 5 / 1).
    pub rating: Option<u8>,
    /// The chat's answered visitor turns ([`response_turns`]): their summed time and number.
    pub response_sum_ms: i64,
    pub responses: u64,
}

/// Who wrote a chat line, as the response time sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Visitor,
    Agent,
    /// System lines and internal lines (whispers, transfer notes): the visitor's question is
    /// not answered by them, and they ask nothing.
    Other,
}

impl Speaker {
    /// A stored line: its `author_kind` and whether it is internal.
    pub fn of(author_kind: &str, internal: bool) -> Speaker {
        match (author_kind, internal) {
            (_, true) => Speaker::Other,
            ("visitor", _) => Speaker::Visitor,
            ("agent", _) => Speaker::Agent,
            _ => Speaker::Other,
        }
    }
}

/// One chat's response turns: `sum_ms` and `answered` over the answered ones, and when the
/// turn now waiting for an answer began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Turns {
    pub sum_ms: i64,
    pub answered: u64,
    pub waiting_since: Option<i64>,
}

/// The response time's definition, over a chat's lines in order (speaker, time): a turn runs
/// from the first visitor message after the last agent message (or after the start) to the next
/// agent message. Several visitor messages in a row are one turn, timed from the first; an agent
/// message with no visitor message before it (an invitation's text, a second reply) ends no
/// turn. `chat::store::insert_message` keeps the same counters on the conversation as each line
/// is stored; the V27 migration rebuilt them with SQL; a test holds all three equal.
pub fn response_turns(lines: impl IntoIterator<Item = (Speaker, i64)>) -> Turns {
    let mut t = Turns::default();
    for (who, at) in lines {
        match who {
            Speaker::Visitor => {
                t.waiting_since.get_or_insert(at);
            }
            Speaker::Agent => {
                if let Some(since) = t.waiting_since.take() {
                    t.sum_ms += at - since;
                    t.answered += 1;
                }
            }
            Speaker::Other => {}
        }
    }
    t
}

/// The outcome of an ended chat (SPEC R5), `None` while it is open. Served: an agent replied;
/// cancelled: the visitor ended it within the cancel window without a reply; missed: any
/// other end without a reply.
pub fn outcome_of(f: &ChatFact, cancel_window_ms: i64) -> Option<Outcome> {
    let ended = f.ended_at?;
    Some(f.outcome.unwrap_or_else(|| {
        crate::chat::outcome(f.created_at, ended, f.ended_by.unwrap_or(EndedBy::System), f.first_agent_reply_at, cancel_window_ms)
    }))
}

/// Which chats count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub department_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub channel: Option<String>,
    pub tag: Option<String>,
    /// Leave out chats tagged [`NON_TARGET`].
    pub exclude_non_target: bool,
}

impl Filter {
    pub fn chat(&self, f: &ChatFact) -> bool {
        self.department_id.is_none_or(|d| f.department_id == Some(d))
            && self.agent_id.is_none_or(|a| f.handlers.contains(&a) || f.agent_id == Some(a))
            && self.channel.as_deref().is_none_or(|c| c == f.channel)
            && self.tag.as_deref().is_none_or(|t| f.tags.iter().any(|x| x == t))
            && !(self.exclude_non_target && f.tags.iter().any(|x| x == NON_TARGET))
    }
    pub fn ticket(&self, t: &TicketFact) -> bool {
        self.department_id.is_none_or(|d| t.department_id == Some(d))
            && self.agent_id.is_none_or(|a| t.agent_id == Some(a))
            && self.channel.as_deref().is_none_or(|c| c == t.source)
            && self.tag.as_deref().is_none_or(|x| t.tags.iter().any(|y| y == x))
    }
}

/// Mean of a sum over a count, in seconds, one decimal.
fn avg_s(sum_ms: i64, n: u64) -> Option<f64> {
    (n > 0).then(|| ((sum_ms as f64 / n as f64) / 100.0).round() / 10.0)
}

/// The `chats` figures of a set of chats (those that started in the period).
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct ChatFigures {
    /// Chats that started.
    pub total: u64,
    pub served: u64,
    pub missed: u64,
    pub cancelled: u64,
    /// Not ended yet.
    pub open: u64,
    /// Mean time from the start to the first agent reply, over chats with a reply.
    pub first_response_avg_s: Option<f64>,
    /// Mean time of every answered visitor turn ([`response_turns`]), over all such turns.
    pub response_avg_s: Option<f64>,
    /// Mean time from the start to an agent taking it, over chats that got one.
    pub queue_wait_avg_s: Option<f64>,
    pub queue_wait_max_s: Option<f64>,
    /// Mean time from the start to the end, over served chats.
    pub duration_avg_s: Option<f64>,
    /// Share of ratings 4–5 in percent (CSAT), over rated chats.
    pub csat: Option<f64>,
    pub rated: u64,
    /// Proactive invitations sent in the period, and those the visitor accepted
    /// ([`invitation_rows`]).
    pub invitations_sent: u64,
    pub invitations_accepted: u64,
}

#[derive(Default, Clone)]
struct ChatAcc {
    f: ChatFigures,
    first: (i64, u64),
    resp: (i64, u64),
    wait: (i64, u64, i64),
    dur: (i64, u64),
    good: u64,
}

impl ChatAcc {
    fn add(&mut self, c: &ChatFact, cancel_window_ms: i64) {
        self.f.total += 1;
        match outcome_of(c, cancel_window_ms) {
            Some(Outcome::Served) => {
                self.f.served += 1;
                if let Some(e) = c.ended_at {
                    self.dur.0 += e - c.created_at;
                    self.dur.1 += 1;
                }
            }
            Some(Outcome::Missed) => self.f.missed += 1,
            Some(Outcome::Cancelled) => self.f.cancelled += 1,
            None => self.f.open += 1,
        }
        if let Some(r) = c.first_agent_reply_at {
            self.first.0 += r - c.created_at;
            self.first.1 += 1;
        }
        self.resp.0 += c.response_sum_ms;
        self.resp.1 += c.responses;
        if let Some(a) = c.assigned_at {
            let w = a - c.created_at;
            self.wait.0 += w;
            self.wait.1 += 1;
            self.wait.2 = self.wait.2.max(w);
        }
        if let Some(r) = c.rating {
            self.f.rated += 1;
            self.good += u64::from(r >= 4);
        }
    }
    fn finish(mut self) -> ChatFigures {
        self.f.first_response_avg_s = avg_s(self.first.0, self.first.1);
        self.f.response_avg_s = avg_s(self.resp.0, self.resp.1);
        self.f.queue_wait_avg_s = avg_s(self.wait.0, self.wait.1);
        self.f.queue_wait_max_s = (self.wait.1 > 0).then(|| (self.wait.2 as f64 / 100.0).round() / 10.0);
        self.f.duration_avg_s = avg_s(self.dur.0, self.dur.1);
        self.f.csat = csat_of(self.good, self.f.rated);
        self.f
    }
}

fn csat_of(good: u64, rated: u64) -> Option<f64> {
    (rated > 0).then(|| ((good as f64 * 1000.0 / rated as f64).round()) / 10.0)
}

/// CSAT of a list of ratings (1–5): the share of 4 and 5, in percent; None without ratings.
pub fn csat(ratings: &[u8]) -> Option<f64> {
    csat_of(ratings.iter().filter(|r| **r >= 4).count() as u64, ratings.len() as u64)
}

pub fn chat_figures<'a>(chats: impl IntoIterator<Item = &'a ChatFact>, cancel_window_ms: i64) -> ChatFigures {
    let mut acc = ChatAcc::default();
    for c in chats {
        acc.add(c, cancel_window_ms);
    }
    acc.finish()
}

/// The chats report: one row per period (chats by their start), and the totals.
pub fn chat_rows(chats: &[ChatFact], periods: &[Period], filter: &Filter, cancel_window_ms: i64) -> (Vec<ChatFigures>, ChatFigures) {
    let mut rows = vec![ChatAcc::default(); periods.len()];
    let mut total = ChatAcc::default();
    for c in chats.iter().filter(|c| filter.chat(c)) {
        if let Some(i) = bucket(periods, c.created_at) {
            rows[i].add(c, cancel_window_ms);
            total.add(c, cancel_window_ms);
        }
    }
    (rows.into_iter().map(ChatAcc::finish).collect(), total.finish())
}

/// What is stored about one proactive invitation (SPEC W9).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvitationFact {
    pub sent_at: i64,
    pub department_id: Option<i64>,
    /// The inviting agent (None for one whose agent was deleted).
    pub agent_id: Option<i64>,
    /// The visitor answered: the invitation's chat began.
    pub accepted: bool,
    /// The tags of the invitation's chat (none until accepted).
    pub tags: Vec<String>,
}

impl Filter {
    /// An invitation by its department, its agent, the widget channel and its chat's tags.
    pub fn invitation(&self, i: &InvitationFact) -> bool {
        self.department_id.is_none_or(|d| i.department_id == Some(d))
            && self.agent_id.is_none_or(|a| i.agent_id == Some(a))
            && self.channel.as_deref().is_none_or(|c| c == CHAT_CHANNEL)
            && self.tag.as_deref().is_none_or(|t| i.tags.iter().any(|x| x == t))
            && !(self.exclude_non_target && i.tags.iter().any(|x| x == NON_TARGET))
    }
}

/// Invitations per period by when they were sent: (sent, accepted) per row and in total.
pub fn invitation_rows(invitations: &[InvitationFact], periods: &[Period], filter: &Filter) -> (Vec<(u64, u64)>, (u64, u64)) {
    let mut rows = vec![(0u64, 0u64); periods.len()];
    let mut total = (0, 0);
    for inv in invitations.iter().filter(|i| filter.invitation(i)) {
        if let Some(i) = bucket(periods, inv.sent_at) {
            rows[i].0 += 1;
            rows[i].1 += u64::from(inv.accepted);
            total.0 += 1;
            total.1 += u64::from(inv.accepted);
        }
    }
    (rows, total)
}

/// Chats per tag (chats that started in the range); with `exclude_non_target` the
/// non-target tag's chats are left out entirely.
pub fn tag_counts(chats: &[ChatFact], start: i64, end: i64, filter: &Filter) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for c in chats.iter().filter(|c| (start..end).contains(&c.created_at) && filter.chat(c)) {
        for t in &c.tags {
            *out.entry(t.clone()).or_insert(0) += 1;
        }
    }
    out
}

// ---------------------------------------------------------------- tickets

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TicketFact {
    pub id: i64,
    pub department_id: Option<i64>,
    pub agent_id: Option<i64>,
    /// manual, chat, offline, email, api, callback: the ticket's channel.
    pub source: String,
    pub status: String,
    pub created_at: i64,
    pub first_reply_at: Option<i64>,
    pub solved_at: Option<i64>,
    pub tags: Vec<String>,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct TicketFigures {
    /// Tickets created in the period (spam included: it arrived).
    pub created: u64,
    /// Tickets whose (last) solving fell in the period.
    pub solved: u64,
    /// Not spam, created before the period's end and not solved by then.
    pub backlog: u64,
    /// Offline messages (tickets from the widget's offline form) created in the period.
    pub offline_messages: u64,
    /// Mean time from creation to the first agent reply, over tickets created in the period that got one.
    pub first_reply_avg_s: Option<f64>,
    /// Mean time from creation to solving, over tickets solved in the period.
    pub resolution_avg_s: Option<f64>,
}

pub fn ticket_figures<'a>(tickets: impl IntoIterator<Item = &'a TicketFact>, start: i64, end: i64) -> TicketFigures {
    let mut f = TicketFigures::default();
    let (mut fr, mut res) = ((0i64, 0u64), (0i64, 0u64));
    for t in tickets {
        let inside = |x: i64| (start..end).contains(&x);
        if inside(t.created_at) {
            f.created += 1;
            f.offline_messages += u64::from(t.source == "offline");
            if let Some(r) = t.first_reply_at {
                fr = (fr.0 + (r - t.created_at), fr.1 + 1);
            }
        }
        if let Some(s) = t.solved_at.filter(|s| inside(*s)) {
            f.solved += 1;
            res = (res.0 + (s - t.created_at), res.1 + 1);
        }
        if t.status != "spam" && t.created_at < end && t.solved_at.is_none_or(|s| s >= end) {
            f.backlog += 1;
        }
    }
    f.first_reply_avg_s = avg_s(fr.0, fr.1);
    f.resolution_avg_s = avg_s(res.0, res.1);
    f
}

// ---------------------------------------------------------------- agents' time

/// An agent's status history as it bears on a range: the status at the range's start and the
/// changes (time, new status) after it, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub agent_id: i64,
    pub initial: AgentStatus,
    pub changes: Vec<(i64, AgentStatus)>,
}

/// Nothing is known after `now`: the timelines end there (offline from then on), so a period
/// that runs into the future does not count future hours as online.
pub fn until_now(timelines: &mut [Timeline], now: i64) {
    for t in timelines {
        t.changes.retain(|c| c.0 < now);
        t.changes.push((now, AgentStatus::Offline));
    }
}

/// `[from, to)` spans of one status.
pub fn intervals(t: &Timeline, start: i64, end: i64) -> Vec<(AgentStatus, i64, i64)> {
    let mut out = Vec::new();
    let (mut cur, mut since) = (t.initial, start);
    for &(at, to) in &t.changes {
        let at = at.clamp(start, end);
        if at > since {
            out.push((cur, since, at));
        }
        cur = to;
        since = since.max(at);
    }
    if end > since {
        out.push((cur, since, end));
    }
    out
}

/// Seconds spent in each status.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct OnlineTime {
    pub accepting_s: i64,
    pub not_accepting_s: i64,
    /// accepting + not accepting: signed in and on duty.
    pub online_s: i64,
}

pub fn online_time(t: &Timeline, start: i64, end: i64) -> OnlineTime {
    let mut o = OnlineTime::default();
    for (s, a, b) in intervals(t, start, end) {
        let d = (b - a) / 1000;
        match s {
            AgentStatus::Accepting => o.accepting_s += d,
            AgentStatus::NotAccepting => o.not_accepting_s += d,
            AgentStatus::Offline => {}
        }
    }
    o.online_s = o.accepting_s + o.not_accepting_s;
    o
}

/// One agent's figures over a span (the agents report, the daily summary).
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct AgentFigures {
    pub agent_id: i64,
    /// Chats the agent had at some point (a transferred chat counts for each agent).
    pub chats: u64,
    /// Served chats the agent ended up with.
    pub served: u64,
    /// Mean time from the start to the first agent reply, over chats the agent had first.
    pub first_response_avg_s: Option<f64>,
    #[serde(flatten)]
    pub time: OnlineTime,
}

/// Per-agent figures for `[start, end)`: chats by their start, time from the timelines. Every
/// agent with a timeline or a chat gets a row, ordered by id.
pub fn agent_figures(
    chats: &[ChatFact],
    timelines: &[Timeline],
    start: i64,
    end: i64,
    filter: &Filter,
    cancel_window_ms: i64,
) -> Vec<AgentFigures> {
    let mut by: BTreeMap<i64, (AgentFigures, i64, u64)> = BTreeMap::new();
    for t in timelines {
        by.entry(t.agent_id).or_insert_with(|| (AgentFigures { agent_id: t.agent_id, ..Default::default() }, 0, 0)).0.time =
            online_time(t, start, end);
    }
    for c in chats.iter().filter(|c| (start..end).contains(&c.created_at) && filter.chat(c)) {
        let mut seen: Vec<i64> = Vec::new();
        for &a in c.handlers.iter().chain(c.agent_id.iter()) {
            if seen.contains(&a) {
                continue;
            }
            seen.push(a);
            let e = by.entry(a).or_insert_with(|| (AgentFigures { agent_id: a, ..Default::default() }, 0, 0));
            e.0.chats += 1;
        }
        if let Some(a) = c.agent_id
            && outcome_of(c, cancel_window_ms) == Some(Outcome::Served)
            && let Some(e) = by.get_mut(&a)
        {
            e.0.served += 1;
        }
        if let (Some(&first), Some(r)) = (c.handlers.first().or(c.agent_id.as_ref()), c.first_agent_reply_at) {
            let e = by.get_mut(&first).expect("inserted above");
            e.1 += r - c.created_at;
            e.2 += 1;
        }
    }
    let wanted = |id: i64| filter.agent_id.is_none_or(|a| a == id);
    by.into_values()
        .filter(|(f, ..)| wanted(f.agent_id))
        .map(|(mut f, sum, n)| {
            f.first_response_avg_s = avg_s(sum, n);
            f
        })
        .collect()
}

/// Per agent per local day: the daily summary's figures (and a day-granular agents report).
pub fn agent_days(
    chats: &[ChatFact],
    timelines: &[Timeline],
    range: &Range,
    filter: &Filter,
    cancel_window_ms: i64,
) -> Result<Vec<(Period, Vec<AgentFigures>)>, AppError> {
    Ok(periods(range, Granularity::Day)?
        .into_iter()
        .map(|p| {
            let figs = agent_figures(chats, timelines, p.start, p.end, filter, cancel_window_ms);
            (p, figs)
        })
        .collect())
}

// ---------------------------------------------------------------- heatmap

/// One hour-of-day × weekday cell (local time), summed over the range.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub struct HeatCell {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: i8,
    pub hour: i8,
    pub chats: u64,
    pub missed: u64,
    pub offline_messages: u64,
    /// Mean number of agents online (accepting or not) during this hour of this weekday.
    pub agents_online: f64,
}

fn local_cell(tz: &TimeZone, t: i64) -> usize {
    let z = Timestamp::from_millisecond(t).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone());
    (z.weekday().to_monday_zero_offset() as usize) * 24 + z.hour() as usize
}

pub fn heatmap(
    chats: &[ChatFact],
    tickets: &[TicketFact],
    timelines: &[Timeline],
    range: &Range,
    filter: &Filter,
    cancel_window_ms: i64,
) -> Result<Vec<HeatCell>, AppError> {
    let (start, end) = (range.start()?, range.end()?);
    let mut cells: Vec<HeatCell> =
        (0..168).map(|i| HeatCell { weekday: (i / 24 + 1) as i8, hour: (i % 24) as i8, ..Default::default() }).collect();
    // The range's local hours and each one's cell, found once: a time's cell is then its hour's
    // (a binary search) instead of a time zone conversion per chat and per interval.
    let hours = periods(range, Granularity::Hour)?;
    let cell_of: Vec<usize> = hours.iter().map(|h| local_cell(&range.tz, h.start)).collect();
    let cell = |t: i64| bucket(&hours, t).map(|i| cell_of[i]);
    for c in chats.iter().filter(|c| filter.chat(c)) {
        if let Some(i) = cell(c.created_at) {
            cells[i].chats += 1;
            cells[i].missed += u64::from(outcome_of(c, cancel_window_ms) == Some(Outcome::Missed));
        }
    }
    for t in tickets.iter().filter(|t| t.source == "offline" && filter.ticket(t)) {
        if let Some(i) = cell(t.created_at) {
            cells[i].offline_messages += 1;
        }
    }
    // Agent-milliseconds online per cell, over how many hours of that cell the range has.
    let mut occurs = [0u32; 168];
    for &i in &cell_of {
        occurs[i] += 1;
    }
    let mut online = [0i64; 168];
    for t in timelines.iter().filter(|t| filter.agent_id.is_none_or(|a| a == t.agent_id)) {
        for (s, a, b) in intervals(t, start, end) {
            if s == AgentStatus::Offline {
                continue;
            }
            let mut i = bucket(&hours, a).unwrap_or(hours.len());
            while i < hours.len() && hours[i].start < b {
                let (lo, hi) = (a.max(hours[i].start), b.min(hours[i].end));
                online[cell_of[i]] += hi - lo;
                i += 1;
            }
        }
    }
    for (i, c) in cells.iter_mut().enumerate() {
        if occurs[i] > 0 {
            c.agents_online = (online[i] as f64 / 3_600_000.0 / occurs[i] as f64 * 100.0).round() / 100.0;
        }
    }
    Ok(cells)
}

// ---------------------------------------------------------------- comparison

/// Which way a figure gets worse, for the comparison with the previous period.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Higher,
    Lower,
    /// Neither: shown without colour (volume figures).
    Neutral,
}

pub fn better(metric: &str) -> Better {
    match metric {
        "served" | "solved" | "csat" | "accepting_s" | "online_s" | "agents_online" => Better::Higher,
        "missed"
        | "cancelled"
        | "backlog"
        | "first_response_avg_s"
        | "response_avg_s"
        | "queue_wait_avg_s"
        | "queue_wait_max_s"
        | "first_reply_avg_s"
        | "resolution_avg_s" => Better::Lower,
        _ => Better::Neutral,
    }
}

/// Whether `now` is worse than `before` for this metric (None: not comparable).
pub fn worse(metric: &str, now: Option<f64>, before: Option<f64>) -> bool {
    match (now, before, better(metric)) {
        (Some(n), Some(b), Better::Higher) => n < b,
        (Some(n), Some(b), Better::Lower) => n > b,
        _ => false,
    }
}

/// The numeric figures of a serialized figure set, by name (for comparison and CSV).
pub fn numbers(v: &serde_json::Value) -> HashMap<String, Option<f64>> {
    v.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_f64())).collect()).unwrap_or_default()
}
