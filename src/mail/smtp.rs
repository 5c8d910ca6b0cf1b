//! The SMTP side: `smtp_url` parsing, the lettre transport (tokio + rustls on the process's
//! one crypto provider), and errors told in plain words with the stage that failed.

use std::fmt;
use std::time::Duration;

use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncTransport, Tokio1Executor};

/// How the connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// `smtp://`: no TLS (for a relay on loopback or a trusted network).
    Plain,
    /// `smtp+starttls://`: plain connect, then STARTTLS, required.
    Starttls,
    /// `smtps://`: TLS from the first byte (implicit TLS).
    Tls,
}

/// A parsed `smtp_url`: `smtp://`, `smtp+starttls://` or `smtps://`, `user:password@host:port`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    pub security: Security,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Shown instead of a password (and accepted back from the console as "unchanged").
pub const MASK: &str = "********";

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.masked())
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

impl SmtpUrl {
    pub fn parse(s: &str) -> Result<SmtpUrl, String> {
        let s = s.trim();
        // The value may hold a password: errors describe it, never echo it.
        let u = url::Url::parse(s)
            .map_err(|e| format!("is not a URL ({e}); write smtp://, smtp+starttls:// or smtps://user:password@host:port"))?;
        let (security, default_port) = match u.scheme() {
            "smtp" => (Security::Plain, 25),
            "smtp+starttls" => (Security::Starttls, 587),
            "smtps" => (Security::Tls, 465),
            other => return Err(format!("scheme {other:?} is not one of smtp://, smtp+starttls://, smtps://")),
        };
        let host = u.host_str().filter(|h| !h.is_empty()).ok_or_else(|| "has no host".to_string())?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        if !(u.path().is_empty() || u.path() == "/") || u.query().is_some() || u.fragment().is_some() {
            return Err("must not carry a path, query or fragment (only user:password@host:port)".into());
        }
        let decode = |v: &str| percent_decode(v).ok_or_else(|| "user or password is not valid percent-encoded UTF-8".to_string());
        let user = (!u.username().is_empty()).then(|| decode(u.username())).transpose()?;
        let password = u.password().map(decode).transpose()?;
        if password.is_some() && user.is_none() {
            return Err("has a password but no user".into());
        }
        Ok(SmtpUrl { security, host, port: u.port().unwrap_or(default_port), user, password })
    }

    fn scheme(&self) -> &'static str {
        match self.security {
            Security::Plain => "smtp",
            Security::Starttls => "smtp+starttls",
            Security::Tls => "smtps",
        }
    }

    fn host_part(&self) -> String {
        if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() }
    }

    fn render(&self, password: Option<&str>) -> String {
        let auth = match (&self.user, password) {
            (Some(u), Some(p)) => format!("{}:{}@", enc(u), if p == MASK { p.to_string() } else { enc(p) }),
            (Some(u), None) => format!("{}@", enc(u)),
            _ => String::new(),
        };
        format!("{}://{auth}{}:{}", self.scheme(), self.host_part(), self.port)
    }

    /// The URL as written back to storage (with the password).
    pub fn to_url_string(&self) -> String {
        self.render(self.password.as_deref())
    }

    /// The URL with its password replaced by `********` (for the console and logs).
    pub fn masked(&self) -> String {
        self.render(self.password.as_ref().map(|_| MASK))
    }

    /// The transport for one send. No pool: mail goes out in small bursts.
    pub fn transport(&self, timeout: Duration) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let tls = || TlsParameters::new(self.host.clone()).map_err(|e| format!("TLS setup failed: {e}"));
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone()).port(self.port).timeout(Some(timeout));
        b = match self.security {
            Security::Plain => b.tls(Tls::None),
            Security::Starttls => b.tls(Tls::Required(tls()?)),
            Security::Tls => b.tls(Tls::Wrapper(tls()?)),
        };
        if let Some(u) = &self.user {
            b = b.credentials(Credentials::new(u.clone(), self.password.clone().unwrap_or_default()));
        }
        Ok(b.build())
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Where a delivery attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Config,
    Dns,
    Tcp,
    Tls,
    Auth,
    Sender,
    Recipient,
    Message,
    Server,
}

/// A failed attempt: the stage, words an admin can act on, and whether trying again may help.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SendError {
    pub stage: Stage,
    pub message: String,
    /// A 5xx answer (or a broken configuration): retrying the same mail will not help.
    pub permanent: bool,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl SendError {
    pub fn new(stage: Stage, message: impl Into<String>, permanent: bool) -> SendError {
        SendError { stage, message: message.into(), permanent }
    }
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join(": ")
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
}

