//! «Транзакции»: the filtered list and its CSV export, one payment's detail, and refunds, which
//! go through the payment service like a till's.

use super::{ConsoleBackend, internal};
use crate::db;
use crate::payments;
use app::backend::Actor;
use app::backend::transactions::{
    LatePayment, RefundLine, TimelineLine, TransactionDetail, TransactionPage, TransactionQuery,
    TransactionRow, TransactionsPort,
};
use app::error::ConsoleError;
use app::i18n::Msg;

/// Rows per page of the transactions list.
const TRANSACTIONS_PAGE: i64 = 50;
/// Rows of the CSV export fetched per query.
const CSV_BATCH: i64 = 1000;

#[async_trait::async_trait]
impl TransactionsPort for ConsoleBackend {
    /// Every role may read transactions.
    async fn search_transactions(
        &self,
        actor: &Actor,
        query: &TransactionQuery,
    ) -> Result<TransactionPage, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let tills = db::till::store_tills(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        let mut parsed = parse_query(query, tz, &tills);
        let f = &mut parsed.filter;
        db::payment_search::plan_search(&self.db, store.store_id, f)
            .await
            .map_err(internal)?;
        // The totals and the rows are independent reads: on two connections at once, a filter
        // whose both are slow (a sparse amount range walks the store's index for each) costs
        // the slower of the two, not their sum.
        let f = &parsed.filter;
        let (totals, found) = tokio::try_join!(
            db::payment_totals::payment_totals(
                &self.db,
                store.store_id,
                tz,
                f,
                query.include_test()
            ),
            db::payment_search::search_payments(
                &self.db,
                store.store_id,
                f,
                parsed.after.as_ref(),
                TRANSACTIONS_PAGE + 1,
            )
        )
        .map_err(internal)?;
        let mut rows = found.rows;
        // A full page goes on after its last row; a broad text's walk that stopped early goes
        // on after the last payment it read, and the page says how far back it has looked.
        let (next, searched_back_to) = if rows.len() as i64 > TRANSACTIONS_PAGE {
            rows.truncate(TRANSACTIONS_PAGE as usize);
            let next = rows.last().map(|r| cursor_of(r.created_at, &r.payment_id));
            (next, None)
        } else if let Some((at, id)) = &found.walked_to {
            (Some(cursor_of(*at, id)), Some(local_time(*at, tz)))
        } else {
            (None, None)
        };
        Ok(TransactionPage {
            store_name: store.name,
            time_zone: tz.name().to_owned(),
            rows: rows.into_iter().map(|r| row_view(r, tz)).collect(),
            errors: parsed.errors,
            tills: tills
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
            total_count: totals.count,
            total_amount: totals.amount,
            total_refunded: totals.refunded,
            totals_capped: totals.capped,
            total_count_at_least: totals.capped && totals.count < db::payment_search::TOTALS_CAP,
            text_exact_only: parsed.filter.text_exact_only,
            searched_back_to,
            next,
        })
    }

