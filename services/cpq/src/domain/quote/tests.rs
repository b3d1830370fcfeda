//! The aggregate without HTTP or a database: a real configuration engine and pricing engine
//! over an in-memory offering and price book. Scenarios walk the spec's paths; the property
//! test drives random command sequences and checks the invariants after every step.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cpq_configuration::{
    CharacteristicDefinition, CharacteristicValue, ItemId, OfferingCatalog, OfferingId,
    OfferingSnapshot, OfferingStatus, ValidationReport, ValueType,
};
use cpq_pricing::{Charge, ChargeKind, PriceBook, Pricing, PricingState};
use domain_kernel::money::Currency;
use domain_kernel::{Actor, ActorId, ActorType, TenantId};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Map, json};

use super::editing::{NewQuote, OverrideDraft};
use super::items::configure;
use super::*;
use crate::domain::approval::{
    ApprovalOutcome, ApprovalRequestId, ApprovalRequestRef, ApprovalStatus, IgnoredReason,
    OutcomeKind,
};
use crate::domain::policy_input::Submitter;
use crate::domain::{CustomerId, PriceBookId};

fn offering() -> OfferingId {
    "01900000-0000-7000-8000-000000000001".parse().unwrap()
}

fn book_id() -> PriceBookId {
    "01900000-0000-7000-8000-0000000000b0".parse().unwrap()
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
}

fn actor(kind: ActorType) -> Actor {
    Actor {
        actor_id: ActorId::parse("rep-1").unwrap(),
        actor_type: kind,
    }
}

/// One published offering with a required bandwidth (100 or 1000).
fn catalog() -> OfferingCatalog {
    let mut bandwidth = CharacteristicDefinition::new("bandwidthMbps", ValueType::Integer);
    bandwidth.required = true;
    bandwidth.allowed_values = vec![
        CharacteristicValue::Integer(100),
        CharacteristicValue::Integer(1000),
    ];
    OfferingCatalog::new([OfferingSnapshot {
        offering_id: offering(),
        version: 1,
        status: OfferingStatus::Published,
        characteristics: vec![bandwidth],
        relationships: Vec::new(),
    }])
    .unwrap()
}

/// 100.00 a month and 50.00 once for the offering.
fn book() -> PriceBook {
    let charge = |kind, price: i64| Charge {
        offering_id: offering().to_string(),
        offering_version: 1,
        kind,
        pricing: Pricing::Flat {
            unit_price: Decimal::from(price),
        },
    };
    PriceBook {
        id: book_id().to_string(),
        version: 1,
        currency: Currency::parse("USD").unwrap(),
        charges: vec![
            charge(ChargeKind::Recurring(cpq_pricing::Period::Month), 100),
            charge(ChargeKind::OneTime, 50),
        ],
    }
}

/// Configured items: one line, valid or not, with a seller discount.
fn items(valid: bool, discount: u8) -> (Vec<QuoteItem>, ValidationReport) {
    let mut characteristics = Map::new();
    characteristics.insert("bandwidthMbps".into(), json!(if valid { 100 } else { 7 }));
    let draft = ItemDraft {
        id: Some("1".into()),
        offering_id: offering(),
        offering_version: None,
        quantity: 2,
        term_months: Some(12),
        discount_percent: (discount > 0).then(|| Decimal::from(discount)),
        characteristics,
        parent_id: None,
    };
    configure(&[draft], &[1], &catalog())
}

/// A submitter of `kind` with the authority the demo identities give it (agents 10 %,
/// operators 20 %, everybody else none).
fn by(kind: ActorType) -> Submitter {
    Submitter {
        actor_type: kind,
        discount_authority: match kind {
            ActorType::HumanAgent => Decimal::from(10),
            ActorType::AdminOperator => Decimal::from(20),
            _ => Decimal::ZERO,
        },
    }
}

fn new_quote() -> NewQuote {
    NewQuote {
        tenant: TenantId::parse("acme").unwrap(),
        customer: CustomerId::parse("C-1").unwrap(),
        currency: Currency::parse("USD").unwrap(),
        price_book: PriceBookPin {
            id: book_id(),
            version: 1,
        },
        valid_until: start() + Duration::days(30),
    }
}

