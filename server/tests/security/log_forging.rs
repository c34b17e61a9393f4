//! Finding 7: `POST /api/v1/callbacks/x%0a…%1b[31m` wrote a forged line and raw escape codes into
//! the log. Every user-controlled value in a log line is now quoted and escaped.

use super::RealServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_controlled_values_cannot_forge_log_lines_or_colour_the_terminal() {
    let server = RealServer::start(&[]);
    server.wait_up().await;
    let http = reqwest::Client::new();
    let forged = "x%0a2026-01-01T00:00:00Z%20INFO%20payment%20paid%20by%20admin%1b[31m";
    let r = http
        .post(format!("{}/api/v1/callbacks/{forged}", server.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A login with a newline and an escape code (short enough to be judged and logged).
    http.post(format!("{}/console/fn/login", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("login=eve%0a2026-01-01T00:00:00Z%20INFO%20console%20login%1b[32m&password=whatever1")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = server.log();
    assert!(
        !log.contains('\x1b'),
        "a raw escape code reached the log:\n{log:?}"
    );
    for line in log.lines() {
        assert!(
            !line.starts_with("2026-01-01T00:00:00Z"),
            "a forged line in the log:\n{log}"
        );
    }
    assert!(log.contains("bank notification refused"), "{log}");
}
