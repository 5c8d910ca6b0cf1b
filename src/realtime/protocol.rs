//! Socket frames, version 1 (see docs/protocol.md). Parsing is pure and strict: every frame a
//! client may send is one variant here; anything else is a clear error frame.

use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::chat::{Conversation, EndedBy, Outcome, Status};

pub const VERSION: u32 = 1;
/// Largest text frame accepted from a client.
pub const MAX_FRAME: usize = 64 * 1024;
/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
pub const MAX_CLIENT_ID: usize = 64;
/// Longest note on a transfer, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// A visitor's draft forwarded to agents (sneak peek) is cut to this many characters.
pub const MAX_DRAFT_CHARS: usize = 2_000;
pub const MAX_URL: usize = 2_048;

/// Close codes (RFC 6455 registered codes plus our 4xxx).
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const RESTART: u16 = 1012;
    pub const TRY_AGAIN: u16 = 1013;
    pub const PROTOCOL: u16 = 4000;
    pub const UNAUTHENTICATED: u16 = 4001;
    pub const IDLE: u16 = 4002;
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PageInfo {
    pub url: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub referrer: Option<String>,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    pub conversation: i64,
    pub last_seq: i64,
}

/// Where the console left off in a team room (internal chat): the last `seq` it has.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TeamResume {
    pub room: i64,
    pub last_seq: i64,
}

/// Frames a visitor's widget sends.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VisitorFrame {
    Hello {
        v: u32,
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        page: Option<PageInfo>,
        #[serde(default)]
        tz: Option<String>,
        #[serde(default)]
        lang: Option<String>,
        #[serde(default)]
        resume: Option<Resume>,
        /// Send replays as `history` frames (many messages each) instead of one `message`
        /// frame per message.
        #[serde(default)]
        history: bool,
        /// The shop's signed customer identity (W12); an invalid one is ignored.
        #[serde(default)]
        identity: Option<crate::widget::IdentityClaim>,
    },
    Page(PageInfo),
    Message {
        client_id: String,
        #[serde(default)]
        body: String,
        #[serde(default)]
        attachment: Option<String>,
        /// The department a new chat goes to (routing); ignored once the chat exists.
        #[serde(default)]
        department: Option<i64>,
        /// Answers to the department's pre-chat form (W3); only read when a chat starts.
        #[serde(default)]
        prechat: Option<crate::widget::Answers>,
        /// The invitation this message answers (W9): a new chat starts with its agent.
        #[serde(default)]
        invitation: Option<i64>,
    },
    /// The visitor closed the invitation without answering (W9).
    InvitationClose {
        invitation: i64,
    },
    Typing {
        typing: bool,
        #[serde(default)]
        draft: Option<String>,
    },
    Read {
        seq: i64,
    },
    End,
    Ping,
}

/// Frames an agent's console sends.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentFrame {
    Hello {
        v: u32,
        #[serde(default)]
        resume: Vec<Resume>,
        /// Team rooms (internal chat) to resume after these seqs; the others are followed from
        /// their current last seq (older messages come from the history route).
        #[serde(default)]
        team: Vec<TeamResume>,
    },
    Accept {
        conversation: i64,
        /// Take it beyond the chat limit (supervisors and admins, after confirming).
        #[serde(default)]
        force: bool,
    },
    Open {
        conversation: i64,
        #[serde(default)]
        last_seq: i64,
    },
    Close {
        conversation: i64,
    },
    Message {
        conversation: i64,
        client_id: String,
        #[serde(default)]
        body: String,
        #[serde(default)]
        attachment: Option<String>,
    },
    Typing {
        conversation: i64,
        typing: bool,
    },
    Delivered {
        conversation: i64,
        seq: i64,
    },
    Read {
        conversation: i64,
        seq: i64,
    },
    End {
        conversation: i64,
    },
    /// Hand the chat to another agent (`agent_id`, a free slot needed unless a supervisor
    /// forces it) or back to a department's queue (`department_id`), exactly one of them, with
    /// an optional note only agents see (SPEC C7).
    Transfer {
        conversation: i64,
        #[serde(default)]
        agent_id: Option<i64>,
        #[serde(default)]
        department_id: Option<i64>,
        #[serde(default)]
        note: Option<String>,
        #[serde(default)]
        force: bool,
    },
    /// An internal line in a chat, for agents only (supervisors and admins).
    Whisper {
        conversation: i64,
        client_id: String,
        #[serde(default)]
        body: String,
    },
    /// A supervisor or admin becomes the chat's agent; the former agent is told.
    TakeOver {
        conversation: i64,
    },
    /// Presence on a ticket page (T1): others see who is viewing or replying.
    Viewing {
        ticket: i64,
        state: PresenceState,
    },
    /// Internal chat: a message into a team room the agent belongs to.
    TeamMessage {
        room: i64,
        client_id: String,
        #[serde(default)]
        body: String,
    },
    /// Internal chat: the agent is (not) typing in a team room.
    TeamTyping {
        room: i64,
        typing: bool,
    },
    /// Internal chat: the agent has read a team room up to `seq`.
    TeamRead {
        room: i64,
        seq: i64,
    },
    /// Start (`true`) or stop watching the live visitors list (C13): the answer is a `visitors`
    /// frame with everyone on the site now, then `visitor` frames for each change.
    Visitors {
        watch: bool,
    },
    /// Invite a visitor on the site to chat (W9, SPEC §1): they see `body` from this agent.
    Invite {
        visitor: i64,
        body: String,
    },
    /// Start (`watch: true`) or stop receiving the live monitor (supervisors and admins).
    Monitor {
        watch: bool,
    },
    Ping,
}

#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PresenceState {
    Viewing,
    Replying,
    Left,
}

/// Why a frame was refused; becomes an `error` frame (or a close for fatal ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub code: &'static str,
    pub message: String,
}

