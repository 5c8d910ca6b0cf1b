//! Live state and delivery. One hub task owns who is connected and what each socket is
//! subscribed to; everything else talks to it over a bounded channel. Events are published
//! only after the transaction that caused them committed. Delivery to a socket never waits:
//! a socket whose queue is full is dropped (it reconnects and resumes by sequence number).
//!
//! This is the one place cross-socket delivery goes through, so a message bus can later stand
//! behind it when frontdesk runs as several nodes.

pub mod protocol;

pub use protocol::{ServerFrame, ticket_changed};

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

/// Per-socket outbound queue. Small on purpose: an idle socket costs little, and a reader that
/// falls this far behind is better reconnected than buffered.
pub const SOCKET_QUEUE: usize = 256;
const HUB_QUEUE: usize = 8192;

pub type SocketId = u64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    Visitor { visitor_id: i64 },
    Agent { agent_id: i64 },
}

/// What the hub hands a socket task.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A conversation message with its sequence number; the socket fills gaps from the database.
    Message { conversation: i64, seq: i64, json: Arc<str> },
    /// Any other pre-serialized frame.
    Frame(Arc<str>),
    /// Close the socket with this code (session revoked, server restart).
    Close(u16, &'static str),
    /// The agent behind this socket changed (role, departments, disabled, password, logout):
    /// re-read its rights from the database now. Pushed by [`Hub::agent_changed`].
    Recheck,
    /// Routing gave this agent a chat: send the frame, then follow the conversation from its
    /// start (the hub has already subscribed the socket).
    Follow { conversation: i64, json: Arc<str> },
    /// A team room message (internal chat) with its sequence number; delivered gap-free like
    /// [`Outbound::Message`]. Only agent sockets ever follow rooms.
    RoomMessage { room: i64, seq: i64, json: Arc<str> },
    /// A new team room is this agent's: send the frame, then follow the room from its start.
    FollowRoom { room: i64, json: Arc<str> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every socket subscribed to the conversation.
    Conversation(i64),
    /// Agent sockets subscribed to the conversation.
    ConversationAgents(i64),
    /// Visitor sockets subscribed to the conversation.
    ConversationVisitors(i64),
    /// Every connected agent socket (queue changes).
    Agents,
    /// Every socket of one agent.
    Agent(i64),
    /// Every socket of one visitor.
    Visitor(i64),
    /// Agent sockets following a team room (internal chat). Visitor sockets never do: the hub
    /// refuses to subscribe them, and this audience skips them too.
    Room(i64),
    /// Agent sockets watching the live visitors list (the `visitors` frame).
    VisitorWatchers,
    /// Agent sockets that watch the live monitor (agent frame `monitor`).
    Monitors,
}

enum Cmd {
    Register { id: SocketId, peer: Peer, session: Option<i64>, tx: mpsc::Sender<Outbound> },
    Unregister { id: SocketId },
    Subscribe { id: SocketId, conversation: i64 },
    Unsubscribe { id: SocketId, conversation: i64 },
    Publish { audience: Audience, item: Outbound },
    Stats { reply: oneshot::Sender<HubStats> },
    OnlineAgents { reply: oneshot::Sender<Vec<i64>> },
    OnlineVisitors { reply: oneshot::Sender<Vec<i64>> },
    VisitorSockets { visitor_id: i64, reply: oneshot::Sender<usize> },
    Watch { id: SocketId, on: bool },
    Watched { visitor_id: i64, reply: oneshot::Sender<bool> },
    CloseAll { code: u16, reason: &'static str, reply: oneshot::Sender<()> },
    AssignAgent { agent_id: i64, conversation: i64, json: Arc<str> },
    SubscribeRoom { id: SocketId, room: i64 },
    UnsubscribeRoom { id: SocketId, room: i64 },
    JoinRoom { agent_id: i64, room: i64, json: Arc<str> },
    WatchMonitor { id: SocketId, on: bool },
    MonitorWatchers { reply: oneshot::Sender<Vec<SocketId>> },
    Sessions { reply: oneshot::Sender<Vec<i64>> },
    EndSessions { sessions: Vec<i64>, code: u16, reason: &'static str },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    pub sockets: usize,
    pub agents_online: usize,
    pub visitors_online: usize,
    pub dropped_slow: u64,
}

#[derive(Clone)]
pub struct Hub {
    tx: mpsc::Sender<Cmd>,
    next_id: Arc<AtomicU64>,
}

impl Hub {
    /// Start the hub task on the current runtime.
    pub fn start() -> Hub {
        let (tx, rx) = mpsc::channel(HUB_QUEUE);
        tokio::spawn(run(rx));
        Hub { tx, next_id: Arc::new(AtomicU64::new(1)) }
    }

    /// Register a socket; returns its id and the receiving end of its queue.
    pub async fn register(&self, peer: Peer) -> (SocketId, mpsc::Receiver<Outbound>) {
        self.register_with(peer, None).await
    }

    /// Register a console socket opened with `session`: [`Hub::end_sessions`] closes it when
    /// that session ends.
    pub async fn register_session(&self, peer: Peer, session: i64) -> (SocketId, mpsc::Receiver<Outbound>) {
        self.register_with(peer, Some(session)).await
    }

    async fn register_with(&self, peer: Peer, session: Option<i64>) -> (SocketId, mpsc::Receiver<Outbound>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        let _ = self.tx.send(Cmd::Register { id, peer, session, tx }).await;
        (id, rx)
    }

    /// The sessions behind open console sockets (each once).
    pub async fn sessions(&self) -> Vec<i64> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::Sessions { reply }).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Close every socket opened with one of these sessions (ended, expired, revoked).
    pub async fn end_sessions(&self, sessions: Vec<i64>, code: u16, reason: &'static str) {
        if !sessions.is_empty() {
            let _ = self.tx.send(Cmd::EndSessions { sessions, code, reason }).await;
        }
    }

    pub async fn unregister(&self, id: SocketId) {
        let _ = self.tx.send(Cmd::Unregister { id }).await;
    }

    pub async fn subscribe(&self, id: SocketId, conversation: i64) {
        let _ = self.tx.send(Cmd::Subscribe { id, conversation }).await;
    }

    pub async fn unsubscribe(&self, id: SocketId, conversation: i64) {
        let _ = self.tx.send(Cmd::Unsubscribe { id, conversation }).await;
    }

    /// Follow a team room on an agent socket (ignored for a visitor socket).
    pub async fn subscribe_room(&self, id: SocketId, room: i64) {
        let _ = self.tx.send(Cmd::SubscribeRoom { id, room }).await;
    }

    pub async fn unsubscribe_room(&self, id: SocketId, room: i64) {
        let _ = self.tx.send(Cmd::UnsubscribeRoom { id, room }).await;
    }

    /// A new team room is `agent_id`'s: subscribe every socket of theirs and hand each the frame
    /// with [`Outbound::FollowRoom`].
    pub async fn join_room(&self, agent_id: i64, room: i64, frame: ServerFrame) {
        let json: Arc<str> = frame.to_json().into();
        let _ = self.tx.send(Cmd::JoinRoom { agent_id, room, json }).await;
    }

    /// Publish a frame after commit, serialized once for every recipient. A `message` frame
    /// travels with its conversation and `seq`, so each socket delivers it gap-free. Waits only
    /// for room in the hub's queue, never for sockets.
    ///
    /// An internal line (whisper, transfer note) goes to agents only, whatever the audience
    /// asked for: `Conversation` narrows to `ConversationAgents`, a visitor audience gets nothing.
    pub async fn publish(&self, audience: Audience, frame: ServerFrame) {
        let audience = match (&frame, audience) {
            (ServerFrame::Message(m), a) if m.internal => match a {
                Audience::Conversation(c) | Audience::ConversationAgents(c) => Audience::ConversationAgents(c),
                Audience::Agents => Audience::Agents,
                Audience::Agent(a) => Audience::Agent(a),
                // Team rooms carry only agents, but a chat's line has no business there.
                Audience::ConversationVisitors(_)
                | Audience::Visitor(_)
                | Audience::Room(_)
                | Audience::VisitorWatchers
                | Audience::Monitors => return,
            },
            (_, a) => a,
        };
        let json: Arc<str> = frame.to_json().into();
        let item = match &frame {
            ServerFrame::Message(m) => Outbound::Message { conversation: m.conversation, seq: m.seq, json },
            ServerFrame::TeamMessage(m) => Outbound::RoomMessage { room: m.room, seq: m.seq, json },
            _ => Outbound::Frame(json),
        };
        self.publish_item(audience, item).await;
    }

    async fn publish_item(&self, audience: Audience, item: Outbound) {
        let _ = self.tx.send(Cmd::Publish { audience, item }).await;
    }

    /// Tell every open socket of `agent_id` that its agent changed, after the change committed:
    /// each one reloads role and session from the database, stops following chats it may no
    /// longer see, and closes with 4001 when the session or account is gone.
    pub async fn agent_changed(&self, agent_id: i64) {
        self.publish_item(Audience::Agent(agent_id), Outbound::Recheck).await;
    }

    /// Every agent socket re-reads its rights (an admin switch such as `agents_see_colleagues`).
    pub async fn agents_changed(&self) {
        self.publish_item(Audience::Agents, Outbound::Recheck).await;
    }

    pub async fn stats(&self) -> HubStats {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::Stats { reply }).await.is_err() {
            return HubStats::default();
        }
        rx.await.unwrap_or_default()
    }

    /// Ids of agents with at least one open console socket.
    pub async fn online_agents(&self) -> Vec<i64> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::OnlineAgents { reply }).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// This socket starts (or stops) getting the live visitors list's changes.
    pub async fn watch_visitors(&self, id: SocketId, on: bool) {
        let _ = self.tx.send(Cmd::Watch { id, on }).await;
    }

    /// Ids of visitors with at least one open widget socket (the live visitors list), sorted.
    pub async fn online_visitors(&self) -> Vec<i64> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::OnlineVisitors { reply }).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Send every socket of `visitor_id` `frame` (an `error`), then close it with
    /// `code` and `reason`: a ban (1008) ends an open widget at once.
    pub async fn refuse_visitor(&self, visitor_id: i64, frame: ServerFrame, code: u16, reason: &'static str) {
        self.publish_item(Audience::Visitor(visitor_id), Outbound::Frame(frame.to_json().into())).await;
        self.publish_item(Audience::Visitor(visitor_id), Outbound::Close(code, reason)).await;
    }

    /// Whether a change of this visitor would reach anyone: they are on the site and some agent
    /// socket watches the list.
    pub async fn visitor_watched(&self, visitor_id: i64) -> bool {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::Watched { visitor_id, reply }).await.is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// How many widget sockets this visitor has open now.
    pub async fn visitor_sockets(&self, visitor_id: i64) -> usize {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::VisitorSockets { visitor_id, reply }).await.is_err() {
            return 0;
        }
        rx.await.unwrap_or_default()
    }

    /// Routing gave `agent_id` a chat: subscribe every socket of theirs to it and hand each
    /// the frame with [`Outbound::Follow`], so the transcript is replayed from its start.
    pub async fn assign_agent(&self, agent_id: i64, conversation: i64, frame: ServerFrame) {
        let json: Arc<str> = frame.to_json().into();
        let _ = self.tx.send(Cmd::AssignAgent { agent_id, conversation, json }).await;
    }

    /// Start or stop sending this socket the live monitor's frames.
    pub async fn watch_monitor(&self, id: SocketId, on: bool) {
        let _ = self.tx.send(Cmd::WatchMonitor { id, on }).await;
    }

    /// Sockets that watch the monitor.
    pub async fn monitor_watchers(&self) -> Vec<SocketId> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::MonitorWatchers { reply }).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Ask every socket to close with `code` (1012 on shutdown: clients reconnect).
    pub async fn close_all(&self, code: u16, reason: &'static str) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::CloseAll { code, reason, reply }).await.is_ok() {
            let _ = rx.await;
        }
    }
}

