//! No English left on Russian console pages: every page, rendered in Russian for an admin (and
//! the sign-in page for a visitor), has no Latin-script word in its visible text outside an
//! allow-list (brand and bank names, technical terms given as a hint beside a Russian label).
//! Ids, keys and codes stand in `<code>` and are not words of the page.

use crate::both_backends;
use crate::cli_audit::qrpay;
use crate::console_support::{ask, confirm, rename_store};
use crate::helpers::TestApp;
use crate::helpers::console::Console;
use serde_json::json;

both_backends!(russian_console_pages_have_no_english_words);

/// Latin words a Russian page may show: names, and terms given as a hint beside a Russian label.
const ALLOWED: &[&str] = &[
    "qrpay",
    "QR",
    "SBP",
    "RabbitMQ",
    "Raiffeisen",
    "raiffeisen",
    "sandbox",
    "ESC",
    "POS",
    "PNG",
    "SVG",
    "CSV",
    "IANA",
    "sbpMerchantId",
    "API",
    "RU",
    "EN",
    "English",
    "amqp",
    "https",
    "http",
    "doctor",
    // «Журнал»: a change made on the command line, as the issue names it.
    "CLI",
    // The test's own data: the signed-in user's login in the header.
    "root",
];

/// The visible text of a page: text between tags, plus what people read or hear in attributes
/// (`placeholder`, `aria-label`), without scripts, styles and `<code>`. A `title` is where a
/// Russian label keeps its technical term as a hint, so it is not read.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        out.push(' ');
        let Some(gt) = rest[lt..].find('>') else {
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        for attr in ["placeholder=\"", "aria-label=\""] {
            if let Some(at) = tag.find(attr) {
                let value = &tag[at + attr.len()..];
                out.push_str(value.split('"').next().unwrap_or(""));
                out.push(' ');
            }
        }
        rest = &rest[lt + gt + 1..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if ["script", "style", "code", "textarea"].contains(&name.to_ascii_lowercase().as_str()) {
            let close = format!("</{name}");
            rest = rest.find(&close).map_or("", |end| &rest[end..]);
        }
    }
    out.push_str(rest);
    for (entity, ch) in [
        ("&quot;", "\""),
        ("&#x27;", "'"),
        ("&#39;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&nbsp;", " "),
        ("&amp;", "&"),
    ] {
        out = out.replace(entity, ch);
    }
    out
}

/// The Latin words of `text` that are not allowed. A token with a digit is an id (`till-1`), one
/// with `/` or `@` an address or path: data, not words of the page.
fn english_words(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split(|c: char| c.is_whitespace() || "()[]{}«»,;:!?\"'·—–|=<>*+%&".contains(c))
        .map(|w| w.trim_matches(|c: char| c == '.' || c == '-'))
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        // «QR-код»: a Russian word with a Latin name in it.
        .filter(|w| {
            !w.chars()
                .any(|c| matches!(c, 'а'..='я' | 'А'..='Я' | 'ё' | 'Ё'))
        })
        .filter(|w| {
            !w.chars()
                .any(|c| c.is_ascii_digit() || c == '/' || c == '@')
        })
        .filter(|w| !ALLOWED.contains(w))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

async fn russian_console_pages_have_no_english_words(app: TestApp) {
    // Something on every page: a paid payment with a refund, a till.
    let id = app.paid_payment(12_345).await;
    let r = app.refund(&id, json!({"amount": 2345})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let c = Console::new(&app);
    let login = c.get("/console/login", None).await;
    let mut pages = vec![("/console/login".to_owned(), login.body)];
    let s = c.user("root", "admin").await;

    // Full transaction pages and a full «Журнал»: a payment the till cancelled and the customer
    // paid after all (refunded by qrpay itself), one cancelled in the console, a bank asked
    // about a pending one, the store's settings and a till changed in the console and from the
    // command line.
    let late = app.create_payment(2_000).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.cancel(&late).await.body["status"], "cancelled");
    assert_eq!(app.pay(&late).await.body["late"], true);
    let cancelled = app.create_payment(3_000).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (question, token) = ask(
        &c,
        &s,
        "cancel_payment",
        &cancelled,
        &[("payment_id", &cancelled)],
    )
    .await;
    pages.push((
        format!("/console/transactions/{cancelled} (question)"),
        question,
    ));
    let done = confirm(&c, &s, &cancelled, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    pages.push((
        format!("/console/transactions/{cancelled} (done)"),
        c.follow(&done, &s).await,
    ));
    let pending = app.create_payment(4_000).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, token) = ask(&c, &s, "ask_bank", &pending, &[("payment_id", &pending)]).await;
    let done = confirm(&c, &s, &pending, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    pages.push((
        format!("/console/transactions/{pending} (asked)"),
        c.follow(&done, &s).await,
    ));
    rename_store(&app, &c, &s).await;
    qrpay(
        &app,
        &["till", "add", "--name", "Киоск 2", "--kind", "kiosk"],
        "",
    )
    .await;
    qrpay(
        &app,
        &[
            "till",
            "set",
            "Киоск 2",
            "--rename",
            "Киоск 3",
            "--language",
            "en",
            "--outputs",
            "screen",
        ],
        "",
    )
    .await;

    for path in [
        "/console",
        "/console/transactions",
        &format!("/console/transactions/{id}"),
        &format!("/console/transactions/{late}"),
        &format!("/console/transactions/{cancelled}"),
        "/console/store",
        "/console/auth-servers",
        "/console/payment-types",
        "/console/tills",
        "/console/tills?edit=1",
        "/console/static-qrs",
        "/console/modules",
        "/console/users",
        "/console/reconcile",
        "/console/audit",
        "/console/health",
    ] {
        let page = c.get(path, Some(&s)).await;
        assert_eq!(page.status, 200, "{path}");
        pages.push((path.to_owned(), page.body));
    }
    let journal = &pages.iter().find(|p| p.0 == "/console/audit").unwrap().1;
    for (what, needle) in [
        ("a console cancel", ">отмена оплаты<"),
        ("the bank asked", ">запрос в банк<"),
        ("the command line", "data-testid=\"who\">CLI<"),
        ("qrpay itself", "data-testid=\"who\">qrpay (автоматически)<"),
    ] {
        assert!(
            journal
                .replace("<!---->", "")
                .replace("<!>", "")
                .contains(needle),
            "the journal has {what}: {journal}"
        );
    }
    let mut english = Vec::new();
    for (path, html) in &pages {
        assert!(html.contains("lang=\"ru\""), "{path} is not Russian");
        let words = english_words(&visible_text(html));
        if !words.is_empty() {
            english.push(format!("{path}: {}", words.join(" ")));
        }
    }
    assert!(
        english.is_empty(),
        "English words on Russian pages:\n{}",
        english.join("\n")
    );
}

#[test]
fn the_checker_finds_english_outside_code_and_names() {
    let html =
        "<p title=\"Order\">Заказ (order) <code>q01ABC</code> qrpay</p><script>let x</script>";
    assert_eq!(english_words(&visible_text(html)), vec!["order"]);
    assert!(english_words(&visible_text("<p>Касса till-1 · RabbitMQ</p>")).is_empty());
}
