//! The web dashboard at `/dashboard`: a single-page app of plain HTML, CSS and JavaScript
//! modules compiled into the binary with `include_str!`, so the server fetches nothing at run time
//! and a deployment has no asset directory to lose. The pages hold no data: they read Grove's own
//! REST API from the browser with the key the user types (kept in `sessionStorage`, sent as
//! `api-key`), so the dashboard routes are public and every data request is authorised as usual.
//! Charts are inline SVG: the Explain picture (`explain.js`), the Matryoshka calibration and the
//! subset diagnostic's labels (`charts.js`, pages in `analysis.js`). `dashboard.enabled = false` makes every
//! dashboard route 404.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::{presented_key, Access};
use crate::rest::{AppState, RestError};

/// One embedded file: name under `/dashboard/assets/`, content type, body.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: &str = include_str!("assets/index.html");

const ASSETS: &[Asset] = &[
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/style.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/api.js"),
    },
    Asset {
        name: "explain.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/explain.js"),
    },
    Asset {
        name: "dom.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/dom.js"),
    },
    Asset {
        name: "svg.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/svg.js"),
    },
    Asset {
        name: "charts.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/charts.js"),
    },
    Asset {
        name: "analysis.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/analysis.js"),
    },
];

fn disabled() -> RestError {
    RestError::Rejected(
        StatusCode::NOT_FOUND,
        "Not found: the dashboard is disabled (dashboard.enabled = false)".to_owned(),
    )
}

fn page(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// `GET /dashboard`: the single page (routes are `#/...` fragments).
pub async fn index(State(s): State<AppState>) -> Response {
    if !s.service.config().dashboard.enabled {
        return disabled().into_response();
    }
    page("text/html; charset=utf-8", INDEX)
}

/// `GET /dashboard/assets/{file}`: one embedded stylesheet or script.
pub async fn asset(State(s): State<AppState>, Path(file): Path<String>) -> Response {
    if !s.service.config().dashboard.enabled {
        return disabled().into_response();
    }
    match ASSETS.iter().find(|a| a.name == file) {
        Some(a) => page(a.content_type, a.body),
        None => RestError::Rejected(StatusCode::NOT_FOUND, format!("Not found: no dashboard asset {file}"))
            .into_response(),
    }
}

/// `GET /dashboard/api/whoami`: `write` or `read`, the access the presented key grants (the
/// route needs read access, so a missing or wrong key is already refused with 401). With auth
/// off everything is allowed, so it answers `write`. The page hides write controls on `read`;
/// the server refuses writes by that key regardless.
pub async fn whoami(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if !s.service.config().dashboard.enabled {
        return disabled().into_response();
    }
    let api_key = headers.get("api-key").and_then(|v| v.to_str().ok());
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let level = match s.keys.check(presented_key(api_key, authorization), Access::Write) {
        Ok(()) => "write",
        Err(_) => "read",
    };
    crate::rest::text(level.to_owned(), "text/plain; charset=utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_references_only_embedded_assets() {
        for a in ASSETS {
            assert!(!a.body.is_empty(), "{} is empty", a.name);
        }
        let mut refs = 0;
        for part in INDEX.split("/dashboard/assets/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(ASSETS.iter().any(|a| a.name == name), "index.html references missing asset {name}");
            refs += 1;
        }
        assert!(refs >= 2, "index.html should load the stylesheet and app.js");
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            for part in a.body.split("from './").skip(1) {
                let name = part.split('\'').next().unwrap_or_default();
                assert!(ASSETS.iter().any(|x| x.name == name), "{} imports missing module {name}", a.name);
            }
        }
    }
}
