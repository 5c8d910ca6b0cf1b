//! Ticket endpoints.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use rusqlite::Connection;
use serde::Deserialize;

use super::store::{self, Filter, Viewer};
use super::{AfterReply, CustomerReply, Kind, Placeholders, Source, Status};
use crate::audit::{self, Actor};
use crate::auth::{Credential, Principal, Role};
use crate::contacts;
use crate::error::AppError;
use crate::events::SystemEvent;
use crate::realtime::Audience;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// Days within which a customer reply reopens a solved ticket (T3).
pub const REOPEN_DAYS: i64 = 7;

fn viewer(p: &Principal) -> Viewer {
    Viewer { agent_id: p.agent_id.unwrap_or(-1), sees_all: p.has_role(Role::Supervisor) }
}

/// Load a ticket the caller may see (404 otherwise: no hint that it exists).
fn visible_ticket(c: &Connection, p: &Principal, number: i64) -> Result<store::Ticket, AppError> {
    let t = store::by_number(c, number)?.ok_or_else(|| AppError::not_found("ticket"))?;
    let mine = match p.agent_id {
        Some(a) => store::agent_departments(c, a)?,
        None => vec![],
    };
    if !super::may_view(p.role.unwrap_or(Role::Agent), p.agent_id.unwrap_or(-1), &mine, t.agent_id, t.department_id) {
        return Err(AppError::not_found("ticket"));
    }
    Ok(t)
}

/// Resolve attachment tokens the caller uploaded.
fn own_attachments(c: &Connection, p: &Principal, tokens: &[String]) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::new();
    for tok in tokens {
        let (id, ..) =
            crate::chat::store::attachment_by_token(c, tok)?.ok_or_else(|| AppError::invalid(format!("attachments: unknown {tok}")))?;
        let ok = match p.agent_id {
            Some(a) => crate::chat::store::attachment_uploaded_by_agent(c, id, a)?,
            None => p.is_admin(),
        };
        if !ok {
            return Err(AppError::forbidden("attachments: not uploaded by you"));
        }
        ids.push(id);
    }
    Ok(ids)
}

fn host_of(state: &AppState) -> String {
    state.public_url.host_str().unwrap_or("localhost").to_string()
}

/// A stable, unique Message-ID for an outgoing mail of ticket `number`.
pub fn new_message_id(number: i64, host: &str) -> String {
    format!("<fd.{number}.{}@{host}>", hex::encode(crate::auth::random_bytes::<10>()))
}

fn text_to_html(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!("<div style=\"font-family:sans-serif;white-space:pre-wrap\">{}</div>", escaped.replace('\n', "<br>\n"))
}

async fn publish_ticket_change(state: &AppState, number: i64) {
    state.hub.publish_frame(Audience::Agents, &serde_json::json!({"type": "ticket", "op": "changed", "number": number})).await;
}