    async fn transaction_detail(
        &self,
        actor: &Actor,
        payment_id: &str,
    ) -> Result<TransactionDetail, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let p = db::payment::get_payment(&self.db, payment_id)
            .await
            .map_err(internal)?
            .filter(|p| p.store_id == store.store_id)
            .ok_or(ConsoleError::NotFound)?;
        let events = db::payment_event::events_of(&self.db, payment_id)
            .await
            .map_err(internal)?;
        let refunds = db::refund::refunds_of(&self.db, payment_id)
            .await
            .map_err(internal)?;
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
        };
        // An ended payment's QR is never drawn again: the page shows a greyed stand-in.
        let qr_svg = p
            .qr_payload
            .as_deref()
            .filter(|_| p.status().is_open())
            .and_then(|payload| crate::qr::svg(payload, 220).ok());
        let late = if p.late {
            let store_refunds = store.refund_late_payments;
            Some(late_payment(&events, &refunds, store_refunds))
        } else {
            None
        };
        let refund_amount = |id: &Option<String>| {
            let id = id.as_deref()?;
            refunds.iter().find(|r| r.refund_id == id).map(|r| r.amount)
        };
        Ok(TransactionDetail {
            payment_id: p.payment_id.clone(),
            status: p.status.clone(),
            amount: p.amount,
            refunded_amount: p.refunded_amount,
            receipt: p.receipt.clone(),
            // A static QR's payment: the order as the bank gave it (its transaction id beside it).
            order_ref: p.bank_order.clone().unwrap_or_else(|| p.order_ref.clone()),
            qr_id: p.qr_id.clone(),
            bank_transaction_id: p.bank_transaction_id.clone(),
            till: db::till::till_name(&self.db, p.till_id)
                .await
                .map_err(internal)?
                .unwrap_or_default(),
            payment_type: p.payment_type_name.clone(),
            module: p.module.clone(),
            test: p.test,
            local_time: local(p.created_at),
            paid_local_time: p.paid_at.map(local),
            time_zone: tz.name().to_owned(),
            qr_svg,
            timeline: events
                .into_iter()
                .map(|e| TimelineLine {
                    refund_amount: refund_amount(&e.refund_id),
                    local_time: local(e.created_at),
                    from_status: e.from_status,
                    to_status: e.to_status,
                    trigger: e.trigger,
                    detail: e.detail,
                })
                .collect(),
            late,
            refunds: refunds
                .into_iter()
                .map(|r| RefundLine {
                    local_time: local(r.created_at),
                    refund_id: r.refund_id,
                    amount: r.amount,
                    status: r.status,
                    automatic: r.reason.as_deref() == Some(payments::LATE_REFUND_REASON),
                    reason: r.reason,
                })
                .collect(),
        })
    }
}

/// The CSV export as it is sent: a chunk per batch of rows (never the whole export in memory).
pub type CsvChunks = futures::stream::BoxStream<'static, Result<String, ConsoleError>>;

impl ConsoleBackend {
    /// The whole filter (the `after` cursor and bad fields ignored) as CSV: `;`-separated, a
    /// header row, amounts as `1234.56`, times in the store's time zone. Streamed: each chunk
    /// is one batch of [`CSV_BATCH`] rows read after the last one's keyset cursor, so a
    /// million-row export holds one batch in memory, not the million.
    pub async fn transactions_csv(
        &self,
        actor: &Actor,
        query: &TransactionQuery,
    ) -> Result<CsvChunks, ConsoleError> {
        let (store, tz) = self.store(actor).await?;
        let tills = db::till::store_tills(&self.db, store.store_id)
            .await
            .map_err(internal)?;
        let mut filter = parse_query(query, tz, &tills).filter;
        db::payment_search::plan_search(&self.db, store.store_id, &mut filter)
            .await
            .map_err(internal)?;
        let header = String::from(
            "created_at;payment_id;status;amount;refunded;receipt;till;order_ref;qr_id;bank_transaction_id;test\r\n",
        );
        let (db, store_id) = (self.db.clone(), store.store_id);
        // State: the cursor after the last batch, `None` once the last batch was sent.
        let batches = futures::stream::try_unfold(Some(None), move |cursor| {
            let (db, filter) = (db.clone(), filter.clone());
            async move {
                let Some(after) = cursor else {
                    return Ok(None);
                };
                let found = db::payment_search::search_payments(
                    &db,
                    store_id,
                    &filter,
                    Option::as_ref(&after),
                    CSV_BATCH,
                )
                .await
                .map_err(internal)?;
                // After a full batch, or where a broad text's walk stopped (maybe with no
                // rows in this batch at all), there is more to read.
                let rows = found.rows;
                let next = if rows.len() as i64 == CSV_BATCH {
                    rows.last().map(|r| (r.created_at, r.payment_id.clone()))
                } else {
                    found.walked_to
                };
                if rows.is_empty() && next.is_none() {
                    return Ok(None);
                }
                Ok(Some((csv_lines(&rows, tz), next.map(Some))))
            }
        });
        use futures::StreamExt;
        Ok(futures::stream::once(async { Ok(header) })
            .chain(batches)
            .boxed())
    }
}

