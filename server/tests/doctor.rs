//! `qrpay doctor` (issue 13 part 3), the real binary against a running qrpay and the bank
//! emulator: a healthy setup gives only ✓ and exit code 0; each broken item gives its ✗ line and
//! a failing exit code. The console's «Состояние» page shows the same list.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::helpers::console::{Console, add_user};
use crate::providers::Harness;
use qrpay::db::audit::Who;
use qrpay::emulator::Faults;
use std::process::Command;

both_backends!(
    the_doctor_passes_a_healthy_setup_and_fails_each_broken_item,
    the_console_shows_the_same_checks_to_admins,
);

/// The AMQP URL of the test broker, or `None` (with a notice) when none is configured.
fn amqp() -> Option<String> {
    match std::env::var("QRPAY_TEST_AMQP_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("QRPAY_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("QRPAY_TEST_REQUIRE_SERVICES=1 but QRPAY_TEST_AMQP_URL is not set")
        }
        Err(_) => {
            eprintln!("notice: QRPAY_TEST_AMQP_URL is not set; skipping a doctor test");
            None
        }
    }
}

struct Run {
    ok: bool,
    lines: Vec<String>,
}

impl Run {
    /// The line that contains `needle`.
    fn line(&self, needle: &str) -> &str {
        self.lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?}: {:#?}", self.lines))
    }

    fn failed(&self, needle: &str) -> bool {
        self.line(needle).starts_with('✗')
    }
}

/// Runs `qrpay doctor` with the database URL and `args`/`envs` as its settings.
async fn doctor(database_url: &str, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qrpay"));
    cmd.arg("--database-url")
        .arg(database_url)
        .arg("doctor")
        .args(args)
        .env_remove("QRPAY_AMQP_URL")
        .env_remove("QRPAY_PRODUCTION")
        .env_remove("QRPAY_PUBLIC_URL")
        .env_remove("QRPAY_RAIFFEISEN_MERCHANT_ID")
        .env_remove("QRPAY_RAIFFEISEN_SECRET_KEY")
        .env("RUST_LOG", "error")
        .env("QRPAY_DOCTOR_MIN_FREE_MB", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("✓ ") || l.starts_with("✗ ")),
        "one ✓/✗ line per check: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        ok: out.status.success(),
        lines,
    }
}

/// A qrpay on Raiffeisen (the emulator) with its callback URL registered, a broker with the
/// events exchange, an admin, and the sandbox type switched off.
async fn healthy(app: TestApp, amqp: &str) -> Harness {
    let h = Harness::raiffeisen(app).await;
    let store = qrpay::db::store::find_store(&h.app.db, None).await.unwrap();
    let url = format!("{}/api/v1/callbacks/raiffeisen", h.app.base);
    // The command line notes the URL the bank accepted.
    let out = Command::new(env!("CARGO_BIN_EXE_qrpay"))
        .args(["--database-url", &h.app.database_url])
        .args(["raiffeisen", "register-callback", "--url", &url])
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The relay declares the exchange when it first connects; here the test does it.
    qrpay::events::broker::Publisher::connect(amqp, &qrpay::events::Topology::default())
        .await
        .unwrap()
        .close()
        .await;
    add_user(&h.app, "ada", "admin").await;
    let sandbox = qrpay::db::payment_type::list_payment_types(&h.app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.module == "sandbox")
        .unwrap();
    qrpay::db::payment_type::save_payment_type(
        &h.app.db,
        &Who::SEED,
        Some(sandbox.payment_type_id),
        qrpay::db::payment_type::PaymentTypeFields {
            store_id: store.store_id,
            auth_server_id: sandbox.auth_server_id,
            name: &sandbox.name,
            module: "sandbox",
            scan_customer_qr: false,
            enabled: false,
        },
    )
    .await
    .unwrap();
    h
}

