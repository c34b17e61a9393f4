//! The bank's registry of SBP C2B operations (Raiffeisen's daily report): CP1251 text (UTF-8 is
//! taken too), `;`-separated, a title line naming the day(s), an empty line, the column header,
//! one line per operation and a total line «ИТОГО». Columns are found by their header names, so a
//! registry with columns in another order still reads.

use chrono::{NaiveDate, NaiveDateTime};

/// What kind of operation a registry line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Payment,
    Refund,
}

/// One operation of the registry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    /// The line's number in the file (1-based), for messages.
    pub line_no: usize,
    pub merchant: String,
    /// Moscow time, as the bank writes it.
    pub at: NaiveDateTime,
    pub operation: Operation,
    /// The order id qrpay gave the bank (`order_ref`).
    pub order_ref: String,
    /// The refund id qrpay gave the bank (`refund_ref`), on refund lines.
    pub refund_ref: Option<String>,
    /// «Данные оплаты»: the QR id for QR payments.
    pub qr_id: Option<String>,
    /// Kopecks.
    pub amount: i64,
    /// The bank's fee, kopecks.
    pub fee: i64,
}

/// A registry as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    pub title: String,
    /// The days the registry covers: those its title names, else those of its lines.
    pub days: Vec<NaiveDate>,
    pub lines: Vec<Line>,
    /// The «ИТОГО» line's amount and fee (kopecks), when there is one.
    pub total: Option<(i64, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("no column header line (it starts with «Мерчант;»): is this the bank's registry?")]
    NoHeader,
    #[error("the column header has no «{0}» column")]
    MissingColumn(&'static str),
    #[error("line {line}: {why}")]
    BadLine { line: usize, why: String },
    #[error("the registry lists no operation and names no day")]
    Empty,
}

/// The header names of the columns read.
const MERCHANT: &str = "Мерчант";
const DATE: &str = "Дата операции МСК";
const KIND: &str = "Тип";
const ORDER: &str = "id заказа";
const REFUND: &str = "id возврата";
const PAYMENT_DATA: &str = "Данные оплаты";
const AMOUNT: &str = "Сумма";
const FEE: &str = "Комиссия";

/// The registry's text: UTF-8 when it is valid UTF-8 (a BOM is dropped), else CP1251.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned(),
    }
}

/// Reads a registry file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Registry, RegistryError> {
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut title = String::new();
    let mut columns: Option<Columns> = None;
    let mut lines = Vec::new();
    let mut total = None;
    for (i, record) in reader.records().enumerate() {
        let line_no = i + 1;
        let record = record.map_err(|e| RegistryError::BadLine {
            line: line_no,
            why: e.to_string(),
        })?;
        let field = |n: usize| record.get(n).map(str::trim).unwrap_or("");
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let Some(cols) = &columns else {
            if field(0) == MERCHANT {
                columns = Some(Columns::of(&record)?);
            } else if title.is_empty() {
                title = field(0).to_owned();
            }
            continue;
        };
        let bad = |why: String| RegistryError::BadLine { line: line_no, why };
        if field(0).to_uppercase().starts_with("ИТОГО") {
            total = Some((
                kopecks(field(cols.amount)).map_err(bad)?,
                cols.fee
                    .map(|f| kopecks_or_zero(field(f)))
                    .transpose()
                    .map_err(bad)?
                    .unwrap_or(0),
            ));
            continue;
        }
        let operation = match field(cols.kind).to_lowercase().as_str() {
            "payment" | "оплата" | "платеж" | "платёж" => Operation::Payment,
            "refund" | "возврат" => Operation::Refund,
            other => return Err(bad(format!("unknown operation type «{other}»"))),
        };
        let order_ref = field(cols.order).to_owned();
        if order_ref.is_empty() {
            return Err(bad("no order id".into()));
        }
        let refund_ref = cols
            .refund
            .map(|r| field(r).to_owned())
            .filter(|r| !r.is_empty());
        if operation == Operation::Refund && refund_ref.is_none() {
            return Err(bad("a refund line without a refund id".into()));
        }
        lines.push(Line {
            line_no,
            merchant: field(cols.merchant).to_owned(),
            at: moscow_time(field(cols.date)).map_err(bad)?,
            operation,
            order_ref,
            refund_ref,
            qr_id: cols
                .payment_data
                .map(|p| field(p).to_owned())
                .filter(|q| !q.is_empty()),
            amount: kopecks(field(cols.amount)).map_err(bad)?.abs(),
            fee: cols
                .fee
                .map(|f| kopecks_or_zero(field(f)))
                .transpose()
                .map_err(bad)?
                .unwrap_or(0),
        });
    }
    if columns.is_none() {
        return Err(RegistryError::NoHeader);
    }
    let mut days = days_named_in(&title);
    if days.is_empty() {
        days = lines.iter().map(|l| l.at.date()).collect();
        days.sort();
        days.dedup();
    }
    if days.is_empty() {
        return Err(RegistryError::Empty);
    }
    Ok(Registry {
        title,
        days,
        lines,
        total,
    })
}

/// Where each column read is.
struct Columns {
    merchant: usize,
    date: usize,
    kind: usize,
    order: usize,
    refund: Option<usize>,
    payment_data: Option<usize>,
    amount: usize,
    fee: Option<usize>,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Result<Self, RegistryError> {
        let find = |name: &'static str| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let need = |name: &'static str| find(name).ok_or(RegistryError::MissingColumn(name));
        Ok(Self {
            merchant: need(MERCHANT)?,
            date: need(DATE)?,
            kind: need(KIND)?,
            order: need(ORDER)?,
            refund: find(REFUND),
            payment_data: find(PAYMENT_DATA),
            amount: need(AMOUNT)?,
            fee: find(FEE),
        })
    }
}

