//! Ticket operations: each a plain function over the caller's write (or read) transaction, so
//! HTTP handlers, mail intake, the CLI and the scheduler change tickets the same way. They
//! validate their input, check what the caller may see and do, write, and return typed results;
//! publishing to the hub is the caller's job, after the commit.

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::store::{self, Ticket};
use super::{AfterReply, CustomerReply, Kind, Placeholders, Source, Status};
use crate::audit::{self, Actor};
use crate::auth::policy::Viewer;
use crate::auth::{Credential, Principal, Role};
use crate::contacts;
use crate::departments;
use crate::error::AppError;
use crate::events::SystemEvent;

/// Days within which a customer reply reopens a solved ticket (T3).
pub const REOPEN_DAYS: i64 = 7;

// ---------------------------------------------------------------- who is acting

/// Who performs an operation: a console user, an API token, the CLI, mail intake. What it may
/// see and do is its [`Viewer`] (the one access policy, `auth::policy`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub viewer: Viewer,
    /// For system lines ("Released by Ann").
    pub name: String,
    /// For the audit log.
    pub label: String,
    /// Where tickets and customer messages this caller records come from.
    pub source: Source,
}

impl Caller {
    /// A caller that is not a person and sees everything: mail intake (`Source::Email`), the
    /// CLI, the scheduler.
    pub fn system(name: &str, source: Source) -> Caller {
        Caller { viewer: Viewer { agent_id: None, role: Role::Admin }, name: name.to_string(), label: name.to_string(), source }
    }

    /// The agent behind this caller (None for person-less API tokens, the CLI, intake).
    pub fn agent_id(&self) -> Option<i64> {
        self.viewer.agent_id
    }

    pub fn actor(&self) -> Actor {
        Actor { agent_id: self.viewer.agent_id, label: self.label.clone() }
    }

    /// The agent behind this caller, or a clear error for person-less callers.
    pub fn agent(&self) -> Result<i64, AppError> {
        self.viewer.agent_id.ok_or_else(|| AppError::invalid("this API token does not belong to an agent"))
    }
}

impl From<&Principal> for Caller {
    /// Console users record what they were told (`manual`); API tokens are `api`.
    fn from(p: &Principal) -> Caller {
        let source = if matches!(p.credential, Credential::Token { .. }) { Source::Api } else { Source::Manual };
        Caller { viewer: p.viewer(), name: p.name.clone(), label: p.label.clone(), source }
    }
}

/// Load a ticket the caller may see (404 otherwise: no hint that it exists).
pub fn visible_ticket(c: &Connection, who: &Caller, number: i64) -> Result<Ticket, AppError> {
    who.viewer.visible_ticket(c, number)
}

fn department_options(c: &Connection, id: i64) -> Result<departments::TicketOptions, AppError> {
    departments::store::ticket_options(c, id)?.ok_or_else(|| AppError::invalid("department_id: no such department"))
}

fn clean_tags(tags: &[String]) -> Result<Vec<String>, AppError> {
    crate::tags::clean(tags)
}

fn clean_addresses(list: &[String], field: &str) -> Result<Vec<String>, AppError> {
    if list.len() > 20 {
        return Err(AppError::invalid(format!("{field}: at most 20 addresses")));
    }
    list.iter()
        .map(|a| {
            crate::auth::validate_email(a).map_err(|_| AppError::invalid(format!("{field}: {a:?} is not an email address")))?;
            Ok(a.trim().to_string())
        })
        .collect()
}

/// A stable, unique Message-ID for an outgoing mail of ticket `number`.
pub fn new_message_id(number: i64, host: &str) -> String {
    format!("<fd.{number}.{}@{host}>", hex::encode(crate::auth::random_bytes::<10>()))
}

// ---------------------------------------------------------------- opening a ticket

/// A ticket about to be opened, with its first message.
#[derive(Debug)]
pub struct Opening<'a> {
    pub subject: &'a str,
    pub source: Source,
    pub department_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub visitor_id: Option<i64>,
    pub first: First<'a>,
}

/// The first message of a new ticket.
#[derive(Debug)]
pub enum First<'a> {
    /// A new message (a customer's carries the ticket's subject).
    New {
        kind: Kind,
        agent_id: Option<i64>,
        body: &'a str,
        body_html: Option<&'a str>,
        /// The mail's Message-ID, for threading.
        message_id: Option<&'a str>,
        attachments: &'a [i64],
    },
    /// An existing message of another ticket, moved here (split).
    Moved(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    pub id: i64,
    pub number: i64,
    /// The first message.
    pub message_id: i64,
}

