//! The ops service binary: settings, telemetry, then [`ops::Application`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    ops::run_main().await
}
