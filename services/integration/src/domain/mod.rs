//! The integration domain: which downstream operations exist, the business identity an external
//! side effect is keyed by, the closed classification of an attempt, the retry budget and the
//! external operation's lifecycle. Pure: no axum, sqlx, reqwest, rdkafka or zeebe. The HTTP
//! shapes of the downstream systems live in `infra::adapters` and never reach this module or the
//! order service (spec invariant 8).

pub mod budget;
pub mod classification;
pub mod command;
pub mod key;
pub mod lifecycle;
pub mod operation;
pub mod system;

#[cfg(test)]
mod properties;

pub use budget::RetryBudget;
pub use classification::{Classification, Transport, classify};
pub use command::{CommandError, CoreResult, ExternalCommand};
pub use key::{BusinessIdentity, IdempotencyKey, IdentityError};
pub use lifecycle::{OperationCommand, OperationStatus};
pub use operation::{Answer, ExternalOperation, Rejection, StatusAnswer, Step};
pub use system::{ExternalSystem, Operation};

domain_kernel::uuid_id!(
    /// Identifies one external operation: one side effect at one downstream, whatever the number
    /// of attempts it took.
    ExternalOperationId
);
domain_kernel::uuid_id!(
    /// Identifies one entry of the external call log (one attempt or one status query).
    ExternalCallId
);
