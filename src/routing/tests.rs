//! Table tests of the routing decision (issue 9, "Done when" 1).
#![allow(clippy::type_complexity, reason = "case tables are tuples named at their declaration")]

use super::*;

fn agent(id: i64, status: AgentStatus, limit: i64, active: i64, last: Option<i64>, depts: &[i64]) -> AgentLoad {
    AgentLoad { id, status, chat_limit: limit, active, last_assigned_at: last, departments: depts.to_vec() }
}

use AgentStatus::{Accepting as A, NotAccepting as N, Offline as O};

fn dept(id: i64, priority: i64) -> DeptRules {
    DeptRules {
        id,
        name: format!("d{id}"),
        visible: true,
        priority,
        timezone: "UTC".into(),
        hours: None,
        holidays: vec![],
        queue_limit: None,
        offline: OfflineBehaviour::Form,
        origins: vec![],
    }
}

fn waiting(conversation: i64, department_id: Option<i64>, created_at: i64) -> Waiting {
    Waiting { conversation, department_id, created_at }
}

#[test]
fn pick_table() {
    // (agents, department, expected)
    let cases: Vec<(&str, Vec<AgentLoad>, Option<i64>, Option<i64>)> = vec![
        ("most free slots wins", vec![agent(1, A, 3, 2, None, &[]), agent(2, A, 3, 0, None, &[])], None, Some(2)),
        ("free slots, not the limit, count", vec![agent(1, A, 10, 9, None, &[]), agent(2, A, 2, 0, None, &[])], None, Some(2)),
        (
            "tie: longest idle wins",
            vec![agent(1, A, 2, 0, Some(500), &[]), agent(2, A, 2, 0, Some(100), &[]), agent(3, A, 2, 0, Some(900), &[])],
            None,
            Some(2),
        ),
        ("tie: never assigned is the longest idle", vec![agent(1, A, 2, 0, Some(100), &[]), agent(2, A, 2, 0, None, &[])], None, Some(2)),
        ("full tie: lowest id", vec![agent(2, A, 2, 0, None, &[]), agent(1, A, 2, 0, None, &[])], None, Some(1)),
        ("not accepting skipped", vec![agent(1, N, 5, 0, None, &[]), agent(2, A, 1, 0, None, &[])], None, Some(2)),
        ("offline skipped", vec![agent(1, O, 5, 0, None, &[]), agent(2, A, 1, 0, None, &[])], None, Some(2)),
        ("full skipped", vec![agent(1, A, 2, 2, None, &[]), agent(2, A, 1, 0, None, &[])], None, Some(2)),
        ("limit 0 never gets a chat", vec![agent(1, A, 0, 0, None, &[])], None, None),
        ("over the limit (lowered) is full", vec![agent(1, A, 1, 3, None, &[])], None, None),
        ("nobody available", vec![agent(1, N, 3, 0, None, &[]), agent(2, O, 3, 0, None, &[])], None, None),
        ("department members only", vec![agent(1, A, 5, 0, None, &[7]), agent(2, A, 1, 0, None, &[8])], Some(8), Some(2)),
        ("no member free", vec![agent(1, A, 5, 0, None, &[7]), agent(2, A, 1, 1, None, &[8])], Some(8), None),
        ("no department: anyone", vec![agent(1, A, 1, 0, None, &[7])], None, Some(1)),
    ];
    for (name, agents, d, want) in cases {
        assert_eq!(pick(&agents, d), want, "{name}");
    }
}

