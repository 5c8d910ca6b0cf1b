//! `/ws/visitor`: the widget's socket. Its budgets (messages, page views, typing, hellos) are
//! kept per visitor and per client IP in `AppState::visitor_budgets`, shared by every socket, so
//! opening more sockets or reconnecting does not buy more (finding 15).

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::Session;

use super::socket::{self, Closed, Delivery, Handler, OwnedMessage, Step};
use super::store::{self, VisitorSeen};
use super::{EndedBy, Status, files};
use crate::auth;
use crate::db::Db;
use crate::error::{AppError, Kind};
use crate::realtime::protocol::{self, PageInfo, Reader, ServerFrame, Typing, VisitorFrame, VisitorRef, VisitorWelcome, close};
use crate::realtime::{Audience, Peer, SocketId};
use crate::state::AppState;

pub async fn upgrade(state: web::Data<AppState>, req: HttpRequest, body: web::Payload) -> Result<HttpResponse, AppError> {
    super::agent_ws::check_socket_origin(&state, &req)?;
    let ip = state.client_ip(&req).map(|i| i.to_string()).unwrap_or_default();
    let user_agent = crate::http::user_agent(&req);
    let (resp, session, stream) = actix_ws::handle(&req, body).map_err(|e| AppError::invalid(format!("websocket handshake: {e}")))?;
    let handler = VisitorSocket {
        state: state.clone(),
        ip,
        user_agent,
        visitor: None,
        conversation: None,
        // Never an internal line (whisper, transfer note) in a visitor's replay.
        delivery: Delivery::visitor(),
        socket: None,
        page_url: None,
        origin: None,
    };
    actix_web::rt::spawn(async move {
        let mut handler = handler;
        let mut session = session;
        let mut stream = stream.max_frame_size(protocol::MAX_FRAME).aggregate_continuations().max_continuation_size(protocol::MAX_FRAME);
        let Some(text) = socket::first_text(&mut session, &mut stream).await else { return };
        let rx = match handler.hello(&mut session, &text).await {
            Ok(Some(rx)) => rx,
            Ok(None) | Err(Closed) => return,
        };
        socket::run_loop(handler, session, stream, rx).await;
    });
    Ok(resp)
}

/// Why a hello was refused before anything was written.
enum Refusal {
    Banned,
    Limited(String),
}

/// The `rate_limited` refusal, with when to retry.
fn limited(what: &str, wait: u64) -> AppError {
    let mut e = AppError::new(Kind::RateLimited, format!("too many {what}; retry in {wait} s"));
    e.retry_after_secs = Some(wait.max(1));
    e
}

struct VisitorSocket {
    state: web::Data<AppState>,
    ip: String,
    user_agent: String,
    visitor: Option<i64>,
    conversation: Option<i64>,
    delivery: Delivery,
    socket: Option<SocketId>,
    page_url: Option<String>,
    /// The host page's origin (from the loader's page URL): routing and W11 use it.
    origin: Option<String>,
}

/// A referrer from another site is the visit's source; our own site's pages are navigation.
fn external_referrer(page_url: &str, referrer: Option<&str>) -> Option<String> {
    let r = referrer.filter(|r| !r.is_empty())?;
    let page_host = url::Url::parse(page_url).ok().and_then(|u| u.host_str().map(str::to_string));
    let ref_host = url::Url::parse(r).ok().and_then(|u| u.host_str().map(str::to_string))?;
    (page_host.as_deref() != Some(ref_host.as_str())).then(|| r.to_string())
}

