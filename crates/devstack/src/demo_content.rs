//! The demo catalog's content: specifications, offerings (with their relationships and
//! fulfilment profiles) and price books, as the catalog API takes them. `seed` loads it; keeping
//! the data apart from the loader keeps each readable on its own.

use serde_json::{Value, json};

/// A product specification to create.
#[derive(Debug)]
pub(crate) struct DemoSpecification {
    pub(crate) code: &'static str,
    pub(crate) body: Value,
}

/// A relationship from one demo offering to another, by code.
#[derive(Debug)]
pub(crate) struct DemoRelationship {
    pub(crate) kind: &'static str,
    pub(crate) target: &'static str,
    pub(crate) min: u32,
    pub(crate) max: u32,
}

/// A product offering to create, submit for review and publish.
#[derive(Debug)]
pub(crate) struct DemoOffering {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) specification: &'static str,
    pub(crate) relationships: Vec<DemoRelationship>,
    /// The version's fulfilment profile (`fulfilmentProfile` on the wire).
    pub(crate) fulfilment_profile: Value,
}

/// A price book to create and publish: one per demo currency.
#[derive(Debug)]
pub(crate) struct DemoPriceBook {
    pub(crate) code: &'static str,
    pub(crate) name: &'static str,
    pub(crate) currency: &'static str,
    /// Offering code and its charges.
    pub(crate) entries: Vec<(&'static str, Value)>,
}

/// The specifications: the shape of each sellable thing and its configurable characteristics.
pub(crate) fn demo_specifications() -> Vec<DemoSpecification> {
    vec![
        DemoSpecification {
            code: "INTERNET-ACCESS",
            body: json!({
                "code": "INTERNET-ACCESS",
                "name": "Internet access",
                "description": "Dedicated fibre internet access line for a business site.",
                "characteristics": [
                    {
                        "name": "bandwidthMbps",
                        "valueType": "INTEGER",
                        "required": true,
                        "allowedValues": [100, 500, 1000],
                        "defaultValue": 100,
                        "unit": "Mbps",
                        "description": "Committed symmetric bandwidth."
                    },
                    {
                        "name": "sla",
                        "valueType": "STRING",
                        "required": true,
                        "allowedValues": ["STANDARD", "PREMIUM"],
                        "defaultValue": "STANDARD",
                        "description": "Service level: repair time and availability target."
                    },
                    {
                        "name": "contractTermMonths",
                        "valueType": "INTEGER",
                        "required": false,
                        "range": {"min": "12", "max": "60"},
                        "defaultValue": 24,
                        "unit": "months",
                        "description": "Minimum contract term."
                    }
                ]
            }),
        },
        DemoSpecification {
            code: "STATIC-IP-BLOCK",
            body: json!({
                "code": "STATIC-IP-BLOCK",
                "name": "Static IP addresses",
                "description": "A block of fixed public IPv4 addresses routed to the access line.",
                "characteristics": [
                    {
                        "name": "ipCount",
                        "valueType": "INTEGER",
                        "required": true,
                        "allowedValues": [1, 4, 8, 16],
                        "defaultValue": 1,
                        "description": "Number of addresses in the block."
                    }
                ]
            }),
        },
        DemoSpecification {
            code: "MANAGED-ROUTER-CPE",
            body: json!({
                "code": "MANAGED-ROUTER-CPE",
                "name": "Managed router",
                "description": "Customer-premises router, optionally operated by us.",
                "characteristics": [
                    {
                        "name": "model",
                        "valueType": "STRING",
                        "required": true,
                        "allowedValues": ["SRX-300", "SRX-550"],
                        "description": "Router hardware model."
                    },
                    {
                        "name": "managed",
                        "valueType": "BOOLEAN",
                        "required": false,
                        "defaultValue": true,
                        "description": "Whether we monitor and configure the router."
                    }
                ]
            }),
        },
    ]
}

/// One task template; `compensation` makes it reversible.
fn task(
    task_type: &str,
    operation: &str,
    depends_on: &[&str],
    compensation: Option<&str>,
    point_of_no_return: bool,
) -> Value {
    json!({
        "taskType": task_type,
        "operation": operation,
        "dependsOn": depends_on,
        "reversible": compensation.is_some(),
        "compensation": compensation,
        "pointOfNoReturn": point_of_no_return,
    })
}

/// The same template waiting for tasks of other items' plans as well.
fn with_cross_item(mut template: Value, field: &str, task_types: &[&str]) -> Value {
    template[field] = json!(task_types);
    template
}

/// Business Internet: a subscription; the CPE is configured in parallel with activation, and
/// removing it waits for its add-ons to be deactivated.
pub(crate) fn internet_profile() -> Value {
    json!({
        "startsSubscription": true,
        "actions": {
            "ADD": [
                task("RESERVE_INVENTORY", "INVENTORY_RESERVE", &[], Some("INVENTORY_RELEASE"), false),
                task("ACTIVATE_SERVICE", "PROVISIONING_ACTIVATE", &["RESERVE_INVENTORY"], Some("PROVISIONING_DEACTIVATE"), false),
                task("CONFIGURE_CPE", "PROVISIONING_ACTIVATE", &["RESERVE_INVENTORY"], Some("PROVISIONING_DEACTIVATE"), false),
                task("START_BILLING", "BILLING_START", &["ACTIVATE_SERVICE", "CONFIGURE_CPE"], Some("BILLING_REVERSE"), true),
            ],
            "MODIFY": [
                task("MODIFY_SERVICE", "PROVISIONING_MODIFY", &[], None, false),
                task("UPDATE_BILLING", "BILLING_START", &["MODIFY_SERVICE"], Some("BILLING_REVERSE"), true),
            ],
            "DELETE": [
                with_cross_item(
                    task("DEACTIVATE_SERVICE", "PROVISIONING_DEACTIVATE", &[], None, true),
                    "dependsOnChildren",
                    &["DEACTIVATE_SERVICE"],
                ),
                task("STOP_BILLING", "BILLING_REVERSE", &["DEACTIVATE_SERVICE"], None, false),
                task("RELEASE_INVENTORY", "INVENTORY_RELEASE", &["DEACTIVATE_SERVICE"], None, false),
            ],
        }
    })
}

/// Managed Router: sold alone, no subscription of its own.
fn router_profile() -> Value {
    json!({
        "startsSubscription": false,
        "actions": {
            "ADD": [
                task("RESERVE_INVENTORY", "INVENTORY_RESERVE", &[], Some("INVENTORY_RELEASE"), false),
                task("ACTIVATE_SERVICE", "PROVISIONING_ACTIVATE", &["RESERVE_INVENTORY"], Some("PROVISIONING_DEACTIVATE"), false),
                task("START_BILLING", "BILLING_START", &["ACTIVATE_SERVICE"], Some("BILLING_REVERSE"), true),
            ],
            "MODIFY": [task("MODIFY_SERVICE", "PROVISIONING_MODIFY", &[], None, false)],
            "DELETE": [
                task("DEACTIVATE_SERVICE", "PROVISIONING_DEACTIVATE", &[], None, true),
                task("RELEASE_INVENTORY", "INVENTORY_RELEASE", &["DEACTIVATE_SERVICE"], None, false),
            ],
        }
    })
}

/// Static IP: an add-on, activated once its parent line is active; joins the parent's
/// subscription.
pub(crate) fn static_ip_profile() -> Value {
    json!({
        "startsSubscription": false,
        "actions": {
            "ADD": [
                task("RESERVE_INVENTORY", "INVENTORY_RESERVE", &[], Some("INVENTORY_RELEASE"), false),
                with_cross_item(
                    task("ACTIVATE_SERVICE", "PROVISIONING_ACTIVATE", &["RESERVE_INVENTORY"], Some("PROVISIONING_DEACTIVATE"), false),
                    "dependsOnParent",
                    &["ACTIVATE_SERVICE"],
                ),
                task("START_BILLING", "BILLING_START", &["ACTIVATE_SERVICE"], Some("BILLING_REVERSE"), true),
            ],
            "MODIFY": [task("MODIFY_SERVICE", "PROVISIONING_MODIFY", &[], None, false)],
            "DELETE": [
                task("DEACTIVATE_SERVICE", "PROVISIONING_DEACTIVATE", &[], None, true),
                task("STOP_BILLING", "BILLING_REVERSE", &["DEACTIVATE_SERVICE"], None, false),
            ],
        }
    })
}

/// The offerings, relationship targets before the offerings that point at them.
pub(crate) fn demo_offerings() -> Vec<DemoOffering> {
    vec![
        DemoOffering {
            code: "INTERNET-BUSINESS",
            name: "Business Internet",
            description: "Fibre internet for business sites, 100 Mbps to 1 Gbps.",
            specification: "INTERNET-ACCESS",
            relationships: vec![],
            fulfilment_profile: internet_profile(),
        },
        DemoOffering {
            code: "MANAGED-ROUTER",
            name: "Managed Router",
            description: "A router installed, monitored and maintained by us.",
            specification: "MANAGED-ROUTER-CPE",
            relationships: vec![],
            fulfilment_profile: router_profile(),
        },
        DemoOffering {
            code: "STATIC-IP",
            name: "Static IP",
            description: "Fixed public IPv4 addresses as an add-on to Business Internet.",
            specification: "STATIC-IP-BLOCK",
            relationships: vec![
                DemoRelationship {
                    kind: "REQUIRES",
                    target: "INTERNET-BUSINESS",
                    min: 1,
                    max: 1,
                },
                DemoRelationship {
                    kind: "ADD_ON_OF",
                    target: "INTERNET-BUSINESS",
                    min: 0,
                    max: 1,
                },
            ],
            fulfilment_profile: static_ip_profile(),
        },
    ]
}

/// The list prices, one book per demo currency. Static IP uses slab tiers and the router range
/// tiers, so both tier modes have demo data.
pub(crate) fn demo_price_books() -> Vec<DemoPriceBook> {
    vec![DemoPriceBook {
        code: "DEMO-LIST-USD",
        name: "Demo list prices (USD)",
        currency: "USD",
        entries: vec![
            (
                "INTERNET-BUSINESS",
                json!([
                    {"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "149.00"},
                    {"chargeType": "ONE_TIME", "unitPrice": "250.00"}
                ]),
            ),
            (
                "STATIC-IP",
                json!([
                    {
                        "chargeType": "RECURRING",
                        "period": "MONTH",
                        "tierMode": "SLAB",
                        "tiers": [
                            {"fromQuantity": 1, "toQuantity": 4, "unitPrice": "15.00"},
                            {"fromQuantity": 5, "toQuantity": null, "unitPrice": "12.00"}
                        ]
                    }
                ]),
            ),
            (
                "MANAGED-ROUTER",
                json!([
                    {
                        "chargeType": "RECURRING",
                        "period": "MONTH",
                        "tierMode": "RANGE",
                        "tiers": [
                            {"fromQuantity": 1, "toQuantity": 2, "unitPrice": "39.00"},
                            {"fromQuantity": 3, "toQuantity": null, "unitPrice": "34.00"}
                        ]
                    },
                    {"chargeType": "ONE_TIME", "unitPrice": "99.00"}
                ]),
            ),
        ],
    }]
}
