//! `/metrics` in the Prometheus text format: the outbox backlog per store and the payments not
//! settled yet (from the database, so every instance shows the same), and this process's relay
//! counters and latencies and its bank calls by outcome. docs/OPERATIONS.md has alert rules.

use super::AppState;
use crate::db::{gauges, outbox};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::fmt::Write;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> Response {
    let db = state.payments.db();
    let now = chrono::Utc::now();
    let (backlog, payments) = match (
        outbox::backlog(db).await,
        gauges::payment_gauges(db, now).await,
    ) {
        (Ok(b), Ok(p)) => (b, p),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "metrics: cannot read the database");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response();
        }
    };
    let backlog: Vec<(String, i64, bool)> = backlog
        .into_iter()
        .map(|s| {
            let configured = s
                .rabbitmq_url
                .as_deref()
                .is_some_and(|u| !u.trim().is_empty())
                || state.events.has_default_url();
            (s.code, s.pending, configured)
        })
        .collect();
    let mut text = state.events.render(&backlog);
    render_payments(&mut text, &payments, now);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

fn render_payments(
    out: &mut String,
    g: &gauges::PaymentGauges,
    now: chrono::DateTime<chrono::Utc>,
) {
    let _ = writeln!(
        out,
        "# HELP qrpay_payments Payments not settled yet, by status (unknown: the bank's answer is awaited).\n\
         # TYPE qrpay_payments gauge\n\
         qrpay_payments{{status=\"creating\"}} {}\n\
         qrpay_payments{{status=\"pending\"}} {}\n\
         qrpay_payments{{status=\"unknown\"}} {}",
        g.creating, g.pending, g.unknown
    );
    let _ = writeln!(
        out,
        "# HELP qrpay_refunds_unknown Refunds whose outcome the bank has not told yet.\n\
         # TYPE qrpay_refunds_unknown gauge\nqrpay_refunds_unknown {}",
        g.refunds_unknown
    );
    let late = g
        .oldest_overdue
        .map(|at| (now - at).num_milliseconds().max(0) as f64 / 1000.0)
        .unwrap_or(0.0);
    let _ = writeln!(
        out,
        "# HELP qrpay_expiry_lateness_seconds How long the most overdue payment still pending is past its deadline (0: none); the expiry worker keeps it under a second or two.\n\
         # TYPE qrpay_expiry_lateness_seconds gauge\nqrpay_expiry_lateness_seconds {late}"
    );
    let _ = writeln!(
        out,
        "# HELP qrpay_bank_calls_total Bank calls by this process, by outcome: ok, no_answer (timeout, network, 5xx: asked again later), rejected (the bank refused).\n\
         # TYPE qrpay_bank_calls_total counter"
    );
    for (outcome, n) in crate::payments::bank_call_counts() {
        let _ = writeln!(out, "qrpay_bank_calls_total{{outcome=\"{outcome}\"}} {n}");
    }
    let (batches, units) = crate::db::group_commit::counts();
    let _ = writeln!(
        out,
        "# HELP qrpay_sqlite_write_batches_total Transactions the SQLite writer committed for the payment path (group commit; 0 on PostgreSQL).\n\
         # TYPE qrpay_sqlite_write_batches_total counter\n\
         qrpay_sqlite_write_batches_total {batches}\n\
         # HELP qrpay_sqlite_write_units_total Writes those transactions carried (units per batch = units / batches).\n\
         # TYPE qrpay_sqlite_write_units_total counter\n\
         qrpay_sqlite_write_units_total {units}"
    );
}
