//! SQL for the live visitors list, invitations, invitation rules, visitor settings and contact
//! notes.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{InvitationInfo, InvitationStatus, LiveState, LiveVisitor, Rule, VisitorSettings};
use crate::error::AppError;

const SETTINGS_KEY: &str = "visitors.settings";

// ---------------------------------------------------------------- the live list

const LIVE: &str = "SELECT v.id, v.name, v.email, v.current_url, v.current_title, v.referrer, v.search_query,
        coalesce(v.visit_started_at, v.first_seen_at), coalesce(v.page_started_at, v.last_seen_at),
        (SELECT count(*) FROM page_views p WHERE p.visitor_id = v.id AND p.at >= coalesce(v.visit_started_at, v.first_seen_at)),
        v.visits, v.timezone, v.user_agent,
        c.id, c.agent_id, a.name,
        i.id, i.agent_name, i.rule_id, i.sent_at
    FROM visitors v
    LEFT JOIN conversations c ON c.id = (SELECT max(id) FROM conversations WHERE visitor_id = v.id AND status != 'ended')
    LEFT JOIN agents a ON a.id = c.agent_id
    LEFT JOIN invitations i ON i.id = (SELECT max(id) FROM invitations WHERE visitor_id = v.id AND status = 'sent')";

fn live_row(r: &Row) -> rusqlite::Result<LiveVisitor> {
    let ua: Option<String> = r.get(12)?;
    let (browser, os) = ua.as_deref().map(crate::chat::browser_and_os).unwrap_or((None, None));
    let tz: Option<String> = r.get(11)?;
    let conversation: Option<i64> = r.get(13)?;
    let invitation = match r.get::<_, Option<i64>>(16)? {
        Some(id) => Some(InvitationInfo { id, agent_name: r.get(17)?, automatic: r.get::<_, Option<i64>>(18)?.is_some(), at: r.get(19)? }),
        None => None,
    };
    let state = if conversation.is_some() {
        LiveState::Chatting
    } else if invitation.is_some() {
        LiveState::Invited
    } else {
        LiveState::Browsing
    };
    Ok(LiveVisitor {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        page_url: r.get(3)?,
        page_title: r.get(4)?,
        referrer: r.get(5)?,
        search_query: r.get(6)?,
        since: r.get(7)?,
        page_since: r.get(8)?,
        pages: r.get(9)?,
        visits: r.get(10)?,
        country: tz.as_deref().and_then(super::country_of_timezone).map(str::to_string),
        timezone: tz,
        device: super::device_of(ua.as_deref().unwrap_or("")),
        browser,
        os,
        state,
        conversation,
        agent_id: r.get(14)?,
        agent_name: r.get(15)?,
        invitation,
    })
}

/// These visitors (the ones online now) as the live list shows them, most recent visit first.
pub fn live(conn: &Connection, ids: &[i64]) -> Result<Vec<LiveVisitor>, AppError> {
    let mut st = conn.prepare_cached(&format!("{LIVE} WHERE v.id = ?1"))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(v) = st.query_row([id], live_row).optional()? {
            out.push(v);
        }
    }
    out.sort_by_key(|v| (std::cmp::Reverse(v.since), v.id));
    Ok(out)
}

pub fn live_one(conn: &Connection, id: i64) -> Result<Option<LiveVisitor>, AppError> {
    Ok(live(conn, &[id])?.pop())
}

pub fn visitor_exists(conn: &Connection, id: i64) -> Result<bool, AppError> {
    Ok(conn.query_row("SELECT 1 FROM visitors WHERE id = ?1", [id], |_| Ok(())).optional()?.is_some())
}

// ---------------------------------------------------------------- invitations

pub struct NewInvitation<'a> {
    pub visitor_id: i64,
    pub agent_id: Option<i64>,
    pub agent_name: &'a str,
    pub rule_id: Option<i64>,
    pub department_id: Option<i64>,
    pub body: &'a str,
    pub page_url: Option<&'a str>,
    pub now: i64,
}

