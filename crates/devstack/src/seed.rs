//! The demo catalog, loaded through the catalog's public HTTP API (never SQL), so it goes through
//! the same validation, idempotency and audit paths as any other client. Running it twice creates
//! nothing new: every item is looked up by code first, and every write carries a stable
//! `Idempotency-Key`.
//!
//! A database loaded before offerings had fulfilment profiles (ADR 0040) has published demo
//! versions without one. Published versions are immutable, so the loader derives a new version
//! with the profile and publishes it, and then gives the demo price book a new version pricing
//! the versions now on sale (quotes price the published version).

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::demo_content::{
    DemoOffering, DemoPriceBook, demo_offerings, demo_price_books, demo_specifications,
};
use crate::say;

pub(crate) use crate::catalog_client::{CatalogClient, id_of, success_body};

/// The `Idempotency-Key` for one action on one demo item; the same on every run.
fn idempotency_key(kind: &str, code: &str, action: &str) -> String {
    format!("demo-seed:{kind}:{code}:{action}")
}

/// The key of a lifecycle step on one version. Version 1 keeps the key the loader has always
/// used; later versions name theirs, since a key replays its first answer (a second version's
/// publish under version 1's key would publish nothing).
fn version_key(kind: &str, code: &str, action: &str, version: u64) -> String {
    if version <= 1 {
        idempotency_key(kind, code, action)
    } else {
        idempotency_key(kind, code, &format!("{action}:v{version}"))
    }
}

/// A non-negative integer field, if present.
fn number_of(record: &Value, field: &str) -> Option<u64> {
    record.get(field).and_then(Value::as_u64)
}

/// A status field, if present.
fn status_of(record: &Value) -> Option<&str> {
    record.get("status").and_then(Value::as_str)
}

/// Created-versus-present counts for one kind of item.
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    created: usize,
    present: usize,
}

/// What a load did, for the one-line summary.
#[derive(Debug, Default)]
pub struct Summary {
    specifications: Count,
    offerings: Count,
    price_books: Count,
    published: usize,
    /// Offerings given a new version with a fulfilment profile.
    profiled: usize,
    /// Price books given a new version for the offering versions on sale.
    repriced: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize, noun: &str| format!("{n} {noun}{}", if n == 1 { "" } else { "s" });
        write!(
            f,
            "created {}, {}, {}; already present {}, {}, {}; {} published",
            plural(self.specifications.created, "specification"),
            plural(self.offerings.created, "offering"),
            plural(self.price_books.created, "price book"),
            plural(self.specifications.present, "specification"),
            plural(self.offerings.present, "offering"),
            plural(self.price_books.present, "price book"),
            plural(self.published, "item"),
        )?;
        if self.profiled + self.repriced > 0 {
            write!(
                f,
                " ({} given a fulfilment profile, {} repriced)",
                plural(self.profiled, "offering"),
                plural(self.repriced, "price book"),
            )?;
        }
        Ok(())
    }
}

/// An offering as the price book entries need it.
#[derive(Debug, Clone)]
struct OfferingRef {
    id: String,
    version: u64,
}

