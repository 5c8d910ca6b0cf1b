//! Load generator of benches/run.sh (SPEC §10, P1–P4). Speaks frontdesk's socket protocol
//! (docs/protocol.md) and the bare relay's (benches/relay), checks correctness while it
//! measures, and prints one JSON object per result line on stdout.
//!
//! ```text
//! loadgen pairs --target frontdesk|relay --url http://127.0.0.1:P --pairs 500 --rates 1000,2000,5000
//!         [--seconds 5] [--agents a@x:pw,b@x:pw] [--pid SERVER_PID] [--stop-p99-ms 15]
//!         [--repeat 3] [--metrics 1]   (runs per rate, median p99; commit stalls from /metrics)
//! loadgen pairs --target xmpp --url http://127.0.0.1:P --pairs 500 --rates …   (ejabberd: users a{p}, v{p})
//! loadgen idle  --target frontdesk|relay|tcp|xmpp --url … --n 20000 [--hold 3] [--pid SERVER_PID]
//! loadgen storm --target frontdesk|relay --url … --n 10000 [--agents a@x:pw] [--pid SERVER_PID]
//! ```
//!
//! XMPP users (`a{p}`, `v{p}`, `idle{i}`, password `pw-{user}`) are expected to exist
//! (benches/run.py imports them in bulk with `ejabberdctl import_piefxis`); `--register 1`
//! registers each one in-band first instead. Every socket set-up is retried a few times and
//! bounded in time (`--connect-timeout`, 30 s), and every wait has a deadline.
//!
//! `pairs`: every pair is one visitor socket and its chat on an agent socket. Each visitor
//! sends `rate / pairs` messages a second (open loop: a late send goes out at once, it does
//! not lower the rate). A message body carries its pair, its number and its send time, so the
//! receiving side measures send→receive, and the ack measures send→ack. Per pair, numbers must
//! arrive exactly once and in order; a run with any loss, duplicate, reordering or error frame
//! is reported with `"verdict":"FAILED"` whatever its latency.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest as _, http::HeaderValue};

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Frontdesk,
    Relay,
    Tcp,
    /// ejabberd over XMPP-over-WebSocket (RFC 7395): `/ws`, in-band registration, chat messages.
    Xmpp,
}

struct Args {
    cmd: String,
    target: Target,
    base: String,
    server: SocketAddr,
    pairs: usize,
    rates: Vec<u64>,
    seconds: f64,
    agents: Vec<(String, String)>,
    n: usize,
    hold: f64,
    pid: Option<u32>,
    sources: u8,
    /// Stop climbing the ladder after a rate whose send→receive p99 is above this.
    stop_p99_ms: f64,
    /// Runs per rate: the rung reports the run with the median p99 (a lossy run always fails
    /// the rung), so one storage hiccup in a 5-second run does not decide it alone.
    repeat: usize,
    /// Read the server's `/metrics` commit-time histogram around each run (frontdesk).
    metrics: bool,
    /// XMPP: register each user in-band before signing in.
    register: bool,
    connect_timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().ok_or("usage: loadgen pairs|idle|storm --url URL …")?;
    let mut kv = HashMap::new();
    while let Some(k) = it.next() {
        let k = k.strip_prefix("--").ok_or_else(|| format!("unexpected argument {k}"))?.to_string();
        let v = it.next().ok_or_else(|| format!("--{k} needs a value"))?;
        kv.insert(k, v);
    }
    let get = |k: &str, d: &str| kv.get(k).cloned().unwrap_or_else(|| d.to_string());
    let num = |k: &str, d: &str| get(k, d).parse::<f64>().map_err(|_| format!("--{k} must be a number"));
    let base = get("url", "").trim_end_matches('/').to_string();
    let host = base.strip_prefix("http://").ok_or("--url must be http://HOST:PORT")?;
    let server: SocketAddr = host.parse().map_err(|_| "--url must be http://IP:PORT".to_string())?;
    let target = match get("target", "frontdesk").as_str() {
        "frontdesk" => Target::Frontdesk,
        "relay" => Target::Relay,
        "tcp" => Target::Tcp,
        "xmpp" => Target::Xmpp,
        t => return Err(format!("unknown --target {t}")),
    };
    let rates = get("rates", "1000")
        .split(',')
        .map(|r| r.trim().parse::<u64>().map_err(|_| format!("bad rate {r}")))
        .collect::<Result<Vec<_>, _>>()?;
    let agents = get("agents", "")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.split_once(':').map(|(e, p)| (e.to_string(), p.to_string())).ok_or_else(|| format!("bad agent {s} (EMAIL:PASSWORD)")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Args {
        cmd,
        target,
        base,
        server,
        pairs: num("pairs", "500")? as usize,
        rates,
        seconds: num("seconds", "5")?,
        agents,
        n: num("n", "2000")? as usize,
        hold: num("hold", "3")?,
        pid: kv.get("pid").map(|p| p.parse().map_err(|_| "--pid must be a number".to_string())).transpose()?,
        sources: num("sources", "16")?.clamp(1.0, 250.0) as u8,
        stop_p99_ms: num("stop-p99-ms", "inf")?,
        repeat: (num("repeat", "1")? as usize).clamp(1, 9),
        metrics: num("metrics", "0")? != 0.0,
        register: num("register", "0")? != 0.0,
        connect_timeout: Duration::from_secs_f64(num("connect-timeout", "30")?.max(0.1)),
    })
}

