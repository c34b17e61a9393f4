//! Raiffeisen SBP wire types (the bank's JSON, as in `raiffeisen-sbp-openapi.en.yaml`), exact
//! ruble amounts, the notification signature, and the bank's error codes. Conversions to
//! qrpay's own types happen here and nowhere else.

use crate::providers::Refusal;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::Sha256;

/// Header carrying the notification signature.
pub const SIGNATURE_HEADER: &str = "x-api-signature-sha256";

// ---------- money ----------

/// Kopecks as the bank's ruble decimal text: 1 → `0.01`, 111000 → `1110.00`. Exact, no `f64`.
pub fn rubles_text(kopecks: i64) -> String {
    let sign = if kopecks < 0 { "-" } else { "" };
    let abs = kopecks.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The bank's ruble number text (`101.01`, `150`, `0.5`) as kopecks; `None` for anything that is
/// not a plain non-negative decimal with at most two fraction digits.
pub fn kopecks_of(text: &str) -> Option<i64> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (text.contains('.') && frac.is_empty())
    {
        return None;
    }
    let rubles: i64 = int.parse().ok()?;
    let mut cents: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    if frac.len() == 1 {
        cents *= 10;
    }
    rubles.checked_mul(100)?.checked_add(cents)
}

/// A ruble amount on the wire: a JSON number whose text is kept exactly as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RaiffeisenAmount(Box<RawValue>);

impl RaiffeisenAmount {
    pub fn from_kopecks(kopecks: i64) -> Self {
        Self(
            RawValue::from_string(rubles_text(kopecks))
                .expect("BUG: a decimal number is valid JSON"),
        )
    }

    pub fn text(&self) -> &str {
        self.0.get()
    }

    pub fn kopecks(&self) -> Option<i64> {
        kopecks_of(self.text())
    }
}

impl PartialEq for RaiffeisenAmount {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

// ---------- requests ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaiffeisenQrType {
    #[serde(rename = "QRDynamic")]
    QrDynamic,
    #[serde(rename = "QRStatic")]
    QrStatic,
    #[serde(rename = "QRVariable")]
    QrVariable,
}

/// `POST /sbp/v2/qrs` (and the legacy `/sbp/v1/qr/register`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenRegisterQrRequest {
    pub qr_type: RaiffeisenQrType,
    #[serde(default)]
    pub sbp_merchant_id: Option<String>,
    #[serde(default)]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<RaiffeisenAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_expiration_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    /// Never sent by qrpay; the emulator refuses it like the test bank does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<serde_json::Value>,
}

/// `POST /sbp/v1/refund`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenRefundRequest {
    pub amount: RaiffeisenAmount,
    pub order: String,
    pub refund_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
}

/// `POST /settings/v1/callback`, request and answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenCallbackSettings {
    pub callback_url: String,
}

// ---------- answers ----------

/// `qrStatus` of `GET /sbp/v2/qrs/{qrId}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RaiffeisenQrStatus {
    New,
    InProgress,
    Paid,
    Cancelled,
    Expired,
    /// A cash link with no active order (QRVariable only).
    Inactive,
}

/// `paymentStatus` of payment-info and of notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RaiffeisenPaymentStatus {
    Success,
    Declined,
    InProgress,
    NoInfo,
}

impl RaiffeisenPaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "SUCCESS",
            Self::Declined => "DECLINED",
            Self::InProgress => "IN_PROGRESS",
            Self::NoInfo => "NO_INFO",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RaiffeisenRefundStatus {
    InProgress,
    Completed,
    Declined,
}

/// The answer to a QR registration (v1 carries `code`, v2 carries `qrStatus`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenRegisterQrResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub qr_id: String,
    pub payload: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_status: Option<RaiffeisenQrStatus>,
}

/// `GET /sbp/v2/qrs/{qrId}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenQrInfo {
    pub qr_id: String,
    pub qr_status: RaiffeisenQrStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_expiration_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_url: Option<String>,
}

/// `GET /sbp/v1/qr/{qrId}/payment-info`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenPaymentInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<RaiffeisenAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    pub payment_status: RaiffeisenPaymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbp_merchant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_expiration_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_purpose: Option<String>,
}

/// `POST /sbp/v1/refund` and `GET /sbp/v1/refund/{refundId}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenRefundResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<RaiffeisenAmount>,
    pub refund_status: RaiffeisenRefundStatus,
}

