//! One template per kind of outgoing mail, in the recipient's language (en, ru, uk, pl).
//! Each returns the subject (where the kind decides it) with a text and an HTML body built
//! from the same pieces, so the two parts always say the same thing.

/// A recipient's language; anything else falls back to English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
    Uk,
    Pl,
}

impl Lang {
    /// `ru`, `ru-RU`, `uk_UA`, `PL` … → the language; None for the rest.
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        let base = s.split(['-', '_']).next().unwrap_or("");
        match base {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            "uk" | "ua" => Some(Lang::Uk),
            "pl" => Some(Lang::Pl),
            _ => None,
        }
    }

    pub fn or_en(s: Option<&str>) -> Lang {
        s.and_then(Lang::parse).unwrap_or(Lang::En)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Uk => "uk",
            Lang::Pl => "pl",
        }
    }
}

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Plain text as HTML paragraphs that keep the line breaks.
fn text_html(s: &str) -> String {
    format!("<div style=\"white-space:pre-wrap\">{}</div>", escape(s).replace('\n', "<br>\n"))
}

pub fn page(lang: Lang, inner: &str, footer: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:-apple-system,Segoe UI,Roboto,sans-serif;font-size:15px;line-height:1.5;color:#1f2328\">\n\
         {inner}\n<hr style=\"border:none;border-top:1px solid #d0d7de;margin:24px 0 8px\">\
         <p style=\"color:#656d76;font-size:12px\">{}</p>\n</body></html>\n",
        lang.code(),
        escape(footer)
    )
}

fn button(url: &str, label: &str) -> String {
    format!(
        "<p><a href=\"{u}\" style=\"display:inline-block;padding:10px 18px;background:#0969da;color:#fff;border-radius:6px;text-decoration:none\">{l}</a></p>\
         <p style=\"color:#656d76;font-size:13px\">{u}</p>",
        u = escape(url),
        l = escape(label)
    )
}

/// A reply to a ticket (also the answer to an offline message when `offline` is true): the
/// agent's words, then a line saying how to answer.
pub fn ticket_reply(lang: Lang, number: i64, body: &str, offline: bool) -> (String, String) {
    let footer = match lang {
        Lang::En => format!("Ticket #{number}. Simply reply to this email to add to it."),
        Lang::Ru => format!("Обращение #{number}. Чтобы дополнить его, просто ответьте на это письмо."),
        Lang::Uk => format!("Звернення #{number}. Щоб доповнити його, просто дайте відповідь на цей лист."),
        Lang::Pl => format!("Zgłoszenie #{number}. Aby je uzupełnić, po prostu odpowiedz na tę wiadomość."),
    };
    let intro = offline.then_some(match lang {
        Lang::En => "Thank you for your message. Here is our answer:",
        Lang::Ru => "Спасибо за ваше сообщение. Вот наш ответ:",
        Lang::Uk => "Дякуємо за ваше повідомлення. Ось наша відповідь:",
        Lang::Pl => "Dziękujemy za wiadomość. Oto nasza odpowiedź:",
    });
    let text = match intro {
        Some(i) => format!("{i}\n\n{body}\n\n-- \n{footer}\n"),
        None => format!("{body}\n\n-- \n{footer}\n"),
    };
    let inner = match intro {
        Some(i) => format!("<p>{}</p>\n{}", escape(i), text_html(body)),
        None => text_html(body),
    };
    (text, page(lang, &inner, &footer))
}

/// The subject of a ticket made from a chat: the visitor's first words after "Chat", or the
/// chat's number when they wrote none (a file only).
pub fn chat_ticket_subject(lang: Lang, conversation: i64, first_words: Option<&str>) -> String {
    let chat = match lang {
        Lang::En => "Chat",
        Lang::Ru | Lang::Uk => "Чат",
        Lang::Pl => "Czat",
    };
    match first_words.map(str::trim).filter(|w| !w.is_empty()) {
        Some(words) => format!("{chat}: {words}"),
        None => format!("{chat} #{conversation}"),
    }
}

/// An anonymous visitor as the shop's staff and mail call them ("Visitor #12").
pub fn visitor_label(lang: Lang, id: i64) -> String {
    match lang {
        Lang::En => format!("Visitor #{id}"),
        Lang::Ru => format!("Посетитель №{id}"),
        Lang::Uk => format!("Відвідувач №{id}"),
        Lang::Pl => format!("Odwiedzający nr {id}"),
    }
}

/// The subject of a message left in the widget without a first line to name it.
pub fn website_message_subject(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Message from the website",
        Lang::Ru => "Сообщение с сайта",
        Lang::Uk => "Повідомлення із сайту",
        Lang::Pl => "Wiadomość ze strony",
    }
}

/// One line of a chat transcript.
pub struct Line<'a> {
    pub at: &'a str,
    pub who: &'a str,
    pub body: &'a str,
}

