//! The language of the till API's error messages: the request's `Accept-Language` when it names
//! Russian or English, else the till's own setting (`till.language`), else Russian. The error
//! body carries both messages inside qrpay (`error::RU_KEY`); this layer keeps the one asked for.

use crate::auth::till_key::TillLanguage;
use crate::error::{ErrorCode, RU_KEY};
use app::i18n::Lang;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::Response;

/// Error bodies are small; anything larger is passed on as it is.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The language a request names in `Accept-Language`, if it names Russian or English.
pub fn asked_language(header: Option<&str>) -> Option<Lang> {
    let header = header?;
    let names_one = header.split(',').any(|part| {
        let mut it = part.split(';');
        let primary = it
            .next()
            .unwrap_or("")
            .trim()
            .split('-')
            .next()
            .unwrap_or("");
        let refused = it.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        Lang::from_code(primary).is_some() && !refused
    });
    names_one.then(|| Lang::resolve(None, Some(header)))
}

/// The middleware: lets the till-key check leave the till's language, then keeps the error
/// message in the language chosen.
pub async fn error_language(mut req: Request, next: Next) -> Response {
    let asked = asked_language(
        req.headers()
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let till = TillLanguage::default();
    req.extensions_mut().insert(till.clone());
    let response = next.run(req).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status().as_u16() < 400 || !is_json {
        return response;
    }
    let lang = asked.or_else(|| till.0.get().copied()).unwrap_or_default();
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut json) => match json["error"].as_object_mut() {
            Some(error) => {
                // An error made outside `ApiError` (a layer's) says its code's general words.
                let ru = error.remove(RU_KEY).or_else(|| {
                    let code = error.get("code")?;
                    let field = error.get("field").and_then(|f| f.as_str());
                    ErrorCode::ALL
                        .into_iter()
                        .find(|c| serde_json::to_value(c).ok().as_ref() == Some(code))
                        .map(|c| c.words_ru(field).into())
                });
                if let Some(ru) = ru
                    && lang == Lang::Ru
                {
                    error.insert("message".into(), ru);
                }
                parts.headers.remove(CONTENT_LENGTH);
                axum::body::Bytes::from(json.to_string())
            }
            None => bytes,
        },
        Err(_) => bytes,
    };
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_a_language_only_with_russian_or_english() {
        assert_eq!(asked_language(Some("ru-RU,ru;q=0.9")), Some(Lang::Ru));
        assert_eq!(asked_language(Some("en")), Some(Lang::En));
        assert_eq!(asked_language(Some("de, en;q=0.5")), Some(Lang::En));
        assert_eq!(asked_language(Some("de")), None);
        assert_eq!(asked_language(Some("en;q=0")), None);
        assert_eq!(asked_language(Some("*")), None);
        assert_eq!(asked_language(None), None);
    }
}
