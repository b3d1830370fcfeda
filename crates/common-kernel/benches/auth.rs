//! What authentication costs a request (ADR 0030; target: token verification plus the
//! permission check at most 50 µs median). `cargo bench -p common-kernel --bench auth` (about
//! 20 s once built; `ROUNDS`, `CALLS` and `REQUESTS` override the sizes). All local: a
//! `TestIssuer` on 127.0.0.1 with RS256 and ES256 keys made for this run.
//!
//! 1. micro, per call, key set warm: `Verifier::verify` then `Authority::authorize`, for a token
//!    the verifier has not seen (full verification: header, key, signature, `iss`/`aud`/`exp`/
//!    `nbf`, claims → `Caller`) and for the token it saw last (its cache); then where the time
//!    goes: the token's SHA-256, the signature alone, `jsonwebtoken::decode`, claims → `Caller`,
//!    the permission check.
//! 2. http, per request over loopback HTTP/1.1, keep-alive, one at a time: one handler (extract
//!    the `RequestContext`, `ctx.authorize(ViewQuote)`, 204) behind `authenticate` with new or
//!    repeated RS256/ES256 tokens, and behind a layer handing it a fixed caller (the baseline:
//!    everything but the token, with the same `Authorization` header).
//!
//! Variants alternate within every round, each round starting with the next one, so drift of a
//! shared machine spreads over all; figures are median and p99 over every call, for HTTP also
//! the median of the per-round differences of medians.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary: fails loudly, prints its figures"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use common_kernel::auth::cache::Fingerprint;
use common_kernel::auth::claims::TokenClaims;
use common_kernel::auth::keys::validation;
use common_kernel::auth::{AuthSettings, Authenticated, BearerToken, Verifier, authenticate};
use common_kernel::context::RequestContext;
use common_kernel::error::ApiError;
use dev_issuer::SigningAlgorithm;
use domain_kernel::access::Action;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use test_support::TestIssuer;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median, p99 and mean of a set of timings.
struct Summary {
    median: Duration,
    p99: Duration,
    mean: Duration,
}

