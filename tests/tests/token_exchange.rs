//! Upstream credentials by OAuth 2.0 Token Exchange (RFC 8693), end to end: the generated
//! server as a resource server of a real OpenID provider (`oidc-provider`, started by
//! `tests/src/oidc.rs`) exchanges each caller's access token for a token for the example
//! upstream, so that every caller reaches the upstream as itself; the caller's own token and
//! the environment's credential never go upstream, and neither token reaches the logs.

use std::collections::HashSet;

use mcpgen_tests::oidc::{OidcProvider, RS_CLIENT_ID, RS_CLIENT_SECRET, TokenKind, decode_jwt};
use mcpgen_tests::petstore::upstream;
use mcpgen_tests::{HttpServer, call, ensure_crypto_provider, scoped_binary, text};
use petstore_upstream::Upstream;
use serde_json::{Value, json};

/// The MCP endpoint's canonical URL, as its tokens name it.
const RESOURCE: &str = "http://mcp.test/mcp";
/// What the environment holds for the upstream: never sent when tokens are exchanged.
const UPSTREAM_TOKEN: &str = "operator-upstream-token";
/// The exchanging client, as the resource server's own.
const CLIENT_ENV: [(&str, &str); 2] = [
    ("SCOPED_OAUTH_CLIENT_ID", RS_CLIENT_ID),
    ("SCOPED_OAUTH_CLIENT_SECRET", RS_CLIENT_SECRET),
];

struct Setup {
    idp: OidcProvider,
    up: Upstream,
    server: HttpServer,
    /// The upstream's identifier at the provider: its base URL.
    exchange_resource: String,
}

/// A resource server exchanging tokens for the upstream's base URL, with `extra` arguments;
/// at the token endpoint the provider's metadata names, or at the one given explicitly when
/// `explicit_endpoint`.
async fn setup(extra: &[&str], explicit_endpoint: bool) -> Setup {
    ensure_crypto_provider();
    let idp = OidcProvider::start().await;
    let up = upstream().await;
    let base = up.base_url();
    let endpoint = idp.token_endpoint();
    let mut args = vec![
        "--base-url",
        base.as_str(),
        "--oauth-issuer",
        idp.issuer(),
        "--public-url",
        RESOURCE,
        "--token-exchange-resource",
        base.as_str(),
        "--log-level",
        "debug",
    ];
    if explicit_endpoint {
        args.extend(["--token-exchange-url", endpoint.as_str()]);
    }
    args.extend_from_slice(extra);
    let mut env = vec![("SCOPED_PETS_OAUTH_TOKEN", UPSTREAM_TOKEN)];
    env.extend_from_slice(&CLIENT_ENV);
    let server = HttpServer::start(scoped_binary(), &args, &env).await;
    Setup {
        idp,
        exchange_resource: base.clone(),
        up,
        server,
    }
}

/// The bearer token of every upstream request so far, in order.
fn upstream_tokens(up: &Upstream) -> Vec<String> {
    up.requests()
        .iter()
        .map(|r| {
            r.header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_else(|| panic!("an upstream request without a bearer: {r:?}"))
                .to_owned()
        })
        .collect()
}

/// Asserts that `secret` reached neither the upstream nor the server's log.
#[track_caller]
fn assert_nowhere(s: &Setup, secret: &str, what: &str) {
    assert!(
        s.up.requests().iter().all(|r| {
            r.headers.iter().all(|(_, v)| !v.contains(secret))
                && r.query.as_deref().is_none_or(|q| !q.contains(secret))
        }),
        "{what} reached the upstream"
    );
    assert!(
        !s.server.stderr.lock().unwrap().contains(secret),
        "{what} reached the log"
    );
}

#[tokio::test]
async fn each_caller_reaches_the_upstream_as_itself() {
    let s = setup(&[], false).await;
    let inbound = s.idp.token(RESOURCE, "pets:read").await;
    let (_, inbound_claims) = decode_jwt(&inbound);
    let client = s.server.client(Some(&inbound)).await;
    for _ in 0..2 {
        let result = call(&client, "listPets", json!({})).await;
        assert_eq!(result.is_error, Some(false), "{}", text(&result));
    }
    let sent = upstream_tokens(&s.up);
    assert_eq!(sent.len(), 2);
    // One exchange for both calls: the provider issues a new token (a new `jti`) each time.
    assert_eq!(sent[0], sent[1], "the exchanged token was not reused");
    let exchanged = &sent[0];
    assert_ne!(exchanged, &inbound, "the inbound token went upstream");
    assert_ne!(
        exchanged, UPSTREAM_TOKEN,
        "the environment's token went upstream"
    );
    let (_, claims) = decode_jwt(exchanged);
    assert_eq!(claims["sub"], inbound_claims["sub"], "{claims}");
    assert_eq!(claims["iss"], s.idp.issuer());
    let audience_ok = match &claims["aud"] {
        Value::String(aud) => *aud == s.exchange_resource,
        Value::Array(auds) => auds.iter().any(|a| *a == *s.exchange_resource),
        _ => false,
    };
    assert!(audience_ok, "aud is not the exchange resource: {claims}");
    assert_eq!(claims["act"]["sub"], RS_CLIENT_ID, "{claims}");
    assert_eq!(claims["scope"], "pets:read", "{claims}");

    // Another caller gets a token of its own, with its own subject.
    let other = s
        .idp
        .token_of(TokenKind::Es256, RESOURCE, "pets:read")
        .await;
    let other_client = s.server.client(Some(&other)).await;
    let result = call(&other_client, "getPetById", json!({"petId": "1"})).await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    let sent = upstream_tokens(&s.up);
    let theirs = sent.last().unwrap();
    assert_ne!(theirs, exchanged);
    let (_, their_claims) = decode_jwt(theirs);
    assert_eq!(their_claims["sub"], decode_jwt(&other).1["sub"]);
    assert_ne!(their_claims["sub"], claims["sub"]);
    assert_eq!(their_claims["act"]["sub"], RS_CLIENT_ID);

    for secret in [inbound.as_str(), other.as_str(), UPSTREAM_TOKEN] {
        assert_nowhere(&s, secret, "a token");
    }
    // The exchanged tokens went upstream, and nowhere else.
    let log = s.server.stderr.lock().unwrap().clone();
    assert!(!log.contains(exchanged.as_str()) && !log.contains(theirs.as_str()));
    assert!(log.contains("token exchange (RFC 8693)"), "{log}");
}

