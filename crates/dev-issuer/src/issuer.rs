//! The issuer itself: its URL, its directory and its keys, shared by the HTTP endpoints and the
//! library calls tests make.

use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::claims::{Claims, RealmAccess, now_seconds};
use crate::directory::Directory;
use crate::keys::{KeyRing, PublicKeyEncoding, SigningAlgorithm, SigningKey};
use crate::{IssuerError, http};

/// How long a token lives unless configured otherwise: 15 minutes (ADR 0030).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// A development OIDC issuer. Cheap to clone: clones share keys and directory, so a key rotated
/// through one clone is rotated for the HTTP endpoints too.
#[derive(Debug, Clone)]
pub struct Issuer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    url: String,
    directory: Directory,
    token_lifetime: Duration,
    keys: RwLock<KeyRing>,
    /// Another issuer's keys, made on first use, for tokens that must not verify.
    foreign: OnceLock<KeyRing>,
    /// Authorization codes waiting to be redeemed.
    codes: crate::authorize::Codes,
}

impl Issuer {
    /// An issuer at `url` (`http://127.0.0.1:8079`, no trailing slash needed) over `directory`,
    /// with a fresh RS256 and ES256 key.
    pub fn new(url: &str, directory: Directory) -> Result<Self, IssuerError> {
        Self::with_token_lifetime(url, directory, DEFAULT_TOKEN_LIFETIME)
    }

    /// Like [`Issuer::new`], with tokens that live `token_lifetime`.
    pub fn with_token_lifetime(
        url: &str,
        directory: Directory,
        token_lifetime: Duration,
    ) -> Result<Self, IssuerError> {
        Ok(Self {
            inner: Arc::new(Inner {
                url: url.trim_end_matches('/').to_owned(),
                directory,
                token_lifetime,
                keys: RwLock::new(KeyRing::generate()?),
                foreign: OnceLock::new(),
                codes: crate::authorize::Codes::default(),
            }),
        })
    }

    /// The issuer URL: every token's `iss`.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The users and clients this issuer knows.
    pub fn directory(&self) -> &Directory {
        &self.inner.directory
    }

    /// Authorization codes waiting to be redeemed.
    pub(crate) fn codes(&self) -> &crate::authorize::Codes {
        &self.inner.codes
    }

    /// The audience tokens name.
    pub fn audience(&self) -> &str {
        &self.inner.directory.audience
    }

    /// How long the tokens it issues live.
    pub fn token_lifetime(&self) -> Duration {
        self.inner.token_lifetime
    }

    /// `GET /.well-known/openid-configuration`, `GET /jwks`, `GET`/`POST /authorize` and
    /// `POST /token`.
    pub fn router(&self) -> axum::Router {
        http::router(self.clone())
    }