impl FrameError {
    pub fn new(code: &'static str, message: impl Into<String>) -> FrameError {
        FrameError { code, message: message.into() }
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, FrameError> {
    if text.len() > MAX_FRAME {
        return Err(FrameError::new("too_large", format!("frame larger than {MAX_FRAME} bytes")));
    }
    serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        // "unknown variant" is serde's word both for an unknown frame type and for a bad enum
        // value inside a known frame; only the first is `unknown_type`.
        let is_type = || {
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(|t| msg.starts_with(&format!("unknown variant `{t}`"))))
                .unwrap_or(false)
        };
        if msg.starts_with("unknown variant") && is_type() {
            FrameError::new("unknown_type", msg)
        } else if msg.starts_with("unknown field") {
            FrameError::new("unknown_field", msg)
        } else if e.is_syntax() || e.is_eof() {
            FrameError::new("invalid_json", msg)
        } else {
            FrameError::new("invalid_frame", msg)
        }
    })
}

pub fn parse_visitor(text: &str) -> Result<VisitorFrame, FrameError> {
    let f: VisitorFrame = parse(text)?;
    match &f {
        VisitorFrame::Hello { v, .. } => check_version(*v)?,
        VisitorFrame::Message { client_id, body, attachment, .. } => check_message(client_id, body, attachment.as_deref())?,
        VisitorFrame::Page(p) => check_page(p)?,
        VisitorFrame::Read { seq } => check_seq(*seq)?,
        _ => {}
    }
    if let VisitorFrame::Hello { page: Some(p), .. } = &f {
        check_page(p)?;
    }
    Ok(f)
}

pub fn parse_agent(text: &str) -> Result<AgentFrame, FrameError> {
    let f: AgentFrame = parse(text)?;
    match &f {
        AgentFrame::Hello { v, .. } => check_version(*v)?,
        AgentFrame::Message { client_id, body, attachment, .. } => check_message(client_id, body, attachment.as_deref())?,
        AgentFrame::Read { seq, .. } | AgentFrame::Delivered { seq, .. } | AgentFrame::TeamRead { seq, .. } => check_seq(*seq)?,
        AgentFrame::TeamMessage { client_id, body, .. } => check_message(client_id, body, None)?,
        AgentFrame::Whisper { client_id, body, .. } => check_message(client_id, body, None)?,
        AgentFrame::Transfer { agent_id, department_id, note, .. } => {
            if agent_id.is_some() == department_id.is_some() {
                return Err(FrameError::new("invalid_frame", "transfer: give exactly one of agent_id and department_id"));
            }
            if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
                return Err(FrameError::new("too_large", format!("note longer than {MAX_NOTE_CHARS} characters")));
            }
        }
        AgentFrame::Invite { body, .. } => check_invitation(body)?,
        _ => {}
    }
    Ok(f)
}

fn check_version(v: u32) -> Result<(), FrameError> {
    if v != VERSION {
        return Err(FrameError::new("unsupported_version", format!("protocol version {v} is not supported; use {VERSION}")));
    }
    Ok(())
}

fn check_invitation(body: &str) -> Result<(), FrameError> {
    if body.chars().count() > crate::visitors::MAX_INVITATION_CHARS {
        return Err(FrameError::new("too_large", format!("invitation longer than {} characters", crate::visitors::MAX_INVITATION_CHARS)));
    }
    if body.trim().is_empty() {
        return Err(FrameError::new("invalid_frame", "empty invitation"));
    }
    Ok(())
}

fn check_seq(seq: i64) -> Result<(), FrameError> {
    if seq < 0 {
        return Err(FrameError::new("invalid_frame", "seq must not be negative"));
    }
    Ok(())
}

fn check_page(p: &PageInfo) -> Result<(), FrameError> {
    if p.url.len() > MAX_URL || p.referrer.as_ref().is_some_and(|r| r.len() > MAX_URL) {
        return Err(FrameError::new("invalid_frame", "url too long"));
    }
    if p.title.as_ref().is_some_and(|t| t.chars().count() > 500) {
        return Err(FrameError::new("invalid_frame", "title too long"));
    }
    Ok(())
}

fn check_message(client_id: &str, body: &str, attachment: Option<&str>) -> Result<(), FrameError> {
    if client_id.is_empty()
        || client_id.len() > MAX_CLIENT_ID
        || !client_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(FrameError::new("invalid_frame", format!("client_id: 1 to {MAX_CLIENT_ID} characters of [A-Za-z0-9_-]")));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(FrameError::new("too_large", format!("message longer than {MAX_BODY_CHARS} characters")));
    }
    if body.trim().is_empty() && attachment.is_none() {
        return Err(FrameError::new("invalid_frame", "empty message"));
    }
    Ok(())
}

/// Who wrote a message, as shown to the other side.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Author {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<i64>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AttachmentInfo {
    pub token: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub url: String,
}

/// One message as it travels to clients (and as the REST API lists it).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct MessageOut {
    pub conversation: i64,
    pub seq: i64,
    pub id: i64,
    pub author: Author,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentInfo>,
    pub at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// For system lines: `{"code", …params}` for clients to translate (docs/protocol.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<serde_json::Value>,
    /// An internal line (whisper, transfer note, who handed the chat over): agents only. The
    /// hub never publishes it to a visitor and visitor replays filter it out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

// ---------------------------------------------------------------- server → client

