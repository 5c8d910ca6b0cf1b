//! The widget's ticket endpoints (W6): the leave-a-message form and the visitor's answers.

use actix_web::{HttpRequest, HttpResponse, web};

use super::http::publish_ticket_change;
use super::ops;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// `POST /api/v1/widget/offline` — the widget's leave-a-message form becomes a ticket.
pub async fn offline(state: Data, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, AppError> {
    // Who is asking comes before what they sent: a request without a visitor token is refused
    // as such, whatever its body.
    let visitor = crate::chat::visitor_from_request(&state, &req).await?;
    crate::bans::refuse_banned_request(&state, &req, visitor).await?;
    let text = std::str::from_utf8(&body).map_err(|_| AppError::new(crate::error::Kind::InvalidJson, "body is not UTF-8"))?;
    let message: ops::OfflineMessage = crate::http::parse_json(text)?;
    // Bad input is refused before it counts against the visitor's budget.
    let message = message.cleaned()?;
    let now = state.now();
    state.uploads.take(&format!("offline{visitor}"), now).map_err(AppError::rate_limited)?;
    let opened = state.db.write(move |c| ops::offline_message(c, visitor, &message, now)).await?;
    publish_ticket_change(&state, opened.number).await;
    Ok(HttpResponse::Created().json(serde_json::json!({"number": opened.number})))
}

/// `GET /api/v1/widget/tickets` — the visitor's own messages and the answers to them, so a
/// returning visitor sees the reply in the widget. Internal notes never appear.
pub async fn tickets(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let visitor = crate::chat::visitor_from_request(&state, &req).await?;
    let items = state.db.read(move |c| ops::visitor_tickets(c, visitor)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}
