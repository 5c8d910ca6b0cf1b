//! Agents: the people who answer chats and tickets, with their role, limits and departments.

pub mod http;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::auth::{self, Role, normalize_email, validate_email, validate_password};
use crate::error::AppError;

pub const LOCALES: &[&str] = &["en", "ru", "uk", "pl"];

#[derive(Serialize, Debug, Clone)]
pub struct Agent {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub locale: String,
    pub chat_limit: i64,
    pub department_ids: Vec<i64>,
    pub created_at: i64,
    /// Signs in with a second factor (TOTP).
    pub totp_enabled: bool,
    /// accepting / not_accepting / offline (SPEC C2).
    pub status: crate::routing::AgentStatus,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    #[serde(default)]
    pub chat_limit: Option<i64>,
    #[serde(default)]
    pub department_ids: Vec<i64>,
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub chat_limit: Option<i64>,
    pub department_ids: Option<Vec<i64>>,
    pub locale: Option<String>,
}

/// How the console tells this agent about new work (issue 14): a sound, which events raise the
/// popup, and desktop notifications while the tab is hidden. Every field is required on
/// write, so a client cannot half-set it by accident.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NotifyPrefs {
    /// Play a chime.
    pub sound: bool,
    /// A new chat waiting in the queue, or one routed to me.
    pub new_chat: bool,
    /// A new visitor message in one of my chats while I am elsewhere.
    pub new_message: bool,
    /// Desktop notifications while the console tab is hidden.
    pub desktop: bool,
}

impl Default for NotifyPrefs {
    fn default() -> Self {
        NotifyPrefs { sound: true, new_chat: true, new_message: true, desktop: true }
    }
}

pub fn validate_name(name: &str) -> Result<String, AppError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(AppError::invalid("name: must not be empty"));
    }
    if n.chars().count() > 100 {
        return Err(AppError::invalid("name: at most 100 characters"));
    }
    if n.chars().any(crate::text::breaks_line) {
        return Err(AppError::invalid("name: must not contain control characters or line breaks"));
    }
    Ok(n.to_string())
}

pub fn validate_locale(l: &str) -> Result<(), AppError> {
    if LOCALES.contains(&l) { Ok(()) } else { Err(AppError::invalid(format!("locale: one of {}", LOCALES.join(", ")))) }
}

pub fn validate_chat_limit(n: i64) -> Result<(), AppError> {
    if (0..=100).contains(&n) { Ok(()) } else { Err(AppError::invalid("chat_limit: between 0 and 100")) }
}

impl NewAgent {
    /// Checks every field; returns the normalized email and trimmed name.
    pub fn validate(&self) -> Result<(String, String), AppError> {
        validate_email(&self.email)?;
        let name = validate_name(&self.name)?;
        validate_password(&self.password)?;
        if let Some(n) = self.chat_limit {
            validate_chat_limit(n)?;
        }
        if let Some(l) = &self.locale {
            validate_locale(l)?;
        }
        Ok((normalize_email(&self.email), name))
    }
}

impl AgentPatch {
    pub fn validate(&mut self) -> Result<(), AppError> {
        if let Some(n) = &self.name {
            self.name = Some(validate_name(n)?);
        }
        if let Some(n) = self.chat_limit {
            validate_chat_limit(n)?;
        }
        if let Some(l) = &self.locale {
            validate_locale(l)?;
        }
        Ok(())
    }
}

/// Create an agent (inside a write transaction). `password_hash` was computed beforehand so
/// the writer thread never spends time on argon2.
pub fn create(conn: &rusqlite::Connection, new: &NewAgent, password_hash: &str, actor: &Actor, now: i64) -> Result<Agent, AppError> {
    let (email_norm, name) = new.validate()?;
    let id = store::insert(
        conn,
        &store::Insert {
            email: &new.email,
            email_norm: &email_norm,
            name: &name,
            role: new.role,
            password_hash: Some(password_hash),
            chat_limit: new.chat_limit.unwrap_or(3),
            locale: new.locale.as_deref().unwrap_or("en"),
            now,
        },
    )?;
    crate::departments::store::set_of_agent(conn, id, &new.department_ids)?;
    let details = serde_json::json!({"role": new.role, "name": name});
    audit::store::record(conn, now, actor, "agent.create", Some(&email_norm), Some(&details))?;
    store::get(conn, id)?.ok_or_else(|| AppError::internal("agent vanished after insert"))
}

/// Someone an admin invites by email: they choose their password through the invitation link.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Invitee {
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub chat_limit: Option<i64>,
    #[serde(default)]
    pub department_ids: Vec<i64>,
    #[serde(default)]
    pub locale: Option<String>,
}

