//! QR outputs: images and ESC/POS decode back to the payload, bad parameters are refused, the
//! create answer carries the till's ready links, and the public customer page `/pay/{id}`.

use crate::both_backends;
use crate::helpers::db::{Arg, execute_with};
use crate::helpers::{TestApp, new_key};
use qrpay::db::audit::Who;
use qrpay::db::payment_type::{PaymentTypeFields, create_auth_server, save_payment_type};
use qrpay::db::store::find_store;
use qrpay::qr::outputs::TillOutputs;
use serde_json::json;
use std::time::{Duration, Instant};

both_backends!(
    every_image_format_decodes_back_to_the_exact_payload,
    bad_image_and_receipt_parameters_are_refused_with_422,
    the_create_answer_carries_the_tills_ready_links,
    the_customer_page_shows_the_qr_then_switches_to_paid,
    the_customer_page_shows_cancelled_and_expired,
    the_customer_page_is_public_escapes_text_and_404s_unknown_ids,
);

fn decode_gray(w: usize, h: usize, pixel: impl Fn(usize, usize) -> u8) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, pixel);
    img.detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, content)| content))
        .collect()
}

pub(crate) fn decode_png(bytes: &[u8]) -> (Vec<String>, png::BitDepth, u32) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h, stride) = (info.width as usize, info.height as usize, info.line_size);
    let decoded = match info.bit_depth {
        png::BitDepth::Eight => decode_gray(w, h, |x, y| buf[y * stride + x]),
        png::BitDepth::One => decode_gray(w, h, |x, y| {
            if buf[y * stride + x / 8] & (0x80 >> (x % 8)) != 0 {
                255
            } else {
                0
            }
        }),
        other => panic!("unexpected bit depth {other:?}"),
    };
    (decoded, info.bit_depth, info.width)
}

