//! Routing operations over `&Connection`, each run inside one write job so the decision and
//! its effects commit together (no chat assigned twice, none forgotten).

use rusqlite::Connection;
use serde::Serialize;

use super::{AgentStatus, Closed, Mode, OfflineBehaviour, RoutingSettings, StatusReason, store};
use crate::auth::policy::{ChatFacts, Viewer};
use crate::chat::Conversation;
use crate::error::AppError;
use crate::events::SystemEvent;
use crate::realtime::protocol::MessageOut;

/// One chat given to an agent by the distribution.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub conversation: Conversation,
    pub agent_id: i64,
    pub agent_name: String,
    pub joined: MessageOut,
}

/// A waiting chat's place after a dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub conversation: i64,
    pub position: i64,
    pub estimated_wait_s: Option<i64>,
    pub waited_ms: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Dispatched {
    pub assigned: Vec<Assignment>,
    pub queue: Vec<Place>,
}

/// Give every waiting chat that can be placed to an agent (even distribution, in queue order),
/// then compute the places of the chats still waiting. One write job: the snapshot, the
/// assignments and their "joined" lines see and make one consistent state.
pub fn assign_waiting(c: &Connection, mode: Mode, now: i64) -> Result<Dispatched, AppError> {
    let snap = store::snapshot(c, now)?;
    let mut assigned = Vec::new();
    for (conv, agent_id) in super::plan(mode, &snap, now) {
        if !crate::chat::store::assign(c, conv, agent_id, now)? {
            continue;
        }
        let name = crate::agents::store::get(c, agent_id)?.map(|a| a.name).unwrap_or_default();
        let joined = crate::chat::store::insert_system(c, conv, Some(agent_id), &SystemEvent::joined(&name), now)?;
        let conversation = crate::chat::store::conversation_view(c, conv)?.ok_or_else(|| AppError::internal("assigned chat vanished"))?;
        assigned.push(Assignment { conversation, agent_id, agent_name: name, joined });
    }
    Ok(Dispatched { assigned, queue: places(c, now)? })
}

/// Places of every waiting chat, with an estimate.
pub fn places(c: &Connection, now: i64) -> Result<Vec<Place>, AppError> {
    let snap = store::snapshot(c, now)?;
    let waiting: std::collections::HashMap<i64, _> = snap.waiting.iter().map(|w| (w.conversation, w)).collect();
    Ok(super::positions(&snap)
        .into_iter()
        .map(|(conv, position)| {
            let w = waiting[&conv];
            Place {
                conversation: conv,
                position,
                estimated_wait_s: super::estimated_wait_s(&snap, w.department_id, position),
                waited_ms: (now - w.created_at).max(0),
            }
        })
        .collect())
}