#[test]
fn plan_table() {
    let now = 10_000;
    // Limits 1/2/3 and 10 chats: 6 assigned, evenly (each time the most free slots).
    let s = Snapshot {
        agents: vec![agent(1, A, 1, 0, None, &[]), agent(2, A, 2, 0, None, &[]), agent(3, A, 3, 0, None, &[])],
        waiting: (1..=10).map(|i| waiting(i, None, i)).collect(),
        ..Default::default()
    };
    let p = plan(Mode::Even, &s, now);
    assert_eq!(p, vec![(1, 3), (2, 2), (3, 3), (4, 1), (5, 2), (6, 3)]);
    assert_eq!(plan(Mode::Manual, &s, now), vec![], "manual mode: chats wait to be picked");

    // Priority order: a higher-priority department's chat goes first although it came later.
    let s = Snapshot {
        agents: vec![agent(1, A, 1, 0, None, &[1, 2])],
        departments: vec![dept(1, 0), dept(2, 5)],
        waiting: vec![waiting(10, Some(1), 1), waiting(11, Some(2), 2)],
        ..Default::default()
    };
    assert_eq!(plan(Mode::Even, &s, now), vec![(11, 1)]);
    assert_eq!(queue_order(&s).iter().map(|w| w.conversation).collect::<Vec<_>>(), vec![11, 10]);

    // A chat nobody can take does not block a later one someone can.
    let s = Snapshot {
        agents: vec![agent(1, A, 1, 0, None, &[2])],
        departments: vec![dept(1, 0), dept(2, 0)],
        waiting: vec![waiting(10, Some(1), 1), waiting(11, Some(2), 2)],
        ..Default::default()
    };
    assert_eq!(plan(Mode::Even, &s, now), vec![(11, 1)]);
}

#[test]
fn positions_table() {
    let s = Snapshot {
        departments: vec![dept(1, 0), dept(2, 9)],
        waiting: vec![waiting(1, None, 1), waiting(2, Some(1), 2), waiting(3, Some(2), 3), waiting(4, Some(1), 4)],
        ..Default::default()
    };
    // Order: 3 (priority 9), 1, 2, 4. Without agents, department 1's chats don't wait behind
    // department 2's.
    assert_eq!(positions(&s), vec![(3, 1), (1, 2), (2, 2), (4, 3)]);
    // With agents, chats compete when someone serves both: one agent for 1 and 2 makes every
    // chat wait behind all earlier ones; separate agents keep the departments apart.
    let shared = Snapshot { agents: vec![agent(1, A, 1, 1, None, &[1, 2])], ..s.clone() };
    assert_eq!(positions(&shared), vec![(3, 1), (1, 2), (2, 3), (4, 4)]);
    let apart = Snapshot { agents: vec![agent(1, A, 1, 1, None, &[1]), agent(2, A, 1, 1, None, &[2])], ..s };
    assert_eq!(positions(&apart), vec![(3, 1), (1, 2), (2, 2), (4, 3)]);
}

/// The linear `positions` agrees with the definition it replaced (a pairwise scan of all
/// earlier chats) on mixed queues: departments with shared, separate and no agents.
#[test]
fn positions_match_the_pairwise_definition() {
    let naive = |s: &Snapshot| -> Vec<(i64, i64)> {
        let q = queue_order(s);
        let served: Vec<Vec<i64>> =
            q.iter().map(|w| s.agents.iter().filter(|a| a.serves(w.department_id)).map(|a| a.id).collect()).collect();
        let compete = |i: usize, j: usize| {
            let (a, b) = (&q[i], &q[j]);
            if served[i].is_empty() && served[j].is_empty() {
                a.department_id == b.department_id || a.department_id.is_none() || b.department_id.is_none()
            } else {
                served[i].iter().any(|x| served[j].contains(x))
            }
        };
        (0..q.len()).map(|i| (q[i].conversation, (0..i).filter(|&j| compete(i, j)).count() as i64 + 1)).collect()
    };
    let mut seed = 7u64;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let staffings: Vec<Vec<AgentLoad>> = vec![
        vec![],
        vec![agent(1, A, 1, 1, None, &[1, 2]), agent(2, A, 1, 1, None, &[3])],
        vec![agent(1, A, 1, 1, None, &[1]), agent(2, A, 1, 1, None, &[2]), agent(3, N, 1, 0, None, &[2, 4])],
        vec![agent(1, A, 1, 1, None, &[])],
    ];
    for agents in staffings {
        let waiting =
            (1..=300).map(|c| waiting(c, [None, Some(1), Some(2), Some(3), Some(4)][next(5) as usize], next(50) as i64)).collect();
        let s = Snapshot { agents, departments: vec![dept(1, 0), dept(2, 3), dept(3, 0), dept(4, 1)], waiting, ..Default::default() };
        assert_eq!(positions(&s), naive(&s));
    }
}

