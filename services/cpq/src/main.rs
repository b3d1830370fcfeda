//! The CPQ service binary: settings, telemetry, then [`cpq::Application`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    cpq::run_main().await
}
