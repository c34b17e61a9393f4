//! Form errors come back from the session, not from the URL. Leptos sends a JavaScript-less
//! post's error back in the redirect's query (`__path`, `__err`), and its pages would show
//! whatever a link carries there: a crafted link could show a refund confirmation of one
//! amount over hidden fields of another, or pre-fill a form with an attacker's addresses.
//!
//! So: when a server function answers a form post with an error, this middleware keeps that
//! error in the session (the flash); when a page is then asked for with `__err`, the URL's
//! `__path`/`__err` are replaced by the flash, which is read once, or removed when there is
//! none for this page. What a page shows is always what the server itself answered.

use axum::extract::Request;
use axum::http::{Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const FLASH: &str = "flash";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Flash {
    /// The page the error goes back to (its path).
    page: String,
    /// The server function (`__path`) and its encoded error (`__err`).
    fn_path: String,
    err: String,
}

pub async fn errors_from_the_session(session: Session, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if req.method() == Method::POST && path.starts_with("/console/fn/") {
        let res = next.run(req).await;
        if let Some(flash) = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(flash_of)
        {
            if let Err(e) = session.insert(FLASH, flash).await {
                tracing::warn!(error = %e, "cannot keep a form error in the session");
            }
        }
        return res;
    }
    if req.method() == Method::GET
        && let Some(query) = req.uri().query()
        && query_has(query, &["__err", "__path"])
    {
        let flash = session
            .remove::<Flash>(FLASH)
            .await
            .ok()
            .flatten()
            .filter(|f| f.page == path);
        if let Ok(uri) = rewrite(&path, query, flash.as_ref()) {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

fn query_has(query: &str, keys: &[&str]) -> bool {
    query
        .split('&')
        .filter_map(|kv| kv.split('=').next())
        .any(|k| keys.contains(&k))
}

/// The flash a redirect's `Location` carries (an error answer of a form post), if any.
fn flash_of(location: &str) -> Option<Flash> {
    let url = reqwest::Url::parse(location)
        .or_else(|_| reqwest::Url::parse("http://console.invalid")?.join(location))
        .ok()?;
    let pair = |name: &str| {
        url.query_pairs()
            .filter(|(k, _)| k == name)
            .last()
            .map(|(_, v)| v.into_owned())
    };
    Some(Flash {
        page: url.path().to_owned(),
        fn_path: pair("__path")?,
        err: pair("__err")?,
    })
}

/// The page's URI without the link's `__path`/`__err`, and with the flash's if there is one.
fn rewrite(path: &str, query: &str, flash: Option<&Flash>) -> Result<Uri, String> {
    let mut url = reqwest::Url::parse("http://console.invalid").map_err(|e| e.to_string())?;
    url.set_path(path);
    url.set_query(Some(query));
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "__err" && k != "__path")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        if let Some(f) = flash {
            q.append_pair("__path", &f.fn_path);
            q.append_pair("__err", &f.err);
        }
    }
    let query = url.query().unwrap_or_default();
    let rebuilt = if query.is_empty() {
        url.path().to_owned()
    } else {
        format!("{}?{query}", url.path())
    };
    rebuilt
        .parse()
        .map_err(|e: axum::http::uri::InvalidUri| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_s_error_is_replaced_by_the_flash_or_dropped() {
        let f =
            flash_of("http://h/console/store?x=1&__path=%2Fconsole%2Ffn%2Fs&__err=QUJD").unwrap();
        assert_eq!(f.page, "/console/store");
        assert_eq!(f.fn_path, "/console/fn/s");
        assert_eq!(f.err, "QUJD");
        assert!(flash_of("/console/store?done=saved").is_none());
        let plain = rewrite("/console/store", "x=1&__err=EVIL&__path=p", None).unwrap();
        assert_eq!(plain.to_string(), "/console/store?x=1");
        let real = rewrite("/console/store", "__err=EVIL", Some(&f)).unwrap();
        assert_eq!(
            real.to_string(),
            "/console/store?__path=%2Fconsole%2Ffn%2Fs&__err=QUJD"
        );
    }
}
