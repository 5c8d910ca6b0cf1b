//! Raw MIME → what intake needs, owned and checked: addresses, thread headers, the text body,
//! the HTML body sanitized for the console, files, and what kind of automatic mail it is.
//! Pure: no database, no clock. Parsing happens before the writer is involved, so a large or
//! hostile message never holds up other writes, and a refused one changes nothing.

use std::borrow::Cow;
use std::collections::HashMap;

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

use super::{Automatic, Refused};

/// Longest text body kept in the thread (the ticket rule); longer ones are cut with a note.
pub const MAX_BODY_CHARS: usize = 100_000;
/// Sanitized HTML beyond this is dropped (the text body stays).
pub const MAX_HTML_BYTES: usize = 2 << 20;
/// Files kept per message.
pub const MAX_FILES: usize = 100;
/// Message-IDs taken from In-Reply-To and References.
const MAX_REFERENCES: usize = 100;

/// A file of the message: an attachment or an inline image.
#[derive(Debug, Clone)]
pub struct MailFile {
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
    /// Where the sanitized HTML refers to it (`cid:` images); replaced by its URL once stored.
    pub placeholder: Option<String>,
}

/// A parsed message, ready to import.
#[derive(Debug, Clone)]
pub struct ParsedMail {
    /// `<id@host>`; None when the message has none.
    pub message_id: Option<String>,
    /// The Message-ID, or `sha256:<hex>` of the bytes: what "seen before" means.
    pub dedupe_key: String,
    /// The From address, lower-cased, and the display name.
    pub from: String,
    pub from_name: Option<String>,
    /// Who the ticket is for: From, or the original sender of a forward when so configured.
    pub requester: String,
    pub requester_name: Option<String>,
    /// To and Cc addresses (lower-cased).
    pub to_cc: Vec<String>,
    /// Every address the message was delivered to: To, Cc, Delivered-To, X-Original-To.
    pub recipients: Vec<String>,
    pub subject: String,
    /// In-Reply-To first, then References newest first, as `<id>`, without repeats.
    pub references: Vec<String>,
    pub body: String,
    pub body_html: Option<String>,
    pub files: Vec<MailFile>,
    pub automatic: Option<Automatic>,
    pub size: usize,
}

/// What parsing depends on besides the bytes.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    pub max_bytes: usize,
    /// The mailbox receives mail forwarded by staff: the requester is the original sender.
    pub unwrap_forwards: bool,
}

/// An address, lower-cased and trimmed, when it is one the contacts accept (`local@domain.tld`).
pub fn normalize_address(a: &str) -> Option<String> {
    let a = a.trim().trim_matches(|c| c == '<' || c == '>').trim().to_lowercase();
    let ok = crate::auth::validate_email(&a).is_ok() && !a.chars().any(|c| c == '<' || c == '>' || c == ',' || c == '"');
    ok.then_some(a)
}

/// Whether the first line is a header field (`Name: value`, printable ASCII name) or an mbox
/// `From ` line: binary data and plain text are not mail.
fn starts_with_header(raw: &[u8]) -> bool {
    let start = raw.iter().position(|b| !matches!(b, b'\r' | b'\n')).unwrap_or(raw.len());
    let line = &raw[start..];
    if line.starts_with(b"From ") {
        return true;
    }
    let name_len = line.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_').count();
    name_len > 0 && line.get(name_len) == Some(&b':')
}

/// `<id>` form of a Message-ID from a header (mail-parser hands them over without brackets).
pub fn bracket_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    if id.is_empty() || id.len() > 250 || id.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>') {
        return None;
    }
    Some(format!("<{id}>"))
}

fn addresses(a: Option<&Address>) -> Vec<(String, Option<String>)> {
    let Some(a) = a else { return vec![] };
    a.iter()
        .filter_map(|x| {
            let addr = normalize_address(x.address()?)?;
            Some((addr, x.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty())))
        })
        .collect()
}