/// The approval service's outcome of `kind` for the quote's current revision and price.
fn outcome(quote: &Quote, kind: OutcomeKind, status: ApprovalStatus) -> ApprovalOutcome {
    ApprovalOutcome {
        kind,
        request: ApprovalRequestRef {
            request_id: ApprovalRequestId::generate(),
            policy_id: "quote-approval".into(),
            policy_version: "1".into(),
        },
        quote_id: quote.id(),
        revision: quote.revision(),
        price_hash: quote.pricing().hash().unwrap_or_default().to_owned(),
        status,
        actor: actor(ActorType::HumanAgent),
        reason: None,
        occurred_at: start(),
    }
}

/// Applies `outcome` and expects a transition.
fn approve_with(quote: &mut Quote, outcome: &ApprovalOutcome) -> QuoteEvent {
    match quote.record_approval(outcome).unwrap() {
        ApprovalApplication::Applied(event) => *event,
        ApprovalApplication::Ignored(reason) => panic!("{:?} ignored: {reason}", outcome.kind),
    }
}

fn configured() -> Quote {
    let (quote, event) = Quote::create(
        new_quote(),
        Some(items(true, 0)),
        &actor(ActorType::HumanAgent),
        start(),
    )
    .unwrap();
    assert_eq!(event.event_type(), "cpq.quote.created.v1");
    assert_eq!(quote.status(), QuoteStatus::Configured);
    quote
}

#[test]
fn a_quote_travels_from_creation_to_one_conversion() {
    let agent = actor(ActorType::HumanAgent);
    let mut quote = configured();
    let priced = quote.price(Some(1), book(), &agent, start()).unwrap();
    assert_eq!(priced.event_type(), "cpq.quote.priced.v1");
    assert_eq!(quote.pricing().state(), PricingState::Priced);
    let submitted = quote.submit(None, by(ActorType::HumanAgent)).unwrap();
    assert_eq!(submitted.transition.to_status, QuoteStatus::Submitted);
    assert_eq!(submitted.event_type(), "cpq.quote.submitted.v2");
    assert_eq!(quote.pricing().state(), PricingState::Priced);
    let not_required = outcome(&quote, OutcomeKind::Requested, ApprovalStatus::NotRequired);
    let approved = approve_with(&mut quote, &not_required);
    assert_eq!(approved.event_type(), "cpq.quote.approved.v1");
    assert_eq!(approved.command, "APPROVAL_NOT_REQUIRED");
    assert_eq!(quote.status(), QuoteStatus::Approved);
    assert_eq!(quote.pricing().state(), PricingState::Frozen);
    assert_eq!(
        quote.commitment().approval().map(|a| a.price_hash.as_str()),
        quote.pricing().hash()
    );
    let accepted = quote
        .accept(None, &agent, "PORTAL".into(), Some("PO-1".into()), start())
        .unwrap();
    assert_eq!(accepted.after.status, QuoteStatus::Accepted);
    assert!(
        quote
            .items()
            .iter()
            .all(|i| matches!(i.configuration, ItemConfiguration::Frozen(_)))
    );
    let ConversionOutcome::Converted(event) = quote.convert(&agent, start()).unwrap() else {
        panic!("the first conversion converts");
    };
    let order = quote.commitment().conversion().unwrap().order_id;
    let payload = serde_json::to_value(event.payload()).unwrap();
    assert_eq!(payload["orderId"], json!(order));
    assert_eq!(
        payload["snapshot"]["items"][0]["configurationStatus"],
        "FROZEN"
    );
    assert_eq!(
        quote.convert(&agent, start()).unwrap(),
        ConversionOutcome::AlreadyConverted
    );
    assert_eq!(quote.commitment().conversion().unwrap().order_id, order);
    assert_eq!(
        quote.version(),
        6,
        "five commands and one approval outcome, six versions after creation"
    );
}

