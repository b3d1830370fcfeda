//! The order domain: the order aggregate (header, items, fulfilment tasks) with the lifecycles
//! of all three, the decomposition of an order into a fulfilment plan from the catalog's
//! fulfilment profiles, and the installed base it changes (product instances, subscriptions).
//! Pure: no axum, sqlx, tokio, reqwest, redis or rdkafka. The application loads an aggregate,
//! calls one command, saves it whole and publishes the changes the command returned.

pub mod action;
pub mod asset;
pub mod asset_status;
pub mod fallout;
pub mod fallout_status;
pub mod item_status;
pub mod operation;
pub mod order;
pub mod order_status;
pub mod plan;
pub mod profile;
pub mod subscription;
pub mod subscription_status;
pub mod task_status;

#[cfg(test)]
pub(crate) mod demo;
#[cfg(test)]
mod exception_properties;
#[cfg(test)]
mod properties;

use std::fmt;

use domain_kernel::Lifecycle;
use serde::{Deserialize, Serialize};

pub use action::ItemAction;
pub use asset::{
    AssetChangeKind, AssetError, AssetHistoryEntry, NewProductInstance, ProductInstance,
};
pub use asset_status::{AssetCommand, AssetStatus};
pub use fallout::{Fallout, FalloutCategory, FalloutError, ResolutionType, Severity};
pub use fallout_status::{FalloutCommand, FalloutStatus};
pub use item_status::{ItemCommand, ItemStatus};
pub use operation::FulfilmentOperation;
pub use order::{
    AmendItemImpact, AmendItemOutcome, AmendRefusal, AmendTaskAction, AmendTaskImpact,
    AmendmentImpact, CancellationImpact, Failure, FulfilmentTask, ItemAmendment, ItemImpact,
    ItemOutcome, ManualReason, ManualResolution, NewOrder, NewOrderItem, Order, OrderChange,
    OrderError, OrderItem, OrderOrigin, TaskAction, TaskCorrection, TaskHandling, TaskImpact,
    TaskPurpose,
};
pub use order_status::{OrderCommand, OrderStatus};
pub use plan::{DecompositionError, Plan, PlanItem, PlannedTask, decompose};
pub use profile::{FulfilmentProfile, TaskTemplate};
pub use subscription::{Subscription, SubscriptionError, SubscriptionTransition};
pub use subscription_status::{SubscriptionCommand, SubscriptionStatus};
pub use task_status::{TaskCommand, TaskStatus};

domain_kernel::uuid_id!(
    /// Identifies an order.
    OrderId
);
domain_kernel::uuid_id!(
    /// Identifies an order item; it belongs to exactly one order.
    OrderItemId
);
domain_kernel::uuid_id!(
    /// Identifies a fulfilment task; the integration service keys its side effect by it.
    FulfilmentTaskId
);
domain_kernel::uuid_id!(
    /// Identifies a product instance (an asset of the installed base).
    ProductInstanceId
);
domain_kernel::uuid_id!(
    /// Identifies a subscription.
    SubscriptionId
);
domain_kernel::uuid_id!(
    /// Identifies a fallout case.
    FalloutId
);
domain_kernel::uuid_id!(
    /// Identifies the quote an order was converted from.
    QuoteId
);
domain_kernel::uuid_id!(
    /// Identifies a catalog product offering (its version is a separate number).
    ProductOfferingId
);

/// The customer (account) an order, product instance or subscription belongs to; it never
/// changes after capture (activation for assets). The CRM owns the value, so the order only
/// bounds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerId(String);

/// Why a customer id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerIdError {
    /// Empty or only whitespace.
    #[error("a customer id must not be empty")]
    Empty,
    /// Longer than 128 characters.
    #[error("a customer id has at most 128 characters")]
    TooLong,
    /// Holds a control character.
    #[error("a customer id has no control characters")]
    BadCharacter,
}

impl CustomerIdError {
    /// Stable code for problem responses.
    pub fn code(&self) -> &'static str {
        "CUSTOMER_ID_INVALID"
    }
}

impl CustomerId {
    /// Accepts 1–128 characters, not all whitespace, without control characters.
    pub fn parse(value: &str) -> Result<Self, CustomerIdError> {
        if value.trim().is_empty() {
            return Err(CustomerIdError::Empty);
        }
        if value.chars().count() > 128 {
            return Err(CustomerIdError::TooLong);
        }
        if value.chars().any(char::is_control) {
            return Err(CustomerIdError::BadCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The distinct `(from, to)` pairs of a machine's table, in table order: what the database's
/// `<machine>_transition_allowed` function lists (besides `from = to`).
fn table_pairs<S: Lifecycle>(name: fn(S) -> &'static str) -> Vec<(&'static str, &'static str)> {
    let mut pairs = Vec::new();
    for (from, _, to) in S::TRANSITIONS {
        let pair = (name(*from), name(*to));
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_are_bounded() {
        let id = CustomerId::parse("CUST-0001").unwrap();
        assert_eq!(id.as_str(), "CUST-0001");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"CUST-0001\"");
        assert_eq!(CustomerId::parse(" "), Err(CustomerIdError::Empty));
        assert_eq!(
            CustomerId::parse(&"x".repeat(129)),
            Err(CustomerIdError::TooLong)
        );
        assert!(CustomerId::parse(&"x".repeat(128)).is_ok());
        assert_eq!(
            CustomerId::parse("a\nb"),
            Err(CustomerIdError::BadCharacter)
        );
    }

    /// The pairs the lead's database test compares with the SQL functions: every machine's
    /// table without its commands, each pair once, and only states of the machine.
    #[test]
    fn allowed_pairs_are_the_tables_without_commands() {
        fn check<S: Lifecycle>(
            pairs: &[(&'static str, &'static str)],
            all: &[S],
            name: fn(S) -> &'static str,
            count: usize,
        ) {
            assert_eq!(pairs.len(), count);
            let names: Vec<_> = all.iter().map(|s| name(*s)).collect();
            for (i, (from, to)) in pairs.iter().enumerate() {
                assert!(names.contains(from) && names.contains(to));
                assert!(!pairs[..i].contains(&(from, to)), "{from} -> {to} twice");
                assert!(
                    S::TRANSITIONS
                        .iter()
                        .any(|(f, _, t)| name(*f) == *from && name(*t) == *to)
                );
            }
            for (f, _, t) in S::TRANSITIONS {
                assert!(pairs.contains(&(name(*f), name(*t))));
            }
        }
        check(
            &order_status::allowed_pairs(),
            &OrderStatus::ALL,
            OrderStatus::as_str,
            27,
        );
        check(
            &item_status::allowed_pairs(),
            &ItemStatus::ALL,
            ItemStatus::as_str,
            25,
        );
        check(
            &task_status::allowed_pairs(),
            &TaskStatus::ALL,
            TaskStatus::as_str,
            27,
        );
        check(
            &fallout_status::allowed_pairs(),
            &FalloutStatus::ALL,
            FalloutStatus::as_str,
            19,
        );
        // CompleteModification and AbandonModification share PENDING_MODIFICATION -> ACTIVE.
        check(
            &asset_status::allowed_pairs(),
            &AssetStatus::ALL,
            AssetStatus::as_str,
            14,
        );
        check(
            &subscription_status::allowed_pairs(),
            &SubscriptionStatus::ALL,
            SubscriptionStatus::as_str,
            7,
        );
        assert!(subscription_status::allowed_pairs().contains(&("ACTIVE", "ACTIVE")));
    }
}
