//! A generator of realistic ticket data for benchmarks and demos: a busy desk's two years.
//!
//! Distributions: a few departments of unequal size; customers who mostly write once while a
//! few write often (Zipf-like); 1–30+ messages per ticket with a long tail; most tickets
//! solved, a backlog of open and pending ones; text from a mixed English/Polish/Russian
//! vocabulary so full-text search has realistic term frequencies. Deterministic per seed.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rusqlite::{Connection, params};

use crate::error::AppError;

const WORDS: &[&str] = &[
    "order",
    "delivery",
    "parcel",
    "refund",
    "invoice",
    "payment",
    "card",
    "size",
    "colour",
    "broken",
    "missing",
    "late",
    "courier",
    "tracking",
    "number",
    "address",
    "return",
    "exchange",
    "warranty",
    "discount",
    "coupon",
    "account",
    "password",
    "login",
    "subscription",
    "cancel",
    "please",
    "thanks",
    "hello",
    "urgent",
    "today",
    "tomorrow",
    "week",
    "shoes",
    "jacket",
    "tent",
    "backpack",
    "boots",
    "zamówienie",
    "przesyłka",
    "zwrot",
    "faktura",
    "płatność",
    "rozmiar",
    "dziękuję",
    "kurier",
    "заказ",
    "доставка",
    "возврат",
    "оплата",
    "размер",
    "спасибо",
    "курьер",
    "посылка",
    "счёт",
    "скидка",
];

const SUBJECTS: &[&str] = &[
    "Where is my order",
    "Refund request",
    "Wrong size",
    "Invoice needed",
    "Payment failed",
    "Parcel damaged",
    "Change delivery address",
    "Cancel my subscription",
    "Warranty claim",
    "Coupon does not work",
    "Gdzie jest moja paczka",
    "Zwrot towaru",
    "Где мой заказ",
    "Возврат денег",
];

fn sentence(rng: &mut StdRng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.random_range(0..WORDS.len())]);
    }
    s
}

/// Zipf-like pick in 0..n: small indexes are picked far more often.
fn zipf(rng: &mut StdRng, n: usize) -> usize {
    let u: f64 = rng.random_range(0.0..1.0);
    ((n as f64).powf(u) - 1.0).floor() as usize % n
}

pub struct SeedReport {
    pub tickets: usize,
    pub messages: usize,
    pub contacts: usize,
}

