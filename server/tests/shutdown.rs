//! Stopping: a real `qrpay serve` told SIGTERM answers its long-polls with the payment as it is,
//! stops accepting, and exits 0 — it does not hold the shutdown for the long-polls' minute.

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn qrpay(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrpay"));
    cmd.env("QRPAY_DATABASE_URL", db)
        .env_remove("QRPAY_AMQP_URL")
        .env("QRPAY_OPS_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn");
    cmd
}

#[tokio::test]
async fn sigterm_answers_long_polls_with_the_current_state_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/qrpay.db", dir.path().display());
    assert!(qrpay(&db).arg("migrate").status().unwrap().success());
    let out = qrpay(&db)
        .args(["till", "add", "--name", "t1"])
        .output()
        .unwrap();
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = qrpay(&db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "qrpay did not start");
    let created: Value = http
        .post(format!("{base}/api/v1/payments"))
        .bearer_auth(&key)
        .header("Idempotency-Key", "k1")
        .json(&json!({"amount": 100, "receipt": "R1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let poll = tokio::spawn({
        let (http, key) = (http.clone(), key.clone());
        let url = format!("{base}/api/v1/payments/{id}?wait=60");
        async move {
            let r = http.get(url).bearer_auth(key).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped_at = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let (status, body) = tokio::time::timeout(Duration::from_secs(15), poll)
        .await
        .expect("the long-poll was not answered at shutdown")
        .unwrap();
    assert_eq!((status, body["status"].as_str()), (200, Some("pending")));
    let exit = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(15),
            "qrpay did not exit"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "exit status {exit:?}");
    assert!(
        stopped_at.elapsed() < Duration::from_secs(12),
        "shutdown took {:?}",
        stopped_at.elapsed()
    );
}
