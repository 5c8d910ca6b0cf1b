//! The second factor (SPEC C1): TOTP codes (RFC 6238, SHA-1, 6 digits, 30-second steps, one
//! step of clock skew either way), one-time recovery codes, the admin's requirement, and the
//! operations that enrol, confirm, disable and reset — each over `&Connection`, inside the
//! caller's write transaction, with its audit row.
//!
//! A code is accepted once: the agent row keeps the last step a code was accepted for
//! (`totp_last_step`) and only a later step passes. Recovery codes are 50 random bits each,
//! stored as SHA-256 (they are random, not chosen, so a slow hash adds nothing).

use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use totp_rs::{Builder, Secret, Totp};

use super::{Role, random_bytes, store, token_hash};
use crate::agents;
use crate::audit::{self, Actor};
use crate::error::AppError;
use crate::settings;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: usize = 6;
pub const ISSUER: &str = "frontdesk";
pub const RECOVERY_CODES: usize = 10;
/// How long the second step stays open after a right password.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60_000;
/// Wrong codes one challenge takes before the password is needed again (the login rate
/// limits count every attempt as well).
pub const CHALLENGE_ATTEMPTS: i64 = 5;
/// The settings key of [`Requirement`].
pub const REQUIRE_KEY: &str = "auth.require_2fa";

/// Who must sign in with a second factor, set by an admin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// Each agent decides.
    #[default]
    Off,
    /// Admins must; others decide.
    Admins,
    /// Everyone must.
    All,
}

impl Requirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Off => "off",
            Requirement::Admins => "admins",
            Requirement::All => "all",
        }
    }
    pub fn parse(s: &str) -> Option<Requirement> {
        match s {
            "off" => Some(Requirement::Off),
            "admins" => Some(Requirement::Admins),
            "all" => Some(Requirement::All),
            _ => None,
        }
    }
    pub fn applies_to(self, role: Role) -> bool {
        match self {
            Requirement::Off => false,
            Requirement::Admins => role == Role::Admin,
            Requirement::All => true,
        }
    }
    pub fn load(c: &Connection) -> Result<Requirement, AppError> {
        Ok(settings::store::get(c, REQUIRE_KEY)?.as_deref().and_then(Requirement::parse).unwrap_or_default())
    }
}

/// What an authenticator app needs: the secret as text (for typing in), the otpauth:// URI and
/// the same URI drawn as an SVG QR code. Nothing leaves the server for another service.
#[derive(Serialize, Debug)]
pub struct Enrolment {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

/// A new secret: 160 random bits (RFC 4226's recommendation), base32 as apps expect it.
pub fn new_secret() -> String {
    Secret::from(random_bytes::<20>().to_vec()).to_base32()
}

fn totp(secret_b32: &str, account: &str) -> Result<Totp, AppError> {
    let secret = Secret::try_from_base32(secret_b32).map_err(|e| AppError::internal(format!("stored TOTP secret: {e:?}")))?;
    Builder::new()
        .with_secret(secret)
        .with_digits(DIGITS as u8)
        .with_step_duration(STEP_SECS as u64)
        .with_skew(1)
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| AppError::internal(format!("TOTP parameters: {e:?}")))
}

pub fn enrolment(secret_b32: &str, account: &str) -> Result<Enrolment, AppError> {
    let uri = totp(secret_b32, account)?.to_url().map_err(|e| AppError::internal(format!("otpauth URI: {e:?}")))?;
    let qr = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| AppError::internal(format!("QR code: {e}")))?;
    let qr_svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok(Enrolment { secret: secret_b32.to_string(), uri, qr_svg })
}

/// Digits only, spaces and dashes ignored (apps show "123 456").
fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

