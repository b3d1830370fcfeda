//! The evaluation's JSON form is a stored and published contract (audit evidence, the approval
//! request's snapshot): these tests pin it byte for byte, so moving the level names from this
//! crate's own serde helpers to `domain_kernel::access::ApprovalLevel`'s serde changed nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use approval_policy::{PolicyEvaluation, evaluate};
use common::{dec, quote};
use serde_json::json;

#[test]
fn an_evaluation_serialises_exactly_as_before() {
    let mut input = quote("45");
    input.lines[0].override_count = 1;
    input.lines[0].override_amount = dec("7");
    let evaluation = evaluate(&input).unwrap();
    let mut json = serde_json::to_value(&evaluation).unwrap();
    // The hash is pinned by the embedded-file tests; here only its place matters.
    assert_eq!(json["policy"]["sha256"].as_str().map(str::len), Some(64));
    json["policy"]["sha256"] = json!("<sha256>");
    let finding = |rule: &str, input: &str, value: &str, threshold: &str, level: &str| json!({"ruleId": rule, "input": input, "value": value, "threshold": threshold, "level": level});
    assert_eq!(
        json,
        json!({
            "policy": {
                "policyId": "quote-approval-policy",
                "version": "2",
                "sha256": "<sha256>",
                "file": "quote-approval-policy-v2.dmn"
            },
            "actorType": "HUMAN_AGENT",
            "variables": {
                "maxLineDiscountPercent": "45",
                "quoteDiscountPercent": "0",
                "discountAuthorityPercent": "10",
                "overrideCount": 1,
                "totalOverrideAmount": "7",
                "minNetPercentOfList": "55",
                "totalContractValue": "2200"
            },
            "findings": [
                finding("LINE_DISCOUNT_ABOVE_AUTHORITY", "maxLineDiscountPercent", "45", "10", "MANAGER"),
                finding("LINE_DISCOUNT_ABOVE_40", "maxLineDiscountPercent", "45", "40", "DIRECTOR"),
                finding("MANUAL_OVERRIDE", "overrideCount", "1", "0", "MANAGER"),
                finding("MANUAL_OVERRIDE_AMOUNT", "totalOverrideAmount", "7", "0", "MANAGER"),
            ],
            "requiredLevels": ["MANAGER", "DIRECTOR"],
            "levelInputs": [
                {
                    "level": "MANAGER",
                    "inputs": {
                        "maxLineDiscountPercent": "45",
                        "overrideCount": "1",
                        "totalOverrideAmount": "7"
                    }
                },
                {"level": "DIRECTOR", "inputs": {"maxLineDiscountPercent": "45"}}
            ]
        })
    );
    assert_eq!(
        serde_json::from_value::<PolicyEvaluation>(json)
            .unwrap()
            .findings,
        evaluation.findings
    );
}

#[test]
fn unknown_level_names_are_refused() {
    let mut json = serde_json::to_value(evaluate(&quote("45")).unwrap()).unwrap();
    json["requiredLevels"] = json!(["MANAGER", "CEO"]);
    assert!(serde_json::from_value::<PolicyEvaluation>(json.clone()).is_err());
    json["requiredLevels"] = json!(["MANAGER", "DIRECTOR"]);
    json["findings"][0]["level"] = json!("manager");
    assert!(serde_json::from_value::<PolicyEvaluation>(json).is_err());
}

/// The `policyInput` CPQ publishes with `cpq.quote.submitted.v1` for a 30 % quote (copied from
/// cpq's `policy_input` unit test; CPQ keeps its own struct, so this is the seam between them).
#[test]
fn cpq_s_published_policy_input_reads_as_a_policy_input() {
    let published = json!({
        "lines": [{
            "lineId": "a",
            "discountPercent": "30",
            "overrideCount": 0,
            "overrideAmount": "0",
            "minNetPercentOfList": "70"
        }],
        "quoteDiscountPercent": "0",
        "currency": "EUR",
        "oneTimeTotal": "700.00",
        "recurringMonthlyTotal": "70.00",
        "termMonths": 12,
        "discountAuthorityPercent": "10",
        "actorType": "HUMAN_AGENT"
    });
    let input: approval_policy::PolicyInput = serde_json::from_value(published.clone()).unwrap();
    assert_eq!(serde_json::to_value(&input).unwrap(), published);
    let evaluation = evaluate(&input).unwrap();
    assert_eq!(
        serde_json::to_value(&evaluation.required_levels).unwrap(),
        json!(["MANAGER"])
    );
}
