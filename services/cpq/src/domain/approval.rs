//! The approval policy a submit evaluates (ADR 0013). Pure: it reads the priced quote, the
//! discounts the seller asked for and who submits, and says which rules fired and which
//! approver level is needed. The evaluation is stored on the quote as its policy snapshot, so an
//! approval can always be traced to the exact rules and thresholds in force.
//!
//! Rules (version [`POLICY_VERSION`]):
//! - `DISCOUNT_ABOVE_ROLE_LIMIT` — a line discount above what the submitter may grant alone
//!   (its `discount_authority`, vouched for by the identity provider, ADR 0030) needs a
//!   MANAGER.
//! - `MANUAL_OVERRIDE` — any manual price override needs a MANAGER (the override's actor is not
//!   its own approver).
//! - `BELOW_PRICE_FLOOR` — any charge whose net amount is below [`FLOOR_PERCENT_OF_LIST`] of
//!   its list amount (every reduction together: term, discounts, override) needs a DIRECTOR.
//!   Without cost data the list price is the margin reference.
//!
//! No rule fired ⇒ no approval is needed and the quote is approved by policy.

use cpq_pricing::PricedQuote;
use domain_kernel::ActorType;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Identifies the rule set in every stored evaluation.
pub const POLICY_VERSION: &str = "cpq-approval-policy/v1";

/// Net below this percentage of list needs a director.
pub const FLOOR_PERCENT_OF_LIST: Decimal = Decimal::from_parts(50, 0, 0, false, 0);

/// Who must approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApproverLevel {
    /// Nobody: approved by policy.
    None,
    /// A sales manager.
    Manager,
    /// A sales director.
    Director,
}

/// Who submits: the kind of principal and the discount it may grant alone, both from its
/// verified token (never from a header it chose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitter {
    /// Kind of principal (recorded in the evaluation).
    pub actor_type: ActorType,
    /// The largest line discount, in percent, it may grant without approval.
    pub discount_authority: Decimal,
}

/// One rule that fired, with the numbers that made it fire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleFinding {
    /// Stable rule id.
    pub rule: String,
    /// The item concerned, when the rule is per item.
    pub item_id: Option<String>,
    /// The charge concerned, when the rule is per charge.
    pub charge: Option<String>,
    /// The threshold in force (decimal string).
    pub threshold: String,
    /// The observed value (decimal string).
    pub actual: String,
    /// Approver level this finding needs.
    pub required_level: ApproverLevel,
}

/// The outcome of a policy evaluation: the snapshot stored with the quote and its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyEvaluation {
    /// [`POLICY_VERSION`] of the evaluation.
    pub policy_version: String,
    /// Kind of the submitter.
    pub actor_type: ActorType,
    /// The submitter's discount authority, percent.
    pub discount_limit_percent: String,
    /// The floor, percent of list.
    pub floor_percent_of_list: String,
    /// Price hash the evaluation looked at.
    pub price_hash: String,
    /// Rules that fired, in rule order then item order.
    pub findings: Vec<RuleFinding>,
    /// The highest level any finding needs.
    pub required_level: ApproverLevel,
}

impl PolicyEvaluation {
    /// Whether an approver must decide.
    pub fn approval_required(&self) -> bool {
        self.required_level != ApproverLevel::None
    }
}

/// A line discount the seller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedDiscount {
    /// The item.
    pub item_id: String,
    /// Percent off.
    pub percent: Decimal,
}

