//! What a shop sets about its widget (SPEC W2, W3, W8, W12): the appearance per site, the
//! pre-chat form per department and the checking of a visitor's answers, the visitor's rating
//! of an ended chat, and the signed identity a shop passes for its logged-in customer.
//!
//! Everything here is pure (types, validation, the identity signature); `store.rs` has the
//! SQL and `http.rs` the endpoints. The visitor socket (`chat::visitor_ws`) calls
//! [`check_answers`] when a chat starts and [`verify_identity`] on `hello`.

pub mod http;
pub mod store;

use std::collections::BTreeMap;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{AppError, Kind};

/// The widget's languages (its dictionaries in `web/src/widget/locales`).
pub const LANGS: [&str; 4] = ["en", "ru", "uk", "pl"];

// ------------------------------------------------------------------ appearance (W2)

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    Left,
    #[default]
    Right,
}

/// Texts of one language; an empty one means the widget's own translated text.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Texts {
    /// Beside the launcher's icon; empty: the icon alone.
    pub launcher: String,
    /// The first line of an empty chat.
    pub greeting: String,
    /// Above the offline form.
    pub offline: String,
}

/// How the widget looks on one site (or on every site without its own).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Appearance {
    /// The launcher, the header and the visitor's bubbles: `#rrggbb`.
    pub primary_color: String,
    /// Text on the primary colour: `#rrggbb`.
    pub text_color: String,
    pub position: Position,
    /// Pixels from the side and from the bottom of the window, 0–200.
    pub offset_x: u32,
    pub offset_y: u32,
    /// `auto` (the visitor's browser) or one of [`LANGS`].
    pub language: String,
    /// The agent's name on their messages and in the status line; off: "Support".
    pub show_agent_name: bool,
    /// A short tone when an agent's message arrives while the widget is closed or hidden.
    pub sounds: bool,
    /// Per language (`en`, `ru`, `uk`, `pl`).
    pub texts: BTreeMap<String, Texts>,
}

impl Default for Appearance {
    fn default() -> Self {
        Appearance {
            primary_color: "#2563eb".into(),
            text_color: "#ffffff".into(),
            position: Position::Right,
            offset_x: 20,
            offset_y: 20,
            language: "auto".into(),
            show_agent_name: true,
            sounds: true,
            texts: BTreeMap::new(),
        }
    }
}

