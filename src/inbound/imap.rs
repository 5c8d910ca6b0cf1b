//! The IMAP fetcher (SPEC E3): logs in to the support mailbox over TLS (async-imap on tokio with
//! rustls), imports every message after the stored cursor, then waits with IDLE (or polls when
//! the server has no IDLE) and repeats. Each message is imported in one write job together with
//! the cursor (UIDVALIDITY + its UID), so a restart neither loses nor repeats a message; a
//! message that is refused (too large, not a mail) is logged and passed over, never stopping the
//! fetcher. Connection failures are retried with backoff (1 s doubling to 5 min).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use actix_web::web;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::{Context, Via, mime};
use crate::error::AppError;
use crate::state::AppState;

const NET_TIMEOUT: Duration = Duration::from_secs(20);
/// IDLE is re-issued this often (servers drop IDLE after 30 min).
const IDLE_REFRESH: Duration = Duration::from_secs(9 * 60);
/// Without IDLE, look for new mail this often.
const POLL_EVERY: Duration = Duration::from_secs(60);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `imaps://`: TLS from the first byte.
    Tls,
    /// `imap://` to another host: STARTTLS is required.
    StartTls,
    /// `imap://` to a loopback address: plain text (local test servers, a local Dovecot).
    Plain,
}

/// `imap_url`: `imap[s]://user:password@host[:port][/MAILBOX]`.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapUrl {
    pub security: Security,
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: u16,
    pub mailbox: String,
}

impl std::fmt::Debug for ImapUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.display())
    }
}

impl ImapUrl {
    pub fn parse(s: &str) -> Result<ImapUrl, String> {
        let u = url::Url::parse(s.trim()).map_err(|e| format!("not a URL: {e}"))?;
        let host = u.host_str().filter(|h| !h.is_empty()).ok_or("has no host")?.trim_matches(['[', ']']).to_string();
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        let (security, default_port) = match u.scheme() {
            "imaps" => (Security::Tls, 993),
            "imap" if loopback => (Security::Plain, 143),
            "imap" => (Security::StartTls, 143),
            other => return Err(format!("scheme {other:?}: use imap:// or imaps://")),
        };
        let decode =
            |s: &str| url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes()).next().map(|(_, v)| v.into_owned());
        let user = decode(u.username()).unwrap_or_default();
        if user.is_empty() {
            return Err("has no user name (imaps://user:password@host/INBOX)".into());
        }
        let password = u.password().and_then(decode).unwrap_or_default();
        if password.is_empty() {
            return Err("has no password (imaps://user:password@host/INBOX)".into());
        }
        let path = u.path().trim_start_matches('/');
        let mailbox = if path.is_empty() { "INBOX".to_string() } else { decode(path).unwrap_or_default() };
        if mailbox.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err("the mailbox name has characters IMAP cannot carry here".into());
        }
        Ok(ImapUrl { security, user, password, host, port: u.port().unwrap_or(default_port), mailbox })
    }

    /// The URL without the password (logs, settings page).
    pub fn display(&self) -> String {
        let scheme = if self.security == Security::Tls { "imaps" } else { "imap" };
        format!("{scheme}://{}:********@{}:{}/{}", self.user, self.host, self.port, self.mailbox)
    }

    /// The URL again, percent-encoded (how the console's value is stored).
    pub fn to_url_string(&self) -> String {
        self.with_password(&self.password)
    }

    /// The URL with the password as `********`: what the console shows, and may send back to
    /// mean "keep the stored password".
    pub fn masked(&self) -> String {
        self.with_password(crate::mail::smtp::MASK)
    }

    fn with_password(&self, password: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
        let scheme = if self.security == Security::Tls { "imaps" } else { "imap" };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{scheme}://{}:{}@{host}:{}/{}", enc(&self.user), enc(password), self.port, enc(&self.mailbox))
    }

    /// Key of this mailbox's cursor.
    pub fn cursor_key(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.mailbox)
    }
}

// ---------------------------------------------------------------- errors in plain words

/// Why a connection failed, for people: which step, and what the server or network said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckError {
    Dns(String),
    Tcp(String),
    Tls(String),
    Auth(String),
    Mailbox(String),
    Protocol(String),
}

impl CheckError {
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::Dns(_) => "dns",
            CheckError::Tcp(_) => "tcp",
            CheckError::Tls(_) => "tls",
            CheckError::Auth(_) => "auth",
            CheckError::Mailbox(_) => "mailbox",
            CheckError::Protocol(_) => "protocol",
        }
    }
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::Dns(m) | CheckError::Tcp(m) | CheckError::Tls(m) | CheckError::Auth(m) | CheckError::Mailbox(m) => f.write_str(m),
            CheckError::Protocol(m) => write!(f, "the server did not answer like an IMAP server: {m}"),
        }
    }
}