struct Socket {
    peer: Peer,
    tx: mpsc::Sender<Outbound>,
    subscriptions: HashSet<i64>,
    rooms: HashSet<i64>,
    session: Option<i64>,
}

/// The hub's indexes are kept up to date as sockets come and go, so no question (who is
/// online, is this visitor watched, the statistics) scans every socket: in a reconnect storm
/// each hello asked several such questions of 10,000 sockets.
#[derive(Default)]
struct State {
    sockets: HashMap<SocketId, Socket>,
    by_conversation: HashMap<i64, HashSet<SocketId>>,
    by_room: HashMap<i64, HashSet<SocketId>>,
    by_agent: HashMap<i64, HashSet<SocketId>>,
    by_visitor: HashMap<i64, HashSet<SocketId>>,
    by_session: HashMap<i64, HashSet<SocketId>>,
    /// Agent sockets watching the live visitors list.
    watchers: HashSet<SocketId>,
    monitors: HashSet<SocketId>,
    dropped_slow: u64,
}

fn index_add(map: &mut HashMap<i64, HashSet<SocketId>>, key: i64, id: SocketId) {
    map.entry(key).or_default().insert(id);
}

fn index_remove(map: &mut HashMap<i64, HashSet<SocketId>>, key: i64, id: SocketId) {
    if let Some(set) = map.get_mut(&key) {
        set.remove(&id);
        if set.is_empty() {
            map.remove(&key);
        }
    }
}

