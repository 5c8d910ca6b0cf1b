//! Attachments: uploads stored in the database in chunks (content-addressed by SHA-256) and
//! downloads served so a browser never runs them. SQL: `files/store.rs`.
//!
//! Resource limits (SPEC S5, P5): visitor uploads count against quotas per visitor and per
//! client IP, all uploads against the `storage_max` ceiling; uploads never sent are deleted by
//! `jobs::delete_orphan_uploads`; downloads stream chunk by chunk (never the whole file in
//! memory) and one client IP runs at most `download_concurrency_ip` at once (`files/limits.rs`).

pub mod limits;
pub mod store;

use actix_web::body::SizedStream;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::auth::{self, Principal};
use crate::error::{AppError, Kind};
use crate::realtime::protocol::AttachmentInfo;
use crate::state::AppState;

pub const MAX_UPLOAD: usize = 10 * 1024 * 1024;
/// Each chunk is its own write job, so chat messages commit between the chunks of a large file.
const CHUNK: usize = 256 * 1024;
/// A download hands the connection this much at a time (slices of one chunk, no copies), so
/// the server's write buffer stays small; the next chunk is read when this one was taken.
const PIECE: usize = 64 * 1024;
/// Longest file name kept, in characters (the extension survives the cut).
pub const MAX_NAME_CHARS: usize = 200;
/// An extension longer than this is not treated as one when a long name is cut.
const MAX_EXT_CHARS: usize = 16;
/// Images a browser may show inline (never SVG: it can carry script).
const INLINE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

pub fn file_url(token: &str, name: &str) -> String {
    format!("/files/{token}/{}", url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20"))
}

/// Characters that change how a name looks without being seen: bidi embeddings, overrides,
/// isolates and marks (`invoice\u{202e}gpj.exe` shows as "invoiceexe.jpg"), zero-width
/// characters and the other invisible format characters.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                     // soft hyphen
        | '\u{034F}'                   // combining grapheme joiner
        | '\u{061C}'                   // Arabic letter mark
        | '\u{180E}'                   // Mongolian vowel separator
        | '\u{200B}'..='\u{200F}'      // zero-width space, non-joiner, joiner; LRM, RLM
        | '\u{2028}'..='\u{202E}'      // line/paragraph separators; embeddings, overrides
        | '\u{2060}'..='\u{2064}'      // word joiner, invisible operators
        | '\u{2066}'..='\u{206F}'      // isolates; deprecated format controls
        | '\u{FEFF}'                   // zero-width no-break space (BOM)
        | '\u{FFF9}'..='\u{FFFB}'      // interlinear annotation
        | '\u{E0000}'..='\u{E007F}'    // tags
    )
}

/// A file name safe to store and offer: no directories, no control, bidi or zero-width
/// characters, no leading or trailing dots and spaces, at most [`MAX_NAME_CHARS`] characters
/// (a long name is cut before its extension); nothing left → "file". Idempotent, so names
/// stored earlier are cleaned again when offered.
pub fn clean_file_name(raw: &str) -> String {
    let visible: String = raw.chars().filter(|&c| !c.is_control() && !invisible(c)).collect();
    let base = visible.rsplit(['/', '\\']).next().unwrap_or("");
    let base = base.trim_matches(|c: char| c.is_whitespace() || c == '.');
    if base.is_empty() {
        return "file".to_string();
    }
    if base.chars().count() <= MAX_NAME_CHARS {
        return base.to_string();
    }
    let ext = base.rfind('.').map(|i| &base[i..]).filter(|e| (2..=MAX_EXT_CHARS + 1).contains(&e.chars().count()));
    match ext {
        Some(ext) => {
            let stem: String = base.chars().take(MAX_NAME_CHARS - ext.chars().count()).collect();
            format!("{}{ext}", stem.trim_end_matches(|c: char| c.is_whitespace() || c == '.'))
        }
        None => base.chars().take(MAX_NAME_CHARS).collect::<String>().trim_end_matches(|c: char| c.is_whitespace() || c == '.').to_string(),
    }
}