/// A business error: `{"code": "ERROR.…", "message": "…"}` (any HTTP status).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RaiffeisenErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// The payment notification the bank POSTs to qrpay. `amount` keeps its literal text, which the
/// signature covers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RaiffeisenPaymentNotification<'a> {
    #[serde(borrow)]
    pub amount: &'a RawValue,
    pub sbp_merchant_id: String,
    pub order: String,
    pub payment_status: String,
    pub transaction_date: String,
    #[serde(default)]
    pub qr_id: Option<String>,
    #[serde(default)]
    pub transaction_id: Option<i64>,
}

impl RaiffeisenPaymentNotification<'_> {
    /// `amount|sbpMerchantId|order|paymentStatus|transactionDate`.
    pub fn signed_string(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.amount.get(),
            self.sbp_merchant_id,
            self.order,
            self.payment_status,
            self.transaction_date
        )
    }
}

// ---------- signature ----------

type HmacSha256 = Hmac<Sha256>;

fn mac(secret_key: &str, data: &str) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret_key.as_bytes()).expect("BUG: HMAC takes any key length");
    mac.update(data.as_bytes());
    mac
}

/// Lowercase hex HMAC-SHA256 of `data` under the secret key.
pub fn sign(secret_key: &str, data: &str) -> String {
    hex::encode(mac(secret_key, data).finalize().into_bytes())
}

/// Constant-time check of a hex signature (either case).
pub fn signature_matches(secret_key: &str, data: &str, signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    mac(secret_key, data).verify_slice(&given).is_ok()
}

// ---------- error codes ----------

/// Every `ERROR.*` code the bank documents, and what each means for qrpay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RaiffeisenErrorCode {
    AccountIsNotRegistered,
    InvalidRequest,
    QrExpirationDateNotValid,
    MerchantNotRegistered,
    OrderNumberAlreadyRegistered,
    SbpMerchantIdIsMissing,
    DynamicQrWithoutAmount,
    InvalidOrder,
    NotFound,
    RefundInsufficientFunds,
    RefundNotFound,
    WrongQrStatus,
    /// Orders API (no `ERROR.` prefix): no such order at this merchant.
    OrderNotFound,
    /// Orders API: the order is paid, cancelled or expired already.
    OrderHasFinalStatus,
    /// A code the documents do not list: refused all the same.
    Other(String),
}

/// What a bank error code means for the call that got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaiffeisenErrorOutcome {
    /// The bank refused the request.
    Rejected(Refusal),
    /// The QR (or refund) does not exist at the bank.
    NotFound,
    /// The QR is no longer in a state that allows the call: ask the bank what it is.
    AskState,
}

impl RaiffeisenErrorCode {
    pub fn parse(code: &str) -> Self {
        match code {
            "ERROR.ACCOUNT_IS_NOT_REGISTERED" => Self::AccountIsNotRegistered,
            "ERROR.INVALID_REQUEST" => Self::InvalidRequest,
            "ERROR.QR_EXPIRATION_DATE_NOT_VALID" => Self::QrExpirationDateNotValid,
            "ERROR.MERCHANT_NOT_REGISTERED" => Self::MerchantNotRegistered,
            "ERROR.ORDER_NUMBER_ALREADY_REGISTERED" => Self::OrderNumberAlreadyRegistered,
            "ERROR.SBP_MERCHANT_ID_IS_MISSING" => Self::SbpMerchantIdIsMissing,
            "ERROR.DYNAMIC_QR_WITHOUT_AMOUNT" => Self::DynamicQrWithoutAmount,
            "ERROR.INVALID_ORDER" => Self::InvalidOrder,
            "ERROR.NOT_FOUND" => Self::NotFound,
            "ERROR.REFUND_INSUFFICIENT_FUNDS" => Self::RefundInsufficientFunds,
            "ERROR.REFUND_NOT_FOUND" => Self::RefundNotFound,
            "ERROR.WRONG_QR_STATUS" => Self::WrongQrStatus,
            "ORDER_NOT_FOUND" => Self::OrderNotFound,
            "ORDER_HAS_FINAL_STATUS" => Self::OrderHasFinalStatus,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::AccountIsNotRegistered => "ERROR.ACCOUNT_IS_NOT_REGISTERED",
            Self::InvalidRequest => "ERROR.INVALID_REQUEST",
            Self::QrExpirationDateNotValid => "ERROR.QR_EXPIRATION_DATE_NOT_VALID",
            Self::MerchantNotRegistered => "ERROR.MERCHANT_NOT_REGISTERED",
            Self::OrderNumberAlreadyRegistered => "ERROR.ORDER_NUMBER_ALREADY_REGISTERED",
            Self::SbpMerchantIdIsMissing => "ERROR.SBP_MERCHANT_ID_IS_MISSING",
            Self::DynamicQrWithoutAmount => "ERROR.DYNAMIC_QR_WITHOUT_AMOUNT",
            Self::InvalidOrder => "ERROR.INVALID_ORDER",
            Self::NotFound => "ERROR.NOT_FOUND",
            Self::RefundInsufficientFunds => "ERROR.REFUND_INSUFFICIENT_FUNDS",
            Self::RefundNotFound => "ERROR.REFUND_NOT_FOUND",
            Self::WrongQrStatus => "ERROR.WRONG_QR_STATUS",
            Self::OrderNotFound => "ORDER_NOT_FOUND",
            Self::OrderHasFinalStatus => "ORDER_HAS_FINAL_STATUS",
            Self::Other(code) => code,
        }
    }

