//! The binary itself: CLI commands against a running `frontdesk serve` process.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::Deadline;

const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");

fn frontdesk(data_dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data_dir).args(args).env_remove("FRONTDESK_CONFIG");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn frontdesk");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub struct Server {
    pub child: Child,
    pub url: String,
    stderr: mpsc::Receiver<String>,
}

impl Server {
    pub fn start(data_dir: &Path) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir"])
            .arg(data_dir)
            // Test clients send far faster than people type.
            .env("FRONTDESK_VISITOR_MESSAGE_RATE", "100000/1s")
            .env("FRONTDESK_VISITOR_MESSAGE_RATE_IP", "100000/1s")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Listening on ") {
                    let _ = tx.send(url.trim_end_matches('/').to_string());
                }
            }
        });
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (etx, erx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let _ = etx.send(line);
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(30)).expect("server printed its address");
        Server { child, url, stderr: erx }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// SIGTERM, then the exit status and everything it logged.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        let log: Vec<String> = self.stderr.try_iter().collect();
        (status, log.join("\n"))
    }
}

impl Server {
    /// SIGKILL: no shutdown code runs, as in a power cut of the process.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn browser(server: &Server) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("origin", server.url.parse().unwrap());
    reqwest::Client::builder().cookie_store(true).default_headers(h).build().unwrap()
}

/// Chats start only while an agent accepts them (SPEC W6): add one with the CLI (which works
/// beside the running server) and log in, which restores the default status, accepting. Her
/// chat limit is 0, so chats wait in the queue and transcripts hold only the visitor's lines.
async fn accepting_agent(data: &Path, server: &Server) -> reqwest::Client {
    let args = ["agent", "add", "--email", "ann@shop.example", "--name", "Ann", "--role", "agent", "--chat-limit", "0", "--password-stdin"];
    let out = frontdesk(data, &args, Some("a long password\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, client) = login(server, "ann@shop.example", "a long password").await;
    assert_eq!(status, StatusCode::OK);
    client
}

async fn login(server: &Server, email: &str, password: &str) -> (StatusCode, reqwest::Client) {
    let c = browser(server);
    let r = c.post(server.url("/api/v1/auth/login")).json(&json!({"email": email, "password": password})).send().await.unwrap();
    (r.status(), c)
}

#[test]
fn bad_flags_and_values_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: &[&[&str]] = &[
        &["serve", "--nope"],
        &["serve", "--listen"],
        &["agent", "add", "--email", "a@b.co"],
        &["agent", "add", "--email", "a@b.co", "--name", "A", "--role", "god"],
        &["agent", "add", "--email", "a@b.co", "--name", "A", "--role", "agent", "--chat-limit", "1000"],
        &["agent", "add", "--email", "not-an-email", "--name", "A", "--role", "agent"],
        &["agent", "disable", "nobody@shop.example"],
        &["agent", "passwd", "nobody@shop.example"],
        &["token", "create", "--name", "x", "--scope", "root"],
        &["--log-format", "xml", "migrate"],
        &["serve", "--listen", "not-an-address"],
        &["serve", "--public-url", "ftp://x"],
        &["frobnicate"],
    ];
    for args in cases {
        let out = frontdesk(d, args, None);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line, got {err:?}");
        assert!(err.starts_with("frontdesk: "), "{args:?}: {err}");
    }
    // A short password on stdin is refused before anything is stored.
    let out = frontdesk(d, &["agent", "add", "--email", "a@b.co", "--name", "A", "--role", "agent", "--password-stdin"], Some("short\n"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = frontdesk(d, &["agent", "list", "--json"], None);
    assert_eq!(text(&out.stdout).trim(), "[]");
    // Env values are checked too, naming the key and where it came from.
    let out = Command::new(BIN).args(["config", "check"]).env("FRONTDESK_SESSION_IDLE", "forever").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("session_idle (from env FRONTDESK_SESSION_IDLE)"), "{}", text(&out.stderr));
}

#[test]
fn config_check_shows_layers_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("frontdesk.toml");
    std::fs::write(&toml, "listen = \"127.0.0.1:9999\"\nbackup_keep = 3\n").unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t\n").unwrap();
    let out = Command::new(BIN)
        .args(["config", "check", "--json", "--config"])
        .arg(&toml)
        .env("FRONTDESK_LISTEN", "127.0.0.1:7777")
        .env("FRONTDESK_SECRET_KEY_FILE", &secret)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["keys"]["listen"]["value"], "127.0.0.1:7777");
    assert_eq!(v["keys"]["listen"]["source"], "env FRONTDESK_LISTEN");
    assert_eq!(v["keys"]["backup_keep"]["value"], "3");
    assert!(v["keys"]["backup_keep"]["source"].as_str().unwrap().starts_with("file "));
    assert_eq!(v["keys"]["secret_key"]["value"], "********");
    assert!(!text(&out.stdout).contains("s3cr3t"));
}

