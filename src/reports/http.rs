//! Report endpoints (SPEC §1, M1–M3): `GET /api/v1/reports/{name}` as JSON or CSV, the CSV
//! exports of conversations and tickets (streamed), the monitor's picture, the per-user metric
//! choice and the report settings. Extract, call the figures, shape; no SQL.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Filter, Granularity, Range, store};
use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// The reports and their columns, in order (JSON figures, CSV columns, the metric chooser).
pub const REPORTS: &[(&str, &[&str])] = &[
    (
        "chats",
        &[
            "total",
            "served",
            "missed",
            "cancelled",
            "open",
            "first_response_avg_s",
            "response_avg_s",
            "queue_wait_avg_s",
            "queue_wait_max_s",
            "duration_avg_s",
            "csat",
            "rated",
            "invitations_sent",
            "invitations_accepted",
        ],
    ),
    ("tickets", &["created", "solved", "backlog", "offline_messages", "first_reply_avg_s", "resolution_avg_s"]),
    ("agents", &["chats", "served", "first_response_avg_s", "accepting_s", "not_accepting_s", "online_s"]),
    ("heatmap", &["chats", "missed", "offline_messages", "agents_online"]),
    ("tags", &["tickets", "chats"]),
];

fn columns(name: &str) -> Option<&'static [&'static str]> {
    REPORTS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// The query of every report and export; unknown parameters are refused.
pub struct Query {
    pub range: Range,
    pub granularity: Granularity,
    pub compare: bool,
    pub csv: bool,
    pub filter: Filter,
}

fn parse_query(qs: &str, tz: jiff::tz::TimeZone) -> Result<Query, AppError> {
    let mut m: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(qs.as_bytes()) {
        if m.insert(k.to_string(), v.to_string()).is_some() {
            return Err(AppError::invalid(format!("{k}: given twice")));
        }
    }
    const KNOWN: &[&str] =
        &["from", "to", "granularity", "compare", "format", "department_id", "agent_id", "channel", "tag", "exclude_non_target"];
    if let Some(k) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(AppError::invalid(format!("{k}: unknown parameter")));
    }
    let need = |k: &str| m.get(k).ok_or_else(|| AppError::invalid(format!("{k}: required (a date like 2026-01-31)")));
    let range = Range::parse(need("from")?, need("to")?, tz)?;
    let granularity = match m.get("granularity") {
        None => Granularity::Day,
        Some(g) => Granularity::parse(g).ok_or_else(|| AppError::invalid("granularity: hour, day, week or month"))?,
    };
    if granularity == Granularity::Hour && range.days() > 93 {
        return Err(AppError::invalid("granularity: hour covers at most 93 days"));
    }
    let flag = |k: &str| -> Result<bool, AppError> {
        match m.get(k).map(String::as_str) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(_) => Err(AppError::invalid(format!("{k}: true or false"))),
        }
    };
    let compare = match m.get("compare").map(String::as_str) {
        None | Some("none") => false,
        Some("previous") => true,
        Some(_) => return Err(AppError::invalid("compare: previous or none")),
    };
    let csv = match m.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(AppError::invalid("format: json or csv")),
    };
    let id = |k: &str| -> Result<Option<i64>, AppError> {
        m.get(k)
            .map(|v| v.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| AppError::invalid(format!("{k}: a positive id"))))
            .transpose()
    };
    let text = |k: &str| -> Result<Option<String>, AppError> {
        match m.get(k) {
            Some(v) if v.is_empty() || v.chars().count() > 100 => Err(AppError::invalid(format!("{k}: 1 to 100 characters"))),
            v => Ok(v.cloned()),
        }
    };
    let filter = Filter {
        department_id: id("department_id")?,
        agent_id: id("agent_id")?,
        channel: text("channel")?,
        tag: text("tag")?,
        exclude_non_target: flag("exclude_non_target")?,
    };
    Ok(Query { range, granularity, compare, csv, filter })
}

fn pick(v: &Value, cols: &[&str]) -> Map<String, Value> {
    cols.iter().map(|c| (c.to_string(), v.get(*c).cloned().unwrap_or(Value::Null))).collect()
}

