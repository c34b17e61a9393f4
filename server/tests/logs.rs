//! Logs an operator can use: the real binary, its stderr read line by line. No ANSI colour codes
//! when the log stream is not a terminal; `QRPAY_LOG_FORMAT=json` writes one JSON object per line
//! (time with offset, level, target, message, fields); the level comes from `QRPAY_LOG`, else
//! `RUST_LOG`.

use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;

fn qrpay(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrpay"));
    cmd.env("QRPAY_DATABASE_URL", db)
        .env_remove("QRPAY_AMQP_URL")
        .env_remove("QRPAY_LOG")
        .env_remove("QRPAY_LOG_FORMAT")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR");
    cmd
}

fn fresh_db(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/qrpay.db", dir.path().display())
}

/// Runs a `serve` on `db` with `envs`, creates a payment, stops it with SIGTERM; its stderr.
async fn serve_once(db: &str, envs: &[(&str, &str)]) -> String {
    let out = qrpay(db)
        .args(["till", "add", "--name", "t1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let server = qrpay(db)
        .envs(envs.iter().copied())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--ops-listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
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
    let created = if up {
        http.post(format!("{base}/api/v1/payments"))
            .bearer_auth(&key)
            .header("Idempotency-Key", "k1")
            .json(&json!({"amount": 100, "receipt": "R1"}))
            .send()
            .await
            .ok()
    } else {
        None
    };
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let out = tokio::task::spawn_blocking(move || server.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(up, "qrpay did not start: {stderr}");
    assert_eq!(created.map(|r| r.status().as_u16()), Some(201), "{stderr}");
    stderr
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_time_level_target_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(&dir);
    // tower_http at debug: a line for each request, logged inside the request's span.
    let stderr = serve_once(
        &db,
        &[
            ("QRPAY_LOG_FORMAT", "json"),
            ("QRPAY_LOG", "info,tower_http=debug"),
        ],
    )
    .await;
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "too few log lines: {stderr}");
    let mut messages = Vec::new();
    let mut till_request: Option<Value> = None;
    for line in &lines {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line:?}\n{stderr}"));
        let time = v["timestamp"].as_str().unwrap_or_else(|| panic!("{line}"));
        chrono::DateTime::parse_from_rfc3339(time)
            .unwrap_or_else(|e| panic!("time {time:?} has no offset ({e}): {line}"));
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&v["level"].as_str().unwrap()),
            "{line}"
        );
        assert!(
            v["target"].as_str().is_some_and(|t| !t.is_empty()),
            "{line}"
        );
        messages.push(
            v["message"]
                .as_str()
                .unwrap_or_else(|| panic!("{line}"))
                .to_owned(),
        );
        if v["span"]["path"] == "/api/v1/payments" && v["span"]["method"] == "POST" {
            till_request = Some(v["span"].clone());
        }
        assert!(!line.contains('\u{1b}'), "ANSI in a JSON line: {line:?}");
    }
    assert!(
        messages.iter().any(|m| m.starts_with("qrpay listening on")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m == "stopping"), "{messages:?}");
    // A till's request names the till and its store.
    let span = till_request.unwrap_or_else(|| panic!("no line of the till's request: {stderr}"));
    assert_eq!(span["till"], "t1", "{span}");
    assert_eq!(span["store"], 1, "{span}");
    assert!(span["request_id"].as_str().is_some(), "{span}");
}

#[tokio::test]
async fn text_logs_have_no_colour_codes_when_not_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(&dir);
    let stderr = serve_once(&db, &[]).await;
    assert!(stderr.contains("qrpay listening on"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI codes in piped logs: {stderr:?}"
    );
}

#[test]
fn the_level_comes_from_qrpay_log_before_rust_log() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(&dir);
    // A new database logs an INFO line («new database: created store …»).
    let quiet = qrpay(&db)
        .arg("migrate")
        .env("QRPAY_LOG", "warn")
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(quiet.status.success(), "{quiet:?}");
    let quiet = String::from_utf8(quiet.stderr).unwrap();
    assert!(
        !quiet.contains("new database"),
        "QRPAY_LOG=warn ignored: {quiet}"
    );

    let dir = tempfile::tempdir().unwrap();
    let db = fresh_db(&dir);
    let loud = qrpay(&db)
        .arg("migrate")
        .env("RUST_LOG", "info")
        .env("QRPAY_LOG_FORMAT", "json")
        .output()
        .unwrap();
    let loud = String::from_utf8(loud.stderr).unwrap();
    let first: Value = serde_json::from_str(loud.lines().next().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {loud}"));
    assert_eq!(first["level"], "INFO", "{loud}");
    assert!(
        first["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("new database")),
        "{loud}"
    );
}