/// Draws the SVG's path (`M x yhWv1h-Wz` runs of dark modules) at 5 px per module and decodes it.
pub(crate) fn decode_svg(svg: &str) -> Vec<String> {
    let n: usize = svg
        .split("viewBox=\"0 0 ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let mut dark = vec![false; n * n];
    for cmd in d.split('M').filter(|c| !c.is_empty()) {
        let (xy, rest) = cmd.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let w: usize = rest.split_once('v').unwrap().0.parse().unwrap();
        for i in x..x + w {
            dark[y * n + i] = true;
        }
    }
    let px = 5;
    decode_gray(n * px, n * px, |x, y| {
        if dark[(y / px) * n + x / px] { 0 } else { 255 }
    })
}

/// Rebuilds the `GS v 0` bitmap (header `1D 76 30 m xL xH yL yH`) and decodes it.
fn decode_raster(bytes: &[u8]) -> (Vec<String>, usize) {
    let at = bytes
        .windows(3)
        .position(|w| w == [0x1d, b'v', b'0'])
        .expect("a GS v 0 command");
    let h = &bytes[at + 3..at + 8];
    assert_eq!(h[0], 0, "normal density");
    let bytes_per_row = h[1] as usize + 256 * h[2] as usize;
    let rows = h[3] as usize + 256 * h[4] as usize;
    let bits = &bytes[at + 8..at + 8 + bytes_per_row * rows];
    let decoded = decode_gray(bytes_per_row * 8, rows, |x, y| {
        if bits[y * bytes_per_row + x / 8] & (0x80 >> (x % 8)) != 0 {
            0
        } else {
            255
        }
    });
    (decoded, bytes_per_row * 8)
}

/// The data of the native `GS ( k` store command (fn 80), checked against its pL/pH.
fn native_data(bytes: &[u8]) -> String {
    let at = bytes
        .windows(8)
        .position(|w| w[..3] == [0x1d, b'(', b'k'] && w[5..8] == [49, 80, 48])
        .expect("a GS ( k store command");
    let len = bytes[at + 3] as usize + 256 * bytes[at + 4] as usize - 3;
    String::from_utf8(bytes[at + 8..at + 8 + len].to_vec()).unwrap()
}

async fn get_bytes(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

async fn every_image_format_decodes_back_to_the_exact_payload(app: TestApp) {
    let p = app.create_payment(123456).await;
    let id = p["id"].as_str().unwrap();
    let payload = p["qr"]["payload"].as_str().unwrap();

    for (query, depth) in [
        ("size=512", png::BitDepth::Eight),
        ("size=512&mono=1", png::BitDepth::One),
        ("size=200&mono=1", png::BitDepth::One),
    ] {
        for round in 0..2 {
            // The second round is served from the cache and must be the same image.
            let (status, ct, bytes) =
                get_bytes(&app, &format!("/api/v1/payments/{id}/qr.png?{query}")).await;
            assert_eq!((status, ct.as_str()), (200, "image/png"), "{query}");
            let (decoded, got_depth, width) = decode_png(&bytes);
            assert_eq!(decoded, vec![payload], "{query} round {round}");
            assert_eq!(got_depth, depth);
            assert!(width <= 512);
        }
    }

    let (status, ct, svg) =
        get_bytes(&app, &format!("/api/v1/payments/{id}/qr.svg?size=300")).await;
    assert_eq!((status, ct.as_str()), (200, "image/svg+xml"));
    assert_eq!(
        decode_svg(std::str::from_utf8(&svg).unwrap()),
        vec![payload]
    );

    for width in [384, 576] {
        for text in ["1", "0"] {
            let (status, ct, bytes) = get_bytes(
                &app,
                &format!("/api/v1/payments/{id}/qr.escpos?mode=raster&width={width}&text={text}"),
            )
            .await;
            assert_eq!((status, ct.as_str()), (200, "application/octet-stream"));
            let (decoded, paper) = decode_raster(&bytes);
            assert_eq!(decoded, vec![payload], "raster {width} text={text}");
            assert_eq!(paper, width);
            let (title, _, _) = encoding_rs::IBM866.encode("Сумма: 1 234,56 руб.");
            let has_text = bytes.windows(title.len()).any(|w| w == &title[..]);
            assert_eq!(has_text, text == "1", "text block with text={text}");
        }
        let (status, _, bytes) = get_bytes(
            &app,
            &format!("/api/v1/payments/{id}/qr.escpos?mode=native&width={width}"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(native_data(&bytes), payload);
        assert!(
            !bytes.windows(3).any(|w| w == [0x1d, b'v', b'0']),
            "no bitmap in native mode"
        );
    }

    // Without parameters: the till's settings (default raster on 576 dots).
    let (_, _, bytes) = get_bytes(&app, &format!("/api/v1/payments/{id}/qr.escpos")).await;
    assert_eq!(decode_raster(&bytes), (vec![payload.to_owned()], 576));
}

async fn bad_image_and_receipt_parameters_are_refused_with_422(app: TestApp) {
    let p = app.create_payment(100).await;
    let id = p["id"].as_str().unwrap();
    for (path, field) in [
        ("qr.png?size=0", "size"),
        ("qr.png?size=100000", "size"),
        ("qr.png?size=abc", "size"),
        ("qr.png?mono=2", "mono"),
        ("qr.svg?size=0", "size"),
        ("qr.svg?size=100000", "size"),
        ("qr.escpos?width=1", "width"),
        ("qr.escpos?width=512", "width"),
        ("qr.escpos?mode=laser", "mode"),
        ("qr.escpos?mode=", "mode"),
        ("qr.escpos?text=maybe", "text"),
    ] {
        let r = app.get(&format!("/api/v1/payments/{id}/{path}")).await;
        assert_eq!(
            (r.status, r.code(), r.field()),
            (422, "invalid_field", field),
            "{path}: {}",
            r.body
        );
    }
    let r = app
        .get("/pay/01aaaaaaaaaaaaaaaaaaaaaaaa/status?wait=61")
        .await;
    assert_eq!((r.status, r.field()), (422, "wait"));
    let r = app
        .get("/api/v1/payments/01aaaaaaaaaaaaaaaaaaaaaaaa/qr.escpos")
        .await;
    assert_eq!((r.status, r.code()), (404, "not_found"));
}

async fn the_create_answer_carries_the_tills_ready_links(app: TestApp) {
    // The default till shows the QR everywhere, prints raster on 80 mm paper.
    let p = app.create_payment(500).await;
    let id = p["id"].as_str().unwrap();
    let o = &p["outputs"];
    assert_eq!(o["screen_url"], format!("{}/pay/{id}", app.base));
    assert_eq!(
        o["display_png"],
        format!("{}/api/v1/payments/{id}/qr.png?size=480&mono=1", app.base)
    );
    assert_eq!(
        o["receipt_escpos"],
        format!(
            "{}/api/v1/payments/{id}/qr.escpos?mode=raster&width=576",
            app.base
        )
    );
    // Every link works as it is.
    for link in ["screen_url", "display_png", "receipt_escpos"] {
        let r = app
            .client
            .get(o[link].as_str().unwrap())
            .bearer_auth(&app.key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{link}");
    }
    let got = app.get(&format!("/api/v1/payments/{id}")).await;
    assert_eq!(got.body["outputs"], *o, "GET carries the same links");

    // Another till: only the receipt, native on 58 mm.
    let store = find_store(&app.db, None).await.unwrap();
    let key = crate::helpers::add_till(&app.db, None, "printer-till").await;
    let till = qrpay::db::till::till_by_name(&app.db, store.store_id, "printer-till")
        .await
        .unwrap();
    qrpay::db::till::set_till_outputs(
        &app.db,
        &Who::SEED,
        store.store_id,
        till.till_id,
        &TillOutputs {
            screen: false,
            display: false,
            receipt: true,
            paper_width: 384,
            escpos_native: true,
        },
    )
    .await
    .unwrap();
    let r = app
        .post_raw(
            "/api/v1/payments",
            Some(&key),
            Some(&new_key()),
            &json!({"amount": 700, "receipt": "P-1"}).to_string(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id2 = r.body["id"].as_str().unwrap();
    assert!(r.body["outputs"]["screen_url"].is_null());
    assert!(r.body["outputs"]["display_png"].is_null());
    let link = r.body["outputs"]["receipt_escpos"].as_str().unwrap();
    assert!(
        link.ends_with(&format!(
            "/api/v1/payments/{id2}/qr.escpos?mode=native&width=384"
        )),
        "{link}"
    );
    // Without parameters the endpoint follows the till's setting: native.
    let (_, _, bytes) = get_bytes(&app, &format!("/api/v1/payments/{id2}/qr.escpos")).await;
    assert_eq!(
        native_data(&bytes),
        r.body["qr"]["payload"].as_str().unwrap()
    );

    // Events do not carry the till's links.
    let events = qrpay::db::payment_event::unsent_outbox(&app.db, 100)
        .await
        .unwrap();
    assert!(!events.is_empty());
    for (_, payload) in events {
        assert!(!payload.to_string().contains("outputs"), "{payload}");
    }
}

async fn page(app: &TestApp, id: &str) -> (u16, String) {
    // No till key: the page is public.
    let r = app
        .client
        .get(format!("{}/pay/{id}", app.base))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_eq!(
        r.headers()["content-type"],
        "text/html; charset=utf-8",
        "/pay/{id}"
    );
    (status, r.text().await.unwrap())
}

async fn public_status(app: &TestApp, id: &str, wait: u32) -> serde_json::Value {
    app.client
        .get(format!("{}/pay/{id}/status?wait={wait}", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn the_customer_page_shows_the_qr_then_switches_to_paid(app: TestApp) {
    let p = app.create_payment(123456).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let (status, html) = page(&app, &id).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-status=\"pending\""));
    assert!(
        html.contains("1\u{a0}234,56\u{a0}₽"),
        "amount as 1 234,56 ₽"
    );
    assert!(html.contains("Магазин"), "store name");
    assert!(html.contains("Отсканируйте QR-код камерой телефона или в приложении банка"));
    assert!(html.contains("id=\"left\""), "countdown");
    assert!(
        html.contains("<noscript><meta http-equiv=\"refresh\""),
        "refresh without JS"
    );
    assert!(html.contains("/status?wait=25"), "long-poll with JS");
    // The inline QR decodes to the payload.
    let svg_start = html.find("<svg").unwrap();
    let svg_end = html[svg_start..].find("</svg>").unwrap() + svg_start + 6;
    assert_eq!(
        decode_svg(&html[svg_start..svg_end]),
        vec![p["qr"]["payload"].as_str().unwrap()]
    );
    assert!(!html.contains("Оплачено"));

    let s = public_status(&app, &id, 0).await;
    assert_eq!(s["status"], "pending");
    assert_eq!(s["expires_at"], p["expires_at"]);
    assert_eq!(
        s.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["expires_at", "status"],
        "nothing but the status and the deadline"
    );

    // The page's long-poll answers as soon as the customer pays.
    let started = Instant::now();
    let poll = {
        let (client, url) = (
            app.client.clone(),
            format!("{}/pay/{id}/status?wait=20", app.base),
        );
        tokio::spawn(async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.pay(&id).await.status, 200);
    let s = poll.await.unwrap();
    assert_eq!(s["status"], "paid");
    assert!(started.elapsed() < Duration::from_secs(5));

    let (status, html) = page(&app, &id).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-status=\"paid\""));
    assert!(html.contains("Оплачено"));
    assert!(!html.contains("<svg"), "no QR once paid");
    assert!(
        !html.contains("http-equiv=\"refresh\""),
        "a finished page stays"
    );
}

async fn the_customer_page_shows_cancelled_and_expired(app: TestApp) {
    let p = app.create_payment(100).await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(app.cancel(id).await.status, 200);
    let (_, html) = page(&app, id).await;
    assert!(html.contains("Отменено") && html.contains("data-status=\"cancelled\""));
    assert!(!html.contains("<svg"));

    // A payment type whose QR lives one second.
    let store = find_store(&app.db, None).await.unwrap();
    let server = create_auth_server(&app.db, &Who::SEED, store.store_id, "QR 1 s", 1)
        .await
        .unwrap();
    save_payment_type(
        &app.db,
        &Who::SEED,
        None,
        PaymentTypeFields {
            store_id: store.store_id,
            auth_server_id: server,
            name: "Секунда",
            module: "sandbox",
            scan_customer_qr: false,
            enabled: true,
        },
    )
    .await
    .unwrap();
    let r = app
        .create_payment_raw(
            &json!({"amount": 990, "receipt": "E-1", "payment_type": "Секунда"}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap();
    let s = public_status(&app, id, 10).await;
    assert_eq!(s["status"], "expired", "the long-poll sees the expiry");
    let (_, html) = page(&app, id).await;
    assert!(html.contains("Время истекло") && html.contains("data-status=\"expired\""));
}

async fn the_customer_page_is_public_escapes_text_and_404s_unknown_ids(app: TestApp) {
    let store = find_store(&app.db, None).await.unwrap();
    let evil = "<script>alert(\"x\")</script> & Co";
    execute_with(
        &app,
        "update store set name = $1 where store_id = $2",
        &[Arg::Text(evil), Arg::Int(store.store_id)],
    )
    .await;
    let p = app.create_payment(100).await;
    let (status, html) = page(&app, p["id"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>alert"), "store name is escaped");
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"));

    for unknown in ["01aaaaaaaaaaaaaaaaaaaaaaaa", "nope", "%3Cscript%3E"] {
        let (status, html) = page(&app, unknown).await;
        assert_eq!(status, 404, "{unknown}");
        assert!(html.contains("Платёж не найден"));
        assert!(!html.contains("<script>"));
    }
    let r = app
        .client
        .get(format!(
            "{}/pay/01aaaaaaaaaaaaaaaaaaaaaaaa/status",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
