//! Scenarios over the aggregate: ordered levels, quorum, separation of duties, idempotent
//! decisions, delegation, expiry, hashes, supersession, escalation, recall and smart
//! re-approval (its scenarios are in [`super::reapproval`]). Shared fixtures live in [`fixtures`] for the property test too.

use super::fixtures::*;
use super::*;

#[test]
fn no_required_level_means_not_required_and_it_vouches_for_its_hash_only() {
    let (request, events) = open(snapshot(&[]), Vec::new(), Vec::new());
    assert_eq!(request.status(), ApprovalStatus::NotRequired);
    assert_eq!(events.len(), 1);
    assert!(request.approves(&hash('a')));
    assert!(!request.approves(&hash('b')));
}

#[test]
fn levels_are_decided_strictly_in_order_and_the_last_one_approves() {
    let (mut request, _) = manager_then_director();
    let dana = approver("dana", &[ApprovalLevel::Director], &["directors"]);
    let refused = request
        .decide(approve(&dana, ApprovalLevel::Director, minutes(1)))
        .unwrap_err();
    assert_eq!(refused.code(), "APPROVAL_LEVEL_NOT_OPEN");
    let refused = request
        .decide(approve(&dana, ApprovalLevel::Manager, minutes(1)))
        .unwrap_err();
    assert_eq!(
        refused,
        ApprovalError::LevelNotCovered(ApprovalLevel::Manager),
        "a director cannot decide the manager's level"
    );
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    let first = request
        .decide(approve(&mia, ApprovalLevel::Manager, minutes(2)))
        .unwrap();
    assert!(
        matches!(first, DecideResult::Recorded(e) if e.to == ApprovalStatus::Pending
        && e.command == Some(ApprovalCommand::RecordApproval))
    );
    assert!(!request.approves(&hash('a')));
    let last = request
        .decide(approve(&dana, ApprovalLevel::Director, minutes(3)))
        .unwrap();
    assert!(
        matches!(last, DecideResult::Recorded(e) if e.to == ApprovalStatus::Approved
        && e.command == Some(ApprovalCommand::CompleteApproval))
    );
    assert!(request.approves(&hash('a')));
    assert!(
        !request.approves(&hash('b')),
        "one hash's approval never approves another"
    );
    assert_eq!(request.version().get(), 3);
}

#[test]
fn quorum_all_needs_every_group_and_any_needs_one() {
    for (quorum, approvals_needed) in [(Quorum::All, 2), (Quorum::Any, 1)] {
        let plan = LevelPlan {
            level: ApprovalLevel::Finance,
            assignment: Assignment::Parallel {
                groups: vec![group("fin-emea"), group("fin-us")],
                quorum,
            },
            due: minutes(60),
            escalation_groups: Vec::new(),
        };
        let (mut request, _) = open(snapshot(&[ApprovalLevel::Finance]), vec![plan], Vec::new());
        let emea = approver("erin", &[ApprovalLevel::Finance], &["fin-emea"]);
        let us = approver("uma", &[ApprovalLevel::Finance], &["fin-us"]);
        request
            .decide(approve(&emea, ApprovalLevel::Finance, minutes(1)))
            .unwrap();
        let after_one = request.status();
        let second = request.decide(approve(&us, ApprovalLevel::Finance, minutes(2)));
        if approvals_needed == 1 {
            assert_eq!(after_one, ApprovalStatus::Approved, "{quorum:?}");
            assert!(
                second.is_err(),
                "an approved request takes no more decisions"
            );
        } else {
            assert_eq!(after_one, ApprovalStatus::Pending, "{quorum:?}");
            second.unwrap();
            assert_eq!(request.status(), ApprovalStatus::Approved);
        }
    }
}

