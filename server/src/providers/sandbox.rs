//! The `sandbox` module: a simulated bank inside the process, deterministic and with no setup, so
//! that a new user can run the whole flow at once. A person or a test plays the customer through
//! `POST /api/v1/sandbox/payments/{id}/pay` and `/decline`.
//!
//! Customer-presented QR codes («Сканировать QR-код покупателя»): a code starting `sandbox-ok`
//! pays at once, one starting `sandbox-decline` is declined; anything else is not a code the
//! sandbox reads.
//!
//! Cash-register links: registering one gives an `AV…` link; binding takes any plate id of 1–32
//! letters and digits (the sandbox printed them all). Each payment through a link is its own
//! order on it, paid or declined like a QR.
//!
//! Refunds complete at once, except one whose reason starts with `sandbox:decline`, which the
//! sandbox bank declines (to try the declined-refund path).

use super::{
    BankPaymentState, BankRefundState, Capabilities, CashLinkRequest, ChargeCustomerQr, CreateQr,
    IssuedQr, OrderAtBank, Provider, ProviderError, QrRef, RefundRequest, StaticQrPayment,
    StaticQrRef, StaticQrRequest,
};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// The NSPK participant id the sandbox puts in its links (not a real bank).
pub const SANDBOX_BANK_ID: &str = "100000000000";

/// A refund whose reason starts with this is declined by the sandbox bank.
pub const DECLINE_REFUND_MARKER: &str = "sandbox:decline";

/// A customer's QR code starting with this pays at once.
pub const CUSTOMER_QR_PAYS: &str = "sandbox-ok";
/// A customer's QR code starting with this is declined by the customer's bank.
pub const CUSTOMER_QR_DECLINES: &str = "sandbox-decline";

#[derive(Debug, Clone)]
struct SandboxQr {
    amount: i64,
    state: BankPaymentState,
    refunded: i64,
}

#[derive(Default)]
pub struct SandboxBank {
    qrs: Mutex<HashMap<String, SandboxQr>>,
    /// Customer-presented QR charges by order: the same order always gets the same outcome.
    charges: Mutex<HashMap<String, BankPaymentState>>,
    refunds: Mutex<HashMap<String, BankRefundState>>,
    /// Static QRs: whether each is active, and the last transaction id handed out.
    static_qrs: Mutex<HashMap<String, bool>>,
    last_transaction: std::sync::atomic::AtomicI64,
}

/// `AD` + 30 characters derived from the order: the same order always gets the same QR id.
pub fn qr_id_for(order_ref: &str) -> String {
    const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let digest = Sha256::digest(order_ref.as_bytes());
    let tail: String = digest
        .iter()
        .take(30)
        .map(|b| ALPHABET[(*b as usize) % 36] as char)
        .collect();
    format!("AD{tail}")
}

/// Where the sandbox keeps a payment's state: by its QR, or for an order on a till's cash link
/// (whose QR serves every sale) by link and order.
pub fn state_key(qr_id: &str, order_ref: &str, cash_link: bool) -> String {
    if cash_link {
        format!("{qr_id}/{order_ref}")
    } else {
        qr_id.to_owned()
    }
}

fn key_of(qr: &QrRef<'_>) -> String {
    state_key(qr.qr_id, qr.order_ref, qr.cash_link)
}

/// CRC-16/CCITT-FALSE: the sandbox's own checksum for its links (NSPK's algorithm is not public;
/// real links are always used verbatim as the bank gives them).
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The dynamic-QR link in the NSPK shape.
pub fn nspk_payload(qr_id: &str, kopecks: i64) -> String {
    let head =
        format!("https://qr.nspk.ru/{qr_id}?type=02&bank={SANDBOX_BANK_ID}&sum={kopecks}&cur=RUB");
    let crc = crc16(head.as_bytes());
    format!("{head}&crc={crc:04X}")
}

/// The static-QR link in the NSPK shape (`type=01`; the amount only when it is fixed).
pub fn nspk_static_payload(qr_id: &str, kopecks: Option<i64>) -> String {
    let sum = kopecks.map(|k| format!("&sum={k}")).unwrap_or_default();
    let head = format!("https://qr.nspk.ru/{qr_id}?type=01&bank={SANDBOX_BANK_ID}{sum}&cur=RUB");
    let crc = crc16(head.as_bytes());
    format!("{head}&crc={crc:04X}")
}