#[test]
fn a_discount_above_the_role_limit_waits_for_an_approver_and_a_revision_supersedes() {
    let agent = actor(ActorType::HumanAgent);
    let (mut quote, _) =
        Quote::create(new_quote(), Some(items(true, 30)), &agent, start()).unwrap();
    quote.price(None, book(), &agent, start()).unwrap();
    let submitted = quote.submit(None, by(ActorType::HumanAgent)).unwrap();
    let EventDetail::Submitted(detail) = &submitted.detail else {
        panic!("a submit emits Submitted");
    };
    assert_eq!(
        detail.policy_input.lines[0].discount_percent,
        Decimal::from(30)
    );
    assert_eq!(
        detail.policy_input.discount_authority_percent,
        Decimal::from(10)
    );
    let pending = outcome(&quote, OutcomeKind::Requested, ApprovalStatus::Pending);
    assert_eq!(
        approve_with(&mut quote, &pending).command,
        "APPROVAL_REQUESTED"
    );
    assert_eq!(quote.status(), QuoteStatus::ApprovalPending);
    assert!(quote.commitment().approval().is_none());
    assert_eq!(
        quote.commitment().basis().and_then(ApprovalBasis::request),
        Some(&pending.request)
    );
    let refused = quote.accept(None, &agent, "API".into(), None, start());
    assert!(matches!(refused, Err(QuoteError::Transition(_))));
    let revised = quote.revise(None, Some("customer asked".into())).unwrap();
    assert_eq!(revised.transition.revision, 2);
    assert_eq!(quote.status(), QuoteStatus::Draft);
    assert_eq!(quote.pricing().state(), PricingState::NotPriced);
    assert_eq!(quote.commitment(), &Commitment::Open);
}

#[test]
fn stale_versions_and_expired_validity_are_refused_without_a_change() {
    let agent = actor(ActorType::HumanAgent);
    let mut quote = configured();
    let before = quote.clone();
    assert!(matches!(
        quote.price(Some(9), book(), &agent, start()),
        Err(QuoteError::VersionMismatch {
            expected: 9,
            current: 1
        })
    ));
    assert_eq!(quote, before);
    quote.price(None, book(), &agent, start()).unwrap();
    quote.submit(None, by(ActorType::HumanAgent)).unwrap();
    let not_required = outcome(&quote, OutcomeKind::Requested, ApprovalStatus::NotRequired);
    approve_with(&mut quote, &not_required);
    let late = start() + Duration::days(31);
    let before = quote.clone();
    assert!(matches!(
        quote.accept(None, &agent, "API".into(), None, late),
        Err(QuoteError::Guard(_))
    ));
    assert_eq!(quote, before);
    quote.expire(late).unwrap();
    assert_eq!(quote.status(), QuoteStatus::Expired);
}

#[test]
fn an_override_must_name_the_current_price_and_needs_an_approver() {
    let agent = actor(ActorType::AdminOperator);
    let mut quote = configured();
    quote.price(None, book(), &agent, start()).unwrap();
    let draft = |original: i64| OverrideDraft {
        charge: ChargeKind::OneTime,
        original_price: Decimal::from(original),
        new_price: Decimal::from(80),
        reason: "goodwill".into(),
    };
    let item = ItemId::new("1");
    let before = quote.clone();
    let stale = quote.override_price(None, item.clone(), draft(1), book(), &agent, start());
    assert!(matches!(stale, Err(QuoteError::Pricing(_))), "{stale:?}");
    assert_eq!(quote, before, "a refused override leaves nothing behind");
    quote
        .override_price(None, item, draft(100), book(), &agent, start())
        .unwrap();
    assert_eq!(
        quote.pricing().state(),
        PricingState::OverridePendingApproval
    );
    quote.submit(None, by(ActorType::AdminOperator)).unwrap();
    let pending = outcome(&quote, OutcomeKind::Requested, ApprovalStatus::Pending);
    approve_with(&mut quote, &pending);
    assert_eq!(quote.status(), QuoteStatus::ApprovalPending);
    assert_eq!(
        quote.pricing().state(),
        PricingState::OverridePendingApproval
    );
    let approved = ApprovalOutcome {
        kind: OutcomeKind::Approved,
        status: ApprovalStatus::Approved,
        ..pending
    };
    let event = approve_with(&mut quote, &approved);
    assert_eq!(event.event_type(), "cpq.quote.approved.v1");
    assert_eq!(quote.status(), QuoteStatus::Approved);
    assert_eq!(
        quote.pricing().state(),
        PricingState::Frozen,
        "the override is approved with the quote"
    );
}

