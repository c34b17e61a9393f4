//! Raiffeisen wire types of the orders API (a till's cash link, `QRVariable`: notes §9–§11): an
//! order activating the link, its status, refunds by order, binding a bank-issued plate, and the
//! ecom-style notification. The bank's OpenAPI document does not cover these; the shapes follow
//! the bank's SDKs (confidence M in the notes).

use super::wire::{RaiffeisenAmount, RaiffeisenRefundStatus};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The cash link an order activates (`qr` of an order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderQr {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_details: Option<String>,
}

/// `POST /payment/v1/orders`: activates the link `qr.id` for `amount` until `expirationDate`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderRequest {
    /// qrpay's order id (the bank generates one when it is missing; qrpay always sends it, so
    /// that asking again by order is possible).
    pub id: String,
    pub amount: RaiffeisenAmount,
    pub qr: RaiffeisenOrderQr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `status.value` of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RaiffeisenOrderStatus {
    New,
    Paid,
    Cancelled,
    Expired,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderStatusInfo {
    pub value: RaiffeisenOrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// `OrderInfo`: the answer to creating an order and to `GET /payment/v1/orders/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrder {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<RaiffeisenAmount>,
    pub status: RaiffeisenOrderStatusInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr: Option<RaiffeisenOrderQr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /payments/v1/orders/{orderId}/refunds/{refundId}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderRefundRequest {
    pub amount: RaiffeisenAmount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_details: Option<String>,
}

/// The answer to an order refund and to `GET` on the same path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderRefundResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<RaiffeisenAmount>,
    pub refund_status: RaiffeisenRefundStatus,
}

/// `POST /sbp/v1/qr-drafts/{qrId}`: binds a bank-printed plate to the merchant (nothing in the
/// body: no account, no redirect).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenQrDraftRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// The ecom-style (order) notification: `{event, transaction{id, orderId, status{value, date},
/// amount, paymentParams{qrId}}}`. `amount` keeps its literal text, which the signature covers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderNotification<'a> {
    #[serde(default)]
    pub event: Option<String>,
    #[serde(borrow)]
    pub transaction: RaiffeisenOrderTransaction<'a>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderTransaction<'a> {
    #[serde(default)]
    pub id: Option<i64>,
    pub order_id: String,
    pub status: RaiffeisenNotificationStatus,
    #[serde(borrow)]
    pub amount: &'a RawValue,
    #[serde(default)]
    pub payment_params: Option<RaiffeisenPaymentParams>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RaiffeisenNotificationStatus {
    pub value: String,
    pub date: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenPaymentParams {
    #[serde(default)]
    pub qr_id: Option<String>,
}

impl RaiffeisenOrderNotification<'_> {
    /// `amount|publicId|orderId|status.value|status.date`. ASSUMPTION: `publicId` is the
    /// merchant's `sbpMerchantId` (the ecom documents name a public id the SBP documents do not
    /// have; to be confirmed in the bank's sandbox, notes §11 and §20).
    pub fn signed_string(&self, public_id: &str) -> String {
        let t = &self.transaction;
        format!(
            "{}|{public_id}|{}|{}|{}",
            t.amount.get(),
            t.order_id,
            t.status.value,
            t.status.date
        )
    }
}

/// The ecom notification of a paid order, as the emulator sends it (and tests build it).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderNotificationOut {
    pub event: &'static str,
    pub transaction: RaiffeisenOrderTransactionOut,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenOrderTransactionOut {
    pub id: i64,
    pub order_id: String,
    pub status: RaiffeisenNotificationStatus,
    pub payment_method: &'static str,
    pub payment_params: RaiffeisenPaymentParams,
    pub amount: RaiffeisenAmount,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_request_carries_the_link_the_exact_rubles_and_the_deadline() {
        let body = RaiffeisenOrderRequest {
            id: "q01ABC".into(),
            amount: RaiffeisenAmount::from_kopecks(111000),
            qr: RaiffeisenOrderQr {
                id: "AV1000".into(),
                additional_info: None,
                payment_details: Some("Заказ".into()),
            },
            expiration_date: Some("2026-12-03T15:00:00+00:00".into()),
            comment: None,
        };
        let text = serde_json::to_string(&body).unwrap();
        assert!(text.contains("\"amount\":1110.00"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["id"], "q01ABC");
        assert_eq!(v["qr"]["id"], "AV1000");
        assert_eq!(v["expirationDate"], "2026-12-03T15:00:00+00:00");
        assert!(v.get("comment").is_none());
    }

    #[test]
    fn an_order_and_its_ecom_notification_parse_as_the_sdks_show_them() {
        let order: RaiffeisenOrder = serde_json::from_str(
            r#"{"id":"q1","amount":12.5,"comment":null,"extra":{},"status":{"value":"PAID","date":"2019-07-11T17:45:13+03:00"},
                "expirationDate":"2019-07-11T18:00:00+03:00","qr":{"id":"AV1","additionalInfo":null,"paymentDetails":null}}"#,
        )
        .unwrap();
        assert_eq!(order.status.value, RaiffeisenOrderStatus::Paid);
        assert_eq!(order.amount.unwrap().kopecks(), Some(1250));
        let raw = r#"{"event":"payment","transaction":{"id":120059,"orderId":"testOrder",
            "status":{"value":"SUCCESS","date":"2019-07-11T17:45:13+03:00"},"paymentMethod":"sbp",
            "paymentParams":{"qrId":"AD1000"},"amount":12500.5,"comment":"x","extra":{}}}"#;
        let n: RaiffeisenOrderNotification<'_> = serde_json::from_str(raw).unwrap();
        assert_eq!(
            n.signed_string("MA0000000552"),
            "12500.5|MA0000000552|testOrder|SUCCESS|2019-07-11T17:45:13+03:00"
        );
        assert_eq!(
            n.transaction.payment_params.unwrap().qr_id.as_deref(),
            Some("AD1000")
        );
    }
}
