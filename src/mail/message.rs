//! An outbox row → a MIME message: From/Reply-To (with the signed reply address for mail about
//! a ticket), To/Cc, the stored Message-ID, threading headers, the automatic-mail headers,
//! multipart/alternative text + HTML, and the thread message's files.

use std::time::{Duration, SystemTime};

use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use rusqlite::Connection;

use super::smtp::{SendError, Stage};
use super::store::OutboxRow;
use super::{MailSettings, token};
use crate::error::AppError;

/// A file to attach: (name, content type, bytes).
pub type File = (String, String, Vec<u8>);

/// Mail to a customer carries at most this much in files; beyond it they are left out (the
/// thread keeps them, and the mail says which ones were left out).
const MAX_FILES_BYTES: i64 = 20 << 20;

/// The files of a thread message, within [`MAX_FILES_BYTES`] (larger ones are named in the
/// text instead).
pub fn load_files(conn: &Connection, ticket_message_id: i64) -> Result<Vec<File>, AppError> {
    let mut total = 0;
    let mut out = Vec::new();
    for (name, ctype, blob, size) in super::store::message_files(conn, ticket_message_id)? {
        total += size;
        if total > MAX_FILES_BYTES {
            tracing::warn!(ticket_message_id, file = %name, "attachment left out of the mail: over the size limit");
            continue;
        }
        out.push((name, ctype, crate::chat::files::store::blob_data(conn, blob, size as usize)?));
    }
    Ok(out)
}

fn header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

fn mailbox(addr: &str) -> Result<Mailbox, SendError> {
    addr.trim().parse::<Mailbox>().map_err(|e| SendError::new(Stage::Recipient, format!("{addr:?} is not a valid address ({e})"), true))
}

/// Build the message. An error here is about the row itself (a bad address), so permanent.
pub fn build(row: &OutboxRow, s: &MailSettings, key: &[u8], files: Vec<File>, now: i64) -> Result<Message, SendError> {
    let from = s.from.clone().ok_or_else(|| SendError::new(Stage::Config, "mail_from is not set", false))?;
    let mut b = Message::builder().from(from.clone()).subject(row.subject.clone());
    if let Some(number) = row.ticket {
        let addr = token::reply_address(from.email.as_ref(), &token::reply_token(key, number));
        let reply_to = addr.parse().map(|a| Mailbox::new(from.name.clone(), a)).unwrap_or_else(|_| from.clone());
        b = b.reply_to(reply_to);
    }
    if row.to.is_empty() {
        return Err(SendError::new(Stage::Recipient, "the mail has no recipient", true));
    }
    for a in &row.to {
        b = b.to(mailbox(a)?);
    }
    for a in &row.cc {
        b = b.cc(mailbox(a)?);
    }
    b = b.message_id(Some(row.message_id.clone())).date(SystemTime::UNIX_EPOCH + Duration::from_millis(now.max(0) as u64));
    if let Some(v) = &row.in_reply_to {
        b = b.in_reply_to(v.clone());
    }
    if let Some(v) = &row.references {
        b = b.references(v.clone());
    }
    if row.auto_submitted {
        // RFC 3834, and Exchange's own switch: no out-of-office answers to our automatic mail.
        b = b.raw_header(header("Auto-Submitted", "auto-generated")).raw_header(header("X-Auto-Response-Suppress", "All"));
    }
    let html = row.body_html.clone().unwrap_or_else(|| {
        format!("<div style=\"white-space:pre-wrap\">{}</div>", super::templates::escape(&row.body_text).replace('\n', "<br>\n"))
    });
    let alternative = MultiPart::alternative_plain_html(row.body_text.clone(), html);
    let body = if files.is_empty() {
        alternative
    } else {
        let mut mixed = MultiPart::mixed().multipart(alternative);
        for (name, ctype, data) in files {
            let ct = ContentType::parse(&ctype).unwrap_or(ContentType::parse("application/octet-stream").expect("valid"));
            let part: SinglePart = Attachment::new(name).body(data, ct);
            mixed = mixed.singlepart(part);
        }
        mixed
    };
    b.multipart(body).map_err(|e| SendError::new(Stage::Message, format!("the mail could not be put together: {e}"), true))
}
