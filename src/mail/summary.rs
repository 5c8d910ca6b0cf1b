//! The daily summary mail (SPEC E6): per agent, the figures of one local day in the shop's time
//! zone (`reports::daily`, facts from `reports::store`), compared with the same weekday a week
//! earlier, with one suggestion; one template in en/ru/uk/pl, multipart text + HTML,
//! `Auto-Submitted`. The scheduler round (`jobs::daily_summaries`) queues the day's summaries
//! once the local time reached `mail.summary_time`; `frontdesk summary send` does it by hand.
//! A ledger row per (agent, day), written in the transaction that queues the mail, makes each
//! go at most once.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use rusqlite::Connection;

use super::store::{self, NewMail};
use super::templates::{Lang, Rendered, escape};
use crate::error::AppError;
use crate::reports::daily::{self, Figures, Suggestion};
use crate::reports::store as facts;

/// Settings keys: the local time summaries go out (`HH:MM`, or `off`), and the shop's time
/// zone (IANA name) that day and time are read in.
pub const SUMMARY_TIME: &str = "mail.summary_time";
pub const SHOP_TIMEZONE: &str = "shop.timezone";
/// When no time was set.
pub const DEFAULT_TIME: &str = "18:00";

/// When and in which zone summaries are made.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// None: summaries are off.
    pub at: Option<Time>,
    pub tz: TimeZone,
    pub tz_name: String,
}

impl Schedule {
    pub fn load(conn: &Connection) -> Result<Schedule, AppError> {
        use crate::settings::store::get;
        let at = match get(conn, SUMMARY_TIME)?.as_deref() {
            Some("off") => None,
            Some(t) => daily::parse_time(t).ok(),
            None => daily::parse_time(DEFAULT_TIME).ok(),
        };
        let tz_name = get(conn, SHOP_TIMEZONE)?.unwrap_or_else(|| "UTC".into());
        let tz = daily::parse_time_zone(&tz_name).unwrap_or(TimeZone::UTC);
        Ok(Schedule { at, tz, tz_name })
    }

    /// `HH:MM`, or None when off.
    pub fn time_text(&self) -> Option<String> {
        self.at.map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
    }
}

/// One agent's summary of one day.
#[derive(Debug, Clone)]
pub struct Summary {
    pub agent: i64,
    pub email: String,
    pub lang: Lang,
    pub day: Date,
    pub figures: Figures,
    pub week_before: Figures,
    pub suggestion: Suggestion,
    pub mail: Rendered,
}

/// Make (not queue) the summary of `recipient`'s `day`.
pub fn make(conn: &Connection, recipient: &facts::DailyRecipient, day: Date, schedule: &Schedule, shop: &str) -> Result<Summary, AppError> {
    let (agent, email, name, locale) = recipient;
    let figures_of = |d: Date| -> Result<Figures, AppError> {
        let (start, end) = daily::day_bounds(d, &schedule.tz);
        Ok(daily::figures(&facts::daily_facts(conn, *agent, start, end)?, &schedule.tz))
    };
    let before_day = daily::week_before(day);
    let (figures, week_before) = (figures_of(day)?, figures_of(before_day)?);
    let suggestion = daily::suggestion(&figures, &week_before);
    let lang = Lang::or_en(Some(locale));
    let mail = render(lang, shop, name, day, before_day, &figures, &week_before, &suggestion, schedule);
    Ok(Summary { agent: *agent, email: email.clone(), lang, day, figures, week_before, suggestion, mail })
}

/// What happened to one agent's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// Queued as this outbox row.
    Mail(i64),
    /// The day's summary was made before (ledger): nothing queued.
    AlreadyDone,
    /// Nothing happened that day: no mail (the ledger remembers it).
    Quiet,
}

