//! Logging: `tracing` to stderr, filtered by `QRPAY_LOG` (else `RUST_LOG`; default: info, quiet
//! sqlx), as text (colours only on a terminal) or, with `QRPAY_LOG_FORMAT=json`, one JSON object
//! per line for a log collector (tracing-subscriber's own JSON formatter).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::time::ChronoLocal;

const DEFAULT: &str = "info,sqlx=warn,tower_http=warn";

/// lapin logs every message the broker returns as a WARN with the whole message (kilobytes per
/// event); the relay handles returned messages itself (`events::broker`), so that dump is
/// silenced unless `RUST_LOG` names the target explicitly.
const LAPIN_RETURNS: &str = "lapin::returned_messages";

/// The filter for `QRPAY_LOG` / `RUST_LOG` (`None`: unset).
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

/// The longest part of a user-supplied value a log line quotes.
pub const QUOTED_CHARS: usize = 64;

/// A user-supplied value as a log line shows it: quoted, control characters escaped (a newline
/// or an escape code cannot start a forged line or recolour the terminal), and cut after
/// `QUOTED_CHARS` characters with `…` after the closing quote.
pub struct Quoted<'a>(pub &'a str);

pub fn quoted(value: &str) -> Quoted<'_> {
    Quoted(value)
}

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut = self
            .0
            .char_indices()
            .nth(QUOTED_CHARS)
            .map_or(self.0.len(), |(i, _)| i);
        write!(f, "{:?}", &self.0[..cut])?;
        if cut < self.0.len() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// How log lines are written (`QRPAY_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line of text per event; colours only when stderr is a terminal (and `NO_COLOR` unset).
    Text,
    /// One JSON object per line: `timestamp` (RFC 3339 with the offset), `level`, `target`,
    /// `message`, the event's fields, and `span` (the request it belongs to).
    Json,
}

impl Format {
    /// `text` (or unset) / `json`; anything else is `None`.
    pub fn parse(value: Option<&str>) -> Option<Format> {
        match value.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("text") => Some(Format::Text),
            Some("json") => Some(Format::Json),
            Some(_) => None,
        }
    }
}

/// Installs the global subscriber from `QRPAY_LOG` / `RUST_LOG` and `QRPAY_LOG_FORMAT`.
pub fn init() {
    let level = std::env::var("QRPAY_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| std::env::var("RUST_LOG").ok());
    let format_var = std::env::var("QRPAY_LOG_FORMAT").ok();
    let format = Format::parse(format_var.as_deref());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(level.as_deref()))
        .with_writer(std::io::stderr)
        .with_timer(ChronoLocal::rfc_3339());
    let _ = match format.unwrap_or(Format::Text) {
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        Format::Text => builder
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
            .try_init(),
    };
    if format.is_none() {
        tracing::warn!(
            "QRPAY_LOG_FORMAT={:?} is not `text` or `json`; writing text",
            format_var.unwrap_or_default()
        );
    }
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
    fn log_formats() {
        assert_eq!(Format::parse(None), Some(Format::Text));
        assert_eq!(Format::parse(Some("JSON")), Some(Format::Json));
        assert_eq!(Format::parse(Some("text")), Some(Format::Text));
        assert_eq!(Format::parse(Some("xml")), None);
    }

    #[test]
    fn quoted_values_escape_control_characters_and_are_cut() {
        assert_eq!(quoted("anna").to_string(), "\"anna\"");
        assert_eq!(
            quoted("x\n2026 INFO forged\u{1b}[31m").to_string(),
            "\"x\\n2026 INFO forged\\u{1b}[31m\""
        );
        let long = "я".repeat(60_000);
        let shown = quoted(&long).to_string();
        assert_eq!(shown.chars().count(), QUOTED_CHARS + 3);
        assert!(shown.ends_with("\"…"));
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
