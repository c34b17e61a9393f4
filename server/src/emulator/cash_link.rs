//! The emulated bank's cash-register links (`QRVariable`, notes §9–§11): registering one,
//! binding a printed plate (`POST /sbp/v1/qr-drafts/{qrId}`; plates are printed with
//! `POST /api/emulator/qr-drafts`), the orders API that activates a link for one payment (at most
//! one live order per link), refunds by order, and the ecom-style notification of a paid order
//! (signed over `amount|publicId|orderId|status.value|status.date`, `publicId` being the
//! merchant's `sbpMerchantId`: qrpay's assumption, see `order_wire`).

use super::routes::{refund_as_asked, take_refund};
use super::*;
use crate::providers::raiffeisen::order_wire::{
    RaiffeisenNotificationStatus, RaiffeisenOrder, RaiffeisenOrderNotificationOut,
    RaiffeisenOrderQr, RaiffeisenOrderRefundRequest, RaiffeisenOrderRefundResponse,
    RaiffeisenOrderRequest, RaiffeisenOrderStatus, RaiffeisenOrderStatusInfo,
    RaiffeisenOrderTransactionOut, RaiffeisenPaymentParams,
};

type Refused = (StatusCode, &'static str, String);

/// An order activating a cash link.
#[derive(Debug, Clone)]
pub(super) struct LinkOrder {
    id: String,
    qr_id: String,
    kopecks: i64,
    paid: bool,
    cancelled: bool,
    expires_at: Option<DateTime<FixedOffset>>,
    created_at: DateTime<Utc>,
    transaction_id: Option<i64>,
    paid_date: Option<String>,
    refunded: i64,
}

impl LinkOrder {
    fn status(&self, now: DateTime<Utc>) -> RaiffeisenOrderStatus {
        if self.paid {
            RaiffeisenOrderStatus::Paid
        } else if self.cancelled {
            RaiffeisenOrderStatus::Cancelled
        } else if self.expires_at.is_some_and(|e| e <= now) {
            RaiffeisenOrderStatus::Expired
        } else {
            RaiffeisenOrderStatus::New
        }
    }

    fn info(&self, now: DateTime<Utc>) -> RaiffeisenOrder {
        RaiffeisenOrder {
            id: self.id.clone(),
            amount: Some(RaiffeisenAmount::from_kopecks(self.kopecks)),
            status: RaiffeisenOrderStatusInfo {
                value: self.status(now),
                date: Some(self.paid_date.clone().unwrap_or_else(|| {
                    self.created_at.to_rfc3339_opts(SecondsFormat::Secs, false)
                })),
            },
            expiration_date: self
                .expires_at
                .map(|e| e.to_rfc3339_opts(SecondsFormat::Secs, false)),
            qr: Some(RaiffeisenOrderQr {
                id: self.qr_id.clone(),
                additional_info: None,
                payment_details: None,
            }),
            comment: None,
        }
    }
}

/// The NSPK link of a cash link (a static-QR link, `type=01`, with no amount: notes §16).
fn link_payload(qr_id: &str) -> String {
    nspk_static_payload(qr_id, None)
}

fn order_not_found(id: &str) -> Response {
    bank_error(
        StatusCode::NOT_FOUND,
        "ORDER_NOT_FOUND",
        format!("Заказ с идентификатором {id} не найден у данного партнера"),
    )
}

impl Bank {
    /// Prints a plate (a QR draft) the merchant can bind; its QR id.
    pub fn add_qr_draft(&self) -> String {
        let qr_id = format!(
            "AV{}",
            &qr_id_for(&format!("draft/{}", self.next_seq()))[2..]
        );
        lock(&self.books).drafts.insert(qr_id.clone());
        qr_id
    }

    /// The orders activating the link `qr_id`, oldest first, with their status now.
    pub fn orders_of_link(&self, qr_id: &str) -> Vec<(String, RaiffeisenOrderStatus)> {
        let books = lock(&self.books);
        let now = Utc::now();
        let mut orders: Vec<&LinkOrder> = books
            .link_orders
            .values()
            .filter(|o| o.qr_id == qr_id)
            .collect();
        orders.sort_by_key(|o| o.created_at);
        orders
            .iter()
            .map(|o| (o.id.clone(), o.status(now)))
            .collect()
    }

    /// The customer pays the link `qr_id` (`None` when it is no link): its live order, or with
    /// `force` the latest unpaid one (a late payment).
    pub(super) fn pay_link(
        &self,
        qr_id: &str,
        kopecks: Option<i64>,
        force: bool,
    ) -> Option<Result<(), Refused>> {
        let now = Utc::now();
        let paid = {
            let mut books = lock(&self.books);
            if !books.links.contains_key(qr_id) {
                return None;
            }
            let mut orders: Vec<&mut LinkOrder> = books
                .link_orders
                .values_mut()
                .filter(|o| o.qr_id == qr_id && !o.paid)
                .collect();
            orders.sort_by_key(|o| std::cmp::Reverse(o.created_at));
            let live = orders
                .into_iter()
                .find(|o| force || o.status(now) == RaiffeisenOrderStatus::New);
            let Some(order) = live else {
                return Some(Err((
                    StatusCode::BAD_REQUEST,
                    "ERROR.WRONG_QR_STATUS",
                    "Кассовая ссылка не активирована".into(),
                )));
            };
            if kopecks.is_some_and(|k| k != order.kopecks) {
                return Some(Err((
                    StatusCode::BAD_REQUEST,
                    "ERROR.INVALID_REQUEST",
                    "Передана некорректная сумма платежа".into(),
                )));
            }
            order.paid = true;
            order.transaction_id = Some(self.next_seq() as i64);
            order.paid_date = Some(moscow_now().to_rfc3339_opts(SecondsFormat::Micros, false));
            order.clone()
        };
        self.notify_order(&paid);
        Some(Ok(()))
    }

    /// The ecom-style notification of a paid order.
    fn notify_order(&self, order: &LinkOrder) {
        let amount = RaiffeisenAmount::from_kopecks(order.kopecks);
        let status = RaiffeisenNotificationStatus {
            value: "SUCCESS".into(),
            date: order.paid_date.clone().unwrap_or_default(),
        };
        let signed = format!(
            "{}|{}|{}|{}|{}",
            amount.text(),
            self.merchant_id,
            order.id,
            status.value,
            status.date
        );
        let body = serde_json::to_string(&RaiffeisenOrderNotificationOut {
            event: "payment",
            transaction: RaiffeisenOrderTransactionOut {
                id: order.transaction_id.unwrap_or_default(),
                order_id: order.id.clone(),
                status,
                payment_method: "sbp",
                payment_params: RaiffeisenPaymentParams {
                    qr_id: Some(order.qr_id.clone()),
                },
                amount,
            },
        })
        .expect("BUG: plain struct");
        self.deliver(&order.qr_id, body, sign(&self.secret_key, &signed));
    }
}

/// `POST /sbp/v2/qrs` with `qrType: QRVariable` (the merchant already checked): a new link,
/// inactive until an order activates it.
pub(super) fn register_variable(bank: &Bank, v2: bool) -> Response {
    let qr_id = format!(
        "AV{}",
        &qr_id_for(&format!("link/{}", bank.next_seq()))[2..]
    );
    let payload = link_payload(&qr_id);
    lock(&bank.books)
        .links
        .insert(qr_id.clone(), payload.clone());
    Json(RaiffeisenRegisterQrResponse {
        code: (!v2).then(|| "SUCCESS".to_owned()),
        qr_url: Some(format!(
            "https://emulator.invalid/api/sbp/v1/qr/{qr_id}/image"
        )),
        qr_status: Some(RaiffeisenQrStatus::Inactive),
        qr_id,
        payload,
    })
    .into_response()
}

/// `POST /sbp/v1/qr-drafts/{qrId}`: binds a printed plate (again: the same answer).
pub(super) async fn bind_draft(State(bank): State<Shared>, Path(qr_id): Path<String>) -> Response {
    let mut books = lock(&bank.books);
    let known = books.links.get(&qr_id).cloned();
    let payload = match known {
        Some(payload) => payload,
        None if books.drafts.remove(&qr_id) => {
            let payload = link_payload(&qr_id);
            books.links.insert(qr_id.clone(), payload.clone());
            payload
        }
        None => {
            return bank_error(
                StatusCode::BAD_REQUEST,
                "ERROR.NOT_FOUND",
                format!("QR-draft с qrId: {qr_id} не зарегистрирован"),
            );
        }
    };
    Json(RaiffeisenRegisterQrResponse {
        code: None,
        qr_url: Some(format!(
            "https://emulator.invalid/api/sbp/v1/qr/{qr_id}/image"
        )),
        qr_status: Some(RaiffeisenQrStatus::Inactive),
        qr_id,
        payload,
    })
    .into_response()
}

/// `POST /payment/v1/orders`: activates a link for one payment.
pub(super) async fn create_order(State(bank): State<Shared>, body: Bytes) -> Response {
    let invalid = |m: &str| bank_error(StatusCode::BAD_REQUEST, "ERROR.INVALID_REQUEST", m);
    let Ok(req) = serde_json::from_slice::<RaiffeisenOrderRequest>(&body) else {
        return invalid("Не передан обязательный параметр");
    };
    if !valid_order(&req.id) {
        return bank_error(
            StatusCode::BAD_REQUEST,
            "ERROR.INVALID_ORDER",
            "В номере заказа поддерживаются A-z09_-.",
        );
    }
    let Some(kopecks) = req.amount.kopecks().filter(|k| *k > 0) else {
        return invalid("Передана некорректная сумма платежа");
    };
    let now = Utc::now();
    let expires_at = match req.expiration_date.as_deref() {
        None => None,
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(at) if at > now => Some(at),
            _ => return invalid("Неверная дата истечения заказа"),
        },
    };
    let mut books = lock(&bank.books);
    if !books.links.contains_key(&req.qr.id) {
        return bank_error(
            StatusCode::NOT_FOUND,
            "ERROR.NOT_FOUND",
            "QR-код не найден у данного партнера",
        );
    }
    if let Some(known) = books.link_orders.get(&req.id) {
        // Creating is idempotent by order id: the same order answers again.
        return Json(known.info(now)).into_response();
    }
    if books
        .link_orders
        .values()
        .any(|o| o.qr_id == req.qr.id && o.status(now) == RaiffeisenOrderStatus::New)
    {
        return bank_error(
            StatusCode::BAD_REQUEST,
            "ERROR.WRONG_QR_STATUS",
            "Кассовая ссылка уже активирована другим заказом",
        );
    }
    let order = LinkOrder {
        id: req.id.clone(),
        qr_id: req.qr.id,
        kopecks,
        paid: false,
        cancelled: false,
        expires_at,
        created_at: now,
        transaction_id: None,
        paid_date: None,
        refunded: 0,
    };
    let info = order.info(now);
    books.link_orders.insert(req.id, order);
    Json(info).into_response()
}