fn header_text<'a>(m: &'a Message<'a>, name: &'a str) -> Option<Cow<'a, str>> {
    match m.header(name)? {
        HeaderValue::Text(t) => Some(Cow::Borrowed(t.as_ref())),
        HeaderValue::TextList(l) => Some(Cow::Owned(l.join(", "))),
        HeaderValue::Address(a) => Some(Cow::Owned(a.iter().filter_map(|x| x.address()).collect::<Vec<_>>().join(", "))),
        _ => m.header_raw(name).map(|s| Cow::Borrowed(s.trim())),
    }
}

fn id_list(v: &HeaderValue) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => t.split_whitespace().filter_map(bracket_id).collect(),
        HeaderValue::TextList(l) => l.iter().flat_map(|t| t.split_whitespace().filter_map(bracket_id).collect::<Vec<_>>()).collect(),
        _ => vec![],
    }
}

/// Parse and check a raw message. Refused input: too large, empty, not a mail, no sender.
pub fn parse(raw: &[u8], opts: &ParseOptions) -> Result<ParsedMail, Refused> {
    if raw.len() > opts.max_bytes {
        return Err(Refused::TooLarge { size: raw.len(), limit: opts.max_bytes });
    }
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Refused::Empty);
    }
    if !starts_with_header(raw) {
        return Err(Refused::NotMail("it does not start with a header line (Name: value)".into()));
    }
    let m = MessageParser::default().parse(raw).ok_or(Refused::NotMail("no message headers found".into()))?;
    // A message has a header block of `Name: value` lines; text that merely parses leniently
    // (no header mail-parser recognizes) is not one.
    let root = m.root_part();
    if root.headers.is_empty() {
        return Err(Refused::NotMail("no message headers found".into()));
    }
    let from = addresses(m.from()).into_iter().next().or_else(|| addresses(m.sender()).into_iter().next());
    let Some((from, from_name)) = from else {
        return Err(match m.from().or(m.sender()) {
            Some(_) => Refused::NoSender("the From address is not an email address".into()),
            None if m.header_raw("From").is_some() => Refused::NoSender("the From address is not an email address".into()),
            None => Refused::NoSender("the message has no From".into()),
        });
    };

    let message_id = m.message_id().and_then(bracket_id);
    let dedupe_key = match &message_id {
        Some(id) => id.clone(),
        None => format!("sha256:{}", hex::encode(Sha256::digest(raw))),
    };
    let subject: String = m.subject().unwrap_or("").chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string();

    let mut to_cc: Vec<String> = addresses(m.to()).into_iter().chain(addresses(m.cc())).map(|a| a.0).collect();
    to_cc.dedup();
    let mut recipients = to_cc.clone();
    for h in ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"] {
        for v in m.header_values(h) {
            let text = match v {
                HeaderValue::Text(t) => t.to_string(),
                HeaderValue::Address(a) => a.iter().filter_map(|x| x.address()).collect::<Vec<_>>().join(","),
                _ => continue,
            };
            recipients.extend(text.split(',').filter_map(normalize_address));
        }
    }

    let mut references = id_list(m.in_reply_to());
    let mut refs = id_list(m.references());
    refs.reverse();
    references.extend(refs);
    // A bounce carries the headers of the message it returns: its Message-ID threads it.
    references.extend(returned_message_ids(&m));
    let mut seen = std::collections::HashSet::new();
    references.retain(|r| seen.insert(r.clone()));
    references.truncate(MAX_REFERENCES);

    let automatic = classify(&m, &from);
    let (requester, requester_name) = if opts.unwrap_forwards {
        original_sender(&m, &subject).unwrap_or((from.clone(), from_name.clone()))
    } else {
        (from.clone(), from_name.clone())
    };

    let nonce = hex::encode(crate::auth::random_bytes::<8>());
    let mut files = Vec::new();
    let mut cids: HashMap<String, String> = HashMap::new();
    for (i, part) in m.attachments().enumerate() {
        if files.len() >= MAX_FILES {
            break;
        }
        let data: Vec<u8> = match &part.body {
            PartType::Message(inner) => inner.raw_message().to_vec(),
            _ => part.contents().to_vec(),
        };
        if data.is_empty() {
            continue;
        }
        let declared = part.content_type().map(|ct| match ct.subtype() {
            Some(s) => format!("{}/{}", ct.ctype(), s),
            None => ct.ctype().to_string(),
        });
        let default_name = match &part.body {
            PartType::Message(_) => format!("message-{}.eml", i + 1),
            _ => format!("attachment-{}{}", i + 1, extension_for(declared.as_deref())),
        };
        let name = crate::chat::files::clean_file_name(part.attachment_name().unwrap_or(&default_name));
        let content_type = crate::chat::files::clean_content_type(declared.as_deref(), &name);
        let placeholder = part.content_id().and_then(bracket_id).map(|cid| {
            let p = format!("/files/fdcid-{nonce}-{i}");
            cids.insert(cid.trim_start_matches('<').trim_end_matches('>').to_string(), p.clone());
            p
        });
        files.push(MailFile { name, content_type, data, placeholder });
    }

    let html = m
        .html_body
        .iter()
        .filter_map(|id| m.part(*id))
        .find_map(|p| match &p.body {
            PartType::Html(h) => Some(h.as_ref()),
            _ => None,
        })
        .map(|h| sanitize_html(h, &cids, &nonce))
        .filter(|h| !h.trim().is_empty() && h.len() <= MAX_HTML_BYTES);
    let text: String = m
        .text_body
        .iter()
        .filter_map(|id| m.part(*id))
        .find_map(|p| match &p.body {
            PartType::Text(t) => Some(t.to_string()),
            _ => None,
        })
        .or_else(|| m.body_text(0).map(|t| t.into_owned()))
        .unwrap_or_default();
    let body = clean_body(&text);
    // Only files the HTML does not show inline lose their placeholder link.
    for f in &mut files {
        if let (Some(p), Some(h)) = (&f.placeholder, &html)
            && !h.contains(p.as_str())
        {
            f.placeholder = None;
        }
        if html.is_none() {
            f.placeholder = None;
        }
    }

    Ok(ParsedMail {
        message_id,
        dedupe_key,
        from,
        from_name,
        requester,
        requester_name,
        to_cc,
        recipients,
        subject,
        references,
        body,
        body_html: html,
        files,
        automatic,
        size: raw.len(),
    })
}

