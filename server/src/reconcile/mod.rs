//! Reconciliation with the bank's registry: every registry line is matched to qrpay's payment (by
//! order) or refund (by refund id) and amount, and every payment qrpay holds paid (and refund
//! completed) on the registry's days is looked for in the registry. Only the stores whose
//! Raiffeisen module uses the registry's merchant are compared, so test payments never are.
//!
//! Used by `qrpay reconcile` and the console's «Сверка»; each comparison is kept and audited.

pub mod registry;

use crate::db::audit::Who;
use crate::db::reconcile::{self as store, Booked, MerchantStore, NewReconciliation};
use crate::db::{self, Db, payment, refund};
use crate::domain::{PaymentStatus, RefundStatus};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use registry::{Line, Operation, Registry};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

/// The payment module whose registry this is.
const MODULE: &str = "raiffeisen";

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
    #[error("the registry mixes merchants ({0}): one registry is one merchant's")]
    MixedMerchants(String),
    #[error("no store uses the merchant {0} (Raiffeisen settings, «Модули оплаты»)")]
    UnknownMerchant(String),
    #[error("the store {0} does not use the merchant {1}")]
    StoreNotOfMerchant(String, String),
    #[error("the registry names no merchant (no operation lines) and no store was given")]
    NoMerchant,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What kind of difference a line of the report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// The bank took the money; qrpay does not hold the payment as paid (or at all).
    PaidAtBankNotInQrpay,
    /// qrpay holds the payment as paid on a day the registry covers; the bank lists no payment.
    PaidInQrpayMissingAtBank,
    AmountDiffers,
    /// The bank paid a refund out; qrpay does not hold it as completed (or at all).
    RefundAtBankNotInQrpay,
    RefundInQrpayMissingAtBank,
    RefundAmountDiffers,
    /// The registry's «ИТОГО» is not the sum of its lines.
    TotalLineDiffers,
}

impl MismatchKind {
    /// The report's words for it (Russian first: the console and the CLI both show it).
    pub fn describe(self) -> &'static str {
        match self {
            Self::PaidAtBankNotInQrpay => "оплачен в банке, в qrpay не оплачен",
            Self::PaidInQrpayMissingAtBank => "оплачен в qrpay, в реестре банка нет",
            Self::AmountDiffers => "сумма платежа различается",
            Self::RefundAtBankNotInQrpay => "возврат проведён банком, в qrpay не завершён",
            Self::RefundInQrpayMissingAtBank => "возврат завершён в qrpay, в реестре банка нет",
            Self::RefundAmountDiffers => "сумма возврата различается",
            Self::TotalLineDiffers => "строка ИТОГО не равна сумме строк",
        }
    }
}

/// One difference between the bank and qrpay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    pub kind: MismatchKind,
    /// The bank's reference: the order, or the refund id.
    pub bank_ref: String,
    pub payment_id: Option<String>,
    pub refund_id: Option<String>,
    pub store: Option<String>,
    /// Kopecks, as the bank lists it.
    pub bank_amount: Option<i64>,
    /// Kopecks, as qrpay holds it.
    pub qrpay_amount: Option<i64>,
    /// qrpay's status of the payment or refund, when it has one.
    pub qrpay_status: Option<String>,
    /// The registry's line number.
    pub line: Option<usize>,
}

/// Sums in kopecks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub payments: i64,
    pub refunds: i64,
    pub fees: i64,
}

/// The outcome of one comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub merchant: String,
    pub stores: Vec<String>,
    pub days: Vec<NaiveDate>,
    pub registry_lines: usize,
    pub matched_payments: usize,
    pub matched_refunds: usize,
    pub bank: Totals,
    pub qrpay: Totals,
    pub mismatches: Vec<Mismatch>,
}

impl Report {
    pub fn matches(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Moscow: the registry's clock.
fn moscow() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(3 * 3600).expect("BUG: +03:00 is a valid offset")
}

/// The registry's days as one period `[first day 00:00 MSK, day after the last 00:00 MSK)`.
fn period(days: &[NaiveDate]) -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |d: NaiveDate| {
        moscow()
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("BUG: midnight exists"))
            .single()
            .expect("BUG: a fixed offset has no gaps")
            .with_timezone(&Utc)
    };
    let first = *days.first().expect("BUG: a registry has a day");
    let last = *days.last().expect("BUG: a registry has a day");
    (at(first), at(last.succ_opt().unwrap_or(last)))
}

