//! Building and running the server. Tests call [`Application::build`] with port 0 and a
//! temporary data dir, exactly as `frontdesk serve` does with the real config.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Compress, DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpServer, web};
use tracing::Instrument;

use crate::auth::{self, PasswordHasher};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::{Db, backup::DataDirLock};
use crate::error::AppError;
use crate::http::{assets, extractor_configs, routes};
use crate::ratelimit::Limiter;
use crate::settings::ChatSettings;
use crate::state::{AppState, Metrics};
use crate::{agents, jobs, settings};

/// The console's policy. No 'unsafe-inline' anywhere: the Svelte build emits external files.
/// Images may come from anywhere because an email's remote images must be able to load once the
/// agent clicks "Show images" (its sandboxed frame inherits this policy and adds its own, which
/// blocks them until then); images cannot run code.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: http: https:; \
    font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

pub struct Application {
    server: Server,
    addr: SocketAddr,
    state: web::Data<AppState>,
    setup_link: Option<String>,
    _lock: DataDirLock,
}

/// Install the process-wide rustls crypto provider once (SPEC: one provider, installed at start).
pub fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Application {
    pub async fn build(config: Config) -> Result<Application, AppError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Application, AppError> {
        install_crypto_provider();
        let lock = DataDirLock::acquire(&config.data_dir)?;
        let (db, report) = Db::open(&config.db_path(), &config.backups_dir(), config.backup_keep)?;
        if let Some(snap) = &report.snapshot {
            tracing::info!(snapshot = %snap.display(), "database snapshotted before migrating");
        }
        for m in &report.applied_migrations {
            tracing::info!(migration = %m, "applied migration");
        }
        ensure_secret_key(&db, &config).await?;
        let cfg = config.clone();
        let mail_key = db.read(move |c| crate::mail::secret_key(c, &cfg)).await?;
        crate::mail::recover(&db).await?;

        let listener =
            TcpListener::bind(&config.listen).map_err(|e| AppError::invalid(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener.local_addr().map_err(|e| AppError::internal(e.to_string()))?;
        let tls = load_tls(&config)?;
        let (public_url, derived) = match &config.public_url {
            Some(u) => (u.clone(), false),
            None => (derive_public_url(addr, tls.is_some()), true),
        };
        let setup_link = setup_link_if_needed(&db, &public_url).await?;
        let policies = web::Data::new(routes::Policies::new(&routes::api_routes()));
        let state = web::Data::new(AppState {
            login_ip: Limiter::new(config.login_rate_ip),
            login_account: Limiter::new(config.login_rate_account),
            db: db.clone(),
            public_url,
            public_url_derived: derived,
            clock,
            hasher: PasswordHasher::new(),
            metrics: Metrics::default(),
            started_at: std::time::Instant::now(),
            hub: crate::realtime::Hub::start(),
            widget_sessions: Limiter::new(config.visitor_session_rate),
            visitor_budgets: crate::ratelimit::VisitorBudgets::new(&config),
            uploads: Limiter::new(crate::config::Rate { count: 30, per: Duration::from_secs(600) }),
            files: crate::chat::files::limits::FileLimits::new(&config),
            chat_settings: ChatSettings {
                sneak_peek: std::sync::atomic::AtomicBool::new(chat_flag(&db, settings::SNEAK_PEEK, true).await?),
                agents_see_colleagues: std::sync::atomic::AtomicBool::new(chat_flag(&db, settings::AGENTS_SEE_COLLEAGUES, true).await?),
                reply_overdue_s: std::sync::atomic::AtomicI64::new(
                    chat_seconds(&db, settings::REPLY_OVERDUE_S, settings::DEFAULT_REPLY_OVERDUE_S).await?,
                ),
                visitor_idle_s: std::sync::atomic::AtomicI64::new(
                    chat_seconds(&db, settings::VISITOR_IDLE_S, settings::DEFAULT_VISITOR_IDLE_S).await?,
                ),
                require_tag: std::sync::atomic::AtomicBool::new(chat_flag(&db, settings::REQUIRE_TAG, false).await?),
            },
            webhooks: crate::webhooks::delivery::Runtime::new(config.webhook_allow_private)?,
            mail: crate::mail::Mailer::new(mail_key),
            imap: crate::inbound::imap::Supervisor::default(),
            routing: crate::routing::live::Live::new(db.read(crate::routing::store::settings).await?),
            visitors: crate::visitors::live::Live::default(),
            config,
        });

        let app_state = state.clone();
        let https = state.https();
        let max_json = state.config.max_json_bytes;
        let body_read_timeout = state.config.body_read_timeout;
        let factory = move || {
            let headers = DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "same-origin"))
                .add(("Permissions-Policy", "camera=(), microphone=(), geolocation=()"));
            let api = routes::api_routes();
            App::new()
                .app_data(app_state.clone())
                .app_data(policies.clone())
                .configure(|cfg| extractor_configs(cfg, max_json))
                .configure(|cfg| routes::mount(cfg, &api))
                .default_service(web::to(assets::serve))
                .wrap(from_fn(routes::enforce))
                .wrap(from_fn(move |req, next| body_timeout(req, next, body_read_timeout)))
                .wrap(from_fn(observe))
                .wrap(from_fn(move |req, next| security_headers(req, next, https)))
                .wrap(headers)
                .wrap(Compress::default())
        };
        let server = HttpServer::new(factory)
            .disable_signals()
            .shutdown_timeout(10)
            .client_request_timeout(Duration::from_secs(10))
            .max_connection_rate(512)
            // Chat frames are small and latency-bound: without TCP_NODELAY an agent socket
            // receiving many of them waits on Nagle + the peer's delayed ACK (up to 40 ms on
            // Linux), which was the p99 tail of the rate ladder at 4,000 msg/s (BENCHMARKS P2).
            .tcp_nodelay(true);
        let server = match tls {
            Some(tls) => server.listen_rustls_0_23(listener, tls),
            None => server.listen(listener),
        }
        .map_err(|e| AppError::internal(format!("cannot start server: {e}")))?
        .run();

        crate::visitors::live::reload_rules(&state).await?;
        spawn_scheduler(state.clone());
        actix_web::rt::spawn(crate::webhooks::delivery::run(state.clone()));
        spawn_invitation_round(state.clone());
        spawn_session_sweep(state.clone());
        crate::reports::monitor::spawn(state.clone());
        crate::mail::spawn_worker(state.clone());
        crate::inbound::imap::reload(&state).await;
        Ok(Application { server, addr, state, setup_link, _lock: lock })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn public_url(&self) -> &url::Url {
        &self.state.public_url
    }

    /// The one-time link that creates the first admin; None once an admin exists.
    pub fn setup_link(&self) -> Option<&str> {
        self.setup_link.as_deref()
    }

    /// The shared state, for tests that drive background jobs by hand.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn hub(&self) -> crate::realtime::Hub {
        self.state.hub.clone()
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub fn db(&self) -> Db {
        self.state.db.clone()
    }

    /// Serve until stopped, then commit queued writes and checkpoint the WAL (SPEC S3).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let db = self.state.db.clone();
        let result = self.server.await;
        self.state.imap.stop().await;
        if let Err(e) =
            tokio::task::spawn_blocking(move || db.close()).await.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string()))
        {
            tracing::error!(error = %e, "closing the database");
        }
        result
    }
}