/// After a committed change: tell every console, answer with the ticket as the caller sees it.
async fn changed(state: &AppState, p: &Principal, number: i64, status: StatusCode) -> Result<HttpResponse, AppError> {
    publish_ticket_change(state, number).await;
    Ok(HttpResponse::build(status).json(ticket_view(state, p, number).await?))
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    email: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewTicketBody {
    subject: String,
    body: String,
    #[serde(default)]
    customer: Option<Customer>,
    department_id: Option<i64>,
    agent_id: Option<i64>,
    #[serde(default)]
    attachments: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

fn clean_tags(tags: &[String]) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > 40 || t.chars().any(|c| c.is_control() || c == '\u{1f}') {
            return Err(AppError::invalid("tags: 1 to 40 characters each"));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 20 {
        return Err(AppError::invalid("tags: at most 20"));
    }
    Ok(out)
}

/// `POST /api/v1/tickets` — a manual (console) or API ticket. The body becomes the first
/// customer message; no mail goes out on creation.
pub async fn create(state: Data, p: Principal, body: web::Json<NewTicketBody>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let subject = super::validate_subject(&b.subject)?;
    super::validate_body(&b.body)?;
    let tags = clean_tags(&b.tags)?;
    let customer = b.customer.unwrap_or_default();
    if let Some(e) = customer.email.as_deref().filter(|e| !e.trim().is_empty()) {
        crate::auth::validate_email(e)?;
    }
    let source = if matches!(p.credential, Credential::Token { .. }) { Source::Api } else { Source::Manual };
    let now = state.now();
    let actor = p.clone();
    let number = state
        .db
        .write(move |c| {
            if let Some(d) = b.department_id {
                let (rule, ..) = store::department_options(c, d)?.ok_or_else(|| AppError::invalid("department_id: no such department"))?;
                super::check_subject_rule(rule.as_deref(), &subject)?;
            }
            if let Some(a) = b.agent_id {
                crate::agents::store::get(c, a)?.ok_or_else(|| AppError::invalid("agent_id: no such agent"))?;
            }
            let attachments = own_attachments(c, &actor, &b.attachments)?;
            let has_customer = customer.email.as_deref().is_some_and(|e| !e.trim().is_empty())
                || customer.name.as_deref().is_some_and(|n| !n.trim().is_empty());
            let contact = if has_customer {
                Some(contacts::store::upsert(c, customer.email.as_deref(), customer.name.as_deref(), now)?)
            } else {
                None
            };
            let (id, number) = store::insert(
                c,
                &store::NewTicket {
                    subject: &subject,
                    status: Status::Open,
                    source,
                    department_id: b.department_id,
                    agent_id: b.agent_id,
                    contact_id: contact,
                    conversation_id: None,
                    visitor_id: None,
                    now,
                },
            )?;
            let mid = store::add_message(
                c,
                &store::NewMessage {
                    ticket_id: id,
                    kind: Kind::Customer,
                    agent_id: None,
                    contact_id: contact,
                    body: &b.body,
                    body_html: None,
                    subject: Some(&subject),
                    to: &[],
                    cc: &[],
                    message_id: None,
                    now,
                },
            )?;
            store::attach(c, mid, &attachments)?;
            store::set_tags(c, id, &tags)?;
            Ok(number)
        })
        .await?;
    publish_ticket_change(&state, number).await;
    let view = ticket_view(&state, &p, number).await?;
    Ok(HttpResponse::Created().json(view))
}

async fn ticket_view(state: &AppState, p: &Principal, number: i64) -> Result<serde_json::Value, AppError> {
    let pc = p.clone();
    let agent_name = match p.agent_id {
        Some(a) => state.db.read(move |c| crate::agents::store::get(c, a)).await?.map(|a| a.name),
        None => None,
    };
    state
        .db
        .read(move |c| {
            let t = visible_ticket(c, &pc, number)?;
            let messages = store::thread(c, t.id)?;
            let others = match &t.contact {
                Some(ct) => store::others_of_contact(c, ct.id, t.id)?,
                None => vec![],
            };
            let template = match t.department_id {
                Some(d) => store::department_options(c, d)?.and_then(|o| o.2),
                None => None,
            };
            let draft = template.map(|tpl| {
                super::expand(
                    &tpl,
                    &Placeholders {
                        visitor_name: t.contact.as_ref().and_then(|c| c.name.clone()),
                        visitor_email: t.contact.as_ref().and_then(|c| c.email.clone()),
                        agent_name: agent_name.clone(),
                        ticket_number: Some(t.number),
                        ticket_subject: Some(t.subject.clone()),
                    },
                )
            });
            let mut v = serde_json::to_value(&t).map_err(|e| AppError::internal(e.to_string()))?;
            v["messages"] = serde_json::to_value(messages).map_err(|e| AppError::internal(e.to_string()))?;
            v["other_tickets"] = serde_json::to_value(others).map_err(|e| AppError::internal(e.to_string()))?;
            v["reply_draft"] = draft.into();
            Ok(v)
        })
        .await
}

pub async fn get(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ticket_view(&state, &p, path.into_inner()).await?))
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    department_id: Option<i64>,
    agent: Option<String>,
    tag: Option<String>,
    contact_id: Option<i64>,
    customer: Option<String>,
    q: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    sort: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
    with_count: Option<bool>,
    view: Option<i64>,
    /// `true`: only snoozed tickets (implies status=pending).
    snoozed: Option<bool>,
}

/// Turn the HTTP query into a store filter, validating every value.
fn to_filter(q: &ListQuery, p: &Principal) -> Result<Filter, AppError> {
    if let Some(s) = &q.status
        && Status::parse(s).is_none()
    {
        return Err(AppError::invalid("status: open, pending, solved or spam"));
    }
    if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(AppError::invalid("q: at most 200 characters"));
    }
    let (agent_id, unassigned) = match q.agent.as_deref() {
        None | Some("") | Some("any") => (None, false),
        Some("me") => (Some(p.agent_id()?), false),
        Some("none") => (None, true),
        Some(n) => (Some(n.parse::<i64>().map_err(|_| AppError::invalid("agent: an id, me, none or any"))?), false),
    };
    let only_snoozed = q.snoozed == Some(true);
    Ok(Filter {
        status: if only_snoozed { Some("pending".into()) } else { q.status.clone() },
        department_id: q.department_id,
        agent_id,
        unassigned,
        tag: q.tag.as_ref().map(|t| t.trim().to_lowercase()),
        contact_id: q.contact_id,
        customer: q.customer.clone(),
        q: q.q.clone(),
        from: q.from,
        to: q.to,
        include_snoozed: false,
        only_snoozed,
    })
}

