//! Which offering version each item pins, decided from the catalog's live lifecycle facts:
//! unknown offerings, versions that cannot be sold new and stale pins are refused with one
//! violation per item, so the seller sees every fix at once.

use std::collections::{BTreeMap, BTreeSet};

use cpq_configuration::{OfferingId, OfferingStatus};

use super::items::ItemDraft;
use crate::domain::input::InputViolation;

/// The live lifecycle of an offering, as the catalog reports it (never cached: versions get
/// retired).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferingLifecycle {
    /// Version on sale, if any.
    pub published_version: Option<i32>,
    /// Every version with its status (statuses the engine does not know are left out).
    pub versions: Vec<(i32, OfferingStatus)>,
}

impl OfferingLifecycle {
    /// Status of `version`, if it exists.
    pub fn status_of(&self, version: i32) -> Option<OfferingStatus> {
        self.versions
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, status)| *status)
    }
}

/// Why the items cannot be pinned; each carries every affected item, and the more basic
/// problems are listed first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinRefusal {
    /// Some offering (or version) does not exist for the tenant.
    UnknownOffering(Vec<InputViolation>),
    /// Some version cannot be sold new and the offering has nothing published.
    NotSellable(Vec<InputViolation>),
    /// Some item pins a version that is no longer the published one.
    Stale(Vec<InputViolation>),
}

/// The pins: one version per item, and the distinct `(offering, version)` pairs whose content
/// the configuration engine needs (all PUBLISHED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    /// The version each item pins, in item order.
    pub versions: Vec<i32>,
    /// Distinct published versions to load.
    pub wanted: BTreeSet<(OfferingId, i32)>,
}

/// The distinct offerings the drafts name, for one catalog call each.
pub fn distinct_offerings(drafts: &[ItemDraft]) -> BTreeSet<OfferingId> {
    drafts.iter().map(|d| d.offering_id).collect()
}

/// Pins every draft against `lifecycles` (`None`: the offering does not exist for the tenant).
pub fn pin(
    drafts: &[ItemDraft],
    lifecycles: &BTreeMap<OfferingId, Option<OfferingLifecycle>>,
) -> Result<Pins, PinRefusal> {
    let mut unknown = Vec::new();
    let mut not_sellable = Vec::new();
    let mut stale = Vec::new();
    let mut versions = Vec::with_capacity(drafts.len());
    let mut wanted = BTreeSet::new();
    for (i, item) in drafts.iter().enumerate() {
        let Some(lifecycle) = lifecycles.get(&item.offering_id).and_then(Option::as_ref) else {
            unknown.push(InputViolation::new(
                format!("/items/{i}/offeringId"),
                "UNKNOWN_OFFERING",
                format!("no offering {} for this tenant", item.offering_id),
            ));
            versions.push(0);
            continue;
        };
        let Some(version) = item.offering_version.or(lifecycle.published_version) else {
            not_sellable.push(InputViolation::new(
                format!("/items/{i}/offeringId"),
                "OFFERING_NOT_SELLABLE",
                "the offering has no published version",
            ));
            versions.push(0);
            continue;
        };
        versions.push(version);
        match lifecycle.status_of(version) {
            None => unknown.push(InputViolation::new(
                format!("/items/{i}/offeringVersion"),
                "UNKNOWN_OFFERING_VERSION",
                format!("offering {} has no version {version}", item.offering_id),
            )),
            Some(OfferingStatus::Published) => {
                wanted.insert((item.offering_id, version));
            }
            Some(status) => match lifecycle.published_version {
                Some(published) => stale.push(InputViolation::new(
                    format!("/items/{i}/offeringVersion"),
                    "OFFERING_VERSION_STALE",
                    format!("version {version} is {status}; the published version is {published}"),
                )),
                None => not_sellable.push(InputViolation::new(
                    format!("/items/{i}/offeringVersion"),
                    "OFFERING_NOT_SELLABLE",
                    format!(
                        "version {version} is {status} and the offering has no published version"
                    ),
                )),
            },
        }
    }
    if !unknown.is_empty() {
        unknown.extend(not_sellable);
        unknown.extend(stale);
        return Err(PinRefusal::UnknownOffering(unknown));
    }
    if !not_sellable.is_empty() {
        not_sellable.extend(stale);
        return Err(PinRefusal::NotSellable(not_sellable));
    }
    if !stale.is_empty() {
        return Err(PinRefusal::Stale(stale));
    }
    Ok(Pins { versions, wanted })
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    fn draft(offering: OfferingId, version: Option<i32>) -> ItemDraft {
        ItemDraft {
            id: None,
            offering_id: offering,
            offering_version: version,
            quantity: 1,
            term_months: None,
            discount_percent: None,
            characteristics: Map::new(),
            parent_id: None,
        }
    }

    fn lifecycle(published: Option<i32>, versions: &[(i32, OfferingStatus)]) -> OfferingLifecycle {
        OfferingLifecycle {
            published_version: published,
            versions: versions.to_vec(),
        }
    }

    #[test]
    fn the_published_version_is_pinned_by_default() {
        let offering = OfferingId::generate();
        let facts = BTreeMap::from([(
            offering,
            Some(lifecycle(
                Some(2),
                &[(1, OfferingStatus::Retired), (2, OfferingStatus::Published)],
            )),
        )]);
        let pins = pin(&[draft(offering, None), draft(offering, Some(2))], &facts).unwrap();
        assert_eq!(pins.versions, [2, 2]);
        assert_eq!(pins.wanted, BTreeSet::from([(offering, 2)]));
    }

    #[test]
    fn refusals_name_every_item_most_basic_first() {
        let live = OfferingId::generate();
        let retired = OfferingId::generate();
        let missing = OfferingId::generate();
        let facts = BTreeMap::from([
            (
                live,
                Some(lifecycle(
                    Some(2),
                    &[(1, OfferingStatus::Retired), (2, OfferingStatus::Published)],
                )),
            ),
            (
                retired,
                Some(lifecycle(None, &[(1, OfferingStatus::Retired)])),
            ),
            (missing, None),
        ]);
        let stale_only = pin(&[draft(live, Some(1))], &facts).unwrap_err();
        assert!(
            matches!(&stale_only, PinRefusal::Stale(v) if v[0].code == "OFFERING_VERSION_STALE")
        );
        let mixed = pin(
            &[
                draft(live, Some(1)),
                draft(retired, None),
                draft(missing, None),
                draft(live, Some(9)),
            ],
            &facts,
        )
        .unwrap_err();
        let PinRefusal::UnknownOffering(found) = mixed else {
            panic!("unknown offerings come first: {mixed:?}");
        };
        let codes: Vec<_> = found.iter().map(|v| v.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "UNKNOWN_OFFERING",
                "UNKNOWN_OFFERING_VERSION",
                "OFFERING_NOT_SELLABLE",
                "OFFERING_VERSION_STALE"
            ]
        );
    }
}
