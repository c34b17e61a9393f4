//! Form errors come back only when the server itself sent them. Leptos sends a
//! JavaScript-less post's error back in the redirect's query (`__path`, `__err`), and its pages
//! would show whatever a link carries there: a crafted link could show a refund confirmation of
//! one amount over hidden fields of another, or pre-fill a form with an attacker's addresses.
//!
//! So: when a server function answers a form post with an error, this middleware sets a flash
//! cookie (`qrpay_flash`: HttpOnly, SameSite=Strict, 5 minutes) holding an HMAC of that page,
//! server function and error under a key only this process knows. A page asked for with
//! `__path`/`__err` keeps them only when the browser's flash cookie is the HMAC of exactly those
//! (and the cookie is cleared: a flash is shown once); otherwise they are removed before the
//! page renders, which then shows the plain form. No session row is written for it (anonymous
//! sign-in failures included). Behind a load balancer, an error redirect that lands on another
//! qrpay instance shows the plain form without its message.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

pub const FLASH_COOKIE: &str = "qrpay_flash";

/// The process's flash key and whether cookies are `Secure`.
#[derive(Clone)]
pub struct FlashKey {
    key: [u8; 32],
    secure: bool,
}

impl FlashKey {
    pub fn new(secure: bool) -> Self {
        Self {
            key: rand::random(),
            secure,
        }
    }

    fn mac(&self, page: &str, fn_path: &str, err: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("BUG: any key length");
        for part in [page, fn_path, err] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }

    fn cookie(&self, value: &str, max_age: u32) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{FLASH_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        ))
        .ok()
    }
}

pub async fn errors_only_from_this_server(
    State(key): State<Arc<FlashKey>>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if req.method() == Method::POST && path.starts_with("/console/fn/") {
        let mut res = next.run(req).await;
        let flash = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(error_of);
        if let Some((page, fn_path, err)) = flash
            && let Some(cookie) = key.cookie(&key.mac(&page, &fn_path, &err), 300)
        {
            res.headers_mut().append(header::SET_COOKIE, cookie);
        }
        return res;
    }
    let Some(query) = req.uri().query().map(str::to_owned) else {
        return next.run(req).await;
    };
    if req.method() != Method::GET || !query_has(&query, &["__err", "__path"]) {
        return next.run(req).await;
    }
    let pair = |name: &str| pair_of(&query, name);
    let genuine = match (pair("__path"), pair("__err"), cookie(&req, FLASH_COOKIE)) {
        (Some(fn_path), Some(err), Some(mac)) => {
            constant_time_eq(key.mac(&path, &fn_path, &err).as_bytes(), mac.as_bytes())
        }
        _ => false,
    };
    if !genuine && let Ok(uri) = without_error(&path, &query) {
        *req.uri_mut() = uri;
    }
    let mut res = next.run(req).await;
    if genuine && let Some(clear) = key.cookie("", 0) {
        res.headers_mut().append(header::SET_COOKIE, clear);
    }
    res
}

fn cookie(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn query_has(query: &str, keys: &[&str]) -> bool {
    query
        .split('&')
        .filter_map(|kv| kv.split('=').next())
        .any(|k| keys.contains(&k))
}

fn parse(path_and_query: &str) -> Option<reqwest::Url> {
    reqwest::Url::parse(path_and_query)
        .or_else(|_| reqwest::Url::parse("http://console.invalid")?.join(path_and_query))
        .ok()
}

fn pair_of(query: &str, name: &str) -> Option<String> {
    parse(&format!("/?{query}"))?
        .query_pairs()
        .filter(|(k, _)| k == name)
        .last()
        .map(|(_, v)| v.into_owned())
}

/// The page, server function and error a redirect's `Location` carries, if any.
fn error_of(location: &str) -> Option<(String, String, String)> {
    let url = parse(location)?;
    let query = url.query()?;
    Some((
        url.path().to_owned(),
        pair_of(query, "__path")?,
        pair_of(query, "__err")?,
    ))
}

/// The page's URI without `__path`/`__err`.
fn without_error(path: &str, query: &str) -> Result<Uri, String> {
    let mut url = parse(path).ok_or("not a path")?;
    url.set_query(Some(query));
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "__err" && k != "__path")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    if !kept.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
    }
    let rebuilt = match url.query() {
        Some(q) if !q.is_empty() => format!("{}?{q}", url.path()),
        _ => url.path().to_owned(),
    };
    rebuilt
        .parse()
        .map_err(|e: axum::http::uri::InvalidUri| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_read_from_locations_and_dropped_from_links() {
        let (page, f, e) =
            error_of("http://h/console/store?x=1&__path=%2Fconsole%2Ffn%2Fs&__err=QUJD").unwrap();
        assert_eq!(
            (page.as_str(), f.as_str(), e.as_str()),
            ("/console/store", "/console/fn/s", "QUJD")
        );
        assert!(error_of("/console/store?done=saved").is_none());
        let plain = without_error("/console/store", "x=1&__err=EVIL&__path=p").unwrap();
        assert_eq!(plain.to_string(), "/console/store?x=1");
        let bare = without_error("/console/store", "__err=EVIL").unwrap();
        assert_eq!(bare.to_string(), "/console/store");
        let k = FlashKey::new(false);
        assert_ne!(k.mac("/a", "/f", "E"), k.mac("/a", "/f", "F"));
        assert_ne!(
            k.mac("/a", "/f", "E"),
            FlashKey::new(false).mac("/a", "/f", "E")
        );
    }
}