// ---------------------------------------------------------------- the connection

/// A plain or TLS-wrapped TCP stream.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub type Session = async_imap::Session<Stream>;

/// Trusted roots: the public web PKI plus the PEM certificates of `imap_ca_file`.
fn tls_connector(ca_file: Option<&std::path::Path>) -> Result<tokio_rustls::TlsConnector, CheckError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    crate::startup::install_crypto_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| CheckError::Tls(format!("cannot read imap_ca_file {}: {e}", path.display())))?;
        for c in certs {
            roots.add(c).map_err(|e| CheckError::Tls(format!("imap_ca_file {}: {e}", path.display())))?;
        }
    }
    let cfg = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(cfg)))
}

async fn tls_wrap(tcp: TcpStream, host: &str, ca_file: Option<&std::path::Path>) -> Result<Stream, CheckError> {
    let connector = tls_connector(ca_file)?;
    let name = rustls_pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| CheckError::Tls(format!("{host:?} cannot be checked against a certificate")))?;
    match tokio::time::timeout(NET_TIMEOUT, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => Ok(Stream::Tls(Box::new(s))),
        Ok(Err(e)) => Err(CheckError::Tls(format!("the TLS handshake with {host} failed: {}", tls_words(&e)))),
        Err(_) => Err(CheckError::Tls(format!("the TLS handshake with {host} timed out"))),
    }
}

fn tls_words(e: &std::io::Error) -> String {
    let s = e.to_string();
    if s.contains("UnknownIssuer") {
        "the server's certificate is not signed by a trusted authority (self-signed? set imap_ca_file)".into()
    } else if s.contains("CaUsedAsEndEntity") {
        "the server presents a CA certificate as its own; it needs a server certificate signed by that CA".into()
    } else if s.contains("NotValidForName") {
        "the server's certificate is for another host name".into()
    } else if s.contains("Expired") {
        "the server's certificate has expired".into()
    } else if s.contains("InvalidContentType") || s.contains("CorruptMessage") {
        "the server does not speak TLS on this port (imap:// instead of imaps://, or the wrong port?)".into()
    } else {
        s
    }
}

async fn with_timeout<T, E: std::fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
    wrap: fn(String) -> CheckError,
) -> Result<T, CheckError> {
    match tokio::time::timeout(NET_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(wrap(format!("{what}: {e}"))),
        Err(_) => Err(wrap(format!("{what}: no answer within {} s", NET_TIMEOUT.as_secs()))),
    }
}

/// Connect, log in, select the mailbox. Returns the session, whether the server has IDLE, and
/// the mailbox's UIDVALIDITY.
pub async fn connect(url: &ImapUrl, ca_file: Option<&std::path::Path>) -> Result<(Session, bool, u32), CheckError> {
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(NET_TIMEOUT, tokio::net::lookup_host((url.host.as_str(), url.port))).await {
            Ok(Ok(a)) => a.collect(),
            Ok(Err(e)) => return Err(CheckError::Dns(format!("cannot find the host {}: {e}", url.host))),
            Err(_) => return Err(CheckError::Dns(format!("looking up {} took too long", url.host))),
        };
    if addrs.is_empty() {
        return Err(CheckError::Dns(format!("the host {} has no address", url.host)));
    }
    let tcp = match tokio::time::timeout(NET_TIMEOUT, TcpStream::connect(&addrs[..])).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            let why = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused (is the server running, is the port right?)".to_string(),
                _ => e.to_string(),
            };
            return Err(CheckError::Tcp(format!("cannot connect to {}:{}: {why}", url.host, url.port)));
        }
        Err(_) => return Err(CheckError::Tcp(format!("cannot connect to {}:{}: no answer (firewall?)", url.host, url.port))),
    };
    let stream = match url.security {
        Security::Tls => tls_wrap(tcp, &url.host, ca_file).await?,
        Security::Plain | Security::StartTls => Stream::Plain(tcp),
    };
    let mut client = async_imap::Client::new(stream);
    match tokio::time::timeout(NET_TIMEOUT, client.read_response()).await {
        Ok(Ok(Some(_))) => {}
        Ok(Ok(None)) => return Err(CheckError::Protocol("the connection closed before the greeting".into())),
        Ok(Err(e)) => return Err(CheckError::Protocol(format!("no greeting: {e}"))),
        Err(_) => return Err(CheckError::Protocol("no greeting within 20 s".into())),
    }
    if url.security == Security::StartTls {
        with_timeout("STARTTLS", client.run_command_and_check_ok("STARTTLS", None), |m| {
            CheckError::Tls(format!("the server refused STARTTLS ({m}); use imaps:// or a server that offers STARTTLS"))
        })
        .await?;
        let Stream::Plain(tcp) = client.into_inner() else { unreachable!("STARTTLS starts on a plain stream") };
        client = async_imap::Client::new(tls_wrap(tcp, &url.host, ca_file).await?);
    }
    let mut session = match tokio::time::timeout(NET_TIMEOUT, client.login(&url.user, &url.password)).await {
        Ok(Ok(s)) => s,
        Ok(Err((e, _))) => return Err(CheckError::Auth(format!("the server refused the user name or password for {}: {e}", url.user))),
        Err(_) => return Err(CheckError::Auth("no answer to the login within 20 s".into())),
    };
    let caps = with_timeout("CAPABILITY", session.capabilities(), CheckError::Protocol).await?;
    let idle = caps.has_str("IDLE");
    let mb = match tokio::time::timeout(NET_TIMEOUT, session.select(&url.mailbox)).await {
        Ok(Ok(mb)) => mb,
        Ok(Err(e)) => return Err(CheckError::Mailbox(format!("the mailbox {:?} cannot be opened (does it exist?): {e}", url.mailbox))),
        Err(_) => return Err(CheckError::Mailbox(format!("opening the mailbox {:?} took too long", url.mailbox))),
    };
    Ok((session, idle, mb.uid_validity.unwrap_or(0)))
}

