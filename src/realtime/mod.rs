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
    /// Agent sockets that watch the live monitor (agent frame `monitor`).
    Monitors,
}

enum Cmd {
    Register { id: SocketId, peer: Peer, tx: mpsc::Sender<Outbound> },
    Unregister { id: SocketId },
    Subscribe { id: SocketId, conversation: i64 },
    Unsubscribe { id: SocketId, conversation: i64 },
    Publish { audience: Audience, item: Outbound },
    Stats { reply: oneshot::Sender<HubStats> },
    OnlineAgents { reply: oneshot::Sender<Vec<i64>> },
    CloseAll { code: u16, reason: &'static str, reply: oneshot::Sender<()> },
    AssignAgent { agent_id: i64, conversation: i64, json: Arc<str> },
    Watch { id: SocketId, on: bool },
    Watchers { reply: oneshot::Sender<Vec<SocketId>> },
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
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        let _ = self.tx.send(Cmd::Register { id, peer, tx }).await;
        (id, rx)
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

    /// Publish a frame after commit, serialized once for every recipient. A `message` frame
    /// travels with its conversation and `seq`, so each socket delivers it gap-free. Waits only
    /// for room in the hub's queue, never for sockets.
    pub async fn publish(&self, audience: Audience, frame: ServerFrame) {
        let json: Arc<str> = frame.to_json().into();
        let item = match &frame {
            ServerFrame::Message(m) => Outbound::Message { conversation: m.conversation, seq: m.seq, json },
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

    /// Routing gave `agent_id` a chat: subscribe every socket of theirs to it and hand each
    /// the frame with [`Outbound::Follow`], so the transcript is replayed from its start.
    pub async fn assign_agent(&self, agent_id: i64, conversation: i64, frame: ServerFrame) {
        let json: Arc<str> = frame.to_json().into();
        let _ = self.tx.send(Cmd::AssignAgent { agent_id, conversation, json }).await;
    }

    /// Start or stop sending this socket the live monitor's frames.
    pub async fn watch_monitor(&self, id: SocketId, on: bool) {
        let _ = self.tx.send(Cmd::Watch { id, on }).await;
    }

    /// Sockets that watch the monitor.
    pub async fn monitor_watchers(&self) -> Vec<SocketId> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Cmd::Watchers { reply }).await.is_err() {
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
}

#[derive(Default)]
struct State {
    sockets: HashMap<SocketId, Socket>,
    by_conversation: HashMap<i64, HashSet<SocketId>>,
    monitors: HashSet<SocketId>,
    dropped_slow: u64,
}

impl State {
    fn remove(&mut self, id: SocketId) {
        self.monitors.remove(&id);
        if let Some(s) = self.sockets.remove(&id) {
            for c in s.subscriptions {
                if let Some(set) = self.by_conversation.get_mut(&c) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.by_conversation.remove(&c);
                    }
                }
            }
        }
    }

    fn targets(&self, audience: Audience) -> Vec<SocketId> {
        let in_conv = |c: i64, want: fn(&Peer) -> bool| -> Vec<SocketId> {
            self.by_conversation
                .get(&c)
                .map(|set| set.iter().copied().filter(|id| self.sockets.get(id).is_some_and(|s| want(&s.peer))).collect())
                .unwrap_or_default()
        };
        let all = |want: &dyn Fn(&Peer) -> bool| -> Vec<SocketId> {
            self.sockets.iter().filter(|(_, s)| want(&s.peer)).map(|(id, _)| *id).collect()
        };
        match audience {
            Audience::Conversation(c) => in_conv(c, |_| true),
            Audience::ConversationAgents(c) => in_conv(c, |p| matches!(p, Peer::Agent { .. })),
            Audience::ConversationVisitors(c) => in_conv(c, |p| matches!(p, Peer::Visitor { .. })),
            Audience::Agents => all(&|p| matches!(p, Peer::Agent { .. })),
            Audience::Agent(a) => all(&|p| *p == Peer::Agent { agent_id: a }),
            Audience::Visitor(v) => all(&|p| *p == Peer::Visitor { visitor_id: v }),
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
            Cmd::Register { id, peer, tx } => {
                st.sockets.insert(id, Socket { peer, tx, subscriptions: HashSet::new() });
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
            Cmd::Watch { id, on } => {
                if on && st.sockets.get(&id).is_some_and(|s| matches!(s.peer, Peer::Agent { .. })) {
                    st.monitors.insert(id);
                } else {
                    st.monitors.remove(&id);
                }
            }
            Cmd::Watchers { reply } => {
                let _ = reply.send(st.monitors.iter().copied().collect());
            }
            Cmd::Stats { reply } => {
                let agents: HashSet<i64> =
                    st.sockets.values().filter_map(|s| if let Peer::Agent { agent_id } = s.peer { Some(agent_id) } else { None }).collect();
                let visitors: HashSet<i64> = st
                    .sockets
                    .values()
                    .filter_map(|s| if let Peer::Visitor { visitor_id } = s.peer { Some(visitor_id) } else { None })
                    .collect();
                let _ = reply.send(HubStats {
                    sockets: st.sockets.len(),
                    agents_online: agents.len(),
                    visitors_online: visitors.len(),
                    dropped_slow: st.dropped_slow,
                });
            }
            Cmd::OnlineAgents { reply } => {
                let mut ids: Vec<i64> =
                    st.sockets.values().filter_map(|s| if let Peer::Agent { agent_id } = s.peer { Some(agent_id) } else { None }).collect();
                ids.sort_unstable();
                ids.dedup();
                let _ = reply.send(ids);
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
}
