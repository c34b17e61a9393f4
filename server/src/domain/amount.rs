//! Money: integer kopecks, positive and bounded.

use super::InvalidValue;

/// A positive amount of kopecks, at most [`Amount::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i64);

impl Amount {
    /// 1 000 000 000 rubles: far above any till sale, far below i64 overflow in sums.
    pub const MAX: i64 = 100_000_000_000;

    pub fn parse(kopecks: i64) -> Result<Self, InvalidValue> {
        if kopecks <= 0 {
            return Err(InvalidValue::new(
                "amount must be a positive number of kopecks",
            ));
        }
        if kopecks > Self::MAX {
            return Err(InvalidValue::new(format!(
                "amount must not exceed {} kopecks",
                Self::MAX
            )));
        }
        Ok(Self(kopecks))
    }

    pub fn kopecks(self) -> i64 {
        self.0
    }

    /// Rubles with exactly two decimals, e.g. `1110.00`; computed on integers, never through f64.
    pub fn rubles_text(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_negative_and_too_large_amounts_are_refused() {
        assert!(Amount::parse(0).is_err());
        assert!(Amount::parse(-1).is_err());
        assert!(Amount::parse(Amount::MAX + 1).is_err());
        assert_eq!(Amount::parse(Amount::MAX).unwrap().kopecks(), Amount::MAX);
        assert_eq!(Amount::parse(1).unwrap().kopecks(), 1);
    }

    #[test]
    fn rubles_text_is_exact() {
        assert_eq!(Amount::parse(1).unwrap().rubles_text(), "0.01");
        assert_eq!(Amount::parse(111000).unwrap().rubles_text(), "1110.00");
        assert_eq!(Amount::parse(10101).unwrap().rubles_text(), "101.01");
        assert_eq!(
            Amount::parse(Amount::MAX).unwrap().rubles_text(),
            "1000000000.00"
        );
    }
}
