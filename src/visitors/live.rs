//! The running part: who is on the site comes from the hub (visitors with an open widget
//! socket); every change is pushed to the consoles as a `visitor` frame after its commit; the
//! automatic invitation round.

use std::sync::RwLock;
use std::time::Duration;

use super::{Rule, ops, store};
use crate::error::AppError;
use crate::realtime::Audience;
use crate::realtime::protocol::{ServerFrame, VisitorChange};
use crate::state::AppState;

/// A visitor whose last widget socket closed is reported gone after this long without a new
/// one: a click to the next page of a site closes the socket and opens another at once.
pub const GONE_AFTER: Duration = Duration::from_secs(2);

/// Engagement's share of `AppState`: the enabled invitation rules, kept in memory so the
/// automatic round costs nothing while there are none.
#[derive(Default)]
pub struct Live {
    rules: RwLock<Vec<Rule>>,
}

impl Live {
    pub fn rules(&self) -> Vec<Rule> {
        self.rules.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_rules(&self, all: Vec<Rule>) {
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = all.into_iter().filter(|r| r.enabled).collect();
    }
}

/// Re-read the rules after an admin changed them.
pub async fn reload_rules(state: &AppState) -> Result<(), AppError> {
    let rules = state.db.read(store::rules).await?;
    state.visitors.set_rules(rules);
    Ok(())
}

/// The visitors on the site now, as the live list shows them.
pub async fn online(state: &AppState) -> Result<Vec<super::LiveVisitor>, AppError> {
    let ids = state.hub.online_visitors().await;
    state.db.read(move |c| store::live(c, &ids)).await
}

/// Tell every console watching the list how this visitor looks now (page, chat, invitation), if they are online.
pub async fn changed(state: &AppState, visitor_id: i64) {
    // Nobody watching (or the visitor left): nothing to read or send.
    if !state.hub.visitor_watched(visitor_id).await {
        return;
    }
    match state.db.read(move |c| store::live_one(c, visitor_id)).await {
        Ok(Some(v)) => {
            state.hub.publish(Audience::VisitorWatchers, ServerFrame::Visitor(VisitorChange::Update { visitor: Box::new(v) })).await
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, visitor = visitor_id, "reading a live visitor failed"),
    }
}

/// A widget socket of this visitor closed: when none is open [`GONE_AFTER`] later, they left
/// the site: an invitation still showing counts as ignored, and the consoles drop them.
pub fn socket_closed(state: actix_web::web::Data<AppState>, visitor_id: i64) {
    actix_web::rt::spawn(async move {
        tokio::time::sleep(GONE_AFTER).await;
        if state.hub.visitor_sockets(visitor_id).await > 0 {
            return;
        }
        let now = state.now();
        if let Err(e) = state.db.write(move |c| store::ignore_pending(c, Some(visitor_id), i64::MAX, now)).await {
            tracing::warn!(error = %e, visitor = visitor_id, "ignoring a gone visitor's invitation failed");
        }
        state.hub.publish(Audience::VisitorWatchers, ServerFrame::Visitor(VisitorChange::Gone { id: visitor_id })).await;
    });
}

/// The `invitation` frame for the visitor.
pub fn invitation_frame(i: &store::InvitationRow) -> ServerFrame {
    ServerFrame::Invitation { id: i.id, body: i.body.clone(), agent_name: i.agent_name.clone(), at: i.sent_at }
}

/// An agent invites a visitor (the `invite` frame): only one who is on the site now.
pub async fn invite(state: &AppState, agent_id: i64, visitor_id: i64, body: String) -> Result<i64, AppError> {
    if state.hub.visitor_sockets(visitor_id).await == 0 {
        return Err(AppError::not_found("visitor on the site"));
    }
    let now = state.now();
    let inv = state.db.write(move |c| ops::invite(c, agent_id, visitor_id, &body, now)).await?;
    state.hub.publish(Audience::Visitor(visitor_id), invitation_frame(&inv)).await;
    changed(state, visitor_id).await;
    Ok(inv.id)
}

/// One automatic round (every second, and by hand in tests): invitations shown for longer than
/// [`super::INVITATION_TTL_MS`] become ignored; then every visitor on the site is checked
/// against the enabled rules ([`ops::auto_invite`]). Returns the ids of the invitations sent.
pub async fn auto_round(state: &AppState) -> Vec<i64> {
    let now = state.now();
    let before = now - super::INVITATION_TTL_MS;
    // Idle servers must not write (and fsync) every second: look first, on a reader.
    if state.db.read(move |c| store::any_pending_before(c, before)).await.unwrap_or(false) {
        match state.db.write(move |c| store::ignore_pending(c, None, before, now)).await {
            Ok(expired) => {
                for v in expired {
                    changed(state, v).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "expiring invitations failed"),
        }
    }
    let rules = state.visitors.rules();
    if rules.is_empty() {
        return vec![];
    }
    let online = state.hub.online_visitors().await;
    if online.is_empty() {
        return vec![];
    }
    // Candidates first, on a reader: a rule's page, time and referrer conditions hold. Only
    // those go to the writer, where the cap, the chat and the free slots are checked.
    let now_rules = rules.clone();
    let candidates = state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for v in online {
                if let Some((url, since, visits, referrer, _)) = store::rule_facts(c, v)? {
                    let f = super::RuleFacts {
                        page_url: url.as_deref(),
                        page_since: since,
                        visits,
                        referrer: referrer.as_deref(),
                        fired_this_visit: &[],
                    };
                    if now_rules.iter().any(|r| super::rule_fires(r, &f, now)) {
                        out.push(v);
                    }
                }
            }
            Ok(out)
        })
        .await
        .unwrap_or_default();
    if candidates.is_empty() {
        return vec![];
    }
    let online = candidates;
    let routing = state.routing.settings();
    let sent = state
        .db
        .write(move |c| {
            let mut sent = Vec::new();
            for v in online {
                if let Some(inv) = ops::auto_invite(c, &rules, &routing, v, now)? {
                    sent.push(inv);
                }
            }
            Ok(sent)
        })
        .await;
    match sent {
        Ok(sent) => {
            let mut ids = Vec::with_capacity(sent.len());
            for inv in sent {
                ids.push(inv.id);
                state.hub.publish(Audience::Visitor(inv.visitor_id), invitation_frame(&inv)).await;
                changed(state, inv.visitor_id).await;
            }
            ids
        }
        Err(e) => {
            tracing::warn!(error = %e, "automatic invitations failed");
            vec![]
        }
    }
}
