//! Table tests of every figure on hand-built histories.

use jiff::civil::date;
use jiff::tz::TimeZone;

use super::monitor::{Facts, ReportSettings, Today, build};
use super::*;
use crate::routing::{AgentLoad, AgentStatus::*};

const S: i64 = 1000;
const H: i64 = 3_600_000;
const CW: i64 = 20 * S;

fn warsaw() -> TimeZone {
    TimeZone::get("Europe/Warsaw").unwrap()
}

fn at(y: i16, m: i8, d: i8, h: i8, min: i8) -> i64 {
    date(y, m, d).at(h, min, 0, 0).to_zoned(warsaw()).unwrap().timestamp().as_millisecond()
}

fn chat(created_at: i64) -> ChatFact {
    ChatFact { id: created_at, created_at, channel: CHAT_CHANNEL, ..Default::default() }
}

fn ended(mut c: ChatFact, after: i64, by: EndedBy) -> ChatFact {
    c.ended_at = Some(c.created_at + after);
    c.ended_by = Some(by);
    c
}

fn handled(mut c: ChatFact, agents: &[i64], wait: i64, reply: Option<i64>) -> ChatFact {
    c.handlers = agents.to_vec();
    c.agent_id = agents.last().copied();
    c.assigned_at = Some(c.created_at + wait);
    c.first_agent_reply_at = reply.map(|r| c.created_at + r);
    c
}

#[test]
fn outcomes_follow_r5() {
    let t0 = at(2026, 1, 5, 10, 0);
    let cases: &[(&str, ChatFact, Option<Outcome>)] = &[
        ("visitor leaves after 19 s of waiting: cancelled", ended(chat(t0), 19 * S, EndedBy::Visitor), Some(Outcome::Cancelled)),
        ("exactly 20 s: still cancelled", ended(chat(t0), 20 * S, EndedBy::Visitor), Some(Outcome::Cancelled)),
        ("visitor leaves after 21 s of waiting: missed", ended(chat(t0), 21 * S, EndedBy::Visitor), Some(Outcome::Missed)),
        ("timeout after 10 s: missed (not the visitor's choice)", ended(chat(t0), 10 * S, EndedBy::Timeout), Some(Outcome::Missed)),
        (
            "agent replied, visitor left at 5 s: served",
            ended(handled(chat(t0), &[1], S, Some(2 * S)), 5 * S, EndedBy::Visitor),
            Some(Outcome::Served),
        ),
        (
            "assigned but never answered, agent ended: missed",
            ended(handled(chat(t0), &[1], S, None), 60 * S, EndedBy::Agent),
            Some(Outcome::Missed),
        ),
        ("still open: no outcome", chat(t0), None),
    ];
    for (name, c, want) in cases {
        assert_eq!(outcome_of(c, CW), *want, "{name}");
    }
    // The stored outcome wins over a recomputation (the window may have changed since).
    let mut stored = ended(chat(t0), 25 * S, EndedBy::Visitor);
    stored.outcome = Some(Outcome::Cancelled);
    assert_eq!(outcome_of(&stored, CW), Some(Outcome::Cancelled));
}

#[test]
fn chat_figures_count_and_average() {
    let t0 = at(2026, 1, 5, 10, 0);
    let chats = vec![
        ended(chat(t0), 19 * S, EndedBy::Visitor),
        ended(chat(t0 + S), 21 * S, EndedBy::Visitor),
        ended(handled(chat(t0 + 2 * S), &[1], 10 * S, Some(30 * S)), 300 * S, EndedBy::Agent),
        ended(handled(chat(t0 + 3 * S), &[2], 30 * S, Some(40 * S)), 500 * S, EndedBy::Visitor),
        handled(chat(t0 + 4 * S), &[2], 20 * S, None),
    ];
    let f = chat_figures(&chats, CW);
    assert_eq!((f.total, f.served, f.missed, f.cancelled, f.open), (5, 2, 1, 1, 1));
    assert_eq!(f.first_response_avg_s, Some(35.0));
    assert_eq!(f.queue_wait_avg_s, Some(20.0));
    assert_eq!(f.queue_wait_max_s, Some(30.0));
    assert_eq!(f.duration_avg_s, Some(400.0));
    assert_eq!(f.csat, None);
    assert_eq!(chat_figures(&[], CW), ChatFigures::default());
}