impl VisitorSocket {
    async fn hello(
        &mut self,
        session: &mut Session,
        text: &str,
    ) -> Result<Option<tokio::sync::mpsc::Receiver<crate::realtime::Outbound>>, Closed> {
        let frame = match protocol::parse_visitor(text) {
            Ok(f @ VisitorFrame::Hello { .. }) => f,
            Ok(_) => {
                socket::refuse(session, "hello_required", "the first frame must be hello").await;
                return Ok(None);
            }
            Err(e) => {
                socket::refuse(session, e.code, &e.message).await;
                return Ok(None);
            }
        };
        let VisitorFrame::Hello { token, page, tz, lang, resume, history, identity, .. } = frame else { unreachable!() };
        self.delivery.batch = history;
        let st = self.state.clone();
        let now = st.now();
        // W11: a page from a site not on the allowed list gets no chat.
        let origin = page.as_ref().and_then(|p| crate::routing::origin_of(&p.url));
        if !st.routing.settings().origin_allowed(origin.as_deref()) {
            let _ = session.text(protocol::error_frame("origin_not_allowed", "this site may not embed the chat", None)).await;
            let _ = session.clone().close(socket::close_reason(close::POLICY, "site not allowed")).await;
            return Ok(None);
        }
        self.origin = origin.clone();
        let client_hash = token.as_deref().filter(|t| !t.is_empty() && t.len() <= 128).map(auth::token_hash);
        let ip_addr = self.ip.parse::<std::net::IpAddr>().ok();
        let (ip, ua) = (self.ip.clone(), self.user_agent.clone());
        let tz = tz.filter(|t| t.len() <= 64);
        let lang = lang.filter(|l| l.len() <= 35);
        let page_clone = page.clone();
        // Routing decides between chat, the offline form and hiding (W6, W7, R6): accepting
        // agents with free slots, hours, queue limits; never the number of open console tabs.
        let settings = st.routing.settings();
        let not_before = now - crate::visitors::INVITATION_TTL_MS;
        let view_origin = origin.clone();
        let budgets = st.clone();
        // The whole hello is one write job — who the visitor is, bans, budgets, the visit,
        // what routing offers, the pre-chat forms and an invitation still showing: one trip to
        // another thread instead of three, on the writer's warm page cache (a reader's is
        // emptied by every commit), and a reconnect storm runs thousands of these (P4).
        let result = st
            .db
            .write(move |c| {
                let known_visitor = match &client_hash {
                    Some(h) => store::visitor_by_token(c, h)?,
                    None => None,
                };
                // W10: a banned visitor (token or address) gets no widget.
                if crate::bans::is_banned(c, known_visitor, ip_addr, now)? {
                    return Ok(Err(Refusal::Banned));
                }
                // Every connection counts (per visitor and per IP); a new visitor also against
                // the new-visitors budget.
                let refused = match budgets.visitor_budgets.hellos.take(known_visitor, &ip, now) {
                    Err(wait) => Some(format!("too many connections; retry in {wait} s")),
                    Ok(()) if known_visitor.is_none() => budgets
                        .widget_sessions
                        .take(&ip, now)
                        .err()
                        .map(|wait| format!("too many new chats from this address; retry in {wait} s")),
                    Ok(()) => None,
                };
                if let Some(message) = refused {
                    return Ok(Err(Refusal::Limited(message)));
                }
                let seen = VisitorSeen { ip: &ip, user_agent: &ua, timezone: tz.as_deref(), language: lang.as_deref() };
                // A returning visitor keeps their token; anyone else gets a new one.
                let (id, hash, token, returning) = match (known_visitor, client_hash, token) {
                    (Some(id), Some(hash), Some(token)) => {
                        store::touch_visitor(c, id, now, &seen)?;
                        (id, hash, token, true)
                    }
                    _ => {
                        let token = auth::new_secret_token();
                        let hash = auth::token_hash(&token);
                        (store::create_visitor(c, &hash, now, &seen)?, hash, token, false)
                    }
                };
                if let Some(p) = &page_clone {
                    record_page(c, id, p, now)?;
                }
                // W12: a valid signature links this visitor to the shop's customer (and to the
                // visitor of their other devices); anything else is ignored, never trusted.
                let (id, rejected) = match &identity {
                    Some(claim) => match crate::widget::verify_identity(&crate::widget::store::identity_secret(c)?, claim, now) {
                        Ok(v) => (crate::widget::store::link_identity(c, id, &hash, &v, now)?, None),
                        Err(why) => (id, Some(why)),
                    },
                    None => (id, None),
                };
                let known = match crate::widget::store::external_id(c, id)? {
                    Some(_) => Some(crate::widget::store::known(c, id)?),
                    None => None,
                };
                let conv = store::latest_conv_of(c, id)?;
                let agent_name = match conv.as_ref().and_then(|c| c.agent_id) {
                    Some(a) => crate::agents::store::get(c, a)?.map(|a| a.name),
                    None => None,
                };
                let view = (
                    crate::routing::ops::widget_view(c, &settings, view_origin.as_deref(), now)?,
                    crate::widget::store::prechat_forms(c)?,
                    crate::visitors::store::pending_of(c, id, not_before).ok().flatten(),
                );
                Ok(Ok((id, (token, returning), conv, agent_name, known, rejected, view)))
            })
            .await;
        let (visitor_id, (token, returning), conv, agent_name, known, rejected, (routing, prechat, invitation)) = match result {
            Ok(Ok(r)) => r,
            Ok(Err(Refusal::Banned)) => {
                let e = crate::bans::banned();
                let _ = session.text(protocol::error_frame(e.kind.code(), &e.message, None)).await;
                let _ = session.clone().close(socket::close_reason(close::POLICY, "banned")).await;
                return Ok(None);
            }
            Ok(Err(Refusal::Limited(message))) => {
                session.text(protocol::error_frame("rate_limited", &message, None)).await.map_err(|_| Closed)?;
                let _ = session.clone().close(socket::close_reason(close::TRY_AGAIN, &message)).await;
                return Ok(None);
            }
            Err(e) => {
                socket::send_error(session, &e, None).await?;
                return Ok(None);
            }
        };
        if let Some(why) = rejected {
            tracing::warn!(visitor = visitor_id, ip = %self.ip, reason = ?why, "signed identity ignored");
        }
        if !returning {
            st.visitor_budgets.hellos.charge_visitor(visitor_id, now);
        }
        self.visitor = Some(visitor_id);
        self.page_url = page.map(|p| p.url);
        let (id, rx) = st.hub.register(Peer::Visitor { visitor_id }).await;
        self.socket = Some(id);
        let welcome = ServerFrame::VisitorWelcome(VisitorWelcome {
            v: protocol::VERSION,
            token,
            visitor: VisitorRef { id: visitor_id },
            conversation: conv.as_ref().map(|c| socket::conv_frame(c, agent_name)),
            sneak_peek: st.sneak_peek(),
            routing,
            prechat,
            known,
        });
        session.text(welcome.to_json()).await.map_err(|_| Closed)?;
        if let Some(c) = conv {
            st.hub.subscribe(id, c.id).await;
            if c.status != Status::Ended {
                self.conversation = Some(c.id);
            }
            let after = resume.filter(|r| r.conversation == c.id).map(|r| r.last_seq).unwrap_or(0);
            self.delivery.follow(session, &st.db, c.id, after).await?;
            if c.status == Status::Queued
                && let Some(place) = crate::routing::live::place_of(&st, c.id).await
            {
                session.text(place.to_json()).await.map_err(|_| Closed)?;
            }
        }
        // An invitation still showing follows the visitor from page to page (W9).
        if let Some(inv) = invitation {
            session.text(crate::visitors::live::invitation_frame(&inv).to_json()).await.map_err(|_| Closed)?;
        }
        // The consoles' live visitors list (C13).
        crate::visitors::live::changed(&st, visitor_id).await;
        Ok(Some(rx))
    }

