//! Audit log of admin actions (SPEC M4): who changed what, when.

pub mod http;
pub mod store;

use serde::Serialize;

#[derive(Serialize, Debug)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub details: Option<serde_json::Value>,
}

/// Who did it, as written into the log.
#[derive(Clone, Debug)]
pub struct Actor {
    pub agent_id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn cli() -> Actor {
        Actor { agent_id: None, label: "cli".into() }
    }
}

impl From<&crate::auth::Principal> for Actor {
    fn from(p: &crate::auth::Principal) -> Actor {
        Actor { agent_id: p.agent_id, label: p.label.clone() }
    }
}
