//! SQLite FTS5 helpers shared by the chat archive and ticket search.

/// Turn user text into an FTS5 query of quoted terms (prefix match on the last one), so
/// operators typed by users are searched as words instead of failing as syntax.
pub fn query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|t| t.chars().filter(|c| c.is_alphanumeric() || *c == '@' || *c == '.' || *c == '-' || *c == '_').collect::<String>())
        .filter(|t| !t.is_empty())
        .take(12)
        .map(|t| format!("\"{t}\""))
        .collect();
    if terms.is_empty() {
        return None;
    }
    let mut q = terms.join(" ");
    q.push('*');
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_queries_are_quoted() {
        let cases = [
            ("red shoes", Some("\"red\" \"shoes\"*")),
            ("  ", None),
            ("NEAR(a b) OR \"x", Some("\"NEARa\" \"b\" \"OR\" \"x\"*")),
            ("ann@shop.example", Some("\"ann@shop.example\"*")),
        ];
        for (input, want) in cases {
            assert_eq!(query(input).as_deref(), want, "{input}");
        }
    }
}