#[test]
fn a_second_approval_by_the_same_group_does_not_satisfy_all() {
    let plan = LevelPlan {
        level: ApprovalLevel::Manager,
        assignment: Assignment::Parallel {
            groups: vec![group("a"), group("b")],
            quorum: Quorum::All,
        },
        due: minutes(60),
        escalation_groups: Vec::new(),
    };
    let (mut request, _) = open(snapshot(&[ApprovalLevel::Manager]), vec![plan], Vec::new());
    for name in ["m1", "m2"] {
        let member = approver(name, &[ApprovalLevel::Manager], &["a"]);
        request
            .decide(approve(&member, ApprovalLevel::Manager, minutes(1)))
            .unwrap();
    }
    assert_eq!(request.status(), ApprovalStatus::Pending);
    let outsider = approver("o", &[ApprovalLevel::Manager], &["elsewhere"]);
    assert_eq!(
        request.decide(approve(&outsider, ApprovalLevel::Manager, minutes(2))),
        Err(ApprovalError::NotAssigned(ApprovalLevel::Manager))
    );
}

#[test]
fn the_submitter_never_decides_not_even_on_someone_s_behalf() {
    let (mut request, _) = manager_then_director();
    let selfish = approver(SUBMITTER, &[ApprovalLevel::Manager], &["managers"]);
    assert_eq!(
        request.decide(approve(&selfish, ApprovalLevel::Manager, minutes(1))),
        Err(ApprovalError::SelfDecision)
    );
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    let mut input = approve(
        &approver(SUBMITTER, &[], &[]),
        ApprovalLevel::Manager,
        minutes(1),
    );
    input.on_behalf = Some(OnBehalf {
        principal: mia.clone(),
        delegation: delegation("mia", SUBMITTER),
    });
    assert_eq!(request.decide(input), Err(ApprovalError::SelfDecision));
    assert!(request.decisions().is_empty());
}

#[test]
fn a_repeated_decision_returns_the_first_and_a_different_one_is_refused() {
    let (mut request, _) = manager_then_director();
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    let DecideResult::Recorded(first) = request
        .decide(approve(&mia, ApprovalLevel::Manager, minutes(1)))
        .unwrap()
    else {
        panic!("first decision is recorded");
    };
    let version = request.version();
    let again = request
        .decide(approve(&mia, ApprovalLevel::Manager, minutes(5)))
        .unwrap();
    let DecideResult::Repeated(existing) = again else {
        panic!("a repeat is not a new decision");
    };
    assert!(
        matches!(first.detail, events::EventDetail::Decided { ref decision, .. } if *decision == existing)
    );
    assert_eq!(request.version(), version, "no transition");
    assert_eq!(request.decisions().len(), 1);
    assert_eq!(
        request.decide(reject(&mia, ApprovalLevel::Manager, minutes(6))),
        Err(ApprovalError::AlreadyDecided(ApprovalLevel::Manager))
    );
}

#[test]
fn a_reject_ends_the_request_and_it_is_never_reused() {
    let (mut request, _) = manager_then_director();
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    let event = request
        .decide(reject(&mia, ApprovalLevel::Manager, minutes(1)))
        .unwrap();
    assert!(matches!(event, DecideResult::Recorded(e) if e.to == ApprovalStatus::Rejected));
    let max = approver("max", &[ApprovalLevel::Manager], &["managers"]);
    let refused = request
        .decide(approve(&max, ApprovalLevel::Manager, minutes(2)))
        .unwrap_err();
    assert_eq!(refused.code(), "ILLEGAL_TRANSITION");
    assert!(request.supersede(reason("new price"), minutes(3)).is_err());
    assert!(
        request
            .recall(actor(SUBMITTER), reason("x"), minutes(3))
            .is_err()
    );
    assert!(!request.approves(&hash('a')));
}