/// Compares a registry with qrpay (`store_code`: only that store of the merchant's).
pub async fn compare(
    db: &Db,
    registry: &Registry,
    store_code: Option<&str>,
) -> Result<Report, ReconcileError> {
    let merchants: Vec<&str> = {
        let mut m: Vec<&str> = registry.lines.iter().map(|l| l.merchant.as_str()).collect();
        m.sort();
        m.dedup();
        m
    };
    let merchant = match merchants.as_slice() {
        [one] => (*one).to_owned(),
        [] => match store_code {
            Some(code) => merchant_of_store(db, code).await?,
            None => return Err(ReconcileError::NoMerchant),
        },
        many => return Err(ReconcileError::MixedMerchants(many.join(", "))),
    };
    let mut stores = store::stores_of_merchant(db, &merchant).await?;
    if stores.is_empty() {
        return Err(ReconcileError::UnknownMerchant(merchant));
    }
    if let Some(code) = store_code {
        stores.retain(|s| s.code == code);
        if stores.is_empty() {
            return Err(ReconcileError::StoreNotOfMerchant(
                code.to_owned(),
                merchant,
            ));
        }
    }
    let mut report = Report {
        merchant,
        stores: stores.iter().map(|s| s.code.clone()).collect(),
        days: registry.days.clone(),
        registry_lines: registry.lines.len(),
        matched_payments: 0,
        matched_refunds: 0,
        bank: Totals::default(),
        qrpay: Totals::default(),
        mismatches: Vec::new(),
    };
    let mut seen: HashSet<String> = HashSet::new();
    for line in &registry.lines {
        report.bank.fees += line.fee;
        match line.operation {
            Operation::Payment => {
                report.bank.payments += line.amount;
                if let Some(id) = match_payment(db, &stores, line, &seen, &mut report).await? {
                    seen.insert(id);
                }
            }
            Operation::Refund => {
                report.bank.refunds += line.amount;
                if let Some(id) = match_refund(db, &stores, line, &mut report).await? {
                    seen.insert(id);
                }
            }
        }
    }
    if let Some((amount, fee)) = registry.total {
        let lines_sum = report.bank.payments + report.bank.refunds;
        let net = report.bank.payments - report.bank.refunds;
        if amount != lines_sum && amount != net || fee != report.bank.fees {
            report.mismatches.push(Mismatch {
                kind: MismatchKind::TotalLineDiffers,
                bank_ref: "ИТОГО".into(),
                payment_id: None,
                refund_id: None,
                store: None,
                bank_amount: Some(amount),
                qrpay_amount: Some(lines_sum),
                qrpay_status: None,
                line: None,
            });
        }
    }
    let (from, to) = period(&registry.days);
    for s in &stores {
        for p in store::paid_between(db, s.store_id, MODULE, from, to).await? {
            report.qrpay.payments += p.amount;
            if !seen.contains(&p.payment_id) {
                report.mismatches.push(missing_at_bank(
                    MismatchKind::PaidInQrpayMissingAtBank,
                    &p,
                    s,
                    PaymentStatus::Paid.as_str(),
                ));
            }
        }
        for r in store::refunded_between(db, s.store_id, MODULE, from, to).await? {
            report.qrpay.refunds += r.amount;
            let refund_id = r.refund_id.clone().unwrap_or_default();
            if !seen.contains(&refund_id) {
                report.mismatches.push(missing_at_bank(
                    MismatchKind::RefundInQrpayMissingAtBank,
                    &r,
                    s,
                    RefundStatus::Completed.as_str(),
                ));
            }
        }
    }
    Ok(report)
}

async fn merchant_of_store(db: &Db, code: &str) -> Result<String, ReconcileError> {
    let store = db::store::find_store(db, Some(code))
        .await
        .map_err(|_| ReconcileError::NoMerchant)?;
    db::raiffeisen_setting::setting_of_store(db, store.store_id)
        .await?
        .map(|s| s.sbp_merchant_id)
        .ok_or(ReconcileError::NoMerchant)
}

fn missing_at_bank(kind: MismatchKind, b: &Booked, s: &MerchantStore, status: &str) -> Mismatch {
    Mismatch {
        kind,
        bank_ref: b.bank_ref.clone(),
        payment_id: Some(b.payment_id.clone()),
        refund_id: b.refund_id.clone(),
        store: Some(s.code.clone()),
        bank_amount: None,
        qrpay_amount: Some(b.amount),
        qrpay_status: Some(status.to_owned()),
        line: None,
    }
}

fn code_of(stores: &[MerchantStore], store_id: i64) -> Option<String> {
    stores
        .iter()
        .find(|s| s.store_id == store_id)
        .map(|s| s.code.clone())
}

/// What qrpay holds for a registry line: the payment of its order, or the refund of its id.
struct Held {
    payment_id: String,
    refund_id: Option<String>,
    store_id: i64,
    amount: i64,
    status: &'static str,
    /// Paid (a payment) or completed (a refund): what the bank's line says happened.
    done: bool,
}

impl Held {
    /// The id the qrpay side of the comparison knows it by.
    fn id(&self) -> &str {
        self.refund_id.as_deref().unwrap_or(&self.payment_id)
    }
}

