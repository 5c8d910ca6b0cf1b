//! Socket frames, version 1 (see docs/protocol.md). Parsing is pure and strict: every frame a
//! client may send is one variant here; anything else is a clear error frame.

use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;
/// Largest text frame accepted from a client.
pub const MAX_FRAME: usize = 64 * 1024;
/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
pub const MAX_CLIENT_ID: usize = 64;
/// A visitor's draft forwarded to agents (sneak peek) is cut to this many characters.
pub const MAX_DRAFT_CHARS: usize = 2_000;
pub const MAX_URL: usize = 2_048;

/// Close codes (RFC 6455 registered codes plus our 4xxx).
pub mod close {
    pub const NORMAL: u16 = 1000;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const INTERNAL: u16 = 1011;
    pub const RESTART: u16 = 1012;
    pub const TRY_AGAIN: u16 = 1013;
    pub const PROTOCOL: u16 = 4000;
    pub const UNAUTHENTICATED: u16 = 4001;
    pub const IDLE: u16 = 4002;
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PageInfo {
    pub url: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub referrer: Option<String>,
}

#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    pub conversation: i64,
    pub last_seq: i64,
}

/// Frames a visitor's widget sends.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VisitorFrame {
    Hello {
        v: u32,
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        page: Option<PageInfo>,
        #[serde(default)]
        tz: Option<String>,
        #[serde(default)]
        lang: Option<String>,
        #[serde(default)]
        resume: Option<Resume>,
    },
    Page(PageInfo),
    Message {
        client_id: String,
        #[serde(default)]
        body: String,
        #[serde(default)]
        attachment: Option<String>,
    },
    Typing {
        typing: bool,
        #[serde(default)]
        draft: Option<String>,
    },
    Read {
        seq: i64,
    },
    End,
    Ping,
}

/// Frames an agent's console sends.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentFrame {
    Hello {
        v: u32,
        #[serde(default)]
        resume: Vec<Resume>,
    },
    Accept {
        conversation: i64,
    },
    Open {
        conversation: i64,
        #[serde(default)]
        last_seq: i64,
    },
    Close {
        conversation: i64,
    },
    Message {
        conversation: i64,
        client_id: String,
        #[serde(default)]
        body: String,
        #[serde(default)]
        attachment: Option<String>,
    },
    Typing {
        conversation: i64,
        typing: bool,
    },
    Delivered {
        conversation: i64,
        seq: i64,
    },
    Read {
        conversation: i64,
        seq: i64,
    },
    End {
        conversation: i64,
    },
    /// Presence on a ticket page (T1): others see who is viewing or replying.
    Viewing {
        ticket: i64,
        state: PresenceState,
    },
    Ping,
}

#[derive(Deserialize, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PresenceState {
    Viewing,
    Replying,
    Left,
}

/// Why a frame was refused; becomes an `error` frame (or a close for fatal ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub code: &'static str,
    pub message: String,
}

impl FrameError {
    pub fn new(code: &'static str, message: impl Into<String>) -> FrameError {
        FrameError { code, message: message.into() }
    }
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, FrameError> {
    if text.len() > MAX_FRAME {
        return Err(FrameError::new("too_large", format!("frame larger than {MAX_FRAME} bytes")));
    }
    serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        // "unknown variant" is serde's word both for an unknown frame type and for a bad enum
        // value inside a known frame; only the first is `unknown_type`.
        let is_type = || {
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(|t| msg.starts_with(&format!("unknown variant `{t}`"))))
                .unwrap_or(false)
        };
        if msg.starts_with("unknown variant") && is_type() {
            FrameError::new("unknown_type", msg)
        } else if msg.starts_with("unknown field") {
            FrameError::new("unknown_field", msg)
        } else if e.is_syntax() || e.is_eof() {
            FrameError::new("invalid_json", msg)
        } else {
            FrameError::new("invalid_frame", msg)
        }
    })
}

pub fn parse_visitor(text: &str) -> Result<VisitorFrame, FrameError> {
    let f: VisitorFrame = parse(text)?;
    match &f {
        VisitorFrame::Hello { v, .. } => check_version(*v)?,
        VisitorFrame::Message { client_id, body, attachment } => check_message(client_id, body, attachment.as_deref())?,
        VisitorFrame::Page(p) => check_page(p)?,
        VisitorFrame::Read { seq } => check_seq(*seq)?,
        _ => {}
    }
    if let VisitorFrame::Hello { page: Some(p), .. } = &f {
        check_page(p)?;
    }
    Ok(f)
}

pub fn parse_agent(text: &str) -> Result<AgentFrame, FrameError> {
    let f: AgentFrame = parse(text)?;
    match &f {
        AgentFrame::Hello { v, .. } => check_version(*v)?,
        AgentFrame::Message { client_id, body, attachment, .. } => check_message(client_id, body, attachment.as_deref())?,
        AgentFrame::Read { seq, .. } | AgentFrame::Delivered { seq, .. } => check_seq(*seq)?,
        _ => {}
    }
    Ok(f)
}

fn check_version(v: u32) -> Result<(), FrameError> {
    if v != VERSION {
        return Err(FrameError::new("unsupported_version", format!("protocol version {v} is not supported; use {VERSION}")));
    }
    Ok(())
}

