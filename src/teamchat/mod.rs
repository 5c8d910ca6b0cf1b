//! Internal chat between agents (SPEC C12, issue 11): a room per department for its members
//! (admins see every department's room) and 1:1 rooms between two agents.
//!
//! Delivery is the visitor chat's: a message is stored with the room's next `seq` in one write
//! job and acknowledged (`team_ack`) only after the commit; a `client_id` makes a resend a no-op;
//! the hub publishes `team_message` to the agent sockets following the room
//! ([`crate::realtime::Audience::Room`]; visitor sockets can never follow one), and each socket
//! delivers gap-free with the same [`crate::chat::socket::Delivery`] (here over [`RoomFeed`]),
//! resuming by seq after a reconnect (`hello.team`). Who may use a room is
//! [`crate::auth::policy::Viewer::may_use_room`]. `live.rs` is the agent socket's part.
//! Writes go over the socket only; REST lists rooms, pages history and opens 1:1 rooms.

pub mod http;
pub mod live;
pub mod store;

use rusqlite::Connection;
use serde::Serialize;

use crate::auth::policy::Viewer;
use crate::error::AppError;
use crate::realtime::ServerFrame;
use crate::realtime::protocol::TeamMessageOut;

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    Department,
    Direct,
}

/// What the access policy decides a room's use on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomFacts {
    pub kind: RoomKind,
    pub department_id: Option<i64>,
    /// A direct room's two agents.
    pub agents: Option<(i64, i64)>,
}

/// A room as one agent sees it in their list.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RoomSummary {
    pub id: i64,
    pub kind: RoomKind,
    /// Department rooms: the department.
    pub department_id: Option<i64>,
    /// Direct rooms: the other agent.
    pub agent_id: Option<i64>,
    /// The department's or the other agent's name.
    pub name: String,
    pub last_seq: i64,
    /// How far this agent has read.
    pub read_seq: i64,
    /// Colleagues' messages after `read_seq`.
    pub unread: i64,
    pub last_message_at: Option<i64>,
}

/// Most messages one history page returns.
pub const MAX_PAGE: i64 = 200;

/// The viewer's agent: team chat is between people, so an API token has no rooms.
fn person(viewer: &Viewer) -> Result<i64, AppError> {
    viewer.agent_id.ok_or_else(|| AppError::not_found("room"))
}

/// The rooms the viewer belongs to.
pub fn rooms(c: &Connection, viewer: &Viewer) -> Result<Vec<RoomSummary>, AppError> {
    let Some(me) = viewer.agent_id else { return Ok(vec![]) };
    store::rooms_for(c, me, viewer.sees_all_rooms())
}

/// A page of a room's history: up to `limit` messages before `before` (the newest when None),
/// in seq order, and whether older ones exist.
pub fn page(c: &Connection, viewer: &Viewer, room: i64, before: Option<i64>, limit: i64) -> Result<(Vec<TeamMessageOut>, bool), AppError> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid(format!("limit: 1 to {MAX_PAGE}")));
    }
    if before.is_some_and(|b| b < 1) {
        return Err(AppError::invalid("before: a seq of 1 or more"));
    }
    viewer.visible_room(c, room)?;
    let items = store::page_before(c, room, before.unwrap_or(i64::MAX), limit)?;
    let more = items.first().is_some_and(|m| m.seq > 1);
    Ok((items, more))
}

/// Store a message (or find the one this `client_id` already stored); the sender has read
/// everything up to their own message. `true` when it is new.
pub fn post(c: &Connection, viewer: &Viewer, room: i64, client_id: &str, body: &str, now: i64) -> Result<(TeamMessageOut, bool), AppError> {
    let me = person(viewer)?;
    viewer.visible_room(c, room)?;
    let (m, new) = store::insert_message(c, room, me, client_id, body, now)?;
    store::set_read(c, room, me, m.seq)?;
    Ok((m, new))
}

/// Move the viewer's read position in a room forward; returns the stored position.
pub fn mark_read(c: &Connection, viewer: &Viewer, room: i64, seq: i64) -> Result<i64, AppError> {
    let me = person(viewer)?;
    viewer.visible_room(c, room)?;
    store::set_read(c, room, me, seq)
}

/// The 1:1 room of the viewer and `other` (an enabled agent), created when missing; `true`
/// when it was created now.
pub fn open_direct(c: &Connection, viewer: &Viewer, other: i64, now: i64) -> Result<(RoomSummary, bool), AppError> {
    let me = viewer.agent_id.ok_or_else(|| AppError::invalid("a 1:1 chat is between two agents; an API token is not one"))?;
    if other == me {
        return Err(AppError::invalid("agent_id: a colleague, not yourself"));
    }
    crate::agents::store::get(c, other)?.filter(|a| !a.disabled).ok_or_else(|| AppError::not_found("agent"))?;
    let (room, created) = match store::direct_between(c, me, other)? {
        Some(id) => (id, false),
        None => (store::create_direct(c, me, other, now)?, true),
    };
    let summary = store::summary(c, me, room)?.ok_or_else(|| AppError::internal("direct room vanished"))?;
    Ok((summary, created))
}

/// Replays of a team room for [`crate::chat::socket::Delivery`]: `team_message` one by one,
/// `team_history` in batches.
pub struct RoomFeed;

impl crate::chat::socket::Feed for RoomFeed {
    type Item = TeamMessageOut;
    fn seq(m: &TeamMessageOut) -> i64 {
        m.seq
    }
    fn approx_len(m: &TeamMessageOut) -> usize {
        200 + m.body.len() * 2 + m.name.len() * 2
    }
    fn load(c: &Connection, room: i64, after: i64, upto: i64, _public_only: bool) -> Result<Vec<TeamMessageOut>, AppError> {
        store::messages_between(c, room, after, upto)
    }
    fn one(m: TeamMessageOut) -> ServerFrame {
        ServerFrame::TeamMessage(m)
    }
    fn many(room: i64, messages: Vec<TeamMessageOut>, more: bool) -> ServerFrame {
        ServerFrame::TeamHistory { room, messages, more }
    }
}
