//! The upper bound of benches/run.sh: a bare actix-ws relay with no storage.
//!
//! `GET /ws?pair=N&role=v|a` pairs a "visitor" and an "agent" socket. A text frame from either
//! side is parsed as JSON (as frontdesk parses its frames), answered with
//! `{"type":"ack","client_id":…}` and forwarded unchanged to the other side, in memory. Each
//! socket has a bounded queue like frontdesk's hub, so the comparison is about storage and
//! protocol work, not about buffering. Usage: `relay 127.0.0.1:PORT`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt as _;
use tokio::sync::mpsc;

type Tx = mpsc::Sender<String>;
/// A pair's two sides: (visitor, agent).
type Slot = (Option<Tx>, Option<Tx>);

#[derive(Default)]
struct Pairs {
    // pair id → its sides' senders
    slots: Mutex<HashMap<u64, Slot>>,
}

async fn ws(req: HttpRequest, body: web::Payload, pairs: web::Data<Arc<Pairs>>) -> actix_web::Result<HttpResponse> {
    let q = web::Query::<HashMap<String, String>>::from_query(req.query_string()).map_err(actix_web::error::ErrorBadRequest)?;
    let pair: u64 = q.get("pair").and_then(|p| p.parse().ok()).ok_or_else(|| actix_web::error::ErrorBadRequest("pair"))?;
    let visitor = q.get("role").map(String::as_str) == Some("v");
    let (res, mut session, mut stream) = actix_ws::handle(&req, body)?;
    let (tx, mut rx) = mpsc::channel::<String>(256);
    {
        let mut slots = pairs.slots.lock().unwrap();
        let e = slots.entry(pair).or_default();
        if visitor {
            e.0 = Some(tx.clone());
        } else {
            e.1 = Some(tx.clone());
        }
    }
    let pairs = pairs.get_ref().clone();
    actix_web::rt::spawn(async move {
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(text) => if session.text(text).await.is_err() { break },
                    None => break,
                },
                msg = stream.next() => match msg {
                    Some(Ok(actix_ws::Message::Text(text))) => {
                        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
                        if let Some(id) = v.get("client_id").and_then(|c| c.as_str()) {
                            let ack = serde_json::json!({"type": "ack", "client_id": id}).to_string();
                            if session.text(ack).await.is_err() { break }
                        }
                        let peer = {
                            let slots = pairs.slots.lock().unwrap();
                            slots.get(&pair).and_then(|(v, a)| if visitor { a.clone() } else { v.clone() })
                        };
                        // A full queue drops the peer's frame, as frontdesk drops a slow socket.
                        if let Some(peer) = peer { let _ = peer.try_send(text.to_string()); }
                    }
                    Some(Ok(actix_ws::Message::Ping(b))) => { let _ = session.pong(&b).await; }
                    Some(Ok(actix_ws::Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        let mut slots = pairs.slots.lock().unwrap();
        if let Some(e) = slots.get_mut(&pair) {
            if visitor {
                e.0 = None
            } else {
                e.1 = None
            }
            if e.0.is_none() && e.1.is_none() {
                slots.remove(&pair);
            }
        }
    });
    Ok(res)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let pairs = web::Data::new(Arc::new(Pairs::default()));
    let server = HttpServer::new(move || {
        App::new().app_data(pairs.clone()).route("/ws", web::get().to(ws)).route("/healthz", web::get().to(|| async { "ok" }))
    })
    .workers(1)
    .bind(&addr)?;
    for a in server.addrs() {
        println!("listening {a}");
    }
    server.run().await
}