pub fn insert_invitation(conn: &Connection, n: &NewInvitation) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO invitations (visitor_id, agent_id, agent_name, rule_id, department_id, body, page_url, status, sent_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'sent', ?8)",
        params![n.visitor_id, n.agent_id, n.agent_name, n.rule_id, n.department_id, n.body, n.page_url, n.now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A stored invitation.
#[derive(Debug, Clone, PartialEq)]
pub struct InvitationRow {
    pub id: i64,
    pub visitor_id: i64,
    pub agent_id: Option<i64>,
    pub agent_name: String,
    pub rule_id: Option<i64>,
    pub department_id: Option<i64>,
    pub body: String,
    pub status: InvitationStatus,
    pub sent_at: i64,
}

const INVITATION: &str = "SELECT id, visitor_id, agent_id, agent_name, rule_id, department_id, body, status, sent_at FROM invitations";

fn invitation_row(r: &Row) -> rusqlite::Result<InvitationRow> {
    let status = match r.get::<_, String>(7)?.as_str() {
        "accepted" => InvitationStatus::Accepted,
        "ignored" => InvitationStatus::Ignored,
        "closed" => InvitationStatus::Closed,
        _ => InvitationStatus::Sent,
    };
    Ok(InvitationRow {
        id: r.get(0)?,
        visitor_id: r.get(1)?,
        agent_id: r.get(2)?,
        agent_name: r.get(3)?,
        rule_id: r.get(4)?,
        department_id: r.get(5)?,
        body: r.get(6)?,
        status,
        sent_at: r.get(8)?,
    })
}

pub fn invitation(conn: &Connection, id: i64) -> Result<Option<InvitationRow>, AppError> {
    Ok(conn.query_row(&format!("{INVITATION} WHERE id = ?1"), [id], invitation_row).optional()?)
}

/// The visitor's invitation still showing (sent, not answered, not expired).
pub fn pending_of(conn: &Connection, visitor_id: i64, not_before: i64) -> Result<Option<InvitationRow>, AppError> {
    Ok(conn
        // Cached, and CAST so STAT4 does not re-plan it per value (see chat::store::open_conv_of):
        // every widget hello runs it.
        .prepare_cached(&format!(
            "{INVITATION} WHERE visitor_id = CAST(?1 AS INTEGER) AND status = 'sent' AND sent_at >= ?2 ORDER BY id DESC LIMIT 1"
        ))?
        .query_row(params![visitor_id, not_before], invitation_row)
        .optional()?)
}

/// Record the answer to a pending invitation; false when it was not pending any more.
pub fn answer(conn: &Connection, id: i64, status: InvitationStatus, conversation: Option<i64>, now: i64) -> Result<bool, AppError> {
    Ok(conn.execute(
        "UPDATE invitations SET status = ?2, answered_at = ?3, conversation_id = ?4 WHERE id = ?1 AND status = 'sent'",
        params![id, status.as_str(), now, conversation],
    )? == 1)
}

/// Pending invitations of one visitor (all: `before` = i64::MAX) or of everyone shown before
/// `before` become `ignored`. Returns the visitors concerned.
pub fn ignore_pending(conn: &Connection, visitor_id: Option<i64>, before: i64, now: i64) -> Result<Vec<i64>, AppError> {
    let mut st = conn.prepare(
        "UPDATE invitations SET status = 'ignored', answered_at = ?3
         WHERE status = 'sent' AND sent_at < ?2 AND (?1 IS NULL OR visitor_id = ?1) RETURNING visitor_id",
    )?;
    let mut ids: Vec<i64> = st.query_map(params![visitor_id, before, now], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Whether some invitation shown before `before` is still pending (the round's cheap check, on a
/// reader, before it writes).
pub fn any_pending_before(conn: &Connection, before: i64) -> Result<bool, AppError> {
    Ok(conn
        .query_row("SELECT 1 FROM invitations WHERE status = 'sent' AND sent_at < ?1 LIMIT 1", [before], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Automatic invitations the visitor got since `since` (the cap).
pub fn automatic_since(conn: &Connection, visitor_id: i64, since: i64) -> Result<i64, AppError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM invitations WHERE visitor_id = ?1 AND rule_id IS NOT NULL AND sent_at >= ?2",
        params![visitor_id, since],
        |r| r.get(0),
    )?)
}

/// Rules that invited the visitor since `since` (the start of this visit).
pub fn rules_fired_since(conn: &Connection, visitor_id: i64, since: i64) -> Result<Vec<i64>, AppError> {
    let mut st =
        conn.prepare_cached("SELECT DISTINCT rule_id FROM invitations WHERE visitor_id = ?1 AND rule_id IS NOT NULL AND sent_at >= ?2")?;
    Ok(st.query_map(params![visitor_id, since], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// What the rules look at for one visitor: (page_url, page_since, visits, referrer, visit start).
pub type RuleRow = (Option<String>, i64, i64, Option<String>, i64);

pub fn rule_facts(conn: &Connection, visitor_id: i64) -> Result<Option<RuleRow>, AppError> {
    Ok(conn
        .query_row(
            "SELECT current_url, coalesce(page_started_at, last_seen_at), visits, referrer, coalesce(visit_started_at, first_seen_at)
             FROM visitors WHERE id = ?1",
            [visitor_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?)
}

/// Invitation outcomes between two instants: (sent, accepted, ignored, closed) with the pending
/// ones in `sent` only.
pub fn counts(conn: &Connection, from: i64, to: i64) -> Result<[i64; 4], AppError> {
    Ok(conn.query_row(
        "SELECT count(*), coalesce(sum(status = 'accepted'), 0), coalesce(sum(status = 'ignored'), 0), coalesce(sum(status = 'closed'), 0)
         FROM invitations WHERE sent_at >= ?1 AND sent_at < ?2",
        params![from, to],
        |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
    )?)
}

// ---------------------------------------------------------------- rules

const RULE: &str =
    "SELECT id, name, enabled, url_pattern, min_seconds_on_page, min_visits, referrer_pattern, department_id, body FROM invitation_rules";

fn rule_row(r: &Row) -> rusqlite::Result<Rule> {
    Ok(Rule {
        id: r.get(0)?,
        name: r.get(1)?,
        enabled: r.get::<_, i64>(2)? == 1,
        url_pattern: r.get(3)?,
        min_seconds_on_page: r.get(4)?,
        min_visits: r.get(5)?,
        referrer_pattern: r.get(6)?,
        department_id: r.get(7)?,
        body: r.get(8)?,
    })
}

pub fn rules(conn: &Connection) -> Result<Vec<Rule>, AppError> {
    let mut st = conn.prepare(&format!("{RULE} ORDER BY id"))?;
    Ok(st.query_map([], rule_row)?.collect::<rusqlite::Result<_>>()?)
}

pub fn rule(conn: &Connection, id: i64) -> Result<Option<Rule>, AppError> {
    Ok(conn.query_row(&format!("{RULE} WHERE id = ?1"), [id], rule_row).optional()?)
}

pub fn insert_rule(conn: &Connection, r: &Rule, now: i64) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO invitation_rules (name, enabled, url_pattern, min_seconds_on_page, min_visits, referrer_pattern, department_id, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![r.name, r.enabled as i64, r.url_pattern, r.min_seconds_on_page, r.min_visits, r.referrer_pattern, r.department_id, r.body, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn update_rule(conn: &Connection, r: &Rule) -> Result<(), AppError> {
    conn.execute(
        "UPDATE invitation_rules SET name = ?2, enabled = ?3, url_pattern = ?4, min_seconds_on_page = ?5, min_visits = ?6,
                referrer_pattern = ?7, department_id = ?8, body = ?9 WHERE id = ?1",
        params![
            r.id,
            r.name,
            r.enabled as i64,
            r.url_pattern,
            r.min_seconds_on_page,
            r.min_visits,
            r.referrer_pattern,
            r.department_id,
            r.body
        ],
    )?;
    Ok(())
}

pub fn delete_rule(conn: &Connection, id: i64) -> Result<bool, AppError> {
    Ok(conn.execute("DELETE FROM invitation_rules WHERE id = ?1", [id])? == 1)
}

pub fn department_exists(conn: &Connection, id: i64) -> Result<bool, AppError> {
    Ok(conn.query_row("SELECT 1 FROM departments WHERE id = ?1", [id], |_| Ok(())).optional()?.is_some())
}

// ---------------------------------------------------------------- settings

pub fn settings(conn: &Connection) -> Result<VisitorSettings, AppError> {
    Ok(crate::settings::store::get(conn, SETTINGS_KEY)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default())
}

pub fn save_settings(conn: &Connection, s: &VisitorSettings) -> Result<(), AppError> {
    let json = serde_json::to_string(s).map_err(|e| AppError::internal(e.to_string()))?;
    crate::settings::store::set(conn, SETTINGS_KEY, &json)
}

// ---------------------------------------------------------------- contact notes

#[derive(serde::Serialize, Debug, Clone, PartialEq)]
pub struct Note {
    pub id: i64,
    pub body: String,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub created_at: i64,
}

pub fn notes(conn: &Connection, contact_id: i64) -> Result<Vec<Note>, AppError> {
    let mut st = conn.prepare(
        "SELECT n.id, n.body, n.agent_id, a.name, n.created_at FROM contact_notes n LEFT JOIN agents a ON a.id = n.agent_id
         WHERE n.contact_id = ?1 ORDER BY n.created_at DESC, n.id DESC LIMIT 100",
    )?;
    Ok(st
        .query_map([contact_id], |r| {
            Ok(Note { id: r.get(0)?, body: r.get(1)?, agent_id: r.get(2)?, agent_name: r.get(3)?, created_at: r.get(4)? })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn insert_note(conn: &Connection, contact_id: i64, agent_id: Option<i64>, body: &str, now: i64) -> Result<i64, AppError> {
    conn.execute(
        "INSERT INTO contact_notes (contact_id, agent_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![contact_id, agent_id, body, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The contact a visitor is linked to.
pub fn contact_of(conn: &Connection, visitor_id: i64) -> Result<Option<i64>, AppError> {
    Ok(conn.query_row("SELECT contact_id FROM visitors WHERE id = ?1", [visitor_id], |r| r.get(0)).optional()?.flatten())
}
