//! `devstack up`, `devstack seed` and `devstack topics`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dev_issuer::Directory;
use workflow_runtime::DeployedProcess;

use crate::approvers;
use crate::audit_demo::{self, AUDIT};
use crate::database::{self, DatabaseState};
use crate::demo_calls::{self, INTEGRATION};
use crate::identity;
use crate::kafka;
use crate::quote_to_cash;
use crate::say;
use crate::seed::{self, CatalogClient};
use crate::services::{self, Probe};
use crate::settings::{self, Endpoint, LOCAL_HOST, Service, Settings};
use crate::simulator::{self, Downstream, SIMULATOR_NAME, SimProbe};
use crate::supervisor::{ChildOutput, READY_TIMEOUT, Shutdown, ShutdownSignals, Stack};
use crate::token;
use crate::workflow::{self, ENGINE_NAME, WorkflowTarget};

/// The service that owns the demo data.
const CATALOG: &str = "catalog";
/// The service whose directory names the demo approvers.
const APPROVAL: &str = "approval";
/// The service that serves the operations console.
const OPS: &str = "ops";
/// The service the console sends repairs to.
const ORDER: &str = "order";

/// A plain-HTTP client for probes and the loader; local calls never go through a proxy.
fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .context("could not build the HTTP client")
}

/// Runs the stack in the foreground until a signal arrives or a service dies.
pub async fn up() -> Result<ExitCode> {
    let began = Instant::now();
    let mut signals = ShutdownSignals::install()?;
    let settings = Settings::from_env()?;
    let http = http_client()?;
    let mut stack = Stack::new();

    let started = {
        let bring_up = bring_up(&settings, &http, &mut stack);
        tokio::select! {
            result = bring_up => Some(result),
            name = signals.recv() => {
                say(&format!("==> {name} received during start-up; stopping"));
                None
            }
        }
    };
    let ready = match started {
        Some(Ok(ready)) => ready,
        Some(Err(error)) => {
            if !stack.is_empty() {
                say("==> start-up failed; stopping the services started so far");
                stack.shutdown(&mut signals).await;
            }
            return Err(error);
        }
        None => {
            stack.shutdown(&mut signals).await;
            return Ok(ExitCode::SUCCESS);
        }
    };

    identity::print_urls(&ready.issuer_url, &ready.directory);
    print_urls(&settings, &ready.deployed, &ready.downstream);
    say(&format!(
        "==> stack ready in {:.1} s. {}",
        began.elapsed().as_secs_f64(),
        if stack.is_empty() {
            "Nothing was started by this devstack; Ctrl-C to exit."
        } else {
            "Ctrl-C stops what was started here."
        }
    ));

    let code = tokio::select! {
        name = signals.recv() => {
            say(&format!("==> {name} received; stopping"));
            ExitCode::SUCCESS
        }
        exit = stack.next_exit() => {
            say(&format!(
                "==> {} exited by itself ({}); stopping everything",
                exit.name, exit.status
            ));
            ExitCode::FAILURE
        }
    };
    let started_any = !stack.is_empty();
    match stack.shutdown(&mut signals).await {
        Shutdown::Complete => {
            if started_any {
                say("==> every service this devstack started has stopped");
            }
            Ok(code)
        }
        Shutdown::Forced => Ok(ExitCode::FAILURE),
    }
}

/// What a successful start-up leaves for the summary.
#[derive(Debug)]
struct Ready {
    deployed: Vec<DeployedProcess>,
    issuer_url: String,
    directory: Directory,
    downstream: Downstream,
}

