//! `workflow-engine`: the embedded Zeebe-compatible engine as a process — the Zeebe gateway
//! (gRPC) on `APP__SERVER__PORT`/26500 and its REST API on `WORKFLOW_REST_PORT`/8090.

use std::time::Duration;

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

/// How long a user-task completion waits for its `completing` listeners
/// (`WORKFLOW_LISTENER_WAIT_MS`, default 25 s); below the REST request timeout, so the engine
/// answers 504 with the task's state before the HTTP layer cuts the request.
fn listener_wait(request_timeout: Duration) -> Result<Duration, String> {
    let wait = match std::env::var("WORKFLOW_LISTENER_WAIT_MS") {
        Err(_) => EngineConfig::default().listener_wait,
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                format!(
                    "WORKFLOW_LISTENER_WAIT_MS='{text}' is not a positive number of milliseconds"
                )
            })?,
    };
    if wait >= request_timeout {
        return Err(format!(
            "the listener wait ({} ms) must be shorter than the REST request timeout ({} ms)",
            wait.as_millis(),
            request_timeout.as_millis()
        ));
    }
    Ok(wait)
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
    let configured = settings.and_then(|s| {
        let wait = listener_wait(s.http.request_timeout)?;
        Ok((s, rest_port()?, grpc_requires_token()?, wait))
    });
    let (settings, rest_port, grpc_requires_token, listener_wait) = match configured {
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
    let config = EngineConfig {
        listener_wait,
        ..EngineConfig::default()
    };
    match Application::start(&settings.database, &listen, config).await {
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