/// The CSV lines of `rows`, each ending in `\r\n`.
fn csv_lines(rows: &[db::payment_search::TransactionRow], tz: chrono_tz::Tz) -> String {
    let mut out = String::with_capacity(rows.len() * 160);
    for r in rows {
        let fields = [
            r.created_at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            r.payment_id.clone(),
            r.status.clone(),
            csv_amount(r.amount),
            csv_amount(r.refunded_amount),
            r.receipt.clone(),
            r.till_name.clone(),
            r.order_ref.clone(),
            r.qr_id.clone().unwrap_or_default(),
            r.bank_transaction_id.clone().unwrap_or_default(),
            // A test module moved no money: a spreadsheet must be able to leave it out.
            r.test.to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(";"));
        out.push_str("\r\n");
    }
    out
}

/// Why a late payment is late (the status it had when the money came) and what qrpay did.
fn late_payment(
    events: &[db::payment_event::EventRow],
    refunds: &[db::refund::RefundRow],
    store_refunds: bool,
) -> LatePayment {
    let ended_as = events
        .iter()
        .find(|e| e.to_status == "paid")
        .and_then(|e| e.from_status.clone())
        .unwrap_or_else(|| "expired".to_owned());
    let auto_refund = refunds
        .iter()
        .find(|r| r.reason.as_deref() == Some(payments::LATE_REFUND_REASON))
        .map(|r| (r.amount, r.status.clone()));
    LatePayment {
        ended_as,
        store_refunds,
        auto_refund,
    }
}