#[test]
fn deciding_on_behalf_records_both_and_needs_a_grant_in_force() {
    let (mut request, _) = manager_then_director();
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    let bob = approver("bob", &[], &[]);
    let on_behalf = |grant: Delegation| {
        let mut input = approve(&bob, ApprovalLevel::Manager, minutes(2));
        input.on_behalf = Some(OnBehalf {
            principal: mia.clone(),
            delegation: grant,
        });
        input
    };
    let mut late = delegation("mia", "bob");
    late.valid_from = minutes(10);
    assert_eq!(
        request.decide(on_behalf(late)).unwrap_err().code(),
        "DELEGATION_NOT_IN_FORCE"
    );
    assert_eq!(
        request
            .decide(on_behalf(delegation("someone", "bob")))
            .unwrap_err()
            .code(),
        "DELEGATION_NOT_IN_FORCE"
    );
    request.decide(on_behalf(delegation("mia", "bob"))).unwrap();
    let decision = &request.decisions()[0];
    assert_eq!(decision.actor, actor("bob"));
    assert_eq!(decision.on_behalf_of, Some(actor("mia")));
    assert!(decision.delegation.is_some());
    // Mia herself has now decided this level through Bob.
    assert_eq!(
        request.decide(approve(&mia, ApprovalLevel::Manager, minutes(3))),
        Err(ApprovalError::AlreadyDecided(ApprovalLevel::Manager))
    );
}

#[test]
fn an_expired_request_never_approves() {
    let (mut request, _) = manager_then_director();
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    assert_eq!(request.expire(minutes(10)), Err(ApprovalError::NotYetDue));
    assert_eq!(
        request.decide(approve(&mia, ApprovalLevel::Manager, expires())),
        Err(ApprovalError::TimedOut)
    );
    request.expire(expires()).unwrap();
    assert_eq!(request.status(), ApprovalStatus::Expired);
    assert_eq!(
        request
            .decide(approve(&mia, ApprovalLevel::Manager, minutes(1)))
            .unwrap_err()
            .code(),
        "ILLEGAL_TRANSITION"
    );
    assert!(!request.approves(&hash('a')));
}

#[test]
fn a_decision_on_another_price_is_refused() {
    let (mut request, _) = manager_then_director();
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    let mut input = approve(&mia, ApprovalLevel::Manager, minutes(1));
    input.price_hash = hash('b');
    assert_eq!(
        request.decide(input).unwrap_err().code(),
        "APPROVAL_PRICE_HASH_MISMATCH"
    );
}

#[test]
fn commercial_changes_supersede_pending_approved_and_not_required() {
    let (mut pending, _) = manager_then_director();
    pending.supersede(reason("revised"), minutes(1)).unwrap();
    assert_eq!(pending.status(), ApprovalStatus::Superseded);
    let (mut not_required, _) = open(snapshot(&[]), Vec::new(), Vec::new());
    not_required
        .supersede(reason("revised"), minutes(1))
        .unwrap();
    assert!(!not_required.approves(&hash('a')));
    let (mut approved, _) = open(
        snapshot(&[ApprovalLevel::Manager]),
        vec![level_plan(ApprovalLevel::Manager, "managers")],
        Vec::new(),
    );
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    approved
        .decide(approve(&mia, ApprovalLevel::Manager, minutes(1)))
        .unwrap();
    assert!(approved.approves(&hash('a')));
    approved
        .supersede(reason("price changed"), minutes(2))
        .unwrap();
    assert!(!approved.approves(&hash('a')));
    assert!(
        approved.supersede(reason("again"), minutes(3)).is_err(),
        "terminal"
    );
}

