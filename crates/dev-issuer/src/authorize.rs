//! The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636 S256) for browser clients
//! such as the operations console: `GET /authorize` checks the client, its registered redirect
//! URI and the code challenge, and shows a sign-in form; `POST /authorize` checks the password,
//! keeps a one-time code for 60 s and redirects back with it; the token endpoint's
//! `authorization_code` grant ([`redeem`]) checks the verifier against the challenge. Codes live
//! in memory: a restart of the issuer ends every sign-in in progress, which suits development.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How long a code may wait to be redeemed.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// What `GET /authorize` received, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthorizeRequest {
    /// The public client.
    pub client_id: String,
    /// One of its registered redirect URIs, exactly.
    pub redirect_uri: String,
    /// Echoed back unchanged.
    pub state: String,
    /// BASE64URL(SHA256(verifier)).
    pub code_challenge: String,
    /// Put into the ID token, when given.
    pub nonce: Option<String>,
}

/// A code waiting to be redeemed.
#[derive(Debug, Clone)]
struct PendingCode {
    request: AuthorizeRequest,
    username: String,
    expires: Instant,
}

/// What a redeemed code vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Redeemed {
    /// Who signed in.
    pub username: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The nonce of the request, if any.
    pub nonce: Option<String>,
}

/// Why a code cannot be redeemed (RFC 6749 §5.2 `invalid_grant` in every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RedeemError {
    /// Unknown, already used or expired.
    #[error("the code is unknown, used or expired")]
    UnknownCode,
    /// Issued to another client or for another redirect URI.
    #[error("the code was issued to another client or redirect_uri")]
    Mismatch,
    /// The verifier does not hash to the challenge.
    #[error("code_verifier does not match the code_challenge")]
    BadVerifier,
}

/// The codes waiting to be redeemed.
#[derive(Debug, Default)]
pub(crate) struct Codes {
    pending: Mutex<HashMap<String, PendingCode>>,
}

impl Codes {
    /// A fresh one-time code for `username`, after a successful sign-in.
    pub(crate) fn issue(&self, request: AuthorizeRequest, username: &str) -> Option<String> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).ok()?;
        let code = URL_SAFE_NO_PAD.encode(bytes);
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        pending.retain(|_, waiting| waiting.expires > now);
        pending.insert(
            code.clone(),
            PendingCode {
                request,
                username: username.to_owned(),
                expires: now + CODE_LIFETIME,
            },
        );
        Some(code)
    }

    /// Redeems `code` once: the same client, the same redirect URI, a verifier that hashes to
    /// the challenge. A failed attempt burns the code too (RFC 6749 §4.1.2: one use).
    pub(crate) fn redeem(
        &self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Redeemed, RedeemError> {
        let waiting = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(code)
            .filter(|waiting| waiting.expires > Instant::now())
            .ok_or(RedeemError::UnknownCode)?;
        if waiting.request.client_id != client_id || waiting.request.redirect_uri != redirect_uri {
            return Err(RedeemError::Mismatch);
        }
        if challenge_of(verifier) != waiting.request.code_challenge {
            return Err(RedeemError::BadVerifier);
        }
        Ok(Redeemed {
            username: waiting.username,
            client_id: waiting.request.client_id,
            nonce: waiting.request.nonce,
        })
    }
}

/// RFC 7636 §4.2 S256: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
pub(crate) fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()).as_ref())
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub(crate) fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The sign-in page: the request travels in hidden fields to `POST /authorize`.
pub(crate) fn sign_in_page(request: &AuthorizeRequest, problem: Option<&str>) -> String {
    let hidden = |name: &str, value: &str| {
        format!(
            r#"<input type="hidden" name="{name}" value="{}">"#,
            html_escape(value)
        )
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · cpq-oms</title>
<style>body{{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto}}label,input,button{{display:block;width:100%;margin:.3rem 0}}.problem{{color:#b00020}}</style>
</head><body>
<h1>Sign in</h1>
<p>to <strong>{client}</strong> (development issuer: demo users, password <code>demo</code>)</p>
{problem}
<form method="post" action="authorize">
{client_id}{redirect_uri}{state}{challenge}{nonce}
<label for="username">User</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="sign-in" type="submit">Sign in</button>
</form></body></html>"#,
        client = html_escape(&request.client_id),
        problem = problem
            .map(|p| format!(r#"<p class="problem" id="problem">{}</p>"#, html_escape(p)))
            .unwrap_or_default(),
        client_id = hidden("client_id", &request.client_id),
        redirect_uri = hidden("redirect_uri", &request.redirect_uri),
        state = hidden("state", &request.state),
        challenge = hidden("code_challenge", &request.code_challenge),
        nonce = hidden("nonce", request.nonce.as_deref().unwrap_or("")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "ops-console".into(),
            redirect_uri: "http://127.0.0.1:8087/console/callback".into(),
            state: "s".into(),
            code_challenge: challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            nonce: Some("n".into()),
        }
    }

    #[test]
    fn the_rfc_7636_example_challenge() {
        // RFC 7636 Appendix B.
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(valid_verifier(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        ));
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a/".repeat(30)));
    }

    #[test]
    fn a_code_is_redeemed_once_by_its_client_with_its_verifier() {
        let codes = Codes::default();
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let code = codes.issue(request(), "ops1").unwrap();
        let redeemed = codes
            .redeem(
                &code,
                "ops-console",
                "http://127.0.0.1:8087/console/callback",
                verifier,
            )
            .unwrap();
        assert_eq!(redeemed.username, "ops1");
        assert_eq!(redeemed.nonce.as_deref(), Some("n"));
        assert_eq!(
            codes.redeem(
                &code,
                "ops-console",
                "http://127.0.0.1:8087/console/callback",
                verifier
            ),
            Err(RedeemError::UnknownCode)
        );
        let code = codes.issue(request(), "ops1").unwrap();
        assert_eq!(
            codes.redeem(
                &code,
                "cpq-portal",
                "http://127.0.0.1:8087/console/callback",
                verifier
            ),
            Err(RedeemError::Mismatch)
        );
        let code = codes.issue(request(), "ops1").unwrap();
        assert_eq!(
            codes.redeem(
                &code,
                "ops-console",
                "http://127.0.0.1:8087/console/callback",
                &"x".repeat(43)
            ),
            Err(RedeemError::BadVerifier)
        );
    }

    #[test]
    fn the_page_escapes_what_it_echoes() {
        let mut hostile = request();
        hostile.state = r#""><script>alert(1)</script>"#.into();
        let page = sign_in_page(&hostile, Some("<b>no</b>"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;b&gt;no&lt;/b&gt;"));
    }
}
