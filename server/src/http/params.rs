//! Path and query extractors for the till API whose every rejection is the JSON error contract
//! (axum's own answer plain text): an id that is not UTF-8 cannot name a payment (404), a query
//! string that cannot be decoded is a 422 naming the query.

use crate::error::{ApiError, ErrorCode};
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use std::collections::HashMap;

/// The one `{id}` of a till API path.
pub struct ApiPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ApiPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(ApiPath(id)),
            Err(_) => Err(ApiError::new(
                ErrorCode::NotFound,
                "no such object: the id in the path is not valid UTF-8 text",
            )),
        }
    }
}

/// The query string as name → value (the last value of a repeated name wins).
pub struct ApiQuery(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for ApiQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<HashMap<String, String>>::from_request_parts(parts, state).await {
            Ok(Query(q)) => Ok(ApiQuery(q)),
            Err(e) => Err(ApiError::field(
                ErrorCode::InvalidField,
                "query",
                format!("the query string cannot be read: {}", e.body_text()),
            )),
        }
    }
}
