//! What the relay tells the rest of qrpay: each store's broker state (for `/readyz`) and the
//! counters and latency summaries exposed at `/metrics`.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A store's broker as the relay last saw it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BrokerState {
    /// Neither the store nor `QRPAY_AMQP_URL` names a broker: events wait in the outbox.
    NotConfigured,
    Connected {
        url: String,
    },
    Unreachable {
        url: String,
        error: String,
    },
}

#[derive(Default)]
pub struct EventsMonitor {
    relay_running: AtomicBool,
    default_url: AtomicBool,
    published: AtomicU64,
    failures: AtomicU64,
    unroutable: AtomicU64,
    brokers: Mutex<BTreeMap<String, BrokerState>>,
    /// From the state change (the row's `created_at`) to the broker's ack, microseconds.
    lag: Mutex<Option<Histogram<u64>>>,
    /// From the first publish of a batch to its last ack, microseconds.
    publish: Mutex<Option<Histogram<u64>>>,
}

fn record(h: &Mutex<Option<Histogram<u64>>>, value: Duration) {
    let mut h = h.lock().unwrap_or_else(|p| p.into_inner());
    let h = h.get_or_insert_with(|| {
        Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("BUG: valid histogram bounds")
    });
    h.saturating_record(value.as_micros().clamp(1, 3_600_000_000) as u64);
}

/// A latency quantile in seconds, if anything was recorded.
fn quantile(h: &Mutex<Option<Histogram<u64>>>, q: f64) -> Option<f64> {
    let h = h.lock().unwrap_or_else(|p| p.into_inner());
    h.as_ref()
        .filter(|h| !h.is_empty())
        .map(|h| h.value_at_quantile(q) as f64 / 1e6)
}

impl EventsMonitor {
    pub fn set_relay_running(&self, on: bool) {
        self.relay_running.store(on, Ordering::Relaxed);
    }

    /// Whether `QRPAY_AMQP_URL` gives stores without their own broker one.
    pub fn set_default_url(&self, set: bool) {
        self.default_url.store(set, Ordering::Relaxed);
    }

    pub fn has_default_url(&self) -> bool {
        self.default_url.load(Ordering::Relaxed)
    }

    pub fn relay_running(&self) -> bool {
        self.relay_running.load(Ordering::Relaxed)
    }

    pub fn set_broker(&self, store_code: &str, state: BrokerState) {
        self.brokers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(store_code.to_owned(), state);
    }

    pub fn brokers(&self) -> BTreeMap<String, BrokerState> {
        self.brokers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn published(&self, events: u64, batch_time: Duration, lags: &[Duration]) {
        self.published.fetch_add(events, Ordering::Relaxed);
        record(&self.publish, batch_time);
        for lag in lags {
            record(&self.lag, *lag);
        }
    }

    pub fn failed(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn unroutable(&self, events: u64) {
        self.unroutable.fetch_add(events, Ordering::Relaxed);
    }

    pub fn published_total(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    pub fn unroutable_total(&self) -> u64 {
        self.unroutable.load(Ordering::Relaxed)
    }

    pub fn failures_total(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The p-quantile of the outbox lag (state change → broker ack), seconds.
    pub fn lag_quantile(&self, q: f64) -> Option<f64> {
        quantile(&self.lag, q)
    }

    /// Prometheus text exposition of the relay's counters and summaries, and of the backlog
    /// (`(store code, unsent events, broker configured)` per store, read from the database).
    pub fn render(&self, backlog: &[(String, i64, bool)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP qrpay_outbox_backlog Events in the outbox not yet acknowledged by the broker.\n\
             # TYPE qrpay_outbox_backlog gauge"
        );
        for (store, pending, configured) in backlog {
            let _ = writeln!(
                out,
                "qrpay_outbox_backlog{{store=\"{}\",broker=\"{}\"}} {pending}",
                label(store),
                if *configured { "set" } else { "unset" }
            );
        }
        let counters = [
            (
                "qrpay_events_published_total",
                "Events published and acknowledged by the broker.",
                self.published.load(Ordering::Relaxed),
            ),
            (
                "qrpay_events_publish_failures_total",
                "Failed publish attempts (broker unreachable, nack, timeout); the events are retried.",
                self.failures.load(Ordering::Relaxed),
            ),
            (
                "qrpay_events_unroutable_total",
                "Events no queue was bound for that the broker returned (its exchange lacks the alternate exchange) and qrpay put in the unrouted queue itself.",
                self.unroutable.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP qrpay_events_relay_running 1 when this process runs the outbox relay.\n\
             # TYPE qrpay_events_relay_running gauge\nqrpay_events_relay_running {}",
            u8::from(self.relay_running())
        );
        let _ = writeln!(
            out,
            "# HELP qrpay_broker_up 1 when the store's broker is connected, 0 when unreachable.\n\
             # TYPE qrpay_broker_up gauge"
        );
        for (store, state) in self.brokers() {
            let up = match state {
                BrokerState::Connected { .. } => 1,
                BrokerState::Unreachable { .. } => 0,
                BrokerState::NotConfigured => continue,
            };
            let _ = writeln!(out, "qrpay_broker_up{{store=\"{}\"}} {up}", label(&store));
        }
        summary(
            &mut out,
            "qrpay_outbox_lag_seconds",
            "Time from a state change to the broker's ack of its event.",
            &self.lag,
        );
        summary(
            &mut out,
            "qrpay_events_publish_seconds",
            "Time from the first publish of a batch to the broker's last ack.",
            &self.publish,
        );
        out
    }
}

fn summary(out: &mut String, name: &str, help: &str, h: &Mutex<Option<Histogram<u64>>>) {
    let h = h.lock().unwrap_or_else(|p| p.into_inner());
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} summary");
    let (count, sum) = match h.as_ref() {
        Some(h) => {
            for q in [0.5, 0.9, 0.99] {
                let _ = writeln!(
                    out,
                    "{name}{{quantile=\"{q}\"}} {}",
                    h.value_at_quantile(q) as f64 / 1e6
                );
            }
            let sum: f64 = h
                .iter_recorded()
                .map(|v| v.value_iterated_to() as f64 * v.count_at_value() as f64)
                .sum();
            (h.len(), sum / 1e6)
        }
        None => (0, 0.0),
    };
    let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_text_has_backlog_counters_and_quantiles() {
        let m = EventsMonitor::default();
        m.published(
            2,
            Duration::from_millis(3),
            &[Duration::from_millis(10), Duration::from_millis(20)],
        );
        m.failed();
        m.set_broker(
            "main",
            BrokerState::Connected {
                url: "amqp://x".into(),
            },
        );
        let text = m.render(&[("main".into(), 7, true), ("b\"2".into(), 0, false)]);
        assert!(text.contains("qrpay_outbox_backlog{store=\"main\",broker=\"set\"} 7"));
        assert!(text.contains("qrpay_outbox_backlog{store=\"b\\\"2\",broker=\"unset\"} 0"));
        assert!(text.contains("qrpay_events_published_total 2"));
        assert!(text.contains("qrpay_events_publish_failures_total 1"));
        assert!(text.contains("qrpay_broker_up{store=\"main\"} 1"));
        assert!(text.contains("qrpay_outbox_lag_seconds_count 2"));
        let p99 = m.lag_quantile(0.99).unwrap();
        assert!((0.019..0.021).contains(&p99), "{p99}");
    }
}
