//! The integration service binary: settings, telemetry, then [`integration::Application`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    integration::run_main().await
}
