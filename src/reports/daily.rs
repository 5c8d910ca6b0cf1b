//! The daily summary's figures (SPEC E6) as pure functions over facts the store looked up:
//! one agent, one local day in the shop's time zone. `mail::summary` loads the facts (SQL in
//! `reports::store`, functions named `daily_*`), renders the mail and queues it.
//!
//! Definitions (also in docs/api.md, "Daily summary"):
//! - a chat belongs to the day it reached the agent (`assigned_at`, else `created_at`);
//! - handled: the agent answered it; missed: it ended without an answer (outcome `missed`);
//! - first response: from reaching the agent to the agent's first answer, averaged over the
//!   handled chats, whole seconds;
//! - tickets opened: created that day and now assigned to the agent; solved: assigned to the
//!   agent and solved that day; still open: assigned to the agent and open or pending when the
//!   summary is made;
//! - busiest hour: the local hour with the most chats reaching the agent plus ticket replies
//!   written by the agent (earliest hour on a tie);
//! - comparison: the same figures for the same weekday one week earlier.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::error::AppError;

/// One chat that reached the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatFact {
    /// When it reached the agent (assigned, else created), ms.
    pub start: i64,
    /// The agent's first answer, ms.
    pub first_reply_at: Option<i64>,
    /// `served`, `missed`, `cancelled`, or None while it runs.
    pub outcome: Option<String>,
}

/// Everything the figures of one agent's day are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayFacts {
    pub chats: Vec<ChatFact>,
    /// Chat ratings of the day (true = good). Empty: none given (or none stored).
    pub ratings: Vec<bool>,
    pub tickets_opened: i64,
    pub tickets_solved: i64,
    pub tickets_open: i64,
    /// When the agent's ticket replies were written, ms.
    pub replies_at: Vec<i64>,
}

/// The figures of one agent's day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub chats_handled: i64,
    pub chats_missed: i64,
    /// Average first response in whole seconds; None without handled chats.
    pub first_response_avg_s: Option<i64>,
    /// (good, bad); None when nobody rated.
    pub ratings: Option<(i64, i64)>,
    pub tickets_opened: i64,
    pub tickets_solved: i64,
    pub tickets_open: i64,
    /// Local hour (0–23) with the most activity, and how much.
    pub busiest_hour: Option<(i8, i64)>,
    pub ticket_replies: i64,
}

impl Figures {
    /// Nothing happened: no chat, no ticket opened, solved or answered.
    pub fn is_quiet(&self) -> bool {
        self.chats_handled + self.chats_missed + self.tickets_opened + self.tickets_solved + self.ticket_replies == 0
    }
}

fn handled(c: &ChatFact) -> bool {
    c.first_reply_at.is_some() || c.outcome.as_deref() == Some("served")
}

/// The figures of one day. `tz` places the busiest hour.
pub fn figures(f: &DayFacts, tz: &TimeZone) -> Figures {
    let answered: Vec<i64> = f.chats.iter().filter(|c| handled(c)).filter_map(|c| c.first_reply_at.map(|r| (r - c.start).max(0))).collect();
    let first_response_avg_s =
        (!answered.is_empty()).then(|| (answered.iter().sum::<i64>() as f64 / answered.len() as f64 / 1000.0).round() as i64);
    let good = f.ratings.iter().filter(|g| **g).count() as i64;
    let ratings = (!f.ratings.is_empty()).then(|| (good, f.ratings.len() as i64 - good));
    let mut hours = [0i64; 24];
    for at in f.chats.iter().map(|c| c.start).chain(f.replies_at.iter().copied()) {
        if let Ok(ts) = jiff::Timestamp::from_millisecond(at) {
            hours[ts.to_zoned(tz.clone()).hour() as usize] += 1;
        }
    }
    let busiest_hour = hours.iter().enumerate().filter(|(_, n)| **n > 0).fold(None, |best: Option<(i8, i64)>, (h, n)| match best {
        Some((_, m)) if m >= *n => best,
        _ => Some((h as i8, *n)),
    });
    Figures {
        chats_handled: f.chats.iter().filter(|c| handled(c)).count() as i64,
        chats_missed: f.chats.iter().filter(|c| !handled(c) && c.outcome.as_deref() == Some("missed")).count() as i64,
        first_response_avg_s,
        ratings,
        tickets_opened: f.tickets_opened,
        tickets_solved: f.tickets_solved,
        tickets_open: f.tickets_open,
        busiest_hour,
        ticket_replies: f.replies_at.len() as i64,
    }
}

