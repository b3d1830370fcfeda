//! The policy's examples table: each case names the input, the chain it must give and the
//! rules that must fire (with value and threshold), evaluated by the real DMN engine on the
//! embedded table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use approval_policy::{Finding, PolicyInput, evaluate};
use common::{dec, line, quote};
use domain_kernel::access::ApprovalLevel::{self, Director, Finance, Manager};

struct Case {
    name: &'static str,
    input: PolicyInput,
    levels: Vec<ApprovalLevel>,
    /// (rule id, input, value, threshold, level), in the table's rule order.
    findings: Vec<(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        ApprovalLevel,
    )>,
}

fn with(mut input: PolicyInput, change: impl FnOnce(&mut PolicyInput)) -> PolicyInput {
    change(&mut input);
    input
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "0 % needs nobody",
            input: quote("0"),
            levels: vec![],
            findings: vec![],
        },
        Case {
            name: "10 % within a 10 % authority needs nobody",
            input: quote("10"),
            levels: vec![],
            findings: vec![],
        },
        Case {
            name: "15 % above a 10 % authority needs a manager",
            input: quote("15"),
            levels: vec![Manager],
            findings: vec![(
                "LINE_DISCOUNT_ABOVE_AUTHORITY",
                "maxLineDiscountPercent",
                "15",
                "10",
                Manager,
            )],
        },
        Case {
            name: "15 % within a 25 % authority needs nobody",
            input: with(quote("15"), |q| q.discount_authority_percent = dec("25")),
            levels: vec![],
            findings: vec![],
        },
        Case {
            name: "30 % needs a manager only",
            input: quote("30"),
            levels: vec![Manager],
            findings: vec![(
                "LINE_DISCOUNT_ABOVE_AUTHORITY",
                "maxLineDiscountPercent",
                "30",
                "10",
                Manager,
            )],
        },
        Case {
            name: "40 % exactly is not above 40",
            input: quote("40"),
            levels: vec![Manager],
            findings: vec![(
                "LINE_DISCOUNT_ABOVE_AUTHORITY",
                "maxLineDiscountPercent",
                "40",
                "10",
                Manager,
            )],
        },
        Case {
            name: "45 % needs a manager then a director",
            input: quote("45"),
            levels: vec![Manager, Director],
            findings: vec![
                (
                    "LINE_DISCOUNT_ABOVE_AUTHORITY",
                    "maxLineDiscountPercent",
                    "45",
                    "10",
                    Manager,
                ),
                (
                    "LINE_DISCOUNT_ABOVE_40",
                    "maxLineDiscountPercent",
                    "45",
                    "40",
                    Director,
                ),
            ],
        },
        Case {
            name: "the largest line decides",
            input: with(quote("5"), |q| q.lines.push(line("b", "12.5"))),
            levels: vec![Manager],
            findings: vec![(
                "LINE_DISCOUNT_ABOVE_AUTHORITY",
                "maxLineDiscountPercent",
                "12.5",
                "10",
                Manager,
            )],
        },
        Case {
            name: "a quote-level discount is tested too",
            input: with(quote("0"), |q| q.quote_discount_percent = dec("42")),
            levels: vec![Manager, Director],
            findings: vec![
                (
                    "QUOTE_DISCOUNT_ABOVE_AUTHORITY",
                    "quoteDiscountPercent",
                    "42",
                    "10",
                    Manager,
                ),
                (
                    "QUOTE_DISCOUNT_ABOVE_40",
                    "quoteDiscountPercent",
                    "42",
                    "40",
                    Director,
                ),
            ],
        },
        Case {
            name: "a manual override needs a manager",
            input: with(quote("0"), |q| {
                q.lines[0].override_count = 1;
                q.lines[0].override_amount = dec("10.00");
                q.lines[0].min_net_percent_of_list = Some(dec("90"));
            }),
            levels: vec![Manager],
            findings: vec![
                ("MANUAL_OVERRIDE", "overrideCount", "1", "0", Manager),
                (
                    "MANUAL_OVERRIDE_AMOUNT",
                    "totalOverrideAmount",
                    "10",
                    "0",
                    Manager,
                ),
            ],
        },
        Case {
            name: "an override that raises the price still needs a manager",
            input: with(quote("0"), |q| {
                q.lines[0].override_count = 1;
                q.lines[0].override_amount = dec("-5");
            }),
            levels: vec![Manager],
            findings: vec![("MANUAL_OVERRIDE", "overrideCount", "1", "0", Manager)],
        },
        Case {
            name: "net below half of list needs a director only",
            input: with(quote("0"), |q| {
                q.discount_authority_percent = dec("100");
                q.lines[0].min_net_percent_of_list = Some(dec("49.99"));
            }),
            levels: vec![Director],
            findings: vec![(
                "BELOW_PRICE_FLOOR",
                "minNetPercentOfList",
                "49.99",
                "50",
                Director,
            )],
        },
        Case {
            name: "net at exactly half of list is not below the floor",
            input: with(quote("0"), |q| {
                q.lines[0].min_net_percent_of_list = Some(dec("50"))
            }),
            levels: vec![],
            findings: vec![],
        },
        Case {
            name: "a big contract needs finance",
            input: with(quote("0"), |q| {
                q.one_time_total = dec("100000.01");
                q.recurring_monthly_total = dec("25000");
                q.term_months = 36;
            }),
            levels: vec![Finance],
            findings: vec![(
                "CONTRACT_VALUE_ABOVE_FINANCE_LIMIT",
                "totalContractValue",
                "1000000.01",
                "1000000",
                Finance,
            )],
        },
        Case {
            name: "a contract of exactly 1 000 000 needs nobody",
            input: with(quote("0"), |q| {
                q.one_time_total = dec("100000");
                q.recurring_monthly_total = dec("25000");
                q.term_months = 36;
            }),
            levels: vec![],
            findings: vec![],
        },
        Case {
            name: "everything at once: manager, director, finance in chain order",
            input: with(quote("45"), |q| {
                q.lines[0].override_count = 2;
                q.lines[0].override_amount = dec("300");
                q.lines[0].min_net_percent_of_list = Some(dec("30"));
                q.recurring_monthly_total = dec("50000");
                q.term_months = 24;
            }),
            levels: vec![Manager, Director, Finance],
            findings: vec![
                (
                    "LINE_DISCOUNT_ABOVE_AUTHORITY",
                    "maxLineDiscountPercent",
                    "45",
                    "10",
                    Manager,
                ),
                (
                    "LINE_DISCOUNT_ABOVE_40",
                    "maxLineDiscountPercent",
                    "45",
                    "40",
                    Director,
                ),
                ("MANUAL_OVERRIDE", "overrideCount", "2", "0", Manager),
                (
                    "MANUAL_OVERRIDE_AMOUNT",
                    "totalOverrideAmount",
                    "300",
                    "0",
                    Manager,
                ),
                (
                    "BELOW_PRICE_FLOOR",
                    "minNetPercentOfList",
                    "30",
                    "50",
                    Director,
                ),
                (
                    "CONTRACT_VALUE_ABOVE_FINANCE_LIMIT",
                    "totalContractValue",
                    "1201000",
                    "1000000",
                    Finance,
                ),
            ],
        },
        Case {
            name: "floor breach and big contract skip the manager",
            input: with(quote("0"), |q| {
                q.lines[0].min_net_percent_of_list = Some(dec("45"));
                q.one_time_total = dec("2000000");
            }),
            levels: vec![Director, Finance],
            findings: vec![
                (
                    "BELOW_PRICE_FLOOR",
                    "minNetPercentOfList",
                    "45",
                    "50",
                    Director,
                ),
                (
                    "CONTRACT_VALUE_ABOVE_FINANCE_LIMIT",
                    "totalContractValue",
                    "2001200",
                    "1000000",
                    Finance,
                ),
            ],
        },
        Case {
            name: "a portal user has no authority: 1 % needs a manager",
            input: with(quote("1"), |q| {
                q.discount_authority_percent = dec("0");
                q.actor_type = domain_kernel::ActorType::CustomerPortalUser;
            }),
            levels: vec![Manager],
            findings: vec![(
                "LINE_DISCOUNT_ABOVE_AUTHORITY",
                "maxLineDiscountPercent",
                "1",
                "0",
                Manager,
            )],
        },
    ]
}

