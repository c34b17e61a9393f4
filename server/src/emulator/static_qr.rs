//! The emulated bank's static QRs (`QRStatic`): paid many times, each payment with its own
//! transaction id and signed notification; `payment-info` reports the latest payment; a refund
//! of one must name it by `transactionId` (by order alone the bank finds no paid QR).

use super::*;

/// One payment of a static QR.
#[derive(Debug, Clone)]
pub(super) struct StaticPaid {
    pub transaction_id: i64,
    pub kopecks: i64,
    pub transaction_date: String,
    pub refunded: i64,
}

type Refused = (StatusCode, &'static str, String);

impl Bank {
    /// The static QRs registered for `order` and the payments each took (what a test compares
    /// qrpay's view with).
    pub fn static_payments_of_order(&self, order: &str) -> Vec<(i64, i64)> {
        let books = lock(&self.books);
        books
            .qrs
            .values()
            .filter(|q| q.order == order)
            .flat_map(|q| books.static_paid.get(&q.qr_id).into_iter().flatten())
            .map(|p| (p.transaction_id, p.kopecks))
            .collect()
    }

    /// A customer pays the static QR `qr_id` (`None` when it is no static QR): the amount is the
    /// QR's own, or the one the customer typed.
    pub(super) fn pay_static(
        &self,
        qr_id: &str,
        kopecks: Option<i64>,
    ) -> Option<Result<(), Refused>> {
        let notice = {
            let mut books = lock(&self.books);
            if !books.static_qrs.contains(qr_id) {
                return None;
            }
            let qr = books.qrs.get(qr_id)?.clone();
            if qr.state != QrState::New || qr.status(Utc::now()) != RaiffeisenQrStatus::New {
                return Some(Err((
                    StatusCode::BAD_REQUEST,
                    "ERROR.WRONG_QR_STATUS",
                    "QR-код нельзя оплатить".into(),
                )));
            }
            let amount = match (qr.kopecks, kopecks) {
                (Some(fixed), Some(given)) if fixed != given => None,
                (Some(fixed), _) => Some(fixed),
                (None, Some(given)) if given > 0 => Some(given),
                (None, _) => None,
            };
            let Some(amount) = amount else {
                return Some(Err((
                    StatusCode::BAD_REQUEST,
                    "ERROR.INVALID_REQUEST",
                    "Передана некорректная сумма платежа".into(),
                )));
            };
            let paid = StaticPaid {
                transaction_id: self.next_seq() as i64,
                kopecks: amount,
                transaction_date: moscow_now().to_rfc3339_opts(SecondsFormat::Micros, false),
                refunded: 0,
            };
            books
                .static_paid
                .entry(qr_id.to_owned())
                .or_default()
                .push(paid.clone());
            // The notification is the QR's, with this payment's amount, id and date.
            Qr {
                kopecks: Some(paid.kopecks),
                transaction_id: Some(paid.transaction_id),
                transaction_date: Some(paid.transaction_date),
                ..qr
            }
        };
        self.notify(&notice, RaiffeisenPaymentStatus::Success);
        Some(Ok(()))
    }
}

/// `payment-info` of a static QR: its latest payment, if any.
pub(super) fn latest_payment(books: &Books, qr_id: &str) -> Option<StaticPaid> {
    books.static_paid.get(qr_id)?.last().cloned()
}

/// True when a static QR took a payment with `transaction_id`.
pub(super) fn takes_refund(books: &Books, transaction_id: i64) -> bool {
    books
        .static_paid
        .values()
        .flatten()
        .any(|p| p.transaction_id == transaction_id)
}

/// A refund of the static QR payment named by `transaction_id` (see [`takes_refund`]).
pub(super) fn refund(books: &mut Books, transaction_id: i64, kopecks: i64) -> Result<(), Refused> {
    let Some(paid) = books
        .static_paid
        .values_mut()
        .flatten()
        .find(|p| p.transaction_id == transaction_id)
    else {
        return Err((
            StatusCode::NOT_FOUND,
            "ERROR.NOT_FOUND",
            "Платёж не найден".into(),
        ));
    };
    if paid.refunded + kopecks > paid.kopecks {
        return Err((
            StatusCode::BAD_REQUEST,
            "ERROR.REFUND_INSUFFICIENT_FUNDS",
            "Сумма возврата больше суммы остатка по платежу".into(),
        ));
    }
    paid.refunded += kopecks;
    Ok(())
}
