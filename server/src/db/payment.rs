//! The `payment` table: the row and its reads, creating a payment (with its `Idempotency-Key`
//! claim) and the guarded status update.
//!
//! Status changes are guarded updates (`where … and status = $expected`): whoever changes the row
//! first wins, and the loser sees zero rows affected and reloads.

use super::idempotency::{IDEMPOTENCY_COLUMNS, IdempotencyRow, NewClaim};
use super::inline::{bind_numbered, sqlx_error, timestamp_text};
use super::payment_lite::{idempotency_row_lite, lite_execute};
use super::{Db, Tx, in_tx, read};
use crate::domain::PaymentStatus;
use chrono::{DateTime, Utc};

const PAYMENT_COLUMNS: &str = "p.payment_id, p.store_id, p.till_id, p.payment_type_id, \
    pt.name as payment_type_name, p.module, p.status, p.amount, p.currency, p.receipt, \
    p.description, p.customer_qr, p.order_ref, p.qr_id, p.qr_payload, p.bank_transaction_id, \
    p.failure_code, p.failure_message, p.expires_at, p.paid_at, p.refunded_amount, p.late, \
    p.test, p.created_at, p.updated_at, p.static_qr_id, p.bank_order, p.cash_link_qr_id, \
    t.qr_outputs as till_qr_outputs, \
    t.paper_width as till_paper_width, t.escpos_native as till_escpos_native, \
    t.cash_link_payload as till_cash_link_payload";

const PAYMENT_FROM: &str = "from payment p join payment_type pt on pt.payment_type_id = p.payment_type_id \
    join till t on t.till_id = p.till_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub payment_id: String,
    pub store_id: i64,
    pub till_id: i64,
    pub payment_type_id: i64,
    pub payment_type_name: String,
    pub module: String,
    pub status: String,
    pub amount: i64,
    pub currency: String,
    pub receipt: String,
    pub description: Option<String>,
    pub customer_qr: Option<String>,
    pub order_ref: String,
    pub qr_id: Option<String>,
    pub qr_payload: Option<String>,
    pub bank_transaction_id: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub refunded_amount: i64,
    pub late: bool,
    /// Made on a test module (set at creation): no money moved.
    pub test: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The static QR the customer paid with (a payment the bank reported, not a till's).
    pub static_qr_id: Option<i64>,
    /// The order the bank gave a static-QR payment (refunds send it, with its transaction id).
    pub bank_order: Option<String>,
    /// The till's cash link the payment activated (its QR id): the bank knows the payment as
    /// an order on that link, not as a QR of its own.
    pub cash_link_qr_id: Option<String>,
    /// The QR output settings of the till that created the payment (see `qr::outputs`).
    pub till_qr_outputs: String,
    pub till_paper_width: i64,
    pub till_escpos_native: bool,
    /// The link of the till's cash link now (asking the bank again about a cash-link payment
    /// whose answer was lost).
    pub till_cash_link_payload: Option<String>,
}

impl PaymentRow {
    pub fn status(&self) -> PaymentStatus {
        PaymentStatus::parse(&self.status).expect("BUG: status column has a check constraint")
    }

    /// Where the till that created the payment shows its QR, and how it prints it.
    pub fn till_outputs(&self) -> crate::qr::outputs::TillOutputs {
        crate::qr::outputs::TillOutputs::from_columns(
            &self.till_qr_outputs,
            self.till_paper_width,
            self.till_escpos_native,
        )
    }
}

pub struct NewPayment<'a> {
    pub payment_id: &'a str,
    pub store_id: i64,
    pub till_id: i64,
    pub payment_type_id: i64,
    pub module: &'a str,
    pub amount: i64,
    pub receipt: &'a str,
    pub description: Option<&'a str>,
    pub customer_qr: Option<&'a str>,
    pub order_ref: &'a str,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The payment type's module is a test module.
    pub test: bool,
    /// The till's cash link the payment activates (`None`: a QR of its own).
    pub cash_link_qr_id: Option<&'a str>,
}

const INSERT_PAYMENT_COLUMNS: &str = "insert into payment (payment_id, store_id, till_id, payment_type_id, \
    module, status, amount, receipt, description, customer_qr, order_ref, expires_at, created_at, updated_at, test, \
    cash_link_qr_id)";
const NEW_PAYMENT_VALUES: &str =
    "$1, $2, $3, $4, $5, 'creating', $6, $7, $8, $9, $10, $11, $12, $12, $13, $14";
const EVENT_COLUMNS: &str =
    "insert into payment_event (payment_id, to_status, trigger, created_at)";

