//! Random command sequences against random chains: after every step the invariants hold —
//! terminal states stay terminal, APPROVED only after every level was satisfied in order, at
//! most one decision per actor (and per principal) per level, the submitter never decides,
//! hashes never cross, and the version counts the transitions.

use proptest::prelude::*;

use super::fixtures::*;
use super::*;

const GROUPS: [&str; 2] = ["g0", "g1"];

#[derive(Debug, Clone)]
enum Step {
    Decide {
        who: usize,
        level: usize,
        reject: bool,
        wrong_hash: bool,
        behalf: Option<usize>,
    },
    Escalate,
    Reassign {
        level: usize,
        group: usize,
    },
    Recall {
        by_submitter: bool,
    },
    Expire,
    Supersede,
    Tick(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..8usize, 0..3usize, proptest::bool::weighted(0.15), proptest::bool::weighted(0.1),
              proptest::option::weighted(0.15, 0..8usize))
            .prop_map(|(who, level, reject, wrong_hash, behalf)| Step::Decide { who, level, reject, wrong_hash, behalf }),
        1 => Just(Step::Escalate),
        1 => (0..3usize, 0..2usize).prop_map(|(level, group)| Step::Reassign { level, group }),
        1 => any::<bool>().prop_map(|by_submitter| Step::Recall { by_submitter }),
        1 => Just(Step::Expire),
        1 => Just(Step::Supersede),
        2 => (1..120i64).prop_map(Step::Tick),
    ]
}

/// The approvers: 0 is the submitter (holding every level and group), 1–6 one per level and
/// group, 7 holds every level and group.
fn approvers() -> Vec<Approver> {
    let mut all = vec![approver(SUBMITTER, &ApprovalLevel::ALL, &GROUPS)];
    for level in ApprovalLevel::ALL {
        for g in GROUPS {
            all.push(approver(&format!("{}-{g}", level.as_str()), &[level], &[g]));
        }
    }
    all.push(approver("omni", &ApprovalLevel::ALL, &GROUPS));
    all
}

fn chain(mask: u8, shapes: &[u8]) -> (PolicySnapshot, Vec<LevelPlan>) {
    let levels: Vec<ApprovalLevel> = ApprovalLevel::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, l)| l)
        .collect();
    let plans = levels
        .iter()
        .zip(shapes)
        .map(|(level, shape)| {
            let assignment = match shape % 3 {
                0 => Assignment::Single {
                    group: group(GROUPS[usize::from(*shape / 3) % 2]),
                },
                1 => Assignment::Parallel {
                    groups: GROUPS.map(group).to_vec(),
                    quorum: Quorum::Any,
                },
                _ => Assignment::Parallel {
                    groups: GROUPS.map(group).to_vec(),
                    quorum: Quorum::All,
                },
            };
            LevelPlan {
                level: *level,
                assignment,
                due: minutes(60),
                escalation_groups: vec![group("g1"), group("g0")],
            }
        })
        .collect();
    (snapshot(&levels), plans)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_command_sequences_keep_the_invariants(
        mask in 0u8..8,
        shapes in proptest::collection::vec(any::<u8>(), 3),
        steps in proptest::collection::vec(step(), 0..60),
    ) {
        let (snapshot, plans) = chain(mask, &shapes);
        let (mut request, opened) = open(snapshot, plans, Vec::new());
        let people = approvers();
        let mut clock = 1i64;
        let mut transitions = opened.len() as i64 - 1;
        for step in steps {
            let before = request.clone();
            let now = minutes(clock);
            let result: Result<Option<ApprovalEvent>, ApprovalError> = match step.clone() {
                Step::Decide { who, level, reject: rejecting, wrong_hash, behalf } => {
                    let level = ApprovalLevel::ALL[level];
                    let mut input = if rejecting { reject(&people[who], level, now) } else { approve(&people[who], level, now) };
                    if wrong_hash { input.price_hash = hash('b'); }
                    if let Some(principal) = behalf {
                        let principal = people[principal].clone();
                        input.on_behalf = Some(OnBehalf {
                            delegation: delegation(principal.id.as_str(), people[who].id.as_str()),
                            principal,
                        });
                    }
                    request.decide(input).map(|r| match r {
                        DecideResult::Recorded(event) => Some(*event),
                        DecideResult::Repeated(_) => None,
                    })
                }
                Step::Escalate => request.escalate(now, now + chrono::Duration::minutes(30)).map(Some),
                Step::Reassign { level, group: g } => request
                    .reassign(actor("ops"), ApprovalLevel::ALL[level], Assignment::Single { group: group(GROUPS[g]) },
                        now + chrono::Duration::minutes(60), reason("rebalance"), now)
                    .map(Some),
                Step::Recall { by_submitter } => request
                    .recall(actor(if by_submitter { SUBMITTER } else { "omni" }), reason("withdrawn"), now)
                    .map(Some),
                Step::Expire => request.expire(now).map(Some),
                Step::Supersede => request.supersede(reason("revised"), now).map(Some),
                Step::Tick(n) => { clock += n; Ok(None) }
            };
            match &result {
                Err(_) => prop_assert_eq!(&request, &before, "a refusal changes nothing"),
                Ok(Some(event)) => {
                    transitions += 1;
                    prop_assert!(!before.status().is_terminal(), "{} left terminal {}", step_name(&step), before.status());
                    prop_assert_eq!(event.from, Some(before.status()));
                    prop_assert_eq!(event.to, request.status());
                    if request.status() == ApprovalStatus::Approved && before.status() != ApprovalStatus::Approved {
                        prop_assert_eq!(before.status(), ApprovalStatus::Pending);
                    }
                }
                Ok(None) => prop_assert_eq!(request.status(), before.status()),
            }
            check(&request, transitions)?;
        }
    }
}

fn step_name(step: &Step) -> String {
    format!("{step:?}")
}

fn check(request: &ApprovalRequest, transitions: i64) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        request.version().get(),
        1 + transitions,
        "one version per transition"
    );
    if request.status() == ApprovalStatus::Approved {
        prop_assert!(request.chain().is_complete(), "APPROVED with a level open");
    }
    let position = |level: ApprovalLevel| {
        request
            .chain()
            .levels()
            .iter()
            .position(|l| l.level == level)
    };
    let mut last = 0;
    for (index, decision) in request.decisions().iter().enumerate() {
        let here = position(decision.level);
        prop_assert!(here.is_some(), "decision outside the chain");
        let here = here.unwrap_or_default();
        prop_assert!(here >= last, "levels decided out of order");
        last = here;
        prop_assert!(
            decision.actor.as_str() != SUBMITTER && decision.principal().as_str() != SUBMITTER
        );
        prop_assert_eq!(&decision.price_hash, &request.quote().price_hash);
        prop_assert!(decision.decided_at < request.expires_at());
        for other in &request.decisions()[index + 1..] {
            prop_assert!(
                other.level != decision.level
                    || (other.actor != decision.actor && other.principal() != decision.principal()),
                "two decisions by one approver on one level"
            );
        }
    }
    prop_assert!(!request.approves(&hash('b')), "hashes never cross");
    prop_assert_eq!(
        request.approves(&hash('a')),
        matches!(
            request.status(),
            ApprovalStatus::Approved | ApprovalStatus::NotRequired
        )
    );
    Ok(())
}