/// Queue `day`'s summary for every agent who gets summaries and has none for that day yet.
/// One ledger row per (agent, day) in this same transaction: a second call, another process
/// or a restart never queues it twice. Returns (agent id, email, what happened).
pub fn queue_day(
    conn: &Connection,
    day: Date,
    schedule: &Schedule,
    shop: &str,
    host: &str,
    now: i64,
) -> Result<Vec<(i64, String, Queued)>, AppError> {
    let day_text = day.to_string();
    let mut out = Vec::new();
    for r in facts::daily_recipients(conn)? {
        if !facts::daily_claim(conn, r.0, &day_text, now)? {
            out.push((r.0, r.1.clone(), Queued::AlreadyDone));
            continue;
        }
        let s = make(conn, &r, day, schedule, shop)?;
        if s.figures.is_quiet() {
            out.push((r.0, r.1.clone(), Queued::Quiet));
            continue;
        }
        let mid = super::kinds::new_message_id("summary", host);
        let id = store::enqueue(
            conn,
            &NewMail {
                kind: "daily_summary",
                to: std::slice::from_ref(&s.email),
                subject: &s.mail.subject,
                body_text: &s.mail.text,
                body_html: &s.mail.html,
                message_id: &mid,
                ticket_id: None,
                conversation_id: None,
                auto_submitted: true,
                now,
            },
        )?;
        facts::daily_set_outbox(conn, r.0, &day_text, id)?;
        out.push((r.0, r.1, Queued::Mail(id)));
    }
    Ok(out)
}

/// The scheduler's part: when the shop's local time reached the summary time, queue today's
/// summaries (those not made yet). Returns the outbox ids queued.
pub fn queue_due(conn: &Connection, shop: &str, host: &str, now: i64) -> Result<Vec<i64>, AppError> {
    let schedule = Schedule::load(conn)?;
    let Some(at) = schedule.at else { return Ok(vec![]) };
    let Some(day) = daily::due(now, &schedule.tz, at) else { return Ok(vec![]) };
    Ok(queue_day(conn, day, &schedule, shop, host, now)?
        .into_iter()
        .filter_map(|(_, _, q)| match q {
            Queued::Mail(id) => Some(id),
            _ => None,
        })
        .collect())
}

/// Whether [`queue_due`] has anything to do at `now` (a read: the scheduler asks before it
/// takes the writer, so a round after the day's summaries went costs no write).
pub fn pending(conn: &Connection, now: i64) -> Result<bool, AppError> {
    let schedule = Schedule::load(conn)?;
    let Some(day) = schedule.at.and_then(|at| daily::due(now, &schedule.tz, at)) else { return Ok(false) };
    Ok(facts::daily_missing(conn, &day.to_string())? > 0)
}

/// The day `frontdesk summary send --date D` may make: a valid date that has begun in the
/// shop's time zone (default: today there).
pub fn cli_day(date: Option<&str>, schedule: &Schedule, now: i64) -> Result<Date, AppError> {
    let today = daily::today(now, &schedule.tz);
    let Some(d) = date else { return Ok(today) };
    let day = daily::parse_date(d)?;
    if day > today {
        return Err(AppError::invalid(format!("date: {day} has not begun yet in {} (today there is {today})", schedule.tz_name)));
    }
    Ok(day)
}

// ---------------------------------------------------------------- the template

