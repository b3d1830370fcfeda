//! The one mapping from approval errors to problem+json (RFC 9457): a status per refusal, the
//! stable code the domain or application already names, and a detail that says what to do.
//! Authority refusals (separation of duties, a level the approver's roles do not cover, a
//! delegation not in force) are 403 like the permission table's; conflicts with the request's
//! state are 409; input that names nothing usable is 422.

use axum::http::StatusCode;
use common_kernel::error::{ApiError, FieldError};

use crate::app::error::AppError;
use crate::app::ports::{GuardViolation, TaskEngineError};
use crate::domain::{ApprovalError, DelegationError};

/// Every refusal an operation of this API can answer beyond the platform's own (which
/// `PlatformContract` declares), with its status: the contract declares each one, and a test
/// holds the two together.
pub const REFUSALS: &[(u16, &str)] = &[
    (403, "APPROVAL_SELF_DECISION"),
    (403, "APPROVAL_LEVEL_NOT_COVERED"),
    (403, "APPROVAL_NOT_ASSIGNED"),
    (403, "APPROVAL_RECALL_NOT_SUBMITTER"),
    (403, "DELEGATION_NOT_IN_FORCE"),
    (403, "DELEGATION_TRANSITIVE"),
    (404, "APPROVAL_REQUEST_NOT_FOUND"),
    (404, "APPROVER_NOT_FOUND"),
    (409, "ILLEGAL_TRANSITION"),
    (409, "APPROVAL_ALREADY_DECIDED"),
    (409, "APPROVAL_LEVEL_ALREADY_DECIDED"),
    (409, "APPROVAL_LEVEL_NOT_OPEN"),
    (409, "APPROVAL_PRICE_HASH_MISMATCH"),
    (409, "APPROVAL_REQUEST_TIMED_OUT"),
    (409, "APPROVAL_REQUEST_CONFLICT"),
    (409, "DELEGATION_CYCLE"),
    (422, "APPROVAL_LEVEL_NOT_IN_CHAIN"),
    (422, "APPROVAL_CHAIN_INVALID"),
    (422, "DELEGATION_TO_SELF"),
    (422, "DELEGATION_WINDOW_EMPTY"),
    (502, "TASK_ENGINE_ERROR"),
    (503, "TASK_ENGINE_UNAVAILABLE"),
];

fn refused(status: StatusCode, code: &'static str, detail: String) -> ApiError {
    ApiError::new(status, code, detail).with_retryable(false)
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let code = error.code();
        match error {
            AppError::Forbidden(refused) => ApiError::from(refused),
            AppError::Invalid(e) => {
                ApiError::validation(vec![FieldError::new("/", "INVALID", e.to_string())])
            }
            AppError::NotFound(id) => {
                ApiError::not_found(code, format!("No approval request {id}"))
            }
            AppError::QuoteNotFound(quote) => {
                ApiError::not_found(code, format!("Quote {quote} has no approval request"))
            }
            AppError::ApproverNotFound(actor) => ApiError::not_found(
                code,
                format!("No approver {actor} in this tenant's directory"),
            ),
            AppError::Refused(refusal) => domain(refusal),
            AppError::Guard(guard) => schema_guard(guard),
            AppError::Conflict(id) => ApiError::conflict(
                code,
                format!("Approval request {id} changed meanwhile; retry"),
            )
            .with_retryable(true),
            AppError::TaskEngine(TaskEngineError::Unknown(source)) => {
                ApiError::unavailable(code, TaskEngineError::Unknown(source))
            }
            AppError::TaskEngine(e) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                code,
                "The workflow engine refused or garbled the call; retry later",
            )
            .with_retryable(true)
            .with_source(e),
            AppError::Database(e) => ApiError::from(e),
            error @ AppError::Corrupt(_) => ApiError::internal(error),
        }
    }
}

/// The aggregate's refusals.
fn domain(error: ApprovalError) -> ApiError {
    let code = error.code();
    let detail = error.to_string();
    let status = match &error {
        ApprovalError::SelfDecision
        | ApprovalError::LevelNotCovered(_)
        | ApprovalError::NotAssigned(_)
        | ApprovalError::NotSubmitter
        | ApprovalError::Delegation(
            DelegationError::NoDelegation { .. } | DelegationError::TransitiveUse { .. },
        ) => StatusCode::FORBIDDEN,
        ApprovalError::LevelNotInChain(_)
        | ApprovalError::IncoherentSnapshot
        | ApprovalError::Chain(_)
        | ApprovalError::Delegation(
            DelegationError::SelfDelegation | DelegationError::EmptyWindow,
        ) => StatusCode::UNPROCESSABLE_ENTITY,
        ApprovalError::NoOpenLevel => return ApiError::internal(error),
        ApprovalError::Transition(_)
        | ApprovalError::LevelNotOpen { .. }
        | ApprovalError::LevelAlreadyDone(_)
        | ApprovalError::AlreadyDecided(_)
        | ApprovalError::PriceHashMismatch { .. }
        | ApprovalError::TimedOut
        | ApprovalError::NotYetDue
        | ApprovalError::NotOverdue(_)
        | ApprovalError::NoEscalationTarget(_)
        | ApprovalError::Delegation(DelegationError::Cycle { .. }) => StatusCode::CONFLICT,
    };
    refused(status, code, detail)
}

