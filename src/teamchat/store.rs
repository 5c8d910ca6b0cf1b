//! Internal chat SQL: team rooms, their messages and each agent's read position.

use rusqlite::{Connection, OptionalExtension, params};

use super::{RoomFacts, RoomKind, RoomSummary};
use crate::error::AppError;
use crate::realtime::protocol::TeamMessageOut;

/// The room of a new department (departments::create calls it in the same job).
pub fn create_department_room(conn: &Connection, department_id: i64, now: i64) -> Result<i64, AppError> {
    conn.execute("INSERT INTO team_rooms (kind, department_id, created_at) VALUES ('department', ?1, ?2)", params![department_id, now])?;
    Ok(conn.last_insert_rowid())
}

fn kind_of(s: &str) -> RoomKind {
    if s == "direct" { RoomKind::Direct } else { RoomKind::Department }
}

/// What the access policy needs to know about a room.
pub fn facts(conn: &Connection, room: i64) -> Result<Option<RoomFacts>, AppError> {
    Ok(conn
        .query_row("SELECT kind, department_id, agent_low, agent_high FROM team_rooms WHERE id = ?1", [room], |r| {
            let kind: String = r.get(0)?;
            let low: Option<i64> = r.get(2)?;
            let high: Option<i64> = r.get(3)?;
            Ok(RoomFacts { kind: kind_of(&kind), department_id: r.get(1)?, agents: low.zip(high) })
        })
        .optional()?)
}

/// The rooms `me` belongs to: their departments' rooms (every department's when
/// `all_departments`, for admins) and their direct rooms, with names and unread counts.
pub fn rooms_for(conn: &Connection, me: i64, all_departments: bool) -> Result<Vec<RoomSummary>, AppError> {
    rooms_where(conn, me, all_departments, None)
}

/// One room as `me` sees it in the list (no access check: callers check first).
pub fn summary(conn: &Connection, me: i64, room: i64) -> Result<Option<RoomSummary>, AppError> {
    Ok(rooms_where(conn, me, true, Some(room))?.pop())
}

