//! A delegation's guards: not to oneself, a non-empty window, and no cycle in time.

use crate::guard::{GuardCase, assert_accepted, assert_refused, delegate};
use crate::support::app_pool;

const DELEGATIONS: &[GuardCase] = &[
    GuardCase {
        name: "self",
        setup: &[],
        statement: delegate("ann", "ann", 0, 5),
        refusal: "approval_delegation_not_self",
    },
    GuardCase {
        name: "empty",
        setup: &[],
        statement: delegate("ann", "bob", 5, 5),
        refusal: "approval_delegation_window",
    },
    GuardCase {
        name: "cycle",
        setup: &[delegate("ann", "bob", 0, 10)],
        statement: delegate("bob", "ann", 5, 15),
        refusal: "approval_delegation_cycle",
    },
];

#[tokio::test]
async fn delegations_refuse_self_and_cycles() {
    let (_database, app) = app_pool().await;
    assert_refused(&app, "acme", DELEGATIONS).await;
    assert_accepted(
        &app,
        "acme",
        "back-to-back delegations each way",
        &[
            delegate("ann", "bob", 0, 10),
            delegate("bob", "ann", 10, 20),
        ],
    )
    .await;
}
