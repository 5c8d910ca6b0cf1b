//! Customer records (SPEC T8): one contact per email address, shared by chat and tickets.
//!
//! A contact's email is the requester address of every one of its tickets, so changing it
//! re-points where replies go: [`edit`] lets only someone who may see all of the contact's
//! tickets and chats do it (`auth::policy::Viewer::may_edit_contact`), records it in the audit
//! log and adds a system line to each ticket of the contact.

pub mod http;
pub mod store;

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::auth::normalize_email;
use crate::error::AppError;
use crate::events::SystemEvent;
use crate::tickets::ops::Caller;

#[derive(Serialize, Debug, Clone)]
pub struct Contact {
    pub id: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub created_at: i64,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ContactPatch {
    /// Trimmed, with name and phone checked (the email is checked when it is applied).
    pub fn cleaned(&self) -> Result<ContactPatch, AppError> {
        let clean = |s: &Option<String>, max: usize, field: &str| -> Result<Option<String>, AppError> {
            match s.as_ref().map(|s| s.trim().to_string()) {
                Some(s) if s.chars().count() > max || s.chars().any(char::is_control) => {
                    Err(AppError::invalid(format!("{field}: at most {max} characters")))
                }
                other => Ok(other),
            }
        };
        Ok(ContactPatch { name: clean(&self.name, 100, "name")?, phone: clean(&self.phone, 40, "phone")?, email: self.email.clone() })
    }
}

/// Change a contact's details as `who`, if the policy lets them edit it (404 when they may not
/// see it, 403 when some of its tickets or chats are out of their sight). Returns the contact's
/// id afterwards: another one when the new email belonged to another contact (the two merge).
/// `agents_see_colleagues` is the chat setting of that name.
pub fn edit(c: &Connection, who: &Caller, id: i64, patch: &ContactPatch, agents_see_colleagues: bool, now: i64) -> Result<i64, AppError> {
    let patch = patch.cleaned()?;
    who.viewer.check_contact_edit(c, id, agents_see_colleagues)?;
    let id = match patch.email.as_deref() {
        Some(e) => change_email(c, who, id, e, agents_see_colleagues, now)?,
        None => id,
    };
    if patch.name.is_some() || patch.phone.is_some() {
        store::update(c, id, patch.name.as_deref(), patch.phone.as_deref(), now)?;
    }
    Ok(id)
}

/// The requester address of every ticket of the contact changes: audited, and a system line in
/// each of those tickets. An address another contact has merges this one into it, which needs
/// the right to edit that contact too.
fn change_email(c: &Connection, who: &Caller, id: i64, email: &str, agents_see_colleagues: bool, now: i64) -> Result<i64, AppError> {
    crate::auth::validate_email(email)?;
    let before = store::get(c, id)?.ok_or_else(|| AppError::not_found("contact"))?;
    let norm = normalize_email(email);
    if before.email.as_deref().map(normalize_email).as_deref() == Some(norm.as_str()) {
        return Ok(id);
    }
    if let Some(other) = store::id_by_email(c, &norm)?
        && other != id
        && who.viewer.check_contact_edit(c, other, agents_see_colleagues).is_err()
    {
        return Err(AppError::forbidden("this address belongs to another customer whose details you cannot change"));
    }
    let tickets = store::ticket_ids(c, id)?;
    let into = store::attach_email(c, id, email, now)?;
    let to = store::get(c, into)?.and_then(|ct| ct.email).unwrap_or_else(|| email.trim().to_string());
    let event = match &before.email {
        Some(from) => SystemEvent::requester_changed(from, &to, &who.name),
        None => SystemEvent::requester_set(&to, &who.name),
    };
    for t in tickets {
        crate::tickets::store::add_system(c, t, &event, now)?;
    }
    let details = serde_json::json!({"from": before.email, "to": to, "merged_into": (into != id).then_some(into)});
    crate::audit::store::record(c, now, &who.actor(), "contact.email", Some(&format!("contact:{id}")), Some(&details))?;
    Ok(into)
}

/// A ticket without a customer gets one: the contact of `email` (created when new) and/or the
/// `name` given. Naming an existing contact is editing it, with the same rule as [`edit`].
/// Returns the contact's id.
pub fn for_ticket(
    c: &Connection,
    who: &Caller,
    ticket_id: i64,
    email: Option<&str>,
    name: Option<&str>,
    agents_see_colleagues: bool,
    now: i64,
) -> Result<i64, AppError> {
    let patch = ContactPatch { name: name.map(str::to_string), ..Default::default() }.cleaned()?;
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(e) = email {
        crate::auth::validate_email(e)?;
    }
    let existing = match email {
        Some(e) => store::id_by_email(c, &normalize_email(e))?,
        None => None,
    };
    let id = match existing {
        Some(id) => {
            if patch.name.is_some() {
                edit(c, who, id, &patch, agents_see_colleagues, now)?;
            }
            id
        }
        None => store::upsert(c, email, patch.name.as_deref(), now)?,
    };
    crate::tickets::store::set_contact(c, ticket_id, id)?;
    if let Some(e) = email {
        crate::tickets::store::add_system(c, ticket_id, &SystemEvent::requester_set(e, &who.name), now)?;
        let details = serde_json::json!({"to": e, "contact_id": id});
        crate::audit::store::record(c, now, &who.actor(), "ticket.requester", Some(&format!("ticket:{ticket_id}")), Some(&details))?;
    }
    Ok(id)
}
