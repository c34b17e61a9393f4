//! A till's cash-link plate (A6: the QR, the store, «Оплата по СБП», the till), public like the
//! link it shows, which is printed for anyone to scan: `/cash-links/{qrId}/plate` (a page to
//! print, A6 print CSS), `plate.svg` (the whole plate) and `plate.png` (the plate's QR alone,
//! 1024 px, for a layout of one's own: qrpay has no font rasterizer to set text in a PNG).

use super::AppState;
use super::customer_page::escape;
use crate::db::cash_link::{CashLink, cash_link_by_qr_id};
use crate::error::{ApiError, ErrorCode};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/cash-links/{qr_id}/{file}", get(plate))
}

/// The plate's QR side in tenths of a millimetre (80 mm on a 105 × 148 mm plate).
const QR_SIDE: u32 = 800;

/// The whole plate as an SVG of A6 (105 × 148 mm; user units are tenths of a millimetre).
pub fn plate_svg(link: &CashLink) -> anyhow::Result<String> {
    let qr = crate::qr::svg(&link.payload, QR_SIDE)?;
    let qr = qr.replacen("<svg ", "<svg x=\"125\" y=\"330\" ", 1);
    let text = |y: u32, size: u32, weight: &str, words: &str| {
        format!(
            "<text x=\"525\" y=\"{y}\" font-size=\"{size}\" font-weight=\"{weight}\" \
             text-anchor=\"middle\" font-family=\"Arial, Helvetica, sans-serif\">{}</text>",
            escape(words)
        )
    };
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"105mm\" height=\"148mm\" \
         viewBox=\"0 0 1050 1480\"><rect width=\"1050\" height=\"1480\" fill=\"#fff\"/>\
         <rect x=\"30\" y=\"30\" width=\"990\" height=\"1420\" rx=\"40\" fill=\"none\" \
         stroke=\"#000\" stroke-width=\"6\"/>{}{}{qr}{}{}</svg>",
        text(170, 60, "bold", &link.store_name),
        text(280, 76, "bold", "Оплата по СБП"),
        text(1250, 56, "normal", &link.till_name),
        text(1350, 34, "normal", "Наведите камеру телефона на QR-код"),
    ))
}

/// The page that prints the plate on A6 (and shows it on screen with its other formats).
pub fn plate_page(link: &CashLink) -> anyhow::Result<String> {
    let svg = plate_svg(link)?;
    let base = format!("/cash-links/{}/plate", escape(&link.qr_id));
    Ok(format!(
        "<!doctype html><html lang=\"ru\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Кассовая ссылка — {till}</title><style>\
         @page {{ size: A6 portrait; margin: 0; }}\
         body {{ margin: 0; font-family: Arial, Helvetica, sans-serif; }}\
         .plate svg {{ display: block; width: 105mm; height: 148mm; }}\
         .links {{ margin: 1em; }}\
         @media screen {{ .plate {{ margin: 1em; box-shadow: 0 0 6px #999; width: 105mm; }} }}\
         @media print {{ .links {{ display: none; }} }}\
         </style></head><body>\
         <div class=\"plate\" data-testid=\"cash-link-plate\">{svg}</div>\
         <p class=\"links\"><a href=\"{base}.svg\" download>SVG</a> · \
         <a href=\"{base}.png\" download>PNG (QR)</a> · \
         <a href=\"javascript:print()\">Печать</a></p>\
         <p class=\"links\" data-testid=\"cash-link-payload\">{payload}</p></body></html>",
        till = escape(&link.till_name),
        payload = escape(&link.payload),
    ))
}

async fn plate(
    State(state): State<AppState>,
    Path((qr_id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "no such cash-register link");
    let link = cash_link_by_qr_id(state.payments.db(), &qr_id)
        .await?
        .ok_or_else(not_found)?;
    let (content_type, body) = match file.as_str() {
        "plate" => ("text/html; charset=utf-8", plate_page(&link)?.into_bytes()),
        "plate.svg" => ("image/svg+xml", plate_svg(&link)?.into_bytes()),
        "plate.png" => ("image/png", crate::qr::png(&link.payload, 1024)?),
        _ => return Err(not_found()),
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
