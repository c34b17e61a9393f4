//! Free text that comes from tills: the receipt reference and the payment description.

use super::InvalidValue;

/// The till's own reference to its receipt: 1–64 printable characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Receipt(String);

impl Receipt {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.trim().is_empty() {
            return Err(InvalidValue::new("receipt must not be empty"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new(format!(
                "receipt must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "receipt must not contain control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the customer is paying for, as the till words it: at most 140 characters, no control
/// characters (the bank's `additionalInfo` limit; longer texts would be cut by the bank anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 140;

    /// `None` for an absent or blank description.
    pub fn parse(s: Option<&str>) -> Result<Option<Self>, InvalidValue> {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        if s.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new(format!(
                "description must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if s.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "description must not contain control characters",
            ));
        }
        Ok(Some(Self(s.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_accepts_printable_text_up_to_64_chars() {
        assert_eq!(
            Receipt::parse("Чек 00042/7").unwrap().as_str(),
            "Чек 00042/7"
        );
        assert!(Receipt::parse(&"я".repeat(64)).is_ok());
    }

    #[test]
    fn receipt_refuses_empty_long_and_control_text() {
        assert!(Receipt::parse("").is_err());
        assert!(Receipt::parse("   ").is_err());
        assert!(Receipt::parse(&"x".repeat(65)).is_err());
        assert!(Receipt::parse("a\nb").is_err());
        assert!(Receipt::parse("a\u{0}b").is_err());
    }

    #[test]
    fn description_is_optional_trimmed_and_bounded() {
        assert_eq!(Description::parse(None).unwrap(), None);
        assert_eq!(Description::parse(Some("  ")).unwrap(), None);
        assert_eq!(
            Description::parse(Some(" Кофе "))
                .unwrap()
                .unwrap()
                .as_str(),
            "Кофе"
        );
        assert!(Description::parse(Some(&"x".repeat(141))).is_err());
        assert!(Description::parse(Some("a\tb")).is_err());
    }
}
