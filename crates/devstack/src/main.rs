//! `devstack`: runs the cpq-oms services on this machine without Docker.
//!
//! `devstack up` checks PostgreSQL and Redis, creates the database and the Kafka topics, runs the
//! development OIDC issuer, starts the embedded workflow engine and deploys `workflow/bpmn`, starts
//! the downstream simulator and every service that is not already running, waits for readiness,
//! loads the demo catalog through the HTTP API, runs one demo order's external calls and one
//! quote-to-cash (unless the demo customer has an order already), prints where everything is,
//! and on Ctrl-C stops exactly the processes it started.
//! `devstack seed` only loads the demo catalog into services that are already running.
//! `devstack demo` runs one more quote-to-cash through the running stack, with its timeline.
//! `devstack demo-calls` runs one more demo order's external calls through the running stack.
//! `devstack topics` creates the declared Kafka topics that are missing.
//! `devstack contract-check` runs the contract conformance gate: every service against a throwaway
//! database, tested by schemathesis against the contract it serves (ADR 0029).
//! `devstack token <user>` prints a demo user's access token from the running issuer (ADR 0030).
#![expect(
    clippy::print_stdout,
    reason = "devstack is a terminal tool: its progress lines on stdout are the interface"
)]

mod approvers;
mod audit_demo;
mod catalog_client;
mod commands;
mod contract_check;
mod contract_data;
mod database;
mod demo_calls;
mod demo_content;
mod identity;
mod kafka;
mod quote_to_cash;
mod seed;
mod services;
mod settings;
mod simulator;
mod supervisor;
mod token;
mod workflow;

use std::process::ExitCode;

/// What `devstack help` (and any unknown command) prints.
const USAGE: &str = "\
usage: devstack <command>

commands:
  up     check PostgreSQL/Redis, create the database and the Kafka topics, run the development
         OIDC issuer, start the workflow engine and deploy workflow/bpmn, start the downstream
         simulator and the services that are not running, load demo data (the catalog, the
         approvers, one demo order's external calls, one completed quote-to-cash unless the
         demo customer has an order), and stay in the foreground until Ctrl-C (Ctrl-C stops
         only what it started; PostgreSQL, Redis and Kafka keep running)
  seed   load the demo data into already running services
  demo   one quote-to-cash over the running stack as the demo users: sales1 quotes Business
         Internet, a Managed Router and a Static IP add-on, prices, submits (the demo approver
         decides when approval is needed), accepts and converts; the order is fulfilled to
         COMPLETED. Prints a timeline (wall clock, ms since the start), the order's tasks, the
         product instances and the subscription; exits non-zero on FALLOUT, FAILED or a timeout
  demo-calls
         run one more demo order's external calls (reserve inventory, activate a service, start
         a charge) through the running engine, integration workers and downstream simulator,
         and print their outcome (inject a fault first to see retries, refusals or
         reconciliation)
  topics create the Kafka topics declared in contracts/topics.json that are missing
  contract-check
         start every service on free ports against a throwaway database (Kafka off), with the
         workflow engine and the downstream simulator (the order service without the engine),
         load the demo data (the catalog, one demo order's external calls, one direct order),
         run schemathesis against each service's /openapi.json
         (all phases, checks not_a_server_error, status_code_conformance,
         content_type_conformance and response_schema_conformance), stop everything, drop the
         database; exits non-zero on any finding
  token <user>
         print a demo user's access token (password grant, password demo, client cpq-portal)
         from the running issuer; nothing else on stdout
  token --client <client_id>
         print a service account's token (client_credentials; the secret comes from
         deploy/identity/demo-identities.json)
  help   show this text

environment:
  DATABASE_URL   default postgres://postgres@127.0.0.1:5432/cpq_oms_platform
  REDIS_URL      default redis://127.0.0.1:6379
  KAFKA_BROKERS  default 127.0.0.1:9092 (comma-separated bootstrap servers)
  CATALOG_PORT   default 8081
  CPQ_PORT       default 8082 (CPQ reads the catalog at the catalog port)
  APPROVAL_PORT, ORDER_PORT, INTEGRATION_PORT, AUDIT_PORT, OPS_PORT  default 8083, 8084,
                 8085, 8086, 8087
                 (order reads the catalog and runs order-fulfillment on the stack's engine)
  DOWNSTREAM_SIM_PORT  default 8095 (the downstream simulator's control API; a simulator already
                 answering there is used as it is)
  DOWNSTREAM_SIM_SYSTEMS_BASE_PORT  default 8096 (its six systems on 8096-8101)
  DOWNSTREAM_SIM_API_KEY  unset; when set, the simulator's systems demand it as a bearer token and
                 the integration service sends it
  WORKFLOW_GRPC_PORT  default 26500 (the embedded engine's Zeebe gateway)
  WORKFLOW_REST_PORT  default 8090 (its user-task API and operator views)
  ZEEBE_ADDRESS  http://host:port of a gateway devstack does not run (e.g. Camunda 8): the
                 engine is not started, workflow/bpmn is only deployed there
  OIDC_PORT      default 8079 (the development OIDC issuer devstack runs)
  OIDC_ISSUER    issuer URL of an OIDC provider devstack does not run (e.g. Keycloak from
                 deploy/docker-compose.yml: http://127.0.0.1:8079/realms/cpq-oms); services, the
                 seed and `token` use it
  CARGO_TARGET_DIR  where the service binaries were built (default <workspace>/target)
  SCHEMATHESIS   the `st` executable for contract-check (default .dev/schemathesis/bin/st,
                 installed by ./dev test, else st on PATH)
  CONTRACT_CHECK_MAX_EXAMPLES  test cases per operation and phase (default 40)
  CONTRACT_CHECK_SEED          schemathesis' seed (default 29; the same code gets the same verdict)";

/// Prints one progress line.
pub(crate) fn say(line: &str) {
    println!("{line}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut token_request = None;
    let command = match args.as_slice() {
        [command] if command != "token" => command.as_str(),
        [command, rest @ ..] if command == "token" => {
            token_request = token::TokenRequest::parse(rest);
            if token_request.is_none() {
                eprintln!("usage: devstack token <user> | devstack token --client <client_id>");
                return ExitCode::from(2);
            }
            "token"
        }
        _ => "",
    };
    match command {
        "token" => {}
        "up" | "seed" | "topics" | "contract-check" | "demo" | "demo-calls" => {}
        "help" | "-h" | "--help" => {
            say(USAGE);
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("devstack: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            "up" => commands::up().await,
            "topics" => commands::topics().await,
            "contract-check" => contract_check::contract_check().await,
            "demo" => quote_to_cash::command().await,
            "demo-calls" => demo_calls::command().await,
            "token" => match token_request {
                Some(request) => token::command(request).await,
                None => Ok(ExitCode::from(2)),
            },
            _ => commands::seed().await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("devstack: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
