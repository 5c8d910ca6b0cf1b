//! Signed reply addresses (SPEC E4): our mail about ticket #N answers to
//! `support+t<N>.<sig>@domain`, where `sig` is an HMAC-SHA256 of the ticket number under the
//! server's secret key. Mail intake reads the token back from the recipient address with
//! [`verify_reply_token`] and threads the mail into ticket N without trusting the subject.
//!
//! The token is lower-case (`t`, digits, `.`, hex) because some servers lower-case local parts.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Hex digits of the signature kept in the address (64 bits).
const SIG_HEX: usize = 16;

fn signature(key: &[u8], number: i64) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"frontdesk reply token v1:");
    mac.update(number.to_string().as_bytes());
    let full = hex::encode(mac.finalize().into_bytes());
    full[..SIG_HEX].to_string()
}

/// The token for ticket `number`: `t1042.0123456789abcdef`. Deterministic, so every mail about
/// the ticket (and every retry) carries the same address.
pub fn reply_token(key: &[u8], number: i64) -> String {
    format!("t{number}.{}", signature(key, number))
}

/// The ticket number a token names, if its signature is right. Accepts the bare token, the
/// local part (`support+t1042.…`) or a whole address (`support+t1042.…@shop.example`), in any case.
pub fn verify_reply_token(key: &[u8], local_part: &str) -> Option<i64> {
    let local = local_part.trim().rsplit_once('@').map_or(local_part.trim(), |(l, _)| l);
    let token = local.rsplit_once('+').map_or(local, |(_, t)| t).to_ascii_lowercase();
    let (num, sig) = token.strip_prefix('t')?.split_once('.')?;
    if num.is_empty() || num.len() > 18 || !num.bytes().all(|b| b.is_ascii_digit()) || sig.len() != SIG_HEX {
        return None;
    }
    let number: i64 = num.parse().ok()?;
    let expected = signature(key, number);
    let same = expected.len() == sig.len() && expected.bytes().zip(sig.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    same.then_some(number)
}

/// `support@shop.example` + token → `support+<token>@shop.example` (plus-addressing). An
/// address that already carries a `+tag` keeps it and gets the token after the last `+`.
pub fn reply_address(mail_from_addr: &str, token: &str) -> String {
    match mail_from_addr.rsplit_once('@') {
        Some((local, domain)) => format!("{local}+{token}@{domain}"),
        None => mail_from_addr.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn tokens_round_trip_in_every_form() {
        let t = reply_token(KEY, 1042);
        assert!(t.starts_with("t1042."), "{t}");
        assert_eq!(verify_reply_token(KEY, &t), Some(1042));
        let addr = reply_address("support@shop.example", &t);
        assert_eq!(verify_reply_token(KEY, &addr), Some(1042));
        assert_eq!(verify_reply_token(KEY, addr.split('@').next().unwrap()), Some(1042));
        assert_eq!(verify_reply_token(KEY, &addr.to_uppercase()), Some(1042));
        assert_eq!(reply_token(KEY, 1042), t, "stable");
    }

    #[test]
    fn forged_or_foreign_tokens_are_refused() {
        let t = reply_token(KEY, 1042);
        let forged = t.replace("t1042", "t1043");
        assert_eq!(verify_reply_token(KEY, &forged), None);
        assert_eq!(verify_reply_token(b"another key another key another k", &t), None);
        for bad in ["", "support", "support+", "t.", "t1042.", "t1042.zz", "t-1.0123456789abcdef", "x1042.0123456789abcdef"] {
            assert_eq!(verify_reply_token(KEY, bad), None, "{bad}");
        }
    }
}
