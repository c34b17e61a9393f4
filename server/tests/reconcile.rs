//! Reconciliation with the bank's registry: registries built from qrpay's own payments (CP1251,
//! with the bank's title, header and total lines) with each kind of difference; the comparison is
//! kept and audited; `qrpay reconcile` exits 0 only when everything matches.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::db::scalar;
use crate::providers::Harness;
use qrpay::db::audit::Who;
use qrpay::reconcile::{MismatchKind, reconcile_file};
use serde_json::{Value, json};
use std::collections::BTreeSet;

both_backends!(
    each_kind_of_difference_is_found_and_the_comparison_kept,
    a_registry_that_matches_says_so_and_the_cli_exits_0,
    a_registry_of_another_merchant_or_garbage_is_refused,
);

const MERCHANT: &str = "MA0000000552";

/// A registry line: (type, order, refund id, amount in kopecks).
type Op<'a> = (&'a str, &'a str, &'a str, i64);

fn rub(k: i64) -> String {
    format!("{}.{:02}", k / 100, k % 100)
}

/// The bank's registry of today (Moscow) with `ops`, a total line of `total` (default: the sum),
/// in CP1251 with CRLF, as the bank sends it.
pub(crate) fn registry(merchant: &str, ops: &[Op<'_>], total: Option<i64>) -> Vec<u8> {
    let today = (chrono::Utc::now() + chrono::Duration::hours(3)).date_naive();
    let d = today.format("%d/%m/%Y");
    let mut text = format!(
        "Instant Payments C2B Transactions report for {d} / Отчет по СБП C2B транзакциям за {d};;;;;;;;;;;\r\n;;;;;;;;;;;\r\n\
         Мерчант;Дата операции МСК;Тип;id заказа;id возврата;Комментарий;Способ оплаты;Данные оплаты;id клиента;Сумма;Комиссия;Дополнительные поля\r\n"
    );
    let mut sum = 0;
    let mut fees = 0;
    for (kind, order, refund, amount) in ops {
        let fee = if *kind == "Payment" {
            amount * 4 / 1000
        } else {
            0
        };
        sum += amount;
        fees += fee;
        text += &format!(
            "{merchant};{} 12:00;{kind};{order};{refund};;Instant Payment QR;AD1;0079******12;{};{};\r\n",
            today.format("%d.%m.%Y"),
            rub(*amount),
            rub(fee)
        );
    }
    text += &format!(
        "ИТОГО;;;;;;;;;{};{};\r\n",
        rub(total.unwrap_or(sum)),
        rub(fees)
    );
    encoding_rs::WINDOWS_1251.encode(&text).0.into_owned()
}

pub(crate) async fn order_of(h: &Harness, id: &str) -> String {
    qrpay::db::payment::get_payment(&h.app.db, id)
        .await
        .unwrap()
        .unwrap()
        .order_ref
}

async fn refund_ref_of(h: &Harness, refund_id: &str) -> String {
    qrpay::db::refund::get_refund(&h.app.db, refund_id)
        .await
        .unwrap()
        .unwrap()
        .refund_ref
}

/// A payment on the emulated bank the customer paid.
pub(crate) async fn paid(h: &Harness, amount: i64) -> String {
    let p = h.create(amount, "normal").await;
    let id = p["id"].as_str().unwrap().to_owned();
    h.pay(&id, false).await;
    assert_eq!(h.wait(&id, 10).await["status"], "paid");
    id
}

async fn refunded(h: &Harness, id: &str, amount: i64) -> String {
    let (status, refund) = h.refund_settled(id, json!({"amount": amount})).await;
    assert_eq!(
        (status, refund["status"].as_str()),
        (201, Some("completed")),
        "{refund}"
    );
    refund["id"].as_str().unwrap().to_owned()
}

async fn each_kind_of_difference_is_found_and_the_comparison_kept(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let matched = paid(&h, 1000).await;
    let other_amount = paid(&h, 2000).await;
    let not_at_bank = paid(&h, 3000).await;
    let pending = h.create(4000, "normal").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refund_ok = refunded(&h, &matched, 300).await;
    let refund_not_at_bank = refunded(&h, &not_at_bank, 100).await;
    // A test payment (sandbox) paid the same day is never compared.
    h.app.paid_payment(777).await;
    let (m, o, p) = (
        order_of(&h, &matched).await,
        order_of(&h, &other_amount).await,
        order_of(&h, &pending).await,
    );
    let r = refund_ref_of(&h, &refund_ok).await;
    let bytes = registry(
        MERCHANT,
        &[
            ("Payment", &m, "", 1000),
            ("Payment", &o, "", 2100),
            ("Payment", &p, "", 4000),
            ("Payment", "q-not-ours", "", 500),
            ("Refund", &m, &r, 300),
            ("Refund", &m, "r-not-ours", 50),
        ],
        Some(1),
    );
    let (report, id) = reconcile_file(&h.app.db, &Who::CLI, "registry.csv", &bytes, None)
        .await
        .unwrap();
    let found: BTreeSet<(MismatchKind, String)> = report
        .mismatches
        .iter()
        .map(|m| (m.kind, m.bank_ref.clone()))
        .collect();
    let rr = refund_ref_of(&h, &refund_not_at_bank).await;
    let n = order_of(&h, &not_at_bank).await;
    let want: BTreeSet<(MismatchKind, String)> = [
        (MismatchKind::AmountDiffers, o.clone()),
        (MismatchKind::PaidAtBankNotInQrpay, p.clone()),
        (MismatchKind::PaidAtBankNotInQrpay, "q-not-ours".into()),
        (MismatchKind::PaidInQrpayMissingAtBank, n),
        (MismatchKind::RefundAtBankNotInQrpay, "r-not-ours".into()),
        (MismatchKind::RefundInQrpayMissingAtBank, rr),
        (MismatchKind::TotalLineDiffers, "ИТОГО".into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, want, "{report:#?}");
    let pending_line = report.mismatches.iter().find(|m| m.bank_ref == p).unwrap();
    assert_eq!(pending_line.qrpay_status.as_deref(), Some("pending"));
    assert_eq!(pending_line.payment_id.as_deref(), Some(pending.as_str()));
    assert_eq!((report.matched_payments, report.matched_refunds), (1, 1));
    assert_eq!(report.bank.payments, 1000 + 2100 + 4000 + 500);
    assert_eq!(report.qrpay.payments, 1000 + 2000 + 3000);
    assert_eq!(report.qrpay.refunds, 300 + 100);
    assert_eq!(report.stores, vec!["main".to_owned()]);
    // Kept and audited.
    let kept = scalar(
        &h.app,
        &format!("select mismatches from reconciliation where reconciliation_id = {id}"),
    )
    .await;
    assert_eq!(kept, 7);
    let audited = scalar(
        &h.app,
        "select count(*) from audit_log where entity = 'reconciliation' and login = 'cli'",
    )
    .await;
    assert_eq!(audited, 1);
}

async fn a_registry_that_matches_says_so_and_the_cli_exits_0(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let a = paid(&h, 1500).await;
    let refund = refunded(&h, &a, 500).await;
    let (order, refund_ref) = (order_of(&h, &a).await, refund_ref_of(&h, &refund).await);
    let clean = registry(
        MERCHANT,
        &[
            ("Payment", &order, "", 1500),
            ("Refund", &order, &refund_ref, 500),
        ],
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clean.csv");
    std::fs::write(&path, &clean).unwrap();
    let run = |path: &std::path::Path, format: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_qrpay"))
            .env("QRPAY_DATABASE_URL", &h.app.database_url)
            .env("RUST_LOG", "error")
            .args(["reconcile", "--registry"])
            .arg(path)
            .args(["--format", format])
            .output()
            .unwrap()
    };
    let out = run(&path, "json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["mismatches"], json!([]));
    assert_eq!(report["matched_payments"], 1);
    // The text report says so in Russian.
    let out = run(&path, "text");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Расхождений нет"));
    // One more payment the bank does not list: exit 1, and the CSV names it.
    let missing = paid(&h, 999).await;
    let out = run(&path, "csv");
    assert_eq!(out.status.code(), Some(1));
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("kind;bank_ref;payment_id"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("paid_in_qrpay_missing_at_bank;") && l.contains(&missing)),
        "{csv}"
    );
}

async fn a_registry_of_another_merchant_or_garbage_is_refused(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let other = registry("MA9999999999", &[("Payment", "q-1", "", 100)], None);
    let e = reconcile_file(&h.app.db, &Who::CLI, "other.csv", &other, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("MA9999999999"), "{e}");
    let e = reconcile_file(&h.app.db, &Who::CLI, "x.csv", b"hello;world\n", None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Мерчант"), "{e}");
    assert_eq!(
        scalar(&h.app, "select count(*) from reconciliation").await,
        0
    );
}