    async fn handle(&mut self, session: &mut Session, frame: VisitorFrame) -> Result<Step, Closed> {
        let st = self.state.clone();
        let visitor_id = self.visitor.expect("hello done");
        match frame {
            VisitorFrame::Hello { .. } => {
                session.text(protocol::error_frame("invalid_frame", "hello was already received", None)).await.map_err(|_| Closed)?;
            }
            VisitorFrame::Ping => {
                session.text(ServerFrame::Pong.to_json()).await.map_err(|_| Closed)?;
            }
            VisitorFrame::Page(p) => {
                let now = st.now();
                if let Err(wait) = st.visitor_budgets.pages.take(Some(visitor_id), &self.ip, now) {
                    socket::send_error(session, &limited("page views", wait), None).await?;
                    return Ok(Step::Continue);
                }
                self.page_url = Some(p.url.clone());
                let page = p.clone();
                if let Err(e) = st.db.write(move |c| record_page(c, visitor_id, &page, now)).await {
                    socket::send_error(session, &e, None).await?;
                }
                if let Some(conv) = self.conversation {
                    let frame = ServerFrame::VisitorPage { conversation: conv, visitor: visitor_id, url: p.url, title: p.title, at: now };
                    st.hub.publish(Audience::ConversationAgents(conv), frame).await;
                }
                crate::visitors::live::changed(&st, visitor_id).await;
            }
            VisitorFrame::Message { client_id, body, attachment, department, invitation, prechat } => {
                if let Err(wait) = st.visitor_budgets.messages.take(Some(visitor_id), &self.ip, st.now()) {
                    socket::send_error(session, &limited("messages", wait), Some(&client_id)).await?;
                    return Ok(Step::Continue);
                }
                match self.send_message(session, client_id.clone(), body, attachment, Opening { department, invitation, prechat }).await {
                    Ok(()) => {}
                    Err(e) => socket::send_error(session, &e, Some(&client_id)).await?,
                }
            }
            VisitorFrame::Typing { typing, draft } => {
                // Typing is a hint: beyond the budget it is dropped without an error frame.
                if let Some(conv) = self.conversation
                    && st.visitor_budgets.typing.take(Some(visitor_id), &self.ip, st.now()).is_ok()
                {
                    let draft = if st.sneak_peek() && typing {
                        draft.map(|d| d.chars().take(protocol::MAX_DRAFT_CHARS).collect::<String>())
                    } else {
                        None
                    };
                    let frame = ServerFrame::Typing(Typing::Visitor { conversation: conv, typing, draft });
                    st.hub.publish(Audience::ConversationAgents(conv), frame).await;
                }
            }
            VisitorFrame::Read { seq } => {
                if let Some(conv) = self.delivery.last_sent.keys().copied().max() {
                    if let Err(e) = st.db.write(move |c| store::set_visitor_read(c, conv, seq)).await {
                        socket::send_error(session, &e, None).await?;
                    } else {
                        let frame = ServerFrame::Read { conversation: conv, by: Reader::Visitor, seq };
                        st.hub.publish(Audience::ConversationAgents(conv), frame).await;
                    }
                }
            }
            VisitorFrame::InvitationClose { invitation } => {
                let now = st.now();
                match st.db.write(move |c| crate::visitors::ops::close(c, visitor_id, invitation, now)).await {
                    Ok(()) => crate::visitors::live::changed(&st, visitor_id).await,
                    Err(e) => socket::send_error(session, &e, None).await?,
                }
            }
            VisitorFrame::End => {
                if let Some(conv) = self.conversation.take()
                    && let Err(e) = socket::end_conversation(&st, conv, EndedBy::Visitor, String::new()).await
                {
                    socket::send_error(session, &e, None).await?;
                }
            }
        }
        Ok(Step::Continue)
    }

