//! Endpoints: the live visitors list (SPEC §1), automatic invitation rules and the visitor
//! settings (admins), invitation outcomes, notes on a contact.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{LiveState, Rule, RuleInput, VisitorSettings, live, store};
use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    online: Option<String>,
    state: Option<String>,
}

/// `GET /api/v1/visitors?online=true[&state=browsing|invited|chatting]` → `{"items":[…],
/// "counts":{"total","browsing","invited","chatting"}}`: everyone on the site now (SPEC §1,
/// C13); the counts are over everyone, whatever `state` filters.
pub async fn list(state: Data, q: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    if q.online.as_deref() != Some("true") {
        return Err(AppError::invalid("online: only the visitors on the site now are listed (online=true)"));
    }
    let filter = match q.state.as_deref() {
        None => None,
        Some("browsing") => Some(LiveState::Browsing),
        Some("invited") => Some(LiveState::Invited),
        Some("chatting") => Some(LiveState::Chatting),
        Some(other) => return Err(AppError::invalid(format!("state: {other:?} is not browsing, invited or chatting"))),
    };
    let all = live::online(&state).await?;
    let count = |s: LiveState| all.iter().filter(|v| v.state == s).count();
    let counts = serde_json::json!({
        "total": all.len(),
        "browsing": count(LiveState::Browsing),
        "invited": count(LiveState::Invited),
        "chatting": count(LiveState::Chatting),
    });
    let items: Vec<_> = all.into_iter().filter(|v| filter.is_none_or(|s| v.state == s)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items, "counts": counts})))
}

/// `GET /api/v1/invitation-rules`
pub async fn rules(state: Data) -> Result<HttpResponse, AppError> {
    let items = state.db.read(store::rules).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"items": items})))
}

fn empty_rule() -> Rule {
    Rule {
        id: 0,
        name: String::new(),
        enabled: true,
        url_pattern: None,
        min_seconds_on_page: 0,
        min_visits: 0,
        referrer_pattern: None,
        department_id: None,
        body: String::new(),
    }
}

fn check_department(c: &rusqlite::Connection, r: &Rule) -> Result<(), AppError> {
    match r.department_id {
        Some(d) if !store::department_exists(c, d)? => Err(AppError::invalid("department_id: no such department")),
        _ => Ok(()),
    }
}

/// `POST /api/v1/invitation-rules` → 201 the rule.
pub async fn create_rule(state: Data, p: Principal, body: web::Json<RuleInput>) -> Result<HttpResponse, AppError> {
    let rule = body.into_inner().apply(empty_rule())?;
    let (actor, now) = (Actor::from(&p), state.now());
    let rule = state
        .db
        .write(move |c| {
            check_department(c, &rule)?;
            let id = store::insert_rule(c, &rule, now)?;
            let details = serde_json::to_value(&rule).unwrap_or_default();
            audit::store::record(c, now, &actor, "invitation_rule.create", Some(&id.to_string()), Some(&details))?;
            store::rule(c, id)?.ok_or_else(|| AppError::internal("rule vanished"))
        })
        .await?;
    live::reload_rules(&state).await?;
    Ok(HttpResponse::Created().json(rule))
}

/// `PATCH /api/v1/invitation-rules/{id}`
pub async fn update_rule(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<RuleInput>) -> Result<HttpResponse, AppError> {
    let (id, input) = (path.into_inner(), body.into_inner());
    let (actor, now) = (Actor::from(&p), state.now());
    let rule = state
        .db
        .write(move |c| {
            let old = store::rule(c, id)?.ok_or_else(|| AppError::not_found("invitation rule"))?;
            let rule = input.apply(old)?;
            check_department(c, &rule)?;
            store::update_rule(c, &rule)?;
            let details = serde_json::to_value(&rule).unwrap_or_default();
            audit::store::record(c, now, &actor, "invitation_rule.update", Some(&id.to_string()), Some(&details))?;
            Ok(rule)
        })
        .await?;
    live::reload_rules(&state).await?;
    Ok(HttpResponse::Ok().json(rule))
}

/// `DELETE /api/v1/invitation-rules/{id}` → 204.
pub async fn delete_rule(state: Data, p: Principal, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let (actor, now) = (Actor::from(&p), state.now());
    state
        .db
        .write(move |c| {
            if !store::delete_rule(c, id)? {
                return Err(AppError::not_found("invitation rule"));
            }
            audit::store::record(c, now, &actor, "invitation_rule.delete", Some(&id.to_string()), None)
        })
        .await?;
    live::reload_rules(&state).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/settings/visitors` → `{"invite_cap","link_templates":[{"name","url"}]}` (every
/// agent: the visitor panel fills the links).
pub async fn get_settings(state: Data) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(state.db.read(store::settings).await?))
}

/// `PUT /api/v1/settings/visitors` — the whole settings object, validated and audited.
pub async fn put_settings(state: Data, p: Principal, body: web::Json<VisitorSettings>) -> Result<HttpResponse, AppError> {
    let mut s = body.into_inner();
    s.validate()?;
    let (actor, now) = (Actor::from(&p), state.now());
    let saved = s.clone();
    state
        .db
        .write(move |c| {
            store::save_settings(c, &saved)?;
            let details = serde_json::to_value(&saved).unwrap_or_default();
            audit::store::record(c, now, &actor, "settings.visitors", None, Some(&details))
        })
        .await?;
    Ok(HttpResponse::Ok().json(s))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    from: i64,
    to: i64,
}

/// `GET /api/v1/invitation-stats?from=MS&to=MS` → `{"sent","accepted","ignored","closed"}`:
/// invitations shown in [from, to) and what became of them (W9, for reports).
pub async fn stats(state: Data, q: web::Query<StatsQuery>) -> Result<HttpResponse, AppError> {
    let StatsQuery { from, to } = q.into_inner();
    if from >= to {
        return Err(AppError::invalid("from must be before to"));
    }
    let [sent, accepted, ignored, closed] = state.db.read(move |c| store::counts(c, from, to)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"sent": sent, "accepted": accepted, "ignored": ignored, "closed": closed})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    body: String,
}

/// `POST /api/v1/contacts/{id}/notes` `{"body"}` → 201 the note: for callers who may see the
/// contact (`auth::policy`, as `GET /contacts/{id}`).
pub async fn add_note(state: Data, p: Principal, path: web::Path<i64>, body: web::Json<NoteBody>) -> Result<HttpResponse, AppError> {
    let (id, viewer, colleagues) = (path.into_inner(), p.viewer(), state.agents_see_colleagues());
    let text = body.into_inner().body.trim().to_string();
    if text.is_empty() || text.chars().count() > 5_000 {
        return Err(AppError::invalid("body: 1 to 5000 characters"));
    }
    let (agent_id, now) = (p.agent_id, state.now());
    let note = state
        .db
        .write(move |c| {
            viewer.check_contact(c, id, colleagues)?;
            let note_id = store::insert_note(c, id, agent_id, &text, now)?;
            store::notes(c, id)?.into_iter().find(|n| n.id == note_id).ok_or_else(|| AppError::internal("note vanished"))
        })
        .await?;
    Ok(HttpResponse::Created().json(note))
}
