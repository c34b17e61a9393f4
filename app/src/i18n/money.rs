//! Money as its readers expect it.

use super::Lang;

/// Kopecks as `1 234,56 ₽` (Russian) or `₽1,234.56` (English). The Russian group separator is
/// a no-break space, so an amount never wraps.
pub fn format_money(kopecks: i64, lang: Lang) -> String {
    let sign = if kopecks < 0 { "-" } else { "" };
    let abs = kopecks.unsigned_abs();
    let (rub, kop) = (abs / 100, abs % 100);
    let digits = rub.to_string();
    let sep = match lang {
        Lang::Ru => '\u{a0}',
        Lang::En => ',',
    };
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(ch);
    }
    match lang {
        Lang::Ru => format!("{sign}{grouped},{kop:02}\u{a0}₽"),
        Lang::En => format!("{sign}₽{grouped}.{kop:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_with_a_comma_and_the_rouble_sign_in_russian() {
        assert_eq!(format_money(123_456, Lang::Ru), "1\u{a0}234,56\u{a0}₽");
        assert_eq!(format_money(5, Lang::Ru), "0,05\u{a0}₽");
        assert_eq!(
            format_money(100_000_000, Lang::Ru),
            "1\u{a0}000\u{a0}000,00\u{a0}₽"
        );
        assert_eq!(format_money(99_900, Lang::Ru), "999,00\u{a0}₽");
        assert_eq!(format_money(123_456, Lang::En), "₽1,234.56");
        assert_eq!(format_money(-150, Lang::Ru), "-1,50\u{a0}₽");
    }
}
