//! Departments (groups): who answers what, and which ones visitors may choose.

pub mod http;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::error::AppError;

#[derive(Serialize, Debug, Clone)]
pub struct Department {
    pub id: i64,
    pub name: String,
    pub visible: bool,
    pub created_at: i64,
    /// A pattern ticket subjects must match (T2), e.g. an order number.
    pub subject_rule: Option<String>,
    /// Agents take unassigned tickets only through Next (T5).
    pub next_only: bool,
    /// The reply every ticket of this department starts from (T7), with placeholders.
    pub reply_template: Option<String>,
    /// Chat routing: priority, hours, holidays, queue limit, offline behaviour, sites.
    #[serde(flatten)]
    pub chat: crate::routing::ChatRules,
    /// The pre-chat form of chats in this department (W3); null: none.
    pub prechat: Option<crate::widget::PrechatForm>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    pub name: String,
    #[serde(default = "yes")]
    pub visible: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct DepartmentPatch {
    pub name: Option<String>,
    pub visible: Option<bool>,
    pub subject_rule: Option<String>,
    pub next_only: Option<bool>,
    pub reply_template: Option<String>,
    // Chat routing rules, checked by `routing::ChatRulesPatch::apply`.
    pub priority: Option<i64>,
    pub timezone: Option<String>,
    /// null: always open.
    #[serde(default, deserialize_with = "crate::routing::http::nullable")]
    pub hours: Option<Option<serde_json::Value>>,
    pub holidays: Option<Vec<String>>,
    /// null: no limit.
    #[serde(default, deserialize_with = "crate::routing::http::nullable")]
    pub queue_limit: Option<Option<i64>>,
    pub offline_behaviour: Option<crate::routing::OfflineBehaviour>,
    pub origins: Option<Vec<String>>,
    /// null: no pre-chat form.
    #[serde(default, deserialize_with = "crate::routing::http::nullable")]
    pub prechat: Option<Option<crate::widget::PrechatForm>>,
}

impl DepartmentPatch {
    pub fn chat(&self) -> crate::routing::ChatRulesPatch {
        crate::routing::ChatRulesPatch {
            priority: self.priority,
            timezone: self.timezone.clone(),
            hours: self.hours.clone(),
            holidays: self.holidays.clone(),
            queue_limit: self.queue_limit,
            offline_behaviour: self.offline_behaviour,
            origins: self.origins.clone(),
        }
    }
}

pub fn validate_name(name: &str) -> Result<String, AppError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 80 || n.chars().any(char::is_control) {
        return Err(AppError::invalid("name: 1 to 80 characters, no control characters"));
    }
    Ok(n.to_string())
}

pub fn create(conn: &rusqlite::Connection, new: &NewDepartment, actor: &Actor, now: i64) -> Result<Department, AppError> {
    let name = validate_name(&new.name)?;
    let id = store::insert(conn, &name, new.visible, now)?;
    // Internal chat: every department has its team room.
    crate::teamchat::store::create_department_room(conn, id, now)?;
    audit::store::record(conn, now, actor, "department.create", Some(&name), None)?;
    store::get(conn, id)?.ok_or_else(|| AppError::internal("department vanished after insert"))
}

pub fn update(conn: &rusqlite::Connection, id: i64, patch: &DepartmentPatch, actor: &Actor, now: i64) -> Result<Department, AppError> {
    let name = patch.name.as_deref().map(validate_name).transpose()?;
    if let Some(rule) = patch.subject_rule.as_deref().filter(|r| !r.trim().is_empty())
        && (rule.len() > 200 || regex_lite::Regex::new(rule).is_err())
    {
        return Err(AppError::invalid("subject_rule: not a valid pattern (at most 200 characters)"));
    }
    if patch.reply_template.as_ref().is_some_and(|t| t.chars().count() > 10_000) {
        return Err(AppError::invalid("reply_template: at most 10000 characters"));
    }
    if let Some(Some(form)) = &patch.prechat {
        form.validate()?;
    }
    store::get(conn, id)?.ok_or_else(|| AppError::not_found("department"))?;
    if let Some(form) = &patch.prechat {
        crate::widget::store::set_prechat_form(conn, id, form.as_ref())?;
    }
    let chat = patch.chat();
    if !chat.is_empty() {
        let rules = crate::routing::store::department(conn, id)?.ok_or_else(|| AppError::not_found("department"))?;
        crate::routing::store::set_department_rules(conn, &chat.apply(rules)?)?;
    }
    store::update(conn, id, name.as_deref(), patch.visible)?;
    store::set_ticket_options(conn, id, patch.subject_rule.as_deref(), patch.next_only, patch.reply_template.as_deref())?;
    let d = store::get(conn, id)?.ok_or_else(|| AppError::not_found("department"))?;
    let details = serde_json::json!({
        "name": name, "visible": patch.visible, "subject_rule": patch.subject_rule,
        "next_only": patch.next_only, "reply_template": patch.reply_template.as_ref().map(|_| "changed"),
        "chat": d.chat, "prechat": patch.prechat.as_ref().map(|_| &d.prechat),
    });
    audit::store::record(conn, now, actor, "department.update", Some(&d.name), Some(&details))?;
    Ok(d)
}

pub fn delete(conn: &rusqlite::Connection, id: i64, actor: &Actor, now: i64) -> Result<(), AppError> {
    let d = store::get(conn, id)?.ok_or_else(|| AppError::not_found("department"))?;
    store::delete(conn, id)?;
    audit::store::record(conn, now, actor, "department.delete", Some(&d.name), None)?;
    Ok(())
}

/// `PUT /departments/{id}/members`: the whole member list at once (the Departments page edits
/// membership in bulk; the Agents page edits one agent's departments with `agents::update`).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Members {
    pub agent_ids: Vec<i64>,
}

/// What a membership change did: the new member list, and who joined or left (their sockets
/// re-check their rights after the commit).
#[derive(Serialize, Debug)]
pub struct MembersChanged {
    pub agent_ids: Vec<i64>,
    pub added: Vec<i64>,
    pub removed: Vec<i64>,
}

/// At most this many agents in one membership request.
pub const MAX_MEMBERS: usize = 1000;

pub fn set_members(conn: &rusqlite::Connection, id: i64, body: &Members, actor: &Actor, now: i64) -> Result<MembersChanged, AppError> {
    if body.agent_ids.len() > MAX_MEMBERS {
        return Err(AppError::invalid(format!("agent_ids: at most {MAX_MEMBERS}")));
    }
    let d = store::get(conn, id)?.ok_or_else(|| AppError::not_found("department"))?;
    let mut wanted = body.agent_ids.clone();
    wanted.sort_unstable();
    wanted.dedup();
    let before = store::member_ids(conn, id)?;
    store::set_members(conn, id, &wanted)?;
    let added: Vec<i64> = wanted.iter().copied().filter(|a| !before.contains(a)).collect();
    let removed: Vec<i64> = before.iter().copied().filter(|a| !wanted.contains(a)).collect();
    if !added.is_empty() || !removed.is_empty() {
        let details = serde_json::json!({"added": added, "removed": removed});
        audit::store::record(conn, now, actor, "department.members", Some(&d.name), Some(&details))?;
    }
    Ok(MembersChanged { agent_ids: wanted, added, removed })
}

// ---- ticket options (moved from tickets)

/// What a department asks of its tickets: a subject rule (T2), "Next only" (T5) and the reply
/// template (T7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketOptions {
    pub subject_rule: Option<String>,
    pub next_only: bool,
    pub reply_template: Option<String>,
}