/// Fill an open, migrated database. Runs in large transactions on this one connection.
pub fn seed(conn: &Connection, tickets: usize, messages: usize, seed: u64, now: i64) -> Result<SeedReport, AppError> {
    let mut rng = StdRng::seed_from_u64(seed);
    conn.execute_batch("BEGIN")?;
    let mut departments = Vec::new();
    for (i, name) in ["Support", "Sales", "Returns", "Wholesale", "Billing"].iter().enumerate() {
        conn.execute("INSERT OR IGNORE INTO departments (name, visible, created_at) VALUES (?1, ?2, ?3)", params![name, i < 3, now])?;
        departments.push(conn.query_row("SELECT id FROM departments WHERE name = ?1", [name], |r| r.get::<_, i64>(0))?);
    }
    let mut agents = Vec::new();
    for i in 0..20 {
        let email = format!("seed-agent{i}@example.com");
        conn.execute(
            "INSERT OR IGNORE INTO agents (email, email_norm, name, role, password_hash, created_at, updated_at) VALUES (?1, ?1, ?2, 'agent', NULL, ?3, ?3)",
            params![email, format!("Agent {i}"), now],
        )?;
        let id: i64 = conn.query_row("SELECT id FROM agents WHERE email_norm = ?1", [&email], |r| r.get(0))?;
        conn.execute(
            "INSERT OR IGNORE INTO department_members (department_id, agent_id) VALUES (?1, ?2)",
            params![departments[i % departments.len()], id],
        )?;
        agents.push(id);
    }
    let contacts_n = (tickets * 3 / 10).max(1);
    let first_contact: i64 = conn.query_row("SELECT coalesce(max(id), 0) + 1 FROM contacts", [], |r| r.get(0))?;
    {
        let mut st = conn.prepare("INSERT INTO contacts (email, email_norm, name, created_at, updated_at) VALUES (?1, ?1, ?2, ?3, ?3)")?;
        for i in 0..contacts_n {
            let email = format!("customer{}-{i}@example.net", first_contact);
            st.execute(params![email, format!("Customer {i}"), now])?;
        }
    }
    conn.execute_batch("COMMIT")?;

    let two_years = 730 * 86_400_000i64;
    let first_number: i64 = conn.query_row("SELECT coalesce(max(number), 1000) + 1 FROM tickets", [], |r| r.get(0))?;
    let per_ticket = (messages as f64 / tickets.max(1) as f64).max(1.0);
    let mut made_messages = 0usize;
    let mut ins_ticket = conn.prepare(
        "INSERT INTO tickets (number, subject, status, source, department_id, agent_id, contact_id, created_at, updated_at, solved_at, last_customer_message_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?8)",
    )?;
    let mut ins_msg = conn.prepare(
        "INSERT INTO ticket_messages (ticket_id, kind, agent_id, contact_id, body, subject, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut ins_tag = conn.prepare("INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?1, ?2)")?;
    for batch in (0..tickets).collect::<Vec<_>>().chunks(5_000) {
        conn.execute_batch("BEGIN")?;
        for &i in batch {
            // Older tickets first, so numbers grow with time like a real desk.
            let created = now - two_years + (two_years / tickets as i64) * i as i64 + rng.random_range(0..3_600_000);
            let age_days = (now - created) / 86_400_000;
            let status = match (age_days, rng.random_range(0..100)) {
                (d, r) if d > 14 && r < 92 => "solved",
                (_, r) if r < 3 => "spam",
                (_, r) if r < 55 => "solved",
                (_, r) if r < 80 => "open",
                _ => "pending",
            };
            let source = ["email", "email", "email", "chat", "offline", "manual", "api"][rng.random_range(0..7)];
            let dept = departments[zipf(&mut rng, departments.len())];
            let agent =
                if status == "open" && rng.random_range(0..3) == 0 { None } else { Some(agents[rng.random_range(0..agents.len())]) };
            let contact = first_contact + zipf(&mut rng, contacts_n) as i64;
            let subject = format!("{} #{}", SUBJECTS[rng.random_range(0..SUBJECTS.len())], rng.random_range(10_000..99_999));
            let remaining_tickets = tickets - i;
            let remaining_msgs = messages.saturating_sub(made_messages);
            let mean = (remaining_msgs as f64 / remaining_tickets as f64).max(1.0).min(per_ticket * 2.0);
            // Geometric-ish count with the right mean: many short threads, some long ones.
            let n = (1.0 - (rng.random_range(0.0..1.0f64)).ln() * (mean - 1.0)).round().max(1.0) as usize;
            let n = n.min(remaining_msgs.max(1)).min(200);
            let last = created + n as i64 * 3_600_000;
            let solved_at = (status == "solved").then_some(last);
            ins_ticket.execute(params![
                first_number + i as i64,
                subject,
                status,
                source,
                dept,
                agent,
                contact,
                created,
                last,
                solved_at
            ])?;
            let tid = conn.last_insert_rowid();
            for k in 0..n {
                let (kind, author) = match k {
                    0 => ("customer", None),
                    _ if k % 2 == 1 => ("reply", agent.or(Some(agents[0]))),
                    _ if rng.random_range(0..10) == 0 => ("note", agent.or(Some(agents[0]))),
                    _ => ("customer", None),
                };
                let words = rng.random_range(8..60);
                let body = sentence(&mut rng, words);
                let subj = (k == 0).then_some(subject.as_str());
                ins_msg.execute(params![
                    tid,
                    kind,
                    author,
                    if author.is_none() { Some(contact) } else { None },
                    body,
                    subj,
                    created + k as i64 * 3_600_000
                ])?;
            }
            made_messages += n;
            if rng.random_range(0..4) == 0 {
                ins_tag.execute(params![tid, ["vip", "refund", "complaint", "b2b", "bug"][rng.random_range(0..5)]])?;
            }
        }
        conn.execute_batch("COMMIT")?;
    }
    Ok(SeedReport { tickets, messages: made_messages, contacts: contacts_n })
}

