//! The six simulated systems: their operations, how a request finds one, and what applying it
//! means (validation, natural refusals, the answer and the entity it creates or changes). Pure
//! over the entity table, so the ledger decides once under its lock.

use std::collections::HashMap;

use serde_json::{Value, json};

/// Every system, in port order.
pub const SYSTEMS: [&str; 6] = [
    "inventory",
    "provisioning",
    "billing",
    "crm",
    "contract",
    "notification",
];

/// The operations of `system` (`status` is every system's query by key).
pub fn operations(system: &str) -> &'static [&'static str] {
    match system {
        "inventory" => &["reserve", "release"],
        "provisioning" => &["activate", "modify", "deactivate"],
        "billing" => &["start", "reverse"],
        "crm" => &["update-order-status"],
        "contract" => &["register"],
        "notification" => &["send"],
        _ => &[],
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An operation, with the id in its path when it has one.
    Operation {
        /// The operation's name.
        name: &'static str,
        /// The path's id (reservation, service, charge, account).
        target: Option<String>,
        /// The second path id (CRM's order reference).
        second: Option<String>,
    },
    /// `GET /requests/{key}`.
    Status(String),
    /// `GET /health`.
    Health,
}

/// The route of `method` `path` on `system`'s listener.
pub fn route(system: &str, method: &str, path: &str) -> Option<Route> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let op = |name, target: Option<&str>, second: Option<&str>| {
        Some(Route::Operation {
            name,
            target: target.map(str::to_owned),
            second: second.map(str::to_owned),
        })
    };
    match (system, method, parts.as_slice()) {
        (_, "GET", ["health"]) => Some(Route::Health),
        (_, "GET", ["requests", key]) => Some(Route::Status((*key).to_owned())),
        ("inventory", "POST", ["reservations"]) => op("reserve", None, None),
        ("inventory", "POST", ["reservations", id, "release"]) => op("release", Some(id), None),
        ("provisioning", "POST", ["services"]) => op("activate", None, None),
        ("provisioning", "PATCH", ["services", id]) => op("modify", Some(id), None),
        ("provisioning", "POST", ["services", id, "deactivation"]) => {
            op("deactivate", Some(id), None)
        }
        ("billing", "POST", ["charges"]) => op("start", None, None),
        ("billing", "POST", ["charges", id, "reversal"]) => op("reverse", Some(id), None),
        ("crm", "PUT", ["accounts", account, "orders", order]) => {
            op("update-order-status", Some(account), Some(order))
        }
        ("contract", "POST", ["contracts"]) => op("register", None, None),
        ("notification", "POST", ["messages"]) => op("send", None, None),
        _ => None,
    }
}

/// Why a request is not applied: a status, a stable code and words. Never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 400 (bad request) or 422 (business refusal).
    pub status: u16,
    /// Stable code.
    pub code: &'static str,
    /// Detail.
    pub detail: String,
}

fn invalid(detail: impl Into<String>) -> Refusal {
    Refusal {
        status: 400,
        code: "INVALID_REQUEST",
        detail: detail.into(),
    }
}

fn refused(code: &'static str, detail: impl Into<String>) -> Refusal {
    Refusal {
        status: 422,
        code,
        detail: detail.into(),
    }
}

fn text<'a>(body: &'a Value, field: &str) -> Result<&'a str, Refusal> {
    body.get(field)
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| invalid(format!("{field} must be a non-empty string")))
}

fn object(body: &Value, field: &str, required: bool) -> Result<(), Refusal> {
    match body.get(field) {
        None if !required => Ok(()),
        Some(Value::Object(_)) => Ok(()),
        _ => Err(invalid(format!("{field} must be an object"))),
    }
}

/// What applying an operation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// HTTP status of the answer.
    pub status: u16,
    /// The answer.
    pub response: Value,
    /// The entity created or changed: (id, state).
    pub entity: Option<(String, String)>,
}