/// Microseconds since the run started (the clock both sides of a measurement share).
fn now_us(t0: Instant) -> u64 {
    t0.elapsed().as_micros() as u64
}

/// CPU seconds (user + system) the server process has used so far.
fn cpu_s(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// A TCP connection from one of several loopback source addresses (so 20,000 sockets and a
/// reconnect storm never run out of ephemeral ports).
async fn tcp(server: SocketAddr, i: usize, sources: u8) -> std::io::Result<tokio::net::TcpStream> {
    let sock = TcpSocket::new_v4()?;
    let src = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + (i % sources as usize) as u8));
    sock.bind(SocketAddr::new(src, 0))?;
    sock.set_nodelay(true)?;
    sock.connect(server).await
}

/// A WebSocket to `path`, connect and handshake bounded by `--connect-timeout`.
async fn ws(a: &Args, path: &str, i: usize, cookie: Option<&str>) -> Result<Ws, String> {
    tokio::time::timeout(a.connect_timeout, ws_inner(a, path, i, cookie))
        .await
        .map_err(|_| format!("connect {path}: no handshake within {:?}", a.connect_timeout))?
}

async fn ws_inner(a: &Args, path: &str, i: usize, cookie: Option<&str>) -> Result<Ws, String> {
    let stream = tcp(a.server, i, a.sources).await.map_err(|e| format!("connect: {e}"))?;
    let mut req = format!("ws://{}{path}", a.server).into_client_request().map_err(|e| e.to_string())?;
    req.headers_mut().insert("Origin", HeaderValue::from_str(&a.base).unwrap());
    if a.target == Target::Xmpp {
        req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("xmpp"));
    }
    if let Some(c) = cookie {
        req.headers_mut().insert("Cookie", HeaderValue::from_str(c).unwrap());
    }
    let (ws, _) = tokio_tungstenite::client_async(req, stream).await.map_err(|e| format!("handshake {path}: {e}"))?;
    Ok(ws)
}

async fn send(ws: &mut Ws, v: Value) -> Result<(), String> {
    ws.send(Message::text(v.to_string())).await.map_err(|e| format!("send: {e}"))
}

/// The next JSON frame (pings and binary frames skipped).
async fn recv(ws: &mut Ws) -> Result<Value, String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Err(_) => return Err("no frame for 30 s".into()),
            Ok(None) => return Err("socket closed".into()),
            Ok(Some(Err(e))) => return Err(format!("socket: {e}")),
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).map_err(|e| format!("bad json: {e}")),
            Ok(Some(Ok(Message::Close(c)))) => return Err(format!("closed by server: {c:?}")),
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Signs an agent in, switches them to accepting and returns the session cookie.
async fn agent_cookie(a: &Args, email: &str, password: &str) -> Result<String, String> {
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/api/v1/auth/login", a.base))
        .header("Origin", &a.base)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("login {email}: {}", r.status()));
    }
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|c| c.starts_with("frontdesk_session="))
        .ok_or("no session cookie")?
        .to_string();
    let r = http
        .put(format!("{}/api/v1/me/status", a.base))
        .header("Origin", &a.base)
        .header("Cookie", &cookie)
        .json(&json!({"status": "accepting"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("status {email}: {}", r.status()));
    }
    Ok(cookie)
}

/// What the receiving side has seen, shared by the reader tasks.
#[derive(Default)]
struct Seen {
    next: Vec<AtomicU64>,
    received: AtomicU64,
    acked: AtomicU64,
    dup: AtomicU64,
    reordered: AtomicU64,
    errors: AtomicU64,
    first_error: Mutex<Option<String>>,
    recv_lat: Mutex<Vec<u32>>,
    ack_lat: Mutex<Vec<u32>>,
}

