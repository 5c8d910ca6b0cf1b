//! Layered configuration: defaults < `frontdesk.toml` < `FRONTDESK_*` env < flags.
//!
//! Every key is declared once in [`KEYS`]. Each layer contributes raw strings; the typed
//! [`Config`] is parsed from the merged result, so an invalid value is always reported with
//! its key and the layer it came from. Any key can also be read from a file named by
//! `FRONTDESK_<KEY>_FILE` (for secrets handed over by systemd credentials or Docker secrets).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct KeyDef {
    pub name: &'static str,
    pub default: Option<&'static str>,
    pub secret: bool,
    pub help: &'static str,
}

pub const KEYS: &[KeyDef] = &[
    KeyDef { name: "listen", default: Some("127.0.0.1:8080"), secret: false, help: "address:port to listen on" },
    KeyDef { name: "data_dir", default: Some("./frontdesk-data"), secret: false, help: "directory holding the database and backups" },
    KeyDef { name: "public_url", default: None, secret: false, help: "URL users reach the server at (default: derived from listen)" },
    KeyDef { name: "log_format", default: Some("auto"), secret: false, help: "auto | human | json" },
    KeyDef { name: "log_level", default: Some("info"), secret: false, help: "tracing filter, e.g. info,frontdesk=debug" },
    KeyDef { name: "tls_cert", default: None, secret: false, help: "PEM certificate chain; with tls_key the server speaks HTTPS itself" },
    KeyDef { name: "tls_key", default: None, secret: false, help: "PEM private key" },
    KeyDef { name: "secret_key", default: None, secret: true, help: "signing secret (default: generated and kept in the database)" },
    KeyDef { name: "session_idle", default: Some("12h"), secret: false, help: "a session ends after this long without requests" },
    KeyDef { name: "session_max", default: Some("7d"), secret: false, help: "a session ends this long after login at the latest" },
    KeyDef { name: "login_rate_ip", default: Some("20/5m"), secret: false, help: "login attempts allowed per client IP and window" },
    KeyDef { name: "login_rate_account", default: Some("5/5m"), secret: false, help: "failed logins allowed per account and window" },
    KeyDef {
        name: "chat_idle_timeout",
        default: Some("30m"),
        secret: false,
        help: "a chat whose visitor sent nothing for this long ends (outcome by SPEC R5)",
    },
    KeyDef {
        name: "visitor_session_rate",
        default: Some("30/10m"),
        secret: false,
        help: "new widget visitors allowed per client IP and window",
    },
    KeyDef {
        name: "visitor_message_rate",
        default: Some("30/10s"),
        secret: false,
        help: "chat messages one visitor may send per window, over all their sockets",
    },
    KeyDef {
        name: "visitor_message_rate_ip",
        default: Some("120/10s"),
        secret: false,
        help: "chat messages all visitors from one client IP may send per window",
    },
    KeyDef {
        name: "visitor_page_rate",
        default: Some("60/1m"),
        secret: false,
        help: "page views (page frames) one visitor may report per window",
    },
    KeyDef {
        name: "visitor_page_rate_ip",
        default: Some("300/1m"),
        secret: false,
        help: "page views all visitors from one client IP may report per window",
    },
    KeyDef {
        name: "visitor_typing_rate",
        default: Some("40/10s"),
        secret: false,
        help: "typing frames of one visitor forwarded to agents per window (the rest are dropped)",
    },
    KeyDef {
        name: "visitor_typing_rate_ip",
        default: Some("200/10s"),
        secret: false,
        help: "typing frames of all visitors from one client IP forwarded per window",
    },
    KeyDef {
        name: "visitor_hello_rate",
        default: Some("30/1m"),
        secret: false,
        help: "widget socket connections (hello, reconnects) of one known visitor per window",
    },
    KeyDef {
        name: "visitor_hello_rate_ip",
        default: Some("120/1m"),
        secret: false,
        help: "widget socket connections from one client IP per window",
    },
    KeyDef {
        name: "trusted_proxies",
        default: Some(""),
        secret: false,
        help: "proxy IPs whose X-Forwarded-For is believed (comma separated)",
    },
    KeyDef { name: "max_json_bytes", default: Some("262144"), secret: false, help: "largest accepted JSON body" },
    KeyDef {
        name: "body_read_timeout",
        default: Some("20s"),
        secret: false,
        help: "a request body that sends nothing for this long is answered 408 and its connection closed",
    },
    KeyDef { name: "backup_keep", default: Some("7"), secret: false, help: "automatic snapshots kept in DATA_DIR/backups (of each kind)" },
    KeyDef {
        name: "backup_time",
        default: Some("03:00"),
        secret: false,
        help: "local time (HH:MM) of the daily backup into DATA_DIR/backups; off disables it",
    },
    KeyDef {
        name: "backup_copy_dir",
        default: None,
        secret: false,
        help: "also copy each daily backup into this directory (keeping backup_keep there too)",
    },
    KeyDef {
        name: "webhook_allow_private",
        default: Some("false"),
        secret: false,
        help: "let webhooks reach loopback and private-network addresses (off: refused, SSRF)",
    },
    KeyDef {
        name: "smtp_url",
        default: None,
        secret: true,
        help: "outgoing mail server: smtp:// (plain, loopback), smtp+starttls:// or smtps://, user:password@host:port (set here, it is read-only in the console)",
    },
    KeyDef {
        name: "mail_from",
        default: None,
        secret: false,
        help: "sender of our mail, e.g. \"Shop support <support@shop.example>\"; replies come back to it with +token",
    },
    KeyDef {
        name: "upload_grace",
        default: Some("1h"),
        secret: false,
        help: "an upload not sent in a chat or ticket message within this time is deleted",
    },
    KeyDef {
        name: "upload_quota_visitor",
        default: Some("50M"),
        secret: false,
        help: "bytes one widget visitor may upload per hour (K, M, G = KiB, MiB, GiB)",
    },
    KeyDef {
        name: "upload_quota_ip",
        default: Some("200M"),
        secret: false,
        help: "bytes widget visitors from one client IP may upload together per hour",
    },
    KeyDef {
        name: "storage_max",
        default: Some("5G"),
        secret: false,
        help: "ceiling on stored file bytes (each content counted once); uploads beyond it get 507",
    },
    KeyDef {
        name: "download_concurrency_ip",
        default: Some("16"),
        secret: false,
        help: "file downloads one client IP may have running at once; more get 429",
    },
    KeyDef {
        name: "imap_url",
        default: None,
        secret: true,
        help: "support mailbox to import: imaps://user:password@host:993/INBOX (imap:// uses STARTTLS except on loopback)",
    },
    KeyDef {
        name: "imap_ca_file",
        default: None,
        secret: false,
        help: "PEM certificates trusted for the IMAP server besides the public authorities (a self-signed server)",
    },
    KeyDef { name: "mail_max_bytes", default: Some("26214400"), secret: false, help: "largest incoming email accepted (bytes)" },
    KeyDef {
        name: "mail_unwrap_forwards",
        default: Some("false"),
        secret: false,
        help: "the mailbox receives mail forwarded by staff: the requester is the original sender",
    },
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    EnvFile(String, PathBuf),
    Flag(String),
    Derived,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => write!(f, "default"),
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Env(v) => write!(f, "env {v}"),
            Source::EnvFile(v, p) => write!(f, "env {v} ({})", p.display()),
            Source::Flag(n) => write!(f, "flag --{n}"),
            Source::Derived => write!(f, "derived"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConfigError {
    pub key: String,
    pub source: Option<Source>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(s) => write!(f, "{} (from {}): {}", self.key, s, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// Raw key → (value, where it came from), before typing.
#[derive(Default, Clone, Debug)]
pub struct Layers {
    values: BTreeMap<&'static str, (String, Source)>,
}

fn key_def(name: &str) -> Option<&'static KeyDef> {
    KEYS.iter().find(|k| k.name == name)
}

impl Layers {
    pub fn defaults() -> Self {
        let mut l = Layers::default();
        for k in KEYS {
            if let Some(d) = k.default {
                l.values.insert(k.name, (d.to_string(), Source::Default));
            }
        }
        l
    }

    pub fn set(&mut self, key: &str, value: String, source: Source) -> Result<(), ConfigError> {
        let def = key_def(key).ok_or_else(|| ConfigError {
            key: key.to_string(),
            source: Some(source.clone()),
            message: "unknown key".into(),
        })?;
        self.values.insert(def.name, (value, source));
        Ok(())
    }

    /// Layer a TOML file over the current values. Unknown keys are errors, not silently ignored.
    pub fn apply_toml(&mut self, path: &Path, text: &str) -> Result<(), Vec<ConfigError>> {
        let src = Source::File(path.to_path_buf());
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            vec![ConfigError { key: "(file)".into(), source: Some(src.clone()), message: e.message().to_string() }]
        })?;
        let mut errors = Vec::new();
        for (key, value) in table {
            let raw = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => {
                    let mut parts = Vec::new();
                    for item in items {
                        match item {
                            toml::Value::String(s) => parts.push(s),
                            other => parts.push(other.to_string()),
                        }
                    }
                    parts.join(",")
                }
                other => {
                    errors.push(ConfigError {
                        key: key.clone(),
                        source: Some(src.clone()),
                        message: format!("unsupported value type {}", other.type_str()),
                    });
                    continue;
                }
            };
            if let Err(e) = self.set(&key, raw, src.clone()) {
                errors.push(e);
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Layer `FRONTDESK_<KEY>` and `FRONTDESK_<KEY>_FILE` from an environment snapshot.
    pub fn apply_env(&mut self, env: &BTreeMap<String, String>) -> Result<(), Vec<ConfigError>> {
        let mut errors = Vec::new();
        for k in KEYS {
            let var = format!("FRONTDESK_{}", k.name.to_ascii_uppercase());
            let file_var = format!("{var}_FILE");
            if let Some(v) = env.get(&var) {
                self.values.insert(k.name, (v.clone(), Source::Env(var.clone())));
            }
            if let Some(p) = env.get(&file_var) {
                let path = PathBuf::from(p);
                match std::fs::read_to_string(&path) {
                    Ok(s) => {
                        let v = s.trim_end_matches(['\n', '\r']).to_string();
                        self.values.insert(k.name, (v, Source::EnvFile(file_var.clone(), path)));
                    }
                    Err(e) => errors.push(ConfigError {
                        key: k.name.into(),
                        source: Some(Source::EnvFile(file_var.clone(), path)),
                        message: format!("cannot read file: {e}"),
                    }),
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    pub fn get(&self, key: &str) -> Option<&(String, Source)> {
        self.values.get(key)
    }

    /// Parse into a typed config, collecting every invalid value rather than stopping at the first.
    pub fn resolve(&self) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut err =
            |key: &str, msg: String| errors.push(ConfigError { key: key.into(), source: self.get(key).map(|v| v.1.clone()), message: msg });
        let raw = |key: &str| self.get(key).map(|v| v.0.trim().to_string()).filter(|s| !s.is_empty());

        let listen = raw("listen").unwrap_or_default();
        if listen.parse::<SocketAddr>().is_err() {
            err("listen", format!("{listen:?} is not an address:port such as 127.0.0.1:8080"));
        }
        let public_url = match raw("public_url") {
            None => None,
            Some(s) => match parse_public_url(&s) {
                Ok(u) => Some(u),
                Err(m) => {
                    err("public_url", m);
                    None
                }
            },
        };
        let log_format = match raw("log_format").as_deref() {
            Some("auto") | None => LogFormat::Auto,
            Some("human") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(o) => {
                err("log_format", format!("{o:?} is not one of auto, human, json"));
                LogFormat::Auto
            }
        };
        let log_level = raw("log_level").unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            err("log_level", format!("{log_level:?} is not a valid filter"));
        }
        let tls_cert = raw("tls_cert").map(PathBuf::from);
        let tls_key = raw("tls_key").map(PathBuf::from);
        if tls_cert.is_some() != tls_key.is_some() {
            err(if tls_cert.is_some() { "tls_key" } else { "tls_cert" }, "tls_cert and tls_key must be set together".into());
        }
        let secret_key = raw("secret_key");
        if let Some(s) = &secret_key
            && s.len() < 32
        {
            err("secret_key", "must be at least 32 characters".into());
        }
        let mut dur = |key: &str| match raw(key).map(|s| parse_duration(&s)) {
            Some(Ok(d)) if d > Duration::ZERO => d,
            Some(Ok(_)) => {
                err(key, "must be longer than zero".into());
                Duration::from_secs(1)
            }
            Some(Err(m)) => {
                err(key, m);
                Duration::from_secs(1)
            }
            None => {
                err(key, "missing".into());
                Duration::from_secs(1)
            }
        };
        let session_idle = dur("session_idle");
        let session_max = dur("session_max");
        let chat_idle_timeout = dur("chat_idle_timeout");
        let body_read_timeout = dur("body_read_timeout");
        let upload_grace = dur("upload_grace");
        if body_read_timeout.is_zero() {
            err("body_read_timeout", "must be at least 1s".into());
        }
        let mut rate = |key: &str| match raw(key).map(|s| Rate::parse(&s)) {
            Some(Ok(r)) => r,
            Some(Err(m)) => {
                err(key, m);
                Rate { count: 1, per: Duration::from_secs(60) }
            }
            None => {
                err(key, "missing".into());
                Rate { count: 1, per: Duration::from_secs(60) }
            }
        };
        let login_rate_ip = rate("login_rate_ip");
        let login_rate_account = rate("login_rate_account");
        let visitor_message_rate = rate("visitor_message_rate");
        let visitor_session_rate = rate("visitor_session_rate");
        let visitor_message_rate_ip = rate("visitor_message_rate_ip");
        let visitor_page_rate = rate("visitor_page_rate");
        let visitor_page_rate_ip = rate("visitor_page_rate_ip");
        let visitor_typing_rate = rate("visitor_typing_rate");
        let visitor_typing_rate_ip = rate("visitor_typing_rate_ip");
        let visitor_hello_rate = rate("visitor_hello_rate");
        let visitor_hello_rate_ip = rate("visitor_hello_rate_ip");
        let mut trusted_proxies = Vec::new();
        for part in raw("trusted_proxies").unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match part.parse::<IpAddr>() {
                Ok(ip) => trusted_proxies.push(ip),
                Err(_) => err("trusted_proxies", format!("{part:?} is not an IP address")),
            }
        }
        let mut int = |key: &str, min: u64, max: u64| match raw(key).map(|s| s.replace('_', "").parse::<u64>()) {
            Some(Ok(n)) if (min..=max).contains(&n) => n,
            Some(Ok(n)) => {
                err(key, format!("{n} is outside {min}..={max}"));
                min
            }
            _ => {
                err(key, "not a whole number".into());
                min
            }
        };
        let max_json_bytes = int("max_json_bytes", 1024, 64 << 20) as usize;
        let backup_keep = int("backup_keep", 1, 1000) as usize;
        let download_concurrency_ip = int("download_concurrency_ip", 1, 10_000) as usize;
        let mail_max_bytes = int("mail_max_bytes", 1024, 1 << 30) as usize;
        let backup_time = match raw("backup_time").as_deref() {
            None | Some("off") => None,
            Some(t) => match parse_time_of_day(t) {
                Ok(m) => Some(m),
                Err(m) => {
                    err("backup_time", m);
                    None
                }
            },
        };
        let backup_copy_dir = raw("backup_copy_dir").map(PathBuf::from);
        let webhook_allow_private = match raw("webhook_allow_private").as_deref() {
            None => false,
            Some(v) => match parse_bool(v) {
                Some(b) => b,
                None => {
                    err("webhook_allow_private", format!("{v:?} is not true or false"));
                    false
                }
            },
        };
        let mut bytes = |key: &str| match raw(key).map(|s| parse_bytes(&s)) {
            Some(Ok(n)) if n > 0 => n,
            Some(Ok(_)) => {
                err(key, "must be more than zero".into());
                1
            }
            Some(Err(m)) => {
                err(key, m);
                1
            }
            None => {
                err(key, "missing".into());
                1
            }
        };
        let upload_quota_visitor = bytes("upload_quota_visitor");
        let upload_quota_ip = bytes("upload_quota_ip");
        let storage_max = bytes("storage_max");
        let imap_url = match raw("imap_url").filter(|s| !s.trim().is_empty()) {
            Some(s) => match crate::inbound::imap::ImapUrl::parse(&s) {
                Ok(u) => Some(u),
                Err(m) => {
                    err("imap_url", m);
                    None
                }
            },
            None => None,
        };
        let imap_ca_file = raw("imap_ca_file").filter(|s| !s.trim().is_empty()).map(PathBuf::from);
        let mail_unwrap_forwards = match raw("mail_unwrap_forwards").as_deref().map(str::trim) {
            Some("true" | "yes" | "on" | "1") => true,
            Some("false" | "no" | "off" | "0" | "") | None => false,
            Some(o) => {
                err("mail_unwrap_forwards", format!("{o:?} is not true or false"));
                false
            }
        };
        let smtp_url = raw("smtp_url").and_then(|s| match crate::mail::SmtpUrl::parse(&s) {
            Ok(u) => Some(u),
            Err(m) => {
                err("smtp_url", m);
                None
            }
        });
        let mail_from = raw("mail_from");
        if let Some(m) = &mail_from
            && let Err(e) = crate::mail::parse_mailbox(m)
        {
            err("mail_from", e);
        }
        let source_of = |key: &str| self.get(key).filter(|v| !v.0.trim().is_empty()).map(|v| v.1.to_string());

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Config {
            listen,
            data_dir: PathBuf::from(raw("data_dir").unwrap_or_else(|| "./frontdesk-data".into())),
            public_url,
            log_format,
            log_level,
            tls_cert,
            tls_key,
            secret_key,
            session_idle,
            session_max,
            chat_idle_timeout,
            login_rate_ip,
            login_rate_account,
            visitor_message_rate,
            visitor_session_rate,
            visitor_message_rate_ip,
            visitor_page_rate,
            visitor_page_rate_ip,
            visitor_typing_rate,
            visitor_typing_rate_ip,
            visitor_hello_rate,
            visitor_hello_rate_ip,
            trusted_proxies,
            max_json_bytes,
            body_read_timeout,
            backup_keep,
            backup_time,
            backup_copy_dir,
            webhook_allow_private,
            smtp_url,
            smtp_url_source: source_of("smtp_url"),
            imap_url_source: source_of("imap_url"),
            mail_from,
            mail_from_source: source_of("mail_from"),
            upload_grace,
            upload_quota_visitor,
            upload_quota_ip,
            storage_max,
            download_concurrency_ip,
            imap_url,
            imap_ca_file,
            mail_max_bytes,
            mail_unwrap_forwards,
        })
    }

    /// Lines for `config check`: every key with its effective value (secrets masked) and source.
    pub fn describe(&self) -> Vec<(String, String, String)> {
        KEYS.iter()
            .map(|k| match self.get(k.name) {
                Some((v, s)) => {
                    let shown = if k.secret && !v.is_empty() { "********".to_string() } else { v.clone() };
                    (k.name.to_string(), shown, s.to_string())
                }
                None => (k.name.to_string(), String::new(), "unset".into()),
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Human,
    Json,
}

/// `count` events per `per` window, written `20/5m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    pub fn parse(s: &str) -> Result<Rate, String> {
        let (n, w) = s.split_once('/').ok_or_else(|| format!("{s:?} is not COUNT/WINDOW such as 20/5m"))?;
        let count: u32 = n.trim().parse().map_err(|_| format!("{n:?} is not a whole number"))?;
        if count == 0 {
            return Err("count must be at least 1".into());
        }
        let per = parse_duration(w.trim())?;
        if per.is_zero() {
            return Err("window must be longer than zero".into());
        }
        Ok(Rate { count, per })
    }
}

/// `90`, `90s`, `15m`, `12h`, `7d` → Duration. Plain numbers are seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a duration such as 30s, 15m, 12h or 7d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(format!("{s:?} has unknown unit {unit:?} (use s, m, h or d)")),
    };
    n.checked_mul(mult).map(Duration::from_secs).ok_or_else(|| format!("{s:?} is too large"))
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `HH:MM` (24-hour) → minutes after midnight.
pub fn parse_time_of_day(s: &str) -> Result<u32, String> {
    let bad = || format!("{s:?} is not a time such as 03:00 (or off)");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || s.trim().len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `1048576`, `512K`, `50M`, `5G` (also `KiB`, `MiB`, `GiB`; binary units) → bytes.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let s = s.trim().replace('_', "");
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size such as 512K, 50M or 5G"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("{s:?} has unknown unit {unit:?} (use K, M, G or T)")),
    };
    n.checked_mul(1 << shift).ok_or_else(|| format!("{s:?} is too large"))
}

fn parse_public_url(s: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(s).map_err(|e| format!("{s:?} is not a URL: {e}"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(format!("{s:?} must start with http:// or https://"));
    }
    if u.host().is_none() {
        return Err(format!("{s:?} has no host"));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(format!("{s:?} must not carry a query or fragment"));
    }
    Ok(u)
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub public_url: Option<url::Url>,
    pub log_format: LogFormat,
    pub log_level: String,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub secret_key: Option<String>,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub chat_idle_timeout: Duration,
    pub login_rate_ip: Rate,
    pub login_rate_account: Rate,
    /// Per visitor (token), shared by all their sockets; `_ip` ones per client IP.
    pub visitor_message_rate: Rate,
    pub visitor_session_rate: Rate,
    pub visitor_message_rate_ip: Rate,
    pub visitor_page_rate: Rate,
    pub visitor_page_rate_ip: Rate,
    pub visitor_typing_rate: Rate,
    pub visitor_typing_rate_ip: Rate,
    pub visitor_hello_rate: Rate,
    pub visitor_hello_rate_ip: Rate,
    pub trusted_proxies: Vec<IpAddr>,
    pub max_json_bytes: usize,
    /// Longest wait for the next piece of a request body (slow headers are cut by actix at 10 s).
    pub body_read_timeout: Duration,
    pub backup_keep: usize,
    /// Minutes after local midnight of the daily backup; None: no scheduled backups.
    pub backup_time: Option<u32>,
    pub backup_copy_dir: Option<PathBuf>,
    /// Webhooks may reach loopback/private addresses (tests, intranet receivers).
    pub webhook_allow_private: bool,
    /// Outgoing mail server; when None the console's value (settings table) is used.
    pub smtp_url: Option<crate::mail::SmtpUrl>,
    /// Where `smtp_url` was set (`env FRONTDESK_SMTP_URL`, `file …`), shown in the console.
    pub smtp_url_source: Option<String>,
    /// Where `imap_url` came from (`env FRONTDESK_IMAP_URL`, the file, …), for the console.
    pub imap_url_source: Option<String>,
    pub mail_from: Option<String>,
    pub mail_from_source: Option<String>,
    /// An upload not sent in a message within this time is deleted by `jobs::delete_orphan_uploads`.
    pub upload_grace: Duration,
    /// Bytes per hour one widget visitor may upload.
    pub upload_quota_visitor: u64,
    /// Bytes per hour widget visitors from one client IP may upload together.
    pub upload_quota_ip: u64,
    /// Ceiling on stored file bytes (sealed blobs, each content once).
    pub storage_max: u64,
    /// Downloads one client IP may run at once.
    pub download_concurrency_ip: usize,
    /// The support mailbox the IMAP fetcher imports (SPEC E3).
    pub imap_url: Option<crate::inbound::imap::ImapUrl>,
    /// Extra trusted certificates for the IMAP server.
    pub imap_ca_file: Option<PathBuf>,
    /// Largest incoming email accepted by every intake door.
    pub mail_max_bytes: usize,
    /// Requester of forwarded mail = the original sender.
    pub mail_unwrap_forwards: bool,
}

impl Config {
    /// Defaults with the given data dir, listening on a random loopback port (tests).
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        let mut c = Layers::defaults().resolve().expect("defaults are valid");
        c.data_dir = data_dir.into();
        c.listen = "127.0.0.1:0".into();
        c
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("frontdesk.db")
    }

    pub fn backups_dir(&self) -> PathBuf {
        self.data_dir.join("backups")
    }
}

/// Everything `load` needs from the outside world, so it is testable without touching the process.
pub struct Inputs {
    pub config_file: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    pub flags: Vec<(&'static str, String)>,
}

impl Inputs {
    pub fn from_process(config_file: Option<PathBuf>, flags: Vec<(&'static str, String)>) -> Inputs {
        let env = std::env::vars().filter(|(k, _)| k.starts_with("FRONTDESK_")).collect();
        Inputs { config_file, env, flags }
    }
}

/// Merge all layers. The config file is `--config`/`FRONTDESK_CONFIG` when given (it must
/// exist), else `./frontdesk.toml` when present.
pub fn load(inputs: &Inputs) -> Result<Layers, Vec<ConfigError>> {
    let mut layers = Layers::defaults();
    let mut errors = Vec::new();
    let explicit = inputs.config_file.clone().or_else(|| inputs.env.get("FRONTDESK_CONFIG").map(PathBuf::from));
    let file = match explicit {
        Some(p) => Some((p, true)),
        None => Some((PathBuf::from("frontdesk.toml"), false)),
    };
    if let Some((path, required)) = file {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                if let Err(e) = layers.apply_toml(&path, &text) {
                    errors.extend(e);
                }
            }
            Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => errors.push(ConfigError {
                key: "config".into(),
                source: Some(Source::File(path.clone())),
                message: format!("cannot read: {e}"),
            }),
            Err(_) => {}
        }
    }
    if let Err(e) = layers.apply_env(&inputs.env) {
        errors.extend(e);
    }
    for (flag, value) in &inputs.flags {
        let key = flag.replace('-', "_");
        if let Err(e) = layers.set(&key, value.clone(), Source::Flag(flag.to_string())) {
            errors.push(e);
        }
    }
    if errors.is_empty() { Ok(layers) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn durations() {
        let cases = [
            ("90", Ok(90)),
            ("90s", Ok(90)),
            ("15m", Ok(900)),
            ("12h", Ok(43200)),
            ("7d", Ok(604800)),
            ("", Err(())),
            ("m", Err(())),
            ("5w", Err(())),
            ("-5m", Err(())),
            ("99999999999999999999d", Err(())),
        ];
        for (input, want) in cases {
            let got = parse_duration(input).map(|d| d.as_secs()).map_err(|_| ());
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn sizes() {
        let cases = [
            ("1048576", Ok(1 << 20)),
            ("512K", Ok(512 << 10)),
            ("50M", Ok(50 << 20)),
            ("50MiB", Ok(50 << 20)),
            ("5g", Ok(5 << 30)),
            ("1_000", Ok(1000)),
            ("", Err(())),
            ("M", Err(())),
            ("5X", Err(())),
            ("-5M", Err(())),
            ("99999999999T", Err(())),
        ];
        for (input, want) in cases {
            assert_eq!(parse_bytes(input).map_err(|_| ()), want, "{input:?}");
        }
        let mut l = Layers::defaults();
        l.apply_env(&env(&[("FRONTDESK_STORAGE_MAX", "0"), ("FRONTDESK_UPLOAD_QUOTA_IP", "lots")])).unwrap();
        let text: Vec<String> = l.resolve().unwrap_err().iter().map(|e| e.to_string()).collect();
        assert!(text.iter().any(|t| t.starts_with("storage_max (from env FRONTDESK_STORAGE_MAX)")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("upload_quota_ip (from env FRONTDESK_UPLOAD_QUOTA_IP)")), "{text:?}");
        let c = Layers::defaults().resolve().unwrap();
        assert_eq!((c.upload_quota_visitor, c.upload_quota_ip, c.storage_max), (50 << 20, 200 << 20, 5 << 30));
        assert_eq!((c.upload_grace, c.download_concurrency_ip), (Duration::from_secs(3600), 16));
    }

    #[test]
    fn rates() {
        assert_eq!(Rate::parse("20/5m").unwrap(), Rate { count: 20, per: Duration::from_secs(300) });
        for bad in ["20", "0/5m", "x/5m", "5/0s", "5/abc"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn layering_order_is_defaults_file_env_flags() {
        let mut l = Layers::defaults();
        l.apply_toml(Path::new("f.toml"), "listen = \"127.0.0.1:1\"\npublic_url = \"https://a.example\"\nbackup_keep = 3\n").unwrap();
        l.apply_env(&env(&[("FRONTDESK_LISTEN", "127.0.0.1:2")])).unwrap();
        l.set("listen", "127.0.0.1:3".into(), Source::Flag("listen".into())).unwrap();
        let c = l.resolve().unwrap();
        assert_eq!(c.listen, "127.0.0.1:3");
        assert_eq!(c.public_url.unwrap().as_str(), "https://a.example/");
        assert_eq!(c.backup_keep, 3);
        assert_eq!(l.get("backup_keep").unwrap().1, Source::File("f.toml".into()));
    }

    #[test]
    fn secret_from_file_is_masked_in_describe() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret");
        std::fs::write(&p, "0123456789abcdef0123456789abcdef\n").unwrap();
        let mut l = Layers::defaults();
        l.apply_env(&env(&[("FRONTDESK_SECRET_KEY_FILE", p.to_str().unwrap())])).unwrap();
        let c = l.resolve().unwrap();
        assert_eq!(c.secret_key.as_deref(), Some("0123456789abcdef0123456789abcdef"));
        let row = l.describe().into_iter().find(|r| r.0 == "secret_key").unwrap();
        assert_eq!(row.1, "********");
        assert!(row.2.contains("FRONTDESK_SECRET_KEY_FILE"));
    }

    #[test]
    fn invalid_values_name_key_and_source() {
        let mut l = Layers::defaults();
        l.apply_env(&env(&[("FRONTDESK_LISTEN", "nope"), ("FRONTDESK_SESSION_IDLE", "5 weeks")])).unwrap();
        l.apply_toml(Path::new("x.toml"), "max_json_bytes = 5\nlog_format = \"xml\"").unwrap();
        let errs = l.resolve().unwrap_err();
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert!(text.iter().any(|t| t.starts_with("listen (from env FRONTDESK_LISTEN)")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("session_idle (from env FRONTDESK_SESSION_IDLE)")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("max_json_bytes (from file x.toml)")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("log_format (from file x.toml)")), "{text:?}");
    }

    #[test]
    fn malformed_toml_and_unknown_keys_are_errors() {
        let mut l = Layers::defaults();
        assert!(l.apply_toml(Path::new("a.toml"), "listen = ").is_err());
        let errs = l.apply_toml(Path::new("a.toml"), "lisen = \"x\"").unwrap_err();
        assert_eq!(errs[0].key, "lisen");
        assert!(errs[0].message.contains("unknown key"));
        assert!(l.apply_toml(Path::new("a.toml"), "listen = { a = 1 }").is_err());
    }

    #[test]
    fn backup_time_and_bools() {
        assert_eq!(parse_time_of_day("03:30"), Ok(210));
        assert_eq!(parse_time_of_day("23:59"), Ok(1439));
        for bad in ["3:30", "24:00", "12:60", "noon", "", "12:3x"] {
            assert!(parse_time_of_day(bad).is_err(), "{bad}");
        }
        let mut l = Layers::defaults();
        assert_eq!(l.resolve().unwrap().backup_time, Some(180));
        assert!(!l.resolve().unwrap().webhook_allow_private);
        l.apply_env(&env(&[("FRONTDESK_WEBHOOK_ALLOW_PRIVATE", "true"), ("FRONTDESK_BACKUP_TIME", "off")])).unwrap();
        let c = l.resolve().unwrap();
        assert!(c.webhook_allow_private);
        assert_eq!(c.backup_time, None);
        l.apply_env(&env(&[("FRONTDESK_WEBHOOK_ALLOW_PRIVATE", "maybe"), ("FRONTDESK_BACKUP_TIME", "25:00")])).unwrap();
        let errs = l.resolve().unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
    }

    #[test]
    fn public_url_validation() {
        for bad in ["ftp://x", "not a url", "https://x/?a=1", "https://", "http://x/#f"] {
            assert!(parse_public_url(bad).is_err(), "{bad}");
        }
        assert!(parse_public_url("https://support.example.com").is_ok());
    }

    #[test]
    fn mail_keys_parse_and_bad_values_name_the_key() {
        let mut l = Layers::defaults();
        l.apply_env(&env(&[("FRONTDESK_SMTP_URL", "smtps://u:pw@mail.example"), ("FRONTDESK_MAIL_FROM", "Shop <s@shop.example>")]))
            .unwrap();
        let c = l.resolve().unwrap();
        assert_eq!(c.smtp_url.unwrap().port, 465);
        assert_eq!(c.smtp_url_source.as_deref(), Some("env FRONTDESK_SMTP_URL"));
        assert_eq!(c.mail_from.as_deref(), Some("Shop <s@shop.example>"));
        let row = l.describe().into_iter().find(|r| r.0 == "smtp_url").unwrap();
        assert_eq!(row.1, "********");
        let mut l = Layers::defaults();
        l.apply_env(&env(&[("FRONTDESK_SMTP_URL", "http://u:hunter2@mail.example"), ("FRONTDESK_MAIL_FROM", "nobody")])).unwrap();
        let text: Vec<String> = l.resolve().unwrap_err().iter().map(|e| e.to_string()).collect();
        assert!(text.iter().any(|t| t.starts_with("smtp_url (from env FRONTDESK_SMTP_URL)")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("mail_from (from env FRONTDESK_MAIL_FROM)")), "{text:?}");
        assert!(!text.iter().any(|t| t.contains("hunter2")), "{text:?}");
    }

    #[test]
    fn missing_explicit_config_file_is_an_error() {
        let inputs = Inputs { config_file: Some("/nonexistent/frontdesk.toml".into()), env: BTreeMap::new(), flags: vec![] };
        let errs = load(&inputs).unwrap_err();
        assert_eq!(errs[0].key, "config");
    }
}
