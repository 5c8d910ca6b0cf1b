//! Which ticket an incoming message belongs to (SPEC E4), decided by a pure function over facts
//! the intake core looked up beforehand. The rules, in order:
//!
//! 1. a valid signed reply token in one of our addresses the mail was sent to (To, Cc,
//!    Delivered-To, …): `support+t1042.<sig>@…` (`crate::mail::reply_token`);
//! 2. one of *our* Message-IDs (a reply we sent) in In-Reply-To / References;
//! 3. any other stored Message-ID of a ticket's thread in In-Reply-To / References;
//! 4. `[#N]` in the subject, only when the sender is ticket N's requester or one of its CCs;
//! 5. otherwise a new ticket.

/// How a message found its ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Token,
    OurMessageId,
    MessageId,
    Subject,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Token => "token",
            Rule::OurMessageId => "our_message_id",
            Rule::MessageId => "message_id",
            Rule::Subject => "subject",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Append to this ticket (number).
    Thread(i64, Rule),
    New,
}

/// A Message-ID of the mail's In-Reply-To/References that is stored on a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownId {
    pub ticket: i64,
    /// A reply we sent (ours), rather than a message we received.
    pub ours: bool,
}

/// The ticket a `[#N]` in the subject names, with the people allowed to use it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectTicket {
    pub number: i64,
    pub requester: Option<String>,
    pub ccs: Vec<String>,
}

/// Everything the decision needs, looked up beforehand.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The lower-cased From address.
    pub sender: String,
    /// Ticket numbers carried by valid reply tokens among the recipients, in header order.
    pub token_tickets: Vec<i64>,
    /// For each In-Reply-To/References id (In-Reply-To first), the ticket storing it, if any.
    pub known_ids: Vec<Option<KnownId>>,
    pub subject_ticket: Option<SubjectTicket>,
}

/// The threading decision: pure, table-tested below.
pub fn decide(f: &Facts) -> Decision {
    if let Some(n) = f.token_tickets.first() {
        return Decision::Thread(*n, Rule::Token);
    }
    if let Some(k) = f.known_ids.iter().flatten().find(|k| k.ours) {
        return Decision::Thread(k.ticket, Rule::OurMessageId);
    }
    if let Some(k) = f.known_ids.iter().flatten().next() {
        return Decision::Thread(k.ticket, Rule::MessageId);
    }
    if let Some(st) = &f.subject_ticket {
        let sender = f.sender.to_lowercase();
        let allowed = st.requester.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&sender))
            || st.ccs.iter().any(|c| c.eq_ignore_ascii_case(&sender));
        if allowed {
            return Decision::Thread(st.number, Rule::Subject);
        }
    }
    Decision::New
}

/// The ticket number of a `[#N]` in the subject (the last one, as replies grow prefixes).
pub fn subject_number(subject: &str) -> Option<i64> {
    let mut found = None;
    let mut rest = subject;
    while let Some(i) = rest.find("[#") {
        let after = &rest[i + 2..];
        let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() && digits.len() <= 12 && after[digits.len()..].starts_with(']') {
            found = digits.parse().ok();
        }
        rest = after;
    }
    found
}

// ---------------------------------------------------------------- the reply token
//
// The outgoing side owns the token format (`crate::mail::token`): intake only asks
// `crate::mail::verify_reply_token` with the same key (`crate::mail::secret_key`).

