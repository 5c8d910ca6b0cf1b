//! Text that ends up in one line of a mail header or a list: subjects, names. One function for
//! every entry point (the widget's offline form, tickets over the API, chat-to-ticket, contact
//! edits, replies), so no path can carry a CR, LF or other break into a `Subject:` or `To:`
//! (security finding 13: `Re: …\rBcc: everyone@victim.test`).

/// Characters that end or break a line somewhere: every control character (CR, LF, VT, FF,
/// NUL, TAB, DEL, the C1 set with NEL) and the Unicode line and paragraph separators.
pub fn breaks_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `s` as one clean line: line breaks and control characters become spaces, runs of
/// whitespace one space, no space at either end, at most `max_chars` characters.
pub fn single_line(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_mul(4)));
    let mut count = 0;
    let mut pending_space = false;
    for c in s.chars() {
        if breaks_line(c) || c.is_whitespace() {
            pending_space = count > 0;
            continue;
        }
        let need = if pending_space { 2 } else { 1 };
        if count + need > max_chars {
            break;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        out.push(c);
        count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_clean_line() {
        let cases = [
            ("Re: order\rBcc: everyone@victim.test", "Re: order Bcc: everyone@victim.test"),
            ("a\r\n\tb", "a b"),
            ("a\u{b}\u{c}\u{0}\u{7f}\u{85}b", "a b"),
            ("a\u{2028}b\u{2029}c", "a b c"),
            ("  lots   of\u{a0}space  ", "lots of space"),
            ("\r\n\u{0}", ""),
            ("Zoë — 日本", "Zoë — 日本"),
        ];
        for (input, want) in cases {
            assert_eq!(single_line(input, 100), want, "{input:?}");
            assert!(!single_line(input, 100).chars().any(breaks_line));
        }
    }

    #[test]
    fn length_limit_counts_characters_and_never_ends_in_a_space() {
        assert_eq!(single_line("ééééé", 3), "ééé");
        assert_eq!(single_line("ab cd", 3), "ab");
        assert_eq!(single_line("ab cd", 4), "ab c");
        assert_eq!(single_line("abc", 0), "");
    }
}
