//! `workflow-engine`: the embedded Zeebe-compatible engine as a process (gRPC on 26500).

use common_kernel::settings::Settings;
use common_kernel::telemetry;
use workflow_engine::{Application, EngineConfig};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = match Settings::from_env("workflow-engine", 26500) {
        Ok(s) => s,
        Err(error) => {
            eprintln!("workflow-engine: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let _telemetry = telemetry::init(settings.service, settings.log_format);
    match Application::build(
        &settings.database,
        &settings.server.host,
        settings.server.port,
        EngineConfig::default(),
    )
    .await
    {
        Ok(app) => {
            app.run_until_signal().await;
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(error = ?error, "workflow-engine failed to start");
            std::process::ExitCode::FAILURE
        }
    }
}