/// `GET /api/v1/tickets` — filters, a saved view (`view=ID`), keyset paging by `before`.
pub async fn list(state: Data, p: Principal, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit: between 1 and 200"));
    }
    let oldest_first = match q.sort.as_deref() {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(_) => return Err(AppError::invalid("sort: newest or oldest")),
    };
    let mut filter = to_filter(&q, &p)?;
    if let Some(view_id) = q.view {
        let me = p.agent_id()?;
        filter = state.db.read(move |c| saved_view_filter(c, view_id, me)).await?;
    }
    let v = viewer(&p);
    let with_count = q.with_count.unwrap_or(false);
    let before = q.before;
    let (items, total) = state
        .db
        .read(move |c| {
            let items = store::list(c, &filter, v, oldest_first, before, limit)?;
            let total = if with_count { Some(store::count(c, &filter, v)?) } else { None };
            Ok((items, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "total": total})))
}

/// `GET /api/v1/tickets/tags` — tags in use, most used first.
pub async fn tags(state: Data) -> Result<HttpResponse, AppError> {
    let items = state.db.read(|c| store::tags_in_use(c, 200)).await?;
    let items: Vec<serde_json::Value> = items.into_iter().map(|(tag, count)| serde_json::json!({"tag": tag, "count": count})).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// `GET /api/v1/tickets/counts` — sidebar counters.
pub async fn counts(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let v = viewer(&p);
    let me = p.agent_id;
    let (by_status, mine, unassigned) = state
        .db
        .read(move |c| {
            let by_status = store::status_counts(c, v)?;
            let open = |f: Filter| store::count(c, &Filter { status: Some("open".into()), ..f }, v);
            let mine = match me {
                Some(a) => open(Filter { agent_id: Some(a), ..Default::default() })?,
                None => 0,
            };
            let unassigned = open(Filter { unassigned: true, ..Default::default() })?;
            Ok((by_status, mine, unassigned))
        })
        .await?;
    let mut out = serde_json::json!({"open": 0, "pending": 0, "snoozed": 0, "solved": 0, "spam": 0, "mine_open": mine, "unassigned_open": unassigned});
    for (status, n) in by_status {
        out[status] = n.into();
    }
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    status: Option<Status>,
    #[serde(default, with = "double_option")]
    agent_id: Option<Option<i64>>,
    #[serde(default, with = "double_option")]
    department_id: Option<Option<i64>>,
    subject: Option<String>,
    tags: Option<Vec<String>>,
    snoozed_until: Option<i64>,
    customer_email: Option<String>,
    customer_name: Option<String>,
}

/// `null` means "clear", absent means "leave as is".
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}