#[test]
fn a_transfer_mid_chat_counts_once_for_the_desk_and_once_for_each_agent() {
    let t0 = at(2026, 1, 5, 10, 0);
    // Agent 1 took it after 10 s and replied at 30 s, then transferred it to agent 2, who ended it.
    let c = ended(handled(chat(t0), &[1, 2], 10 * S, Some(30 * S)), 600 * S, EndedBy::Agent);
    let f = chat_figures([&c], CW);
    assert_eq!((f.total, f.served), (1, 1));
    let a = agent_figures(std::slice::from_ref(&c), &[], t0 - H, t0 + H, &Filter::default(), CW);
    assert_eq!(a.len(), 2);
    assert_eq!((a[0].agent_id, a[0].chats, a[0].served, a[0].first_response_avg_s), (1, 1, 0, Some(30.0)));
    assert_eq!((a[1].agent_id, a[1].chats, a[1].served, a[1].first_response_avg_s), (2, 1, 1, None));
    // Filtering by either agent finds the chat.
    for id in [1, 2] {
        let f = Filter { agent_id: Some(id), ..Default::default() };
        assert!(f.chat(&c), "agent {id}");
    }
}

#[test]
fn online_time_follows_the_status_history() {
    let day = |h: i8, m: i8| at(2026, 1, 5, h, m);
    let (start, end) = (day(0, 0), at(2026, 1, 6, 0, 0));
    let cases: &[(&str, Timeline, OnlineTime)] = &[
        (
            "an agent going offline mid-shift (auto-offline at 12:00, back at 13:00)",
            Timeline {
                agent_id: 1,
                initial: Offline,
                changes: vec![
                    (day(9, 0), Accepting),
                    (day(12, 0), Offline),
                    (day(13, 0), Accepting),
                    (day(15, 0), NotAccepting),
                    (day(17, 0), Offline),
                ],
            },
            OnlineTime { accepting_s: 5 * 3600, not_accepting_s: 2 * 3600, online_s: 7 * 3600 },
        ),
        (
            "accepting since yesterday, offline at 02:30",
            Timeline { agent_id: 2, initial: Accepting, changes: vec![(day(2, 30), Offline)] },
            OnlineTime { accepting_s: 9000, not_accepting_s: 0, online_s: 9000 },
        ),
        (
            "no change in the day: its status all day",
            Timeline { agent_id: 3, initial: NotAccepting, changes: vec![] },
            OnlineTime { accepting_s: 0, not_accepting_s: 86_400, online_s: 86_400 },
        ),
        (
            "changes outside the range are clipped",
            Timeline { agent_id: 4, initial: Offline, changes: vec![(start - H, Accepting), (end + H, Offline)] },
            OnlineTime { accepting_s: 86_400, not_accepting_s: 0, online_s: 86_400 },
        ),
    ];
    for (name, t, want) in cases {
        assert_eq!(&online_time(t, start, end), want, "{name}");
    }
}

#[test]
fn hours_after_now_are_not_online() {
    let (start, end) = (at(2026, 1, 5, 0, 0), at(2026, 1, 6, 0, 0));
    let now = at(2026, 1, 5, 10, 0);
    let mut tls = vec![
        Timeline { agent_id: 1, initial: Accepting, changes: vec![] },
        // A change stored "in the future" (a clock set back) is ignored as well.
        Timeline { agent_id: 2, initial: Offline, changes: vec![(at(2026, 1, 5, 9, 0), NotAccepting), (at(2026, 1, 5, 11, 0), Accepting)] },
    ];
    until_now(&mut tls, now);
    assert_eq!(online_time(&tls[0], start, end).accepting_s, 10 * 3600);
    assert_eq!(online_time(&tls[1], start, end), OnlineTime { accepting_s: 0, not_accepting_s: 3600, online_s: 3600 });
}

