//! Background workers in the qrpay process: the loops that drive `payments/sync.rs` — expiry of
//! pending payments past their deadline (within one interval of it, also right after a restart)
//! and the sync of whatever is in doubt.

use crate::payments::PaymentService;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

pub fn spawn(
    payments: Arc<PaymentService>,
    expiry_interval: Duration,
    sync_interval: Duration,
) -> Vec<JoinHandle<()>> {
    let expiry = {
        let payments = payments.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(expiry_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = payments.expire_due().await {
                    tracing::error!(error = %e, "expiry worker step failed");
                }
            }
        })
    };
    let sync = tokio::spawn(async move {
        let mut tick = tokio::time::interval(sync_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = payments.sync_in_doubt(sync_interval).await {
                tracing::error!(error = %e, "sync worker step failed");
            }
        }
    });
    vec![expiry, sync]
}