/// A report as JSON: `{report, from, to, granularity, timezone, metrics, rows, totals}` and,
/// with `compare=previous`, `previous: {from, to, totals}` and `worse: [metric…]`.
pub fn report_json(name: &str, q: &Query, cancel_window_ms: i64, facts: &Facts) -> Result<Value, AppError> {
    let cols = columns(name).ok_or_else(|| AppError::not_found("report"))?;
    let (rows, totals) = compute(name, &q.range, q, cancel_window_ms, facts)?;
    let mut out = json!({
        "report": name,
        "from": q.range.from.to_string(),
        "to": q.range.to.to_string(),
        "granularity": q.granularity,
        "timezone": q.range.tz.iana_name().unwrap_or("UTC"),
        "metrics": cols.iter().map(|c| json!({"key": c, "better": super::better(c)})).collect::<Vec<_>>(),
        "rows": rows,
        "totals": totals,
    });
    if q.compare {
        let prev = q.range.previous()?;
        let (_, before) = compute(name, &prev, q, cancel_window_ms, facts)?;
        let worse: Vec<&str> = cols
            .iter()
            .copied()
            .filter(|c| super::worse(c, totals.get(*c).and_then(Value::as_f64), before.get(*c).and_then(Value::as_f64)))
            .collect();
        out["previous"] = json!({"from": prev.from.to_string(), "to": prev.to.to_string(), "totals": before});
        out["worse"] = json!(worse);
    }
    Ok(out)
}

/// The stored facts a report needs, loaded once for the range (and the previous one).
pub struct Facts {
    pub chats: Vec<super::ChatFact>,
    pub tickets: Vec<super::TicketFact>,
    pub timelines: Vec<super::Timeline>,
    pub invitations: Vec<super::InvitationFact>,
    pub names: HashMap<i64, String>,
}

pub fn load(c: &rusqlite::Connection, name: &str, start: i64, end: i64, now: i64) -> Result<Facts, AppError> {
    use store::Needed;
    let chats = match name {
        "chats" | "agents" | "heatmap" => store::chats(c, start, end, Needed::All)?,
        "tags" => store::chats(c, start, end, Needed::Tagged)?,
        _ => vec![],
    };
    let tickets = match name {
        "tickets" => store::tickets(c, start, end, Needed::All)?,
        "heatmap" => store::tickets(c, start, end, Needed::Offline)?,
        "tags" => store::tickets(c, start, end, Needed::Tagged)?,
        _ => vec![],
    };
    let mut timelines = if matches!(name, "agents" | "heatmap") { store::timelines(c, start, end)? } else { vec![] };
    super::until_now(&mut timelines, now);
    let invitations = if name == "chats" { store::invitations(c, start, end)? } else { vec![] };
    let names = if name == "agents" { store::agent_names(c)? } else { HashMap::new() };
    Ok(Facts { chats, tickets, timelines, invitations, names })
}