#[test]
fn periods_in_the_shop_time_zone_across_dst() {
    let tz = warsaw();
    let r = |f, t| Range::new(f, t, tz.clone()).unwrap();
    let hours = |p: &Period| (p.end - p.start) / H;
    // Spring forward on Sunday 2026-03-29: a 23-hour day.
    let days = periods(&r(date(2026, 3, 28), date(2026, 3, 30)), Granularity::Day).unwrap();
    assert_eq!(days.iter().map(|p| p.period.as_str()).collect::<Vec<_>>(), ["2026-03-28", "2026-03-29", "2026-03-30"]);
    assert_eq!(days.iter().map(hours).collect::<Vec<_>>(), [24, 23, 24]);
    // Fall back on Sunday 2026-10-25: 25 hours, the 02:00 hour twice with different offsets.
    let day = periods(&r(date(2026, 10, 25), date(2026, 10, 25)), Granularity::Day).unwrap();
    assert_eq!(day.iter().map(hours).collect::<Vec<_>>(), [25]);
    let hs = periods(&r(date(2026, 10, 25), date(2026, 10, 25)), Granularity::Hour).unwrap();
    assert_eq!(hs.len(), 25);
    assert_eq!(hs[2].period, "2026-10-25T02:00+02:00");
    assert_eq!(hs[3].period, "2026-10-25T02:00+01:00");
    assert_eq!(periods(&r(date(2026, 3, 29), date(2026, 3, 29)), Granularity::Hour).unwrap().len(), 23);
    // Weeks start on Monday; the week of the spring change is 167 hours; the ends are clipped.
    let weeks = periods(&r(date(2026, 3, 25), date(2026, 4, 8)), Granularity::Week).unwrap();
    assert_eq!(weeks.iter().map(|p| p.period.as_str()).collect::<Vec<_>>(), ["2026-03-23", "2026-03-30", "2026-04-06"]);
    assert_eq!(weeks.iter().map(hours).collect::<Vec<_>>(), [5 * 24 - 1, 7 * 24, 3 * 24]);
    let months = periods(&r(date(2026, 3, 1), date(2026, 4, 30)), Granularity::Month).unwrap();
    assert_eq!(months.iter().map(|p| (p.period.as_str(), hours(p))).collect::<Vec<_>>(), [("2026-03", 31 * 24 - 1), ("2026-04", 30 * 24)]);
    // Contiguous: each period ends where the next starts.
    for w in weeks.windows(2) {
        assert_eq!(w[0].end, w[1].start);
    }
    // A chat at local midnight belongs to the new day; one a millisecond before to the old one.
    let midnight = at(2026, 3, 29, 0, 0);
    assert_eq!(bucket(&days, midnight), Some(1));
    assert_eq!(bucket(&days, midnight - 1), Some(0));
    assert_eq!(bucket(&days, days[2].end), None);
}

#[test]
fn ranges_and_the_previous_period() {
    let tz = TimeZone::UTC;
    type Case<'a> = (&'a str, (&'a str, &'a str), Result<(&'a str, &'a str), ()>);
    let cases: &[Case] = &[
        ("a week", ("2026-03-09", "2026-03-15"), Ok(("2026-03-02", "2026-03-08"))),
        ("one day", ("2026-03-01", "2026-03-01"), Ok(("2026-02-28", "2026-02-28"))),
        ("a month of 31 days", ("2026-03-01", "2026-03-31"), Ok(("2026-01-29", "2026-02-28"))),
    ];
    for (name, (f, t), want) in cases {
        let r = Range::parse(f, t, tz.clone()).unwrap();
        let p = r.previous().unwrap();
        assert_eq!(Ok((p.from.to_string(), p.to.to_string())), want.map(|(a, b)| (a.to_string(), b.to_string())), "{name}");
        assert_eq!(p.days(), r.days(), "{name}");
    }
    for (f, t) in [("2026-03-10", "2026-03-09"), ("2026-13-01", "2026-12-01"), ("yesterday", "2026-01-01"), ("2020-01-01", "2026-01-01")] {
        assert!(Range::parse(f, t, tz.clone()).is_err(), "{f}..{t}");
    }
}

