//! `/ws/agent`: the console's socket. Authenticated by the session cookie at upgrade. Its rights
//! follow live changes: when an agent's role, departments, account or sessions change, the
//! operation tells the hub after commit ([`crate::realtime::Hub::agent_changed`]) and every socket
//! of that agent re-reads them at once ([`AgentSocket::reload_rights`]): it closes with 4001 when its
//! session is gone, else takes the new role and stops following chats it may no longer see.
//! Changes made by another process (the CLI) and session expiry are found by one server-wide
//! sweep ([`sweep_sessions`], every [`SESSION_SWEEP`]): one query for the sessions of all open
//! console sockets, then the hub closes the sockets of those that ended. No socket polls the
//! database itself.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::Session;

use super::EndedBy;
use super::socket::{self, Closed, Delivery, Handler, OwnedMessage, Step};
use super::store;
use super::team::{self, Handover, Target};
use crate::auth::policy::{Viewer, origin_allowed};
use crate::auth::{Credential, Principal};
use crate::db::Db;
use crate::error::{AppError, Kind};
use crate::realtime::protocol::{self, AgentFrame, AgentInfo, AgentWelcome, QueueChange, ServerFrame, StatusChange, Typing, close};

/// How often the server checks the sessions behind open console sockets (changes made through
/// this server are pushed at once; this catches the CLI and expiry). SPEC S6: within 1 s.
pub const SESSION_SWEEP: Duration = Duration::from_millis(500);

/// One sweep: close the sockets whose session no longer stands (deleted by another process,
/// expired, agent disabled). Returns those sessions.
pub async fn sweep_sessions(state: &AppState) -> Vec<i64> {
    let ids = state.hub.sessions().await;
    if ids.is_empty() {
        return ids;
    }
    let (now, idle_ms) = (state.now(), state.config.session_idle.as_millis() as i64);
    match state.db.read(move |c| crate::auth::store::invalid_sessions(c, &ids, now, idle_ms)).await {
        Ok(gone) => {
            state.hub.end_sessions(gone.clone(), close::UNAUTHENTICATED, "session ended").await;
            gone
        }
        Err(e) => {
            tracing::warn!(error = %e.message, "session sweep failed");
            Vec::new()
        }
    }
}
use crate::realtime::{Audience, Peer, SocketId};
use crate::state::AppState;
use crate::teamchat::live::TeamSocket;

/// Browsers send Origin on every WebSocket handshake; a foreign page must not be able to open
/// a socket that rides on the agent's cookie (cross-site WebSocket hijacking).
pub fn check_socket_origin(state: &AppState, req: &HttpRequest) -> Result<(), AppError> {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("");
    if origin_allowed(state, origin, req.connection_info().host()) {
        Ok(())
    } else {
        Err(AppError::new(Kind::BadOrigin, "socket Origin is not this server"))
    }
}