fn check_seq(seq: i64) -> Result<(), FrameError> {
    if seq < 0 {
        return Err(FrameError::new("invalid_frame", "seq must not be negative"));
    }
    Ok(())
}

fn check_page(p: &PageInfo) -> Result<(), FrameError> {
    if p.url.len() > MAX_URL || p.referrer.as_ref().is_some_and(|r| r.len() > MAX_URL) {
        return Err(FrameError::new("invalid_frame", "url too long"));
    }
    if p.title.as_ref().is_some_and(|t| t.chars().count() > 500) {
        return Err(FrameError::new("invalid_frame", "title too long"));
    }
    Ok(())
}

fn check_message(client_id: &str, body: &str, attachment: Option<&str>) -> Result<(), FrameError> {
    if client_id.is_empty()
        || client_id.len() > MAX_CLIENT_ID
        || !client_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(FrameError::new("invalid_frame", format!("client_id: 1 to {MAX_CLIENT_ID} characters of [A-Za-z0-9_-]")));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(FrameError::new("too_large", format!("message longer than {MAX_BODY_CHARS} characters")));
    }
    if body.trim().is_empty() && attachment.is_none() {
        return Err(FrameError::new("invalid_frame", "empty message"));
    }
    Ok(())
}

/// Who wrote a message, as shown to the other side.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Author {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<i64>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AttachmentInfo {
    pub token: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub url: String,
}

/// One message as it travels to clients (and as the REST API lists it).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct MessageOut {
    pub conversation: i64,
    pub seq: i64,
    pub id: i64,
    pub author: Author,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentInfo>,
    pub at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// For system lines: `{"code", …params}` for clients to translate (docs/protocol.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<serde_json::Value>,
}

pub fn error_frame(code: &str, message: &str, reference: Option<&str>) -> String {
    serde_json::json!({"type": "error", "code": code, "message": message, "ref": reference}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_frames_table() {
        let ok: &[&str] = &[
            r#"{"type":"hello","v":1}"#,
            r#"{"type":"hello","v":1,"token":"abc","page":{"url":"https://shop.example/a","title":"A"},"tz":"Europe/Warsaw","resume":{"conversation":3,"last_seq":7}}"#,
            r#"{"type":"message","client_id":"c-1","body":"hi"}"#,
            r#"{"type":"message","client_id":"c_2","attachment":"tok"}"#,
            r#"{"type":"typing","typing":true,"draft":"hel"}"#,
            r#"{"type":"read","seq":4}"#,
            r#"{"type":"page","url":"https://shop.example/b"}"#,
            r#"{"type":"end"}"#,
            r#"{"type":"ping"}"#,
        ];
        for f in ok {
            assert!(parse_visitor(f).is_ok(), "{f}: {:?}", parse_visitor(f));
        }
        let long_body = format!(r#"{{"type":"message","client_id":"a","body":"{}"}}"#, "x".repeat(MAX_BODY_CHARS + 1));
        let huge = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(MAX_FRAME));
        let bad: Vec<(String, &str)> = vec![
            ("not json".into(), "invalid_json"),
            ("{".into(), "invalid_json"),
            (r#"{"type":"launch_missiles"}"#.into(), "unknown_type"),
            (r#"{"type":"hello","v":2}"#.into(), "unsupported_version"),
            (r#"{"type":"hello"}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"c 1","body":"hi"}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"","body":"hi"}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"c1","body":"   "}"#.into(), "invalid_frame"),
            (r#"{"type":"message","client_id":"c1","body":"hi","extra":1}"#.into(), "unknown_field"),
            (r#"{"type":"read","seq":-1}"#.into(), "invalid_frame"),
            (r#"{"type":"read","seq":"1"}"#.into(), "invalid_frame"),
            (r#"[1,2,3]"#.into(), "invalid_frame"),
            (long_body, "too_large"),
            (huge, "too_large"),
        ];
        for (f, code) in bad {
            let e = parse_visitor(&f).unwrap_err();
            assert_eq!(e.code, code, "{}", &f[..f.len().min(80)]);
        }
    }

    #[test]
    fn agent_frames_table() {
        assert_eq!(parse_agent(r#"{"type":"accept","conversation":5}"#).unwrap(), AgentFrame::Accept { conversation: 5 });
        assert!(parse_agent(r#"{"type":"hello","v":1,"resume":[{"conversation":1,"last_seq":0}]}"#).is_ok());
        assert_eq!(parse_agent(r#"{"type":"message","conversation":1,"client_id":"x","body":""}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"accept"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"accept","conversation":"x"}"#).unwrap_err().code, "invalid_frame");
        assert_eq!(parse_agent(r#"{"type":"hello","v":1,"token":"x"}"#).unwrap_err().code, "unknown_field");
        assert!(parse_agent(r#"{"type":"viewing","ticket":1001,"state":"replying"}"#).is_ok());
        assert_eq!(parse_agent(r#"{"type":"viewing","ticket":1001,"state":"dancing"}"#).unwrap_err().code, "invalid_frame");
    }
}
