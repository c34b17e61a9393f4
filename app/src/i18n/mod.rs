//! The console's languages: typed message keys (`Msg`) whose texts live in Fluent files
//! (`app/locales/{ru,en}/console.ftl`, read by the `fluent-templates` crate), Russian first; texts
//! with values (`Phrase`); money as Russian readers expect it. The keys are listed by console
//! area, one file each (`transactions.rs` has those of «Транзакции»).

#[macro_use]
mod sign_in;
#[macro_use]
mod layout;
#[macro_use]
mod dashboard;
#[macro_use]
mod transactions;
#[macro_use]
mod support;
#[macro_use]
mod audit;
#[macro_use]
mod settings;
#[macro_use]
mod tills;
#[macro_use]
mod modules;
#[macro_use]
mod users;
#[macro_use]
mod reconcile;
#[macro_use]
mod static_qrs;
#[macro_use]
mod health;
mod money;
mod phrase;

pub use money::format_money;
pub use phrase::{Phrase, PhraseArg, PhrasePiece};

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of the `qrpay_lang` cookie, else the first supported one of
    /// `Accept-Language` by weight, else Russian.
    pub fn resolve(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = cookie.and_then(Lang::from_code) {
            return l;
        }
        let mut offers: Vec<(f32, Lang)> = accept_language
            .unwrap_or("")
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let primary = tag.split('-').next()?;
                let lang = Lang::from_code(primary)?;
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable sort keeps the header's order among equal weights.
        offers.sort_by(|a, b| b.0.total_cmp(&a.0));
        offers.first().map(|o| o.1).unwrap_or_default()
    }
}

// The console's texts: `app/locales/{ru,en}/console.ftl` (Fluent), built into the binary.
fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "ru",
        // No Unicode isolation marks around placeables: the texts go into HTML as they are.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

// The loader reads the files while compiling but does not tell cargo; these make an edit of a text
// rebuild the crate.
const _: &str = include_str!("../../locales/ru/console.ftl");
const _: &str = include_str!("../../locales/en/console.ftl");

static RU: fluent_templates::LanguageIdentifier = fluent_templates::langid!("ru");
static EN: fluent_templates::LanguageIdentifier = fluent_templates::langid!("en");

impl Lang {
    fn langid(self) -> &'static fluent_templates::LanguageIdentifier {
        match self {
            Lang::Ru => &RU,
            Lang::En => &EN,
        }
    }
}

/// Every text of both languages, looked up in the Fluent bundles once, at first use. The set is
/// fixed (one per `Msg`), so keeping them for the life of the process costs a few kilobytes and
/// lets pages borrow `&'static str` without a lookup per use.
static TEXTS: std::sync::LazyLock<[Vec<&'static str>; 2]> = std::sync::LazyLock::new(|| {
    use fluent_templates::Loader;
    [Lang::Ru, Lang::En].map(|lang| {
        Msg::ALL
            .iter()
            .map(|m| {
                let text = LOCALES
                    .try_lookup(lang.langid(), m.id())
                    // A missing text shows its key (a unit test keeps this from happening).
                    .unwrap_or_else(|| m.id().to_owned());
                &*Box::leak(text.into_boxed_str())
            })
            .collect()
    })
});

/// The end of the chain below: `Msg` and its lists from the keys every area's macro added (each
/// area's file has one: `sign_in_keys!` adds its keys and calls the next area's, the last calls
/// this).
macro_rules! messages {
    (; $($key:ident,)*) => {
        /// A message of the console. Errors carry these keys, not text, so a crafted error URL can
        /// only ever show the console's own words, in the reader's language. The texts are in
        /// `app/locales/*/console.ftl` under the key in kebab-case (`LoginTitle` → `login-title`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Msg { $($key),* }

        impl Msg {
            /// Every message, in declaration order (`Msg::X as usize` is its index).
            pub const ALL: &'static [Msg] = &[$(Msg::$key),*];
            const IDS: &'static [&'static str] = &[$(stringify!($key)),*];
        }
    };
}

// `Msg`: the keys of every area, gathered by each area's macro in turn.
sign_in_keys!(
    layout_keys,
    dashboard_keys,
    transactions_keys,
    support_keys,
    audit_keys,
    settings_keys,
    tills_keys,
    modules_keys,
    users_keys,
    reconcile_keys,
    static_qrs_keys,
    health_keys,
    messages;
);

