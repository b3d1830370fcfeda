//! The Keycloak realm in `deploy/keycloak/cpq-oms-realm.json` holds the same users, roles,
//! clients, secrets and claim mappers as the identity directory the dev issuer serves, so a token
//! from either says the same about the same person (ADR 0030).

use std::collections::BTreeSet;

use dev_issuer::{Directory, REALM_ROLES};
use serde_json::Value;

type Outcome = Result<(), String>;

const REALM_JSON: &str = include_str!("../../../deploy/keycloak/cpq-oms-realm.json");

fn realm() -> Result<Value, String> {
    serde_json::from_str(REALM_JSON).map_err(|e| format!("the realm is not JSON: {e}"))
}

fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value[key].as_array().map_or(&[], Vec::as_slice)
}

fn find<'a>(list: &'a [Value], key: &str, value: &str) -> Result<&'a Value, String> {
    list.iter()
        .find(|item| item[key] == value)
        .ok_or_else(|| format!("no entry with {key} = {value:?} in the realm"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The mapper of `client` that puts `claim` into the access token, and its kind.
fn mapper<'a>(client: &'a Value, claim: &str) -> Result<&'a Value, String> {
    items(client, "protocolMappers")
        .iter()
        .find(|m| m["config"]["claim.name"] == claim && m["config"]["access.token.claim"] == "true")
        .ok_or_else(|| {
            format!(
                "client {} has no access-token mapper for {claim}",
                client["clientId"]
            )
        })
}

fn has_audience_mapper(client: &Value, audience: &str) -> bool {
    items(client, "protocolMappers").iter().any(|m| {
        m["protocolMapper"] == "oidc-audience-mapper"
            && m["config"]["included.custom.audience"] == audience
            && m["config"]["access.token.claim"] == "true"
    })
}

#[test]
fn realm_settings_and_roles() -> Outcome {
    let realm = realm()?;
    assert_eq!(realm["realm"], "cpq-oms");
    assert_eq!(realm["accessTokenLifespan"], 900);
    let roles: BTreeSet<String> = items(&realm["roles"], "realm")
        .iter()
        .filter_map(|role| role["name"].as_str().map(str::to_owned))
        .collect();
    let expected: BTreeSet<String> = REALM_ROLES.iter().map(|r| (*r).to_owned()).collect();
    assert_eq!(roles, expected);
    let keys = items(&realm["components"], "org.keycloak.keys.KeyProvider");
    assert!(keys.iter().any(|k| k["providerId"] == "rsa-generated"));
    let ec = find(keys, "providerId", "ecdsa-generated")?;
    assert_eq!(strings(&ec["config"]["ecdsaEllipticCurveKey"]), ["P-256"]);
    Ok(())
}

#[test]
fn users_match_the_directory() -> Outcome {
    let realm = realm()?;
    let directory = Directory::demo().map_err(|e| e.to_string())?;
    let users = items(&realm, "users");
    for user in &directory.users {
        let entry = find(users, "username", &user.username)?;
        assert_eq!(entry["id"], user.id.as_str(), "{}", user.username);
        assert_eq!(entry["enabled"], true);
        assert_eq!(
            strings(&entry["realmRoles"]),
            user.roles,
            "{}",
            user.username
        );
        let attributes = &entry["attributes"];
        assert_eq!(strings(&attributes["tenant_id"]), [user.tenant_id.as_str()]);
        assert_eq!(
            strings(&attributes["actor_type"]),
            [user.actor_type.as_str()]
        );
        let authority: Vec<String> = user.discount_authority.iter().cloned().collect();
        assert_eq!(
            strings(&attributes["discount_authority"]),
            authority,
            "{}",
            user.username
        );
        let password = find(items(entry, "credentials"), "type", "password")?;
        assert_eq!(password["value"], user.password.as_str());
        assert_eq!(password["temporary"], false);
        // Keycloak's profile check refuses the password grant for users without these.
        for field in ["firstName", "lastName", "email"] {
            assert!(
                entry[field].as_str().is_some_and(|v| !v.is_empty()),
                "{field}"
            );
        }
        assert_eq!(entry["emailVerified"], true);
    }
    let people = users
        .iter()
        .filter(|u| u.get("serviceAccountClientId").is_none())
        .count();
    assert_eq!(people, directory.users.len());
    Ok(())
}

#[test]
fn the_portal_maps_user_attributes_to_claims() -> Outcome {
    let realm = realm()?;
    let directory = Directory::demo().map_err(|e| e.to_string())?;
    for public in &directory.public_clients {
        let client = find(items(&realm, "clients"), "clientId", &public.client_id)?;
        assert_eq!(client["publicClient"], true);
        assert_eq!(client["directAccessGrantsEnabled"], true);
        // A browser client signs in with the code flow and PKCE at exactly its redirect URIs.
        let browser = !public.redirect_uris.is_empty();
        assert_eq!(
            client["standardFlowEnabled"], browser,
            "{}",
            public.client_id
        );
        assert_eq!(strings(&client["redirectUris"]), public.redirect_uris);
        if browser {
            assert_eq!(client["attributes"]["pkce.code.challenge.method"], "S256");
        }
        for claim in ["tenant_id", "actor_type", "discount_authority"] {
            let mapper = mapper(client, claim)?;
            assert_eq!(mapper["protocolMapper"], "oidc-usermodel-attribute-mapper");
            assert_eq!(mapper["config"]["user.attribute"], claim);
        }
        assert!(has_audience_mapper(client, &directory.audience));
    }
    // The attributes are declared and only administrators may change them, so no user can raise
    // their own authority or move tenants through the account console.
    let profile = items(
        &realm["components"],
        "org.keycloak.userprofile.UserProfileProvider",
    );
    let config = profile
        .first()
        .and_then(|p| p["config"]["kc.user.profile.config"][0].as_str())
        .ok_or("no declarative user profile")?;
    let config: Value = serde_json::from_str(config).map_err(|e| e.to_string())?;
    assert!(config.get("unmanagedAttributePolicy").is_none());
    for claim in ["tenant_id", "actor_type", "discount_authority"] {
        let attribute = find(items(&config, "attributes"), "name", claim)?;
        assert_eq!(strings(&attribute["permissions"]["edit"]), ["admin"]);
    }
    Ok(())
}

#[test]
fn service_clients_match_the_directory() -> Outcome {
    let realm = realm()?;
    let directory = Directory::demo().map_err(|e| e.to_string())?;
    let clients = items(&realm, "clients");
    for service in &directory.service_clients {
        let client = find(clients, "clientId", &service.client_id)?;
        assert_eq!(client["publicClient"], false);
        assert_eq!(client["serviceAccountsEnabled"], true);
        assert_eq!(client["directAccessGrantsEnabled"], false);
        assert_eq!(client["secret"], service.secret.as_str());
        for (claim, value) in [
            ("tenant_id", &service.tenant_id),
            ("actor_type", &service.actor_type),
        ] {
            let mapper = mapper(client, claim)?;
            assert_eq!(mapper["protocolMapper"], "oidc-hardcoded-claim-mapper");
            assert_eq!(mapper["config"]["claim.value"], value.as_str());
        }
        assert!(has_audience_mapper(client, &directory.audience));
        let account = find(
            items(&realm, "users"),
            "serviceAccountClientId",
            &service.client_id,
        )?;
        assert_eq!(account["username"], service.username());
        assert_eq!(account["id"], service.service_account_id.as_str());
        assert_eq!(strings(&account["realmRoles"]), service.roles);
    }
    assert_eq!(
        clients.len(),
        directory.service_clients.len() + directory.public_clients.len()
    );
    Ok(())
}
