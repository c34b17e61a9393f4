//! Identifiers: qrpay's public ids, the bank-facing order/refund refs, and the till's idempotency key.

use super::InvalidValue;
use rand::RngCore;

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new public id: 48 bits of milliseconds (so ids sort by creation) then 80 random bits,
/// Crockford base32, 26 characters. The random part makes `/pay/{id}` links unguessable.
pub fn new_public_id() -> String {
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    public_id_at(chrono::Utc::now().timestamp_millis(), random)
}

/// The public id of an instant (ms since the epoch) and 80 random bits (`qrpay seed` gives its
/// rows ids of their own time, from its seeded generator).
pub fn public_id_at(millis: i64, random: [u8; 10]) -> String {
    let millis = millis.max(0) as u128;
    let mut value = millis << 80;
    for (i, b) in random.iter().enumerate() {
        value |= (*b as u128) << (8 * (9 - i));
    }
    let mut out = [0u8; 26];
    for i in (0..26).rev() {
        out[i] = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8(out.to_vec()).expect("BUG: base32 alphabet is ASCII")
}

fn looks_like_public_id(s: &str) -> bool {
    s.len() == 26 && s.bytes().all(|b| CROCKFORD.contains(&b))
}

macro_rules! public_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The id of a ", $what, " (see [`new_public_id`]).")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn new() -> Self {
                Self(new_public_id())
            }

            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                if looks_like_public_id(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(InvalidValue::new(concat!("not a ", $what, " id")))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

public_id!(PaymentId, "payment");
public_id!(RefundId, "refund");

/// The id qrpay gives the bank for an order or a refund: `[A-Za-z0-9_.-]{1,40}`, unique.
/// Generated, never taken from the till, so odd receipt numbers never reach the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRef(String);

impl OrderRef {
    pub fn generate(prefix: &str) -> Self {
        Self(format!("{prefix}{}", new_public_id()))
    }

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let ok = (1..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue::new(
                "order must be 1-40 characters of A-Z, a-z, 0-9, '_', '.', '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The till's `Idempotency-Key` header: 1–128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() || s.len() > 128 || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidValue::new(
                "Idempotency-Key must be 1-128 visible ASCII characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_are_26_chars_distinct_and_sorted_by_time() {
        let a = PaymentId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = PaymentId::new();
        assert_eq!(a.as_str().len(), 26);
        assert_ne!(a, b);
        assert!(a.as_str() < b.as_str());
        assert_eq!(PaymentId::parse(a.as_str()).unwrap(), a);
        assert!(PaymentId::parse("not-an-id").is_err());
        assert!(PaymentId::parse(&a.as_str().to_uppercase()).is_err());
    }

    #[test]
    fn order_refs_follow_the_bank_charset() {
        let generated = OrderRef::generate("q");
        assert!(OrderRef::parse(generated.as_str()).is_ok());
        assert!(OrderRef::parse("a.b-c_D9").is_ok());
        assert!(OrderRef::parse("").is_err());
        assert!(OrderRef::parse(&"x".repeat(41)).is_err());
        assert!(OrderRef::parse("чек").is_err());
        assert!(OrderRef::parse("a b").is_err());
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("till-7/receipt-42/try-1").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
    }
}