fn new_id(prefix: &str) -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{prefix}-{}", &id[id.len() - 12..])
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Applies `operation` with `body` against the entities (`id → state`).
pub fn apply(
    operation: &str,
    target: Option<&str>,
    second: Option<&str>,
    body: &Value,
    entities: &HashMap<String, String>,
) -> Result<Applied, Refusal> {
    let state_of = |id: Option<&str>| id.and_then(|id| entities.get(id).map(String::as_str));
    let done = |status, response, entity: Option<(String, &str)>| {
        Ok(Applied {
            status,
            response,
            entity: entity.map(|(id, state)| (id, state.to_owned())),
        })
    };
    match operation {
        "reserve" => {
            let sku = text(body, "sku")?;
            text(body, "orderReference")?;
            let quantity = body
                .get("quantity")
                .and_then(Value::as_u64)
                .filter(|q| *q >= 1)
                .ok_or_else(|| invalid("quantity must be a whole number of at least 1"))?;
            if quantity > 1000 {
                return Err(refused(
                    "INSUFFICIENT_STOCK",
                    format!("only 1000 of {sku} in stock"),
                ));
            }
            let id = new_id("RSV");
            let expires = (chrono::Utc::now() + chrono::Duration::days(7))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            done(
                201,
                json!({"reservationId": id, "status": "RESERVED", "sku": sku, "quantity": quantity, "expiresAt": expires}),
                Some((id.clone(), "RESERVED")),
            )
        }
        "release" => {
            let id = target.unwrap_or_default();
            if state_of(target) != Some("RESERVED") {
                return Err(refused(
                    "RESERVATION_NOT_FOUND",
                    format!("no open reservation {id}"),
                ));
            }
            done(
                200,
                json!({"reservationId": id, "status": "RELEASED", "releasedAt": now()}),
                Some((id.to_owned(), "RELEASED")),
            )
        }
        "activate" => {
            text(body, "serviceSpecification")?;
            text(body, "customerAccount")?;
            text(body, "orderReference")?;
            object(body, "characteristics", true)?;
            let id = new_id("SVC");
            done(
                201,
                json!({"serviceId": id, "state": "active", "activatedAt": now()}),
                Some((id.clone(), "active")),
            )
        }
        "modify" | "deactivate" => {
            let id = target.unwrap_or_default();
            text(body, "orderReference")?;
            if operation == "modify" {
                object(body, "characteristics", true)?;
            }
            match state_of(target) {
                None => Err(refused("SERVICE_NOT_FOUND", format!("no service {id}"))),
                Some("active") if operation == "modify" => done(
                    200,
                    json!({"serviceId": id, "state": "active", "modifiedAt": now()}),
                    Some((id.to_owned(), "active")),
                ),
                Some("active") => done(
                    200,
                    json!({"serviceId": id, "state": "terminated", "deactivatedAt": now()}),
                    Some((id.to_owned(), "terminated")),
                ),
                Some(_) => Err(refused(
                    "SERVICE_NOT_ACTIVE",
                    format!("service {id} is terminated"),
                )),
            }
        }
        "start" => {
            text(body, "billingAccount")?;
            text(body, "description")?;
            text(body, "orderReference")?;
            let amount = text(body, "amount")?;
            let number: f64 = amount
                .parse()
                .map_err(|_| invalid("amount must be a decimal string"))?;
            let currency = text(body, "currency")?;
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid("currency must be an ISO 4217 code"));
            }
            if !matches!(text(body, "recurrence")?, "ONE_TIME" | "MONTHLY" | "YEARLY") {
                return Err(invalid("recurrence must be ONE_TIME, MONTHLY or YEARLY"));
            }
            if number < 0.0 {
                return Err(refused("INVALID_AMOUNT", "a charge cannot be negative"));
            }
            let id = new_id("CHG");
            done(
                201,
                json!({"chargeId": id, "status": "ACTIVE", "startedAt": now()}),
                Some((id.clone(), "ACTIVE")),
            )
        }
        "reverse" => {
            let id = target.unwrap_or_default();
            if state_of(target) != Some("ACTIVE") {
                return Err(refused(
                    "CHARGE_NOT_FOUND",
                    format!("no active charge {id}"),
                ));
            }
            done(
                200,
                json!({"chargeId": id, "status": "REVERSED", "reversedAt": now()}),
                Some((id.to_owned(), "REVERSED")),
            )
        }
        "update-order-status" => {
            let status = text(body, "status")?;
            done(
                200,
                json!({"accountId": target, "orderReference": second, "status": status, "updatedAt": now()}),
                None,
            )
        }
        "register" => {
            for field in [
                "customerAccount",
                "documentReference",
                "signedAt",
                "signatory",
            ] {
                text(body, field)?;
            }
            done(
                201,
                json!({"contractId": new_id("CTR"), "registeredAt": now()}),
                None,
            )
        }
        "send" => {
            text(body, "recipient")?;
            text(body, "template")?;
            if !matches!(text(body, "channel")?, "EMAIL" | "SMS") {
                return Err(invalid("channel must be EMAIL or SMS"));
            }
            object(body, "parameters", false)?;
            done(
                202,
                json!({"messageId": new_id("MSG"), "status": "QUEUED"}),
                None,
            )
        }
        other => Err(invalid(format!("unknown operation {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_find_every_operation_and_nothing_else() {
        for system in SYSTEMS {
            assert!(!operations(system).is_empty());
        }
        assert_eq!(
            route("inventory", "POST", "/reservations/RSV-1/release"),
            Some(Route::Operation {
                name: "release",
                target: Some("RSV-1".into()),
                second: None
            })
        );
        assert_eq!(
            route("billing", "GET", "/requests/k-1"),
            Some(Route::Status("k-1".into()))
        );
        assert_eq!(route("billing", "POST", "/reservations"), None);
    }

    #[test]
    fn operations_validate_and_refuse_naturally() {
        let none = HashMap::new();
        let big = json!({"sku": "X", "quantity": 5000, "orderReference": "o"});
        assert_eq!(
            apply("reserve", None, None, &big, &none).unwrap_err().code,
            "INSUFFICIENT_STOCK"
        );
        assert_eq!(
            apply("release", Some("RSV-9"), None, &json!({}), &none)
                .unwrap_err()
                .code,
            "RESERVATION_NOT_FOUND"
        );
        let applied = apply(
            "activate",
            None,
            None,
            &json!({"serviceSpecification": "F", "customerAccount": "C", "characteristics": {}, "orderReference": "o"}),
            &none,
        )
        .unwrap();
        assert_eq!(applied.status, 201);
        let (id, state) = applied.entity.unwrap();
        assert_eq!(state, "active");
        let entities = HashMap::from([(id.clone(), "terminated".to_owned())]);
        assert_eq!(
            apply(
                "modify",
                Some(&id),
                None,
                &json!({"characteristics": {}, "orderReference": "o"}),
                &entities
            )
            .unwrap_err()
            .code,
            "SERVICE_NOT_ACTIVE"
        );
        assert_eq!(
            apply("start", None, None, &json!({"amount": 1.5}), &none)
                .unwrap_err()
                .status,
            400
        );
    }
}