struct Words {
    subject: &'static str,
    hello: &'static str,
    intro: &'static str,
    rows: [&'static str; 8],
    no_ratings: &'static str,
    ratings: &'static str,
    suggestion: &'static str,
    footer_at: &'static str,
    footer: &'static str,
    s: &'static str,
    min: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            subject: "Your day at {shop}: {day}",
            hello: "Hello {name},",
            intro: "here is your day ({day}) next to the same weekday a week earlier ({before}).",
            rows: [
                "Chats handled",
                "Chats missed",
                "Average first response",
                "Ratings",
                "Tickets opened",
                "Tickets solved",
                "Tickets still open",
                "Busiest hour",
            ],
            no_ratings: "no ratings",
            ratings: "{good} good, {bad} bad",
            suggestion: "Suggestion",
            footer_at: "You get this summary every day at {time} ({tz}). To stop it, untick “Email me a summary of my day” in your profile.",
            footer: "To stop these summaries, untick “Email me a summary of my day” in your profile.",
            s: "s",
            min: "min",
        },
        Lang::Ru => Words {
            subject: "Ваш день в {shop}: {day}",
            hello: "Здравствуйте, {name}!",
            intro: "Вот ваши итоги за {day} рядом с тем же днём неделей раньше ({before}).",
            rows: [
                "Чатов обработано",
                "Чатов пропущено",
                "Средний первый ответ",
                "Оценки",
                "Обращений открыто",
                "Обращений решено",
                "Обращений ещё открыто",
                "Самый загруженный час",
            ],
            no_ratings: "оценок нет",
            ratings: "хороших: {good}, плохих: {bad}",
            suggestion: "Совет",
            footer_at: "Итоги приходят каждый день в {time} ({tz}). Чтобы отключить их, снимите «Присылать мне итоги дня» в профиле.",
            footer: "Чтобы отключить итоги, снимите «Присылать мне итоги дня» в профиле.",
            s: "с",
            min: "мин",
        },
        Lang::Uk => Words {
            subject: "Ваш день у {shop}: {day}",
            hello: "Вітаємо, {name}!",
            intro: "Ось ваші підсумки за {day} поруч із тим самим днем тижнем раніше ({before}).",
            rows: [
                "Чатів оброблено",
                "Чатів пропущено",
                "Середня перша відповідь",
                "Оцінки",
                "Звернень відкрито",
                "Звернень вирішено",
                "Звернень ще відкрито",
                "Найзавантаженіша година",
            ],
            no_ratings: "оцінок немає",
            ratings: "добрих: {good}, поганих: {bad}",
            suggestion: "Порада",
            footer_at: "Підсумки надходять щодня о {time} ({tz}). Щоб вимкнути їх, зніміть «Надсилати мені підсумки дня» у профілі.",
            footer: "Щоб вимкнути підсумки, зніміть «Надсилати мені підсумки дня» у профілі.",
            s: "с",
            min: "хв",
        },
        Lang::Pl => Words {
            subject: "Twój dzień w {shop}: {day}",
            hello: "Dzień dobry, {name}!",
            intro: "Oto Twoje podsumowanie dnia {day} obok tego samego dnia tygodnia tydzień wcześniej ({before}).",
            rows: [
                "Obsłużone czaty",
                "Pominięte czaty",
                "Średni czas pierwszej odpowiedzi",
                "Oceny",
                "Otwarte zgłoszenia",
                "Rozwiązane zgłoszenia",
                "Nadal otwarte zgłoszenia",
                "Najbardziej pracowita godzina",
            ],
            no_ratings: "brak ocen",
            ratings: "dobre: {good}, złe: {bad}",
            suggestion: "Sugestia",
            footer_at: "To podsumowanie przychodzi codziennie o {time} ({tz}). Aby je wyłączyć, odznacz „Wysyłaj mi podsumowanie mojego dnia” w profilu.",
            footer: "Aby wyłączyć podsumowania, odznacz „Wysyłaj mi podsumowanie mojego dnia” w profilu.",
            s: "s",
            min: "min",
        },
    }
}

