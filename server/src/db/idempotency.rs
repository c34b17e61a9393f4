//! The `idempotency` table: a till's `Idempotency-Key`, the hash of what it asked and the answer
//! it got, so that a retry replays the answer.

use super::{Db, Tx, in_tx, read};
use chrono::{DateTime, Utc};

/// What an `Idempotency-Key` already stands for: the request's hash, the answer once stored,
/// the payment or refund it guards and until when its request may hold it unanswered.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IdempotencyRow {
    pub request_hash: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub payment_id: Option<String>,
    pub refund_id: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
}

/// The columns of [`IdempotencyRow`].
pub const IDEMPOTENCY_COLUMNS: &str =
    "request_hash, response_status, response_body, payment_id, refund_id, lease_until";

/// A request's claim on its key.
pub struct NewClaim<'a> {
    pub till_id: i64,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub at: DateTime<Utc>,
    /// After this, a claim still unanswered is taken for one whose process died.
    pub lease_until: DateTime<Utc>,
    /// The payment a creation records with its claim.
    pub payment_id: Option<&'a str>,
}

/// Claims the key for this request; `Some(existing)` when an earlier request holds it.
pub async fn claim_idempotency_key(
    tx: &mut Tx,
    claim: &NewClaim<'_>,
) -> Result<Option<IdempotencyRow>, sqlx::Error> {
    let inserted = in_tx!(tx, |c| sqlx::query(
        "insert into idempotency \
         (till_id, idempotency_key, request_hash, created_at, lease_until, payment_id) \
         values ($1, $2, $3, $4, $5, $6) on conflict (till_id, idempotency_key) do nothing"
    )
    .bind(claim.till_id)
    .bind(claim.key)
    .bind(claim.request_hash)
    .bind(claim.at)
    .bind(claim.lease_until)
    .bind(claim.payment_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if inserted == 1 {
        return Ok(None);
    }
    let (till_id, key) = (claim.till_id, claim.key);
    let sql = format!(
        "select {IDEMPOTENCY_COLUMNS} from idempotency where till_id = $1 and idempotency_key = $2"
    );
    let existing = in_tx!(tx, |c| sqlx::query_as(&sql)
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
    let sql = format!(
        "select {IDEMPOTENCY_COLUMNS} from idempotency where till_id = $1 and idempotency_key = $2"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(till_id)
        .bind(key)
        .fetch_optional(c)
        .await)
}

/// Stores the answer under the key unless it has one already (the first answer stays); `false`
/// when it had one.
pub async fn save_idempotent_response(
    tx: &mut Tx,
    till_id: i64,
    key: &str,
    status: u16,
    body: &str,
) -> Result<bool, sqlx::Error> {
    in_tx!(tx, |c| sqlx::query(
        "update idempotency set response_status = $3, response_body = $4 \
         where till_id = $1 and idempotency_key = $2 and response_status is null"
    )
    .bind(till_id)
    .bind(key)
    .bind(i64::from(status))
    .bind(body)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Names the refund a claimed key asked for, in the transaction that records it.
pub async fn link_refund(
    tx: &mut Tx,
    till_id: i64,
    key: &str,
    refund_id: &str,
) -> Result<(), sqlx::Error> {
    in_tx!(tx, |c| sqlx::query(
        "update idempotency set refund_id = $3 where till_id = $1 and idempotency_key = $2"
    )
    .bind(till_id)
    .bind(key)
    .bind(refund_id)
    .execute(c)
    .await
    .map(|_| ()))
}

/// What a claim guards: the payment it created or the refund it asked for, among the claims of
/// its till (the primary key's prefix; a creation's claim has no index of its own, so a creation
/// writes no more index entries than before — refund claims have a partial one).
#[derive(Clone, Copy)]
pub enum Guarded<'a> {
    Payment { till_id: i64, payment_id: &'a str },
    Refund { till_id: i64, refund_id: &'a str },
}

impl Guarded<'_> {
    /// The `where` condition on `$1` (the till) and `$2` (the payment or refund), and its binds.
    fn condition(&self) -> (&'static str, i64, &str) {
        match *self {
            Self::Payment {
                till_id,
                payment_id,
            } => ("till_id = $1 and payment_id = $2", till_id, payment_id),
            Self::Refund { till_id, refund_id } => {
                ("till_id = $1 and refund_id = $2", till_id, refund_id)
            }
        }
    }
}

/// Whether a claim on `guarded` is still waiting for its answer.
pub async fn has_unanswered_claim(tx: &mut Tx, guarded: Guarded<'_>) -> Result<bool, sqlx::Error> {
    let (condition, till_id, id) = guarded.condition();
    let sql =
        format!("select count(*) from idempotency where {condition} and response_status is null");
    let n: i64 = in_tx!(tx, |c| sqlx::query_scalar(&sql)
        .bind(till_id)
        .bind(id)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

/// Stores the answer of the claims on `guarded` that have none yet (whoever moves a payment or
/// refund on answers for the request that may have died). Returns how many it answered.
pub async fn answer_unanswered(
    tx: &mut Tx,
    guarded: Guarded<'_>,
    status: u16,
    body: &str,
) -> Result<u64, sqlx::Error> {
    let (condition, till_id, id) = guarded.condition();
    let sql = format!(
        "update idempotency set response_status = $3, response_body = $4 \
         where {condition} and response_status is null"
    );
    in_tx!(tx, |c| sqlx::query(&sql)
        .bind(till_id)
        .bind(id)
        .bind(i64::from(status))
        .bind(body)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
}

/// The idempotent answer to store with a change, so a retry replays it.
pub struct StoredAnswer<'a> {
    pub till_id: i64,
    pub key: &'a str,
    pub status: u16,
    pub body: &'a str,
}

/// Deletes up to `batch` answered keys made before `before`, oldest first; returns how many.
/// A claim still waiting for its answer is never touched, however old.
pub async fn delete_answered_before(
    db: &Db,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    // By the physical row (SQLite's rowid, PostgreSQL's ctid): rows go in in time order, so the
    // old ones are found first without an index on `created_at` that every creation would pay for.
    let deleted = match db {
        Db::Sqlite { write, .. } => sqlx::query(
            "delete from idempotency where rowid in (select rowid from idempotency \
                 where created_at < $1 and response_status is not null limit $2)",
        )
        .bind(before)
        .bind(batch)
        .execute(write)
        .await?
        .rows_affected(),
        Db::Postgres(pool) => sqlx::query(
            "delete from idempotency where ctid = any(array(select ctid from idempotency \
                 where created_at < $1 and response_status is not null limit $2))",
        )
        .bind(before)
        .bind(batch)
        .execute(pool)
        .await?
        .rows_affected(),
    };
    Ok(deleted)
}
