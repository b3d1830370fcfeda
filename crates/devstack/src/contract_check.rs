//! `devstack contract-check`: the contract conformance gate (ADR 0029).
//!
//! Every service in [`SERVICES`] is started from its development build against a throwaway
//! database, on free ports, with Kafka off (events wait in the outbox). The demo catalog is
//! loaded, then schemathesis tests each service against the contract the service itself serves at
//! `/openapi.json`: every phase (examples, coverage, fuzzing and the stateful phase that follows
//! the contract's links), with the checks that an answer is no server error and has a declared
//! status, content type and schema. Everything started is stopped and the database dropped, also
//! on failure or Ctrl-C. Any finding fails the run.
//!
//! The gate runs its own development OIDC issuer on a free port (ADR 0030): services get its URL
//! and their client, the seed its `devstack` token, and schemathesis a token with every role.
//! It also runs the embedded engine and the downstream simulator, and makes one demo order's
//! external calls (`demo_calls`) before testing, so the integration service's call log and
//! operations hold real rows whose keys and order id schemathesis is given. The order service
//! runs without the engine (`ZEEBE_ADDRESS=disabled`): the gate captures one direct order there
//! and gives schemathesis its id and customer; it stays ACKNOWLEDGED.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

use crate::contract_data::{self, TestData};
use crate::database;
use crate::demo_calls::{self, INTEGRATION};
use crate::identity;
use crate::quote_to_cash::ORDER;
use crate::say;
use crate::seed::{self, CatalogClient};
use crate::services::{SERVICES, ServiceSpec};
use crate::settings::{self, DatabaseUrl, LOCAL_HOST, Settings};
use crate::simulator::{self, Downstream, SIMULATOR_NAME, SimulatorTarget};
use crate::supervisor::{ChildOutput, READY_TIMEOUT, ShutdownSignals, Stack};
use crate::token;
use crate::workflow::ENGINE_NAME;

/// The checks every response is held to. Never fewer: the gate exists to run them.
pub const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                          response_schema_conformance";

/// Every schemathesis phase, named so a change of its defaults cannot drop one silently.
const PHASES: &str = "examples,coverage,fuzzing,stateful";

/// Test cases per operation and phase unless `CONTRACT_CHECK_MAX_EXAMPLES` says otherwise: enough
/// to reach every status an operation declares, few enough that the gate takes about a minute per
/// service on two cores.
const DEFAULT_MAX_EXAMPLES: u32 = 40;

/// The generation seed unless `CONTRACT_CHECK_SEED` says otherwise: the same code gets the same
/// verdict, and a finding can be replayed.
const DEFAULT_SEED: u64 = 29;

/// Where the gate keeps service logs and schemathesis' own files, under the workspace.
const WORK_DIR: &str = ".dev/contract-check";

/// The demo data's owner, which must be in the table for the gate to seed it.
const CATALOG: &str = "catalog";

/// How schemathesis is run: which executable, and how hard it tries.
#[derive(Debug)]
struct Runner {
    executable: PathBuf,
    max_examples: u32,
    seed: u64,
}

impl Runner {
    /// `SCHEMATHESIS` if set, else the project's virtualenv that `./dev test` installs, else `st`
    /// on PATH.
    fn from_env(workspace_root: &Path) -> Result<Self> {
        let executable = match std::env::var_os("SCHEMATHESIS") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => {
                let local = workspace_root.join(".dev/schemathesis/bin/st");
                if local.is_file() {
                    local
                } else {
                    PathBuf::from("st")
                }
            }
        };
        let max_examples = parse_env("CONTRACT_CHECK_MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES)?;
        if max_examples == 0 {
            bail!("CONTRACT_CHECK_MAX_EXAMPLES must be at least 1");
        }
        Ok(Self {
            executable,
            max_examples,
            seed: parse_env("CONTRACT_CHECK_SEED", DEFAULT_SEED)?,
        })
    }

