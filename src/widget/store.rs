//! SQL for widget settings: appearance per site, pre-chat forms and answers, ratings, signed
//! identity (secret, verified visitors, the tokens of their other devices).

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::{Answers, Appearance, ChatRating, Known, PrechatForm, Rating, Verified};
use crate::error::AppError;

const IDENTITY_SECRET: &str = "widget.identity_secret";

fn parse<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, AppError> {
    serde_json::from_str(s).map_err(|e| AppError::internal(format!("stored {what}: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serializes")
}

// ---------------------------------------------------------------- appearance

/// The row of exactly this site (`''`: every site).
pub fn appearance(conn: &Connection, site: &str) -> Result<Option<Appearance>, AppError> {
    let s: Option<String> = conn.query_row("SELECT settings FROM widget_appearance WHERE site = ?1", [site], |r| r.get(0)).optional()?;
    s.map(|s| parse("appearance", &s)).transpose()
}

/// What a page on `origin` shows: its site's row, else the row for every site, else the defaults.
pub fn appearance_for(conn: &Connection, origin: Option<&str>) -> Result<Appearance, AppError> {
    if let Some(o) = origin
        && let Some(a) = appearance(conn, o)?
    {
        return Ok(a);
    }
    Ok(appearance(conn, "")?.unwrap_or_default())
}

pub fn set_appearance(conn: &Connection, site: &str, a: &Appearance, now: i64) -> Result<(), AppError> {
    conn.execute(
        "INSERT INTO widget_appearance (site, settings, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(site) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        params![site, to_json(a), now],
    )?;
    Ok(())
}

pub fn delete_appearance(conn: &Connection, site: &str) -> Result<bool, AppError> {
    Ok(conn.execute("DELETE FROM widget_appearance WHERE site = ?1", [site])? > 0)
}

/// Sites with their own appearance.
pub fn sites(conn: &Connection) -> Result<Vec<String>, AppError> {
    let mut st = conn.prepare("SELECT site FROM widget_appearance WHERE site != '' ORDER BY site")?;
    Ok(st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

// ---------------------------------------------------------------- pre-chat forms and answers

pub fn prechat_form(conn: &Connection, department: i64) -> Result<Option<PrechatForm>, AppError> {
    let s: Option<Option<String>> =
        conn.query_row("SELECT prechat FROM departments WHERE id = ?1", [department], |r| r.get(0)).optional()?;
    s.flatten().map(|s| parse("pre-chat form", &s)).transpose()
}

/// Every department's form, by department id.
pub fn prechat_forms(conn: &Connection) -> Result<BTreeMap<i64, PrechatForm>, AppError> {
    let mut st = conn.prepare_cached("SELECT id, prechat FROM departments WHERE prechat IS NOT NULL")?;
    let rows: Vec<(i64, String)> = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    rows.into_iter().map(|(id, s)| Ok((id, parse("pre-chat form", &s)?))).collect()
}

pub fn set_prechat_form(conn: &Connection, department: i64, form: Option<&PrechatForm>) -> Result<(), AppError> {
    let json = form.filter(|f| !f.is_empty()).map(to_json);
    conn.execute("UPDATE departments SET prechat = ?2 WHERE id = ?1", params![department, json])?;
    Ok(())
}

pub fn set_answers(conn: &Connection, conversation: i64, a: &Answers) -> Result<(), AppError> {
    conn.execute("UPDATE conversations SET prechat = ?2 WHERE id = ?1", params![conversation, to_json(a)])?;
    Ok(())
}

pub fn answers(conn: &Connection, conversation: i64) -> Result<Option<Answers>, AppError> {
    let s: Option<Option<String>> =
        conn.query_row("SELECT prechat FROM conversations WHERE id = ?1", [conversation], |r| r.get(0)).optional()?;
    s.flatten().map(|s| parse("pre-chat answers", &s)).transpose()
}

/// The answers are kept on the visitor and, with an email, on its contact (found or created
/// by that address).
pub fn keep_on_contact(conn: &Connection, visitor: i64, a: &Answers, now: i64) -> Result<(), AppError> {
    conn.execute(
        "UPDATE visitors SET name = coalesce(?2, name), email = coalesce(?3, email), phone = coalesce(?4, phone) WHERE id = ?1",
        params![visitor, a.name, a.email, a.phone],
    )?;
    if let Some(email) = &a.email {
        let contact = crate::contacts::store::upsert(conn, Some(email), a.name.as_deref(), now)?;
        if a.phone.is_some() {
            conn.execute("UPDATE contacts SET phone = coalesce(phone, ?2), updated_at = ?3 WHERE id = ?1", params![contact, a.phone, now])?;
        }
        conn.execute("UPDATE visitors SET contact_id = ?2 WHERE id = ?1", params![visitor, contact])?;
    }
    Ok(())
}

/// What a verified visitor already gave (W3: their form skips it). Nothing for anyone else.
pub fn known(conn: &Connection, visitor: i64) -> Result<Known, AppError> {
    let verified = crate::db::count(conn, "SELECT count(*) FROM visitors WHERE id = ?1 AND verified_at IS NOT NULL", [visitor])? > 0;
    if !verified {
        return Ok(Known::default());
    }
    let (name, email, phone) = conn.query_row("SELECT name, email, phone FROM visitors WHERE id = ?1", [visitor], |r| {
        Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?))
    })?;
    let mut st = conn.prepare("SELECT prechat FROM conversations WHERE visitor_id = ?1 AND prechat IS NOT NULL")?;
    let given: Vec<String> = st.query_map([visitor], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let consent = given.iter().any(|s| serde_json::from_str::<Answers>(s).is_ok_and(|a| a.consent));
    Ok(Known { name, email, phone, consent })
}

// ---------------------------------------------------------------- ratings

pub fn rate(
    conn: &Connection,
    conversation: i64,
    agent: Option<i64>,
    rating: Rating,
    comment: Option<&str>,
    now: i64,
) -> Result<(), AppError> {
    conn.execute(
        "INSERT INTO chat_ratings (conversation_id, agent_id, rating, comment, rated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(conversation_id) DO UPDATE SET rating = excluded.rating, comment = excluded.comment, rated_at = excluded.rated_at",
        params![conversation, agent, rating.as_str(), comment, now],
    )?;
    Ok(())
}

pub fn rating(conn: &Connection, conversation: i64) -> Result<Option<ChatRating>, AppError> {
    Ok(conn
        .query_row("SELECT rating, comment, agent_id, rated_at FROM chat_ratings WHERE conversation_id = ?1", [conversation], |r| {
            let rating: String = r.get(0)?;
            Ok(ChatRating {
                rating: if rating == "good" { Rating::Good } else { Rating::Bad },
                comment: r.get(1)?,
                agent_id: r.get(2)?,
                rated_at: r.get(3)?,
            })
        })
        .optional()?)
}

// ---------------------------------------------------------------- signed identity

/// The instance's identity secret, made on first use.
pub fn identity_secret(conn: &Connection) -> Result<String, AppError> {
    if let Some(s) = crate::settings::store::get(conn, IDENTITY_SECRET)? {
        return Ok(s);
    }
    let s = super::new_identity_secret();
    crate::settings::store::set(conn, IDENTITY_SECRET, &s)?;
    Ok(s)
}

/// A new secret: signatures made with the old one stop working at once.
pub fn rotate_identity_secret(conn: &Connection) -> Result<String, AppError> {
    let s = super::new_identity_secret();
    crate::settings::store::set(conn, IDENTITY_SECRET, &s)?;
    Ok(s)
}

/// Link the visitor behind this device's token to the shop's customer. A customer already
/// known from another device keeps one visitor: this device's token leads to it from now on
/// (the chats this device had anonymously move along while that visitor has no open chat). A
/// device that belongs to another verified customer (a shared computer) never hands that
/// customer's visitor or chats over: the new customer gets a visitor of their own. The contact
/// is the one with the customer's email (created when new). Returns the visitor to use.
pub fn link_identity(conn: &Connection, visitor: i64, token_hash: &[u8], v: &Verified, now: i64) -> Result<i64, AppError> {
    let existing: Option<i64> = conn.query_row("SELECT id FROM visitors WHERE external_id = ?1", [&v.id], |r| r.get(0)).optional()?;
    let current: Option<String> = conn.query_row("SELECT external_id FROM visitors WHERE id = ?1", [visitor], |r| r.get(0))?;
    let anonymous = current.is_none();
    let point_here = |target: i64| -> Result<(), AppError> {
        conn.execute(
            "INSERT INTO visitor_tokens (token_hash, visitor_id, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(token_hash) DO UPDATE SET visitor_id = excluded.visitor_id",
            params![token_hash, target, now],
        )?;
        Ok(())
    };
    let target = match existing {
        Some(t) if t == visitor => t,
        Some(t) => {
            point_here(t)?;
            let open = crate::db::count(conn, "SELECT count(*) FROM conversations WHERE visitor_id = ?1 AND status != 'ended'", [t])?;
            if anonymous && open == 0 {
                conn.execute("UPDATE conversations SET visitor_id = ?2 WHERE visitor_id = ?1", params![visitor, t])?;
            }
            t
        }
        None if anonymous => {
            conn.execute("UPDATE visitors SET external_id = ?2 WHERE id = ?1", params![visitor, v.id])?;
            visitor
        }
        None => {
            // This device is another customer's: a fresh visitor for this one.
            let own_hash = crate::auth::token_hash(&crate::auth::new_secret_token());
            conn.execute(
                "INSERT INTO visitors (token_hash, first_seen_at, last_seen_at, ip, user_agent, timezone, language, external_id)
                 SELECT ?2, ?3, ?3, ip, user_agent, timezone, language, ?4 FROM visitors WHERE id = ?1",
                params![visitor, own_hash, now, v.id],
            )?;
            let t = conn.last_insert_rowid();
            point_here(t)?;
            t
        }
    };
    let contact: Option<i64> = match &v.email {
        Some(e) => Some(crate::contacts::store::upsert(conn, Some(e), v.name.as_deref(), now)?),
        None => conn.query_row("SELECT contact_id FROM visitors WHERE id = ?1", [target], |r| r.get(0))?,
    };
    conn.execute(
        "UPDATE visitors SET verified_at = ?2, name = coalesce(?3, name), email = coalesce(?4, email),
                             contact_id = coalesce(?5, contact_id) WHERE id = ?1",
        params![target, now, v.name, v.email, contact],
    )?;
    Ok(target)
}

/// The shop's id of a verified visitor.
pub fn external_id(conn: &Connection, visitor: i64) -> Result<Option<String>, AppError> {
    Ok(conn
        .prepare_cached("SELECT external_id FROM visitors WHERE id = ?1 AND verified_at IS NOT NULL")?
        .query_row([visitor], |r| r.get(0))
        .optional()?
        .flatten())
}
