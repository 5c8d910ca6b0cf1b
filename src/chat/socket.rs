//! What visitor and agent sockets share: the frame loop, heartbeats, ordered gap-free delivery,
//! and the chat operations that commit and then publish.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::store::{self, ConvRow, NewMessage};
use super::{EndedBy, Outcome, Status};
use crate::db::Db;
use crate::error::{AppError, Kind};
use crate::events::SystemEvent;
use crate::realtime::protocol::{self, ChatOp, MessageOut, QueueChange, ServerFrame, StatusChange, WelcomeConversation, close};
use crate::realtime::{Audience, Hub, Outbound};
use crate::state::AppState;

/// Clients ping every 25 s; a socket silent for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
const HEARTBEAT: Duration = Duration::from_secs(20);

/// What a [`Delivery`] replays: the messages of one numbered stream (a conversation, or a team
/// room of the internal chat) and the frames they travel in.
pub trait Feed: 'static {
    type Item: Send + 'static;
    fn seq(item: &Self::Item) -> i64;
    /// The item's JSON size, near enough for cutting replays into frames.
    fn approx_len(item: &Self::Item) -> usize;
    /// Items with `after < seq <= upto`, in order; `public_only`: what a visitor may see (no
    /// internal lines).
    fn load(c: &rusqlite::Connection, key: i64, after: i64, upto: i64, public_only: bool) -> Result<Vec<Self::Item>, AppError>;
    /// One item as its own frame.
    fn one(item: Self::Item) -> ServerFrame;
    /// Many items of a replay in one frame; `more`: another one follows.
    fn many(key: i64, items: Vec<Self::Item>, more: bool) -> ServerFrame;
}

/// Conversations: `message` and `history` frames.
pub struct ChatFeed;

impl Feed for ChatFeed {
    type Item = MessageOut;
    fn seq(m: &MessageOut) -> i64 {
        m.seq
    }
    fn approx_len(m: &MessageOut) -> usize {
        approx_json_len(m)
    }
    fn load(c: &rusqlite::Connection, conversation: i64, after: i64, upto: i64, public_only: bool) -> Result<Vec<MessageOut>, AppError> {
        if public_only {
            store::visitor_messages_between(c, conversation, after, upto)
        } else {
            store::messages_between(c, conversation, after, upto)
        }
    }
    fn one(m: MessageOut) -> ServerFrame {
        ServerFrame::Message(m)
    }
    fn many(conversation: i64, messages: Vec<MessageOut>, more: bool) -> ServerFrame {
        ServerFrame::History { conversation, messages, more }
    }
}

/// Per-socket delivery state: the last sequence number sent per conversation (or per team room,
/// with [`crate::teamchat::RoomFeed`]). Messages arrive from the hub possibly out of order (two
/// writers publish concurrently) or with holes (a dropped event); anything missing is read from
/// the database, so the client always sees 1, 2, 3, … with no gap and no duplicate.
pub struct Delivery<F: Feed = ChatFeed> {
    pub last_sent: HashMap<i64, i64>,
    /// Replays (resume, catch-up) go out as `history` frames of many messages each instead of
    /// one `message` frame per message, so a client merges a long chat in one pass. Clients
    /// opt in (the widget's `hello.history`).
    pub batch: bool,
    /// A visitor's socket: replays skip internal lines (whispers, transfer notes), which share
    /// the conversation's sequence, so a visitor sees seq gaps where they were.
    pub public_only: bool,
    feed: std::marker::PhantomData<F>,
}

/// A `history` frame carries messages up to about this many bytes of JSON.
const HISTORY_FRAME_BYTES: usize = 512 * 1024;

impl<F: Feed> Delivery<F> {
    pub fn new() -> Delivery<F> {
        Delivery { last_sent: HashMap::new(), batch: false, public_only: false, feed: std::marker::PhantomData }
    }

    /// A visitor socket's delivery: replays leave internal lines out.
    pub fn visitor() -> Delivery<F> {
        Delivery { public_only: true, ..Delivery::new() }
    }

