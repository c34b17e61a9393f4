//! Finding 2: every anonymous sign-in ran argon2 (19 MiB) at once, unbounded: 40 parallel logins
//! took a real `qrpay serve` from 29 MB to 1 GB. Hashes now wait for one of a few slots.
//! Runs the real binary (`QRPAY_TEST_BIN` may name another build to compare).

use super::RealServer;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_logins_keep_the_server_under_150_mb() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("notice: no /proc; skipping the memory test");
        return;
    }
    // Forty clients at forty addresses: the per-address limit must not be what saves us.
    let server = RealServer::start(&[("QRPAY_TRUST_FORWARDED_FOR", "1")]);
    server.add_user("anna", "correct horse battery");
    let (pid, base, http) = (server.pid(), server.base.clone(), reqwest::Client::new());
    server.wait_up().await;
    let before = rss_kib(pid);
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = tokio::spawn({
        let peak = peak.clone();
        async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    let logins = (0..40).map(|i| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.post(format!("{base}/console/fn/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .body(format!("login=anna&password=wrong-{i}"))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    });
    let statuses = futures::future::join_all(logins).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sampler.abort();
    let after = rss_kib(pid);
    let peak = peak.load(Ordering::Relaxed);
    drop(server);
    eprintln!(
        "RSS: before {} MB, peak {} MB, after {} MB; statuses {statuses:?}",
        before / 1024,
        peak / 1024,
        after / 1024
    );
    assert!(statuses.iter().all(|s| *s != 0), "a login went unanswered");
    assert!(peak < 150 * 1024, "peak RSS {} MB", peak / 1024);
}
