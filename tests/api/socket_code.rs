//! Socket code builds outgoing frames only from `realtime::protocol::ServerFrame`, so every frame
//! the server sends is declared (and wire-tested) in one place. An untyped `json!` literal in
//! socket code would bypass that; this test refuses it.

use std::path::{Path, PathBuf};

/// Files and directories (scanned recursively) that must not use `json!`.
const SOCKET_CODE: &[&str] = &[
    "src/chat/socket.rs",
    "src/chat/agent_ws.rs",
    "src/chat/visitor_ws.rs",
    "src/chat/team.rs",
    "src/realtime",
    "src/events.rs",
    "src/routing/live.rs",
    "src/teamchat/live.rs",
];

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

#[test]
fn no_json_macro_in_ws_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for p in SOCKET_CODE {
        let path = root.join(p);
        assert!(path.exists(), "{p} moved: update SOCKET_CODE");
        rust_files(&path, &mut files);
    }
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            // Comments may name the macro; code may not.
            let code = line.split("//").next().unwrap_or("");
            if code.contains("json!") {
                found.push(format!("{}:{}: {}", f.strip_prefix(root).unwrap().display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "outgoing frames are `ServerFrame` variants (src/realtime/protocol.rs), not json! literals:\n{}",
        found.join("\n")
    );
}
