//! Source-tree rules checked by walking `src/`, in the spirit of rust-analyzer's `tidy.rs`.
//!
//! SQL lives only in `store.rs` files and in `src/db/` (see docs/architecture.md, "Domain module
//! layout"): handlers, sockets, jobs and rules call named store functions instead.

use std::path::{Path, PathBuf};

/// Calls that run SQL. Anywhere else than a `store.rs` or `src/db/` they mean SQL leaked out.
const SQL_CALLS: &[&str] = &["prepare(", "prepare_cached(", "execute(", "execute_batch(", "query_row(", "query_map("];

/// Files allowed to hold SQL for a while (a move in progress). Empty: keep it so. An entry
/// whose file is clean fails the test, so the list cannot outlive its reason.
const PENDING: &[&str] = &[];

/// Where SQL is allowed: any `store.rs`, and everything under `src/db/`.
fn sql_allowed(path: &str) -> bool {
    path.ends_with("/store.rs") || path.starts_with("src/db/")
}

/// `path:line: text` for every SQL call in `text`, ignoring comment lines.
fn sql_outside_store(path: &str, text: &str) -> Vec<String> {
    if sql_allowed(path) {
        return vec![];
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .filter(|(_, line)| SQL_CALLS.iter().any(|call| line.contains(call)))
        .map(|(i, line)| format!("{path}:{}: {}", i + 1, line.trim()))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn sql_only_in_store_and_db() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    assert!(files.len() > 20, "walked {} files: is this the crate root?", files.len());
    let mut leaks = Vec::new();
    let mut pending_dirty = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(root).expect("under the crate").to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(file).expect("read source");
        let found = sql_outside_store(&rel, &text);
        if PENDING.contains(&rel.as_str()) {
            if !found.is_empty() {
                pending_dirty.push(rel);
            }
            continue;
        }
        leaks.extend(found);
    }
    assert!(leaks.is_empty(), "SQL outside store.rs / src/db/ (move it into the module's store.rs):\n{}", leaks.join("\n"));
    let stale: Vec<_> = PENDING.iter().filter(|p| !pending_dirty.iter().any(|d| d == *p)).collect();
    assert!(stale.is_empty(), "PENDING lists files without SQL any more (or gone): remove {stale:?}");
}

/// The detector must fire, or the test above proves nothing.
#[test]
fn sql_detector_fires() {
    let handler = "fn h(c: &Connection) {\n    // c.execute(\"in a comment\") is fine\n    let n: i64 = c.query_row(\"SELECT 1\", [], |r| r.get(0))?;\n    let st = c.prepare_cached(\"SELECT 2\")?;\n}\n";
    let found = sql_outside_store("src/chat/http.rs", handler);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("src/chat/http.rs:3: "), "{found:?}");
    assert!(found[1].starts_with("src/chat/http.rs:4: "), "{found:?}");
    for call in SQL_CALLS {
        assert_eq!(sql_outside_store("src/jobs.rs", &format!("conn.{call}x)")).len(), 1, "{call}");
    }
    assert!(sql_outside_store("src/chat/store.rs", handler).is_empty());
    assert!(sql_outside_store("src/chat/files/store.rs", handler).is_empty());
    assert!(sql_outside_store("src/db/backup.rs", handler).is_empty());
    assert!(sql_outside_store("src/restore.rs", handler).len() == 2, "only a file named store.rs counts");
}
