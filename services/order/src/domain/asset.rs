//! The product instance aggregate (installed base, TMF637). Every change bumps the version by
//! exactly one and yields one history entry naming the order and item that caused it, so the
//! installed base can be reconstructed and audited.
//!
//! - ACTIVE has an activation date; DISCONNECTED has a termination date and never changes.
//! - One pending operation at a time: a MODIFY or DELETE starts only from ACTIVE (or SUSPENDED
//!   for a DELETE), and only the order item that started a pending operation finishes it
//!   (`ASSET_OPERATION_CONFLICT` otherwise).
//! - The customer never changes: no command touches it.

use chrono::{DateTime, Utc};
use domain_kernel::{Lifecycle, TenantId, TransitionError};
use serde::{Deserialize, Serialize};

use super::{
    AssetCommand, AssetStatus, CustomerId, OrderId, OrderItemId, ProductInstanceId,
    ProductOfferingId, SubscriptionId,
};

/// An installed product instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductInstance {
    /// Id.
    pub id: ProductInstanceId,
    /// Tenant.
    pub tenant: TenantId,
    /// Customer; never changes.
    pub customer: CustomerId,
    /// The offering it is an instance of.
    pub offering_id: ProductOfferingId,
    /// The offering version.
    pub offering_version: u32,
    /// Current characteristics.
    pub characteristics: serde_json::Map<String, serde_json::Value>,
    /// Status.
    pub status: AssetStatus,
    /// Bumped by one on every change, each with one history entry.
    pub version: i64,
    /// The instance it is an add-on of.
    pub parent: Option<ProductInstanceId>,
    /// The subscription it belongs to.
    pub subscription: Option<SubscriptionId>,
    /// When it became ACTIVE first.
    pub activation_date: Option<DateTime<Utc>>,
    /// When it was DISCONNECTED.
    pub termination_date: Option<DateTime<Utc>>,
    /// The order that created it.
    pub origin_order: OrderId,
    /// The order item that created it.
    pub origin_item: OrderItemId,
    /// The order of the latest change (owner of a pending operation).
    pub last_order: OrderId,
    /// The order item of the latest change (owner of a pending operation).
    pub last_item: OrderItemId,
}

/// What creating a product instance needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProductInstance {
    /// Id.
    pub id: ProductInstanceId,
    /// Tenant.
    pub tenant: TenantId,
    /// Customer.
    pub customer: CustomerId,
    /// Offering.
    pub offering_id: ProductOfferingId,
    /// Offering version.
    pub offering_version: u32,
    /// Characteristics as ordered.
    pub characteristics: serde_json::Map<String, serde_json::Value>,
    /// Parent instance (an add-on's).
    pub parent: Option<ProductInstanceId>,
    /// Subscription.
    pub subscription: Option<SubscriptionId>,
    /// The ordering order.
    pub order: OrderId,
    /// The ordering item (an ADD).
    pub item: OrderItemId,
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetChangeKind {
    /// Created.
    Add,
    /// Characteristics changed.
    Modify,
    /// Disconnected.
    Delete,
    /// Only the status moved.
    Status,
    /// A missing downstream reference was attached (a repair).
    Reference,
}

impl AssetChangeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "ADD",
            Self::Modify => "MODIFY",
            Self::Delete => "DELETE",
            Self::Status => "STATUS",
            Self::Reference => "REFERENCE",
        }
    }
}

/// One version of a product instance, after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetHistoryEntry {
    /// The version it became.
    pub version: i64,
    /// Its status then.
    pub status: AssetStatus,
    /// Its characteristics then.
    pub characteristics: serde_json::Map<String, serde_json::Value>,
    /// The order that caused the change.
    pub order: OrderId,
    /// The order item that caused the change.
    pub item: OrderItemId,
    /// What changed.
    pub change: AssetChangeKind,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why a product instance command was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssetError {
    /// The table refused the move.
    #[error(transparent)]
    Transition(#[from] TransitionError<AssetStatus>),
    /// A modification needs an ACTIVE instance (one pending operation at a time).
    #[error("the product instance is {status}, not ACTIVE")]
    NotActive {
        /// Its status.
        status: AssetStatus,
    },
    /// A disconnected instance is never modified.
    #[error("the product instance is DISCONNECTED and never changes")]
    Disconnected,
    /// Another order item owns the pending operation.
    #[error("the pending operation belongs to order {order} item {item}")]
    OperationConflict {
        /// The owning order.
        order: OrderId,
        /// The owning item.
        item: OrderItemId,
    },
    /// No recovery move leads from the status to the one asked for.
    #[error("a {from} product instance cannot be corrected to {to}")]
    CorrectionNotAllowed {
        /// Its status.
        from: AssetStatus,
        /// The status asked for.
        to: AssetStatus,
    },
}

impl AssetError {
    /// Stable code for problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Transition(error) => error.code(),
            Self::NotActive { .. } => "ASSET_NOT_ACTIVE",
            Self::Disconnected => "ASSET_DISCONNECTED",
            Self::OperationConflict { .. } => "ASSET_OPERATION_CONFLICT",
            Self::CorrectionNotAllowed { .. } => "STATUS_CORRECTION_NOT_ALLOWED",
        }
    }
}

