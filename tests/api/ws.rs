//! A small WebSocket test client speaking the frontdesk protocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::Message;

use crate::helpers::Deadline;

pub type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Ws {
    pub stream: Stream,
}

/// What ended a socket, as the client saw it.
#[derive(Debug, PartialEq)]
pub enum Ended {
    Closed(u16),
    Dropped,
}

impl Ws {
    /// Connect to `base` (http://…) + `path`, sending `origin` and an optional cookie.
    pub async fn connect(base: &str, path: &str, origin: &str, cookie: Option<&str>) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let url = format!("{}{}", base.replacen("http", "ws", 1), path);
        let mut req = url.into_client_request()?;
        req.headers_mut().insert("origin", HeaderValue::from_str(origin).unwrap());
        if let Some(c) = cookie {
            req.headers_mut().insert("cookie", HeaderValue::from_str(c).unwrap());
        }
        let (stream, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Ws { stream })
    }

    pub async fn send(&mut self, v: Value) {
        self.stream.send(Message::Text(v.to_string().into())).await.expect("send");
    }

    pub async fn send_raw(&mut self, m: Message) {
        self.stream.send(m).await.expect("send raw");
    }

    /// Next JSON frame (5 s at most, however many pings come first); Err with how the socket ended.
    pub async fn next(&mut self) -> Result<Value, Ended> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let m = tokio::time::timeout_at(deadline, self.stream.next()).await.expect("a JSON frame within 5 s");
            match m {
                Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str()).expect("server sends JSON")),
                Some(Ok(Message::Close(frame))) => return Err(Ended::Closed(frame.map(|f| u16::from(f.code)).unwrap_or(1005))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(Ended::Dropped),
            }
        }
    }

    pub async fn recv(&mut self) -> Value {
        self.next().await.expect("socket open")
    }

    /// Skip frames until one of type `t`.
    pub async fn recv_type(&mut self, t: &str) -> Value {
        let deadline = Deadline::secs(30, format!("a {t:?} frame"));
        loop {
            deadline.check();
            let v = self.recv().await;
            if v["type"] == t {
                return v;
            }
        }
    }

    /// Frames until `pong`: what the server sent in answer to everything before the ping.
    pub async fn until_pong(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping"})).await;
        let deadline = Deadline::secs(10, "a pong");
        let mut out = Vec::new();
        loop {
            deadline.check();
            let f = self.recv().await;
            if f["type"] == "pong" {
                return out;
            }
            out.push(f);
        }
    }

    /// Wait for the socket to end, skipping frames.
    pub async fn ended(&mut self) -> Ended {
        let deadline = Deadline::secs(30, "the socket to end");
        loop {
            deadline.check();
            if let Err(e) = self.next().await {
                return e;
            }
        }
    }

    /// Cut the connection abruptly (no close handshake), like a network drop.
    pub fn cut(self) {
        drop(self.stream);
    }
}

pub async fn visitor(base: &str, token: Option<&str>, resume: Option<(i64, i64)>) -> (Ws, Value) {
    let mut ws = Ws::connect(base, "/ws/visitor", base, None).await.expect("visitor socket");
    let mut hello = json!({"type": "hello", "v": 1, "page": {"url": "https://shop.example/products/red-shoes", "title": "Red shoes", "referrer": "https://www.google.com/search?q=red+shoes"}, "tz": "Europe/Warsaw", "lang": "pl"});
    if let Some(t) = token {
        hello["token"] = t.into();
    }
    if let Some((c, s)) = resume {
        hello["resume"] = json!({"conversation": c, "last_seq": s});
    }
    ws.send(hello).await;
    let welcome = ws.recv_type("welcome").await;
    (ws, welcome)
}

pub async fn agent(base: &str, cookie: &str) -> (Ws, Value) {
    let mut ws = Ws::connect(base, "/ws/agent", base, Some(cookie)).await.expect("agent socket");
    ws.send(json!({"type": "hello", "v": 1})).await;
    let welcome = ws.recv_type("welcome").await;
    (ws, welcome)
}
