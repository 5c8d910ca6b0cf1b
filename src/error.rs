//! The one place where internal errors become client answers.
//!
//! Every handler returns `Result<_, AppError>`. Client-caused errors carry a message written
//! for the client; everything else is logged in full with a request id and answered with a
//! generic `internal` error, so SQL, file paths and library messages never reach a client.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    InvalidJson,
    Invalid,
    UnknownField,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    BadOrigin,
    NotFound,
    MethodNotAllowed,
    Conflict,
    TooLarge,
    UnsupportedMediaType,
    RateLimited,
    /// An upload quota (bytes per hour per visitor or client IP) is spent.
    QuotaExceeded,
    /// Stored files reached `storage_max`.
    StorageFull,
    /// The request body stopped arriving (`body_read_timeout`).
    RequestTimeout,
    /// A one-time link (invitation, password reset) that is unknown, expired or used.
    LinkExpired,
    /// A chat transfer to an agent whose chat slots are all taken (a supervisor may force it).
    AgentFull,
    /// A chat transfer to an agent who is offline or not accepting chats.
    AgentUnavailable,
    /// A chat transfer to an agent outside the chat's department.
    NotInDepartment,
    /// A ban covers this visitor (their widget token or their address).
    Banned,
    /// The admin requires a tag before an agent ends a chat, and the chat has none.
    TagRequired,
    /// A new chat without a required pre-chat answer (a field or the consent, SPEC W3).
    PrechatRequired,
    Unavailable,
    Internal,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::InvalidJson => "invalid_json",
            Kind::Invalid => "invalid_input",
            Kind::UnknownField => "unknown_field",
            Kind::Unauthenticated => "unauthenticated",
            Kind::InvalidCredentials => "invalid_credentials",
            Kind::Forbidden => "forbidden",
            Kind::BadOrigin => "bad_origin",
            Kind::NotFound => "not_found",
            Kind::MethodNotAllowed => "method_not_allowed",
            Kind::Conflict => "conflict",
            Kind::TooLarge => "too_large",
            Kind::UnsupportedMediaType => "unsupported_media_type",
            Kind::RateLimited => "rate_limited",
            Kind::QuotaExceeded => "quota_exceeded",
            Kind::StorageFull => "storage_full",
            Kind::RequestTimeout => "request_timeout",
            Kind::LinkExpired => "link_expired",
            Kind::AgentFull => "agent_full",
            Kind::AgentUnavailable => "agent_unavailable",
            Kind::NotInDepartment => "not_in_department",
            Kind::Banned => "banned",
            Kind::TagRequired => "tag_required",
            Kind::PrechatRequired => "prechat_required",
            Kind::Unavailable => "unavailable",
            Kind::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Kind::InvalidJson | Kind::Invalid | Kind::UnknownField | Kind::PrechatRequired => StatusCode::BAD_REQUEST,
            Kind::Unauthenticated | Kind::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Kind::Forbidden | Kind::BadOrigin | Kind::Banned => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Kind::Conflict | Kind::AgentFull | Kind::AgentUnavailable | Kind::NotInDepartment | Kind::TagRequired => StatusCode::CONFLICT,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::RateLimited | Kind::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
            Kind::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            Kind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Kind::LinkExpired => StatusCode::GONE,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: Kind,
    /// Safe for clients unless `kind` is Internal, in which case only the log sees it.
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl AppError {
    pub fn new(kind: Kind, message: impl Into<String>) -> AppError {
        AppError { kind, message: message.into(), retry_after_secs: None }
    }
    pub fn invalid(message: impl Into<String>) -> AppError {
        Self::new(Kind::Invalid, message)
    }
    pub fn not_found(what: &str) -> AppError {
        Self::new(Kind::NotFound, format!("{what} not found"))
    }
    pub fn conflict(message: impl Into<String>) -> AppError {
        Self::new(Kind::Conflict, message)
    }
    pub fn forbidden(message: impl Into<String>) -> AppError {
        Self::new(Kind::Forbidden, message)
    }
    pub fn unauthenticated() -> AppError {
        Self::new(Kind::Unauthenticated, "sign in first")
    }
    pub fn internal(message: impl Into<String>) -> AppError {
        Self::new(Kind::Internal, message)
    }
    pub fn unavailable(message: impl Into<String>) -> AppError {
        Self::new(Kind::Unavailable, message)
    }
    pub fn rate_limited(retry_after_secs: u64) -> AppError {
        AppError {
            kind: Kind::RateLimited,
            message: format!("too many attempts; try again in {retry_after_secs} s"),
            retry_after_secs: Some(retry_after_secs.max(1)),
        }
    }

    /// The message a client may see.
    pub fn public_message(&self) -> &str {
        match self.kind {
            Kind::Internal => "something went wrong on the server; the error was logged",
            _ => &self.message,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for AppError {}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> AppError {
        use rusqlite::ErrorCode;
        if let rusqlite::Error::SqliteFailure(f, _) = &e
            && matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        {
            return AppError::unavailable("the database is busy; try again");
        }
        AppError::internal(format!("database: {e}"))
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}
#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

pub fn json_error(kind: Kind, message: &str) -> HttpResponse {
    HttpResponse::build(kind.status()).json(Body { error: Inner { code: kind.code(), message } })
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.kind == Kind::Internal {
            tracing::error!(error = %self.message, "internal error");
        }
        let mut resp = json_error(self.kind, self.public_message());
        if let Some(secs) = self.retry_after_secs {
            resp.headers_mut().insert(actix_web::http::header::RETRY_AFTER, actix_web::http::header::HeaderValue::from(secs));
        }
        resp
    }
}

/// Map actix's JSON extractor failures to our shape, naming the field where serde can.
pub fn json_payload_error(err: actix_web::error::JsonPayloadError) -> AppError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::OverflowKnownLength { limit, .. } | J::Overflow { limit } => {
            AppError::new(Kind::TooLarge, format!("body is larger than {limit} bytes"))
        }
        J::ContentType => AppError::new(Kind::UnsupportedMediaType, "send Content-Type: application/json"),
        J::Deserialize(e) => deserialize_error(&e),
        J::Payload(p) => match p {
            actix_web::error::PayloadError::Overflow => AppError::new(Kind::TooLarge, "body is too large"),
            other => AppError::invalid(format!("could not read the body: {other}")),
        },
        other => AppError::new(Kind::InvalidJson, format!("invalid JSON body: {other}")),
    }
}