    /// Exhaustive: a new code must be placed here on purpose.
    pub fn outcome(&self) -> RaiffeisenErrorOutcome {
        use RaiffeisenErrorOutcome as O;
        match self {
            Self::AccountIsNotRegistered
            | Self::MerchantNotRegistered
            | Self::SbpMerchantIdIsMissing
            | Self::OrderNumberAlreadyRegistered
            | Self::QrExpirationDateNotValid
            | Self::DynamicQrWithoutAmount
            | Self::InvalidOrder
            | Self::InvalidRequest
            | Self::Other(_) => O::Rejected(Refusal::Refused),
            Self::RefundInsufficientFunds => O::Rejected(Refusal::RefundExceedsPaid),
            Self::NotFound | Self::RefundNotFound | Self::OrderNotFound => O::NotFound,
            Self::WrongQrStatus | Self::OrderHasFinalStatus => O::AskState,
        }
    }

    pub const DOCUMENTED: [&'static str; 12] = [
        "ERROR.ACCOUNT_IS_NOT_REGISTERED",
        "ERROR.INVALID_REQUEST",
        "ERROR.QR_EXPIRATION_DATE_NOT_VALID",
        "ERROR.MERCHANT_NOT_REGISTERED",
        "ERROR.ORDER_NUMBER_ALREADY_REGISTERED",
        "ERROR.SBP_MERCHANT_ID_IS_MISSING",
        "ERROR.DYNAMIC_QR_WITHOUT_AMOUNT",
        "ERROR.INVALID_ORDER",
        "ERROR.NOT_FOUND",
        "ERROR.REFUND_INSUFFICIENT_FUNDS",
        "ERROR.REFUND_NOT_FOUND",
        "ERROR.WRONG_QR_STATUS",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// `raiffeisen-callback-signature-vector.json` (from the bank's Java SDK tests), verbatim.
    const VECTOR: &str = r##"{
  "about": "Published test vector for the X-Api-Signature-SHA256 header of a Raiffeisen SBP payment notification (from the bank's Java SDK tests). signature = lowercase hex HMAC-SHA256(key = secret_key as UTF-8 bytes, data = amount|sbpMerchantId|order|paymentStatus|transactionDate), where amount is the literal text of the JSON number in the body.",
  "secret_key": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJNQTAwMDAwMDA1NTIiLCJqdGkiOiIwZTRhODI2ZC0zMTk3LTQ5YWUtYjRlYS0zZDllOGRkODIyOGEifQ.Q-AVaDBzvfkz6I8ZCVgvGIWpWTUgotRDmTcs4ysR0Qc",
  "body": "{\"transactionId\":17998,\"qrId\":\"AS1000408BSPMRDI8IHBGO4DFQAISU9O\",\"sbpMerchantId\":\"MA0000000552\",\"merchantId\":123,\"amount\":101.01,\"currency\":\"RUB\",\"transactionDate\":\"2020-07-24T17:20:00.999232+03:00\",\"paymentStatus\":\"SUCCESS\",\"additionalInfo\":null,\"order\":\"dfe0ff08-4796-46bb-a9fb-93fcd99ce748\",\"createDate\":\"2020-07-24T17:19:58+03:00\"}",
  "signed_string": "101.01|MA0000000552|dfe0ff08-4796-46bb-a9fb-93fcd99ce748|SUCCESS|2020-07-24T17:20:00.999232+03:00",
  "signature": "1eca6a084ff8a5b4f5740e0eeab2a72d8ff981bce5b5dea75a53bf44944a8c8d"
}"##;

