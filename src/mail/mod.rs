//! Outgoing mail (SPEC E1, E2, A2): the outbox worker, the mail settings, and the kinds of mail
//! we write (ticket replies and offline answers are queued by `tickets::ops::reply`;
//! transcripts, invitations, password resets and the test mail by [`kinds`]).
//!
//! Sending is at-least-once, never twice after success: [`send_due`] claims due rows
//! (`pending` → `sending`) in one write, talks SMTP outside any transaction, then records the
//! answer (`sent`, or back to `pending` with a backoff, or `failed` for good). A process that
//! stops between the SMTP server's acceptance and that record leaves the row in `sending`; the
//! next start puts it back in the queue, and the mail may go out a second time with the same
//! Message-ID (receivers and our own intake drop it by that id). Nothing else can send a row
//! twice: `sent` rows are never claimed again, and retry refuses them.
//!
//! Mail intake lives in `src/inbound/`; it checks our reply addresses with [`token`].

pub mod http;
pub mod kinds;
pub mod message;
pub mod smtp;
pub mod store;
pub mod summary;
pub mod templates;
pub mod token;

use std::time::Duration;

use lettre::message::Mailbox;
use rusqlite::Connection;
use serde::Serialize;

use crate::config::Config;
use crate::error::AppError;
use crate::realtime::Audience;
use crate::state::AppState;
pub use smtp::{SendError, SmtpUrl, Stage};
pub use token::{reply_address, reply_token, verify_reply_token};

/// Settings keys for values set in the console (config file/env win over them).
pub const SMTP_URL: &str = "mail.smtp_url";
pub const MAIL_FROM: &str = "mail.mail_from";
/// The support mailbox to import (`imap_url`) when set in the console.
pub const IMAP_URL: &str = "mail.imap_url";
/// Send the chat transcript to the visitor at chat end when their address is known (W8).
pub const TRANSCRIPT_AUTO: &str = "mail.transcript_auto";
/// Language for customers whose own is unknown.
pub const DEFAULT_LOCALE: &str = "mail.default_locale";

/// When the console sends the masked password back but none is stored to keep.
pub const MASK_HINT: &str = "the password shows as ******** and none is stored yet; type the password";

/// Attempts before a mail is given up (`failed`); an admin can still retry it.
pub const MAX_ATTEMPTS: i64 = 8;
/// Rows one round sends at most (the rest wait for the next round or wake-up).
const BATCH: i64 = 20;
/// One SMTP conversation may take this long.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Wait before attempt `attempts + 1` after `attempts` failures: 1 min, 2, 4, … capped at 2 h.
pub fn backoff_ms(attempts: i64) -> i64 {
    let n = attempts.clamp(1, 20) - 1;
    (60_000i64 << n).min(2 * 3_600_000)
}

/// The worker's part of the shared state: the wake-up, the key that signs reply addresses,
/// and a lock so only one round sends at a time.
pub struct Mailer {
    wake: tokio::sync::Notify,
    busy: tokio::sync::Mutex<()>,
    key: Vec<u8>,
}

impl Mailer {
    pub fn new(key: Vec<u8>) -> Mailer {
        Mailer { wake: tokio::sync::Notify::new(), busy: tokio::sync::Mutex::new(()), key }
    }

    /// Tell the worker a mail was queued (after the commit): it sends now, not at the next round.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The server's secret key (signs reply addresses).
    pub fn key(&self) -> &[u8] {
        &self.key
    }
}

/// The secret key as [`Mailer`] and offline callers (the CLI's mail intake) use it: the
/// configured `secret_key`, else the one generated into the database on first start.
pub fn secret_key(conn: &Connection, config: &Config) -> Result<Vec<u8>, AppError> {
    if let Some(k) = &config.secret_key {
        return Ok(k.as_bytes().to_vec());
    }
    crate::settings::store::get(conn, crate::settings::SECRET_KEY)?
        .map(String::into_bytes)
        .ok_or_else(|| AppError::internal("no secret key in the database yet"))
}

