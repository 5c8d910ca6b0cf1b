//! The one access policy: what a caller may see. Every visibility check on chats and tickets
//! goes through a [`Viewer`], built once per request or socket by [`Principal::viewer`];
//! handlers never rebuild it from `Principal` fields. The Origin rule shared by requests and
//! socket handshakes ([`origin_allowed`]) lives here too.
//!
//! ## API tokens
//! A token is not a person: its viewer has `agent_id: None`, so it owns no chat or ticket and
//! belongs to no department (SQL gets [`NOBODY`], which matches no row). Its role is the one
//! its scope grants: an `admin`-scope token is an Admin and sees everything, as the route
//! table already treats it; any other token has no role and gets the least one, `Agent`, with
//! no agent behind it: it sees only what every agent sees (the chat queue, tickets without a
//! department, colleagues' chats when the admin allows that) and nothing "of its own".

use super::{Principal, Role};
use crate::chat::Status as ChatStatus;
use crate::state::AppState;

/// The agent id used in SQL for a viewer without an agent: no row has it.
pub const NOBODY: i64 = -1;

/// Who is looking, reduced to what visibility depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    /// The agent behind the caller; None for API tokens.
    pub agent_id: Option<i64>,
    /// The caller's role; the least one (`Agent`) when the credential carries none.
    pub role: Role,
}

impl Principal {
    /// The caller's [`Viewer`]. Build it once per request or socket and pass it on.
    pub fn viewer(&self) -> Viewer {
        Viewer { agent_id: self.agent_id, role: self.role.unwrap_or(Role::Agent) }
    }
}

impl Viewer {
    /// Supervisors and admins see every chat and ticket.
    pub fn sees_all(&self) -> bool {
        self.role >= Role::Supervisor
    }

    /// The agent id for SQL comparisons: [`NOBODY`] without an agent.
    pub fn agent_key(&self) -> i64 {
        self.agent_id.unwrap_or(NOBODY)
    }

    /// Whether `owner` is this viewer's agent (never true for a viewer without one).
    pub fn owns(&self, owner: Option<i64>) -> bool {
        self.agent_id.is_some() && owner == self.agent_id
    }

    /// Whether colleagues' active and ended chats are visible (read-only): supervisors always,
    /// agents when the admin setting `agents_see_colleagues` is on (SPEC C3).
    pub fn sees_colleagues_chats(&self, agents_see_colleagues: bool) -> bool {
        self.sees_all() || agents_see_colleagues
    }

    /// Who may look at a conversation over the agent socket or the API (SPEC S4, C3).
    /// Queued chats are visible to every agent (they pick from the queue); supervisors and
    /// admins see everything; agents see their own chats and, read-only, colleagues' unless
    /// the admin turned that off.
    pub fn may_view_chat(&self, conv_agent: Option<i64>, status: ChatStatus, agents_see_colleagues: bool) -> bool {
        status == ChatStatus::Queued || self.owns(conv_agent) || self.sees_colleagues_chats(agents_see_colleagues)
    }

    /// Only the chat's agent or a supervisor ends a chat; a queued chat only a supervisor.
    pub fn may_end_chat(&self, conv_agent: Option<i64>, status: ChatStatus) -> bool {
        self.sees_all() || (status != ChatStatus::Queued && self.owns(conv_agent))
    }

    /// Who may see a ticket (SPEC S4): supervisors all; agents their own, their departments'
    /// (`my_departments`, from `departments::store::of_agent`) and those without a department.
    pub fn may_view_ticket(&self, my_departments: &[i64], ticket_agent: Option<i64>, ticket_department: Option<i64>) -> bool {
        crate::tickets::may_view(self.role, self.agent_key(), my_departments, ticket_agent, ticket_department)
    }

    /// The ticket store's visibility parameters (`tickets::store::Viewer`).
    pub fn tickets(&self) -> crate::tickets::store::Viewer {
        crate::tickets::store::Viewer { agent_id: self.agent_key(), sees_all: self.sees_all() }
    }
}