async fn the_doctor_passes_a_healthy_setup_and_fails_each_broken_item(app: TestApp) {
    let Some(amqp) = amqp() else { return };
    let h = healthy(app, &amqp).await;
    let db = h.app.database_url.clone();
    let base = h.app.base.clone();
    let settings = ["--public-url", base.as_str(), "--amqp-url", amqp.as_str()];
    let run = doctor(&db, &settings, &[]).await;
    assert!(run.ok, "{:#?}", run.lines);
    assert!(
        run.lines.iter().all(|l| l.starts_with('✓')),
        "{:#?}",
        run.lines
    );
    for needle in [
        "database reachable",
        "database migrated",
        "public URL",
        "«normal» (raiffeisen): the bank takes the credentials",
        "«fast» (raiffeisen)",
        "RabbitMQ",
        "admin",
        "not in production mode",
        "disk",
        "clock within",
    ] {
        run.line(needle);
    }

    // The public URL does not reach qrpay.
    let run = doctor(
        &db,
        &["--public-url", "http://127.0.0.1:9", "--amqp-url", &amqp],
        &[],
    )
    .await;
    assert!(
        !run.ok && run.failed("public URL http://127.0.0.1:9"),
        "{:#?}",
        run.lines
    );
    // Production mode over http: the public URL; a test type switched on again: its line.
    let store = qrpay::db::store::find_store(&h.app.db, None).await.unwrap();
    crate::helpers::db::execute(
        &h.app,
        "update payment_type set enabled = true where module = 'sandbox'",
    )
    .await;
    let run = doctor(&db, &settings, &[("QRPAY_PRODUCTION", "1")]).await;
    assert!(!run.ok, "{:#?}", run.lines);
    assert!(run.failed("is not https"), "{:#?}", run.lines);
    assert!(
        run.failed("(sandbox): a test module, off in production mode"),
        "{:#?}",
        run.lines
    );
    assert!(
        run.failed("production mode, but test payment types are on"),
        "{:#?}",
        run.lines
    );
    crate::helpers::db::execute(
        &h.app,
        "update payment_type set enabled = false where module = 'sandbox'",
    )
    .await;
    // The broker is unreachable.
    let run = doctor(
        &db,
        &[
            "--public-url",
            &base,
            "--amqp-url",
            "amqp://guest:guest@127.0.0.1:9/%2f",
        ],
        &[],
    )
    .await;
    assert!(
        !run.ok && run.failed("RabbitMQ unreachable"),
        "{:#?}",
        run.lines
    );
    // No broker at all.
    let run = doctor(&db, &["--public-url", &base], &[]).await;
    assert!(
        !run.ok && run.failed("no RabbitMQ server"),
        "{:#?}",
        run.lines
    );
    // Too little disk.
    let run = doctor(
        &db,
        &settings,
        &[("QRPAY_DOCTOR_MIN_FREE_MB", "999999999999")],
    )
    .await;
    assert!(!run.ok && run.failed("disk: only"), "{:#?}", run.lines);
    // The bank's clock is two minutes ahead of this machine's.
    let bank = &h.emulator.as_ref().unwrap().bank;
    bank.set_faults(Faults {
        clock_skew_s: 120,
        ..Faults::default()
    });
    let run = doctor(&db, &settings, &[]).await;
    assert!(
        !run.ok && run.failed("s off the bank's"),
        "{:#?}",
        run.lines
    );
    assert!(
        run.line("s off the bank's")
            .contains("synchronise the time"),
        "{:#?}",
        run.lines
    );
    bank.set_faults(Faults::default());
    // A broker where no qrpay ever declared `qrpay.events` (a fresh virtual host).
    if let Some(vhost) = FreshVhost::new() {
        let url = vhost.url(&amqp);
        let run = doctor(&db, &["--public-url", &base, "--amqp-url", &url], &[]).await;
        assert!(
            !run.ok && run.failed("has no exchange qrpay.events"),
            "{:#?}",
            run.lines
        );
    }
    // The bank refuses the key.
    qrpay::db::raiffeisen_setting::save_setting(
        &h.app.db,
        &Who::SEED,
        store.store_id,
        &h.emulator.as_ref().unwrap().base_url(),
        "MA0000000552",
        Some("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.wrong-secret"),
    )
    .await
    .unwrap();
    let run = doctor(&db, &settings, &[]).await;
    assert!(
        !run.ok && run.failed("«normal» (raiffeisen): the bank refused"),
        "{:#?}",
        run.lines
    );
    // The callback URL registered is not this qrpay's (another address was registered).
    qrpay::db::raiffeisen_setting::save_setting(
        &h.app.db,
        &Who::SEED,
        store.store_id,
        &h.emulator.as_ref().unwrap().base_url(),
        "MA0000000552",
        Some("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.test-secret"),
    )
    .await
    .unwrap();
    qrpay::db::raiffeisen_setting::record_callback(
        &h.app.db,
        store.store_id,
        "https://elsewhere.example/cb",
    )
    .await
    .unwrap();
    let run = doctor(&db, &settings, &[]).await;
    assert!(!run.ok && run.failed("«normal»"), "{:#?}", run.lines);
    assert!(
        run.line("«normal»").contains("register again"),
        "{:#?}",
        run.lines
    );
    // The bank does not answer.
    let run = {
        qrpay::db::raiffeisen_setting::save_setting(
            &h.app.db,
            &Who::SEED,
            store.store_id,
            "http://127.0.0.1:9",
            "MA0000000552",
            // A new address takes the key typed again.
            Some("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.test-secret"),
        )
        .await
        .unwrap();
        doctor(&db, &settings, &[]).await
    };
    assert!(!run.ok && run.failed("did not answer"), "{:#?}", run.lines);
    // No admin.
    crate::helpers::db::execute(&h.app, "update app_user set disabled = true").await;
    let run = doctor(&db, &settings, &[]).await;
    assert!(
        !run.ok && run.failed("no console admin"),
        "{:#?}",
        run.lines
    );
}