impl ProductInstance {
    /// A new instance, PENDING_ACTIVATION at version 1, with its ADD history entry.
    pub fn pending_activation(
        new: NewProductInstance,
        now: DateTime<Utc>,
    ) -> (Self, AssetHistoryEntry) {
        let instance = Self {
            id: new.id,
            tenant: new.tenant,
            customer: new.customer,
            offering_id: new.offering_id,
            offering_version: new.offering_version,
            characteristics: new.characteristics,
            status: AssetStatus::PendingActivation,
            version: 1,
            parent: new.parent,
            subscription: new.subscription,
            activation_date: None,
            termination_date: None,
            origin_order: new.order,
            origin_item: new.item,
            last_order: new.order,
            last_item: new.item,
        };
        let entry = instance.entry(AssetChangeKind::Add, now);
        (instance, entry)
    }

    /// PENDING_ACTIVATION → ACTIVE, activation date set; by the item that ordered it.
    pub fn activate(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.owner_only(order, item)?;
        self.step(
            AssetCommand::Activate,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |i| {
                i.activation_date.get_or_insert(now);
            },
        )
    }

    /// PENDING_ACTIVATION → CANCELLED (its ADD was cancelled); by the item that ordered it.
    pub fn cancel_activation(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.owner_only(order, item)?;
        self.step(
            AssetCommand::CancelActivation,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |_| {},
        )
    }

    /// ACTIVE → PENDING_MODIFICATION; the item becomes the operation's owner.
    /// `ASSET_NOT_ACTIVE` from any other state.
    pub fn begin_modification(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.not_disconnected()?;
        if self.status != AssetStatus::Active {
            return Err(AssetError::NotActive {
                status: self.status,
            });
        }
        self.step(
            AssetCommand::BeginModification,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |_| {},
        )
    }

    /// PENDING_MODIFICATION → ACTIVE with the new characteristics; by the owning item.
    pub fn complete_modification(
        &mut self,
        new_characteristics: serde_json::Map<String, serde_json::Value>,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.owner_only(order, item)?;
        self.step(
            AssetCommand::CompleteModification,
            AssetChangeKind::Modify,
            now,
            order,
            item,
            |i| {
                i.characteristics = new_characteristics;
            },
        )
    }

    /// PENDING_MODIFICATION → ACTIVE, characteristics unchanged; by the owning item.
    pub fn abandon_modification(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.owner_only(order, item)?;
        self.step(
            AssetCommand::AbandonModification,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |_| {},
        )
    }

    /// ACTIVE → SUSPENDED.
    pub fn suspend(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.not_disconnected()?;
        self.step(
            AssetCommand::Suspend,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |_| {},
        )
    }

    /// SUSPENDED → ACTIVE.
    pub fn resume(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.not_disconnected()?;
        self.step(
            AssetCommand::Resume,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |_| {},
        )
    }

    /// ACTIVE | SUSPENDED → PENDING_DISCONNECT; the item becomes the operation's owner.
    pub fn begin_disconnect(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.not_disconnected()?;
        self.step(
            AssetCommand::BeginDisconnect,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |_| {},
        )
    }

    /// PENDING_DISCONNECT → DISCONNECTED, termination date set; by the owning item.
    pub fn disconnect(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.owner_only(order, item)?;
        self.step(
            AssetCommand::CompleteDisconnect,
            AssetChangeKind::Delete,
            now,
            order,
            item,
            |i| {
                i.termination_date = Some(now);
            },
        )
    }

    /// PENDING_DISCONNECT → ACTIVE (the DELETE was given up); by the owning item.
    pub fn abandon_disconnect(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.owner_only(order, item)?;
        self.step(
            AssetCommand::AbandonDisconnect,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |_| {},
        )
    }

    /// A pending operation broke: PENDING_* → ERROR.
    pub fn mark_error(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.not_disconnected()?;
        self.step(
            AssetCommand::MarkError,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |_| {},
        )
    }

    /// ERROR → ACTIVE (an operator's repair); an instance that never activated gets its
    /// activation date now, so ACTIVE always has one.
    pub fn recover(
        &mut self,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
    ) -> Result<AssetHistoryEntry, AssetError> {
        self.not_disconnected()?;
        self.step(
            AssetCommand::Recover,
            AssetChangeKind::Status,
            now,
            order,
            item,
            |i| {
                i.activation_date.get_or_insert(now);
            },
        )
    }

    fn not_disconnected(&self) -> Result<(), AssetError> {
        if self.status == AssetStatus::Disconnected {
            return Err(AssetError::Disconnected);
        }
        Ok(())
    }

    /// Finishing a pending operation is for the order item that started it.
    fn owner_only(&self, order: OrderId, item: OrderItemId) -> Result<(), AssetError> {
        self.not_disconnected()?;
        if (order, item) != (self.last_order, self.last_item) {
            return Err(AssetError::OperationConflict {
                order: self.last_order,
                item: self.last_item,
            });
        }
        Ok(())
    }

    fn step(
        &mut self,
        command: AssetCommand,
        change: AssetChangeKind,
        now: DateTime<Utc>,
        order: OrderId,
        item: OrderItemId,
        mutate: impl FnOnce(&mut Self),
    ) -> Result<AssetHistoryEntry, AssetError> {
        let to = self.status.apply(command)?;
        self.status = to;
        mutate(self);
        self.version += 1;
        self.last_order = order;
        self.last_item = item;
        Ok(self.entry(change, now))
    }

    fn entry(&self, change: AssetChangeKind, at: DateTime<Utc>) -> AssetHistoryEntry {
        AssetHistoryEntry {
            version: self.version,
            status: self.status,
            characteristics: self.characteristics.clone(),
            order: self.last_order,
            item: self.last_item,
            change,
            at,
        }
    }
}

mod repair;
#[cfg(test)]
mod tests;
