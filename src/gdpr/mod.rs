//! GDPR (SPEC A5): export everything about one contact as one ZIP, and erase it.
//!
//! "Everything" is the contact row; the widget identities linked to it or that gave its
//! address, with their page trails; their chats with every message; the contact's tickets
//! (and tickets of its visitors or made from its chats) with threads and tags; messages it
//! wrote into other tickets; mail addressed to it; mail it sent as mail intake recorded it
//! (`inbound_mail`, also ignored messages) and the automatic-reply ledger row of its
//! address; and every file in all of those. The export
//! reads one consistent snapshot; the erase deletes the same set in one transaction with
//! `secure_delete` on, keeps files that someone else's thread still uses, and writes an audit
//! row with counts only. The CLI (`frontdesk contact export|erase EMAIL`) and the admin API
//! call the same functions.

pub mod http;
pub mod store;

use std::io::Write;

use rusqlite::Connection;

use crate::audit::{self, Actor};
use crate::auth::normalize_email;
use crate::error::AppError;
pub use store::Erased;

/// The contact with this email address.
pub fn find(c: &Connection, email: &str) -> Result<i64, AppError> {
    let norm = normalize_email(email);
    store::contact_by_email(c, &norm)?.ok_or_else(|| AppError::not_found(&format!("a contact with email {norm}")))
}

/// (chats, tickets, files) of a contact, for a confirmation question.
pub fn summary(c: &Connection, contact_id: i64) -> Result<(usize, usize, usize), AppError> {
    let s = store::scope(c, contact_id)?.ok_or_else(|| AppError::not_found("contact"))?;
    Ok((s.conversations.len(), s.tickets.len(), s.attachments.len()))
}

/// A name safe inside a ZIP: no directories, no control characters, at most 100 characters.
fn safe_name(name: &str) -> String {
    let cleaned: String =
        name.chars().map(|ch| if ch.is_alphanumeric() || matches!(ch, '.' | '-' | '_' | ' ') { ch } else { '_' }).take(100).collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c == ' ');
    if trimmed.is_empty() { "file".into() } else { trimmed.to_string() }
}

fn zip_err(e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("writing the export: {e}"))
}

/// The export: `export.json` (every record, all columns) and `files/<id>-<name>` for every file.
/// Returns the ZIP bytes and how many files it holds.
pub fn export_zip(c: &Connection, contact_id: i64, now: i64) -> Result<(Vec<u8>, usize), AppError> {
    use serde_json::{Value, json};
    store::in_read_tx(c, || {
        let s = store::scope(c, contact_id)?.ok_or_else(|| AppError::not_found("contact"))?;
        let contact = store::contact_row(c, contact_id)?.pop().map(Value::Object).unwrap_or(Value::Null);
        let notes = store::contact_note_rows(c, contact_id)?;
        let mut visitors = Vec::new();
        for &v in &s.visitors {
            for mut row in store::visitor_rows(c, v)? {
                row.insert("page_views".into(), json!(store::page_view_rows(c, v)?));
                row.insert("invitations".into(), json!(store::invitation_rows(c, v)?));
                visitors.push(Value::Object(row));
            }
        }
        let mut conversations = Vec::new();
        for &id in &s.conversations {
            for mut row in store::conversation_rows(c, id)? {
                row.insert("messages".into(), json!(store::message_rows(c, id)?));
                row.insert("tags".into(), json!(store::conversation_tags(c, id)?));
                row.insert("rating".into(), json!(store::rating_rows(c, id)?.pop()));
                conversations.push(Value::Object(row));
            }
        }
        let with_files = |mut m: serde_json::Map<String, Value>| -> Result<Value, AppError> {
            let id = m.get("id").and_then(Value::as_i64).unwrap_or(0);
            m.insert("attachment_ids".into(), json!(store::message_attachment_ids(c, id)?));
            Ok(Value::Object(m))
        };
        let mut tickets = Vec::new();
        for &id in &s.tickets {
            for mut row in store::ticket_rows(c, id)? {
                row.insert("tags".into(), json!(store::ticket_tags(c, id)?));
                let msgs = store::ticket_message_rows(c, id)?.into_iter().map(with_files).collect::<Result<Vec<_>, _>>()?;
                row.insert("messages".into(), Value::Array(msgs));
                tickets.push(Value::Object(row));
            }
        }
        let mut other_messages = Vec::new();
        for &id in &s.foreign_ticket_messages {
            for row in store::ticket_message_row(c, id)? {
                other_messages.push(with_files(row)?);
            }
        }
        let mail = store::mail_rows(c, &s)?;
        let incoming_mail = store::inbound_mail_rows(c, &s)?;
        let auto_replies = store::auto_reply_rows(c, &s)?;

        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut files = Vec::new();
        for &a in &s.attachments {
            let Some((id, blob, name, content_type, size, created_at)) = store::attachment_meta(c, a)? else { continue };
            let path = format!("files/{id}-{}", safe_name(&name));
            let data = crate::chat::files::store::blob_data(c, blob, size.max(0) as usize)?;
            zip.start_file(path.as_str(), opts).map_err(zip_err)?;
            zip.write_all(&data).map_err(zip_err)?;
            files.push(
                json!({"id": id, "file_name": name, "content_type": content_type, "size": size, "created_at": created_at, "path": path}),
            );
        }
        let doc = json!({
            "format": "frontdesk-contact-export/1",
            "exported_at": now,
            "contact": contact,
            "notes": notes,
            "visitors": visitors,
            "conversations": conversations,
            "tickets": tickets,
            "messages_in_other_tickets": other_messages,
            "mail": mail,
            "incoming_mail": incoming_mail,
            "auto_replies": auto_replies,
            "attachments": files,
        });
        let n = files.len();
        zip.start_file("export.json", opts).map_err(zip_err)?;
        let text = serde_json::to_vec_pretty(&doc).map_err(zip_err)?;
        zip.write_all(&text).map_err(zip_err)?;
        let bytes = zip.finish().map_err(zip_err)?.into_inner();
        Ok((bytes, n))
    })
}

/// Record that an export was made (who, which contact; nothing of its content).
pub fn record_export(c: &Connection, contact_id: i64, files: usize, actor: &Actor, now: i64) -> Result<(), AppError> {
    let details = serde_json::json!({"files": files});
    audit::store::record(c, now, actor, "contact.export", Some(&format!("contact:{contact_id}")), Some(&details))
}

/// Erase everything about the contact, inside the caller's write transaction; the audit row
/// records the act and the counts. Run [`purge_search_index`] as the next write job.
pub fn erase(c: &Connection, contact_id: i64, actor: &Actor, now: i64) -> Result<Erased, AppError> {
    let s = store::scope(c, contact_id)?.ok_or_else(|| AppError::not_found("contact"))?;
    let erased = store::erase(c, &s)?;
    let details = serde_json::to_value(&erased).map_err(|e| AppError::internal(e.to_string()))?;
    audit::store::record(c, now, actor, "contact.erase", Some(&format!("contact:{contact_id}")), Some(&details))?;
    Ok(erased)
}

/// Rewrite the search indexes so erased text is gone from them too.
pub fn purge_search_index(c: &Connection) -> Result<(), AppError> {
    store::purge_search_index(c)
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn zip_names_cannot_escape() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name("photo 1.png"), "photo 1.png");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name("a\u{0}b\\c"), "a_b_c");
    }
}