fn compute(name: &str, range: &Range, q: &Query, cw: i64, f: &Facts) -> Result<(Vec<Value>, Map<String, Value>), AppError> {
    let cols = columns(name).ok_or_else(|| AppError::not_found("report"))?;
    let (start, end) = (range.start()?, range.end()?);
    let val = |x: &dyn erased::Ser| x.value();
    Ok(match name {
        "chats" => {
            let periods = super::periods(range, q.granularity)?;
            let (mut rows, mut totals) = super::chat_rows(&f.chats, &periods, &q.filter, cw);
            let (invited, invited_total) = super::invitation_rows(&f.invitations, &periods, &q.filter);
            for (r, (sent, accepted)) in rows.iter_mut().zip(invited) {
                (r.invitations_sent, r.invitations_accepted) = (sent, accepted);
            }
            (totals.invitations_sent, totals.invitations_accepted) = invited_total;
            let rows = periods.iter().zip(rows).map(|(p, r)| period_row(&p.period, pick(&val(&r), cols))).collect();
            (rows, pick(&val(&totals), cols))
        }
        "tickets" => {
            let periods = super::periods(range, q.granularity)?;
            let mine: Vec<&super::TicketFact> = f.tickets.iter().filter(|t| q.filter.ticket(t)).collect();
            let rows = periods
                .iter()
                .map(|p| period_row(&p.period, pick(&val(&super::ticket_figures(mine.iter().copied(), p.start, p.end)), cols)))
                .collect();
            (rows, pick(&val(&super::ticket_figures(mine.iter().copied(), start, end)), cols))
        }
        "agents" => {
            let figs = super::agent_figures(&f.chats, &f.timelines, start, end, &q.filter, cw);
            let mut totals = Map::new();
            for c in cols {
                let sum: f64 = figs.iter().filter_map(|a| val(a).get(*c).and_then(Value::as_f64)).sum();
                totals.insert(c.to_string(), json!(sum));
            }
            // The mean over all chats, not a mean of means.
            let all = super::chat_rows(&f.chats, &[super::Period { period: String::new(), start, end }], &q.filter, cw).1;
            totals.insert("first_response_avg_s".into(), json!(all.first_response_avg_s));
            let rows = figs
                .iter()
                .filter(|a| a.chats > 0 || a.time.online_s > 0)
                .map(|a| {
                    let mut m = Map::new();
                    m.insert("agent_id".into(), json!(a.agent_id));
                    m.insert("name".into(), json!(f.names.get(&a.agent_id)));
                    m.extend(pick(&val(a), cols));
                    Value::Object(m)
                })
                .collect();
            (rows, totals)
        }
        "heatmap" => {
            let cells = super::heatmap(&f.chats, &f.tickets, &f.timelines, range, &q.filter, cw)?;
            let mut totals = Map::new();
            for c in cols {
                let sum: f64 = cells.iter().filter_map(|x| val(x).get(*c).and_then(Value::as_f64)).sum();
                totals.insert(c.to_string(), json!(if *c == "agents_online" { (sum / 168.0 * 100.0).round() / 100.0 } else { sum }));
            }
            (cells.iter().map(|x| val(x)).collect(), totals)
        }
        "tags" => {
            let chats = super::tag_counts(&f.chats, start, end, &q.filter);
            let mut tickets: std::collections::BTreeMap<String, u64> = Default::default();
            for t in f.tickets.iter().filter(|t| (start..end).contains(&t.created_at) && q.filter.ticket(t)) {
                for g in &t.tags {
                    *tickets.entry(g.clone()).or_default() += 1;
                }
            }
            let mut names: Vec<&String> = chats.keys().chain(tickets.keys()).collect();
            names.sort();
            names.dedup();
            let rows: Vec<Value> = names
                .iter()
                .map(|n| json!({"tag": n, "tickets": tickets.get(*n).copied().unwrap_or(0), "chats": chats.get(*n).copied().unwrap_or(0)}))
                .collect();
            let mut totals = Map::new();
            totals.insert("tickets".into(), json!(tickets.values().sum::<u64>()));
            totals.insert("chats".into(), json!(chats.values().sum::<u64>()));
            (rows, totals)
        }
        _ => return Err(AppError::not_found("report")),
    })
}

mod erased {
    pub trait Ser {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or_default()
        }
    }
}

fn period_row(period: &str, figs: Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("period".into(), json!(period));
    m.extend(figs);
    Value::Object(m)
}

/// One CSV field: quoted when needed; text that a spreadsheet would run as a formula is
/// prefixed with an apostrophe.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err() { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn csv_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => csv_field(s),
        other => other.to_string(),
    }
}

/// The columns that name a row, before its figures.
fn lead(name: &str) -> &'static [&'static str] {
    match name {
        "agents" => &["agent_id", "name"],
        "heatmap" => &["weekday", "hour"],
        "tags" => &["tag"],
        _ => &["period"],
    }
}