/// `type/subtype` from the request, or guessed from the name; anything odd becomes octet-stream.
pub fn clean_content_type(declared: Option<&str>, name: &str) -> String {
    let declared = declared.map(|d| d.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let valid = |t: &str| {
        let mut parts = t.split('/');
        let ok = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)));
        ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
    };
    match declared {
        Some(t) if valid(&t) && t != "application/x-www-form-urlencoded" && !t.starts_with("multipart/") => t,
        _ => mime_guess::from_path(name).first().map(|m| m.essence_str().to_string()).unwrap_or_else(|| "application/octet-stream".into()),
    }
}

pub enum Uploader {
    Visitor(i64),
    Agent(i64),
}

/// `POST /api/v1/widget/uploads` — the widget's upload, authenticated by the visitor token.
pub async fn upload_visitor(state: web::Data<AppState>, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, AppError> {
    let visitor = super::visitor_from_request(&state, &req).await?;
    store_upload(&state, &req, body, Uploader::Visitor(visitor)).await
}

/// `POST /api/v1/uploads` — an agent's upload.
pub async fn upload_agent(
    state: web::Data<AppState>,
    p: Principal,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let agent = p.agent_id()?;
    store_upload(&state, &req, body, Uploader::Agent(agent)).await
}

/// Too many bytes for a visitor or client IP this hour.
fn quota_exceeded(retry_after_secs: u64) -> AppError {
    AppError {
        retry_after_secs: Some(retry_after_secs.max(1)),
        ..AppError::new(Kind::QuotaExceeded, format!("upload quota for this hour is used up; try again in {retry_after_secs} s"))
    }
}

fn storage_full() -> AppError {
    AppError::new(Kind::StorageFull, "file storage is full; ask the site's administrator")
}

async fn store_upload(state: &AppState, req: &HttpRequest, mut body: web::Payload, who: Uploader) -> Result<HttpResponse, AppError> {
    let key = match who {
        Uploader::Visitor(v) => format!("v{v}"),
        Uploader::Agent(a) => format!("a{a}"),
    };
    state.uploads.take(&key, state.now()).map_err(AppError::rate_limited)?;
    // Visitors are anonymous: their bytes count per visitor and per client IP. Agents are the
    // business's own people; only the storage ceiling applies to them.
    let quota: Vec<(String, u64)> = match who {
        Uploader::Visitor(v) => std::iter::once((format!("v{v}"), state.config.upload_quota_visitor))
            .chain(state.client_ip(req).map(|ip| (format!("ip {ip}"), state.config.upload_quota_ip)))
            .collect(),
        Uploader::Agent(_) => Vec::new(),
    };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_UPLOAD) {
        return Err(AppError::new(Kind::TooLarge, format!("files up to {} MiB", MAX_UPLOAD >> 20)));
    }
    // Refuse early what cannot fit; the bytes are counted again as they arrive.
    let coming = declared.unwrap_or(1) as u64;
    state.files.uploads.check(&quota, state.now(), coming).map_err(quota_exceeded)?;
    let stored = state.db.read(store::stored_bytes).await?;
    let storage_max = state.config.storage_max;
    if stored + coming > storage_max {
        return Err(storage_full());
    }
    let raw_name = req.headers().get("x-file-name").and_then(|v| v.to_str().ok()).unwrap_or("file");
    let decoded = url::form_urlencoded::parse(format!("n={raw_name}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
    let name = clean_file_name(&decoded);
    let content_type = clean_content_type(req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), &name);

    let now = state.now();
    let upload = state.files.uploads.start();
    let blob_id = state.db.write(move |c| store::new_blob(c, now)).await?;
    let mut hasher = Sha256::new();
    let mut size = 0usize;
    let mut idx = 0i64;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let token = auth::new_secret_token();
    let outcome: Result<(), AppError> = async {
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| AppError::invalid(format!("upload interrupted: {e}")))?;
            size += piece.len();
            if size > MAX_UPLOAD {
                return Err(AppError::new(Kind::TooLarge, format!("files up to {} MiB", MAX_UPLOAD >> 20)));
            }
            state.files.uploads.reserve(&quota, upload, state.now(), piece.len() as u64).map_err(quota_exceeded)?;
            if stored + size as u64 > storage_max {
                return Err(storage_full());
            }
            hasher.update(&piece);
            buf.extend_from_slice(&piece);
            while buf.len() >= CHUNK {
                let chunk: Vec<u8> = buf.drain(..CHUNK).collect();
                let i = idx;
                idx += 1;
                state.db.write(move |c| store::add_chunk(c, blob_id, i, &chunk)).await?;
            }
        }
        if size == 0 {
            return Err(AppError::invalid("the file is empty"));
        }
        if !buf.is_empty() {
            let chunk = std::mem::take(&mut buf);
            let i = idx;
            state.db.write(move |c| store::add_chunk(c, blob_id, i, &chunk)).await?;
        }
        let sha = hasher.finalize().to_vec();
        let (visitor_id, agent_id) = match who {
            Uploader::Visitor(v) => (Some(v), None),
            Uploader::Agent(a) => (None, Some(a)),
        };
        let (tok, n, ct) = (token.clone(), name.clone(), content_type.clone());
        let sz = size as i64;
        state
            .db
            .write(move |c| {
                // Same bytes already stored: keep one copy (and it takes no new space).
                let blob = store::seal_blob(c, blob_id, &sha, sz)?;
                if blob == blob_id && store::stored_bytes(c)? > storage_max {
                    return Err(storage_full());
                }
                let a = store::NewAttachment {
                    token: &tok,
                    blob_id: blob,
                    file_name: &n,
                    content_type: &ct,
                    size: sz,
                    visitor_id,
                    agent_id,
                    now,
                };
                store::insert_attachment(c, &a)
            })
            .await
    }
    .await;
    if let Err(e) = outcome {
        // Nothing half-stored stays behind, and bytes not stored do not count.
        let _ = state.db.write(move |c| store::delete_blob(c, blob_id)).await;
        state.files.uploads.release(&quota, upload);
        return Err(e);
    }
    Ok(HttpResponse::Created().json(AttachmentInfo { url: file_url(&token, &name), token, name, content_type, size: size as i64 }))
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    #[serde(default)]
    inline: Option<u8>,
}

