//! The demo users and clients (`deploy/identity/demo-identities.json`): who may get a token, with
//! which password or secret, and what the token then says about them.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use crate::IssuerError;
use crate::claims::{ACTOR_TYPES, AUDIENCE, REALM_ROLES};

/// The demo directory as committed, compiled in so tests need no file path.
pub const DEMO_DIRECTORY_JSON: &str = include_str!("../../../deploy/identity/demo-identities.json");

/// The password of every demo user (local use only).
pub const DEMO_PASSWORD: &str = "demo";

/// The public client of the sales portal, the one the password grant is for.
pub const PORTAL_CLIENT: &str = "cpq-portal";

/// A person who signs in with the password grant.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectoryUser {
    /// The login name, and the token's `preferred_username`.
    pub username: String,
    /// The stable id: the token's `sub`, and the Keycloak user id.
    pub id: String,
    /// The password (`demo` for every demo user; local use only).
    pub password: String,
    /// The tenant the user acts for.
    pub tenant_id: String,
    /// Realm roles.
    pub roles: Vec<String>,
    /// The `actor_type` claim.
    pub actor_type: String,
    /// The `discount_authority` claim, when the user has one.
    #[serde(default)]
    pub discount_authority: Option<String>,
}

/// A confidential client that gets tokens for itself (`client_credentials`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceClient {
    /// The client id, the token's `azp`.
    pub client_id: String,
    /// The client secret (local use only).
    pub secret: String,
    /// The service-account user's stable id: the token's `sub`.
    pub service_account_id: String,
    /// The tenant the service account acts for.
    pub tenant_id: String,
    /// Realm roles of the service account.
    pub roles: Vec<String>,
    /// The `actor_type` claim.
    pub actor_type: String,
    /// What the client is for.
    #[serde(default)]
    pub description: String,
}

impl ServiceClient {
    /// The service account's `preferred_username`, as Keycloak names it.
    pub fn username(&self) -> String {
        format!("service-account-{}", self.client_id)
    }
}

/// A client without a secret (a browser or terminal app) that may use the password grant, and,
/// with registered redirect URIs, the authorization code flow with PKCE.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublicClient {
    /// The client id, the token's `azp`.
    pub client_id: String,
    /// What the client is for.
    #[serde(default)]
    pub description: String,
    /// Where `/authorize` may send a code back, exactly (none: no browser sign-in).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

/// Every identity the issuer knows.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Directory {
    /// Free text for the people reading the file.
    #[serde(default)]
    pub comment: String,
    /// The audience tokens name.
    pub audience: String,
    /// Clients that may use the password grant.
    pub public_clients: Vec<PublicClient>,
    /// People.
    pub users: Vec<DirectoryUser>,
    /// Confidential clients with service accounts.
    pub service_clients: Vec<ServiceClient>,
}

impl Directory {
    /// The committed demo directory.
    pub fn demo() -> Result<Self, IssuerError> {
        Self::parse(DEMO_DIRECTORY_JSON)
    }