impl Seen {
    fn new(pairs: usize) -> Self {
        Seen { next: (0..pairs).map(|_| AtomicU64::new(0)).collect(), ..Default::default() }
    }
    /// A body `p{pair}:{k}:{sent_us}` arrived on the receiving side.
    fn arrived(&self, body: &str, now: u64) {
        let mut parts = body.split(':');
        let (Some(p), Some(k), Some(t)) = (parts.next(), parts.next(), parts.next()) else { return };
        let (Ok(p), Ok(k), Ok(t)) = (p.trim_start_matches('p').parse::<usize>(), k.parse::<u64>(), t.parse::<u64>()) else { return };
        let Some(next) = self.next.get(p) else { return };
        let expected = next.load(Relaxed);
        if k < expected {
            self.dup.fetch_add(1, Relaxed);
            return;
        }
        if k > expected {
            self.reordered.fetch_add(1, Relaxed);
        }
        next.store(k + 1, Relaxed);
        self.received.fetch_add(1, Relaxed);
        self.recv_lat.lock().unwrap().push(now.saturating_sub(t).min(u32::MAX as u64) as u32);
    }
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Relaxed);
        self.first_error.lock().unwrap().get_or_insert(what);
    }
}

fn pct(v: &mut [u32], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i] as f64 / 1000.0
}

/// The receiving end of every pair: agent sockets (frontdesk) or the relay's `a` sockets.
async fn spawn_receivers(a: &Arc<Args>, seen: &Arc<Seen>, t0: Instant) -> Result<(), String> {
    match a.target {
        Target::Frontdesk => {
            if a.agents.is_empty() {
                return Err("--agents EMAIL:PASSWORD,… is required for frontdesk".into());
            }
            for (i, (email, pw)) in a.agents.iter().enumerate() {
                let cookie = agent_cookie(a, email, pw).await?;
                let mut w = ws(a, "/ws/agent", i, Some(&cookie)).await?;
                send(&mut w, json!({"type": "hello", "v": 1})).await?;
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut last_ping = Instant::now();
                    loop {
                        if last_ping.elapsed() > Duration::from_secs(20) {
                            let _ = send(&mut w, json!({"type": "ping"})).await;
                            last_ping = Instant::now();
                        }
                        let f = match recv(&mut w).await {
                            Ok(f) => f,
                            Err(e) if e.starts_with("no frame") => continue,
                            Err(e) => return seen.error(format!("agent socket: {e}")),
                        };
                        match f["type"].as_str() {
                            Some("message") if f["author"]["kind"] == "visitor" => {
                                seen.arrived(f["body"].as_str().unwrap_or(""), now_us(t0))
                            }
                            Some("error") => seen.error(format!("agent got {f}")),
                            _ => {}
                        }
                    }
                });
            }
        }
        Target::Relay | Target::Tcp | Target::Xmpp => {
            for p in 0..a.pairs {
                let mut w = ws(a, &format!("/ws?pair={p}&role=a"), p, None).await?;
                let seen = seen.clone();
                tokio::spawn(async move {
                    loop {
                        match recv(&mut w).await {
                            Ok(f) if f["type"] == "message" => seen.arrived(f["body"].as_str().unwrap_or(""), now_us(t0)),
                            Ok(_) => {}
                            Err(e) if e.starts_with("no frame") => {}
                            Err(e) => return seen.error(format!("receiver: {e}")),
                        }
                    }
                });
            }
        }
    }
    Ok(())
}

async fn pairs(a: Arc<Args>) -> Result<(), String> {
    let t0 = Instant::now();
    let seen = Arc::new(Seen::new(a.pairs));
    spawn_receivers(&a, &seen, t0).await?;
    // Visitors: connect, say hello, and start their chat with message 0 (the warm-up).
    let mut senders = Vec::new();
    for p in 0..a.pairs {
        let mut w = match a.target {
            Target::Frontdesk => {
                let mut w = ws(&a, "/ws/visitor", p + 1000, None).await?;
                send(&mut w, json!({"type": "hello", "v": 1})).await?;
                let f = recv(&mut w).await?;
                if f["type"] != "welcome" {
                    return Err(format!("visitor hello: {f}"));
                }
                w
            }
            _ => ws(&a, &format!("/ws?pair={p}&role=v"), p + 1000, None).await?,
        };
        send(&mut w, json!({"type": "message", "client_id": format!("c0-{}", now_us(t0)), "body": format!("p{p}:0:{}", now_us(t0))}))
            .await?;
        let (tx, rx) = w.split();
        let seen2 = seen.clone();
        tokio::spawn(read_acks(rx, seen2, t0));
        senders.push(tx);
    }
    ladder(a, seen, senders, t0, json_message_frames).await
}

fn json_message_frames(p: usize, k: u64, t: u64) -> Vec<String> {
    vec![json!({"type": "message", "client_id": format!("c{k}-{t}"), "body": format!("p{p}:{k}:{t}")}).to_string()]
}

type Sender = futures_util::stream::SplitSink<Ws, Message>;