/// A report's rows as CSV: a header row, then one line per row, the columns as in JSON.
pub fn report_csv(name: &str, report: &Value) -> String {
    let keys: Vec<&str> = lead(name).iter().chain(columns(name).unwrap_or_default()).copied().collect();
    let mut out = keys.join(",");
    out.push('\n');
    for r in report["rows"].as_array().into_iter().flatten() {
        out.push_str(&keys.iter().map(|k| csv_value(&r[*k])).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// `GET /api/v1/reports/chats` and the other reports, one route each (SPEC §1's
/// `/api/v1/reports/{name}`): JSON `{rows, totals, …}` or `format=csv`.
pub async fn chats(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    report(state, req, "chats").await
}
pub async fn tickets(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    report(state, req, "tickets").await
}
pub async fn agents(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    report(state, req, "agents").await
}
pub async fn heatmap(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    report(state, req, "heatmap").await
}
pub async fn tags(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    report(state, req, "tags").await
}
/// `GET /api/v1/exports/conversations`
pub async fn export_conversations(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    export(state, req, "conversations").await
}
/// `GET /api/v1/exports/tickets`
pub async fn export_tickets(state: Data, req: HttpRequest) -> Result<HttpResponse, AppError> {
    export(state, req, "tickets").await
}

async fn report(state: Data, req: HttpRequest, name: &str) -> Result<HttpResponse, AppError> {
    let name = name.to_string();
    if columns(&name).is_none() {
        return Err(AppError::not_found("report"));
    }
    let settings = state.db.read(store::settings).await?;
    let q = parse_query(req.query_string(), settings.tz())?;
    let cw = state.routing.settings().cancel_window_ms();
    let first = if q.compare { q.range.previous()?.start()? } else { q.range.start()? };
    let end = q.range.end()?;
    let load_name = name.clone();
    let now = state.now();
    let facts = state.db.read(move |c| load(c, &load_name, first, end, now)).await?;
    let body = report_json(&name, &q, cw, &facts)?;
    if q.csv {
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}-{}-{}.csv\"", q.range.from, q.range.to)))
            .body(report_csv(&name, &body)));
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Rows per read of a streamed export.
const EXPORT_PAGE: i64 = 1_000;

fn iso(tz: &jiff::tz::TimeZone, ms: Option<i64>) -> String {
    ms.and_then(|m| jiff::Timestamp::from_millisecond(m).ok())
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_default()
}

/// The exports (conversations, tickets): CSV of everything that started in the period,
/// streamed: one page of rows is read when the connection took the previous one.
async fn export(state: Data, req: HttpRequest, kind: &'static str) -> Result<HttpResponse, AppError> {
    let header_row = match kind {
        "conversations" => {
            "id,department,agent,visitor_name,visitor_email,status,outcome,ended_by,created_at,assigned_at,first_agent_reply_at,ended_at,messages,page_url\n"
        }
        "tickets" => "number,subject,status,channel,department,agent,customer_email,created_at,first_reply_at,solved_at,tags\n",
        _ => return Err(AppError::not_found("export")),
    };
    let settings = state.db.read(store::settings).await?;
    let q = parse_query(req.query_string(), settings.tz())?;
    if q.compare || q.filter != Filter::default() || q.granularity != Granularity::Day || q.csv {
        return Err(AppError::invalid("exports take from and to only"));
    }
    let (start, end, tz) = (q.range.start()?, q.range.end()?, q.range.tz.clone());
    let st = state.into_inner();
    let tickets = kind == "tickets";
    let first = Bytes::from_static(header_row.as_bytes());
    let stream = futures_util::stream::unfold(Some((start - 1, i64::MAX)), move |key| {
        let (st, tz) = (st.clone(), tz.clone());
        async move {
            let key = key?;
            let read = st
                .db
                .read(move |c| {
                    let mut out = String::new();
                    let mut last = None;
                    if tickets {
                        for (id, t) in store::tickets_page(c, key, end, EXPORT_PAGE)? {
                            last = Some((t.created_at, id));
                            let f = [
                                t.number.to_string(),
                                csv_field(&t.subject),
                                t.status,
                                t.source,
                                csv_field(&t.department.unwrap_or_default()),
                                csv_field(&t.agent.unwrap_or_default()),
                                csv_field(&t.customer_email.unwrap_or_default()),
                                iso(&tz, Some(t.created_at)),
                                iso(&tz, t.first_reply_at),
                                iso(&tz, t.solved_at),
                                csv_field(&t.tags.unwrap_or_default()),
                            ];
                            out.push_str(&f.join(","));
                            out.push('\n');
                        }
                    } else {
                        for r in store::conversations_page(c, key, end, EXPORT_PAGE)? {
                            last = Some((r.created_at, r.id));
                            let f = [
                                r.id.to_string(),
                                csv_field(&r.department.unwrap_or_default()),
                                csv_field(&r.agent.unwrap_or_default()),
                                csv_field(&r.visitor_name.unwrap_or_default()),
                                csv_field(&r.visitor_email.unwrap_or_default()),
                                r.status,
                                r.outcome.unwrap_or_default(),
                                r.ended_by.unwrap_or_default(),
                                iso(&tz, Some(r.created_at)),
                                iso(&tz, r.assigned_at),
                                iso(&tz, r.first_agent_reply_at),
                                iso(&tz, r.ended_at),
                                r.messages.to_string(),
                                csv_field(&r.page_url.unwrap_or_default()),
                            ];
                            out.push_str(&f.join(","));
                            out.push('\n');
                        }
                    }
                    Ok((out, last))
                })
                .await;
            match read {
                Ok((out, Some(last))) => Some((Ok::<_, AppError>(Bytes::from(out)), Some(last))),
                Ok((_, None)) => None,
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    // The key walk starts just before the first row of the period: (start - 1, MAX id).
    let body = futures_util::stream::once(async move { Ok::<_, AppError>(first) }).chain(stream);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{kind}-{}-{}.csv\"", q.range.from, q.range.to)))
        .streaming(body))
}