    /// Reads and checks a directory file.
    pub fn load(path: &Path) -> Result<Self, IssuerError> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            IssuerError::Directory(format!("cannot read {}: {error}", path.display()))
        })?;
        Self::parse(&text)
            .map_err(|error| IssuerError::Directory(format!("{}: {error}", path.display())))
    }

    /// Parses and checks a directory document.
    pub fn parse(json: &str) -> Result<Self, IssuerError> {
        let directory: Self = serde_json::from_str(json)
            .map_err(|error| IssuerError::Directory(format!("not a directory: {error}")))?;
        directory.check()?;
        Ok(directory)
    }

    /// A user by login name.
    pub fn user(&self, username: &str) -> Option<&DirectoryUser> {
        self.users.iter().find(|user| user.username == username)
    }

    /// A confidential client by id.
    pub fn service_client(&self, client_id: &str) -> Option<&ServiceClient> {
        self.service_clients
            .iter()
            .find(|client| client.client_id == client_id)
    }

    /// A public client by id.
    pub fn public_client(&self, client_id: &str) -> Option<&PublicClient> {
        self.public_clients
            .iter()
            .find(|client| client.client_id == client_id)
    }

    /// Refuses a directory a verifier would trip over: unknown roles or actor types, a malformed
    /// authority, duplicate names, an audience other than the platform's.
    fn check(&self) -> Result<(), IssuerError> {
        let invalid = |why: String| Err(IssuerError::Directory(why));
        if self.audience != AUDIENCE {
            return invalid(format!(
                "audience must be {AUDIENCE:?}, not {:?}",
                self.audience
            ));
        }
        let mut names = HashSet::new();
        for user in &self.users {
            if !names.insert(user.username.as_str()) {
                return invalid(format!("user {:?} appears twice", user.username));
            }
            check_identity(
                &user.username,
                &user.tenant_id,
                &user.roles,
                &user.actor_type,
            )?;
            if let Some(authority) = &user.discount_authority
                && !is_decimal(authority)
            {
                return invalid(format!(
                    "user {:?}: discountAuthority {authority:?} is not a decimal string",
                    user.username
                ));
            }
        }
        let mut clients = HashSet::new();
        for client in &self.service_clients {
            if !clients.insert(client.client_id.as_str()) || client.secret.is_empty() {
                return invalid(format!(
                    "client {:?} appears twice or has no secret",
                    client.client_id
                ));
            }
            check_identity(
                &client.client_id,
                &client.tenant_id,
                &client.roles,
                &client.actor_type,
            )?;
        }
        for client in &self.public_clients {
            if !clients.insert(client.client_id.as_str()) {
                return invalid(format!("client {:?} appears twice", client.client_id));
            }
        }
        Ok(())
    }
}

fn check_identity(
    name: &str,
    tenant_id: &str,
    roles: &[String],
    actor_type: &str,
) -> Result<(), IssuerError> {
    let invalid = |why: String| Err(IssuerError::Directory(format!("{name:?}: {why}")));
    if tenant_id.is_empty() {
        return invalid("no tenantId".into());
    }
    if let Some(role) = roles.iter().find(|r| !REALM_ROLES.contains(&r.as_str())) {
        return invalid(format!(
            "unknown role {role:?} (ADR 0030 lists {REALM_ROLES:?})"
        ));
    }
    if !ACTOR_TYPES.contains(&actor_type) {
        return invalid(format!("unknown actorType {actor_type:?}"));
    }
    Ok(())
}

/// `12`, `12.5`: what `rust_decimal` and a JSON-schema decimal pattern both accept.
fn is_decimal(value: &str) -> bool {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_directory_is_valid_and_complete() -> Result<(), IssuerError> {
        let directory = Directory::demo()?;
        assert_eq!(directory.users.len(), 11);
        assert!(directory.users.iter().all(|u| u.password == DEMO_PASSWORD));
        assert!(directory.public_client(PORTAL_CLIENT).is_some());
        for client in ["devstack", "cpq-service", "workflow-worker"] {
            assert!(directory.service_client(client).is_some(), "{client}");
        }
        assert_eq!(
            directory.user("sales9").map(|u| u.tenant_id.as_str()),
            Some("globex")
        );
        Ok(())
    }

    #[test]
    fn mistakes_are_refused() -> Result<(), IssuerError> {
        let demo = DEMO_DIRECTORY_JSON;
        for broken in [
            demo.replacen("\"sales-agent\"", "\"sales-agnet\"", 1),
            demo.replacen("\"HUMAN_AGENT\"", "\"HUMAN\"", 1),
            demo.replacen(
                "\"discountAuthority\": \"10\"",
                "\"discountAuthority\": \"10%\"",
                1,
            ),
            demo.replacen("\"username\": \"sales2\"", "\"username\": \"sales1\"", 1),
            demo.replacen("\"audience\": \"cpq-oms\"", "\"audience\": \"other\"", 1),
        ] {
            assert_ne!(broken, demo);
            assert!(Directory::parse(&broken).is_err());
        }
        assert!(is_decimal("12.5") && is_decimal("0") && !is_decimal(".5") && !is_decimal("1e3"));
        Ok(())
    }
}
