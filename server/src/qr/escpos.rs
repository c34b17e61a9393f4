//! The QR on the receipt tape as ESC/POS commands: native `GS ( k` (the printer draws the QR) or a
//! `GS v 0` raster bitmap drawn here (any printer that prints pictures), with an optional text
//! block in CP866. The output is a fragment a till inserts into its receipt: it does not reset
//! the printer (`ESC @`) nor cut; `print_test` wraps it into a whole test receipt.

use super::{Matrix, QUIET_ZONE, labels};
use chrono::{DateTime, Utc};

/// Printable widths in dots: 58 mm paper (384) and 80 mm paper (576).
pub const WIDTHS: [u32; 2] = [384, 576];

/// Largest module we draw, in dots: bigger only wastes paper (8 dots ≈ 1 mm at 203 dpi).
const MAX_MODULE_DOTS: usize = 8;

const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
const LF: u8 = 0x0a;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `GS ( k`: the printer renders the QR itself (sharp, small transfer; not every printer).
    Native,
    /// `GS v 0`: a bitmap rendered by qrpay (works on almost every printer).
    Raster,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "native" => Some(Self::Native),
            "raster" => Some(Self::Raster),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Raster => "raster",
        }
    }
}

/// The text printed around the QR: «Оплата по QR-коду СБП» above, amount and deadline below.
#[derive(Debug, Clone)]
pub struct ReceiptText {
    pub amount_kopecks: i64,
    pub expires_at: DateTime<Utc>,
    pub time_zone: String,
}

/// Dots per module so the QR with its quiet zone fits the paper (1..=8).
pub fn module_dots(m: &Matrix, width: u32) -> usize {
    (width as usize / m.total_modules()).clamp(1, MAX_MODULE_DOTS)
}

/// Printed above and below the QR of a test payment, with or without the text around it (code
/// page 866 has no long dash).
pub const TEST_MARK: &str = "*** ТЕСТ - это не оплата ***\n";

/// The receipt fragment: centred, optional text, the QR in `mode`, alignment back to the left.
pub fn receipt(
    payload: &str,
    mode: Mode,
    width: u32,
    text: Option<&ReceiptText>,
) -> anyhow::Result<Vec<u8>> {
    receipt_marked(payload, mode, width, text, false)
}

/// [`receipt`], marked «ТЕСТ - это не оплата» above and below the QR when `test` (a payment on
/// a test module: a customer must never take it for money received).
pub fn receipt_marked(
    payload: &str,
    mode: Mode,
    width: u32,
    text: Option<&ReceiptText>,
    test: bool,
) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(
        WIDTHS.contains(&width),
        "the paper width must be 384 or 576 dots"
    );
    let m = Matrix::encode(payload)?;
    let mut out = Vec::with_capacity(256 + payload.len());
    out.extend_from_slice(&[ESC, b'a', 1]);
    if text.is_some() || test {
        // ESC t 17: code page PC866 (Cyrillic #2) for the text below.
        out.extend_from_slice(&[ESC, b't', 17]);
    }
    if test {
        out.extend(cp866(TEST_MARK));
    }
    if text.is_some() {
        out.extend(cp866("Оплата по QR-коду СБП\n"));
    }
    match mode {
        Mode::Native => native_qr(&mut out, payload, module_dots(&m, width))?,
        Mode::Raster => raster_qr(&mut out, &m, width),
    }
    if let Some(t) = text {
        out.extend(cp866(&format!(
            "Сумма: {} руб.\nОплатить до {}\n",
            labels::rubles(t.amount_kopecks, " "),
            labels::local_time(t.expires_at, &t.time_zone)
        )));
    }
    if test {
        out.extend(cp866(TEST_MARK));
    }
    out.extend_from_slice(&[ESC, b'a', 0]);
    Ok(out)
}

/// A whole test receipt for `qrpay print-test`: reset, a header, the fragment, feed and cut.
pub fn print_test(
    payload: &str,
    mode: Mode,
    width: u32,
    text: &ReceiptText,
) -> anyhow::Result<Vec<u8>> {
    let mut out = vec![ESC, b'@', ESC, b't', 17];
    out.extend(cp866(&format!(
        "qrpay: проверка печати QR\nрежим {}, ширина {} точек\n\n",
        mode.as_str(),
        width
    )));
    out.extend(receipt(payload, mode, width, Some(text))?);
    // Feed 4 lines, then a partial cut (GS V 66 n: feed n and cut).
    out.extend_from_slice(&[ESC, b'd', 4, GS, b'V', 66, 0]);
    Ok(out)
}