pub fn deserialize_error(e: &serde_json::Error) -> AppError {
    let text = e.to_string();
    if text.starts_with("unknown field") {
        return AppError::new(Kind::UnknownField, text);
    }
    match e.classify() {
        serde_json::error::Category::Data => AppError::invalid(text),
        _ => AppError::new(Kind::InvalidJson, format!("invalid JSON: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_leak() {
        let e = AppError::from(rusqlite::Error::InvalidPath("/secret/path.db".into()));
        assert_eq!(e.kind, Kind::Internal);
        assert!(!e.public_message().contains("secret"));
    }

    #[test]
    fn statuses_and_codes() {
        let table = [
            (Kind::InvalidJson, 400, "invalid_json"),
            (Kind::UnknownField, 400, "unknown_field"),
            (Kind::Unauthenticated, 401, "unauthenticated"),
            (Kind::BadOrigin, 403, "bad_origin"),
            (Kind::Conflict, 409, "conflict"),
            (Kind::AgentFull, 409, "agent_full"),
            (Kind::AgentUnavailable, 409, "agent_unavailable"),
            (Kind::NotInDepartment, 409, "not_in_department"),
            (Kind::TooLarge, 413, "too_large"),
            (Kind::RateLimited, 429, "rate_limited"),
            (Kind::QuotaExceeded, 429, "quota_exceeded"),
            (Kind::StorageFull, 507, "storage_full"),
            (Kind::Internal, 500, "internal"),
        ];
        for (k, status, code) in table {
            assert_eq!(k.status().as_u16(), status);
            assert_eq!(k.code(), code);
        }
    }

    #[test]
    fn serde_errors_are_classified() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let unknown = serde_json::from_str::<T>(r#"{"a":1,"b":2}"#).unwrap_err();
        assert_eq!(deserialize_error(&unknown).kind, Kind::UnknownField);
        let wrong_type = serde_json::from_str::<T>(r#"{"a":"x"}"#).unwrap_err();
        assert_eq!(deserialize_error(&wrong_type).kind, Kind::Invalid);
        let syntax = serde_json::from_str::<T>(r#"{"a":"#).unwrap_err();
        assert_eq!(deserialize_error(&syntax).kind, Kind::InvalidJson);
    }
}