    pub async fn deliver(&mut self, session: &mut Session, db: &Db, key: i64, seq: i64, json: &str) -> Result<(), Closed> {
        let Some(&last) = self.last_sent.get(&key) else {
            // Not (or no longer) following this conversation on this socket.
            return Ok(());
        };
        if seq <= last {
            return Ok(());
        }
        if seq > last + 1 {
            self.catch_up(session, db, key, seq - 1).await?;
        }
        session.text(json.to_string()).await.map_err(|_| Closed)?;
        self.last_sent.insert(key, seq);
        Ok(())
    }

    /// Send everything after the last sent seq up to `upto` (or everything stored, for None).
    pub async fn catch_up(&mut self, session: &mut Session, db: &Db, key: i64, upto: i64) -> Result<(), Closed> {
        let after = self.last_sent.get(&key).copied().unwrap_or(0);
        if upto <= after {
            return Ok(());
        }
        let public_only = self.public_only;
        let msgs = db.read(move |c| F::load(c, key, after, upto, public_only)).await.map_err(|_| Closed)?;
        if self.batch {
            return self.send_history(session, key, msgs).await;
        }
        for m in msgs {
            let seq = F::seq(&m);
            session.text(F::one(m).to_json()).await.map_err(|_| Closed)?;
            self.last_sent.insert(key, seq);
        }
        Ok(())
    }

    /// The replay as `history` frames in seq order, each up to [`HISTORY_FRAME_BYTES`]; `more`
    /// is true on all but the last, so the client merges once when the replay is complete.
    async fn send_history(&mut self, session: &mut Session, key: i64, msgs: Vec<F::Item>) -> Result<(), Closed> {
        let mut msgs = msgs.into_iter().peekable();
        while msgs.peek().is_some() {
            let mut chunk = Vec::new();
            let mut bytes = 0;
            while let Some(m) = msgs.next_if(|m| chunk.is_empty() || bytes + F::approx_len(m) <= HISTORY_FRAME_BYTES) {
                bytes += F::approx_len(&m);
                chunk.push(m);
            }
            let last = chunk.last().map(F::seq).unwrap_or(0);
            let frame = F::many(key, chunk, msgs.peek().is_some());
            session.text(frame.to_json()).await.map_err(|_| Closed)?;
            self.last_sent.insert(key, last);
        }
        Ok(())
    }

    /// Start following a conversation from `after` (the client's last seen seq) and replay.
    pub async fn follow(&mut self, session: &mut Session, db: &Db, key: i64, after: i64) -> Result<(), Closed> {
        let after = after.max(0);
        self.last_sent.insert(key, after);
        self.catch_up(session, db, key, i64::MAX).await
    }

    pub fn unfollow(&mut self, key: i64) {
        self.last_sent.remove(&key);
    }
}

/// A message's JSON size, near enough for cutting replays into frames (bodies dominate; JSON
/// escaping can at most double them).
fn approx_json_len(m: &MessageOut) -> usize {
    300 + m.body.len() * 2 + m.attachment.as_ref().map_or(0, |a| a.name.len() * 2 + a.url.len() + 120)
}

impl<F: Feed> Default for Delivery<F> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug)]
pub struct Closed;

pub fn close_reason(code: u16, description: &str) -> Option<CloseReason> {
    Some(CloseReason { code: CloseCode::from(code), description: Some(description.to_string()) })
}

