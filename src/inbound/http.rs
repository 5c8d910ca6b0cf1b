//! `POST /api/v1/inbound/mime` (a forwarder hands over one raw message) and
//! `POST /api/v1/settings/imap/check` (an admin tests the mailbox settings).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::{Context, Outcome, Refused, Via, imap, mime};
use crate::error::{AppError, Kind};
use crate::state::AppState;

fn refused(r: &Refused) -> HttpResponse {
    let status = match r {
        Refused::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Refused::Empty => StatusCode::BAD_REQUEST,
        Refused::NotMail(_) | Refused::NoSender(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    HttpResponse::build(status).json(json!({"error": {"code": r.code(), "message": r.to_string()}}))
}

/// `POST /api/v1/inbound/mime` — body: one raw RFC 5322 message (any content type), at most
/// `mail_max_bytes`. 201 `{"ticket":N,"threaded":bool,"automatic":class|null}` when imported,
/// 200 `{"ignored":"duplicate"|"own_mail","message"}` when seen before or our own, and
/// 413 `too_large` / 400 `empty_message` / 422 `not_a_mail`, `no_sender` when refused.
pub async fn mime_message(state: web::Data<AppState>, req: HttpRequest, mut body: web::Payload) -> Result<HttpResponse, AppError> {
    let max = state.config.mail_max_bytes;
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok())
        && len > max
    {
        let r = Refused::TooLarge { size: len, limit: max };
        tracing::warn!(code = r.code(), reason = %r, "inbound mail refused");
        return Ok(refused(&r));
    }
    let mut raw: Vec<u8> = Vec::new();
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(|e| AppError::invalid(format!("the message stopped arriving: {e}")))?;
        if raw.len() + piece.len() > max {
            let r = Refused::TooLarge { size: raw.len() + piece.len(), limit: max };
            tracing::warn!(code = r.code(), reason = %r, "inbound mail refused");
            return Ok(refused(&r));
        }
        raw.extend_from_slice(&piece);
    }
    let opts = mime::ParseOptions { max_bytes: max, unwrap_forwards: state.config.mail_unwrap_forwards };
    let parsed = web::block(move || mime::parse(&raw, &opts)).await.map_err(|e| AppError::internal(e.to_string()))?;
    let mail = match parsed {
        Ok(m) => m,
        Err(r) => {
            tracing::warn!(code = r.code(), reason = %r, "inbound mail refused");
            return Ok(refused(&r));
        }
    };
    let (now, config, host) = (state.now(), state.config.clone(), state.public_url.host_str().unwrap_or("localhost").to_string());
    let outcome = state.db.write(move |c| super::import(c, &mail, &Context::load(c, &config, &host, Via::Http)?, now)).await?;
    if let Some(n) = outcome.ticket() {
        state.hub.publish(crate::realtime::Audience::Agents, crate::realtime::ticket_changed(n)).await;
    }
    Ok(match outcome {
        Outcome::New { ticket, automatic } => {
            HttpResponse::Created().json(json!({"ticket": ticket, "threaded": false, "automatic": automatic}))
        }
        Outcome::Threaded { ticket, automatic } => {
            HttpResponse::Created().json(json!({"ticket": ticket, "threaded": true, "automatic": automatic}))
        }
        Outcome::Ignored { reason } => HttpResponse::Ok().json(json!({"ignored": reason, "message": reason.describe()})),
    })
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    /// A URL to try before saving it; default: the configured `imap_url`.
    pub url: Option<String>,
}

/// `POST /api/v1/settings/imap/check` (admin) — connect, log in and open the mailbox (`url`, or
/// the `imap_url` in force; a `********` password means the stored one); 200 with
/// `{"ok":true,"messages":N}` or `{"ok":false,"error":{"code":"dns|tcp|tls|auth|mailbox|protocol","message"}}`.
pub async fn check(state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let text = std::str::from_utf8(&body).map_err(|_| AppError::new(Kind::InvalidJson, "the body is not UTF-8"))?;
    let b: CheckBody = if text.trim().is_empty() { CheckBody::default() } else { crate::http::parse_json(text)? };
    let config = state.config.clone();
    let (in_force, _) = state.db.read(move |c| crate::mail::imap_setting(c, &config)).await?;
    let url = match b.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => {
            let mut url = imap::ImapUrl::parse(u).map_err(|m| AppError::invalid(format!("url: {m}")))?;
            // The console's form holds the masked password: check with the stored one.
            if url.password == crate::mail::smtp::MASK {
                url.password = in_force.map(|s| s.password).ok_or_else(|| AppError::invalid(format!("url: {}", crate::mail::MASK_HINT)))?;
            }
            url
        }
        None => in_force.ok_or_else(|| AppError::new(Kind::Invalid, "no imap_url is set; send one as url"))?,
    };
    Ok(match imap::check(&url, state.config.imap_ca_file.as_deref()).await {
        Ok(n) => HttpResponse::Ok().json(json!({"ok": true, "mailbox": url.display(), "messages": n})),
        Err(e) => {
            HttpResponse::Ok().json(json!({"ok": false, "mailbox": url.display(), "error": {"code": e.code(), "message": e.to_string()}}))
        }
    })
}
