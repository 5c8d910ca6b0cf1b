//! Queuing the kinds of mail that are not ticket replies (SPEC E2): chat transcripts, agent
//! invitations and password reset links. Each renders its template in the recipient's language
//! and writes the outbox row inside the caller's transaction; the caller wakes the worker after
//! the commit. (Ticket replies and offline answers are queued by `tickets::ops::reply`.)

use rusqlite::Connection;

use super::store::{self, NewMail};
use super::templates::{self, Lang};
use crate::error::AppError;

/// A new Message-ID for mail that is not a ticket reply.
pub fn new_message_id(kind: &str, host: &str) -> String {
    format!("<fd.{kind}.{}@{host}>", hex::encode(crate::auth::random_bytes::<10>()))
}

/// The visitor's own clock: the time zone their browser reported in its hello, else UTC. A
/// transcript in somebody else's hours ("03:15 UTC" for a chat at lunch in Vladivostok) is a
/// puzzle; the zone is named once, next to the date.
pub fn visitor_zone(name: Option<&str>) -> (jiff::tz::TimeZone, String) {
    match name.and_then(|n| jiff::tz::TimeZone::get(n).ok().map(|tz| (tz, n.to_string()))) {
        Some(found) => found,
        None => (jiff::tz::TimeZone::UTC, "UTC".into()),
    }
}

/// `ms` on the clock of `tz`, as `format` (strftime) says.
pub fn local(ms: i64, tz: &jiff::tz::TimeZone, format: &str) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned(tz.clone()).strftime(format).to_string()).unwrap_or_default()
}

/// Queue the transcript of conversation `id` to `to` (W8). The visitor's language when known,
/// else `fallback`. Returns None when this transcript already went (or waits) to that address,
/// or when nobody said anything.
pub fn transcript(c: &Connection, id: i64, to: &str, fallback: Lang, shop: &str, host: &str, now: i64) -> Result<Option<i64>, AppError> {
    crate::auth::validate_email(to).map_err(|_| AppError::invalid(format!("email: {to:?} is not an email address")))?;
    let to = vec![to.trim().to_string()];
    let to_json = serde_json::to_string(&to).unwrap_or_default();
    if store::transcript_queued(c, id, &to_json)? {
        return Ok(None);
    }
    let view = crate::chat::store::conversation_view(c, id)?.ok_or_else(|| AppError::not_found("conversation"))?;
    let (language, timezone) = store::visitor_locale(c, view.visitor.id)?;
    let lang = language.and_then(|l| Lang::parse(&l)).unwrap_or(fallback);
    // What the visitor may read: never a whisper or transfer note.
    let messages = crate::chat::store::visitor_messages_between(c, id, 0, i64::MAX)?;
    let visitor = view.visitor.name.clone().unwrap_or_else(|| match lang {
        Lang::En => "You".into(),
        Lang::Ru | Lang::Uk => "Вы".into(),
        Lang::Pl => "Ty".into(),
    });
    let (tz, zone) = visitor_zone(timezone.as_deref());
    let texts: Vec<(String, String, String)> = messages
        .iter()
        .filter(|m| m.author.kind == "visitor" || m.author.kind == "agent")
        .map(|m| {
            let who = if m.author.kind == "visitor" { visitor.clone() } else { m.author.name.clone().unwrap_or_else(|| shop.to_string()) };
            let mut body = m.body.clone();
            if let Some(a) = &m.attachment {
                body = format!("{body} [{}]", a.name).trim().to_string();
            }
            (local(m.at, &tz, "%H:%M"), who, body)
        })
        .collect();
    if texts.is_empty() {
        return Ok(None);
    }
    let lines: Vec<templates::Line> = texts.iter().map(|(at, who, body)| templates::Line { at, who, body }).collect();
    let started = format!("{}, {zone}", local(messages.first().map(|m| m.at).unwrap_or(now), &tz, "%Y-%m-%d"));
    let r = templates::transcript(lang, shop, &started, &lines);
    let mid = new_message_id("transcript", host);
    store::enqueue(
        c,
        &NewMail {
            kind: "transcript",
            to: &to,
            subject: &r.subject,
            body_text: &r.text,
            body_html: &r.html,
            message_id: &mid,
            ticket_id: None,
            conversation_id: Some(id),
            auto_submitted: true,
            now,
        },
    )
    .map(Some)
}

/// Queue an invitation (`link` sets the first password; valid `days`).
pub fn invitation(
    c: &Connection,
    agent: &crate::agents::Agent,
    inviter: &str,
    link: &str,
    days: i64,
    host: &str,
    now: i64,
) -> Result<i64, AppError> {
    let r = templates::invitation(Lang::or_en(Some(&agent.locale)), &agent.name, inviter, link, days);
    queue_to_agent(c, "invitation", agent, &r, host, now)
}

/// Queue a password reset link (valid `minutes`).
pub fn password_reset(
    c: &Connection,
    agent: &crate::agents::Agent,
    link: &str,
    minutes: i64,
    host: &str,
    now: i64,
) -> Result<i64, AppError> {
    let r = templates::password_reset(Lang::or_en(Some(&agent.locale)), &agent.name, link, minutes);
    queue_to_agent(c, "password_reset", agent, &r, host, now)
}

fn queue_to_agent(
    c: &Connection,
    kind: &str,
    agent: &crate::agents::Agent,
    r: &templates::Rendered,
    host: &str,
    now: i64,
) -> Result<i64, AppError> {
    let mid = new_message_id(kind, host);
    store::enqueue(
        c,
        &NewMail {
            kind,
            to: std::slice::from_ref(&agent.email),
            subject: &r.subject,
            body_text: &r.text,
            body_html: &r.html,
            message_id: &mid,
            ticket_id: None,
            conversation_id: None,
            auto_submitted: true,
            now,
        },
    )
}
