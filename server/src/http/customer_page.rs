//! The customer's QR page `/pay/{id}` for a kiosk screen or a customer display (public: the
//! unguessable payment id is the only key), and its status endpoint for the page's long-poll.
//!
//! Server-rendered HTML that works without JavaScript (a meta refresh inside `<noscript>`); with
//! JavaScript a small inline script counts down and long-polls `/pay/{id}/status`, reloading the
//! page when the status changes. Every text that comes from data is HTML-escaped.

use super::AppState;
use crate::db::payment::PaymentRow;
use crate::domain::PaymentStatus;
use crate::error::ApiError;
use crate::qr::{self, cache::Variant, labels};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/pay/{id}", get(page))
        .route("/pay/{id}/status", get(status))
}

/// Seconds between reloads of a waiting page when JavaScript is off.
const NOSCRIPT_REFRESH_SECS: u32 = 5;
/// The side the inline SVG is rendered at (CSS scales it to the screen; it stays crisp).
const SVG_SIZE: u32 = 1024;

/// What the page shows: the QR while the payment can be paid, else how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Waiting,
    Paid,
    Expired,
    Cancelled,
    Declined,
    Failed,
}

impl Shown {
    fn of(status: PaymentStatus) -> Self {
        match status {
            PaymentStatus::Creating | PaymentStatus::Pending | PaymentStatus::Unknown => {
                Self::Waiting
            }
            PaymentStatus::Paid => Self::Paid,
            PaymentStatus::Expired => Self::Expired,
            PaymentStatus::Cancelled => Self::Cancelled,
            PaymentStatus::Declined => Self::Declined,
            PaymentStatus::Failed => Self::Failed,
        }
    }

    /// The headline of a finished payment for a tourist (one English line under the Russian).
    fn headline_en(self) -> &'static str {
        match self {
            Self::Waiting => "",
            Self::Paid => "Paid",
            Self::Expired => "Time is up",
            Self::Cancelled => "Cancelled",
            Self::Declined => "Payment declined",
            Self::Failed => "No QR code was issued",
        }
    }

    /// The headline of a finished payment, its mark and colour class.
    fn headline(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Waiting => ("", "", ""),
            Self::Paid => ("Оплачено", "✓", "ok"),
            Self::Expired => ("Время истекло", "⌛", "off"),
            Self::Cancelled => ("Отменено", "✕", "off"),
            Self::Declined => ("Оплата отклонена", "✕", "bad"),
            Self::Failed => ("QR-код не выдан", "✕", "bad"),
        }
    }
}

async fn page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let (status, html) = match render(&state, &id).await {
        Ok(Some(html)) => (StatusCode::OK, html),
        Ok(None) => (StatusCode::NOT_FOUND, not_found_page()),
        Err(e) => {
            tracing::error!(error = ?e, "customer page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, error_page())
        }
    };
    with_nonce(status, &html)
}

/// The page with a fresh nonce on its own `<script>` and `<style>` (every value shown on the
/// page is escaped, so these are the page's own) and a Content-Security-Policy that allows
/// nothing else: no other scripts or styles, no framing, requests to this site only.
fn with_nonce(status: StatusCode, html: &str) -> Response {
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let html = html
        .replace("<script>", &format!("<script nonce=\"{nonce}\">"))
        .replace("<style>", &format!("<style nonce=\"{nonce}\">"));
    let mut res = html_response(status, html);
    let csp = format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; \
         img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; \
         base-uri 'none'"
    );
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

async fn render(state: &AppState, id: &str) -> Result<Option<String>, ApiError> {
    let Some(row) = state.payments.public_payment(id).await? else {
        return Ok(None);
    };
    let store = crate::db::store::store_by_id(state.payments.db(), row.store_id)
        .await
        .map_err(|e| anyhow::anyhow!("the payment's store: {e}"))?;
    let svg = match (&row.qr_payload, Shown::of(row.status())) {
        (Some(payload), Shown::Waiting) => Some(state.qr_cache.get_or_render(
            &row.payment_id,
            Variant::Svg { size: SVG_SIZE },
            || Ok(qr::svg(payload, SVG_SIZE)?.into_bytes()),
        )?),
        _ => None,
    };
    let svg = svg.as_deref().map(String::from_utf8_lossy);
    Ok(Some(page_html(
        &row,
        &store.name,
        &store.time_zone,
        svg.as_deref(),
        Utc::now(),
    )))
}