/// What claiming an `Idempotency-Key` for a new payment found.
pub enum Claim {
    /// The key was free: the payment is recorded in `creating`.
    Created,
    /// An earlier request holds the key; nothing was written.
    Existing(IdempotencyRow),
}

/// The arguments of the claim, owned, so that it can run on the SQLite writer's thread.
struct OwnedClaimBinds {
    payment_id: String,
    store_id: i64,
    till_id_of_payment: i64,
    payment_type_id: i64,
    module: String,
    amount: i64,
    receipt: String,
    description: Option<String>,
    customer_qr: Option<String>,
    order_ref: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    test: bool,
    cash_link_qr_id: Option<String>,
    till_id: i64,
    key: String,
    request_hash: String,
    lease_until: DateTime<Utc>,
}

impl OwnedClaimBinds {
    fn new(claim: &NewClaim<'_>, p: &NewPayment<'_>) -> Self {
        Self {
            payment_id: p.payment_id.to_owned(),
            store_id: p.store_id,
            till_id_of_payment: p.till_id,
            payment_type_id: p.payment_type_id,
            module: p.module.to_owned(),
            amount: p.amount,
            receipt: p.receipt.to_owned(),
            description: p.description.map(str::to_owned),
            customer_qr: p.customer_qr.map(str::to_owned),
            order_ref: p.order_ref.to_owned(),
            expires_at: p.expires_at,
            created_at: p.created_at,
            test: p.test,
            cash_link_qr_id: p.cash_link_qr_id.map(str::to_owned),
            till_id: claim.till_id,
            key: claim.key.to_owned(),
            request_hash: claim.request_hash.to_owned(),
            lease_until: claim.lease_until,
        }
    }
}

impl OwnedClaimBinds {
    /// Binds `$1`…`$18` of the PostgreSQL claim statement (the payment's `NEW_PAYMENT_VALUES`,
    /// then the key's till, key, request hash and lease).
    fn bind<'q, O>(
        &'q self,
        q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
        q.bind(self.payment_id.as_str())
            .bind(self.store_id)
            .bind(self.till_id_of_payment)
            .bind(self.payment_type_id)
            .bind(self.module.as_str())
            .bind(self.amount)
            .bind(self.receipt.as_str())
            .bind(self.description.as_deref())
            .bind(self.customer_qr.as_deref())
            .bind(self.order_ref.as_str())
            .bind(self.expires_at)
            .bind(self.created_at)
            .bind(self.test)
            .bind(self.cash_link_qr_id.as_deref())
            .bind(self.till_id)
            .bind(self.key.as_str())
            .bind(self.request_hash.as_str())
            .bind(self.lease_until)
    }
}

impl OwnedClaimBinds {
    /// Calls `run` with `$1`…`$18` as [`Self::bind`] binds them, borrowed, for rusqlite
    /// (timestamps as the text sqlx writes).
    fn with_lite_values<R>(&self, run: impl FnOnce(&[&dyn rusqlite::ToSql]) -> R) -> R {
        let expires_at = timestamp_text(&self.expires_at);
        let created_at = timestamp_text(&self.created_at);
        let lease_until = timestamp_text(&self.lease_until);
        run(&[
            &self.payment_id,
            &self.store_id,
            &self.till_id_of_payment,
            &self.payment_type_id,
            &self.module,
            &self.amount,
            &self.receipt,
            &self.description,
            &self.customer_qr,
            &self.order_ref,
            &expires_at,
            &created_at,
            &self.test,
            &self.cash_link_qr_id,
            &self.till_id,
            &self.key,
            &self.request_hash,
            &lease_until,
        ])
    }
}

/// Claims the till's `Idempotency-Key` and, if it was free, records the new payment in
/// `creating` with its first event — atomically. On SQLite it is one unit of a group-committed
/// batch, run on the writer's thread ([`super::group_commit`]): the single writer is the
/// throughput limit of payment creation.
pub async fn claim_and_insert_creating(
    db: &Db,
    claim: &NewClaim<'_>,
    p: &NewPayment<'_>,
) -> Result<Claim, sqlx::Error> {
    let b = OwnedClaimBinds::new(claim, p);
    let Db::Sqlite { group, .. } = db else {
        return claim_and_insert_creating_pg(db, b).await;
    };
    // In the writer thread (a till that hangs up cannot cut the unit short), in one
    // transaction with the writes waiting beside it.
    group
        .run(move |conn| {
            b.with_lite_values(|v| {
                let claimed = lite_execute(conn, SQLITE_CLAIM, v).map_err(sqlx_error)?;
                if claimed == 1 {
                    lite_execute(conn, &SQLITE_NEW_PAYMENT, v).map_err(sqlx_error)?;
                    lite_execute(conn, &SQLITE_FIRST_EVENT, v).map_err(sqlx_error)?;
                    return Ok(Claim::Created);
                }
                let mut stmt = conn
                    .prepare_cached(&SQLITE_EXISTING_CLAIM)
                    .map_err(sqlx_error)?;
                bind_numbered(&mut stmt, v).map_err(sqlx_error)?;
                let mut rows = stmt.raw_query();
                let row = rows
                    .next()
                    .map_err(sqlx_error)?
                    .ok_or(sqlx::Error::RowNotFound)?;
                Ok(Claim::Existing(
                    idempotency_row_lite(row).map_err(sqlx_error)?,
                ))
            })
        })
        .await
}

