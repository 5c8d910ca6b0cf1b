//! The tag vocabulary shared by chats and tickets (SPEC C9, T6): one normalization, built-in
//! tags, and the "exclude from reports" mark ("non-target").

pub mod http;
pub mod store;

use serde::Serialize;

use crate::error::AppError;

/// The built-in tag for chats and tickets analytics leave out (spam, wrong number, …). Marked
/// `exclude_from_reports` in `tag_flags`; reports read the `report_excluded_conversations` and
/// `report_excluded_tickets` views.
pub const NON_TARGET: &str = "non-target";

/// At most this many tags on one chat or ticket.
pub const MAX_TAGS: usize = 20;

/// Tags as stored: trimmed, lowercase, 1–40 characters without control characters, no
/// duplicates, at most [`MAX_TAGS`].
pub fn clean(tags: &[String]) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > 40 || t.chars().any(|c| c.is_control() || c == '\u{1f}') {
            return Err(AppError::invalid("tags: 1 to 40 characters each"));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(AppError::invalid("tags: at most 20"));
    }
    Ok(out)
}

/// One word of the vocabulary as the console offers it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct VocabularyTag {
    pub tag: String,
    /// Offered even when nothing carries it yet.
    pub builtin: bool,
    /// Chats and tickets with this tag are left out of reports.
    pub exclude_from_reports: bool,
    /// How many chats / tickets the viewer may see carry it.
    pub chats: i64,
    pub tickets: i64,
}

/// Merge flagged tags, ticket tag counts and chat tag counts into one list: built-in tags
/// first, then by total use, then by name.
pub fn merge(flags: Vec<(String, bool, bool)>, tickets: Vec<(String, i64)>, chats: Vec<(String, i64)>) -> Vec<VocabularyTag> {
    let mut out: Vec<VocabularyTag> = flags
        .into_iter()
        .map(|(tag, builtin, exclude_from_reports)| VocabularyTag { tag, builtin, exclude_from_reports, chats: 0, tickets: 0 })
        .collect();
    let mut entry = |tag: String| -> usize {
        match out.iter().position(|v| v.tag == tag) {
            Some(i) => i,
            None => {
                out.push(VocabularyTag { tag, builtin: false, exclude_from_reports: false, chats: 0, tickets: 0 });
                out.len() - 1
            }
        }
    };
    let mut counts: Vec<(usize, i64, bool)> = Vec::new();
    for (tag, n) in tickets {
        counts.push((entry(tag), n, false));
    }
    for (tag, n) in chats {
        counts.push((entry(tag), n, true));
    }
    for (i, n, chat) in counts {
        if chat {
            out[i].chats += n;
        } else {
            out[i].tickets += n;
        }
    }
    out.sort_by(|a, b| b.builtin.cmp(&a.builtin).then((b.chats + b.tickets).cmp(&(a.chats + a.tickets))).then(a.tag.cmp(&b.tag)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalized() {
        assert_eq!(clean(&["VIP".into(), "vip".into(), " billing ".into()]).unwrap(), ["vip", "billing"]);
        assert!(clean(&["".into()]).is_err());
        assert!(clean(&["a\u{1f}b".into()]).is_err());
        assert!(clean(&["x".repeat(41)]).is_err());
        assert!(clean(&(0..21).map(|i| i.to_string()).collect::<Vec<_>>()).is_err());
        assert_eq!(clean(&(0..25).map(|_| "same".to_string()).collect::<Vec<_>>()).unwrap(), ["same"]);
    }

    #[test]
    fn vocabulary_merges_tickets_and_chats() {
        let v = merge(
            vec![(NON_TARGET.into(), true, true)],
            vec![("billing".into(), 3), ("vip".into(), 1)],
            vec![("vip".into(), 5), ("non-target".into(), 2)],
        );
        let got: Vec<(&str, i64, i64, bool)> = v.iter().map(|t| (t.tag.as_str(), t.tickets, t.chats, t.exclude_from_reports)).collect();
        assert_eq!(got, [("non-target", 0, 2, true), ("vip", 1, 5, false), ("billing", 3, 0, false)]);
    }
}
