//! The compiled web UI (web/dist), embedded in the binary.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use super::routes::is_api_path;
use crate::error::{AppError, Kind, json_error};

/// The widget document runs inside other sites' pages: same strictness as the console, but
/// framing allowed — by any site, or only by the admin's allowed sites (W11, [`widget_csp`]).
pub const WIDGET_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
    connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *";

/// The widget's CSP with `frame-ancestors` limited to `allowed` (normalized origins; empty:
/// any site). Our own origin may always frame it (the console's live preview).
pub fn widget_csp(allowed: &[String]) -> String {
    if allowed.is_empty() {
        return WIDGET_CSP.to_string();
    }
    let base = WIDGET_CSP.trim_end_matches("frame-ancestors *");
    format!("{base}frame-ancestors 'self' {}", allowed.join(" "))
}

#[derive(RustEmbed)]
#[folder = "web/dist/"]
struct Dist;

/// Default service: embedded files, the SPA fallback for GET navigation, JSON errors elsewhere.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    if is_api_path(path) {
        let policies = req.app_data::<actix_web::web::Data<super::routes::Policies>>();
        let known_path = policies.is_some_and(|p| p.path_known(path));
        return if known_path {
            json_error(Kind::MethodNotAllowed, "method not allowed on this path")
        } else {
            json_error(Kind::NotFound, "no such endpoint")
        };
    }
    if !get {
        return json_error(Kind::MethodNotAllowed, "only GET is served here");
    }
    let file = path.trim_start_matches('/');
    // Named pages: the widget's iframe document and the demo shop.
    match file {
        "widget" => {
            let csp = match req.app_data::<actix_web::web::Data<crate::state::AppState>>() {
                Some(st) => widget_csp(&st.routing.settings().allowed_origins),
                None => WIDGET_CSP.to_string(),
            };
            return file_response(&req, "widget.html")
                .map(|mut r| {
                    // Embeddable by any site until an admin restricts it (W11).
                    if let Ok(v) = HeaderValue::from_str(&csp) {
                        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
                    }
                    r
                })
                .unwrap_or_else(|| actix_web::ResponseError::error_response(&AppError::not_found("widget")));
        }
        "demo" => {
            return file_response(&req, "demo.html")
                .unwrap_or_else(|| actix_web::ResponseError::error_response(&AppError::not_found("demo")));
        }
        _ => {}
    }
    if !file.is_empty()
        && let Some(resp) = file_response(&req, file)
    {
        return resp;
    }
    // A missing hashed asset is a real 404, not a page: answering HTML to a script tag hides bugs.
    if file.starts_with("assets/") || file.contains('.') {
        return actix_web::ResponseError::error_response(&AppError::not_found("file"));
    }
    file_response(&req, "index.html")
        .unwrap_or_else(|| HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE).body("web UI not built (web/dist is empty)"))
}

pub fn file_response(req: &HttpRequest, file: &str) -> Option<HttpResponse> {
    let asset = Dist::get(file)?;
    let etag = format!("\"{}\"", hex::encode(&asset.metadata.sha256_hash()[..16]));
    let immutable = file.starts_with("assets/");
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    if req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag) {
        return Some(
            HttpResponse::NotModified().insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, cache)).finish(),
        );
    }
    let mime = mime_guess::from_path(file).first_or_octet_stream();
    let mut resp = HttpResponse::Ok();
    resp.insert_header((header::CONTENT_TYPE, HeaderValue::from_str(mime.essence_str()).ok()?))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache));
    if mime.type_() == mime_guess::mime::TEXT || mime.subtype() == mime_guess::mime::JAVASCRIPT {
        resp.insert_header((header::CONTENT_TYPE, format!("{}; charset=utf-8", mime.essence_str())));
    }
    Some(resp.body(asset.data.into_owned()))
}
