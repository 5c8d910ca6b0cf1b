//! Widget settings endpoints: the appearance (admin, and the public copy a widget reads), the
//! identity secret, and the visitor's rating of an ended chat.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{Appearance, Rating, store};
use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::realtime::Audience;
use crate::realtime::protocol::ServerFrame;
use crate::state::AppState;

type Data = web::Data<AppState>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicQuery {
    /// The embedding page's origin (or URL).
    #[serde(default)]
    site: Option<String>,
    /// The browser's language, e.g. `ru-RU`.
    #[serde(default)]
    lang: Option<String>,
}

/// `GET /api/v1/widget/settings?site=&lang=`: how this site's widget looks, in the language it
/// will speak. Public: a widget reads it before the visitor does anything.
pub async fn public(state: Data, q: web::Query<PublicQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let origin = q.site.as_deref().and_then(crate::routing::origin_of);
    let lang = q.lang.filter(|l| l.len() <= 35);
    let a = state.db.read(move |c| store::appearance_for(c, origin.as_deref())).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-cache")).json(a.resolve(lang.as_deref())))
}

fn snippet(state: &AppState) -> String {
    format!("<script async src=\"{}/widget.js\"></script>", state.own_origin())
}

/// `GET /api/v1/settings/widget`: every site's appearance (`""`: the default), the snippet for
/// the configured public URL.
pub async fn get(state: Data) -> Result<HttpResponse, AppError> {
    let (default, sites) = state
        .db
        .read(|c| {
            let default = store::appearance(c, "")?.unwrap_or_default();
            let sites = store::sites(c)?
                .into_iter()
                .map(|s| Ok((store::appearance(c, &s)?.unwrap_or_default(), s)))
                .collect::<Result<Vec<_>, AppError>>()?;
            Ok((default, sites))
        })
        .await?;
    let mut items = vec![json!({"site": "", "appearance": default})];
    items.extend(sites.into_iter().map(|(a, s)| json!({"site": s, "appearance": a})));
    Ok(HttpResponse::Ok().json(json!({
        "sites": items,
        "snippet": snippet(&state),
        "public_url": state.own_origin(),
        "public_url_configured": !state.public_url_derived,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutBody {
    #[serde(default)]
    site: String,
    appearance: Appearance,
}

/// `PUT /api/v1/settings/widget` `{site, appearance}`: checked, stored, audited.
pub async fn put(state: Data, p: Principal, body: web::Json<PutBody>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    b.appearance.validate()?;
    let site = super::site_key(&b.site)?;
    let (actor, now) = (Actor::from(&p), state.now());
    let (a, s) = (b.appearance.clone(), site.clone());
    state
        .db
        .write(move |c| {
            store::set_appearance(c, &s, &a, now)?;
            let details = serde_json::to_value(&a).ok();
            audit::store::record(c, now, &actor, "settings.widget", Some(if s.is_empty() { "every site" } else { &s }), details.as_ref())
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({"site": site, "appearance": b.appearance})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteQuery {
    site: String,
}

/// `DELETE /api/v1/settings/widget?site=ORIGIN`: that site shows the default appearance again.
pub async fn delete(state: Data, p: Principal, q: web::Query<SiteQuery>) -> Result<HttpResponse, AppError> {
    let site = super::site_key(&q.site)?;
    if site.is_empty() {
        return Err(AppError::invalid("site: the default appearance stays; give a site's origin"));
    }
    let (actor, now) = (Actor::from(&p), state.now());
    state
        .db
        .write(move |c| {
            if !store::delete_appearance(c, &site)? {
                return Err(AppError::not_found("site"));
            }
            audit::store::record(c, now, &actor, "settings.widget.delete", Some(&site), None)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

fn identity_json(secret: &str) -> serde_json::Value {
    json!({"secret": secret, "max_age_s": super::IDENTITY_MAX_AGE_S, "future_s": super::IDENTITY_FUTURE_S})
}

/// `GET /api/v1/settings/identity`: the secret shops sign visitor identities with (W12).
pub async fn get_identity(state: Data) -> Result<HttpResponse, AppError> {
    let secret = state.db.write(store::identity_secret).await?;
    Ok(HttpResponse::Ok().json(identity_json(&secret)))
}

/// `POST /api/v1/settings/identity/rotate`: a new secret; the old one stops working at once.
pub async fn rotate_identity(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let (actor, now) = (Actor::from(&p), state.now());
    let secret = state
        .db
        .write(move |c| {
            let s = store::rotate_identity_secret(c)?;
            audit::store::record(c, now, &actor, "settings.identity.rotate", None, None)?;
            Ok(s)
        })
        .await?;
    Ok(HttpResponse::Ok().json(identity_json(&secret)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    rating: Rating,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/v1/widget/rating` `{rating: good|bad, comment?}` (X-Visitor-Token): the visitor
/// rates their latest chat once it ended; rating again replaces it. Kept with the chat's agent.
pub async fn rate(state: Data, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, AppError> {
    // Who asks first (401 for no visitor), then what they sent.
    let visitor = crate::chat::visitor_from_request(&state, &req).await?;
    let text = std::str::from_utf8(&body).map_err(|_| AppError::new(crate::error::Kind::InvalidJson, "body is not UTF-8"))?;
    let b: RatingBody = crate::http::parse_json(text)?;
    let comment = b.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if let Some(c) = &comment
        && (c.chars().count() > 2000 || c.chars().any(|ch| ch.is_control() && ch != '\n'))
    {
        return Err(AppError::invalid("comment: at most 2000 characters, no control characters"));
    }
    let (now, comment_out) = (state.now(), comment.clone());
    let rated = state
        .db
        .write(move |c| {
            let conv = crate::chat::store::latest_conv_of(c, visitor)?.ok_or_else(|| AppError::not_found("conversation"))?;
            if conv.status != crate::chat::Status::Ended {
                return Err(AppError::conflict("a chat is rated after it ended"));
            }
            store::rate(c, conv.id, conv.agent_id, b.rating, comment.as_deref(), now)?;
            crate::webhooks::events::rating_created(c, conv.id, conv.agent_id, b.rating.as_str(), comment.as_deref(), now)?;
            Ok(conv.id)
        })
        .await?;
    // The chat's agents see it at once (an open chat view shows it).
    let frame = ServerFrame::Rated { conversation: rated, rating: b.rating, comment: comment_out.clone(), at: now };
    state.hub.publish(Audience::ConversationAgents(rated), frame).await;
    Ok(HttpResponse::Ok().json(json!({"conversation": rated, "rating": b.rating, "comment": comment_out})))
}