/// Every frame the server sends, one variant per `type` (docs/protocol.md, "Server → client").
/// `web/src/shared/protocol.ts` mirrors it as the `ServerFrame` discriminated union. Socket code
/// builds frames only from this enum (a test keeps `json!` out of it), so the wire shape is
/// declared here once: a key is omitted only where a field says `skip_serializing_if`; every
/// other `Option` is sent as `null`.
#[derive(Serialize, Debug, Clone)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// After a visitor's `hello`. Shares the `welcome` type with [`ServerFrame::AgentWelcome`];
    /// each endpoint only ever sends its own.
    #[serde(rename = "welcome")]
    VisitorWelcome(VisitorWelcome),
    /// After an agent's `hello`.
    #[serde(rename = "welcome")]
    AgentWelcome(AgentWelcome),
    /// The client's message is committed.
    Ack {
        client_id: String,
        conversation: i64,
        seq: i64,
        id: i64,
        at: i64,
    },
    /// A message of a conversation (published with its `seq`, so sockets deliver it gap-free).
    Message(MessageOut),
    /// A replay (resume, catch-up) of many messages in seq order, for clients that asked for it
    /// (`hello.history`); `more`: another `history` frame of this replay follows.
    History {
        conversation: i64,
        messages: Vec<MessageOut>,
        more: bool,
    },
    /// The agent's rights changed (role, departments, an admin switch) while the socket was
    /// open: its current role, the chats it no longer follows (they may not see them now), and
    /// all its team rooms now (internal chat; only these are followed).
    Access {
        role: Role,
        unfollowed: Vec<i64>,
        team: Vec<crate::teamchat::RoomSummary>,
    },
    /// Conversation lifecycle, tagged by `status`.
    Status(StatusChange),
    /// Someone is typing, tagged by `who`.
    Typing(Typing),
    /// The agent's console received / read up to these (to the visitor).
    Receipt {
        conversation: i64,
        delivered_seq: i64,
        read_seq: i64,
    },
    /// The visitor read up to `seq` (to agents).
    Read {
        conversation: i64,
        by: Reader,
        seq: i64,
    },
    /// The visitor rated an ended chat (W8; to the chat's agents).
    Rated {
        conversation: i64,
        rating: crate::widget::Rating,
        comment: Option<String>,
        at: i64,
    },
    /// The visitor navigated (to agents).
    VisitorPage {
        conversation: i64,
        visitor: i64,
        url: String,
        title: Option<String>,
        at: i64,
    },
    /// The queue changed, tagged by `op` (to every agent).
    Queue(QueueChange),
    /// Your `accept` won.
    Accepted {
        conversation: Conversation,
    },
    /// Your `open` is followed; the replay follows.
    Opened {
        conversation: Conversation,
    },
    /// A chat ended (to every agent: lists update).
    Chat {
        op: ChatOp,
        conversation: i64,
    },
    /// A colleague is viewing / replying to / left a ticket.
    Presence {
        ticket: i64,
        agent_id: i64,
        name: String,
        state: PresenceState,
        at: i64,
    },
    /// A ticket changed: consoles refetch it if shown. Build it with [`ticket_changed`].
    Ticket {
        op: TicketOp,
        number: i64,
    },
    /// An outgoing mail's delivery state changed (`pending` again after a failed attempt,
    /// `sent`, `failed`): the mail status page refreshes. Build it with [`mail_changed`].
    Mail {
        op: TicketOp,
        id: i64,
        status: String,
    },
    /// A refused frame or failed operation; `ref` is the refused message's `client_id` (else null).
    Error {
        code: String,
        message: String,
        #[serde(rename = "ref")]
        reference: Option<String>,
    },
    Pong,
    /// The distribution gave you this chat (routing); your sockets now follow it.
    Assigned {
        conversation: Conversation,
    },
    /// An agent's status changed (to every agent: the header switch, monitors).
    AgentStatus {
        agent_id: i64,
        status: crate::routing::AgentStatus,
    },
    /// A chat was transferred (to every agent: lists move it). `to_agent` has it now, or it
    /// waits in `to_department`'s queue; `from_agent` had it; `by` did it.
    Transferred {
        conversation: i64,
        from_agent: Option<i64>,
        to_agent: Option<i64>,
        to_department: Option<i64>,
        by: i64,
        by_name: String,
    },
    /// A supervisor took the chat over from `from_agent` (to every agent: the former agent's
    /// console says so and stops offering the composer).
    TakenOver {
        conversation: i64,
        from_agent: Option<i64>,
        agent_id: i64,
        name: String,
    },
    /// Internal chat: a message in a team room (agent sockets following the room only; published
    /// with its `seq`, so sockets deliver it gap-free).
    TeamMessage(TeamMessageOut),
    /// Internal chat: a replay (resume, catch-up) of a team room in seq order; `more`: another
    /// `team_history` frame of this replay follows.
    TeamHistory {
        room: i64,
        messages: Vec<TeamMessageOut>,
        more: bool,
    },
    /// Internal chat: your `team_message` is committed.
    TeamAck {
        client_id: String,
        room: i64,
        seq: i64,
        id: i64,
        at: i64,
    },
    /// Internal chat: a colleague is (not) typing in a room you follow.
    TeamTyping {
        room: i64,
        agent_id: i64,
        name: String,
        typing: bool,
    },
    /// Internal chat: you (in this or another tab) read the room up to `seq`.
    TeamRead {
        room: i64,
        seq: i64,
    },
    /// Internal chat: a new room is yours (a colleague opened a 1:1 with you); your sockets now
    /// follow it.
    TeamRoom {
        room: crate::teamchat::RoomSummary,
    },
    /// Everyone on the site now (the answer to `visitors {watch: true}`, C13).
    Visitors {
        items: Vec<crate::visitors::LiveVisitor>,
    },
    /// The live visitors list changed, tagged by `op` (to agent sockets watching it, C13).
    Visitor(VisitorChange),
    /// An agent (or a rule, in an agent's name) invites the visitor to chat (to the visitor, W9).
    Invitation {
        id: i64,
        body: String,
        agent_name: String,
        at: i64,
    },
    /// The live monitor changed (to sockets that watch it): queue, waits, slots, agents by
    /// status, today's outcomes, red departments.
    Monitor(Box<crate::reports::monitor::Monitor>),
}

/// A change of the live visitors list.
#[derive(Serialize, Debug, Clone)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum VisitorChange {
    /// A visitor arrived, moved to another page, started or ended a chat, was invited.
    Update { visitor: Box<crate::visitors::LiveVisitor> },
    /// The visitor left the site (their last widget socket closed).
    Gone { id: i64 },
}

impl ServerFrame {
    /// The frame as one JSON text.
    pub fn to_json(&self) -> String {
        // Plain structs, strings and numbers: serializing cannot fail.
        serde_json::to_string(self).expect("server frames serialize")
    }
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct VisitorWelcome {
    pub v: u32,
    pub token: String,
    pub visitor: VisitorRef,
    /// The visitor's latest conversation, `null` when there is none.
    pub conversation: Option<WelcomeConversation>,
    pub sneak_peek: bool,
    /// Whether chat is open, why not, what to do then, the departments to offer, and
    /// `agents_online` (accepting agents with a free slot, never open console tabs).
    #[serde(flatten)]
    pub routing: crate::routing::ops::WidgetRouting,
    /// Pre-chat forms by department id (W3); absent when no department has one.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub prechat: std::collections::BTreeMap<i64, crate::widget::PrechatForm>,
    /// What a verified visitor (W12) already gave: the form skips it. Absent for everyone else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known: Option<crate::widget::Known>,
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq)]
pub struct VisitorRef {
    pub id: i64,
}