/// "Check connection": connect, log in, open the mailbox, log out. Ok: messages in it.
pub async fn check(url: &ImapUrl, ca_file: Option<&std::path::Path>) -> Result<u32, CheckError> {
    let (mut session, _, _) = connect(url, ca_file).await?;
    let exists = with_timeout("STATUS", session.examine(&url.mailbox), CheckError::Mailbox).await?.exists;
    let _ = tokio::time::timeout(NET_TIMEOUT, session.logout()).await;
    Ok(exists)
}

// ---------------------------------------------------------------- importing

/// Import the messages after the cursor, at most `limit` (None: all). Returns how many were
/// taken (imported, ignored or refused: each moved the cursor).
pub async fn sync(
    state: &AppState,
    url: &ImapUrl,
    session: &mut Session,
    uid_validity: u32,
    limit: Option<usize>,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<usize, String> {
    let key = url.cursor_key();
    let k = key.clone();
    let stored = state.db.read(move |c| super::store::cursor(c, &k)).await.map_err(|e| e.message)?;
    let last = match stored {
        Some((v, last)) if v == uid_validity => last,
        Some((v, _)) => {
            // Every UID changed meaning; start over (Message-IDs keep what was imported from
            // being imported again).
            tracing::warn!(mailbox = %url.display(), old = v, new = uid_validity, "IMAP UIDVALIDITY changed; reading the mailbox again");
            0
        }
        None => 0,
    };
    let found = session.uid_search(format!("UID {}:*", last.saturating_add(1))).await.map_err(|e| format!("UID SEARCH: {e}"))?;
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > last).collect();
    uids.sort_unstable();
    if let Some(l) = limit {
        uids.truncate(l);
    }
    let max = state.config.mail_max_bytes;
    let mut taken = 0;
    for uid in uids {
        if stop.is_some_and(|s| *s.borrow()) {
            break;
        }
        // Size first: an oversize message is passed over without downloading it.
        let size = {
            let mut s = session.uid_fetch(uid.to_string(), "(UID RFC822.SIZE)").await.map_err(|e| format!("UID FETCH: {e}"))?;
            let mut size = None;
            while let Some(f) = s.next().await {
                let f = f.map_err(|e| format!("UID FETCH: {e}"))?;
                if f.uid == Some(uid) {
                    size = f.size;
                }
            }
            size
        };
        let raw: Option<Vec<u8>> = match size {
            Some(sz) if sz as usize > max => None,
            _ => {
                let mut s = session.uid_fetch(uid.to_string(), "(UID BODY.PEEK[])").await.map_err(|e| format!("UID FETCH: {e}"))?;
                let mut raw = None;
                while let Some(f) = s.next().await {
                    let f = f.map_err(|e| format!("UID FETCH: {e}"))?;
                    if f.uid == Some(uid) {
                        raw = f.body().map(|b| b.to_vec());
                    }
                }
                raw
            }
        };
        let parsed = match (raw, size) {
            (Some(raw), _) => {
                let opts = mime::ParseOptions { max_bytes: max, unwrap_forwards: state.config.mail_unwrap_forwards };
                tokio::task::spawn_blocking(move || mime::parse(&raw, &opts)).await.map_err(|e| e.to_string())?
            }
            (None, Some(sz)) => Err(super::Refused::TooLarge { size: sz as usize, limit: max }),
            (None, None) => {
                // Gone in the meantime (expunged): nothing to import.
                Err(super::Refused::Empty)
            }
        };
        if let Err(why) = &parsed {
            tracing::warn!(mailbox = %url.display(), uid, code = why.code(), reason = %why, "IMAP: message refused; passed over");
        }
        let (k, now, config, host) = (key.clone(), state.now(), state.config.clone(), host_of(state));
        let outcome = state
            .db
            .write(move |c| {
                let out = match &parsed {
                    Ok(mail) => Some(super::import(c, mail, &Context::load(c, &config, &host, Via::Imap)?, now)?),
                    Err(_) => None,
                };
                super::store::set_cursor(c, &k, uid_validity, uid, now)?;
                Ok(out)
            })
            .await
            .map_err(|e| format!("storing message {uid}: {}", e.message))?;
        if let Some(n) = outcome.and_then(|o| o.ticket()) {
            state.hub.publish(crate::realtime::Audience::Agents, crate::realtime::ticket_changed(n)).await;
        }
        if let Some(o) = outcome {
            tracing::info!(mailbox = %url.display(), uid, outcome = %o.line(), "IMAP: message imported");
        }
        taken += 1;
    }
    Ok(taken)
}

