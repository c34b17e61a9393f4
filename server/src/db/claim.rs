//! Work claims on payments and refunds, so that the workers of several qrpay instances on one
//! database never work the same payment or refund at once: a worker claims what it is about to
//! ask the bank about (`claimed_by`, until `claimed_until`), renews the claim while the job runs
//! and hands it back when the job ends. A claim past `claimed_until` (its instance died) is free.
//!
//! PostgreSQL claims with `for update skip locked`, so two instances listing at the same moment
//! split the due rows instead of queueing on each other's; SQLite has one writer, so the same
//! conditional update is the claim there.

use super::{Db, write};
use crate::domain::{PaymentStatus, RefundStatus};
use chrono::{DateTime, Utc};

/// Who claims and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Claimant<'a> {
    pub holder: &'a str,
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The row lock clause of a claim's inner select.
fn skip_locked(db: &Db) -> &'static str {
    match db {
        Db::Sqlite { .. } => "",
        Db::Postgres(_) => " for update skip locked",
    }
}

/// `column in (the ids bound at $n)`, for each backend.
fn in_ids(db: &Db, column: &str, n: u8) -> String {
    match db {
        Db::Sqlite { .. } => format!("{column} in (select value from json_each(${n}))"),
        Db::Postgres(_) => format!("{column} = any(${n})"),
    }
}

/// Runs a claim (`$1` holder, `$2` until, `$3` now, then `args`) and returns the claimed ids.
async fn claim(
    db: &Db,
    sql: &str,
    who: Claimant<'_>,
    args: ClaimArgs<'_>,
) -> Result<Vec<String>, sqlx::Error> {
    macro_rules! run {
        ($c:expr) => {{
            let q = sqlx::query_scalar(sql)
                .bind(who.holder)
                .bind(who.until)
                .bind(who.now);
            let q = match args {
                ClaimArgs::Listed { status, at, limit } => q.bind(status).bind(at).bind(limit),
                ClaimArgs::Ids { status, ids } => q.bind(status).bind(ids),
            };
            q.fetch_all($c).await
        }};
    }
    write!(db, |c| run!(c))
}

/// What a claim statement is given besides the claimant.
#[derive(Clone, Copy)]
enum ClaimArgs<'a> {
    /// `$4` status, `$5` a time bound, `$6` at most this many.
    Listed {
        status: &'a str,
        at: DateTime<Utc>,
        limit: i64,
    },
    /// `$4` status, `$5` the ids (a JSON array on SQLite, an array on PostgreSQL).
    Ids { status: &'a str, ids: IdList<'a> },
}

/// An id list bound as one argument.
#[derive(Clone, Copy)]
enum IdList<'a> {
    Json(&'a str),
    Array(&'a [String]),
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for IdList<'_> {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Sqlite as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self {
            IdList::Json(s) => <String as sqlx::Encode<sqlx::Sqlite>>::encode((*s).to_owned(), buf),
            IdList::Array(_) => Err("BUG: an id array bound on SQLite".into()),
        }
    }
}

impl sqlx::Type<sqlx::Sqlite> for IdList<'_> {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for IdList<'_> {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self {
            IdList::Array(ids) => <&[String] as sqlx::Encode<sqlx::Postgres>>::encode(*ids, buf),
            IdList::Json(_) => Err("BUG: a JSON id list bound on PostgreSQL".into()),
        }
    }
}

impl sqlx::Type<sqlx::Postgres> for IdList<'_> {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <Vec<String> as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

/// Binds `ids` the way [`in_ids`] expects them; `json` keeps the SQLite text alive.
fn id_list<'a>(db: &Db, ids: &'a [String], json: &'a mut String) -> IdList<'a> {
    match db {
        Db::Sqlite { .. } => {
            *json = serde_json::to_string(ids).expect("BUG: ids serialize");
            IdList::Json(json)
        }
        Db::Postgres(_) => IdList::Array(ids),
    }
}

const FREE: &str = "(claimed_until is null or claimed_until < $3)";

