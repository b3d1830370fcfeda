//! The audit service binary: settings, telemetry, then [`audit::Application`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    audit::run_main().await
}
