//! The subscription aggregate: what an ADD of an offering with `startsSubscription` starts
//! (add-ons join their parent's). ACTIVE has a start date, TERMINATED an end date, the customer
//! never changes, and a renewal is a new version of the same subscription, never a second one.

use chrono::{DateTime, Utc};
use domain_kernel::{Lifecycle, TenantId, TransitionError};

use super::{
    CustomerId, OrderId, OrderItemId, SubscriptionCommand, SubscriptionId, SubscriptionStatus,
};

/// A subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Id.
    pub id: SubscriptionId,
    /// Tenant.
    pub tenant: TenantId,
    /// Customer; never changes.
    pub customer: CustomerId,
    /// Status.
    pub status: SubscriptionStatus,
    /// Bumped by one on every change.
    pub version: i64,
    /// When it became ACTIVE.
    pub start_date: Option<DateTime<Utc>>,
    /// When it was TERMINATED.
    pub end_date: Option<DateTime<Utc>>,
    /// The order that started it.
    pub order: OrderId,
    /// The root item (the ADD of the offering that starts it).
    pub root_item: OrderItemId,
}

/// Evidence of one change: what moved, to which version, when (a renewal is ACTIVE → ACTIVE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionTransition {
    /// The command.
    pub command: SubscriptionCommand,
    /// Before.
    pub from: SubscriptionStatus,
    /// After.
    pub to: SubscriptionStatus,
    /// The version it became.
    pub version: i64,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why a subscription command was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// The table refused the move.
    #[error(transparent)]
    Transition(#[from] TransitionError<SubscriptionStatus>),
}

impl SubscriptionError {
    /// Stable code for problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transition(error) => error.code(),
        }
    }
}

impl Subscription {
    /// A new subscription, PENDING_ACTIVATION at version 1.
    pub fn pending(
        id: SubscriptionId,
        tenant: TenantId,
        customer: CustomerId,
        order: OrderId,
        root_item: OrderItemId,
    ) -> Self {
        Self {
            id,
            tenant,
            customer,
            status: SubscriptionStatus::PendingActivation,
            version: 1,
            start_date: None,
            end_date: None,
            order,
            root_item,
        }
    }

    /// PENDING_ACTIVATION → ACTIVE, start date set.
    pub fn activate(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<SubscriptionTransition, SubscriptionError> {
        self.step(SubscriptionCommand::Activate, now, |s| {
            s.start_date.get_or_insert(now);
        })
    }

    /// PENDING_ACTIVATION → CANCELLED.
    pub fn cancel(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<SubscriptionTransition, SubscriptionError> {
        self.step(SubscriptionCommand::Cancel, now, |_| {})
    }

    /// ACTIVE → SUSPENDED.
    pub fn suspend(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<SubscriptionTransition, SubscriptionError> {
        self.step(SubscriptionCommand::Suspend, now, |_| {})
    }

    /// SUSPENDED → ACTIVE.
    pub fn resume(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<SubscriptionTransition, SubscriptionError> {
        self.step(SubscriptionCommand::Resume, now, |_| {})
    }

    /// ACTIVE | SUSPENDED → TERMINATED, end date set.
    pub fn terminate(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<SubscriptionTransition, SubscriptionError> {
        self.step(SubscriptionCommand::Terminate, now, |s| {
            s.end_date = Some(now)
        })
    }

    /// ACTIVE → ACTIVE: a new version with its evidence, never a second subscription.
    pub fn renew(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<SubscriptionTransition, SubscriptionError> {
        self.step(SubscriptionCommand::Renew, now, |_| {})
    }

    fn step(
        &mut self,
        command: SubscriptionCommand,
        now: DateTime<Utc>,
        mutate: impl FnOnce(&mut Self),
    ) -> Result<SubscriptionTransition, SubscriptionError> {
        let from = self.status;
        let to = from.apply(command)?;
        self.status = to;
        mutate(self);
        self.version += 1;
        Ok(SubscriptionTransition {
            command,
            from,
            to,
            version: self.version,
            at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_subscription_starts_renews_in_place_and_ends() {
        let at = |day| {
            Utc.with_ymd_and_hms(2026, 12, day, 0, 0, 0)
                .single()
                .unwrap()
        };
        let mut subscription = Subscription::pending(
            SubscriptionId::generate(),
            TenantId::parse("acme").unwrap(),
            CustomerId::parse("CUST-1").unwrap(),
            OrderId::generate(),
            OrderItemId::generate(),
        );
        assert_eq!(subscription.version, 1);
        assert_eq!(
            subscription.terminate(at(1)).unwrap_err().code(),
            "ILLEGAL_TRANSITION"
        );
        subscription.activate(at(2)).unwrap();
        assert_eq!(subscription.start_date, Some(at(2)));
        let renewal = subscription.renew(at(3)).unwrap();
        assert_eq!(
            (renewal.from, renewal.to, renewal.version),
            (SubscriptionStatus::Active, SubscriptionStatus::Active, 3)
        );
        let id = subscription.id;
        subscription.terminate(at(4)).unwrap();
        assert_eq!(subscription.id, id);
        assert_eq!(subscription.end_date, Some(at(4)));
        assert_eq!(subscription.start_date, Some(at(2)));
        assert!(subscription.renew(at(5)).is_err());
        assert_eq!(subscription.version, 4);
    }
}