fn rooms_where(conn: &Connection, me: i64, all_departments: bool, only: Option<i64>) -> Result<Vec<RoomSummary>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT r.id, r.kind, r.department_id,
                CASE WHEN r.agent_low = ?1 THEN r.agent_high ELSE r.agent_low END AS other,
                coalesce(d.name, a.name, ''), r.last_seq, coalesce(rd.read_seq, 0), r.last_message_at,
                (SELECT count(*) FROM team_messages m
                  WHERE m.room_id = r.id AND m.seq > coalesce(rd.read_seq, 0) AND m.agent_id != ?1)
         FROM team_rooms r
         LEFT JOIN departments d ON d.id = r.department_id
         LEFT JOIN agents a ON a.id = CASE WHEN r.agent_low = ?1 THEN r.agent_high ELSE r.agent_low END
         LEFT JOIN team_reads rd ON rd.room_id = r.id AND rd.agent_id = ?1
         WHERE (?3 IS NULL OR r.id = ?3)
           AND ((r.kind = 'department' AND (?2 OR r.department_id IN
                    (SELECT department_id FROM department_members WHERE agent_id = ?1)))
             OR (r.kind = 'direct' AND (r.agent_low = ?1 OR r.agent_high = ?1)))
         ORDER BY r.kind = 'direct', lower(coalesce(d.name, a.name, '')), r.id",
    )?;
    let rows = st.query_map(params![me, all_departments, only], |r| {
        let kind: String = r.get(1)?;
        let kind = kind_of(&kind);
        Ok(RoomSummary {
            id: r.get(0)?,
            kind,
            department_id: r.get(2)?,
            agent_id: if kind == RoomKind::Direct { r.get(3)? } else { None },
            name: r.get(4)?,
            last_seq: r.get(5)?,
            read_seq: r.get(6)?,
            unread: r.get(8)?,
            last_message_at: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The direct room of two agents, if it exists.
pub fn direct_between(conn: &Connection, a: i64, b: i64) -> Result<Option<i64>, AppError> {
    let (low, high) = (a.min(b), a.max(b));
    Ok(conn
        .query_row("SELECT id FROM team_rooms WHERE kind = 'direct' AND agent_low = ?1 AND agent_high = ?2", params![low, high], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn create_direct(conn: &Connection, a: i64, b: i64, now: i64) -> Result<i64, AppError> {
    let (low, high) = (a.min(b), a.max(b));
    conn.execute(
        "INSERT INTO team_rooms (kind, agent_low, agent_high, created_at) VALUES ('direct', ?1, ?2, ?3)",
        params![low, high, now],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Store a message with the room's next seq, or return the stored one when this agent sent
/// this `client_id` before (a resend after a lost ack). `true` when it is new.
pub fn insert_message(
    conn: &Connection,
    room: i64,
    agent_id: i64,
    client_id: &str,
    body: &str,
    now: i64,
) -> Result<(TeamMessageOut, bool), AppError> {
    let existing: Option<i64> = conn
        .query_row(
            "SELECT seq FROM team_messages WHERE room_id = ?1 AND agent_id = ?2 AND client_id = ?3",
            params![room, agent_id, client_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(seq) = existing {
        let m = messages_between(conn, room, seq - 1, seq)?.pop().ok_or_else(|| AppError::internal("team message vanished"))?;
        return Ok((m, false));
    }
    let seq: i64 = conn.query_row(
        "UPDATE team_rooms SET last_seq = last_seq + 1, last_message_at = ?2 WHERE id = ?1 RETURNING last_seq",
        params![room, now],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO team_messages (room_id, seq, agent_id, client_id, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![room, seq, agent_id, client_id, body, now],
    )?;
    let m = messages_between(conn, room, seq - 1, seq)?.pop().ok_or_else(|| AppError::internal("team message vanished"))?;
    Ok((m, true))
}

fn message_row(room: i64, r: &rusqlite::Row) -> rusqlite::Result<TeamMessageOut> {
    Ok(TeamMessageOut {
        room,
        id: r.get(0)?,
        seq: r.get(1)?,
        agent_id: r.get(2)?,
        name: r.get(3)?,
        body: r.get(4)?,
        at: r.get(5)?,
        client_id: r.get(6)?,
    })
}

/// Messages with `after < seq <= upto`, in order.
pub fn messages_between(conn: &Connection, room: i64, after: i64, upto: i64) -> Result<Vec<TeamMessageOut>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT m.id, m.seq, m.agent_id, a.name, m.body, m.created_at, m.client_id
         FROM team_messages m JOIN agents a ON a.id = m.agent_id
         WHERE m.room_id = ?1 AND m.seq > ?2 AND m.seq <= ?3 ORDER BY m.seq",
    )?;
    let rows = st.query_map(params![room, after, upto], |r| message_row(room, r))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Up to `limit` messages with `seq < before`, the newest of them, in seq order.
pub fn page_before(conn: &Connection, room: i64, before: i64, limit: i64) -> Result<Vec<TeamMessageOut>, AppError> {
    let mut st = conn.prepare_cached(
        "SELECT * FROM (
            SELECT m.id, m.seq, m.agent_id, a.name, m.body, m.created_at, m.client_id
            FROM team_messages m JOIN agents a ON a.id = m.agent_id
            WHERE m.room_id = ?1 AND m.seq < ?2 ORDER BY m.seq DESC LIMIT ?3
         ) ORDER BY seq",
    )?;
    let rows = st.query_map(params![room, before, limit], |r| message_row(room, r))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn last_seq(conn: &Connection, room: i64) -> Result<i64, AppError> {
    Ok(conn.query_row("SELECT last_seq FROM team_rooms WHERE id = ?1", [room], |r| r.get(0)).optional()?.unwrap_or(0))
}

/// Move `agent_id`'s read position forward to `seq` (never back, never past the last message);
/// returns the position now stored.
pub fn set_read(conn: &Connection, room: i64, agent_id: i64, seq: i64) -> Result<i64, AppError> {
    let seq = seq.min(last_seq(conn, room)?);
    conn.execute(
        "INSERT INTO team_reads (room_id, agent_id, read_seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (room_id, agent_id) DO UPDATE SET read_seq = max(read_seq, excluded.read_seq)",
        params![room, agent_id, seq],
    )?;
    Ok(conn.query_row("SELECT read_seq FROM team_reads WHERE room_id = ?1 AND agent_id = ?2", params![room, agent_id], |r| r.get(0))?)
}
