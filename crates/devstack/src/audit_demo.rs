//! The audit service in the local stack: its signing key (a fixed local-only seed, so the demo's
//! checkpoints and bundles verify across restarts) and its demo data: once the demo
//! quote-to-cash's evidence has reached the log, one checkpoint signed on demand, and where to
//! fetch the demo quote's evidence bundle.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::say;
use dev_issuer::Directory;

/// The audit service's name in devstack's table.
pub const AUDIT: &str = "audit";

/// The local stack's checkpoint signing key: the base64 of a 32-byte Ed25519 seed derived from
/// a public phrase. Anyone can sign with it: local use only (compose and production take their
/// own from a secret; docs/runbooks/audit.md).
pub const DEMO_SIGNING_KEY: &str = "XIQIScof7pIulU76qHUd3hu6Yzc7p7nRG+Ybtq0gjcc=";

/// The demo auditor.
const AUDITOR: &str = "auditor1";

/// The audit service's own settings in the local stack.
pub fn service_env() -> [(&'static str, String); 2] {
    [
        ("APP__AUDIT__SIGNING_KEY", DEMO_SIGNING_KEY.to_owned()),
        ("APP__AUDIT__CHECKPOINT_INTERVAL_MS", "5000".to_owned()),
    ]
}

/// Waits (up to `within`) for the demo quotes' evidence in the log, signs a checkpoint and says
/// what an auditor can do with it. Evidence arrives through Kafka, after the services' relays.
pub async fn demo_data(
    http: &reqwest::Client,
    audit_url: &str,
    issuer_url: &str,
    directory: &Directory,
    within: Duration,
) -> Result<()> {
    let auditor = directory
        .users
        .iter()
        .find(|u| u.username == AUDITOR)
        .with_context(|| format!("no demo auditor {AUDITOR:?} in the identity directory"))?;
    let token =
        crate::token::user_token(http, issuer_url, &auditor.username, &auditor.password).await?;
    let started = Instant::now();
    let quote = loop {
        let page: Value = http
            .get(format!(
                "{audit_url}/audit-events?resourceType=QUOTE&limit=1"
            ))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if let Some(id) = page["items"][0]["resource"]["resourceId"].as_str() {
            break id.to_owned();
        }
        if started.elapsed() > within {
            bail!("no quote evidence reached the audit log within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let checkpoint: Value = http
        .post(format!("{audit_url}/audit/checkpoints"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    say(&format!(
        "==> audit log: checkpoint of {} entries, root {}…, signed by key {}",
        checkpoint["treeSize"],
        checkpoint["rootHash"]
            .as_str()
            .unwrap_or("?")
            .get(..16)
            .unwrap_or("?"),
        checkpoint["keyId"].as_str().unwrap_or("?"),
    ));
    say(&format!(
        "    the first demo quote's evidence bundle: {audit_url}/evidence-bundles?resourceType=QUOTE&resourceId={quote} \
         (as {AUDITOR}; check it with `cargo run -q -p audit --bin audit-verify -- bundle.json`)"
    ));
    Ok(())
}
