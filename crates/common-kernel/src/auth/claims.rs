//! The claims a platform token carries (ADR 0030, after Keycloak's conventions) and the caller
//! they make: tenant, actor, actor type and authority. A token whose claims do not make a
//! caller is refused like a bad signature.

use domain_kernel::access::{Authority, Role};
use domain_kernel::{Actor, ActorId, ActorType, TenantId};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::error::AuthError;

/// The claims read from a verified token (the standard ones are checked by the verifier).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenClaims {
    /// Expiry, seconds since the epoch (checked by the verifier; read again to know how long
    /// the verified token may be remembered).
    #[serde(default)]
    pub exp: Option<u64>,
    /// Subject: a stable id of the user or service account.
    #[serde(default)]
    pub sub: Option<String>,
    /// The readable actor id (`sales1`, `service-account-cpq-service`).
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// The client the token was issued to.
    #[serde(default)]
    pub azp: Option<String>,
    /// The tenant the caller acts for.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Realm roles.
    #[serde(default)]
    pub realm_access: RealmAccess,
    /// The kind of principal.
    #[serde(default)]
    pub actor_type: Option<String>,
    /// The largest discount, in percent, the caller may grant alone (a decimal string or
    /// number).
    #[serde(default)]
    pub discount_authority: Option<serde_json::Value>,
}

/// Keycloak's realm-role claim.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RealmAccess {
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The verified caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The tenant it acts for.
    pub tenant: TenantId,
    /// Who acts.
    pub actor: Actor,
    /// What the issuer vouched for.
    pub authority: Authority,
}

/// The username service accounts carry (Keycloak's convention).
const SERVICE_ACCOUNT_PREFIX: &str = "service-account-";

impl TokenClaims {
    /// The caller these claims describe.
    pub fn caller(&self) -> Result<Caller, AuthError> {
        let bad = |what: &str| AuthError::Claims(what.to_owned());
        let tenant = self
            .tenant_id
            .as_deref()
            .ok_or_else(|| bad("the token names no tenant_id"))
            .and_then(|t| {
                TenantId::parse(t).map_err(|_| bad("the token's tenant_id is not valid"))
            })?;
        let name = self
            .preferred_username
            .as_deref()
            .or(self.sub.as_deref())
            .ok_or_else(|| bad("the token names no subject"))?;
        let actor_id = ActorId::parse(name).map_err(|_| bad("the token's subject is not valid"))?;
        let actor_type = match self.actor_type.as_deref() {
            Some(kind) => {
                ActorType::parse(kind).ok_or_else(|| bad("the token's actor_type is not known"))?
            }
            None if name.starts_with(SERVICE_ACCOUNT_PREFIX) => ActorType::InternalService,
            None => ActorType::HumanAgent,
        };
        let discount_authority = match &self.discount_authority {
            None | Some(serde_json::Value::Null) => Decimal::ZERO,
            Some(serde_json::Value::String(text)) => text
                .trim()
                .parse()
                .map_err(|_| bad("the token's discount_authority is not a decimal"))?,
            Some(serde_json::Value::Number(number)) => number
                .to_string()
                .parse()
                .map_err(|_| bad("the token's discount_authority is not a decimal"))?,
            Some(_) => return Err(bad("the token's discount_authority is not a decimal")),
        };
        if discount_authority < Decimal::ZERO || discount_authority > Decimal::ONE_HUNDRED {
            return Err(bad("the token's discount_authority is outside 0-100"));
        }
        Ok(Caller {
            tenant,
            actor: Actor {
                actor_id,
                actor_type,
            },
            authority: Authority {
                roles: self
                    .realm_access
                    .roles
                    .iter()
                    .filter_map(|r| Role::parse(r))
                    .collect(),
                discount_authority,
                client: self.azp.clone().unwrap_or_default(),
                via: None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: serde_json::Value) -> TokenClaims {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_user_token_makes_a_caller_with_its_roles_and_authority() {
        let caller = claims(json!({
            "sub": "8d1", "preferred_username": "manager1", "azp": "cpq-portal", "tenant_id": "demo",
            "realm_access": {"roles": ["sales-agent", "approver-manager", "offline_access"]},
            "actor_type": "HUMAN_AGENT", "discount_authority": "25"
        }))
        .caller()
        .unwrap();
        assert_eq!(caller.tenant.as_str(), "demo");
        assert_eq!(caller.actor.actor_id.as_str(), "manager1");
        assert_eq!(
            caller.authority.roles,
            [Role::SalesAgent, Role::ApproverManager]
        );
        assert_eq!(caller.authority.discount_authority, Decimal::from(25));
        assert_eq!(caller.authority.client, "cpq-portal");
    }

    #[test]
    fn service_accounts_and_defaults() {
        let caller = claims(json!({
            "sub": "x", "preferred_username": "service-account-cpq-service", "azp": "cpq-service",
            "tenant_id": "demo", "realm_access": {"roles": ["service"]}
        }))
        .caller()
        .unwrap();
        assert_eq!(caller.actor.actor_type, ActorType::InternalService);
        assert_eq!(caller.authority.discount_authority, Decimal::ZERO);
        let numeric = claims(json!({"sub": "u", "tenant_id": "demo", "discount_authority": 12.5}))
            .caller()
            .unwrap();
        assert_eq!(numeric.authority.discount_authority.to_string(), "12.5");
    }

    #[test]
    fn claims_that_make_no_caller_are_refused() {
        for bad in [
            json!({"sub": "u"}),
            json!({"sub": "u", "tenant_id": "a b"}),
            json!({"tenant_id": "demo"}),
            json!({"sub": "u", "tenant_id": "demo", "actor_type": "ROBOT"}),
            json!({"sub": "u", "tenant_id": "demo", "discount_authority": "101"}),
            json!({"sub": "u", "tenant_id": "demo", "discount_authority": "lots"}),
            json!({"sub": "u", "tenant_id": "demo", "discount_authority": [1]}),
        ] {
            assert!(
                matches!(claims(bad.clone()).caller(), Err(AuthError::Claims(_))),
                "{bad}"
            );
        }
    }
}
