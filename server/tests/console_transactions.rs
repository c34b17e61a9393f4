//! The console's transactions journey over HTTP: filters, pages, totals, CSV, the detail page and
//! refunds (confirmation, errors beside the field, roles, a double submit refunding once).

use crate::both_backends;
use crate::console_support::{ask, confirm};
use crate::helpers::console::{Console, add_user, listed, text_of, urlencode};
use crate::helpers::{TestApp, new_key};
use app::error::ConsoleError;
use app::i18n::Msg;
use serde_json::json;

/// A payment with its own receipt; paid when `pay`.
async fn payment(app: &TestApp, amount: i64, receipt: &str, pay: bool) -> String {
    let r = app
        .create_payment_raw(
            &json!({"amount": amount, "receipt": receipt}).to_string(),
            &new_key(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_owned();
    if pay {
        assert_eq!(app.pay(&id).await.body["status"], "paid");
    }
    id
}

async fn refund_count(app: &TestApp, payment_id: &str) -> usize {
    qrpay::db::refund::refunds_of(&app.db, payment_id)
        .await
        .unwrap()
        .len()
}

fn today_in_moscow() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .format("%Y-%m-%d")
        .to_string()
}

async fn each_filter_narrows_the_list_and_its_totals_and_a_bad_value_is_named_and_ignored(
    app: TestApp,
) {
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    let a = payment(&app, 10_000, "R-A", true).await;
    let b = payment(&app, 25_050, "R-B", true).await;
    let p = payment(&app, 4_000, "R-C", false).await;
    let page = |q: String| {
        let c = &c;
        let s = s.clone();
        // Sandbox payments are test ones: the totals count them only when asked.
        async move {
            c.get(&format!("/console/transactions?{q}&test=1"), Some(&s))
                .await
        }
    };
    let ids = |body: &str| {
        let mut v = listed(body);
        v.sort();
        v
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };

    let all = page(String::new()).await;
    assert_eq!(all.status, 200);
    assert_eq!(
        listed(&all.body),
        [p.clone(), b.clone(), a.clone()],
        "newest first"
    );
    assert_eq!(text_of(&all.body, "total-count").as_deref(), Some("3"));

    let paid = page("status=paid".into()).await.body;
    assert_eq!(ids(&paid), sorted(vec![&a, &b]));
    assert_eq!(text_of(&paid, "total-count").as_deref(), Some("2"));
    assert_eq!(
        text_of(&paid, "total-amount").as_deref(),
        Some("350,50\u{a0}₽")
    );

    assert_eq!(ids(&page("min=200".into()).await.body), vec![b.clone()]);
    assert_eq!(
        ids(&page("max=100%2C00".into()).await.body),
        sorted(vec![&a, &p])
    );
    assert_eq!(ids(&page("q=R-B".into()).await.body), vec![b.clone()]);
    let order_ref = qrpay::db::payment::get_payment(&app.db, &a)
        .await
        .unwrap()
        .unwrap()
        .order_ref;
    assert_eq!(
        ids(&page(format!("q={order_ref}")).await.body),
        vec![a.clone()]
    );
    let till = qrpay::db::payment::get_payment(&app.db, &a)
        .await
        .unwrap()
        .unwrap()
        .till_id;
    assert_eq!(listed(&page(format!("till={till}")).await.body).len(), 3);
    let today = today_in_moscow();
    assert_eq!(
        listed(&page(format!("from={today}&to={today}")).await.body).len(),
        3
    );
    let old = page("from=2001-01-01&to=2001-01-31".into()).await.body;
    assert!(listed(&old).is_empty());
    assert_eq!(text_of(&old, "total-count").as_deref(), Some("0"));

    // Bad values: a message beside the field, the list not filtered by it.
    for (q, field) in [
        ("status=bogus", "status"),
        ("from=2026-13-40", "from"),
        ("till=999999", "till"),
        ("min=abc", "min"),
        ("after=garbage", "after"),
    ] {
        let body = page(q.into()).await.body;
        assert!(
            body.contains(&format!("data-testid=\"error-{field}\"")),
            "{q}"
        );
        assert_eq!(listed(&body).len(), 3, "{q}");
    }
    // Typed HTML stays text.
    let body = page("q=%3Cscript%3Ex%3C%2Fscript%3E".into()).await.body;
    assert!(!body.contains("<script>x"));
}

async fn the_next_link_carries_the_last_row_and_pages_do_not_overlap(app: TestApp) {
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    let mut made = Vec::new();
    for i in 0..52 {
        made.push(payment(&app, 100 + i, &format!("R-{i}"), false).await);
    }
    let first = c
        .get("/console/transactions?status=pending&test=1", Some(&s))
        .await
        .body;
    let one = listed(&first);
    assert_eq!(one.len(), 50);
    assert_eq!(text_of(&first, "total-count").as_deref(), Some("52"));
    let href = first
        .split("data-testid=\"next-page\"")
        .next()
        .and_then(|b| b.rsplit("href=\"").next())
        .map(|h| h[..h.find('"').unwrap()].replace("&amp;", "&"))
        .expect("a next link");
    assert!(
        href.contains("status=pending") && href.contains("test=1") && href.contains("after="),
        "{href}"
    );
    let second = c.get(&href, Some(&s)).await.body;
    let two = listed(&second);
    assert_eq!(two.len(), 2);
    assert_eq!(text_of(&second, "total-count").as_deref(), Some("52"));
    assert!(!second.contains("data-testid=\"next-page\""));
    let mut all: Vec<String> = one.into_iter().chain(two).collect();
    all.sort();
    all.dedup();
    made.sort();
    assert_eq!(all, made);
}

async fn the_csv_export_holds_the_whole_filter_with_a_header_and_dotted_amounts(app: TestApp) {
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    let a = payment(&app, 123_456, "R;1", true).await;
    payment(&app, 500, "R-2", false).await;
    let r = c
        .http
        .get(format!("{}/console/transactions.csv?status=paid", app.base))
        .header(reqwest::header::COOKIE, &s)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()[reqwest::header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with("created_at;payment_id;status;amount;refunded;receipt"));
    let cells: Vec<&str> = lines[1].split(';').collect();
    assert_eq!(cells[1], a);
    assert_eq!(cells[2], "paid");
    assert_eq!(cells[3], "1234.56");
    assert_eq!(cells[4], "0.00");
    assert!(lines[1].contains("\"R;1\""), "{}", lines[1]);
    // Without a session: the login page.
    let anon = c.get("/console/transactions.csv", None).await;
    assert!(matches!(anon.status, 302 | 303), "{}", anon.status);
    assert!(
        anon.location.ends_with("/console/login"),
        "{}",
        anon.location
    );
}

async fn the_detail_page_shows_amounts_ids_qr_timeline_and_a_pending_one_refreshes(app: TestApp) {
    add_user(&app, "sofia", "support").await;
    let c = Console::new(&app);
    let s = c.session_of("sofia").await;
    let paid = payment(&app, 5_000, "R-D", true).await;
    let row = qrpay::db::payment::get_payment(&app.db, &paid)
        .await
        .unwrap()
        .unwrap();
    let page = c
        .get(&format!("/console/transactions/{paid}"), Some(&s))
        .await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert_eq!(text_of(body, "payment-id").as_deref(), Some(paid.as_str()));
    assert_eq!(
        text_of(body, "order-ref").as_deref(),
        Some(row.order_ref.as_str())
    );
    assert_eq!(text_of(body, "qr-id").as_deref(), row.qr_id.as_deref());
    assert_eq!(text_of(body, "left").as_deref(), Some("50,00\u{a0}₽"));
    // Paid: the QR is over, shown greyed and unscannable.
    assert!(!body.contains("data-testid=\"qr-preview\""));
    assert_eq!(
        text_of(body, "qr-void-label").as_deref(),
        Some("не действует")
    );
    assert_eq!(text_of(body, "detail-status").as_deref(), Some("оплачена"));
    // The timeline in words.
    let clean = body.replace("<!---->", "").replace("<!>", "");
    let till = text_of(body, "till").unwrap();
    for line in [
        format!("Создана кассой {till}"),
        "Банк выдал QR".to_owned(),
        "Покупатель оплатил".to_owned(),
    ] {
        assert!(
            clean.contains(&format!("data-testid=\"timeline-text\">{line}<")),
            "{line}: {clean}"
        );
    }
    assert!(body.contains("data-testid=\"refund-form\""));
    assert!(!body.contains("http-equiv=\"refresh\""));

    let pending = payment(&app, 700, "R-E", false).await;
    let body = c
        .get(&format!("/console/transactions/{pending}"), Some(&s))
        .await
        .body;
    assert!(body.contains("http-equiv=\"refresh\""), "{body}");
    assert!(body.contains("data-testid=\"qr-preview\"") && body.contains("<svg"));
    assert!(!body.contains("data-testid=\"qr-void\""));
    assert!(!body.contains("data-testid=\"refund-form\""));

    let missing = c.get("/console/transactions/nope", Some(&s)).await;
    assert_eq!(missing.status, 404, "an unknown payment is a 404 page");
    assert!(missing.body.contains("data-testid=\"detail-error\""));
}

async fn refund_asks_for_confirmation_then_refunds_once_even_when_sent_twice(app: TestApp) {
    add_user(&app, "sofia", "support").await;
    let c = Console::new(&app);
    let s = c.session_of("sofia").await;
    let id = payment(&app, 5_000, "R-F", true).await;
    let from = format!("/console/transactions/{id}");
    let form = [
        ("payment_id", id.as_str()),
        ("mode", "part"),
        ("amount", "12,50"),
        ("reason", "сломан"),
    ];
    let (question, token) = ask(&c, &s, "refund_payment", &id, &form).await;
    assert_eq!(
        refund_count(&app, &id).await,
        0,
        "nothing before confirmation"
    );
    assert_eq!(
        text_of(&question, "refund-question").as_deref(),
        Some("Вернуть 12,50\u{a0}₽?")
    );
    assert_eq!(
        text_of(&question, "confirm-reason").as_deref(),
        Some("сломан")
    );

    let done = confirm(&c, &s, &id, &token).await;
    assert_eq!(done.status, 302);
    assert!(
        done.location.ends_with(&format!("{from}?done=refund")),
        "{} {:?}",
        done.location,
        done.error()
    );
    let again = confirm(&c, &s, &id, &token).await;
    assert_eq!(again.form_message(), Some(Msg::ConfirmationGone));
    assert_eq!(
        refund_count(&app, &id).await,
        1,
        "a double submit refunds once"
    );
    let row = qrpay::db::payment::get_payment(&app.db, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.refunded_amount, 1250);

    // Two sends of one confirmation at the same moment: still one refund.
    let (_, token) = ask(&c, &s, "refund_payment", &id, &form).await;
    let (x, y) = tokio::join!(confirm(&c, &s, &id, &token), confirm(&c, &s, &id, &token));
    let gone = [&x, &y]
        .iter()
        .filter(|a| a.form_message() == Some(Msg::ConfirmationGone))
        .count();
    assert!(gone <= 1, "{:?} {:?}", x.error(), y.error());
    assert_eq!(
        refund_count(&app, &id).await,
        2,
        "one refund for the racing pair"
    );
    let row = qrpay::db::payment::get_payment(&app.db, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.refunded_amount, 2500);

    let page = c.get(&format!("{from}?done=refund"), Some(&s)).await.body;
    assert!(page.contains("data-testid=\"refund-done\""));
    assert_eq!(text_of(&page, "left").as_deref(), Some("25,00\u{a0}₽"));
    assert_eq!(page.matches("data-testid=\"refund-row\"").count(), 2);
    assert_eq!(
        text_of(&page, "detail-status").as_deref(),
        Some("возвращена частично")
    );

    // The rest, in full: the question names what is left.
    let full = [("payment_id", id.as_str()), ("mode", "full")];
    let (question, token) = ask(&c, &s, "refund_payment", &id, &full).await;
    assert_eq!(
        text_of(&question, "refund-question").as_deref(),
        Some("Вернуть 25,00\u{a0}₽?")
    );
    let done = confirm(&c, &s, &id, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    let row = qrpay::db::payment::get_payment(&app.db, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.refunded_amount, 5000);
    let page = c.get(&from, Some(&s)).await.body;
    assert_eq!(
        text_of(&page, "detail-status").as_deref(),
        Some("возвращена полностью")
    );
    assert!(
        !page.contains("data-testid=\"qr-preview\""),
        "an ended payment's QR is not drawn"
    );
    assert_eq!(
        text_of(&page, "qr-void-label").as_deref(),
        Some("не действует")
    );
}

async fn refund_errors_stand_beside_the_amount_and_change_nothing(app: TestApp) {
    add_user(&app, "adam", "admin").await;
    let c = Console::new(&app);
    let s = c.session_of("adam").await;
    let id = payment(&app, 1_000, "R-G", true).await;
    let pending = payment(&app, 1_000, "R-H", false).await;
    let field = |a: &crate::helpers::console::Answer| match a.error() {
        Some(ConsoleError::Invalid(f)) => (f.error("amount"), f.value("amount")),
        other => panic!("{other:?}"),
    };
    for (pid, mode, amount, msg) in [
        (&id, "part", "abc", Msg::RefundBadAmount),
        (&id, "part", "0", Msg::RefundBadAmount),
        (&id, "part", "10,01", Msg::RefundExceedsLeft),
        (&pending, "full", "", Msg::RefundNotPaid),
    ] {
        let a = c
            .post(
                "/console/fn/refund_payment",
                &format!("/console/transactions/{pid}"),
                &[
                    ("payment_id", pid.as_str()),
                    ("mode", mode),
                    ("amount", amount),
                ],
                Some(&s),
            )
            .await;
        assert_eq!(field(&a), (Some(msg), Some(amount.to_owned())), "{amount}");
        let page = c.follow(&a, &s).await;
        if pid == &id {
            assert!(page.contains("data-testid=\"error-amount\""), "{amount}");
            assert!(page.contains(&format!(
                "value=\"{}\"",
                urlencode(amount).replace("%2C", ",")
            )));
            assert!(!page.contains("name=\"token\""), "no confirmation");
        }
    }
    assert_eq!(refund_count(&app, &id).await, 0);
    assert_eq!(refund_count(&app, &pending).await, 0);
}

async fn a_viewer_sees_no_refund_form_and_the_server_refuses_the_refund(app: TestApp) {
    add_user(&app, "vera", "viewer").await;
    let c = Console::new(&app);
    let s = c.session_of("vera").await;
    let id = payment(&app, 1_000, "R-I", true).await;
    let from = format!("/console/transactions/{id}");
    let page = c.get(&from, Some(&s)).await.body;
    assert!(!page.contains("data-testid=\"refund-form\""));
    let a = c
        .post(
            "/console/fn/refund_payment",
            &from,
            &[("payment_id", id.as_str()), ("mode", "full")],
            Some(&s),
        )
        .await;
    assert_eq!(a.error(), Some(ConsoleError::Forbidden));
    let a = c
        .post(
            "/console/fn/confirm_action",
            &from,
            &[("payment_id", id.as_str()), ("token", "0123456789abcdef")],
            Some(&s),
        )
        .await;
    assert_eq!(a.error(), Some(ConsoleError::Forbidden));
    assert_eq!(refund_count(&app, &id).await, 0);
}

async fn every_refund_from_a_till_or_the_console_is_audited_with_who_asked_for_it(app: TestApp) {
    add_user(&app, "sofia", "support").await;
    let c = Console::new(&app);
    let s = c.session_of("sofia").await;
    let id = payment(&app, 5_000, "R-J", true).await;
    let till = app
        .refund(&id, json!({"amount": 1_000, "reason": "брак"}))
        .await;
    assert_eq!(till.status, 201, "{}", till.body);
    let till_refund = till.body["id"].as_str().unwrap().to_owned();
    let form = [
        ("payment_id", id.as_str()),
        ("mode", "part"),
        ("amount", "12,50"),
        ("reason", "<b>сдача</b>"),
    ];
    let (_, token) = ask(&c, &s, "refund_payment", &id, &form).await;
    let done = confirm(&c, &s, &id, &token).await;
    assert!(done.error().is_none(), "{:?}", done.error());
    // A refused refund records nothing.
    let refused = app.refund(&id, json!({"amount": 1_000_000})).await;
    assert_eq!(refused.status, 409, "{}", refused.body);

    let refunds = qrpay::db::refund::refunds_of(&app.db, &id).await.unwrap();
    assert_eq!(refunds.len(), 2);
    let till_id = refunds
        .iter()
        .find(|r| r.refund_id == till_refund)
        .unwrap()
        .till_id
        .unwrap();
    let till_name = qrpay::db::till::list_tills(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.till_id == till_id)
        .unwrap()
        .name;
    let console_refund = refunds.iter().find(|r| r.refund_id != till_refund).unwrap();
    let mut rows: Vec<_> = qrpay::db::audit::latest(&app.db, 1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "refund")
        .collect();
    rows.reverse();
    assert_eq!(rows.len(), 2, "one audit row per refund");
    let after = |i: usize| -> serde_json::Value {
        serde_json::from_str(rows[i].after.as_deref().unwrap()).unwrap()
    };
    assert_eq!(rows[0].login, format!("till:{till_name}"));
    assert_eq!(rows[0].app_user_id, None);
    assert_eq!(
        (rows[0].entity.as_str(), rows[0].entity_id.as_str()),
        ("payment", id.as_str())
    );
    assert_eq!(
        after(0),
        json!({"payment_id": id, "refund_id": till_refund, "amount": 1_000, "reason": "брак"})
    );
    assert_eq!(rows[1].login, "sofia");
    assert!(rows[1].app_user_id.is_some());
    assert_eq!(
        after(1),
        json!({"payment_id": id, "refund_id": console_refund.refund_id, "amount": 1_250,
               "reason": "<b>сдача</b>"})
    );

    // The journal tells them as sentences, not JSON.
    let page = c.get("/console/audit", Some(&s)).await.body;
    assert_eq!(page.matches("data-kind=\"refund\"").count(), 2);
    assert!(page.contains("10,00\u{a0}₽"));
    assert!(page.contains("12,50\u{a0}₽"));
    assert!(
        page.contains("&lt;b&gt;сдача&lt;/b&gt;"),
        "a reason is text"
    );
    assert!(page.contains(&format!("касса {till_name}")));
    assert!(page.contains(&format!("href=\"/console/transactions/{id}\"")));
    assert!(page.contains(&console_refund.refund_id));
}

both_backends!(
    every_refund_from_a_till_or_the_console_is_audited_with_who_asked_for_it,
    each_filter_narrows_the_list_and_its_totals_and_a_bad_value_is_named_and_ignored,
    the_next_link_carries_the_last_row_and_pages_do_not_overlap,
    the_csv_export_holds_the_whole_filter_with_a_header_and_dotted_amounts,
    the_detail_page_shows_amounts_ids_qr_timeline_and_a_pending_one_refreshes,
    refund_asks_for_confirmation_then_refunds_once_even_when_sent_twice,
    refund_errors_stand_beside_the_amount_and_change_nothing,
    a_viewer_sees_no_refund_form_and_the_server_refuses_the_refund,
);