/// Open a ticket (status Open) with its first message: the one way tickets come to exist,
/// whether typed in the console, sent by the API or the widget, made from a chat, split off, or
/// started by a customer writing to a ticket solved too long ago.
pub fn open(c: &Connection, o: &Opening, now: i64) -> Result<Opened, AppError> {
    // Every way a ticket comes to exist passes here: its subject is one clean line (finding 13).
    let subject = &crate::text::single_line(o.subject, 300);
    let (id, number) = store::insert(
        c,
        &store::NewTicket {
            subject,
            status: Status::Open,
            source: o.source,
            department_id: o.department_id,
            agent_id: o.agent_id,
            contact_id: o.contact_id,
            conversation_id: o.conversation_id,
            visitor_id: o.visitor_id,
            now,
        },
    )?;
    let message_id = match o.first {
        First::New { kind, agent_id, body, body_html, message_id, attachments } => {
            let mid = store::add_message(
                c,
                &store::NewMessage {
                    ticket_id: id,
                    kind,
                    agent_id,
                    contact_id: o.contact_id,
                    body,
                    body_html,
                    subject: (kind == Kind::Customer).then_some(subject),
                    to: &[],
                    cc: &[],
                    message_id,
                    now,
                },
            )?;
            store::attach(c, mid, attachments)?;
            mid
        }
        First::Moved(mid) => {
            store::move_message(c, mid, id)?;
            mid
        }
    };
    let data = serde_json::json!({"ticket": {"number": number, "subject": o.subject, "status": "open", "source": o.source.as_str(),
        "department_id": o.department_id, "agent_id": o.agent_id, "contact_id": o.contact_id, "conversation_id": o.conversation_id}});
    crate::webhooks::enqueue(c, "ticket.created", data, now)?;
    Ok(Opened { id, number, message_id })
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub email: Option<String>,
    pub name: Option<String>,
}

/// A ticket typed in the console or sent by the API.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub subject: String,
    pub body: String,
    #[serde(default)]
    pub customer: Option<Customer>,
    pub department_id: Option<i64>,
    pub agent_id: Option<i64>,
    #[serde(default)]
    pub attachments: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A manual (console) or API ticket: the body becomes the first customer message; no mail goes
/// out on creation.
pub fn create(c: &Connection, who: &Caller, new: &NewTicket, now: i64) -> Result<Opened, AppError> {
    let subject = super::validate_subject(&new.subject)?;
    super::validate_body(&new.body)?;
    let tags = clean_tags(&new.tags)?;
    let customer = new.customer.clone().unwrap_or_default();
    let email = customer.email.as_deref().filter(|e| !e.trim().is_empty());
    if let Some(e) = email {
        crate::auth::validate_email(e)?;
    }
    if let Some(d) = new.department_id {
        super::check_subject_rule(department_options(c, d)?.subject_rule.as_deref(), &subject)?;
    }
    if let Some(a) = new.agent_id {
        crate::agents::store::get(c, a)?.ok_or_else(|| AppError::invalid("agent_id: no such agent"))?;
    }
    let attachments = who.viewer.attachable(c, &new.attachments)?;
    let has_customer = email.is_some() || customer.name.as_deref().is_some_and(|n| !n.trim().is_empty());
    let contact =
        if has_customer { Some(contacts::store::upsert(c, customer.email.as_deref(), customer.name.as_deref(), now)?) } else { None };
    let opened = open(
        c,
        &Opening {
            subject: &subject,
            source: who.source,
            department_id: new.department_id,
            agent_id: new.agent_id,
            contact_id: contact,
            conversation_id: None,
            visitor_id: None,
            first: First::New {
                kind: Kind::Customer,
                agent_id: None,
                body: &new.body,
                body_html: None,
                message_id: None,
                attachments: &attachments,
            },
        },
        now,
    )?;
    store::set_tags(c, opened.id, &tags)?;
    Ok(opened)
}

// ---------------------------------------------------------------- reading

/// A ticket with its thread, the customer's other open tickets and the department's reply
/// template filled in for the caller.
#[derive(Debug, Clone)]
pub struct Detail {
    pub ticket: Ticket,
    pub messages: Vec<store::ThreadMessage>,
    pub other_tickets: Vec<Ticket>,
    pub reply_draft: Option<String>,
}

