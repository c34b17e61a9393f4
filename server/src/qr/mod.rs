//! QR images for screens and receipts: PNG (8-bit gray or 1-bit mono) and SVG with a 4-module
//! quiet zone, error correction M and an integer number of pixels per module (crisp on any
//! display); ESC/POS receipt commands in `escpos`; a small cache of rendered images in `cache`.

pub mod cache;
pub mod escpos;
pub mod labels;
pub mod outputs;

use qrcode::{EcLevel, QrCode};

pub const QUIET_ZONE: usize = 4;
pub const MIN_SIZE: u32 = 64;
pub const MAX_SIZE: u32 = 4096;

/// The QR modules of `payload` as rows of dark (`true`) / light, without the quiet zone.
pub struct Matrix {
    pub width: usize,
    dark: Vec<bool>,
}

impl Matrix {
    pub fn encode(payload: &str) -> anyhow::Result<Self> {
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
            .map_err(|e| anyhow::anyhow!("cannot encode the QR payload: {e}"))?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Ok(Self { width, dark })
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Modules across, quiet zone included.
    pub fn total_modules(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Pixels per module so that the image is at most `size` pixels (at least 1).
    pub fn module_px(&self, size: u32) -> usize {
        (size as usize / self.total_modules()).max(1)
    }
}

/// An 8-bit grayscale PNG of at most `size`×`size` pixels (smaller by the rounding to whole
/// modules; never blurred).
pub fn png(payload: &str, size: u32) -> anyhow::Result<Vec<u8>> {
    encode_png(&Matrix::encode(payload)?, size, false)
}

/// A 1-bit black-and-white PNG (for monochrome customer displays), otherwise like [`png`].
pub fn png_mono(payload: &str, size: u32) -> anyhow::Result<Vec<u8>> {
    encode_png(&Matrix::encode(payload)?, size, true)
}

fn encode_png(m: &Matrix, size: u32, mono: bool) -> anyhow::Result<Vec<u8>> {
    let px = m.module_px(size);
    let side = m.total_modules() * px;
    let pixels = if mono {
        // Rows of bits, most significant first, 1 = white (PNG grayscale).
        let stride = side.div_ceil(8);
        let mut bits = vec![0xffu8; stride * side];
        for y in 0..m.width {
            for x in 0..m.width {
                if m.is_dark(x, y) {
                    let left = (x + QUIET_ZONE) * px;
                    for row in (y + QUIET_ZONE) * px..(y + QUIET_ZONE + 1) * px {
                        for col in left..left + px {
                            bits[row * stride + col / 8] &= !(0x80 >> (col % 8));
                        }
                    }
                }
            }
        }
        bits
    } else {
        let mut gray = vec![255u8; side * side];
        for y in 0..m.width {
            for x in 0..m.width {
                if m.is_dark(x, y) {
                    let left = (x + QUIET_ZONE) * px;
                    for row in (y + QUIET_ZONE) * px..(y + QUIET_ZONE + 1) * px {
                        gray[row * side + left..row * side + left + px].fill(0);
                    }
                }
            }
        }
        gray
    };
    let mut out = Vec::with_capacity(pixels.len() / 8 + 256);
    {
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(if mono {
            png::BitDepth::One
        } else {
            png::BitDepth::Eight
        });
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
    }
    Ok(out)
}

/// An SVG of `size`×`size` pixels: one path of dark modules on a white square.
pub fn svg(payload: &str, size: u32) -> anyhow::Result<String> {
    let m = Matrix::encode(payload)?;
    let n = m.total_modules();
    let mut path = String::with_capacity(m.width * m.width * 4);
    for y in 0..m.width {
        let mut x = 0;
        while x < m.width {
            if m.is_dark(x, y) {
                let start = x;
                while x < m.width && m.is_dark(x, y) {
                    x += 1;
                }
                path.push_str(&format!(
                    "M{} {}h{}v1h-{}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {n} {n}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

/// Decodes the QR codes in a grayscale picture (test support for every image format).
#[cfg(test)]
pub(crate) fn decode_gray(
    width: usize,
    height: usize,
    pixel: impl Fn(usize, usize) -> u8,
) -> Vec<String> {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
    img.detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, content)| content))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_png(bytes: &[u8]) -> Vec<String> {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (w, h) = (info.width as usize, info.height as usize);
        match info.bit_depth {
            png::BitDepth::Eight => decode_gray(w, h, |x, y| buf[y * w + x]),
            png::BitDepth::One => {
                let stride = info.line_size;
                decode_gray(w, h, |x, y| {
                    if buf[y * stride + x / 8] & (0x80 >> (x % 8)) != 0 {
                        255
                    } else {
                        0
                    }
                })
            }
            other => panic!("unexpected bit depth {other:?}"),
        }
    }

    #[test]
    fn gray_and_mono_pngs_decode_to_the_exact_payload() {
        for size in [64, 200, 512, 1000] {
            assert_eq!(
                decode_png(&png(PAYLOAD, size).unwrap()),
                vec![PAYLOAD],
                "gray {size}"
            );
            assert_eq!(
                decode_png(&png_mono(PAYLOAD, size).unwrap()),
                vec![PAYLOAD],
                "mono {size}"
            );
        }
    }

    #[test]
    fn mono_png_is_one_bit_and_smaller_than_gray() {
        let mono = png_mono(PAYLOAD, 512).unwrap();
        let reader = png::Decoder::new(std::io::Cursor::new(mono.clone()))
            .read_info()
            .unwrap();
        assert_eq!(reader.info().bit_depth, png::BitDepth::One);
        assert_eq!(reader.info().color_type, png::ColorType::Grayscale);
        assert!(mono.len() < png(PAYLOAD, 512).unwrap().len());
    }

    #[test]
    fn svg_decodes_to_the_exact_payload() {
        // Rasterise the SVG's own path (the format the browser draws) at 6 px per module.
        let s = svg(PAYLOAD, 256).unwrap();
        let n = Matrix::encode(PAYLOAD).unwrap().total_modules();
        let d = s.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        let mut dark = vec![false; n * n];
        for cmd in d.split('M').filter(|c| !c.is_empty()) {
            // "X YhWv1h-Wz"
            let (xy, rest) = cmd.split_once('h').unwrap();
            let (x, y) = xy.split_once(' ').unwrap();
            let w: usize = rest.split_once('v').unwrap().0.parse().unwrap();
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            for i in x..x + w {
                dark[y * n + i] = true;
            }
        }
        let px = 6;
        let decoded = decode_gray(n * px, n * px, |x, y| {
            if dark[(y / px) * n + x / px] { 0 } else { 255 }
        });
        assert_eq!(decoded, vec![PAYLOAD]);
    }

    const PAYLOAD: &str = "https://qr.nspk.ru/AD10006M8KH6V0DF8LG8KQ6K5I3NPH6P?type=02&bank=100000000000&sum=12345&cur=RUB&crc=ABCD";

    #[test]
    fn png_has_whole_modules_and_a_quiet_zone() {
        let bytes = png(PAYLOAD, 300).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let m = Matrix::encode(PAYLOAD).unwrap();
        let px = m.module_px(300);
        assert_eq!(info.width as usize, m.total_modules() * px);
        assert!(info.width <= 300);
        // The quiet zone is white, the finder pattern's corner is black.
        let side = info.width as usize;
        assert!(buf[..QUIET_ZONE * px * side].iter().all(|&p| p == 255));
        assert_eq!(buf[QUIET_ZONE * px * side + QUIET_ZONE * px], 0);
    }

    #[test]
    fn svg_declares_its_size_and_draws_modules() {
        let s = svg(PAYLOAD, 256).unwrap();
        assert!(s.starts_with("<svg"));
        assert!(s.contains("width=\"256\""));
        assert!(s.contains("M4 4h7v1h-7z"), "finder pattern's top row");
    }
}