/// The step `code` is valid for at `now_ms` (± one step), if any, and only when it is later
/// than `last_step`: a code seen before is refused like a wrong one.
pub fn accepted_step(secret_b32: &str, code: &str, now_ms: i64, last_step: Option<i64>) -> Result<Option<i64>, AppError> {
    let code = normalize_code(code);
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret_b32, "x")?;
    let secs = now_ms.max(0) as u64 / 1000;
    // Newest first, so a code valid for two steps (vanishingly rare) counts as the later one.
    for step in [secs / STEP_SECS as u64 + 1, secs / STEP_SECS as u64, (secs / STEP_SECS as u64).saturating_sub(1)] {
        if t.generate(step * STEP_SECS as u64).to_string().as_bytes() == code.as_bytes() {
            let step = step as i64;
            return Ok(last_step.is_none_or(|last| step > last).then_some(step));
        }
    }
    Ok(None)
}

/// The code an authenticator shows at `now_ms` (tests and the CLI's self-check).
pub fn code_at(secret_b32: &str, now_ms: i64) -> Result<String, AppError> {
    Ok(totp(secret_b32, "x")?.generate(now_ms.max(0) as u64 / 1000).to_string())
}

const CODE_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// Ten codes like `k3mfp-7qxzt`: 10 characters of a 32-letter alphabet without look-alikes.
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = random_bytes::<10>();
            let s: String = bytes.iter().map(|b| CODE_ALPHABET[(*b & 31) as usize] as char).collect();
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect()
}

/// What is hashed: lower case, without spaces and dashes, so "K3MFP 7QXZT" works too.
pub fn recovery_hash(code: &str) -> Vec<u8> {
    let norm: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    token_hash(&norm)
}