    /// `st --version`, which also proves the executable runs.
    async fn version(&self) -> Result<String> {
        let output = Command::new(&self.executable)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| {
                format!(
                    "could not run schemathesis at {} (./dev test installs it into \
                     .dev/schemathesis; or set SCHEMATHESIS to an `st` executable)",
                    self.executable.display()
                )
            })?;
        if !output.status.success() {
            bail!(
                "{} --version failed ({})",
                self.executable.display(),
                output.status
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// The arguments of one run against the contract served at `schema_url`, with the test data
    /// of `config`.
    fn arguments(&self, schema_url: &str, config: &Path) -> Vec<String> {
        vec![
            "--config-file".into(),
            config.display().to_string(),
            "run".into(),
            schema_url.into(),
            "--checks".into(),
            CHECKS.into(),
            "--phases".into(),
            PHASES.into(),
            "--max-examples".into(),
            self.max_examples.to_string(),
            "--seed".into(),
            self.seed.to_string(),
            // One worker: schemathesis' generator is not safe to run on two threads under
            // CPython 3.11 (an internal `SystemError` in `ast`), and two cores are shared with
            // the services anyway.
            "--workers".into(),
            "1".into(),
        ]
    }

    /// Runs schemathesis with its output on ours; `Ok(true)` when it found nothing.
    async fn run(&self, schema_url: &str, config: &Path, work_dir: &Path) -> Result<bool> {
        let status = Command::new(&self.executable)
            .args(self.arguments(schema_url, config))
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .status()
            .await
            .with_context(|| format!("could not run {}", self.executable.display()))?;
        Ok(status.success())
    }
}

/// Budgets no gate run reaches (the settings' upper bounds are far above).
const GATE_RATE_LIMITS: [(&str, &str); 4] = [
    ("APP__RATE_LIMIT__READ_PER_MINUTE", "6000000"),
    ("APP__RATE_LIMIT__READ_BURST", "100000"),
    ("APP__RATE_LIMIT__COMMAND_PER_MINUTE", "6000000"),
    ("APP__RATE_LIMIT__COMMAND_BURST", "100000"),
];

fn parse_env<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .ok()
            .with_context(|| format!("{name}={value:?} is not a non-negative number")),
        _ => Ok(default),
    }
}

/// One service of this run.
#[derive(Debug, Clone, Copy)]
struct Started {
    spec: &'static ServiceSpec,
    port: u16,
}

impl Started {
    fn base_url(&self) -> String {
        format!("http://{LOCAL_HOST}:{}", self.port)
    }
}

/// What schemathesis said about one service.
#[derive(Debug)]
struct Verdict {
    name: &'static str,
    passed: bool,
    took: Duration,
}

