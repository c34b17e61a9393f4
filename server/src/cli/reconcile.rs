//! `qrpay reconcile --registry FILE`: compares the bank's registry with qrpay, prints what differs,
//! keeps the comparison (audited as `cli`) and exits 0 only when everything matches.

use crate::db::audit::Who;
use crate::reconcile::{Mismatch, Report, reconcile_file};
use crate::startup::prepare_database;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ReconcileArgs {
    /// The bank's registry of SBP operations (CSV, CP1251 or UTF-8, `;`-separated).
    #[arg(long)]
    pub registry: PathBuf,
    /// Compare only this store of the registry's merchant (default: every store using it).
    #[arg(long)]
    pub store: Option<String>,
    /// `text` for people, `csv` (`;`, UTF-8) or `json` for accounting.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    Json,
}

pub async fn run(url: &str, args: ReconcileArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.registry)
        .with_context(|| format!("cannot read {}", args.registry.display()))?;
    let name = args
        .registry
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let db = prepare_database(url).await?;
    let (report, id) = reconcile_file(&db, &Who::CLI, &name, &bytes, args.store.as_deref()).await?;
    let out = match args.format {
        Format::Text => text(&report, id),
        Format::Csv => csv(&report),
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
    };
    std::io::stdout().write_all(out.as_bytes())?;
    if !report.matches() {
        std::io::stdout().flush()?;
        eprintln!(
            "{} difference(s) between the registry and qrpay",
            report.mismatches.len()
        );
        std::process::exit(1);
    }
    Ok(())
}

fn rub(kopecks: i64) -> String {
    format!("{}.{:02}", kopecks / 100, (kopecks % 100).abs())
}

fn opt_rub(kopecks: Option<i64>) -> String {
    kopecks.map(rub).unwrap_or_default()
}

fn text(r: &Report, id: i64) -> String {
    let mut s = String::new();
    let days = match (r.days.first(), r.days.last()) {
        (Some(a), Some(b)) if a != b => format!("{a} – {b}"),
        (Some(a), _) => a.to_string(),
        _ => String::new(),
    };
    s += &format!(
        "Сверка №{id}: мерчант {}, магазины {}, {days} (МСК)\n",
        r.merchant,
        r.stores.join(", ")
    );
    s += &format!(
        "Реестр: {} строк; оплаты {} ₽, возвраты {} ₽, комиссия {} ₽\n",
        r.registry_lines,
        rub(r.bank.payments),
        rub(r.bank.refunds),
        rub(r.bank.fees)
    );
    s += &format!(
        "qrpay: оплаты {} ₽, возвраты {} ₽; совпало оплат {}, возвратов {}\n",
        rub(r.qrpay.payments),
        rub(r.qrpay.refunds),
        r.matched_payments,
        r.matched_refunds
    );
    if r.matches() {
        s += "Расхождений нет.\n";
        return s;
    }
    s += &format!("Расхождения ({}):\n", r.mismatches.len());
    for m in &r.mismatches {
        s += &format!("- {}: {}\n", m.kind.describe(), describe(m));
    }
    s
}

fn describe(m: &Mismatch) -> String {
    let mut parts = vec![format!("ref {}", m.bank_ref)];
    if let Some(id) = &m.payment_id {
        parts.push(format!("платёж {id}"));
    }
    if let Some(id) = &m.refund_id {
        parts.push(format!("возврат {id}"));
    }
    if let Some(store) = &m.store {
        parts.push(format!("магазин {store}"));
    }
    if let Some(a) = m.bank_amount {
        parts.push(format!("в банке {} ₽", rub(a)));
    }
    if let Some(a) = m.qrpay_amount {
        parts.push(format!("в qrpay {} ₽", rub(a)));
    }
    if let Some(st) = &m.qrpay_status {
        parts.push(format!("статус в qrpay {st}"));
    }
    if let Some(line) = m.line {
        parts.push(format!("строка {line}"));
    }
    parts.join(", ")
}

fn csv(r: &Report) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let header = [
        "kind",
        "bank_ref",
        "payment_id",
        "refund_id",
        "store",
        "bank_amount",
        "qrpay_amount",
        "qrpay_status",
        "line",
    ];
    w.write_record(header).expect("BUG: writing to memory");
    for m in &r.mismatches {
        let kind = serde_json::to_value(m.kind).expect("BUG: a plain enum");
        w.write_record([
            kind.as_str().unwrap_or_default(),
            &m.bank_ref,
            m.payment_id.as_deref().unwrap_or_default(),
            m.refund_id.as_deref().unwrap_or_default(),
            m.store.as_deref().unwrap_or_default(),
            &opt_rub(m.bank_amount),
            &opt_rub(m.qrpay_amount),
            m.qrpay_status.as_deref().unwrap_or_default(),
            &m.line.map(|l| l.to_string()).unwrap_or_default(),
        ])
        .expect("BUG: writing to memory");
    }
    String::from_utf8(w.into_inner().expect("BUG: writing to memory"))
        .expect("BUG: UTF-8 in, UTF-8 out")
}