#[test]
fn chat_rows_bucket_by_start_and_filter() {
    let tz = warsaw();
    let range = Range::new(date(2026, 3, 28), date(2026, 3, 29), tz).unwrap();
    let ps = periods(&range, Granularity::Day).unwrap();
    let mut a = ended(handled(chat(at(2026, 3, 28, 23, 59)), &[1], S, Some(2 * S)), 60 * S, EndedBy::Agent);
    a.department_id = Some(7);
    let b = ended(chat(at(2026, 3, 29, 0, 0)), 10 * S, EndedBy::Visitor);
    let mut c = ended(chat(at(2026, 3, 29, 12, 0)), 100 * S, EndedBy::Timeout);
    c.tags = vec![NON_TARGET.into(), "spam".into()];
    let outside = chat(at(2026, 3, 30, 0, 0));
    let chats = vec![a, b, c, outside];
    let (rows, totals) = chat_rows(&chats, &ps, &Filter::default(), CW);
    assert_eq!(rows.iter().map(|r| (r.total, r.served, r.cancelled, r.missed)).collect::<Vec<_>>(), [(1, 1, 0, 0), (2, 0, 1, 1)]);
    assert_eq!(totals.total, 3);
    let dept = Filter { department_id: Some(7), ..Default::default() };
    assert_eq!(chat_rows(&chats, &ps, &dept, CW).1.total, 1);
    let target = Filter { exclude_non_target: true, ..Default::default() };
    assert_eq!(chat_rows(&chats, &ps, &target, CW).1.missed, 0);
    let widget = Filter { channel: Some("email".into()), ..Default::default() };
    assert_eq!(chat_rows(&chats, &ps, &widget, CW).1.total, 0);
    let (start, end) = (range.start().unwrap(), range.end().unwrap());
    assert_eq!(
        tag_counts(&chats, start, end, &Filter::default()).into_iter().collect::<Vec<_>>(),
        [("non-target".into(), 1), ("spam".into(), 1)]
    );
    assert!(tag_counts(&chats, start, end, &target).is_empty());
}

#[test]
fn csat_is_the_share_of_good_ratings() {
    let cases: &[(&[u8], Option<f64>)] = &[(&[], None), (&[5, 4, 3, 1], Some(50.0)), (&[5, 5, 5], Some(100.0)), (&[1, 2, 4], Some(33.3))];
    for (ratings, want) in cases {
        assert_eq!(csat(ratings), *want, "{ratings:?}");
    }
    let t0 = at(2026, 1, 5, 10, 0);
    let mut rated = ended(handled(chat(t0), &[1], S, Some(S)), 60 * S, EndedBy::Agent);
    rated.rating = Some(5);
    let mut bad = rated.clone();
    bad.rating = Some(2);
    let f = chat_figures([&rated, &bad, &chat(t0)], CW);
    assert_eq!((f.csat, f.rated), (Some(50.0), 2));
}

#[test]
fn ticket_figures_created_solved_backlog() {
    let d = |day: i8, h: i8| at(2026, 2, day, h, 0);
    let t = |created, first_reply: Option<i64>, solved: Option<i64>, status: &str, source: &str| TicketFact {
        created_at: created,
        first_reply_at: first_reply,
        solved_at: solved,
        status: status.into(),
        source: source.into(),
        ..Default::default()
    };
    let tickets = [
        t(d(1, 9), Some(d(1, 10)), Some(d(2, 9)), "solved", "email"), // created and solved inside
        t(d(1, 9), None, None, "open", "offline"),                    // created inside, still open
        t(at(2026, 1, 20, 9, 0), Some(d(1, 9)), Some(d(3, 9)), "solved", "email"), // older, solved inside
        t(at(2026, 1, 20, 9, 0), None, Some(d(10, 9)), "solved", "api"), // older, solved after: backlog
        t(d(2, 9), None, None, "spam", "email"),                      // spam: created, never backlog
    ];
    let (start, end) = (d(1, 0), d(8, 0));
    let f = ticket_figures(&tickets, start, end);
    assert_eq!((f.created, f.solved, f.backlog, f.offline_messages), (3, 2, 2, 1));
    assert_eq!(f.first_reply_avg_s, Some(3600.0));
    assert_eq!(f.resolution_avg_s, Some((86_400.0 + (d(3, 9) - at(2026, 1, 20, 9, 0)) as f64 / 1000.0) / 2.0));
}

