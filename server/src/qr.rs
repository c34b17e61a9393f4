//! QR images for screens: PNG and SVG with a 4-module quiet zone, error correction M and an
//! integer number of pixels per module (crisp on any display).

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
    let m = Matrix::encode(payload)?;
    let px = m.module_px(size);
    let side = m.total_modules() * px;
    let mut pixels = vec![255u8; side * side];
    for y in 0..m.width {
        for x in 0..m.width {
            if m.is_dark(x, y) {
                let top = (y + QUIET_ZONE) * px;
                let left = (x + QUIET_ZONE) * px;
                for row in top..top + px {
                    pixels[row * side + left..row * side + left + px].fill(0);
                }
            }
        }
    }
    let mut out = Vec::with_capacity(side * side / 8 + 256);
    {
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
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

#[cfg(test)]
mod tests {
    use super::*;

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