/// Judges a registry line against what qrpay holds (only what belongs to the merchant's stores
/// counts): a match is counted in `matched`; else the difference is reported as `not_done`
/// (qrpay does not hold it done, or at all) or `amount_differs`. The held id when qrpay holds
/// it done, so it is not reported again as missing at the bank.
fn judge(
    stores: &[MerchantStore],
    line: &Line,
    bank_ref: &str,
    held: Option<Held>,
    (not_done, amount_differs): (MismatchKind, MismatchKind),
    matched: &mut usize,
    mismatches: &mut Vec<Mismatch>,
) -> Option<String> {
    let held = held.filter(|h| code_of(stores, h.store_id).is_some());
    let mut mismatch = Mismatch {
        kind: not_done,
        bank_ref: bank_ref.to_owned(),
        payment_id: None,
        refund_id: None,
        store: None,
        bank_amount: Some(line.amount),
        qrpay_amount: None,
        qrpay_status: None,
        line: Some(line.line_no),
    };
    let Some(h) = held else {
        mismatches.push(mismatch);
        return None;
    };
    let id = h.id().to_owned();
    mismatch.payment_id = Some(h.payment_id);
    mismatch.refund_id = h.refund_id;
    mismatch.store = code_of(stores, h.store_id);
    mismatch.qrpay_amount = Some(h.amount);
    mismatch.qrpay_status = Some(h.status.to_owned());
    if !h.done {
        mismatches.push(mismatch);
        return None;
    }
    if h.amount == line.amount {
        *matched += 1;
    } else {
        mismatch.kind = amount_differs;
        mismatches.push(mismatch);
    }
    Some(id)
}

/// Matches a payment line by its order; a static QR's payments share its order, so a line of
/// one is matched to a payment of that order not matched yet (`seen`), of the line's amount if
/// there is one.
async fn match_payment(
    db: &Db,
    stores: &[MerchantStore],
    line: &Line,
    seen: &HashSet<String>,
    report: &mut Report,
) -> Result<Option<String>, ReconcileError> {
    let held = match payment::find_by_order_ref(db, MODULE, &line.order_ref).await? {
        Some(p) => Some(p),
        None => {
            let of_static =
                db::static_qr::payments_of_bank_order(db, MODULE, &line.order_ref).await?;
            let unseen = || of_static.iter().filter(|(id, _)| !seen.contains(id));
            match unseen()
                .find(|(_, amount)| *amount == line.amount)
                .or_else(|| unseen().next())
            {
                Some((id, _)) => payment::get_payment(db, id).await?,
                None => None,
            }
        }
    };
    let held = held.map(|p| Held {
        status: p.status().as_str(),
        done: p.status() == PaymentStatus::Paid,
        payment_id: p.payment_id,
        refund_id: None,
        store_id: p.store_id,
        amount: p.amount,
    });
    let kinds = (
        MismatchKind::PaidAtBankNotInQrpay,
        MismatchKind::AmountDiffers,
    );
    let (matched, mismatches) = (&mut report.matched_payments, &mut report.mismatches);
    Ok(judge(
        stores,
        line,
        &line.order_ref,
        held,
        kinds,
        matched,
        mismatches,
    ))
}

/// Matches a refund line by its refund id.
async fn match_refund(
    db: &Db,
    stores: &[MerchantStore],
    line: &Line,
    report: &mut Report,
) -> Result<Option<String>, ReconcileError> {
    let refund_ref = line.refund_ref.as_deref().unwrap_or_default();
    let held = refund::find_refund_by_ref(db, refund_ref)
        .await?
        .map(|r| Held {
            status: r.status().as_str(),
            done: r.status() == RefundStatus::Completed,
            payment_id: r.payment_id,
            refund_id: Some(r.refund_id),
            store_id: r.store_id,
            amount: r.amount,
        });
    let kinds = (
        MismatchKind::RefundAtBankNotInQrpay,
        MismatchKind::RefundAmountDiffers,
    );
    let (matched, mismatches) = (&mut report.matched_refunds, &mut report.mismatches);
    Ok(judge(
        stores, line, refund_ref, held, kinds, matched, mismatches,
    ))
}

/// Reads a registry, compares it and keeps the outcome (audited as `who`); the report and the
/// kept comparison's id.
pub async fn reconcile_file(
    db: &Db,
    who: &Who<'_>,
    registry_name: &str,
    bytes: &[u8],
    store_code: Option<&str>,
) -> Result<(Report, i64), ReconcileError> {
    let registry = registry::parse(bytes)?;
    let report = compare(db, &registry, store_code).await?;
    let stores = store::stores_of_merchant(db, &report.merchant).await?;
    let store_id = stores
        .iter()
        .find(|s| report.stores.contains(&s.code))
        .map(|s| s.store_id)
        .ok_or_else(|| ReconcileError::UnknownMerchant(report.merchant.clone()))?;
    let json = serde_json::to_value(&report).expect("BUG: the report serializes");
    let id = store::record(
        db,
        who,
        &NewReconciliation {
            merchant: &report.merchant,
            registry_name,
            registry_sha256: &hex::encode(Sha256::digest(bytes)),
            first_day: *report.days.first().expect("BUG: a registry has a day"),
            last_day: *report.days.last().expect("BUG: a registry has a day"),
            lines: report.registry_lines as i64,
            mismatches: report.mismatches.len() as i64,
            report: &json,
            store_id,
        },
    )
    .await?;
    Ok((report, id))
}
