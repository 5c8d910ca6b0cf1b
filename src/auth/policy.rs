//! The one access policy: what a caller may see and do, object by object. Every access to a
//! ticket, conversation, visitor, contact, attachment or snippet goes through a [`Viewer`],
//! built once per request or socket by [`Principal::viewer`]; handlers and operations never
//! rebuild it from `Principal` fields, and never decide visibility themselves. The rules are
//! pure functions of the viewer and a few facts about the object (`may_*`); the `visible_*` /
//! `check_*` functions load those facts and answer `not_found` for what the viewer may not
//! see, exactly as for what does not exist. SQL lists apply the same rules through their
//! mirrors (`tickets()` for the ticket store, `contacts::store::search`), tested against these.
//! The Origin rule shared by requests and socket handshakes ([`origin_allowed`]) lives here too.
//!
//! ## API tokens
//! A token is not a person: its viewer has `agent_id: None`, so it owns no chat or ticket and
//! belongs to no department (SQL gets [`NOBODY`], which matches no row). Its role is the one
//! its scope grants: an `admin`-scope token is an Admin and sees everything, as the route
//! table already treats it; any other token has no role and gets the least one, `Agent`, with
//! no agent behind it: it sees only what every agent sees (the chat queue, tickets without a
//! department, colleagues' chats when the admin allows that) and nothing "of its own".

use rusqlite::Connection;

