//! Invitation operations over `&Connection`, each inside one write job so the checks (chatting?
//! already invited? the cap, free slots) and the insert commit together.

use rusqlite::Connection;

use super::store::{self, InvitationRow, NewInvitation};
use super::{INVITATION_TTL_MS, InvitationStatus, Rule, RuleFacts};
use crate::error::AppError;
use crate::routing::RoutingSettings;

/// An agent invites one visitor (W9, by hand). Refused for a visitor who does not exist
/// (`not_found`) or is chatting already (`conflict`); an invitation still showing is replaced
/// (it counts as ignored).
pub fn invite(c: &Connection, agent_id: i64, visitor_id: i64, body: &str, now: i64) -> Result<InvitationRow, AppError> {
    super::check_body(body)?;
    if !store::visitor_exists(c, visitor_id)? {
        return Err(AppError::not_found("visitor"));
    }
    if crate::chat::store::open_conv_of(c, visitor_id)?.is_some() {
        return Err(AppError::conflict("this visitor is chatting already"));
    }
    let agent = crate::agents::store::get(c, agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    store::ignore_pending(c, Some(visitor_id), i64::MAX, now)?;
    let page = store::rule_facts(c, visitor_id)?.and_then(|f| f.0);
    let id = store::insert_invitation(
        c,
        &NewInvitation {
            visitor_id,
            agent_id: Some(agent_id),
            agent_name: &agent.name,
            rule_id: None,
            department_id: None,
            body: body.trim(),
            page_url: page.as_deref(),
            now,
        },
    )?;
    store::invitation(c, id)?.ok_or_else(|| AppError::internal("invitation vanished"))
}

/// The automatic round for one online visitor: the first enabled rule that fires invites them,
/// from the agent routing would pick now, when all of these hold: not chatting, no invitation
/// showing, under the per-visitor cap, the rule's department open (hours, someone accepting)
/// and an agent serving it with a free slot. None: nothing to do.
pub fn auto_invite(
    c: &Connection,
    rules: &[Rule],
    routing: &RoutingSettings,
    visitor_id: i64,
    now: i64,
) -> Result<Option<InvitationRow>, AppError> {
    let cap = store::settings(c)?.invite_cap;
    if rules.is_empty() || cap == 0 {
        return Ok(None);
    }
    let Some((page_url, page_since, visits, referrer, visit_start)) = store::rule_facts(c, visitor_id)? else { return Ok(None) };
    if crate::chat::store::open_conv_of(c, visitor_id)?.is_some() || store::pending_of(c, visitor_id, now - INVITATION_TTL_MS)?.is_some() {
        return Ok(None);
    }
    if store::automatic_since(c, visitor_id, now - super::CAP_WINDOW_MS)? >= cap {
        return Ok(None);
    }
    let fired = store::rules_fired_since(c, visitor_id, visit_start)?;
    let facts = RuleFacts { page_url: page_url.as_deref(), page_since, visits, referrer: referrer.as_deref(), fired_this_visit: &fired };
    let Some(rule) = rules.iter().find(|r| super::rule_fires(r, &facts, now)) else { return Ok(None) };
    // The department must take a chat now, and someone must have a free slot for it.
    let snap = crate::routing::store::snapshot(c, now)?;
    let department = rule.department_id.or(routing.default_department.filter(|d| snap.department(Some(*d)).is_some()));
    if crate::routing::admission(routing.mode, &snap, department, now).is_err() {
        return Ok(None);
    }
    let Some(agent_id) = crate::routing::pick(&snap.agents, department) else { return Ok(None) };
    let agent = crate::agents::store::get(c, agent_id)?.ok_or_else(|| AppError::internal("picked agent vanished"))?;
    let id = store::insert_invitation(
        c,
        &NewInvitation {
            visitor_id,
            agent_id: Some(agent_id),
            agent_name: &agent.name,
            rule_id: Some(rule.id),
            department_id: department,
            body: &rule.body,
            page_url: page_url.as_deref(),
            now,
        },
    )?;
    store::invitation(c, id)
}

/// The visitor answers their invitation: it is theirs and still showing. Returns it (the
/// chat code then starts the chat with its agent and records `accepted`).
pub fn pending_for_answer(c: &Connection, visitor_id: i64, invitation: i64, now: i64) -> Result<Option<InvitationRow>, AppError> {
    Ok(store::invitation(c, invitation)?
        .filter(|i| i.visitor_id == visitor_id && i.status == InvitationStatus::Sent && i.sent_at >= now - INVITATION_TTL_MS))
}

/// The visitor closed the invitation. `not_found` for one that is not theirs or not showing.
pub fn close(c: &Connection, visitor_id: i64, invitation: i64, now: i64) -> Result<(), AppError> {
    let Some(i) = store::invitation(c, invitation)?.filter(|i| i.visitor_id == visitor_id) else {
        return Err(AppError::not_found("invitation"));
    };
    if i.status != InvitationStatus::Sent {
        return Err(AppError::conflict("this invitation was already answered"));
    }
    store::answer(c, invitation, InvitationStatus::Closed, None, now)?;
    Ok(())
}

/// The contact part of the visitor panel (C5).
#[derive(serde::Serialize, Debug, Clone)]
pub struct PanelContact {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The contact's tickets and chats (from any of their devices) the viewer may see.
    pub tickets: Vec<serde_json::Value>,
    pub conversations: Vec<serde_json::Value>,
    pub notes: Vec<store::Note>,
}

/// The visitor panel's contact (when the visitor is linked to one the viewer may see: notes,
/// tickets and chats) and the admin's link templates filled with the visitor's values
/// (URL-encoded; a link whose value is missing is left out).
pub fn panel(
    c: &Connection,
    viewer: crate::auth::policy::Viewer,
    v: &crate::chat::VisitorDetails,
    colleagues: bool,
) -> Result<(Option<PanelContact>, Vec<super::LinkTemplate>), AppError> {
    let contact = match store::contact_of(c, v.id)? {
        Some(id) if viewer.check_contact(c, id, colleagues).is_ok() => {
            let k = crate::contacts::store::get(c, id)?;
            match k {
                Some(k) => {
                    let filter = crate::tickets::store::Filter { contact_id: Some(id), ..Default::default() };
                    let tickets = crate::tickets::store::list(c, &filter, viewer.tickets(), false, None, 20)?
                        .into_iter()
                        .map(|t| serde_json::to_value(t).unwrap_or_default())
                        .collect();
                    let conversations = crate::chat::store::conversations_of_contact(c, id, 200)?
                        .into_iter()
                        .filter(|ch| viewer.may_view_chat(ch.agent_id, ch.status, colleagues))
                        .take(20)
                        .map(|ch| serde_json::json!({"id": ch.id, "status": ch.status, "created_at": ch.created_at}))
                        .collect();
                    Some(PanelContact {
                        id,
                        name: k.name,
                        email: k.email,
                        phone: k.phone,
                        tickets,
                        conversations,
                        notes: store::notes(c, id)?,
                    })
                }
                None => None,
            }
        }
        _ => None,
    };
    let (email, name, phone) = match &contact {
        Some(k) => (k.email.clone().or(v.email.clone()), k.name.clone().or(v.name.clone()), k.phone.clone().or(v.phone.clone())),
        None => (v.email.clone(), v.name.clone(), v.phone.clone()),
    };
    let id = v.id.to_string();
    let values = [("email", email.as_deref()), ("name", name.as_deref()), ("phone", phone.as_deref()), ("id", Some(id.as_str()))];
    let links = store::settings(c)?
        .link_templates
        .into_iter()
        .filter_map(|t| super::fill_template(&t.url, &values).map(|url| super::LinkTemplate { name: t.name, url }))
        .collect();
    Ok((contact, links))
}