fn is_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_text(field: &str, s: &str, max: usize, lines: bool) -> Result<(), AppError> {
    if s.chars().count() > max {
        return Err(AppError::invalid(format!("{field}: at most {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && !(lines && c == '\n')) {
        return Err(AppError::invalid(format!("{field}: no control characters")));
    }
    Ok(())
}

impl Appearance {
    pub fn validate(&self) -> Result<(), AppError> {
        for (field, c) in [("primary_color", &self.primary_color), ("text_color", &self.text_color)] {
            if !is_color(c) {
                return Err(AppError::invalid(format!("{field}: a colour like #2563eb")));
            }
        }
        if self.offset_x > 200 || self.offset_y > 200 {
            return Err(AppError::invalid("offset_x, offset_y: 0 to 200 pixels"));
        }
        if self.language != "auto" && !LANGS.contains(&self.language.as_str()) {
            return Err(AppError::invalid("language: auto, en, ru, uk or pl"));
        }
        for (lang, t) in &self.texts {
            if !LANGS.contains(&lang.as_str()) {
                return Err(AppError::invalid(format!("texts: {lang:?} is not a widget language (en, ru, uk, pl)")));
            }
            check_text(&format!("texts.{lang}.launcher"), &t.launcher, 40, false)?;
            check_text(&format!("texts.{lang}.greeting"), &t.greeting, 500, true)?;
            check_text(&format!("texts.{lang}.offline"), &t.offline, 500, true)?;
        }
        Ok(())
    }

    /// What one visitor's widget gets: the language it speaks (forced by the admin, else the
    /// browser's when the widget has it, else English) and that language's texts.
    pub fn resolve(&self, browser_lang: Option<&str>) -> ResolvedAppearance {
        let wanted = browser_lang.map(|l| l.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase());
        let lang = if self.language != "auto" {
            self.language.clone()
        } else {
            wanted.filter(|l| LANGS.contains(&l.as_str())).unwrap_or_else(|| "en".into())
        };
        ResolvedAppearance {
            texts: self.texts.get(&lang).cloned().unwrap_or_default(),
            lang,
            primary_color: self.primary_color.clone(),
            text_color: self.text_color.clone(),
            position: self.position,
            offset_x: self.offset_x,
            offset_y: self.offset_y,
            show_agent_name: self.show_agent_name,
            sounds: self.sounds,
        }
    }
}

/// `GET /api/v1/widget/settings`: the appearance one widget uses.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ResolvedAppearance {
    pub lang: String,
    pub texts: Texts,
    pub primary_color: String,
    pub text_color: String,
    pub position: Position,
    pub offset_x: u32,
    pub offset_y: u32,
    pub show_agent_name: bool,
    pub sounds: bool,
}

/// A site key: `''` (every site) or an origin `https://host[:port]`, normalised.
pub fn site_key(site: &str) -> Result<String, AppError> {
    let site = site.trim();
    if site.is_empty() {
        return Ok(String::new());
    }
    crate::routing::origin_of(site)
        .filter(|o| o.len() <= 200)
        .ok_or_else(|| AppError::invalid("site: an origin like https://shop.example, or empty for every site"))
}

// ------------------------------------------------------------------ pre-chat form (W3)

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Name,
    Email,
    Phone,
    Order,
    Custom,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    /// The question of a custom field (and its key in the answers); others have their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A department's pre-chat form.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct PrechatForm {
    #[serde(default)]
    pub fields: Vec<Field>,
    /// The shop's consent text: when set, the visitor must tick it to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
}

impl PrechatForm {
    pub fn validate(&self) -> Result<(), AppError> {
        if self.fields.len() > 8 {
            return Err(AppError::invalid("prechat.fields: at most 8"));
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut labels = std::collections::BTreeSet::new();
        for f in &self.fields {
            match (f.kind, f.label.as_deref().map(str::trim)) {
                (FieldKind::Custom, Some(l)) if !l.is_empty() => {
                    check_text("prechat.fields.label", l, 100, false)?;
                    if !labels.insert(l.to_string()) {
                        return Err(AppError::invalid(format!("prechat.fields: the question {l:?} twice")));
                    }
                }
                (FieldKind::Custom, _) => return Err(AppError::invalid("prechat.fields: a custom field needs a label")),
                (k, Some(_)) => return Err(AppError::invalid(format!("prechat.fields: {k:?} has its own label").to_lowercase())),
                (k, None) => {
                    if !seen.insert(k) {
                        return Err(AppError::invalid(format!("prechat.fields: {k:?} twice").to_lowercase()));
                    }
                }
            }
        }
        if let Some(c) = &self.consent {
            if c.trim().is_empty() {
                return Err(AppError::invalid("prechat.consent: a text, or null for none"));
            }
            check_text("prechat.consent", c, 1000, true)?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.consent.is_none()
    }
}

/// What the visitor answered (the `prechat` of the first `message` frame).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    /// Custom answers by their question.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
    #[serde(default)]
    pub consent: bool,
}

/// What is already known about a verified visitor (W12): their fields count as given.
#[derive(Serialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct Known {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Consented in an earlier chat.
    pub consent: bool,
}

/// Check answers against a form: every required field answered (or known), the email an
/// address, the consent ticked when the form asks for it. Returns the answers kept with the
/// chat: trimmed, only the form's fields, known values filled in.
pub fn check_answers(form: &PrechatForm, given: &Answers, known: &Known) -> Result<Answers, AppError> {
    let clean = |s: &Option<String>, max: usize| s.as_deref().map(|v| crate::text::single_line(v, max)).filter(|v| !v.is_empty());
    let mut out = Answers::default();
    let mut missing = Vec::new();
    for f in &form.fields {
        let (key, value) = match f.kind {
            FieldKind::Name => ("name", clean(&given.name, 100).or_else(|| known.name.clone())),
            FieldKind::Email => ("email", clean(&given.email, 254).or_else(|| known.email.clone())),
            FieldKind::Phone => ("phone", clean(&given.phone, 40).or_else(|| known.phone.clone())),
            FieldKind::Order => ("order", clean(&given.order, 100)),
            FieldKind::Custom => {
                let label = f.label.clone().unwrap_or_default();
                let v = clean(&given.custom.get(&label).cloned(), 500);
                if let Some(v) = &v {
                    out.custom.insert(label.clone(), v.clone());
                }
                if f.required && v.is_none() {
                    missing.push(label);
                }
                continue;
            }
        };
        if f.required && value.is_none() {
            missing.push(key.to_string());
        }
        match f.kind {
            FieldKind::Name => out.name = value,
            FieldKind::Email => {
                if let Some(e) = &value {
                    crate::auth::validate_email(e).map_err(|_| AppError::invalid("prechat.email: not an email address"))?;
                }
                out.email = value;
            }
            FieldKind::Phone => out.phone = value,
            _ => out.order = value,
        }
    }
    if form.consent.is_some() {
        if !(given.consent || known.consent) {
            missing.push("consent".into());
        }
        out.consent = true;
    }
    if !missing.is_empty() {
        return Err(AppError::new(Kind::PrechatRequired, format!("the pre-chat form needs: {}", missing.join(", "))));
    }
    Ok(out)
}

// ------------------------------------------------------------------ rating (W8)

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    Good,
    Bad,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Good => "good",
            Rating::Bad => "bad",
        }
    }
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ChatRating {
    pub rating: Rating,
    pub comment: Option<String>,
    pub agent_id: Option<i64>,
    pub rated_at: i64,
}

