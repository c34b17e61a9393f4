//! «Сверка» in the console: support uploads the bank's registry as a browser without JavaScript
//! does (a multipart form post), lands on the kept comparison with its differences in words, and
//! sees it listed; garbage gets a message next to the form; a viewer may not reconcile.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Answer, Console, text_of};
use crate::providers::Harness;
use crate::reconcile::{order_of, paid, registry};
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, REFERER};

both_backends!(support_uploads_a_registry_and_sees_what_differs);

/// The upload form's post: the file as the `registry` field of a multipart body.
async fn upload(c: &Console<'_>, session: &str, name: &str, bytes: &[u8]) -> Answer {
    let boundary = "----qrpay-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"registry\"; filename=\"{name}\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = c
        .http
        .post(format!("{}/console/reconcile/upload", c.app.base))
        .header(ACCEPT, "text/html")
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(REFERER, format!("{}/console/reconcile", c.app.base))
        .header("origin", &c.app.base)
        .header(COOKIE, session)
        .body(body);
    Console::answer(r).await
}

async fn support_uploads_a_registry_and_sees_what_differs(app: TestApp) {
    let h = Harness::raiffeisen(app).await;
    let id = paid(&h, 1000).await;
    let order = order_of(&h, &id).await;
    let c = Console::new(&h.app);
    let support = c.user("sup", "support").await;

    let page = c.get("/console/reconcile", Some(&support)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"reconcile-form\""));
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("data-testid=\"no-reconciliations\""));

    let bytes = registry(
        "MA0000000552",
        &[
            ("Payment", &order, "", 1200),
            ("Payment", "q-not-ours", "", 500),
        ],
        None,
    );
    let posted = upload(&c, &support, "registry-today.csv", &bytes).await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    assert!(
        posted.location.starts_with("/console/reconcile?id="),
        "{}",
        posted.location
    );
    let shown = c.get(&posted.location, Some(&support)).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.contains("data-testid=\"reconciliation\""));
    assert!(
        shown.body.contains("data-kind=\"amount_differs\""),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("Сумма платежа различается"));
    assert!(
        shown
            .body
            .contains("data-kind=\"paid_at_bank_not_in_qrpay\"")
    );
    assert!(shown.body.contains("q-not-ours"));
    assert!(shown.body.contains("data-testid=\"reconciliation-row\""));
    assert!(shown.body.contains("registry-today.csv"));

    // Not a registry: back to the form with a message, nothing kept.
    let garbage = upload(&c, &support, "photo.csv", b"hello;world\n").await;
    assert_eq!(garbage.location, "/console/reconcile?failed=not_registry");
    let page = c.get(&garbage.location, Some(&support)).await;
    assert!(
        text_of(&page.body, "reconcile-error").is_some_and(|t| t.contains("не реестр")),
        "{}",
        page.body
    );

    // A viewer may not reconcile.
    let viewer = c.user("view", "viewer").await;
    assert_eq!(upload(&c, &viewer, "r.csv", &bytes).await.status, 403);
}