/// The SQLite claim's statements, numbered as [`OwnedClaimBinds::bind`] binds.
const SQLITE_CLAIM: &str = "insert into idempotency \
    (till_id, idempotency_key, request_hash, created_at, payment_id, lease_until) \
    values ($15, $16, $17, $12, $1, $18) on conflict (till_id, idempotency_key) do nothing";
static SQLITE_NEW_PAYMENT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{INSERT_PAYMENT_COLUMNS} values ({NEW_PAYMENT_VALUES})"));
static SQLITE_FIRST_EVENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("{EVENT_COLUMNS} values ($1, 'creating', 'till_created', $12)")
});
static SQLITE_EXISTING_CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "select {IDEMPOTENCY_COLUMNS} from idempotency \
         where till_id = $15 and idempotency_key = $16"
    )
});

/// PostgreSQL: the claim, the payment and its first event in one statement (one round trip, no
/// `begin`/`commit`: a statement is atomic). A key another request holds is then read in a
/// statement of its own: the claim waited for that request's transaction, which committed after
/// this statement's snapshot was taken.
async fn claim_and_insert_creating_pg(db: &Db, b: OwnedClaimBinds) -> Result<Claim, sqlx::Error> {
    let Db::Postgres(pool) = db else {
        unreachable!("the SQLite claim goes through the group commit")
    };
    let sql = format!(
        "with c as (insert into idempotency \
             (till_id, idempotency_key, request_hash, created_at, payment_id, lease_until) \
             values ($15, $16, $17, $12, $1, $18) on conflict (till_id, idempotency_key) do nothing \
             returning 1), \
         p as ({INSERT_PAYMENT_COLUMNS} select {NEW_PAYMENT_VALUES} from c \
             returning payment_id, created_at), \
         e as ({EVENT_COLUMNS} select payment_id, 'creating', 'till_created', created_at from p) \
         select exists (select 1 from c)"
    );
    let (created,): (bool,) = b.bind(sqlx::query_as(&sql)).fetch_one(pool).await?;
    if created {
        return Ok(Claim::Created);
    }
    let existing = super::idempotency::find_idempotency_key(db, b.till_id, &b.key)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    Ok(Claim::Existing(existing))
}

pub async fn get_payment(db: &Db, payment_id: &str) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!("select {PAYMENT_COLUMNS} {PAYMENT_FROM} where p.payment_id = $1");
    read!(db, |c| sqlx::query_as(&sql)
        .bind(payment_id)
        .fetch_optional(c)
        .await)
}

pub async fn get_payment_in(
    tx: &mut Tx,
    payment_id: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!("select {PAYMENT_COLUMNS} {PAYMENT_FROM} where p.payment_id = $1");
    in_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(payment_id)
        .fetch_optional(c)
        .await)
}

pub async fn find_by_receipt(
    db: &Db,
    store_id: i64,
    receipt: &str,
    limit: i64,
) -> Result<Vec<PaymentRow>, sqlx::Error> {
    let sql = format!(
        "select {PAYMENT_COLUMNS} {PAYMENT_FROM} where p.store_id = $1 and p.receipt = $2 \
         order by p.created_at desc, p.payment_id desc limit $3"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(store_id)
        .bind(receipt)
        .bind(limit)
        .fetch_all(c)
        .await)
}

/// What a status change writes besides the status itself; `None` keeps the column as it is.
#[derive(Debug, Default, Clone)]
pub struct PaymentChanges {
    pub qr_id: Option<String>,
    pub qr_payload: Option<String>,
    pub bank_transaction_id: Option<String>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
}