impl State {
    fn add(&mut self, id: SocketId, peer: Peer, session: Option<i64>, tx: mpsc::Sender<Outbound>) {
        match peer {
            Peer::Agent { agent_id } => index_add(&mut self.by_agent, agent_id, id),
            Peer::Visitor { visitor_id } => index_add(&mut self.by_visitor, visitor_id, id),
        }
        if let Some(s) = session {
            index_add(&mut self.by_session, s, id);
        }
        self.sockets.insert(id, Socket { peer, tx, subscriptions: HashSet::new(), rooms: HashSet::new(), session });
    }

    fn remove(&mut self, id: SocketId) {
        self.monitors.remove(&id);
        self.watchers.remove(&id);
        if let Some(s) = self.sockets.remove(&id) {
            match s.peer {
                Peer::Agent { agent_id } => index_remove(&mut self.by_agent, agent_id, id),
                Peer::Visitor { visitor_id } => index_remove(&mut self.by_visitor, visitor_id, id),
            }
            if let Some(session) = s.session {
                index_remove(&mut self.by_session, session, id);
            }
            for c in s.subscriptions {
                if let Some(set) = self.by_conversation.get_mut(&c) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.by_conversation.remove(&c);
                    }
                }
            }
            for r in s.rooms {
                if let Some(set) = self.by_room.get_mut(&r) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.by_room.remove(&r);
                    }
                }
            }
        }
    }

    /// Subscribe an agent socket to a room; a visitor socket is never subscribed.
    fn subscribe_room(&mut self, id: SocketId, room: i64) {
        if let Some(s) = self.sockets.get_mut(&id)
            && matches!(s.peer, Peer::Agent { .. })
        {
            s.rooms.insert(room);
            self.by_room.entry(room).or_default().insert(id);
        }
    }

    fn targets(&self, audience: Audience) -> Vec<SocketId> {
        let in_conv = |c: i64, want: fn(&Peer) -> bool| -> Vec<SocketId> {
            self.by_conversation
                .get(&c)
                .map(|set| set.iter().copied().filter(|id| self.sockets.get(id).is_some_and(|s| want(&s.peer))).collect())
                .unwrap_or_default()
        };
        let of = |map: &HashMap<i64, HashSet<SocketId>>, key: i64| -> Vec<SocketId> {
            map.get(&key).map(|set| set.iter().copied().collect()).unwrap_or_default()
        };
        match audience {
            Audience::Conversation(c) => in_conv(c, |_| true),
            Audience::ConversationAgents(c) => in_conv(c, |p| matches!(p, Peer::Agent { .. })),
            Audience::ConversationVisitors(c) => in_conv(c, |p| matches!(p, Peer::Visitor { .. })),
            Audience::Agents => self.by_agent.values().flatten().copied().collect(),
            Audience::Agent(a) => of(&self.by_agent, a),
            Audience::Visitor(v) => of(&self.by_visitor, v),
            Audience::Room(r) => self
                .by_room
                .get(&r)
                .map(|set| {
                    set.iter().copied().filter(|id| self.sockets.get(id).is_some_and(|s| matches!(s.peer, Peer::Agent { .. }))).collect()
                })
                .unwrap_or_default(),
            Audience::VisitorWatchers => self.watchers.iter().copied().collect(),
            Audience::Monitors => self.monitors.iter().copied().collect(),
        }
    }

    fn deliver_to(&mut self, id: SocketId, item: Outbound) {
        if let Some(s) = self.sockets.get(&id)
            && s.tx.try_send(item).is_err()
        {
            self.dropped_slow += 1;
            self.remove(id);
        }
    }

    fn deliver(&mut self, audience: Audience, item: Outbound) {
        let mut slow = Vec::new();
        for id in self.targets(audience) {
            if let Some(s) = self.sockets.get(&id)
                && s.tx.try_send(item.clone()).is_err()
            {
                slow.push(id);
            }
        }
        for id in slow {
            // Dropping the sender ends the socket task's queue: it closes with 1013 and the
            // client resumes from its last sequence number.
            self.dropped_slow += 1;
            self.remove(id);
        }
    }
}

