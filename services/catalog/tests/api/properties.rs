//! Property test over random command sequences against the real service: whatever clients do,
//! a version's content never changes once it left DRAFT, lifecycle dates are written once, at
//! most one version is on sale and at most one is being worked on, and no command answers 5xx.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::TestApp;

#[derive(Debug, Clone)]
enum Op {
    Lifecycle(&'static str, Option<i32>),
    Edit(i32),
    NewVersion,
}

fn op() -> impl Strategy<Value = Op> {
    let target = proptest::option::of(1..=3i32);
    prop_oneof![
        3 => (proptest::sample::select(vec!["submit-for-review", "return-to-draft", "publish", "retire", "archive"]), target)
            .prop_map(|(c, v)| Op::Lifecycle(c, v)),
        1 => (1..=3i32).prop_map(Op::Edit),
        1 => Just(Op::NewVersion),
    ]
}

const LIFECYCLE_FIELDS: [&str; 6] = [
    "status",
    "submittedAt",
    "publishedAt",
    "retiredAt",
    "archivedAt",
    "aggregateVersion",
];

fn content_of(view: &Value) -> Value {
    let mut content = view.clone();
    if let Value::Object(map) = &mut content {
        for field in LIFECYCLE_FIELDS {
            map.remove(field);
        }
    }
    content
}

async fn versions(app: &TestApp, offering: Uuid) -> Vec<Value> {
    let summary: Value = app
        .get(&format!("/product-offerings/{offering}"))
        .await
        .json()
        .await
        .unwrap();
    let mut out = Vec::new();
    for v in summary["versions"].as_array().unwrap() {
        out.push(
            app.version(
                offering,
                i32::try_from(v["version"].as_i64().unwrap()).unwrap(),
            )
            .await,
        );
    }
    out
}

async fn run_sequence(app: &TestApp, case: usize, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let offering = app.create_offering(&format!("PROP-{case}")).await;
    let mut frozen: HashMap<i64, Value> = HashMap::new();
    let mut dates: HashMap<(i64, &'static str), Value> = HashMap::new();
    for (step, op) in ops.iter().enumerate() {
        let response = match op {
            Op::Lifecycle(command, version) => {
                let body = version.map_or_else(|| json!({}), |v| json!({"version": v}));
                app.post(&format!("/product-offerings/{offering}/{command}"), &body)
                    .await
            }
            Op::Edit(version) => {
                app.patch(
                    &format!("/product-offerings/{offering}/versions/{version}"),
                    &json!({"name": format!("Edit {step}")}),
                )
                .await
            }
            Op::NewVersion => {
                app.post(
                    &format!("/product-offerings/{offering}/versions"),
                    &json!({"description": format!("Derived at {step}")}),
                )
                .await
            }
        };
        let status = response.status();
        prop_assert!(
            status.is_success() || status.is_client_error(),
            "{op:?} answered {status}"
        );

        let all = versions(app, offering).await;
        let published = all.iter().filter(|v| v["status"] == "PUBLISHED").count();
        let working = all
            .iter()
            .filter(|v| v["status"] == "DRAFT" || v["status"] == "READY_FOR_REVIEW")
            .count();
        prop_assert!(
            published <= 1,
            "{published} published versions after {op:?}"
        );
        prop_assert!(working <= 1, "{working} working versions after {op:?}");
        for view in &all {
            let number = view["version"].as_i64().unwrap();
            if view["status"] != "DRAFT" {
                let content = content_of(view);
                match frozen.get(&number) {
                    // READY_FOR_REVIEW may return to DRAFT and be edited: only content frozen
                    // since publication is final.
                    Some(previous) if view["publishedAt"].is_string() => {
                        prop_assert_eq!(
                            previous,
                            &content,
                            "version {} changed after publication",
                            number
                        );
                    }
                    _ => {
                        frozen.insert(number, content);
                    }
                }
            }
            for field in ["publishedAt", "retiredAt", "archivedAt"] {
                if view[field].is_string() {
                    let first = dates
                        .entry((number, field))
                        .or_insert_with(|| view[field].clone());
                    prop_assert_eq!(
                        &*first,
                        &view[field],
                        "{} of version {} was rewritten",
                        field,
                        number
                    );
                }
            }
        }
    }
    Ok(())
}

#[test]
fn random_command_sequences_never_change_a_published_version() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(TestApp::spawn());
    let cases = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..16), |ops| {
        let case = cases.fetch_add(1, Ordering::SeqCst);
        runtime.block_on(run_sequence(&app, case, ops))
    });
    runtime.block_on(app.stop());
    if let Err(error) = result {
        panic!("{error}");
    }
    assert!(cases.load(Ordering::SeqCst) >= 24);
}
