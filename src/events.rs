//! System lines in chats and ticket threads: what happened, as an event clients translate,
//! plus the English sentence stored as the body (for search, exports and old clients).

use serde::Serialize;

/// Stored as `{"code": …, …params}` in the `event` column and sent inside `message` frames.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SystemEvent {
    // Chat.
    Joined {
        name: String,
    },
    VisitorLeft,
    AgentEnded {
        name: String,
    },
    Timeout,
    Closed,
    /// Internal: who transferred the chat to which agent, with the note for the receiver.
    TransferredToAgent {
        from: String,
        to: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Internal: who sent the chat back to a department's queue, with the note.
    TransferredToDepartment {
        from: String,
        department: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Internal: a supervisor took the chat over from its agent.
    TakenOver {
        name: String,
        from: String,
    },
    /// Public: the chat has a new agent ("You are now talking to …" for the visitor).
    HandedOver {
        name: String,
    },
    /// Public: the chat waits in a department's queue again.
    HandedToDepartment {
        department: String,
    },
    // Tickets.
    StatusChanged {
        status: String,
        name: String,
    },
    Reopened,
    FollowUp {
        number: i64,
    },
    Released {
        name: String,
    },
    MergedIn {
        number: i64,
        name: String,
        count: usize,
    },
    MergedInto {
        number: i64,
    },
    SplitFrom {
        number: i64,
        name: String,
    },
    SplitTo {
        number: i64,
    },
    RequesterChanged {
        from: String,
        to: String,
        name: String,
    },
    RequesterSet {
        to: String,
        name: String,
    },
}

impl SystemEvent {
    // Chat.
    pub fn joined(name: &str) -> SystemEvent {
        SystemEvent::Joined { name: name.into() }
    }
    pub fn visitor_left() -> SystemEvent {
        SystemEvent::VisitorLeft
    }
    pub fn agent_ended(name: &str) -> SystemEvent {
        SystemEvent::AgentEnded { name: name.into() }
    }
    pub fn timeout() -> SystemEvent {
        SystemEvent::Timeout
    }
    pub fn closed() -> SystemEvent {
        SystemEvent::Closed
    }
    pub fn transferred_to_agent(from: &str, to: &str, note: Option<&str>) -> SystemEvent {
        SystemEvent::TransferredToAgent { from: from.into(), to: to.into(), note: note.map(Into::into) }
    }
    pub fn transferred_to_department(from: &str, department: &str, note: Option<&str>) -> SystemEvent {
        SystemEvent::TransferredToDepartment { from: from.into(), department: department.into(), note: note.map(Into::into) }
    }
    pub fn taken_over(name: &str, from: &str) -> SystemEvent {
        SystemEvent::TakenOver { name: name.into(), from: from.into() }
    }
    pub fn handed_over(name: &str) -> SystemEvent {
        SystemEvent::HandedOver { name: name.into() }
    }
    pub fn handed_to_department(department: &str) -> SystemEvent {
        SystemEvent::HandedToDepartment { department: department.into() }
    }

    // Tickets.
    pub fn status_changed(status: &str, name: &str) -> SystemEvent {
        SystemEvent::StatusChanged { status: status.into(), name: name.into() }
    }
    pub fn reopened() -> SystemEvent {
        SystemEvent::Reopened
    }
    pub fn follow_up(number: i64) -> SystemEvent {
        SystemEvent::FollowUp { number }
    }
    pub fn released(name: &str) -> SystemEvent {
        SystemEvent::Released { name: name.into() }
    }
    pub fn merged_in(number: i64, name: &str, count: usize) -> SystemEvent {
        SystemEvent::MergedIn { number, name: name.into(), count }
    }
    pub fn merged_into(number: i64) -> SystemEvent {
        SystemEvent::MergedInto { number }
    }
    pub fn split_from(number: i64, name: &str) -> SystemEvent {
        SystemEvent::SplitFrom { number, name: name.into() }
    }
    pub fn split_to(number: i64) -> SystemEvent {
        SystemEvent::SplitTo { number }
    }
    /// The requester address (the contact's email, where replies go) changed.
    pub fn requester_changed(from: &str, to: &str, name: &str) -> SystemEvent {
        SystemEvent::RequesterChanged { from: from.into(), to: to.into(), name: name.into() }
    }
    /// A ticket without a requester address got one.
    pub fn requester_set(to: &str, name: &str) -> SystemEvent {
        SystemEvent::RequesterSet { to: to.into(), name: name.into() }
    }

    /// The `code` clients translate by.
    pub fn code(&self) -> &'static str {
        match self {
            SystemEvent::Joined { .. } => "joined",
            SystemEvent::VisitorLeft => "visitor_left",
            SystemEvent::AgentEnded { .. } => "agent_ended",
            SystemEvent::Timeout => "timeout",
            SystemEvent::Closed => "closed",
            SystemEvent::TransferredToAgent { .. } => "transferred_to_agent",
            SystemEvent::TransferredToDepartment { .. } => "transferred_to_department",
            SystemEvent::TakenOver { .. } => "taken_over",
            SystemEvent::HandedOver { .. } => "handed_over",
            SystemEvent::HandedToDepartment { .. } => "handed_to_department",
            SystemEvent::StatusChanged { .. } => "status_changed",
            SystemEvent::Reopened => "reopened",
            SystemEvent::FollowUp { .. } => "follow_up",
            SystemEvent::Released { .. } => "released",
            SystemEvent::MergedIn { .. } => "merged_in",
            SystemEvent::MergedInto { .. } => "merged_into",
            SystemEvent::SplitFrom { .. } => "split_from",
            SystemEvent::SplitTo { .. } => "split_to",
            SystemEvent::RequesterChanged { .. } => "requester_changed",
            SystemEvent::RequesterSet { .. } => "requester_set",
        }
    }

    /// The English sentence stored as the message body.
    pub fn english(&self) -> String {
        match self {
            SystemEvent::Joined { name } => format!("{name} joined the chat"),
            SystemEvent::VisitorLeft => "The visitor left the chat".into(),
            SystemEvent::AgentEnded { name } => format!("{name} ended the chat"),
            SystemEvent::Timeout => "The chat ended after a period of inactivity".into(),
            SystemEvent::Closed => "The chat was closed".into(),
            SystemEvent::TransferredToAgent { from, to, note } => match note {
                Some(n) => format!("{from} transferred the chat to {to}: {n}"),
                None => format!("{from} transferred the chat to {to}"),
            },
            SystemEvent::TransferredToDepartment { from, department, note } => match note {
                Some(n) => format!("{from} transferred the chat to {department}: {n}"),
                None => format!("{from} transferred the chat to {department}"),
            },
            SystemEvent::TakenOver { name, from } => format!("{name} took over the chat from {from}"),
            SystemEvent::HandedOver { name } => format!("You are now talking to {name}"),
            SystemEvent::HandedToDepartment { department } => format!("Your chat was passed to {department}"),
            SystemEvent::StatusChanged { status, name } => format!("Status changed to {status} by {name}"),
            SystemEvent::Reopened => "Reopened by the customer's reply".into(),
            SystemEvent::FollowUp { number } => format!("Follow-up to solved ticket #{number}"),
            SystemEvent::Released { name } => format!("Released to the pool by {name}"),
            SystemEvent::MergedIn { number, name, count } => format!("Ticket #{number} merged into this one by {name} ({count} messages)"),
            SystemEvent::MergedInto { number } => format!("Merged into #{number}"),
            SystemEvent::SplitFrom { number, name } => format!("Split from #{number} by {name}"),
            SystemEvent::SplitTo { number } => format!("A message was split into #{number}"),
            SystemEvent::RequesterChanged { from, to, name } => format!("Requester address changed from {from} to {to} by {name}"),
            SystemEvent::RequesterSet { to, name } => format!("Requester address set to {to} by {name}"),
        }
    }

    /// `{"code": …, …params}` as stored in the `event` column.
    pub fn to_json(&self) -> String {
        // Strings and numbers only: serializing cannot fail.
        serde_json::to_string(self).expect("system events serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each event's stored JSON and English body, as the `json!`-built events produced them
    /// (stored rows and clients depend on both).
    #[test]
    fn english_and_json() {
        let cases = [
            (SystemEvent::joined("Ann"), r#"{"code":"joined","name":"Ann"}"#, "Ann joined the chat"),
            (SystemEvent::visitor_left(), r#"{"code":"visitor_left"}"#, "The visitor left the chat"),
            (SystemEvent::agent_ended("Ann"), r#"{"code":"agent_ended","name":"Ann"}"#, "Ann ended the chat"),
            (SystemEvent::timeout(), r#"{"code":"timeout"}"#, "The chat ended after a period of inactivity"),
            (SystemEvent::closed(), r#"{"code":"closed"}"#, "The chat was closed"),
            (
                SystemEvent::transferred_to_agent("Ann", "Bob", Some("wants a refund")),
                r#"{"code":"transferred_to_agent","from":"Ann","note":"wants a refund","to":"Bob"}"#,
                "Ann transferred the chat to Bob: wants a refund",
            ),
            (
                SystemEvent::transferred_to_department("Ann", "Sales", None),
                r#"{"code":"transferred_to_department","department":"Sales","from":"Ann"}"#,
                "Ann transferred the chat to Sales",
            ),
            (
                SystemEvent::taken_over("Sue", "Ann"),
                r#"{"code":"taken_over","from":"Ann","name":"Sue"}"#,
                "Sue took over the chat from Ann",
            ),
            (SystemEvent::handed_over("Bob"), r#"{"code":"handed_over","name":"Bob"}"#, "You are now talking to Bob"),
            (
                SystemEvent::handed_to_department("Sales"),
                r#"{"code":"handed_to_department","department":"Sales"}"#,
                "Your chat was passed to Sales",
            ),
            (
                SystemEvent::status_changed("solved", "Ann"),
                r#"{"code":"status_changed","name":"Ann","status":"solved"}"#,
                "Status changed to solved by Ann",
            ),
            (SystemEvent::reopened(), r#"{"code":"reopened"}"#, "Reopened by the customer's reply"),
            (SystemEvent::follow_up(1001), r#"{"code":"follow_up","number":1001}"#, "Follow-up to solved ticket #1001"),
            (SystemEvent::released("Ann"), r#"{"code":"released","name":"Ann"}"#, "Released to the pool by Ann"),
            (
                SystemEvent::merged_in(1001, "Ann", 3),
                r#"{"code":"merged_in","count":3,"name":"Ann","number":1001}"#,
                "Ticket #1001 merged into this one by Ann (3 messages)",
            ),
            (SystemEvent::merged_into(1002), r#"{"code":"merged_into","number":1002}"#, "Merged into #1002"),
            (SystemEvent::split_from(1001, "Ann"), r#"{"code":"split_from","name":"Ann","number":1001}"#, "Split from #1001 by Ann"),
            (SystemEvent::split_to(1002), r#"{"code":"split_to","number":1002}"#, "A message was split into #1002"),
            (
                SystemEvent::requester_changed("a@x.test", "b@x.test", "Ann"),
                r#"{"code":"requester_changed","from":"a@x.test","to":"b@x.test","name":"Ann"}"#,
                "Requester address changed from a@x.test to b@x.test by Ann",
            ),
            (
                SystemEvent::requester_set("b@x.test", "Ann"),
                r#"{"code":"requester_set","to":"b@x.test","name":"Ann"}"#,
                "Requester address set to b@x.test by Ann",
            ),
        ];
        for (e, json, english) in cases {
            assert_eq!(e.english(), english);
            let got: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
            let want: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(got, want, "{e:?}");
            assert_eq!(got["code"], e.code());
        }
    }
}