#[test]
fn examples_give_the_expected_chain_and_findings() {
    let mut failures = Vec::new();
    for case in cases() {
        let evaluation = evaluate(&case.input).expect(case.name);
        let expected: Vec<Finding> = case
            .findings
            .iter()
            .map(|&(rule_id, input, value, threshold, level)| Finding {
                rule_id: rule_id.to_owned(),
                input: input.to_owned(),
                value: dec(value),
                threshold: dec(threshold),
                level,
            })
            .collect();
        if evaluation.required_levels != case.levels
            || evaluation.findings != expected
            || evaluation.approval_required() == case.levels.is_empty()
        {
            failures.push(format!(
                "{}: levels {:?}, findings {:#?}",
                case.name, evaluation.required_levels, evaluation.findings
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn evidence_pins_the_table() {
    let evaluation = evaluate(&quote("45")).unwrap();
    assert_eq!(evaluation.policy.policy_id, "quote-approval-policy");
    assert_eq!(evaluation.policy.version, "2");
    assert_eq!(evaluation.policy.file, "quote-approval-policy-v2.dmn");
    assert_eq!(evaluation.policy.sha256.len(), 64);
    let json = serde_json::to_value(&evaluation).unwrap();
    assert_eq!(
        json["requiredLevels"],
        serde_json::json!(["MANAGER", "DIRECTOR"])
    );
    assert_eq!(json["findings"][1]["threshold"], "40");
    assert_eq!(json["variables"]["totalContractValue"], "2200");
}

#[test]
fn level_inputs_list_what_each_level_approved() {
    let evaluation = evaluate(&with(quote("45"), |q| {
        q.lines[0].override_count = 1;
        q.lines[0].override_amount = dec("7");
    }))
    .unwrap();
    let manager = evaluation.inputs_for(Manager).unwrap();
    assert_eq!(manager.len(), 3);
    assert_eq!(manager["maxLineDiscountPercent"], dec("45"));
    assert_eq!(manager["overrideCount"], dec("1"));
    assert_eq!(manager["totalOverrideAmount"], dec("7"));
    let director = evaluation.inputs_for(Director).unwrap();
    assert_eq!(
        director.keys().collect::<Vec<_>>(),
        ["maxLineDiscountPercent"]
    );
    assert!(evaluation.inputs_for(Finance).is_none());
}

#[test]
fn smart_re_approval_keeps_levels_a_concession_does_not_touch() {
    let approved = evaluate(&quote("45")).unwrap();
    let less = evaluate(&quote("42")).unwrap();
    assert!(approved.covers(Manager, &less));
    assert!(approved.covers(Director, &less));
    let more = evaluate(&quote("46")).unwrap();
    assert!(!approved.covers(Manager, &more));
    assert!(!approved.covers(Director, &more));
    // A new reason at a level (an override) is not covered by the discount approval.
    let overridden = evaluate(&with(quote("45"), |q| q.lines[0].override_count = 1)).unwrap();
    assert!(!approved.covers(Manager, &overridden));
    assert!(approved.covers(Director, &overridden));
    // A level the later revision no longer needs is trivially covered.
    assert!(approved.covers(Director, &evaluate(&quote("20")).unwrap()));
}