fn host_of(state: &AppState) -> String {
    state.public_url.host_str().unwrap_or("localhost").to_string()
}

/// One pass: connect, import at most `limit` messages, log out. For tests and tools.
pub async fn run_once(state: &AppState, url: &ImapUrl, limit: Option<usize>) -> Result<usize, String> {
    let (mut session, _, validity) = connect(url, state.config.imap_ca_file.as_deref()).await.map_err(|e| e.to_string())?;
    let n = sync(state, url, &mut session, validity, limit, None).await?;
    let _ = tokio::time::timeout(NET_TIMEOUT, session.logout()).await;
    Ok(n)
}

/// The running fetcher; stopping it ends the task (it logs out when it can).
pub struct Fetcher {
    stop: watch::Sender<bool>,
    done: tokio::sync::oneshot::Receiver<()>,
}

impl Fetcher {
    /// Ask the fetcher to stop and wait until it did (or 10 s passed).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.done).await;
    }
}

/// Start the supervised fetcher task (startup does this when `imap_url` is configured).
pub fn spawn(state: web::Data<AppState>, url: ImapUrl) -> Fetcher {
    let (stop, mut stopped) = watch::channel(false);
    let (done_tx, done) = tokio::sync::oneshot::channel();
    actix_web::rt::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        tracing::info!(mailbox = %url.display(), "IMAP fetcher started");
        loop {
            let result = session_loop(&state, &url, &mut stopped, &mut backoff).await;
            if *stopped.borrow() {
                break;
            }
            if let Err(e) = result {
                tracing::warn!(mailbox = %url.display(), error = %e, retry_in_s = backoff.as_secs(), "IMAP fetcher: connection lost");
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stopped.changed() => break,
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
        tracing::info!(mailbox = %url.display(), "IMAP fetcher stopped");
        let _ = done_tx.send(());
    });
    Fetcher { stop, done }
}

/// The fetcher of the `imap_url` in force: config (file/env) or, when that is unset, the console
/// (`mail.imap_url`). [`reload`] after the console changed it: a different URL stops the old
/// fetcher and starts one for the new URL, without a restart.
#[derive(Default)]
pub struct Supervisor {
    running: tokio::sync::Mutex<Option<(ImapUrl, Fetcher)>>,
}

impl Supervisor {
    /// Run the fetcher for `url` (None: none). The same URL keeps the running one.
    pub async fn apply(&self, state: web::Data<AppState>, url: Option<ImapUrl>) {
        let mut running = self.running.lock().await;
        if running.as_ref().map(|(u, _)| u) == url.as_ref() {
            return;
        }
        if let Some((old, f)) = running.take() {
            tracing::info!(mailbox = %old.display(), "IMAP settings changed: stopping the fetcher");
            f.stop().await;
        }
        if let Some(u) = url {
            *running = Some((u.clone(), spawn(state, u)));
        }
    }