/// The rate ladder over connected pairs whose message 0 is on its way: waits for every chat to
/// reach its receiver, then runs each rate and prints its line.
async fn ladder(
    a: Arc<Args>,
    seen: Arc<Seen>,
    senders: Vec<Sender>,
    t0: Instant,
    frames: fn(usize, u64, u64) -> Vec<String>,
) -> Result<(), String> {
    wait_for(&seen, a.pairs as u64, Duration::from_secs(60)).await;
    if seen.received.load(Relaxed) < a.pairs as u64 {
        return Err(format!(
            "warm-up: only {} of {} chats reached an agent ({:?})",
            seen.received.load(Relaxed),
            a.pairs,
            seen.first_error.lock().unwrap()
        ));
    }
    let senders: Vec<_> = senders.into_iter().map(|s| Arc::new(tokio::sync::Mutex::new(s))).collect();
    let mut k0 = 1u64;
    for &rate in &a.rates {
        let mut runs = Vec::new();
        for attempt in 0..a.repeat {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let commits0 = commit_histogram(&a).await;
            let (mut line, ok, p99, sent) = one_rate(&a, &seen, &senders, t0, frames, rate, k0).await;
            k0 += sent;
            // Commits slower than 25 / 100 ms during this run: a disk stall, not the server.
            if let (Some(h0), Some(h1)) = (commits0, commit_histogram(&a).await) {
                let over = |i: usize| (h1[3] - h1[i]) - (h0[3] - h0[i]);
                line["commits"] = json!(h1[3] - h0[3]);
                line["commits_over_25ms"] = json!(over(1));
                line["commits_over_100ms"] = json!(over(2));
            }
            runs.push((line, ok, p99));
            if !ok {
                break;
            }
        }
        let p99s: Vec<f64> = runs.iter().map(|r| r.2).collect();
        // A lossy run decides the rung; otherwise the run with the median p99 speaks for it.
        let (mut line, ok, p99) = match runs.iter().position(|r| !r.1) {
            Some(i) => runs.swap_remove(i),
            None => {
                runs.sort_by(|x, y| x.2.total_cmp(&y.2));
                let mid = runs.len() / 2;
                runs.swap_remove(mid)
            }
        };
        // A lossy rate stops the ladder (its latency means nothing); so does one past the p99 bound.
        let stop = if !ok {
            Some("lost, duplicated, reordered or an error")
        } else if p99 > a.stop_p99_ms {
            Some("p99 above the bound")
        } else {
            None
        };
        line["runs_p99_ms"] = json!(p99s);
        line["stopped"] = json!(stop);
        println!("{line}");
        if stop.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// One run at `rate`: every pair sends for `a.seconds`; returns the result line, whether every
/// message arrived once and in order, the send→receive p99 and how many messages each pair sent.
async fn one_rate(
    a: &Args,
    seen: &Arc<Seen>,
    senders: &[Arc<tokio::sync::Mutex<Sender>>],
    t0: Instant,
    frames: fn(usize, u64, u64) -> Vec<String>,
    rate: u64,
    k0: u64,
) -> (serde_json::Value, bool, f64, u64) {
    // Reset the run's counters; order state continues across runs.
    let base_recv = seen.received.load(Relaxed);
    let base_ack = seen.acked.load(Relaxed);
    let (d0, r0, e0) = (seen.dup.load(Relaxed), seen.reordered.load(Relaxed), seen.errors.load(Relaxed));
    seen.recv_lat.lock().unwrap().clear();
    seen.ack_lat.lock().unwrap().clear();
    let per_pair = ((rate as f64 * a.seconds) / a.pairs as f64).round().max(1.0) as u64;
    let interval = Duration::from_secs_f64(a.pairs as f64 / rate as f64);
    let cpu0 = cpu_s(a.pid);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (p, tx) in senders.iter().enumerate() {
        let tx = tx.clone();
        let offset = interval.mul_f64(p as f64 / a.pairs as f64);
        tasks.push(tokio::spawn(async move {
            let mut tx = tx.lock().await;
            for j in 0..per_pair {
                tokio::time::sleep_until((start + offset + interval.mul_f64(j as f64)).into()).await;
                let k = k0 + j;
                let t = now_us(t0);
                for f in frames(p, k, t) {
                    if tx.send(Message::text(f)).await.is_err() {
                        return;
                    }
                }
            }
        }));
    }
    // A server that stops reading stalls the senders: bounded, and the rate fails.
    let send_deadline = tokio::time::Instant::from_std(start + Duration::from_secs_f64(a.seconds * 3.0 + 30.0));
    let mut stalled = false;
    for mut t in tasks {
        if tokio::time::timeout_at(send_deadline, &mut t).await.is_err() {
            stalled = true;
            t.abort();
        }
    }
    if stalled {
        seen.error(format!("senders stalled at {rate} msg/s (server not reading)"));
    }
    let send_s = start.elapsed().as_secs_f64();
    let expected = per_pair * a.pairs as u64;
    wait_for(seen, base_recv + expected, Duration::from_secs(15)).await;
    // Acks may trail the last delivery a little.
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.acked.load(Relaxed) < base_ack + expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu0.zip(cpu_s(a.pid)).map(|(a, b)| (b - a) / wall * 100.0);
    let received = seen.received.load(Relaxed) - base_recv;
    let acked = seen.acked.load(Relaxed) - base_ack;
    let (dup, reo, err) = (seen.dup.load(Relaxed) - d0, seen.reordered.load(Relaxed) - r0, seen.errors.load(Relaxed) - e0);
    let mut rl = seen.recv_lat.lock().unwrap().clone();
    let mut al = seen.ack_lat.lock().unwrap().clone();
    let ok = !stalled && received == expected && acked == expected && dup == 0 && reo == 0 && err == 0;
    let p99 = pct(&mut rl, 0.99);
    let line = json!({
        "scenario": "pairs", "pairs": a.pairs, "rate": rate, "achieved_rate": (expected as f64 / send_s).round(),
        "sent": expected, "received": received, "acked": acked, "lost": expected.saturating_sub(received),
        "duplicates": dup, "reordered": reo, "errors": err, "first_error": seen.first_error.lock().unwrap().clone(),
        "recv_ms": {"p50": pct(&mut rl, 0.5), "p99": p99, "p999": pct(&mut rl, 0.999), "max": pct(&mut rl, 1.0)},
        "ack_ms": {"p50": pct(&mut al, 0.5), "p99": pct(&mut al, 0.99), "max": pct(&mut al, 1.0)},
        "server_cpu_pct": cpu, "verdict": if ok { "ok" } else { "FAILED" },
    });
    (line, ok, p99, per_pair)
}

/// The server's cumulative commit-time buckets (≤ 5 ms, ≤ 25 ms, ≤ 100 ms, all) from
/// `/metrics`, read with a plain HTTP/1.1 GET; None when not asked for or not readable.
async fn commit_histogram(a: &Args) -> Option<[f64; 4]> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if !a.metrics {
        return None;
    }
    let read = async {
        let mut s = tokio::net::TcpStream::connect(a.server).await.ok()?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.ok()?;
        let mut body = String::new();
        s.read_to_string(&mut body).await.ok()?;
        let bucket = |le: &str| -> Option<f64> {
            let key = format!("frontdesk_db_commit_seconds_bucket{{le=\"{le}\"}} ");
            body.lines().find_map(|l| l.strip_prefix(&key)).and_then(|v| v.trim().parse().ok())
        };
        Some([bucket("0.005")?, bucket("0.025")?, bucket("0.1")?, bucket("+Inf")?])
    };
    tokio::time::timeout(Duration::from_secs(5), read).await.ok().flatten()
}

async fn read_acks(mut rx: futures_util::stream::SplitStream<Ws>, seen: Arc<Seen>, t0: Instant) {
    while let Some(m) = rx.next().await {
        let Ok(Message::Text(t)) = m else {
            if m.is_err() {
                seen.error("visitor socket closed".into());
                return;
            }
            continue;
        };
        let Ok(f) = serde_json::from_str::<Value>(&t) else { continue };
        match f["type"].as_str() {
            Some("ack") => {
                seen.acked.fetch_add(1, Relaxed);
                // client_id = c{k}-{sent_us}
                if let Some(sent) = f["client_id"].as_str().and_then(|c| c.rsplit_once('-')).and_then(|(_, t)| t.parse::<u64>().ok()) {
                    seen.ack_lat.lock().unwrap().push(now_us(t0).saturating_sub(sent).min(u32::MAX as u64) as u32);
                }
            }
            Some("error") => seen.error(format!("visitor got {f}")),
            _ => {}
        }
    }
}

async fn wait_for(seen: &Seen, target: u64, limit: Duration) {
    let deadline = Instant::now() + limit;
    while seen.received.load(Relaxed) < target && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An idle socket held open: a WebSocket, or a bare TCP connection (the baseline).
enum Held {
    Ws(Box<Ws>),
    Tcp(tokio::net::TcpStream),
}

/// Opens N idle sockets (64 at a time, each retried and bounded in time) and holds them;
/// prints the server's RSS growth per socket. Every socket is what a real client would hold:
/// a frontdesk visitor after its hello and welcome, an XMPP user signed in with a bound
/// resource and presence, a relay socket, or (the baseline) a TCP connection that sends
/// nothing. A socket the server closed while held counts as failed.
async fn idle(a: Arc<Args>) -> Result<(), String> {
    let before = rss_kib(a.pid);
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..a.n {
        let a = a.clone();
        let permit = sem.clone().acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let r: Result<Held, String> = match a.target {
                Target::Tcp => {
                    retried(|| async {
                        tokio::time::timeout(a.connect_timeout, tcp(a.server, i, a.sources))
                            .await
                            .map_err(|_| "connect: timed out".to_string())?
                            .map(Held::Tcp)
                            .map_err(|e| format!("connect: {e}"))
                    })
                    .await
                }
                Target::Relay => {
                    let path = format!("/ws?pair={}&role=v", i + 1_000_000);
                    retried(|| ws(&a, &path, i, None)).await.map(|w| Held::Ws(Box::new(w)))
                }
                Target::Xmpp => xmpp_login(&a, &format!("idle{i}"), i).await.map(|w| Held::Ws(Box::new(w))),
                Target::Frontdesk => {
                    retried(|| async {
                        let mut w = ws(&a, "/ws/visitor", i, None).await?;
                        send(&mut w, json!({"type": "hello", "v": 1})).await?;
                        let f = recv(&mut w).await?;
                        if f["type"] != "welcome" {
                            return Err(format!("hello: {f}"));
                        }
                        Ok(Held::Ws(Box::new(w)))
                    })
                    .await
                }
            };
            drop(permit);
            r
        }));
    }
    let mut held = Vec::new();
    let mut failed = 0;
    let mut first = None;
    for t in tasks {
        match t.await.map_err(|e| e.to_string())? {
            Ok(h) => held.push(h),
            Err(e) => {
                failed += 1;
                first.get_or_insert(e);
            }
        }
    }
    let opened = start.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs_f64(a.hold)).await;
    let after = rss_kib(a.pid);
    // Still open? None may have been closed by the server while held (e.g. by a request timeout).
    let mut closed = 0;
    for h in &mut held {
        let gone = match h {
            Held::Tcp(s) => match s.try_read(&mut [0u8; 1]) {
                Ok(n) => n == 0,
                Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
            },
            Held::Ws(w) => matches!(w.next().now_or_never(), Some(None | Some(Err(_)) | Some(Ok(Message::Close(_))))),
        };
        closed += gone as usize;
    }
    if closed > 0 {
        first.get_or_insert(format!("{closed} idle sockets closed by the server while held"));
    }
    let failed = failed + closed;
    let per = before.zip(after).map(|(b, a2)| (a2 as f64 - b as f64) / (a.n - failed).max(1) as f64);
    println!(
        "{}",
        json!({"scenario": "idle", "n": a.n, "failed": failed, "first_error": first, "open_s": opened,
               "rss_before_kib": before, "rss_after_kib": after, "kib_per_socket": per,
               "verdict": if failed == 0 { "ok" } else { "FAILED" }})
    );
    drop(held);
    Ok(())
}

