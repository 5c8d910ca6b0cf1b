//! frontdesk: live chat, tickets and email support in one binary with one SQLite file.
//!
//! Map of the crate: see `docs/architecture.md`.

pub mod agents;
pub mod audit;
pub mod auth;
pub mod canned;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod contacts;
pub mod db;
pub mod departments;
pub mod error;
pub mod events;
pub mod http;
pub mod inbound;
pub mod jobs;
pub mod mail;
pub mod ratelimit;
pub mod realtime;
pub mod reports;
pub mod routing;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod tickets;

pub use config::Config;
pub use startup::Application;

/// Build and serve until SIGTERM/SIGINT, printing the address and (on an empty database) the
/// one-time setup link on stdout.
pub async fn run(config: Config) -> Result<(), error::AppError> {
    let app = Application::build(config).await?;
    println!("Listening on {}", app.public_url());
    if let Some(link) = app.setup_link() {
        println!("Setup link: {link}");
        println!("Open it in a browser to create the first admin. It works once.");
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let handle = app.handle();
    let hub = app.hub();
    actix_web::rt::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: closing sockets, finishing requests, flushing writes");
        // 1012 "service restart": clients reconnect and resume by sequence number.
        hub.close_all(realtime::protocol::close::RESTART, "server restarting").await;
        handle.stop(true).await;
    });
    app.run_until_stopped().await.map_err(|e| error::AppError::internal(e.to_string()))?;
    tracing::info!("stopped cleanly");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
