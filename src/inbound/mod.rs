//! Mail intake (SPEC E3–E5): the one core that turns a raw RFC 5322 message into a new ticket,
//! a message on an existing one, or nothing (seen before, our own mail). Three doors lead here
//! — the IMAP fetcher (`imap.rs`), `frontdesk mail ingest` (`cli.rs`) and
//! `POST /api/v1/inbound/mime` (`http.rs`) — and all of them call [`mime::parse`] (pure, off the
//! writer) and then [`import`] inside one write transaction.
//!
//! Automatic mail (auto-replies, bounces, lists) is imported with its class stored on the
//! intake row, so that nothing automatic ever answers it: the outgoing side asks
//! [`may_auto_answer`] / [`may_auto_reply`] before sending anything automatic.

pub mod http;
pub mod imap;
pub mod mime;
pub mod store;
pub mod threading;

use rusqlite::Connection;
use serde::Serialize;

use crate::chat::files::store as files;
use crate::config::Config;
use crate::error::AppError;
use crate::tickets::ops::{self, First, Incoming, Opening};
use crate::tickets::{Kind, Source};
use mime::{ParseOptions, ParsedMail};
use threading::{Decision, Facts, KnownId, SubjectTicket};

/// Default size limit of one message (`mail_max_bytes`).
pub const DEFAULT_MAX_BYTES: usize = 25 << 20;

/// Automatic mail, by class (SPEC E5). Stored on the intake row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Automatic {
    /// Out-of-office and other auto-responders (Auto-Submitted: auto-replied, X-Autoreply, …).
    AutoReply,
    /// Delivery reports: multipart/report, empty Return-Path, MAILER-DAEMON.
    Bounce,
    /// Mailing lists and bulk mail (List-*, Precedence: bulk/list/junk).
    List,
    /// Other machine-made mail (Auto-Submitted other than `no`).
    AutoSubmitted,
    /// Mail we sent ourselves.
    Own,
}

impl Automatic {
    pub fn as_str(self) -> &'static str {
        match self {
            Automatic::AutoReply => "auto_reply",
            Automatic::Bounce => "bounce",
            Automatic::List => "list",
            Automatic::AutoSubmitted => "auto_submitted",
            Automatic::Own => "own",
        }
    }
}

/// Input that is not imported, with the reason (logged; the HTTP endpoint and the CLI say it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    TooLarge { size: usize, limit: usize },
    Empty,
    NotMail(String),
    NoSender(String),
}

impl Refused {
    pub fn code(&self) -> &'static str {
        match self {
            Refused::TooLarge { .. } => "too_large",
            Refused::Empty => "empty_message",
            Refused::NotMail(_) => "not_a_mail",
            Refused::NoSender(_) => "no_sender",
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::TooLarge { size, limit } => write!(f, "the message is {size} bytes; the limit is {limit} (mail_max_bytes)"),
            Refused::Empty => write!(f, "the message is empty"),
            Refused::NotMail(why) => write!(f, "not an email message: {why}"),
            Refused::NoSender(why) => write!(f, "no sender: {why}"),
        }
    }
}

/// Why a message was not imported although it was a fine message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreReason {
    /// Its Message-ID (or, without one, its exact bytes) was seen before.
    Duplicate,
    /// We sent it (our Message-ID, our address, our reply token as sender).
    OwnMail,
}

impl IgnoreReason {
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreReason::Duplicate => "duplicate",
            IgnoreReason::OwnMail => "own_mail",
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            IgnoreReason::Duplicate => "this message was imported before (same Message-ID)",
            IgnoreReason::OwnMail => "this is mail we sent ourselves",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    New { ticket: i64, automatic: Option<Automatic> },
    Threaded { ticket: i64, automatic: Option<Automatic> },
    Ignored { reason: IgnoreReason },
}

impl Outcome {
    /// The ticket that received the message.
    pub fn ticket(&self) -> Option<i64> {
        match self {
            Outcome::New { ticket, .. } | Outcome::Threaded { ticket, .. } => Some(*ticket),
            Outcome::Ignored { .. } => None,
        }
    }

    /// `#1042 new`, `#1042 threaded`, `ignored: duplicate (…)`: what the CLI prints.
    pub fn line(&self) -> String {
        match self {
            Outcome::New { ticket, .. } => format!("#{ticket} new"),
            Outcome::Threaded { ticket, .. } => format!("#{ticket} threaded"),
            Outcome::Ignored { reason } => format!("ignored: {} ({})", reason.as_str(), reason.describe()),
        }
    }
}