    async fn send_message(
        &mut self,
        session: &mut Session,
        client_id: String,
        body: String,
        attachment: Option<String>,
        opening: Opening,
    ) -> Result<(), AppError> {
        let st = self.state.clone();
        let visitor_id = self.visitor.expect("hello done");
        let now = st.now();
        let page_url = self.page_url.clone();
        let (settings, origin) = (st.routing.settings(), self.origin.clone());
        // Find or open the conversation, resolve the attachment and store the message: ONE
        // write job (SPEC P2), so a new chat and its first message appear together and a
        // message costs one trip through the writer.
        let cid = client_id.clone();
        let known = self.conversation;
        let (conv_id, created, invited, m, new) = st
            .db
            .write(move |c| {
                let (conv_id, created, attachment_id, invited) =
                    open_for_message(c, visitor_id, known, attachment, page_url, settings, origin, opening, now)?;
                let msg = OwnedMessage {
                    conversation: conv_id,
                    author_kind: "visitor",
                    agent_id: None,
                    client_id: Some(cid),
                    body,
                    attachment_id,
                    internal: false,
                };
                let (m, new) = socket::store_message(c, &msg, now)?;
                Ok((conv_id, created, invited, m, new))
            })
            .await?;
        if created {
            let socket = self.socket.expect("registered");
            st.hub.subscribe(socket, conv_id).await;
            if let Some(old) = self.delivery.last_sent.keys().copied().filter(|c| *c != conv_id).collect::<Vec<_>>().first() {
                st.hub.unsubscribe(socket, *old).await;
                self.delivery.unfollow(*old);
            }
            self.delivery.last_sent.insert(conv_id, 0);
            self.conversation = Some(conv_id);
        }
        if new {
            socket::publish_message(&st.hub, &m).await;
        }
        let ack = ServerFrame::Ack { client_id, conversation: conv_id, seq: m.seq, id: m.id, at: m.at };
        session.text(ack.to_json()).await.map_err(|_| AppError::unavailable("socket closed"))?;
        if let Some((agent_id, agent_name)) = invited {
            // The inviting agent has it: their sockets follow it from the start (the joined
            // line and the invitation's text before the visitor's answer).
            if let Ok(Some(view)) = st.db.read(move |c| store::conversation_view(c, conv_id)).await {
                st.hub.assign_agent(agent_id, conv_id, ServerFrame::Assigned { conversation: view }).await;
            }
            let active = ServerFrame::Status(crate::realtime::protocol::StatusChange::Active { conversation: conv_id, agent_name });
            st.hub.publish(Audience::ConversationVisitors(conv_id), active).await;
        } else if created {
            // Routing assigns it if it can; otherwise the visitor learns their place and the
            // consoles' queue gets it (both from the dispatch, in commit order).
            crate::routing::dispatch(&st).await;
        }
        if created {
            crate::visitors::live::changed(&st, visitor_id).await;
        }
        Ok(())
    }
}

