//! Finding 12: `/metrics` and `/readyz` answered anyone (store codes, backlog, broker state),
//! and a till key shown once sat in the session table.

use crate::helpers::TestApp;
use crate::helpers::console::Console;
use crate::helpers::db::scalar;

async fn metrics_and_readiness_answer_only_on_the_ops_address(app: TestApp) {
    let http = reqwest::Client::new();
    for path in ["/metrics", "/readyz"] {
        let public = http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(public.status(), 404, "{path} on the public address");
        let ops = http.get(format!("{}{path}", app.ops)).send().await.unwrap();
        assert_eq!(ops.status(), 200, "{path} on the ops address");
    }
    let health = http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "/healthz stays public");
    assert!(app.ops.starts_with("http://127.0.0.1:"), "{}", app.ops);
}

async fn a_till_key_leaves_the_session_table_when_its_page_shows_it(app: TestApp) {
    let c = Console::new(&app);
    let s = c.user("root", "admin").await;
    let a = c
        .post_fn(
            "create_till",
            "/console/tills",
            &[
                ("name", "Касса 9"),
                ("kind", "till"),
                ("paper_width", "384"),
            ],
            &s,
        )
        .await;
    assert_eq!(a.location, "/console/tills?done=created", "{:?}", a.error());
    let page = c.get(&a.location, Some(&s)).await;
    assert!(page.body.contains("qrp_"), "the key is shown");
    let stored = scalar(
        &app,
        "select count(*) from console_session where data like '%qrp_%'",
    )
    .await;
    assert_eq!(stored, 0, "a shown till key is still in the session table");
}

crate::both_backends!(
    metrics_and_readiness_answer_only_on_the_ops_address,
    a_till_key_leaves_the_session_table_when_its_page_shows_it,
);
