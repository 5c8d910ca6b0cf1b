//! Ticket endpoints: extract, call `ops` (or `store` for lists and counts) in one read or write
//! job, publish after the commit, shape the JSON. The widget's endpoints are in `widget.rs`,
//! saved views in `views.rs`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::Status;
use super::ops::{self, Caller};
use super::store::{self, Filter};
use crate::auth::Principal;
use crate::error::AppError;
use crate::realtime::Audience;
use crate::state::AppState;

type Data = web::Data<AppState>;

fn host_of(state: &AppState) -> String {
    state.public_url.host_str().unwrap_or("localhost").to_string()
}

pub(super) async fn publish_ticket_change(state: &AppState, number: i64) {
    state.hub.publish(Audience::Agents, crate::realtime::ticket_changed(number)).await;
}

/// After a committed change: tell every console, answer with the ticket as the caller sees it.
/// A change can move the ticket out of the caller's sight (a transfer to a department they are
/// not in): the change happened, so the answer says so — `{"number", "visible": false}` —
/// instead of a 404 that would read as a failure.
async fn changed(state: &AppState, who: &Caller, number: i64, status: StatusCode) -> Result<HttpResponse, AppError> {
    publish_ticket_change(state, number).await;
    match ticket_view(state, who, number).await {
        Ok(view) => Ok(HttpResponse::build(status).json(view)),
        Err(e) if e.kind == crate::error::Kind::NotFound => {
            Ok(HttpResponse::build(status).json(serde_json::json!({"number": number, "visible": false})))
        }
        Err(e) => Err(e),
    }
}

fn json<T: serde::Serialize>(v: T) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(v).map_err(|e| AppError::internal(e.to_string()))
}

/// The ticket with its thread, the customer's other tickets and the reply draft.
async fn ticket_view(state: &AppState, who: &Caller, number: i64) -> Result<serde_json::Value, AppError> {
    let w = who.clone();
    let (d, deliveries) = state
        .db
        .read(move |c| {
            let d = ops::detail(c, &w, number)?;
            let deliveries = crate::mail::deliveries(c, d.ticket.id)?;
            Ok((d, deliveries))
        })
        .await?;
    let mut v = json(&d.ticket)?;
    v["messages"] = json(d.messages)?;
    crate::mail::attach_deliveries(&mut v["messages"], deliveries);
    v["other_tickets"] = json(d.other_tickets)?;
    v["reply_draft"] = d.reply_draft.into();
    Ok(v)
}

/// `POST /api/v1/tickets` — a manual (console) or API ticket. The body becomes the first
/// customer message; no mail goes out on creation.
pub async fn create(state: Data, p: Principal, body: web::Json<ops::NewTicket>) -> Result<HttpResponse, AppError> {
    let (who, now, b) = (Caller::from(&p), state.now(), body.into_inner());
    let w = who.clone();
    let opened = state.db.write(move |c| ops::create(c, &w, &b, now)).await?;
    changed(&state, &who, opened.number, StatusCode::CREATED).await
}

pub async fn get(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(ticket_view(&state, &Caller::from(&p), path.into_inner()).await?))
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
pub(super) fn to_filter(q: &ListQuery, p: &Principal) -> Result<Filter, AppError> {
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
        filter = state.db.read(move |c| super::views::saved_filter(c, view_id, me)).await?;
    }
    let v = p.viewer().tickets();
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