/// `http://127.0.0.1:8080` from the bound address; an unspecified bind address becomes loopback
/// (links must point somewhere a browser can go; set public_url for anything else).
fn derive_public_url(addr: SocketAddr, tls: bool) -> url::Url {
    let ip = if addr.ip().is_unspecified() { "127.0.0.1".parse().expect("ip") } else { addr.ip() };
    let scheme = if tls { "https" } else { "http" };
    let host = SocketAddr::new(ip, addr.port());
    url::Url::parse(&format!("{scheme}://{host}/")).expect("valid derived URL")
}

fn load_tls(config: &Config) -> Result<Option<rustls::ServerConfig>, AppError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else { return Ok(None) };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| AppError::invalid(format!("tls_cert {}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(AppError::invalid(format!("tls_cert {}: no certificate found", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| AppError::invalid(format!("tls_key {}: {e}", key.display())))?;
    let cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| AppError::invalid(format!("tls: {e}")))?;
    Ok(Some(cfg))
}

async fn chat_flag(db: &Db, key: &'static str, default: bool) -> Result<bool, AppError> {
    let v = db.read(move |c| settings::store::get(c, key)).await?;
    Ok(v.map(|v| v == "true").unwrap_or(default))
}

async fn chat_seconds(db: &Db, key: &'static str, default: i64) -> Result<i64, AppError> {
    let v = db.read(move |c| settings::store::get(c, key)).await?;
    Ok(v.and_then(|v| v.parse().ok()).filter(|v| settings::THRESHOLD_RANGE_S.contains(v)).unwrap_or(default))
}

/// A configured secret wins; otherwise one is generated once and kept in the database.
async fn ensure_secret_key(db: &Db, config: &Config) -> Result<(), AppError> {
    if config.secret_key.is_some() {
        return Ok(());
    }
    db.write(|c| {
        if settings::store::get(c, settings::SECRET_KEY)?.is_none() {
            settings::store::set(c, settings::SECRET_KEY, &hex::encode(auth::random_bytes::<32>()))?;
        }
        Ok(())
    })
    .await
}

