//! `workflow-engine`: the embedded Zeebe-compatible engine as a process — the Zeebe gateway
//! (gRPC) on `APP__SERVER__PORT`/26500 and its REST API on `WORKFLOW_REST_PORT`/8090.

use common_kernel::settings::Settings;
use common_kernel::telemetry;
use workflow_engine::startup::Listen;
use workflow_engine::{Application, EngineConfig};

/// REST API port when `WORKFLOW_REST_PORT` is not set.
const DEFAULT_REST_PORT: u16 = 8090;

/// Whether the gRPC gateway requires tokens too (`WORKFLOW_GRPC_REQUIRE_TOKEN`, default false).
fn grpc_requires_token() -> Result<bool, String> {
    match std::env::var("WORKFLOW_GRPC_REQUIRE_TOKEN") {
        Err(_) => Ok(false),
        Ok(text) => match text.trim() {
            "" | "false" => Ok(false),
            "true" => Ok(true),
            _ => Err(format!(
                "WORKFLOW_GRPC_REQUIRE_TOKEN='{text}' must be true or false"
            )),
        },
    }
}

fn rest_port() -> Result<u16, String> {
    match std::env::var("WORKFLOW_REST_PORT") {
        Err(_) => Ok(DEFAULT_REST_PORT),
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("WORKFLOW_REST_PORT='{text}' is not a port number (0-65535)")),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = Settings::from_env("workflow-engine", 26500).map_err(|e| e.to_string());
    let configured = settings.and_then(|s| Ok((s, rest_port()?, grpc_requires_token()?)));
    let (settings, rest_port, grpc_requires_token) = match configured {
        Ok(all) => all,
        Err(error) => {
            eprintln!("workflow-engine: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let _telemetry = telemetry::init(settings.service, settings.log_format);
    let listen = Listen {
        host: settings.server.host.clone(),
        grpc_port: settings.server.port,
        rest_port,
        grpc_requires_token,
        http: settings.http.clone(),
        rate_limit: settings.rate_limit.clone(),
        auth: match settings.auth.clone() {
            Some(auth) => auth,
            None => {
                eprintln!(
                    "workflow-engine: {}",
                    common_kernel::auth::AuthSettings::missing()
                );
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    match Application::start(&settings.database, &listen, EngineConfig::default()).await {
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