#[tokio::test]
async fn concurrent_calls_of_one_caller_share_one_exchange() {
    let s = setup(&[], true).await;
    let inbound = s.idp.token(RESOURCE, "pets:read").await;
    let client = s.server.client(Some(&inbound)).await;
    let results = join_all(
        (0..6)
            .map(|_| call(&client, "listPets", json!({})))
            .collect(),
    )
    .await;
    for result in &results {
        assert_eq!(result.is_error, Some(false), "{}", text(result));
    }
    let sent = upstream_tokens(&s.up);
    assert_eq!(sent.len(), 6);
    let distinct: HashSet<&String> = sent.iter().collect();
    assert_eq!(distinct.len(), 1, "more than one exchange: {distinct:?}");
    assert_nowhere(&s, &inbound, "the inbound token");
}

/// Polls `futures` together on this task; their outputs in order.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn a_refused_exchange_is_a_tool_error_and_nothing_goes_upstream() {
    // A scope the caller's token lacks: the provider answers invalid_scope.
    let s = setup(&["--token-exchange-scope", "admin"], true).await;
    let inbound = s.idp.token(RESOURCE, "pets:read").await;
    let client = s.server.client(Some(&inbound)).await;
    let result = call(&client, "listPets", json!({})).await;
    assert_eq!(result.is_error, Some(true), "{}", text(&result));
    let message = text(&result);
    assert!(
        message.contains("refused to exchange") && message.contains("invalid_scope"),
        "{message}"
    );
    assert!(!message.contains(&inbound), "{message}");
    assert!(
        s.up.requests().is_empty(),
        "a refused call reached the upstream"
    );
    assert_nowhere(&s, &inbound, "the inbound token");
    assert_nowhere(&s, UPSTREAM_TOKEN, "the environment's token");
}

/// Environment variables, name and value.
type Env<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn misconfigured_exchanges_stop_the_server_with_a_message() {
    let bin = scoped_binary();
    let exchange = ["--token-exchange-resource", "https://api.example.com/v1"];
    let issuer = [
        "--oauth-issuer",
        "https://idp.example.com",
        "--public-url",
        RESOURCE,
    ];
    let cases: Vec<(Vec<&str>, Env, &str)> = vec![
        // No resource server: no caller's token to exchange.
        (
            exchange.to_vec(),
            CLIENT_ENV.to_vec(),
            "needs --oauth-issuer",
        ),
        // No client to exchange with.
        (
            [issuer.as_slice(), exchange.as_slice()].concat(),
            Vec::new(),
            "set SCOPED_OAUTH_CLIENT_ID and SCOPED_OAUTH_CLIENT_SECRET",
        ),
        // Turned on through the environment, the same.
        (
            Vec::new(),
            vec![(
                "SCOPED_TOKEN_EXCHANGE_RESOURCE",
                "https://api.example.com/v1",
            )],
            "needs --oauth-issuer",
        ),
        // A token endpoint in clear text.
        (
            [
                issuer.as_slice(),
                exchange.as_slice(),
                &["--token-exchange-url", "http://idp.example.com/token"],
            ]
            .concat(),
            CLIENT_ENV.to_vec(),
            "must be an https URL",
        ),
        // An option of the exchange without the exchange.
        (
            vec!["--token-exchange-scope", "pets:read"],
            Vec::new(),
            "needs --token-exchange-resource",
        ),
    ];
    for (args, env, expected) in cases {
        let mut command = std::process::Command::new(bin);
        command
            .args(["--transport", "http", "--bind", "127.0.0.1:0"])
            .args(&args)
            .env_remove("SCOPED_OAUTH_CLIENT_ID")
            .env_remove("SCOPED_OAUTH_CLIENT_SECRET")
            .env_remove("SCOPED_TOKEN_EXCHANGE_RESOURCE")
            .env_remove("SCOPED_OAUTH_ISSUER");
        for (name, value) in &env {
            command.env(name, value);
        }
        let out = command.output().unwrap();
        assert!(!out.status.success(), "{args:?} {env:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?} {env:?}: {stderr}");
        assert!(!stderr.contains(RS_CLIENT_SECRET), "{stderr}");
    }
}