fn html_response(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::HeaderName::from_static("x-robots-tag"),
                HeaderValue::from_static("noindex"),
            ),
        ],
        html,
    )
        .into_response()
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1:05` (minutes and seconds left, never negative).
fn remaining(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (expires_at - now).num_seconds().max(0);
    format!("{}:{:02}", secs / 60, secs % 60)
}

fn page_html(
    row: &PaymentRow,
    store_name: &str,
    time_zone: &str,
    svg: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let shown = Shown::of(row.status());
    let amount = format!("{}\u{a0}₽", labels::rubles(row.amount, "\u{a0}"));
    let store = escape(store_name);
    let mut body = String::with_capacity(16 * 1024);
    if row.test {
        // A test module moved no money: neither the customer nor the cashier may think it did.
        body.push_str(TEST_MARK);
    }
    let waiting = shown == Shown::Waiting;
    if waiting {
        let qr = match svg {
            Some(svg) => format!("<div class=\"qr\" data-testid=\"qr\">{svg}</div>"),
            None => {
                "<div class=\"qr pending\" data-testid=\"qr-pending\"><p>Готовим QR-код…</p></div>"
                    .to_owned()
            }
        };
        let _ = write!(
            body,
            "<main class=\"waiting\">{qr}<section class=\"info\">\
             <p class=\"store\" data-testid=\"store\">{store}</p>\
             <p class=\"amount\" data-testid=\"amount\">{amount}</p>\
             <p class=\"sbp\" data-testid=\"sbp\">Оплата по QR-коду СБП — Системы быстрых платежей</p>\
             <p class=\"hint\" data-testid=\"hint\">Отсканируйте QR-код камерой телефона или в приложении банка</p>\
             <p class=\"en\" lang=\"en\" data-testid=\"hint-en\">Scan the QR code with your phone's camera or banking app to pay via SBP (Faster Payments System)</p>\
             <p class=\"timer\">Осталось <b id=\"left\" data-testid=\"countdown\">{left}</b> \
             <span class=\"until\">(до {until})</span></p>\
             </section></main>",
            amount = escape(&amount),
            left = remaining(row.expires_at, now),
            until = escape(&labels::local_clock(row.expires_at, time_zone)),
        );
    } else {
        let (headline, mark, class) = shown.headline();
        let _ = write!(
            body,
            "<main class=\"done {class}\"><section class=\"result\">\
             <div class=\"mark\" aria-hidden=\"true\">{mark}</div>\
             <h1 data-testid=\"headline\">{headline}</h1>\
             <p class=\"en\" lang=\"en\" data-testid=\"headline-en\">{headline_en}</p>\
             <p class=\"amount\" data-testid=\"amount\">{amount}</p>\
             <p class=\"store\" data-testid=\"store\">{store}</p>\
             </section></main>",
            amount = escape(&amount),
            headline_en = shown.headline_en(),
        );
    }
    let refresh = if waiting {
        format!(
            "<noscript><meta http-equiv=\"refresh\" content=\"{NOSCRIPT_REFRESH_SECS}\"></noscript>"
        )
    } else {
        String::new()
    };
    let script = if waiting { SCRIPT } else { "" };
    format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">{refresh}\
         <title>{title} — {store}</title><style>{STYLE}</style></head>\
         <body data-testid=\"pay-page\" data-status=\"{status}\" data-expires-at=\"{expires}\">{body}{script}</body></html>",
        title = if waiting {
            "Оплата по QR-коду СБП"
        } else {
            shown.headline().0
        },
        status = row.status().as_str(),
        expires = row
            .expires_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

fn not_found_page() -> String {
    format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>Платёж не найден</title><style>{STYLE}</style></head>\
         <body data-testid=\"pay-not-found\"><main class=\"done off\"><section class=\"result\">\
         <div class=\"mark\" aria-hidden=\"true\">?</div><h1>Платёж не найден</h1>\
         <p class=\"store\">Проверьте ссылку или спросите кассира.</p>\
         <p class=\"en\" lang=\"en\">Payment not found: check the link or ask the cashier.</p>\
         </section></main></body></html>"
    )
}

fn error_page() -> String {
    format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{NOSCRIPT_REFRESH_SECS}\">\
         <title>Ошибка</title><style>{STYLE}</style></head>\
         <body><main class=\"done bad\"><section class=\"result\"><h1>Что-то пошло не так</h1>\
         <p class=\"store\">Страница обновится сама.</p></section></main></body></html>"
    )
}

/// What the page's script polls: nothing but the status and the deadline.
#[derive(Debug, Serialize)]
struct PublicStatus {
    status: PaymentStatus,
    expires_at: DateTime<Utc>,
}

async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let wait = match query.get("wait") {
        None => Duration::ZERO,
        Some(raw) => {
            let secs: u64 = raw
                .parse()
                .map_err(|_| ApiError::invalid("wait", "must be a whole number of seconds"))?;
            if secs > 60 {
                return Err(ApiError::invalid("wait", "must be at most 60 seconds"));
            }
            Duration::from_secs(secs)
        }
    };
    let row = state.payments.wait_for_public_payment(&id, wait).await?;
    let mut res = Json(PublicStatus {
        status: row.status(),
        expires_at: row.expires_at,
    })
    .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

const SCRIPT: &str = r#"<script>
(function () {
  var d = document.body.dataset, status = d.status, end = Date.parse(d.expiresAt);
  var left = document.getElementById('left');
  function tick() {
    var s = Math.max(0, Math.floor((end - Date.now()) / 1000));
    left.textContent = Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
  }
  if (left && !isNaN(end)) { tick(); setInterval(tick, 1000); }
  var url = location.pathname.replace(/\/+$/, '') + '/status?wait=25';
  function poll() {
    fetch(url, { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (j) { if (j.status !== status) location.reload(); else poll(); })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
</script>"#;

/// One stylesheet for a 1920×1080 kiosk screen, a 480×1080 customer panel and 800×480 displays.
/// The band over the page of a test payment.
const TEST_MARK: &str =
    "<p class=\"test-mark\" role=\"alert\" data-testid=\"test-mark\">ТЕСТ — это не оплата</p>";

const STYLE: &str = "\
.test-mark{position:fixed;top:0;left:0;right:0;z-index:1;padding:1vh 2vw;background:#b00020;color:#fff;\
font-weight:700;font-size:max(18px,3.5vh);text-align:center}\
*{box-sizing:border-box;margin:0;padding:0}\
html,body{height:100%}\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','DejaVu Sans',Arial,sans-serif;\
background:#fff;color:#111;overflow:hidden}\
main{display:flex;align-items:center;justify-content:center;width:100%;height:100%;padding:4vh 4vw;gap:4vw}\
.qr{flex:none;width:min(80vh,46vw);aspect-ratio:1}\
.qr svg{display:block;width:100%;height:100%}\
.qr.pending{display:flex;align-items:center;justify-content:center;border:3px dashed #bbb;border-radius:2vh;\
color:#666;font-size:clamp(16px,3.5vh,40px)}\
.info{display:flex;flex-direction:column;gap:3.5vh;max-width:42vw}\
.store{font-size:clamp(15px,3.4vh,40px);color:#555}\
.amount{font-size:clamp(28px,9vh,112px);font-weight:700;line-height:1.05;white-space:nowrap;\
font-variant-numeric:tabular-nums}\
.hint{font-size:clamp(16px,3.8vh,46px);line-height:1.25}\
.sbp{font-size:clamp(14px,2.8vh,34px);font-weight:600;color:#1d2b6b}\
.en{font-size:clamp(13px,2.6vh,30px);color:#666;line-height:1.25}\
.timer{font-size:clamp(15px,3.4vh,40px);color:#555}\
.timer b{color:#111;font-variant-numeric:tabular-nums}.until{white-space:nowrap}\
.result{display:flex;flex-direction:column;align-items:center;gap:3vh;text-align:center}\
.result h1{font-size:clamp(32px,9vh,120px);line-height:1.1}\
.mark{width:min(30vh,60vw);height:min(30vh,60vw);border-radius:50%;display:flex;align-items:center;\
justify-content:center;font-size:min(18vh,36vw);color:#fff;background:#888}\
.ok .mark{background:#1a9a4a}.ok h1{color:#137a3a}\
.bad .mark{background:#c62828}.bad h1{color:#a31f1f}\
.off h1{color:#444}\
@media (max-aspect-ratio:4/5){\
main.waiting{flex-direction:column;gap:3vh;text-align:center;padding:3vh 4vw}\
.qr{width:min(92vw,58vh)}\
.info{max-width:none;align-items:center;gap:2.2vh}\
.amount{font-size:min(12vw,8vh);white-space:normal}\
.hint{font-size:min(6.2vw,3.4vh)}\
.store,.timer{font-size:min(5.4vw,3vh)}\
.sbp,.en{font-size:min(4.2vw,2.2vh)}\
.result h1{font-size:min(12vw,7vh)}\
}\
@media (max-height:600px) and (min-aspect-ratio:4/5){\
main{padding:3vh 3vw;gap:3vw}\
.qr{width:min(88vh,48vw)}\
.info{gap:2.5vh;max-width:46vw}\
.amount{font-size:10vh}\
.hint{font-size:5vh}\
.store,.timer{font-size:4.4vh}\
}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn the_countdown_never_goes_below_zero() {
        let now = Utc::now();
        assert_eq!(remaining(now + chrono::Duration::seconds(125), now), "2:05");
        assert_eq!(remaining(now - chrono::Duration::seconds(5), now), "0:00");
    }
}
