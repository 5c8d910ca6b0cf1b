//! Customer records (SPEC T8): one contact per email address, shared by chat and tickets.

pub mod http;
pub mod store;

use serde::{Deserialize, Serialize};

#[derive(Serialize, Debug, Clone)]
pub struct Contact {
    pub id: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub created_at: i64,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}