/// `GET /files/{token}/{name}`. The token is a 256-bit capability; the name is cosmetic.
///
/// The body streams from the blob's chunks: one chunk (256 KiB) is read from the reader pool
/// when the connection has taken the previous one, so memory per download stays bounded
/// whatever the file size. Never compressed (`Content-Encoding: identity`): files are mostly
/// compressed already, and a compressor per download would cost memory again. Range requests
/// are not supported; the whole file is sent with its length.
pub async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<DownloadQuery>,
) -> Result<HttpResponse, AppError> {
    let (token, _) = path.into_inner();
    if token.len() > 64 {
        return Err(AppError::not_found("file"));
    }
    let (_, blob, name, ctype, size) =
        state.db.read(move |c| store::attachment_by_token(c, &token)).await?.ok_or_else(|| AppError::not_found("file"))?;
    let slot = match state.client_ip(&req) {
        Some(ip) => Some(state.files.downloads.acquire(ip).ok_or_else(|| AppError {
            retry_after_secs: Some(1),
            ..AppError::new(Kind::RateLimited, "too many downloads at once from your address; try again when one has finished")
        })?),
        None => None,
    };
    let name = clean_file_name(&name);
    let inline = q.inline == Some(1) && INLINE_TYPES.contains(&ctype.as_str());
    let ascii: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20");
    let disposition = format!("{}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}", if inline { "inline" } else { "attachment" });
    let body = SizedStream::new(size.max(0) as u64, chunks(state.into_inner(), blob, slot));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, if inline { ctype } else { "application/octet-stream".into() }))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; img-src 'self'; sandbox"))
        .insert_header(("Cross-Origin-Resource-Policy", "same-origin"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=31536000, immutable"))
        .body(body))
}