/// N visitors each with one stored message drop at once and resume; how long until every one
/// has its message back (nothing lost). Against the relay (no storage, nothing to resume) the
/// same N sockets drop and reconnect, each sending one message and waiting for its ack: the
/// cost of the reconnects alone. Set-ups and resumes are retried like a widget's reconnect
/// (up to 3 attempts; the time counts), and every step is bounded.
async fn storm(a: Arc<Args>) -> Result<(), String> {
    let frontdesk = match a.target {
        Target::Frontdesk => true,
        Target::Relay => false,
        _ => return Err("storm: --target frontdesk or relay".into()),
    };
    for (email, pw) in &a.agents {
        agent_cookie(&a, email, pw).await?;
    }
    // Phase 1: N visitors, one stored message each (chats queue when no agent has a slot).
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..a.n {
        let a = a.clone();
        let permit = sem.clone().acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let r: Result<(String, i64, Ws), String> = retried(|| async {
                if !frontdesk {
                    let w = ws(&a, &format!("/ws?pair={}&role=v", i + 2_000_000), i, None).await?;
                    return Ok((String::new(), 0, w));
                }
                let mut w = ws(&a, "/ws/visitor", i, None).await?;
                send(&mut w, json!({"type": "hello", "v": 1})).await?;
                let f = recv(&mut w).await?;
                let token = f["token"].as_str().ok_or_else(|| format!("hello: {f}"))?.to_string();
                send(&mut w, json!({"type": "message", "client_id": format!("s{i}"), "body": format!("storm {i}")})).await?;
                loop {
                    let f = recv(&mut w).await?;
                    match f["type"].as_str() {
                        Some("ack") => return Ok((token, f["conversation"].as_i64().unwrap_or(0), w)),
                        Some("error") => return Err(format!("message: {f}")),
                        _ => {}
                    }
                }
            })
            .await;
            drop(permit);
            r
        }));
    }
    let mut sessions = Vec::new();
    let mut first = None;
    for t in tasks {
        match t.await.map_err(|e| e.to_string())? {
            Ok(s) => sessions.push(s),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    if sessions.len() < a.n {
        return Err(format!("storm set-up: {} of {} visitors failed: {}", a.n - sessions.len(), a.n, first.unwrap_or_default()));
    }
    // Phase 2: every socket drops at once (no close frame), then all resume together (512
    // connecting at a time).
    let sessions: Vec<(String, i64)> = sessions.into_iter().map(|(t, c, _w)| (t, c)).collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu0 = cpu_s(a.pid);
    let start = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(512));
    let mut tasks = Vec::new();
    for (i, (token, conv)) in sessions.into_iter().enumerate() {
        let a = a.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire_owned().await.unwrap();
            retried(|| async {
                let cid = format!("s{i}");
                let mut w = if frontdesk {
                    let mut w = ws(&a, "/ws/visitor", i, None).await?;
                    send(&mut w, json!({"type": "hello", "v": 1, "token": token, "resume": {"conversation": conv, "last_seq": 0}})).await?;
                    w
                } else {
                    let mut w = ws(&a, &format!("/ws?pair={}&role=v", i + 2_000_000), i, None).await?;
                    send(&mut w, json!({"type": "message", "client_id": cid, "body": "storm"})).await?;
                    w
                };
                loop {
                    let f = recv(&mut w).await?;
                    match f["type"].as_str() {
                        Some("message") if frontdesk && f["client_id"] == cid.as_str() => return Ok((start.elapsed(), w)),
                        Some("ack") if !frontdesk && f["client_id"] == cid.as_str() => return Ok((start.elapsed(), w)),
                        Some("error") => return Err(format!("resume: {f}")),
                        _ => {}
                    }
                }
            })
            .await
        }));
    }
    let mut lat = Vec::new();
    let mut lost = 0;
    let mut first = None;
    let mut keep = Vec::new();
    for t in tasks {
        match t.await.map_err(|e| e.to_string())? {
            Ok((d, w)) => {
                lat.push(d.as_micros() as u32);
                keep.push(w);
            }
            Err(e) => {
                lost += 1;
                first.get_or_insert(e);
            }
        }
    }
    let all_s = start.elapsed().as_secs_f64();
    let cpu = cpu0.zip(cpu_s(a.pid)).map(|(x, y)| (y - x) / all_s * 100.0);
    println!(
        "{}",
        json!({"scenario": "storm", "n": a.n, "all_resumed_s": all_s, "lost": lost, "first_error": first,
               "resume_ms": {"p50": pct(&mut lat, 0.5), "p99": pct(&mut lat, 0.99), "max": pct(&mut lat, 1.0)},
               "server_cpu_pct": cpu, "verdict": if lost == 0 { "ok" } else { "FAILED" }})
    );
    drop(keep);
    Ok(())
}

