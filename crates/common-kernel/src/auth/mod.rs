//! Authentication (ADR 0030): every business route requires an OIDC bearer token, verified
//! against the issuer's keys; the verified caller becomes the request's identity and authority.
//! Identity headers no longer define who calls. Outgoing calls carry the service's own
//! `client_credentials` token and, on a user's behalf, the user's token.

pub mod cache;
pub mod claims;
pub mod error;
pub mod keys;
pub mod layer;
pub mod service_token;
pub mod settings;
pub mod verifier;

pub use claims::Caller;
pub use error::AuthError;
pub use layer::{ACTING_USER_HEADER, Authenticated, BearerToken, authenticate};
pub use service_token::ServiceTokens;
pub use settings::AuthSettings;
pub use verifier::Verifier;
