//! Property tests for the socket frame parser (security issue: "arbitrary input never panics
//! and never changes stored data when refused").
//!
//! The parser is checked directly on arbitrary text and on JSON that looks like our frames
//! (known `type`s, known and unknown fields, values of every JSON kind). Then frames the
//! parser refuses are sent through real visitor and agent sockets: each must get an error
//! frame, and the stored messages and conversations must be unchanged afterwards.

use frontdesk::realtime::protocol::{self, AgentFrame, MAX_BODY_CHARS, MAX_CLIENT_ID, VisitorFrame};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use serde_json::{Map, Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::chat::Refusals;
use crate::ws::{self};

const TYPES: &[&str] = &[
    "hello",
    "page",
    "message",
    "typing",
    "read",
    "end",
    "ping",
    "accept",
    "open",
    "close",
    "delivered",
    "viewing",
    "transfer",
    "whisper",
    "take_over",
    "launch",
    "",
    "HELLO",
];
const FIELDS: &[&str] = &[
    "v",
    "token",
    "page",
    "tz",
    "lang",
    "resume",
    "url",
    "title",
    "referrer",
    "client_id",
    "body",
    "attachment",
    "typing",
    "draft",
    "seq",
    "conversation",
    "last_seq",
    "ticket",
    "state",
    "force",
    "department",
    "agent_id",
    "department_id",
    "note",
    "admin",
    "type",
];

/// Any JSON value, nested a little, with strings that include control and bidi characters.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1)),
        "\\PC{0,40}".prop_map(Value::String),
        "[\\x00-\\x1f\u{202e}\u{200b}a-z ]{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects shaped like our frames: a (possibly wrong) type and a few known or unknown fields.
fn frame_like() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop::sample::select(TYPES)),
        prop::collection::vec((prop::sample::select(FIELDS), json_value()), 0..5),
        prop::option::of("[a-z]{1,6}"),
    )
        .prop_map(|(ty, fields, extra)| {
            let mut m = Map::new();
            if let Some(t) = ty {
                m.insert("type".into(), json!(t));
            }
            for (k, v) in fields {
                m.insert(k.to_string(), v);
            }
            if let Some(e) = extra {
                m.insert(e, json!(true));
            }
            Value::Object(m).to_string()
        })
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![3 => frame_like(), 1 => "\\PC{0,200}", 1 => any::<String>()]
}

proptest! {
    #![proptest_config(PropConfig { cases: 2_000, ..PropConfig::default() })]

    #[test]
    fn the_parsers_never_panic_and_accepted_frames_respect_the_limits(text in any_text()) {
        if let Ok(f) = protocol::parse_visitor(&text) {
            if let VisitorFrame::Message { client_id, body, .. } = &f {
                prop_assert!(body.chars().count() <= MAX_BODY_CHARS);
                prop_assert!(!client_id.is_empty() && client_id.len() <= MAX_CLIENT_ID);
            }
            if let VisitorFrame::Hello { v, .. } = &f {
                prop_assert_eq!(*v, protocol::VERSION);
            }
        }
        if let Ok(AgentFrame::Message { client_id, body, .. }) = protocol::parse_agent(&text) {
            prop_assert!(body.chars().count() <= MAX_BODY_CHARS);
            prop_assert!(!client_id.is_empty() && client_id.len() <= MAX_CLIENT_ID);
        }
    }
}

/// `n` generated frames that `parse` refuses (deterministic seed, so a failure reproduces).
fn refused_frames(n: usize, parse: impl Fn(&str) -> bool) -> Vec<String> {
    let mut runner = TestRunner::deterministic();
    let strategy = any_text();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let text = strategy.new_tree(&mut runner).expect("value").current();
        if !parse(&text) && !text.is_empty() {
            out.push(text);
        }
    }
    out
}

#[actix_web::test]
async fn refused_frames_on_live_sockets_get_an_error_and_change_nothing() {
    let mut r = Refusals::new().await;
    for text in refused_frames(300, |t| protocol::parse_visitor(t).is_ok()) {
        r.visitor.send_raw(Message::Text(text.clone().into())).await;
        let e = r.visitor.recv_type("error").await;
        assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "error code for {text:?}: {e}");
    }
    let (mut ann, _) = ws::agent(&r.app.address, &r.ann).await;
    for text in refused_frames(300, |t| protocol::parse_agent(t).is_ok()) {
        ann.send_raw(Message::Text(text.clone().into())).await;
        let e = ann.recv_type("error").await;
        assert!(e["code"].as_str().is_some_and(|c| !c.is_empty()), "error code for {text:?}: {e}");
    }
    r.unchanged().await;
}