/// `3806.00`, `3806,00`, `3 806.00`, `-15.5` → kopecks.
fn kopecks(text: &str) -> Result<i64, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let (negative, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.as_str()),
    };
    let (rubles, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let valid = !rubles.is_empty()
        && rubles.bytes().all(|b| b.is_ascii_digit())
        && fraction.len() <= 2
        && fraction.bytes().all(|b| b.is_ascii_digit());
    if !valid || rubles.len() > 15 {
        return Err(format!("«{text}» is not an amount"));
    }
    let rubles: i64 = rubles
        .parse()
        .map_err(|_| format!("«{text}» is not an amount"))?;
    let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
    let value = rubles * 100 + fraction;
    Ok(if negative { -value } else { value })
}

fn kopecks_or_zero(text: &str) -> Result<i64, String> {
    if text.is_empty() {
        Ok(0)
    } else {
        kopecks(text)
    }
}

/// `10.12.2020 0:23` (or with seconds) → the time as written (Moscow).
fn moscow_time(text: &str) -> Result<NaiveDateTime, String> {
    ["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .ok_or_else(|| format!("«{text}» is not a date (dd.mm.yyyy hh:mm)"))
}

/// Every `dd/mm/yyyy` in the title; with two or more, every day from the first to the last.
fn days_named_in(title: &str) -> Vec<NaiveDate> {
    let mut named: Vec<NaiveDate> = title
        .split(|c: char| !(c.is_ascii_digit() || c == '/'))
        .filter_map(|w| NaiveDate::parse_from_str(w, "%d/%m/%Y").ok())
        .collect();
    named.sort();
    named.dedup();
    match (named.first(), named.last()) {
        (Some(first), Some(last)) => first
            .iter_days()
            .take_while(|d| d <= last)
            .take(62)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &[u8] =
        include_bytes!("../../tests/data/raiffeisen-sbp-registry-example.cp1251.csv");

    #[test]
    fn the_banks_example_reads() {
        let r = parse(EXAMPLE).unwrap();
        assert_eq!(r.days, vec![NaiveDate::from_ymd_opt(2020, 12, 10).unwrap()]);
        assert_eq!(r.lines.len(), 2);
        let first = &r.lines[0];
        assert_eq!(first.merchant, "MA0000001234");
        assert_eq!(first.operation, Operation::Payment);
        assert_eq!(first.order_ref, "123594");
        assert_eq!(first.refund_ref, None);
        assert_eq!(
            first.qr_id.as_deref(),
            Some("AD10006CNPC123VU91QOFVNA560V6G37")
        );
        assert_eq!(first.amount, 380_600);
        assert_eq!(first.fee, 1_522);
        assert_eq!(
            first.at,
            NaiveDate::from_ymd_opt(2020, 12, 10)
                .unwrap()
                .and_hms_opt(0, 23, 0)
                .unwrap()
        );
        assert_eq!(r.total, Some((772_900, 3_091)));
    }

    #[test]
    fn amounts_read_in_every_way_the_bank_may_write_them() {
        assert_eq!(kopecks("3806.00"), Ok(380_600));
        assert_eq!(kopecks("3806,5"), Ok(380_650));
        assert_eq!(kopecks("3 806.01"), Ok(380_601));
        assert_eq!(kopecks("-15.22"), Ok(-1_522));
        assert_eq!(kopecks("12"), Ok(1_200));
        assert!(kopecks("1.234").is_err());
        assert!(kopecks("abc").is_err());
        assert!(kopecks("").is_err());
    }

    #[test]
    fn a_title_with_a_range_covers_every_day_of_it() {
        let days = days_named_in("report for 10/12/2020 - 12/12/2020 / Отчет");
        assert_eq!(days.len(), 3);
    }

    #[test]
    fn utf8_registries_and_refund_lines_read_too() {
        let text = "Отчет за 11/12/2020;;\n\nМерчант;Дата операции МСК;Тип;id заказа;id возврата;Сумма;Комиссия\n\
                    MA1;11.12.2020 10:00:05;Refund;o-1;r-1;-5.00;\n";
        let r = parse(text.as_bytes()).unwrap();
        assert_eq!(r.lines[0].operation, Operation::Refund);
        assert_eq!(r.lines[0].refund_ref.as_deref(), Some("r-1"));
        assert_eq!(r.lines[0].amount, 500);
        assert_eq!(r.total, None);
    }

    #[test]
    fn what_is_not_a_registry_is_refused_with_the_line() {
        assert_eq!(parse(b"a;b;c\n1;2;3\n"), Err(RegistryError::NoHeader));
        let bad =
            "t\nМерчант;Дата операции МСК;Тип;id заказа;Сумма\nMA1;yesterday;Payment;o;1.00\n";
        assert!(matches!(
            parse(bad.as_bytes()),
            Err(RegistryError::BadLine { line: 3, .. })
        ));
        let no_amount = "t\nМерчант;Дата операции МСК;Тип;id заказа\n";
        assert_eq!(
            parse(no_amount.as_bytes()),
            Err(RegistryError::MissingColumn("Сумма"))
        );
    }
}