    /// The mailbox being fetched, if any.
    pub async fn current(&self) -> Option<ImapUrl> {
        self.running.lock().await.as_ref().map(|(u, _)| u.clone())
    }

    pub async fn stop(&self) {
        if let Some((_, f)) = self.running.lock().await.take() {
            f.stop().await;
        }
    }
}

/// Start, restart or stop the fetcher to match the `imap_url` in force (at start, and after the
/// console changed it).
pub async fn reload(state: &web::Data<AppState>) {
    let config = state.config.clone();
    match state.db.read(move |c| crate::mail::imap_setting(c, &config)).await {
        Ok((url, _)) => state.imap.apply(state.clone(), url).await,
        Err(e) => tracing::warn!(error = %e, "reading imap_url failed; the fetcher stays as it is"),
    }
}

/// One connection's life: import, wait for news (IDLE or poll), import, … until stopped or an
/// error. A successful login resets the backoff.
async fn session_loop(state: &AppState, url: &ImapUrl, stopped: &mut watch::Receiver<bool>, backoff: &mut Duration) -> Result<(), String> {
    let (mut session, idle, validity) = connect(url, state.config.imap_ca_file.as_deref()).await.map_err(|e| e.to_string())?;
    *backoff = Duration::from_secs(1);
    loop {
        sync(state, url, &mut session, validity, None, Some(stopped)).await?;
        if *stopped.borrow() {
            let _ = tokio::time::timeout(NET_TIMEOUT, session.logout()).await;
            return Ok(());
        }
        if idle {
            let mut handle = session.idle();
            handle.init().await.map_err(|e| format!("IDLE: {e}"))?;
            let interrupted = {
                let (wait, interrupt) = handle.wait_with_timeout(IDLE_REFRESH);
                tokio::pin!(wait);
                tokio::select! {
                    r = &mut wait => { r.map_err(|e| format!("IDLE: {e}"))?; false }
                    _ = stopped.changed() => { drop(interrupt); let _ = wait.await; true }
                }
            };
            session = with_timeout("DONE", handle.done(), CheckError::Protocol).await.map_err(|e| e.to_string())?;
            if interrupted {
                let _ = tokio::time::timeout(NET_TIMEOUT, session.logout()).await;
                return Ok(());
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(POLL_EVERY) => {}
                _ = stopped.changed() => {
                    let _ = tokio::time::timeout(NET_TIMEOUT, session.logout()).await;
                    return Ok(());
                }
            }
            session.noop().await.map_err(|e| format!("NOOP: {e}"))?;
        }
    }
}

/// Map a check failure to the API's error.
pub fn check_error(e: &CheckError) -> AppError {
    AppError::invalid(format!("{}: {e}", e.code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = ImapUrl::parse("imaps://support%40shop.example:p%40ss%2Bword@mail.example.com/Support%20Inbox").unwrap();
        assert_eq!(u.security, Security::Tls);
        assert_eq!((u.user.as_str(), u.password.as_str()), ("support@shop.example", "p@ss+word"));
        assert_eq!((u.host.as_str(), u.port, u.mailbox.as_str()), ("mail.example.com", 993, "Support Inbox"));
        assert!(!format!("{u:?}").contains("p@ss"), "Debug hides the password");
        let u = ImapUrl::parse("imap://a:b@127.0.0.1:1143").unwrap();
        assert_eq!((u.security, u.port, u.mailbox.as_str()), (Security::Plain, 1143, "INBOX"));
        assert_eq!(ImapUrl::parse("imap://a:b@mail.example.com").unwrap().security, Security::StartTls);
        // Stored and shown forms parse back to the same mailbox.
        let u = ImapUrl::parse("imaps://support%40shop.example:p%40ss%2Bw%20rd@mail.example.com/Support%20Inbox").unwrap();
        assert_eq!(ImapUrl::parse(&u.to_url_string()).unwrap(), u);
        let m = ImapUrl::parse(&u.masked()).unwrap();
        assert_eq!((m.password.as_str(), m.user.as_str(), m.mailbox.as_str()), ("********", "support@shop.example", "Support Inbox"));
        assert!(!u.masked().contains("p%40ss"));
        let v6 = ImapUrl::parse("imap://a:b@[::1]:1143/INBOX").unwrap();
        assert_eq!((v6.security, ImapUrl::parse(&v6.to_url_string()).unwrap()), (Security::Plain, v6.clone()));
        for bad in ["http://a:b@x/INBOX", "imaps://x/INBOX", "imaps://a@x/INBOX", "not a url", "imaps://a:b@/INBOX"] {
            assert!(ImapUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