pub fn transcript(lang: Lang, shop: &str, started: &str, lines: &[Line]) -> Rendered {
    let subject = match lang {
        Lang::En => format!("Your chat with {shop} ({started})"),
        Lang::Ru => format!("Ваш чат с {shop} ({started})"),
        Lang::Uk => format!("Ваш чат з {shop} ({started})"),
        Lang::Pl => format!("Twój czat z {shop} ({started})"),
    };
    let intro = match lang {
        Lang::En => "Here is the transcript of your chat, as you asked.",
        Lang::Ru => "Вот запись вашего чата.",
        Lang::Uk => "Ось запис вашого чату.",
        Lang::Pl => "Oto zapis Twojego czatu.",
    };
    let footer = match lang {
        Lang::En => "You receive this because a transcript was requested for this address.",
        Lang::Ru => "Вы получили это письмо, потому что для этого адреса была запрошена запись чата.",
        Lang::Uk => "Ви отримали цей лист, бо для цієї адреси було запитано запис чату.",
        Lang::Pl => "Otrzymujesz tę wiadomość, ponieważ dla tego adresu zamówiono zapis czatu.",
    };
    let mut text = format!("{intro}\n\n");
    let mut rows = String::new();
    for l in lines {
        text.push_str(&format!("[{}] {}: {}\n", l.at, l.who, l.body));
        rows.push_str(&format!(
            "<tr><td style=\"color:#656d76;padding:2px 8px 2px 0;vertical-align:top;white-space:nowrap\">{}</td>\
             <td style=\"font-weight:600;padding:2px 8px 2px 0;vertical-align:top;white-space:nowrap\">{}</td>\
             <td style=\"padding:2px 0;white-space:pre-wrap\">{}</td></tr>\n",
            escape(l.at),
            escape(l.who),
            escape(l.body)
        ));
    }
    text.push_str(&format!("\n-- \n{footer}\n"));
    let inner = format!("<p>{}</p>\n<table style=\"border-collapse:collapse\">\n{rows}</table>", escape(intro));
    Rendered { subject, text, html: page(lang, &inner, footer) }
}

/// An invitation to join the console, with the link that sets the first password.
pub fn invitation(lang: Lang, name: &str, inviter: &str, link: &str, days: i64) -> Rendered {
    let (subject, hello, body, cta, footer) = match lang {
        Lang::En => (
            "You are invited to the support console".to_string(),
            format!("Hello {name},"),
            format!("{inviter} invited you to answer customers in the support console. Choose your password to sign in:"),
            "Set my password",
            format!("The link works once and expires in {days} days. If you did not expect this, ignore this email."),
        ),
        Lang::Ru => (
            "Приглашение в консоль поддержки".to_string(),
            format!("Здравствуйте, {name}!"),
            format!("{inviter} приглашает вас отвечать клиентам в консоли поддержки. Задайте пароль, чтобы войти:"),
            "Задать пароль",
            format!("Ссылка действует один раз и истекает через {days} дн. Если вы не ждали этого письма, просто проигнорируйте его."),
        ),
        Lang::Uk => (
            "Запрошення до консолі підтримки".to_string(),
            format!("Вітаємо, {name}!"),
            format!("{inviter} запрошує вас відповідати клієнтам у консолі підтримки. Задайте пароль, щоб увійти:"),
            "Задати пароль",
            format!("Посилання діє один раз і спливає через {days} дн. Якщо ви не чекали цього листа, просто проігноруйте його."),
        ),
        Lang::Pl => (
            "Zaproszenie do konsoli obsługi klienta".to_string(),
            format!("Dzień dobry, {name}!"),
            format!("{inviter} zaprasza Cię do odpowiadania klientom w konsoli. Ustaw hasło, aby się zalogować:"),
            "Ustaw hasło",
            format!("Link działa jeden raz i wygasa za {days} dni. Jeśli nie spodziewasz się tej wiadomości, zignoruj ją."),
        ),
    };
    let text = format!("{hello}\n\n{body}\n\n{link}\n\n-- \n{footer}\n");
    let inner = format!("<p>{}</p>\n<p>{}</p>\n{}", escape(&hello), escape(&body), button(link, cta));
    Rendered { subject, text, html: page(lang, &inner, &footer) }
}