// ---------------------------------------------------------------- XMPP (ejabberd)

/// The next XMPP stanza (one per WebSocket text frame, RFC 7395).
async fn xrecv(ws: &mut Ws) -> Result<String, String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Err(_) => return Err("no stanza for 30 s".into()),
            Ok(None) => return Err("socket closed".into()),
            Ok(Some(Err(e))) => return Err(format!("socket: {e}")),
            Ok(Some(Ok(Message::Text(t)))) => return Ok(t.to_string()),
            Ok(Some(Ok(Message::Close(c)))) => return Err(format!("closed by server: {c:?}")),
            Ok(Some(Ok(_))) => {}
        }
    }
}

async fn xsend(ws: &mut Ws, s: String) -> Result<(), String> {
    ws.send(Message::text(s)).await.map_err(|e| format!("send: {e}"))
}

/// Waits for a stanza containing `what`; fails on a stream or SASL error.
async fn xexpect(ws: &mut Ws, what: &str) -> Result<String, String> {
    loop {
        let s = xrecv(ws).await?;
        if s.contains(what) {
            return Ok(s);
        }
        if s.contains("<failure") || s.contains("stream:error") || s.contains("type='error'") || s.contains("type=\"error\"") {
            return Err(format!("xmpp: {s}"));
        }
    }
}

