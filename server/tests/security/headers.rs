//! Finding 11: the console and `/pay` sent no Content-Security-Policy, no frame-ancestors /
//! X-Frame-Options and no `nosniff`; the console no Referrer-Policy. Each class of response is
//! checked here.

use crate::helpers::TestApp;
use crate::helpers::console::Console;

struct Seen {
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn fetch(app: &TestApp, path: &str, cookie: Option<&str>) -> Seen {
    let c = Console::new(app);
    let mut r = c
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(&app.key);
    if let Some(cookie) = cookie {
        r = r.header("cookie", cookie);
    }
    let r = r.send().await.unwrap();
    let headers = r.headers().clone();
    let body = r.text().await.unwrap();
    Seen { headers, body }
}

/// An HTML page: a CSP that allows only its own nonce-carrying inline scripts and styles, no
/// framing, no sniffing; every inline script and style carries the nonce.
fn assert_html_page(path: &str, seen: &Seen) {
    let csp = seen.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp:?}");
    assert!(csp.contains("default-src 'none'"), "{path}: {csp:?}");
    assert!(csp.contains("object-src 'none'") || csp.contains("default-src 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp:?}");
    assert_eq!(seen.header("x-frame-options"), "DENY", "{path}");
    assert_eq!(seen.header("x-content-type-options"), "nosniff", "{path}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or("");
    for tag in ["<script", "<style"] {
        for (i, _) in seen.body.match_indices(tag) {
            let open = &seen.body[i..i + seen.body[i..].find('>').unwrap()];
            assert!(
                !nonce.is_empty() && open.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: {open} without the CSP's nonce ({csp:?})"
            );
        }
    }
    assert!(
        !seen.body.contains(" style=\""),
        "{path}: an inline style attribute"
    );
}

async fn every_class_of_response_carries_its_security_headers(app: TestApp) {
    let c = Console::new(&app);
    let session = c.user("anna", "admin").await;
    let paid = app.paid_payment(1000).await;
    let waiting = app.create_payment(2000).await;
    let waiting = waiting["id"].as_str().unwrap().to_owned();
    let anonymous = fetch(&app, "/console/login", None).await;
    assert_html_page("/console/login", &anonymous);
    for path in [
        "/console".to_owned(),
        "/console/transactions".to_owned(),
        format!("/console/transactions/{paid}"),
        "/console/store".to_owned(),
        "/console/users".to_owned(),
        "/console/nowhere".to_owned(),
    ] {
        let seen = fetch(&app, &path, Some(&session)).await;
        assert_html_page(&path, &seen);
        assert_eq!(seen.header("referrer-policy"), "same-origin", "{path}");
    }
    for path in [
        format!("/pay/{waiting}"),
        format!("/pay/{paid}"),
        "/pay/nope".into(),
    ] {
        let seen = fetch(&app, &path, None).await;
        assert_html_page(&path, &seen);
    }
    // The page's own script polls its status: the CSP lets it connect to this site only.
    let pay = fetch(&app, &format!("/pay/{waiting}"), None).await;
    assert!(pay.body.contains("<script"));
    assert!(
        pay.header("content-security-policy")
            .contains("connect-src 'self'")
    );
    for path in [
        "/style/qrpay.css".to_owned(),
        "/healthz".to_owned(),
        format!("/api/v1/payments/{paid}"),
        format!("/api/v1/payments/{paid}/qr.svg"),
        "/console/transactions.csv".to_owned(),
    ] {
        let seen = fetch(&app, &path, Some(&session)).await;
        assert_eq!(seen.header("x-content-type-options"), "nosniff", "{path}");
    }
    let r = c
        .http
        .post(format!("{}/console/fn/list_stores", app.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()
            .get("x-content-type-options")
            .map(|v| v.to_str().unwrap()),
        Some("nosniff")
    );
    assert_eq!(
        r.headers()
            .get("referrer-policy")
            .map(|v| v.to_str().unwrap()),
        Some("same-origin")
    );
}

crate::both_backends!(every_class_of_response_carries_its_security_headers);