pub async fn upgrade(state: web::Data<AppState>, p: Principal, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, AppError> {
    check_socket_origin(&state, &req)?;
    let agent_id = p.agent_id()?;
    let Credential::Session { session_id } = p.credential else {
        return Err(AppError::forbidden("the agent socket needs a console session"));
    };
    let viewer = p.viewer();
    let agent = state.db.read(move |c| crate::agents::store::get(c, agent_id)).await?.ok_or_else(AppError::unauthenticated)?;
    let (resp, mut session, stream) = actix_ws::handle(&req, body).map_err(|e| AppError::invalid(format!("websocket handshake: {e}")))?;
    actix_web::rt::spawn(async move {
        let mut stream = stream.max_frame_size(protocol::MAX_FRAME).aggregate_continuations().max_continuation_size(protocol::MAX_FRAME);
        let Some(text) = socket::first_text(&mut session, &mut stream).await else { return };
        let mut handler = AgentSocket {
            state,
            agent_id,
            name: agent.name,
            viewer,
            session_id,
            delivery: Delivery::new(),
            team: TeamSocket::new(),
            socket: None,
        };
        let rx = match handler.hello(&mut session, &text).await {
            Ok(Some(rx)) => rx,
            _ => return,
        };
        socket::run_loop(handler, session, stream, rx).await;
    });
    Ok(resp)
}

struct AgentSocket {
    state: web::Data<AppState>,
    agent_id: i64,
    name: String,
    /// Built at upgrade and rebuilt by [`AgentSocket::reload_rights`] when the agent changes; every
    /// visibility check on this socket goes through it.
    viewer: Viewer,
    session_id: i64,
    delivery: Delivery,
    /// Internal chat: the team rooms this socket follows.
    team: TeamSocket,
    socket: Option<SocketId>,
}

impl AgentSocket {
    async fn hello(
        &mut self,
        session: &mut Session,
        text: &str,
    ) -> Result<Option<tokio::sync::mpsc::Receiver<crate::realtime::Outbound>>, Closed> {
        let (resume, team_resume) = match protocol::parse_agent(text) {
            Ok(AgentFrame::Hello { resume, team, .. }) => (resume, team),
            Ok(_) => {
                socket::refuse(session, "hello_required", "the first frame must be hello").await;
                return Ok(None);
            }
            Err(e) => {
                socket::refuse(session, e.code, &e.message).await;
                return Ok(None);
            }
        };
        let st = self.state.clone();
        let agent_id = self.agent_id;
        let lists = st
            .db
            .read(move |c| {
                let all_active = store::active_all(c)?;
                Ok((store::queue(c)?, store::active_of(c, agent_id)?, all_active))
            })
            .await;
        let (queue, mine, active) = match lists {
            Ok(l) => l,
            Err(e) => {
                socket::send_error(session, &e, None).await?;
                return Ok(None);
            }
        };
        let (id, rx) = st.hub.register_session(Peer::Agent { agent_id }, self.session_id).await;
        self.socket = Some(id);
        let team = match self.team.start(&st, id, self.viewer).await {
            Ok(t) => t,
            Err(e) => {
                socket::send_error(session, &e, None).await?;
                st.hub.unregister(id).await;
                return Ok(None);
            }
        };
        let supervised: Vec<_> = if self.viewer.sees_colleagues_chats(st.agents_see_colleagues()) {
            active.into_iter().filter(|c| c.agent_id != Some(agent_id)).collect()
        } else {
            vec![]
        };
        let mine_ids: Vec<i64> = mine.iter().map(|c| c.id).collect();
        let welcome = ServerFrame::AgentWelcome(AgentWelcome {
            v: protocol::VERSION,
            agent: AgentInfo { id: agent_id, name: self.name.clone(), role: self.viewer.role },
            queue,
            mine,
            supervised,
            sneak_peek: st.sneak_peek(),
            team: team.clone(),
        });
        session.text(welcome.to_json()).await.map_err(|_| Closed)?;
        // Follow own chats (from where the console left off, else from the start), then any
        // other chat the console had open.
        for &c in &mine_ids {
            let after = resume.iter().find(|r| r.conversation == c).map(|r| r.last_seq).unwrap_or(0);
            st.hub.subscribe(id, c).await;
            self.delivery.follow(session, &st.db, c, after).await?;
        }
        for r in resume.iter().filter(|r| !mine_ids.contains(&r.conversation)) {
            if let Err(e) = self.open(session, r.conversation, r.last_seq).await {
                socket::send_error(session, &e, None).await?;
            }
        }
        self.team.follow_all(session, &st.db, &team, &team_resume).await?;
        Ok(Some(rx))
    }

    /// Check view rights, subscribe, replay after `last_seq`.
    async fn open(&mut self, session: &mut Session, conversation: i64, last_seq: i64) -> Result<(), AppError> {
        let st = self.state.clone();
        let view =
            st.db.read(move |c| store::conversation_view(c, conversation)).await?.ok_or_else(|| AppError::not_found("conversation"))?;
        if !self.viewer.may_view_chat(view.agent_id, view.status, st.agents_see_colleagues()) {
            return Err(AppError::not_found("conversation"));
        }
        st.hub.subscribe(self.socket.expect("registered"), conversation).await;
        session.text(ServerFrame::Opened { conversation: view }.to_json()).await.map_err(|_| AppError::unavailable("socket closed"))?;
        self.delivery.follow(session, &st.db, conversation, last_seq).await.map_err(|_| AppError::unavailable("socket closed"))?;
        Ok(())
    }

    /// The conversation row, if this agent may write into it (message, typing): only the agent
    /// who has the chat; followers read only.
    async fn writable(&self, conversation: i64) -> Result<store::ConvRow, AppError> {
        let conv = self.conv(conversation).await?;
        self.viewer.may_write_chat(conv.agent_id, conv.status)?;
        Ok(conv)
    }

    async fn conv(&self, conversation: i64) -> Result<store::ConvRow, AppError> {
        self.state.db.read(move |c| store::conv(c, conversation)).await?.ok_or_else(|| AppError::not_found("conversation"))
    }

    /// Re-read this agent's rights after the hub said it changed (see the module docs).
    async fn reload_rights(&mut self, session: &mut Session) -> Result<Step, Closed> {
        let st = self.state.clone();
        let (session_id, agent_id, now) = (self.session_id, self.agent_id, st.now());
        let idle_ms = st.config.session_idle.as_millis() as i64;
        let followed: Vec<i64> = self.delivery.last_sent.keys().copied().collect();
        let read = st
            .db
            .read(move |c| {
                let valid = crate::auth::store::session_valid(c, session_id, now, idle_ms)?;
                let agent = crate::agents::store::get(c, agent_id)?;
                let mut convs = Vec::with_capacity(followed.len());
                for id in followed {
                    convs.push((id, store::conv(c, id)?));
                }
                Ok((valid, agent, convs))
            })
            .await;
        let (valid, agent, convs) = match read {
            Ok(r) => r,
            Err(e) => {
                // Rights unknown: safer to end the socket (the console reconnects) than to
                // keep acting on old ones.
                tracing::error!(error = %e.message, "agent socket recheck failed");
                return Ok(Step::Close(close::INTERNAL, "rights could not be re-checked"));
            }
        };
        let Some(agent) = agent.filter(|a| valid && !a.disabled) else {
            return Ok(Step::Close(close::UNAUTHENTICATED, "session ended"));
        };
        self.viewer = Viewer { agent_id: Some(agent_id), role: agent.role };
        self.name = agent.name;
        let socket = self.socket.expect("registered");
        if self.viewer.role < crate::auth::Role::Supervisor {
            st.hub.watch_monitor(socket, false).await;
        }
        let mut unfollowed = Vec::new();
        for (id, conv) in convs {
            let visible = conv.is_some_and(|c| self.viewer.may_view_chat(c.agent_id, c.status, st.agents_see_colleagues()));
            if !visible {
                st.hub.unsubscribe(socket, id).await;
                self.delivery.unfollow(id);
                unfollowed.push(id);
            }
        }
        unfollowed.sort_unstable();
        // Internal chat: rooms follow departments and role too.
        let team = self.team.reload(session, &st, socket, self.viewer).await?;
        session.text(ServerFrame::Access { role: agent.role, unfollowed, team }.to_json()).await.map_err(|_| Closed)?;
        Ok(Step::Continue)
    }

    async fn accept(&mut self, session: &mut Session, conversation: i64, force: bool) -> Result<(), AppError> {
        let st = self.state.clone();
        let (name, now, viewer, colleagues) = (self.name.clone(), st.now(), self.viewer, st.agents_see_colleagues());
        let agent_id = self.agent_id;
        let mut told = st.routing.queue_publisher().await;
        // Routing: slots are enforced here too (a supervisor may override with `force`); the
        // access policy decides how a refusal reads.
        let msg = st.db.write(move |c| crate::routing::ops::accept(c, conversation, viewer, &name, force, colleagues, now)).await?;
        st.hub.subscribe(self.socket.expect("registered"), conversation).await;
        self.delivery.last_sent.entry(conversation).or_insert(0);
        let view =
            st.db.read(move |c| store::conversation_view(c, conversation)).await?.ok_or_else(|| AppError::not_found("conversation"))?;
        let view_visitor = view.visitor.id;
        session.text(ServerFrame::Accepted { conversation: view }.to_json()).await.map_err(|_| AppError::unavailable("socket closed"))?;
        st.hub.publish(Audience::Agents, ServerFrame::Queue(QueueChange::Remove { conversation, agent_id: Some(agent_id) })).await;
        st.hub
            .publish(
                Audience::ConversationVisitors(conversation),
                ServerFrame::Status(StatusChange::Active { conversation, agent_name: self.name.clone() }),
            )
            .await;
        told.remove(&conversation);
        drop(told);
        socket::publish_message(&st.hub, &msg).await;
        crate::visitors::live::changed(&st, view_visitor).await;
        // Routing: the queue moved; waiting visitors learn their new place.
        crate::routing::dispatch(&st).await;
        Ok(())
    }

    /// After a transfer or take-over committed: the receiving agent's sockets follow the chat
    /// (`assigned`), the visitor learns the new agent's name, every console moves the chat in
    /// its lists, the former agent's sockets re-check what they may still follow, and a freed
    /// slot or a requeued chat is dispatched.
    /// `told` is the queue publisher's guard taken before the handover's write (see
    /// `routing::Live::queue_publisher`); it is released once the visitor has heard `active`.
    async fn publish_handover(
        &self,
        h: Handover,
        taken_over: bool,
        mut told: tokio::sync::MutexGuard<'_, std::collections::HashMap<i64, i64>>,
    ) {
        let st = &self.state;
        let conversation = h.conversation.id;
        if let Some((to, name)) = &h.to_agent {
            st.hub.assign_agent(*to, conversation, ServerFrame::Assigned { conversation: h.conversation.clone() }).await;
            let active = ServerFrame::Status(StatusChange::Active { conversation, agent_name: name.clone() });
            st.hub.publish(Audience::ConversationVisitors(conversation), active).await;
        }
        told.remove(&conversation);
        drop(told);
        for m in &h.lines {
            socket::publish_message(&st.hub, m).await;
        }
        let frame = match (&h.to_agent, taken_over) {
            (Some((to, name)), true) => {
                ServerFrame::TakenOver { conversation, from_agent: h.from_agent, agent_id: *to, name: name.clone() }
            }
            _ => ServerFrame::Transferred {
                conversation,
                from_agent: h.from_agent,
                to_agent: h.to_agent.as_ref().map(|(id, _)| *id),
                to_department: h.to_department,
                by: self.agent_id,
                by_name: self.name.clone(),
            },
        };
        st.hub.publish(Audience::Agents, frame).await;
        if let Some(from) = h.from_agent.filter(|f| Some(*f) != h.to_agent.as_ref().map(|(id, _)| *id)) {
            st.hub.agent_changed(from).await;
        }
        crate::routing::dispatch(st).await;
    }

    async fn handle(&mut self, session: &mut Session, frame: AgentFrame) -> Result<(), AppError> {
        let st = self.state.clone();
        let closed = |_| AppError::unavailable("socket closed");
        match frame {
            AgentFrame::Hello { .. } => return Err(AppError::invalid("hello was already received")),
            AgentFrame::Ping => session.text(ServerFrame::Pong.to_json()).await.map_err(closed)?,
            AgentFrame::Accept { conversation, force } => self.accept(session, conversation, force).await?,
            AgentFrame::Open { conversation, last_seq } => self.open(session, conversation, last_seq).await?,
            AgentFrame::Close { conversation } => {
                // Only what this socket follows (what it was allowed to open) can be closed.
                if !self.delivery.last_sent.contains_key(&conversation) {
                    return Err(AppError::not_found("conversation"));
                }
                st.hub.unsubscribe(self.socket.expect("registered"), conversation).await;
                self.delivery.unfollow(conversation);
            }
            AgentFrame::Message { conversation, client_id, body, attachment } => {
                // One write job (SPEC P2): the right to write, the attachment, the message.
                let (agent_id, viewer, now) = (self.agent_id, self.viewer, st.now());
                let cid = client_id.clone();
                let (m, new) = st
                    .db
                    .write(move |c| {
                        let conv = store::conv(c, conversation)?.ok_or_else(|| AppError::not_found("conversation"))?;
                        viewer.may_write_chat(conv.agent_id, conv.status)?;
                        let attachment_id = match attachment {
                            Some(tok) => viewer.attachable(c, std::slice::from_ref(&tok))?.pop(),
                            None => None,
                        };
                        let msg = OwnedMessage {
                            conversation,
                            author_kind: "agent",
                            agent_id: Some(agent_id),
                            client_id: Some(cid),
                            body,
                            attachment_id,
                            internal: false,
                        };
                        socket::store_message(c, &msg, now)
                    })
                    .await?;
                if new {
                    socket::publish_message(&st.hub, &m).await;
                }
                let ack = ServerFrame::Ack { client_id, conversation, seq: m.seq, id: m.id, at: m.at };
                session.text(ack.to_json()).await.map_err(closed)?;
            }
            AgentFrame::Typing { conversation, typing } => {
                // Only the agent who has the chat: a follower reading along must not show the
                // visitor "… is typing" (finding 5).
                self.writable(conversation).await?;
                let frame = ServerFrame::Typing(Typing::Agent { conversation, name: self.name.clone(), typing });
                st.hub.publish(Audience::ConversationVisitors(conversation), frame).await;
            }
            AgentFrame::Delivered { conversation, seq } | AgentFrame::Read { conversation, seq } => {
                let read = matches!(frame, AgentFrame::Read { .. });
                let conv = self.conv(conversation).await?;
                // Receipts come only from the agent who has the chat; supervisors and colleagues
                // reading along must not tell the visitor "read".
                if !self.viewer.owns(conv.agent_id) {
                    return Err(AppError::forbidden("only the agent who has this chat sends receipts"));
                }
                let row = st
                    .db
                    .write(move |c| {
                        if read {
                            store::set_agent_read(c, conversation, seq)?
                        } else {
                            store::set_agent_delivered(c, conversation, seq)?
                        }
                        store::conv(c, conversation)
                    })
                    .await?
                    .ok_or_else(|| AppError::not_found("conversation"))?;
                let frame = ServerFrame::Receipt { conversation, delivered_seq: row.agent_delivered_seq, read_seq: row.agent_read_seq };
                st.hub.publish(Audience::ConversationVisitors(conversation), frame).await;
            }
            AgentFrame::Transfer { conversation, agent_id, department_id, note, force } => {
                let target = match (agent_id, department_id) {
                    (Some(a), None) => Target::Agent(a),
                    (None, Some(d)) => Target::Department(d),
                    _ => return Err(AppError::invalid("transfer: give exactly one of agent_id and department_id")),
                };
                let (viewer, name, colleagues, now) = (self.viewer, self.name.clone(), st.agents_see_colleagues(), st.now());
                let told = st.routing.queue_publisher().await;
                let h = st
                    .db
                    .write(move |c| team::transfer(c, viewer, &name, conversation, target, note.as_deref(), force, colleagues, now))
                    .await?;
                self.publish_handover(h, false, told).await;
            }
            AgentFrame::Whisper { conversation, client_id, body } => {
                let (viewer, colleagues, now) = (self.viewer, st.agents_see_colleagues(), st.now());
                let cid = client_id.clone();
                let (m, new) = st.db.write(move |c| team::whisper(c, viewer, conversation, &cid, &body, colleagues, now)).await?;
                if new {
                    socket::publish_message(&st.hub, &m).await;
                }
                let ack = ServerFrame::Ack { client_id, conversation, seq: m.seq, id: m.id, at: m.at };
                session.text(ack.to_json()).await.map_err(closed)?;
            }
            AgentFrame::TakeOver { conversation } => {
                let (viewer, name, colleagues, now) = (self.viewer, self.name.clone(), st.agents_see_colleagues(), st.now());
                let told = st.routing.queue_publisher().await;
                let h = st.db.write(move |c| team::take_over(c, viewer, &name, conversation, colleagues, now)).await?;
                self.publish_handover(h, true, told).await;
            }
            AgentFrame::Viewing { ticket, state } => {
                let (me, viewer) = (self.agent_id, self.viewer);
                let visible = st
                    .db
                    .read(move |c| {
                        let Some(t) = crate::tickets::store::by_number(c, ticket)? else { return Ok(false) };
                        let mine = crate::departments::store::of_agent(c, me)?;
                        Ok(viewer.may_view_ticket(&mine, t.agent_id, t.department_id))
                    })
                    .await?;
                if !visible {
                    return Err(AppError::not_found("ticket"));
                }
                let frame = ServerFrame::Presence { ticket, agent_id: me, name: self.name.clone(), state, at: st.now() };
                st.hub.publish(Audience::Agents, frame).await;
            }
            frame @ (AgentFrame::TeamMessage { .. } | AgentFrame::TeamTyping { .. } | AgentFrame::TeamRead { .. }) => {
                self.team.handle(session, &st, self.viewer, &self.name, frame).await?;
            }
            AgentFrame::Visitors { watch } => {
                st.hub.watch_visitors(self.socket.expect("registered"), watch).await;
                if watch {
                    let items = crate::visitors::live::online(&st).await?;
                    session.text(ServerFrame::Visitors { items }.to_json()).await.map_err(closed)?;
                }
            }
            AgentFrame::Invite { visitor, body } => {
                crate::visitors::live::invite(&st, self.agent_id, visitor, body).await?;
            }
            AgentFrame::Monitor { watch } => {
                let socket = self.socket.expect("registered");
                if watch && self.viewer.role < crate::auth::Role::Supervisor {
                    return Err(AppError::forbidden("the live monitor is for supervisors and admins"));
                }
                st.hub.watch_monitor(socket, watch).await;
                if watch {
                    // The pusher sends only changes: a new watcher gets the picture now.
                    let m = crate::reports::monitor::current(&st).await?;
                    session.text(ServerFrame::Monitor(Box::new(m)).to_json()).await.map_err(closed)?;
                }
            }
            AgentFrame::End { conversation } => {
                let conv = self.conv(conversation).await?;
                if !self.viewer.may_end_chat(conv.agent_id, conv.status) {
                    return Err(AppError::forbidden("only the chat's agent or a supervisor can end it"));
                }
                socket::end_conversation(&st, conversation, EndedBy::Agent, self.name.clone()).await?;
            }
        }
        Ok(())
    }
}

impl Handler for AgentSocket {
    async fn on_text(&mut self, session: &mut Session, text: &str) -> Result<Step, Closed> {
        match protocol::parse_agent(text) {
            Ok(frame) => {
                let reference = match &frame {
                    AgentFrame::Message { client_id, .. }
                    | AgentFrame::Whisper { client_id, .. }
                    | AgentFrame::TeamMessage { client_id, .. } => Some(client_id.clone()),
                    _ => None,
                };
                if let Err(e) = self.handle(session, frame).await {
                    socket::send_error(session, &e, reference.as_deref()).await?;
                }
            }
            Err(e) => session.text(protocol::error_frame(e.code, &e.message, None)).await.map_err(|_| Closed)?,
        }
        Ok(Step::Continue)
    }
    fn delivery(&mut self) -> &mut Delivery {
        &mut self.delivery
    }
    fn rooms(&mut self) -> Option<&mut Delivery<crate::teamchat::RoomFeed>> {
        Some(&mut self.team.rooms)
    }
    fn db(&self) -> &Db {
        &self.state.db
    }
    async fn recheck(&mut self, session: &mut Session) -> Step {
        match self.reload_rights(session).await {
            Ok(step) => step,
            Err(Closed) => Step::Close(close::NORMAL, "closed"),
        }
    }
    async fn finish(&mut self) {
        if let Some(id) = self.socket {
            // Routing: the grace time before auto-offline starts when the last socket goes.
            crate::routing::socket_closed(&self.state, self.agent_id);
            self.state.hub.unregister(id).await;
        }
    }
}
