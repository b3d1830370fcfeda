//! The idempotency key of an external side effect. It is derived from the business identity of
//! the effect (tenant, order, item, fulfilment task, operation) and from nothing about the
//! attempt, so every attempt, every redelivered job and every restart sends the same key and a
//! downstream that honours keys applies the effect once.

use std::fmt;

use domain_kernel::TenantId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Operation;

domain_kernel::uuid_id!(
    /// The order an effect serves (the order service's id, carried by value).
    OrderId
);
domain_kernel::uuid_id!(
    /// The order item an effect serves.
    OrderItemId
);
domain_kernel::uuid_id!(
    /// The fulfilment task that asked for the effect: the order service owns its state.
    FulfilmentTaskId
);

/// Who asked for an effect, in business terms: the identity the key is derived from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusinessIdentity {
    /// The tenant.
    pub tenant: TenantId,
    /// The order.
    pub order_id: OrderId,
    /// The order item, when the effect serves one item (order-level effects have none).
    pub order_item_id: Option<OrderItemId>,
    /// The fulfilment task.
    pub task_id: FulfilmentTaskId,
    /// The operation.
    pub operation: Operation,
}

/// Why a key could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// Not the shape [`IdempotencyKey::derive`] produces.
    #[error("{0:?} is not an idempotency key of this service")]
    Malformed(String),
}

/// The key sent as `Idempotency-Key` on every attempt of one effect:
/// `<system>-<operation>-<40 hex>`, the hex being the first 160 bits of SHA-256 over the
/// identity's canonical text (`tenant|order|item or -|task|OPERATION`). Readable in logs, short
/// enough for every downstream's limit, and never derived from an attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key of `identity`'s effect.
    pub fn derive(identity: &BusinessIdentity) -> Self {
        let item = identity
            .order_item_id
            .map_or_else(|| "-".to_owned(), |id| id.to_string());
        let canonical = format!(
            "{}|{}|{}|{}|{}",
            identity.tenant.as_str(),
            identity.order_id,
            item,
            identity.task_id,
            identity.operation.as_str()
        );
        let digest = Sha256::digest(canonical.as_bytes());
        Self(format!(
            "{}-{}-{}",
            identity.operation.system().slug(),
            identity.operation.name(),
            &hex::encode(digest)[..40]
        ))
    }

    /// Reads a key given back by an operator or a query; only the derived shape is accepted.
    pub fn parse(value: &str) -> Result<Self, IdentityError> {
        let malformed = || IdentityError::Malformed(value.to_owned());
        let (prefix, digest) = value.rsplit_once('-').ok_or_else(malformed)?;
        let known = Operation::ALL.iter().any(|operation| {
            prefix == format!("{}-{}", operation.system().slug(), operation.name())
        });
        if !known
            || digest.len() != 40
            || !digest
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(malformed());
        }
        Ok(Self(value.to_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> BusinessIdentity {
        BusinessIdentity {
            tenant: TenantId::parse("acme").unwrap(),
            order_id: OrderId::generate(),
            order_item_id: Some(OrderItemId::generate()),
            task_id: FulfilmentTaskId::generate(),
            operation: Operation::ProvisioningActivate,
        }
    }

    #[test]
    fn the_key_depends_on_the_business_identity_only() {
        let one = identity();
        let key = IdempotencyKey::derive(&one);
        assert_eq!(key, IdempotencyKey::derive(&one.clone()));
        assert!(key.as_str().starts_with("provisioning-activate-"));
        assert_eq!(IdempotencyKey::parse(key.as_str()).unwrap(), key);
        let changes = [
            BusinessIdentity {
                tenant: TenantId::parse("other").unwrap(),
                ..one.clone()
            },
            BusinessIdentity {
                order_item_id: None,
                ..one.clone()
            },
            BusinessIdentity {
                task_id: FulfilmentTaskId::generate(),
                ..one.clone()
            },
            BusinessIdentity {
                operation: Operation::ProvisioningDeactivate,
                ..one.clone()
            },
        ];
        for changed in changes {
            assert_ne!(IdempotencyKey::derive(&changed), key, "{changed:?}");
        }
    }

    #[test]
    fn only_derived_shapes_parse() {
        for bad in [
            "",
            "provisioning-activate",
            "provisioning-activate-xyz",
            "billing-explode-0123456789abcdef0123456789abcdef01234567",
            "provisioning-activate-0123456789ABCDEF0123456789abcdef01234567",
        ] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad}");
        }
        assert!(
            IdempotencyKey::parse(
                "crm-update-order-status-0123456789abcdef0123456789abcdef01234567"
            )
            .is_ok()
        );
    }
}
