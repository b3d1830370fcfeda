//! Repairs of the installed base by operators (CorrectProductInstanceStatus,
//! AttachMissingExternalServiceReference): only along the table's recovery moves, each a new
//! version with its history row, caused by the instance's last order item (the operation that
//! left it wrong).

use chrono::{DateTime, Utc};

use super::{AssetChangeKind, AssetError, AssetHistoryEntry, AssetStatus, ProductInstance};

impl ProductInstance {
    /// CorrectProductInstanceStatus · a stuck pending operation → ERROR, ERROR → ACTIVE
    /// (recovered), a pending MODIFY or DELETE given up → ACTIVE, a pending activation given up
    /// → CANCELLED · `None` when already in `target` · any other move is refused
    /// (`STATUS_CORRECTION_NOT_ALLOWED`): the table's guarantees hold for operators too.
    pub fn correct_status(
        &mut self,
        target: AssetStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<AssetHistoryEntry>, AssetError> {
        if self.status == target {
            return Ok(None);
        }
        let (order, item) = (self.last_order, self.last_item);
        let entry = match (self.status, target) {
            (
                AssetStatus::PendingActivation
                | AssetStatus::PendingModification
                | AssetStatus::PendingDisconnect,
                AssetStatus::Error,
            ) => self.mark_error(now, order, item)?,
            (AssetStatus::Error, AssetStatus::Active) => self.recover(now, order, item)?,
            (AssetStatus::PendingModification, AssetStatus::Active) => {
                self.abandon_modification(now, order, item)?
            }
            (AssetStatus::PendingDisconnect, AssetStatus::Active) => {
                self.abandon_disconnect(now, order, item)?
            }
            (AssetStatus::PendingActivation, AssetStatus::Cancelled) => {
                self.cancel_activation(now, order, item)?
            }
            (from, to) => return Err(AssetError::CorrectionNotAllowed { from, to }),
        };
        Ok(Some(entry))
    }

    /// AttachMissingExternalServiceReference · the caller attached a reference the downstream
    /// holds: a new version with its history row (the references live beside the aggregate) ·
    /// refused for a DISCONNECTED instance.
    pub fn record_reference_change(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<AssetHistoryEntry, AssetError> {
        if self.status == AssetStatus::Disconnected {
            return Err(AssetError::Disconnected);
        }
        self.version += 1;
        Ok(self.entry(AssetChangeKind::Reference, now))
    }
}