/// Loads the whole demo catalog; safe to run any number of times.
pub async fn load_demo_catalog(client: &CatalogClient) -> Result<Summary> {
    let mut summary = Summary::default();

    let mut specification_ids = HashMap::new();
    for specification in demo_specifications() {
        let code = specification.code;
        let id = match client.find_by_code("product-specifications", code).await? {
            Some(existing) => {
                summary.specifications.present += 1;
                say(&format!("    specification {code}: already present"));
                id_of(&existing, code)?
            }
            None => {
                let created = client
                    .post(
                        "/product-specifications",
                        Some(&specification.body),
                        &idempotency_key("specification", code, "create"),
                    )
                    .await?;
                summary.specifications.created += 1;
                say(&format!("    specification {code}: created"));
                id_of(&created, code)?
            }
        };
        specification_ids.insert(code, id);
    }

    let mut offerings: HashMap<&str, OfferingRef> = HashMap::new();
    for offering in demo_offerings() {
        let code = offering.code;
        let (record, created) = match client.find_by_code("product-offerings", code).await? {
            Some(existing) => {
                summary.offerings.present += 1;
                (existing, false)
            }
            None => {
                let body = offering_body(&offering, &specification_ids, &offerings)?;
                let record = client
                    .post(
                        "/product-offerings",
                        Some(&body),
                        &idempotency_key("offering", code, "create"),
                    )
                    .await?;
                summary.offerings.created += 1;
                (record, true)
            }
        };
        let id = id_of(&record, code)?;
        // A new offering starts in DRAFT, whatever the response chose to include.
        let status = status_of(&record).unwrap_or(if created { "DRAFT" } else { "UNKNOWN" });
        let latest = number_of(&record, "latestVersion").unwrap_or(1);
        let published = publish_offering(client, code, &id, latest, status).await?;
        if published {
            summary.published += 1;
        }
        // The version on sale now: the latest if it just went on sale (a fresh create response
        // predates publishing, and there the only version is the latest one).
        let mut version = if published {
            latest
        } else {
            number_of(&record, "publishedVersion").unwrap_or(latest)
        };
        let on_sale = published || status == "PUBLISHED";
        let mut profiled = false;
        if on_sale
            && !created
            && let Some(new_version) = add_missing_profile(client, &offering, &id, version).await?
        {
            version = new_version;
            profiled = true;
            summary.profiled += 1;
        }
        say(&format!(
            "    offering {code}: {}{}{}",
            if created {
                "created"
            } else {
                "already present"
            },
            if published {
                ", published".to_owned()
            } else {
                format!(" ({status})")
            },
            if profiled {
                format!("; v{version} published with its fulfilment profile")
            } else {
                String::new()
            }
        ));
        offerings.insert(code, OfferingRef { id, version });
    }

    for book in demo_price_books() {
        let code = book.code;
        let (record, created) = match client.find_by_code("price-books", code).await? {
            Some(existing) => {
                summary.price_books.present += 1;
                (existing, false)
            }
            None => {
                let body = price_book_body(&book, &offerings)?;
                let record = client
                    .post(
                        "/price-books",
                        Some(&body),
                        &idempotency_key("price-book", code, "create"),
                    )
                    .await?;
                summary.price_books.created += 1;
                (record, true)
            }
        };
        let id = id_of(&record, code)?;
        let status = status_of(&record).unwrap_or(if created { "DRAFT" } else { "UNKNOWN" });
        let latest = number_of(&record, "latestVersion").unwrap_or(1);
        let published = status == "DRAFT";
        if published {
            publish_price_book(client, code, &id, latest).await?;
            summary.published += 1;
        }
        let mut repriced = None;
        if !created && (published || status == "PUBLISHED") {
            let in_force = if published {
                latest
            } else {
                number_of(&record, "publishedVersion").unwrap_or(latest)
            };
            repriced = reprice(client, &book, &id, in_force, &offerings).await?;
            if repriced.is_some() {
                summary.repriced += 1;
            }
        }
        say(&format!(
            "    price book {code} ({}): {}{}{}",
            book.currency,
            if created {
                "created"
            } else {
                "already present"
            },
            if published {
                ", published".to_owned()
            } else {
                format!(" ({status})")
            },
            repriced.map_or_else(String::new, |v| format!(
                "; v{v} published for the offering versions on sale"
            ))
        ));
    }
    Ok(summary)
}

/// What a profile asks for, per action: each task's type, operation, dependencies and
/// compensation (defaults the catalog fills in do not count, so an unchanged profile compares
/// equal however it was written).
fn profile_signature(profile: &Value) -> Vec<(String, String, String, String, String)> {
    let mut out = Vec::new();
    let Some(actions) = profile.get("actions").and_then(Value::as_object) else {
        return out;
    };
    for (action, tasks) in actions {
        for task in tasks.as_array().into_iter().flatten() {
            let text = |name: &str| task.get(name).map(Value::to_string).unwrap_or_default();
            out.push((
                action.clone(),
                text("taskType"),
                text("operation"),
                text("dependsOn"),
                text("compensation"),
            ));
        }
    }
    out.sort();
    out
}