/// Where a mail setting's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "from", rename_all = "lowercase")]
pub enum Origin {
    /// The config file, env or a flag (read-only in the console): e.g. `env FRONTDESK_SMTP_URL`.
    Config(String),
    /// Set by an admin in the console (the settings table).
    Console,
    Unset,
}

/// The mail settings in force.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub smtp: Option<SmtpUrl>,
    pub smtp_origin: Origin,
    pub from: Option<Mailbox>,
    pub from_origin: Origin,
    pub transcript_auto: bool,
    pub default_locale: templates::Lang,
}

impl MailSettings {
    /// Why nothing can be sent, if so.
    pub fn not_ready(&self) -> Option<&'static str> {
        match (&self.smtp, &self.from) {
            (None, _) => Some("smtp_url is not set"),
            (_, None) => Some("mail_from is not set"),
            _ => None,
        }
    }
}

/// `Name <addr@domain>` or `addr@domain`.
pub fn parse_mailbox(s: &str) -> Result<Mailbox, String> {
    let s = s.trim();
    let m: Mailbox = s.parse().map_err(|e| format!("{s:?} is not an address such as \"Shop support <support@shop.example>\" ({e})"))?;
    if m.email.domain().is_empty() {
        return Err(format!("{s:?} has no domain"));
    }
    Ok(m)
}

/// Config wins over the console; a stored value that no longer parses counts as unset (and is
/// logged), so a bad row cannot stop the server.
pub fn settings(conn: &Connection, config: &Config) -> Result<MailSettings, AppError> {
    use crate::settings::store::get;
    let (smtp, smtp_origin) = match (&config.smtp_url, get(conn, SMTP_URL)?) {
        (Some(u), _) => (Some(u.clone()), Origin::Config(config.smtp_url_source.clone().unwrap_or_default())),
        (None, Some(s)) => match SmtpUrl::parse(&s) {
            Ok(u) => (Some(u), Origin::Console),
            Err(e) => {
                tracing::warn!(error = %e, "stored smtp_url is invalid; ignoring it");
                (None, Origin::Unset)
            }
        },
        (None, None) => (None, Origin::Unset),
    };
    let (from, from_origin) = match (&config.mail_from, get(conn, MAIL_FROM)?) {
        (Some(m), _) => (parse_mailbox(m).ok(), Origin::Config(config.mail_from_source.clone().unwrap_or_default())),
        (None, Some(s)) => (parse_mailbox(&s).ok(), Origin::Console),
        (None, None) => (None, Origin::Unset),
    };
    Ok(MailSettings {
        smtp,
        smtp_origin,
        from,
        from_origin,
        transcript_auto: get(conn, TRANSCRIPT_AUTO)?.as_deref() == Some("true"),
        default_locale: templates::Lang::or_en(get(conn, DEFAULT_LOCALE)?.as_deref()),
    })
}

/// The `imap_url` in force and where it comes from: config wins over the console; a stored value
/// that no longer parses counts as unset (and is logged).
pub fn imap_setting(conn: &Connection, config: &Config) -> Result<(Option<crate::inbound::imap::ImapUrl>, Origin), AppError> {
    if let Some(u) = &config.imap_url {
        return Ok((Some(u.clone()), Origin::Config(config.imap_url_source.clone().unwrap_or_default())));
    }
    match crate::settings::store::get(conn, IMAP_URL)? {
        Some(s) => match crate::inbound::imap::ImapUrl::parse(&s) {
            Ok(u) => Ok((Some(u), Origin::Console)),
            Err(e) => {
                tracing::warn!(error = %e, "stored imap_url is invalid; ignoring it");
                Ok((None, Origin::Unset))
            }
        },
        None => Ok((None, Origin::Unset)),
    }
}

/// What one [`send_due`] call did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Accepted by the SMTP server.
    pub sent: Vec<i64>,
    /// Failed this time, queued again.
    pub retrying: Vec<i64>,
    /// Failed for good (5xx, or out of attempts).
    pub failed: Vec<i64>,
    /// Why nothing was tried (mail not configured), if so.
    pub not_ready: Option<&'static str>,
}