const OPEN: &str = r#"<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="localhost" version="1.0"/>"#;

/// Connects, registers `user` in-band (XEP-0077; "conflict" = already there), signs in with
/// SASL PLAIN, binds a resource, turns on stream management (its `<a h=…/>` answers are the
/// acks) and says it is available.
async fn xmpp_login(a: &Args, user: &str, i: usize) -> Result<Ws, String> {
    retried(|| async {
        tokio::time::timeout(a.connect_timeout, xmpp_login_once(a, user, i))
            .await
            .unwrap_or_else(|_| Err(format!("{user}: signed in not within {:?}", a.connect_timeout)))
    })
    .await
}

async fn xmpp_login_once(a: &Args, user: &str, i: usize) -> Result<Ws, String> {
    use base64::Engine as _;
    let mut w = ws(a, "/ws", i, None).await?;
    xsend(&mut w, OPEN.into()).await?;
    xexpect(&mut w, "stream:features").await?;
    if a.register {
        xsend(&mut w, format!("<iq type='set' id='reg' xmlns='jabber:client'><query xmlns='jabber:iq:register'><username>{user}</username><password>pw-{user}</password></query></iq>")).await?;
        let r = xrecv(&mut w).await?;
        if !r.contains("id='reg'") && !r.contains("id=\"reg\"") {
            return Err(format!("register {user}: {r}"));
        }
        if r.contains("error") && !r.contains("conflict") {
            return Err(format!("register {user}: {r}"));
        }
    }
    let plain = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0pw-{user}"));
    xsend(&mut w, format!("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>")).await?;
    xexpect(&mut w, "<success").await?;
    xsend(&mut w, OPEN.into()).await?;
    xexpect(&mut w, "stream:features").await?;
    xsend(
        &mut w,
        "<iq type='set' id='bind' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>"
            .into(),
    )
    .await?;
    xexpect(&mut w, "</jid>").await?;
    xsend(&mut w, "<enable xmlns='urn:xmpp:sm:3'/>".into()).await?;
    xexpect(&mut w, "<enabled").await?;
    xsend(&mut w, "<presence xmlns='jabber:client'/>".into()).await?;
    Ok(w)
}

