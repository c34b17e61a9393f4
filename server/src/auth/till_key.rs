//! Till keys: 256 random bits, shown once, stored as SHA-256 (a fast hash is right here: the key
//! is random, so there is nothing to brute-force, and every API request checks one).

use crate::db::{self, Db, till::TillIdentity};
use crate::error::{ApiError, ErrorCode};
use app::i18n::Lang;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};

const PREFIX: &str = "qrp_";

/// A new key: `qrp_` + 64 hex characters (256 bits).
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", hex::encode(bytes))
}

pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// What the console shows of a key: enough to tell keys apart, nothing to use.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(PREFIX.len() + 6).collect()
}

/// The till behind the request's `Authorization: Bearer <key>`.
pub struct AuthenticatedTill(pub TillIdentity);

/// Where the till's own language is left for the till API's language layer, which put it in the
/// request before the handler ran (the handler's request is its own copy; the cell is shared).
#[derive(Clone, Default)]
pub struct TillLanguage(pub Arc<OnceLock<Lang>>);

pub trait HasDb {
    fn db(&self) -> &Db;
}

impl<S: HasDb + Send + Sync> FromRequestParts<S> for AuthenticatedTill {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let unauthorized = |m: &str| ApiError::new(ErrorCode::Unauthorized, m);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("send the till key as Authorization: Bearer <key>"))?;
        let key = header
            .to_str()
            .ok()
            .and_then(bearer_token)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| unauthorized("send the till key as Authorization: Bearer <key>"))?;
        let till = db::till::till_by_key_hash(state.db(), &hash(key))
            .await?
            .ok_or_else(|| unauthorized("the till key is wrong or has been revoked"))?;
        if let Some(cell) = parts.extensions.get::<TillLanguage>() {
            let _ = cell
                .0
                .set(Lang::from_code(&till.language).unwrap_or_default());
        }
        let at = db::now();
        if till.seen_is_stale(at) {
            // «Последний запрос»: written at most once a minute per till, and not waited for.
            let db = state.db().clone();
            let till_id = till.till_id;
            tokio::spawn(async move {
                if let Err(e) = db::till::mark_seen(&db, till_id, at).await {
                    tracing::warn!(till_id, error = %e, "recording when a till was last seen");
                }
            });
        }
        // The request's log lines name the till and its store (`http` span).
        let span = tracing::Span::current();
        span.record("till", till.name.as_str());
        span.record("store", till.store_id);
        Ok(AuthenticatedTill(till))
    }
}

/// The token of `Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in ["Bearer k1", "bearer k1", "BEARER k1", "  bEaReR   k1 "] {
            assert_eq!(bearer_token(v), Some("k1"), "{v:?}");
        }
        assert_eq!(bearer_token("Basic k1"), None);
        assert_eq!(bearer_token("Bearerk1"), None);
    }

    #[test]
    fn keys_are_256_bit_and_distinct() {
        let a = generate();
        let b = generate();
        assert_eq!(a.len(), 4 + 64);
        assert_ne!(a, b);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(hash(&a).len(), 64);
        assert!(!display_prefix(&a).contains(&a[10..]));
    }
}
