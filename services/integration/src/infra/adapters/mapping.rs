//! The anti-corruption mapping, pure: the core's command becomes the downstream's request, and
//! the downstream's document becomes the core's result. One function pair per system family;
//! nothing here sends anything, so every mapping is unit-tested on its own.

use reqwest::Method;
use serde_json::{Value, json};

use crate::domain::command::{Channel, Recurrence};
use crate::domain::{BusinessIdentity, CoreResult, ExternalCommand, Operation};

/// A request in the downstream's words.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalRequest {
    /// HTTP method.
    pub method: Method,
    /// Path under the system's base URL, segments escaped.
    pub path: String,
    /// JSON body.
    pub body: Value,
}

/// Escapes one path segment (references come from other systems and are not trusted).
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn recurrence(value: Recurrence) -> &'static str {
    match value {
        Recurrence::OneTime => "ONE_TIME",
        Recurrence::Monthly => "MONTHLY",
        Recurrence::Yearly => "YEARLY",
    }
}

/// The downstream request of `command` for `identity` (the order id is the downstream's order
/// reference).
pub fn request_of(command: &ExternalCommand, identity: &BusinessIdentity) -> ExternalRequest {
    let order = identity.order_id.to_string();
    let (method, path, body) = match command {
        ExternalCommand::ReserveInventory(c) => (
            Method::POST,
            "/reservations".to_owned(),
            json!({"sku": c.sku, "quantity": c.quantity, "locationId": c.location_id, "orderReference": order}),
        ),
        ExternalCommand::ReleaseInventory(c) => (
            Method::POST,
            format!(
                "/reservations/{}/release",
                segment(&c.reservation_reference)
            ),
            json!({"reason": c.reason}),
        ),
        ExternalCommand::ActivateService(c) => (
            Method::POST,
            "/services".to_owned(),
            json!({"serviceSpecification": c.service_specification, "customerAccount": c.customer_account,
                   "characteristics": c.characteristics, "orderReference": order}),
        ),
        ExternalCommand::ModifyService(c) => (
            Method::PATCH,
            format!("/services/{}", segment(&c.service_reference)),
            json!({"characteristics": c.characteristics, "orderReference": order}),
        ),
        ExternalCommand::DeactivateService(c) => (
            Method::POST,
            format!("/services/{}/deactivation", segment(&c.service_reference)),
            json!({"orderReference": order, "reason": c.reason}),
        ),
        ExternalCommand::StartBilling(c) => (Method::POST, "/charges".to_owned(), {
            let mut body = json!({"billingAccount": c.billing_account, "amount": c.amount.to_string(), "currency": c.currency,
                       "recurrence": recurrence(c.recurrence), "description": c.description, "orderReference": order});
            if let Some(subscription) = &c.subscription_id {
                body["subscriptionReference"] = json!({
                    "id": subscription,
                    "version": c.subscription_version,
                });
            }
            body
        }),
        ExternalCommand::ReverseCharge(c) => (
            Method::POST,
            format!("/charges/{}/reversal", segment(&c.charge_reference)),
            json!({"reason": c.reason}),
        ),
        ExternalCommand::UpdateCrmOrderStatus(c) => (
            Method::PUT,
            format!(
                "/accounts/{}/orders/{}",
                segment(&c.customer_account),
                segment(&order)
            ),
            json!({"status": c.order_status, "note": c.note}),
        ),
        ExternalCommand::RegisterContract(c) => (
            Method::POST,
            "/contracts".to_owned(),
            json!({"customerAccount": c.customer_account, "documentReference": c.document_reference,
                   "signedAt": c.signed_at, "signatory": c.signatory}),
        ),
        ExternalCommand::SendNotification(c) => (
            Method::POST,
            "/messages".to_owned(),
            json!({"recipient": c.recipient, "channel": match c.channel { Channel::Email => "EMAIL", Channel::Sms => "SMS" },
                   "template": c.template, "parameters": c.parameters}),
        ),
    };
    ExternalRequest {
        method,
        path,
        body: strip_nulls(body),
    }
}

/// Optional fields the core left out are not sent at all.
fn strip_nulls(body: Value) -> Value {
    match body {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

fn field<'a>(document: &'a Value, name: &str) -> Result<&'a str, String> {
    document
        .get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("the answer has no {name}"))
}