/// `GET /api/v1/monitor` — the live monitor now (the console then follows `monitor` frames).
pub async fn monitor(state: Data) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(super::monitor::current(&state).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsBody {
    metrics: Vec<String>,
}

fn known_metric(m: &str) -> bool {
    m.split_once('.').and_then(|(r, c)| columns(r).map(|cols| cols.contains(&c))).unwrap_or(false)
}

/// `GET /api/v1/me/report-metrics` — the metrics this user chose (`null`: the default set).
pub async fn get_metrics(state: Data, p: Principal) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let m = state.db.read(move |c| store::chosen_metrics(c, id)).await?;
    Ok(HttpResponse::Ok().json(json!({"metrics": m})))
}

/// `PUT /api/v1/me/report-metrics` `{"metrics":["chats.served",…]}` — saved per user.
pub async fn put_metrics(state: Data, p: Principal, body: web::Json<MetricsBody>) -> Result<HttpResponse, AppError> {
    let id = p.agent_id()?;
    let mut metrics = body.into_inner().metrics;
    if metrics.len() > 60 {
        return Err(AppError::invalid("metrics: at most 60"));
    }
    if let Some(bad) = metrics.iter().find(|m| !known_metric(m)) {
        return Err(AppError::invalid(format!("metrics: unknown metric {bad:?} (use report.figure, e.g. chats.served)")));
    }
    metrics.dedup();
    let saved = metrics.clone();
    state.db.write(move |c| store::set_chosen_metrics(c, id, &saved)).await?;
    Ok(HttpResponse::Ok().json(json!({"metrics": metrics})))
}

/// `GET /api/v1/settings/reports`
pub async fn get_settings(state: Data) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(state.db.read(store::settings).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    timezone: Option<String>,
    wait_norm_s: Option<i64>,
    department_wait_norm_s: Option<std::collections::BTreeMap<i64, i64>>,
}

/// `PATCH /api/v1/settings/reports` — validated, stored, audited.
pub async fn patch_settings(state: Data, p: Principal, body: web::Json<SettingsPatch>) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let (actor, now) = (Actor::from(&p), state.now());
    let saved = state
        .db
        .write(move |c| {
            let mut s = store::settings(c)?;
            if let Some(tz) = b.timezone {
                s.timezone = tz;
            }
            if let Some(n) = b.wait_norm_s {
                s.wait_norm_s = n;
            }
            if let Some(d) = b.department_wait_norm_s {
                for id in d.keys() {
                    crate::departments::store::get(c, *id)?
                        .ok_or_else(|| AppError::invalid(format!("department_wait_norm_s: no department {id}")))?;
                }
                s.department_wait_norm_s = d;
            }
            s.validate()?;
            store::save_settings(c, &s)?;
            let details = serde_json::to_value(&s).unwrap_or_default();
            audit::store::record(c, now, &actor, "settings.reports", None, Some(&details))?;
            Ok(s)
        })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}
