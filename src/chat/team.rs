//! Team work in a chat (SPEC C7): transfer to an agent or a department, a supervisor's whisper,
//! take-over. Each operation runs in one write job over `&Connection`: the checks, the change of
//! the conversation and its lines commit together. Internal lines (`internal = 1`) carry who did
//! what and the note; the visitor gets only a neutral public line ("You are now talking to …").
//! The socket (`agent_ws`) publishes after the commit.

use rusqlite::Connection;

use super::Status;
use super::store::{self, NewMessage};
use crate::auth::policy::Viewer;
use crate::chat::Conversation;
use crate::error::{AppError, Kind};
use crate::events::SystemEvent;
use crate::realtime::protocol::MessageOut;
use crate::routing::AgentStatus;

/// Where a transfer sends the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Agent(i64),
    Department(i64),
}

/// What a transfer or take-over changed, for publishing after the commit.
#[derive(Debug, Clone)]
pub struct Handover {
    /// The conversation as it is now.
    pub conversation: Conversation,
    /// Who had it.
    pub from_agent: Option<i64>,
    /// Who has it now (None: it waits in `to_department`'s queue).
    pub to_agent: Option<(i64, String)>,
    pub to_department: Option<i64>,
    /// The new lines in seq order: internal ones for agents, the public one for everybody.
    pub lines: Vec<MessageOut>,
}

/// A supervisor acting on someone else's chat (a take-over, a transfer of a colleague's chat, a
/// transfer past the chat limit) leaves an audit row in the same write.
fn audit(c: &Connection, viewer: Viewer, action: &str, conversation: i64, details: AuditDetails, now: i64) -> Result<(), AppError> {
    let me = viewer.agent_id.and_then(|id| crate::agents::store::get(c, id).ok().flatten());
    let actor = crate::audit::Actor {
        agent_id: viewer.agent_id,
        label: me.map(|a| format!("agent:{} {}", a.id, a.email)).unwrap_or_else(|| "agent".into()),
    };
    let details = serde_json::to_value(details).map_err(|e| AppError::internal(e.to_string()))?;
    crate::audit::store::record(c, now, &actor, action, Some(&format!("conversation:{conversation}")), Some(&details))
}

/// What an audit row of a transfer or take-over records.
#[derive(serde::Serialize, Default)]
struct AuditDetails {
    from_agent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_agent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to_department: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    beyond_limit: bool,
}

/// The note as stored: trimmed, None when empty.
fn clean_note(note: Option<&str>) -> Option<String> {
    note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_string)
}

/// The conversation if the viewer may see it (else `not_found`, as for one that does not exist).
fn visible(c: &Connection, viewer: Viewer, conversation: i64, agents_see_colleagues: bool) -> Result<store::ConvRow, AppError> {
    viewer.visible_conversation(c, conversation, agents_see_colleagues)
}

/// Hand an active chat to another agent or back to a department's queue. The caller is the
/// chat's agent or a supervisor/admin; the receiving agent must be enabled, accepting chats,
/// a member of the chat's department (when it has one) and have a free slot — the last only a
/// supervisor or admin may override with `force`.
#[allow(clippy::too_many_arguments)]
pub fn transfer(
    c: &Connection,
    viewer: Viewer,
    caller_name: &str,
    conversation: i64,
    target: Target,
    note: Option<&str>,
    force: bool,
    agents_see_colleagues: bool,
    now: i64,
) -> Result<Handover, AppError> {
    let conv = visible(c, viewer, conversation, agents_see_colleagues)?;
    if !viewer.may_transfer_chat(conv.agent_id) {
        return Err(AppError::forbidden("only the chat's agent or a supervisor can transfer it"));
    }
    if conv.status != Status::Active {
        return Err(AppError::conflict(match conv.status {
            Status::Ended => "this chat has ended",
            _ => "this chat waits in the queue; accept it first",
        }));
    }
    let note = clean_note(note);
    let department = store::conversation_view(c, conversation)?.and_then(|v| v.department_id);
    let mut lines = Vec::new();
    match target {
        Target::Agent(to) => {
            let agent = crate::agents::store::get(c, to)?.filter(|a| !a.disabled).ok_or_else(|| AppError::not_found("agent"))?;
            if conv.agent_id == Some(to) {
                return Err(AppError::invalid(format!("{} already has this chat", agent.name)));
            }
            match agent.status {
                AgentStatus::Accepting => {}
                AgentStatus::Offline => return Err(AppError::new(Kind::AgentUnavailable, format!("{} is offline", agent.name))),
                AgentStatus::NotAccepting => {
                    return Err(AppError::new(Kind::AgentUnavailable, format!("{} is not accepting chats", agent.name)));
                }
            }
            if let Some(d) = department
                && !agent.department_ids.contains(&d)
            {
                return Err(AppError::new(
                    Kind::NotInDepartment,
                    format!("{} is not in this chat's department; transfer to the department instead", agent.name),
                ));
            }
            crate::routing::ops::check_slot(c, to, force, viewer.sees_all()).map_err(|e| match e.kind {
                Kind::Conflict => AppError::new(Kind::AgentFull, format!("{}: {}", agent.name, e.message)),
                _ => e,
            })?;
            let event = SystemEvent::transferred_to_agent(caller_name, &agent.name, note.as_deref());
            lines.push(store::insert_internal_system(c, conversation, viewer.agent_id, &event, now)?);
            if !store::reassign(c, conversation, conv.agent_id, to, now)? {
                return Err(AppError::conflict("this chat changed meanwhile; try again"));
            }
            lines.push(store::insert_system(c, conversation, Some(to), &SystemEvent::handed_over(&agent.name), now)?);
            let (load_limit, load_active) = crate::routing::store::load(c, to)?.unwrap_or((0, 0));
            let forced = load_active > load_limit;
            if forced || !viewer.owns(conv.agent_id) {
                let details = AuditDetails { from_agent: conv.agent_id, to_agent: Some(to), beyond_limit: forced, ..Default::default() };
                audit(c, viewer, "chat.transfer", conversation, details, now)?;
            }
            let view = store::conversation_view(c, conversation)?.ok_or_else(|| AppError::not_found("conversation"))?;
            Ok(Handover { conversation: view, from_agent: conv.agent_id, to_agent: Some((to, agent.name)), to_department: None, lines })
        }
        Target::Department(d) => {
            let dept = crate::departments::store::get(c, d)?.ok_or_else(|| AppError::not_found("department"))?;
            let event = SystemEvent::transferred_to_department(caller_name, &dept.name, note.as_deref());
            lines.push(store::insert_internal_system(c, conversation, viewer.agent_id, &event, now)?);
            if !store::requeue(c, conversation, conv.agent_id, d, now)? {
                return Err(AppError::conflict("this chat changed meanwhile; try again"));
            }
            lines.push(store::insert_system(c, conversation, None, &SystemEvent::handed_to_department(&dept.name), now)?);
            if !viewer.owns(conv.agent_id) {
                let details = AuditDetails { from_agent: conv.agent_id, to_department: Some(d), ..Default::default() };
                audit(c, viewer, "chat.transfer", conversation, details, now)?;
            }
            let view = store::conversation_view(c, conversation)?.ok_or_else(|| AppError::not_found("conversation"))?;
            Ok(Handover { conversation: view, from_agent: conv.agent_id, to_agent: None, to_department: Some(d), lines })
        }
    }
}

