//! `qrpay till cash-link issue|bind|show <till>`: a till's cash-register link («кассовая
//! ссылка», `QRVariable`): register one at the bank, bind a plate the bank printed, show it and
//! write its A6 plate (SVG, print page) or its QR (PNG).

use crate::db::audit::Who;
use crate::db::cash_link::{CashLink, cash_link_of_till};
use crate::db::store::find_store;
use crate::db::till::till_by_name;
use crate::payments::{IssueCashLink, PaymentService};
use crate::providers::Providers;
use crate::startup::prepare_database;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum CashLinkCommand {
    /// Register a new cash-register link for the till at the bank of its payment type.
    Issue {
        till: String,
        #[arg(long)]
        store: Option<String>,
        /// The payment type whose module registers the link; default: the till's default.
        #[arg(long)]
        payment_type: Option<String>,
    },
    /// Bind a plate the bank printed (its QR id) to the till.
    Bind {
        till: String,
        /// The plate's QR id (`AV…`, up to 32 letters and digits).
        qr_id: String,
        #[arg(long)]
        store: Option<String>,
        #[arg(long)]
        payment_type: Option<String>,
    },
    /// The till's link, and optionally its plate.
    Show {
        till: String,
        #[arg(long)]
        store: Option<String>,
        /// Write the plate (A6, SVG) to this file.
        #[arg(long)]
        svg: Option<PathBuf>,
        /// Write the plate's page (A6 print CSS, HTML) to this file.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write the plate's QR as a PNG (1024 px) to this file.
        #[arg(long)]
        png: Option<PathBuf>,
    },
}

fn print(link: &CashLink) {
    println!(
        "{}\t{}\t{}\t{}\t{}",
        link.till_name,
        link.module,
        link.qr_id,
        link.source,
        link.created_at.to_rfc3339()
    );
    println!("{}", link.payload);
}

fn write(path: &PathBuf, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub async fn run(url: &str, cmd: CashLinkCommand) -> anyhow::Result<()> {
    let db = prepare_database(url).await?;
    let payments = PaymentService::new(
        db.clone(),
        Providers::installed(&db),
        String::new(),
        crate::http::errors::till_answer,
    );
    let till_of = |store: Option<String>, name: String| {
        let db = db.clone();
        async move {
            let store = find_store(&db, store.as_deref()).await?;
            anyhow::Ok(till_by_name(&db, store.store_id, &name).await?)
        }
    };
    let (till, store, payment_type, bind) = match cmd {
        CashLinkCommand::Show {
            till,
            store,
            svg,
            html,
            png,
        } => {
            let till = till_of(store, till).await?;
            let link = cash_link_of_till(&db, till.till_id)
                .await?
                .with_context(|| format!("till {:?} has no cash-register link", till.name))?;
            print(&link);
            if let Some(path) = svg {
                write(&path, crate::http::cash_link::plate_svg(&link)?.as_bytes())?;
            }
            if let Some(path) = html {
                write(&path, crate::http::cash_link::plate_page(&link)?.as_bytes())?;
            }
            if let Some(path) = png {
                write(&path, &crate::qr::png(&link.payload, 1024)?)?;
            }
            return Ok(());
        }
        CashLinkCommand::Issue {
            till,
            store,
            payment_type,
        } => (till, store, payment_type, None),
        CashLinkCommand::Bind {
            till,
            qr_id,
            store,
            payment_type,
        } => (till, store, payment_type, Some(qr_id)),
    };
    let till = till_of(store, till).await?;
    let link = payments
        .issue_cash_link(
            &Who::CLI,
            &IssueCashLink {
                store_id: till.store_id,
                till_id: till.till_id,
                payment_type: payment_type.as_deref(),
                bind_qr_id: bind.as_deref(),
            },
        )
        .await?;
    print(&link);
    Ok(())
}