/// Up to 3 attempts, 250 ms then 500 ms apart: a reset while thousands of sockets open at
/// once is retried, a server that keeps refusing fails with its last error.
async fn retried<T, F, Fut>(mut f: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(250 << (attempt - 1))).await;
        }
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => last = e,
        }
    }
    Err(format!("{last} (3 attempts)"))
}

fn body_of(stanza: &str) -> Option<&str> {
    let i = stanza.find("<body>")? + 6;
    let j = stanza[i..].find("</body>")? + i;
    Some(&stanza[i..j])
}

/// The rate ladder against ejabberd: pair p is user v{p} writing to a{p}; send→ack is the
/// stream-management answer to an `<r/>` sent after each message.
async fn xmpp_pairs(a: Arc<Args>) -> Result<(), String> {
    let t0 = Instant::now();
    let seen = Arc::new(Seen::new(a.pairs));
    for p in 0..a.pairs {
        let mut w = xmpp_login(&a, &format!("a{p}"), p).await?;
        let seen = seen.clone();
        tokio::spawn(async move {
            loop {
                match xrecv(&mut w).await {
                    Ok(s) if s.starts_with("<message") => {
                        if let Some(b) = body_of(&s) {
                            seen.arrived(b, now_us(t0))
                        }
                    }
                    Ok(s) if s.starts_with("<r ") => {
                        let _ = xsend(&mut w, "<a xmlns='urn:xmpp:sm:3' h='0'/>".into()).await;
                    }
                    Ok(_) => {}
                    Err(e) if e.starts_with("no stanza") => {}
                    Err(e) => return seen.error(format!("xmpp receiver: {e}")),
                }
            }
        });
    }
    let mut senders = Vec::new();
    for p in 0..a.pairs {
        let mut w = xmpp_login(&a, &format!("v{p}"), p + 1000).await?;
        xsend(&mut w, xmpp_message(p, 0, now_us(t0))).await?;
        let (tx, rx) = w.split();
        tokio::spawn(xmpp_acks(rx, seen.clone(), t0));
        senders.push(tx);
    }
    ladder(a, seen, senders, t0, xmpp_message_frames).await
}

fn xmpp_message(p: usize, k: u64, t: u64) -> String {
    format!("<message xmlns='jabber:client' to='a{p}@localhost' type='chat'><body>p{p}:{k}:{t}</body></message>")
}

fn xmpp_message_frames(p: usize, k: u64, t: u64) -> Vec<String> {
    vec![xmpp_message(p, k, t), format!("<r xmlns='urn:xmpp:sm:3'/><!--{t}-->")]
}

/// Stream-management answers count as acks; their latency is measured from the send time
/// remembered in order (ejabberd answers in order).
async fn xmpp_acks(mut rx: futures_util::stream::SplitStream<Ws>, seen: Arc<Seen>, t0: Instant) {
    let _ = t0;
    while let Some(m) = rx.next().await {
        match m {
            Ok(Message::Text(t)) if t.starts_with("<a ") => {
                seen.acked.fetch_add(1, Relaxed);
            }
            Ok(Message::Text(t)) if t.contains("error") => seen.error(format!("xmpp sender got {t}")),
            Ok(_) => {}
            Err(_) => return seen.error("xmpp sender socket closed".into()),
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // The workspace builds reqwest on rustls without a provider: one, installed once.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let a = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let r = match a.cmd.as_str() {
        "pairs" if a.target == Target::Xmpp => xmpp_pairs(a).await,
        "pairs" => pairs(a).await,
        "idle" => idle(a).await,
        "storm" => storm(a).await,
        c => Err(format!("unknown command {c} (pairs, idle, storm)")),
    };
    if let Err(e) = r {
        println!("{}", json!({"error": e, "verdict": "FAILED"}));
        std::process::exit(1);
    }
}