/// `GET /api/v1/tickets/tags` — tags in use on the tickets the caller may see, most used first.
pub async fn tags(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let v = p.viewer().tickets();
    let items = state.db.read(move |c| store::tags_in_use(c, v, 200)).await?;
    let items: Vec<serde_json::Value> = items.into_iter().map(|(tag, count)| serde_json::json!({"tag": tag, "count": count})).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// `GET /api/v1/tickets/counts` — sidebar counters.
pub async fn counts(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let v = p.viewer().tickets();
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

/// `PATCH /api/v1/tickets/{number}` — status, assignment, subject, tags, snooze, requester.
pub async fn update(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<ops::Patch>) -> Result<HttpResponse, AppError> {
    let (number, who, now, b) = (path.into_inner(), Caller::from(&p), state.now(), body.into_inner());
    let (w, see_colleagues) = (who.clone(), state.agents_see_colleagues());
    state.db.write(move |c| ops::update(c, &w, number, &b, see_colleagues, now)).await?;
    changed(&state, &who, number, StatusCode::OK).await
}

/// `POST /api/v1/tickets/{number}/reply` — answer the customer. The mail is queued in the
/// outbox in the same transaction (none when the ticket has no requester address yet).
pub async fn reply(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<ops::Reply>) -> Result<HttpResponse, AppError> {
    let (number, who, now, b, host) = (path.into_inner(), Caller::from(&p), state.now(), body.into_inner(), host_of(&state));
    let w = who.clone();
    let replied = state.db.write(move |c| ops::reply(c, &w, number, &b, &host, now)).await?;
    if replied.outbox_id.is_some() {
        state.mail.wake();
    }
    publish_ticket_change(&state, number).await;
    let mut view = ticket_view(&state, &who, number).await?;
    view["outbox_id"] = replied.outbox_id.into();
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /api/v1/tickets/{number}/notes` — an internal note (never mailed, never shown to the customer).
pub async fn note(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<ops::Note>) -> Result<HttpResponse, AppError> {
    let (number, who, now, b) = (path.into_inner(), Caller::from(&p), state.now(), body.into_inner());
    let w = who.clone();
    state.db.write(move |c| ops::note(c, &w, number, &b, now)).await?;
    changed(&state, &who, number, StatusCode::CREATED).await
}

/// `POST /api/v1/tickets/{number}/customer-messages` — record what the customer said (phone,
/// chat elsewhere); applies the same status rules as an emailed reply. A ticket it starts has
/// the caller's source (`api` for tokens, `manual` from the console).
pub async fn customer_message(
    state: Data,
    p: Principal,
    path: web::Path<i64>,
    body: web::Json<ops::CustomerMessage>,
) -> Result<HttpResponse, AppError> {
    let (number, who, now, b) = (path.into_inner(), Caller::from(&p), state.now(), body.into_inner());
    let w = who.clone();
    let landed = state.db.write(move |c| ops::customer_message(c, &w, number, &b, now)).await?;
    changed(&state, &who, landed, StatusCode::CREATED).await
}

/// `POST /api/v1/tickets/next` — the oldest open unassigned ticket of my departments, now mine.
pub async fn next(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let (who, now) = (Caller::from(&p), state.now());
    let w = who.clone();
    let number = state.db.write(move |c| ops::next(c, &w, now)).await?;
    changed(&state, &who, number, StatusCode::OK).await
}

/// `POST /api/v1/tickets/{number}/release` — give a ticket back to the pool.
pub async fn release(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (number, who, now) = (path.into_inner(), Caller::from(&p), state.now());
    let w = who.clone();
    state.db.write(move |c| ops::release(c, &w, number, now)).await?;
    changed(&state, &who, number, StatusCode::OK).await
}

/// `POST /api/v1/tickets/{number}/transfer` — to an agent and/or department, with a note (T4).
pub async fn transfer(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<ops::Transfer>) -> Result<HttpResponse, AppError> {
    let (number, who, now, b) = (path.into_inner(), Caller::from(&p), state.now(), body.into_inner());
    let w = who.clone();
    state.db.write(move |c| ops::transfer(c, &w, number, &b, now)).await?;
    changed(&state, &who, number, StatusCode::OK).await
}

/// `POST /api/v1/tickets/{number}/merge` — move this ticket's whole thread into another (T9).
pub async fn merge(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<ops::Merge>) -> Result<HttpResponse, AppError> {
    let (number, who, now, b) = (path.into_inner(), Caller::from(&p), state.now(), body.into_inner());
    let (w, into) = (who.clone(), b.into);
    state.db.write(move |c| ops::merge(c, &w, number, &b, now)).await?;
    publish_ticket_change(&state, number).await;
    changed(&state, &who, into, StatusCode::OK).await
}

/// `POST /api/v1/tickets/{number}/split` — move one customer message into a new ticket (T9).
pub async fn split(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<ops::Split>) -> Result<HttpResponse, AppError> {
    let (number, who, now, b) = (path.into_inner(), Caller::from(&p), state.now(), body.into_inner());
    let w = who.clone();
    let opened = state.db.write(move |c| ops::split(c, &w, number, &b, now)).await?;
    publish_ticket_change(&state, number).await;
    changed(&state, &who, opened.number, StatusCode::CREATED).await
}

/// `POST /api/v1/conversations/{id}/ticket` — turn a chat into a ticket with its transcript (C10).
pub async fn from_conversation(
    state: Data,
    p: Principal,
    path: web::Path<i64>,
    body: web::Json<ops::FromChat>,
) -> Result<HttpResponse, AppError> {
    let (conversation, who, now, b) = (path.into_inner(), Caller::from(&p), state.now(), body.into_inner());
    let (w, see_colleagues) = (who.clone(), state.agents_see_colleagues());
    let opened = state.db.write(move |c| ops::from_conversation(c, &w, conversation, &b, see_colleagues, now)).await?;
    changed(&state, &who, opened.number, StatusCode::CREATED).await
}
