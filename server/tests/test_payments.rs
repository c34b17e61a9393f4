//! Test payments can never pass for money (issue 13 part 1): the `test` flag in the till API's
//! answers, in events and in the CSV; the dashboard's totals without them (a filter shows them);
//! the console's banner and badges; «ТЕСТ — это не оплата» on the customer page and the receipt;
//! the first-run type's name; and the payment type a till gets when it names none.

use crate::both_backends;
use crate::helpers::console::{Console, add_user, text_of};
use crate::helpers::db::{Arg, execute_with};
use crate::helpers::{TestApp, new_key};
use crate::providers::Harness;
use app::i18n::{Lang, format_money};
use qrpay::db::audit::Who;
use qrpay::db::payment_type::{self, PaymentTypeFields};
use qrpay::db::store::find_store;
use serde_json::{Value, json};

both_backends!(
    sandbox_payments_say_test_in_answers_events_and_the_csv,
    bank_payments_say_they_are_not_test,
    the_dashboard_counts_real_money_only_unless_the_filter_asks_for_test_payments,
    the_transactions_totals_count_real_money_only_unless_the_filter_asks_for_test_payments,
    a_red_banner_shows_while_a_test_payment_type_is_on_and_badges_mark_test_payments,
    the_customer_page_and_the_receipt_say_a_test_is_not_a_payment,
    a_till_that_names_no_payment_type_gets_its_own_default_then_the_stores_never_a_guess,
    the_command_line_sets_a_tills_and_the_stores_default_payment_type,
);

async fn create(app: &TestApp, body: Value) -> crate::helpers::Resp {
    app.create_payment_raw(&body.to_string(), &new_key()).await
}

/// The payloads of the outbox, parsed.
async fn events(app: &TestApp) -> Vec<Value> {
    qrpay::db::outbox::payloads(&app.db)
        .await
        .unwrap()
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}

async fn csv(app: &TestApp, session: &str) -> String {
    Console::new(app)
        .http
        .get(format!("{}/console/transactions.csv", app.base))
        .header(reqwest::header::COOKIE, session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn sandbox_payments_say_test_in_answers_events_and_the_csv(app: TestApp) {
    let p = app.create_payment(500).await;
    assert_eq!(p["test"], true, "{p}");
    assert_eq!(p["payment_type"], "СБП QR (тест)");
    let id = p["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/payments/{id}")).await.body["test"],
        true
    );
    let paid = app.paid_payment(1000).await;
    let r = app.refund(&paid, json!({"amount": 300})).await;
    assert_eq!(
        (r.status, &r.body["test"]),
        (201, &json!(true)),
        "{}",
        r.body
    );
    let found = app.get("/api/v1/payments?receipt=R-1").await;
    let found = found.body["payments"].as_array().unwrap();
    assert!(!found.is_empty());
    for p in found {
        assert_eq!(p["test"], true, "{p}");
    }

    let events = events(&app).await;
    assert!(events.len() >= 4, "{events:?}");
    for e in &events {
        let entity = if e["payment"].is_object() {
            "payment"
        } else {
            "refund"
        };
        assert_eq!(e[entity]["test"], true, "{e}");
    }

    add_user(&app, "vera", "viewer").await;
    let s = Console::new(&app).session_of("vera").await;
    let csv = csv(&app, &s).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(";test"), "{}", lines[0]);
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1..].iter().all(|l| l.ends_with(";true")), "{csv}");
}

async fn bank_payments_say_they_are_not_test(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let p = h.create(700, "normal").await;
    assert_eq!(p["test"], false, "{p}");
    let id = p["id"].as_str().unwrap();
    h.pay(id, false).await;
    let paid = h.wait(id, 10).await;
    assert_eq!(
        (&paid["status"], &paid["test"]),
        (&json!("paid"), &json!(false))
    );
    for e in events(&h.app).await {
        assert_eq!(e["payment"]["test"], false, "{e}");
    }
    add_user(&h.app, "vera", "viewer").await;
    let s = Console::new(&h.app).session_of("vera").await;
    let csv = csv(&h.app, &s).await;
    assert!(csv.lines().nth(1).unwrap().ends_with(";false"), "{csv}");
}

