//! A till's QR outputs: where it shows the QR (kiosk screen, customer display, receipt tape), its
//! printer's paper width and whether the printer draws QR codes itself (`GS ( k`).

use super::escpos::{self, Mode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TillOutputs {
    pub screen: bool,
    pub display: bool,
    pub receipt: bool,
    /// Printable width in dots: 384 (58 mm) or 576 (80 mm).
    pub paper_width: u32,
    /// The printer renders QR codes natively; otherwise qrpay sends a raster bitmap.
    pub escpos_native: bool,
}

impl Default for TillOutputs {
    fn default() -> Self {
        Self {
            screen: true,
            display: true,
            receipt: true,
            paper_width: 576,
            escpos_native: false,
        }
    }
}

impl TillOutputs {
    /// Parses a comma list of `screen`, `display`, `receipt` in any order (`none` or empty = no output).
    pub fn parse_list(list: &str) -> Result<(bool, bool, bool), String> {
        let (mut screen, mut display, mut receipt) = (false, false, false);
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "screen" => screen = true,
                "display" => display = true,
                "receipt" => receipt = true,
                "none" => {}
                other => {
                    return Err(format!(
                        "unknown QR output {other:?}: use screen, display, receipt (comma-separated) or none"
                    ));
                }
            }
        }
        Ok((screen, display, receipt))
    }

    /// The stored, canonical form: `screen,display,receipt` order, `''` when none.
    pub fn list(&self) -> String {
        [
            (self.screen, "screen"),
            (self.display, "display"),
            (self.receipt, "receipt"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(",")
    }

    /// From the stored columns; a value the check constraints would not allow falls back to the
    /// defaults for that part rather than failing a payment request.
    pub fn from_columns(list: &str, paper_width: i64, escpos_native: bool) -> Self {
        let (screen, display, receipt) = Self::parse_list(list).unwrap_or((true, true, true));
        let paper_width = u32::try_from(paper_width)
            .ok()
            .filter(|w| escpos::WIDTHS.contains(w))
            .unwrap_or(576);
        Self {
            screen,
            display,
            receipt,
            paper_width,
            escpos_native,
        }
    }

    pub fn default_mode(&self) -> Mode {
        if self.escpos_native {
            Mode::Native
        } else {
            Mode::Raster
        }
    }
}

/// Parses a paper width in dots (384 or 576).
pub fn parse_paper_width(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|w| escpos::WIDTHS.contains(w))
        .ok_or_else(|| "the paper width must be 384 (58 mm) or 576 (80 mm) dots".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lists_are_parsed_in_any_order_and_stored_canonically() {
        let (s, d, r) = TillOutputs::parse_list("receipt, screen").unwrap();
        let o = TillOutputs {
            screen: s,
            display: d,
            receipt: r,
            ..Default::default()
        };
        assert_eq!(o.list(), "screen,receipt");
        assert_eq!(
            TillOutputs::parse_list("none").unwrap(),
            (false, false, false)
        );
        assert_eq!(TillOutputs::parse_list("").unwrap(), (false, false, false));
        assert!(TillOutputs::parse_list("screen,printer").is_err());
        assert_eq!(TillOutputs::default().list(), "screen,display,receipt");
    }

    #[test]
    fn paper_widths_are_58_or_80_mm() {
        assert_eq!(parse_paper_width("384"), Ok(384));
        assert_eq!(parse_paper_width("576"), Ok(576));
        assert!(parse_paper_width("512").is_err());
        assert!(parse_paper_width("x").is_err());
    }
}