/// The conversation a visitor's message goes into (inside its write job): the open one, else a
/// new one (an answered invitation's, or one routing admits); with the attachment resolved.
/// `known`: the conversation this socket is in, looked up by id first (a visitor has at most
/// one open conversation; the lookup by visitor is the slower statement). Returns
/// (conversation, created, attachment, the inviting agent).
#[allow(clippy::too_many_arguments)]
fn open_for_message(
    c: &rusqlite::Connection,
    visitor_id: i64,
    known: Option<i64>,
    attachment: Option<String>,
    page_url: Option<String>,
    settings: crate::routing::RoutingSettings,
    origin: Option<String>,
    opening: Opening,
    now: i64,
) -> Result<(i64, bool, Option<i64>, Option<InvitedBy>), AppError> {
    let Opening { department, invitation, prechat } = opening;
    let attachment_id = match attachment {
        Some(tok) => {
            let (id, ..) = files::store::attachment_by_token(c, &tok)?.ok_or_else(|| AppError::invalid("unknown attachment"))?;
            if !files::store::attachment_owned_by_visitor(c, id, visitor_id)? {
                return Err(AppError::forbidden("that attachment is not yours"));
            }
            Some(id)
        }
        None => None,
    };
    if let Some(conv) = known.map(|id| store::conv(c, id)).transpose()?.flatten()
        && conv.visitor_id == visitor_id
        && conv.status != Status::Ended
    {
        return Ok((conv.id, false, attachment_id, None));
    }
    match store::open_conv_of(c, visitor_id)? {
        Some(conv) => Ok((conv.id, false, attachment_id, None)),
        None => {
            // Answering an invitation (W9): the chat starts with the inviting agent.
            let answered = match invitation {
                Some(i) => crate::visitors::ops::pending_for_answer(c, visitor_id, i, now)?,
                None => None,
            };
            if let Some(inv) = answered
                && let Some(joined) = start_invited_chat(c, &inv, page_url.as_deref(), settings.default_department, now)?
            {
                return Ok((joined.0, true, attachment_id, Some(joined.1)));
            }
            // Routing: the department, and whether chat is open at all.
            let department = crate::routing::ops::admit(c, &settings, department, origin.as_deref(), now)?;
            // W3: the department's pre-chat form, answered before anything is stored.
            let answers = match department.map(|d| crate::widget::store::prechat_form(c, d)).transpose()?.flatten() {
                Some(form) => {
                    let known = crate::widget::store::known(c, visitor_id)?;
                    Some(crate::widget::check_answers(&form, &prechat.unwrap_or_default(), &known)?)
                }
                None => None,
            };
            let id = store::create_conv(c, visitor_id, page_url.as_deref(), now)?;
            crate::routing::store::set_conv_department(c, id, department)?;
            crate::webhooks::events::conversation_started(c, id, visitor_id, page_url.as_deref(), now)?;
            if let Some(a) = &answers {
                crate::widget::store::set_answers(c, id, a)?;
                crate::widget::store::keep_on_contact(c, visitor_id, a, now)?;
            }
            Ok((id, true, attachment_id, None))
        }
    }
}