/// `GS ( k` function 165/167/169/180/181 (cn = 49): model 2, module size, EC M, store, print.
fn native_qr(out: &mut Vec<u8>, payload: &str, module: usize) -> anyhow::Result<()> {
    let data = payload.as_bytes();
    let len = data.len() + 3;
    anyhow::ensure!(len <= 0xffff, "the QR payload is too long for GS ( k");
    // fn 65: select model 2.
    out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    // fn 67: module size in dots.
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, module as u8]);
    // fn 69: error correction M (49).
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]);
    // fn 80: store the data; pL + pH·256 = len(data) + 3.
    out.extend_from_slice(&[
        GS,
        b'(',
        b'k',
        (len & 0xff) as u8,
        (len >> 8) as u8,
        49,
        80,
        48,
    ]);
    out.extend_from_slice(data);
    // fn 81: print the stored symbol.
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
    out.push(LF);
    Ok(())
}

/// `GS v 0`: a bitmap as wide as the paper (1 bit = 1 dot, 1 = black), the QR centred.
fn raster_qr(out: &mut Vec<u8>, m: &Matrix, width: u32) {
    let px = module_dots(m, width);
    let side = m.total_modules() * px;
    let width = width as usize;
    let stride = width / 8;
    let left = (width - side.min(width)) / 2;
    let mut bits = vec![0u8; stride * side];
    for y in 0..m.width {
        for x in 0..m.width {
            if m.is_dark(x, y) {
                let x0 = left + (x + QUIET_ZONE) * px;
                for row in (y + QUIET_ZONE) * px..(y + QUIET_ZONE + 1) * px {
                    for col in x0..x0 + px {
                        bits[row * stride + col / 8] |= 0x80 >> (col % 8);
                    }
                }
            }
        }
    }
    out.extend_from_slice(&[
        GS,
        b'v',
        b'0',
        0,
        (stride & 0xff) as u8,
        (stride >> 8) as u8,
        (side & 0xff) as u8,
        (side >> 8) as u8,
    ]);
    out.extend_from_slice(&bits);
    out.push(LF);
}