async fn the_dashboard_counts_real_money_only_unless_the_filter_asks_for_test_payments(
    app: TestApp,
) {
    let h = Harness::raiffeisen(app).await;
    let real = h.create(2_500, "normal").await;
    let real = real["id"].as_str().unwrap();
    h.pay(real, false).await;
    assert_eq!(h.wait(real, 10).await["status"], "paid");
    let test = h.app.paid_payment(1_000).await;

    add_user(&h.app, "vera", "viewer").await;
    let c = Console::new(&h.app);
    let s = c.session_of("vera").await;
    let page = c.get("/console", Some(&s)).await;
    assert_eq!(text_of(&page.body, "today-count").as_deref(), Some("1"));
    let money = |k| format_money(k, Lang::Ru);
    assert_eq!(text_of(&page.body, "today-amount"), Some(money(2_500)));
    assert!(page.body.contains(r#"data-testid="show-test""#));
    let with_test = c.get("/console?test=1", Some(&s)).await;
    assert_eq!(
        text_of(&with_test.body, "today-count").as_deref(),
        Some("2")
    );
    assert_eq!(text_of(&with_test.body, "today-amount"), Some(money(3_500)));
    assert!(with_test.body.contains(r#"data-testid="hide-test""#));
    // The transactions list shows both, the test one with its badge.
    let list = c.get("/console/transactions", Some(&s)).await;
    let row = |id: &str| {
        let at = list
            .body
            .find(&format!(r#"data-payment-id="{id}""#))
            .unwrap();
        let rest = &list.body[at..];
        rest[..rest.find("</tr>").unwrap()].to_owned()
    };
    assert!(row(&test).contains(r#"data-testid="test-badge""#));
    assert!(!row(real).contains(r#"data-testid="test-badge""#));
}

/// Moves a payment's creation `days` back (its day is then added up in `payment_day`).
async fn backdate(app: &TestApp, id: &str, days: i64) {
    let at = chrono::Utc::now() - chrono::Duration::days(days);
    execute_with(
        app,
        "update payment set created_at = $1 where payment_id = $2",
        &[Arg::Time(at), Arg::Text(id)],
    )
    .await;
}

async fn the_transactions_totals_count_real_money_only_unless_the_filter_asks_for_test_payments(
    app: TestApp,
) {
    let h = Harness::raiffeisen(app).await;
    // A real and a test payment today, and one of each three days ago (a closed day: its
    // totals come from `payment_day`).
    let mut real = Vec::new();
    for amount in [2_500, 4_000] {
        let p = h.create(amount, "normal").await;
        let id = p["id"].as_str().unwrap().to_owned();
        h.pay(&id, false).await;
        assert_eq!(h.wait(&id, 10).await["status"], "paid");
        real.push(id);
    }
    let test_today = h.app.paid_payment(1_000).await;
    let test_old = h.app.paid_payment(700).await;
    let r = h.app.refund(&test_old, json!({"amount": 200})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    backdate(&h.app, &real[1], 3).await;
    backdate(&h.app, &test_old, 3).await;

    add_user(&h.app, "vera", "viewer").await;
    let c = Console::new(&h.app);
    let s = c.session_of("vera").await;
    let money = |k| format_money(k, Lang::Ru);
    let totals = |body: &str| {
        (
            text_of(body, "total-count").unwrap(),
            text_of(body, "total-amount").unwrap(),
            text_of(body, "total-refunded").unwrap(),
        )
    };
    let day = (chrono::Utc::now() - chrono::Duration::days(3))
        .with_timezone(&chrono_tz::Europe::Moscow)
        .format("%Y-%m-%d")
        .to_string();
    for (filter, real_only, with_test) in [
        // The whole store: closed days from `payment_day`, today scanned.
        ("", (2, 6_500, 0), (4, 8_200, 200)),
        // One closed day only.
        (
            &*format!("from={day}&to={day}"),
            (1, 4_000, 0),
            (2, 4_700, 200),
        ),
        // A filter by amount scans the payments.
        ("min=5", (2, 6_500, 0), (4, 8_200, 200)),
    ] {
        let sep = if filter.is_empty() { "" } else { "&" };
        let page = c
            .get(&format!("/console/transactions?{filter}"), Some(&s))
            .await
            .body;
        let expect = |(n, amount, refunded): (i64, i64, i64)| {
            (n.to_string(), money(amount), money(refunded))
        };
        assert_eq!(totals(&page), expect(real_only), "{filter}");
        assert_eq!(
            text_of(&page, "totals-test")
                .map(|t| t.trim().to_owned())
                .as_deref(),
            Some("Тестовые оплаты не учтены."),
            "{filter}"
        );
        // The list still shows the test payments, with their badge.
        assert!(page.contains(&format!(r#"data-payment-id="{test_today}""#)) || !filter.is_empty());
        let page = c
            .get(
                &format!("/console/transactions?{filter}{sep}test=1"),
                Some(&s),
            )
            .await
            .body;
        assert_eq!(totals(&page), expect(with_test), "{filter} with test");
        assert!(
            page.contains(r#"data-testid="filter-test" checked"#)
                || page.contains(r#"checked data-testid="filter-test""#),
            "the box stays ticked"
        );
    }
}

async fn a_red_banner_shows_while_a_test_payment_type_is_on_and_badges_mark_test_payments(
    app: TestApp,
) {
    let paid = app.paid_payment(1_000).await;
    let c = Console::new(&app);
    let s = c.user("vera", "viewer").await;
    for path in ["/console", "/console/transactions"] {
        let page = c.get(path, Some(&s)).await;
        assert_eq!(
            text_of(&page.body, "test-types").as_deref(),
            Some("СБП QR (тест)"),
            "{path}"
        );
    }
    let detail = c
        .get(&format!("/console/transactions/{paid}"), Some(&s))
        .await;
    assert!(detail.body.contains(r#"data-testid="test-payment""#));

    // Switched off, the banner goes; the payment made on it stays a test payment.
    let store = find_store(&app.db, None).await.unwrap();
    let pt = payment_type::list_payment_types(&app.db).await.unwrap()[0].clone();
    payment_type::save_payment_type(
        &app.db,
        &Who::SEED,
        Some(pt.payment_type_id),
        PaymentTypeFields {
            store_id: store.store_id,
            auth_server_id: pt.auth_server_id,
            name: &pt.name,
            module: &pt.module,
            scan_customer_qr: false,
            enabled: false,
        },
    )
    .await
    .unwrap();
    let page = c.get("/console", Some(&s)).await;
    assert!(!page.body.contains(r#"data-testid="test-banner""#));
    let detail = c
        .get(&format!("/console/transactions/{paid}"), Some(&s))
        .await;
    assert!(detail.body.contains(r#"data-testid="test-badge""#));
}

async fn the_customer_page_and_the_receipt_say_a_test_is_not_a_payment(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let mark = qrpay::qr::escpos::cp866(qrpay::qr::escpos::TEST_MARK);
    let count = |b: &[u8]| {
        b.windows(mark.len())
            .filter(|w| *w == mark.as_slice())
            .count()
    };
    let test = h.app.create_payment(500).await;
    let real = h.create(500, "normal").await;
    for (p, is_test) in [(&test, true), (&real, false)] {
        let id = p["id"].as_str().unwrap();
        let page = h
            .app
            .client
            .get(format!("{}/pay/{id}", h.app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(page.contains("ТЕСТ — это не оплата"), is_test, "{page}");
        for text in ["1", "0"] {
            let bytes = h
                .app
                .client
                .get(format!(
                    "{}/api/v1/payments/{id}/qr.escpos?text={text}",
                    h.app.base
                ))
                .bearer_auth(&h.app.key)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(count(&bytes), if is_test { 2 } else { 0 }, "text={text}");
        }
    }
}

async fn a_till_that_names_no_payment_type_gets_its_own_default_then_the_stores_never_a_guess(
    app: TestApp,
) {
    let store = find_store(&app.db, None).await.unwrap();
    let first = payment_type::store_default_payment_type(&app.db, store.store_id)
        .await
        .unwrap()
        .expect("the first run sets the store's default");
    assert_eq!(first.1, "СБП QR (тест)");
    let server = payment_type::first_auth_server(&app.db, store.store_id)
        .await
        .unwrap();
    let add = |name: &'static str| {
        let db = app.db.clone();
        async move {
            payment_type::save_payment_type(
                &db,
                &Who::SEED,
                None,
                PaymentTypeFields {
                    store_id: store.store_id,
                    auth_server_id: server.auth_server_id,
                    name,
                    module: "sandbox",
                    scan_customer_qr: false,
                    enabled: true,
                },
            )
            .await
            .unwrap()
        }
    };
    let b = add("B").await;
    let c = add("C").await;
    let till = qrpay::db::till::list_tills(&app.db).await.unwrap()[0].clone();
    let named = |body: crate::helpers::Resp| {
        assert_eq!(body.status, 201, "{}", body.body);
        body.body["payment_type"].as_str().unwrap().to_owned()
    };
    let plain = || json!({"amount": 100, "receipt": "D-1"});

    // The store's default: the first-run type.
    assert_eq!(named(create(&app, plain()).await), "СБП QR (тест)");
    // The store's default moves to C (not the first enabled one).
    payment_type::set_store_default_payment_type(&app.db, &Who::SEED, store.store_id, Some(c))
        .await
        .unwrap();
    assert_eq!(named(create(&app, plain()).await), "C");
    // The till's own default wins over the store's; a name in the request wins over both.
    payment_type::set_till_payment_type(&app.db, &Who::SEED, store.store_id, till.till_id, Some(b))
        .await
        .unwrap();
    assert_eq!(named(create(&app, plain()).await), "B");
    let asked = json!({"amount": 100, "receipt": "D-1", "payment_type": "C"});
    assert_eq!(named(create(&app, asked).await), "C");
    // No default anywhere: refused, saying what to do — never "the first enabled one".
    payment_type::set_till_payment_type(&app.db, &Who::SEED, store.store_id, till.till_id, None)
        .await
        .unwrap();
    payment_type::set_store_default_payment_type(&app.db, &Who::SEED, store.store_id, None)
        .await
        .unwrap();
    // The message is checked in English: the till API answers in Russian unless asked.
    let r = app
        .post_in(
            "en",
            "/api/v1/payments",
            Some(&new_key()),
            &plain().to_string(),
        )
        .await;
    assert_eq!(
        (r.status, r.code(), r.field()),
        (422, "unknown_payment_type", "payment_type")
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("default")
    );
    // Another store's type cannot be a till's default.
    let other = qrpay::db::store::add_store_ready_to_pay(&app.db, &Who::SEED, "other", "Другой")
        .await
        .unwrap();
    let other_type = payment_type::store_default_payment_type(&app.db, other)
        .await
        .unwrap()
        .unwrap()
        .0;
    assert!(
        payment_type::set_till_payment_type(
            &app.db,
            &Who::SEED,
            store.store_id,
            till.till_id,
            Some(other_type)
        )
        .await
        .is_err()
    );

    // The console: «Кассы» sets the till's, «Виды оплаты» the store's.
    let console = Console::new(&app);
    let s = console.user("ada", "admin").await;
    let a = console
        .post_fn(
            "save_till_payment_type",
            "/console/tills",
            &[
                ("id", &till.till_id.to_string()),
                ("payment_type_id", &b.to_string()),
            ],
            &s,
        )
        .await;
    assert_eq!(a.location, "/console/tills?done=saved", "{:?}", a.error());
    assert_eq!(named(create(&app, plain()).await), "B");
    let page = console.get("/console/tills", Some(&s)).await;
    assert_eq!(text_of(&page.body, "payment-type").as_deref(), Some("B"));
    let a = console
        .post_fn(
            "save_till_payment_type",
            "/console/tills",
            &[("id", &till.till_id.to_string()), ("payment_type_id", "")],
            &s,
        )
        .await;
    assert_eq!(a.location, "/console/tills?done=saved", "{:?}", a.error());
    let a = console
        .post_fn(
            "save_default_payment_type",
            "/console/payment-types",
            &[("payment_type_id", &c.to_string())],
            &s,
        )
        .await;
    assert_eq!(
        a.location,
        "/console/payment-types?done=saved",
        "{:?}",
        a.error()
    );
    assert_eq!(named(create(&app, plain()).await), "C");
    // Both changes are in the journal.
    let journal = qrpay::db::audit::latest(&app.db, store.store_id, 10)
        .await
        .unwrap();
    assert!(
        journal
            .iter()
            .any(|e| e.entity == "till" && e.login == "ada")
    );
    assert!(
        journal
            .iter()
            .any(|e| e.entity == "store" && e.login == "ada")
    );
}

/// Runs the `qrpay` binary on the app's database.
fn qrpay(app: &TestApp, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qrpay"))
        .arg("--database-url")
        .arg(&app.database_url)
        .args(args)
        .env("RUST_LOG", "error")
        .env_remove("QRPAY_PRODUCTION")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn the_command_line_sets_a_tills_and_the_stores_default_payment_type(app: TestApp) {
    let till = qrpay::db::till::list_tills(&app.db).await.unwrap()[0].clone();
    let plain = || json!({"amount": 100, "receipt": "D-1"});
    let named = |r: crate::helpers::Resp| {
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["payment_type"].as_str().unwrap().to_owned()
    };
    for name in ["B", "C"] {
        qrpay(
            &app,
            &["payment-type", "add", "--name", name, "--module", "sandbox"],
        );
    }
    qrpay(&app, &["payment-type", "default", "C"]);
    assert_eq!(named(create(&app, plain()).await), "C");
    let list = qrpay(&app, &["payment-type", "list"]);
    let c_line = list.lines().find(|l| l.starts_with("C ")).unwrap();
    assert!(c_line.contains("true"), "{list}");
    qrpay(&app, &["till", "set", &till.name, "--payment-type", "B"]);
    assert_eq!(named(create(&app, plain()).await), "B");
    // The outputs are left alone when only the payment type is given.
    let after = qrpay::db::till::list_tills(&app.db).await.unwrap()[0].clone();
    assert_eq!(after.qr_outputs, till.qr_outputs);
    qrpay(&app, &["till", "set", &till.name, "--payment-type", ""]);
    assert_eq!(named(create(&app, plain()).await), "C");
    qrpay(&app, &["payment-type", "default", ""]);
    let r = create(&app, plain()).await;
    assert_eq!((r.status, r.code()), (422, "unknown_payment_type"));
}
