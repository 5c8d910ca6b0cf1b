//! Which ticket an incoming message belongs to (SPEC E4), decided by a pure function over facts
//! the intake core looked up beforehand. The rules, in order:
//!
//! 1. a valid signed reply token in one of our addresses the mail was sent to (To, Cc,
//!    Delivered-To, …): `support+t1042-<mac>@…`;
//! 2. one of *our* Message-IDs (a reply we sent) in In-Reply-To / References;
//! 3. any other stored Message-ID of a ticket's thread in In-Reply-To / References;
//! 4. `[#N]` in the subject, only when the sender is ticket N's requester or one of its CCs;
//! 5. otherwise a new ticket.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

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
// SEAM: the outgoing side (`crate::mail::token::verify_reply_token(local_part) -> Option<i64>`)
// owns the token format. Until it merges, this private copy implements the same contract:
// local part `<anything>+t<number>-<first 16 hex of HMAC-SHA256(secret key, "<number>")>`.
// At merge, `reply_token_number` becomes a call to `crate::mail::token::verify_reply_token`.

type HmacSha256 = Hmac<Sha256>;

/// The token's MAC for a ticket number (first 16 hex digits of HMAC-SHA256 over its decimal).
pub fn reply_token_mac(secret: &[u8], number: i64) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(number.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())[..16].to_string()
}

/// The ticket number in a reply address's local part, when its MAC verifies.
pub fn reply_token_number(secret: &[u8], local: &str) -> Option<i64> {
    let (_, tag) = local.rsplit_once('+')?;
    let rest = tag.strip_prefix('t').or_else(|| tag.strip_prefix('T'))?;
    let (num, mac) = rest.split_once('-')?;
    if num.is_empty() || num.len() > 12 || !num.bytes().all(|b| b.is_ascii_digit()) || mac.len() != 16 {
        return None;
    }
    let number: i64 = num.parse().ok()?;
    let want = reply_token_mac(secret, number);
    // Constant-time comparison.
    let same = want.bytes().zip(mac.to_ascii_lowercase().bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    same.then_some(number)
}

/// Ticket numbers of the valid reply tokens among these addresses, without repeats.
pub fn token_tickets(secret: &[u8], recipients: &[String]) -> Vec<i64> {
    let mut out = Vec::new();
    for r in recipients {
        let local = r.rsplit_once('@').map(|x| x.0).unwrap_or(r);
        if let Some(n) = reply_token_number(secret, local)
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
    fn reply_tokens_verify_only_with_the_right_key() {
        let key = b"0123456789abcdef0123456789abcdef";
        let mac = reply_token_mac(key, 1042);
        assert_eq!(mac.len(), 16);
        let local = format!("support+t1042-{mac}");
        assert_eq!(reply_token_number(key, &local), Some(1042));
        assert_eq!(reply_token_number(key, &local.to_uppercase().replace("SUPPORT+T", "support+t")), Some(1042));
        assert_eq!(reply_token_number(b"another key, also long enough....", &local), None);
        assert_eq!(reply_token_number(key, &format!("support+t1043-{mac}")), None, "a MAC is for one number");
        assert_eq!(reply_token_number(key, "support+t1042-0000000000000000"), None);
        assert_eq!(reply_token_number(key, "support"), None);
        assert_eq!(reply_token_number(key, "support+t-abc"), None);
        assert_eq!(reply_token_number(key, &format!("support+t1042-{}", &mac[..15])), None);
        let recipients = vec!["ann@example.com".to_string(), format!("{local}@help.example"), format!("{local}@help.example")];
        assert_eq!(token_tickets(key, &recipients), vec![1042]);
    }
}