/// Checks infrastructure, prepares the database, starts what is not running (the OIDC issuer,
/// the workflow engine, the downstream simulator, then the services), deploys the process
/// definitions and loads demo data.
async fn bring_up(settings: &Settings, http: &reqwest::Client, stack: &mut Stack) -> Result<Ready> {
    check_postgres(settings).await?;
    check_redis(settings).await;

    say(&format!("==> database {}", settings.database.database()));
    match database::ensure_database(&settings.database).await? {
        DatabaseState::Existed => say("    exists"),
        DatabaseState::Created => say("    created"),
    }
    let kafka_up = ensure_kafka_topics(settings).await;

    // Probe everything before starting anything, so a foreign process on a port or a missing
    // binary fails the run before any service is up.
    let engine = probe_engine(settings, http).await?;
    let simulator = probe_simulator(settings, http).await?;
    let mut to_start = Vec::new();
    for service in &settings.services {
        let name = service.spec.name;
        match services::probe(http, name, &service.base_url()).await {
            Probe::AlreadyRunning => say(&format!(
                "==> {name} already running on port {}; leaving it alone",
                service.port
            )),
            Probe::Foreign(what) => bail!(
                "port {} is taken by something other than {name}: {what}. Stop it, or move \
                 {name} with {}=<port>",
                service.port,
                service.spec.port_env
            ),
            Probe::Free => {
                let binary = settings.binary_path(service.spec.binary);
                if !binary.is_file() {
                    bail!(
                        "the {name} binary is missing at {}; build it with `cargo build --bin {}` \
                         (./dev up builds it for you)",
                        binary.display(),
                        service.spec.binary
                    );
                }
                to_start.push((*service, binary));
            }
        }
    }

    // The issuer comes first: every service reads its discovery document (ADR 0030). One devstack
    // already serving it is left alone; it lives as long as this process otherwise.
    let directory = identity::load_directory(&settings.workspace_root)?;
    let (issuer_url, _running) = identity::provide(&settings.issuer, http, &directory).await?;
    let issuer_env = [
        ("OIDC_ISSUER", issuer_url.clone()),
        ("OIDC_AUDIENCE", directory.audience.clone()),
    ];

    // The engine comes next: services that run workflows connect to it when they start.
    let deployed = start_workflow(settings, http, stack, engine, &issuer_env).await?;

    // Then the downstream systems the integration service calls (its URLs come from the
    // simulator itself).
    let downstream = provide_simulator(settings, http, stack, simulator).await?;
    let downstream_env = downstream.integration_env()?;

    // Services start in table order, so CPQ finds the catalog it reads offerings from.
    let catalog_url = settings.service(CATALOG)?.base_url();
    let zeebe_address = settings.workflow.gateway_address();
    for (service, binary) in to_start {
        let name = service.spec.name;
        say(&format!("==> starting {name} on port {}", service.port));
        let mut env = vec![
            ("APP__SERVER__PORT", service.port.to_string()),
            ("DATABASE_URL", settings.database_url.clone()),
            ("REDIS_URL", settings.redis_url.clone()),
            ("KAFKA_BROKERS", settings.kafka_brokers.clone()),
            ("CATALOG_URL", catalog_url.clone()),
            ("ZEEBE_ADDRESS", zeebe_address.clone()),
        ];
        // The approval service completes user tasks over the engine's REST API; with an
        // external gateway (Camunda 8) it is configured by hand (docs/runbooks/approval.md).
        if let Some(rest) = settings.workflow.rest_url() {
            env.push(("WORKFLOW_REST_URL", rest));
        }
        // The integration service calls the simulator's systems (and carries its key).
        if name == INTEGRATION {
            env.extend(downstream_env.iter().cloned());
        }
        // The audit service signs checkpoints with the local stack's key.
        if name == AUDIT {
            env.extend(audit_demo::service_env());
        }
        // The console sends repairs to the order service and signs operators in at the issuer
        // with its own address as the redirect URI's.
        if name == OPS {
            env.push((
                "APP__OPS__CONSOLE_ORDER_URL",
                settings.service(ORDER)?.base_url(),
            ));
            env.push(("APP__OPS__CONSOLE_PUBLIC_URL", service.base_url()));
            // The embedded engine's incidents on the timelines (Camunda 8 has no /v1/ops).
            if let Some(rest) = settings.workflow.rest_url() {
                env.push(("APP__OPS__WORKFLOW_REST_URL", rest));
            }
        }
        env.extend(identity::service_env(
            &issuer_url,
            &directory,
            service.spec.oidc_client,
        )?);
        let spawned_at = Instant::now();
        let pid = stack.spawn(name, &binary, &settings.workspace_root, &env)?;
        say(&format!(
            "    pid {pid}; waiting up to {} s for /health/ready",
            READY_TIMEOUT.as_secs()
        ));
        let took = stack
            .wait_ready(http, name, &service.base_url(), spawned_at)
            .await?;
        say(&format!(
            "    {name} ready in {:.2} s (start to ready)",
            took.as_secs_f64()
        ));
    }

    let token = token::seed_token(http, &issuer_url, &directory).await?;
    load_demo_data(http, settings.service(CATALOG)?, token).await?;
    approvers::load_demo_approvers(
        http,
        &settings.service(APPROVAL)?.base_url(),
        &issuer_url,
        &directory,
    )
    .await
    .context("naming the demo approvers failed")?;
    // The integration service's demo data: one demo order's external calls, made for real.
    let integration = settings.service(INTEGRATION)?;
    demo_calls::run(
        http,
        &zeebe_address,
        &settings.workspace_root,
        &integration.base_url(),
        &issuer_url,
        &directory,
    )
    .await
    .context("the demo external calls failed")?;
    // The order service's demo data: one quote-to-cash through every service, ending in a
    // completed order with ACTIVE product instances. CPQ, approval and order talk over Kafka:
    // without it the flow could only wait, so it is skipped.
    if kafka_up {
        quote_to_cash::demo_data(
            http,
            &quote_to_cash::Endpoints::of(settings)?,
            &issuer_url,
            &directory,
        )
        .await;
        // The audit service's demo data: the demo quote's evidence, proved by a checkpoint.
        if let Err(error) = audit_demo::demo_data(
            http,
            &settings.service(AUDIT)?.base_url(),
            &issuer_url,
            &directory,
            Duration::from_secs(30),
        )
        .await
        {
            say(&format!(
                "    warning: the audit log's demo checkpoint: {error:#}"
            ));
        }
    } else {
        say("==> demo order skipped: Kafka is not reachable (./dev demo runs it later)");
    }
    Ok(Ready {
        deployed,
        issuer_url,
        directory,
        downstream,
    })
}