/// A password reset link.
pub fn password_reset(lang: Lang, name: &str, link: &str, minutes: i64) -> Rendered {
    let (subject, hello, body, cta, footer) = match lang {
        Lang::En => (
            "Reset your password".to_string(),
            format!("Hello {name},"),
            "Someone (hopefully you) asked to reset the password of your support console account. Choose a new one here:".to_string(),
            "Choose a new password",
            format!(
                "The link works once and expires in {minutes} minutes. If you did not ask for it, ignore this email: your password stays as it is."
            ),
        ),
        Lang::Ru => (
            "Сброс пароля".to_string(),
            format!("Здравствуйте, {name}!"),
            "Кто-то (надеемся, вы) запросил сброс пароля вашей учётной записи в консоли поддержки. Задайте новый пароль:".to_string(),
            "Задать новый пароль",
            format!(
                "Ссылка действует один раз и истекает через {minutes} мин. Если вы не запрашивали сброс, проигнорируйте письмо: пароль останется прежним."
            ),
        ),
        Lang::Uk => (
            "Скидання пароля".to_string(),
            format!("Вітаємо, {name}!"),
            "Хтось (сподіваємося, ви) попросив скинути пароль вашого облікового запису в консолі підтримки. Задайте новий пароль:"
                .to_string(),
            "Задати новий пароль",
            format!(
                "Посилання діє один раз і спливає через {minutes} хв. Якщо ви не просили скидання, проігноруйте лист: пароль залишиться тим самим."
            ),
        ),
        Lang::Pl => (
            "Resetowanie hasła".to_string(),
            format!("Dzień dobry, {name}!"),
            "Ktoś (mamy nadzieję, że Ty) poprosił o zresetowanie hasła do konta w konsoli obsługi klienta. Ustaw nowe hasło:".to_string(),
            "Ustaw nowe hasło",
            format!(
                "Link działa jeden raz i wygasa za {minutes} minut. Jeśli nie prosiłeś o reset, zignoruj tę wiadomość: hasło się nie zmieni."
            ),
        ),
    };
    let text = format!("{hello}\n\n{body}\n\n{link}\n\n-- \n{footer}\n");
    let inner = format!("<p>{}</p>\n<p>{}</p>\n{}", escape(&hello), escape(&body), button(link, cta));
    Rendered { subject, text, html: page(lang, &inner, &footer) }
}

/// The console's "send a test mail".
pub fn test_mail(lang: Lang, server: &str) -> Rendered {
    let (subject, body) = match lang {
        Lang::En => ("Test mail from your support desk", format!("This test mail was sent through {server}. Outgoing mail works.")),
        Lang::Ru => {
            ("Тестовое письмо от службы поддержки", format!("Это тестовое письмо отправлено через {server}. Исходящая почта работает."))
        }
        Lang::Uk => ("Тестовий лист від служби підтримки", format!("Цей тестовий лист надіслано через {server}. Вихідна пошта працює.")),
        Lang::Pl => (
            "Wiadomość testowa z działu obsługi",
            format!("Ta wiadomość testowa została wysłana przez {server}. Poczta wychodząca działa."),
        ),
    };
    Rendered {
        subject: subject.to_string(),
        text: format!("{body}\n"),
        html: page(lang, &format!("<p>{}</p>", escape(&body)), "frontdesk"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_from_a_chat_is_named_in_the_customers_language() {
        assert_eq!(chat_ticket_subject(Lang::Ru, 7, Some("Где мой заказ?")), "Чат: Где мой заказ?");
        assert_eq!(chat_ticket_subject(Lang::Pl, 7, Some("  ")), "Czat #7", "blank words: the chat's number");
        assert_eq!(chat_ticket_subject(Lang::En, 7, None), "Chat #7");
        assert_eq!(visitor_label(Lang::Ru, 12), "Посетитель №12");
        assert_eq!(website_message_subject(Lang::Uk), "Повідомлення із сайту");
    }

    #[test]
    fn languages_parse_with_regions_and_fall_back_to_english() {
        assert_eq!(Lang::parse("ru-RU"), Some(Lang::Ru));
        assert_eq!(Lang::parse("uk_UA"), Some(Lang::Uk));
        assert_eq!(Lang::parse("PL"), Some(Lang::Pl));
        assert_eq!(Lang::or_en(Some("de")), Lang::En);
        assert_eq!(Lang::or_en(None), Lang::En);
    }

    #[test]
    fn every_kind_renders_in_every_language_with_escaped_html() {
        for lang in [Lang::En, Lang::Ru, Lang::Uk, Lang::Pl] {
            let (text, html) = ticket_reply(lang, 1042, "<b>hi</b>\nsecond", true);
            assert!(text.contains("<b>hi</b>") && text.contains("#1042"));
            assert!(html.contains("&lt;b&gt;hi&lt;/b&gt;") && !html.contains("<b>hi"), "{html}");
            assert!(html.contains(&format!("lang=\"{}\"", lang.code())));
            let r = invitation(lang, "Ann <x>", "Bob", "https://d.example/reset?token=abc&x=1", 7);
            assert!(r.text.contains("https://d.example/reset?token=abc&x=1"));
            assert!(r.html.contains("token=abc&amp;x=1") && r.html.contains("Ann &lt;x&gt;"));
            let r = password_reset(lang, "Ann", "https://d.example/reset?token=abc", 60);
            assert!(r.text.contains("60"));
            let r = transcript(lang, "Shop", "2026-01-01", &[Line { at: "10:00", who: "Ann", body: "<script>" }]);
            assert!(r.text.contains("Ann: <script>") && r.html.contains("&lt;script&gt;"));
        }
        assert_ne!(invitation(Lang::Ru, "a", "b", "l", 7).subject, invitation(Lang::En, "a", "b", "l", 7).subject);
    }
}
