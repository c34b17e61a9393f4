//! «Сверка»: the upload of the bank's registry (a multipart post, outside Leptos: a registry may
//! be megabytes), the kept comparisons of the actor's store, and one comparison in full.

use super::{ConsoleBackend, internal, store_tz};
use crate::db;
use crate::db::audit::Who;
use crate::reconcile::{MismatchKind, ReconcileError, Report, reconcile_file};
use app::backend::reconcile::{
    ReconcileDetail, ReconcileMismatch, ReconcilePort, ReconcileSummary,
};
use app::backend::{Actor, Role};
use app::error::ConsoleError;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The largest registry the console takes (a busy merchant's month is well under it).
pub const REGISTRY_LIMIT: usize = 16 * 1024 * 1024;
/// How many kept comparisons the page lists.
const KEPT: i64 = 50;

/// `POST /console/reconcile/upload`: compares the registry with the actor's store and redirects
/// to the kept comparison (or back with a failure code the page turns into a message).
pub async fn upload(backend: Arc<ConsoleBackend>, req: Request) -> Response {
    let Some(actor) = req.extensions().get::<Actor>().cloned() else {
        return Redirect::to(super::LOGIN_PATH).into_response();
    };
    if actor.role < Role::Support {
        return StatusCode::FORBIDDEN.into_response();
    }
    let back =
        |code: &str| Redirect::to(&format!("/console/reconcile?failed={code}")).into_response();
    let Ok(mut form) = Multipart::from_request(req, &()).await else {
        return back("no_file");
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() != Some("registry") {
            continue;
        }
        let name = field.file_name().unwrap_or("registry.csv").to_owned();
        match field.bytes().await {
            Ok(bytes) if !bytes.is_empty() => file = Some((name, bytes.to_vec())),
            _ => {}
        }
    }
    let Some((name, bytes)) = file else {
        return back("no_file");
    };
    let store = match backend.store_of(&actor).await {
        Ok(store) => store,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let who = Who::user(actor.user_id, &actor.login);
    match reconcile_file(&backend.db, &who, &name, &bytes, Some(&store.code)).await {
        Ok((_, id)) => Redirect::to(&format!("/console/reconcile?id={id}")).into_response(),
        Err(ReconcileError::Registry(_)) => back("not_registry"),
        Err(ReconcileError::Db(e)) => {
            tracing::error!(error = %e, "reconciliation");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(_) => back("merchant"),
    }
}

fn days(first: chrono::NaiveDate, last: chrono::NaiveDate) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first} – {last}")
    }
}

#[async_trait::async_trait]
impl ReconcilePort for ConsoleBackend {
    async fn list_reconciliations(
        &self,
        actor: &Actor,
    ) -> Result<Vec<ReconcileSummary>, ConsoleError> {
        Ok(self
            .kept(actor)
            .await?
            .into_iter()
            .map(|(s, _)| s)
            .collect())
    }

    async fn get_reconciliation(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<Option<ReconcileDetail>, ConsoleError> {
        let Some((summary, report)) = self
            .kept(actor)
            .await?
            .into_iter()
            .find(|(s, _)| s.id == id)
        else {
            return Ok(None);
        };
        let report: Report = serde_json::from_str(&report).map_err(internal)?;
        Ok(Some(ReconcileDetail {
            summary,
            stores: report.stores,
            bank_payments: report.bank.payments,
            bank_refunds: report.bank.refunds,
            bank_fees: report.bank.fees,
            qrpay_payments: report.qrpay.payments,
            qrpay_refunds: report.qrpay.refunds,
            matched_payments: report.matched_payments as i64,
            matched_refunds: report.matched_refunds as i64,
            mismatches: report
                .mismatches
                .into_iter()
                .map(|m| ReconcileMismatch {
                    kind: serde_json::to_value(m.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    bank_ref: m.bank_ref,
                    payment_id: m.payment_id,
                    bank_amount: m.bank_amount,
                    qrpay_amount: m.qrpay_amount,
                    qrpay_status: m.qrpay_status,
                    line: m.line.map(|l| l as i64),
                })
                .collect(),
        }))
    }

    async fn ask_bank_about_payment(
        &self,
        actor: &Actor,
        id: i64,
        payment_id: &str,
    ) -> Result<String, ConsoleError> {
        // Only a payment the kept comparison found "paid at the bank, not in qrpay" (the
        // comparison is of the actor's store's merchant, so is the payment).
        let Some((_, report)) = self
            .kept(actor)
            .await?
            .into_iter()
            .find(|(s, _)| s.id == id)
        else {
            return Err(ConsoleError::NotFound);
        };
        let report: Report = serde_json::from_str(&report).map_err(internal)?;
        if !report.mismatches.iter().any(|m| {
            m.kind == MismatchKind::PaidAtBankNotInQrpay
                && m.payment_id.as_deref() == Some(payment_id)
        }) {
            return Err(ConsoleError::NotFound);
        }
        let payments = self
            .payments
            .as_ref()
            .ok_or_else(|| internal("the console has no payment service"))?;
        let who = Who::user(actor.user_id, &actor.login);
        let outcome = payments
            .settle_with_bank(&who, payment_id)
            .await
            .map_err(internal)?;
        Ok(outcome.code().to_owned())
    }
}

impl ConsoleBackend {
    /// The kept comparisons of the actor's store's merchants, with each one's report (JSON).
    async fn kept(&self, actor: &Actor) -> Result<Vec<(ReconcileSummary, String)>, ConsoleError> {
        if actor.role < Role::Support {
            return Err(ConsoleError::Forbidden);
        }
        let store = self.store_of(actor).await?;
        let tz = store_tz(&store);
        let rows = db::reconcile::latest(&self.db, store.store_id, KEPT)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let summary = ReconcileSummary {
                    id: r.reconciliation_id,
                    local_time: r
                        .created_at
                        .with_timezone(&tz)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                    login: r.created_by,
                    registry_name: r.registry_name,
                    merchant: r.merchant,
                    days: days(r.first_day, r.last_day),
                    lines: r.lines,
                    mismatches: r.mismatches,
                };
                (summary, r.report)
            })
            .collect())
    }
}