// ------------------------------------------------------------------ signed identity (W12)

/// How long a signature stays good after its timestamp, and how far ahead of our clock it may be.
pub const IDENTITY_MAX_AGE_S: i64 = 24 * 3600;
pub const IDENTITY_FUTURE_S: i64 = 300;

/// What the shop's page passes (through the loader, in the `identity` of `hello`).
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IdentityClaim {
    /// The shop's customer id.
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Unix seconds when the shop signed it.
    pub ts: i64,
    /// Hex HMAC-SHA256 of `"{id}\n{email}\n{name}\n{ts}"` (absent values as empty strings)
    /// under the instance's identity secret.
    pub sig: String,
}

/// A claim that passed: trust these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Why a claim was ignored (logged, never shown to the visitor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    BadSignature,
    Expired,
    FromTheFuture,
}

/// The string the shop signs.
pub fn identity_payload(id: &str, email: &str, name: &str, ts: i64) -> String {
    format!("{id}\n{email}\n{name}\n{ts}")
}

pub fn sign_identity(secret: &str, id: &str, email: &str, name: &str, ts: i64) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(identity_payload(id, email, name, ts).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Check a claim against the secret at `now_ms`. Fields with line breaks or control
/// characters, an overlong id, a bad email or a signature of the wrong shape are malformed.
pub fn verify_identity(secret: &str, claim: &IdentityClaim, now_ms: i64) -> Result<Verified, Rejection> {
    let bad = |s: &str, max: usize| s.chars().count() > max || s.chars().any(char::is_control);
    let (email, name) = (claim.email.as_deref().unwrap_or(""), claim.name.as_deref().unwrap_or(""));
    if claim.id.trim().is_empty() || bad(&claim.id, 200) || bad(email, 254) || bad(name, 100) || claim.sig.len() != 64 {
        return Err(Rejection::Malformed);
    }
    if !email.is_empty() && crate::auth::validate_email(email).is_err() {
        return Err(Rejection::Malformed);
    }
    let expected = sign_identity(secret, &claim.id, email, name, claim.ts);
    let given = claim.sig.to_ascii_lowercase();
    let same = expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same {
        return Err(Rejection::BadSignature);
    }
    let now_s = now_ms.div_euclid(1000);
    if claim.ts > now_s + IDENTITY_FUTURE_S {
        return Err(Rejection::FromTheFuture);
    }
    if claim.ts < now_s - IDENTITY_MAX_AGE_S {
        return Err(Rejection::Expired);
    }
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    Ok(Verified { id: claim.id.clone(), name: some(name), email: some(email) })
}

/// A new identity secret: 32 random bytes, hex.
pub fn new_identity_secret() -> String {
    hex::encode(crate::auth::random_bytes::<32>())
}

#[cfg(test)]
mod tests;
