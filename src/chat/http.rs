//! Conversation REST endpoints: lists, archive search, one conversation with its transcript,
//! and the visitor panel.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::store::{self, ArchiveFilter};
use crate::auth::Principal;
use crate::auth::policy::Viewer;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    q: Option<String>,
    agent_id: Option<i64>,
    visitor: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    before: Option<i64>,
    tag: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/conversations?status=queued|active|ended&q=…`: queue, active chats, or the
/// archive with full-text search and filters.
pub async fn list(state: Data, p: Principal, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit: between 1 and 200"));
    }
    let viewer = p.viewer();
    let colleagues = viewer.sees_colleagues_chats(state.agents_see_colleagues());
    let items = match q.status.as_deref().unwrap_or("ended") {
        "queued" => state.db.read(store::queue).await?,
        "active" => {
            let all = state.db.read(store::active_all).await?;
            all.into_iter().filter(|c| colleagues || viewer.owns(c.agent_id)).collect()
        }
        "ended" => {
            if q.q.as_ref().is_some_and(|t| t.chars().count() > 200) {
                return Err(AppError::invalid("q: at most 200 characters"));
            }
            let tag = match q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(t) => crate::tags::clean(&[t.to_string()])?.pop(),
                None => None,
            };
            let filter = ArchiveFilter {
                tag,
                text: q.q,
                agent_id: q.agent_id,
                visitor: q.visitor.filter(|v| !v.trim().is_empty()),
                from: q.from,
                to: q.to,
                restrict_to_agent: if colleagues { None } else { Some(viewer.agent_key()) },
                before_id: q.before,
                limit,
            };
            // Messages are indexed in batches off the message path (db::fts): a text search
            // first has the writer index what is still waiting, so it finds every committed one.
            if filter.text.as_deref().and_then(crate::db::fts::query).is_some() {
                state.db.write(crate::db::fts::catch_up_messages).await?;
            }
            state.db.read(move |c| store::archive(c, &filter)).await?
        }
        other => return Err(AppError::invalid(format!("status: {other:?} is not queued, active or ended"))),
    };
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// The visitor panel as `viewer` may see it: only the visitor's chats the viewer may see.
fn visitor_panel(
    c: &rusqlite::Connection,
    viewer: Viewer,
    visitor_id: i64,
    agents_see_colleagues: bool,
) -> Result<Option<super::VisitorDetails>, AppError> {
    let mut v = store::visitor_details(c, visitor_id)?;
    if let Some(v) = v.as_mut() {
        v.conversations.retain(|ch| viewer.may_view_chat(ch.agent_id, ch.status, agents_see_colleagues));
        (v.contact, v.links) = crate::visitors::ops::panel(c, viewer, v, agents_see_colleagues)?;
    }
    Ok(v)
}

/// `GET /api/v1/conversations/{id}`: the conversation, its transcript and the visitor panel.
pub async fn get(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, viewer, colleagues) = (path.into_inner(), p.viewer(), state.agents_see_colleagues());
    let (view, messages, visitor, extra) = state
        .db
        .read(move |c| {
            viewer.visible_conversation(c, id, colleagues)?;
            let view = store::conversation_view(c, id)?.ok_or_else(|| AppError::not_found("conversation"))?;
            let visitor = visitor_panel(c, viewer, view.visitor.id, colleagues)?;
            // What the visitor answered before the chat (W3) and how they rated it (W8).
            let extra = (crate::widget::store::answers(c, id)?, crate::widget::store::rating(c, id)?);
            Ok((view, store::messages_between(c, id, 0, i64::MAX)?, visitor, extra))
        })
        .await?;
    let (prechat, rating) = extra;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"conversation": view, "messages": messages, "visitor": visitor, "prechat": prechat, "rating": rating})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/v1/conversations/{id}/messages?after=SEQ`: transcript pages by sequence number.
pub async fn messages(state: Data, p: Principal, path: web::Path<i64>, q: web::Query<MessagesQuery>) -> Result<HttpResponse, AppError> {
    let (id, viewer, colleagues) = (path.into_inner(), p.viewer(), state.agents_see_colleagues());
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(500).clamp(1, 1000) as i64;
    let items = state
        .db
        .read(move |c| {
            viewer.visible_conversation(c, id, colleagues)?;
            store::messages_between(c, id, after, after.saturating_add(limit))
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

/// `GET /api/v1/visitors/{id}`: the visitor panel, for callers who may see one of the visitor's
/// chats (supervisors: every visitor).
pub async fn visitor(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let (id, viewer, colleagues) = (path.into_inner(), p.viewer(), state.agents_see_colleagues());
    let v = state
        .db
        .read(move |c| {
            viewer.check_visitor(c, id, colleagues)?;
            visitor_panel(c, viewer, id, colleagues)
        })
        .await?
        .ok_or_else(|| AppError::not_found("visitor"))?;
    Ok(HttpResponse::Ok().json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsBody {
    tags: Vec<String>,
}

/// `PUT /api/v1/conversations/{id}/tags` `{"tags":[…]}`: replace a chat's tags (its agent, or a
/// supervisor; also after the chat ended, from the archive).
pub async fn set_tags(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<TagsBody>) -> Result<HttpResponse, AppError> {
    let (id, viewer, colleagues) = (path.into_inner(), p.viewer(), state.agents_see_colleagues());
    let tags = crate::tags::clean(&body.into_inner().tags)?;
    let tags = state
        .db
        .write(move |c| {
            let conv = viewer.visible_conversation(c, id, colleagues)?;
            if !viewer.may_tag_chat(conv.agent_id) {
                return Err(AppError::forbidden("only the chat's agent or a supervisor can tag it"));
            }
            store::set_conv_tags(c, id, &tags)?;
            store::conv_tags(c, id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"tags": tags})))
}

/// Earlier chats shown to a returning visitor: at most this many, each with at most
/// `EARLIER_MESSAGES` of its last messages.
pub const EARLIER_CHATS: u32 = 20;
pub const EARLIER_MESSAGES: usize = 200;

/// `GET /api/v1/widget/chats` (visitor token) — the visitor's ended chats, newest first, with
/// their messages (system lines carry their event for the widget to translate).
pub async fn widget_chats(state: Data, req: actix_web::HttpRequest) -> Result<HttpResponse, AppError> {
    let visitor = super::visitor_from_request(&state, &req).await?;
    let items = state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for (id, created_at) in store::ended_convs_of_visitor(c, visitor, EARLIER_CHATS)? {
                // What the visitor saw: never the agents' internal lines (whispers, notes).
                let mut messages = store::visitor_messages_between(c, id, 0, i64::MAX)?;
                let skip = messages.len().saturating_sub(EARLIER_MESSAGES);
                messages.drain(..skip);
                out.push(serde_json::json!({"id": id, "created_at": created_at, "messages": messages}));
            }
            Ok(out)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}