/// lettre's error in plain words, with the stage it most likely failed at.
pub fn describe(url: &SmtpUrl, e: &lettre::transport::smtp::Error) -> SendError {
    let at = format!("{}:{}", url.host, url.port);
    let text = chain(e);
    if e.is_tls() {
        return SendError::new(Stage::Tls, format!("TLS with {at} failed: {text}"), false);
    }
    if let Some(code) = e.status() {
        let code_s = code.to_string();
        let lower = text.to_lowercase();
        let (stage, what) = if code_s == "535" || code_s == "534" || code_s == "530" || lower.contains("auth") {
            (Stage::Auth, "the server refused the user name or password")
        } else if lower.contains("recipient") || lower.contains("rcpt") || lower.contains("mailbox") || lower.contains("user unknown") {
            (Stage::Recipient, "the server refused a recipient")
        } else if lower.contains("sender") || lower.contains("mail from") {
            (Stage::Sender, "the server refused the sender address (mail_from)")
        } else {
            (Stage::Server, "the server refused the mail")
        };
        return SendError::new(stage, format!("{what} ({at} answered {text})"), e.is_permanent());
    }
    if e.is_timeout() {
        return SendError::new(Stage::Tcp, format!("{at} did not answer in time"), false);
    }
    match io_kind(e) {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            SendError::new(Stage::Tcp, format!("connection to {at} refused (is the mail server running on that port?)"), false)
        }
        _ if text.contains("failed to lookup address") || text.contains("Name or service not known") => {
            SendError::new(Stage::Dns, format!("the host name {} could not be resolved (DNS): {text}", url.host), false)
        }
        Some(_) => SendError::new(Stage::Tcp, format!("connection to {at} failed: {text}"), false),
        None if e.is_client() || e.is_response() => SendError::new(Stage::Server, format!("talking to {at} failed: {text}"), false),
        None => SendError::new(Stage::Tcp, format!("connection to {at} failed: {text}"), false),
    }
}

/// Look the host up and open a TCP connection, so a test mail can say which of the two
/// failed before lettre is given the rest (TLS, authentication, the mail itself).
pub async fn probe(url: &SmtpUrl, timeout: Duration) -> Result<(), SendError> {
    let at = format!("{}:{}", url.host, url.port);
    let addrs: Vec<std::net::SocketAddr> = match tokio::time::timeout(timeout, tokio::net::lookup_host((url.host.as_str(), url.port))).await
    {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(e)) => {
            return Err(SendError::new(Stage::Dns, format!("the host name {} could not be resolved (DNS): {e}", url.host), false));
        }
        Err(_) => return Err(SendError::new(Stage::Dns, format!("looking up {} (DNS) took too long", url.host), false)),
    };
    if addrs.is_empty() {
        return Err(SendError::new(Stage::Dns, format!("the host name {} has no address (DNS)", url.host), false));
    }
    let mut last = String::new();
    for a in addrs {
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = format!("connection to {at} ({a}) refused (is the mail server running on that port?)")
            }
            Ok(Err(e)) => last = format!("connection to {at} ({a}) failed: {e}"),
            Err(_) => last = format!("connection to {at} ({a}) timed out"),
        }
    }
    Err(SendError::new(Stage::Tcp, last, false))
}

/// Send one formatted message.
pub async fn send(url: &SmtpUrl, message: lettre::Message, timeout: Duration) -> Result<(), SendError> {
    let transport = url.transport(timeout).map_err(|m| SendError::new(Stage::Config, m, true))?;
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) => Err(describe(url, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_defaults_and_credentials() {
        let u = SmtpUrl::parse("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((u.security, u.host.as_str(), u.port, u.user.as_deref()), (Security::Plain, "127.0.0.1", 2525, None));
        let u = SmtpUrl::parse("smtp+starttls://ann%40shop.example:p%40ss%3Aw@mail.shop.example").unwrap();
        assert_eq!((u.security, u.port), (Security::Starttls, 587));
        assert_eq!((u.user.as_deref(), u.password.as_deref()), (Some("ann@shop.example"), Some("p@ss:w")));
        assert_eq!(u.masked(), "smtp+starttls://ann%40shop.example:********@mail.shop.example:587");
        assert_eq!(SmtpUrl::parse(&u.to_url_string()).unwrap(), u);
        assert_eq!(SmtpUrl::parse("smtps://x@mail.example").unwrap().port, 465);
        assert_eq!(SmtpUrl::parse("smtp://[::1]:25").unwrap().host, "::1");
    }

    #[test]
    fn bad_urls_say_why_and_never_echo_the_password() {
        for bad in ["http://mail.example", "smtp://", "smtp://h/path", "smtp://h?x=1", "nonsense", "smtp://:pw@host", "smtp://u:%zz@h"] {
            let e = SmtpUrl::parse(bad).unwrap_err();
            assert!(!e.is_empty(), "{bad}");
        }
        let e = SmtpUrl::parse("smtp://user:secretpw@ho st").unwrap_err();
        assert!(!e.contains("secretpw"), "{e}");
    }
}
