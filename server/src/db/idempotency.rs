//! The `idempotency` table: a till's `Idempotency-Key`, the hash of what it asked and the answer
//! it got, so that a retry replays the answer.

use super::{Db, Tx, in_tx, read};
use chrono::{DateTime, Utc};

/// What an `Idempotency-Key` already stands for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdempotencyRow {
    pub request_hash: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
}

/// Claims the key for this request; `Some(existing)` when an earlier request holds it.
pub async fn claim_idempotency_key(
    tx: &mut Tx,
    till_id: i64,
    key: &str,
    request_hash: &str,
    at: DateTime<Utc>,
) -> Result<Option<IdempotencyRow>, sqlx::Error> {
    let inserted = in_tx!(tx, |c| sqlx::query(
        "insert into idempotency (till_id, idempotency_key, request_hash, created_at) \
         values ($1, $2, $3, $4) on conflict (till_id, idempotency_key) do nothing"
    )
    .bind(till_id)
    .bind(key)
    .bind(request_hash)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if inserted == 1 {
        return Ok(None);
    }
    let existing = in_tx!(tx, |c| sqlx::query_as(
        "select request_hash, response_status, response_body from idempotency \
         where till_id = $1 and idempotency_key = $2"
    )
    .bind(till_id)
    .bind(key)
    .fetch_one(c)
    .await)?;
    Ok(Some(existing))
}

pub async fn find_idempotency_key(
    db: &Db,
    till_id: i64,
    key: &str,
) -> Result<Option<IdempotencyRow>, sqlx::Error> {
    read!(db, |c| sqlx::query_as(
        "select request_hash, response_status, response_body from idempotency \
         where till_id = $1 and idempotency_key = $2"
    )
    .bind(till_id)
    .bind(key)
    .fetch_optional(c)
    .await)
}

pub async fn save_idempotent_response(
    tx: &mut Tx,
    till_id: i64,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), sqlx::Error> {
    in_tx!(tx, |c| sqlx::query(
        "update idempotency set response_status = $3, response_body = $4 \
         where till_id = $1 and idempotency_key = $2"
    )
    .bind(till_id)
    .bind(key)
    .bind(i64::from(status))
    .bind(body)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The idempotent answer to store with a change, so a retry replays it.
pub struct StoredAnswer<'a> {
    pub till_id: i64,
    pub key: &'a str,
    pub status: u16,
    pub body: &'a str,
}