fn extension_for(content_type: Option<&str>) -> &'static str {
    match content_type.unwrap_or("") {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "application/pdf" => ".pdf",
        "text/plain" => ".txt",
        "text/html" => ".html",
        "message/delivery-status" => ".txt",
        _ => "",
    }
}

/// Line endings unified, control characters dropped, at most [`MAX_BODY_CHARS`], never empty.
fn clean_body(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out: String = text.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect();
    if out.chars().count() > MAX_BODY_CHARS {
        out = out.chars().take(MAX_BODY_CHARS).collect();
        out.push_str("\n\n[… the rest of this message was cut: it is longer than 100,000 characters]");
    }
    let trimmed = out.trim_end().to_string();
    if trimmed.trim().is_empty() { "(this message has no text)".to_string() } else { trimmed }
}

/// HTML that is safe to show in the console's sandboxed frame: no scripts, event handlers,
/// forms, frames, styles or unknown URL schemes; `cid:` images point at the stored files;
/// remote images keep their address in `data-remote-src` and load only after "Show images".
pub fn sanitize_html(html: &str, cids: &HashMap<String, String>, nonce: &str) -> String {
    let remote = format!("fdremote-{nonce}:");
    let cids = cids.clone();
    let remote_marker = remote.clone();
    let cleaned = ammonia::Builder::default()
        .add_url_schemes(["cid"])
        .rm_tags(["img"])
        .add_tags(["img"])
        .tag_attributes(
            [
                ("a", ["href", "title"].into_iter().collect()),
                ("img", ["src", "alt", "width", "height", "title"].into_iter().collect()),
                ("td", ["colspan", "rowspan", "align", "valign"].into_iter().collect()),
                ("th", ["colspan", "rowspan", "align", "valign"].into_iter().collect()),
                ("table", ["summary"].into_iter().collect()),
                ("ol", ["start"].into_iter().collect()),
            ]
            .into_iter()
            .collect(),
        )
        .set_tag_attribute_value("a", "target", "_blank")
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(move |element, attribute, value| {
            let v = value.trim();
            let lower = v.to_ascii_lowercase();
            match (element, attribute) {
                ("img", "src") => {
                    if let Some(cid) = lower.strip_prefix("cid:") {
                        let cid = cid.trim_start_matches('<').trim_end_matches('>');
                        let found = cids.iter().find(|(k, _)| k.to_lowercase() == cid).map(|(_, p)| p.clone());
                        found.map(Cow::Owned)
                    } else if lower.starts_with("http://") || lower.starts_with("https://") {
                        Some(Cow::Owned(format!("{remote_marker}{v}")))
                    } else {
                        None
                    }
                }
                (_, "href") if lower.starts_with("cid:") => None,
                _ => Some(Cow::Owned(value.to_string())),
            }
        })
        .clean(html)
        .to_string();
    // The serializer writes each attribute as ` name="value"`; only values our filter marked
    // (with a per-message random marker) change name.
    cleaned.replace(&format!(" src=\"{remote}"), " data-remote-src=\"")
}