/// The one suggestion of the summary, picked from the figures (first rule that applies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suggestion {
    /// At least one chat in five that reached the agent was missed.
    MissedChats { missed: i64, total: i64 },
    /// First answers took longer than a minute on average.
    SlowFirstResponse { avg_s: i64 },
    /// Some chats were rated bad.
    BadRatings { bad: i64 },
    /// Five or more tickets still open, at least twice as many as were solved.
    Backlog { open: i64, solved: i64 },
    /// Fewer chats handled than a week earlier while more were missed.
    MoreMissedThanLastWeek { missed: i64, before: i64 },
    /// Nothing to fix: say what went well.
    KeepGoing { handled: i64, solved: i64 },
}

/// A minute: the first-response aim the suggestion names.
pub const FIRST_RESPONSE_AIM_S: i64 = 60;

pub fn suggestion(today: &Figures, week_before: &Figures) -> Suggestion {
    let total = today.chats_handled + today.chats_missed;
    if today.chats_missed > 0 && today.chats_missed * 5 >= total {
        return Suggestion::MissedChats { missed: today.chats_missed, total };
    }
    if let Some(avg) = today.first_response_avg_s.filter(|s| *s > FIRST_RESPONSE_AIM_S) {
        return Suggestion::SlowFirstResponse { avg_s: avg };
    }
    if let Some((_, bad)) = today.ratings.filter(|(_, b)| *b > 0) {
        return Suggestion::BadRatings { bad };
    }
    if today.tickets_open >= 5 && today.tickets_open >= 2 * today.tickets_solved {
        return Suggestion::Backlog { open: today.tickets_open, solved: today.tickets_solved };
    }
    if today.chats_missed > week_before.chats_missed {
        return Suggestion::MoreMissedThanLastWeek { missed: today.chats_missed, before: week_before.chats_missed };
    }
    Suggestion::KeepGoing { handled: today.chats_handled, solved: today.tickets_solved }
}

/// `YYYY-MM-DD`, with a clear error for anything else.
pub fn parse_date(s: &str) -> Result<Date, AppError> {
    let s = s.trim();
    let bad = || AppError::invalid(format!("date: {s:?} is not a valid date in the form YYYY-MM-DD (e.g. 2026-11-27)"));
    if s.len() != 10 {
        return Err(bad());
    }
    s.parse::<Date>().map_err(|_| bad())
}

