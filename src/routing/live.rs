//! Routing in the running server: the in-memory state (settings, queue places last told to
//! visitors, when agents' last console socket went away), the dispatch that assigns waiting
//! chats and publishes the effects after the commit, and the auto-offline job.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use super::ops::{self, Dispatched};
use super::{AgentStatus, RoutingSettings, StatusReason};
use crate::error::AppError;
use crate::realtime::Audience;
use crate::realtime::protocol::{QueueChange, ServerFrame, StatusChange};
use crate::state::AppState;

/// Routing's share of `AppState`.
#[derive(Default)]
pub struct Live {
    settings: RwLock<RoutingSettings>,
    /// Serializes dispatches so position frames go out in commit order; holds the position
    /// each waiting chat's visitor was last told.
    told: tokio::sync::Mutex<HashMap<i64, i64>>,
    /// Agents without a console socket, since when.
    gone_since: Mutex<HashMap<i64, i64>>,
}

impl Live {
    pub fn new(settings: RoutingSettings) -> Live {
        Live { settings: RwLock::new(settings), ..Default::default() }
    }

    pub fn settings(&self) -> RoutingSettings {
        self.settings.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Taken by everything that changes whether a chat waits and tells its visitor (dispatch,
    /// accept, transfer, take-over), from before its write until its visitor frame is
    /// published. A dispatch that read the queue before an accept then publishes its `queued`
    /// places before the accept's `active`, never after it (a visitor shown "waiting" while an
    /// agent is already writing).
    pub async fn queue_publisher(&self) -> tokio::sync::MutexGuard<'_, HashMap<i64, i64>> {
        self.told.lock().await
    }

    pub fn set_settings(&self, s: RoutingSettings) {
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = s;
    }
}

/// Assign what can be assigned and tell everyone: the agent (an `assigned` frame, and its
/// sockets follow the chat), all consoles (the chat leaves the queue), the visitor (active,
/// the joined line) and every visitor whose queue position changed. Call it after anything
/// that may free a slot or change the queue: a chat created, ended or accepted, an agent
/// accepting, a limit raised, a membership changed. Returns the ids of the chats assigned.
pub async fn dispatch(state: &AppState) -> Vec<i64> {
    let mut told = state.routing.queue_publisher().await;
    let mode = state.routing.settings().mode;
    let now = state.now();
    let Dispatched { assigned, queue } = match state.db.write(move |c| ops::assign_waiting(c, mode, now)).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "dispatching waiting chats failed");
            return vec![];
        }
    };
    let mut ids = Vec::with_capacity(assigned.len());
    for a in assigned {
        let conv = a.conversation.id;
        let visitor = a.conversation.visitor.id;
        ids.push(conv);
        told.remove(&conv);
        state.hub.assign_agent(a.agent_id, conv, ServerFrame::Assigned { conversation: a.conversation }).await;
        state
            .hub
            .publish(Audience::Agents, ServerFrame::Queue(QueueChange::Remove { conversation: conv, agent_id: Some(a.agent_id) }))
            .await;
        state
            .hub
            .publish(
                Audience::ConversationVisitors(conv),
                ServerFrame::Status(StatusChange::Active { conversation: conv, agent_name: a.agent_name }),
            )
            .await;
        crate::chat::publish_message(&state.hub, &a.joined).await;
        crate::visitors::live::changed(state, visitor).await;
    }
    let settings = state.routing.settings();
    // A set, not a scan per entry: with thousands waiting (a reconnect storm behind few agents)
    // the scan made every dispatch quadratic in the queue.
    let waiting: std::collections::HashSet<i64> = queue.iter().map(|p| p.conversation).collect();
    told.retain(|conv, _| waiting.contains(conv));
    for p in queue {
        let before = told.insert(p.conversation, p.position);
        if before.is_none() {
            // Newly waiting: every console's Queue list gets it.
            let id = p.conversation;
            if let Ok(Some(view)) = state.db.read(move |c| crate::chat::store::conversation_view(c, id)).await {
                state.hub.publish(Audience::Agents, ServerFrame::Queue(QueueChange::Add { conversation: Box::new(view) })).await;
            }
        }
        if before != Some(p.position) {
            state.hub.publish(Audience::ConversationVisitors(p.conversation), queued_frame(&p, &settings)).await;
        }
    }
    ids
}

/// The visitor's `status: queued` frame with its place (SPEC §1) and the wait thresholds.
pub fn queued_frame(p: &ops::Place, s: &RoutingSettings) -> ServerFrame {
    ServerFrame::Status(StatusChange::Queued {
        conversation: p.conversation,
        position: p.position,
        estimated_wait_s: p.estimated_wait_s,
        waited_s: p.waited_ms / 1000,
        wait_notice_s: s.wait_notice_s,
        retention_s: s.retention_s,
    })
}

/// The current place of one waiting chat (a visitor reconnecting while queued).
pub async fn place_of(state: &AppState, conversation: i64) -> Option<ServerFrame> {
    let now = state.now();
    let places = state.db.read(move |c| ops::places(c, now)).await.ok()?;
    let p = places.into_iter().find(|p| p.conversation == conversation)?;
    Some(queued_frame(&p, &state.routing.settings()))
}

/// Change an agent's status, tell every console, and dispatch when they now accept chats.
pub async fn set_status(state: &AppState, agent_id: i64, to: AgentStatus, reason: StatusReason) -> Result<(), AppError> {
    let now = state.now();
    let changed = state.db.write(move |c| ops::set_status(c, agent_id, to, reason, now)).await?;
    if changed.is_some() {
        publish_status(state, agent_id, to).await;
    }
    Ok(())
}

pub async fn publish_status(state: &AppState, agent_id: i64, status: AgentStatus) {
    state.hub.publish(Audience::Agents, ServerFrame::AgentStatus { agent_id, status }).await;
    dispatch(state).await;
}

/// An agent socket is closing: remember when. Called before the socket leaves the hub, so the
/// time is recorded by the time the hub no longer lists it. Each close overwrites the time, so
/// it is the last socket's; while another socket of the agent stays open, the auto-offline job
/// finds the agent online and forgets the time.
pub fn socket_closed(state: &AppState, agent_id: i64) {
    let now = state.now();
    state.routing.gone_since.lock().unwrap_or_else(|e| e.into_inner()).insert(agent_id, now);
}

/// The scheduler's job: agents not offline whose last console socket has been gone for the
/// grace time go offline (reason `auto_offline`). Returns who.
pub async fn auto_offline(state: &AppState) -> Vec<i64> {
    let now = state.now();
    let grace_ms = state.routing.settings().offline_grace_s * 1000;
    let online = state.hub.online_agents().await;
    let candidates = match state.db.read(super::store::not_offline).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "auto-offline: reading statuses failed");
            return vec![];
        }
    };
    let due: Vec<i64> = {
        let mut gone = state.routing.gone_since.lock().unwrap_or_else(|e| e.into_inner());
        gone.retain(|a, _| !online.contains(a));
        candidates.into_iter().filter(|a| !online.contains(a)).filter(|a| now - *gone.entry(*a).or_insert(now) >= grace_ms).collect()
    };
    let mut done = Vec::new();
    for a in due {
        match set_status(state, a, AgentStatus::Offline, StatusReason::AutoOffline).await {
            Ok(()) => done.push(a),
            Err(e) => tracing::warn!(error = %e, agent = a, "auto-offline failed"),
        }
    }
    done
}