/// What a frame loop should do next.
pub enum Step {
    Continue,
    Close(u16, &'static str),
}

/// The event loop both socket kinds run. `on_text` handles one client frame; `recheck` runs when
/// the hub pushes [`Outbound::Recheck`]. Nothing here polls the database: an ended session
/// arrives as [`Outbound::Close`] (see `agent_ws::sweep_sessions`).
pub async fn run_loop<H: Handler>(
    mut handler: H,
    mut session: Session,
    mut stream: actix_ws::AggregatedMessageStream,
    mut rx: mpsc::Receiver<Outbound>,
) {
    let mut last_heard = Instant::now();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let result: (u16, &'static str) = loop {
        tokio::select! {
            // Outbound first: everything queued for this client goes out before its next frame
            // is taken. A client that pipelines frames fills its own queue (the echoes of its
            // own messages) while this task is busy with its frames; polled at
            // random, the queue drifted up to its limit and a client reading everything was
            // dropped as "too slow" after ~1,100 frames (finding 16c). Draining first bounds it
            // to what one frame produces; a client that stops reading still blocks this task
            // in `session.text`, its queue fills, and the hub drops it.
            biased;
            out = rx.recv() => {
                match out {
                    Some(Outbound::Message { conversation, seq, json }) => {
                        let db = handler.db().clone();
                        if handler.delivery().deliver(&mut session, &db, conversation, seq, &json).await.is_err() {
                            break (close::NORMAL, "closed");
                        }
                    }
                    Some(Outbound::Frame(f)) => {
                        if session.text(f.to_string()).await.is_err() {
                            break (close::NORMAL, "closed");
                        }
                    }
                    Some(Outbound::Close(code, why)) => break (code, why),
                    Some(Outbound::Recheck) => {
                        if let Step::Close(code, why) = handler.recheck(&mut session).await {
                            break (code, why);
                        }
                    }
                    // Routing assigned a chat to this agent: announce it, then replay it.
                    Some(Outbound::Follow { conversation, json }) => {
                        if session.text(json.to_string()).await.is_err() {
                            break (close::NORMAL, "closed");
                        }
                        let db = handler.db().clone();
                        if !handler.delivery().last_sent.contains_key(&conversation)
                            && handler.delivery().follow(&mut session, &db, conversation, 0).await.is_err()
                        {
                            break (close::NORMAL, "closed");
                        }
                    }
                    // Internal chat: only a handler following team rooms (agents) delivers these;
                    // the hub never subscribes a visitor socket to a room.
                    Some(Outbound::RoomMessage { room, seq, json }) => {
                        let db = handler.db().clone();
                        if let Some(rooms) = handler.rooms()
                            && rooms.deliver(&mut session, &db, room, seq, &json).await.is_err()
                        {
                            break (close::NORMAL, "closed");
                        }
                    }
                    Some(Outbound::FollowRoom { room, json }) => {
                        let db = handler.db().clone();
                        if let Some(rooms) = handler.rooms() {
                            if session.text(json.to_string()).await.is_err() {
                                break (close::NORMAL, "closed");
                            }
                            if !rooms.last_sent.contains_key(&room) && rooms.follow(&mut session, &db, room, 0).await.is_err() {
                                break (close::NORMAL, "closed");
                            }
                        }
                    }
                    // The hub dropped us (queue full): reconnect and resume.
                    None => break (close::TRY_AGAIN, "too slow; reconnect and resume"),
                }
            }
            incoming = stream.next() => {
                last_heard = Instant::now();
                match incoming {
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        match handler.on_text(&mut session, &text).await {
                            Ok(Step::Continue) => {}
                            Ok(Step::Close(code, why)) => break (code, why),
                            Err(Closed) => break (close::NORMAL, "closed"),
                        }
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => {
                        if session.text(protocol::error_frame("unsupported", "binary frames are not supported; send JSON text", None)).await.is_err() {
                            break (close::NORMAL, "closed");
                        }
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            break (close::NORMAL, "closed");
                        }
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {}
                    Some(Ok(AggregatedMessage::Close(_))) | None => break (close::NORMAL, "bye"),
                    Some(Err(e)) => {
                        let code = if matches!(e, actix_ws::ProtocolError::Overflow) { close::TOO_BIG } else { close::PROTOCOL };
                        break (code, "protocol error");
                    }
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > IDLE_TIMEOUT {
                    break (close::IDLE, "no heartbeat");
                }
                if session.ping(b"").await.is_err() {
                    break (close::NORMAL, "closed");
                }
            }
        }
    };
    handler.finish().await;
    let _ = session.close(close_reason(result.0, result.1)).await;
}

#[allow(async_fn_in_trait)]
pub trait Handler {
    async fn on_text(&mut self, session: &mut Session, text: &str) -> Result<Step, Closed>;
    fn delivery(&mut self) -> &mut Delivery;
    /// The team rooms this socket follows (internal chat); None for sockets that never do.
    fn rooms(&mut self) -> Option<&mut Delivery<crate::teamchat::RoomFeed>> {
        None
    }
    fn db(&self) -> &Db;
    /// The hub says the person behind this socket changed: re-read their rights now.
    async fn recheck(&mut self, _session: &mut Session) -> Step {
        Step::Continue
    }
    async fn finish(&mut self);
}

/// Send an error frame for a refused client frame.
pub async fn send_error(session: &mut Session, e: &AppError, reference: Option<&str>) -> Result<(), Closed> {
    let code = match e.kind {
        crate::error::Kind::Forbidden => "forbidden",
        crate::error::Kind::NotFound => "not_found",
        crate::error::Kind::Conflict => "conflict",
        crate::error::Kind::RateLimited => "rate_limited",
        crate::error::Kind::Invalid => "invalid_frame",
        crate::error::Kind::Unavailable => "unavailable",
        k @ (crate::error::Kind::AgentFull | crate::error::Kind::AgentUnavailable | crate::error::Kind::NotInDepartment) => k.code(),
        crate::error::Kind::TagRequired => "tag_required",
        crate::error::Kind::Banned => "banned",
        crate::error::Kind::PrechatRequired => "prechat_required",
        _ => "internal",
    };
    if e.kind == crate::error::Kind::Internal {
        tracing::error!(error = %e.message, "socket operation failed");
    }
    session.text(protocol::error_frame(code, e.public_message(), reference)).await.map_err(|_| Closed)
}

// ---------------------------------------------------------------- operations

/// Commit one message, then publish it. Returns the stored message (the ack's content).
pub async fn post_message(db: &Db, hub: &Hub, now: i64, msg: OwnedMessage) -> Result<MessageOut, AppError> {
    let (m, new) = db.write(move |c| store_message(c, &msg, now)).await?;
    if new {
        publish_message(hub, &m).await;
    }
    Ok(m)
}

/// Store one message inside a write job (with its webhook event when it is new); the caller
/// publishes it with [`publish_message`] after the commit when the bool says it is new.
pub fn store_message(c: &rusqlite::Connection, msg: &OwnedMessage, now: i64) -> Result<(MessageOut, bool), AppError> {
    let (m, new) = store::insert_message(
        c,
        &NewMessage {
            conversation: msg.conversation,
            author_kind: msg.author_kind,
            agent_id: msg.agent_id,
            client_id: msg.client_id.as_deref(),
            body: &msg.body,
            attachment_id: msg.attachment_id,
            internal: msg.internal,
            now,
        },
    )?;
    if new {
        crate::webhooks::events::message_created(c, &m, now)?;
    }
    Ok((m, new))
}

pub async fn publish_message(hub: &Hub, m: &MessageOut) {
    hub.publish(Audience::Conversation(m.conversation), ServerFrame::Message(m.clone())).await;
}

pub struct OwnedMessage {
    pub conversation: i64,
    pub author_kind: &'static str,
    pub agent_id: Option<i64>,
    pub client_id: Option<String>,
    pub body: String,
    pub attachment_id: Option<i64>,
    /// A whisper: agents only (the hub and every visitor read keep it from the visitor).
    pub internal: bool,
}

/// End a conversation (if still open), write the system line, publish the change.
pub async fn end_conversation(state: &AppState, conversation: i64, by: EndedBy, who: String) -> Result<(), AppError> {
    let now = state.now();
    let (config, host) = (state.config.clone(), state.public_url.host_str().unwrap_or("localhost").to_string());
    let cancel_window_ms = state.routing.settings().cancel_window_ms();
    let require_tag = by == EndedBy::Agent && state.require_tag();
    let done = state
        .db
        .write(move |c| {
            let conv = store::conv(c, conversation)?.ok_or_else(|| AppError::not_found("conversation"))?;
            if conv.status == Status::Ended {
                return Ok(None);
            }
            if require_tag && store::conv_tags(c, conversation)?.is_empty() {
                return Err(AppError::new(Kind::TagRequired, "tag this chat before ending it"));
            }
            let was_queued = conv.status == Status::Queued;
            let outcome = store::end(c, &conv, by, now, cancel_window_ms)?;
            let event = match by {
                EndedBy::Visitor => SystemEvent::visitor_left(),
                EndedBy::Agent => SystemEvent::agent_ended(&who),
                EndedBy::Timeout => SystemEvent::timeout(),
                EndedBy::System => SystemEvent::closed(),
            };
            let m = store::insert_system(c, conversation, None, &event, now)?;
            crate::webhooks::events::conversation_ended(c, conversation, outcome, by, now)?;
            // The transcript by mail when the admin turned that on (W8), with the chat's end.
            let mailed = crate::mail::transcript_at_end(c, conversation, &config, &host, now)?;
            Ok(Some((m, outcome, was_queued, mailed, conv.visitor_id)))
        })
        .await?;
    if let Some((m, outcome, was_queued, mailed, visitor_id)) = done {
        if mailed.is_some() {
            state.mail.wake();
        }
        publish_message(&state.hub, &m).await;
        state.hub.publish(Audience::Conversation(conversation), ended_frame(conversation, outcome, by)).await;
        if was_queued {
            state.hub.publish(Audience::Agents, ServerFrame::Queue(QueueChange::Remove { conversation, agent_id: None })).await;
        }
        state.hub.publish(Audience::Agents, ServerFrame::Chat { op: ChatOp::Ended, conversation }).await;
        crate::visitors::live::changed(state, visitor_id).await;
        // Routing: a slot freed or the queue moved.
        crate::routing::dispatch(state).await;
    }
    Ok(())
}

/// The `status` frame of an ended chat.
pub fn ended_frame(conversation: i64, outcome: Outcome, ended_by: EndedBy) -> ServerFrame {
    ServerFrame::Status(StatusChange::Ended { conversation, outcome, ended_by })
}

/// Conversation fields the widget needs to render its state (in its `welcome`).
pub fn conv_frame(c: &ConvRow, agent_name: Option<String>) -> WelcomeConversation {
    WelcomeConversation {
        id: c.id,
        status: c.status,
        last_seq: c.last_seq,
        agent_name,
        agent_delivered_seq: c.agent_delivered_seq,
        agent_read_seq: c.agent_read_seq,
        visitor_read_seq: c.visitor_read_seq,
    }
}

/// Wait (up to 15 s) for the first frame, which must be text (the hello).
pub async fn first_text(session: &mut Session, stream: &mut actix_ws::AggregatedMessageStream) -> Option<String> {
    let first = tokio::time::timeout(Duration::from_secs(15), stream.next()).await;
    match first {
        Ok(Some(Ok(AggregatedMessage::Text(t)))) => Some(t.to_string()),
        Ok(Some(Err(actix_ws::ProtocolError::Overflow))) => {
            let _ = session.clone().close(close_reason(close::TOO_BIG, "frame too large")).await;
            None
        }
        Ok(None) | Ok(Some(Ok(AggregatedMessage::Close(_)))) => None,
        _ => {
            refuse(session, "hello_required", "the first frame must be hello").await;
            None
        }
    }
}

/// Send an error frame and close with the protocol-error code.
pub async fn refuse(session: &mut Session, code: &str, message: &str) {
    let _ = session.text(protocol::error_frame(code, message, None)).await;
    let _ = session.clone().close(close_reason(close::PROTOCOL, message)).await;
}