impl Msg {
    /// The Fluent id of the message: its name in kebab-case.
    pub fn id(self) -> &'static str {
        static KEBAB: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
            Msg::IDS
                .iter()
                .map(|name| {
                    let mut id = String::new();
                    for (i, ch) in name.chars().enumerate() {
                        if ch.is_ascii_uppercase() && i > 0 {
                            id.push('-');
                        }
                        id.push(ch.to_ascii_lowercase());
                    }
                    &*Box::leak(id.into_boxed_str())
                })
                .collect()
        });
        KEBAB[self as usize]
    }

    pub fn text(self, lang: Lang) -> &'static str {
        TEXTS[lang as usize][self as usize]
    }
}

impl Msg {
    /// The message of this variant name (`"BankSaysPaid"`), as serde writes a `Msg`.
    pub fn from_name(name: &str) -> Option<Msg> {
        Msg::IDS
            .iter()
            .position(|n| *n == name)
            .map(|i| Msg::ALL[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `id = text` lines of a language's file.
    fn ftl_texts(lang: &str) -> Vec<(String, String)> {
        let path = format!("{}/locales/{lang}/console.ftl", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(" = "))
            .filter(|(id, _)| !id.starts_with('#') && !id.starts_with(' '))
            .map(|(id, text)| (id.to_owned(), text.to_owned()))
            .collect()
    }

    /// The `{ $name }`s of a text, sorted.
    fn placeholders(text: &str) -> Vec<String> {
        let mut names: Vec<String> = text
            .split("{ $")
            .skip(1)
            .filter_map(|rest| rest.split_once(" }").map(|(n, _)| n.to_owned()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn every_message_has_a_text_in_both_languages_and_no_text_is_left_over() {
        for lang in [Lang::Ru, Lang::En] {
            let texts = ftl_texts(lang.code());
            for m in Msg::ALL {
                let text = texts.iter().find(|(id, _)| id == m.id()).map(|(_, t)| t);
                assert!(
                    text.is_some_and(|t| !t.trim().is_empty()),
                    "{m:?} ({}) has no {} text",
                    m.id(),
                    lang.code()
                );
                // No fallback to the other language here: each file must have every text.
                if placeholders(text.unwrap()).is_empty() {
                    let text = LOCALES.lookup_single_language::<&str>(lang.langid(), m.id(), None);
                    assert!(text.is_ok(), "{m:?} cannot be formatted: {text:?}");
                }
            }
            let known: Vec<&str> = Msg::ALL.iter().map(|m| m.id()).collect();
            for (id, _) in &texts {
                assert!(
                    known.contains(&id.as_str()),
                    "{id} in {}.ftl is no Msg",
                    lang.code()
                );
            }
            let mut unique: Vec<&String> = texts.iter().map(|(id, _)| id).collect();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                texts.len(),
                "a key twice in {}.ftl",
                lang.code()
            );
        }
        assert_eq!(Msg::LoginTitle.id(), "login-title");
        assert_eq!(Msg::SignIn.text(Lang::Ru), "Войти");
        assert_eq!(Msg::SignIn.text(Lang::En), "Sign in");
    }

    #[test]
    fn both_languages_give_a_text_the_same_values() {
        let (ru, en) = (ftl_texts("ru"), ftl_texts("en"));
        for (id, text) in &ru {
            let english = en.iter().find(|(e, _)| e == id).map(|(_, t)| t.as_str());
            assert_eq!(
                placeholders(text),
                placeholders(english.unwrap_or("")),
                "{id}"
            );
        }
    }

    #[test]
    fn language_comes_from_the_cookie_then_accept_language_then_russian() {
        assert_eq!(Lang::resolve(Some("en"), Some("ru")), Lang::En);
        assert_eq!(Lang::resolve(Some("xx"), Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::resolve(None, Some("de, en;q=0.5, ru;q=0.8")),
            Lang::Ru
        );
        assert_eq!(Lang::resolve(None, Some("de, en;q=0.5")), Lang::En);
        assert_eq!(Lang::resolve(None, Some("en;q=0")), Lang::Ru);
        assert_eq!(Lang::resolve(None, None), Lang::Ru);
    }
}
