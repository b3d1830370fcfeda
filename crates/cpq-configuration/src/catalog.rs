//! The offering snapshots a validation may consult, indexed once so that validating n items
//! costs n lookups rather than n scans.

use std::collections::HashMap;

use crate::model::{CharacteristicDefinition, OfferingId, OfferingSnapshot};

/// Why a set of snapshots cannot be used: each would make a lookup ambiguous.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// The same (offering, version) was supplied twice.
    #[error("offering {offering_id} version {version} was supplied more than once")]
    DuplicateSnapshot {
        /// Offering.
        offering_id: OfferingId,
        /// Version.
        version: i32,
    },
    /// A snapshot defines the same characteristic name twice (the catalog never publishes
    /// this; a mapping bug would).
    #[error("offering {offering_id} version {version} defines characteristic '{name}' twice")]
    DuplicateCharacteristic {
        /// Offering.
        offering_id: OfferingId,
        /// Version.
        version: i32,
        /// Characteristic name.
        name: String,
    },
}

/// One snapshot plus its characteristics indexed by name.
#[derive(Debug)]
pub(crate) struct IndexedOffering {
    pub(crate) snapshot: OfferingSnapshot,
    by_name: HashMap<String, usize>,
}

impl IndexedOffering {
    /// The definition of characteristic `name`, if the specification has one.
    pub(crate) fn characteristic(&self, name: &str) -> Option<&CharacteristicDefinition> {
        self.by_name
            .get(name)
            .and_then(|&i| self.snapshot.characteristics.get(i))
    }
}

/// The offering versions a quote's items were configured against, looked up by
/// (offering id, version).
#[derive(Debug, Default)]
pub struct OfferingCatalog {
    offerings: HashMap<(OfferingId, i32), IndexedOffering>,
}

impl OfferingCatalog {
    /// Indexes `snapshots`; refuses input that would make a lookup ambiguous.
    pub fn new(
        snapshots: impl IntoIterator<Item = OfferingSnapshot>,
    ) -> Result<Self, CatalogError> {
        let mut offerings = HashMap::new();
        for snapshot in snapshots {
            let key = (snapshot.offering_id, snapshot.version);
            let mut by_name = HashMap::with_capacity(snapshot.characteristics.len());
            for (i, definition) in snapshot.characteristics.iter().enumerate() {
                if by_name.insert(definition.name.clone(), i).is_some() {
                    return Err(CatalogError::DuplicateCharacteristic {
                        offering_id: key.0,
                        version: key.1,
                        name: definition.name.clone(),
                    });
                }
            }
            if offerings
                .insert(key, IndexedOffering { snapshot, by_name })
                .is_some()
            {
                return Err(CatalogError::DuplicateSnapshot {
                    offering_id: key.0,
                    version: key.1,
                });
            }
        }
        Ok(Self { offerings })
    }

    /// The snapshot of `offering_id` at `version`, if supplied.
    pub fn get(&self, offering_id: OfferingId, version: i32) -> Option<&OfferingSnapshot> {
        self.indexed(offering_id, version).map(|o| &o.snapshot)
    }

    /// Number of snapshots held.
    pub fn len(&self) -> usize {
        self.offerings.len()
    }

    /// Whether no snapshot is held.
    pub fn is_empty(&self) -> bool {
        self.offerings.is_empty()
    }

    pub(crate) fn indexed(
        &self,
        offering_id: OfferingId,
        version: i32,
    ) -> Option<&IndexedOffering> {
        self.offerings.get(&(offering_id, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OfferingStatus;
    use crate::values::ValueType;

    fn snapshot(id: OfferingId, version: i32, names: &[&str]) -> OfferingSnapshot {
        OfferingSnapshot {
            offering_id: id,
            version,
            status: OfferingStatus::Published,
            characteristics: names
                .iter()
                .map(|n| CharacteristicDefinition::new(*n, ValueType::String))
                .collect(),
            relationships: Vec::new(),
        }
    }

    #[test]
    fn snapshots_are_found_by_offering_and_version() {
        let id = OfferingId::generate();
        let catalog = OfferingCatalog::new([snapshot(id, 1, &["a"]), snapshot(id, 2, &["b"])]);
        let catalog = catalog.unwrap();
        assert_eq!(catalog.len(), 2);
        assert_eq!(catalog.get(id, 2).map(|s| s.version), Some(2));
        assert!(catalog.get(id, 3).is_none());
        let indexed = catalog.indexed(id, 1).unwrap();
        assert!(indexed.characteristic("a").is_some());
        assert!(indexed.characteristic("b").is_none());
    }

    #[test]
    fn ambiguous_input_is_refused() {
        let id = OfferingId::generate();
        assert_eq!(
            OfferingCatalog::new([snapshot(id, 1, &[]), snapshot(id, 1, &[])]).unwrap_err(),
            CatalogError::DuplicateSnapshot {
                offering_id: id,
                version: 1
            }
        );
        assert!(matches!(
            OfferingCatalog::new([snapshot(id, 1, &["a", "a"])]),
            Err(CatalogError::DuplicateCharacteristic { .. })
        ));
    }
}
