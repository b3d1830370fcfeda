//! Test fixtures shared by the scenario and property tests.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain_kernel::{ActorId, TenantId};
use rust_decimal::Decimal;

use super::*;

/// Who submits every fixture request.
pub const SUBMITTER: &str = "sally";

/// When fixture requests' time is over (minute 600).
pub fn expires() -> DateTime<Utc> {
    minutes(600)
}

/// `n` minutes after the fixtures' start.
pub fn minutes(n: i64) -> DateTime<Utc> {
    start() + Duration::minutes(n)
}

fn start() -> DateTime<Utc> {
    Utc.timestamp_opt(1_798_761_600, 0)
        .single()
        .unwrap_or_default()
}

/// A hash of 64 times `c`.
pub fn hash(c: char) -> PriceHash {
    PriceHash::parse(&c.to_string().repeat(64)).unwrap()
}

/// An actor id.
pub fn actor(name: &str) -> ActorId {
    ActorId::parse(name).unwrap()
}

/// A group id.
pub fn group(name: &str) -> GroupId {
    GroupId::parse(name).unwrap()
}

/// A reason.
pub fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

/// An approver with exactly these levels and groups.
pub fn approver(name: &str, levels: &[ApprovalLevel], groups: &[&str]) -> Approver {
    Approver {
        id: actor(name),
        levels: levels.to_vec(),
        groups: groups.iter().map(|g| group(g)).collect(),
    }
}

/// A delegation from `from` to `to` covering every fixture time.
pub fn delegation(from: &str, to: &str) -> Delegation {
    Delegation {
        id: DelegationId::generate(),
        delegator: actor(from),
        delegate: actor(to),
        valid_from: minutes(-1),
        valid_until: expires(),
    }
}

/// A snapshot requiring `levels`: a 15 % discount needs a manager, a net price of 40 (below a
/// floor of 50) needs a director, 1 for finance.
pub fn snapshot(levels: &[ApprovalLevel]) -> PolicySnapshot {
    let rule = |level: ApprovalLevel| match level {
        ApprovalLevel::Manager => RuleEvaluation {
            rule_id: "DISCOUNT_ABOVE_ROLE_LIMIT".into(),
            input: "item:a/discountPercent".into(),
            tested_value: Decimal::from(15),
            threshold: Decimal::from(10),
            risk: RiskDirection::HigherIsRiskier,
            required_level: level,
        },
        ApprovalLevel::Director => RuleEvaluation {
            rule_id: "BELOW_PRICE_FLOOR".into(),
            input: "item:a/netPercentOfList".into(),
            tested_value: Decimal::from(40),
            threshold: Decimal::from(50),
            risk: RiskDirection::LowerIsRiskier,
            required_level: level,
        },
        ApprovalLevel::Finance => RuleEvaluation {
            rule_id: "NON_STANDARD_PAYMENT_TERMS".into(),
            input: "quote/paymentDays".into(),
            tested_value: Decimal::from(90),
            threshold: Decimal::from(30),
            risk: RiskDirection::HigherIsRiskier,
            required_level: level,
        },
    };
    PolicySnapshot {
        policy_id: "discount-approval".into(),
        policy_version: "1".into(),
        policy_sha256: "e".repeat(64),
        rules: levels.iter().map(|l| rule(*l)).collect(),
        required_levels: levels.to_vec(),
    }
}

/// A single-group level due at minute 60, escalating to `senior-<group>`.
pub fn level_plan(level: ApprovalLevel, group_name: &str) -> LevelPlan {
    LevelPlan {
        level,
        assignment: Assignment::Single {
            group: group(group_name),
        },
        due: minutes(60),
        escalation_groups: vec![group(&format!("senior-{group_name}"))],
    }
}

/// Quote revision `revision` at hash `c`.
pub fn quote_ref(c: char, revision: i32) -> QuoteRef {
    QuoteRef {
        quote_id: QuoteId::from_uuid(Default::default()),
        revision: QuoteRevision::new(revision).unwrap(),
        price_hash: hash(c),
    }
}

/// A request over `snapshot` and `chain` at hash `a`, revision 1.
pub fn new_request(snapshot: PolicySnapshot, chain: Vec<LevelPlan>) -> NewRequest {
    NewRequest {
        id: ApprovalRequestId::generate(),
        tenant: TenantId::parse("demo").unwrap(),
        quote: quote_ref('a', 1),
        submitter: actor(SUBMITTER),
        snapshot,
        chain,
        skips: Vec::new(),
        expires_at: expires(),
        at: minutes(0),
    }
}

/// Opens a request.
pub fn open(
    snapshot: PolicySnapshot,
    chain: Vec<LevelPlan>,
    skips: Vec<SkipEvidence>,
) -> (ApprovalRequest, Vec<ApprovalEvent>) {
    ApprovalRequest::open(NewRequest {
        skips,
        ..new_request(snapshot, chain)
    })
    .unwrap()
}

/// MANAGER (group `managers`) then DIRECTOR (group `directors`).
pub fn manager_then_director() -> (ApprovalRequest, Vec<ApprovalEvent>) {
    open(
        snapshot(&[ApprovalLevel::Manager, ApprovalLevel::Director]),
        vec![
            level_plan(ApprovalLevel::Manager, "managers"),
            level_plan(ApprovalLevel::Director, "directors"),
        ],
        Vec::new(),
    )
}

/// `who` approves `level` at `at`, on hash `a`.
pub fn approve(who: &Approver, level: ApprovalLevel, at: DateTime<Utc>) -> DecisionInput {
    DecisionInput {
        id: DecisionId::generate(),
        actor: who.clone(),
        on_behalf: None,
        level,
        outcome: DecisionOutcome::Approve { reason: None },
        price_hash: hash('a'),
        at,
    }
}

/// `who` rejects `level` at `at`, with a reason.
pub fn reject(who: &Approver, level: ApprovalLevel, at: DateTime<Utc>) -> DecisionInput {
    DecisionInput {
        outcome: DecisionOutcome::Reject {
            reason: reason("margin too thin"),
        },
        ..approve(who, level, at)
    }
}
