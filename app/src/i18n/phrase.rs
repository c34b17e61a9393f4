//! Texts with values (`Phrase`): made where the reader's language is not known yet, said in it
//! where it is.

use super::{LOCALES, Lang, Msg};
use serde::{Deserialize, Serialize};

/// A message with its values, in no language yet: what a preflight check found, made where the
/// language is not known (`qrpay doctor` prints it in English, the console in the reader's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrase {
    pub msg: Msg,
    pub args: Vec<PhraseArg>,
}

/// A value of a [`Phrase`]: an address, path, code or error text (shown as code) or a name
/// people gave (shown as text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhraseArg {
    pub name: String,
    pub value: String,
    pub code: bool,
}

/// A piece of a [`Phrase`] on a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhrasePiece {
    Text(String),
    /// A value, or a command or setting the text has in backticks.
    Code(String),
}

impl Phrase {
    pub fn new(msg: Msg) -> Self {
        Self {
            msg,
            args: Vec::new(),
        }
    }

    /// With a technical value (an address, path, code, error text), shown as code.
    pub fn code(self, name: &str, value: impl ToString) -> Self {
        self.with(name, value.to_string(), true)
    }

    /// With a name people gave (a payment type's), shown as text.
    pub fn name(self, name: &str, value: impl ToString) -> Self {
        self.with(name, value.to_string(), false)
    }

    /// With a count or a quantity, shown as text.
    pub fn number(self, name: &str, value: impl Into<i128>) -> Self {
        self.with(name, value.into().to_string(), false)
    }

    fn with(mut self, name: &str, value: String, code: bool) -> Self {
        self.args.push(PhraseArg {
            name: name.to_owned(),
            value,
            code,
        });
        self
    }

    /// The plain text, commands still in backticks (`qrpay doctor`'s line).
    pub fn text(&self, lang: Lang) -> String {
        self.format(lang, |arg, _| arg.value.clone())
    }

    /// The text in pieces for a page: values and the `backticked` commands as code.
    pub fn pieces(&self, lang: Lang) -> Vec<PhrasePiece> {
        // Each value stands in the formatted text as a private-use mark with its index, so text
        // and values are told apart even when a value looks like text.
        let marked = self.format(lang, |_, i| format!("\u{e000}{i}\u{e001}"));
        let mut pieces = Vec::new();
        let mut push = |code: bool, s: &str| {
            if s.is_empty() {
                return;
            }
            match (pieces.last_mut(), code) {
                (Some(PhrasePiece::Code(last)), true) | (Some(PhrasePiece::Text(last)), false) => {
                    last.push_str(s)
                }
                _ => pieces.push(if code {
                    PhrasePiece::Code(s.to_owned())
                } else {
                    PhrasePiece::Text(s.to_owned())
                }),
            }
        };
        for (n, part) in marked.split('`').enumerate() {
            let quoted = n % 2 == 1;
            let mut rest = part;
            while let Some((before, after)) = rest.split_once('\u{e000}') {
                push(quoted, before);
                let (index, after) = after.split_once('\u{e001}').unwrap_or((after, ""));
                if let Some(arg) = index.parse::<usize>().ok().and_then(|i| self.args.get(i)) {
                    push(quoted || arg.code, &arg.value);
                }
                rest = after;
            }
            push(quoted, rest);
        }
        pieces
    }

    /// The text with each value as `value(arg, index)` gives it; the other language's text, else
    /// the key and values, when this one cannot be formatted.
    fn format(&self, lang: Lang, value: impl Fn(&PhraseArg, usize) -> String) -> String {
        use fluent_templates::fluent_bundle::FluentValue;
        let args: std::collections::HashMap<String, FluentValue> = self
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), FluentValue::from(value(a, i))))
            .collect();
        let other = match lang {
            Lang::Ru => Lang::En,
            Lang::En => Lang::Ru,
        };
        [lang, other]
            .into_iter()
            .find_map(|l| {
                LOCALES
                    .lookup_single_language(l.langid(), self.msg.id(), Some(&args))
                    .ok()
            })
            .unwrap_or_else(|| {
                let values: Vec<String> = self
                    .args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| value(a, i))
                    .collect();
                format!("{} {}", self.msg.id(), values.join(" "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_is_plain_text_for_the_command_line_and_pieces_for_a_page() {
        let p = Phrase::new(Msg::CheckNotMigrated)
            .number("count", 2u8)
            .code("first", "0007_static_qr");
        assert_eq!(
            p.text(Lang::En),
            "database not migrated: 2 migration(s) to apply (from 0007_static_qr): run `qrpay migrate` (or start qrpay, which migrates)"
        );
        let ru = p.pieces(Lang::Ru);
        assert_eq!(
            ru[..4],
            [
                PhrasePiece::Text(
                    "схема базы данных устарела: миграций к применению — 2 (начиная с ".into()
                ),
                PhrasePiece::Code("0007_static_qr".into()),
                PhrasePiece::Text("): выполните ".into()),
                PhrasePiece::Code("qrpay migrate".into()),
            ]
        );
        assert!(
            ru.contains(&PhrasePiece::Code("qrpay migrate".into())),
            "{ru:?}"
        );
        // A name is text; a backtick in a value does not open code.
        let p = Phrase::new(Msg::CheckTypeTest)
            .code("store", "main")
            .name("type", "СБП `QR`")
            .code("module", "sandbox");
        assert_eq!(
            p.pieces(Lang::Ru)[..4],
            [
                PhrasePiece::Text("магазин ".into()),
                PhrasePiece::Code("main".into()),
                PhrasePiece::Text(", вид оплаты «СБП `QR`» (".into()),
                PhrasePiece::Code("sandbox".into()),
            ]
        );
    }
}
