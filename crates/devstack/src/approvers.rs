//! The demo approvers, named in the approval service's directory through its public API
//! (`PUT /approvers/{actorId}`, as an operator would), so the Tasklist door knows their authority
//! (docs/runbooks/approval.md). Every demo user of the demo tenant holding an approver role gets
//! an entry with those roles and the groups of the same names; a second run changes nothing.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use dev_issuer::Directory;
use serde_json::json;

use crate::say;

/// The approver roles; each is also the Tasklist candidate group of its level.
const APPROVER_ROLES: [&str; 3] = ["approver-manager", "approver-director", "approver-finance"];
/// The operator whose token names the approvers.
const OPERATOR: &str = "ops1";
/// The tenant `./dev up` demonstrates.
const DEMO_TENANT: &str = "demo";

/// Names every demo approver at the approval service at `base_url`; returns how many.
pub async fn load_demo_approvers(
    http: &reqwest::Client,
    base_url: &str,
    issuer_url: &str,
    directory: &Directory,
) -> Result<usize> {
    let operator = directory
        .users
        .iter()
        .find(|u| u.username == OPERATOR)
        .with_context(|| format!("no demo operator {OPERATOR:?} in the identity directory"))?;
    let token =
        crate::token::user_token(http, issuer_url, &operator.username, &operator.password).await?;
    let mut named = 0;
    for user in directory
        .users
        .iter()
        .filter(|u| u.tenant_id == DEMO_TENANT)
    {
        let roles: Vec<&str> = user
            .roles
            .iter()
            .map(String::as_str)
            .filter(|r| APPROVER_ROLES.contains(r))
            .collect();
        if roles.is_empty() {
            continue;
        }
        let url = format!("{base_url}/approvers/{}", user.username);
        let response = http
            .put(&url)
            .bearer_auth(&token)
            .timeout(Duration::from_secs(15))
            .json(&json!({"roles": roles, "groups": roles, "reason": "demo approvers (./dev up)"}))
            .send()
            .await
            .with_context(|| format!("PUT {url}"))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("PUT {url} answered {status}: {body}");
        }
        named += 1;
    }
    say(&format!(
        "==> demo approvers: {named} named in the approval directory"
    ));
    Ok(named)
}