pub fn detail(c: &Connection, who: &Caller, number: i64) -> Result<Detail, AppError> {
    let t = visible_ticket(c, who, number)?;
    let messages = store::thread(c, t.id)?;
    let other_tickets = match &t.contact {
        Some(ct) => store::others_of_contact(c, ct.id, t.id, who.viewer.tickets())?,
        None => vec![],
    };
    let template = match t.department_id {
        Some(d) => departments::store::ticket_options(c, d)?.and_then(|o| o.reply_template),
        None => None,
    };
    let reply_draft = match template {
        Some(tpl) => {
            let agent_name = match who.agent_id() {
                Some(a) => crate::agents::store::get(c, a)?.map(|a| a.name),
                None => None,
            };
            Some(super::expand(
                &tpl,
                &Placeholders {
                    visitor_name: t.contact.as_ref().and_then(|c| c.name.clone()),
                    visitor_email: t.contact.as_ref().and_then(|c| c.email.clone()),
                    agent_name,
                    ticket_number: Some(t.number),
                    ticket_subject: Some(t.subject.clone()),
                },
            ))
        }
        None => None,
    };
    Ok(Detail { ticket: t, messages, other_tickets, reply_draft })
}

// ---------------------------------------------------------------- changing

/// Absent fields stay as they are; for `agent_id` and `department_id`, `null` clears.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub status: Option<Status>,
    #[serde(default, with = "double_option")]
    pub agent_id: Option<Option<i64>>,
    #[serde(default, with = "double_option")]
    pub department_id: Option<Option<i64>>,
    pub subject: Option<String>,
    pub tags: Option<Vec<String>>,
    pub snoozed_until: Option<i64>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
}

/// `null` means "clear", absent means "leave as is".
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}