/// Starts (or restarts) an enrolment: a new secret, kept unconfirmed until a code proves the
/// app has it. Refused when a second factor is already on (disable or reset it first).
pub fn begin(c: &Connection, agent_id: i64, now: i64) -> Result<Enrolment, AppError> {
    let agent = agents::store::get(c, agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    if agent.totp_enabled {
        return Err(AppError::conflict("two-factor sign-in is already on; turn it off first to enrol again"));
    }
    let secret = new_secret();
    agents::store::set_totp(c, agent_id, Some(&secret), None, None, now)?;
    enrolment(&secret, &agent.email)
}

/// Confirms a pending enrolment with a code from the app: turns the second factor on, issues
/// ten recovery codes (returned once, stored hashed) and writes the audit row.
pub fn confirm(c: &Connection, agent_id: i64, code: &str, actor: &Actor, now: i64) -> Result<Option<Vec<String>>, AppError> {
    let agent = agents::store::get(c, agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    if agent.totp_enabled {
        return Err(AppError::conflict("two-factor sign-in is already on"));
    }
    let secret = agents::store::totp(c, agent_id)?.secret.ok_or_else(|| AppError::conflict("no enrolment in progress; start one first"))?;
    let Some(step) = accepted_step(&secret, code, now, None)? else { return Ok(None) };
    agents::store::set_totp(c, agent_id, Some(&secret), Some(now), Some(step), now)?;
    let codes = replace_recovery_codes(c, agent_id, now)?;
    audit::store::record(c, now, actor, "agent.totp_enable", Some(&agent.email), None)?;
    Ok(Some(codes))
}

fn replace_recovery_codes(c: &Connection, agent_id: i64, now: i64) -> Result<Vec<String>, AppError> {
    let codes = new_recovery_codes();
    let hashes: Vec<Vec<u8>> = codes.iter().map(|s| recovery_hash(s)).collect();
    store::replace_recovery_codes(c, agent_id, &hashes, now)?;
    Ok(codes)
}

/// New recovery codes for an enrolled agent; the old ones stop working.
pub fn regenerate_recovery_codes(c: &Connection, agent_id: i64, actor: &Actor, now: i64) -> Result<Vec<String>, AppError> {
    let agent = agents::store::get(c, agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    if !agent.totp_enabled {
        return Err(AppError::conflict("two-factor sign-in is off"));
    }
    let codes = replace_recovery_codes(c, agent_id, now)?;
    audit::store::record(c, now, actor, "agent.totp_recovery_codes", Some(&agent.email), None)?;
    Ok(codes)
}

/// Removes the second factor (secret, last step, recovery codes, open challenges). `action`
/// names it in the audit log: the agent turning it off, or an admin/CLI resetting it.
fn remove(c: &Connection, agent: &agents::Agent, actor: &Actor, action: &str, now: i64) -> Result<(), AppError> {
    agents::store::set_totp(c, agent.id, None, None, None, now)?;
    store::replace_recovery_codes(c, agent.id, &[], now)?;
    store::delete_agent_challenges(c, agent.id)?;
    audit::store::record(c, now, actor, action, Some(&agent.email), None)
}

/// The agent turns their own second factor off (the handler checked their password). Refused
/// while the admin requires it for their role.
pub fn disable_own(c: &Connection, agent_id: i64, actor: &Actor, now: i64) -> Result<(), AppError> {
    let agent = agents::store::get(c, agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    if !agent.totp_enabled {
        return Err(AppError::conflict("two-factor sign-in is already off"));
    }
    if Requirement::load(c)?.applies_to(agent.role) {
        return Err(AppError::conflict("two-factor sign-in is required for your role; an admin can reset it"));
    }
    remove(c, &agent, actor, "agent.totp_disable", now)
}

/// An admin (or `frontdesk agent reset-2fa`) removes an agent's second factor, e.g. after a
/// lost phone. If 2FA is required for them, their next sign-in leads to enrolment.
pub fn reset(c: &Connection, agent_id: i64, actor: &Actor, now: i64) -> Result<agents::Agent, AppError> {
    let agent = agents::store::get(c, agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    if !agent.totp_enabled {
        return Err(AppError::conflict(format!("{} has no two-factor sign-in to reset", agent.email)));
    }
    remove(c, &agent, actor, "agent.totp_reset", now)?;
    agents::store::get(c, agent_id)?.ok_or_else(|| AppError::not_found("agent"))
}

/// What a second-step attempt came to. Wrong attempts are answers, not errors, so the write
/// job commits the attempt count.
#[derive(Debug)]
pub enum Attempt {
    /// Signed in; `recovery_codes` is set when this step also finished an enrolment.
    Passed {
        agent_id: i64,
        recovery_codes: Option<Vec<String>>,
    },
    Wrong,
    /// No such challenge, expired, of the other purpose, or out of attempts.
    Expired,
}

/// A second-step answer: a TOTP code or one recovery code.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}

impl Answer {
    pub fn validate(&self) -> Result<(), AppError> {
        match (&self.code, &self.recovery_code) {
            (Some(c), None) if c.len() <= 20 => Ok(()),
            (None, Some(r)) if r.len() <= 40 => Ok(()),
            (Some(_), Some(_)) => Err(AppError::invalid("send either code or recovery_code, not both")),
            (None, None) => Err(AppError::invalid("code: required")),
            _ => Err(AppError::invalid("code: too long")),
        }
    }
}

/// Opens the second step for an agent whose password was right; returns the cookie value.
pub fn open_challenge(c: &Connection, agent_id: i64, purpose: &str, now: i64) -> Result<String, AppError> {
    store::delete_expired_challenges(c, now)?;
    let token = super::new_secret_token();
    store::create_challenge(c, &token_hash(&token), agent_id, purpose, now, now + CHALLENGE_TTL_MS)?;
    Ok(token)
}

/// The live challenge behind a cookie value: (challenge id, agent id, purpose, attempts).
pub fn find_challenge(c: &Connection, token: &str, now: i64) -> Result<Option<store::Challenge>, AppError> {
    Ok(store::find_challenge(c, &token_hash(token))?.filter(|ch| ch.expires_at > now && ch.attempts < CHALLENGE_ATTEMPTS))
}

/// Checks a second-step answer against the challenge `token` of `purpose` ('code': a code or a
/// recovery code of the enrolled agent; 'enrol': a code of the secret being enrolled). On
/// success the challenge is gone and, for enrolment, the second factor is on.
pub fn attempt(c: &Connection, token: &str, purpose: &str, answer: &Answer, now: i64) -> Result<Attempt, AppError> {
    let Some(ch) = find_challenge(c, token, now)? else { return Ok(Attempt::Expired) };
    if ch.purpose != purpose {
        return Ok(Attempt::Expired);
    }
    let agent = agents::store::get(c, ch.agent_id)?.ok_or_else(|| AppError::not_found("agent"))?;
    if agent.disabled {
        store::delete_challenge(c, ch.id)?;
        return Ok(Attempt::Expired);
    }
    let actor = Actor { agent_id: Some(agent.id), label: format!("agent:{} {}", agent.id, agent.email) };
    let passed = match (purpose, answer) {
        ("enrol", Answer { code: Some(code), .. }) => confirm(c, agent.id, code, &actor, now)?.map(Some),
        ("code", Answer { code: Some(code), .. }) if agent.totp_enabled => {
            let row = agents::store::totp(c, agent.id)?;
            match accepted_step(row.secret.as_deref().unwrap_or_default(), code, now, row.last_step)? {
                Some(step) => {
                    agents::store::set_totp_last_step(c, agent.id, step)?;
                    Some(None)
                }
                None => None,
            }
        }
        ("code", Answer { recovery_code: Some(rc), .. }) if agent.totp_enabled => {
            if store::use_recovery_code(c, agent.id, &recovery_hash(rc), now)? {
                let left = store::unused_recovery_codes(c, agent.id)?;
                let details = serde_json::json!({"remaining": left});
                audit::store::record(c, now, &actor, "agent.totp_recovery_used", Some(&agent.email), Some(&details))?;
                Some(None)
            } else {
                None
            }
        }
        _ => None,
    };
    match passed {
        Some(recovery_codes) => {
            store::delete_challenge(c, ch.id)?;
            Ok(Attempt::Passed { agent_id: agent.id, recovery_codes })
        }
        None => {
            store::count_challenge_attempt(c, ch.id)?;
            Ok(Attempt::Wrong)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows (8 digits there; the last 6 here).
    #[test]
    fn rfc6238_vectors() {
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        for (t, want) in [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")] {
            assert_eq!(code_at(&secret, t * 1000).unwrap(), want, "t={t}");
        }
    }

    #[test]
    fn codes_are_accepted_once_and_within_one_step() {
        let s = new_secret();
        let now = 1_800_000_000_000;
        let code = code_at(&s, now).unwrap();
        let step = accepted_step(&s, &code, now, None).unwrap().expect("right code");
        assert_eq!(step, now / 1000 / STEP_SECS);
        assert_eq!(accepted_step(&s, &code, now, Some(step)).unwrap(), None, "reused");
        assert_eq!(accepted_step(&s, &format!("{} {}", &code[..3], &code[3..]), now + 30_000, Some(step - 1)).unwrap(), Some(step));
        assert_eq!(accepted_step(&s, &code, now + 90_000, None).unwrap(), None, "two steps late");
        assert_eq!(accepted_step(&s, "12345", now, None).unwrap(), None);
        assert_eq!(accepted_step(&s, "abcdef", now, None).unwrap(), None);
    }

    #[test]
    fn enrolment_has_uri_and_svg() {
        let s = new_secret();
        let e = enrolment(&s, "ann@shop.example").unwrap();
        assert!(e.uri.starts_with("otpauth://totp/"), "{}", e.uri);
        assert!(e.uri.contains(&format!("secret={s}")), "{}", e.uri);
        assert!(e.uri.contains("issuer=frontdesk"), "{}", e.uri);
        assert!(e.qr_svg.contains("<svg") && e.qr_svg.contains("<path"), "{}", &e.qr_svg[..100]);
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalized() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let set: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(set.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'));
        assert_eq!(recovery_hash(&codes[0]), recovery_hash(&format!(" {} ", codes[0].to_uppercase().replace('-', " "))));
        assert_eq!(Requirement::parse("admins"), Some(Requirement::Admins));
        assert!(Requirement::Admins.applies_to(Role::Admin) && !Requirement::Admins.applies_to(Role::Supervisor));
    }
}
