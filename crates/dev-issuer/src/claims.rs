//! The access-token claims of ADR 0030, named as Keycloak names them.

use serde::{Deserialize, Serialize};

/// The audience every platform token names (`aud`).
pub const AUDIENCE: &str = "cpq-oms";

/// The realm roles of ADR 0030, as `realm_access.roles` carries them.
pub const REALM_ROLES: [&str; 11] = [
    "sales-agent",
    "approver-manager",
    "approver-director",
    "approver-finance",
    "operator",
    "ops-lead",
    "auditor",
    "partner",
    "catalog-admin",
    "service",
    "workflow-worker",
];

/// The values of the `actor_type` claim (ADR 0030).
pub const ACTOR_TYPES: [&str; 7] = [
    "HUMAN_AGENT",
    "CUSTOMER_PORTAL_USER",
    "PARTNER_API_CLIENT",
    "INTERNAL_SERVICE",
    "BATCH_PROCESS",
    "WORKFLOW_WORKER",
    "ADMIN_OPERATOR",
];

/// Keycloak's `realm_access` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealmAccess {
    /// The caller's realm roles.
    pub roles: Vec<String>,
}

/// Exactly the claims a platform access token carries: tests change a field and sign the result
/// to get a token that differs from a good one in that one way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The issuer URL (the discovery document's `issuer`).
    pub iss: String,
    /// The audience; [`AUDIENCE`] for platform tokens.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    pub nbf: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// The stable id of the user or service account.
    pub sub: String,
    /// The actor id (`sales1`, `service-account-cpq-service`).
    pub preferred_username: String,
    /// The client the token was issued to.
    pub azp: String,
    /// The tenant the caller acts for.
    pub tenant_id: String,
    /// The caller's realm roles.
    pub realm_access: RealmAccess,
    /// One of [`ACTOR_TYPES`].
    pub actor_type: String,
    /// The largest line discount in percent (decimal string) the caller may grant without
    /// approval; absent means 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_authority: Option<String>,
}

impl Claims {
    /// Whether `role` is among the caller's realm roles.
    pub fn has_role(&self, role: &str) -> bool {
        self.realm_access.roles.iter().any(|r| r == role)
    }

    /// Moves the validity window to `[iat, iat + lifetime_seconds)` with `nbf = iat`.
    pub fn valid_from(mut self, iat: i64, lifetime_seconds: i64) -> Self {
        self.iat = iat;
        self.nbf = iat;
        self.exp = iat + lifetime_seconds;
        self
    }
}

/// Seconds since the epoch, now (0 if the clock is before 1970, which no test machine is).
pub fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
