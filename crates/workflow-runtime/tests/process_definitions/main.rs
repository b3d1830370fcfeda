//! The platform's own process definitions (`workflow/bpmn/`) deployed with `deploy_directory`
//! (twice, as every restart does), and `order-fulfillment` driven end to end over gRPC as the
//! order service drives it: jobs executed by runtime workers whose in-test handlers stand in for
//! the order service's commands (`order.*`, with an `order.advance` that plans a fixed DAG held
//! in the test) and for the integration service's external-call workers (`integration.*`,
//! answering as `integration::workers` maps its outcomes), outcomes read from the operator
//! views (`/v1/ops`). The variables, job types and error codes used here are the contract
//! written down in `workflow/README.md`. `quote-approval` runs with the approval service's real
//! workers in `services/approval/tests/scenarios/`; the real integration workers run a one-task
//! probe process in `services/integration/tests/fulfilment/`.
//!
//! Always the embedded engine on a fresh database: the operator views exist only there
//! (Camunda 8 shows the same through Operate), so `ZEEBE_ADDRESS` does not redirect this suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faults;
mod plan;
mod plan_loop;
mod platform;
mod stand_ins;

use reqwest::StatusCode;
use serde_json::json;
use workflow_runtime::deploy_directory;

use platform::{Platform, bpmn_dir};

const QUOTE_APPROVAL: &str = "quote-approval";
const ORDER_FULFILLMENT: &str = "order-fulfillment";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_definitions_deploy_from_the_directory_and_a_second_deployment_changes_nothing() {
    let platform = Platform::start().await;
    let names: Vec<(&str, &str, i32)> = platform
        .deployed
        .iter()
        .map(|p| {
            (
                p.bpmn_process_id.as_str(),
                p.resource_name.as_str(),
                p.version,
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            (ORDER_FULFILLMENT, "order-fulfillment.bpmn", 1),
            (QUOTE_APPROVAL, "quote-approval.bpmn", 1),
        ]
    );
    // A third start (say, the approval service after the order service) still finds version 1.
    let third = deploy_directory(platform.gateway.client(), bpmn_dir())
        .await
        .expect("deploys");
    assert_eq!(third, platform.deployed);
    let (status, page) = platform
        .get("/v1/ops/process-instances?bpmnProcessId=quote-approval")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["totalCount"], json!(0), "deploying starts nothing");
}