#[test]
fn an_overdue_level_is_reminded_then_reassigned_to_the_next_group() {
    let (mut request, _) = manager_then_director();
    assert_eq!(
        request.escalate(minutes(10), minutes(70)),
        Err(ApprovalError::NotOverdue(ApprovalLevel::Manager))
    );
    let reminder = request.escalate(minutes(60), minutes(90)).unwrap();
    assert!(
        matches!(&reminder.detail, events::EventDetail::Escalated(f) if f.kind == EscalationKind::Reminder)
    );
    assert_eq!(
        request.escalate(minutes(80), minutes(100)),
        Err(ApprovalError::NotOverdue(ApprovalLevel::Manager))
    );
    let moved = request.escalate(minutes(90), minutes(150)).unwrap();
    let events::EventDetail::Escalated(fact) = &moved.detail else {
        panic!("escalation fact");
    };
    assert!(
        matches!(&fact.kind, EscalationKind::Escalated { to, .. } if to.groups() == [group("senior-managers")])
    );
    assert_eq!(
        (fact.due_before, fact.due_after),
        (minutes(90), minutes(150))
    );
    let mia = approver("mia", &[ApprovalLevel::Manager], &["managers"]);
    assert_eq!(
        request.decide(approve(&mia, ApprovalLevel::Manager, minutes(100))),
        Err(ApprovalError::NotAssigned(ApprovalLevel::Manager))
    );
    request.escalate(minutes(150), minutes(160)).unwrap();
    assert_eq!(
        request.escalate(minutes(160), minutes(170)),
        Err(ApprovalError::NoEscalationTarget(ApprovalLevel::Manager))
    );
    let sam = approver("sam", &[ApprovalLevel::Manager], &["senior-managers"]);
    request
        .decide(approve(&sam, ApprovalLevel::Manager, minutes(161)))
        .unwrap();
    assert_eq!(request.escalations().len(), 3);
}

#[test]
fn a_level_is_reassigned_by_hand_with_a_reason() {
    let (mut request, _) = manager_then_director();
    let event = request
        .reassign(
            actor("ops"),
            ApprovalLevel::Director,
            Assignment::Single { group: group("vp") },
            minutes(300),
            reason("director on leave"),
            minutes(5),
        )
        .unwrap();
    assert_eq!(event.to, ApprovalStatus::Pending);
    assert_eq!(
        request
            .chain()
            .level(ApprovalLevel::Director)
            .map(|l| l.assignment.groups().to_vec()),
        Some(vec![group("vp")])
    );
    let bad = Assignment::Parallel {
        groups: vec![group("vp")],
        quorum: Quorum::Any,
    };
    assert!(
        request
            .reassign(
                actor("ops"),
                ApprovalLevel::Manager,
                bad,
                minutes(9),
                reason("x"),
                minutes(6)
            )
            .is_err()
    );
}

#[test]
fn only_the_submitter_recalls_and_only_while_pending() {
    let (mut request, _) = manager_then_director();
    assert_eq!(
        request.recall(actor("mia"), reason("mine now"), minutes(1)),
        Err(ApprovalError::NotSubmitter)
    );
    let event = request
        .recall(actor(SUBMITTER), reason("customer walked away"), minutes(1))
        .unwrap();
    assert_eq!(event.to, ApprovalStatus::Cancelled);
    assert!(
        request
            .recall(actor(SUBMITTER), reason("again"), minutes(2))
            .is_err()
    );
}

#[test]
fn a_director_decides_a_manager_level_only_once_it_was_escalated_to_their_group() {
    let (mut request, _) = manager_then_director();
    let dora = approver("dora", &[ApprovalLevel::Director], &["senior-managers"]);
    assert_eq!(
        request.decide(approve(&dora, ApprovalLevel::Manager, minutes(5))),
        Err(ApprovalError::LevelNotCovered(ApprovalLevel::Manager))
    );
    request.escalate(minutes(60), minutes(90)).unwrap();
    assert_eq!(
        request.decide(approve(&dora, ApprovalLevel::Manager, minutes(61))),
        Err(ApprovalError::LevelNotCovered(ApprovalLevel::Manager)),
        "a reminder hands nothing over"
    );
    request.escalate(minutes(90), minutes(150)).unwrap();
    request
        .decide(approve(&dora, ApprovalLevel::Manager, minutes(91)))
        .unwrap();
    assert_eq!(
        request.chain().current().map(|l| l.level),
        Some(ApprovalLevel::Director)
    );
}