    #[test]
    fn the_published_signature_vector_verifies() {
        let v: Value = serde_json::from_str(VECTOR).unwrap();
        let key = v["secret_key"].as_str().unwrap();
        let body = v["body"].as_str().unwrap();
        let n: RaiffeisenPaymentNotification<'_> = serde_json::from_str(body).unwrap();
        assert_eq!(n.signed_string(), v["signed_string"].as_str().unwrap());
        let sig = v["signature"].as_str().unwrap();
        assert_eq!(sign(key, &n.signed_string()), sig);
        assert!(signature_matches(key, &n.signed_string(), sig));
        assert!(signature_matches(
            key,
            &n.signed_string(),
            &sig.to_uppercase()
        ));
        assert!(!signature_matches("other key", &n.signed_string(), sig));
        let tampered = n.signed_string().replace("101.01", "101.10");
        assert!(!signature_matches(key, &tampered, sig));
        assert!(!signature_matches(key, &n.signed_string(), "not hex"));
    }

    #[test]
    fn kopecks_become_exact_ruble_numbers_and_back() {
        for (k, text) in [
            (1, "0.01"),
            (10, "0.10"),
            (111000, "1110.00"),
            (111011, "1110.11"),
            (99_999_999_999, "999999999.99"),
        ] {
            assert_eq!(rubles_text(k), text);
            assert_eq!(kopecks_of(text), Some(k));
            let json = serde_json::to_string(&RaiffeisenAmount::from_kopecks(k)).unwrap();
            assert_eq!(json, text);
        }
        assert_eq!(kopecks_of("150"), Some(15000));
        assert_eq!(kopecks_of("0.5"), Some(50));
        for bad in ["", "1.", ".5", "1.001", "-1", "1e2", "abc", "1.2.3"] {
            assert_eq!(kopecks_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_documented_error_code_has_an_outcome() {
        for code in RaiffeisenErrorCode::DOCUMENTED {
            let parsed = RaiffeisenErrorCode::parse(code);
            assert!(!matches!(parsed, RaiffeisenErrorCode::Other(_)), "{code}");
            assert_eq!(parsed.as_str(), code);
        }
        assert_eq!(
            RaiffeisenErrorCode::parse("ERROR.MERCHANT_NOT_REGISTERED").outcome(),
            RaiffeisenErrorOutcome::Rejected(Refusal::Refused)
        );
        // The till sees it as `refund_exceeds_paid` (409): see `http::errors`.
        assert_eq!(
            RaiffeisenErrorCode::parse("ERROR.REFUND_INSUFFICIENT_FUNDS").outcome(),
            RaiffeisenErrorOutcome::Rejected(Refusal::RefundExceedsPaid)
        );
    }

    /// Field names and JSON types of an object, for shape comparisons.
    fn shape(v: &Value) -> Vec<(String, &'static str)> {
        let mut out: Vec<_> = v
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let t = match v {
                    Value::Null => "null",
                    Value::Bool(_) => "bool",
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                };
                (k.clone(), t)
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_register_request_has_the_shape_of_the_openapi_example() {
        // The QRDynamic example of POST /sbp/v1/qr/register, without `account` (never sent).
        let example = json!({
            "additionalInfo": "Доп информация",
            "amount": 1110.11,
            "currency": "RUB",
            "order": "1-22-333",
            "paymentDetails": "Назначение платежа",
            "qrType": "QRDynamic",
            "qrExpirationDate": "2023-07-22T09:14:38+03:00",
            "sbpMerchantId": "MA0000000552"
        });
        let ours = RaiffeisenRegisterQrRequest {
            qr_type: RaiffeisenQrType::QrDynamic,
            sbp_merchant_id: Some("MA0000000552".into()),
            order: Some("1-22-333".into()),
            amount: Some(RaiffeisenAmount::from_kopecks(111011)),
            currency: Some("RUB".into()),
            qr_expiration_date: Some("2023-07-22T09:14:38+03:00".into()),
            payment_details: Some("Назначение платежа".into()),
            additional_info: Some("Доп информация".into()),
            account: None,
        };
        let text = serde_json::to_string(&ours).unwrap();
        let ours: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(shape(&ours), shape(&example));
        assert_eq!(ours, example, "field by field");
        assert!(text.contains("\"amount\":1110.11"), "{text}");
    }

    #[test]
    fn the_refund_request_has_the_shape_of_the_openapi_examples() {
        let example = json!({
            "amount": 150, "order": "test_order_007", "paymentDetails": "Test",
            "refundId": "test_refundId_007", "transactionId": 41
        });
        let ours = RaiffeisenRefundRequest {
            amount: RaiffeisenAmount::from_kopecks(15000),
            order: "test_order_007".into(),
            refund_id: "test_refundId_007".into(),
            payment_details: Some("Test".into()),
            transaction_id: Some(41),
        };
        let ours: Value = serde_json::to_value(&ours).unwrap();
        assert_eq!(shape(&ours), shape(&example));
        assert_eq!(ours["amount"].as_f64(), Some(150.0));
        for field in ["order", "paymentDetails", "refundId", "transactionId"] {
            assert_eq!(ours[field], example[field], "{field}");
        }
        let callback = serde_json::to_value(RaiffeisenCallbackSettings {
            callback_url: "https://yoururl.ru".into(),
        })
        .unwrap();
        assert_eq!(callback, json!({"callbackUrl": "https://yoururl.ru"}));
    }

    #[test]
    fn the_documented_example_answers_parse() {
        let register: RaiffeisenRegisterQrResponse = serde_json::from_value(json!({
            "code": "SUCCESS",
            "qrId": "AD100004BAL7227F9BNP6KNE007J9B3K",
            "payload": "https://qr.nspk.ru/AD100004BAL7227F9BNP6KNE007J9B3K?type=02&bank=100000000007&sum=1&cur=RUB&crc=AB75",
            "qrUrl": "https://e-commerce.raiffeisen.ru/api/sbp/v1/qr/AD100004BAL7227F9BNP6KNE007J9B3K/image"
        }))
        .unwrap();
        assert_eq!(register.qr_id, "AD100004BAL7227F9BNP6KNE007J9B3K");
        assert!(register.payload.ends_with("crc=AB75"));

        let info: RaiffeisenQrInfo = serde_json::from_value(json!({
            "qrId": "AD100004BAL7227F9BNP6KNE007J9B3K",
            "qrStatus": "NEW",
            "qrExpirationDate": "2023-07-22T09:14:38+03:00",
            "payload": "https://qr.nspk.ru/AD100004BAL7227F9BNP6KNE007J9B3K?type=02&bank=100000000007&sum=1&cur=RUB&crc=AB75",
            "qrUrl": "https://e-commerce.raiffeisen.ru/api/sbp/v1/qr/AD100004BAL7227F9BNP6KNE007J9B3K/image"
        }))
        .unwrap();
        assert_eq!(info.qr_status, RaiffeisenQrStatus::New);

        let payment: RaiffeisenPaymentInfo = serde_json::from_str(
            r#"{"additionalInfo":"Доп информация","paymentPurpose":"Назначение платежа",
            "amount":1110.11,"code":"SUCCESS","createDate":"2020-01-31T09:14:38.107227+03:00",
            "currency":"RUB","merchantId":123,"order":"282a60f8-dd75-4286-bde0-af321dd081b3",
            "paymentStatus":"SUCCESS","qrId":"AD100051KNSNR64I98CRUJUASC9M72QT",
            "sbpMerchantId":"MA0000000552","transactionDate":"2019-07-11T17:45:13.109227+03:00",
            "transactionId":23,"qrExpirationDate":"2020-01-15T13:00:40+03:00"}"#,
        )
        .unwrap();
        assert_eq!(payment.payment_status, RaiffeisenPaymentStatus::Success);
        assert_eq!(payment.amount.unwrap().kopecks(), Some(111011));
        assert_eq!(payment.transaction_id, Some(23));

        for (text, status) in [
            (
                r#"{"code":"SUCCESS","amount":150,"refundStatus":"IN_PROGRESS"}"#,
                RaiffeisenRefundStatus::InProgress,
            ),
            (
                r#"{"code":"SUCCESS","amount":150,"refundStatus":"COMPLETED"}"#,
                RaiffeisenRefundStatus::Completed,
            ),
        ] {
            let r: RaiffeisenRefundResponse = serde_json::from_str(text).unwrap();
            assert_eq!(r.refund_status, status);
            assert_eq!(r.amount.unwrap().kopecks(), Some(15000));
        }
        let err: RaiffeisenErrorBody = serde_json::from_str(
            r#"{"code":"ERROR.NOT_FOUND","message":"QR-код не найден у данного партнера"}"#,
        )
        .unwrap();
        assert_eq!(
            RaiffeisenErrorCode::parse(&err.code).outcome(),
            RaiffeisenErrorOutcome::NotFound
        );
    }
}