/// Which door a message came through (stored on the intake row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Imap,
    Cli,
    Http,
    Test,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Imap => "imap",
            Via::Cli => "cli",
            Via::Http => "http",
            Via::Test => "test",
        }
    }
}

/// What intake needs to know about this server.
#[derive(Debug, Clone)]
pub struct Context {
    pub via: Via,
    /// The server's secret key (reply tokens).
    pub secret: Vec<u8>,
    /// The domain of our Message-IDs (`<fd.N.…@host>`): the public URL's host.
    pub own_host: String,
    /// Addresses we send from (lower-cased): mail from them is our own.
    pub own_addresses: Vec<String>,
    pub parse: ParseOptions,
}

impl Context {
    /// From the configuration and the database (for the secret key when none is configured).
    pub fn load(c: &Connection, config: &Config, own_host: &str, via: Via) -> Result<Context, AppError> {
        let mut own_addresses = Vec::new();
        if let Some(u) = &config.imap_url
            && let Some(a) = mime::normalize_address(&u.user)
        {
            own_addresses.push(a);
        }
        // The address our mail goes out from (config or console), the one replies come back to.
        if let Some(from) = crate::mail::settings(c, config)?.from
            && let Some(a) = mime::normalize_address(from.email.as_ref())
            && !own_addresses.contains(&a)
        {
            own_addresses.push(a);
        }
        Ok(Context {
            via,
            secret: crate::mail::secret_key(c, config)?,
            own_host: own_host.to_lowercase(),
            own_addresses,
            parse: ParseOptions { max_bytes: config.mail_max_bytes, unwrap_forwards: config.mail_unwrap_forwards },
        })
    }
}

/// The host of the public URL, as `startup` derives it when none is configured.
pub fn own_host(config: &Config) -> String {
    match &config.public_url {
        Some(u) => u.host_str().unwrap_or("localhost").to_string(),
        None => {
            let host = config.listen.rsplit_once(':').map(|x| x.0).unwrap_or("127.0.0.1").trim_matches(['[', ']']);
            if host == "0.0.0.0" || host == "::" || host.is_empty() { "127.0.0.1".into() } else { host.to_string() }
        }
    }
}

/// Either the input was refused (nothing changed) or storing failed.
#[derive(Debug)]
pub enum IngestError {
    Refused(Refused),
    Failed(AppError),
}

/// Parse and import in one call, over the caller's transaction (tests, tools). The doors
/// parse first, off the writer, then [`import`] inside `db.write`.
pub fn ingest(c: &Connection, raw: &[u8], ctx: &Context, now: i64) -> Result<Outcome, IngestError> {
    let mail = mime::parse(raw, &ctx.parse).map_err(IngestError::Refused)?;
    import(c, &mail, ctx, now).map_err(IngestError::Failed)
}

/// Whether this is our own mail: one of our Message-IDs (a row of our outbox, or the shape
/// `<fd.…@our host>` our mail gets), one of our addresses (`mail_from`, the mailbox), or a
/// sender address carrying a valid reply token (ours).
fn is_own(c: &Connection, mail: &ParsedMail, ctx: &Context) -> Result<bool, AppError> {
    if let Some(id) = mail.message_id.as_deref() {
        let inner = id.trim_start_matches('<').trim_end_matches('>').to_lowercase();
        if inner.starts_with("fd.") && inner.ends_with(&format!("@{}", ctx.own_host)) {
            return Ok(true);
        }
        // `mime::parse` keeps Message-IDs with their brackets, as the outbox stores them.
        if crate::mail::store::is_ours(c, id)? {
            return Ok(true);
        }
    }
    let local = mail.from.rsplit_once('@').map(|x| x.0).unwrap_or("");
    Ok(ctx.own_addresses.contains(&mail.from) || crate::mail::verify_reply_token(&ctx.secret, local).is_some())
}