/// Text in code page 866; characters it lacks become `?` (never HTML escapes).
pub fn cp866(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for ch in text.chars() {
        let (bytes, _, unmappable) = encoding_rs::IBM866.encode(ch.encode_utf8(&mut buf));
        if unmappable {
            out.push(b'?');
        } else {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// A `GS v 0` image found in ESC/POS bytes: bytes per row, rows, and the bits.
#[derive(Debug)]
pub struct RasterImage<'a> {
    pub bytes_per_row: usize,
    pub rows: usize,
    pub bits: &'a [u8],
}

impl RasterImage<'_> {
    pub fn is_black(&self, x: usize, y: usize) -> bool {
        self.bits[y * self.bytes_per_row + x / 8] & (0x80 >> (x % 8)) != 0
    }
}

/// Finds the first `GS v 0` image in `bytes` (for tests and field checks of `print-test` files).
pub fn find_raster(bytes: &[u8]) -> Option<RasterImage<'_>> {
    let at = bytes.windows(3).position(|w| w == [GS, b'v', b'0'])?;
    let h = bytes.get(at + 3..at + 8)?;
    let bytes_per_row = h[1] as usize + ((h[2] as usize) << 8);
    let rows = h[3] as usize + ((h[4] as usize) << 8);
    let bits = bytes.get(at + 8..at + 8 + bytes_per_row * rows)?;
    Some(RasterImage {
        bytes_per_row,
        rows,
        bits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = "https://qr.nspk.ru/AD10006M8KH6V0DF8LG8KQ6K5I3NPH6P?type=02&bank=100000000000&sum=12345&cur=RUB&crc=ABCD";

    fn text() -> ReceiptText {
        ReceiptText {
            amount_kopecks: 123456,
            expires_at: DateTime::parse_from_rfc3339("2026-11-29T15:32:00Z")
                .unwrap()
                .with_timezone(&Utc),
            time_zone: "Europe/Moscow".into(),
        }
    }

    fn decode_raster(bytes: &[u8]) -> Vec<String> {
        let img = find_raster(bytes).expect("a GS v 0 image");
        super::super::decode_gray(img.bytes_per_row * 8, img.rows, |x, y| {
            if img.is_black(x, y) { 0 } else { 255 }
        })
    }

    #[test]
    fn raster_bitmap_decodes_to_the_exact_payload_on_both_paper_widths() {
        for width in WIDTHS {
            for t in [None, Some(text())] {
                let bytes = receipt(PAYLOAD, Mode::Raster, width, t.as_ref()).unwrap();
                let img = find_raster(&bytes).unwrap();
                assert_eq!(img.bytes_per_row * 8, width as usize);
                assert_eq!(decode_raster(&bytes), vec![PAYLOAD], "width {width}");
            }
        }
    }

    #[test]
    fn raster_qr_is_centred_on_the_paper() {
        let bytes = receipt(PAYLOAD, Mode::Raster, 576, None).unwrap();
        let img = find_raster(&bytes).unwrap();
        let blacks: Vec<usize> = (0..576)
            .filter(|&x| (0..img.rows).any(|y| img.is_black(x, y)))
            .collect();
        let (first, last) = (blacks[0], *blacks.last().unwrap());
        assert!(
            (first as i64 - (575 - last) as i64).abs() <= 1,
            "{first} .. {last}"
        );
    }

    #[test]
    fn native_command_carries_model_2_ec_m_and_the_payload() {
        let bytes = receipt(PAYLOAD, Mode::Native, 576, None).unwrap();
        let find = |needle: &[u8]| bytes.windows(needle.len()).position(|w| w == needle);
        assert!(
            find(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]).is_some(),
            "model 2"
        );
        assert!(find(&[GS, b'(', b'k', 3, 0, 49, 69, 49]).is_some(), "EC M");
        assert!(find(&[GS, b'(', b'k', 3, 0, 49, 81, 48]).is_some(), "print");
        let size_at = find(&[GS, b'(', b'k', 3, 0, 49, 67]).unwrap();
        let module = bytes[size_at + 7] as usize;
        let m = Matrix::encode(PAYLOAD).unwrap();
        assert!((1..=8).contains(&module) && module * m.total_modules() <= 576);
        let store = find(&[49, 80, 48]).unwrap();
        let len = bytes[store - 2] as usize + 256 * bytes[store - 1] as usize;
        assert_eq!(len, PAYLOAD.len() + 3);
        assert_eq!(
            &bytes[store + 3..store + 3 + PAYLOAD.len()],
            PAYLOAD.as_bytes()
        );
    }

    #[test]
    fn native_length_bytes_are_right_for_long_payloads() {
        for n in [252, 253, 256, 300, 1000, 2000] {
            let payload = format!("https://qr.nspk.ru/AD1?x={}", "A".repeat(n));
            let bytes = receipt(&payload, Mode::Native, 384, None).unwrap();
            let store = bytes.windows(3).position(|w| w == [49, 80, 48]).unwrap();
            let (pl, ph) = (bytes[store - 2], bytes[store - 1]);
            assert_eq!(
                pl as usize + 256 * ph as usize,
                payload.len() + 3,
                "n = {n}"
            );
            assert_eq!(
                &bytes[store + 3..store + 3 + payload.len()],
                payload.as_bytes()
            );
            assert_eq!(
                &bytes[store + 3 + payload.len()..][..8],
                &[GS, b'(', b'k', 3, 0, 49, 81, 48]
            );
        }
    }

    #[test]
    fn text_block_is_cp866() {
        let bytes = receipt(PAYLOAD, Mode::Native, 576, Some(&text())).unwrap();
        let (title, _, _) = encoding_rs::IBM866.encode("Оплата по QR-коду СБП");
        let (amount, _, _) = encoding_rs::IBM866.encode("Сумма: 1 234,56 руб.");
        let (until, _, _) = encoding_rs::IBM866.encode("Оплатить до 18:32 29.11.2026");
        for needle in [&title[..], &amount[..], &until[..]] {
            assert!(bytes.windows(needle.len()).any(|w| w == needle));
        }
        assert!(bytes.windows(3).any(|w| w == [ESC, b't', 17]));
        assert_eq!(cp866("₽«"), b"??");
    }

    #[test]
    fn a_test_payment_is_marked_above_and_below_the_qr_with_or_without_text() {
        let mark = cp866(TEST_MARK);
        let count = |b: &[u8]| {
            b.windows(mark.len())
                .filter(|w| *w == mark.as_slice())
                .count()
        };
        for t in [None, Some(text())] {
            let marked = receipt_marked(PAYLOAD, Mode::Native, 576, t.as_ref(), true).unwrap();
            assert_eq!(count(&marked), 2);
            let plain = receipt_marked(PAYLOAD, Mode::Native, 576, t.as_ref(), false).unwrap();
            assert_eq!(count(&plain), 0);
        }
    }

    #[test]
    fn widths_other_than_58_and_80_mm_are_refused() {
        assert!(receipt(PAYLOAD, Mode::Raster, 1, None).is_err());
        assert!(receipt(PAYLOAD, Mode::Native, 500, None).is_err());
        assert_eq!(Mode::parse("laser"), None);
    }

    #[test]
    fn print_test_resets_prints_and_cuts() {
        let bytes = print_test(PAYLOAD, Mode::Raster, 576, &text()).unwrap();
        assert_eq!(&bytes[..2], &[ESC, b'@']);
        assert_eq!(&bytes[bytes.len() - 4..], &[GS, b'V', 66, 0]);
        assert_eq!(decode_raster(&bytes), vec![PAYLOAD]);
    }
}