#[test]
fn heatmap_cells_are_local_weekday_hours() {
    let tz = warsaw();
    // Monday 2026-01-05 .. Sunday 2026-01-11.
    let range = Range::new(date(2026, 1, 5), date(2026, 1, 11), tz).unwrap();
    let tl =
        Timeline { agent_id: 1, initial: Offline, changes: vec![(at(2026, 1, 5, 9, 0), Accepting), (at(2026, 1, 5, 10, 30), Offline)] };
    let chats =
        [ended(chat(at(2026, 1, 5, 9, 15)), 100 * S, EndedBy::Timeout), ended(chat(at(2026, 1, 11, 23, 59)), 5 * S, EndedBy::Visitor)];
    let offline = TicketFact { source: "offline".into(), created_at: at(2026, 1, 7, 3, 0), ..Default::default() };
    let cells = heatmap(&chats, &[offline], &[tl], &range, &Filter::default(), CW).unwrap();
    assert_eq!(cells.len(), 168);
    let cell = |wd: i8, h: i8| cells.iter().find(|c| c.weekday == wd && c.hour == h).unwrap();
    assert_eq!((cell(1, 9).chats, cell(1, 9).missed, cell(1, 9).agents_online), (1, 1, 1.0));
    assert_eq!(cell(1, 10).agents_online, 0.5);
    assert_eq!((cell(7, 23).chats, cell(7, 23).missed), (1, 0));
    assert_eq!(cell(3, 3).offline_messages, 1);
    assert_eq!(cells.iter().map(|c| c.chats).sum::<u64>(), 2);
}

#[test]
fn worse_depends_on_the_metric() {
    let cases: &[(&str, f64, f64, bool)] = &[
        ("missed", 5.0, 3.0, true),
        ("missed", 3.0, 5.0, false),
        ("served", 3.0, 5.0, true),
        ("first_response_avg_s", 40.0, 30.0, true),
        ("queue_wait_avg_s", 10.0, 30.0, false),
        ("total", 1.0, 100.0, false),
        ("backlog", 10.0, 10.0, false),
    ];
    for (m, now, before, want) in cases {
        assert_eq!(worse(m, Some(*now), Some(*before)), *want, "{m} {now} vs {before}");
    }
    assert!(!worse("missed", Some(1.0), None));
}

#[test]
fn agent_days_give_each_day_its_figures() {
    let range = Range::new(date(2026, 3, 28), date(2026, 3, 29), warsaw()).unwrap();
    let tl = Timeline { agent_id: 1, initial: Accepting, changes: vec![] };
    let c = ended(handled(chat(at(2026, 3, 29, 10, 0)), &[1], S, Some(5 * S)), 60 * S, EndedBy::Agent);
    let days = agent_days(&[c], &[tl], &range, &Filter::default(), CW).unwrap();
    assert_eq!(days.len(), 2);
    assert_eq!((days[0].1[0].chats, days[0].1[0].time.accepting_s), (0, 24 * 3600));
    // The spring-forward day has 23 hours of accepting.
    assert_eq!((days[1].1[0].chats, days[1].1[0].served, days[1].1[0].time.accepting_s), (1, 1, 23 * 3600));
}

fn load(id: i64, status: AgentStatus, limit: i64, active: i64, depts: &[i64]) -> AgentLoad {
    AgentLoad { id, status, chat_limit: limit, active, last_assigned_at: None, departments: depts.to_vec() }
}