/// Facts for the threading decision, looked up in the database.
fn facts(c: &Connection, mail: &ParsedMail, ctx: &Context) -> Result<Facts, AppError> {
    let mut token_tickets = Vec::new();
    for n in threading::token_tickets(&ctx.secret, &mail.recipients) {
        if let Some(n) = store::final_number_of(c, n)? {
            token_tickets.push(n);
        }
    }
    let mut known_ids = Vec::with_capacity(mail.references.len());
    for r in &mail.references {
        known_ids.push(store::ticket_of_message_id(c, r)?.map(|(ticket, ours)| KnownId { ticket, ours }));
    }
    // The people of the ticket the subject names decide; a merged ticket's mail goes on to the
    // ticket it was merged into.
    let subject_ticket = match threading::subject_number(&mail.subject) {
        Some(n) => match (store::ticket_people(c, n)?, store::final_number_of(c, n)?) {
            (Some((requester, ccs)), Some(number)) => Some(SubjectTicket { number, requester, ccs }),
            _ => None,
        },
        None => None,
    };
    Ok(Facts { sender: mail.from.clone(), token_tickets, known_ids, subject_ticket })
}

/// One stored file: attachment id and URL.
fn store_file(c: &Connection, f: &mime::MailFile, now: i64) -> Result<(i64, String), AppError> {
    use sha2::{Digest, Sha256};
    const CHUNK: usize = 256 * 1024;
    let blob = files::new_blob(c, now)?;
    for (i, chunk) in f.data.chunks(CHUNK).enumerate() {
        files::add_chunk(c, blob, i as i64, chunk)?;
    }
    let blob = files::seal_blob(c, blob, &Sha256::digest(&f.data), f.data.len() as i64)?;
    let token = crate::auth::new_secret_token();
    files::insert_attachment(
        c,
        &files::NewAttachment {
            token: &token,
            blob_id: blob,
            file_name: &f.name,
            content_type: &f.content_type,
            size: f.data.len() as i64,
            visitor_id: None,
            agent_id: None,
            now,
        },
    )?;
    let (id, ..) = files::attachment_by_token(c, &token)?.ok_or_else(|| AppError::internal("attachment vanished"))?;
    Ok((id, crate::chat::files::file_url(&token, &f.name)))
}

/// Import a parsed message inside the caller's write transaction: ignore it when seen before
/// or our own, else thread it (SPEC E4) or open a ticket, with its files, and record it.
pub fn import(c: &Connection, mail: &ParsedMail, ctx: &Context, now: i64) -> Result<Outcome, AppError> {
    if let Some(kind) = store::seen(c, &mail.dedupe_key)? {
        let reason = if kind == Kind::Reply.as_str() { IgnoreReason::OwnMail } else { IgnoreReason::Duplicate };
        return Ok(Outcome::Ignored { reason });
    }
    let record = |ticket_id, message_id, outcome: &str, rule: Option<&str>, reason: Option<&str>, automatic: Option<Automatic>| {
        store::record(
            c,
            &store::Record {
                dedupe_key: &mail.dedupe_key,
                ticket_id,
                ticket_message_id: message_id,
                sender: &mail.from,
                cc: &mail.to_cc.iter().filter(|a| !ctx.own_addresses.contains(a)).cloned().collect::<Vec<_>>(),
                automatic: automatic.map(Automatic::as_str),
                outcome,
                thread_rule: rule,
                reason,
                via: ctx.via.as_str(),
                size: mail.size as i64,
                now,
            },
        )
    };
    if is_own(c, mail, ctx)? {
        record(None, None, "ignored", None, Some(IgnoreReason::OwnMail.as_str()), Some(Automatic::Own))?;
        return Ok(Outcome::Ignored { reason: IgnoreReason::OwnMail });
    }
    let decision = threading::decide(&facts(c, mail, ctx)?);

    let mut attachment_ids = Vec::with_capacity(mail.files.len());
    let mut html = mail.body_html.clone();
    for f in &mail.files {
        let (id, url) = store_file(c, f, now)?;
        attachment_ids.push(id);
        if let (Some(p), Some(h)) = (&f.placeholder, html.as_mut()) {
            *h = h.replace(&format!("\"{p}\""), &format!("\"{url}?inline=1\""));
        }
    }
    let message_id = mail.message_id.as_deref();
    let incoming = Incoming { body: &mail.body, body_html: html.as_deref(), message_id, source: Source::Email };

    let threaded = match decision {
        Decision::Thread(number, rule) => match crate::tickets::store::by_number(c, number)? {
            Some(t) => Some((ops::receive_customer_message(c, &t, &incoming, &attachment_ids, now)?, number, rule)),
            None => None,
        },
        Decision::New => None,
    };
    let outcome = match threaded {
        Some((received, number, rule)) => {
            let ticket = crate::tickets::store::by_number(c, received.number)?.ok_or_else(|| AppError::internal("ticket vanished"))?;
            let (outcome, label) = if received.number == number {
                (Outcome::Threaded { ticket: number, automatic: mail.automatic }, "threaded")
            } else {
                // Solved too long ago: T3 opened a follow-up.
                (Outcome::New { ticket: received.number, automatic: mail.automatic }, "new")
            };
            record(Some(ticket.id), Some(received.message_id), label, Some(rule.as_str()), None, mail.automatic)?;
            outcome
        }
        None => {
            let contact = crate::contacts::store::upsert(c, Some(&mail.requester), mail.requester_name.as_deref(), now)?;
            let subject = new_ticket_subject(&mail.subject);
            let opened = ops::open(
                c,
                &Opening {
                    subject: &subject,
                    source: Source::Email,
                    department_id: None,
                    agent_id: None,
                    contact_id: Some(contact),
                    conversation_id: None,
                    visitor_id: None,
                    first: First::New {
                        kind: Kind::Customer,
                        agent_id: None,
                        body: &mail.body,
                        body_html: html.as_deref(),
                        message_id,
                        attachments: &attachment_ids,
                    },
                },
                now,
            )?;
            record(Some(opened.id), Some(opened.message_id), "new", None, None, mail.automatic)?;
            Outcome::New { ticket: opened.number, automatic: mail.automatic }
        }
    };
    Ok(outcome)
}