#[test]
fn an_outcome_for_another_revision_or_price_moves_nothing() {
    let agent = actor(ActorType::HumanAgent);
    let mut quote = configured();
    quote.price(None, book(), &agent, start()).unwrap();
    quote.submit(None, by(ActorType::HumanAgent)).unwrap();
    let current = outcome(&quote, OutcomeKind::Requested, ApprovalStatus::NotRequired);
    let before = quote.clone();
    let stale = ApprovalOutcome {
        revision: 0,
        ..current.clone()
    };
    assert_eq!(
        quote.record_approval(&stale).unwrap(),
        ApprovalApplication::Ignored(IgnoredReason::StaleRevision {
            event: 0,
            current: 1
        })
    );
    let other_price = ApprovalOutcome {
        price_hash: "f".repeat(64),
        ..current.clone()
    };
    assert!(matches!(
        quote.record_approval(&other_price).unwrap(),
        ApprovalApplication::Ignored(IgnoredReason::PriceHashMismatch { .. })
    ));
    assert_eq!(quote, before, "an ignored outcome changes nothing");

    // Rejected, then revised: the next revision starts over in DRAFT, open.
    let rejected = ApprovalOutcome {
        kind: OutcomeKind::Rejected,
        status: ApprovalStatus::Rejected,
        reason: Some("too deep".into()),
        ..current
    };
    let event = approve_with(&mut quote, &rejected);
    assert_eq!(event.event_type(), "cpq.quote.rejected.v1");
    assert_eq!(event.reason.as_deref(), Some("too deep"));
    assert_eq!(quote.status(), QuoteStatus::Rejected);
    assert_eq!(
        quote.record_approval(&rejected).unwrap(),
        ApprovalApplication::Ignored(IgnoredReason::NotAwaitingApproval(QuoteStatus::Rejected)),
        "the same outcome twice moves the quote once"
    );
    quote.revise(None, None).unwrap();
    assert_eq!((quote.status(), quote.revision()), (QuoteStatus::Draft, 2));
    assert_eq!(quote.commitment(), &Commitment::Open);
}

/// One step of a random walk.
#[derive(Debug, Clone)]
enum Step {
    Replace { valid: bool, discount: u8 },
    Price,
    Override,
    Submit(ActorType),
    Outcome { kind: u8, stale: bool },
    Revise,
    Accept { late: bool },
    Cancel,
    Expire { late: bool },
    Convert,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (any::<bool>(), prop_oneof![Just(0_u8), Just(5), Just(30)])
            .prop_map(|(valid, discount)| Step::Replace { valid, discount }),
        3 => Just(Step::Price),
        1 => Just(Step::Override),
        2 => proptest::sample::select(ActorType::ALL.to_vec()).prop_map(Step::Submit),
        3 => (0u8..6, proptest::bool::weighted(0.2))
            .prop_map(|(kind, stale)| Step::Outcome { kind, stale }),
        1 => Just(Step::Revise),
        2 => any::<bool>().prop_map(|late| Step::Accept { late }),
        1 => Just(Step::Cancel),
        1 => any::<bool>().prop_map(|late| Step::Expire { late }),
        2 => Just(Step::Convert),
    ]
}

/// The one-time net price the engine computes now, for an override that names it.
fn current_one_time(quote: &Quote) -> Decimal {
    quote
        .pricing()
        .snapshot()
        .and_then(|s| s.priced_quote().ok())
        .and_then(|p| {
            p.lines[0]
                .charges
                .iter()
                .find(|c| c.kind == ChargeKind::OneTime)
                .map(|c| c.net.amount)
        })
        .unwrap_or_default()
}

