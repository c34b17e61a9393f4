//! `qrpay static-qr issue|list|show|deactivate|pay`: static QRs for places with no till (a
//! donation box, a parking sticker), their plates as PNG or SVG, and (sandbox only) a customer
//! paying one.

use crate::db::audit::Who;
use crate::db::static_qr::{StaticQr, list_static_qrs};
use crate::db::store::find_store;
use crate::payments::{IssueStaticQr, PaymentService};
use crate::providers::Providers;
use crate::startup::prepare_database;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum StaticQrCommand {
    /// Register a static QR at the bank of a payment type and record it.
    Issue {
        /// The store's code (default: the first store).
        #[arg(long)]
        store: Option<String>,
        /// What the QR is for, as the console lists it («Ящик для пожертвований»).
        #[arg(long)]
        name: String,
        /// The purpose of payment the customer's bank shows.
        #[arg(long)]
        purpose: Option<String>,
        /// A fixed amount in rubles (`150` or `150,50`); without it the customer types one.
        #[arg(long)]
        amount: Option<String>,
        /// The payment type (its bank module issues the QR); default: the store's default.
        #[arg(long)]
        payment_type: Option<String>,
    },
    /// The store's static QRs.
    List {
        #[arg(long)]
        store: Option<String>,
    },
    /// One static QR, its link, and optionally its plate image.
    Show {
        id: i64,
        #[arg(long)]
        store: Option<String>,
        /// Write the QR as a PNG (1024 px) to this file.
        #[arg(long)]
        png: Option<PathBuf>,
        /// Write the QR as an SVG to this file.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Annul the QR at the bank; it takes no more payments.
    Deactivate {
        id: i64,
        #[arg(long)]
        store: Option<String>,
    },
    /// Sandbox only: a customer pays the static QR (`--amount` in rubles when it has none).
    Pay {
        id: i64,
        #[arg(long)]
        store: Option<String>,
        #[arg(long)]
        amount: Option<String>,
    },
}

fn rubles(text: &str) -> anyhow::Result<i64> {
    app::api::transactions::parse_rubles(text)
        .filter(|k| *k > 0)
        .with_context(|| format!("{text:?} is not an amount in rubles (150 or 150,50)"))
}

fn money(kopecks: i64) -> String {
    format!("{}.{:02}", kopecks / 100, kopecks % 100)
}

fn line(q: &StaticQr) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{} payment(s), {} RUB{}",
        q.static_qr_id,
        q.name,
        q.amount.map_or("—".into(), money),
        q.payment_type_name,
        q.qr_id,
        q.payments,
        money(q.paid_total),
        if q.active { "" } else { "\tdeactivated" },
    )
}

pub async fn run(url: &str, cmd: StaticQrCommand) -> anyhow::Result<()> {
    let db = prepare_database(url).await?;
    let payments = PaymentService::new(
        db.clone(),
        Providers::installed(&db),
        String::new(),
        crate::http::errors::till_answer,
    );
    let store_of = |code: Option<String>| {
        let db = db.clone();
        async move { find_store(&db, code.as_deref()).await }
    };
    match cmd {
        StaticQrCommand::Issue {
            store,
            name,
            purpose,
            amount,
            payment_type,
        } => {
            let store = store_of(store).await?;
            let amount = amount.as_deref().map(rubles).transpose()?;
            let q = payments
                .issue_static_qr(
                    &Who::CLI,
                    &IssueStaticQr {
                        store_id: store.store_id,
                        payment_type: payment_type.as_deref(),
                        name: &name,
                        purpose: purpose.as_deref(),
                        amount,
                    },
                )
                .await?;
            println!("{}", line(&q));
            println!("{}", q.qr_payload);
        }
        StaticQrCommand::List { store } => {
            let store = store_of(store).await?;
            for q in list_static_qrs(&db, store.store_id).await? {
                println!("{}", line(&q));
            }
        }
        StaticQrCommand::Show {
            id,
            store,
            png,
            svg,
        } => {
            let store = store_of(store).await?;
            let q = payments.static_qr(store.store_id, id).await?;
            println!("{}", line(&q));
            if let Some(p) = &q.purpose {
                println!("purpose: {p}");
            }
            println!("order: {}", q.order_ref);
            println!("{}", q.qr_payload);
            if let Some(path) = png {
                std::fs::write(&path, crate::qr::png(&q.qr_payload, 1024)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if let Some(path) = svg {
                std::fs::write(&path, crate::qr::svg(&q.qr_payload, 1024)?)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        StaticQrCommand::Deactivate { id, store } => {
            let store = store_of(store).await?;
            let q = payments
                .deactivate_static_qr(&Who::CLI, store.store_id, id)
                .await?;
            println!("{}", line(&q));
        }
        StaticQrCommand::Pay { id, store, amount } => {
            let store = store_of(store).await?;
            let amount = amount.as_deref().map(rubles).transpose()?;
            let p = payments
                .sandbox_pay_static(store.store_id, id, amount)
                .await?;
            println!(
                "{}\t{}\t{} RUB\ttransaction {}",
                p.payment_id,
                p.status,
                money(p.amount),
                p.bank_transaction_id.unwrap_or_default()
            );
        }
    }
    Ok(())
}
