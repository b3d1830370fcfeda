//! A development OIDC issuer (ADR 0030) with real signatures.
//!
//! At start an [`Issuer`] generates one RS256 (2048-bit) and one ES256 (P-256) key. Its
//! [`Issuer::router`] serves `GET /.well-known/openid-configuration`, `GET /jwks`,
//! `GET`/`POST /authorize` (a sign-in form for browser clients: the authorization code flow with
//! PKCE S256) and `POST /token` (the `password` grant for the demo users through a public client
//! such as `cpq-portal`, `authorization_code` for browser clients with registered redirect URIs,
//! `client_credentials` for the service accounts), over the users and clients of a [`Directory`]
//! (`deploy/identity/demo-identities.json`). Tokens carry exactly the claims of ADR 0030
//! ([`Claims`]).
//!
//! The same issuer is a library for tests and tools: mint a token for a directory user or for
//! any claims without HTTP, rotate the keys, and mint tokens that must be refused (expired, not
//! yet valid, wrong audience, another issuer, a forged signature, `alg: none`, HS256 keyed with
//! the RSA public key). `devstack` runs it on 127.0.0.1:8079; `test_support::TestIssuer` runs it
//! on a random port per test. Passwords and secrets in the demo directory are for local use only.

mod authorize;
mod claims;
mod directory;
mod http;
mod issuer;
mod keys;
mod negative;
mod sign_in;

use std::future::Future;

pub use claims::{ACTOR_TYPES, AUDIENCE, Claims, REALM_ROLES, RealmAccess, now_seconds};
pub use directory::{
    DEMO_DIRECTORY_JSON, DEMO_PASSWORD, Directory, DirectoryUser, PORTAL_CLIENT, PublicClient,
    ServiceClient,
};
pub use issuer::{DEFAULT_TOKEN_LIFETIME, Issuer};
pub use keys::{PublicKeyEncoding, SigningAlgorithm};
pub use negative::{CLOCK_MARGIN_SECONDS, FOREIGN_ISSUER, WRONG_AUDIENCE};

/// Why the issuer could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// The directory file is missing, malformed or inconsistent.
    #[error("identity directory: {0}")]
    Directory(String),
    /// No user of that name in the directory.
    #[error("no user {0:?} in the identity directory")]
    UnknownUser(String),
    /// No service client of that id in the directory.
    #[error("no service client {0:?} in the identity directory")]
    UnknownClient(String),
    /// Key generation or export failed.
    #[error("key: {0}")]
    Key(String),
    /// jsonwebtoken could not sign.
    #[error("signing: {0}")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// A token this crate made did not have three parts.
    #[error("a signed token did not have the compact JWS form")]
    Malformed,
}

/// Serves `issuer` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    issuer: Issuer,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, issuer.router())
        .with_graceful_shutdown(shutdown)
        .await
}