#[tokio::test]
async fn the_doctor_fails_an_unreachable_or_unmigrated_database() {
    let run = doctor("postgres://nobody@127.0.0.1:9/none", &[], &[]).await;
    assert!(!run.ok, "{:#?}", run.lines);
    assert_eq!(run.lines.len(), 1, "{:#?}", run.lines);
    assert!(run.failed("database unreachable"));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/new.db", dir.path().display());
    let run = doctor(&url, &[], &[]).await;
    assert!(
        !run.ok && run.failed("database not migrated"),
        "{:#?}",
        run.lines
    );
    assert!(run.line("database not migrated").contains("qrpay migrate"));
}

async fn the_console_shows_the_same_checks_to_admins(app: TestApp) {
    let c = Console::new(&app);
    let admin = c.user("ada", "admin").await;
    let page = c.get("/console/health", Some(&admin)).await;
    assert_eq!(page.status, 200);
    for kind in [
        "database",
        "public_url",
        "payment_type",
        "broker",
        "admin",
        "test_modules",
        "disk",
    ] {
        assert!(
            page.body.contains(&format!(r#"data-kind="{kind}""#)),
            "{kind}: {}",
            page.body
        );
    }
    // The test app has no broker: that line fails, and the summary says so.
    assert!(
        page.body.contains(r#"data-kind="broker" data-ok="false""#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"data-testid="health-summary""#));
    // The public URL is the running qrpay itself: reachable.
    assert!(
        page.body
            .contains(r#"data-kind="public_url" data-ok="true""#),
        "{}",
        page.body
    );
    // The details speak the page's language; values and commands stand as code.
    assert!(
        page.body.contains("база данных доступна (<code>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("нет сервера RabbitMQ"), "{}", page.body);
    assert!(!page.body.contains("database reachable"), "{}", page.body);
    let english = c
        .get("/console/health", Some(&format!("{admin}; qrpay_lang=en")))
        .await;
    assert!(
        english.body.contains("database reachable (<code>"),
        "{}",
        english.body
    );
    assert!(
        english.body.contains("no RabbitMQ server"),
        "{}",
        english.body
    );
    let viewer = c.user("vera", "viewer").await;
    let refused = c
        .post(
            "/console/fn/get_health_checks",
            "/console",
            &[],
            Some(&viewer),
        )
        .await;
    assert_ne!(refused.status, 200);
}

/// A RabbitMQ virtual host made for one test with `rabbitmqctl` (the broker on this machine),
/// deleted when dropped. `None`, with a notice, where `rabbitmqctl` cannot make one (unless
/// `QRPAY_TEST_REQUIRE_SERVICES=1`: then it panics).
struct FreshVhost(String);

impl FreshVhost {
    fn new() -> Option<Self> {
        let name = format!("qrpay_doctor_{}", qrpay::domain::new_public_id());
        let ctl = |args: &[&str]| {
            Command::new("rabbitmqctl")
                .args(args)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if ctl(&["add_vhost", &name])
            && ctl(&["set_permissions", "-p", &name, "guest", ".*", ".*", ".*"])
        {
            return Some(Self(name));
        }
        if std::env::var("QRPAY_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("rabbitmqctl could not make a virtual host for the doctor's exchange check");
        }
        eprintln!(
            "notice: rabbitmqctl cannot make a virtual host; skipping the missing-exchange check"
        );
        None
    }

    /// `url` (a broker URL of the default virtual host) on this virtual host.
    fn url(&self, url: &str) -> String {
        let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
        format!("{base}/{}", self.0)
    }
}

impl Drop for FreshVhost {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl")
            .args(["delete_vhost", &self.0])
            .output();
    }
}