/// Send every due outbox row (in batches of 20) and record each answer. Called by
/// `jobs::run_once`, by the worker woken after a mail is queued, and by tests with the manual
/// clock. Rounds never overlap.
pub async fn send_due(state: &AppState, now: i64) -> Result<SendReport, AppError> {
    let _one_at_a_time = state.mail.busy.lock().await;
    send_round(state, now).await
}

/// [`send_due`] unless a round is already sending (the woken worker, a slow server): the
/// scheduler never waits behind SMTP timeouts. None when it skipped.
pub async fn send_due_unless_busy(state: &AppState, now: i64) -> Option<Result<SendReport, AppError>> {
    let _one_at_a_time = state.mail.busy.try_lock().ok()?;
    Some(send_round(state, now).await)
}

/// One round; the caller holds `busy`.
async fn send_round(state: &AppState, now: i64) -> Result<SendReport, AppError> {
    let mut report = SendReport::default();
    let config = state.config.clone();
    let settings = state.db.read(move |c| settings(c, &config)).await?;
    if let Some(why) = settings.not_ready() {
        report.not_ready = Some(why);
        return Ok(report);
    }
    loop {
        let batch = state.db.write(move |c| store::claim_due(c, now, BATCH)).await?;
        if batch.is_empty() {
            break;
        }
        let last = batch.len() < BATCH as usize;
        for row in batch {
            send_one(state, &settings, row, now, &mut report).await?;
        }
        if last {
            break;
        }
    }
    Ok(report)
}

async fn send_one(
    state: &AppState,
    settings: &MailSettings,
    row: store::OutboxRow,
    now: i64,
    report: &mut SendReport,
) -> Result<(), AppError> {
    let (id, ticket, attempts) = (row.id, row.ticket, row.attempts);
    let files = match row.ticket_message_id {
        Some(mid) => state.db.read(move |c| message::load_files(c, mid)).await?,
        None => vec![],
    };
    let smtp = settings.smtp.clone().expect("checked by not_ready");
    let result = match message::build(&row, settings, &state.mail.key, files, now) {
        Ok(m) => smtp::send(&smtp, m, SMTP_TIMEOUT).await,
        Err(e) => Err(e),
    };
    let status = match &result {
        Ok(()) => {
            state.db.write(move |c| store::mark_sent(c, id, now)).await?;
            report.sent.push(id);
            tracing::info!(outbox = id, kind = %row.kind, "mail sent");
            "sent"
        }
        Err(e) => {
            let retry_at = (!e.permanent && attempts + 1 < MAX_ATTEMPTS).then(|| now + backoff_ms(attempts + 1));
            let text = e.message.clone();
            state.db.write(move |c| store::mark_attempt_failed(c, id, &text, retry_at)).await?;
            tracing::warn!(outbox = id, kind = %row.kind, attempt = attempts + 1, stage = ?e.stage, error = %e, "mail not sent");
            if retry_at.is_some() {
                report.retrying.push(id);
                "pending"
            } else {
                report.failed.push(id);
                "failed"
            }
        }
    };
    publish_change(state, id, status, ticket).await;
    Ok(())
}

/// After a delivery state changed: open ticket pages refetch, the status page updates.
pub async fn publish_change(state: &AppState, id: i64, status: &str, ticket: Option<i64>) {
    if let Some(n) = ticket {
        state.hub.publish(Audience::Agents, crate::realtime::ticket_changed(n)).await;
    }
    state.hub.publish(Audience::Agents, crate::realtime::protocol::mail_changed(id, status)).await;
}

/// The language to write to a ticket's customer in: their browser's (when the ticket came from
/// the widget), else the shop's default (`mail.default_locale`, English unless set).
pub fn customer_language(conn: &Connection, ticket_id: i64) -> Result<templates::Lang, AppError> {
    if let Some(l) = store::ticket_language(conn, ticket_id)?.as_deref().and_then(templates::Lang::parse) {
        return Ok(l);
    }
    Ok(templates::Lang::or_en(crate::settings::store::get(conn, DEFAULT_LOCALE)?.as_deref()))
}