/// Runs the gate; the exit code is non-zero when any service has a finding or anything failed.
pub async fn contract_check() -> Result<ExitCode> {
    let began = Instant::now();
    let mut signals = ShutdownSignals::install()?;
    let settings = Settings::from_env()?;
    let runner = Runner::from_env(&settings.workspace_root)?;
    say(&format!(
        "==> contract check: {} ({}; checks {CHECKS}; phases {PHASES}; at most {} examples per \
         operation and phase; seed {})",
        runner.version().await?,
        runner.executable.display(),
        runner.max_examples,
        runner.seed
    ));
    let binaries = SERVICES
        .iter()
        .map(|spec| (spec.name, spec.binary))
        .chain([(ENGINE_NAME, ENGINE_NAME), (SIMULATOR_NAME, SIMULATOR_NAME)]);
    for (name, binary) in binaries {
        let binary = settings.binary_path(binary);
        if !binary.is_file() {
            bail!(
                "the {name} binary is missing at {}; build it first (cargo build --workspace --bins)",
                binary.display()
            );
        }
    }
    let work_dir = settings.workspace_root.join(WORK_DIR);
    std::fs::create_dir_all(&work_dir)
        .with_context(|| format!("could not create {}", work_dir.display()))?;

    let database = throwaway_database(&settings.database)?;
    say(&format!(
        "==> creating the throwaway database {} on {}",
        database.database(),
        settings::redact(&settings.database.maintenance_url())
    ));
    database::create_database(&database).await?;

    let mut stack = Stack::new();
    let outcome = {
        let gate = run_gate(&settings, &database, &runner, &work_dir, &mut stack);
        tokio::select! {
            result = gate => Some(result),
            name = signals.recv() => {
                say(&format!("==> {name} received; stopping"));
                None
            }
        }
    };

    if !stack.is_empty() {
        say("==> stopping the services the gate started");
        stack.shutdown(&mut signals).await;
    }
    say(&format!("==> dropping {}", database.database()));
    if let Err(error) = database::drop_database(&database).await {
        say(&format!("    warning: {error:#}"));
    }

    let verdicts = match outcome {
        None => return Ok(ExitCode::FAILURE),
        Some(Err(error)) => return Err(error),
        Some(Ok(verdicts)) => verdicts,
    };
    say("==> contract check summary");
    for verdict in &verdicts {
        say(&format!(
            "    {:<8} {} ({:.1} s)",
            if verdict.passed { "ok" } else { "FINDINGS" },
            verdict.name,
            verdict.took.as_secs_f64()
        ));
    }
    let failed = verdicts.iter().any(|verdict| !verdict.passed);
    say(&format!(
        "==> contract check {} in {:.1} s",
        if failed { "FAILED" } else { "passed" },
        began.elapsed().as_secs_f64()
    ));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A database name no other run uses: the gate's prefix, the time and this process.
fn throwaway_database(server: &DatabaseUrl) -> Result<DatabaseUrl> {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_millis();
    Ok(server.with_database(&format!("cpq_oms_contract_{millis}_{}", std::process::id())))
}

/// A port nothing listens on right now (the kernel picks it; the service binds it moments later).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind((LOCAL_HOST, 0))
        .context("could not find a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// Starts every service, loads the demo catalog and runs schemathesis against each service.
async fn run_gate(
    settings: &Settings,
    database: &DatabaseUrl,
    runner: &Runner,
    work_dir: &Path,
    stack: &mut Stack,
) -> Result<Vec<Verdict>> {
    let started = SERVICES
        .iter()
        .map(|spec| {
            Ok(Started {
                spec,
                port: free_port()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let catalog_url = started
        .iter()
        .find(|service| service.spec.name == CATALOG)
        .map(Started::base_url)
        .with_context(|| format!("no service named {CATALOG:?} in devstack's service table"))?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .context("could not build the HTTP client")?;

    let directory = identity::load_directory(&settings.workspace_root)?;
    let issuer = identity::start(0, directory.clone(), dev_issuer::DEFAULT_TOKEN_LIFETIME).await?;
    say(&format!("==> OIDC issuer on {}", issuer.url()));
    let engine = start_engine(
        settings,
        database,
        work_dir,
        &http,
        stack,
        &[
            ("OIDC_ISSUER", issuer.url().to_owned()),
            ("OIDC_AUDIENCE", directory.audience.clone()),
        ],
    )
    .await?;

    let downstream = start_simulator(settings, work_dir, stack).await?;
    let downstream_env = downstream.integration_env()?;

    // In table order, so CPQ finds the catalog it reads offerings from.
    for service in &started {
        let name = service.spec.name;
        let log = work_dir.join(format!("{name}.log"));
        say(&format!(
            "==> starting {name} on port {} (log {})",
            service.port,
            log.display()
        ));
        let mut env = vec![
            ("APP__SERVER__PORT", service.port.to_string()),
            ("DATABASE_URL", database.to_url()),
            ("REDIS_URL", settings.redis_url.clone()),
            ("KAFKA_BROKERS", "disabled".to_owned()),
            ("CATALOG_URL", catalog_url.clone()),
            // The approval service deploys its process and serves its task inbox from the engine;
            // the integration service's workers make the demo order's external calls.
            ("ZEEBE_ADDRESS", engine.gateway.clone()),
            ("WORKFLOW_REST_URL", engine.rest.clone()),
        ];
        // The gate probes what each operation does with thousands of requests in a minute from
        // one client: with the production budgets most of them would be 429 and their logic
        // untested. 429 itself is documented on every operation (platform_contract tests it).
        env.extend(GATE_RATE_LIMITS.map(|(name, value)| (name, value.to_owned())));
        // The integration service calls the gate's simulator.
        if name == INTEGRATION {
            env.extend(downstream_env.iter().cloned());
        }
        // The audit service signs checkpoints (its log stays empty here: no Kafka).
        if name == crate::audit_demo::AUDIT {
            env.extend(crate::audit_demo::service_env());
        }
        // The order service alone: the gate tests its API, and every order schemathesis
        // creates would otherwise start fulfilment of whatever offering it names (and fall
        // out). Without the engine, orders stay ACKNOWLEDGED (no workers, no process starter).
        if name == ORDER {
            env.retain(|(key, _)| *key != "ZEEBE_ADDRESS" && *key != "WORKFLOW_REST_URL");
            env.push(("ZEEBE_ADDRESS", "disabled".to_owned()));
        }
        env.extend(identity::service_env(
            issuer.url(),
            &directory,
            service.spec.oidc_client,
        )?);
        let spawned_at = Instant::now();
        stack.spawn_with_output(
            name,
            &settings.binary_path(service.spec.binary),
            &settings.workspace_root,
            &env,
            ChildOutput::File(log),
        )?;
        let took = stack
            .wait_ready(&http, name, &service.base_url(), spawned_at)
            .await
            .with_context(|| {
                format!(
                    "{name} did not start (within {} s); see its log",
                    READY_TIMEOUT.as_secs()
                )
            })?;
        say(&format!("    ready in {:.2} s", took.as_secs_f64()));
    }

    say(&format!("==> loading demo data through {catalog_url}"));
    let seed_token = token::seed_token(&http, issuer.url(), &directory).await?;
    let catalog = CatalogClient::new(http.clone(), catalog_url, seed_token);
    let summary = seed::load_demo_catalog(&catalog)
        .await
        .context("loading demo data failed")?;
    say(&format!("    {summary}"));
    let config = work_dir.join("schemathesis.toml");
    let mut test_data = TestData::of_demo_catalog(&catalog).await?;
    let integration_url = started
        .iter()
        .find(|service| service.spec.name == INTEGRATION)
        .map(Started::base_url)
        .with_context(|| format!("no service named {INTEGRATION:?} in devstack's service table"))?;
    say(&format!(
        "==> demo external calls through {} and {integration_url}",
        engine.gateway
    ));
    let order = demo_calls::start(&engine.gateway, &settings.workspace_root).await?;
    let operations =
        demo_calls::wait_for_outcome(&http, &integration_url, issuer.url(), &directory, &order)
            .await
            .context("reading the demo order's external operations failed")?;
    demo_calls::report(&order, &operations, &integration_url);
    if !operations.iter().all(|op| op.status == "SUCCEEDED") {
        bail!(
            "the demo order's external calls did not all succeed; see {WORK_DIR}/integration.log \
             and {WORK_DIR}/{SIMULATOR_NAME}.log"
        );
    }
    test_data.add_external_operations(&order.order_id.to_string(), &operations);
    let gate_token = contract_data::gate_token(&issuer.issuer)?;
    let order_url = started
        .iter()
        .find(|service| service.spec.name == ORDER)
        .map(Started::base_url)
        .with_context(|| format!("no service named {ORDER:?} in devstack's service table"))?;
    let direct = contract_data::direct_order(&http, &order_url, &gate_token, &catalog)
        .await
        .context("the gate's direct order failed")?;
    say(&format!(
        "==> direct order {} for {} at {order_url}",
        direct.id, direct.customer
    ));
    test_data.add_order(&direct);
    std::fs::write(&config, test_data.config(&gate_token))
        .with_context(|| format!("could not write {}", config.display()))?;
    say(&format!(
        "    test data for schemathesis in {} ({} catalog ids, {} idempotency keys, 1 order)",
        config.display(),
        test_data.catalog_ids(),
        operations.len()
    ));

    let mut verdicts = Vec::new();
    for service in &started {
        let name = service.spec.name;
        let schema_url = format!("{}/openapi.json", service.base_url());
        say(&format!("==> schemathesis: {name} ({schema_url})"));
        let began = Instant::now();
        let passed = tokio::select! {
            passed = runner.run(&schema_url, &config, work_dir) => passed?,
            exit = stack.next_exit() => bail!(
                "{} exited while schemathesis was testing {name} ({}); see {}/{}.log",
                exit.name,
                exit.status,
                WORK_DIR,
                exit.name
            ),
        };
        verdicts.push(Verdict {
            name,
            passed,
            took: began.elapsed(),
        });
    }
    Ok(verdicts)
}

/// Starts the downstream simulator with every listener on a port the kernel picks (control port
/// 0), journaling into a fresh directory under the work dir, and reads where it listens from its
/// ready line; the integration service's workers call it for the demo order.
async fn start_simulator(
    settings: &Settings,
    work_dir: &Path,
    stack: &mut Stack,
) -> Result<Downstream> {
    let log = work_dir.join(format!("{SIMULATOR_NAME}.log"));
    let data_dir = work_dir.join(SIMULATOR_NAME);
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir)
            .with_context(|| format!("could not empty {}", data_dir.display()))?;
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("could not create {}", data_dir.display()))?;
    say(&format!(
        "==> starting {SIMULATOR_NAME} (ports picked by the kernel; log {})",
        log.display()
    ));
    let target = SimulatorTarget {
        control_port: 0,
        systems_base_port: 0,
        api_key: settings.simulator.api_key.clone(),
    };
    let spawned_at = Instant::now();
    stack.spawn_with_arguments(
        SIMULATOR_NAME,
        &settings.binary_path(SIMULATOR_NAME),
        &target.arguments(&data_dir),
        &settings.workspace_root,
        // Plain log lines in the file (its logger colours them otherwise).
        &[("NO_COLOR", "1".to_owned())],
        ChildOutput::File(log.clone()),
    )?;
    let ready = tokio::select! {
        ready = simulator::read_ready_line(&log, READY_TIMEOUT) => ready
            .with_context(|| format!("{SIMULATOR_NAME} did not start; see {}", log.display()))?,
        exit = stack.next_exit() => bail!(
            "{} exited before it was ready ({}); see {}",
            exit.name,
            exit.status,
            log.display()
        ),
    };
    say(&format!(
        "    ready in {:.2} s (control {})",
        spawned_at.elapsed().as_secs_f64(),
        ready.control_url
    ));
    Ok(Downstream {
        api_key: target.api_key,
        ..ready
    })
}

/// Where the gate's embedded engine answers.
struct Engine {
    /// `http://127.0.0.1:<port>`: the Zeebe gateway (gRPC).
    gateway: String,
    /// `http://127.0.0.1:<port>`: its Camunda REST API.
    rest: String,
}

/// Starts the embedded engine on free ports against the gate's database, for the services that
/// run workflows (approval; integration, whose workers make the demo order's external calls):
/// without it their task APIs could only answer 5xx, which the gate rightly counts as findings.
/// It gets the gate's budgets too: the approval service is one client of its REST API, and with
/// the production budgets the fuzzing of `GET /approval-tasks` ran into the engine's 429, which
/// the approval service rightly answers as 502.
async fn start_engine(
    settings: &Settings,
    database: &DatabaseUrl,
    work_dir: &Path,
    http: &reqwest::Client,
    stack: &mut Stack,
    issuer_env: &[(&'static str, String)],
) -> Result<Engine> {
    let (grpc_port, rest_port) = (free_port()?, free_port()?);
    let log = work_dir.join(format!("{ENGINE_NAME}.log"));
    say(&format!(
        "==> starting {ENGINE_NAME} (gateway {grpc_port}, REST {rest_port}; log {})",
        log.display()
    ));
    let mut env = vec![
        ("APP__SERVER__PORT", grpc_port.to_string()),
        ("WORKFLOW_REST_PORT", rest_port.to_string()),
        ("DATABASE_URL", database.to_url()),
    ];
    env.extend_from_slice(issuer_env);
    env.extend(GATE_RATE_LIMITS.map(|(name, value)| (name, value.to_owned())));
    let spawned_at = Instant::now();
    stack.spawn_with_output(
        ENGINE_NAME,
        &settings.binary_path(ENGINE_NAME),
        &settings.workspace_root,
        &env,
        ChildOutput::File(log),
    )?;
    let rest = format!("http://{LOCAL_HOST}:{rest_port}");
    let took = stack
        .wait_ready(http, ENGINE_NAME, &rest, spawned_at)
        .await
        .context("the workflow engine did not start; see its log")?;
    say(&format!("    ready in {:.2} s", took.as_secs_f64()));
    Ok(Engine {
        gateway: format!("http://{LOCAL_HOST}:{grpc_port}"),
        rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_and_phase_is_asked_for() {
        let runner = Runner {
            executable: PathBuf::from("st"),
            max_examples: 7,
            seed: 3,
        };
        let arguments = runner.arguments("http://127.0.0.1:1/openapi.json", Path::new("st.toml"));
        let value = |flag: &str| {
            arguments
                .iter()
                .position(|a| a == flag)
                .and_then(|i| arguments.get(i + 1))
                .cloned()
        };
        assert_eq!(
            value("--checks").as_deref(),
            Some(
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_schema_conformance"
            )
        );
        assert_eq!(
            value("--phases").as_deref(),
            Some("examples,coverage,fuzzing,stateful")
        );
        assert_eq!(value("--max-examples").as_deref(), Some("7"));
        assert!(!arguments.iter().any(|a| a.starts_with("--exclude")));
    }

    #[test]
    fn throwaway_databases_live_on_the_configured_server() -> Result<()> {
        let server = DatabaseUrl::parse(settings::DEFAULT_DATABASE_URL)?;
        let throwaway = throwaway_database(&server)?;
        assert!(throwaway.database().starts_with("cpq_oms_contract_"));
        assert_eq!(throwaway.endpoint(), server.endpoint());
        Ok(())
    }
}