fn apply(quote: &mut Quote, step: &Step) -> Result<Option<QuoteEvent>, QuoteError> {
    let agent = actor(ActorType::HumanAgent);
    let now = start() + Duration::days(1);
    let late = start() + Duration::days(40);
    Ok(Some(match step {
        Step::Replace { valid, discount } => {
            let (items, report) = items(*valid, *discount);
            quote.replace_items(None, items, &report)?
        }
        Step::Price => quote.price(None, book(), &agent, now)?,
        Step::Override => {
            let draft = OverrideDraft {
                charge: ChargeKind::OneTime,
                original_price: current_one_time(quote),
                new_price: Decimal::from(10),
                reason: "deal".into(),
            };
            quote.override_price(None, ItemId::new("1"), draft, book(), &agent, now)?
        }
        Step::Submit(kind) => quote.submit(None, by(*kind))?,
        Step::Outcome { kind, stale } => {
            let (kind, status) = match kind {
                0 => (OutcomeKind::Requested, ApprovalStatus::Pending),
                1 => (OutcomeKind::Requested, ApprovalStatus::NotRequired),
                2 => (OutcomeKind::Approved, ApprovalStatus::Approved),
                3 => (OutcomeKind::Rejected, ApprovalStatus::Rejected),
                4 => (OutcomeKind::Escalated, ApprovalStatus::Pending),
                _ => (OutcomeKind::Superseded, ApprovalStatus::Superseded),
            };
            let mut outcome = outcome(quote, kind, status);
            if *stale {
                outcome.revision -= 1;
            }
            match quote.record_approval(&outcome)? {
                ApprovalApplication::Applied(event) => *event,
                ApprovalApplication::Ignored(_) => return Ok(None),
            }
        }
        Step::Revise => quote.revise(None, None)?,
        Step::Accept { late: l } => quote.accept(
            None,
            &agent,
            "API".into(),
            None,
            if *l { late } else { now },
        )?,
        Step::Cancel => quote.cancel(None, None)?,
        Step::Expire { late: l } => quote.expire(if *l { late } else { now })?,
        Step::Convert => match quote.convert(&agent, now)? {
            ConversionOutcome::Converted(event) => *event,
            ConversionOutcome::AlreadyConverted => return Ok(None),
        },
    }))
}

proptest! {
    /// Random command sequences and approval outcomes: a refused command or an ignored outcome
    /// changes nothing (a stale one never moves the quote); an accepted one bumps the version by
    /// one and describes exactly the change; the stored shape always restores; an approved,
    /// accepted or converted quote always holds the frozen price it approved; a terminal quote
    /// never changes; one conversion per quote.
    #[test]
    fn random_commands_never_break_the_quote(steps in proptest::collection::vec(step(), 0..40)) {
        let mut quote = configured();
        let mut order = None;
        for step in steps {
            let before = quote.clone();
            match apply(&mut quote, &step) {
                Err(_) | Ok(None) => prop_assert_eq!(&quote, &before, "{:?} changed a refused quote", step),
                Ok(Some(event)) => {
                    prop_assert!(!before.status().is_terminal(), "{:?} moved a terminal quote", step);
                    prop_assert_eq!(quote.version(), before.version() + 1);
                    prop_assert_eq!(event.aggregate_version, quote.version());
                    prop_assert_eq!(event.before.as_ref(), Some(&before.summary()));
                    prop_assert_eq!(&event.after, &quote.summary());
                    prop_assert_eq!(event.transition.to_status, quote.status());
                }
            }
            prop_assert!(Quote::restore(quote.parts()).is_ok(), "{:?} left a shape storage refuses", step);
            if matches!(quote.status(), QuoteStatus::Approved | QuoteStatus::Accepted | QuoteStatus::Converted) {
                let approval = quote.commitment().approval();
                prop_assert!(approval.is_some());
                prop_assert_eq!(quote.pricing().state(), PricingState::Frozen);
                prop_assert_eq!(quote.pricing().hash(), approval.map(|a| a.price_hash.as_str()));
            }
            if matches!(quote.status(), QuoteStatus::Accepted | QuoteStatus::Converted) {
                prop_assert!(quote.items().iter().all(|i| matches!(i.configuration, ItemConfiguration::Frozen(_))));
                prop_assert!(quote.commitment().acceptance().is_some());
            }
            if let Step::Outcome { stale: true, .. } = step {
                prop_assert_eq!(&quote, &before, "a stale outcome moved the quote");
            }
            if matches!(quote.status(), QuoteStatus::ApprovalPending | QuoteStatus::Rejected) {
                prop_assert!(quote.commitment().basis().is_some());
            }
            if let Some(conversion) = quote.commitment().conversion() {
                let first = *order.get_or_insert(conversion.order_id);
                prop_assert_eq!(conversion.order_id, first, "one conversion per quote");
            }
        }
    }
}