/// What kind of automatic mail this is (SPEC E5), None for mail a person wrote.
pub fn classify(m: &Message, from: &str) -> Option<Automatic> {
    let header = |n: &str| header_text(m, n).map(|v| v.trim().to_ascii_lowercase());
    let local = from.split('@').next().unwrap_or("");
    let is_report = m
        .content_type()
        .is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")));
    let return_path_empty = m.header_raw("Return-Path").is_some_and(|v| {
        let v = v.trim();
        v == "<>" || v.is_empty()
    });
    if is_report || return_path_empty || ["mailer-daemon", "postmaster"].contains(&local) || header("X-Failed-Recipients").is_some() {
        return Some(Automatic::Bounce);
    }
    let auto_submitted = header("Auto-Submitted").filter(|v| !v.is_empty() && v != "no");
    if auto_submitted.as_deref().is_some_and(|v| v.starts_with("auto-replied")) {
        return Some(Automatic::AutoReply);
    }
    if header("X-Autoreply").is_some()
        || header("X-Autorespond").is_some()
        || header("X-Autoresponse").is_some()
        || header("X-Auto-Response").is_some()
        || header("Precedence").is_some_and(|p| p == "auto_reply")
        || header("X-Precedence").is_some_and(|p| p == "auto_reply")
    {
        return Some(Automatic::AutoReply);
    }
    let subject = m.subject().unwrap_or("").trim().to_lowercase();
    const AUTO_SUBJECTS: &[&str] = &[
        "auto:",
        "automatic reply",
        "autoreply",
        "auto-reply",
        "out of office",
        "out of the office",
        "abwesenheitsnotiz",
        "автоответ",
        "автоматический ответ",
        "автовідповідь",
        "odpowiedź automatyczna",
    ];
    if AUTO_SUBJECTS.iter().any(|s| subject.starts_with(s)) {
        return Some(Automatic::AutoReply);
    }
    if auto_submitted.is_some() {
        return Some(Automatic::AutoSubmitted);
    }
    let listy = ["List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe", "List-Owner", "List-Archive"]
        .iter()
        .any(|h| m.header_raw(*h).is_some());
    if listy
        || header("Precedence").is_some_and(|p| ["bulk", "list", "junk"].contains(&p.as_str()))
        || header("X-Precedence").is_some_and(|p| ["bulk", "list", "junk"].contains(&p.as_str()))
        || ["noreply", "no-reply", "do-not-reply", "donotreply"].contains(&local)
    {
        return Some(Automatic::List);
    }
    None
}