#[test]
fn monitor_turns_red_past_the_norm_without_free_slots() {
    let now = at(2026, 1, 5, 10, 0);
    let settings = ReportSettings { department_wait_norm_s: [(2, 30)].into(), ..Default::default() };
    let facts = |waiting: Vec<(Option<i64>, i64)>, agents: Vec<AgentLoad>| Facts {
        now,
        departments: vec![(1, "Support".into()), (2, "Sales".into())],
        waiting,
        in_progress: vec![(Some(1), 2)],
        agents,
        today: Today { served: 3, missed: 1, cancelled: 0 },
    };
    let busy = || vec![load(1, Accepting, 2, 2, &[1, 2]), load(2, NotAccepting, 3, 0, &[1]), load(3, Offline, 3, 0, &[2])];
    type Case<'a> = (&'a str, Vec<(Option<i64>, i64)>, Vec<AgentLoad>, [bool; 2]);
    let cases: &[Case] = &[
        ("61 s past the default 60 s norm, no free slot", vec![(Some(1), now - 61 * S)], busy(), [true, false]),
        ("59 s: within the norm", vec![(Some(1), now - 59 * S)], busy(), [false, false]),
        ("past the norm but a free slot", vec![(Some(1), now - 61 * S)], vec![load(1, Accepting, 3, 2, &[1])], [false, false]),
        ("Sales has its own 30 s norm", vec![(Some(2), now - 31 * S)], busy(), [false, true]),
        ("nobody waits", vec![], busy(), [false, false]),
    ];
    for (name, waiting, agents, want) in cases {
        let m = build(&facts(waiting.clone(), agents.clone()), &settings);
        assert_eq!([m.departments[0].alert, m.departments[1].alert], *want, "{name}");
        assert_eq!(m.alert, want.iter().any(|x| *x), "{name}");
    }
    let m = build(&facts(vec![(Some(1), now - 61 * S), (None, now - 5 * S)], busy()), &settings);
    assert_eq!((m.queue, m.longest_wait_s, m.in_progress, m.free_slots), (2, 61, 2, 0));
    assert_eq!((m.agents.accepting, m.agents.not_accepting, m.agents.offline), (1, 1, 1));
    assert_eq!(m.departments.len(), 3, "the no-department line shows while a chat waits there");
    assert_eq!(m.departments[0].wait_norm_s, 60);
    assert_eq!(m.today.served, 3);
}