/// The conversation fields the widget needs to render its state.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct WelcomeConversation {
    pub id: i64,
    pub status: Status,
    pub last_seq: i64,
    pub agent_name: Option<String>,
    pub agent_delivered_seq: i64,
    pub agent_read_seq: i64,
    /// The last message the visitor has seen: later agent messages are unread (the launcher's
    /// badge for a returning visitor).
    pub visitor_read_seq: i64,
}

#[derive(Serialize, Debug, Clone)]
pub struct AgentWelcome {
    pub v: u32,
    pub agent: AgentInfo,
    pub queue: Vec<Conversation>,
    pub mine: Vec<Conversation>,
    pub supervised: Vec<Conversation>,
    pub sneak_peek: bool,
    /// Internal chat: the agent's team rooms with unread counts; the socket follows each one.
    pub team: Vec<crate::teamchat::RoomSummary>,
}

/// One internal-chat message as it travels to agents (and as the history route lists it).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct TeamMessageOut {
    pub room: i64,
    pub seq: i64,
    pub id: i64,
    pub agent_id: i64,
    pub name: String,
    pub body: String,
    pub at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AgentInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StatusChange {
    /// Waiting: the place in the queue (1 = next), an estimate, how long it has waited, and
    /// when the widget shows the "please wait" line and the leave-a-message offer.
    Queued {
        conversation: i64,
        position: i64,
        estimated_wait_s: Option<i64>,
        waited_s: i64,
        wait_notice_s: i64,
        retention_s: i64,
    },
    Active {
        conversation: i64,
        agent_name: String,
    },
    Ended {
        conversation: i64,
        outcome: Outcome,
        ended_by: EndedBy,
    },
}

