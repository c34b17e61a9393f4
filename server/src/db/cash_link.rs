//! A till's cash-register link («кассовая ссылка», `QRVariable`): the columns of `till` that hold
//! it, the plate's words (store and till names) looked up by the link's QR id, and the till's one
//! open cash-link payment (see the migration `0020_cash_link`).

use super::audit::{self, Change, Who};
use super::{ConfigError, Db, in_tx, now, read};
use chrono::{DateTime, Utc};
use serde_json::json;

/// How the till got its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CashLinkSource {
    /// qrpay registered a new `QRVariable` at the bank.
    Issued,
    /// qrpay bound a plate the bank printed (a QR draft) by its id.
    Bound,
}

impl CashLinkSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Bound => "bound",
        }
    }
}

/// A till's cash link, with what its plate shows.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CashLink {
    pub till_id: i64,
    pub store_id: i64,
    pub module: String,
    pub qr_id: String,
    /// The link, verbatim as the bank gave it (what the plate's QR encodes).
    pub payload: String,
    /// `issued` or `bound`.
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub store_name: String,
    pub till_name: String,
}

const COLUMNS: &str = "t.till_id, t.store_id, t.cash_link_module as module, \
    t.cash_link_qr_id as qr_id, t.cash_link_payload as payload, t.cash_link_source as source, \
    t.cash_link_at as created_at, s.name as store_name, t.name as till_name \
    from till t join store s on s.store_id = t.store_id";

/// The till's cash link, if it has one.
pub async fn cash_link_of_till(db: &Db, till_id: i64) -> Result<Option<CashLink>, sqlx::Error> {
    let sql = format!("select {COLUMNS} where t.till_id = $1 and t.cash_link_qr_id is not null");
    read!(db, |c| sqlx::query_as(&sql)
        .bind(till_id)
        .fetch_optional(c)
        .await)
}

/// The cash link whose QR id is `qr_id` (a plate's page), if a till has it.
pub async fn cash_link_by_qr_id(db: &Db, qr_id: &str) -> Result<Option<CashLink>, sqlx::Error> {
    let sql = format!("select {COLUMNS} where t.cash_link_qr_id = $1");
    read!(db, |c| sqlx::query_as(&sql)
        .bind(qr_id)
        .fetch_optional(c)
        .await)
}

/// A link the bank registered or bound, to give the till.
pub struct NewCashLink<'a> {
    pub till_id: i64,
    pub module: &'a str,
    pub qr_id: &'a str,
    pub payload: &'a str,
    pub source: CashLinkSource,
}

/// Gives the till its cash link (replacing the one it had), with its audit row. A link another
/// till holds is refused as a duplicate.
pub async fn set_cash_link(
    db: &Db,
    who: &Who<'_>,
    link: NewCashLink<'_>,
) -> Result<(), ConfigError> {
    let at = now();
    let mut tx = db.begin().await?;
    let before: Option<(i64, Option<String>)> = in_tx!(&mut tx, |c| sqlx::query_as(
        "select store_id, cash_link_qr_id from till where till_id = $1"
    )
    .bind(link.till_id)
    .fetch_optional(&mut *c)
    .await)?;
    let Some((store_id, before_qr)) = before else {
        return Err(ConfigError::NotFound(format!("till {}", link.till_id)));
    };
    in_tx!(&mut tx, |c| sqlx::query(
        "update till set cash_link_module = $2, cash_link_qr_id = $3, cash_link_payload = $4, \
         cash_link_source = $5, cash_link_at = $6, updated_at = $6 where till_id = $1"
    )
    .bind(link.till_id)
    .bind(link.module)
    .bind(link.qr_id)
    .bind(link.payload)
    .bind(link.source.as_str())
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ()))
    .map_err(|e| super::duplicate_or(e, format!("cash link {:?}", link.qr_id)))?;
    audit::record(
        &mut tx,
        who,
        Change {
            store_id: Some(store_id),
            action: link.source.as_str(),
            entity: "cash_link",
            entity_id: link.till_id.to_string(),
            before: before_qr.map(|qr| json!({ "qr_id": qr })),
            after: Some(json!({
                "module": link.module,
                "qr_id": link.qr_id,
                "source": link.source.as_str(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The till's open cash-link payment (`creating`, `pending` or `unknown`), if any: while it is
/// open the link belongs to it.
pub async fn open_cash_link_payment(db: &Db, till_id: i64) -> Result<Option<String>, sqlx::Error> {
    read!(db, |c| sqlx::query_scalar(
        "select payment_id from payment where till_id = $1 and cash_link_qr_id is not null \
         and status in ('creating', 'pending', 'unknown') limit 1"
    )
    .bind(till_id)
    .fetch_optional(c)
    .await)
}