/// The agent an invited chat starts with: (id, name).
type InvitedBy = (i64, String);

/// What a visitor's message may carry for the chat it opens (read only when none is open):
/// the department (routing), the invitation it answers (W9), the pre-chat answers (W3).
struct Opening {
    department: Option<i64>,
    invitation: Option<i64>,
    prechat: Option<crate::widget::Answers>,
}

/// Start the chat an invitation was answered with: assigned to the inviting agent at once (in
/// the invitation's department, else the default), the "joined" line, the invitation's text as
/// the agent's first message, the invitation recorded as accepted. None when the agent is gone
/// or disabled: the answer then starts a chat as any other (routing).
fn start_invited_chat(
    c: &rusqlite::Connection,
    inv: &crate::visitors::store::InvitationRow,
    page_url: Option<&str>,
    default_department: Option<i64>,
    now: i64,
) -> Result<Option<(i64, InvitedBy)>, AppError> {
    let Some(agent) = inv.agent_id.map(|a| crate::agents::store::get(c, a)).transpose()?.flatten().filter(|a| !a.disabled) else {
        return Ok(None);
    };
    let id = store::create_conv(c, inv.visitor_id, page_url, now)?;
    crate::webhooks::events::conversation_started(c, id, inv.visitor_id, page_url, now)?;
    crate::routing::store::set_conv_department(c, id, inv.department_id.or(default_department))?;
    if !store::assign(c, id, agent.id, now)? {
        return Err(AppError::internal("a new chat could not be assigned"));
    }
    store::insert_system(c, id, Some(agent.id), &crate::events::SystemEvent::joined(&agent.name), now)?;
    store::insert_message(
        c,
        &store::NewMessage {
            conversation: id,
            author_kind: "agent",
            agent_id: Some(agent.id),
            client_id: None,
            body: &inv.body,
            attachment_id: None,
            internal: false,
            now,
        },
    )?;
    store::forget_agent_reply(c, id)?;
    crate::visitors::store::answer(c, inv.id, crate::visitors::InvitationStatus::Accepted, Some(id), now)?;
    Ok(Some((id, (agent.id, agent.name))))
}

fn record_page(c: &rusqlite::Connection, visitor_id: i64, p: &PageInfo, now: i64) -> Result<(), AppError> {
    let external = external_referrer(&p.url, p.referrer.as_deref());
    let query = external.as_deref().and_then(super::search_query_from_referrer);
    store::record_page(c, visitor_id, &p.url, p.title.as_deref(), external.as_deref(), query.as_deref(), now)
}

impl Handler for VisitorSocket {
    async fn on_text(&mut self, session: &mut Session, text: &str) -> Result<Step, Closed> {
        match protocol::parse_visitor(text) {
            Ok(frame) => self.handle(session, frame).await,
            Err(e) => {
                session.text(protocol::error_frame(e.code, &e.message, None)).await.map_err(|_| Closed)?;
                Ok(Step::Continue)
            }
        }
    }
    fn delivery(&mut self) -> &mut Delivery {
        &mut self.delivery
    }
    fn db(&self) -> &Db {
        &self.state.db
    }
    async fn finish(&mut self) {
        if let Some(id) = self.socket {
            self.state.hub.unregister(id).await;
            if let Some(v) = self.visitor {
                crate::visitors::live::socket_closed(self.state.clone(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrers() {
        let cases = [
            ("https://shop.example/a", Some("https://www.google.com/search?q=x"), Some("https://www.google.com/search?q=x")),
            ("https://shop.example/b", Some("https://shop.example/a"), None),
            ("https://shop.example/b", Some(""), None),
            ("https://shop.example/b", None, None),
            ("https://shop.example/b", Some("garbage"), None),
        ];
        for (page, r, want) in cases {
            assert_eq!(external_referrer(page, r).as_deref(), want, "{page} {r:?}");
        }
    }
}
