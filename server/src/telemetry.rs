//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default: info, quiet sqlx).

use tracing_subscriber::EnvFilter;

const DEFAULT: &str = "info,sqlx=warn,tower_http=warn";

/// lapin logs every message the broker returns as a WARN with the whole message (kilobytes per
/// event); the relay handles returned messages itself (`events::broker`), so that dump is
/// silenced unless `RUST_LOG` names the target explicitly.
const LAPIN_RETURNS: &str = "lapin::returned_messages";

/// The filter for `RUST_LOG` (`None`: unset).
pub fn filter(rust_log: Option<&str>) -> EnvFilter {
    let spec = rust_log.unwrap_or(DEFAULT);
    let filter = EnvFilter::try_new(spec).unwrap_or_else(|_| EnvFilter::new(DEFAULT));
    if spec.contains(LAPIN_RETURNS) {
        return filter;
    }
    filter.add_directive(
        format!("{LAPIN_RETURNS}=error")
            .parse()
            .expect("BUG: a valid directive"),
    )
}

pub fn init() {
    let rust_log = std::env::var("RUST_LOG").ok();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(rust_log.as_deref()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What the filter lets through of a lapin return dump and of the relay's own lines.
    fn logged(rust_log: Option<&str>) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let out = out.clone();
            move || Writer(out.clone())
        };
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter(rust_log))
            .with_writer(writer)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "lapin::returned_messages", "Server returned us a message");
            tracing::warn!(target: "lapin::channel", "lapin channel trouble");
            tracing::warn!(target: "qrpay::events::relay", "relay line");
        });
        let bytes = out.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lapin_dumps_of_returned_messages_are_silenced_and_other_warnings_stay() {
        for rust_log in [None, Some("debug"), Some("warn,lapin=info")] {
            let log = logged(rust_log);
            assert!(
                !log.contains("Server returned us a message"),
                "{rust_log:?}: {log}"
            );
            assert!(log.contains("lapin channel trouble"), "{rust_log:?}: {log}");
            assert!(log.contains("relay line"), "{rust_log:?}: {log}");
        }
        let asked = logged(Some("info,lapin::returned_messages=warn"));
        assert!(asked.contains("Server returned us a message"), "{asked}");
    }
}