impl SandboxBank {
    fn lock_qrs(&self) -> std::sync::MutexGuard<'_, HashMap<String, SandboxQr>> {
        // A poisoned lock only means another request panicked mid-update of a simulation.
        self.qrs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The customer pays. Works on a QR the sandbox forgot (after a restart) and on an annulled
    /// one, so that the late-payment path can be tried.
    pub fn module_name(&self) -> &'static str {
        "sandbox"
    }

    pub fn pay(&self, qr_id: &str, kopecks: i64) -> BankPaymentState {
        let mut qrs = self.lock_qrs();
        let qr = qrs.entry(qr_id.to_owned()).or_insert(SandboxQr {
            amount: kopecks,
            state: BankPaymentState::Waiting,
            refunded: 0,
        });
        if !matches!(
            qr.state,
            BankPaymentState::Paid { .. } | BankPaymentState::Declined { .. }
        ) {
            qr.state = BankPaymentState::Paid {
                transaction_id: Some(format!("{}", crc16(qr_id.as_bytes()) as u32 + 100_000)),
                paid_at: Some(crate::db::now()),
            };
        }
        qr.state.clone()
    }

    /// A customer pays the static QR `qr_id` (registered as `order_ref`) `kopecks`: the payment
    /// as the bank would report it, with a transaction id of its own (microseconds, so that ids
    /// never repeat across restarts). Refused when the QR was annulled.
    pub fn pay_static(
        &self,
        qr_id: &str,
        order_ref: &str,
        kopecks: i64,
    ) -> Result<StaticQrPayment, ProviderError> {
        use std::sync::atomic::Ordering;
        let active = self.lock_static().get(qr_id).copied().unwrap_or(true);
        if !active {
            return Err(ProviderError::Rejected {
                code: "WRONG_QR_STATUS".into(),
                message: "the static QR was annulled".into(),
            });
        }
        let now = crate::db::now();
        let id = self
            .last_transaction
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
                Some(now.timestamp_micros().max(last + 1))
            })
            .map_or(now.timestamp_micros(), |last| {
                now.timestamp_micros().max(last + 1)
            });
        Ok(StaticQrPayment {
            transaction_id: id.to_string(),
            amount: kopecks,
            order: order_ref.to_owned(),
            paid_at: Some(now),
        })
    }

    fn lock_static(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        self.static_qrs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The customer's bank declines the payment.
    pub fn decline(&self, qr_id: &str, kopecks: i64) -> BankPaymentState {
        let mut qrs = self.lock_qrs();
        let qr = qrs.entry(qr_id.to_owned()).or_insert(SandboxQr {
            amount: kopecks,
            state: BankPaymentState::Waiting,
            refunded: 0,
        });
        if qr.state == BankPaymentState::Waiting {
            qr.state = BankPaymentState::Declined {
                reason: "declined by the customer's bank (sandbox)".into(),
            };
        }
        qr.state.clone()
    }
}

