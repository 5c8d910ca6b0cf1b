//! Mail endpoints: the status page (queue and failures), retry, the Email settings with
//! "send a test mail", and transcripts by mail.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{MASK_HINT, Origin, SmtpUrl, kinds, settings, store, templates};
use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

fn host_of(state: &AppState) -> String {
    state.public_url.host_str().unwrap_or("localhost").to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    status: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/mail/outbox?status=pending|sending|sent|failed&limit=` — the status page: the
/// queue and recent failures (no `status`), or one state; with counts and whether mail is
/// configured at all.
pub async fn outbox(state: Data, q: web::Query<OutboxQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    if let Some(s) = &q.status
        && !["pending", "sending", "sent", "failed"].contains(&s.as_str())
    {
        return Err(AppError::invalid("status: one of pending, sending, sent, failed"));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit: between 1 and 500"));
    }
    let (config, since) = (state.config.clone(), state.now() - 86_400_000);
    let (items, counts, s) =
        state.db.read(move |c| Ok((store::list(c, q.status.as_deref(), limit)?, store::counts(c, since)?, settings(c, &config)?))).await?;
    let mut by_status = json!({"pending": 0, "sending": 0, "failed": 0, "sent_24h": 0});
    for (status, n) in counts {
        let key = if status == "sent" { "sent_24h".to_string() } else { status };
        by_status[key] = n.into();
    }
    Ok(HttpResponse::Ok().json(json!({"items": items, "counts": by_status, "not_ready": s.not_ready()})))
}

/// `POST /api/v1/mail/outbox/{id}/retry` — a failed or waiting mail goes out now (attempts
/// start again). 409 for a mail that was sent or is being sent.
pub async fn retry(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, now, actor) = (path.into_inner(), state.now(), Actor::from(&p));
    let (who, is_admin) = (crate::tickets::ops::Caller::from(&p), p.is_admin());
    let row = state
        .db
        .write(move |c| {
            // Mail about a ticket: whoever may see the ticket; any other mail: admins.
            match store::get(c, id)?.map(|r| r.ticket) {
                None => return Err(AppError::not_found("mail")),
                Some(Some(number)) => {
                    crate::tickets::ops::detail(c, &who, number).map_err(|_| AppError::not_found("mail"))?;
                }
                Some(None) if !is_admin => return Err(AppError::not_found("mail")),
                Some(None) => {}
            }
            match store::retry(c, id, now)?.as_deref() {
                None => return Err(AppError::not_found("mail")),
                Some("sent") => return Err(AppError::conflict("this mail was already sent")),
                Some("sending") => return Err(AppError::conflict("this mail is being sent right now")),
                Some(_) => {}
            }
            audit::store::record(c, now, &actor, "mail.retry", Some(&id.to_string()), None)?;
            store::get(c, id)
        })
        .await?
        .ok_or_else(|| AppError::not_found("mail"))?;
    super::publish_change(&state, id, "pending", row.ticket).await;
    state.mail.wake();
    Ok(HttpResponse::Ok().json(row))
}

fn origin_json(o: &Origin) -> serde_json::Value {
    match o {
        Origin::Config(from) => json!({"source": "config", "from": from, "editable": false}),
        Origin::Console => json!({"source": "console", "from": null, "editable": true}),
        Origin::Unset => json!({"source": null, "from": null, "editable": true}),
    }
}

/// Everything the Email page shows: the mail settings, the IMAP mailbox, the summary schedule.
struct Shown {
    mail: super::MailSettings,
    imap: (Option<crate::inbound::imap::ImapUrl>, Origin),
    schedule: super::summary::Schedule,
}

fn shown(c: &rusqlite::Connection, config: &crate::config::Config) -> Result<Shown, AppError> {
    Ok(Shown { mail: settings(c, config)?, imap: super::imap_setting(c, config)?, schedule: super::summary::Schedule::load(c)? })
}

fn settings_json(all: &Shown) -> serde_json::Value {
    let s = &all.mail;
    let mut imap = origin_json(&all.imap.1);
    imap["value"] = all.imap.0.as_ref().map(|u| u.masked()).into();
    let mut smtp = origin_json(&s.smtp_origin);
    smtp["value"] = s.smtp.as_ref().map(SmtpUrl::masked).into();
    let mut from = origin_json(&s.from_origin);
    from["value"] = s.from.as_ref().map(|m| m.to_string()).into();
    json!({
        "smtp_url": smtp,
        "mail_from": from,
        "transcript_auto": s.transcript_auto,
        "default_locale": s.default_locale.code(),
        "not_ready": s.not_ready(),
        "imap_url": imap,
        "summary_time": all.schedule.time_text(),
        "timezone": all.schedule.tz_name,
    })
}

/// `GET /api/v1/settings/mail` — values in force (passwords masked) with where each comes from.
pub async fn get_settings(state: Data) -> Result<HttpResponse, AppError> {
    let config = state.config.clone();
    let s = state.db.read(move |c| shown(c, &config)).await?;
    Ok(HttpResponse::Ok().json(settings_json(&s)))
}

/// `null` clears, absent keeps.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, with = "double_option")]
    smtp_url: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    mail_from: Option<Option<String>>,
    transcript_auto: Option<bool>,
    default_locale: Option<String>,
    #[serde(default, with = "double_option")]
    imap_url: Option<Option<String>>,
    /// `HH:MM` in the shop's time zone; null: no daily summaries.
    #[serde(default, with = "double_option")]
    summary_time: Option<Option<String>>,
    /// The shop's time zone (IANA name).
    timezone: Option<String>,
}

/// `PATCH /api/v1/settings/mail` — console values. A key set by config file/env is read-only
/// here (409). An `smtp_url` whose password is `********` keeps the stored password.
pub async fn update_settings(state: Data, p: Principal, body: web::Json<SettingsPatch>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    if b.smtp_url.is_some() && state.config.smtp_url.is_some() {
        return Err(AppError::conflict(format!(
            "smtp_url is set by {}; change it there",
            state.config.smtp_url_source.as_deref().unwrap_or("the config")
        )));
    }
    if b.mail_from.is_some() && state.config.mail_from.is_some() {
        return Err(AppError::conflict(format!(
            "mail_from is set by {}; change it there",
            state.config.mail_from_source.as_deref().unwrap_or("the config")
        )));
    }
    if b.imap_url.is_some() && state.config.imap_url.is_some() {
        return Err(AppError::conflict(format!(
            "imap_url is set by {}; change it there",
            state.config.imap_url_source.as_deref().unwrap_or("the config")
        )));
    }
    if let Some(Some(t)) = &b.summary_time {
        crate::reports::daily::parse_time(t)?;
    }
    if let Some(tz) = &b.timezone {
        crate::reports::daily::parse_time_zone(tz)?;
    }
    if let Some(l) = &b.default_locale {
        crate::agents::validate_locale(l).map_err(|_| AppError::invalid("default_locale: one of en, ru, uk, pl"))?;
    }
    if let Some(Some(m)) = &b.mail_from {
        super::parse_mailbox(m).map_err(|e| AppError::invalid(format!("mail_from: {e}")))?;
    }
    let (actor, now, config) = (Actor::from(&p), state.now(), state.config.clone());
    let s = state
        .db
        .write(move |c| {
            use crate::settings::store::{delete, get, set};
            let mut changed = serde_json::Map::new();
            match &b.smtp_url {
                Some(Some(raw)) => {
                    let mut u = SmtpUrl::parse(raw).map_err(|e| AppError::invalid(format!("smtp_url: {e}")))?;
                    if u.password.as_deref() == Some(super::smtp::MASK) {
                        // "unchanged": the console never saw the real password.
                        let old = get(c, super::SMTP_URL)?.and_then(|s| SmtpUrl::parse(&s).ok()).and_then(|o| o.password);
                        u.password = Some(old.ok_or_else(|| AppError::invalid(format!("smtp_url: {MASK_HINT}")))?);
                    }
                    set(c, super::SMTP_URL, &u.to_url_string())?;
                    changed.insert("smtp_url".into(), u.masked().into());
                }
                Some(None) => {
                    delete(c, super::SMTP_URL)?;
                    changed.insert("smtp_url".into(), serde_json::Value::Null);
                }
                None => {}
            }
            match &b.mail_from {
                Some(Some(m)) => {
                    set(c, super::MAIL_FROM, m.trim())?;
                    changed.insert("mail_from".into(), m.trim().into());
                }
                Some(None) => {
                    delete(c, super::MAIL_FROM)?;
                    changed.insert("mail_from".into(), serde_json::Value::Null);
                }
                None => {}
            }
            if let Some(v) = b.transcript_auto {
                set(c, super::TRANSCRIPT_AUTO, if v { "true" } else { "false" })?;
                changed.insert("transcript_auto".into(), v.into());
            }
            if let Some(l) = &b.default_locale {
                set(c, super::DEFAULT_LOCALE, l)?;
                changed.insert("default_locale".into(), l.as_str().into());
            }
            match &b.imap_url {
                Some(Some(raw)) => {
                    use crate::inbound::imap::ImapUrl;
                    let mut u = ImapUrl::parse(raw).map_err(|e| AppError::invalid(format!("imap_url: {e}")))?;
                    if u.password == super::smtp::MASK {
                        let old = get(c, super::IMAP_URL)?.and_then(|s| ImapUrl::parse(&s).ok()).map(|o| o.password);
                        u.password = old.ok_or_else(|| AppError::invalid(format!("imap_url: {MASK_HINT}")))?;
                    }
                    set(c, super::IMAP_URL, &u.to_url_string())?;
                    changed.insert("imap_url".into(), u.masked().into());
                }
                Some(None) => {
                    delete(c, super::IMAP_URL)?;
                    changed.insert("imap_url".into(), serde_json::Value::Null);
                }
                None => {}
            }
            match &b.summary_time {
                Some(Some(t)) => {
                    let t = crate::reports::daily::parse_time(t)?;
                    let text = format!("{:02}:{:02}", t.hour(), t.minute());
                    set(c, super::summary::SUMMARY_TIME, &text)?;
                    changed.insert("summary_time".into(), text.into());
                }
                Some(None) => {
                    set(c, super::summary::SUMMARY_TIME, "off")?;
                    changed.insert("summary_time".into(), serde_json::Value::Null);
                }
                None => {}
            }
            if let Some(tz) = &b.timezone {
                set(c, super::summary::SHOP_TIMEZONE, tz.trim())?;
                changed.insert("timezone".into(), tz.trim().into());
            }
            audit::store::record(c, now, &actor, "settings.mail", None, Some(&serde_json::Value::Object(changed)))?;
            shown(c, &config)
        })
        .await?;
    // A changed mailbox is fetched from now on (the old fetcher stops).
    crate::inbound::imap::reload(&state).await;
    // Mail that waited for a configuration goes now.
    state.mail.wake();
    Ok(HttpResponse::Ok().json(settings_json(&s)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestBody {
    to: String,
}

/// `POST /api/v1/settings/mail/test` `{"to"}` — send a test mail now, straight to the server
/// (not through the outbox), and say in plain words what happened: 200 `{"ok":true}` or
/// `{"ok":false,"stage":"dns|tcp|tls|auth|sender|recipient|server|config","error":"…"}`.
pub async fn test(state: Data, p: Principal, body: web::Json<TestBody>) -> Result<HttpResponse, AppError> {
    let to = body.into_inner().to;
    crate::auth::validate_email(&to).map_err(|_| AppError::invalid(format!("to: {to:?} is not an email address")))?;
    let (config, agent) = (state.config.clone(), p.agent_id);
    let (s, locale) = state
        .db
        .read(move |c| {
            let locale = match agent {
                Some(a) => crate::agents::store::get(c, a)?.map(|a| a.locale),
                None => None,
            };
            Ok((settings(c, &config)?, locale))
        })
        .await?;
    let fail = |stage: &str, error: String| HttpResponse::Ok().json(json!({"ok": false, "stage": stage, "error": error}));
    let Some(url) = s.smtp.clone() else { return Ok(fail("config", "smtp_url is not set".into())) };
    if s.from.is_none() {
        return Ok(fail("config", "mail_from is not set".into()));
    }
    if let Err(e) = super::smtp::probe(&url, super::SMTP_TIMEOUT).await {
        return Ok(fail(stage_name(e.stage), e.message));
    }
    let lang = templates::Lang::or_en(locale.as_deref());
    let r = templates::test_mail(lang, &format!("{}:{}", url.host, url.port));
    let now = state.now();
    let row = store::OutboxRow {
        id: 0,
        kind: "test".into(),
        to: vec![to.trim().to_string()],
        cc: vec![],
        subject: r.subject,
        body_text: r.text,
        body_html: Some(r.html),
        message_id: kinds::new_message_id("test", &host_of(&state)),
        in_reply_to: None,
        references: None,
        ticket_id: None,
        ticket: None,
        ticket_message_id: None,
        auto_submitted: true,
        status: "sending".into(),
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
    };
    let result = match super::message::build(&row, &s, state.mail.key(), vec![], now) {
        Ok(m) => super::smtp::send(&url, m, super::SMTP_TIMEOUT).await,
        Err(e) => Err(e),
    };
    Ok(match result {
        Ok(()) => HttpResponse::Ok().json(json!({"ok": true, "server": format!("{}:{}", url.host, url.port)})),
        Err(e) => fail(stage_name(e.stage), e.message),
    })
}

/// `null` means "clear", absent means "leave as is".
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}

fn stage_name(s: super::Stage) -> &'static str {
    use super::Stage::*;
    match s {
        Config => "config",
        Dns => "dns",
        Tcp => "tcp",
        Tls => "tls",
        Auth => "auth",
        Sender => "sender",
        Recipient => "recipient",
        Message => "message",
        Server => "server",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptBody {
    /// Default: the visitor's address.
    email: Option<String>,
}

/// `POST /api/v1/conversations/{id}/transcript` `{"email"?}` — an agent mails the chat's
/// transcript (W8), by default to the visitor's address. 202 `{"outbox_id"}`; `outbox_id` null
/// when it was already sent to that address.
pub async fn transcript_by_agent(
    state: Data,
    p: Principal,
    path: web::Path<i64>,
    body: web::Json<TranscriptBody>,
) -> Result<HttpResponse, AppError> {
    let (id, now, host, see) = (path.into_inner(), state.now(), host_of(&state), state.agents_see_colleagues());
    let (viewer, config) = (p.viewer(), state.config.clone());
    let email = body.into_inner().email;
    let queued = state
        .db
        .write(move |c| {
            let view = crate::chat::store::conversation_view(c, id)?.ok_or_else(|| AppError::not_found("conversation"))?;
            if !viewer.may_view_chat(view.agent_id, view.status, see) {
                return Err(AppError::not_found("conversation"));
            }
            let to =
                email.or(view.visitor.email.clone()).ok_or_else(|| AppError::invalid("email: the visitor left no address; give one"))?;
            let s = settings(c, &config)?;
            kinds::transcript(c, id, &to, s.default_locale, &shop_name(&s), &host, now)
        })
        .await?;
    state.mail.wake();
    Ok(HttpResponse::Accepted().json(json!({"outbox_id": queued})))
}

/// `POST /api/v1/widget/transcript` `{"email"?}` (visitor token) — the visitor asks for the
/// transcript of their latest chat. 202 `{"queued":true}`.
pub async fn transcript_by_visitor(state: Data, req: HttpRequest, body: web::Json<TranscriptBody>) -> Result<HttpResponse, AppError> {
    let visitor = crate::chat::visitor_from_request(&state, &req).await?;
    let (now, host, config) = (state.now(), host_of(&state), state.config.clone());
    let email = body.into_inner().email;
    state
        .db
        .write(move |c| {
            let conv = crate::chat::store::latest_conv_of(c, visitor)?.ok_or_else(|| AppError::not_found("conversation"))?;
            let view = crate::chat::store::conversation_view(c, conv.id)?.ok_or_else(|| AppError::not_found("conversation"))?;
            let to = email.or(view.visitor.email.clone()).ok_or_else(|| AppError::invalid("email: give an address"))?;
            let s = settings(c, &config)?;
            kinds::transcript(c, conv.id, &to, s.default_locale, &shop_name(&s), &host, now)
        })
        .await?;
    state.mail.wake();
    Ok(HttpResponse::Accepted().json(json!({"queued": true})))
}

/// The name mail is signed with: the display name of `mail_from`, else its domain.
pub fn shop_name(s: &super::MailSettings) -> String {
    match &s.from {
        Some(m) => m.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| m.email.domain().to_string()),
        None => "Support".into(),
    }
}
