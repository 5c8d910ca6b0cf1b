//! Canned responses (SPEC C6): personal and shared snippets with `#shortcut`s, per department,
//! used by both the chat and the ticket composers.

pub mod http;
pub mod store;

use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Serialize, Debug, Clone)]
pub struct Canned {
    pub id: i64,
    pub department_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub category: String,
    pub shortcut: String,
    pub title: String,
    pub body: String,
    pub body_long: Option<String>,
    pub hotkey: Option<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct CannedInput {
    pub shortcut: String,
    pub title: String,
    pub body: String,
    pub body_long: Option<String>,
    #[serde(default)]
    pub category: String,
    pub department_id: Option<i64>,
    /// Personal snippets belong to their author; shared ones to the department (or everyone).
    #[serde(default)]
    pub personal: bool,
    pub hotkey: Option<String>,
}

impl CannedInput {
    pub fn validate(&mut self) -> Result<(), AppError> {
        let sc = self.shortcut.trim().trim_start_matches('#').to_lowercase();
        if sc.is_empty() || sc.len() > 30 || !sc.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            return Err(AppError::invalid("shortcut: 1 to 30 letters, digits, - or _"));
        }
        self.shortcut = sc;
        self.title = self.title.trim().to_string();
        if self.title.is_empty() || self.title.chars().count() > 100 {
            return Err(AppError::invalid("title: 1 to 100 characters"));
        }
        if self.body.trim().is_empty() || self.body.chars().count() > 5_000 {
            return Err(AppError::invalid("body: 1 to 5000 characters"));
        }
        if self.body_long.as_ref().is_some_and(|b| b.chars().count() > 20_000) {
            return Err(AppError::invalid("body_long: at most 20000 characters"));
        }
        self.category = self.category.trim().chars().take(60).collect();
        if let Some(h) = &self.hotkey {
            let ok = ["Alt+", "Ctrl+Alt+"]
                .iter()
                .any(|p| h.strip_prefix(p).is_some_and(|k| k.len() == 1 && k.chars().all(|c| c.is_ascii_alphanumeric())));
            if !ok {
                return Err(AppError::invalid("hotkey: Alt+<key> or Ctrl+Alt+<key> with one letter or digit"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(shortcut: &str, hotkey: Option<&str>) -> CannedInput {
        CannedInput {
            shortcut: shortcut.into(),
            title: "T".into(),
            body: "B".into(),
            body_long: None,
            category: String::new(),
            department_id: None,
            personal: false,
            hotkey: hotkey.map(str::to_string),
        }
    }

    #[test]
    fn validation_table() {
        let cases = [
            ("#Ship", None, Some("ship")),
            ("delivery_time", Some("Alt+1"), Some("delivery_time")),
            ("dostawa", Some("Ctrl+Alt+d"), Some("dostawa")),
            ("", None, None),
            ("has space", None, None),
            ("x", Some("Shift+1"), None),
            ("x", Some("Alt+12"), None),
        ];
        for (sc, hk, want) in cases {
            let mut i = input(sc, hk);
            let got = i.validate().ok().map(|_| i.shortcut.clone());
            assert_eq!(got.as_deref(), want, "{sc} {hk:?}");
        }
    }
}