fn summary(samples: &[Duration]) -> Summary {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    // Nearest rank: the smallest value with at least `percent` % of the samples at or below it.
    let rank = |percent: usize| sorted[(percent * sorted.len()).div_ceil(100).max(1) - 1];
    let total: Duration = sorted.iter().sum();
    Summary {
        median: rank(50),
        p99: rank(99),
        mean: total / u32::try_from(sorted.len()).unwrap(),
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Tokens for `sales1` that differ only in their `jti`, so each is new to the verifier.
fn fresh_tokens(
    issuer: &TestIssuer,
    algorithm: SigningAlgorithm,
    prefix: &str,
    n: usize,
) -> Vec<String> {
    let mut claims = serde_json::to_value(issuer.claims_for("sales1")).unwrap();
    (0..n)
        .map(|i| {
            claims["jti"] = serde_json::json!(format!("{prefix}-{i}"));
            issuer.issuer().sign_with(algorithm, &claims).unwrap()
        })
        .collect()
}

/// One algorithm's tokens and what the breakdown needs to verify them by hand.
struct Signed {
    name: &'static str,
    /// The token a client sends again and again.
    token: String,
    /// Tokens the verifier has not seen, used once each.
    fresh: std::vec::IntoIter<String>,
    key: DecodingKey,
    algorithm: Algorithm,
    validation: Validation,
}

impl Signed {
    fn new(
        issuer: &TestIssuer,
        name: &'static str,
        algorithm: SigningAlgorithm,
        fresh: usize,
    ) -> Self {
        let token = issuer
            .issuer()
            .sign_with(algorithm, &issuer.claims_for("sales1"))
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        let jwks: JwkSet = serde_json::from_value(issuer.issuer().jwks()).unwrap();
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        Self {
            name,
            fresh: fresh_tokens(issuer, algorithm, "micro", fresh).into_iter(),
            key: DecodingKey::from_jwk(jwk).unwrap(),
            algorithm: header.alg,
            validation: validation(
                header.alg,
                &issuer.issuer_url(),
                issuer.audience(),
                Duration::from_secs(30),
            ),
            token,
        }
    }
}

/// What one micro variant times per call.
#[derive(Clone, Copy)]
enum Micro {
    /// `Verifier::verify` of a token it has not seen, and `Authority::authorize`.
    FirstSight(usize),
    /// `Verifier::verify` of the token it verified last time, and `Authority::authorize`.
    Repeat(usize),
    /// The SHA-256 the verifier's cache is keyed by.
    Fingerprint(usize),
    /// The signature check alone.
    Signature(usize),
    /// `jsonwebtoken::decode`: signature, claims JSON, standard-claim validation.
    Decode(usize),
    /// Claims → `Caller`, on already decoded claims.
    Caller,
    /// The permission check alone.
    Authorize,
}

impl Micro {
    fn label(self, tokens: &[Signed]) -> String {
        match self {
            Self::FirstSight(t) => format!("verify + authorize, {}, new token", tokens[t].name),
            Self::Repeat(t) => format!("verify + authorize, {}, repeated", tokens[t].name),
            Self::Fingerprint(t) => format!("  SHA-256 of the token, {}", tokens[t].name),
            Self::Signature(t) => format!("  signature alone, {}", tokens[t].name),
            Self::Decode(t) => format!("  jsonwebtoken::decode, {}", tokens[t].name),
            Self::Caller => "  claims -> Caller".to_owned(),
            Self::Authorize => "  Authority::authorize".to_owned(),
        }
    }

    /// Calls in a round: a new token costs a signature to mint, so fewer of those.
    fn calls(self, calls: usize) -> usize {
        match self {
            Self::FirstSight(_) => calls / 5,
            _ => calls,
        }
    }
}

async fn verify_and_authorize(verifier: &Verifier, token: &str) {
    let caller = verifier.verify(token).await.unwrap();
    caller.authority.authorize(Action::ViewQuote).unwrap();
    black_box(caller);
}

async fn micro_calls(
    variant: Micro,
    calls: usize,
    verifier: &Verifier,
    tokens: &mut [Signed],
    claims: &TokenClaims,
    out: &mut Vec<Duration>,
) {
    let authority = claims.caller().unwrap().authority;
    for _ in 0..variant.calls(calls) {
        let fresh = match variant {
            Micro::FirstSight(t) => tokens[t].fresh.next(),
            _ => None,
        };
        let started = Instant::now();
        match variant {
            Micro::FirstSight(_) => {
                verify_and_authorize(verifier, &fresh.unwrap()).await;
            }
            Micro::Repeat(t) => verify_and_authorize(verifier, &tokens[t].token).await,
            Micro::Fingerprint(t) => {
                black_box(Fingerprint::of(black_box(&tokens[t].token)));
            }
            Micro::Signature(t) => {
                let signed = &tokens[t];
                let (message, signature) = signed.token.rsplit_once('.').unwrap();
                let ok = jsonwebtoken::crypto::verify(
                    signature,
                    message.as_bytes(),
                    &signed.key,
                    signed.algorithm,
                )
                .unwrap();
                assert!(ok);
            }
            Micro::Decode(t) => {
                let signed = &tokens[t];
                let data = jsonwebtoken::decode::<TokenClaims>(
                    &signed.token,
                    &signed.key,
                    &signed.validation,
                )
                .unwrap();
                black_box(data);
            }
            Micro::Caller => {
                black_box(black_box(claims).caller().unwrap());
            }
            Micro::Authorize => {
                black_box(&authority)
                    .authorize(black_box(Action::ViewQuote))
                    .unwrap();
            }
        }
        out.push(started.elapsed());
    }
}

async fn micro(issuer: &TestIssuer, verifier: &Verifier, rounds: usize, calls: usize) {
    let fresh = (rounds + 1) * calls / 5;
    let mut tokens = [
        Signed::new(issuer, "RS256", SigningAlgorithm::Rs256, fresh),
        Signed::new(issuer, "ES256", SigningAlgorithm::Es256, fresh),
    ];
    let claims: TokenClaims =
        jsonwebtoken::dangerous::insecure_decode_claims(&tokens[0].token).unwrap();
    let variants = [
        Micro::FirstSight(0),
        Micro::FirstSight(1),
        Micro::Repeat(0),
        Micro::Repeat(1),
        Micro::Fingerprint(0),
        Micro::Signature(0),
        Micro::Signature(1),
        Micro::Decode(0),
        Micro::Decode(1),
        Micro::Caller,
        Micro::Authorize,
    ];
    let mut samples = vec![Vec::with_capacity(rounds * calls); variants.len()];
    // Warm-up: the first verify reads the issuer's keys; then every path once more.
    for (i, variant) in variants.iter().enumerate() {
        micro_calls(
            *variant,
            calls,
            verifier,
            &mut tokens,
            &claims,
            &mut samples[i],
        )
        .await;
        samples[i].clear();
    }
    for round in 0..rounds {
        for k in 0..variants.len() {
            let i = (round + k) % variants.len();
            micro_calls(
                variants[i],
                calls,
                verifier,
                &mut tokens,
                &claims,
                &mut samples[i],
            )
            .await;
        }
    }
    println!(
        "\nmicro, per call ({rounds} rounds x {calls} calls per variant, {} for new tokens; key set warm; token {} bytes RS256 / {} bytes ES256)",
        calls / 5,
        tokens[0].token.len(),
        tokens[1].token.len()
    );
    println!(
        "{:<40} {:>10} {:>10} {:>10}",
        "variant", "median µs", "p99 µs", "mean µs"
    );
    for (variant, taken) in variants.iter().zip(&samples) {
        let s = summary(taken);
        println!(
            "{:<40} {:>10.2} {:>10.2} {:>10.2}",
            variant.label(&tokens),
            micros(s.median),
            micros(s.p99),
            micros(s.mean)
        );
    }
}

async fn probe(ctx: RequestContext) -> Result<StatusCode, ApiError> {
    ctx.authorize(Action::ViewQuote)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The baseline's stand-in for authentication: a fixed, already verified caller.
async fn known_caller(
    State(authenticated): State<Arc<Authenticated>>,
    mut request: Request,
    next: Next,
) -> Response {
    request
        .extensions_mut()
        .insert(Authenticated::clone(&authenticated));
    next.run(request).await
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/quotes/probe", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

/// One HTTP variant: where it is served and the tokens it sends, in turn.
struct Endpoint {
    name: &'static str,
    url: String,
    tokens: Vec<String>,
    next: usize,
}

impl Endpoint {
    fn new(name: &'static str, url: &str, tokens: Vec<String>) -> Self {
        Self {
            name,
            url: url.to_owned(),
            tokens,
            next: 0,
        }
    }
}

async fn requests(
    client: &reqwest::Client,
    endpoint: &mut Endpoint,
    n: usize,
    out: &mut Vec<Duration>,
) {
    for _ in 0..n {
        let token = &endpoint.tokens[endpoint.next % endpoint.tokens.len()];
        endpoint.next += 1;
        let started = Instant::now();
        let response = client
            .get(&endpoint.url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::NO_CONTENT,
            "{}",
            endpoint.name
        );
        response.bytes().await.unwrap();
        out.push(started.elapsed());
    }
}

async fn http(issuer: &TestIssuer, verifier: Arc<Verifier>, rounds: usize, per_round: usize) {
    let rs256 = issuer.token_for("sales1");
    let es256 = issuer
        .issuer()
        .sign_with(SigningAlgorithm::Es256, &issuer.claims_for("sales1"))
        .unwrap();
    let fresh = |algorithm| fresh_tokens(issuer, algorithm, "http", (rounds + 1) * per_round);
    let fixed = Arc::new(Authenticated {
        caller: verifier.verify(&rs256).await.unwrap(),
        user_token: BearerToken::new(&rs256),
    });
    let route = || Router::new().route("/quotes/probe", get(probe));
    let baseline = serve(route().layer(middleware::from_fn_with_state(fixed, known_caller))).await;
    let authenticated =
        serve(route().layer(middleware::from_fn_with_state(verifier, authenticate))).await;
    let mut endpoints = [
        Endpoint::new("baseline (caller given)", &baseline, vec![rs256.clone()]),
        Endpoint::new("RS256, repeated token", &authenticated, vec![rs256]),
        Endpoint::new("ES256, repeated token", &authenticated, vec![es256]),
        Endpoint::new(
            "RS256, new token",
            &authenticated,
            fresh(SigningAlgorithm::Rs256),
        ),
        Endpoint::new(
            "ES256, new token",
            &authenticated,
            fresh(SigningAlgorithm::Es256),
        ),
    ];
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(4)
        .build()
        .unwrap();
    let mut samples = vec![Vec::with_capacity(rounds * per_round); endpoints.len()];
    for (i, endpoint) in endpoints.iter_mut().enumerate() {
        requests(&client, endpoint, per_round, &mut samples[i]).await;
        samples[i].clear();
    }
    let mut round_medians = vec![Vec::with_capacity(rounds); endpoints.len()];
    for round in 0..rounds {
        for k in 0..endpoints.len() {
            let i = (round + k) % endpoints.len();
            let mut taken = Vec::with_capacity(per_round);
            requests(&client, &mut endpoints[i], per_round, &mut taken).await;
            round_medians[i].push(summary(&taken).median);
            samples[i].extend(taken);
        }
    }
    println!(
        "\nhttp, per request ({rounds} rounds x {per_round} requests per variant, loopback HTTP/1.1, keep-alive, one at a time)"
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>26}",
        "variant", "median µs", "p99 µs", "mean µs", "added median µs (rounds)"
    );
    let base = summary(&samples[0]);
    for (i, endpoint) in endpoints.iter().enumerate() {
        let s = summary(&samples[i]);
        let added = if i == 0 {
            String::from("-")
        } else {
            let per_round: Vec<f64> = round_medians[i]
                .iter()
                .zip(&round_medians[0])
                .map(|(a, b)| micros(*a) - micros(*b))
                .collect();
            format!(
                "{:+.1} ({:+.1})",
                micros(s.median) - micros(base.median),
                median_f64(per_round)
            )
        };
        println!(
            "{:<28} {:>10.1} {:>10.1} {:>10.1} {:>26}",
            endpoint.name,
            micros(s.median),
            micros(s.p99),
            micros(s.mean),
            added
        );
    }
}

fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[(values.len() - 1) / 2]
}

fn machine() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!(
        "{cores} cores, load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn main() {
    let rounds = env_or("ROUNDS", 10);
    let calls = env_or("CALLS", 1_000);
    let per_round = env_or("REQUESTS", 500);
    println!("auth bench: {}", machine());
    let issuer = TestIssuer::start();
    let settings = AuthSettings {
        issuer: issuer.issuer_url(),
        discovery_url: issuer.discovery_url(),
        audience: issuer.audience().to_owned(),
        client: None,
        leeway: Duration::from_secs(30),
    };
    let verifier = Arc::new(Verifier::new(&settings).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        micro(&issuer, &verifier, rounds, calls).await;
        http(&issuer, Arc::clone(&verifier), rounds, per_round).await;
    });
    println!("\nmachine at the end: {}", machine());
}