#[test]
fn hours_and_holidays_table() {
    // 2026-03-02 is a Monday. Europe/Warsaw is UTC+1 in March before the DST switch.
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let week = Week::from_json(&serde_json::json!({"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "sat": [["10:00", "24:00"]]})).unwrap();
    let d = DeptRules { timezone: "Europe/Warsaw".into(), hours: Some(week), holidays: vec!["2026-03-03".into()], ..dept(1, 0) };
    let cases = [
        ("2026-03-02T07:59:00Z", Err(Closed::Hours)), // 08:59 local
        ("2026-03-02T08:00:00Z", Ok(())),             // 09:00 local
        ("2026-03-02T11:30:00Z", Err(Closed::Hours)), // lunch 12:30
        ("2026-03-02T16:59:00Z", Ok(())),             // 17:59
        ("2026-03-02T17:00:00Z", Err(Closed::Hours)), // 18:00: closed
        ("2026-03-03T10:00:00Z", Err(Closed::Holiday)),
        ("2026-03-07T22:59:00Z", Ok(())),             // Saturday 23:59, open until midnight
        ("2026-03-08T10:00:00Z", Err(Closed::Hours)), // Sunday: no hours
    ];
    for (t, want) in cases {
        assert_eq!(hours_state(&d, at(t)), want, "{t}");
    }
    assert_eq!(hours_state(&dept(1, 0), at("2026-03-08T03:00:00Z")), Ok(()), "no hours: always open");

    for bad in [
        serde_json::json!({"mon": [["9:00", "18:00"]]}),
        serde_json::json!({"mon": [["18:00", "09:00"]]}),
        serde_json::json!({"mon": [["09:00", "24:30"]]}),
        serde_json::json!({"funday": []}),
        serde_json::json!({"mon": "all day"}),
        serde_json::json!([]),
    ] {
        assert!(Week::from_json(&bad).is_err(), "{bad}");
    }
    assert!(validate_timezone("Europe/Warsaw").is_ok());
    assert!(validate_timezone("Mars/Olympus").is_err());
    assert!(validate_holiday("2026-02-30").is_err());
}

#[test]
fn admission_table() {
    let now = "2026-03-02T10:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let closed_week = Week::from_json(&serde_json::json!({"sun": [["09:00", "10:00"]]})).unwrap();
    let limited = DeptRules { queue_limit: Some(2), ..dept(1, 0) };
    let hidden = DeptRules { visible: false, ..dept(3, 0) };
    let after_hours = DeptRules { hours: Some(closed_week), ..dept(2, 0) };
    let base = Snapshot { departments: vec![limited, after_hours, hidden], ..Default::default() };
    let with = |agents: Vec<AgentLoad>, queued: usize| Snapshot {
        agents,
        waiting: (0..queued as i64).map(|i| waiting(100 + i, Some(1), i)).collect(),
        ..base.clone()
    };
    let cases: Vec<(&str, Mode, Snapshot, Option<i64>, Result<(), Closed>)> = vec![
        ("free slot", Mode::Even, with(vec![agent(1, A, 1, 0, None, &[1])], 0), Some(1), Ok(())),
        ("nobody accepting", Mode::Even, with(vec![agent(1, N, 1, 0, None, &[1])], 0), Some(1), Err(Closed::NobodyAccepting)),
        ("only offline", Mode::Even, with(vec![agent(1, O, 1, 0, None, &[1])], 0), Some(1), Err(Closed::NobodyAccepting)),
        ("accepting elsewhere", Mode::Even, with(vec![agent(1, A, 1, 0, None, &[2])], 0), Some(1), Err(Closed::NobodyAccepting)),
        ("full, queue has room", Mode::Even, with(vec![agent(1, A, 1, 1, None, &[1])], 1), Some(1), Ok(())),
        ("full, queue at its limit", Mode::Even, with(vec![agent(1, A, 1, 1, None, &[1])], 2), Some(1), Err(Closed::QueueFull)),
        ("manual: the queue limit applies", Mode::Manual, with(vec![agent(1, A, 1, 0, None, &[1])], 2), Some(1), Err(Closed::QueueFull)),
        ("manual: room in the queue", Mode::Manual, with(vec![agent(1, A, 1, 0, None, &[1])], 1), Some(1), Ok(())),
        ("outside hours", Mode::Even, with(vec![agent(1, A, 1, 0, None, &[2])], 0), Some(2), Err(Closed::Hours)),
        ("hidden department: transfers only, but routable", Mode::Even, with(vec![agent(1, A, 1, 0, None, &[3])], 0), Some(3), Ok(())),
        ("no department, no limit", Mode::Even, with(vec![agent(1, A, 1, 1, None, &[])], 2), None, Ok(())),
    ];
    for (name, mode, s, d, want) in cases {
        assert_eq!(admission(mode, &s, d, now), want, "{name}");
    }
}

#[test]
fn availability_counts_accepting_agents_with_free_slots() {
    let s = Snapshot {
        agents: vec![
            agent(1, A, 2, 1, None, &[1]),
            agent(2, A, 1, 1, None, &[1]),
            agent(3, N, 3, 0, None, &[1]),
            agent(4, O, 3, 0, None, &[1]),
            agent(5, A, 3, 0, None, &[2]),
        ],
        ..Default::default()
    };
    assert_eq!(available_agents(&s, Some(1)), 1);
    assert_eq!(available_agents(&s, None), 2);
}

#[test]
fn wait_estimate() {
    let s = Snapshot {
        agents: vec![agent(1, A, 2, 2, None, &[]), agent(2, N, 5, 0, None, &[])],
        avg_chat_ms: Some(600_000),
        ..Default::default()
    };
    assert_eq!(estimated_wait_s(&s, None, 1), Some(300));
    assert_eq!(estimated_wait_s(&s, None, 4), Some(1200));
    assert_eq!(estimated_wait_s(&Snapshot { avg_chat_ms: None, ..s.clone() }, None, 1), None);
    assert_eq!(estimated_wait_s(&Snapshot { agents: vec![], ..s }, None, 1), None);
}

#[test]
fn settings_validation() {
    let mut ok =
        RoutingSettings { allowed_origins: vec!["https://Shop.example:443/".into(), "http://b.example:8080".into()], ..Default::default() };
    ok.validate().unwrap();
    assert_eq!(ok.allowed_origins, vec!["http://b.example:8080", "https://shop.example"]);
    assert!(ok.origin_allowed(Some("https://shop.example")));
    assert!(!ok.origin_allowed(Some("https://evil.example")));
    assert!(!ok.origin_allowed(None));
    assert!(RoutingSettings::default().origin_allowed(None), "empty list: any site");
    for bad in [
        RoutingSettings { allowed_origins: vec!["javascript:alert(1)".into()], ..Default::default() },
        RoutingSettings { allowed_origins: vec!["https://shop.example/path".into()], ..Default::default() },
        RoutingSettings { allowed_origins: vec!["shop.example".into()], ..Default::default() },
        RoutingSettings { wait_notice_s: 300, retention_s: 200, ..Default::default() },
        RoutingSettings { wait_notice_s: 0, ..Default::default() },
        RoutingSettings { cancel_window_s: -1, ..Default::default() },
    ] {
        assert!(bad.clone().validate().is_err(), "{bad:?}");
    }
}

#[test]
fn department_of_a_new_chat() {
    let shop_only = DeptRules { origins: vec!["https://shop.example".into()], ..dept(4, 0) };
    let s = Snapshot { departments: vec![dept(1, 0), DeptRules { visible: false, ..dept(3, 0) }, shop_only], ..Default::default() };
    let shop = Some("https://shop.example");
    let blog = Some("https://blog.example");
    let cases: Vec<(&str, Option<i64>, Option<i64>, Option<&str>, Result<Option<i64>, ()>)> = vec![
        ("chosen visible", Some(1), None, shop, Ok(Some(1))),
        ("hidden departments only receive transfers", Some(3), None, shop, Err(())),
        ("unknown", Some(99), None, shop, Err(())),
        ("default when none chosen", None, Some(1), shop, Ok(Some(1))),
        ("no default: any agent", None, None, shop, Ok(None)),
        ("bound to another site", Some(4), None, blog, Err(())),
        ("bound to this site", Some(4), None, shop, Ok(Some(4))),
        ("a default gone since", None, Some(99), shop, Ok(None)),
    ];
    for (name, chosen, default, origin, want) in cases {
        assert_eq!(department_for_chat(&s, chosen, default, origin).map_err(|_| ()), want, "{name}");
    }
    assert_eq!(
        widget_departments(&s, blog).iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![1],
        "hidden and other sites' departments are not offered"
    );
}