/// A moment as the console's lists show it, in the store's time zone.
fn local_time(at: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

pub(super) fn row_view(r: db::payment_search::TransactionRow, tz: chrono_tz::Tz) -> TransactionRow {
    TransactionRow {
        payment_id: r.payment_id,
        local_time: local_time(r.created_at, tz),
        amount: r.amount,
        refunded_amount: r.refunded_amount,
        status: r.status,
        receipt: r.receipt,
        till: r.till_name,
        test: r.test,
        late: r.late,
    }
}

/// `1234.56`, as spreadsheets read it.
fn csv_amount(kopecks: i64) -> String {
    let sign = if kopecks < 0 { "-" } else { "" };
    let k = kopecks.abs();
    format!("{sign}{}.{:02}", k / 100, k % 100)
}

/// Quotes a field that holds `;`, `"` or a line break; a leading `=`, `+`, `-`, `@` is prefixed
/// with `'` so a spreadsheet never runs a receipt number as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `<created_at RFC 3339, nanoseconds>~<payment_id>`.
fn cursor_of(at: chrono::DateTime<chrono::Utc>, payment_id: &str) -> String {
    format!(
        "{}~{payment_id}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    )
}

struct ParsedQuery {
    filter: db::payment_search::PaymentFilter,
    after: Option<(chrono::DateTime<chrono::Utc>, String)>,
    errors: Vec<(String, Msg)>,
}

/// Checks every field of the filter; a bad one gets a message and is left out of the filter.
fn parse_query(q: &TransactionQuery, tz: chrono_tz::Tz, tills: &[(i64, String)]) -> ParsedQuery {
    use chrono::{NaiveDate, TimeZone};
    let mut errors = Vec::new();
    let mut f = db::payment_search::PaymentFilter::default();
    let mut bad = |field: &str, m: Msg| errors.push((field.to_owned(), m));
    if !q.status.is_empty() {
        if app::backend::transactions::STATUSES.contains(&q.status.as_str()) {
            f.status = Some(q.status.clone());
        } else {
            bad("status", Msg::BadStatus);
        }
    }
    let day_start = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).expect("BUG: midnight exists");
        tz.from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    let from = if q.from.is_empty() {
        None
    } else {
        match date(&q.from) {
            Some(d) => Some(d),
            None => {
                bad("from", Msg::BadDate);
                None
            }
        }
    };
    let to = if q.to.is_empty() {
        None
    } else {
        match date(&q.to) {
            Some(d) if from.is_some_and(|f| d < f) => {
                bad("to", Msg::DatesReversed);
                None
            }
            Some(d) => Some(d),
            None => {
                bad("to", Msg::BadDate);
                None
            }
        }
    };
    f.from = from.and_then(day_start);
    f.until = to.and_then(|d| d.succ_opt()).and_then(day_start);
    if !q.till.is_empty() {
        match q
            .till
            .parse::<i64>()
            .ok()
            .filter(|id| tills.iter().any(|t| t.0 == *id))
        {
            Some(id) => f.till_id = Some(id),
            None => bad("till", Msg::BadTill),
        }
    }
    for (name, value, slot) in [
        ("min", &q.min, &mut f.min_amount),
        ("max", &q.max, &mut f.max_amount),
    ] {
        if !value.is_empty() {
            match app::api::transactions::parse_rubles(value) {
                Some(k) => *slot = Some(k),
                None => bad(name, Msg::BadMoney),
            }
        }
    }
    if !q.q.is_empty() {
        if q.q.chars().count() > 128 {
            bad("q", Msg::TextTooLong);
        } else {
            f.text_exact_only = q.q.chars().count() < app::backend::transactions::MIN_PREFIX;
            f.text = Some(q.q.clone());
        }
    }
    let after = if q.after.is_empty() {
        None
    } else {
        let parsed = q.after.split_once('~').and_then(|(t, id)| {
            let t = chrono::DateTime::parse_from_rfc3339(t).ok()?;
            (!id.is_empty() && id.len() <= 64)
                .then(|| (t.with_timezone(&chrono::Utc), id.to_owned()))
        });
        if parsed.is_none() {
            bad("after", Msg::BadCursor);
        }
        parsed
    };
    ParsedQuery {
        filter: f,
        after,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_amounts_use_a_dot_and_two_decimals() {
        assert_eq!(csv_amount(123456), "1234.56");
        assert_eq!(csv_amount(5), "0.05");
    }

    #[test]
    fn csv_fields_with_separators_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=1+2"), "'=1+2");
        assert_eq!(csv_field("plain"), "plain");
    }

    #[test]
    fn a_bad_filter_field_gets_a_message_and_is_left_out() {
        let q = TransactionQuery {
            status: "nope".into(),
            from: "2026-13-01".into(),
            till: "99".into(),
            min: "abc".into(),
            max: "10,50".into(),
            after: "garbage".into(),
            ..Default::default()
        };
        let p = parse_query(&q, chrono_tz::Europe::Moscow, &[(1, "k".into())]);
        let fields: Vec<&str> = p.errors.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(fields, ["status", "from", "till", "min", "after"]);
        assert!(
            p.filter.status.is_none() && p.filter.from.is_none() && p.filter.min_amount.is_none()
        );
        assert_eq!(p.filter.max_amount, Some(1050));
        assert!(p.after.is_none());
    }

    #[test]
    fn a_period_is_whole_days_in_the_store_time_zone() {
        let q = TransactionQuery {
            from: "2026-11-01".into(),
            to: "2026-11-01".into(),
            ..Default::default()
        };
        let p = parse_query(&q, chrono_tz::Europe::Moscow, &[]);
        assert_eq!(
            p.filter.from.unwrap().to_rfc3339(),
            "2026-10-31T21:00:00+00:00"
        );
        assert_eq!(
            p.filter.until.unwrap().to_rfc3339(),
            "2026-11-01T21:00:00+00:00"
        );
    }
}