    /// The OpenID Provider metadata document.
    pub fn discovery(&self) -> Value {
        let url = self.url();
        let algorithms: Vec<&str> = SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
        json!({
            "issuer": url,
            "jwks_uri": format!("{url}/jwks"),
            "token_endpoint": format!("{url}/token"),
            "authorization_endpoint": format!("{url}/authorize"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["password", "client_credentials", "authorization_code"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "id_token_signing_alg_values_supported": algorithms,
            "subject_types_supported": ["public"],
            "claims_supported": [
                "iss", "aud", "exp", "nbf", "iat", "sub", "preferred_username", "azp", "tenant_id",
                "realm_access", "actor_type", "discount_authority"
            ],
        })
    }

    /// The JWK Set: every public key this issuer ever signed with, newest first.
    pub fn jwks(&self) -> Value {
        self.keys().jwks()
    }

    /// The claims a token for directory user `username` carries, valid from now.
    pub fn claims_for_user(&self, username: &str) -> Result<Claims, IssuerError> {
        let user = self
            .directory()
            .user(username)
            .ok_or_else(|| IssuerError::UnknownUser(username.to_owned()))?;
        Ok(self.fresh(Claims {
            iss: String::new(),
            aud: String::new(),
            exp: 0,
            nbf: 0,
            iat: 0,
            sub: user.id.clone(),
            preferred_username: user.username.clone(),
            azp: crate::PORTAL_CLIENT.to_owned(),
            tenant_id: user.tenant_id.clone(),
            realm_access: RealmAccess {
                roles: user.roles.clone(),
            },
            actor_type: user.actor_type.clone(),
            discount_authority: user.discount_authority.clone(),
        }))
    }

    /// The claims of a `client_credentials` token for `client_id`'s service account.
    pub fn claims_for_client(&self, client_id: &str) -> Result<Claims, IssuerError> {
        let client = self
            .directory()
            .service_client(client_id)
            .ok_or_else(|| IssuerError::UnknownClient(client_id.to_owned()))?;
        Ok(self.fresh(Claims {
            iss: String::new(),
            aud: String::new(),
            exp: 0,
            nbf: 0,
            iat: 0,
            sub: client.service_account_id.clone(),
            preferred_username: client.username(),
            azp: client.client_id.clone(),
            tenant_id: client.tenant_id.clone(),
            realm_access: RealmAccess {
                roles: client.roles.clone(),
            },
            actor_type: client.actor_type.clone(),
            discount_authority: None,
        }))
    }

    /// A signed (RS256) access token for directory user `username`, without HTTP.
    pub fn token_for_user(&self, username: &str) -> Result<String, IssuerError> {
        self.sign(&self.claims_for_user(username)?)
    }

    /// A signed (RS256) service-account token for `client_id`, without HTTP.
    pub fn token_for_client(&self, client_id: &str) -> Result<String, IssuerError> {
        self.sign(&self.claims_for_client(client_id)?)
    }

    /// Signs any claims (a [`Claims`] or an arbitrary JSON object) with the current RS256 key.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, IssuerError> {
        self.sign_with(SigningAlgorithm::Rs256, claims)
    }

    /// Signs any claims with the current key of `algorithm`.
    pub fn sign_with(
        &self,
        algorithm: SigningAlgorithm,
        claims: &impl Serialize,
    ) -> Result<String, IssuerError> {
        self.current_key(algorithm).sign(claims)
    }

    /// Adds a new RS256 and ES256 key with new `kid`s and signs with them from now on; the JWKS
    /// keeps serving the old public keys, so tokens signed before still verify.
    pub fn rotate_keys(&self) -> Result<(), IssuerError> {
        self.inner
            .keys
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .rotate()
    }

    /// The `kid` new tokens of `algorithm` carry.
    pub fn current_kid(&self, algorithm: SigningAlgorithm) -> String {
        self.current_key(algorithm).kid.clone()
    }

    /// The current RSA public key (SubjectPublicKeyInfo) as PEM or DER.
    pub fn rsa_public_key(&self, encoding: PublicKeyEncoding) -> Vec<u8> {
        self.current_key(SigningAlgorithm::Rs256)
            .public_key(encoding)
    }

    /// `claims` with this issuer's `iss` and `aud` and a validity window starting now.
    fn fresh(&self, claims: Claims) -> Claims {
        let lifetime = i64::try_from(self.inner.token_lifetime.as_secs()).unwrap_or(i64::MAX);
        Claims {
            iss: self.url().to_owned(),
            aud: self.audience().to_owned(),
            ..claims
        }
        .valid_from(now_seconds(), lifetime)
    }

    pub(crate) fn current_key(&self, algorithm: SigningAlgorithm) -> Arc<SigningKey> {
        self.keys().current(algorithm)
    }

    /// The keys of an unrelated issuer, generated once per issuer on first use.
    pub(crate) fn foreign_keys(&self) -> Result<&KeyRing, IssuerError> {
        if let Some(keys) = self.inner.foreign.get() {
            return Ok(keys);
        }
        let generated = KeyRing::generate()?;
        // A concurrent caller may have won the race; either ring is equally foreign.
        Ok(self.inner.foreign.get_or_init(|| generated))
    }

    fn keys(&self) -> std::sync::RwLockReadGuard<'_, KeyRing> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
