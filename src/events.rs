//! System lines in chats and ticket threads: what happened, as an event clients translate,
//! plus the English sentence stored as the body (for search, exports and old clients).

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct SystemEvent {
    pub code: &'static str,
    pub params: Value,
}

impl SystemEvent {
    fn new(code: &'static str, params: Value) -> SystemEvent {
        SystemEvent { code, params }
    }

    // Chat.
    pub fn joined(name: &str) -> SystemEvent {
        Self::new("joined", json!({"name": name}))
    }
    pub fn visitor_left() -> SystemEvent {
        Self::new("visitor_left", json!({}))
    }
    pub fn agent_ended(name: &str) -> SystemEvent {
        Self::new("agent_ended", json!({"name": name}))
    }
    pub fn timeout() -> SystemEvent {
        Self::new("timeout", json!({}))
    }
    pub fn closed() -> SystemEvent {
        Self::new("closed", json!({}))
    }

    // Tickets.
    pub fn status_changed(status: &str, name: &str) -> SystemEvent {
        Self::new("status_changed", json!({"status": status, "name": name}))
    }
    pub fn reopened() -> SystemEvent {
        Self::new("reopened", json!({}))
    }
    pub fn follow_up(number: i64) -> SystemEvent {
        Self::new("follow_up", json!({"number": number}))
    }
    pub fn released(name: &str) -> SystemEvent {
        Self::new("released", json!({"name": name}))
    }
    pub fn merged_in(number: i64, name: &str, count: usize) -> SystemEvent {
        Self::new("merged_in", json!({"number": number, "name": name, "count": count}))
    }
    pub fn merged_into(number: i64) -> SystemEvent {
        Self::new("merged_into", json!({"number": number}))
    }
    pub fn split_from(number: i64, name: &str) -> SystemEvent {
        Self::new("split_from", json!({"number": number, "name": name}))
    }
    pub fn split_to(number: i64) -> SystemEvent {
        Self::new("split_to", json!({"number": number}))
    }

    /// The English sentence stored as the message body.
    pub fn english(&self) -> String {
        let p = |k: &str| match &self.params[k] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        match self.code {
            "joined" => format!("{} joined the chat", p("name")),
            "visitor_left" => "The visitor left the chat".into(),
            "agent_ended" => format!("{} ended the chat", p("name")),
            "timeout" => "The chat ended after a period of inactivity".into(),
            "closed" => "The chat was closed".into(),
            "status_changed" => format!("Status changed to {} by {}", p("status"), p("name")),
            "reopened" => "Reopened by the customer's reply".into(),
            "follow_up" => format!("Follow-up to solved ticket #{}", p("number")),
            "released" => format!("Released to the pool by {}", p("name")),
            "merged_in" => format!("Ticket #{} merged into this one by {} ({} messages)", p("number"), p("name"), p("count")),
            "merged_into" => format!("Merged into #{}", p("number")),
            "split_from" => format!("Split from #{} by {}", p("number"), p("name")),
            "split_to" => format!("A message was split into #{}", p("number")),
            other => other.to_string(),
        }
    }

    /// `{"code": …, …params}` as stored in the `event` column.
    pub fn to_json(&self) -> String {
        let mut v = self.params.clone();
        v["code"] = self.code.into();
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_json() {
        let cases = [
            (SystemEvent::joined("Ann"), "Ann joined the chat"),
            (SystemEvent::status_changed("solved", "Ann"), "Status changed to solved by Ann"),
            (SystemEvent::merged_in(1001, "Ann", 3), "Ticket #1001 merged into this one by Ann (3 messages)"),
            (SystemEvent::split_to(1002), "A message was split into #1002"),
        ];
        for (e, want) in cases {
            assert_eq!(e.english(), want);
            let v: Value = serde_json::from_str(&e.to_json()).unwrap();
            assert_eq!(v["code"], e.code);
        }
    }
}
