//! A development OIDC issuer per test (ADR 0030): the `dev-issuer` router on a random port, on its
//! own thread and runtime (like [`crate::TcpProxy`]), with keys generated for this run, so
//! services under test fetch discovery and JWKS over real HTTP while the test mints tokens.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use dev_issuer::{Claims, Directory, Issuer, PublicKeyEncoding};
use serde::Serialize;
use tokio::sync::oneshot;

/// A running issuer over the demo identities (`deploy/identity/demo-identities.json`).
///
/// Point a service at it with `OIDC_ISSUER = issuer_url()` and `OIDC_AUDIENCE = audience()`;
/// mint tokens with [`TestIssuer::token_for`] and friends. Dropping it stops the server.
#[derive(Debug)]
pub struct TestIssuer {
    issuer: Issuer,
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestIssuer {
    /// Starts an issuer over the demo directory on a free port of 127.0.0.1.
    pub fn start() -> Self {
        Self::start_with(Directory::demo().expect("the committed demo directory is valid"))
    }

    /// Starts an issuer over `directory` on a free port of 127.0.0.1.
    pub fn start_with(directory: Directory) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .expect("cannot bind the issuer port");
        let address = listener.local_addr().expect("issuer has no local address");
        let issuer = Issuer::new(&format!("http://{address}"), directory)
            .expect("cannot generate the issuer's keys");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = issuer.clone();
        let thread = std::thread::Builder::new()
            .name(format!("test-issuer-{}", address.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("cannot build the issuer runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("cannot register the issuer listener");
                    let shutdown = async move {
                        let _ = stopped.await;
                    };
                    dev_issuer::serve(listener, served, shutdown)
                        .await
                        .expect("the test issuer failed");
                });
            })
            .expect("cannot spawn the issuer thread");
        Self {
            issuer,
            address,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`: every token's `iss`, and the `OIDC_ISSUER` of services.
    pub fn issuer_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The discovery document's URL.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer_url())
    }

    /// The audience tokens name (`cpq-oms`), the `OIDC_AUDIENCE` of services.
    pub fn audience(&self) -> &str {
        self.issuer.audience()
    }

    /// The library issuer behind the server, for what this wrapper does not offer.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The claims a token for directory user `username` carries: change a field, then
    /// [`TestIssuer::token_with`] signs the result.
    pub fn claims_for(&self, username: &str) -> Claims {
        self.issuer
            .claims_for_user(username)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// A valid access token for directory user `username` (`sales1`, `manager1`, ...).
    pub fn token_for(&self, username: &str) -> String {
        self.issuer
            .token_for_user(username)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// A valid service-account token for `client_id` (`cpq-service`, `workflow-worker`, ...).
    pub fn token_for_client(&self, client_id: &str) -> String {
        self.issuer
            .token_for_client(client_id)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// The environment that makes a service call other services as `client_id`
    /// (`OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`), from the directory.
    pub fn client_env(&self, client_id: &str) -> [(&'static str, String); 2] {
        let client = self
            .issuer
            .directory()
            .service_client(client_id)
            .unwrap_or_else(|| panic!("no client {client_id} in the directory"));
        [
            ("OIDC_CLIENT_ID", client.client_id.clone()),
            ("OIDC_CLIENT_SECRET", client.secret.clone()),
        ]
    }

    /// A valid token for `username` acting in `tenant` with exactly `roles` and, when given,
    /// a discount authority: the callers tests need beyond the demo directory.
    pub fn token_as(
        &self,
        tenant: &str,
        username: &str,
        roles: &[&str],
        discount_authority: Option<&str>,
    ) -> String {
        let mut claims = self.claims_for("sales1");
        claims.tenant_id = tenant.to_owned();
        claims.preferred_username = username.to_owned();
        claims.sub = format!("test-{username}");
        claims.realm_access.roles = roles.iter().map(|r| (*r).to_owned()).collect();
        claims.discount_authority = discount_authority.map(str::to_owned);
        self.token_with(&claims)
    }

    /// Any claims (a [`Claims`] or a `serde_json::Value`), signed RS256 with the current key.
    pub fn token_with(&self, claims: &impl Serialize) -> String {
        self.issuer
            .sign(claims)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// Signs with the current key after [`TestIssuer::rotate_keys`] added new ones; tokens from
    /// before keep verifying because the JWKS keeps the old keys.
    pub fn rotate_keys(&self) {
        self.issuer
            .rotate_keys()
            .unwrap_or_else(|error| panic!("{error}"));
    }

    /// `username`'s token, expired well beyond any leeway.
    pub fn expired_token(&self, username: &str) -> String {
        self.defect(username, Issuer::expired_token)
    }

    /// `username`'s token, valid only from some minutes in the future.
    pub fn not_yet_valid_token(&self, username: &str) -> String {
        self.defect(username, Issuer::not_yet_valid_token)
    }

    /// `username`'s token for another audience.
    pub fn wrong_audience_token(&self, username: &str) -> String {
        self.defect(username, Issuer::wrong_audience_token)
    }

    /// `username`'s claims from another issuer, signed with that issuer's key.
    pub fn foreign_issuer_token(&self, username: &str) -> String {
        self.defect(username, Issuer::foreign_issuer_token)
    }

    /// `username`'s claims with this issuer's `kid`, signed by a key that is not this issuer's.
    pub fn forged_signature_token(&self, username: &str) -> String {
        self.defect(username, Issuer::forged_signature_token)
    }

    /// `username`'s claims as an unsecured `alg: none` token.
    pub fn alg_none_token(&self, username: &str) -> String {
        self.defect(username, Issuer::alg_none_token)
    }

    /// `username`'s claims as HS256 keyed with this issuer's RSA public key (PEM or DER).
    pub fn hs256_with_public_key_token(
        &self,
        username: &str,
        encoding: PublicKeyEncoding,
    ) -> String {
        self.defect(username, |issuer, claims| {
            issuer.hs256_with_public_key_token(claims, encoding)
        })
    }

    /// Every kind of bad credential an endpoint must refuse with 401, named, each being
    /// `claims` with exactly one defect (so a refusal is the defect's, never the claims'): no
    /// token, expired, not yet valid, another audience, another issuer, a forged signature,
    /// `alg: none`, HS256 keyed with the public key (PEM and DER), a `kid` the issuer never
    /// published, no tenant claim, and not a JWT at all.
    pub fn bad_tokens(&self, claims: &Claims) -> Vec<(&'static str, Option<String>)> {
        let dev = &self.issuer;
        let mint = |result: Result<String, dev_issuer::IssuerError>| {
            Some(result.unwrap_or_else(|error| panic!("{error}")))
        };
        let mut tenantless = serde_json::to_value(claims).expect("claims serialize");
        if let Some(object) = tenantless.as_object_mut() {
            object.remove("tenant_id");
        }
        // A well-formed RS256 header naming a key the issuer never published.
        let signed = self.token_with(claims);
        let (_, rest) = signed.split_once('.').expect("a JWT has three parts");
        let unknown_kid_header = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"alg":"RS256","typ":"JWT","kid":"no-such-key"}"#,
        );
        vec![
            ("no token", None),
            ("expired", mint(dev.expired_token(claims))),
            ("not yet valid", mint(dev.not_yet_valid_token(claims))),
            ("wrong audience", mint(dev.wrong_audience_token(claims))),
            ("another issuer", mint(dev.foreign_issuer_token(claims))),
            ("forged signature", mint(dev.forged_signature_token(claims))),
            ("alg none", mint(dev.alg_none_token(claims))),
            (
                "HS256 keyed with the PEM public key",
                mint(dev.hs256_with_public_key_token(claims, PublicKeyEncoding::Pem)),
            ),
            (
                "HS256 keyed with the DER public key",
                mint(dev.hs256_with_public_key_token(claims, PublicKeyEncoding::Der)),
            ),
            ("unknown kid", Some(format!("{unknown_kid_header}.{rest}"))),
            ("no tenant claim", Some(self.token_with(&tenantless))),
            ("not a JWT", Some("not-a-jwt".to_owned())),
        ]
    }

    fn defect(
        &self,
        username: &str,
        mint: impl Fn(&Issuer, &Claims) -> Result<String, dev_issuer::IssuerError>,
    ) -> String {
        mint(&self.issuer, &self.claims_for(username)).unwrap_or_else(|error| panic!("{error}"))
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