/// The blob's bytes as a stream of [`PIECE`]-sized slices, each read from the database only
/// when the connection has taken the previous one. At most [`limits::FileLimits::reads`]
/// slices are read at once (the rest wait here, not on a blocking thread each), so downloads
/// leave the reader pool to other requests. Holds the download's slot until it ends or is
/// dropped.
fn chunks(
    state: std::sync::Arc<AppState>,
    blob: i64,
    slot: Option<limits::DownloadSlot>,
) -> impl futures_util::Stream<Item = Result<Bytes, AppError>> + 'static {
    struct Reader {
        state: std::sync::Arc<AppState>,
        blob: i64,
        idx: i64,
        offset: usize,
        done: bool,
        _slot: Option<limits::DownloadSlot>,
    }
    let start = Reader { state, blob, idx: 0, offset: 0, done: false, _slot: slot };
    futures_util::stream::unfold(start, |mut r| async move {
        if r.done {
            return None;
        }
        let (blob, idx, offset) = (r.blob, r.idx, r.offset);
        let read = {
            let _permit = r.state.files.reads.acquire().await.ok(); // (the semaphore is never closed)
            r.state.db.read(move |c| store::chunk_slice(c, blob, idx, offset, PIECE)).await
        };
        match read {
            Ok(Some((data, chunk_len))) => {
                if offset + data.len() >= chunk_len {
                    (r.idx, r.offset) = (idx + 1, 0);
                } else {
                    r.offset += data.len();
                }
                Some((Ok(Bytes::from(data)), r))
            }
            Ok(None) => None,
            Err(e) => {
                r.done = true;
                Some((Err(e), r))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let long_stem = format!("{}.pdf", "x".repeat(500));
        let long_cyrillic = format!("{}.docx", "ж".repeat(300));
        let long_ext = format!("a.{}", "y".repeat(300));
        let cases: &[(&str, &str)] = &[
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\a\\photo.png", "photo.png"),
            ("dir/sub\\file.txt", "file.txt"),
            ("<script>alert(1)</script>.txt", "script>.txt"),
            ("", "file"),
            ("   ", "file"),
            ("..", "file"),
            (".htaccess", "htaccess"),
            ("report.pdf. . .", "report.pdf"),
            // Control characters (C0, DEL, C1).
            ("a\u{0}b\nc.txt", "abc.txt"),
            ("a\tb\u{7f}\u{85}.txt", "ab.txt"),
            // Bidi overrides and embeddings: "invoice\u{202E}gpj.exe" shows as "invoiceexe.jpg".
            ("invoice\u{202E}gpj.exe", "invoicegpj.exe"),
            ("\u{202A}a\u{202B}b\u{202C}c\u{202D}.pdf", "abc.pdf"),
            // Isolates and marks.
            ("a\u{2066}b\u{2067}c\u{2068}d\u{2069}.txt", "abcd.txt"),
            ("x\u{200E}y\u{200F}z\u{061C}.txt", "xyz.txt"),
            // Zero-width characters.
            ("p\u{200B}h\u{200C}o\u{200D}t\u{2060}o\u{FEFF}.png", "photo.png"),
            ("soft\u{AD}hyphen\u{2028}.txt", "softhyphen.txt"),
            ("\u{202E}\u{200B}\u{FEFF}", "file"),
            ("\u{202E}../x.txt", "x.txt"),
            // Right-to-left and other scripts themselves are names, not tricks.
            ("שלום.txt", "שלום.txt"),
            ("فاتورة.pdf", "فاتورة.pdf"),
            ("фото №1.jpg", "фото №1.jpg"),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_file_name(raw), *want, "{raw:?}");
            assert_eq!(clean_file_name(want), *want, "idempotent: {want:?}");
        }
        // Long names are cut to MAX_NAME_CHARS characters, keeping a short extension.
        let cut = clean_file_name(&long_stem);
        assert_eq!((cut.chars().count(), cut.ends_with(".pdf")), (MAX_NAME_CHARS, true));
        let cut = clean_file_name(&long_cyrillic);
        assert_eq!((cut.chars().count(), cut.ends_with(".docx"), cut.starts_with("жж")), (MAX_NAME_CHARS, true, true));
        let cut = clean_file_name(&long_ext);
        assert_eq!(cut.chars().count(), MAX_NAME_CHARS, "an over-long extension is no extension");
        assert_eq!(clean_file_name(&"x".repeat(500)).len(), MAX_NAME_CHARS);
        for name in [long_stem, long_cyrillic, long_ext] {
            let once = clean_file_name(&name);
            assert_eq!(clean_file_name(&once), once);
        }
    }

    #[test]
    fn content_types() {
        let cases = [
            (Some("image/png"), "a.png", "image/png"),
            (Some("IMAGE/PNG; charset=x"), "a.png", "image/png"),
            (Some("text/html\r\nX: y"), "a.html", "text/html"),
            (None, "a.pdf", "application/pdf"),
            (None, "noext", "application/octet-stream"),
            (Some("multipart/form-data; boundary=x"), "a.jpg", "image/jpeg"),
        ];
        for (declared, name, want) in cases {
            assert_eq!(clean_content_type(declared, name), want, "{declared:?} {name}");
        }
    }
}