/// A year of chats before `now` (served, missed, cancelled, a few still open) spread over the
/// day like a shop's traffic, and the seeded agents' shifts as status changes. Needs `seed` first
/// (its agents and departments). Returns (chats, status changes).
pub fn seed_chats(conn: &Connection, chats: usize, seed: u64, now: i64) -> Result<(usize, usize), AppError> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let agents: Vec<i64> = {
        let mut st = conn.prepare("SELECT id FROM agents WHERE email_norm LIKE 'seed-agent%' ORDER BY id")?;
        st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    let departments: Vec<i64> = {
        let mut st = conn.prepare("SELECT id FROM departments ORDER BY id")?;
        st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    if agents.is_empty() || departments.is_empty() {
        return Err(AppError::invalid("seed tickets first (agents and departments)"));
    }
    let day = 86_400_000i64;
    let year = 365 * day;
    conn.execute_batch("BEGIN")?;
    conn.execute("INSERT INTO visitors (token_hash, first_seen_at, last_seen_at) VALUES (randomblob(32), ?1, ?1)", [now - year])?;
    let visitor = conn.last_insert_rowid();
    let mut changes = 0;
    {
        // Shifts: each agent works 5 days a week, 8 hours from 7–10 o'clock (UTC), with a
        // not-accepting break, some days an auto-offline in the middle.
        let mut st =
            conn.prepare("INSERT INTO agent_status_history (agent_id, from_status, to_status, at, reason) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for d in 0..365i64 {
            let midnight = now - year + d * day - (now - year).rem_euclid(day);
            for (i, a) in agents.iter().enumerate() {
                if (d + i as i64) % 7 >= 5 {
                    continue;
                }
                let start = midnight + (7 + rng.random_range(0..3)) * 3_600_000;
                let lunch = start + 4 * 3_600_000;
                let steps = [
                    ("offline", "accepting", start, "login"),
                    ("accepting", "not_accepting", lunch, "manual"),
                    ("not_accepting", "accepting", lunch + 1_800_000, "manual"),
                    ("accepting", "offline", start + 8 * 3_600_000, if rng.random_range(0..5) == 0 { "auto_offline" } else { "manual" }),
                ];
                for (from, to, at, why) in steps {
                    st.execute(params![a, from, to, at, why])?;
                    changes += 1;
                }
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    let mut ins = conn.prepare(
        "INSERT INTO conversations (visitor_id, department_id, agent_id, status, outcome, ended_by, created_at, assigned_at,
                                    first_agent_reply_at, ended_at, last_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for batch in (0..chats).collect::<Vec<_>>().chunks(10_000) {
        conn.execute_batch("BEGIN")?;
        for &i in batch {
            let base = now - year + (year / chats as i64) * i as i64;
            // Busier in the day: shift most chats into 8–20 o'clock.
            let created = base - base.rem_euclid(day) + (8 * 3_600_000 + rng.random_range(0..12 * 3_600_000i64));
            let dept = departments[zipf(&mut rng, departments.len())];
            let agent = agents[rng.random_range(0..agents.len())];
            let wait = rng.random_range(2_000..90_000i64);
            let (status, outcome, by, agent, assigned, reply, ended) = match rng.random_range(0..100) {
                0..=79 => (
                    "ended",
                    Some("served"),
                    Some("agent"),
                    Some(agent),
                    Some(created + wait),
                    Some(created + wait + rng.random_range(5_000..60_000)),
                    Some(created + wait + rng.random_range(120_000..1_800_000)),
                ),
                80..=89 => ("ended", Some("missed"), Some("timeout"), None, None, None, Some(created + 600_000)),
                90..=97 => ("ended", Some("cancelled"), Some("visitor"), None, None, None, Some(created + rng.random_range(3_000..20_000))),
                _ if created > now - day => ("active", None, None, Some(agent), Some(created + wait), None, None),
                _ => ("ended", Some("missed"), Some("visitor"), None, None, None, Some(created + rng.random_range(21_000..300_000))),
            };
            ins.execute(params![visitor, dept, agent, status, outcome, by, created, assigned, reply, ended, rng.random_range(1..20)])?;
        }
        conn.execute_batch("COMMIT")?;
    }
    Ok((chats, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_the_requested_amounts_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = crate::db::Db::open(&dir.path().join("s.db"), &dir.path().join("b"), 1).unwrap();
        db.close().unwrap();
        let conn = crate::db::open_connection(&dir.path().join("s.db")).unwrap();
        let r = seed(&conn, 500, 5_000, 7, 1_800_000_000_000).unwrap();
        assert_eq!(r.tickets, 500);
        let msgs: i64 = conn.query_row("SELECT count(*) FROM ticket_messages", [], |r| r.get(0)).unwrap();
        assert!((4_000..=5_000).contains(&msgs), "{msgs}");
        let open: i64 = conn.query_row("SELECT count(*) FROM tickets WHERE status = 'open'", [], |r| r.get(0)).unwrap();
        assert!(open > 0 && open < 250, "{open}");
        let fts: i64 = conn.query_row("SELECT count(*) FROM ticket_fts WHERE ticket_fts MATCH 'order'", [], |r| r.get(0)).unwrap();
        assert!(fts > 0);
    }
}