fn fill(template: &str, pairs: &[(&str, String)]) -> String {
    let mut s = template.to_string();
    for (k, v) in pairs {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// `45 s`, `2 min 5 s`.
pub fn duration(lang: Lang, secs: i64) -> String {
    let w = words(lang);
    if secs < 60 { format!("{secs} {}", w.s) } else { format!("{} {} {} {}", secs / 60, w.min, secs % 60, w.s) }
}

/// The suggestion in words.
pub fn suggestion_text(lang: Lang, s: &Suggestion) -> String {
    match (lang, s) {
        (Lang::En, Suggestion::MissedChats { missed, total }) => format!(
            "{missed} of {total} chats that reached you ended without an answer. When you step away, set your status to “Not accepting chats” so new chats go to a colleague."
        ),
        (Lang::Ru, Suggestion::MissedChats { missed, total }) => format!(
            "{missed} из {total} чатов, поступивших вам, закончились без ответа. Когда отходите, ставьте статус «Не принимаю чаты», чтобы новые чаты шли коллегам."
        ),
        (Lang::Uk, Suggestion::MissedChats { missed, total }) => format!(
            "{missed} з {total} чатів, що надійшли вам, завершилися без відповіді. Коли відходите, ставте статус «Не приймаю чати», щоб нові чати йшли колегам."
        ),
        (Lang::Pl, Suggestion::MissedChats { missed, total }) => format!(
            "{missed} z {total} czatów, które do Ciebie trafiły, zakończyło się bez odpowiedzi. Gdy odchodzisz od biurka, ustaw status „Nie przyjmuję czatów”, aby nowe czaty trafiały do innych."
        ),
        (_, Suggestion::SlowFirstResponse { avg_s }) => {
            let d = duration(lang, *avg_s);
            match lang {
                Lang::En => format!(
                    "Your first answer took {d} on average. Aim for under a minute: a short greeting from a canned response (#shortcut) tells the visitor you are there while you look things up."
                ),
                Lang::Ru => format!(
                    "Первый ответ в среднем занимал {d}. Старайтесь уложиться в минуту: короткое приветствие из шаблона (#ярлык) покажет посетителю, что вы на связи, пока вы ищете ответ."
                ),
                Lang::Uk => format!(
                    "Перша відповідь у середньому займала {d}. Намагайтеся вкластися в хвилину: коротке вітання з шаблону (#ярлик) покаже відвідувачу, що ви на зв'язку, поки шукаєте відповідь."
                ),
                Lang::Pl => format!(
                    "Pierwsza odpowiedź zajmowała średnio {d}. Postaraj się zmieścić w minucie: krótkie powitanie z gotowej odpowiedzi (#skrót) pokaże odwiedzającemu, że jesteś, zanim znajdziesz odpowiedź."
                ),
            }
        }
        (Lang::En, Suggestion::BadRatings { bad }) => {
            format!("{bad} chats were rated bad. Read them again tomorrow morning and see what the visitor was missing.")
        }
        (Lang::Ru, Suggestion::BadRatings { bad }) => {
            format!("Чатов с плохой оценкой: {bad}. Перечитайте их завтра утром и посмотрите, чего не хватило посетителю.")
        }
        (Lang::Uk, Suggestion::BadRatings { bad }) => {
            format!("Чатів із поганою оцінкою: {bad}. Перечитайте їх завтра вранці й подивіться, чого бракувало відвідувачу.")
        }
        (Lang::Pl, Suggestion::BadRatings { bad }) => {
            format!("Czatów ocenionych źle: {bad}. Przeczytaj je jutro rano jeszcze raz i zobacz, czego zabrakło odwiedzającemu.")
        }
        (Lang::En, Suggestion::Backlog { open, solved }) => {
            format!("{open} tickets are still open and {solved} were solved that day. Start tomorrow with the oldest open ticket.")
        }
        (Lang::Ru, Suggestion::Backlog { open, solved }) => {
            format!("Открытых обращений: {open}, решено за день: {solved}. Начните завтра с самого старого открытого обращения.")
        }
        (Lang::Uk, Suggestion::Backlog { open, solved }) => {
            format!("Відкритих звернень: {open}, вирішено за день: {solved}. Почніть завтра з найстарішого відкритого звернення.")
        }
        (Lang::Pl, Suggestion::Backlog { open, solved }) => {
            format!("Otwartych zgłoszeń: {open}, rozwiązanych tego dnia: {solved}. Zacznij jutro od najstarszego otwartego zgłoszenia.")
        }
        (Lang::En, Suggestion::MoreMissedThanLastWeek { missed, before }) => {
            format!("{missed} chats were missed, {before} a week earlier. Check that your status is “Not accepting chats” during breaks.")
        }
        (Lang::Ru, Suggestion::MoreMissedThanLastWeek { missed, before }) => format!(
            "Пропущено чатов: {missed}, неделей раньше: {before}. Проверьте, что на время перерывов стоит статус «Не принимаю чаты»."
        ),
        (Lang::Uk, Suggestion::MoreMissedThanLastWeek { missed, before }) => {
            format!("Пропущено чатів: {missed}, тижнем раніше: {before}. Перевірте, що на час перерв стоїть статус «Не приймаю чати».")
        }
        (Lang::Pl, Suggestion::MoreMissedThanLastWeek { missed, before }) => format!(
            "Pominiętych czatów: {missed}, tydzień wcześniej: {before}. Sprawdź, czy w przerwach masz status „Nie przyjmuję czatów”."
        ),
        (Lang::En, Suggestion::KeepGoing { handled, solved }) => {
            format!("Nothing to fix today: {handled} chats handled and {solved} tickets solved. Keep it up.")
        }
        (Lang::Ru, Suggestion::KeepGoing { handled, solved }) => {
            format!("Сегодня исправлять нечего: чатов обработано — {handled}, обращений решено — {solved}. Так держать.")
        }
        (Lang::Uk, Suggestion::KeepGoing { handled, solved }) => {
            format!("Сьогодні виправляти нічого: чатів оброблено — {handled}, звернень вирішено — {solved}. Так тримати.")
        }
        (Lang::Pl, Suggestion::KeepGoing { handled, solved }) => {
            format!("Dziś nie ma czego poprawiać: obsłużone czaty: {handled}, rozwiązane zgłoszenia: {solved}. Tak trzymaj.")
        }
    }
}

/// The eight rows: (label, the day, a week earlier). "Still open" is a count at the time of
/// the summary, so it has no value a week earlier.
fn rows(lang: Lang, f: &Figures, b: &Figures) -> Vec<(&'static str, String, String)> {
    let w = words(lang);
    let dash = || "—".to_string();
    let avg = |f: &Figures| f.first_response_avg_s.map(|s| duration(lang, s)).unwrap_or_else(dash);
    let ratings = |f: &Figures| match f.ratings {
        None => w.no_ratings.to_string(),
        Some((good, bad)) => fill(w.ratings, &[("good", good.to_string()), ("bad", bad.to_string())]),
    };
    let hour = |f: &Figures| f.busiest_hour.map(|(h, _)| format!("{h:02}:00–{:02}:00", (h + 1) % 24)).unwrap_or_else(dash);
    vec![
        (w.rows[0], f.chats_handled.to_string(), b.chats_handled.to_string()),
        (w.rows[1], f.chats_missed.to_string(), b.chats_missed.to_string()),
        (w.rows[2], avg(f), avg(b)),
        (w.rows[3], ratings(f), ratings(b)),
        (w.rows[4], f.tickets_opened.to_string(), b.tickets_opened.to_string()),
        (w.rows[5], f.tickets_solved.to_string(), b.tickets_solved.to_string()),
        (w.rows[6], f.tickets_open.to_string(), dash()),
        (w.rows[7], hour(f), hour(b)),
    ]
}

#[allow(clippy::too_many_arguments)]
pub fn render(
    lang: Lang,
    shop: &str,
    name: &str,
    day: Date,
    before: Date,
    f: &Figures,
    b: &Figures,
    s: &Suggestion,
    schedule: &Schedule,
) -> Rendered {
    let w = words(lang);
    let (day, before) = (day.to_string(), before.to_string());
    let subject = fill(w.subject, &[("shop", shop.to_string()), ("day", day.clone())]);
    let hello = fill(w.hello, &[("name", name.to_string())]);
    let intro = fill(w.intro, &[("day", day.clone()), ("before", before.clone())]);
    let advice = suggestion_text(lang, s);
    let footer = match schedule.time_text() {
        Some(t) => fill(w.footer_at, &[("time", t), ("tz", schedule.tz_name.clone())]),
        None => w.footer.to_string(),
    };
    let rows = rows(lang, f, b);
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let mut text = format!("{hello}\n{intro}\n\n{:width$}  {day:>12}  {before:>12}\n", "");
    let mut html_rows = String::new();
    for (label, today, earlier) in &rows {
        text.push_str(&format!("{label:width$}  {today:>12}  {earlier:>12}\n"));
        html_rows.push_str(&format!(
            "<tr><th scope=\"row\" style=\"text-align:left;font-weight:normal;padding:4px 16px 4px 0\">{}</th>\
             <td style=\"text-align:right;font-weight:600;padding:4px 16px\">{}</td>\
             <td style=\"text-align:right;color:#656d76;padding:4px 0 4px 16px\">{}</td></tr>\n",
            escape(label),
            escape(today),
            escape(earlier)
        ));
    }
    text.push_str(&format!("\n{}: {advice}\n\n-- \n{footer}\n", w.suggestion));
    let inner = format!(
        "<p>{}</p>\n<p>{}</p>\n<table style=\"border-collapse:collapse\">\n<thead><tr><th></th>\
         <th style=\"text-align:right;padding:4px 16px\">{}</th><th style=\"text-align:right;color:#656d76;padding:4px 0 4px 16px\">{}</th></tr></thead>\n\
         <tbody>\n{html_rows}</tbody></table>\n<p><strong>{}:</strong> {}</p>",
        escape(&hello),
        escape(&intro),
        escape(&day),
        escape(&before),
        escape(w.suggestion),
        escape(&advice)
    );
    Rendered { subject, text, html: super::templates::page(lang, &inner, &footer) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_every_language_with_the_same_figures_in_both_parts() {
        let schedule = Schedule { at: daily::parse_time("18:30").ok(), tz: TimeZone::UTC, tz_name: "Europe/Warsaw".into() };
        let f = Figures {
            chats_handled: 7,
            chats_missed: 2,
            first_response_avg_s: Some(125),
            ratings: None,
            tickets_opened: 3,
            tickets_solved: 4,
            tickets_open: 11,
            busiest_hour: Some((23, 5)),
            ticket_replies: 6,
        };
        let b = Figures { chats_handled: 5, ..Default::default() };
        let day = daily::parse_date("2026-11-27").unwrap();
        for lang in [Lang::En, Lang::Ru, Lang::Uk, Lang::Pl] {
            let s = daily::suggestion(&f, &b);
            let r = render(lang, "Shop <b>", "Ann <x>", day, daily::week_before(day), &f, &b, &s, &schedule);
            for part in [&r.text, &r.html] {
                for want in ["2026-11-27", "2026-11-20", "23:00–00:00", "18:30", "Europe/Warsaw", &duration(lang, 125)] {
                    assert!(part.contains(want), "{lang:?} lacks {want}: {part}");
                }
            }
            assert!(r.subject.contains("Shop <b>") && r.html.contains("Ann &lt;x&gt;") && !r.html.contains("Ann <x>"));
            assert!(r.text.contains(words(lang).no_ratings) && r.html.contains(words(lang).no_ratings));
            assert!(r.text.contains(&suggestion_text(lang, &s)));
            assert!(r.html.contains(&format!("lang=\"{}\"", lang.code())));
        }
        assert_eq!(duration(Lang::En, 59), "59 s");
        assert_eq!(duration(Lang::Uk, 125), "2 хв 5 с");
        // Every suggestion has words in every language.
        let all = [
            Suggestion::MissedChats { missed: 1, total: 2 },
            Suggestion::SlowFirstResponse { avg_s: 70 },
            Suggestion::BadRatings { bad: 1 },
            Suggestion::Backlog { open: 5, solved: 1 },
            Suggestion::MoreMissedThanLastWeek { missed: 2, before: 1 },
            Suggestion::KeepGoing { handled: 3, solved: 1 },
        ];
        for lang in [Lang::En, Lang::Ru, Lang::Uk, Lang::Pl] {
            let texts: std::collections::HashSet<String> = all.iter().map(|s| suggestion_text(lang, s)).collect();
            assert_eq!(texts.len(), all.len());
        }
    }

    #[test]
    fn the_cli_day_is_a_real_date_that_has_begun() {
        let schedule = Schedule { at: None, tz: TimeZone::get("Pacific/Auckland").unwrap(), tz_name: "Pacific/Auckland".into() };
        // 2026-11-27 12:00 UTC is already 2026-11-28 in Auckland.
        let now = "2026-11-27T12:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
        assert_eq!(cli_day(None, &schedule, now).unwrap().to_string(), "2026-11-28");
        assert_eq!(cli_day(Some("2026-11-28"), &schedule, now).unwrap().to_string(), "2026-11-28");
        let e = cli_day(Some("2026-11-29"), &schedule, now).unwrap_err();
        assert!(e.message.contains("has not begun"), "{}", e.message);
        assert!(cli_day(Some("2026-11-31"), &schedule, now).unwrap_err().message.contains("YYYY-MM-DD"));
    }
}