/// On a database without an admin, mint a fresh one-time setup token (replacing any earlier
/// one, whose link was printed by an earlier start) and return the link.
async fn setup_link_if_needed(db: &Db, public_url: &url::Url) -> Result<Option<String>, AppError> {
    let token = auth::new_secret_token();
    let hash = hex::encode(auth::token_hash(&token));
    let minted = db
        .write(move |c| {
            if agents::store::any_admin(c)? {
                settings::store::delete(c, settings::SETUP_TOKEN_HASH)?;
                return Ok(false);
            }
            settings::store::set(c, settings::SETUP_TOKEN_HASH, &hash)?;
            Ok(true)
        })
        .await?;
    Ok(minted.then(|| format!("{}setup#token={token}", public_url.as_str())))
}

/// Responses that set no CSP of their own (everything but the embeddable widget page and
/// downloads) get the console's strict policy and may not be framed at all.
async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    https: bool,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONSOLE_CSP));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    }
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    Ok(res)
}

/// Cuts request bodies that stall (security finding 14). actix's `client_request_timeout`
/// covers only the head; a request whose body never comes would hold its connection and its
/// handler for as long as the client likes. The body is read through [`StallGuard`], which
/// fails the read once `limit` passes without a byte; the answer is then 408 and the
/// connection is closed (the rest of that body is never read). The limit is on silence, not
/// on the whole body, so a slow but steady upload still completes.
async fn body_timeout(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    limit: Duration,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    use actix_web::HttpMessage as _;
    let h = req.headers();
    let has_body = h.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0") || h.contains_key(header::TRANSFER_ENCODING);
    if !has_body {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let guard = StallGuard { inner: req.take_payload(), limit, timer: Box::pin(tokio::time::sleep(limit)), stalled: stalled.clone() };
    req.set_payload(actix_web::dev::Payload::Stream { payload: Box::pin(guard) });
    // Only the handler reads the body, and the route turns its errors into responses.
    let res = next.call(req).await?;
    if !stalled.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(res.map_into_left_body());
    }
    let (http_req, _) = res.into_parts();
    tracing::info!(path = %http_req.path(), "request body stalled; answering 408 and closing");
    let mut res = actix_web::ResponseError::error_response(&AppError::new(
        crate::error::Kind::RequestTimeout,
        format!("the request body stopped arriving for {} s", limit.as_secs_f64()),
    ));
    res.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    Ok(ServiceResponse::new(http_req, res).map_into_right_body())
}

/// A request body stream that fails once `limit` passes without a chunk.
struct StallGuard {
    inner: actix_web::dev::Payload,
    limit: Duration,
    timer: std::pin::Pin<Box<tokio::time::Sleep>>,
    stalled: Arc<std::sync::atomic::AtomicBool>,
}

impl futures_util::Stream for StallGuard {
    type Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let this = &mut *self;
        if this.stalled.load(std::sync::atomic::Ordering::Relaxed) {
            return Poll::Ready(None);
        }
        match std::pin::Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(item) => {
                let next = tokio::time::Instant::now() + this.limit;
                this.timer.as_mut().reset(next);
                Poll::Ready(item)
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.stalled.store(true, std::sync::atomic::Ordering::Relaxed);
                    let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body stalled");
                    Poll::Ready(Some(Err(actix_web::error::PayloadError::Io(e))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Request id, access log and status metrics around every request.
async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = hex::encode(auth::random_bytes::<6>());
    let span = tracing::info_span!("http", id = %id, method = %req.method(), path = %req.path());
    let state = crate::http::state(&req);
    let started = std::time::Instant::now();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    state.metrics.count_status(status);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, ms, "request failed");
        } else {
            tracing::debug!(status, ms, "request");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), v);
    }
    Ok(res)
}

/// Automatic invitations (W9) look at time on page, so their round runs every second; it
/// costs a lock and nothing else while no rule is enabled.
fn spawn_invitation_round(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            crate::visitors::live::auto_round(&state).await;
        }
    });
}

/// Sessions ended by another process (the CLI) or by expiry close their console sockets
/// (SPEC S6, within 1 s): one query per sweep for all open sockets, none per socket.
fn spawn_session_sweep(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(crate::chat::agent_ws::SESSION_SWEEP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            crate::chat::agent_ws::sweep_sessions(&state).await;
        }
    });
}

/// The timer behind the background jobs: one [`jobs::run_once`] round every [`jobs::ROUND`].
fn spawn_scheduler(state: web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let mut tick = tokio::time::interval(jobs::ROUND);
        let mut round: u64 = 0;
        loop {
            tick.tick().await;
            round += 1;
            jobs::run_once(&state, round).await;
        }
    });
}
