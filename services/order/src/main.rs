//! The order service binary: settings, telemetry, then [`order::Application`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    order::run_main().await
}