#[test]
fn report_settings_validate() {
    let ok = ReportSettings { timezone: "Europe/Warsaw".into(), ..Default::default() };
    assert!(ok.validate().is_ok());
    for bad in [
        ReportSettings { timezone: "Mars/Olympus".into(), ..Default::default() },
        ReportSettings { wait_norm_s: 0, ..Default::default() },
        ReportSettings { department_wait_norm_s: [(1, 100_000)].into(), ..Default::default() },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}

#[test]
fn response_time_counts_every_answered_turn() {
    use Speaker::{Agent as A, Other as O, Visitor as V};
    let s = |v: &[(Speaker, i64)]| response_turns(v.iter().map(|&(w, t)| (w, t * S)));
    let cases: &[(&str, Turns, Turns)] = &[
        ("no lines", s(&[]), Turns::default()),
        ("one question, one answer", s(&[(V, 0), (A, 30)]), Turns { sum_ms: 30 * S, answered: 1, waiting_since: None }),
        (
            "every turn, not only the first: 30 s and 10 s",
            s(&[(V, 0), (A, 30), (V, 100), (A, 110)]),
            Turns { sum_ms: 40 * S, answered: 2, waiting_since: None },
        ),
        (
            "visitor messages in a row are one turn, timed from the first",
            s(&[(V, 0), (V, 5), (V, 20), (A, 50)]),
            Turns { sum_ms: 50 * S, answered: 1, waiting_since: None },
        ),
        (
            "a second agent message answers nothing more",
            s(&[(V, 0), (A, 10), (A, 60)]),
            Turns { sum_ms: 10 * S, answered: 1, waiting_since: None },
        ),
        (
            "an invitation's text first: no turn until the visitor writes",
            s(&[(A, 0), (V, 40), (A, 45)]),
            Turns { sum_ms: 5 * S, answered: 1, waiting_since: None },
        ),
        (
            "whispers, transfer notes and system lines neither ask nor answer",
            s(&[(V, 0), (O, 5), (O, 8), (A, 20), (O, 30), (V, 40), (O, 41), (A, 43)]),
            Turns { sum_ms: 23 * S, answered: 2, waiting_since: None },
        ),
        (
            "a transfer mid-chat: the new agent's reply answers the waiting turn",
            s(&[(V, 0), (A, 10), (V, 20), (O, 25), (A, 80)]),
            Turns { sum_ms: 70 * S, answered: 2, waiting_since: None },
        ),
        (
            "the last question still waiting does not count, but is remembered",
            s(&[(V, 0), (A, 10), (V, 20), (V, 30)]),
            Turns { sum_ms: 10 * S, answered: 1, waiting_since: Some(20 * S) },
        ),
    ];
    for (name, got, want) in cases {
        assert_eq!(got, want, "{name}");
    }
    for (kind, internal, want) in
        [("visitor", false, V), ("agent", false, A), ("agent", true, O), ("system", false, O), ("system", true, O), ("visitor", true, O)]
    {
        assert_eq!(Speaker::of(kind, internal), want, "{kind} internal={internal}");
    }
    // The figure is the mean over all turns of all chats, not a mean of the chats' means.
    let t0 = at(2026, 1, 5, 10, 0);
    let mut a = chat(t0);
    (a.response_sum_ms, a.responses) = (30 * S, 1);
    let mut b = chat(t0 + S);
    (b.response_sum_ms, b.responses) = (30 * S, 3);
    let f = chat_figures([&a, &b, &chat(t0 + 2 * S)], CW);
    assert_eq!(f.response_avg_s, Some(15.0));
    assert_eq!(chat_figures([&chat(t0)], CW).response_avg_s, None);
}

#[test]
fn invitations_sent_and_accepted_by_period_and_filter() {
    let tz = warsaw();
    let range = Range::new(date(2026, 3, 28), date(2026, 3, 29), tz).unwrap();
    let ps = periods(&range, Granularity::Day).unwrap();
    let inv = |sent_at, dept: Option<i64>, agent: Option<i64>, accepted, tags: &[&str]| InvitationFact {
        sent_at,
        department_id: dept,
        agent_id: agent,
        accepted,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    };
    let all = vec![
        inv(at(2026, 3, 28, 23, 59), Some(7), Some(1), true, &[]),
        inv(at(2026, 3, 29, 0, 0), None, Some(2), false, &[]),
        inv(at(2026, 3, 29, 12, 0), Some(7), Some(2), true, &["promo", NON_TARGET]),
        inv(at(2026, 3, 29, 13, 0), None, None, false, &[]),
        inv(at(2026, 3, 30, 0, 0), Some(7), Some(1), true, &[]),
        inv(at(2026, 3, 27, 23, 59), Some(7), Some(1), true, &[]),
    ];
    type Case = (&'static str, Filter, Vec<(u64, u64)>, (u64, u64));
    let cases: &[Case] = &[
        ("all, by local day; the day before and after left out", Filter::default(), vec![(1, 1), (3, 1)], (4, 2)),
        ("a department", Filter { department_id: Some(7), ..Default::default() }, vec![(1, 1), (1, 1)], (2, 2)),
        ("the inviting agent", Filter { agent_id: Some(2), ..Default::default() }, vec![(0, 0), (2, 1)], (2, 1)),
        ("the widget channel", Filter { channel: Some(CHAT_CHANNEL.into()), ..Default::default() }, vec![(1, 1), (3, 1)], (4, 2)),
        ("another channel", Filter { channel: Some("email".into()), ..Default::default() }, vec![(0, 0), (0, 0)], (0, 0)),
        ("a tag of the invitation's chat", Filter { tag: Some("promo".into()), ..Default::default() }, vec![(0, 0), (1, 1)], (1, 1)),
        ("non-target left out", Filter { exclude_non_target: true, ..Default::default() }, vec![(1, 1), (2, 0)], (3, 1)),
    ];
    for (name, filter, rows, total) in cases {
        assert_eq!(invitation_rows(&all, &ps, filter), (rows.clone(), *total), "{name}");
    }
}
