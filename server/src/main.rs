#[tokio::main]
async fn main() -> std::process::ExitCode {
    qrpay::telemetry::init();
    match qrpay::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qrpay: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