/// Evaluates the policy for a submit by `submitter` of `priced` with the seller's
/// `discounts`.
pub fn evaluate(
    submitter: Submitter,
    priced: &PricedQuote,
    discounts: &[RequestedDiscount],
) -> PolicyEvaluation {
    let limit = submitter.discount_authority;
    let mut findings = Vec::new();
    let mut ordered: Vec<&RequestedDiscount> = discounts.iter().collect();
    ordered.sort_by(|a, b| a.item_id.cmp(&b.item_id));
    for discount in ordered {
        if discount.percent > limit {
            findings.push(RuleFinding {
                rule: "DISCOUNT_ABOVE_ROLE_LIMIT".to_owned(),
                item_id: Some(discount.item_id.clone()),
                charge: None,
                threshold: limit.normalize().to_string(),
                actual: discount.percent.normalize().to_string(),
                required_level: ApproverLevel::Manager,
            });
        }
    }
    for line in &priced.lines {
        for charge in &line.charges {
            if let Some(record) = &charge.manual_override {
                findings.push(RuleFinding {
                    rule: "MANUAL_OVERRIDE".to_owned(),
                    item_id: Some(line.line_id.to_string()),
                    charge: Some(charge.kind.as_str().to_owned()),
                    threshold: record.original_price.amount.to_string(),
                    actual: record.new_price.amount.to_string(),
                    required_level: ApproverLevel::Manager,
                });
            }
        }
    }
    let hundred = Decimal::from(100);
    for line in &priced.lines {
        for charge in &line.charges {
            let list = charge.list_price.amount;
            if list <= Decimal::ZERO {
                continue;
            }
            let Some(percent) = charge
                .net
                .amount
                .checked_mul(hundred)
                .and_then(|n| n.checked_div(list))
            else {
                continue;
            };
            if percent < FLOOR_PERCENT_OF_LIST {
                findings.push(RuleFinding {
                    rule: "BELOW_PRICE_FLOOR".to_owned(),
                    item_id: Some(line.line_id.to_string()),
                    charge: Some(charge.kind.as_str().to_owned()),
                    threshold: FLOOR_PERCENT_OF_LIST.to_string(),
                    actual: percent.round_dp(2).normalize().to_string(),
                    required_level: ApproverLevel::Director,
                });
            }
        }
    }
    let required_level = findings
        .iter()
        .map(|f| f.required_level)
        .max()
        .unwrap_or(ApproverLevel::None);
    PolicyEvaluation {
        policy_version: POLICY_VERSION.to_owned(),
        actor_type: submitter.actor_type,
        discount_limit_percent: limit.normalize().to_string(),
        floor_percent_of_list: FLOOR_PERCENT_OF_LIST.to_string(),
        price_hash: priced.price_hash.clone(),
        findings,
        required_level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpq_pricing::{
        Charge, ChargeKind, LineInput, ManualOverride, PriceBook, Pricing, PricingRequest,
        price_quote,
    };
    use domain_kernel::money::Currency;

    fn priced(unit: i64, discount: Option<i64>, override_to: Option<&str>) -> PricedQuote {
        let usd = Currency::parse("USD").unwrap();
        let book = PriceBook {
            id: "pb".into(),
            version: 1,
            currency: usd,
            charges: vec![Charge {
                offering_id: "o".into(),
                offering_version: 1,
                kind: ChargeKind::OneTime,
                pricing: Pricing::Flat {
                    unit_price: Decimal::from(unit),
                },
            }],
        };
        let mut line = LineInput {
            line_id: "a".into(),
            offering_id: "o".into(),
            offering_version: 1,
            quantity: 1,
            term_months: None,
            configuration_hash: String::new(),
            discounts: Vec::new(),
            overrides: Vec::new(),
        };
        if let Some(p) = discount {
            line.discounts.push(cpq_pricing::Discount {
                rule_id: "SELLER".into(),
                reason: String::new(),
                value: cpq_pricing::DiscountValue::Percent(Decimal::from(p)),
                applies_to: None,
            });
        }
        let request = |line: LineInput| PricingRequest {
            price_book_id: "pb".into(),
            price_book_version: 1,
            currency: usd,
            lines: vec![line],
            term_discounts: Vec::new(),
            quote_discounts: Vec::new(),
        };
        if let Some(new_price) = override_to {
            let first = price_quote(book.clone(), &request(line.clone())).unwrap();
            line.overrides.push(ManualOverride {
                charge: ChargeKind::OneTime,
                original_price: first.lines[0].charges[0].net.amount,
                new_price: new_price.parse().unwrap(),
                actor: "rep".into(),
                reason: "deal".into(),
            });
        }
        price_quote(book, &request(line)).unwrap()
    }

    fn discount(percent: i64) -> Vec<RequestedDiscount> {
        vec![RequestedDiscount {
            item_id: "a".into(),
            percent: Decimal::from(percent),
        }]
    }

    fn submitter(actor_type: ActorType, authority: i64) -> Submitter {
        Submitter {
            actor_type,
            discount_authority: Decimal::from(authority),
        }
    }

    #[test]
    fn small_discounts_by_an_agent_need_no_approval() {
        let evaluation = evaluate(
            submitter(ActorType::HumanAgent, 10),
            &priced(100, Some(10), None),
            &discount(10),
        );
        assert!(!evaluation.approval_required());
        assert!(evaluation.findings.is_empty());
    }

    #[test]
    fn the_submitters_authority_decides() {
        let quote = priced(100, Some(15), None);
        let agent = evaluate(submitter(ActorType::HumanAgent, 10), &quote, &discount(15));
        assert_eq!(agent.required_level, ApproverLevel::Manager);
        assert_eq!(agent.findings[0].rule, "DISCOUNT_ABOVE_ROLE_LIMIT");
        assert_eq!(agent.discount_limit_percent, "10");
        let manager = evaluate(submitter(ActorType::HumanAgent, 25), &quote, &discount(15));
        assert!(!manager.approval_required());
        let portal = evaluate(
            submitter(ActorType::CustomerPortalUser, 0),
            &priced(100, Some(1), None),
            &discount(1),
        );
        assert!(portal.approval_required());
    }

    #[test]
    fn overrides_need_a_manager_and_deep_cuts_a_director() {
        let overridden = evaluate(
            submitter(ActorType::HumanAgent, 20),
            &priced(100, None, Some("90")),
            &[],
        );
        assert_eq!(overridden.required_level, ApproverLevel::Manager);
        assert_eq!(overridden.findings[0].rule, "MANUAL_OVERRIDE");
        let deep = evaluate(
            submitter(ActorType::HumanAgent, 20),
            &priced(100, None, Some("40")),
            &[],
        );
        assert_eq!(deep.required_level, ApproverLevel::Director);
        assert!(
            deep.findings
                .iter()
                .any(|f| f.rule == "BELOW_PRICE_FLOOR" && f.actual == "40")
        );
    }
}