/// Status, assignment, subject, tags, snooze, requester. `agents_see_colleagues` is the chat
/// setting of that name (the requester's chats count for who may edit the requester).
pub fn update(c: &Connection, who: &Caller, number: i64, b: &Patch, agents_see_colleagues: bool, now: i64) -> Result<(), AppError> {
    let subject = b.subject.as_deref().map(super::validate_subject).transpose()?;
    let tags = b.tags.as_deref().map(clean_tags).transpose()?;
    if b.snoozed_until.is_some() && b.status.is_some() {
        return Err(AppError::invalid("send either status or snoozed_until"));
    }
    if b.snoozed_until.is_some_and(|t| t <= now) {
        return Err(AppError::invalid("snoozed_until: must be in the future"));
    }
    let t = visible_ticket(c, who, number)?;
    if let Some(Some(a)) = b.agent_id {
        crate::agents::store::get(c, a)?.ok_or_else(|| AppError::invalid("agent_id: no such agent"))?;
        // "Next only" departments: agents take unassigned tickets only through Next.
        if !who.viewer.sees_all()
            && t.agent_id.is_none()
            && who.agent_id() == Some(a)
            && let Some(d) = t.department_id
            && departments::store::ticket_options(c, d)?.is_some_and(|o| o.next_only)
        {
            return Err(AppError::forbidden("this department hands out tickets only through Next"));
        }
    }
    if let Some(Some(d)) = b.department_id {
        department_options(c, d)?;
    }
    store::set_assignment(c, t.id, b.agent_id, b.department_id, now)?;
    if let Some(s) = &subject {
        store::set_subject(c, t.id, s, now)?;
    }
    if let Some(tags) = &tags {
        store::set_tags(c, t.id, tags)?;
    }
    if let Some(status) = b.status
        && status != t.status
    {
        store::set_status(c, t.id, status, now)?;
        store::add_system(c, t.id, &SystemEvent::status_changed(status.as_str(), &who.name), now)?;
    }
    if let Some(until) = b.snoozed_until {
        store::snooze(c, t.id, until, now)?;
    }
    if b.customer_email.is_some() || b.customer_name.is_some() {
        // The requester is the ticket's contact, shared with the customer's other tickets and
        // chats: editing it follows the contact rule (audited, a system line in each ticket).
        match &t.contact {
            Some(ct) => {
                let patch = contacts::ContactPatch { name: b.customer_name.clone(), email: b.customer_email.clone(), phone: None };
                contacts::edit(c, who, ct.id, &patch, agents_see_colleagues, now)?;
            }
            None => {
                contacts::for_ticket(c, who, t.id, b.customer_email.as_deref(), b.customer_name.as_deref(), agents_see_colleagues, now)?;
            }
        }
    }
    let changes = serde_json::json!({"status": b.status.map(|s| s.as_str()), "agent_id": b.agent_id, "department_id": b.department_id,
        "subject": subject, "tags": tags, "snoozed_until": b.snoozed_until});
    crate::webhooks::enqueue(c, "ticket.updated", serde_json::json!({"ticket": {"number": t.number}, "changes": changes}), now)?;
    Ok(())
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub body: String,
    /// Default: the requester's address.
    #[serde(default)]
    pub to: Option<Vec<String>>,
    #[serde(default)]
    pub cc: Vec<String>,
    /// Default: `Re: {subject} [#{number}]`.
    pub subject: Option<String>,
    #[serde(default)]
    pub after: AfterReply,
    #[serde(default)]
    pub attachments: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replied {
    /// The reply in the thread.
    pub message_id: i64,
    /// The queued mail; None when the ticket has no requester address (and no `to` was given).
    pub outbox_id: Option<i64>,
}

/// Answer the customer: the `reply` thread message with a new stable Message-ID (`host` is the
/// domain it names), the status the agent chose, the ticket taken if unassigned, and the mail in
/// the outbox (To/CC, subject, text + HTML, In-Reply-To/References) in the same transaction.
pub fn reply(c: &Connection, who: &Caller, number: i64, b: &Reply, host: &str, now: i64) -> Result<Replied, AppError> {
    super::validate_body(&b.body)?;
    let cc = clean_addresses(&b.cc, "cc")?;
    let explicit_to = b.to.as_deref().map(|t| clean_addresses(t, "to")).transpose()?;
    let subject_override = b.subject.as_deref().map(super::validate_subject).transpose()?;
    let t = visible_ticket(c, who, number)?;
    if t.status == Status::Spam {
        return Err(AppError::conflict("this ticket is marked as spam; change its status first"));
    }
    let attachments = who.viewer.attachable(c, &b.attachments)?;
    let first_reply = store::thread(c, t.id)?.iter().all(|m| m.kind != Kind::Reply);
    if first_reply && let Some(d) = t.department_id {
        let rule = departments::store::ticket_options(c, d)?.and_then(|o| o.subject_rule);
        super::check_subject_rule(rule.as_deref(), subject_override.as_deref().unwrap_or(&t.subject))?;
    }
    let to = match explicit_to {
        Some(to) => to,
        None => t.contact.as_ref().and_then(|ct| ct.email.clone()).into_iter().collect(),
    };
    let subject = crate::text::single_line(&subject_override.unwrap_or_else(|| format!("Re: {} [#{}]", t.subject, t.number)), 998);
    let message_id = new_message_id(t.number, host);
    let mid = store::add_message(
        c,
        &store::NewMessage {
            ticket_id: t.id,
            kind: Kind::Reply,
            agent_id: who.agent_id(),
            contact_id: None,
            body: &b.body,
            body_html: None,
            subject: Some(&subject),
            to: &to,
            cc: &cc,
            message_id: Some(&message_id),
            now,
        },
    )?;
    store::attach(c, mid, &attachments)?;
    store::set_status(c, t.id, b.after.status(), now)?;
    let data = serde_json::json!({"ticket": {"number": t.number, "status": b.after.status().as_str()},
        "message": {"id": mid, "agent_id": who.agent_id(), "body": b.body, "to": to, "cc": cc, "subject": subject}});
    crate::webhooks::enqueue(c, "ticket.replied", data, now)?;
    if t.agent_id.is_none()
        && let Some(a) = who.agent_id()
    {
        // Whoever answers an unassigned ticket owns it.
        store::set_assignment(c, t.id, Some(Some(a)), None, now)?;
    }
    if to.is_empty() {
        return Ok(Replied { message_id: mid, outbox_id: None });
    }
    let ids = store::thread_message_ids(c, t.id)?;
    let previous: Vec<&String> = ids.iter().filter(|i| **i != message_id).collect();
    let references = (!previous.is_empty()).then(|| previous.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
    // The answer to an offline message says so (SPEC W6); both in the customer's language.
    let offline = t.source == Source::Offline.as_str();
    let lang = crate::mail::customer_language(c, t.id)?;
    let (body_text, body_html) = crate::mail::templates::ticket_reply(lang, t.number, &b.body, offline);
    let outbox_id = store::enqueue_mail(
        c,
        &store::OutboxMail {
            kind: if offline { "offline_answer" } else { "ticket_reply" },
            to: &to,
            cc: &cc,
            subject: &subject,
            body_text: &body_text,
            body_html: Some(&body_html),
            message_id: &message_id,
            in_reply_to: previous.last().map(|s| s.as_str()),
            references: references.as_deref(),
            ticket_id: Some(t.id),
            ticket_message_id: Some(mid),
            auto_submitted: false,
            now,
        },
    )?;
    Ok(Replied { message_id: mid, outbox_id: Some(outbox_id) })
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// An internal note (never mailed, never shown to the customer). Returns its message id.
pub fn note(c: &Connection, who: &Caller, number: i64, b: &Note, now: i64) -> Result<i64, AppError> {
    super::validate_body(&b.body)?;
    let t = visible_ticket(c, who, number)?;
    let attachments = who.viewer.attachable(c, &b.attachments)?;
    store::add_note(c, t.id, who.agent_id(), &b.body, &attachments, now)
}

/// What the customer said, from wherever it came (mail, the API, a phone call noted down).
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub body: &'a str,
    pub body_html: Option<&'a str>,
    /// The mail's Message-ID, for threading.
    pub message_id: Option<&'a str>,
    /// The source of the new ticket, when the message starts one.
    pub source: Source,
}

/// Append a customer message to a ticket, applying T3: Pending → Open, Solved → Open within
/// the reopen window, else a new ticket (with the message's source). Shared by the API and mail
/// intake. Returns the number of the ticket that received it.
pub fn add_customer_message(c: &Connection, t: &Ticket, m: &Incoming, now: i64) -> Result<i64, AppError> {
    receive_customer_message(c, t, m, &[], now).map(|r| r.number)
}

/// Where [`receive_customer_message`] put a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// The ticket that received it (a new one after the reopen window).
    pub number: i64,
    /// The thread message.
    pub message_id: i64,
}

/// [`add_customer_message`] with files (mail intake's attachments), telling which thread
/// message was written.
pub fn receive_customer_message(c: &Connection, t: &Ticket, m: &Incoming, attachments: &[i64], now: i64) -> Result<Received, AppError> {
    let contact = t.contact.as_ref().map(|c| c.id);
    match super::on_customer_reply(t.status, t.solved_at, now, REOPEN_DAYS) {
        CustomerReply::Append(status) => {
            let mid = store::add_message(
                c,
                &store::NewMessage {
                    ticket_id: t.id,
                    kind: Kind::Customer,
                    agent_id: None,
                    contact_id: contact,
                    body: m.body,
                    body_html: m.body_html,
                    subject: None,
                    to: &[],
                    cc: &[],
                    message_id: m.message_id,
                    now,
                },
            )?;
            store::attach(c, mid, attachments)?;
            if status != t.status {
                store::set_status(c, t.id, status, now)?;
                if t.status == Status::Solved {
                    store::add_system(c, t.id, &SystemEvent::reopened(), now)?;
                }
            }
            Ok(Received { number: t.number, message_id: mid })
        }
        CustomerReply::NewTicket => {
            let opened = open(
                c,
                &Opening {
                    subject: &t.subject,
                    source: m.source,
                    department_id: t.department_id,
                    agent_id: None,
                    contact_id: contact,
                    conversation_id: None,
                    visitor_id: None,
                    first: First::New {
                        kind: Kind::Customer,
                        agent_id: None,
                        body: m.body,
                        body_html: m.body_html,
                        message_id: m.message_id,
                        attachments,
                    },
                },
                now,
            )?;
            store::add_system(c, opened.id, &SystemEvent::follow_up(t.number), now)?;
            Ok(Received { number: opened.number, message_id: opened.message_id })
        }
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct CustomerMessage {
    pub body: String,
}

/// Record what the customer said on a ticket the caller sees, with the caller's source.
/// Returns the number of the ticket that received it (a new one after the reopen window).
pub fn customer_message(c: &Connection, who: &Caller, number: i64, b: &CustomerMessage, now: i64) -> Result<i64, AppError> {
    super::validate_body(&b.body)?;
    let t = visible_ticket(c, who, number)?;
    add_customer_message(c, &t, &Incoming { body: &b.body, body_html: None, message_id: None, source: who.source }, now)
}

/// Next: the oldest open unassigned ticket of my departments, now mine. Returns its number.
pub fn next(c: &Connection, who: &Caller, now: i64) -> Result<i64, AppError> {
    let me = who.agent()?;
    let depts = departments::store::of_agent(c, me)?;
    store::take_next(c, me, &depts, now)?.ok_or_else(|| AppError::not_found("open unassigned ticket"))
}

/// Give a ticket back to the pool (the assignee or a supervisor).
pub fn release(c: &Connection, who: &Caller, number: i64, now: i64) -> Result<(), AppError> {
    let t = visible_ticket(c, who, number)?;
    if !who.viewer.may_release_ticket(t.agent_id) {
        return Err(AppError::forbidden("only the assignee or a supervisor can release a ticket"));
    }
    store::set_assignment(c, t.id, Some(None), None, now)?;
    store::add_system(c, t.id, &SystemEvent::released(&who.name), now)?;
    Ok(())
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub agent_id: Option<i64>,
    pub department_id: Option<i64>,
    pub note: Option<String>,
    #[serde(default)]
    pub attachments: Vec<String>,
}

/// To an agent and/or department, with a note (T4).
pub fn transfer(c: &Connection, who: &Caller, number: i64, b: &Transfer, now: i64) -> Result<(), AppError> {
    if b.agent_id.is_none() && b.department_id.is_none() {
        return Err(AppError::invalid("give agent_id, department_id or both"));
    }
    let t = visible_ticket(c, who, number)?;
    let mut parts = Vec::new();
    if let Some(a) = b.agent_id {
        let agent = crate::agents::store::get(c, a)?.ok_or_else(|| AppError::invalid("agent_id: no such agent"))?;
        parts.push(agent.name);
    }
    if let Some(d) = b.department_id {
        let dept = departments::store::get(c, d)?.ok_or_else(|| AppError::invalid("department_id: no such department"))?;
        parts.push(dept.name);
    }
    store::set_assignment(c, t.id, b.agent_id.map(Some), b.department_id.map(Some), now)?;
    let attachments = who.viewer.attachable(c, &b.attachments)?;
    let text = match b.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => format!("Transferred to {} by {}: {n}", parts.join(" / "), who.name),
        None => format!("Transferred to {} by {}", parts.join(" / "), who.name),
    };
    store::add_note(c, t.id, who.agent_id(), &text, &attachments, now).map(|_| ())
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    pub into: i64,
}

/// Move this ticket's whole thread into another (T9); this one is solved and points there.
pub fn merge(c: &Connection, who: &Caller, number: i64, b: &Merge, now: i64) -> Result<(), AppError> {
    if b.into == number {
        return Err(AppError::invalid("into: a ticket cannot be merged into itself"));
    }
    let from = visible_ticket(c, who, number)?;
    let target = visible_ticket(c, who, b.into)?;
    if from.merged_into.is_some() || target.merged_into.is_some() {
        return Err(AppError::conflict("one of these tickets was already merged"));
    }
    let moved = store::move_all_messages(c, from.id, target.id)?;
    store::mark_merged(c, from.id, target.id, now)?;
    store::add_system(c, target.id, &SystemEvent::merged_in(from.number, &who.name, moved), now)?;
    store::add_system(c, from.id, &SystemEvent::merged_into(target.number), now)?;
    audit::store::record(c, now, &who.actor(), "ticket.merge", Some(&format!("#{} -> #{}", from.number, target.number)), None)
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Split {
    pub message_id: i64,
    pub subject: Option<String>,
}

/// Move one message into a new ticket (T9), taken by the caller. Returns the new ticket.
pub fn split(c: &Connection, who: &Caller, number: i64, b: &Split, now: i64) -> Result<Opened, AppError> {
    let subject = b.subject.as_deref().map(super::validate_subject).transpose()?;
    let t = visible_ticket(c, who, number)?;
    let (owner, kind) = store::message_owner(c, b.message_id)?.ok_or_else(|| AppError::not_found("message"))?;
    if owner != t.id {
        return Err(AppError::not_found("message"));
    }
    if kind == Kind::System {
        return Err(AppError::invalid("message_id: system lines cannot be split off"));
    }
    let subject = subject.unwrap_or_else(|| format!("{} (split from #{})", t.subject, t.number));
    let opened = open(
        c,
        &Opening {
            subject: &subject,
            source: Source::Manual,
            department_id: t.department_id,
            agent_id: who.agent_id(),
            contact_id: t.contact.as_ref().map(|ct| ct.id),
            conversation_id: None,
            visitor_id: None,
            first: First::Moved(b.message_id),
        },
        now,
    )?;
    store::add_system(c, opened.id, &SystemEvent::split_from(t.number, &who.name), now)?;
    store::add_system(c, t.id, &SystemEvent::split_to(opened.number), now)?;
    Ok(opened)
}

// ---------------------------------------------------------------- from chats and the widget

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FromChat {
    pub subject: Option<String>,
    pub department_id: Option<i64>,
}

/// The transcript as plain text for the ticket thread (and any mail that quotes it): the times on
/// the visitor's clock, the day and the zone named on the first line.
pub fn transcript_text(
    messages: &[crate::realtime::protocol::MessageOut],
    visitor_label: &str,
    tz: &jiff::tz::TimeZone,
    zone: &str,
) -> String {
    let local = |ms: i64, format: &str| crate::mail::kinds::local(ms, tz, format);
    let mut out = match messages.first() {
        Some(m) => format!("{} ({zone})\n", local(m.at, "%Y-%m-%d")),
        None => String::new(),
    };
    for m in messages {
        let who = match m.author.kind {
            "visitor" => visitor_label.to_string(),
            "agent" => m.author.name.clone().unwrap_or_else(|| "Agent".into()),
            _ => "—".into(),
        };
        let mut line = format!("[{}] {who}: {}", local(m.at, "%H:%M"), m.body);
        if let Some(a) = &m.attachment {
            line.push_str(&format!(" [file: {}]", a.name));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Turn a chat the caller may see into a ticket with its transcript and files (C10), taken by
/// the caller. `agents_see_colleagues` is the chat setting of that name.
pub fn from_conversation(
    c: &Connection,
    who: &Caller,
    conversation: i64,
    b: &FromChat,
    agents_see_colleagues: bool,
    now: i64,
) -> Result<Opened, AppError> {
    let subject = b.subject.as_deref().map(super::validate_subject).transpose()?;
    who.viewer.visible_conversation(c, conversation, agents_see_colleagues)?;
    let view = crate::chat::store::conversation_view(c, conversation)?.ok_or_else(|| AppError::not_found("conversation"))?;
    // The ticket's transcript may be quoted to the customer: no whisper or transfer note.
    let messages = crate::chat::store::visitor_messages_between(c, conversation, 0, i64::MAX)?;
    // The subject, the label and the times as the customer reads them (replies quote them):
    // their language and the time zone their browser reported.
    let (language, timezone) = crate::mail::store::visitor_locale(c, view.visitor.id)?;
    let lang = language.and_then(|l| crate::mail::templates::Lang::parse(&l)).unwrap_or(crate::mail::templates::Lang::En);
    let label = view
        .visitor
        .name
        .clone()
        .or(view.visitor.email.clone())
        .unwrap_or_else(|| crate::mail::templates::visitor_label(lang, view.visitor.id));
    let contact = match (&view.visitor.email, &view.visitor.name) {
        (None, None) => None,
        (email, name) => Some(contacts::store::upsert(c, email.as_deref(), name.as_deref(), now)?),
    };
    let (tz, zone) = crate::mail::kinds::visitor_zone(timezone.as_deref());
    let first_words = messages.iter().find(|m| m.author.kind == "visitor").map(|m| m.body.chars().take(80).collect::<String>());
    let subject = subject.unwrap_or_else(|| crate::mail::templates::chat_ticket_subject(lang, conversation, first_words.as_deref()));
    let text = transcript_text(&messages, &label, &tz, &zone);
    let attachments: Vec<i64> = messages
        .iter()
        .filter_map(|m| m.attachment.as_ref())
        .filter_map(|a| crate::chat::files::store::attachment_by_token(c, &a.token).ok().flatten().map(|x| x.0))
        .collect();
    open(
        c,
        &Opening {
            subject: &subject,
            source: Source::Chat,
            department_id: b.department_id.or(view.department_id),
            agent_id: who.agent_id(),
            contact_id: contact,
            conversation_id: Some(conversation),
            visitor_id: Some(view.visitor.id),
            first: First::New {
                kind: Kind::Transcript,
                agent_id: who.agent_id(),
                body: &text,
                body_html: None,
                message_id: None,
                attachments: &attachments,
            },
        },
        now,
    )
}

/// The widget's leave-a-message form (W6).
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct OfflineMessage {
    pub name: Option<String>,
    pub email: Option<String>,
    pub message: String,
    pub department_id: Option<i64>,
}

impl OfflineMessage {
    /// Validated, with name and address trimmed (blank ones dropped).
    pub fn cleaned(&self) -> Result<OfflineMessage, AppError> {
        super::validate_body(&self.message)?;
        if self.message.chars().count() > 10_000 {
            return Err(AppError::invalid("message: at most 10000 characters"));
        }
        let email = self.email.as_ref().map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
        if let Some(e) = &email {
            crate::auth::validate_email(e)?;
        }
        let name = self.name.as_deref().map(|n| crate::text::single_line(n, 100)).filter(|n| !n.is_empty());
        Ok(OfflineMessage { name, email, message: self.message.clone(), department_id: self.department_id })
    }
}

/// A visitor's offline message becomes a ticket; the visitor becomes the contact they named.
pub fn offline_message(c: &Connection, visitor_id: i64, m: &OfflineMessage, now: i64) -> Result<Opened, AppError> {
    let m = m.cleaned()?;
    if let Some(d) = m.department_id {
        let dept = departments::store::get(c, d)?.ok_or_else(|| AppError::invalid("department_id: no such department"))?;
        if !dept.visible {
            return Err(AppError::invalid("department_id: no such department"));
        }
    }
    let contact = if m.email.is_some() || m.name.is_some() {
        Some(contacts::store::upsert(c, m.email.as_deref(), m.name.as_deref(), now)?)
    } else {
        None
    };
    if let Some(ct) = contact {
        store::link_visitor(c, visitor_id, ct, m.name.as_deref(), m.email.as_deref())?;
    }
    let first_line: String = m.message.lines().next().unwrap_or("").chars().take(80).collect();
    let subject = if first_line.trim().is_empty() {
        let lang = crate::mail::store::visitor_locale(c, visitor_id)?.0.and_then(|l| crate::mail::templates::Lang::parse(&l));
        crate::mail::templates::website_message_subject(lang.unwrap_or(crate::mail::templates::Lang::En)).to_string()
    } else {
        first_line
    };
    open(
        c,
        &Opening {
            subject: &subject,
            source: Source::Offline,
            department_id: m.department_id,
            agent_id: None,
            contact_id: contact,
            conversation_id: None,
            visitor_id: Some(visitor_id),
            first: First::New {
                kind: Kind::Customer,
                agent_id: None,
                body: &m.message,
                body_html: None,
                message_id: None,
                attachments: &[],
            },
        },
        now,
    )
}

/// A visitor's ticket as the widget shows it: only what the customer may see.
#[derive(Serialize, Debug, Clone)]
pub struct VisitorTicket {
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub created_at: i64,
    pub messages: Vec<VisitorMessage>,
}

#[derive(Serialize, Debug, Clone)]
pub struct VisitorMessage {
    pub kind: Kind,
    pub body: String,
    pub agent_name: Option<String>,
    pub created_at: i64,
    pub attachments: Vec<crate::realtime::protocol::AttachmentInfo>,
}

/// The visitor's own messages and the answers to them (W6). Internal notes never appear.
pub fn visitor_tickets(c: &Connection, visitor_id: i64) -> Result<Vec<VisitorTicket>, AppError> {
    let mut out = Vec::new();
    for t in store::visitor_tickets(c, visitor_id, 20)? {
        let messages = store::thread(c, t.id)?
            .into_iter()
            .filter(|m| m.kind.public())
            .map(|m| VisitorMessage {
                kind: m.kind,
                body: m.body,
                agent_name: m.agent_name,
                created_at: m.created_at,
                attachments: m.attachments,
            })
            .collect();
        out.push(VisitorTicket { number: t.number, subject: t.subject, status: t.status, created_at: t.created_at, messages });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_unique_and_well_formed() {
        let a = new_message_id(1042, "support.example.com");
        assert!(a.starts_with("<fd.1042.") && a.ends_with("@support.example.com>"));
        assert_ne!(a, new_message_id(1042, "support.example.com"));
    }

    #[test]
    fn tags_are_normalized() {
        assert_eq!(clean_tags(&["VIP".into(), "vip".into(), " billing ".into()]).unwrap(), ["vip", "billing"]);
        assert!(clean_tags(&["".into()]).is_err());
        assert!(clean_tags(&(0..21).map(|i| i.to_string()).collect::<Vec<_>>()).is_err());
    }

    #[test]
    fn callers_from_principals() {
        let p = Principal {
            agent_id: None,
            role: Some(Role::Admin),
            label: "token:1 ci".into(),
            name: "ci".into(),
            credential: Credential::Token { token_id: 1, scope: crate::auth::Scope::Admin },
        };
        let who = Caller::from(&p);
        assert_eq!(who.source, Source::Api);
        assert!(who.viewer.sees_all());
        assert!(who.agent().is_err());
        assert_eq!(Caller::system("intake", Source::Email).source, Source::Email);
    }
}