/// At a chat's end: queue its transcript to the visitor when `mail.transcript_auto` is on
/// and the visitor left an address (SPEC W8). Runs in the transaction that ends the chat.
pub fn transcript_at_end(conn: &Connection, conversation: i64, config: &Config, host: &str, now: i64) -> Result<Option<i64>, AppError> {
    let s = settings(conn, config)?;
    if !s.transcript_auto {
        return Ok(None);
    }
    let Some(view) = crate::chat::store::conversation_view(conn, conversation)? else { return Ok(None) };
    let Some(email) = view.visitor.email.filter(|e| crate::auth::validate_email(e).is_ok()) else { return Ok(None) };
    kinds::transcript(conn, conversation, &email, s.default_locale, &http::shop_name(&s), host, now)
}

/// A thread message's mail, as the ticket page shows it: `{"outbox_id", "state":
/// "queued"|"sending"|"sent"|"failed", "at", "attempts", "error", "next_attempt_at"}`. `at` is
/// when it was sent (sent), else when it was queued; `error` is the last failure in plain words
/// (a queued mail with an error is waiting for its next attempt).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Delivery {
    pub outbox_id: i64,
    pub state: &'static str,
    pub at: Option<i64>,
    pub attempts: i64,
    pub error: Option<String>,
    pub next_attempt_at: Option<i64>,
}

/// (thread message id, its delivery) for every message of the ticket that has a mail.
pub fn deliveries(conn: &Connection, ticket_id: i64) -> Result<Vec<(i64, Delivery)>, AppError> {
    Ok(store::deliveries_of_ticket(conn, ticket_id)?
        .into_iter()
        .map(|(mid, id, status, attempts, next, error, sent_at)| {
            let state = match status.as_str() {
                "sent" => "sent",
                "failed" => "failed",
                "sending" => "sending",
                _ => "queued",
            };
            let waiting = state == "queued";
            (mid, Delivery { outbox_id: id, state, at: sent_at, attempts, error, next_attempt_at: waiting.then_some(next) })
        })
        .collect())
}

/// Put each delivery on its message (`delivery`, null for messages without mail) in the
/// thread's JSON array.
pub fn attach_deliveries(messages: &mut serde_json::Value, deliveries: Vec<(i64, Delivery)>) {
    let Some(items) = messages.as_array_mut() else { return };
    for m in items {
        let id = m["id"].as_i64();
        let d = deliveries.iter().rev().find(|(mid, _)| Some(*mid) == id).map(|(_, d)| d);
        m["delivery"] = serde_json::to_value(d).unwrap_or_default();
    }
}

/// Put rows a stopped process left in `sending` back in the queue (on start).
pub async fn recover(db: &crate::db::Db) -> Result<(), AppError> {
    let ids = db.write(store::requeue_interrupted).await?;
    if !ids.is_empty() {
        tracing::warn!(?ids, "mail left mid-send by the last run is queued again (it may reach its recipient twice, same Message-ID)");
    }
    Ok(())
}

/// The background sender: runs [`send_due`] whenever woken (a mail was queued). The scheduler's
/// rounds (`jobs::run_once`) pick up retries that come due.
pub fn spawn_worker(state: actix_web::web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        loop {
            state.mail.wake.notified().await;
            if let Err(e) = send_due(&state, state.now()).await {
                tracing::warn!(error = %e, "sending mail failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_minute_up_to_two_hours() {
        assert_eq!(backoff_ms(1), 60_000);
        assert_eq!(backoff_ms(2), 120_000);
        assert_eq!(backoff_ms(3), 240_000);
        assert_eq!(backoff_ms(7), 3_840_000);
        assert_eq!(backoff_ms(8), 7_200_000);
        assert_eq!(backoff_ms(100), 7_200_000);
    }

    #[test]
    fn mailboxes() {
        assert_eq!(parse_mailbox("Shop <support@shop.example>").unwrap().email.to_string(), "support@shop.example");
        assert!(parse_mailbox("support@shop.example").is_ok());
        assert!(parse_mailbox("not an address").is_err());
    }
}