/// The columns of a payment row as `update … returning` gives them; what lives in other tables
/// comes from scalar subqueries (both SQLite and PostgreSQL allow them in `returning`).
const PAYMENT_RETURNING: &str = "payment_id, store_id, till_id, payment_type_id, \
    (select pt.name from payment_type pt where pt.payment_type_id = payment.payment_type_id) as payment_type_name, \
    module, status, amount, currency, receipt, \
    description, customer_qr, order_ref, qr_id, qr_payload, bank_transaction_id, \
    failure_code, failure_message, expires_at, paid_at, refunded_amount, late, \
    test, created_at, updated_at, static_qr_id, bank_order, cash_link_qr_id, \
    (select t.qr_outputs from till t where t.till_id = payment.till_id) as till_qr_outputs, \
    (select t.paper_width from till t where t.till_id = payment.till_id) as till_paper_width, \
    (select t.escpos_native from till t where t.till_id = payment.till_id) as till_escpos_native, \
    (select t.cash_link_payload from till t where t.till_id = payment.till_id) as till_cash_link_payload";

/// The payment as it is known before a status change: enough to guard and apply it.
#[derive(Debug, Clone, Copy)]
pub struct CurrentPayment<'a> {
    pub payment_id: &'a str,
    pub status: PaymentStatus,
}

impl PaymentRow {
    pub fn current(&self) -> CurrentPayment<'_> {
        CurrentPayment {
            payment_id: &self.payment_id,
            status: self.status(),
        }
    }
}

/// The guarded status update's SQL (`$1` payment, `$2` expected status, `$3` new status, …).
pub(super) fn update_status_sql() -> String {
    format!(
        "update payment set status = $3, late = (late or $4), \
        qr_id = coalesce($5, qr_id), qr_payload = coalesce($6, qr_payload), \
        bank_transaction_id = coalesce($7, bank_transaction_id), \
        failure_code = coalesce($8, failure_code), failure_message = coalesce($9, failure_message), \
        paid_at = coalesce($10, paid_at), updated_at = $11 \
        where payment_id = $1 and status = $2 returning {PAYMENT_RETURNING};"
    )
}

pub(super) fn bind_update_status<'q, DB, O>(
    q: sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>,
    current: CurrentPayment<'q>,
    to: PaymentStatus,
    late: bool,
    changes: &'q PaymentChanges,
    at: DateTime<Utc>,
) -> sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    bool: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    DateTime<Utc>: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Option<DateTime<Utc>>: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    q.bind(current.payment_id)
        .bind(current.status.as_str())
        .bind(to.as_str())
        .bind(late)
        .bind(changes.qr_id.as_deref())
        .bind(changes.qr_payload.as_deref())
        .bind(changes.bank_transaction_id.as_deref())
        .bind(changes.failure_code.as_deref())
        .bind(changes.failure_message.as_deref())
        .bind(changes.paid_at)
        .bind(at)
}

/// The guarded status update, in one statement: the updated row when this call made the change,
/// `None` when the payment was no longer in `current.status`.
pub async fn update_status(
    tx: &mut Tx,
    current: CurrentPayment<'_>,
    to: PaymentStatus,
    late: bool,
    changes: &PaymentChanges,
    at: DateTime<Utc>,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = update_status_sql();
    in_tx!(tx, |c| bind_update_status(
        sqlx::query_as(&sql),
        current,
        to,
        late,
        changes,
        at
    )
    .fetch_optional(c)
    .await)
}

/// The payment of `module` the bank knows by `order_ref` (a callback names it so). Payments of
/// static QRs are not among them: many share their QR's order (see `db::static_qr`).
pub async fn find_by_order_ref(
    db: &Db,
    module: &str,
    order_ref: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!(
        "select {PAYMENT_COLUMNS} {PAYMENT_FROM} where p.order_ref = $1 and p.module = $2 \
         and p.static_qr_id is null"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(order_ref)
        .bind(module)
        .fetch_optional(c)
        .await)
}

/// The payment taken for the static QR `static_qr_id` with the bank's `transaction_id`.
pub async fn find_static_payment(
    db: &Db,
    static_qr_id: i64,
    transaction_id: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let sql = format!(
        "select {PAYMENT_COLUMNS} {PAYMENT_FROM} where p.static_qr_id = $1 \
         and p.bank_transaction_id = $2"
    );
    read!(db, |c| sqlx::query_as(&sql)
        .bind(static_qr_id)
        .bind(transaction_id)
        .fetch_optional(c)
        .await)
}

/// Ids of `module`'s payments in `status`, oldest first.
pub async fn payments_of_module(
    db: &Db,
    module: &str,
    status: PaymentStatus,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar(
        "select payment_id from payment where module = $1 and status = $2 \
         order by created_at limit $3"
    )
    .bind(module)
    .bind(status.as_str())
    .bind(limit)
    .fetch_all(c)
    .await)
}
