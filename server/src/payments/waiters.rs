//! Long-poll support: a till waiting on a payment is woken the moment its status changes in this
//! process, or, on PostgreSQL, in another qrpay instance (its `NOTIFY` reaches every instance's
//! listener, `workers::spawn_wakeups`); waiters also re-read the database every second, the
//! fallback while notifications cannot come.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Default)]
pub struct Waiters {
    by_payment: Mutex<HashMap<String, Arc<Notify>>>,
}

/// Keeps a payment's `Notify` registered while someone waits on it.
pub struct WaitHandle<'a> {
    waiters: &'a Waiters,
    payment_id: String,
    pub notify: Arc<Notify>,
}

impl Waiters {
    pub fn subscribe(&self, payment_id: &str) -> WaitHandle<'_> {
        let mut map = self.by_payment.lock().unwrap_or_else(|e| e.into_inner());
        let notify = map
            .entry(payment_id.to_owned())
            .or_insert_with(|| Arc::new(Notify::new()))
            .clone();
        WaitHandle {
            waiters: self,
            payment_id: payment_id.to_owned(),
            notify,
        }
    }

    pub fn wake(&self, payment_id: &str) {
        let map = self.by_payment.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get(payment_id) {
            n.notify_waiters();
        }
    }

    /// Wakes every waiter, so that each re-reads its payment.
    pub fn wake_all(&self) {
        let map = self.by_payment.lock().unwrap_or_else(|e| e.into_inner());
        for n in map.values() {
            n.notify_waiters();
        }
    }

    pub fn len(&self) -> usize {
        self.by_payment
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for WaitHandle<'_> {
    fn drop(&mut self) {
        let mut map = self
            .waiters
            .by_payment
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Two references left: the map's and ours, so nobody else waits on this payment.
        if Arc::strong_count(&self.notify) <= 2 {
            map.remove(&self.payment_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_waiter_leaves_no_entry_behind() {
        let w = Waiters::default();
        {
            let _a = w.subscribe("p1");
            let _b = w.subscribe("p1");
            assert_eq!(w.len(), 1);
        }
        assert!(w.is_empty());
    }

    #[tokio::test]
    async fn wake_reaches_a_waiter() {
        let w = Arc::new(Waiters::default());
        let h = w.subscribe("p1");
        let notified = h.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        w.wake("p1");
        tokio::time::timeout(std::time::Duration::from_secs(1), notified)
            .await
            .expect("woken");
    }

    #[tokio::test]
    async fn wake_all_reaches_every_waiter() {
        let w = Arc::new(Waiters::default());
        let (h1, h2) = (w.subscribe("p1"), w.subscribe("p2"));
        let (n1, n2) = (h1.notify.notified(), h2.notify.notified());
        tokio::pin!(n1, n2);
        n1.as_mut().enable();
        n2.as_mut().enable();
        w.wake_all();
        let both = async { tokio::join!(n1, n2) };
        tokio::time::timeout(std::time::Duration::from_secs(1), both)
            .await
            .expect("both woken");
    }
}