/// Create an invited agent without a password (inside a write transaction); the caller queues
/// the invitation in the same transaction.
pub fn create_invited(conn: &rusqlite::Connection, new: &Invitee, actor: &Actor, now: i64) -> Result<Agent, AppError> {
    validate_email(&new.email)?;
    let name = validate_name(&new.name)?;
    if let Some(n) = new.chat_limit {
        validate_chat_limit(n)?;
    }
    if let Some(l) = &new.locale {
        validate_locale(l)?;
    }
    let email_norm = normalize_email(&new.email);
    let id = store::insert(
        conn,
        &store::Insert {
            email: &new.email,
            email_norm: &email_norm,
            name: &name,
            role: new.role,
            password_hash: None,
            chat_limit: new.chat_limit.unwrap_or(3),
            locale: new.locale.as_deref().unwrap_or("en"),
            now,
        },
    )?;
    crate::departments::store::set_of_agent(conn, id, &new.department_ids)?;
    let details = serde_json::json!({"role": new.role, "name": name, "invited": true});
    audit::store::record(conn, now, actor, "agent.invite", Some(&email_norm), Some(&details))?;
    store::get(conn, id)?.ok_or_else(|| AppError::internal("agent vanished after insert"))
}

/// Apply a patch. Refuses to leave the install without an enabled admin; disabling an agent
/// ends all their sessions in the same transaction.
pub fn update(conn: &rusqlite::Connection, id: i64, mut patch: AgentPatch, actor: &Actor, now: i64) -> Result<Agent, AppError> {
    patch.validate()?;
    let before = store::get(conn, id)?.ok_or_else(|| AppError::not_found("agent"))?;
    store::update_fields(conn, id, patch.name.as_deref(), patch.role, patch.disabled, patch.chat_limit, patch.locale.as_deref(), now)?;
    if let Some(depts) = &patch.department_ids {
        crate::departments::store::set_of_agent(conn, id, depts)?;
    }
    if before.role == Role::Admin && !before.disabled && store::enabled_admins(conn)? == 0 {
        return Err(AppError::conflict("this change would leave no enabled admin"));
    }
    if patch.disabled == Some(true) && !before.disabled {
        auth::store::delete_agent_sessions(conn, id, None)?;
        crate::routing::store::set_status(conn, id, crate::routing::AgentStatus::Offline, crate::routing::StatusReason::SessionEnd, now)?;
    }
    let after = store::get(conn, id)?.ok_or_else(|| AppError::not_found("agent"))?;
    let action = match (before.disabled, after.disabled) {
        (false, true) => "agent.disable",
        (true, false) => "agent.enable",
        _ if before.role != after.role => "agent.role",
        _ => "agent.update",
    };
    let details = serde_json::json!({
        "name": patch.name, "role": patch.role, "disabled": patch.disabled,
        "chat_limit": patch.chat_limit, "department_ids": patch.department_ids, "locale": patch.locale,
        "role_before": (before.role != after.role).then_some(before.role),
    });
    audit::store::record(conn, now, actor, action, Some(&after.email), Some(&details))?;
    Ok(after)
}

/// Set a new password hash and end the agent's sessions (except `keep`, the caller's own when
/// they change their own password).
pub fn set_password(conn: &rusqlite::Connection, id: i64, hash: &str, keep: Option<i64>, actor: &Actor, now: i64) -> Result<(), AppError> {
    let agent = store::get(conn, id)?.ok_or_else(|| AppError::not_found("agent"))?;
    store::set_password(conn, id, hash, now)?;
    auth::store::delete_agent_sessions(conn, id, keep)?;
    audit::store::record(conn, now, actor, "agent.password", Some(&agent.email), None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(email: &str, name: &str, password: &str) -> NewAgent {
        NewAgent {
            email: email.into(),
            name: name.into(),
            role: Role::Agent,
            password: password.into(),
            chat_limit: None,
            department_ids: vec![],
            locale: None,
        }
    }

    #[test]
    fn new_agent_validation_table() {
        let cases: &[(NewAgent, bool)] = &[
            (new("a@b.co", "Ann", "password1"), true),
            (new("a@b.co", "  ", "password1"), false),
            (new("not-an-email", "Ann", "password1"), false),
            (new("a@b.co", "Ann", "short"), false),
            (new("a@b.co", &"x".repeat(101), "password1"), false),
            (new("a@b.co", "Ann\u{0}", "password1"), false),
            (new("a@b.co", "Ann\u{2028}Bcc: x@y.z", "password1"), false),
            (NewAgent { chat_limit: Some(101), ..new("a@b.co", "Ann", "password1") }, false),
            (NewAgent { locale: Some("de".into()), ..new("a@b.co", "Ann", "password1") }, false),
        ];
        for (agent, ok) in cases {
            assert_eq!(agent.validate().is_ok(), *ok, "{agent:?}");
        }
        assert_eq!(new(" Ann@B.co ", " Ann ", "password1").validate().unwrap(), ("ann@b.co".into(), "Ann".into()));
    }
}