/// `HH:MM` (24 h).
pub fn parse_time(s: &str) -> Result<Time, AppError> {
    let bad = || AppError::invalid(format!("summary_time: {s:?} is not a time in the form HH:MM (e.g. 18:00)"));
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

/// An IANA time zone name (`Europe/Warsaw`, `UTC`).
pub fn parse_time_zone(s: &str) -> Result<TimeZone, AppError> {
    TimeZone::get(s.trim()).map_err(|_| AppError::invalid(format!("timezone: {s:?} is not a time zone name such as Europe/Warsaw")))
}

/// `[start, end)` of a local day in ms (23 or 25 hours long on a DST change).
pub fn day_bounds(day: Date, tz: &TimeZone) -> (i64, i64) {
    let start = |d: Date| d.to_zoned(tz.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(0);
    let next = day.tomorrow().unwrap_or(day);
    (start(day), start(next))
}

/// The local date at `now`.
pub fn today(now: i64, tz: &TimeZone) -> Date {
    jiff::Timestamp::from_millisecond(now).map(|t| t.to_zoned(tz.clone()).date()).unwrap_or_default()
}

/// The day whose summary is due at `now`: today, once the local time reached `at`.
pub fn due(now: i64, tz: &TimeZone, at: Time) -> Option<Date> {
    let z = jiff::Timestamp::from_millisecond(now).ok()?.to_zoned(tz.clone());
    (z.time() >= at).then(|| z.date())
}

/// The same weekday one week earlier.
pub fn week_before(day: Date) -> Date {
    day.checked_sub(jiff::Span::new().days(7)).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn chat(start: &str, reply_after_s: Option<i64>, outcome: Option<&str>) -> ChatFact {
        let start = at(start);
        ChatFact { start, first_reply_at: reply_after_s.map(|s| start + s * 1000), outcome: outcome.map(str::to_string) }
    }

    #[test]
    fn figures_from_facts() {
        let warsaw = TimeZone::get("Europe/Warsaw").unwrap();
        // (facts, expected figures)
        let cases: Vec<(DayFacts, Figures)> = vec![
            (DayFacts::default(), Figures::default()),
            (
                DayFacts {
                    chats: vec![
                        chat("2026-11-27T08:10:00Z", Some(20), Some("served")),
                        chat("2026-11-27T08:40:00Z", Some(41), Some("served")),
                        chat("2026-11-27T12:00:00Z", None, Some("missed")),
                        // A visitor who left within seconds is neither handled nor missed.
                        chat("2026-11-27T12:05:00Z", None, Some("cancelled")),
                        // Still running, answered: handled.
                        chat("2026-11-27T15:00:00Z", Some(5), None),
                    ],
                    ratings: vec![true, true, false],
                    tickets_opened: 2,
                    tickets_solved: 1,
                    tickets_open: 4,
                    replies_at: vec![at("2026-11-27T12:30:00Z"), at("2026-11-27T12:31:00Z")],
                },
                Figures {
                    chats_handled: 3,
                    chats_missed: 1,
                    // (20 + 41 + 5) / 3 = 22
                    first_response_avg_s: Some(22),
                    ratings: Some((2, 1)),
                    tickets_opened: 2,
                    tickets_solved: 1,
                    tickets_open: 4,
                    // 12:00, 12:05 chats and two replies at 12:30 UTC = 13:00 in Warsaw (UTC+1).
                    busiest_hour: Some((13, 4)),
                    ticket_replies: 2,
                },
            ),
            (
                // A tie goes to the earlier hour; a reply before the chat started counts as 0 s.
                DayFacts {
                    chats: vec![chat("2026-11-27T09:00:00Z", Some(-3), Some("served")), chat("2026-11-27T07:00:00Z", None, Some("missed"))],
                    ..Default::default()
                },
                Figures {
                    chats_handled: 1,
                    chats_missed: 1,
                    first_response_avg_s: Some(0),
                    busiest_hour: Some((8, 1)),
                    ..Default::default()
                },
            ),
        ];
        for (i, (facts, want)) in cases.iter().enumerate() {
            assert_eq!(&figures(facts, &warsaw), want, "case {i}");
        }
        assert!(Figures::default().is_quiet());
        assert!(!Figures { ticket_replies: 1, ..Default::default() }.is_quiet());
    }

    #[test]
    fn one_suggestion_from_the_figures() {
        let f = |handled, missed, avg: Option<i64>, bad, open, solved| Figures {
            chats_handled: handled,
            chats_missed: missed,
            first_response_avg_s: avg,
            ratings: (bad > 0).then_some((1, bad)),
            tickets_open: open,
            tickets_solved: solved,
            ..Default::default()
        };
        let none = Figures::default();
        let cases = [
            (f(8, 2, Some(90), 1, 9, 0), none.clone(), Suggestion::MissedChats { missed: 2, total: 10 }),
            (f(9, 1, Some(61), 0, 0, 0), none.clone(), Suggestion::SlowFirstResponse { avg_s: 61 }),
            (f(9, 0, Some(60), 2, 9, 0), none.clone(), Suggestion::BadRatings { bad: 2 }),
            (f(9, 0, Some(30), 0, 6, 3), none.clone(), Suggestion::Backlog { open: 6, solved: 3 }),
            (f(9, 0, Some(30), 0, 6, 4), none.clone(), Suggestion::KeepGoing { handled: 9, solved: 4 }),
            (f(10, 1, Some(30), 0, 0, 0), f(12, 0, None, 0, 0, 0), Suggestion::MoreMissedThanLastWeek { missed: 1, before: 0 }),
            (f(10, 1, Some(30), 0, 0, 0), f(12, 1, None, 0, 0, 0), Suggestion::KeepGoing { handled: 10, solved: 0 }),
        ];
        for (i, (today, before, want)) in cases.iter().enumerate() {
            assert_eq!(&suggestion(today, before), want, "case {i}");
        }
    }

    #[test]
    fn days_times_and_zones() {
        let warsaw = parse_time_zone("Europe/Warsaw").unwrap();
        assert!(parse_time_zone("Mars/Olympus").is_err());
        // The autumn DST change makes 2026-10-25 25 hours long in Warsaw.
        let (s, e) = day_bounds(parse_date("2026-10-25").unwrap(), &warsaw);
        assert_eq!((s, e - s), (at("2026-10-24T22:00:00Z"), 25 * 3_600_000));
        let (s, e) = day_bounds(parse_date("2026-11-27").unwrap(), &warsaw);
        assert_eq!((s, e - s), (at("2026-11-26T23:00:00Z"), 24 * 3_600_000));
        for bad in ["2026-13-01", "2026-02-30", "27.11.2026", "2026-1-1", "", "tomorrow"] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(week_before(parse_date("2026-03-03").unwrap()), parse_date("2026-02-24").unwrap());
        let six = parse_time("18:00").unwrap();
        for bad in ["18", "24:00", "18:60", "6:00", "18:00:00", "ab:cd"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        // 16:59 UTC is 17:59 in Warsaw: not yet; 17:00 UTC is 18:00: due, for that local date.
        assert_eq!(due(at("2026-11-27T16:59:59Z"), &warsaw, six), None);
        assert_eq!(due(at("2026-11-27T17:00:00Z"), &warsaw, six), Some(parse_date("2026-11-27").unwrap()));
        // Just after local midnight the new day is not due until 18:00.
        assert_eq!(due(at("2026-11-27T23:30:00Z"), &warsaw, six), None);
        assert_eq!(today(at("2026-11-27T23:30:00Z"), &warsaw), parse_date("2026-11-28").unwrap());
    }
}