/// `GET /payment/v1/orders/{id}`.
pub(super) async fn get_order(State(bank): State<Shared>, Path(id): Path<String>) -> Response {
    let books = lock(&bank.books);
    match books.link_orders.get(&id) {
        Some(order) => Json(order.info(Utc::now())).into_response(),
        None => order_not_found(&id),
    }
}

/// `DELETE /payment/v1/orders/{id}`: a live order is cancelled (200, no body); a final one
/// answers `ORDER_HAS_FINAL_STATUS`.
pub(super) async fn delete_order(State(bank): State<Shared>, Path(id): Path<String>) -> Response {
    let mut books = lock(&bank.books);
    let Some(order) = books.link_orders.get_mut(&id) else {
        return order_not_found(&id);
    };
    let status = order.status(Utc::now());
    if status != RaiffeisenOrderStatus::New {
        return bank_error(
            StatusCode::BAD_REQUEST,
            "ORDER_HAS_FINAL_STATUS",
            format!("Заказ с идентификатором {id} имеет статус {status:?}").to_uppercase(),
        );
    }
    order.cancelled = true;
    StatusCode::OK.into_response()
}

/// `POST /payments/v1/orders/{orderId}/refunds/{refundId}`.
pub(super) async fn refund_order(
    State(bank): State<Shared>,
    Path((order_id, refund_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let invalid = |m: &str| bank_error(StatusCode::BAD_REQUEST, "ERROR.INVALID_REQUEST", m);
    let Ok(req) = serde_json::from_slice::<RaiffeisenOrderRefundRequest>(&body) else {
        return invalid("Не передан обязательный параметр");
    };
    if !valid_order(&refund_id) {
        return invalid("Не передан обязательный параметр");
    }
    let mut books = lock(&bank.books);
    if let Some(known) = books.refunds.get(&refund_id) {
        return Json(RaiffeisenOrderRefundResponse {
            amount: Some(RaiffeisenAmount::from_kopecks(known.kopecks)),
            refund_status: known.status,
        })
        .into_response();
    }
    let Some(kopecks) = req.amount.kopecks().filter(|k| *k >= 1) else {
        return invalid("Сумма возврата не может быть меньше 1 копейки");
    };
    let Some(order) = books.link_orders.get_mut(&order_id) else {
        return bank_error(
            StatusCode::NOT_FOUND,
            "ORDER_NOT_FOUND",
            "Счет не найден у данного партнера",
        );
    };
    if !order.paid {
        return invalid("Заказ не оплачен");
    }
    let status = match take_refund(&bank, &mut order.refunded, order.kopecks, kopecks) {
        Ok(status) => status,
        Err(refused) => return *refused,
    };
    books.refunds.insert(refund_id, Refund { kopecks, status });
    Json(RaiffeisenOrderRefundResponse {
        amount: Some(req.amount),
        refund_status: status,
    })
    .into_response()
}

/// `GET /payments/v1/orders/{orderId}/refunds/{refundId}`.
pub(super) async fn order_refund_status(
    State(bank): State<Shared>,
    Path((_order_id, refund_id)): Path<(String, String)>,
) -> Response {
    let refund = match refund_as_asked(&mut lock(&bank.books), &refund_id) {
        Ok(refund) => refund,
        Err(not_found) => return *not_found,
    };
    Json(RaiffeisenOrderRefundResponse {
        amount: Some(RaiffeisenAmount::from_kopecks(refund.kopecks)),
        refund_status: refund.status,
    })
    .into_response()
}

/// `POST /api/emulator/qr-drafts`: prints a plate to bind (`{"qrId": …}`).
pub(super) async fn print_draft(State(bank): State<Shared>) -> Response {
    Json(serde_json::json!({ "qrId": bank.add_qr_draft() })).into_response()
}
