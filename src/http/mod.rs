//! HTTP plumbing: the route table, access control, extractor configs, the embedded web
//! assets, health and metrics. The shared state lives in `crate::state`.

pub mod assets;
pub mod health;
pub mod routes;

use actix_web::dev::ServiceRequest;
use actix_web::{HttpRequest, web};

use crate::error::{AppError, deserialize_error, json_payload_error};
use crate::state::AppState;

/// The client's User-Agent, cut to a sane length for storage.
pub fn user_agent(req: &HttpRequest) -> String {
    req.headers().get(actix_web::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(300).collect()
}

/// Extractor configs so every malformed body, path and query answers in our error shape.
pub fn extractor_configs(cfg: &mut web::ServiceConfig, max_json: usize) {
    cfg.app_data(web::JsonConfig::default().limit(max_json).error_handler(|e, _| json_payload_error(e).into()))
        .app_data(web::PathConfig::default().error_handler(|_, _| AppError::not_found("object").into()))
        .app_data(web::QueryConfig::default().error_handler(|e, _| AppError::invalid(format!("query string: {e}")).into()));
}

/// Parse a JSON value we already hold (e.g. from a socket frame) with the same errors as bodies.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, AppError> {
    serde_json::from_str(text).map_err(|e| deserialize_error(&e))
}

pub fn state(req: &ServiceRequest) -> web::Data<AppState> {
    req.app_data::<web::Data<AppState>>().cloned().expect("AppState is registered")
}