#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(tag = "who", rename_all = "snake_case")]
pub enum Typing {
    /// To the visitor.
    Agent { conversation: i64, name: String, typing: bool },
    /// To agents; `draft` is `null` unless sneak peek is on and the visitor is typing.
    Visitor { conversation: i64, typing: bool, draft: Option<String> },
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Reader {
    Visitor,
}

#[derive(Serialize, Debug, Clone)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum QueueChange {
    Add {
        conversation: Box<Conversation>,
    },
    /// `agent_id`: who took it, when an agent accepted it (absent when it ended while queued).
    Remove {
        conversation: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        agent_id: Option<i64>,
    },
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChatOp {
    Ended,
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TicketOp {
    Changed,
}

/// `{"type":"ticket","op":"changed","number":N}`: tell every console (publish to
/// `Audience::Agents`) after a ticket change committed.
pub fn ticket_changed(number: i64) -> ServerFrame {
    ServerFrame::Ticket { op: TicketOp::Changed, number }
}

/// `{"type":"mail","op":"changed","id":N,"status":S}`: an outbox row's state changed (publish
/// to `Audience::Agents`).
pub fn mail_changed(id: i64, status: &str) -> ServerFrame {
    ServerFrame::Mail { op: TicketOp::Changed, id, status: status.to_string() }
}

pub fn error(code: &str, message: &str, reference: Option<&str>) -> ServerFrame {
    ServerFrame::Error { code: code.to_string(), message: message.to_string(), reference: reference.map(str::to_string) }
}

/// An `error` frame as JSON text.
pub fn error_frame(code: &str, message: &str, reference: Option<&str>) -> String {
    error(code, message, reference).to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_frames_table() {
        let ok: &[&str] = &[
            r#"{"type":"hello","v":1}"#,
            r#"{"type":"hello","v":1,"token":"abc","page":{"url":"https://shop.example/a","title":"A"},"tz":"Europe/Warsaw","resume":{"conversation":3,"last_seq":7}}"#,
            r#"{"type":"hello","v":1,"history":true}"#,
            r#"{"type":"message","client_id":"c-1","body":"hi"}"#,
            r#"{"type":"message","client_id":"c_2","attachment":"tok"}"#,
            r#"{"type":"message","client_id":"c_3","body":"hi","department":4}"#,
            r#"{"type":"message","client_id":"c_4","body":"hi","prechat":{"name":"Ann","custom":{"Size":"M"},"consent":true}}"#,
            r#"{"type":"hello","v":1,"identity":{"id":"42","email":"a@b.example","name":"A","ts":1,"sig":"ab"}}"#,
            r#"{"type":"typing","typing":true,"draft":"hel"}"#,
            r#"{"type":"read","seq":4}"#,
            r#"{"type":"page","url":"https://shop.example/b"}"#,
            r#"{"type":"end"}"#,
            r#"{"type":"ping"}"#,
        ];
        for f in ok {
            assert!(parse_visitor(f).is_ok(), "{f}: {:?}", parse_visitor(f));
        }
        let long_body = format!(r#"{{"type":"message","client_id":"a","body":"{}"}}"#, "x".repeat(MAX_BODY_CHARS + 1));
        let huge = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(MAX_FRAME));
        let bad: Vec<(String, &str)> = vec![
            ("not json".into(), "invalid_json"),
            ("{".into(), "invalid_json"),
            (r#"{"type":"launch_missiles"}"#.into(), "unknown_type"),
            (r#"{"type":"hello","v":2}"#.into(), "unsupported_version"),
            (r#"{"type":"hello"}"#.into(), "invalid_frame"),
            (r#"{"type":"hello","v":1,"history":"yes"}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"c 1","body":"hi"}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"","body":"hi"}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"c1","body":"   "}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"c1","body":"hi","extra":1}"#.into(), "unknown_field"),
            (r#"{"type":"read","seq":-1}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"c1","body":"hi","department":"sales"}"#.into(), "invalid_frame"),
            (r#"{"type":"read","seq":"1"}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"c1","body":"hi","prechat":{"nickname":"x"}}"#.into(), "unknown_field"),
            (r#"{"type":"message","client_id":"c1","body":"hi","prechat":"Ann"}"#.into(), "invalid_frame"),
            (r#"{"type":"hello","v":1,"identity":{"id":"42","ts":"soon","sig":"ab"}}"#.into(), "invalid_frame"),
            (r#"{"type":"hello","v":1,"identity":{"id":"42","ts":1}}"#.into(), "invalid_frame"),
            (r#"[1,2,3]"#.into(), "invalid_frame"),
            (long_body, "too_large"),
            (huge, "too_large"),
        ];
        for (f, code) in bad {
            let e = parse_visitor(&f).unwrap_err();
            assert_eq!(e.code, code, "{}", &f[..f.len().min(80)]);
        }
    }

    fn conversation() -> Conversation {
        Conversation {
            id: 12,
            status: Status::Queued,
            outcome: None,
            visitor: crate::chat::VisitorSummary { id: 7, name: None, email: Some("v@x.example".into()) },
            agent_id: None,
            agent_name: None,
            department_id: Some(2),
            last_seq: 1,
            created_at: 1795400000000,
            assigned_at: None,
            ended_at: None,
            last_message_at: Some(1795400000000),
            last_visitor_message_at: Some(1795400000000),
            last_agent_message_at: None,
            agent_delivered_seq: 0,
            agent_read_seq: 0,
            visitor_read_seq: 1,
            page_url: Some("https://shop.example/shoes".into()),
            preview: Some("Do you ship?".into()),
            tags: vec!["vip".into()],
        }
    }

    /// `Conversation` as the `json!` literals sent it before frames were typed.
    const CONVERSATION: &str = r#"{"agent_delivered_seq":0,"agent_id":null,"agent_name":null,"agent_read_seq":0,"assigned_at":null,"created_at":1795400000000,"department_id":2,"ended_at":null,"id":12,"last_agent_message_at":null,"last_message_at":1795400000000,"last_seq":1,"last_visitor_message_at":1795400000000,"outcome":null,"page_url":"https://shop.example/shoes","preview":"Do you ship?","status":"queued","tags":["vip"],"visitor":{"email":"v@x.example","id":7,"name":null},"visitor_read_seq":1}"#;

    /// Every server frame next to the JSON its `json!` literal produced before the enum existed
    /// (captured from that code with the same values). Equal as JSON values: same keys, same
    /// value types, `null` where null was sent, absent where the key was left out.
    #[test]
    fn server_frames_keep_their_wire_shape() {
        let message = MessageOut {
            conversation: 12,
            seq: 3,
            id: 981,
            author: Author { kind: "agent", name: Some("Ann".into()), agent_id: Some(4) },
            body: "Yes".into(),
            attachment: Some(AttachmentInfo {
                token: "t".into(),
                name: "i.pdf".into(),
                content_type: "application/pdf".into(),
                size: 5,
                url: "/files/t/i.pdf".into(),
            }),
            at: 1795400000000,
            client_id: Some("a-1".into()),
            event: None,
            internal: false,
        };
        let system = MessageOut {
            conversation: 12,
            seq: 2,
            id: 982,
            author: Author { kind: "system", name: None, agent_id: None },
            body: "Ann joined the chat".into(),
            attachment: None,
            at: 1795400000000,
            client_id: None,
            event: serde_json::from_str(&crate::events::SystemEvent::joined("Ann").to_json()).ok(),
            internal: false,
        };
        let conv = || format!("{{\"conversation\":{CONVERSATION}");
        let cases: Vec<(ServerFrame, String)> = vec![
            (
                ServerFrame::VisitorWelcome(VisitorWelcome {
                    v: VERSION,
                    token: "Vx3".into(),
                    visitor: VisitorRef { id: 7 },
                    conversation: None,
                    sneak_peek: true,
                    routing: crate::routing::ops::WidgetRouting {
                        agents_online: 0,
                        open: false,
                        closed: Some(crate::routing::Closed::NobodyAccepting),
                        offline: crate::routing::OfflineBehaviour::Form,
                        departments: vec![],
                        default_department: None,
                    },
                    prechat: Default::default(),
                    known: None,
                }),
                r#"{"agents_online":0,"closed":"nobody_accepting","conversation":null,"default_department":null,"departments":[],"offline":"form","open":false,"sneak_peek":true,"token":"Vx3","type":"welcome","v":1,"visitor":{"id":7}}"#.into(),
            ),
            (
                ServerFrame::VisitorWelcome(VisitorWelcome {
                    v: VERSION,
                    token: "Vx3".into(),
                    visitor: VisitorRef { id: 7 },
                    conversation: Some(WelcomeConversation {
                        id: 12,
                        status: Status::Active,
                        last_seq: 1,
                        agent_name: None,
                        agent_delivered_seq: 0,
                        agent_read_seq: 0,
                        visitor_read_seq: 1,
                    }),
                    sneak_peek: false,
                    routing: crate::routing::ops::WidgetRouting {
                        agents_online: 2,
                        open: true,
                        closed: None,
                        offline: crate::routing::OfflineBehaviour::Hide,
                        departments: vec![crate::routing::ops::WidgetDepartment {
                            id: 3,
                            name: "Sales".into(),
                            open: false,
                            closed: Some(crate::routing::Closed::Hours),
                            offline: crate::routing::OfflineBehaviour::Form,
                        }],
                        default_department: Some(3),
                    },
                    prechat: [(
                        3,
                        crate::widget::PrechatForm {
                            fields: vec![crate::widget::Field { kind: crate::widget::FieldKind::Email, required: true, label: None }],
                            consent: Some("I agree".into()),
                        },
                    )]
                    .into(),
                    known: Some(crate::widget::Known { name: Some("Ann".into()), email: None, phone: None, consent: false }),
                }),
                r#"{"agents_online":2,"closed":null,"default_department":3,"departments":[{"closed":"hours","id":3,"name":"Sales","offline":"form","open":false}],"offline":"hide","open":true,"conversation":{"agent_delivered_seq":0,"agent_name":null,"agent_read_seq":0,"id":12,"last_seq":1,"status":"active","visitor_read_seq":1},"known":{"consent":false,"email":null,"name":"Ann","phone":null},"prechat":{"3":{"consent":"I agree","fields":[{"kind":"email","required":true}]}},"sneak_peek":false,"token":"Vx3","type":"welcome","v":1,"visitor":{"id":7}}"#.into(),
            ),
            (
                ServerFrame::AgentWelcome(AgentWelcome {
                    v: VERSION,
                    agent: AgentInfo { id: 4, name: "Ann".into(), role: Role::Supervisor },
                    queue: vec![conversation()],
                    mine: vec![],
                    supervised: vec![],
                    sneak_peek: true,
                    team: vec![],
                }),
                format!(
                    r#"{{"agent":{{"id":4,"name":"Ann","role":"supervisor"}},"mine":[],"queue":[{CONVERSATION}],"sneak_peek":true,"supervised":[],"team":[],"type":"welcome","v":1}}"#
                ),
            ),
            (
                ServerFrame::Ack { client_id: "a-1".into(), conversation: 12, seq: 3, id: 981, at: 1795400000000 },
                r#"{"at":1795400000000,"client_id":"a-1","conversation":12,"id":981,"seq":3,"type":"ack"}"#.into(),
            ),
            (
                ServerFrame::Message(message),
                r#"{"at":1795400000000,"attachment":{"content_type":"application/pdf","name":"i.pdf","size":5,"token":"t","url":"/files/t/i.pdf"},"author":{"agent_id":4,"kind":"agent","name":"Ann"},"body":"Yes","client_id":"a-1","conversation":12,"id":981,"seq":3,"type":"message"}"#.into(),
            ),
            (
                ServerFrame::Message(system),
                r#"{"at":1795400000000,"author":{"kind":"system"},"body":"Ann joined the chat","conversation":12,"event":{"code":"joined","name":"Ann"},"id":982,"seq":2,"type":"message"}"#.into(),
            ),
            (
                ServerFrame::Status(StatusChange::Queued {
                    conversation: 12,
                    position: 3,
                    estimated_wait_s: Some(90),
                    waited_s: 4,
                    wait_notice_s: 60,
                    retention_s: 180,
                }),
                r#"{"conversation":12,"estimated_wait_s":90,"position":3,"retention_s":180,"status":"queued","type":"status","wait_notice_s":60,"waited_s":4}"#.into(),
            ),
            (ServerFrame::Assigned { conversation: conversation() }, format!(r#"{},"type":"assigned"}}"#, conv())),
            (
                ServerFrame::AgentStatus { agent_id: 4, status: crate::routing::AgentStatus::NotAccepting },
                r#"{"agent_id":4,"status":"not_accepting","type":"agent_status"}"#.into(),
            ),
            (
                ServerFrame::Status(StatusChange::Active { conversation: 12, agent_name: "Ann".into() }),
                r#"{"agent_name":"Ann","conversation":12,"status":"active","type":"status"}"#.into(),
            ),
            (
                ServerFrame::Status(StatusChange::Ended { conversation: 12, outcome: Outcome::Missed, ended_by: EndedBy::Timeout }),
                r#"{"conversation":12,"ended_by":"timeout","outcome":"missed","status":"ended","type":"status"}"#.into(),
            ),
            (
                ServerFrame::Typing(Typing::Agent { conversation: 12, name: "Ann".into(), typing: true }),
                r#"{"conversation":12,"name":"Ann","type":"typing","typing":true,"who":"agent"}"#.into(),
            ),
            (
                ServerFrame::Typing(Typing::Visitor { conversation: 12, typing: false, draft: None }),
                r#"{"conversation":12,"draft":null,"type":"typing","typing":false,"who":"visitor"}"#.into(),
            ),
            (
                ServerFrame::Typing(Typing::Visitor { conversation: 12, typing: true, draft: Some("hel".into()) }),
                r#"{"conversation":12,"draft":"hel","type":"typing","typing":true,"who":"visitor"}"#.into(),
            ),
            (
                ServerFrame::Receipt { conversation: 12, delivered_seq: 3, read_seq: 2 },
                r#"{"conversation":12,"delivered_seq":3,"read_seq":2,"type":"receipt"}"#.into(),
            ),
            (ServerFrame::Read { conversation: 12, by: Reader::Visitor, seq: 5 }, r#"{"by":"visitor","conversation":12,"seq":5,"type":"read"}"#.into()),
            (
                ServerFrame::Rated { conversation: 12, rating: crate::widget::Rating::Bad, comment: Some("slow".into()), at: 1795400000000 },
                r#"{"at":1795400000000,"comment":"slow","conversation":12,"rating":"bad","type":"rated"}"#.into(),
            ),
            (
                ServerFrame::VisitorPage { conversation: 12, visitor: 7, url: "https://shop.example/b".into(), title: None, at: 1795400000000 },
                r#"{"at":1795400000000,"conversation":12,"title":null,"type":"visitor_page","url":"https://shop.example/b","visitor":7}"#.into(),
            ),
            (ServerFrame::Queue(QueueChange::Add { conversation: Box::new(conversation()) }), format!(r#"{},"op":"add","type":"queue"}}"#, conv())),
            (
                ServerFrame::Queue(QueueChange::Remove { conversation: 12, agent_id: None }),
                r#"{"conversation":12,"op":"remove","type":"queue"}"#.into(),
            ),
            (
                ServerFrame::Queue(QueueChange::Remove { conversation: 12, agent_id: Some(4) }),
                r#"{"agent_id":4,"conversation":12,"op":"remove","type":"queue"}"#.into(),
            ),
            (ServerFrame::Accepted { conversation: conversation() }, format!(r#"{},"type":"accepted"}}"#, conv())),
            (ServerFrame::Opened { conversation: conversation() }, format!(r#"{},"type":"opened"}}"#, conv())),
            (ServerFrame::Chat { op: ChatOp::Ended, conversation: 12 }, r#"{"conversation":12,"op":"ended","type":"chat"}"#.into()),
            (
                ServerFrame::Presence { ticket: 1001, agent_id: 4, name: "Ann".into(), state: PresenceState::Replying, at: 1795400000000 },
                r#"{"agent_id":4,"at":1795400000000,"name":"Ann","state":"replying","ticket":1001,"type":"presence"}"#.into(),
            ),
            (ticket_changed(1001), r#"{"number":1001,"op":"changed","type":"ticket"}"#.into()),
            (
                error("unsupported", "binary frames are not supported; send JSON text", None),
                r#"{"code":"unsupported","message":"binary frames are not supported; send JSON text","ref":null,"type":"error"}"#.into(),
            ),
            (
                error("forbidden", "only the agent who accepted this chat can write in it", Some("a-17")),
                r#"{"code":"forbidden","message":"only the agent who accepted this chat can write in it","ref":"a-17","type":"error"}"#.into(),
            ),
            (ServerFrame::Pong, r#"{"type":"pong"}"#.into()),
            (
                ServerFrame::History { conversation: 12, messages: vec![], more: true },
                r#"{"conversation":12,"messages":[],"more":true,"type":"history"}"#.into(),
            ),
            (
                ServerFrame::Transferred { conversation: 12, from_agent: Some(4), to_agent: None, to_department: Some(2), by: 4, by_name: "Ann".into() },
                r#"{"by":4,"by_name":"Ann","conversation":12,"from_agent":4,"to_agent":null,"to_department":2,"type":"transferred"}"#.into(),
            ),
            (
                ServerFrame::TakenOver { conversation: 12, from_agent: Some(4), agent_id: 5, name: "Sue".into() },
                r#"{"agent_id":5,"conversation":12,"from_agent":4,"name":"Sue","type":"taken_over"}"#.into(),
            ),
            (
                ServerFrame::Message(MessageOut {
                    conversation: 12,
                    seq: 4,
                    id: 983,
                    author: Author { kind: "agent", name: Some("Sue".into()), agent_id: Some(5) },
                    body: "offer 10%".into(),
                    attachment: None,
                    at: 1795400000000,
                    client_id: Some("w-1".into()),
                    event: None,
                    internal: true,
                }),
                r#"{"at":1795400000000,"author":{"agent_id":5,"kind":"agent","name":"Sue"},"body":"offer 10%","client_id":"w-1","conversation":12,"id":983,"internal":true,"seq":4,"type":"message"}"#.into(),
            ),
            (
                ServerFrame::Access { role: Role::Agent, unfollowed: vec![12], team: vec![] },
                r#"{"role":"agent","team":[],"type":"access","unfollowed":[12]}"#.into(),
            ),
            (
                ServerFrame::TeamMessage(TeamMessageOut {
                    room: 3,
                    seq: 2,
                    id: 40,
                    agent_id: 4,
                    name: "Ann".into(),
                    body: "see #12".into(),
                    at: 1795400000000,
                    client_id: None,
                }),
                r#"{"agent_id":4,"at":1795400000000,"body":"see #12","id":40,"name":"Ann","room":3,"seq":2,"type":"team_message"}"#.into(),
            ),
            (
                ServerFrame::TeamAck { client_id: "c1".into(), room: 3, seq: 2, id: 40, at: 1795400000000 },
                r#"{"at":1795400000000,"client_id":"c1","id":40,"room":3,"seq":2,"type":"team_ack"}"#.into(),
            ),
            (
                ServerFrame::TeamHistory { room: 3, messages: vec![], more: false },
                r#"{"messages":[],"more":false,"room":3,"type":"team_history"}"#.into(),
            ),
            (
                ServerFrame::TeamTyping { room: 3, agent_id: 4, name: "Ann".into(), typing: true },
                r#"{"agent_id":4,"name":"Ann","room":3,"type":"team_typing","typing":true}"#.into(),
            ),
            (ServerFrame::TeamRead { room: 3, seq: 2 }, r#"{"room":3,"seq":2,"type":"team_read"}"#.into()),
            (
                ServerFrame::TeamRoom {
                    room: crate::teamchat::RoomSummary {
                        id: 3,
                        kind: crate::teamchat::RoomKind::Direct,
                        department_id: None,
                        agent_id: Some(5),
                        name: "Bob".into(),
                        last_seq: 2,
                        read_seq: 1,
                        unread: 1,
                        last_message_at: Some(1795400000000),
                    },
                },
                r#"{"room":{"agent_id":5,"department_id":null,"id":3,"kind":"direct","last_message_at":1795400000000,"last_seq":2,"name":"Bob","read_seq":1,"unread":1},"type":"team_room"}"#.into(),
            ),
            (
                ServerFrame::Invitation { id: 3, body: "Need help?".into(), agent_name: "Ann".into(), at: 1795400000000 },
                r#"{"agent_name":"Ann","at":1795400000000,"body":"Need help?","id":3,"type":"invitation"}"#.into(),
            ),
            (ServerFrame::Visitor(VisitorChange::Gone { id: 7 }), r#"{"id":7,"op":"gone","type":"visitor"}"#.into()),
            (ServerFrame::Visitors { items: vec![] }, r#"{"items":[],"type":"visitors"}"#.into()),
        ];
        for (frame, want) in cases {
            let got: serde_json::Value = serde_json::from_str(&frame.to_json()).unwrap();
            let want: serde_json::Value = serde_json::from_str(&want).unwrap();
            assert_eq!(got, want, "{frame:?}");
        }
    }

    /// The exact bytes, for one frame with every kind of field: `type` first, then fields in
    /// declaration order.
    #[test]
    fn server_frame_bytes() {
        let f = ServerFrame::Status(StatusChange::Ended { conversation: 12, outcome: Outcome::Served, ended_by: EndedBy::Agent });
        assert_eq!(f.to_json(), r#"{"type":"status","status":"ended","conversation":12,"outcome":"served","ended_by":"agent"}"#);
        assert_eq!(error_frame("conflict", "taken", None), r#"{"type":"error","code":"conflict","message":"taken","ref":null}"#);
    }

    #[test]
    fn agent_frames_table() {
        assert_eq!(parse_agent(r#"{"type":"accept","conversation":5}"#).unwrap(), AgentFrame::Accept { conversation: 5, force: false });
        assert_eq!(
            parse_agent(r#"{"type":"accept","conversation":5,"force":true}"#).unwrap(),
            AgentFrame::Accept { conversation: 5, force: true }
        );
        assert_eq!(parse_agent(r#"{"type":"accept","conversation":5,"force":"yes"}"#).unwrap_err().code, "invalid_frame");
        assert!(parse_agent(r#"{"type":"hello","v":1,"resume":[{"conversation":1,"last_seq":0}]}"#).is_ok());
        assert_eq!(parse_agent(r#"{"type":"message","conversation":1,"client_id":"x","body":""}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"accept"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"accept","conversation":"x"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"hello","v":1,"token":"x"}"#).unwrap_err().code, "unknown_field");
        assert!(parse_agent(r#"{"type":"viewing","ticket":1001,"state":"replying"}"#).is_ok());
        assert_eq!(
            parse_agent(r#"{"type":"team_message","room":3,"client_id":"c1","body":"see #12"}"#).unwrap(),
            AgentFrame::TeamMessage { room: 3, client_id: "c1".into(), body: "see #12".into() }
        );
        assert_eq!(parse_agent(r#"{"type":"team_message","room":3,"client_id":"c1","body":" "}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"team_message","room":3,"client_id":"c 1","body":"x"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"team_read","room":3,"seq":-1}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"team_typing","room":3,"typing":true,"draft":"x"}"#).unwrap_err().code, "unknown_field");
        assert!(parse_agent(r#"{"type":"hello","v":1,"team":[{"room":3,"last_seq":9}]}"#).is_ok());
        assert_eq!(parse_agent(r#"{"type":"hello","v":1,"team":[{"room":3}]}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_visitor(r#"{"type":"team_message","room":3,"client_id":"c1","body":"x"}"#).unwrap_err().code, "unknown_type");

        assert_eq!(parse_agent(r#"{"type":"viewing","ticket":1001,"state":"dancing"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(
            parse_agent(r#"{"type":"invite","visitor":7,"body":"Hi"}"#).unwrap(),
            AgentFrame::Invite { visitor: 7, body: "Hi".into() }
        );
        assert_eq!(parse_agent(r#"{"type":"invite","visitor":7,"body":"  "}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"invite","body":"Hi"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"invite","visitor":"7","body":"Hi"}"#).unwrap_err().code, "invalid_frame");
        let long = format!(r#"{{"type":"invite","visitor":7,"body":"{}"}}"#, "x".repeat(1001));
        assert_eq!(parse_agent(&long).unwrap_err().code, "too_large");
        assert_eq!(parse_agent(r#"{"type":"visitors","watch":true}"#).unwrap(), AgentFrame::Visitors { watch: true });
        assert_eq!(parse_agent(r#"{"type":"visitors"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"visitors","watch":1}"#).unwrap_err().code, "invalid_frame");
    }

    #[test]
    fn invitation_visitor_frames() {
        assert_eq!(
            parse_visitor(r#"{"type":"invitation_close","invitation":3}"#).unwrap(),
            VisitorFrame::InvitationClose { invitation: 3 }
        );
        assert_eq!(parse_visitor(r#"{"type":"invitation_close"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_visitor(r#"{"type":"invitation_close","invitation":3,"x":1}"#).unwrap_err().code, "unknown_field");
        assert!(matches!(
            parse_visitor(r#"{"type":"message","client_id":"c1","body":"yes","invitation":3}"#).unwrap(),
            VisitorFrame::Message { invitation: Some(3), .. }
        ));
        assert_eq!(
            parse_visitor(r#"{"type":"message","client_id":"c1","body":"yes","invitation":"3"}"#).unwrap_err().code,
            "invalid_frame"
        );
    }

    #[test]
    fn team_frames_table() {
        assert_eq!(
            parse_agent(r#"{"type":"transfer","conversation":5,"agent_id":3,"note":"refund"}"#).unwrap(),
            AgentFrame::Transfer { conversation: 5, agent_id: Some(3), department_id: None, note: Some("refund".into()), force: false }
        );
        assert!(parse_agent(r#"{"type":"transfer","conversation":5,"department_id":2}"#).is_ok());
        assert!(parse_agent(r#"{"type":"whisper","conversation":5,"client_id":"w1","body":"psst"}"#).is_ok());
        assert_eq!(parse_agent(r#"{"type":"take_over","conversation":5}"#).unwrap(), AgentFrame::TakeOver { conversation: 5 });
        let long_note = format!(r#"{{"type":"transfer","conversation":5,"agent_id":3,"note":"{}"}}"#, "n".repeat(MAX_NOTE_CHARS + 1));
        let bad: Vec<(String, &str)> = vec![
            (r#"{"type":"transfer","conversation":5}"#.into(), "invalid_frame"),
            (r#"{"type":"transfer","conversation":5,"agent_id":3,"department_id":2}"#.into(), "invalid_frame"),
            (r#"{"type":"transfer","conversation":5,"agent_id":"bob"}"#.into(), "invalid_frame"),
            (r#"{"type":"transfer","agent_id":3}"#.into(), "invalid_frame"),
            (r#"{"type":"transfer","conversation":5,"agent_id":3,"queue":true}"#.into(), "unknown_field"),
            (long_note, "too_large"),
            (r#"{"type":"whisper","conversation":5,"client_id":"w1","body":"  "}"#.into(), "invalid_frame"),
            (r#"{"type":"whisper","conversation":5,"body":"psst"}"#.into(), "invalid_frame"),
            (r#"{"type":"whisper","conversation":5,"client_id":"w 1","body":"psst"}"#.into(), "invalid_frame"),
            (r#"{"type":"whisper","conversation":5,"client_id":"w1","body":"psst","attachment":"t"}"#.into(), "unknown_field"),
            (r#"{"type":"take_over"}"#.into(), "invalid_frame"),
            (r#"{"type":"take_over","conversation":5,"force":true}"#.into(), "unknown_field"),
        ];
        for (f, code) in bad {
            assert_eq!(parse_agent(&f).unwrap_err().code, code, "{}", &f[..f.len().min(80)]);
        }
        // A visitor cannot send any of them.
        for f in [r#"{"type":"whisper","conversation":5,"client_id":"w1","body":"x"}"#, r#"{"type":"take_over","conversation":5}"#] {
            assert_eq!(parse_visitor(f).unwrap_err().code, "unknown_type");
        }
    }
}