/// What to do about the downstream simulator, decided before anything starts.
#[derive(Debug)]
enum SimulatorPlan {
    /// Start the binary at this path.
    Start(PathBuf),
    /// One already answers on the control port: use it as it is.
    Reuse(Downstream),
}

/// Probes the simulator's control port: a simulator there is reused, anything else refused, and
/// a free port needs the binary built.
async fn probe_simulator(settings: &Settings, http: &reqwest::Client) -> Result<SimulatorPlan> {
    let target = &settings.simulator;
    let control_url = target.control_url();
    match simulator::probe(http, &control_url).await {
        SimProbe::AlreadyRunning(systems) => {
            say(&format!(
                "==> {SIMULATOR_NAME} already running on port {}; leaving it alone",
                target.control_port
            ));
            Ok(SimulatorPlan::Reuse(Downstream {
                control_url,
                systems,
                api_key: target.api_key.clone(),
            }))
        }
        SimProbe::Foreign(what) => bail!(
            "port {} is taken by something other than {SIMULATOR_NAME}: {what}. Stop it, or move \
             the simulator's control API with DOWNSTREAM_SIM_PORT=<port>",
            target.control_port
        ),
        SimProbe::Free => {
            for (system, port) in target.system_ports() {
                let endpoint = Endpoint {
                    host: LOCAL_HOST.to_owned(),
                    port,
                };
                if database::check_tcp(&endpoint).await.is_ok() {
                    bail!(
                        "port {port} (the simulator's {system} system) accepts connections, but \
                         no {SIMULATOR_NAME} answers on its control port {}. Stop what holds it, \
                         or move the systems with DOWNSTREAM_SIM_SYSTEMS_BASE_PORT=<port>",
                        target.control_port
                    );
                }
            }
            let binary = settings.binary_path(SIMULATOR_NAME);
            if !binary.is_file() {
                bail!(
                    "the {SIMULATOR_NAME} binary is missing at {}; build it with `cargo build \
                     --bin {SIMULATOR_NAME}` (./dev up builds it for you)",
                    binary.display()
                );
            }
            Ok(SimulatorPlan::Start(binary))
        }
    }
}

