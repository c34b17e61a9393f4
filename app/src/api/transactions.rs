//! «Транзакции»: the filtered list and one payment's detail (its support actions: `support`).

use super::require;
use crate::backend::Role;
use crate::backend::transactions::{TransactionDetail, TransactionPage, TransactionQuery};
use crate::error::ConsoleError;
use leptos::prelude::*;

/// Rubles as people type them (`12`, `12,5`, `12.50`, `1 234,56`) in kopecks; `None` for
/// anything else (more than two decimals, signs, letters, absurdly large).
pub fn parse_rubles(s: &str) -> Option<i64> {
    let s: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let (rub, kop) = match s.split_once([',', '.']) {
        Some((r, k)) => (r, k),
        None => (s.as_str(), ""),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if rub.is_empty() || rub.len() > 12 || !digits(rub) || kop.len() > 2 || !digits(kop) {
        return None;
    }
    let kop = match kop.len() {
        0 => 0,
        1 => kop.parse::<i64>().ok()? * 10,
        _ => kop.parse::<i64>().ok()?,
    };
    Some(rub.parse::<i64>().ok()? * 100 + kop)
}

/// One page of the filtered transactions; every role may read them.
#[server(prefix = "/console/fn", endpoint = "search_transactions")]
pub async fn search_transactions(query: TransactionQuery) -> Result<TransactionPage, ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.search_transactions(&actor, &query).await
}

/// One payment with its timeline and refunds; every role may read it.
#[server(prefix = "/console/fn", endpoint = "get_transaction")]
pub async fn get_transaction(payment_id: String) -> Result<TransactionDetail, ConsoleError> {
    let (backend, actor) = require(Role::Viewer)?;
    backend.transaction_detail(&actor, &payment_id).await
}

#[cfg(test)]
mod tests {
    use super::parse_rubles;

    #[test]
    fn rubles_are_read_with_a_comma_or_a_dot_and_at_most_two_decimals() {
        assert_eq!(parse_rubles("12,50"), Some(1250));
        assert_eq!(parse_rubles("12.5"), Some(1250));
        assert_eq!(parse_rubles(" 1 234,56 "), Some(123456));
        assert_eq!(parse_rubles("7"), Some(700));
        assert_eq!(parse_rubles("0,01"), Some(1));
        for bad in ["", "abc", "-5", "1,234", "1.2.3", ",5", "1e3", "12,5a"] {
            assert_eq!(parse_rubles(bad), None, "{bad}");
        }
    }
}
