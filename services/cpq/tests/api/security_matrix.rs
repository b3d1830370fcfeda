//! The whole operation × role matrix (ADR 0030): every operation of the contract CPQ serves,
//! called validly (a quote in the state the command needs, a body it accepts) by a caller
//! holding exactly one role, for every role, and by a caller holding none. The expectation
//! comes from `domain_kernel::access::roles_for` through the sweep's operation → action
//! mapping: a permitted caller gets the command's success, a refused one 403 problem+json
//! `FORBIDDEN_ACTION` naming the action, and refusals leave the database untouched.

use std::collections::BTreeSet;

use domain_kernel::access::{Role, roles_for};
use futures::future::join_all;
use uuid::Uuid;

use crate::harness::{TENANT, TestApp, issuer};
use crate::security_support::{
    MAPPED, Probe, Stage, answer, footprint, probe_of, quotes_in, request, served_operations,
};

/// A caller of the sweep: a name and its roles.
struct Caller {
    name: String,
    roles: Vec<Role>,
    token: String,
}

fn callers() -> Vec<Caller> {
    let mut callers: Vec<(String, Vec<Role>)> = Role::ALL
        .iter()
        .map(|role| (role.as_str().to_owned(), vec![*role]))
        .collect();
    callers.push(("no role".to_owned(), Vec::new()));
    callers
        .into_iter()
        .map(|(name, roles)| {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let token = issuer().token_as(TENANT, &format!("matrix-{name}"), &names, Some("10"));
            Caller { name, roles, token }
        })
        .collect()
}

/// Whether the permission table lets `caller` take the probe's action.
fn permitted(probe: &Probe, caller: &Caller) -> bool {
    roles_for(probe.action)
        .iter()
        .any(|role| caller.roles.contains(role))
}

#[tokio::test]
async fn every_operation_answers_every_role_as_the_permission_table_says() {
    let app = TestApp::spawn().await;
    let operations = served_operations(&app).await;
    let served: BTreeSet<&str> = operations.iter().map(|o| o.operation_id.as_str()).collect();
    let mapped: BTreeSet<&str> = MAPPED.into_iter().collect();
    assert_eq!(
        served, mapped,
        "the sweep maps exactly the served operations"
    );
    let probes: Vec<Probe> = operations.iter().map(|o| probe_of(&app, o)).collect();
    let callers = callers();

    // One quote per permitted caller of each command (each changes its quote), at least one
    // for the refusals, which come first; reads share one quote.
    let wanted: Vec<(Stage, usize)> = operations
        .iter()
        .zip(&probes)
        .map(|(operation, probe)| {
            let permitted = callers.iter().filter(|c| permitted(probe, c)).count();
            let count = if probe.stage == Stage::NoQuote {
                0
            } else if operation.method == "GET" {
                1
            } else {
                permitted.max(1)
            };
            (probe.stage, count)
        })
        .collect();
    let quotes = quotes_in(&app, &wanted).await;
    let quote = |o: usize, i: usize| {
        let own = &quotes[o];
        if own.is_empty() {
            Uuid::nil()
        } else {
            own[i.min(own.len() - 1)]
        }
    };

    // Refusals: all at once, each with its own Idempotency-Key, and nothing written.
    let before = footprint(&app).await;
    let mut refusals = Vec::new();
    for (o, (operation, probe)) in operations.iter().zip(&probes).enumerate() {
        for caller in callers.iter().filter(|c| !permitted(probe, c)) {
            let mut builder = request(&app, operation, probe, quote(o, 0), Some(&caller.token));
            if operation.method != "GET" {
                builder = builder.header("Idempotency-Key", format!("matrix-{o}-{}", caller.name));
            }
            let what = format!(
                "{} {} as {}",
                operation.method, operation.template, caller.name
            );
            refusals
                .push(async move { (what, probe, answer(builder.send().await.unwrap()).await) });
        }
    }
    let refused = join_all(refusals).await;
    for (what, probe, (status, content_type, body)) in &refused {
        assert_eq!(*status, 403, "{what}: the table refuses it; got {body}");
        assert_eq!(content_type, "application/problem+json", "{what}");
        assert_eq!(body["code"], "FORBIDDEN_ACTION", "{what}: {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(&probe.action.name()),
            "{what}: the refusal names {}: {body}",
            probe.action.name()
        );
    }
    assert!(
        footprint(&app).await == before,
        "a refused request wrote something"
    );

    // Permissions: every permitted caller gets the success of a valid request.
    let mut grants = Vec::new();
    for (o, (operation, probe)) in operations.iter().zip(&probes).enumerate() {
        let permitted_callers = callers.iter().filter(|c| permitted(probe, c));
        for (i, caller) in permitted_callers.enumerate() {
            let builder = request(&app, operation, probe, quote(o, i), Some(&caller.token));
            let what = format!(
                "{} {} as {}",
                operation.method, operation.template, caller.name
            );
            grants.push(async move { (what, probe, answer(builder.send().await.unwrap()).await) });
        }
    }
    let granted = join_all(grants).await;
    for (what, probe, (status, _, body)) in &granted {
        assert_eq!(
            *status, probe.success,
            "{what}: the table permits it; got {body}"
        );
    }

    // Every cell of the matrix was asked, and the table both permits and refuses something.
    assert_eq!(
        refused.len() + granted.len(),
        operations.len() * callers.len()
    );
    assert!(!refused.is_empty() && !granted.is_empty());
    app.stop().await;
}