use super::{Principal, Role};
use crate::chat::Status as ChatStatus;
use crate::error::AppError;
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

    /// Who hands a chat over (SPEC C7): its agent, or a supervisor or admin. Only a supervisor
    /// or admin may push it past the receiver's chat limit (`force`).
    pub fn may_transfer_chat(&self, conv_agent: Option<i64>) -> bool {
        self.sees_all() || self.owns(conv_agent)
    }

    /// Whisper into a chat and take it over (SPEC C3, C7): supervisors and admins, never agents,
    /// whatever the colleagues' chats switch says.
    pub fn may_supervise_chat(&self) -> bool {
        self.agent_id.is_some() && self.sees_all()
    }

    /// Tagging a chat (SPEC C9): its agent, or a supervisor or admin (queued chats too).
    pub fn may_tag_chat(&self, conv_agent: Option<i64>) -> bool {
        self.sees_all() || self.owns(conv_agent)
    }

    /// Bans (SPEC C11): supervisors and admins ban any visitor, address or range. An agent bans
    /// only a visitor (one they may see: [`Viewer::check_visitor`]), by token and at most that
    /// visitor's own current address. `address`: None without one, else whether it is a single
    /// address equal to the visitor's own.
    pub fn may_ban(&self, has_visitor: bool, address: Option<bool>) -> Result<(), AppError> {
        if self.sees_all() {
            return Ok(());
        }
        if !has_visitor {
            return Err(AppError::forbidden("only supervisors ban an address without a visitor"));
        }
        if address == Some(false) {
            return Err(AppError::forbidden("agents ban only the visitor's own address; a supervisor can ban a range"));
        }
        Ok(())
    }

    /// Who may see a ticket (SPEC S4): supervisors all; agents their own, their departments'
    /// (`my_departments`, from [`Viewer::departments`]) and those without a department.
    pub fn may_view_ticket(&self, my_departments: &[i64], ticket_agent: Option<i64>, ticket_department: Option<i64>) -> bool {
        self.sees_all()
            || self.owns(ticket_agent)
            || ticket_department.is_none()
            || ticket_department.is_some_and(|d| my_departments.contains(&d))
    }

    /// Who may work a ticket (reply, note, edit, transfer, merge, split, record a customer
    /// message): whoever may see it. The desk is shared within a department (SPEC T1).
    pub fn may_act_on_ticket(&self, my_departments: &[i64], ticket: TicketFacts) -> bool {
        self.may_view_ticket(my_departments, ticket.agent_id, ticket.department_id)
    }

    /// Only the assignee or a supervisor gives a ticket back to the pool.
    pub fn may_release_ticket(&self, ticket_agent: Option<i64>) -> bool {
        self.sees_all() || self.owns(ticket_agent)
    }

    /// The ticket store's visibility parameters (`tickets::store::Viewer`), the SQL mirror of
    /// [`Viewer::may_view_ticket`].
    pub fn tickets(&self) -> crate::tickets::store::Viewer {
        crate::tickets::store::Viewer { agent_id: self.agent_key(), sees_all: self.sees_all() }
    }

    /// Only the chat's agent writes into it (messages, typing, receipts), and not once it ended.
    /// Anyone else, read-only followers included, is refused.
    pub fn may_write_chat(&self, conv_agent: Option<i64>, status: ChatStatus) -> Result<(), AppError> {
        if !self.owns(conv_agent) {
            return Err(AppError::forbidden("only the agent who accepted this chat can write in it"));
        }
        if status == ChatStatus::Ended {
            return Err(AppError::conflict("this chat has ended"));
        }
        Ok(())
    }

    /// Admins see every department's team room; everyone else only their departments' rooms.
    pub fn sees_all_rooms(&self) -> bool {
        self.role == Role::Admin
    }

    /// Who may read and write a team room (internal chat, SPEC C12): a department's room its
    /// members and admins; a direct room its two agents only (not even admins). Team chat is
    /// between people: a viewer without an agent (an API token) may use no room.
    pub fn may_use_room(&self, my_departments: &[i64], room: crate::teamchat::RoomFacts) -> bool {
        let Some(me) = self.agent_id else { return false };
        match room.kind {
            crate::teamchat::RoomKind::Department => {
                self.sees_all_rooms() || room.department_id.is_some_and(|d| my_departments.contains(&d))
            }
            crate::teamchat::RoomKind::Direct => room.agents.is_some_and(|(a, b)| a == me || b == me),
        }
    }

    /// Why an `accept` did not take the chat: a chat the viewer may not see does not exist for
    /// them (`not_found`, no hint), one they see was taken by someone else (`conflict`).
    pub fn accept_refusal(&self, conv: Option<ChatFacts>, agents_see_colleagues: bool) -> AppError {
        match conv {
            Some(c) if self.may_view_chat(c.agent_id, c.status, agents_see_colleagues) => {
                AppError::conflict("another agent already took this chat")
            }
            _ => AppError::not_found("conversation"),
        }
    }

    /// A visitor (the visitor panel: IP, browser, page trail) is visible only through one of
    /// their chats the viewer may see; supervisors and admins see every visitor.
    pub fn may_view_visitor(&self, chats: &[ChatFacts], agents_see_colleagues: bool) -> bool {
        self.sees_all() || chats.iter().any(|c| self.may_view_chat(c.agent_id, c.status, agents_see_colleagues))
    }

    /// A contact is visible with one of its tickets or chats; supervisors and admins see all.
    pub fn may_view_contact(&self, my_departments: &[i64], contact: &ContactFacts, agents_see_colleagues: bool) -> bool {
        self.sees_all()
            || contact.tickets.iter().any(|t| self.may_view_ticket(my_departments, t.agent_id, t.department_id))
            || contact.chats.iter().any(|c| self.may_view_chat(c.agent_id, c.status, agents_see_colleagues))
    }

    /// A contact (its name, phone and the requester address every one of its tickets replies
    /// to) is edited only by someone who may see ALL of its tickets and chats, else by a
    /// supervisor or admin: an agent must not re-point the mail of tickets they cannot see.
    pub fn may_edit_contact(&self, my_departments: &[i64], contact: &ContactFacts, agents_see_colleagues: bool) -> bool {
        self.sees_all()
            || (self.may_view_contact(my_departments, contact, agents_see_colleagues)
                && contact.tickets.iter().all(|t| self.may_view_ticket(my_departments, t.agent_id, t.department_id))
                && contact.chats.iter().all(|c| self.may_view_chat(c.agent_id, c.status, agents_see_colleagues)))
    }

    /// An upload goes into a message, ticket or note only from the person who uploaded it
    /// (tokens are not transferable); an admin without an agent (an admin API token) may attach
    /// any. Reading an attachment follows its message: it is listed only inside a ticket thread
    /// or a transcript the viewer may see, and its URL is a 256-bit capability.
    pub fn may_attach(&self, uploaded_by_me: bool) -> bool {
        uploaded_by_me || (self.agent_id.is_none() && self.role >= Role::Admin)
    }

    /// Personal snippets: their author. Shared ones: admins, and supervisors for their own
    /// departments (global shared snippets are admin-only).
    pub fn may_manage_canned(&self, my_departments: &[i64], owner: Option<i64>, department: Option<i64>) -> bool {
        if owner.is_some() {
            return self.owns(owner);
        }
        match self.role {
            Role::Admin => true,
            Role::Supervisor => department.is_some_and(|d| my_departments.contains(&d)),
            Role::Agent => false,
        }
    }

    /// The viewer's departments (none without an agent).
    pub fn departments(&self, c: &Connection) -> Result<Vec<i64>, AppError> {
        match self.agent_id {
            Some(a) => crate::departments::store::of_agent(c, a),
            None => Ok(vec![]),
        }
    }

    // ------------------------------------------------------------ checks against the database
    //
    // Load what a rule needs about one object and apply it. An object the viewer may not see
    // answers `not_found`, exactly like one that does not exist.

    /// The ticket `number`, if the viewer may see it.
    pub fn visible_ticket(&self, c: &Connection, number: i64) -> Result<crate::tickets::store::Ticket, AppError> {
        let t = crate::tickets::store::by_number(c, number)?.ok_or_else(|| AppError::not_found("ticket"))?;
        if !self.may_view_ticket(&self.departments(c)?, t.agent_id, t.department_id) {
            return Err(AppError::not_found("ticket"));
        }
        Ok(t)
    }

    /// The conversation `id`, if the viewer may see it.
    pub fn visible_conversation(
        &self,
        c: &Connection,
        id: i64,
        agents_see_colleagues: bool,
    ) -> Result<crate::chat::store::ConvRow, AppError> {
        let conv = crate::chat::store::conv(c, id)?.ok_or_else(|| AppError::not_found("conversation"))?;
        if !self.may_view_chat(conv.agent_id, conv.status, agents_see_colleagues) {
            return Err(AppError::not_found("conversation"));
        }
        Ok(conv)
    }

    /// The room's facts when the viewer may use it; `not_found` (as for a missing room) otherwise.
    pub fn visible_room(&self, c: &Connection, room: i64) -> Result<crate::teamchat::RoomFacts, AppError> {
        let facts = crate::teamchat::store::facts(c, room)?.ok_or_else(|| AppError::not_found("room"))?;
        let mine = self.departments(c)?;
        if !self.may_use_room(&mine, facts) {
            return Err(AppError::not_found("room"));
        }
        Ok(facts)
    }

    /// Refuse a visitor the viewer may not see (`not_found`).
    pub fn check_visitor(&self, c: &Connection, id: i64, agents_see_colleagues: bool) -> Result<(), AppError> {
        if self.sees_all() {
            return Ok(());
        }
        let chats = crate::chat::store::chats_of_visitor(c, id)?;
        if !self.may_view_visitor(&chats, agents_see_colleagues) {
            return Err(AppError::not_found("visitor"));
        }
        Ok(())
    }

    /// Refuse a contact the viewer may not see (`not_found`).
    pub fn check_contact(&self, c: &Connection, id: i64, agents_see_colleagues: bool) -> Result<(), AppError> {
        crate::contacts::store::get(c, id)?.ok_or_else(|| AppError::not_found("contact"))?;
        if !self.may_view_contact(&self.departments(c)?, &crate::contacts::store::facts(c, id)?, agents_see_colleagues) {
            return Err(AppError::not_found("contact"));
        }
        Ok(())
    }

    /// Refuse editing a contact: `not_found` when the viewer may not see it, `forbidden` when
    /// some of its tickets or chats are out of the viewer's sight.
    pub fn check_contact_edit(&self, c: &Connection, id: i64, agents_see_colleagues: bool) -> Result<(), AppError> {
        crate::contacts::store::get(c, id)?.ok_or_else(|| AppError::not_found("contact"))?;
        let (mine, facts) = (self.departments(c)?, crate::contacts::store::facts(c, id)?);
        if !self.may_view_contact(&mine, &facts, agents_see_colleagues) {
            return Err(AppError::not_found("contact"));
        }
        if !self.may_edit_contact(&mine, &facts, agents_see_colleagues) {
            return Err(AppError::forbidden("this customer has tickets or chats you cannot see; a supervisor can change their details"));
        }
        Ok(())
    }

    /// The ids of the uploads behind `tokens`, if the viewer may attach each of them.
    pub fn attachable(&self, c: &Connection, tokens: &[String]) -> Result<Vec<i64>, AppError> {
        let mut ids = Vec::new();
        for tok in tokens {
            let (id, ..) = crate::chat::files::store::attachment_by_token(c, tok)?
                .ok_or_else(|| AppError::invalid(format!("attachments: unknown {tok}")))?;
            let mine = match self.agent_id {
                Some(a) => crate::chat::files::store::attachment_uploaded_by_agent(c, id, a)?,
                None => false,
            };
            if !self.may_attach(mine) {
                return Err(AppError::forbidden("attachments: not uploaded by you"));
            }
            ids.push(id);
        }
        Ok(ids)
    }
}

