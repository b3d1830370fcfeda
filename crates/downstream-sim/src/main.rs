//! The downstream simulator binary: flags, logs on stderr, then [`downstream_sim::run`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = match downstream_sim::Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "bad arguments");
            return ExitCode::from(2);
        }
    };
    match downstream_sim::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the simulator stopped");
            ExitCode::FAILURE
        }
    }
}