/// The Origin rule, for cookie-carrying requests (CSRF) and WebSocket handshakes (cross-site
/// socket hijacking): the configured public origin; or, only when `public_url` was derived
/// from the listen address (development), the origin the browser used to reach us,
/// `scheme://Host`. A cross-site page cannot forge its own Origin, so both stay CSRF-safe.
pub fn origin_allowed(state: &AppState, origin: &str, request_host: &str) -> bool {
    origin == state.own_origin() || (state.public_url_derived && origin == format!("{}://{request_host}", state.public_url.scheme()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Credential;

    fn viewer(role: Role, agent_id: Option<i64>) -> Viewer {
        Viewer { agent_id, role }
    }

    #[test]
    fn chat_view_rights() {
        use Role::*;
        let cases = [
            (Agent, Some(1), ChatStatus::Active, false, true),  // own chat
            (Agent, Some(2), ChatStatus::Active, false, false), // colleague's, supervision off
            (Agent, Some(2), ChatStatus::Active, true, true),   // colleague's, read-only on
            (Agent, None, ChatStatus::Queued, false, true),     // queue is for everyone
            (Agent, None, ChatStatus::Ended, false, false),     // nobody's ended chat
            (Supervisor, Some(2), ChatStatus::Ended, false, true),
            (Admin, Some(2), ChatStatus::Active, false, true),
        ];
        for (role, owner, status, colleagues, want) in cases {
            let v = viewer(role, Some(1));
            assert_eq!(v.may_view_chat(owner, status, colleagues), want, "{role:?} {owner:?} {status:?} {colleagues}");
        }
    }

    #[test]
    fn ending_chats() {
        let agent = viewer(Role::Agent, Some(1));
        assert!(agent.may_end_chat(Some(1), ChatStatus::Active));
        assert!(!agent.may_end_chat(Some(2), ChatStatus::Active));
        assert!(!agent.may_end_chat(None, ChatStatus::Queued));
        assert!(viewer(Role::Supervisor, Some(1)).may_end_chat(None, ChatStatus::Queued));
    }

    #[test]
    fn ticket_view_rights_and_store_parameters() {
        let agent = viewer(Role::Agent, Some(1));
        assert!(agent.may_view_ticket(&[5], None, Some(5)));
        assert!(!agent.may_view_ticket(&[5], None, Some(6)));
        assert!(agent.may_view_ticket(&[], Some(1), Some(6)), "assigned to me");
        assert!(agent.may_view_ticket(&[], None, None), "no department: everyone's");
        assert!(viewer(Role::Supervisor, Some(1)).may_view_ticket(&[], Some(2), Some(6)));
        let t = agent.tickets();
        assert_eq!((t.agent_id, t.sees_all), (1, false));
        let t = viewer(Role::Admin, None).tickets();
        assert_eq!((t.agent_id, t.sees_all), (NOBODY, true));
    }

    #[test]
    fn api_tokens_get_least_privilege_without_an_agent() {
        let token = |scope, role| Principal {
            agent_id: None,
            role,
            label: "token:1 ci".into(),
            name: "ci".into(),
            credential: Credential::Token { token_id: 1, scope },
        };
        let inbound = token(crate::auth::Scope::Inbound, None).viewer();
        assert_eq!(inbound, Viewer { agent_id: None, role: Role::Agent });
        assert_eq!(inbound.agent_key(), NOBODY);
        // Owns nothing: not even chats or tickets without an agent.
        assert!(!inbound.owns(None));
        assert!(!inbound.may_view_chat(None, ChatStatus::Ended, false));
        assert!(!inbound.may_view_chat(None, ChatStatus::Active, false));
        assert!(inbound.may_view_chat(None, ChatStatus::Queued, false));
        assert!(!inbound.may_end_chat(None, ChatStatus::Active));
        assert!(!inbound.may_view_ticket(&[], None, Some(3)));
        assert!(inbound.may_view_ticket(&[], None, None));
        // An admin-scope token is an admin, as the route table treats it.
        let admin = token(crate::auth::Scope::Admin, Some(Role::Admin)).viewer();
        assert!(admin.sees_all() && admin.may_view_chat(Some(7), ChatStatus::Active, false));
    }
}