/// What the ticket rules need to know about a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketFacts {
    pub agent_id: Option<i64>,
    pub department_id: Option<i64>,
}

/// What the chat rules need to know about a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatFacts {
    pub agent_id: Option<i64>,
    pub status: ChatStatus,
}

/// Every ticket and chat of a contact (merged tickets included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFacts {
    pub tickets: Vec<TicketFacts>,
    pub chats: Vec<ChatFacts>,
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

    /// Internal chat: department rooms for members and admins; 1:1 rooms for their two agents
    /// only; never for a token.
    #[test]
    fn team_room_rights() {
        use crate::teamchat::{RoomFacts, RoomKind};
        use Role::*;
        let dept = |d| RoomFacts { kind: RoomKind::Department, department_id: Some(d), agents: None };
        let pair = |a, b| RoomFacts { kind: RoomKind::Direct, department_id: None, agents: Some((a, b)) };
        let cases = [
            (Agent, Some(1), vec![3], dept(3), true),
            (Agent, Some(1), vec![4], dept(3), false),
            (Supervisor, Some(1), vec![], dept(3), false),
            (Admin, Some(1), vec![], dept(3), true),
            (Admin, None, vec![], dept(3), false),
            (Agent, Some(1), vec![], pair(1, 2), true),
            (Agent, Some(2), vec![], pair(1, 2), true),
            (Admin, Some(5), vec![], pair(1, 2), false),
            (Supervisor, Some(5), vec![3], pair(1, 2), false),
        ];
        for (role, me, mine, room, want) in cases {
            assert_eq!(viewer(role, me).may_use_room(&mine, room), want, "{role:?} {me:?} {mine:?} {room:?}");
        }
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
    fn tagging_and_banning() {
        let (agent, token, sup) = (viewer(Role::Agent, Some(1)), viewer(Role::Agent, None), viewer(Role::Supervisor, Some(3)));
        assert!(agent.may_tag_chat(Some(1)) && !agent.may_tag_chat(Some(2)) && !agent.may_tag_chat(None));
        assert!(!token.may_tag_chat(None), "a token owns no chat");
        assert!(sup.may_tag_chat(Some(2)) && sup.may_tag_chat(None));
        let cases = [
            // (has visitor, address: None / own single / other or range) → agent allowed
            (true, None, true),
            (true, Some(true), true),
            (true, Some(false), false),
            (false, Some(true), false),
            (false, None, false),
        ];
        for (has_visitor, address, want) in cases {
            assert_eq!(agent.may_ban(has_visitor, address).is_ok(), want, "{has_visitor} {address:?}");
            assert!(sup.may_ban(has_visitor, address).is_ok(), "supervisors ban anything");
            assert_eq!(agent.may_ban(has_visitor, address).err().map(|e| e.kind), (!want).then_some(crate::error::Kind::Forbidden));
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
    fn writing_into_chats() {
        let agent = viewer(Role::Agent, Some(1));
        assert!(agent.may_write_chat(Some(1), ChatStatus::Active).is_ok());
        assert_eq!(agent.may_write_chat(Some(2), ChatStatus::Active).unwrap_err().kind, crate::error::Kind::Forbidden);
        assert_eq!(agent.may_write_chat(Some(1), ChatStatus::Ended).unwrap_err().kind, crate::error::Kind::Conflict);
        // A read-only follower, even a supervisor, does not write into someone else's chat.
        assert!(viewer(Role::Supervisor, Some(3)).may_write_chat(Some(1), ChatStatus::Active).is_err());
        assert!(viewer(Role::Admin, None).may_write_chat(None, ChatStatus::Queued).is_err());
    }

    #[test]
    fn accept_refusals_do_not_reveal_hidden_chats() {
        let ag2 = viewer(Role::Agent, Some(2));
        let active = |a| Some(ChatFacts { agent_id: Some(a), status: ChatStatus::Active });
        assert_eq!(ag2.accept_refusal(active(1), false).kind, crate::error::Kind::NotFound);
        assert_eq!(ag2.accept_refusal(active(1), true).kind, crate::error::Kind::Conflict);
        assert_eq!(ag2.accept_refusal(None, true).kind, crate::error::Kind::NotFound);
    }

    #[test]
    fn visitors_through_their_chats() {
        let chat = |a: Option<i64>, status| ChatFacts { agent_id: a, status };
        let of_ag1 = [chat(Some(1), ChatStatus::Ended), chat(Some(1), ChatStatus::Active)];
        let (ag1, ag2) = (viewer(Role::Agent, Some(1)), viewer(Role::Agent, Some(2)));
        assert!(ag1.may_view_visitor(&of_ag1, false));
        assert!(!ag2.may_view_visitor(&of_ag1, false), "colleagues' chats off: not through ag1's chats");
        assert!(ag2.may_view_visitor(&of_ag1, true), "colleagues' chats on: read-only, visitor included");
        assert!(viewer(Role::Supervisor, Some(3)).may_view_visitor(&of_ag1, false));
        assert!(viewer(Role::Admin, None).may_view_visitor(&[], false));
        assert!(!ag2.may_view_visitor(&[], true), "a visitor without chats: supervisors only");
        assert!(ag2.may_view_visitor(&[chat(None, ChatStatus::Queued)], false), "the queue is for everyone");
    }

    #[test]
    fn contacts_are_edited_by_who_sees_all_of_them() {
        let t = |a: Option<i64>, d: Option<i64>| TicketFacts { agent_id: a, department_id: d };
        let only_a = ContactFacts { tickets: vec![t(None, Some(10)), t(Some(1), Some(10))], chats: vec![] };
        let a_and_b = ContactFacts { tickets: vec![t(None, Some(10)), t(None, Some(20))], chats: vec![] };
        let with_chat =
            ContactFacts { tickets: vec![t(None, Some(10))], chats: vec![ChatFacts { agent_id: Some(2), status: ChatStatus::Ended }] };
        let (ag1, ag2) = (viewer(Role::Agent, Some(1)), viewer(Role::Agent, Some(2)));
        let (a, b) = (&[10][..], &[20][..]);
        assert!(ag1.may_view_contact(a, &only_a, false) && ag1.may_edit_contact(a, &only_a, false));
        assert!(!ag2.may_view_contact(b, &only_a, true) && !ag2.may_edit_contact(b, &only_a, true));
        assert!(ag2.may_view_contact(b, &a_and_b, false) && !ag2.may_edit_contact(b, &a_and_b, false), "visible, not editable");
        assert!(!ag1.may_edit_contact(a, &with_chat, false), "ag2's chat is out of ag1's sight");
        assert!(ag1.may_edit_contact(a, &with_chat, true), "…unless colleagues' chats are visible");
        assert!(!ag1.may_view_contact(a, &ContactFacts::default(), true), "nothing of theirs: supervisors only");
        let sup = viewer(Role::Supervisor, Some(3));
        assert!(sup.may_edit_contact(&[], &a_and_b, false) && sup.may_edit_contact(&[], &ContactFacts::default(), false));
    }

    #[test]
    fn releasing_attaching_and_snippets() {
        let (ag1, sup) = (viewer(Role::Agent, Some(1)), viewer(Role::Supervisor, Some(3)));
        assert!(ag1.may_release_ticket(Some(1)) && !ag1.may_release_ticket(Some(2)) && !ag1.may_release_ticket(None));
        assert!(sup.may_release_ticket(Some(2)));
        assert!(ag1.may_act_on_ticket(&[10], TicketFacts { agent_id: None, department_id: Some(10) }));
        assert!(!ag1.may_act_on_ticket(&[10], TicketFacts { agent_id: None, department_id: Some(20) }));
        assert!(ag1.may_attach(true) && !ag1.may_attach(false) && !sup.may_attach(false));
        assert!(viewer(Role::Admin, None).may_attach(false), "an admin token attaches by token");
        assert!(ag1.may_manage_canned(&[], Some(1), None) && !ag1.may_manage_canned(&[], Some(2), None));
        assert!(!ag1.may_manage_canned(&[10], None, Some(10)), "agents do not manage shared snippets");
        assert!(sup.may_manage_canned(&[10], None, Some(10)) && !sup.may_manage_canned(&[10], None, Some(20)));
        assert!(!sup.may_manage_canned(&[10], None, None), "global snippets: admins only");
        assert!(!sup.may_manage_canned(&[10], Some(1), None), "nobody manages another's personal snippet");
        assert!(viewer(Role::Admin, Some(9)).may_manage_canned(&[], None, None));
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