/// Gives a demo offering whose version on sale has no fulfilment profile (loaded before
/// profiles existed), or an older one than the demo's, a new version with the demo's profile,
/// published; returns that version. The key names the version it derives from, so a later
/// change is a new version, not a replay.
async fn add_missing_profile(
    client: &CatalogClient,
    offering: &DemoOffering,
    id: &str,
    on_sale: u64,
) -> Result<Option<u64>> {
    let code = offering.code;
    let current = client
        .get(&format!("/product-offerings/{id}/versions/{on_sale}"))
        .await?;
    let wanted = profile_signature(&offering.fulfilment_profile);
    if current
        .get("fulfilmentProfile")
        .is_some_and(|p| !p.is_null() && profile_signature(p) == wanted)
    {
        return Ok(None);
    }
    let derived = client
        .post(
            &format!("/product-offerings/{id}/versions"),
            Some(&json!({ "fulfilmentProfile": offering.fulfilment_profile })),
            &idempotency_key("offering", code, &format!("add-profile-to-v{on_sale}")),
        )
        .await?;
    let version = number_of(&derived, "version").with_context(|| {
        format!("offering {code}: new version answer has no version: {derived}")
    })?;
    publish_offering(client, code, id, version, "DRAFT").await?;
    Ok(Some(version))
}

/// Publishes a price book's DRAFT `version`.
async fn publish_price_book(
    client: &CatalogClient,
    code: &str,
    id: &str,
    version: u64,
) -> Result<()> {
    client
        .post(
            &format!("/price-books/{id}/publish"),
            None,
            &version_key("price-book", code, "publish", version),
        )
        .await?;
    Ok(())
}

/// The `(offeringId, offeringVersion)` pairs a price book version (or body) prices.
fn priced_versions(entries_or_charges: &[Value]) -> std::collections::BTreeSet<(String, u64)> {
    entries_or_charges
        .iter()
        .filter_map(|e| {
            let id = e.get("offeringId").and_then(Value::as_str)?;
            let version = number_of(e, "offeringVersion")?;
            Some((id.to_owned(), version))
        })
        .collect()
}

/// When the price book version in force prices other offering versions than the ones on sale
/// (an offering got a new version), publishes a new price book version with the demo prices
/// for the versions on sale; returns it.
async fn reprice(
    client: &CatalogClient,
    book: &DemoPriceBook,
    id: &str,
    in_force: u64,
    offerings: &HashMap<&str, OfferingRef>,
) -> Result<Option<u64>> {
    let code = book.code;
    let current = client
        .get(&format!("/price-books/{id}/versions/{in_force}"))
        .await?;
    let charges = current
        .get("charges")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let body = price_book_body(book, offerings)?;
    let entries = body["entries"].as_array().cloned().unwrap_or_default();
    if priced_versions(&charges) == priced_versions(&entries) {
        return Ok(None);
    }
    let derived = client
        .post(
            &format!("/price-books/{id}/versions"),
            Some(&json!({ "entries": entries })),
            &idempotency_key("price-book", code, &format!("reprice-v{in_force}")),
        )
        .await?;
    let version = number_of(&derived, "version").with_context(|| {
        format!("price book {code}: new version answer has no version: {derived}")
    })?;
    publish_price_book(client, code, id, version).await?;
    Ok(Some(version))
}

/// Moves an offering's latest version (`version`) from wherever it is in DRAFT →
/// READY_FOR_REVIEW → PUBLISHED to PUBLISHED, so a load interrupted between steps finishes the
/// job on the next run. The commands act on the latest version, as they always did; `version`
/// only keys them. Returns whether it published anything.
async fn publish_offering(
    client: &CatalogClient,
    code: &str,
    id: &str,
    version: u64,
    status: &str,
) -> Result<bool> {
    if status == "DRAFT" {
        client
            .post(
                &format!("/product-offerings/{id}/submit-for-review"),
                None,
                &version_key("offering", code, "submit-for-review", version),
            )
            .await?;
    }
    if matches!(status, "DRAFT" | "READY_FOR_REVIEW") {
        client
            .post(
                &format!("/product-offerings/{id}/publish"),
                None,
                &version_key("offering", code, "publish", version),
            )
            .await?;
        return Ok(true);
    }
    Ok(false)
}

