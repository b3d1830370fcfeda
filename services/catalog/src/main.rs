//! The catalog service binary: settings, telemetry, then [`catalog::Application`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    catalog::run_main().await
}