/// A slot check for any assignment by hand (accept, and transfer when it comes): an agent at
/// their limit is refused unless `force` is set by a supervisor or admin (who confirmed it).
pub fn check_slot(c: &Connection, agent_id: i64, force: bool, may_force: bool) -> Result<(), AppError> {
    let (limit, active) = store::load(c, agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    if active < limit {
        return Ok(());
    }
    if force && may_force {
        return Ok(());
    }
    if force {
        return Err(AppError::forbidden("only a supervisor or admin may take a chat beyond the chat limit"));
    }
    Err(AppError::conflict(format!("all chat slots are taken ({active} of {limit}); finish a chat first")))
}

/// Manual accept (the Queue list, manual mode): slots enforced, first one wins. Refusals go
/// through the access policy: a chat the viewer may not see answers `not_found` (no hint), one
/// taken by someone else `conflict`; a supervisor or admin may pass `force` beyond the limit.
pub fn accept(
    c: &Connection,
    conversation: i64,
    viewer: Viewer,
    name: &str,
    force: bool,
    agents_see_colleagues: bool,
    now: i64,
) -> Result<MessageOut, AppError> {
    let agent_id = viewer.agent_id.ok_or_else(|| AppError::forbidden("only an agent can accept a chat"))?;
    let refusal = |c: &Connection| -> Result<AppError, AppError> {
        let facts = crate::chat::store::conv(c, conversation)?.map(|v| ChatFacts { agent_id: v.agent_id, status: v.status });
        Ok(viewer.accept_refusal(facts, agents_see_colleagues))
    };
    let conv = crate::chat::store::conv(c, conversation)?;
    if conv.is_none_or(|v| v.status != crate::chat::Status::Queued) {
        return Err(refusal(c)?);
    }
    check_slot(c, agent_id, force, viewer.sees_all())?;
    if !crate::chat::store::assign(c, conversation, agent_id, now)? {
        return Err(refusal(c)?);
    }
    crate::chat::store::insert_system(c, conversation, Some(agent_id), &SystemEvent::joined(name), now)
}

/// Decide the department of a new chat and whether it may start (W6, W7, R6). The error is
/// `unavailable` with the reason when the widget should switch to its offline behaviour.
pub fn admit(
    c: &Connection,
    settings: &RoutingSettings,
    chosen: Option<i64>,
    origin: Option<&str>,
    now: i64,
) -> Result<Option<i64>, AppError> {
    let snap = store::snapshot(c, now)?;
    let department = super::department_for_chat(&snap, chosen, settings.default_department, origin)?;
    super::admission(settings.mode, &snap, department, now).map_err(|e| AppError::unavailable(e.message()))?;
    Ok(department)
}

/// A department as the widget offers it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct WidgetDepartment {
    pub id: i64,
    pub name: String,
    /// Chat can start now.
    pub open: bool,
    /// Why not, when closed.
    pub closed: Option<Closed>,
    /// What the widget does when closed.
    pub offline: OfflineBehaviour,
}

/// What the widget needs to decide between chat, offline form and hiding (W1, W6, W7).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct WidgetRouting {
    /// Accepting agents with a free slot (for the default choice): never open tabs.
    pub agents_online: usize,
    /// Chat can start now without choosing a department (default department or any agent).
    pub open: bool,
    pub closed: Option<Closed>,
    pub offline: OfflineBehaviour,
    /// The visible departments serving this site; empty: no choice to offer.
    pub departments: Vec<WidgetDepartment>,
    pub default_department: Option<i64>,
}

pub fn widget_view(c: &Connection, settings: &RoutingSettings, origin: Option<&str>, now: i64) -> Result<WidgetRouting, AppError> {
    let snap = store::snapshot(c, now)?;
    let default = settings.default_department.filter(|d| snap.department(Some(*d)).is_some());
    let state = |d: Option<i64>| super::admission(settings.mode, &snap, d, now).err();
    let departments = super::widget_departments(&snap, origin)
        .into_iter()
        .map(|d| {
            let closed = state(Some(d.id));
            WidgetDepartment { id: d.id, name: d.name.clone(), open: closed.is_none(), closed, offline: d.offline }
        })
        .collect();
    let closed = state(default);
    let offline = snap.department(default).map(|d| d.offline).unwrap_or(settings.offline_behaviour);
    Ok(WidgetRouting {
        agents_online: super::available_agents(&snap, default),
        open: closed.is_none(),
        closed,
        offline,
        departments,
        default_department: default,
    })
}

/// Set an agent's status (history row when it changed). Returns the previous status if changed.
pub fn set_status(c: &Connection, agent_id: i64, to: AgentStatus, reason: StatusReason, now: i64) -> Result<Option<AgentStatus>, AppError> {
    store::set_status(c, agent_id, to, reason, now)
}

/// Login restores the status the agent last chose (C2).
pub fn restore_on_login(c: &Connection, agent_id: i64, now: i64) -> Result<Option<AgentStatus>, AppError> {
    let chosen = store::chosen_status(c, agent_id)?.unwrap_or(AgentStatus::Accepting);
    store::set_status(c, agent_id, chosen, StatusReason::Login, now)
}
