//! Tickets: one thread per customer request, its statuses and the rules that move them.

pub mod http;
pub mod ops;
pub mod store;
pub mod views;
pub mod widget;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Pending,
    Solved,
    Spam,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Solved => "solved",
            Status::Spam => "spam",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "pending" => Some(Status::Pending),
            "solved" => Some(Status::Solved),
            "spam" => Some(Status::Spam),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Manual,
    Chat,
    Offline,
    Email,
    Api,
    Callback,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Chat => "chat",
            Source::Offline => "offline",
            Source::Email => "email",
            Source::Api => "api",
            Source::Callback => "callback",
        }
    }
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Customer,
    Reply,
    Note,
    Transcript,
    System,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Customer => "customer",
            Kind::Reply => "reply",
            Kind::Note => "note",
            Kind::Transcript => "transcript",
            Kind::System => "system",
        }
    }
    pub fn parse(s: &str) -> Kind {
        match s {
            "customer" => Kind::Customer,
            "reply" => Kind::Reply,
            "note" => Kind::Note,
            "transcript" => Kind::Transcript,
            _ => Kind::System,
        }
    }
    /// What the customer may see (in the widget or by mail): never internal notes.
    pub fn public(self) -> bool {
        matches!(self, Kind::Customer | Kind::Reply)
    }
}

/// What a reply does to the ticket (T3): "Send" (pending, waiting on the customer), "Send &
/// keep open", "Send & solve".
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AfterReply {
    #[default]
    Pending,
    Open,
    Solved,
}

impl AfterReply {
    pub fn status(self) -> Status {
        match self {
            AfterReply::Pending => Status::Pending,
            AfterReply::Open => Status::Open,
            AfterReply::Solved => Status::Solved,
        }
    }
}

/// What a new message from the customer does to an existing ticket (T3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerReply {
    /// Append and set this status.
    Append(Status),
    /// The ticket was solved too long ago: the message starts a new ticket.
    NewTicket,
}

pub const DAY_MS: i64 = 86_400_000;

pub fn on_customer_reply(current: Status, solved_at: Option<i64>, now: i64, reopen_days: i64) -> CustomerReply {
    match current {
        Status::Open | Status::Pending => CustomerReply::Append(Status::Open),
        Status::Spam => CustomerReply::Append(Status::Spam),
        Status::Solved => {
            if solved_at.is_some_and(|at| now - at <= reopen_days * DAY_MS) {
                CustomerReply::Append(Status::Open)
            } else {
                CustomerReply::NewTicket
            }
        }
    }
}

/// Per-department subject rule (T2): a regular expression the subject must match.
pub fn check_subject_rule(rule: Option<&str>, subject: &str) -> Result<(), AppError> {
    let Some(rule) = rule.filter(|r| !r.trim().is_empty()) else { return Ok(()) };
    let re = regex_lite::Regex::new(rule).map_err(|_| AppError::invalid("the department's subject rule is not a valid pattern"))?;
    if re.is_match(subject) { Ok(()) } else { Err(AppError::invalid(format!("subject: must match the department's rule {rule}"))) }
}

pub fn validate_subject(s: &str) -> Result<String, AppError> {
    let s = crate::text::single_line(s, usize::MAX);
    if s.is_empty() || s.chars().count() > 300 {
        return Err(AppError::invalid("subject: 1 to 300 characters"));
    }
    Ok(s)
}

pub fn validate_body(s: &str) -> Result<(), AppError> {
    if s.trim().is_empty() {
        return Err(AppError::invalid("body: must not be empty"));
    }
    if s.chars().count() > 100_000 {
        return Err(AppError::invalid("body: at most 100000 characters"));
    }
    Ok(())
}

/// Values for `{placeholder}` expansion in templates and canned responses.
#[derive(Default, Debug, Clone)]
pub struct Placeholders {
    pub visitor_name: Option<String>,
    pub visitor_email: Option<String>,
    pub agent_name: Option<String>,
    pub ticket_number: Option<i64>,
    pub ticket_subject: Option<String>,
}

/// Replace `{visitor.name}`, `{visitor.email}`, `{customer.name}`, `{agent.name}`,
/// `{ticket.number}`, `{ticket.subject}`. Unknown placeholders stay as typed; known ones
/// without a value become empty (a greeting reads "Hello ," rather than "Hello {visitor.name},").
pub fn expand(template: &str, p: &Placeholders) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('}') else {
            out.push_str(after);
            return out;
        };
        let key = &after[1..end];
        if key.contains('{') {
            // "{{name}}": the outer brace is literal text.
            out.push('{');
            rest = &after[1..];
            continue;
        }
        let value = match key {
            "visitor.name" | "customer.name" => Some(p.visitor_name.clone().unwrap_or_default()),
            "visitor.email" | "customer.email" => Some(p.visitor_email.clone().unwrap_or_default()),
            "agent.name" => Some(p.agent_name.clone().unwrap_or_default()),
            "ticket.number" => Some(p.ticket_number.map(|n| n.to_string()).unwrap_or_default()),
            "ticket.subject" => Some(p.ticket_subject.clone().unwrap_or_default()),
            _ => None,
        };
        match value {
            Some(v) => out.push_str(&v),
            None => out.push_str(&after[..=end]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_reply_table() {
        let now = 100 * DAY_MS;
        let cases = [
            (Status::Open, None, CustomerReply::Append(Status::Open)),
            (Status::Pending, None, CustomerReply::Append(Status::Open)),
            (Status::Spam, None, CustomerReply::Append(Status::Spam)),
            (Status::Solved, Some(now - 3 * DAY_MS), CustomerReply::Append(Status::Open)),
            (Status::Solved, Some(now - 7 * DAY_MS), CustomerReply::Append(Status::Open)),
            (Status::Solved, Some(now - 7 * DAY_MS - 1), CustomerReply::NewTicket),
            (Status::Solved, None, CustomerReply::NewTicket),
        ];
        for (status, solved_at, want) in cases {
            assert_eq!(on_customer_reply(status, solved_at, now, 7), want, "{status:?} {solved_at:?}");
        }
    }

    #[test]
    fn subject_rules() {
        assert!(check_subject_rule(None, "anything").is_ok());
        assert!(check_subject_rule(Some(""), "anything").is_ok());
        assert!(check_subject_rule(Some(r"order \d{5}"), "Where is order 12345?").is_ok());
        assert!(check_subject_rule(Some(r"order \d{5}"), "Where is my order?").is_err());
        assert!(check_subject_rule(Some(r"(unclosed"), "x").is_err());
    }

    #[test]
    fn placeholders() {
        let p = Placeholders {
            visitor_name: Some("Ola".into()),
            agent_name: Some("Ann".into()),
            ticket_number: Some(1042),
            ..Default::default()
        };
        let cases = [
            ("Hello {visitor.name}, this is {agent.name}.", "Hello Ola, this is Ann."),
            ("Re #{ticket.number}", "Re #1042"),
            ("{visitor.email}", ""),
            ("{unknown} stays", "{unknown} stays"),
            ("unclosed {visitor.name", "unclosed {visitor.name"),
            ("{{visitor.name}}", "{Ola}"),
            ("", ""),
        ];
        for (t, want) in cases {
            assert_eq!(expand(t, &p), want, "{t}");
        }
    }
}
