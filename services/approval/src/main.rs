//! The approval service binary: settings, telemetry, then [`approval::Application`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    approval::run_main().await
}