/// Starts the simulator when the plan says so (durable in `.dev/downstream-sim`), waits until
/// its control API and every system answer `/health`, and returns the system URLs it reports.
async fn provide_simulator(
    settings: &Settings,
    http: &reqwest::Client,
    stack: &mut Stack,
    plan: SimulatorPlan,
) -> Result<Downstream> {
    let binary = match plan {
        SimulatorPlan::Reuse(downstream) => return Ok(downstream),
        SimulatorPlan::Start(binary) => binary,
    };
    let target = &settings.simulator;
    let data_dir = simulator::data_dir(&settings.workspace_root);
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("could not create {}", data_dir.display()))?;
    let (first, last) = match target.system_ports().as_slice() {
        [(_, first), .., (_, last)] => (*first, *last),
        _ => bail!("the simulator has no systems"),
    };
    say(&format!(
        "==> starting {SIMULATOR_NAME} (control on port {}, systems on ports {first}-{last}; \
         data {})",
        target.control_port,
        data_dir.display()
    ));
    let spawned_at = Instant::now();
    let pid = stack.spawn_with_arguments(
        SIMULATOR_NAME,
        &binary,
        &target.arguments(&data_dir),
        &settings.workspace_root,
        &[],
        ChildOutput::Relay,
    )?;
    say(&format!(
        "    pid {pid}; waiting up to {} s for its control API and systems",
        READY_TIMEOUT.as_secs()
    ));
    let control_url = target.control_url();
    stack
        .wait_answering(
            http,
            SIMULATOR_NAME,
            &format!("{control_url}/health"),
            spawned_at,
        )
        .await?;
    let systems = simulator::systems(http, &control_url).await?;
    for url in systems.values() {
        stack
            .wait_answering(
                http,
                SIMULATOR_NAME,
                &format!("{}/health", url.trim_end_matches('/')),
                spawned_at,
            )
            .await?;
    }
    say(&format!(
        "    {SIMULATOR_NAME} ready in {:.2} s (start to ready)",
        spawned_at.elapsed().as_secs_f64()
    ));
    Ok(Downstream {
        control_url,
        systems,
        api_key: target.api_key.clone(),
    })
}

/// Decides about the embedded engine before anything starts: `Some(binary)` when devstack must
/// start it, `None` when it already runs on its ports or `ZEEBE_ADDRESS` names another gateway.
async fn probe_engine(settings: &Settings, http: &reqwest::Client) -> Result<Option<PathBuf>> {
    let WorkflowTarget::Embedded {
        grpc_port,
        rest_port,
    } = settings.workflow
    else {
        return Ok(None);
    };
    let rest_url = format!("http://{LOCAL_HOST}:{rest_port}");
    match services::probe(http, ENGINE_NAME, &rest_url).await {
        Probe::AlreadyRunning => {
            say(&format!(
                "==> {ENGINE_NAME} already running (REST on port {rest_port}); leaving it alone"
            ));
            Ok(None)
        }
        Probe::Foreign(what) => bail!(
            "port {rest_port} is taken by something other than {ENGINE_NAME}: {what}. Stop it, or \
             move the engine's REST API with WORKFLOW_REST_PORT=<port>"
        ),
        Probe::Free => {
            let grpc = Endpoint {
                host: LOCAL_HOST.to_owned(),
                port: grpc_port,
            };
            if database::check_tcp(&grpc).await.is_ok() {
                bail!(
                    "port {grpc_port} accepts connections, but no {ENGINE_NAME} answers on its REST \
                     port {rest_port}. If that is a Zeebe gateway (Camunda 8), set \
                     ZEEBE_ADDRESS=http://{grpc}; otherwise stop it or move the engine with \
                     WORKFLOW_GRPC_PORT=<port>"
                );
            }
            let binary = settings.binary_path(ENGINE_NAME);
            if !binary.is_file() {
                bail!(
                    "the {ENGINE_NAME} binary is missing at {}; build it with `cargo build --bin \
                     {ENGINE_NAME}` (./dev up builds it for you)",
                    binary.display()
                );
            }
            Ok(Some(binary))
        }
    }
}

