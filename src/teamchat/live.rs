//! The agent socket's part of the internal chat: the team rooms it follows and the `team_*`
//! frames. `chat::agent_ws` owns the socket and hands these over.
//!
//! At `hello` the socket subscribes to the agent's rooms *before* it reads their last seqs, so a
//! message committed after that read reaches it live and one committed before is in the history
//! route; each room is then followed from the console's resume point (`hello.team`), else from
//! that last seq. When the agent's rights change (departments, role, disabled: the hub's
//! `Recheck`), [`TeamSocket::reload`] unfollows the rooms they lost and follows the new ones; the
//! `access` frame carries the whole list.

use std::collections::HashSet;

use actix_ws::Session;

use super::{RoomFeed, RoomSummary};
use crate::auth::policy::Viewer;
use crate::chat::socket::{Closed, Delivery};
use crate::db::Db;
use crate::error::AppError;
use crate::realtime::protocol::{AgentFrame, TeamResume};
use crate::realtime::{Audience, ServerFrame, SocketId};
use crate::state::AppState;

pub struct TeamSocket {
    pub rooms: Delivery<RoomFeed>,
}

impl Default for TeamSocket {
    fn default() -> Self {
        Self::new()
    }
}

async fn rooms_of(db: &Db, viewer: Viewer) -> Result<Vec<RoomSummary>, AppError> {
    db.read(move |c| super::rooms(c, &viewer)).await
}

impl TeamSocket {
    pub fn new() -> TeamSocket {
        let mut rooms = Delivery::new();
        // Replays go out as `team_history` frames: the console merges each once.
        rooms.batch = true;
        TeamSocket { rooms }
    }

    /// Subscribe `socket` to the viewer's rooms, then read them (with last seqs and unread
    /// counts) for the welcome.
    pub async fn start(&mut self, st: &AppState, socket: SocketId, viewer: Viewer) -> Result<Vec<RoomSummary>, AppError> {
        let first = rooms_of(&st.db, viewer).await?;
        for r in &first {
            st.hub.subscribe_room(socket, r.id).await;
        }
        let rooms = rooms_of(&st.db, viewer).await?;
        for r in rooms.iter().filter(|r| !first.iter().any(|f| f.id == r.id)) {
            st.hub.subscribe_room(socket, r.id).await;
        }
        Ok(rooms)
    }

    /// After the welcome: follow every room from the console's resume point, else from the last
    /// seq the welcome told it (a resume point for a room it may not use is ignored).
    pub async fn follow_all(&mut self, session: &mut Session, db: &Db, rooms: &[RoomSummary], resume: &[TeamResume]) -> Result<(), Closed> {
        for r in rooms {
            let after = resume.iter().find(|x| x.room == r.id).map(|x| x.last_seq.min(r.last_seq)).unwrap_or(r.last_seq);
            self.rooms.follow(session, db, r.id, after).await?;
        }
        Ok(())
    }

    /// The agent's rights changed: follow exactly the rooms they may use now; returns them for
    /// the `access` frame.
    pub async fn reload(
        &mut self,
        session: &mut Session,
        st: &AppState,
        socket: SocketId,
        viewer: Viewer,
    ) -> Result<Vec<RoomSummary>, Closed> {
        let allowed = match rooms_of(&st.db, viewer).await {
            Ok(r) => r,
            Err(_) => return Err(Closed),
        };
        let keep: HashSet<i64> = allowed.iter().map(|r| r.id).collect();
        let followed: Vec<i64> = self.rooms.last_sent.keys().copied().collect();
        for id in followed.into_iter().filter(|id| !keep.contains(id)) {
            st.hub.unsubscribe_room(socket, id).await;
            self.rooms.unfollow(id);
        }
        let new: Vec<i64> = allowed.iter().map(|r| r.id).filter(|id| !self.rooms.last_sent.contains_key(id)).collect();
        for &id in &new {
            st.hub.subscribe_room(socket, id).await;
        }
        // Read again after subscribing: new rooms are followed from here on.
        let rooms = rooms_of(&st.db, viewer).await.map_err(|_| Closed)?;
        for r in rooms.iter().filter(|r| new.contains(&r.id)) {
            self.rooms.follow(session, &st.db, r.id, r.last_seq).await?;
        }
        Ok(rooms)
    }

    /// A `team_message`, `team_typing` or `team_read` frame.
    pub async fn handle(
        &mut self,
        session: &mut Session,
        st: &AppState,
        viewer: Viewer,
        name: &str,
        frame: AgentFrame,
    ) -> Result<(), AppError> {
        let closed = |_| AppError::unavailable("socket closed");
        let me = viewer.agent_id.ok_or_else(|| AppError::not_found("room"))?;
        match frame {
            AgentFrame::TeamMessage { room, client_id, body } => {
                let now = st.now();
                let cid = client_id.clone();
                let (m, new) = st.db.write(move |c| super::post(c, &viewer, room, &cid, &body, now)).await?;
                let ack = ServerFrame::TeamAck { client_id, room, seq: m.seq, id: m.id, at: m.at };
                session.text(ack.to_json()).await.map_err(closed)?;
                if new {
                    st.hub.publish(Audience::Room(room), ServerFrame::TeamMessage(m)).await;
                }
            }
            AgentFrame::TeamTyping { room, typing } => {
                st.db.read(move |c| viewer.visible_room(c, room)).await?;
                let frame = ServerFrame::TeamTyping { room, agent_id: me, name: name.to_string(), typing };
                st.hub.publish(Audience::Room(room), frame).await;
            }
            AgentFrame::TeamRead { room, seq } => {
                let seq = st.db.write(move |c| super::mark_read(c, &viewer, room, seq)).await?;
                st.hub.publish(Audience::Agent(me), ServerFrame::TeamRead { room, seq }).await;
            }
            _ => return Err(AppError::internal("not a team frame")),
        }
        Ok(())
    }
}
