//! The mail corpus (`tests/data/mail/`): every message fed in order to the intake core with its
//! expected outcome from `expected.toml`; a 20 MB message built here; a property test feeding
//! mutated messages (never a panic; refused input changes nothing).

use std::collections::HashMap;
use std::path::PathBuf;

use frontdesk::db::Db;
use frontdesk::inbound::{self, Context, IngestError, Outcome, Via, mime::ParseOptions};
use frontdesk::tickets::ops::{self, Caller};
use frontdesk::tickets::{Kind, Source, store as tickets};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    secret: String,
    our_host: String,
    our_address: String,
    step: Vec<Step>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Step {
    file: Option<String>,
    expect: Option<String>,
    reason: Option<String>,
    threaded_to: Option<String>,
    rule: Option<String>,
    automatic: Option<String>,
    subject: Option<String>,
    subject_contains: Option<String>,
    subject_len: Option<usize>,
    requester: Option<String>,
    requester_name: Option<String>,
    body_contains: Option<String>,
    html_contains: Option<String>,
    #[serde(default)]
    html_lacks: Vec<String>,
    attachments: Option<Vec<String>>,
    // agent_reply steps
    action: Option<String>,
    ticket_of: Option<String>,
    message_id: Option<String>,
    #[serde(default)]
    cc: Vec<String>,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mail")
}

fn manifest() -> Manifest {
    toml::from_str(&std::fs::read_to_string(corpus_dir().join("expected.toml")).unwrap()).expect("expected.toml parses")
}

fn context(m: &Manifest) -> Context {
    Context {
        via: Via::Test,
        secret: m.secret.as_bytes().to_vec(),
        own_host: m.our_host.clone(),
        own_addresses: vec![m.our_address.clone()],
        parse: ParseOptions { max_bytes: inbound::DEFAULT_MAX_BYTES, unwrap_forwards: false },
    }
}

fn open_db(dir: &std::path::Path) -> Db {
    Db::open(&dir.join("frontdesk.db"), &dir.join("backups"), 3).expect("db opens").0
}

/// Ingest in one write job; a refusal is returned as a value (nothing was written).
fn ingest(db: &Db, raw: Vec<u8>, ctx: &Context, now: i64) -> Result<Outcome, inbound::Refused> {
    let ctx = ctx.clone();
    match db.write_blocking(move |c| Ok(inbound::ingest(c, &raw, &ctx, now))).expect("write job runs") {
        Ok(o) => Ok(o),
        Err(IngestError::Refused(r)) => Err(r),
        Err(IngestError::Failed(e)) => panic!("storing failed: {e:?}"),
    }
}

/// Row counts of everything intake may write.
fn footprint(db: &Db) -> Vec<i64> {
    db.read_blocking(|c| {
        let mut out = Vec::new();
        for t in
            ["tickets", "ticket_messages", "inbound_mail", "attachments", "blobs", "blob_chunks", "contacts", "ticket_message_attachments"]
        {
            out.push(frontdesk::db::count(c, &format!("SELECT count(*) FROM {t}"), [])?);
        }
        Ok(out)
    })
    .unwrap()
}

#[test]
fn corpus_has_at_least_sixty_messages_each_with_an_expectation() {
    let m = manifest();
    let listed: Vec<&str> = m.step.iter().filter_map(|s| s.file.as_deref()).collect();
    assert!(listed.len() >= 60, "only {} messages", listed.len());
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    on_disk.sort();
    let mut sorted: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
    sorted.sort();
    assert_eq!(on_disk, sorted, "every .eml has a manifest entry and the other way round");
    for s in &m.step {
        if s.file.is_some() {
            assert!(matches!(s.expect.as_deref(), Some("new" | "threaded" | "ignored" | "refused")), "{:?}", s.file);
        }
    }
}