/// The core's result of a successful answer `document` to `operation`; `Err` when the document
/// is not one the adapter understands (then nobody can say what was applied).
pub fn result_of(operation: Operation, document: &Value) -> Result<CoreResult, String> {
    let (reference, state) = match operation {
        Operation::InventoryReserve => (Some(field(document, "reservationId")?), "RESERVED"),
        Operation::InventoryRelease => (Some(field(document, "reservationId")?), "RELEASED"),
        Operation::ProvisioningActivate | Operation::ProvisioningModify => {
            (Some(field(document, "serviceId")?), "ACTIVE")
        }
        Operation::ProvisioningDeactivate => (Some(field(document, "serviceId")?), "TERMINATED"),
        Operation::BillingStart => (Some(field(document, "chargeId")?), "CHARGING"),
        Operation::BillingReverse => (Some(field(document, "chargeId")?), "REVERSED"),
        Operation::CrmUpdateOrderStatus => {
            field(document, "status")?;
            (None, "UPDATED")
        }
        Operation::ContractRegister => (Some(field(document, "contractId")?), "REGISTERED"),
        Operation::NotificationSend => (Some(field(document, "messageId")?), "QUEUED"),
    };
    Ok(CoreResult {
        external_reference: reference.map(str::to_owned),
        external_state: state.to_owned(),
    })
}

/// The downstream's refusal code and words from a problem document, or the HTTP status.
pub fn refusal_of(status: u16, document: Option<&Value>) -> (String, String) {
    let code = document
        .and_then(|d| d.get("code"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty() && c.len() <= 200)
        .map_or_else(|| format!("HTTP_{status}"), str::to_owned);
    let message = document
        .and_then(|d| d.get("detail").or_else(|| d.get("title")))
        .and_then(Value::as_str)
        .map_or_else(
            || format!("the downstream answered HTTP {status}"),
            str::to_owned,
        );
    (code, message)
}

#[cfg(test)]
mod tests {
    use domain_kernel::TenantId;

    use super::*;
    use crate::domain::key::{FulfilmentTaskId, OrderId};

    fn identity(operation: Operation) -> BusinessIdentity {
        BusinessIdentity {
            tenant: TenantId::parse("acme").unwrap(),
            order_id: OrderId::generate(),
            order_item_id: None,
            task_id: FulfilmentTaskId::generate(),
            operation,
        }
    }

    #[test]
    fn commands_become_the_downstream_requests_and_references_are_escaped() {
        let reserve = ExternalCommand::from_request(
            Operation::InventoryReserve,
            &json!({"sku": "ROUTER", "quantity": 2}),
        )
        .unwrap();
        let id = identity(Operation::InventoryReserve);
        let request = request_of(&reserve, &id);
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "/reservations");
        assert_eq!(
            request.body,
            json!({"sku": "ROUTER", "quantity": 2, "orderReference": id.order_id.to_string()})
        );
        let release = ExternalCommand::from_request(
            Operation::InventoryRelease,
            &json!({"reservationReference": "RSV/1 ?x"}),
        )
        .unwrap();
        assert_eq!(
            request_of(&release, &id).path,
            "/reservations/RSV%2F1%20%3Fx/release"
        );
        let charge = ExternalCommand::from_request(
            Operation::BillingStart,
            &json!({"billingAccount": "BA", "amount": "49.90", "currency": "EUR", "recurrence": "MONTHLY", "description": "Fiber"}),
        )
        .unwrap();
        assert_eq!(request_of(&charge, &id).body["amount"], json!("49.90"));
    }

    #[test]
    fn answers_become_core_results_and_unknown_documents_are_refused() {
        let result = result_of(
            Operation::ProvisioningActivate,
            &json!({"serviceId": "SVC-9", "state": "active"}),
        )
        .unwrap();
        assert_eq!(result.external_reference.as_deref(), Some("SVC-9"));
        assert_eq!(result.external_state, "ACTIVE");
        assert!(result_of(Operation::BillingStart, &json!({"id": "x"})).is_err());
        assert_eq!(
            refusal_of(
                422,
                Some(&json!({"code": "INSUFFICIENT_STOCK", "detail": "only 3 left"}))
            ),
            ("INSUFFICIENT_STOCK".to_owned(), "only 3 left".to_owned())
        );
        assert_eq!(refusal_of(404, None).0, "HTTP_404");
    }
}