#[tokio::test]
async fn cli_agents_work_against_a_running_server_and_disable_ends_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let out = frontdesk(
        dir.path(),
        &["agent", "add", "--email", "Ann@Shop.example", "--name", "Ann", "--role", "agent", "--password-stdin"],
        Some("a long password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("created agent #1 Ann@Shop.example (agent)"));
    let out = frontdesk(dir.path(), &["agent", "add", "--email", "ann@shop.example", "--name", "Dup", "--role", "agent"], None);
    assert_eq!(out.status.code(), Some(2), "duplicate email");

    let (status, client) = login(&server, "ann@shop.example", "a long password").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(client.get(server.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::OK);

    let out = frontdesk(dir.path(), &["agent", "disable", "ann@shop.example"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The session ended with the command: the very next request is refused.
    assert_eq!(client.get(server.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Disabled: the same 401 as a wrong password, even with the right one.
    assert_eq!(login(&server, "ann@shop.example", "a long password").await.0, StatusCode::UNAUTHORIZED);

    let out = frontdesk(dir.path(), &["agent", "enable", "ann@shop.example"], None);
    assert!(out.status.success());
    let out = frontdesk(dir.path(), &["agent", "passwd", "ann@shop.example"], None);
    let stdout = text(&out.stdout);
    let generated = stdout.lines().find_map(|l| l.strip_prefix("password: ")).expect("generated password printed");
    assert_eq!(login(&server, "ann@shop.example", generated).await.0, StatusCode::OK);
    assert_eq!(login(&server, "ann@shop.example", "a long password").await.0, StatusCode::UNAUTHORIZED);

    let listed: Value = serde_json::from_slice(&frontdesk(dir.path(), &["agent", "list", "--json"], None).stdout).unwrap();
    assert_eq!(listed[0]["email"], "Ann@Shop.example");
    assert_eq!(listed[0]["disabled"], false);

    // A token made by the CLI works against the server at once.
    let out = frontdesk(dir.path(), &["token", "create", "--name", "ci", "--scope", "admin"], None);
    let token = text(&out.stdout).trim().to_string();
    assert!(token.starts_with("fdt_"));
    let r = reqwest::Client::new().get(server.url("/api/v1/agents")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, log) = server.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {log}");
    assert!(log.contains("stopped cleanly"), "{log}");
}

fn departments_in(db: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c.prepare("SELECT name FROM departments ORDER BY name").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[tokio::test]
async fn backup_under_writes_is_consistent_and_restore_brings_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    frontdesk(
        &data,
        &["agent", "add", "--email", "root@shop.example", "--name", "Root", "--role", "admin", "--password-stdin"],
        Some("a long password\n"),
    );
    let (_, client) = login(&server, "root@shop.example", "a long password").await;

    // Continuous writes while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (client, url, stop) = (client.clone(), server.url("/api/v1/departments"), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u32;
            let deadline = Deadline::secs(120, "the test to stop the department writer");
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                deadline.check_progress(|| format!("{n} written"));
                let r = client.post(&url).json(&json!({"name": format!("dept-{n:05}")})).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                n += 1;
            }
            n
        })
    };
    let deadline = Deadline::secs(60, "50 departments before the backup");
    while departments_in(&data.join("frontdesk.db")).len() < 50 {
        deadline.check();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backup: PathBuf = dir.path().join("backup.db");
    let out = tokio::task::spawn_blocking({
        let (data, backup) = (data.clone(), backup.clone());
        move || frontdesk(&data, &["backup", backup.to_str().unwrap()], None)
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Let more writes land after the backup, so restore visibly drops them.
    let at_backup = departments_in(&backup).len();
    let deadline = Deadline::secs(60, "20 more departments after the backup");
    while departments_in(&data.join("frontdesk.db")).len() < at_backup + 20 {
        deadline.check();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written as usize > at_backup);

    let check = rusqlite::Connection::open(&backup).unwrap();
    let integrity: String = check.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    drop(check);
    let expected = departments_in(&backup);
    assert!(expected.len() >= 50);
    // The backup is a prefix of the writes: consistent, no gaps.
    for (i, name) in expected.iter().enumerate() {
        assert_eq!(name, &format!("dept-{i:05}"));
    }

    // Refuses to overwrite, refuses to restore under a running server.
    let out = frontdesk(&data, &["backup", backup.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let out = frontdesk(&data, &["restore", backup.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("refusing to restore"), "{}", text(&out.stderr));

    let (status, _) = server.terminate();
    assert!(status.success());
    // A damaged file is refused before anything is touched.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![7u8; 8192]).unwrap();
    let out = frontdesk(&data, &["restore", junk.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(departments_in(&data.join("frontdesk.db")).len(), written as usize);

    let out = frontdesk(&data, &["restore", backup.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = Server::start(&data);
    let (status, client) = login(&server, "root@shop.example", "a long password").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Value = client.get(server.url("/api/v1/departments")).send().await.unwrap().json().await.unwrap();
    let mut names: Vec<String> = listed["items"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    assert_eq!(names, expected, "the server shows exactly the backed-up data");
    let audit: Value = client.get(server.url("/api/v1/audit?limit=1")).send().await.unwrap().json().await.unwrap();
    assert_eq!(audit["items"][0]["action"], "database.restore");
    // The replaced database was kept.
    let kept = std::fs::read_dir(data.join("backups"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("pre-restore-"));
    assert!(kept);
}

#[test]
fn migrate_is_idempotent_and_snapshots_only_when_needed() {
    let dir = tempfile::tempdir().unwrap();
    let out = frontdesk(dir.path(), &["migrate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("applied V1__foundation"), "{}", text(&out.stdout));
    let out = frontdesk(dir.path(), &["migrate"], None);
    assert!(text(&out.stdout).contains("up to date"));
    assert!(!dir.path().join("backups").exists(), "no snapshot when nothing changes");
}

/// SPEC S1 across a crash: the server is SIGKILLed mid-stream and restarted; every message it
/// acknowledged before dying is still there, once, with the same sequence number.
#[tokio::test]
async fn sigkill_mid_stream_loses_no_acknowledged_message() {
    use crate::ws;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    accepting_agent(&data, &server).await;
    let (mut v, welcome) = ws::visitor(&server.url, None, None).await;
    let token = welcome["token"].as_str().unwrap().to_string();
    const N: usize = 600;
    let mut acked: std::collections::BTreeMap<usize, i64> = Default::default();
    let mut conv = 0;
    // Fire 300 messages without waiting, read some acks, then kill the server mid-stream.
    for i in 0..300 {
        v.send(json!({"type": "message", "client_id": format!("m{i}"), "body": format!("message {i}")})).await;
    }
    let deadline = Deadline::secs(60, "120 acks before the kill");
    while acked.len() < 120 {
        deadline.check_progress(|| format!("{} acked", acked.len()));
        let f = v.recv().await;
        if f["type"] == "ack" {
            acked.insert(f["client_id"].as_str().unwrap()[1..].parse().unwrap(), f["seq"].as_i64().unwrap());
            conv = f["conversation"].as_i64().unwrap();
        }
    }
    server.kill();
    let before_crash = acked.clone();
    let server = Server::start(&data);
    let (mut v, welcome) = ws::visitor(&server.url, Some(&token), Some((conv, 0))).await;
    assert_eq!(welcome["conversation"]["id"], conv, "same conversation after restart");
    for i in 0..N {
        if !acked.contains_key(&i) {
            v.send(json!({"type": "message", "client_id": format!("m{i}"), "body": format!("message {i}")})).await;
        }
    }
    let deadline = Deadline::secs(60, format!("all {N} acks after the restart"));
    while acked.len() < N {
        deadline.check_progress(|| format!("{} acked", acked.len()));
        let f = v.recv().await;
        if f["type"] == "ack" {
            acked.insert(f["client_id"].as_str().unwrap()[1..].parse().unwrap(), f["seq"].as_i64().unwrap());
        }
    }
    for (i, seq) in &before_crash {
        assert_eq!(acked[i], *seq, "message {i} kept its seq across the crash");
    }
    let (status, _) = server.terminate();
    assert!(status.success());
    let db = rusqlite::Connection::open(data.join("frontdesk.db")).unwrap();
    let mut st = db.prepare("SELECT seq, client_id FROM messages WHERE conversation_id = ?1 ORDER BY seq").unwrap();
    let rows: Vec<(i64, String)> = st.query_map([conv], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows.len(), N, "every message stored exactly once");
    let mut seen = std::collections::HashSet::new();
    for (n, (seq, cid)) in rows.iter().enumerate() {
        assert_eq!(*seq, n as i64 + 1, "dense sequence");
        assert!(seen.insert(cid.clone()), "{cid} stored twice");
        let i: usize = cid[1..].parse().unwrap();
        assert_eq!(acked[&i], *seq);
    }
}

/// Full-text indexing runs in batches after the commit (SPEC P2). A message committed just
/// before a crash, before the indexer reached it, is on disk without index rows and behind the
/// watermark: the next start indexes it before serving, so search still finds it.
#[tokio::test]
async fn a_message_committed_before_a_crash_is_indexed_at_the_next_start() {
    use crate::ws;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    accepting_agent(&data, &server).await;
    let (mut v, _) = ws::visitor(&server.url, None, None).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "hello"})).await;
    let deadline = Deadline::secs(30, "the ack");
    let conv = loop {
        deadline.check();
        let f = v.recv().await;
        if f["type"] == "ack" {
            break f["conversation"].as_i64().unwrap();
        }
    };
    server.kill();
    // What a SIGKILL between a message's commit and its indexing leaves on disk: the row,
    // no index entry, the watermark behind it.
    let db = rusqlite::Connection::open(data.join("frontdesk.db")).unwrap();
    let hits = |db: &rusqlite::Connection| -> i64 {
        db.query_row("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'zanzibarquartz'", [], |r| r.get(0)).unwrap()
    };
    db.execute(
        "INSERT INTO messages (conversation_id, seq, author_kind, client_id, body, created_at)
         SELECT id, last_seq + 1, 'visitor', 'm2', 'the zanzibarquartz order', 0 FROM conversations WHERE id = ?1",
        [conv],
    )
    .unwrap();
    db.execute("UPDATE conversations SET last_seq = last_seq + 1, status = 'ended' WHERE id = ?1", [conv]).unwrap();
    assert_eq!(hits(&db), 0, "not indexed before the restart");
    drop(db);
    let server = Server::start(&data);
    let db = rusqlite::Connection::open(data.join("frontdesk.db")).unwrap();
    assert_eq!(hits(&db), 1, "indexed during start, before the first request");
    let (pending, upto): (i64, i64) = db
        .query_row("SELECT (SELECT max(id) FROM messages), (SELECT upto FROM fts_progress WHERE name = 'messages')", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(pending, upto, "the watermark caught up");
    db.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)", []).unwrap();
    // And the archive's search finds it (an admin sees every ended chat).
    let args = ["agent", "add", "--email", "root@shop.example", "--name", "Root", "--role", "admin", "--password-stdin"];
    let out = frontdesk(&data, &args, Some("a long password\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, admin) = login(&server, "root@shop.example", "a long password").await;
    assert_eq!(status, StatusCode::OK);
    let found: Value = admin.get(server.url("/api/v1/conversations?status=ended&q=zanzibar")).send().await.unwrap().json().await.unwrap();
    let ids: Vec<i64> = found["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![conv]);
}

/// SPEC S3: on SIGTERM the server closes sockets with 1012 (clients reconnect and resume),
/// finishes, and exits cleanly.
#[tokio::test]
async fn sigterm_closes_sockets_with_1012_and_exits_cleanly() {
    use crate::ws::{self, Ended};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    accepting_agent(dir.path(), &server).await;
    let (mut v, _) = ws::visitor(&server.url, None, None).await;
    v.send(json!({"type": "message", "client_id": "m1", "body": "still there?"})).await;
    v.recv_type("ack").await;
    let pid = server.child.id() as i32;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(v.ended().await, Ended::Closed(1012));
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
    let db = rusqlite::Connection::open(dir.path().join("frontdesk.db")).unwrap();
    let mode: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let wal = dir.path().join("frontdesk.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0, "WAL checkpointed on shutdown");
}