/// The `POST /product-offerings` body, resolving specification and target codes to ids.
fn offering_body(
    offering: &DemoOffering,
    specification_ids: &HashMap<&str, String>,
    offerings: &HashMap<&str, OfferingRef>,
) -> Result<Value> {
    let specification_id = specification_ids
        .get(offering.specification)
        .with_context(|| {
            format!(
                "demo offering {} names unknown specification {}",
                offering.code, offering.specification
            )
        })?;
    let relationships = offering
        .relationships
        .iter()
        .map(|relationship| {
            let target = offerings.get(relationship.target).with_context(|| {
                format!(
                    "demo offering {} must come after its {} target {}",
                    offering.code, relationship.kind, relationship.target
                )
            })?;
            Ok(json!({
                "type": relationship.kind,
                "targetOfferingId": target.id,
                "minCardinality": relationship.min,
                "maxCardinality": relationship.max,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "code": offering.code,
        "name": offering.name,
        "description": offering.description,
        "productSpecificationId": specification_id,
        "relationships": relationships,
        "fulfilmentProfile": offering.fulfilment_profile,
    }))
}

/// The `POST /price-books` body, resolving offering codes to ids and versions.
fn price_book_body(book: &DemoPriceBook, offerings: &HashMap<&str, OfferingRef>) -> Result<Value> {
    let entries = book
        .entries
        .iter()
        .map(|(code, charges)| {
            let offering = offerings.get(code).with_context(|| {
                format!("price book {} prices unknown offering {code}", book.code)
            })?;
            Ok(json!({
                "offeringId": offering.id,
                "offeringVersion": offering.version,
                "charges": charges,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "code": book.code,
        "name": book.name,
        "currency": book.currency,
        "entries": entries,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo_content::{internet_profile, static_ip_profile};

    #[test]
    fn demo_data_refers_only_to_earlier_items() -> Result<()> {
        let specifications: HashMap<&str, String> = demo_specifications()
            .iter()
            .map(|s| (s.code, format!("spec-{}", s.code)))
            .collect();
        let mut offerings = HashMap::new();
        for offering in demo_offerings() {
            let body = offering_body(&offering, &specifications, &offerings)?;
            assert_eq!(body["code"], offering.code);
            offerings.insert(
                offering.code,
                OfferingRef {
                    id: format!("offering-{}", offering.code),
                    version: 1,
                },
            );
        }
        for book in demo_price_books() {
            let body = price_book_body(&book, &offerings)?;
            assert_eq!(body["entries"].as_array().map(Vec::len), Some(3));
        }
        Ok(())
    }

    #[test]
    fn static_ip_requires_and_extends_internet() -> Result<()> {
        let specifications: HashMap<&str, String> = demo_specifications()
            .iter()
            .map(|s| (s.code, "spec".to_owned()))
            .collect();
        let offerings = HashMap::from([(
            "INTERNET-BUSINESS",
            OfferingRef {
                id: "internet-id".into(),
                version: 1,
            },
        )]);
        let static_ip = demo_offerings()
            .into_iter()
            .find(|o| o.code == "STATIC-IP")
            .context("STATIC-IP missing")?;
        let body = offering_body(&static_ip, &specifications, &offerings)?;
        assert_eq!(
            body["relationships"],
            json!([
                {"type": "REQUIRES", "targetOfferingId": "internet-id", "minCardinality": 1, "maxCardinality": 1},
                {"type": "ADD_ON_OF", "targetOfferingId": "internet-id", "minCardinality": 0, "maxCardinality": 1}
            ])
        );
        Ok(())
    }

    #[test]
    fn every_demo_offering_has_an_add_profile_the_catalog_accepts() -> Result<()> {
        let specifications: HashMap<&str, String> = demo_specifications()
            .iter()
            .map(|s| (s.code, "spec".to_owned()))
            .collect();
        let mut offerings = HashMap::new();
        for offering in demo_offerings() {
            let code = offering.code;
            let body = offering_body(&offering, &specifications, &offerings)?;
            let profile = &body["fulfilmentProfile"];
            let actions = profile["actions"]
                .as_object()
                .with_context(|| format!("{code}: no actions"))?;
            let add = actions.get("ADD").and_then(Value::as_array);
            assert!(
                add.is_some_and(|tasks| !tasks.is_empty()),
                "{code}: ADD tasks"
            );
            // The catalog's rules (ADR 0040), checked here so `./dev up` does not find out.
            for (action, tasks) in actions {
                assert!(
                    ["ADD", "MODIFY", "DELETE"].contains(&action.as_str()),
                    "{code}: {action}"
                );
                let tasks = tasks.as_array().context("tasks")?;
                assert!((1..=20).contains(&tasks.len()), "{code} {action}");
                let mut earlier: Vec<&str> = Vec::new();
                for task in tasks {
                    let task_type = task["taskType"].as_str().context("taskType")?;
                    assert!(
                        !earlier.contains(&task_type),
                        "{code} {action}: {task_type} twice"
                    );
                    for dependency in task["dependsOn"].as_array().context("dependsOn")? {
                        assert!(
                            dependency.as_str().is_some_and(|d| earlier.contains(&d)),
                            "{code} {action} {task_type}: {dependency} is not declared earlier"
                        );
                    }
                    assert_eq!(
                        task["reversible"].as_bool(),
                        Some(task["compensation"].is_string()),
                        "{code} {action} {task_type}: reversible exactly when compensated"
                    );
                    earlier.push(task_type);
                }
            }
            offerings.insert(
                code,
                OfferingRef {
                    id: format!("offering-{code}"),
                    version: 1,
                },
            );
        }
        let internet = &offering_body(
            &demo_offerings().remove(0),
            &specifications,
            &HashMap::new(),
        )?["fulfilmentProfile"];
        assert_eq!(internet["startsSubscription"], true);
        assert_eq!(
            internet["actions"]["DELETE"][0]["dependsOnChildren"],
            json!(["DEACTIVATE_SERVICE"])
        );
        let static_ip = static_ip_profile();
        assert_eq!(static_ip["startsSubscription"], false);
        assert_eq!(
            static_ip["actions"]["ADD"][1]["dependsOnParent"],
            json!(["ACTIVATE_SERVICE"])
        );
        Ok(())
    }

    #[test]
    fn later_versions_have_their_own_keys_and_repricing_compares_versions() {
        assert_eq!(
            version_key("offering", "STATIC-IP", "publish", 1),
            "demo-seed:offering:STATIC-IP:publish",
            "version 1 keeps the key earlier loads used"
        );
        assert_eq!(
            version_key("offering", "STATIC-IP", "publish", 2),
            "demo-seed:offering:STATIC-IP:publish:v2"
        );
        let charges = [
            json!({"offeringId": "a", "offeringVersion": 1, "chargeType": "ONE_TIME"}),
            json!({"offeringId": "a", "offeringVersion": 1, "chargeType": "RECURRING"}),
            json!({"offeringId": "b", "offeringVersion": 1}),
        ];
        let same = [
            json!({"offeringId": "a", "offeringVersion": 1, "charges": []}),
            json!({"offeringId": "b", "offeringVersion": 1, "charges": []}),
        ];
        let newer = [
            json!({"offeringId": "a", "offeringVersion": 2, "charges": []}),
            json!({"offeringId": "b", "offeringVersion": 1, "charges": []}),
        ];
        assert_eq!(priced_versions(&charges), priced_versions(&same));
        assert_ne!(priced_versions(&charges), priced_versions(&newer));
    }

    #[test]
    fn keys_are_stable_and_ids_are_found() -> Result<()> {
        assert_eq!(
            idempotency_key("offering", "INTERNET-BUSINESS", "create"),
            "demo-seed:offering:INTERNET-BUSINESS:create"
        );
        assert_eq!(id_of(&json!({"priceBookId": "b"}), "x")?, "b");
        assert!(id_of(&json!({}), "x").is_err());
        Ok(())
    }

    #[test]
    fn a_profile_compares_by_what_it_asks_not_how_it_is_written() {
        let written = internet_profile();
        let mut as_read = written.clone();
        if let Some(actions) = as_read["actions"].as_object_mut() {
            for task in actions
                .values_mut()
                .filter_map(Value::as_array_mut)
                .flatten()
            {
                task["dependsOnParent"] = json!([]);
            }
        }
        assert_eq!(profile_signature(&written), profile_signature(&as_read));
        let mut older = written.clone();
        older["actions"]["ADD"][2]["operation"] = json!("PROVISIONING_MODIFY");
        assert_ne!(profile_signature(&written), profile_signature(&older));
        assert!(profile_signature(&json!(null)).is_empty());
    }
}
