//! The till API's JSON body extractor: every way a body can be wrong maps to the error contract
//! (400 `invalid_json`, 413, 415, 422 naming the field), and the request hash for idempotency.

use crate::error::{ApiError, ErrorCode};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// The largest body the till API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A parsed JSON body plus the hash of its canonical form (key order and spacing do not matter).
pub struct ApiJson<T> {
    pub value: T,
    pub canonical_hash: String,
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if mime != "application/json" && !mime.ends_with("+json") {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    format!("the body must be application/json, not {ct:?}"),
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the body must be at most {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::new(
                    ErrorCode::InvalidJson,
                    format!("cannot read the body: {rejection}"),
                )
            }
        })?;
        parse_body(&bytes)
    }
}

/// Parses `bytes` as JSON into `T`; syntax errors are 400, shape errors 422 with the field's path.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<ApiJson<T>, ApiError> {
    let raw: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidJson,
                format!("the body is not valid JSON: {e}"),
            )
        })?
    };
    if !raw.is_object() {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            "the body must be a JSON object",
        ));
    }
    // serde_json's map is sorted by key, so this text is the same for the same content.
    let canonical = raw.to_string();
    let value = serde_path_to_error::deserialize(&raw).map_err(shape_error)?;
    Ok(ApiJson {
        value,
        canonical_hash: hex::encode(Sha256::digest(canonical.as_bytes())),
    })
}

fn shape_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner().to_string();
    // serde's messages: "missing field `amount`", "unknown field `x`, expected one of …".
    if let Some(field) = between(&inner, "missing field `", "`") {
        let field = join_path(&path, field);
        return ApiError::field(
            ErrorCode::MissingField,
            &field,
            format!("{field}: this field is required"),
        );
    }
    if let Some(field) = between(&inner, "unknown field `", "`") {
        // The path already ends with the unknown field.
        let field = if path == "." { field.to_owned() } else { path };
        return ApiError::field(
            ErrorCode::UnknownField,
            &field,
            format!("{field}: unknown field"),
        );
    }
    let field = if path == "." { "body".to_owned() } else { path };
    let message = inner.split(" at line ").next().unwrap_or(&inner).to_owned();
    ApiError::field(
        ErrorCode::InvalidField,
        &field,
        format!("{field}: {message}"),
    )
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

fn join_path(path: &str, field: &str) -> String {
    if path == "." || path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        amount: i64,
        note: Option<String>,
    }

    fn err_of(body: &str) -> (ErrorCode, Option<String>) {
        match parse_body::<Body>(body.as_bytes()) {
            Err(ApiError::Client { code, field, .. }) => (code, field),
            other => panic!("expected an error, got {:?}", other.map(|j| j.value)),
        }
    }

    #[test]
    fn each_kind_of_bad_body_gets_its_code_and_field() {
        assert_eq!(err_of("{\"amount\": 1,"), (ErrorCode::InvalidJson, None));
        assert_eq!(err_of("[1]"), (ErrorCode::InvalidJson, None));
        assert_eq!(
            err_of("{}"),
            (ErrorCode::MissingField, Some("amount".into()))
        );
        assert_eq!(
            err_of("{\"amount\":1,\"x\":2}"),
            (ErrorCode::UnknownField, Some("x".into()))
        );
        assert_eq!(
            err_of("{\"amount\":1.5}"),
            (ErrorCode::InvalidField, Some("amount".into()))
        );
        assert_eq!(
            err_of("{\"amount\":\"10\"}"),
            (ErrorCode::InvalidField, Some("amount".into()))
        );
    }

    #[test]
    fn the_hash_ignores_key_order_and_spacing() {
        let a = parse_body::<Body>(br#"{"amount":1,"note":"x"}"#).unwrap();
        let b = parse_body::<Body>(b"{ \"note\" : \"x\",\n \"amount\" : 1 }").unwrap();
        let c = parse_body::<Body>(br#"{"amount":2,"note":"x"}"#).unwrap();
        assert_eq!(a.canonical_hash, b.canonical_hash);
        assert_ne!(a.canonical_hash, c.canonical_hash);
    }
}