async fn run(mut rx: mpsc::Receiver<Cmd>) {
    let mut st = State::default();
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Cmd::Register { id, peer, session, tx } => st.add(id, peer, session, tx),
            Cmd::Sessions { reply } => {
                let _ = reply.send(st.by_session.keys().copied().collect());
            }
            Cmd::EndSessions { sessions, code, reason } => {
                for session in sessions {
                    let ids: Vec<SocketId> = st.by_session.get(&session).map(|set| set.iter().copied().collect()).unwrap_or_default();
                    for id in ids {
                        st.deliver_to(id, Outbound::Close(code, reason));
                    }
                }
            }
            Cmd::Unregister { id } => st.remove(id),
            Cmd::Subscribe { id, conversation } => {
                if let Some(s) = st.sockets.get_mut(&id) {
                    s.subscriptions.insert(conversation);
                    st.by_conversation.entry(conversation).or_default().insert(id);
                }
            }
            Cmd::Unsubscribe { id, conversation } => {
                if let Some(s) = st.sockets.get_mut(&id) {
                    s.subscriptions.remove(&conversation);
                }
                if let Some(set) = st.by_conversation.get_mut(&conversation) {
                    set.remove(&id);
                }
            }
            Cmd::Publish { audience, item } => st.deliver(audience, item),
            Cmd::SubscribeRoom { id, room } => st.subscribe_room(id, room),
            Cmd::UnsubscribeRoom { id, room } => {
                if let Some(s) = st.sockets.get_mut(&id) {
                    s.rooms.remove(&room);
                }
                if let Some(set) = st.by_room.get_mut(&room) {
                    set.remove(&id);
                    if set.is_empty() {
                        st.by_room.remove(&room);
                    }
                }
            }
            Cmd::JoinRoom { agent_id, room, json } => {
                for id in st.targets(Audience::Agent(agent_id)) {
                    st.subscribe_room(id, room);
                    st.deliver_to(id, Outbound::FollowRoom { room, json: json.clone() });
                }
            }
            Cmd::WatchMonitor { id, on } => {
                if on && st.sockets.get(&id).is_some_and(|s| matches!(s.peer, Peer::Agent { .. })) {
                    st.monitors.insert(id);
                } else {
                    st.monitors.remove(&id);
                }
            }
            Cmd::MonitorWatchers { reply } => {
                let _ = reply.send(st.monitors.iter().copied().collect());
            }
            Cmd::Stats { reply } => {
                let _ = reply.send(HubStats {
                    sockets: st.sockets.len(),
                    agents_online: st.by_agent.len(),
                    visitors_online: st.by_visitor.len(),
                    dropped_slow: st.dropped_slow,
                });
            }
            Cmd::OnlineAgents { reply } => {
                let mut ids: Vec<i64> = st.by_agent.keys().copied().collect();
                ids.sort_unstable();
                let _ = reply.send(ids);
            }
            Cmd::OnlineVisitors { reply } => {
                let mut ids: Vec<i64> = st.by_visitor.keys().copied().collect();
                ids.sort_unstable();
                let _ = reply.send(ids);
            }
            Cmd::Watch { id, on } => {
                if on && st.sockets.get(&id).is_some_and(|s| matches!(s.peer, Peer::Agent { .. })) {
                    st.watchers.insert(id);
                } else {
                    st.watchers.remove(&id);
                }
            }
            Cmd::Watched { visitor_id, reply } => {
                let _ = reply.send(!st.watchers.is_empty() && st.by_visitor.contains_key(&visitor_id));
            }
            Cmd::VisitorSockets { visitor_id, reply } => {
                let _ = reply.send(st.by_visitor.get(&visitor_id).map_or(0, HashSet::len));
            }
            Cmd::AssignAgent { agent_id, conversation, json } => {
                let ids: Vec<SocketId> = st.targets(Audience::Agent(agent_id));
                for id in ids {
                    if let Some(s) = st.sockets.get_mut(&id) {
                        s.subscriptions.insert(conversation);
                        st.by_conversation.entry(conversation).or_default().insert(id);
                    }
                    st.deliver_to(id, Outbound::Follow { conversation, json: json.clone() });
                }
            }
            Cmd::CloseAll { code, reason, reply } => {
                for s in st.sockets.values() {
                    let _ = s.tx.try_send(Outbound::Close(code, reason));
                }
                let _ = reply.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn routes_by_audience_and_drops_slow_sockets() {
        let hub = Hub::start();
        let (agent, mut agent_rx) = hub.register(Peer::Agent { agent_id: 1 }).await;
        let (visitor, mut visitor_rx) = hub.register(Peer::Visitor { visitor_id: 9 }).await;
        let (_other, mut other_rx) = hub.register(Peer::Agent { agent_id: 2 }).await;
        hub.subscribe(agent, 5).await;
        hub.subscribe(visitor, 5).await;
        hub.publish_item(Audience::ConversationAgents(5), Outbound::Frame("a".into())).await;
        hub.publish_item(Audience::ConversationVisitors(5), Outbound::Frame("v".into())).await;
        hub.publish_item(Audience::Agents, Outbound::Frame("all".into())).await;
        let stats = hub.stats().await;
        assert_eq!((stats.sockets, stats.agents_online, stats.visitors_online), (3, 2, 1));
        let text = |o: Outbound| match o {
            Outbound::Frame(f) => f.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(text(agent_rx.recv().await.unwrap()), "a");
        assert_eq!(text(agent_rx.recv().await.unwrap()), "all");
        assert_eq!(text(visitor_rx.recv().await.unwrap()), "v");
        assert_eq!(text(other_rx.recv().await.unwrap()), "all");

        // Nobody reads the visitor's queue: once full, the hub drops it instead of waiting.
        for _ in 0..SOCKET_QUEUE + 1 {
            hub.publish_item(Audience::Visitor(9), Outbound::Frame("x".into())).await;
        }
        let stats = hub.stats().await;
        assert_eq!((stats.sockets, stats.dropped_slow), (2, 1));
        let mut n = 0;
        while visitor_rx.recv().await.is_some() {
            n += 1;
        }
        assert_eq!(n, SOCKET_QUEUE, "queue drained, then closed");
    }

    /// The counts a hello asks for (online lists, watched, sockets of a visitor, statistics)
    /// come from indexes kept as sockets come and go; they must match the sockets after
    /// registering, watching, unregistering and a slow socket's drop.
    #[tokio::test]
    async fn online_indexes_follow_sockets() {
        let hub = Hub::start();
        let (a1, _a1_rx) = hub.register(Peer::Agent { agent_id: 1 }).await;
        let (a1b, _a1b_rx) = hub.register(Peer::Agent { agent_id: 1 }).await;
        let (v9, v9_rx) = hub.register(Peer::Visitor { visitor_id: 9 }).await;
        let (_v9b, _v9b_rx) = hub.register(Peer::Visitor { visitor_id: 9 }).await;
        let (_v8, _v8_rx) = hub.register(Peer::Visitor { visitor_id: 8 }).await;
        assert_eq!(hub.online_agents().await, vec![1]);
        assert_eq!(hub.online_visitors().await, vec![8, 9]);
        assert_eq!(hub.visitor_sockets(9).await, 2);
        assert!(!hub.visitor_watched(9).await, "nobody watches yet");
        hub.watch_visitors(v9, true).await;
        assert!(!hub.visitor_watched(9).await, "a visitor socket cannot watch");
        hub.watch_visitors(a1, true).await;
        assert!(hub.visitor_watched(9).await);
        assert!(!hub.visitor_watched(7).await, "not online");
        hub.unregister(a1).await;
        assert!(!hub.visitor_watched(9).await, "the watcher left");
        assert_eq!(hub.online_agents().await, vec![1], "another socket of agent 1 is open");
        hub.unregister(a1b).await;
        assert!(hub.online_agents().await.is_empty());
        // Visitor 9's first socket stops reading: dropped as slow, the indexes follow.
        drop(v9_rx);
        hub.publish_item(Audience::Visitor(9), Outbound::Frame("x".into())).await;
        assert_eq!(hub.visitor_sockets(9).await, 1);
        let stats = hub.stats().await;
        assert_eq!((stats.sockets, stats.agents_online, stats.visitors_online), (2, 0, 2));
    }

    /// Internal chat: a room's frames reach only agent sockets following it; a visitor socket
    /// cannot be subscribed to a room, even by mistake, and `Room` skips visitors.
    #[tokio::test]
    async fn room_frames_never_reach_visitor_sockets() {
        let hub = Hub::start();
        let (agent, mut agent_rx) = hub.register(Peer::Agent { agent_id: 1 }).await;
        let (visitor, mut visitor_rx) = hub.register(Peer::Visitor { visitor_id: 9 }).await;
        let (_other, mut other_rx) = hub.register(Peer::Agent { agent_id: 2 }).await;
        hub.subscribe_room(agent, 7).await;
        hub.subscribe_room(visitor, 7).await;
        hub.subscribe(visitor, 7).await; // a conversation with the same number
        let m = protocol::TeamMessageOut {
            room: 7,
            seq: 1,
            id: 1,
            agent_id: 1,
            name: "Ann".into(),
            body: "internal".into(),
            at: 0,
            client_id: None,
        };
        hub.publish(Audience::Room(7), ServerFrame::TeamMessage(m)).await;
        hub.join_room(2, 8, ServerFrame::TeamRead { room: 8, seq: 0 }).await;
        hub.publish(Audience::Room(8), ServerFrame::TeamRead { room: 8, seq: 1 }).await;
        hub.publish(Audience::Visitor(9), ServerFrame::Pong).await;
        match agent_rx.recv().await.unwrap() {
            Outbound::RoomMessage { room, seq, json } => {
                assert_eq!((room, seq), (7, 1));
                assert!(json.contains("internal"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(other_rx.recv().await.unwrap(), Outbound::FollowRoom { room: 8, .. }));
        assert!(matches!(other_rx.recv().await.unwrap(), Outbound::Frame(f) if f.contains("team_read")));
        // The visitor's first frame is the pong: nothing of the rooms came before it.
        assert!(matches!(visitor_rx.recv().await.unwrap(), Outbound::Frame(f) if &*f == r#"{"type":"pong"}"#));
        hub.unsubscribe_room(agent, 7).await;
        hub.publish(Audience::Room(7), ServerFrame::TeamRead { room: 7, seq: 2 }).await;
        hub.publish(Audience::Agent(1), ServerFrame::Pong).await;
        assert!(matches!(agent_rx.recv().await.unwrap(), Outbound::Frame(f) if &*f == r#"{"type":"pong"}"#), "unsubscribed");
    }

    #[tokio::test]
    async fn only_watching_agent_sockets_get_the_visitors_list() {
        let hub = Hub::start();
        let (watcher, mut watcher_rx) = hub.register(Peer::Agent { agent_id: 1 }).await;
        let (_other, mut other_rx) = hub.register(Peer::Agent { agent_id: 2 }).await;
        let (visitor, mut visitor_rx) = hub.register(Peer::Visitor { visitor_id: 9 }).await;
        assert!(!hub.visitor_watched(9).await, "nobody watches yet");
        hub.watch_visitors(visitor, true).await;
        assert!(!hub.visitor_watched(9).await, "a visitor socket cannot watch");
        hub.watch_visitors(watcher, true).await;
        assert!(hub.visitor_watched(9).await);
        assert!(!hub.visitor_watched(10).await, "visitor 10 is not on the site");
        assert_eq!(hub.online_visitors().await, vec![9]);
        hub.publish_item(Audience::VisitorWatchers, Outbound::Frame("v".into())).await;
        hub.publish_item(Audience::Agents, Outbound::Frame("all".into())).await;
        let text = |o: Outbound| match o {
            Outbound::Frame(f) => f.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(text(watcher_rx.recv().await.unwrap()), "v");
        assert_eq!(text(other_rx.recv().await.unwrap()), "all", "the other agent got no visitors frame");
        hub.watch_visitors(watcher, false).await;
        assert!(!hub.visitor_watched(9).await);
        hub.unregister(visitor).await;
        assert_eq!(hub.visitor_sockets(9).await, 0);
        assert!(visitor_rx.try_recv().is_err(), "the visitor got nothing");
    }

    #[tokio::test]
    async fn typed_publish_serializes_once_and_keeps_message_seq() {
        let hub = Hub::start();
        let (agent, mut rx) = hub.register(Peer::Agent { agent_id: 1 }).await;
        hub.subscribe(agent, 5).await;
        hub.publish(Audience::Agents, ticket_changed(1001)).await;
        let m = protocol::MessageOut {
            conversation: 5,
            seq: 9,
            id: 1,
            author: protocol::Author { kind: "visitor", name: None, agent_id: None },
            body: "hi".into(),
            attachment: None,
            at: 0,
            client_id: None,
            event: None,
            internal: false,
        };
        hub.publish(Audience::Conversation(5), ServerFrame::Message(m.clone())).await;
        match rx.recv().await.unwrap() {
            Outbound::Frame(f) => assert_eq!(&*f, r#"{"type":"ticket","op":"changed","number":1001}"#),
            other => panic!("{other:?}"),
        }
        match rx.recv().await.unwrap() {
            Outbound::Message { conversation, seq, json } => {
                assert_eq!((conversation, seq), (5, 9));
                assert_eq!(&*json, ServerFrame::Message(m).to_json());
            }
            other => panic!("{other:?}"),
        }
    }

    /// An internal line published to a whole conversation reaches its agents only; published
    /// to a visitor audience it reaches no one (a visitor frame never carries an internal line).
    #[tokio::test]
    async fn internal_lines_never_reach_a_visitor_socket() {
        let hub = Hub::start();
        let (agent, mut agent_rx) = hub.register(Peer::Agent { agent_id: 1 }).await;
        let (visitor, mut visitor_rx) = hub.register(Peer::Visitor { visitor_id: 9 }).await;
        hub.subscribe(agent, 5).await;
        hub.subscribe(visitor, 5).await;
        let whisper = protocol::MessageOut {
            conversation: 5,
            seq: 3,
            id: 1,
            author: protocol::Author { kind: "agent", name: Some("Sue".into()), agent_id: Some(2) },
            body: "offer the discount".into(),
            attachment: None,
            at: 0,
            client_id: Some("w1".into()),
            event: None,
            internal: true,
        };
        for a in [Audience::Conversation(5), Audience::ConversationVisitors(5), Audience::Visitor(9), Audience::ConversationAgents(5)] {
            hub.publish(a, ServerFrame::Message(whisper.clone())).await;
        }
        hub.publish(Audience::Conversation(5), ticket_changed(1)).await;
        // The visitor's next item is the marker: none of the four whispers came before it.
        match visitor_rx.recv().await.unwrap() {
            Outbound::Frame(f) => assert!(f.contains("\"ticket\""), "{f}"),
            other => panic!("a visitor got {other:?}"),
        }
        for _ in 0..2 {
            match agent_rx.recv().await.unwrap() {
                Outbound::Message { json, .. } => assert!(json.contains("\"internal\":true"), "{json}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