/// Ticket numbers of the valid reply tokens among these addresses, without repeats.
pub fn token_tickets(secret: &[u8], recipients: &[String]) -> Vec<i64> {
    let mut out = Vec::new();
    for r in recipients {
        let local = r.rsplit_once('@').map(|x| x.0).unwrap_or(r);
        if let Some(n) = crate::mail::verify_reply_token(secret, local)
            && !out.contains(&n)
        {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(ticket: i64, ours: bool) -> Option<KnownId> {
        Some(KnownId { ticket, ours })
    }

    fn subj(number: i64, requester: &str, ccs: &[&str]) -> Option<SubjectTicket> {
        Some(SubjectTicket { number, requester: Some(requester.into()), ccs: ccs.iter().map(|s| s.to_string()).collect() })
    }

    #[test]
    fn decision_table() {
        let ann = "ann@example.com";
        let cases: Vec<(&str, Facts, Decision)> = vec![
            ("nothing known: new ticket", Facts { sender: ann.into(), ..Default::default() }, Decision::New),
            (
                "token wins over everything",
                Facts {
                    sender: "stranger@x.example".into(),
                    token_tickets: vec![1001],
                    known_ids: vec![known(1002, true), known(1003, false)],
                    subject_ticket: subj(1004, ann, &[]),
                },
                Decision::Thread(1001, Rule::Token),
            ),
            (
                "our Message-ID before a stored customer one, even when later in References",
                Facts { sender: ann.into(), known_ids: vec![known(1003, false), None, known(1002, true)], ..Default::default() },
                Decision::Thread(1002, Rule::OurMessageId),
            ),
            (
                "a stored Message-ID of the thread",
                Facts { sender: ann.into(), known_ids: vec![None, known(1003, false)], ..Default::default() },
                Decision::Thread(1003, Rule::MessageId),
            ),
            (
                "Message-ID before subject",
                Facts {
                    sender: ann.into(),
                    known_ids: vec![known(1003, false)],
                    subject_ticket: subj(1004, ann, &[]),
                    ..Default::default()
                },
                Decision::Thread(1003, Rule::MessageId),
            ),
            (
                "[#N] from the requester",
                Facts { sender: ann.into(), subject_ticket: subj(1004, "Ann@Example.com", &[]), ..Default::default() },
                Decision::Thread(1004, Rule::Subject),
            ),
            (
                "[#N] from a CC of the ticket",
                Facts { sender: "bob@example.com".into(), subject_ticket: subj(1004, ann, &["bob@example.com"]), ..Default::default() },
                Decision::Thread(1004, Rule::Subject),
            ),
            (
                "[#N] from a stranger starts a new ticket",
                Facts { sender: "eve@evil.example".into(), subject_ticket: subj(1004, ann, &["bob@example.com"]), ..Default::default() },
                Decision::New,
            ),
            (
                "[#N] of a ticket without requester: new",
                Facts {
                    sender: ann.into(),
                    subject_ticket: Some(SubjectTicket { number: 1004, requester: None, ccs: vec![] }),
                    ..Default::default()
                },
                Decision::New,
            ),
            (
                "unknown references only: new",
                Facts { sender: ann.into(), known_ids: vec![None, None], ..Default::default() },
                Decision::New,
            ),
        ];
        for (name, facts, want) in cases {
            assert_eq!(decide(&facts), want, "{name}");
        }
    }

    #[test]
    fn subject_numbers() {
        let cases = [
            ("Re: Broken [#1042]", Some(1042)),
            ("[#7] hello", Some(7)),
            ("Re: [#12] Fwd: [#1042]", Some(1042)),
            ("no number", None),
            ("[#] empty", None),
            ("[#12a]", None),
            ("#1042", None),
            ("[#99999999999999999999]", None),
            ("Re: Заказ [#1001]", Some(1001)),
        ];
        for (s, want) in cases {
            assert_eq!(subject_number(s), want, "{s}");
        }
    }

    #[test]
    fn token_tickets_finds_our_signed_addresses_once() {
        let key = b"0123456789abcdef0123456789abcdef";
        let ours = crate::mail::reply_address("support@help.example", &crate::mail::reply_token(key, 1042));
        let forged = ours.replace("t1042", "t1043");
        let recipients = vec!["ann@example.com".to_string(), ours.clone(), ours.to_uppercase(), forged];
        assert_eq!(token_tickets(key, &recipients), vec![1042]);
        assert_eq!(token_tickets(b"another key, also long enough....", &recipients), Vec::<i64>::new());
    }
}