#[test]
fn corpus_outcomes_match_the_manifest() {
    let m = manifest();
    let ctx = context(&m);
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let system = Caller::system("corpus", Source::Email);
    let mut ticket_of: HashMap<String, i64> = HashMap::new();
    let mut now = 1_709_543_700_000i64;
    let mut failures = Vec::new();

    for s in &m.step {
        now += 60_000;
        if s.action.as_deref() == Some("agent_reply") {
            let number = ticket_of[s.ticket_of.as_deref().unwrap()];
            let (mid, cc) = (s.message_id.clone().unwrap(), s.cc.clone());
            db.write_blocking(move |c| {
                let t = tickets::by_number(c, number)?.unwrap();
                tickets::add_message(
                    c,
                    &tickets::NewMessage {
                        ticket_id: t.id,
                        kind: Kind::Reply,
                        agent_id: None,
                        contact_id: None,
                        body: "We will send a courier.",
                        body_html: None,
                        subject: Some("Re: [#1002]"),
                        to: &[t.contact.and_then(|c| c.email).unwrap_or_default()],
                        cc: &cc,
                        message_id: Some(&mid),
                        now,
                    },
                )
            })
            .unwrap();
            continue;
        }
        let file = s.file.clone().unwrap();
        let raw = std::fs::read(corpus_dir().join(&file)).unwrap();
        let before = footprint(&db);
        let got = ingest(&db, raw, &ctx, now);
        let mut fail = |why: String| failures.push(format!("{file}: {why}"));
        let expect = s.expect.as_deref().unwrap();
        let number = match (&got, expect) {
            (Ok(Outcome::New { ticket, .. }), "new") => Some(*ticket),
            (Ok(Outcome::Threaded { ticket, .. }), "threaded") => {
                let want = s.threaded_to.as_ref().map(|f| ticket_of[f]);
                if want.is_some_and(|w| w != *ticket) {
                    fail(format!("threaded to #{ticket}, expected #{want:?}"));
                }
                Some(*ticket)
            }
            (Ok(Outcome::Ignored { reason }), "ignored") => {
                if s.reason.as_deref() != Some(reason.as_str()) {
                    fail(format!("ignored as {}, expected {:?}", reason.as_str(), s.reason));
                }
                None
            }
            (Err(r), "refused") => {
                if s.reason.as_deref() != Some(r.code()) {
                    fail(format!("refused as {}, expected {:?}", r.code(), s.reason));
                }
                if footprint(&db) != before {
                    fail("refused input changed the database".into());
                }
                None
            }
            (other, _) => {
                fail(format!("got {other:?}, expected {expect}"));
                continue;
            }
        };
        if let Some(want) = &s.automatic {
            let got_auto = match &got {
                Ok(Outcome::New { automatic, .. } | Outcome::Threaded { automatic, .. }) => automatic.map(|a| a.as_str()),
                _ => None,
            };
            if got_auto != Some(want.as_str()) {
                fail(format!("automatic {got_auto:?}, expected {want}"));
            }
        } else if let Ok(Outcome::New { automatic: Some(a), .. } | Outcome::Threaded { automatic: Some(a), .. }) = &got {
            fail(format!("classified as automatic {a:?}, expected a person's mail"));
        }
        let Some(number) = number else { continue };
        if expect == "new" {
            ticket_of.insert(file.clone(), number);
        }
        if let Some(rule) = &s.rule {
            let row = db.read_blocking(|c| inbound::store::recent(c, 1)).unwrap();
            if row[0].thread_rule.as_deref() != Some(rule.as_str()) {
                fail(format!("threaded by {:?}, expected {rule}", row[0].thread_rule));
            }
        }
        let w = system.clone();
        let d = db.read_blocking(move |c| ops::detail(c, &w, number)).unwrap();
        let msg = d.messages.iter().rev().find(|m| m.kind == Kind::Customer).expect("a customer message");
        if let Some(sub) = &s.subject
            && &d.ticket.subject != sub
        {
            fail(format!("subject {:?}, expected {sub:?}", d.ticket.subject));
        }
        if let Some(sub) = &s.subject_contains
            && !d.ticket.subject.contains(sub.as_str())
        {
            fail(format!("subject {:?} lacks {sub:?}", d.ticket.subject));
        }
        if let Some(n) = s.subject_len
            && d.ticket.subject.chars().count() > n
        {
            fail(format!("subject has {} characters, at most {n} expected", d.ticket.subject.chars().count()));
        }
        let contact = d.ticket.contact.clone();
        if let Some(r) = &s.requester
            && contact.as_ref().and_then(|c| c.email.as_deref()) != Some(r.as_str())
        {
            fail(format!("requester {contact:?}, expected {r}"));
        }
        if let Some(n) = &s.requester_name
            && contact.as_ref().and_then(|c| c.name.as_deref()) != Some(n.as_str())
        {
            fail(format!("requester name {contact:?}, expected {n}"));
        }
        if let Some(b) = &s.body_contains
            && !msg.body.contains(b.as_str())
        {
            fail(format!("body {:?} lacks {b:?}", msg.body));
        }
        let html = msg.body_html.clone().unwrap_or_default();
        if let Some(h) = &s.html_contains
            && !html.contains(h.as_str())
        {
            fail(format!("html {html:?} lacks {h:?}"));
        }
        for bad in &s.html_lacks {
            if html.to_lowercase().contains(&bad.to_lowercase()) {
                fail(format!("html still has {bad:?}: {html}"));
            }
        }
        if let Some(names) = &s.attachments {
            let got: Vec<&str> = msg.attachments.iter().map(|a| a.name.as_str()).collect();
            if got != names.iter().map(|s| s.as_str()).collect::<Vec<_>>() {
                fail(format!("attachments {got:?}, expected {names:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} corpus failures:\n{}", failures.len(), failures.join("\n"));
}

/// A base64 attachment of `size` bytes in an otherwise plain message.
fn big_message(size: usize, id: &str) -> Vec<u8> {
    use base64::Engine;
    let data: Vec<u8> = (0..size).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1]).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
    let mut raw = format!(
        "From: Big Sender <big@example.com>\r\nTo: support@shop.example\r\nSubject: Scans\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nAll scans attached.\r\n--B\r\n\
         Content-Type: application/zip; name=scans.zip\r\nContent-Disposition: attachment; filename=scans.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    for line in b64.as_bytes().chunks(76) {
        raw.extend_from_slice(line);
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--B--\r\n");
    raw
}

#[test]
fn a_20_mb_message_is_imported_and_one_over_the_limit_refused() {
    let m = manifest();
    let ctx = context(&m);
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let raw = big_message(15 << 20, "big.1@example.com");
    assert!(raw.len() > 20_000_000, "{} bytes", raw.len());
    let got = ingest(&db, raw, &ctx, 1_000).unwrap();
    let Outcome::New { ticket, .. } = got else { panic!("{got:?}") };
    let d = db.read_blocking(move |c| ops::detail(c, &Caller::system("t", Source::Email), ticket)).unwrap();
    let a = &d.messages[0].attachments;
    assert_eq!((a.len(), a[0].name.as_str(), a[0].size), (1, "scans.zip", 15 << 20));

    let before = footprint(&db);
    let too_big = big_message(20 << 20, "big.2@example.com");
    assert!(too_big.len() > inbound::DEFAULT_MAX_BYTES);
    let got = ingest(&db, too_big, &ctx, 2_000);
    assert!(matches!(got, Err(inbound::Refused::TooLarge { .. })), "{got:?}");
    assert_eq!(footprint(&db), before, "a refused message changes nothing");
}

/// Ways a message gets damaged in transit or by a hostile sender.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    DuplicateLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(prop_oneof![any::<u8>(), Just(b'\n'), Just(b':'), Just(b'='), Just(b'-')], 1..40))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
    ]
}

fn apply(raw: &mut Vec<u8>, m: &Mutation) {
    if raw.is_empty() {
        return;
    }
    let at = |i: usize| i % raw.len();
    match m {
        Mutation::Flip(i, b) => {
            let i = at(*i);
            raw[i] ^= b | 1;
        }
        Mutation::Truncate(i) => raw.truncate(at(*i)),
        Mutation::Insert(i, v) => {
            let i = at(*i);
            raw.splice(i..i, v.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let i = at(*i);
            let end = (i + n).min(raw.len());
            raw.drain(i..end);
        }
        Mutation::DuplicateLine(i) => {
            let i = at(*i);
            let start = raw[..i].iter().rposition(|b| *b == b'\n').map(|p| p + 1).unwrap_or(0);
            let end = raw[i..].iter().position(|b| *b == b'\n').map(|p| i + p + 1).unwrap_or(raw.len());
            let line = raw[start..end].to_vec();
            raw.splice(end..end, line);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Mutated corpus messages never panic the intake core; a refused one leaves the database
    /// exactly as it was; an imported one lands on a ticket.
    #[test]
    fn mutated_messages_never_panic_and_refusals_change_nothing(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let m = manifest();
        let ctx = context(&m);
        let files: Vec<String> = m.step.iter().filter_map(|s| s.file.clone()).collect();
        let mut raw = std::fs::read(corpus_dir().join(pick.get(&files))).unwrap();
        for mu in &mutations {
            apply(&mut raw, mu);
        }
        let dir = tempfile::tempdir().unwrap();
        let db = open_db(dir.path());
        let before = footprint(&db);
        match ingest(&db, raw.clone(), &ctx, 1_000) {
            Err(_) => prop_assert_eq!(footprint(&db), before),
            Ok(Outcome::New { ticket, .. } | Outcome::Threaded { ticket, .. }) => prop_assert!(ticket >= 1001),
            Ok(Outcome::Ignored { .. }) => {}
        }
        // The same bytes again: never a second ticket.
        let tickets_before = footprint(&db)[0];
        let again = ingest(&db, raw, &ctx, 2_000);
        prop_assert!(!matches!(again, Ok(Outcome::New { .. })), "{:?}", again);
        prop_assert_eq!(footprint(&db)[0], tickets_before);
        db.close().unwrap();
    }
}