/// `PATCH /api/v1/tickets/{number}` — status, assignment, subject, tags, snooze, requester.
pub async fn update(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<Patch>) -> Result<HttpResponse, AppError> {
    let number = path.into_inner();
    let b = body.into_inner();
    let subject = b.subject.as_deref().map(super::validate_subject).transpose()?;
    let tags = b.tags.as_deref().map(clean_tags).transpose()?;
    if b.snoozed_until.is_some() && b.status.is_some() {
        return Err(AppError::invalid("send either status or snoozed_until"));
    }
    let now = state.now();
    if b.snoozed_until.is_some_and(|t| t <= now) {
        return Err(AppError::invalid("snoozed_until: must be in the future"));
    }
    let pc = p.clone();
    state
        .db
        .write(move |c| {
            let t = visible_ticket(c, &pc, number)?;
            let is_sup = pc.has_role(Role::Supervisor);
            if let Some(Some(a)) = b.agent_id {
                crate::agents::store::get(c, a)?.ok_or_else(|| AppError::invalid("agent_id: no such agent"))?;
                // "Next only" departments: agents take unassigned tickets only through Next.
                if !is_sup
                    && t.agent_id.is_none()
                    && pc.agent_id == Some(a)
                    && let Some(d) = t.department_id
                    && store::department_options(c, d)?.is_some_and(|o| o.1)
                {
                    return Err(AppError::forbidden("this department hands out tickets only through Next"));
                }
            }
            if let Some(Some(d)) = b.department_id {
                store::department_options(c, d)?.ok_or_else(|| AppError::invalid("department_id: no such department"))?;
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
                store::add_system(c, t.id, &SystemEvent::status_changed(status.as_str(), &pc.name), now)?;
            }
            if let Some(until) = b.snoozed_until {
                store::snooze(c, t.id, until, now)?;
            }
            if b.customer_email.is_some() || b.customer_name.is_some() {
                let contact = match (&t.contact, b.customer_email.as_deref()) {
                    (Some(ct), Some(e)) => contacts::store::attach_email(c, ct.id, e, now)?,
                    (Some(ct), None) => ct.id,
                    (None, e) => contacts::store::upsert(c, e, b.customer_name.as_deref(), now)?,
                };
                if let Some(n) = &b.customer_name {
                    contacts::store::update(c, contact, Some(n.trim()), None, now)?;
                }
                store::set_contact(c, t.id, contact)?;
            }
            Ok(())
        })
        .await?;
    changed(&state, &p, number, StatusCode::OK).await
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    body: String,
    #[serde(default)]
    to: Option<Vec<String>>,
    #[serde(default)]
    cc: Vec<String>,
    subject: Option<String>,
    #[serde(default)]
    after: AfterReply,
    #[serde(default)]
    attachments: Vec<String>,
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

/// `POST /api/v1/tickets/{number}/reply` — answer the customer. The mail is queued in the
/// outbox in the same transaction (none when the ticket has no requester address yet).
pub async fn reply(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<ReplyBody>) -> Result<HttpResponse, AppError> {
    let number = path.into_inner();
    let b = body.into_inner();
    super::validate_body(&b.body)?;
    let cc = clean_addresses(&b.cc, "cc")?;
    let explicit_to = b.to.as_deref().map(|t| clean_addresses(t, "to")).transpose()?;
    let subject_override = b.subject.as_deref().map(super::validate_subject).transpose()?;
    let agent_id = p.agent_id;
    let now = state.now();
    let host = host_of(&state);
    let pc = p.clone();
    let outbox_id = state
        .db
        .write(move |c| {
            let t = visible_ticket(c, &pc, number)?;
            if t.status == Status::Spam {
                return Err(AppError::conflict("this ticket is marked as spam; change its status first"));
            }
            let attachments = own_attachments(c, &pc, &b.attachments)?;
            let first_reply = store::thread(c, t.id)?.iter().all(|m| m.kind != Kind::Reply);
            if first_reply && let Some(d) = t.department_id {
                let rule = store::department_options(c, d)?.and_then(|o| o.0);
                super::check_subject_rule(rule.as_deref(), subject_override.as_deref().unwrap_or(&t.subject))?;
            }
            let to = match explicit_to {
                Some(to) => to,
                None => t.contact.as_ref().and_then(|ct| ct.email.clone()).into_iter().collect(),
            };
            let subject = subject_override.clone().unwrap_or_else(|| format!("Re: {} [#{}]", t.subject, t.number));
            let message_id = new_message_id(t.number, &host);
            let mid = store::add_message(
                c,
                &store::NewMessage {
                    ticket_id: t.id,
                    kind: Kind::Reply,
                    agent_id,
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
            if t.agent_id.is_none()
                && let Some(a) = agent_id
            {
                // Whoever answers an unassigned ticket owns it.
                store::set_assignment(c, t.id, Some(Some(a)), None, now)?;
            }
            if to.is_empty() {
                return Ok(None);
            }
            let ids = store::thread_message_ids(c, t.id)?;
            let previous: Vec<&String> = ids.iter().filter(|i| **i != message_id).collect();
            let references = (!previous.is_empty()).then(|| previous.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
            let id = store::enqueue_mail(
                c,
                &store::OutboxMail {
                    kind: "ticket_reply",
                    to: &to,
                    cc: &cc,
                    subject: &subject,
                    body_text: &b.body,
                    body_html: Some(&text_to_html(&b.body)),
                    message_id: &message_id,
                    in_reply_to: previous.last().map(|s| s.as_str()),
                    references: references.as_deref(),
                    ticket_id: Some(t.id),
                    ticket_message_id: Some(mid),
                    auto_submitted: false,
                    now,
                },
            )?;
            Ok(Some(id))
        })
        .await?;
    publish_ticket_change(&state, number).await;
    let mut view = ticket_view(&state, &p, number).await?;
    view["outbox_id"] = outbox_id.into();
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    body: String,
    #[serde(default)]
    attachments: Vec<String>,
}

/// `POST /api/v1/tickets/{number}/notes` — an internal note (never mailed, never shown to the customer).
pub async fn note(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<NoteBody>) -> Result<HttpResponse, AppError> {
    let number = path.into_inner();
    let b = body.into_inner();
    super::validate_body(&b.body)?;
    let (now, pc, agent_id) = (state.now(), p.clone(), p.agent_id);
    state
        .db
        .write(move |c| {
            let t = visible_ticket(c, &pc, number)?;
            let attachments = own_attachments(c, &pc, &b.attachments)?;
            store::add_note(c, t.id, agent_id, &b.body, &attachments, now).map(|_| ())
        })
        .await?;
    changed(&state, &p, number, StatusCode::CREATED).await
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct CustomerMessageBody {
    body: String,
}

/// Append a customer message to a ticket, applying T3: Pending → Open, Solved → Open within
/// the reopen window, else a new ticket. Shared by the API, the widget and mail intake.
/// Returns the number of the ticket that received it.
pub fn add_customer_message(
    c: &Connection,
    t: &store::Ticket,
    body: &str,
    body_html: Option<&str>,
    message_id: Option<&str>,
    now: i64,
) -> Result<i64, AppError> {
    match super::on_customer_reply(t.status, t.solved_at, now, REOPEN_DAYS) {
        CustomerReply::Append(status) => {
            let contact = t.contact.as_ref().map(|c| c.id);
            store::add_message(
                c,
                &store::NewMessage {
                    ticket_id: t.id,
                    kind: Kind::Customer,
                    agent_id: None,
                    contact_id: contact,
                    body,
                    body_html,
                    subject: None,
                    to: &[],
                    cc: &[],
                    message_id,
                    now,
                },
            )?;
            if status != t.status {
                store::set_status(c, t.id, status, now)?;
                if t.status == Status::Solved {
                    store::add_system(c, t.id, &SystemEvent::reopened(), now)?;
                }
            }
            Ok(t.number)
        }
        CustomerReply::NewTicket => {
            let contact = t.contact.as_ref().map(|c| c.id);
            let (id, number) = store::insert(
                c,
                &store::NewTicket {
                    subject: &t.subject,
                    status: Status::Open,
                    source: Source::Email,
                    department_id: t.department_id,
                    agent_id: None,
                    contact_id: contact,
                    conversation_id: None,
                    visitor_id: None,
                    now,
                },
            )?;
            store::add_message(
                c,
                &store::NewMessage {
                    ticket_id: id,
                    kind: Kind::Customer,
                    agent_id: None,
                    contact_id: contact,
                    body,
                    body_html,
                    subject: Some(&t.subject),
                    to: &[],
                    cc: &[],
                    message_id,
                    now,
                },
            )?;
            store::add_system(c, id, &SystemEvent::follow_up(t.number), now)?;
            Ok(number)
        }
    }
}

/// `POST /api/v1/tickets/{number}/customer-messages` — record what the customer said (phone,
/// chat elsewhere); applies the same status rules as an emailed reply.
pub async fn customer_message(
    state: Data,
    p: Principal,
    path: web::Path<i64>,
    body: web::Json<CustomerMessageBody>,
) -> Result<HttpResponse, AppError> {
    let number = path.into_inner();
    let b = body.into_inner();
    super::validate_body(&b.body)?;
    let (now, pc) = (state.now(), p.clone());
    let landed = state
        .db
        .write(move |c| {
            let t = visible_ticket(c, &pc, number)?;
            add_customer_message(c, &t, &b.body, None, None, now)
        })
        .await?;
    changed(&state, &p, landed, StatusCode::CREATED).await
}

/// `POST /api/v1/tickets/next` — the oldest open unassigned ticket of my departments, now mine.
pub async fn next(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let me = p.agent_id()?;
    let now = state.now();
    let number = state
        .db
        .write(move |c| {
            let depts = store::agent_departments(c, me)?;
            store::take_next(c, me, &depts, now)
        })
        .await?
        .ok_or_else(|| AppError::not_found("open unassigned ticket"))?;
    changed(&state, &p, number, StatusCode::OK).await
}

/// `POST /api/v1/tickets/{number}/release` — give a ticket back to the pool.
pub async fn release(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let number = path.into_inner();
    let (now, pc) = (state.now(), p.clone());
    state
        .db
        .write(move |c| {
            let t = visible_ticket(c, &pc, number)?;
            if t.agent_id != pc.agent_id && !pc.has_role(Role::Supervisor) {
                return Err(AppError::forbidden("only the assignee or a supervisor can release a ticket"));
            }
            store::set_assignment(c, t.id, Some(None), None, now)?;
            store::add_system(c, t.id, &SystemEvent::released(&pc.name), now)?;
            Ok(())
        })
        .await?;
    changed(&state, &p, number, StatusCode::OK).await
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    agent_id: Option<i64>,
    department_id: Option<i64>,
    note: Option<String>,
    #[serde(default)]
    attachments: Vec<String>,
}

/// `POST /api/v1/tickets/{number}/transfer` — to an agent and/or department, with a note (T4).
pub async fn transfer(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<TransferBody>) -> Result<HttpResponse, AppError> {
    let number = path.into_inner();
    let b = body.into_inner();
    if b.agent_id.is_none() && b.department_id.is_none() {
        return Err(AppError::invalid("give agent_id, department_id or both"));
    }
    let (now, pc) = (state.now(), p.clone());
    state
        .db
        .write(move |c| {
            let t = visible_ticket(c, &pc, number)?;
            let mut parts = Vec::new();
            if let Some(a) = b.agent_id {
                let agent = crate::agents::store::get(c, a)?.ok_or_else(|| AppError::invalid("agent_id: no such agent"))?;
                parts.push(agent.name);
            }
            if let Some(d) = b.department_id {
                let dept = crate::departments::store::get(c, d)?.ok_or_else(|| AppError::invalid("department_id: no such department"))?;
                parts.push(dept.name);
            }
            store::set_assignment(c, t.id, b.agent_id.map(Some), b.department_id.map(Some), now)?;
            let attachments = own_attachments(c, &pc, &b.attachments)?;
            let text = match b.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                Some(n) => format!("Transferred to {} by {}: {n}", parts.join(" / "), pc.name),
                None => format!("Transferred to {} by {}", parts.join(" / "), pc.name),
            };
            store::add_note(c, t.id, pc.agent_id, &text, &attachments, now).map(|_| ())
        })
        .await?;
    changed(&state, &p, number, StatusCode::OK).await
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    into: i64,
}

/// `POST /api/v1/tickets/{number}/merge` — move this ticket's whole thread into another (T9).
pub async fn merge(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<MergeBody>) -> Result<HttpResponse, AppError> {
    let number = path.into_inner();
    let into = body.into_inner().into;
    if into == number {
        return Err(AppError::invalid("into: a ticket cannot be merged into itself"));
    }
    let (now, pc) = (state.now(), p.clone());
    state
        .db
        .write(move |c| {
            let from = visible_ticket(c, &pc, number)?;
            let target = visible_ticket(c, &pc, into)?;
            if from.merged_into.is_some() || target.merged_into.is_some() {
                return Err(AppError::conflict("one of these tickets was already merged"));
            }
            let moved = store::move_all_messages(c, from.id, target.id)?;
            store::mark_merged(c, from.id, target.id, now)?;
            store::add_system(c, target.id, &SystemEvent::merged_in(from.number, &pc.name, moved), now)?;
            store::add_system(c, from.id, &SystemEvent::merged_into(target.number), now)?;
            audit::store::record(c, now, &Actor::from(&pc), "ticket.merge", Some(&format!("#{} -> #{}", from.number, target.number)), None)
        })
        .await?;
    publish_ticket_change(&state, number).await;
    changed(&state, &p, into, StatusCode::OK).await
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    message_id: i64,
    subject: Option<String>,
}

/// `POST /api/v1/tickets/{number}/split` — move one customer message into a new ticket (T9).
pub async fn split(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<SplitBody>) -> Result<HttpResponse, AppError> {
    let number = path.into_inner();
    let b = body.into_inner();
    let subject = b.subject.as_deref().map(super::validate_subject).transpose()?;
    let (now, pc) = (state.now(), p.clone());
    let new_number = state
        .db
        .write(move |c| {
            let t = visible_ticket(c, &pc, number)?;
            let (owner, kind) = store::message_owner(c, b.message_id)?.ok_or_else(|| AppError::not_found("message"))?;
            if owner != t.id {
                return Err(AppError::not_found("message"));
            }
            if kind == Kind::System {
                return Err(AppError::invalid("message_id: system lines cannot be split off"));
            }
            let subject = subject.unwrap_or_else(|| format!("{} (split from #{})", t.subject, t.number));
            let (id, new_number) = store::insert(
                c,
                &store::NewTicket {
                    subject: &subject,
                    status: Status::Open,
                    source: Source::Manual,
                    department_id: t.department_id,
                    agent_id: pc.agent_id,
                    contact_id: t.contact.as_ref().map(|ct| ct.id),
                    conversation_id: None,
                    visitor_id: None,
                    now,
                },
            )?;
            store::move_message(c, b.message_id, id)?;
            store::add_system(c, id, &SystemEvent::split_from(t.number, &pc.name), now)?;
            store::add_system(c, t.id, &SystemEvent::split_to(new_number), now)?;
            Ok(new_number)
        })
        .await?;
    publish_ticket_change(&state, number).await;
    changed(&state, &p, new_number, StatusCode::CREATED).await
}

// ---------------------------------------------------------------- from chats and the widget

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FromChat {
    subject: Option<String>,
    department_id: Option<i64>,
}

/// The transcript as plain text for the ticket thread.
pub fn transcript_text(messages: &[crate::realtime::protocol::MessageOut], visitor_label: &str) -> String {
    let mut out = String::new();
    for m in messages {
        let who = match m.author.kind {
            "visitor" => visitor_label.to_string(),
            "agent" => m.author.name.clone().unwrap_or_else(|| "Agent".into()),
            _ => "—".into(),
        };
        let secs = m.at / 1000;
        let (h, min) = ((secs / 3600) % 24, (secs / 60) % 60);
        let mut line = format!("[{h:02}:{min:02} UTC] {who}: {}", m.body);
        if let Some(a) = &m.attachment {
            line.push_str(&format!(" [file: {}]", a.name));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `POST /api/v1/conversations/{id}/ticket` — turn a chat into a ticket with its transcript (C10).
pub async fn from_conversation(
    state: Data,
    p: Principal,
    path: web::Path<i64>,
    body: web::Json<FromChat>,
) -> Result<HttpResponse, AppError> {
    let conversation = path.into_inner();
    let b = body.into_inner();
    let subject = b.subject.as_deref().map(super::validate_subject).transpose()?;
    let (now, pc, see_colleagues) = (state.now(), p.clone(), state.agents_see_colleagues());
    let number = state
        .db
        .write(move |c| {
            let view = crate::chat::store::conversation_view(c, conversation)?.ok_or_else(|| AppError::not_found("conversation"))?;
            if !crate::chat::may_view(pc.role.unwrap_or(Role::Agent), pc.agent_id.unwrap_or(-1), view.agent_id, view.status, see_colleagues)
            {
                return Err(AppError::not_found("conversation"));
            }
            let messages = crate::chat::store::messages_between(c, conversation, 0, i64::MAX)?;
            let label = view.visitor.name.clone().or(view.visitor.email.clone()).unwrap_or_else(|| format!("Visitor #{}", view.visitor.id));
            let contact = match (&view.visitor.email, &view.visitor.name) {
                (None, None) => None,
                (email, name) => Some(contacts::store::upsert(c, email.as_deref(), name.as_deref(), now)?),
            };
            let first_words = messages.iter().find(|m| m.author.kind == "visitor").map(|m| m.body.chars().take(80).collect::<String>());
            let subject = subject.unwrap_or_else(|| {
                format!("Chat with {label}: {}", first_words.unwrap_or_default()).trim_end_matches([':', ' ']).to_string()
            });
            let (id, number) = store::insert(
                c,
                &store::NewTicket {
                    subject: &subject,
                    status: Status::Open,
                    source: Source::Chat,
                    department_id: b.department_id.or(view.department_id),
                    agent_id: pc.agent_id,
                    contact_id: contact,
                    conversation_id: Some(conversation),
                    visitor_id: Some(view.visitor.id),
                    now,
                },
            )?;
            let text = transcript_text(&messages, &label);
            let mid = store::add_message(
                c,
                &store::NewMessage {
                    ticket_id: id,
                    kind: Kind::Transcript,
                    agent_id: pc.agent_id,
                    contact_id: contact,
                    body: &text,
                    body_html: None,
                    subject: None,
                    to: &[],
                    cc: &[],
                    message_id: None,
                    now,
                },
            )?;
            let attachments: Vec<i64> = messages
                .iter()
                .filter_map(|m| m.attachment.as_ref())
                .filter_map(|a| crate::chat::store::attachment_by_token(c, &a.token).ok().flatten().map(|x| x.0))
                .collect();
            store::attach(c, mid, &attachments)?;
            Ok(number)
        })
        .await?;
    changed(&state, &p, number, StatusCode::CREATED).await
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct OfflineBody {
    name: Option<String>,
    email: Option<String>,
    message: String,
    department_id: Option<i64>,
}

/// `POST /api/v1/widget/offline` — the widget's leave-a-message form (W6) becomes a ticket.
pub async fn widget_offline(state: Data, req: actix_web::HttpRequest, body: web::Bytes) -> Result<HttpResponse, AppError> {
    // Who is asking comes before what they sent: a request without a visitor token is refused
    // as such, whatever its body.
    let visitor = crate::chat::visitor_from_request(&state, &req).await?;
    let text = std::str::from_utf8(&body).map_err(|_| AppError::new(crate::error::Kind::InvalidJson, "body is not UTF-8"))?;
    let b: OfflineBody = crate::http::parse_json(text)?;
    super::validate_body(&b.message)?;
    if b.message.chars().count() > 10_000 {
        return Err(AppError::invalid("message: at most 10000 characters"));
    }
    let email = b.email.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    if let Some(e) = &email {
        crate::auth::validate_email(e)?;
    }
    let name = b.name.map(|n| n.trim().chars().take(100).collect::<String>()).filter(|n| !n.is_empty());
    let now = state.now();
    state.uploads.take(&format!("offline{visitor}"), now).map_err(AppError::rate_limited)?;
    let number = state
        .db
        .write(move |c| {
            if let Some(d) = b.department_id {
                let dept = crate::departments::store::get(c, d)?.ok_or_else(|| AppError::invalid("department_id: no such department"))?;
                if !dept.visible {
                    return Err(AppError::invalid("department_id: no such department"));
                }
            }
            let contact = if email.is_some() || name.is_some() {
                Some(contacts::store::upsert(c, email.as_deref(), name.as_deref(), now)?)
            } else {
                None
            };
            if let Some(ct) = contact {
                c.execute(
                    "UPDATE visitors SET contact_id = ?2, name = coalesce(?3, name), email = coalesce(?4, email) WHERE id = ?1",
                    rusqlite::params![visitor, ct, name, email],
                )?;
            }
            let first_line: String = b.message.lines().next().unwrap_or("").chars().take(80).collect();
            let subject = if first_line.trim().is_empty() { "Message from the website".to_string() } else { first_line };
            let (id, number) = store::insert(
                c,
                &store::NewTicket {
                    subject: &subject,
                    status: Status::Open,
                    source: Source::Offline,
                    department_id: b.department_id,
                    agent_id: None,
                    contact_id: contact,
                    conversation_id: None,
                    visitor_id: Some(visitor),
                    now,
                },
            )?;
            store::add_message(
                c,
                &store::NewMessage {
                    ticket_id: id,
                    kind: Kind::Customer,
                    agent_id: None,
                    contact_id: contact,
                    body: &b.message,
                    body_html: None,
                    subject: Some(&subject),
                    to: &[],
                    cc: &[],
                    message_id: None,
                    now,
                },
            )?;
            Ok(number)
        })
        .await?;
    publish_ticket_change(&state, number).await;
    Ok(HttpResponse::Created().json(serde_json::json!({"number": number})))
}

/// `GET /api/v1/widget/tickets` — the visitor's own messages and the answers to them, so a
/// returning visitor sees the reply in the widget (W6). Internal notes never appear.
pub async fn widget_tickets(state: Data, req: actix_web::HttpRequest) -> Result<HttpResponse, AppError> {
    let visitor = crate::chat::visitor_from_request(&state, &req).await?;
    let items = state
        .db
        .read(move |c| {
            let mut st = c.prepare("SELECT id, number, subject, status, created_at FROM tickets WHERE visitor_id = ?1 AND merged_into IS NULL ORDER BY id DESC LIMIT 20")?;
            let rows: Vec<(i64, i64, String, String, i64)> = st.query_map([visitor], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for (id, number, subject, status, created_at) in rows {
                let messages: Vec<serde_json::Value> = store::thread(c, id)?
                    .into_iter()
                    .filter(|m| m.kind.public())
                    .map(|m| serde_json::json!({"kind": m.kind, "body": m.body, "agent_name": m.agent_name, "created_at": m.created_at, "attachments": m.attachments}))
                    .collect();
                out.push(serde_json::json!({"number": number, "subject": subject, "status": status, "created_at": created_at, "messages": messages}));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

// ---------------------------------------------------------------- saved views

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    name: String,
    filters: ListQuery,
}

fn saved_view_filter(c: &Connection, id: i64, me: i64) -> Result<Filter, AppError> {
    let json: String = c
        .query_row("SELECT filters FROM saved_views WHERE id = ?1 AND agent_id = ?2", rusqlite::params![id, me], |r| r.get(0))
        .map_err(|_| AppError::not_found("view"))?;
    serde_json::from_str(&json).map_err(|_| AppError::internal("stored view is unreadable"))
}

/// `GET /api/v1/views` — my saved views with their current counts.
pub async fn list_views(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let me = p.agent_id()?;
    let v = viewer(&p);
    let items = state
        .db
        .read(move |c| {
            let mut st = c.prepare("SELECT id, name, filters FROM saved_views WHERE agent_id = ?1 ORDER BY position, id")?;
            let rows: Vec<(i64, String, String)> =
                st.query_map([me], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for (id, name, json) in rows {
                let f: Filter = serde_json::from_str(&json).unwrap_or_default();
                let count = store::count(c, &f, v)?;
                out.push(serde_json::json!({"id": id, "name": name, "filters": f, "count": count}));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

pub async fn create_view(state: Data, p: Principal, body: web::Json<NewView>) -> Result<HttpResponse, AppError> {
    let me = p.agent_id()?;
    let b = body.into_inner();
    let name = b.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::invalid("name: 1 to 60 characters"));
    }
    let filter = to_filter(&b.filters, &p)?;
    let json = serde_json::to_string(&filter).map_err(|e| AppError::internal(e.to_string()))?;
    let now = state.now();
    let id = state
        .db
        .write(move |c| {
            c.execute(
                "INSERT INTO saved_views (agent_id, name, filters, created_at) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![me, name, json, now],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({"id": id})))
}

pub async fn delete_view(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let me = p.agent_id()?;
    let id = path.into_inner();
    let n = state
        .db
        .write(move |c| Ok(c.execute("DELETE FROM saved_views WHERE id = ?1 AND agent_id = ?2", rusqlite::params![id, me])?))
        .await?;
    if n == 0 {
        return Err(AppError::not_found("view"));
    }
    Ok(HttpResponse::NoContent().finish())
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
    fn html_body_escapes() {
        assert_eq!(text_to_html("<b>&\n"), "<div style=\"font-family:sans-serif;white-space:pre-wrap\">&lt;b&gt;&amp;<br>\n</div>");
    }

    #[test]
    fn tags_are_normalized() {
        assert_eq!(clean_tags(&["VIP".into(), "vip".into(), " billing ".into()]).unwrap(), ["vip", "billing"]);
        assert!(clean_tags(&["".into()]).is_err());
        assert!(clean_tags(&(0..21).map(|i| i.to_string()).collect::<Vec<_>>()).is_err());
    }
}