/// The subject of a ticket opened by mail: the mail's, cleaned and at most 300 characters.
fn new_ticket_subject(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).take(300).collect();
    let s = s.trim();
    if s.is_empty() { "(no subject)".to_string() } else { s.to_string() }
}

/// Addresses that must never get an automatic reply, whatever the ledger says.
fn never_auto(sender: &str) -> bool {
    let local = sender.split('@').next().unwrap_or("");
    ["mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply", "bounce", "bounces"].contains(&local)
        || local.starts_with("bounce")
        || local.starts_with("owner-")
        || local.ends_with("-request")
}

/// At most one automatic reply per sender per day (SPEC E5): true — and the reply is counted
/// — when nothing automatic went to this sender in the last 24 hours. Call it in the write
/// transaction that queues the automatic mail, so the count and the mail commit together.
pub fn may_auto_reply(c: &Connection, sender: &str, now: i64) -> Result<bool, AppError> {
    let Some(sender) = mime::normalize_address(sender) else { return Ok(false) };
    if never_auto(&sender) {
        return Ok(false);
    }
    if store::last_auto_reply(c, &sender)?.is_some_and(|at| now - at < crate::tickets::DAY_MS) {
        return Ok(false);
    }
    store::set_auto_reply(c, &sender, now)?;
    Ok(true)
}

/// Whether automatic mail may answer this ticket message: never when it came in as automatic
/// mail (auto-reply, bounce, list, our own), else [`may_auto_reply`] for its sender.
pub fn may_auto_answer(c: &Connection, ticket_message_id: i64, sender: &str, now: i64) -> Result<bool, AppError> {
    if store::automatic_of(c, ticket_message_id)?.is_some() {
        return Ok(false);
    }
    may_auto_reply(c, sender, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_host_follows_startup() {
        let mut cfg = Config::for_data_dir("/tmp/x");
        cfg.listen = "0.0.0.0:8080".into();
        assert_eq!(own_host(&cfg), "127.0.0.1");
        cfg.listen = "127.0.0.1:0".into();
        assert_eq!(own_host(&cfg), "127.0.0.1");
        cfg.public_url = Some(url::Url::parse("https://help.example.com/").unwrap());
        assert_eq!(own_host(&cfg), "help.example.com");
    }

    #[test]
    fn some_senders_never_get_automatic_mail() {
        for s in ["MAILER-DAEMON@x.example", "postmaster@x.example", "no-reply@shop.example", "list-request@x.example", "owner-list@x"] {
            assert!(never_auto(&s.to_lowercase()), "{s}");
        }
        assert!(!never_auto("ann@example.com"));
    }
}
