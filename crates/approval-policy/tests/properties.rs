//! Properties of the policy over generated quotes: monotone in discounts, deterministic,
//! and its evidence survives serialisation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use approval_policy::{LineInput, PolicyEvaluation, PolicyInput, evaluate};
use domain_kernel::ActorType;
use domain_kernel::money::Currency;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// Percent with two decimals, 0.00 ..= 100.00.
fn percent() -> impl Strategy<Value = Decimal> {
    (0i64..=10_000).prop_map(|cents| Decimal::new(cents, 2))
}

fn amount() -> impl Strategy<Value = Decimal> {
    (0i64..=200_000_000).prop_map(|cents| Decimal::new(cents, 2))
}

fn line_input() -> impl Strategy<Value = LineInput> {
    (
        percent(),
        0u32..3,
        amount(),
        proptest::option::of(percent()),
    )
        .prop_map(|(discount, overrides, override_amount, floor)| LineInput {
            line_id: "l".to_owned(),
            discount_percent: discount,
            override_count: overrides,
            override_amount: if overrides == 0 {
                Decimal::ZERO
            } else {
                override_amount
            },
            min_net_percent_of_list: floor,
        })
}

fn policy_input() -> impl Strategy<Value = PolicyInput> {
    (
        proptest::collection::vec(line_input(), 0..5),
        percent(),
        amount(),
        amount(),
        0u32..=60,
        percent(),
        proptest::sample::select(ActorType::ALL.to_vec()),
    )
        .prop_map(
            |(lines, quote_discount, one_time, recurring, term, authority, actor_type)| {
                PolicyInput {
                    lines,
                    quote_discount_percent: quote_discount,
                    currency: Currency::parse("USD").unwrap(),
                    one_time_total: one_time,
                    recurring_monthly_total: recurring,
                    term_months: term,
                    discount_authority_percent: authority,
                    actor_type,
                }
            },
        )
}

fn chain(evaluation: &PolicyEvaluation) -> Vec<&'static str> {
    evaluation
        .required_levels
        .iter()
        .map(|l| l.as_str())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn raising_a_discount_never_lowers_the_chain(
        input in policy_input(),
        raise in percent(),
        which in any::<prop::sample::Index>(),
    ) {
        let before = evaluate(&input).unwrap();
        let mut raised = input.clone();
        let slot = which.index(raised.lines.len() + 1);
        match raised.lines.get_mut(slot) {
            Some(line) => line.discount_percent += raise,
            None => raised.quote_discount_percent += raise,
        }
        let after = evaluate(&raised).unwrap();
        for level in &before.required_levels {
            prop_assert!(
                after.required_levels.contains(level),
                "{:?} -> {:?}", chain(&before), chain(&after)
            );
        }
        prop_assert!(after.findings.len() >= before.findings.len());
    }

    #[test]
    fn evaluation_is_deterministic(input in policy_input()) {
        let first = evaluate(&input).unwrap();
        let second = evaluate(&input.clone()).unwrap();
        prop_assert_eq!(first, second);
    }

    #[test]
    fn evaluations_and_inputs_round_trip_through_json(input in policy_input()) {
        let evaluation = evaluate(&input).unwrap();
        let json = serde_json::to_string(&evaluation).unwrap();
        prop_assert_eq!(serde_json::from_str::<PolicyEvaluation>(&json).unwrap(), evaluation);
        let json = serde_json::to_string(&input).unwrap();
        prop_assert_eq!(serde_json::from_str::<PolicyInput>(&json).unwrap(), input);
    }

    #[test]
    fn the_chain_is_ordered_and_matches_the_findings(input in policy_input()) {
        let evaluation = evaluate(&input).unwrap();
        let mut sorted = evaluation.required_levels.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(&sorted, &evaluation.required_levels);
        for finding in &evaluation.findings {
            prop_assert!(evaluation.required_levels.contains(&finding.level));
        }
        prop_assert_eq!(evaluation.approval_required(), !evaluation.findings.is_empty());
    }
}
