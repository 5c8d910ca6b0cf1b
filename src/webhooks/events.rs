//! Typed payloads of the chat events, so socket code (which builds no JSON by hand, see
//! `tests/api/socket_code.rs`) makes one call per event site.

use rusqlite::Connection;
use serde_json::json;

use super::enqueue;
use crate::error::AppError;
use crate::realtime::protocol::MessageOut;

/// `conversation.started`: `{"conversation":{"id","visitor_id","page_url"}}`.
pub fn conversation_started(c: &Connection, id: i64, visitor_id: i64, page_url: Option<&str>, now: i64) -> Result<(), AppError> {
    enqueue(c, "conversation.started", json!({"conversation": {"id": id, "visitor_id": visitor_id, "page_url": page_url}}), now)
}

/// `conversation.ended`: `{"conversation":{"id","outcome","ended_by"}}`.
pub fn conversation_ended(
    c: &Connection,
    id: i64,
    outcome: crate::chat::Outcome,
    by: crate::chat::EndedBy,
    now: i64,
) -> Result<(), AppError> {
    enqueue(c, "conversation.ended", json!({"conversation": {"id": id, "outcome": outcome.as_str(), "ended_by": by.as_str()}}), now)
}

/// `message.created`: `{"message":Message}` (the protocol's message shape).
pub fn message_created(c: &Connection, m: &MessageOut, now: i64) -> Result<(), AppError> {
    // Every chat message passes here: build the payload only when some webhook wants it.
    if !super::store::anyone_listens(c, "message.created")? {
        return Ok(());
    }
    enqueue(c, "message.created", json!({"message": m}), now)
}

/// The visitor rated a chat (W8), or rated it again (the newer rating replaces the older).
pub fn rating_created(
    c: &Connection,
    conversation: i64,
    agent_id: Option<i64>,
    rating: &str,
    comment: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    enqueue(
        c,
        "rating.created",
        json!({"rating": {"conversation": conversation, "agent_id": agent_id, "rating": rating, "comment": comment, "rated_at": now}}),
        now,
    )
}
