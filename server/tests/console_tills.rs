//! «Кассы» in the console: renaming a till, its kind and its messages' language, the paper
//! fields only for a till that prints the QR, and «Последний запрос».

use crate::both_backends;
use crate::helpers::console::Console;
use crate::helpers::{TestApp, add_till, new_key};
use app::i18n::Msg;
use qrpay::db::till::till_by_key_hash;
use std::time::Duration;

both_backends!(
    an_admin_renames_a_till_sets_its_language_and_sees_when_it_was_last_seen,
    an_admin_issues_a_cash_link_sees_its_plate_and_a_bad_plate_id_is_told,
);

const TILLS_PAGE: &str = "/console/tills";

/// The text of the till row's cell `cell` (its `data-testid`).
fn cell(page: &str, till_id: i64, cell: &str) -> String {
    let row = &page[page
        .find(&format!(r#"data-id="{till_id}""#))
        .expect("the till's row")..];
    let at = row
        .find(&format!(r#"data-testid="{cell}""#))
        .expect("the cell");
    let text = &row[at..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find("</td>").unwrap()].to_owned()
}

async fn an_admin_renames_a_till_sets_its_language_and_sees_when_it_was_last_seen(app: TestApp) {
    let till = till_by_key_hash(&app.db, &qrpay::auth::till_key::hash(&app.key))
        .await
        .unwrap()
        .unwrap();
    add_till(&app.db, None, "Касса 2").await;
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let page = c.get(TILLS_PAGE, Some(&s)).await;
    assert_eq!(
        cell(&page.body, till.till_id, "last-seen"),
        Msg::NeverSeen.text(app::i18n::Lang::Ru)
    );
    assert!(cell(&page.body, till.till_id, "outputs").contains("мм"));

    app.get("/api/v1/payments?receipt=x").await;
    let mut seen = false;
    for _ in 0..40 {
        let page = c.get(TILLS_PAGE, Some(&s)).await;
        if cell(&page.body, till.till_id, "last-seen") != Msg::NeverSeen.text(app::i18n::Lang::Ru) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "«Последний запрос» shows the till's request");

    let id = till.till_id.to_string();
    let edit = c.get(&format!("{TILLS_PAGE}?edit={id}"), Some(&s)).await;
    assert!(edit.body.contains(r#"data-testid="edit-name-input""#));
    assert!(edit.body.contains(r#"class="receipt-only""#));
    let taken = c
        .post_fn(
            "save_till",
            &format!("{TILLS_PAGE}?edit={id}"),
            &[
                ("id", &id),
                ("name", "Касса 2"),
                ("kind", "till"),
                ("language", "ru"),
                ("screen", "on"),
            ],
            &s,
        )
        .await;
    assert_eq!(taken.field("name"), Some(Msg::NameTaken));
    assert_eq!(taken.kept("name").as_deref(), Some("Касса 2"));

    let ok = c
        .post_fn(
            "save_till",
            &format!("{TILLS_PAGE}?edit={id}"),
            &[
                ("id", &id),
                ("name", "Киоск у входа"),
                ("kind", "kiosk"),
                ("language", "en"),
                ("screen", "on"),
            ],
            &s,
        )
        .await;
    assert_eq!(ok.location, "/console/tills?done=saved", "{:?}", ok.error());
    let after = till_by_key_hash(&app.db, &qrpay::auth::till_key::hash(&app.key))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (after.name.as_str(), after.language.as_str()),
        ("Киоск у входа", "en")
    );
    let page = c.get(TILLS_PAGE, Some(&s)).await;
    assert_eq!(cell(&page.body, till.till_id, "name"), "Киоск у входа");
    assert_eq!(cell(&page.body, till.till_id, "kind"), "киоск");
    // A kiosk with only a screen has no paper to speak of.
    let outputs = cell(&page.body, till.till_id, "outputs");
    assert!(!outputs.contains("мм"), "{outputs}");
    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    assert_eq!(
        (audit[0].entity.as_str(), audit[0].action.as_str()),
        ("till", "update")
    );

    // The till now reads its messages in English without asking.
    let r = app
        .post_raw(
            "/api/v1/payments",
            Some(&app.key),
            Some(&new_key()),
            r#"{"amount": 0, "receipt": "R"}"#,
        )
        .await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("amount:"),
        "{}",
        r.body
    );
}

async fn an_admin_issues_a_cash_link_sees_its_plate_and_a_bad_plate_id_is_told(app: TestApp) {
    let till = till_by_key_hash(&app.db, &qrpay::auth::till_key::hash(&app.key))
        .await
        .unwrap()
        .unwrap();
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let list = c.get(TILLS_PAGE, Some(&s)).await;
    let page = format!("/console/tills/{}/cash-link", till.till_id);
    assert!(
        list.body.contains(&format!(r#"href="{page}""#)),
        "«Кассовая ссылка» from «Кассы»"
    );
    let empty = c.get(&page, Some(&s)).await;
    assert!(empty.body.contains(r#"data-testid="no-cash-link""#));
    let id = till.till_id.to_string();
    let issued = c
        .post_fn("issue_cash_link", &page, &[("id", &id)], &s)
        .await;
    assert_eq!(
        issued.location,
        format!("{page}?done=issued"),
        "{:?}",
        issued.error()
    );
    let shown = c.follow(&issued, &s).await;
    let link = qrpay::db::cash_link::cash_link_of_till(&app.db, till.till_id)
        .await
        .unwrap()
        .expect("the till has its link");
    assert!(shown.contains(r#"data-testid="plate""#));
    assert!(shown.contains(&link.qr_id));
    assert!(shown.contains(&format!("/cash-links/{}/plate.png", link.qr_id)));
    assert!(shown.contains(Msg::PayBySbp.text(app::i18n::Lang::Ru)));
    let bad = c
        .post_fn(
            "bind_cash_link",
            &page,
            &[("id", &id), ("qr_id", "не номер")],
            &s,
        )
        .await;
    assert_eq!(bad.field("qr_id"), Some(Msg::CashLinkBadPlate));
    assert_eq!(bad.kept("qr_id").as_deref(), Some("не номер"));
    let bound = c
        .post_fn(
            "bind_cash_link",
            &page,
            &[("id", &id), ("qr_id", "AV0123PLATE")],
            &s,
        )
        .await;
    assert_eq!(
        bound.location,
        format!("{page}?done=bound"),
        "{:?}",
        bound.error()
    );
    // While a payment holds the link, it cannot be replaced.
    let p = app.create_payment(100).await;
    assert!(
        p["qr"]["payload"].as_str().unwrap().contains("AV0123PLATE"),
        "{p}"
    );
    let busy = c
        .post_fn("issue_cash_link", &page, &[("id", &id)], &s)
        .await;
    assert_eq!(busy.form_message(), Some(Msg::CashLinkBusy));
    let audit = qrpay::db::audit::latest(&app.db, 1, 10).await.unwrap();
    assert_eq!(
        (audit[0].entity.as_str(), audit[0].action.as_str()),
        ("cash_link", "bound")
    );
}
