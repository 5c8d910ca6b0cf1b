//! Attachments: uploads stored in the database in chunks (content-addressed by SHA-256) and
//! downloads served so a browser never runs them. SQL: `files/store.rs`.

pub mod store;

use actix_web::http::header;
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
/// Images a browser may show inline (never SVG: it can carry script).
const INLINE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

pub fn file_url(token: &str, name: &str) -> String {
    format!("/files/{token}/{}", url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20"))
}

/// A file name safe to store and show: no directories, no control characters, ≤ 200 chars.
pub fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() { "file".to_string() } else { cleaned.to_string() }
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

async fn store_upload(state: &AppState, req: &HttpRequest, mut body: web::Payload, who: Uploader) -> Result<HttpResponse, AppError> {
    let key = match who {
        Uploader::Visitor(v) => format!("v{v}"),
        Uploader::Agent(a) => format!("a{a}"),
    };
    state.uploads.take(&key, state.now()).map_err(AppError::rate_limited)?;
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok())
        && len > MAX_UPLOAD
    {
        return Err(AppError::new(Kind::TooLarge, format!("files up to {} MiB", MAX_UPLOAD >> 20)));
    }
    let raw_name = req.headers().get("x-file-name").and_then(|v| v.to_str().ok()).unwrap_or("file");
    let decoded = url::form_urlencoded::parse(format!("n={raw_name}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default();
    let name = clean_file_name(&decoded);
    let content_type = clean_content_type(req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), &name);

    let now = state.now();
    let blob_id = state.db.write(move |c| store::new_blob(c, now)).await?;
    let mut hasher = Sha256::new();
    let mut size = 0usize;
    let mut idx = 0i64;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK);
    let outcome: Result<(), AppError> = async {
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| AppError::invalid(format!("upload interrupted: {e}")))?;
            size += piece.len();
            if size > MAX_UPLOAD {
                return Err(AppError::new(Kind::TooLarge, format!("files up to {} MiB", MAX_UPLOAD >> 20)));
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
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        // Nothing half-stored stays behind.
        let _ = state.db.write(move |c| store::delete_blob(c, blob_id)).await;
        return Err(e);
    }
    let sha = hasher.finalize().to_vec();
    let token = auth::new_secret_token();
    let (visitor_id, agent_id) = match who {
        Uploader::Visitor(v) => (Some(v), None),
        Uploader::Agent(a) => (None, Some(a)),
    };
    let (tok, n, ct) = (token.clone(), name.clone(), content_type.clone());
    let sz = size as i64;
    state
        .db
        .write(move |c| {
            // Same bytes already stored: keep one copy.
            let blob = store::seal_blob(c, blob_id, &sha, sz)?;
            let a =
                store::NewAttachment { token: &tok, blob_id: blob, file_name: &n, content_type: &ct, size: sz, visitor_id, agent_id, now };
            store::insert_attachment(c, &a)
        })
        .await?;
    Ok(HttpResponse::Created().json(AttachmentInfo { url: file_url(&token, &name), token, name, content_type, size: size as i64 }))
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    #[serde(default)]
    inline: Option<u8>,
}

/// `GET /files/{token}/{name}`. The token is a 256-bit capability; the name is cosmetic.
pub async fn download(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<DownloadQuery>,
) -> Result<HttpResponse, AppError> {
    let (token, _) = path.into_inner();
    if token.len() > 64 {
        return Err(AppError::not_found("file"));
    }
    let found = state
        .db
        .read(move |c| {
            let Some((_, blob, name, ctype, size)) = store::attachment_by_token(c, &token)? else { return Ok(None) };
            Ok(Some((name, ctype, store::blob_data(c, blob, size as usize)?)))
        })
        .await?;
    let (name, ctype, data) = found.ok_or_else(|| AppError::not_found("file"))?;
    let inline = q.inline == Some(1) && INLINE_TYPES.contains(&ctype.as_str());
    let ascii: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_ ".contains(c) { c } else { '_' }).collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20");
    let disposition = format!("{}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}", if inline { "inline" } else { "attachment" });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, if inline { ctype } else { "application/octet-stream".into() }))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; img-src 'self'; sandbox"))
        .insert_header(("Cross-Origin-Resource-Policy", "same-origin"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=31536000, immutable"))
        .body(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let cases = [
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\a\\photo.png", "photo.png"),
            ("<script>alert(1)</script>.txt", "script>.txt"),
            ("", "file"),
            ("..", "file"),
            (".htaccess", "htaccess"),
            ("a\u{0}b\nc.txt", "abc.txt"),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_file_name(raw), want, "{raw:?}");
        }
        assert_eq!(clean_file_name(&"x".repeat(500)).len(), 200);
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