#[async_trait]
impl Provider for SandboxBank {
    fn module(&self) -> &'static str {
        "sandbox"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            dynamic_qr: true,
            cash_link: true,
            customer_presented_qr: true,
            partial_refund: true,
            callbacks: false,
            test: true,
        }
    }

    fn issues_static_qrs(&self) -> bool {
        true
    }

    async fn issue_cash_link(&self, req: &CashLinkRequest<'_>) -> Result<IssuedQr, ProviderError> {
        let qr_id = match req.bind_qr_id {
            Some(id) => {
                let ok =
                    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
                if !ok {
                    return Err(ProviderError::Rejected {
                        code: "SANDBOX_BAD_QR_DRAFT".into(),
                        message: format!("QR-draft с qrId: {id} не зарегистрирован"),
                    });
                }
                id.to_owned()
            }
            None => {
                use std::sync::atomic::Ordering;
                let n = self.last_transaction.fetch_add(1, Ordering::SeqCst);
                let seed = format!(
                    "{}/{}/{n}",
                    req.store_id,
                    crate::db::now().timestamp_micros()
                );
                format!("AV{}", &qr_id_for(&seed)[2..])
            }
        };
        Ok(IssuedQr {
            payload: nspk_static_payload(&qr_id, None),
            qr_id,
        })
    }

    async fn issue_static_qr(&self, req: &StaticQrRequest<'_>) -> Result<IssuedQr, ProviderError> {
        let qr_id = format!("AS{}", &qr_id_for(req.order_ref)[2..]);
        self.lock_static().insert(qr_id.clone(), true);
        Ok(IssuedQr {
            payload: nspk_static_payload(&qr_id, req.amount),
            qr_id,
        })
    }

    async fn deactivate_static_qr(&self, qr: &StaticQrRef<'_>) -> Result<(), ProviderError> {
        self.lock_static().insert(qr.qr_id.to_owned(), false);
        Ok(())
    }

    async fn create_qr(&self, req: &CreateQr<'_>) -> Result<IssuedQr, ProviderError> {
        let kopecks = req.amount.kopecks();
        if let Some(link) = req.cash_link {
            self.lock_qrs()
                .entry(state_key(link.qr_id, req.order_ref, true))
                .or_insert(SandboxQr {
                    amount: kopecks,
                    state: BankPaymentState::Waiting,
                    refunded: 0,
                });
            return Ok(IssuedQr {
                qr_id: link.qr_id.to_owned(),
                payload: link.payload.to_owned(),
            });
        }
        let qr_id = qr_id_for(req.order_ref);
        self.lock_qrs().insert(
            qr_id.clone(),
            SandboxQr {
                amount: kopecks,
                state: BankPaymentState::Waiting,
                refunded: 0,
            },
        );
        Ok(IssuedQr {
            payload: nspk_payload(&qr_id, kopecks),
            qr_id,
        })
    }

    async fn register_again(&self, req: &CreateQr<'_>) -> Result<OrderAtBank, ProviderError> {
        let (key, issued) = match req.cash_link {
            Some(link) => (
                state_key(link.qr_id, req.order_ref, true),
                IssuedQr {
                    qr_id: link.qr_id.to_owned(),
                    payload: link.payload.to_owned(),
                },
            ),
            None => {
                let qr_id = qr_id_for(req.order_ref);
                (
                    qr_id.clone(),
                    IssuedQr {
                        payload: nspk_payload(&qr_id, req.amount.kopecks()),
                        qr_id,
                    },
                )
            }
        };
        let known = self.lock_qrs().get(&key).map(|q| q.state.clone());
        match known {
            Some(BankPaymentState::Paid { .. }) => Ok(OrderAtBank::Paid),
            Some(BankPaymentState::Waiting) => Ok(OrderAtBank::Issued(issued)),
            _ => self.create_qr(req).await.map(OrderAtBank::Issued),
        }
    }

    fn check_customer_qr(&self, code: &str) -> Result<(), String> {
        if code.starts_with(CUSTOMER_QR_PAYS) || code.starts_with(CUSTOMER_QR_DECLINES) {
            Ok(())
        } else {
            Err(format!(
                "the sandbox reads only codes starting {CUSTOMER_QR_PAYS:?} (pays) or {CUSTOMER_QR_DECLINES:?} (declines)"
            ))
        }
    }

    async fn charge_customer_qr(
        &self,
        req: &ChargeCustomerQr<'_>,
    ) -> Result<BankPaymentState, ProviderError> {
        self.check_customer_qr(req.customer_qr)
            .map_err(|message| ProviderError::Rejected {
                code: "SANDBOX_BAD_CUSTOMER_QR".into(),
                message,
            })?;
        let mut charges = self.charges.lock().unwrap_or_else(|e| e.into_inner());
        let outcome = charges.entry(req.order_ref.to_owned()).or_insert_with(|| {
            if req.customer_qr.starts_with(CUSTOMER_QR_PAYS) {
                BankPaymentState::Paid {
                    transaction_id: Some(format!(
                        "{}",
                        crc16(req.order_ref.as_bytes()) as u32 + 200_000
                    )),
                    paid_at: Some(crate::db::now()),
                }
            } else {
                BankPaymentState::Declined {
                    reason: "the customer's bank declined the payment (sandbox)".into(),
                }
            }
        });
        Ok(outcome.clone())
    }

    async fn payment_status(&self, qr: &QrRef<'_>) -> Result<BankPaymentState, ProviderError> {
        Ok(self
            .lock_qrs()
            .get(&key_of(qr))
            .map(|q| q.state.clone())
            .unwrap_or(BankPaymentState::NotFound))
    }

    async fn cancel_qr(&self, qr: &QrRef<'_>) -> Result<BankPaymentState, ProviderError> {
        let mut qrs = self.lock_qrs();
        let Some(entry) = qrs.get_mut(&key_of(qr)) else {
            return Ok(BankPaymentState::NotFound);
        };
        if entry.state == BankPaymentState::Waiting {
            entry.state = BankPaymentState::Cancelled;
        }
        Ok(entry.state.clone())
    }

    async fn refund(&self, req: &RefundRequest<'_>) -> Result<BankRefundState, ProviderError> {
        let mut refunds = self.refunds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = refunds.get(req.refund_ref) {
            return Ok(known.clone());
        }
        let outcome = if req
            .reason
            .is_some_and(|r| r.starts_with(DECLINE_REFUND_MARKER))
        {
            BankRefundState::Declined {
                code: "SANDBOX_DECLINED".into(),
                message: "the sandbox bank declined the refund as asked".into(),
            }
        } else {
            let mut qrs = self.lock_qrs();
            let key = req
                .qr_id
                .map(|id| state_key(id, req.order_ref, req.cash_link));
            match key.and_then(|key| qrs.get_mut(&key)) {
                // After a restart the sandbox has forgotten the payment; qrpay's own books rule.
                None => BankRefundState::Completed,
                Some(qr) if qr.refunded + req.amount.kopecks() > qr.amount => {
                    BankRefundState::Declined {
                        code: "REFUND_INSUFFICIENT_FUNDS".into(),
                        message: "refund exceeds the paid amount".into(),
                    }
                }
                Some(qr) => {
                    qr.refunded += req.amount.kopecks();
                    BankRefundState::Completed
                }
            }
        };
        refunds.insert(req.refund_ref.to_owned(), outcome.clone());
        Ok(outcome)
    }

    async fn refund_status(
        &self,
        req: &RefundRequest<'_>,
    ) -> Result<BankRefundState, ProviderError> {
        let refund_ref = req.refund_ref;
        let refunds = self.refunds.lock().unwrap_or_else(|e| e.into_inner());
        refunds
            .get(refund_ref)
            .cloned()
            .ok_or_else(|| ProviderError::Rejected {
                code: "REFUND_NOT_FOUND".into(),
                message: format!("no refund {refund_ref}"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_the_nspk_link_shape() {
        let qr_id = qr_id_for("q01jabc");
        assert_eq!(qr_id.len(), 32);
        assert!(qr_id.starts_with("AD"));
        assert_eq!(qr_id, qr_id_for("q01jabc"), "deterministic");
        let p = nspk_payload(&qr_id, 111000);
        let prefix = format!(
            "https://qr.nspk.ru/{qr_id}?type=02&bank={SANDBOX_BANK_ID}&sum=111000&cur=RUB&crc="
        );
        assert!(p.starts_with(&prefix), "{p}");
        let crc = &p[prefix.len()..];
        assert_eq!(crc.len(), 4);
        assert!(crc.chars().all(|c| c.is_ascii_hexdigit()));
    }

    fn charge<'a>(order_ref: &'a str, code: &'a str) -> ChargeCustomerQr<'a> {
        ChargeCustomerQr {
            store_id: 1,
            order_ref,
            amount: crate::domain::Amount::parse(100).unwrap(),
            description: None,
            customer_qr: code,
        }
    }

    #[tokio::test]
    async fn customer_qr_codes_pay_decline_or_are_not_read() {
        let bank = SandboxBank::default();
        assert!(bank.capabilities().customer_presented_qr);
        let paid = bank
            .charge_customer_qr(&charge("o1", "sandbox-ok-1"))
            .await
            .unwrap();
        assert!(matches!(paid, BankPaymentState::Paid { .. }), "{paid:?}");
        let again = bank
            .charge_customer_qr(&charge("o1", "sandbox-decline"))
            .await
            .unwrap();
        assert_eq!(again, paid, "charging is idempotent by order");
        let declined = bank
            .charge_customer_qr(&charge("o2", "sandbox-decline-x"))
            .await
            .unwrap();
        assert!(
            matches!(declined, BankPaymentState::Declined { .. }),
            "{declined:?}"
        );
        assert!(bank.check_customer_qr("4242").is_err());
        assert!(bank.check_customer_qr("sandbox-ok").is_ok());
    }

    #[test]
    fn crc16_matches_the_ccitt_false_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }
}
