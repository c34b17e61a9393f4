//! How an amount and a deadline are written for the customer: on the QR page and on the receipt.

use chrono::{DateTime, FixedOffset, Utc};

/// Rubles with grouped thousands and a decimal comma, the Russian way: `1 234,56`. Groups are
/// separated by `sep` (a no-break space on screens, a plain space on receipts).
pub fn rubles(kopecks: i64, sep: &str) -> String {
    let sign = if kopecks < 0 { "-" } else { "" };
    let k = kopecks.unsigned_abs();
    let whole = (k / 100).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3 * sep.len());
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push_str(sep);
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped},{:02}", k % 100)
}

/// The store's UTC offset for the IANA zones of Russia, which have had no daylight saving time
/// since 2014, so a fixed offset is exact there; other zones fall back to UTC (and say so).
/// Avoids pulling a whole time-zone database into the binary for one line of text.
pub fn zone_offset(time_zone: &str) -> Option<FixedOffset> {
    let hours = match time_zone {
        "Europe/Kaliningrad" => 2,
        "Europe/Moscow" | "Europe/Simferopol" | "Europe/Kirov" | "Europe/Volgograd" => 3,
        "Europe/Samara" | "Europe/Astrakhan" | "Europe/Saratov" | "Europe/Ulyanovsk" => 4,
        "Asia/Yekaterinburg" => 5,
        "Asia/Omsk" => 6,
        "Asia/Novosibirsk" | "Asia/Barnaul" | "Asia/Tomsk" | "Asia/Novokuznetsk"
        | "Asia/Krasnoyarsk" => 7,
        "Asia/Irkutsk" => 8,
        "Asia/Yakutsk" | "Asia/Chita" | "Asia/Khandyga" => 9,
        "Asia/Vladivostok" | "Asia/Ust-Nera" => 10,
        "Asia/Magadan" | "Asia/Sakhalin" | "Asia/Srednekolymsk" => 11,
        "Asia/Kamchatka" | "Asia/Anadyr" => 12,
        "UTC" | "Etc/UTC" => 0,
        _ => return None,
    };
    FixedOffset::east_opt(hours * 3600)
}

/// `18:32 29.11.2026` in the store's time zone, with ` UTC` appended when the zone is unknown.
pub fn local_time(at: DateTime<Utc>, time_zone: &str) -> String {
    match zone_offset(time_zone) {
        Some(offset) => at
            .with_timezone(&offset)
            .format("%H:%M %d.%m.%Y")
            .to_string(),
        None => format!("{} UTC", at.format("%H:%M %d.%m.%Y")),
    }
}

/// `18:32` in the store's time zone (` UTC` appended when the zone is unknown): the page's deadline.
pub fn local_clock(at: DateTime<Utc>, time_zone: &str) -> String {
    match zone_offset(time_zone) {
        Some(offset) => at.with_timezone(&offset).format("%H:%M").to_string(),
        None => format!("{} UTC", at.format("%H:%M")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rubles_are_grouped_with_a_decimal_comma() {
        assert_eq!(rubles(123456, " "), "1 234,56");
        assert_eq!(rubles(1, " "), "0,01");
        assert_eq!(rubles(100, " "), "1,00");
        assert_eq!(rubles(99999, " "), "999,99");
        assert_eq!(
            rubles(100_000_000_000, "\u{a0}"),
            "1\u{a0}000\u{a0}000\u{a0}000,00"
        );
        assert_eq!(rubles(-123456, " "), "-1 234,56");
    }

    #[test]
    fn deadlines_are_shown_in_the_stores_zone() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T15:32:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_time(at, "Europe/Moscow"), "18:32 29.11.2026");
        assert_eq!(local_time(at, "Asia/Kamchatka"), "03:32 30.11.2026");
        assert_eq!(local_time(at, "America/New_York"), "15:32 29.11.2026 UTC");
        assert_eq!(local_clock(at, "Asia/Yekaterinburg"), "20:32");
    }
}