/// Starts the embedded engine when `binary` says so and waits until its REST API is ready and its
/// gateway accepts connections, then deploys `workflow/bpmn` to whichever gateway this run uses:
/// on behalf of the approval and order services until they deploy their own files (ADR 0016).
async fn start_workflow(
    settings: &Settings,
    http: &reqwest::Client,
    stack: &mut Stack,
    binary: Option<PathBuf>,
    issuer_env: &[(&'static str, String)],
) -> Result<Vec<DeployedProcess>> {
    let address = settings.workflow.gateway_address();
    match (&settings.workflow, binary) {
        (
            WorkflowTarget::Embedded {
                grpc_port,
                rest_port,
            },
            Some(binary),
        ) => {
            say(&format!(
                "==> starting {ENGINE_NAME} (Zeebe gateway on port {grpc_port}, REST on port \
                 {rest_port})"
            ));
            let mut env = vec![
                ("APP__SERVER__PORT", grpc_port.to_string()),
                ("WORKFLOW_REST_PORT", rest_port.to_string()),
                ("DATABASE_URL", settings.database_url.clone()),
            ];
            // Its REST API verifies tokens too (ADR 0030).
            env.extend_from_slice(issuer_env);
            let spawned_at = Instant::now();
            let pid = stack.spawn(ENGINE_NAME, &binary, &settings.workspace_root, &env)?;
            say(&format!(
                "    pid {pid}; waiting up to {} s for /health/ready and the gateway port",
                READY_TIMEOUT.as_secs()
            ));
            let rest_url = format!("http://{LOCAL_HOST}:{rest_port}");
            stack
                .wait_ready(http, ENGINE_NAME, &rest_url, spawned_at)
                .await?;
            wait_for_gateway(*grpc_port, spawned_at).await?;
            say(&format!(
                "    {ENGINE_NAME} ready in {:.2} s (start to ready)",
                spawned_at.elapsed().as_secs_f64()
            ));
        }
        (WorkflowTarget::Embedded { grpc_port, .. }, None) => {
            wait_for_gateway(*grpc_port, Instant::now()).await?;
        }
        (WorkflowTarget::External { address }, _) => say(&format!(
            "==> workflow gateway at ZEEBE_ADDRESS={address} (not started by devstack)"
        )),
    }
    let dir = workflow::bpmn_dir(&settings.workspace_root);
    say(&format!(
        "==> deploying {} to {address}",
        workflow::BPMN_DIR
    ));
    let deployed = workflow::deploy(&address, &dir).await?;
    say(&format!(
        "    {} (unchanged files keep their version)",
        workflow::describe(&deployed)
    ));
    Ok(deployed)
}

/// Waits for the engine's gateway port to accept connections (it binds it before its REST API, so
/// this normally passes at once).
async fn wait_for_gateway(grpc_port: u16, since: Instant) -> Result<()> {
    let endpoint = Endpoint {
        host: LOCAL_HOST.to_owned(),
        port: grpc_port,
    };
    loop {
        match database::check_tcp(&endpoint).await {
            Ok(()) => return Ok(()),
            Err(why) if since.elapsed() >= READY_TIMEOUT => bail!(
                "{ENGINE_NAME} answers on REST but its gateway port {grpc_port} does not accept \
                 connections ({why}); was it started with another APP__SERVER__PORT? Set \
                 WORKFLOW_GRPC_PORT to match"
            ),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// PostgreSQL holds the truth: without it nothing can start.
async fn check_postgres(settings: &Settings) -> Result<()> {
    let shown = settings::redact(&settings.database_url);
    match settings.database.endpoint() {
        Some(endpoint) => {
            say(&format!(
                "==> PostgreSQL at {endpoint} (DATABASE_URL={shown})"
            ));
            if let Err(why) = database::check_tcp(endpoint).await {
                bail!(
                    "PostgreSQL is not reachable at {endpoint} ({why}). Start it, or set \
                     DATABASE_URL to a running server (currently {shown})"
                );
            }
            say("    reachable");
        }
        None => say(&format!(
            "==> PostgreSQL via a Unix socket (DATABASE_URL={shown}); psql will check it"
        )),
    }
    Ok(())
}

/// Redis only accelerates: when it is down the services run slower, so this only warns.
async fn check_redis(settings: &Settings) {
    let shown = settings::redact(&settings.redis_url);
    match settings::redis_endpoint(&settings.redis_url) {
        Ok(Some(endpoint)) => {
            say(&format!("==> Redis at {endpoint} (REDIS_URL={shown})"));
            match database::check_tcp(&endpoint).await {
                Ok(()) => say("    reachable"),
                Err(why) => say(&format!(
                    "    warning: Redis is not reachable ({why}); services will run without \
                     their cache"
                )),
            }
        }
        Ok(None) => say(&format!(
            "==> Redis at REDIS_URL={shown}: not a TCP URL, not checked"
        )),
        Err(error) => say(&format!("    warning: {error:#}; not checked")),
    }
}

/// Services commit their events to their outbox and a relay publishes them later, so the stack
/// runs while Kafka is down; this only warns, and events wait until Kafka and the topics exist.
/// Returns whether Kafka answered (the demo quote-to-cash needs it).
async fn ensure_kafka_topics(settings: &Settings) -> bool {
    match kafka::ensure_topics(&settings.kafka_brokers, kafka::Report::Changes).await {
        Ok(_) => true,
        Err(error) => {
            say(&format!(
                "    warning: {error:#}; services will start, and their events wait in the \
                 outbox until Kafka is reachable and `devstack topics` has run"
            ));
            false
        }
    }
}

/// Loads the demo catalog as the `devstack` client (its `token`) and prints the summary line.
async fn load_demo_data(http: &reqwest::Client, catalog: Service, token: String) -> Result<()> {
    say(&format!(
        "==> loading demo data through {}",
        catalog.base_url()
    ));
    let client = CatalogClient::new(http.clone(), catalog.base_url(), token);
    let summary = seed::load_demo_catalog(&client)
        .await
        .context("loading demo data failed")?;
    say(&format!("==> demo data: {summary}"));
    Ok(())
}

/// Where to look next: the workflow gateway and what it holds, the downstream simulator, every
/// service's entry points and one request to try.
fn print_urls(settings: &Settings, deployed: &[DeployedProcess], downstream: &Downstream) {
    say("==> workflow");
    let address = settings.workflow.gateway_address();
    match settings.workflow.rest_url() {
        Some(rest) => {
            say(&format!(
                "    {ENGINE_NAME}  gateway {address} (Zeebe gRPC; ZEEBE_ADDRESS for job workers)"
            ));
            for (label, path) in [
                ("tasks", "/v2/user-tasks/search"),
                ("ops", "/v1/ops/process-instances"),
                ("incidents", "/v1/ops/incidents"),
                ("docs", "/docs"),
            ] {
                say(&format!("      {label:<9} {rest}{path}"));
            }
            say(&format!(
                "      try       curl -s -H \"Authorization: Bearer $(./dev token manager1)\" \
                 -H 'Content-Type: application/json' -d \
                 '{{\"filter\":{{\"state\":\"CREATED\"}}}}' '{rest}/v2/user-tasks/search'"
            ));
        }
        None => say(&format!(
            "    gateway {address} (ZEEBE_ADDRESS; its Operate and Tasklist show the instances)"
        )),
    }
    say(&format!("      deployed  {}", workflow::describe(deployed)));

    say("==> downstream systems (the integration service's; fault injection for drills)");
    let control = &downstream.control_url;
    say(&format!("    {SIMULATOR_NAME}  control {control}"));
    for system in &simulator::SYSTEMS {
        if let Some(url) = downstream.systems.get(system.name) {
            say(&format!("      {:<12} {url}", system.name));
        }
    }
    for (label, path) in [("effects", "/effects"), ("faults", "/faults")] {
        say(&format!("      {label:<12} {control}{path}"));
    }
    say(&format!(
        "      try          curl -s -XPOST {control}/faults -H 'Content-Type: application/json' \
         -d '{{\"system\":\"provisioning\",\"operation\":\"activate\",\"mode\":\"ERROR_5XX\",\
         \"times\":2}}'; ./dev demo-calls"
    ));
    say(
        "==> quote-to-cash: ./dev demo (a quote of the demo catalog, approved, accepted, \
         converted and fulfilled; prints its timeline, tasks and assets)",
    );

    say("==> services");
    for service in &settings.services {
        let base = service.base_url();
        say(&format!("    {}  {base}", service.spec.name));
        for (label, path) in [
            ("docs", "/docs"),
            ("openapi", "/openapi.json"),
            ("metrics", "/metrics"),
            ("ready", "/health/ready"),
        ] {
            say(&format!("      {label:<8} {base}{path}"));
        }
        say(&format!(
            "      try      curl -s -H \"Authorization: Bearer $(./dev token {})\" '{base}{}'",
            service.spec.example_user, service.spec.example_path
        ));
        if service.spec.name == OPS {
            say(&format!(
                "      console  {base}/console (sign in as ops1 / demo; opslead1 may rebuild)"
            ));
        }
    }
}

/// Creates the declared Kafka topics that are missing; fails when Kafka cannot be reached.
pub async fn topics() -> Result<ExitCode> {
    let brokers = settings::env_or("KAFKA_BROKERS", settings::DEFAULT_KAFKA_BROKERS);
    let states = kafka::ensure_topics(&brokers, kafka::Report::EveryTopic).await?;
    let created = states
        .iter()
        .filter(|(_, state)| *state == kafka::TopicState::Created)
        .count();
    say(&format!(
        "==> topics: {created} created, {} already present",
        states.len() - created
    ));
    Ok(ExitCode::SUCCESS)
}

/// Loads demo data into an already running catalog, and names the demo approvers when the
/// approval service runs.
pub async fn seed() -> Result<ExitCode> {
    let settings = Settings::from_env()?;
    let http = http_client()?;
    let catalog = settings.service(CATALOG)?;
    match services::probe(&http, CATALOG, &catalog.base_url()).await {
        Probe::AlreadyRunning => {}
        Probe::Free => bail!(
            "catalog is not running at {} (start the stack with ./dev up, or set {} if it runs \
             on another port)",
            catalog.base_url(),
            catalog.spec.port_env
        ),
        Probe::Foreign(what) => bail!("port {} does not belong to catalog: {what}", catalog.port),
    }
    let directory = identity::load_directory(&settings.workspace_root)?;
    let token = token::seed_token(&http, &settings.issuer.url(), &directory).await?;
    load_demo_data(&http, catalog, token).await?;
    let approval = settings.service(APPROVAL)?;
    if matches!(
        services::probe(&http, APPROVAL, &approval.base_url()).await,
        Probe::AlreadyRunning
    ) {
        approvers::load_demo_approvers(
            &http,
            &approval.base_url(),
            &settings.issuer.url(),
            &directory,
        )
        .await?;
    } else {
        say("==> approval is not running: the demo approvers are named when it runs (./dev seed)");
    }
    Ok(ExitCode::SUCCESS)
}