/// A schema guard caught what the domain would have refused (a race the domain could not see):
/// the same status and code as the domain's refusal; any other guard is a bug.
fn schema_guard(guard: GuardViolation) -> ApiError {
    let code = guard.code();
    let (status, detail) = match guard {
        GuardViolation::SelfDecision => (
            StatusCode::FORBIDDEN,
            "The submitter never decides their own quote's request",
        ),
        GuardViolation::AlreadyDecided => (
            StatusCode::CONFLICT,
            "A decision on this level by this approver exists already",
        ),
        GuardViolation::PriceHash => (
            StatusCode::CONFLICT,
            "The request covers another price hash than the one decided on",
        ),
        GuardViolation::Transition => (
            StatusCode::CONFLICT,
            "The request's lifecycle does not allow this change",
        ),
        GuardViolation::OpenRequestExists => (
            StatusCode::CONFLICT,
            "The quote revision has an open approval request already",
        ),
        GuardViolation::DelegationCycle => (
            StatusCode::CONFLICT,
            "The delegate already delegates back in an overlapping window",
        ),
        GuardViolation::DelegationToSelf => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "An approver cannot delegate to themselves",
        ),
        GuardViolation::Other(name) => {
            return ApiError::internal(AppError::Guard(GuardViolation::Other(name)));
        }
    };
    refused(status, code, detail.to_owned())
}

#[cfg(test)]
mod tests {
    use domain_kernel::ActorId;
    use domain_kernel::access::ApprovalLevel;

    use super::*;
    use crate::domain::{ApprovalRequestId, PriceHash};

    fn actor(name: &str) -> ActorId {
        ActorId::parse(name).unwrap()
    }

    /// One error of every refusal the API's operations reach.
    fn reachable() -> Vec<AppError> {
        let level = ApprovalLevel::Manager;
        let (a, b) = (actor("a"), actor("b"));
        let domain = [
            ApprovalError::SelfDecision,
            ApprovalError::LevelNotCovered(level),
            ApprovalError::NotAssigned(level),
            ApprovalError::NotSubmitter,
            ApprovalError::LevelNotInChain(level),
            ApprovalError::Chain(crate::domain::chain::ChainError::BadAssignment(level)),
            ApprovalError::LevelNotOpen {
                requested: ApprovalLevel::Director,
                open: level,
            },
            ApprovalError::LevelAlreadyDone(level),
            ApprovalError::AlreadyDecided(level),
            ApprovalError::PriceHashMismatch {
                expected: PriceHash::parse(&"a".repeat(64)).unwrap(),
            },
            ApprovalError::TimedOut,
            ApprovalError::Delegation(DelegationError::SelfDelegation),
            ApprovalError::Delegation(DelegationError::EmptyWindow),
            ApprovalError::Delegation(DelegationError::Cycle {
                delegator: a.clone(),
                delegate: b.clone(),
            }),
            ApprovalError::Delegation(DelegationError::TransitiveUse {
                actor: a.clone(),
                principal: b.clone(),
            }),
            ApprovalError::Delegation(DelegationError::NoDelegation {
                actor: a,
                principal: b.clone(),
            }),
        ];
        let mut errors: Vec<AppError> = domain.into_iter().map(AppError::Refused).collect();
        errors.extend([
            AppError::NotFound(ApprovalRequestId::generate()),
            AppError::ApproverNotFound(b),
            AppError::Conflict(ApprovalRequestId::generate()),
            AppError::TaskEngine(TaskEngineError::Unknown(Box::new(std::io::Error::other(
                "timeout",
            )))),
            AppError::TaskEngine(TaskEngineError::Refused {
                status: 400,
                detail: "bad".into(),
            }),
        ]);
        errors
    }

    #[test]
    fn every_reachable_refusal_answers_its_declared_status_and_code() {
        let mut answered: Vec<(u16, String)> = reachable()
            .into_iter()
            .map(ApiError::from)
            .map(|e| (e.status().as_u16(), e.code().to_owned()))
            .collect();
        let illegal = crate::domain::lifecycle::transition(
            crate::domain::ApprovalStatus::Rejected,
            crate::domain::ApprovalCommand::Recall,
        )
        .unwrap_err();
        let illegal = ApiError::from(AppError::Refused(ApprovalError::Transition(illegal)));
        answered.push((illegal.status().as_u16(), illegal.code().to_owned()));
        answered.sort();
        answered.dedup();
        let mut declared: Vec<(u16, String)> = REFUSALS
            .iter()
            .map(|(s, c)| (*s, (*c).to_owned()))
            .collect();
        declared.sort();
        assert_eq!(answered, declared);
    }

    #[test]
    fn schema_guards_answer_like_the_domain() {
        for (guard, domain) in [
            (GuardViolation::SelfDecision, ApprovalError::SelfDecision),
            (
                GuardViolation::AlreadyDecided,
                ApprovalError::AlreadyDecided(ApprovalLevel::Manager),
            ),
            (
                GuardViolation::DelegationToSelf,
                ApprovalError::Delegation(DelegationError::SelfDelegation),
            ),
        ] {
            let (g, d) = (
                ApiError::from(AppError::Guard(guard)),
                ApiError::from(AppError::Refused(domain)),
            );
            assert_eq!((g.status(), g.code()), (d.status(), d.code()));
        }
        let bug = ApiError::from(AppError::Guard(GuardViolation::Other("x")));
        assert_eq!(bug.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            ApiError::from(AppError::Conflict(ApprovalRequestId::generate())).retryable()
                && !ApiError::from(AppError::Refused(ApprovalError::SelfDecision)).retryable()
        );
    }
}
