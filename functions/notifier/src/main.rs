//! The notifier function on its own (`cargo lambda watch` / `invoke`, a per-function deploy); the
//! template deploys the shared bootstrap (`functions/bootstrap`), which runs the same `serve`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    securitybot::wiring::logging::init();
    notifier::serve().await
}