/// A supervisor's internal line in a chat: stored with `internal = 1`, never shown to the
/// visitor. The bool says whether it is new (a resend with the same `client_id` is not).
pub fn whisper(
    c: &Connection,
    viewer: Viewer,
    conversation: i64,
    client_id: &str,
    body: &str,
    agents_see_colleagues: bool,
    now: i64,
) -> Result<(MessageOut, bool), AppError> {
    let conv = visible(c, viewer, conversation, agents_see_colleagues)?;
    if !viewer.may_supervise_chat() {
        return Err(AppError::forbidden("only supervisors and admins can whisper"));
    }
    if conv.status == Status::Ended {
        return Err(AppError::conflict("this chat has ended"));
    }
    store::insert_message(
        c,
        &NewMessage {
            conversation,
            author_kind: "agent",
            agent_id: viewer.agent_id,
            client_id: Some(client_id),
            body,
            attachment_id: None,
            internal: true,
            now,
        },
    )
}

/// A supervisor or admin becomes the agent of an active chat (no slot check: taking over is a
/// supervisor's decision). The former agent keeps reading along if allowed but can no longer
/// write.
pub fn take_over(
    c: &Connection,
    viewer: Viewer,
    name: &str,
    conversation: i64,
    agents_see_colleagues: bool,
    now: i64,
) -> Result<Handover, AppError> {
    let conv = visible(c, viewer, conversation, agents_see_colleagues)?;
    if !viewer.may_supervise_chat() {
        return Err(AppError::forbidden("only supervisors and admins can take over a chat"));
    }
    let me = viewer.agent_id.ok_or_else(|| AppError::forbidden("only an agent can take over a chat"))?;
    match conv.status {
        Status::Active if conv.agent_id == Some(me) => return Err(AppError::conflict("this chat is already yours")),
        Status::Active => {}
        Status::Queued => return Err(AppError::conflict("this chat waits in the queue; accept it instead")),
        Status::Ended => return Err(AppError::conflict("this chat has ended")),
    }
    let from_name = match conv.agent_id {
        Some(a) => crate::agents::store::get(c, a)?.map(|a| a.name).unwrap_or_default(),
        None => String::new(),
    };
    let mut lines = vec![store::insert_internal_system(c, conversation, Some(me), &SystemEvent::taken_over(name, &from_name), now)?];
    if !store::reassign(c, conversation, conv.agent_id, me, now)? {
        return Err(AppError::conflict("this chat changed meanwhile; try again"));
    }
    lines.push(store::insert_system(c, conversation, Some(me), &SystemEvent::handed_over(name), now)?);
    audit(c, viewer, "chat.take_over", conversation, AuditDetails { from_agent: conv.agent_id, ..Default::default() }, now)?;
    let view = store::conversation_view(c, conversation)?.ok_or_else(|| AppError::not_found("conversation"))?;
    Ok(Handover { conversation: view, from_agent: conv.agent_id, to_agent: Some((me, name.to_string())), to_department: None, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_and_empty_ones_dropped() {
        assert_eq!(clean_note(Some("  wants a refund \n")), Some("wants a refund".into()));
        assert_eq!(clean_note(Some(" \n ")), None);
        assert_eq!(clean_note(None), None);
    }
}