/// Message-IDs of a message returned inside a bounce (`message/rfc822` or
/// `text/rfc822-headers` parts of a report).
fn returned_message_ids(m: &Message) -> Vec<String> {
    let is_report = m.content_type().is_some_and(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")));
    if !is_report {
        return vec![];
    }
    let mut out = Vec::new();
    for part in &m.parts {
        match &part.body {
            PartType::Message(inner) => {
                if let Some(id) = inner.message_id().and_then(bracket_id) {
                    out.push(id);
                }
            }
            PartType::Text(t) | PartType::Html(t)
                if part.content_type().is_some_and(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))) =>
            {
                out.extend(find_header_line(t, "message-id").and_then(|v| bracket_id(&v)));
            }
            PartType::Binary(b) | PartType::InlineBinary(b)
                if part.content_type().is_some_and(|ct| ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))) =>
            {
                out.extend(find_header_line(&String::from_utf8_lossy(b), "message-id").and_then(|v| bracket_id(&v)));
            }
            _ => {}
        }
    }
    out
}

fn find_header_line(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// The original sender of a forwarded message: the From of an attached message, or the first
/// `From:` line of the forwarded block in the text.
fn original_sender(m: &Message, subject: &str) -> Option<(String, Option<String>)> {
    let s = subject.to_lowercase();
    const FORWARD: &[&str] = &["fwd:", "fw:", "wg:", "tr:", "rv:", "i:", "пересл:", "fwd :", "переслано:", "przekaż:", "pd:"];
    let forwarded_subject = FORWARD.iter().any(|p| s.starts_with(p));
    // An attached message (forward as attachment).
    for part in &m.parts {
        if let PartType::Message(inner) = &part.body
            && let Some(a) = addresses(inner.from()).into_iter().next()
        {
            return Some(a);
        }
    }
    if !forwarded_subject {
        return None;
    }
    let text = m.body_text(0)?;
    let markers = ["forwarded message", "original message", "begin forwarded message", "пересылаемое сообщение", "переслане повідомлення"];
    let start = text.lines().position(|l| {
        let l = l.to_lowercase();
        markers.iter().any(|k| l.contains(k))
    })?;
    for line in text.lines().skip(start + 1).take(12) {
        let line = line.trim().trim_start_matches('>').trim().trim_start_matches('*').trim();
        let Some((k, v)) = line.split_once(':') else { continue };
        let k = k.trim().trim_end_matches('*').trim().to_lowercase();
        if ["from", "von", "de", "от", "від", "od"].contains(&k.as_str()) {
            return parse_name_addr(v);
        }
    }
    None
}

/// `Name <addr>` or a bare address.
fn parse_name_addr(v: &str) -> Option<(String, Option<String>)> {
    let v = v.trim();
    if let (Some(l), Some(r)) = (v.rfind('<'), v.rfind('>'))
        && l < r
    {
        let addr = normalize_address(&v[l + 1..r])?;
        let name = v[..l].trim().trim_matches('"').trim().trim_end_matches('*').trim();
        return Some((addr, (!name.is_empty()).then(|| name.to_string())));
    }
    let token = v.split_whitespace().find(|t| t.contains('@'))?;
    Some((normalize_address(token.trim_matches(|c: char| c == '[' || c == ']' || c == '(' || c == ')'))?, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ParseOptions {
        ParseOptions { max_bytes: 1 << 20, unwrap_forwards: false }
    }

    #[test]
    fn addresses_and_ids_are_normalized() {
        assert_eq!(normalize_address(" <Ann@Example.COM> ").as_deref(), Some("ann@example.com"));
        assert_eq!(normalize_address("not an address"), None);
        assert_eq!(normalize_address("@example.com"), None);
        assert_eq!(normalize_address("ax@sport@shop.example"), None, "found by the mutation test: contacts refuse it");
        assert!(!starts_with_header(b"\x00\x01binary"));
        assert!(!starts_with_header(b"just some text"));
        assert!(!starts_with_header(b"{\"subject\": \"json\"}"));
        assert!(starts_with_header(b"\r\nReturn-Path: <a@b.example>"));
        assert!(starts_with_header(b"From a@b.example Mon Jan  1 00:00:00 2024\nFrom: a@b.example"));
        assert_eq!(bracket_id("abc@x").as_deref(), Some("<abc@x>"));
        assert_eq!(bracket_id("<abc@x>").as_deref(), Some("<abc@x>"));
        assert_eq!(bracket_id(" "), None);
        assert_eq!(bracket_id("a b@x"), None);
    }

    #[test]
    fn refusals_have_reasons() {
        assert!(matches!(parse(b"", &opts()), Err(Refused::Empty)));
        assert!(matches!(parse(b"  \r\n", &opts()), Err(Refused::Empty)));
        assert!(matches!(parse(&[b'x'; 100], &ParseOptions { max_bytes: 10, unwrap_forwards: false }), Err(Refused::TooLarge { .. })));
        assert!(matches!(parse(b"Subject: hi\r\n\r\nbody", &opts()), Err(Refused::NoSender(_))));
        assert!(matches!(parse(b"From: nobody\r\nSubject: hi\r\n\r\nbody", &opts()), Err(Refused::NoSender(_))));
    }

    #[test]
    fn sanitizer_removes_active_content_and_blocks_remote_images() {
        let mut cids = HashMap::new();
        cids.insert("logo@x".to_string(), "/files/fdcid-n-0".to_string());
        let html = r#"<p onclick="alert(1)" style="background:url(http://t.example/x)">Hi<script>alert(2)</script></p>
            <img src="http://t.example/pixel.gif" onerror="alert(3)"><img src="cid:logo@x"><img src="data:image/png;base64,AAAA">
            <form action="http://e.example"><input name=q></form><iframe src="http://e.example"></iframe>
            <style>body{background:url(http://t.example/css)}</style><a href="javascript:alert(4)">x</a><a href="https://ok.example">ok</a>"#;
        let out = sanitize_html(html, &cids, "n");
        for bad in ["script", "onclick", "onerror", "style", "<form", "<input", "<iframe", "javascript:", "data:image", " src=\"http"] {
            assert!(!out.contains(bad), "{bad} left in {out}");
        }
        assert!(out.contains("data-remote-src=\"http://t.example/pixel.gif\""), "{out}");
        assert!(out.contains("src=\"/files/fdcid-n-0\""), "{out}");
        assert!(out.contains("href=\"https://ok.example\""), "{out}");
        assert!(out.contains("target=\"_blank\""), "{out}");
    }

    #[test]
    fn forwarded_mail_names_the_original_sender_when_asked() {
        let raw = b"From: Staff <staff@shop.example>\r\nTo: support@shop.example\r\nSubject: Fwd: broken order\r\nMessage-ID: <f1@shop.example>\r\n\r\nsee below\r\n\r\n---------- Forwarded message ---------\r\nFrom: Olga Petrova <olga@mail.example>\r\nDate: Mon, 1 Jan 2024\r\nSubject: broken order\r\n\r\nMy order is broken.\r\n";
        let plain = parse(raw, &opts()).unwrap();
        assert_eq!(plain.requester, "staff@shop.example");
        let unwrapped = parse(raw, &ParseOptions { max_bytes: 1 << 20, unwrap_forwards: true }).unwrap();
        assert_eq!(unwrapped.requester, "olga@mail.example");
        assert_eq!(unwrapped.requester_name.as_deref(), Some("Olga Petrova"));
        assert_eq!(unwrapped.from, "staff@shop.example");
    }

    #[test]
    fn an_mbox_from_line_before_the_headers_is_accepted() {
        let raw = b"From ann@example.com Mon Mar  4 10:15:00 2024\nFrom: Ann <ann@example.com>\nSubject: piped\nMessage-ID: <mbox.1@example.com>\n\nhello\n";
        let m = parse(raw, &ParseOptions { max_bytes: 1 << 20, unwrap_forwards: false }).unwrap();
        assert_eq!((m.from.as_str(), m.subject.as_str(), m.body.as_str()), ("ann@example.com", "piped", "hello"));
    }
}