/// Claims up to `limit` payments in `status` whose deadline is at or before `at`, earliest
/// deadline first, skipping those another job holds.
pub async fn claim_due_payments(
    db: &Db,
    who: Claimant<'_>,
    status: PaymentStatus,
    at: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!(
        "update payment set claimed_by = $1, claimed_until = $2 where payment_id in \
         (select payment_id from payment where status = $4 and expires_at <= $5 and {FREE} \
          order by expires_at limit $6{}) returning payment_id",
        skip_locked(db)
    );
    let args = ClaimArgs::Listed {
        status: status.as_str(),
        at,
        limit,
    };
    claim(db, &sql, who, args).await
}

/// Claims up to `limit` payments in `status` not changed since `before`, oldest change first.
pub async fn claim_stale_payments(
    db: &Db,
    who: Claimant<'_>,
    status: PaymentStatus,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!(
        "update payment set claimed_by = $1, claimed_until = $2 where payment_id in \
         (select payment_id from payment where status = $4 and updated_at <= $5 and {FREE} \
          order by updated_at limit $6{}) returning payment_id",
        skip_locked(db)
    );
    let args = ClaimArgs::Listed {
        status: status.as_str(),
        at: before,
        limit,
    };
    claim(db, &sql, who, args).await
}

/// Claims those of `ids` that are still in `status` and free.
pub async fn claim_payments(
    db: &Db,
    who: Claimant<'_>,
    status: PaymentStatus,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "update payment set claimed_by = $1, claimed_until = $2 where payment_id in \
         (select payment_id from payment where status = $4 and {} and {FREE}{}) \
         returning payment_id",
        in_ids(db, "payment_id", 5),
        skip_locked(db)
    );
    let mut json = String::new();
    let ids = id_list(db, ids, &mut json);
    let args = ClaimArgs::Ids {
        status: status.as_str(),
        ids,
    };
    claim(db, &sql, who, args).await
}

/// Claims up to `limit` refunds in `status` not changed since `before`, oldest change first.
pub async fn claim_stale_refunds(
    db: &Db,
    who: Claimant<'_>,
    status: RefundStatus,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let sql = format!(
        "update refund set claimed_by = $1, claimed_until = $2 where refund_id in \
         (select refund_id from refund where status = $4 and updated_at <= $5 and {FREE} \
          order by updated_at limit $6{}) returning refund_id",
        skip_locked(db)
    );
    let args = ClaimArgs::Listed {
        status: status.as_str(),
        at: before,
        limit,
    };
    claim(db, &sql, who, args).await
}

/// Which of `holder`'s claims to renew or hand back.
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    pub payment_ids: &'a [String],
    pub refund_ids: &'a [String],
}

/// Extends `holder`'s claims on `held` to `until`; returns how many it still held.
pub async fn renew(
    db: &Db,
    holder: &str,
    held: Held<'_>,
    until: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    set_claims(db, holder, held, Some(until)).await
}

/// Hands `holder`'s claims on `held` back (their jobs ended).
pub async fn release(db: &Db, holder: &str, held: Held<'_>) -> Result<u64, sqlx::Error> {
    set_claims(db, holder, held, None).await
}

async fn set_claims(
    db: &Db,
    holder: &str,
    held: Held<'_>,
    until: Option<DateTime<Utc>>,
) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    for (table, key, ids) in [
        ("payment", "payment_id", held.payment_ids),
        ("refund", "refund_id", held.refund_ids),
    ] {
        if ids.is_empty() {
            continue;
        }
        let set = match until {
            Some(_) => "claimed_until = $3",
            None => "claimed_by = null, claimed_until = null",
        };
        let sql = format!(
            "update {table} set {set} where claimed_by = $1 and {}",
            in_ids(db, key, 2)
        );
        let mut json = String::new();
        let ids = id_list(db, ids, &mut json);
        total += write!(db, |c| {
            let q = sqlx::query(&sql).bind(holder).bind(ids);
            let q = match until {
                Some(until) => q.bind(until),
                None => q,
            };
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(total)
}
