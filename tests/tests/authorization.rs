//! The generated server as an OAuth 2.1 resource server, against a real OpenID provider
//! (`oidc-provider`, started by `tests/src/oidc.rs`) and the example upstream: metadata and
//! challenges, tokens of every kind that must be accepted or refused, per-tool scopes, key
//! rotation, introspection of opaque tokens, and the inbound token never reaching the
//! upstream.

use mcpgen_tests::oidc::{OidcProvider, RS_CLIENT_ID, RS_CLIENT_SECRET, TokenKind};
use mcpgen_tests::petstore::upstream;
use mcpgen_tests::{HttpServer, ensure_crypto_provider, scoped_binary};
use petstore_upstream::Upstream;
use serde_json::{Value, json};

/// The MCP endpoint's canonical URL, as its tokens name it.
const RESOURCE: &str = "http://mcp.test/mcp";
/// What the server sends upstream, from its environment.
const UPSTREAM_TOKEN: &str = "operator-upstream-token";

struct Setup {
    idp: OidcProvider,
    up: Upstream,
    server: HttpServer,
    http: reqwest::Client,
}

async fn setup(extra: &[&str], env: &[(&str, &str)]) -> Setup {
    ensure_crypto_provider();
    let idp = OidcProvider::start().await;
    let up = upstream().await;
    let base = up.base_url();
    let mut args = vec![
        "--base-url",
        base.as_str(),
        "--oauth-issuer",
        idp.issuer(),
        "--public-url",
        RESOURCE,
    ];
    args.extend_from_slice(extra);
    let mut all_env = vec![("SCOPED_PETS_OAUTH_TOKEN", UPSTREAM_TOKEN)];
    all_env.extend_from_slice(env);
    let server = HttpServer::start(scoped_binary(), &args, &all_env).await;
    Setup {
        idp,
        up,
        server,
        http: reqwest::Client::new(),
    }
}

/// A 2026-07-28 `tools/call` with `token` (when given); the HTTP status, the
/// `WWW-Authenticate` header and the JSON-RPC message (when the body is one).
async fn call(
    s: &Setup,
    token: Option<&str>,
    tool: &str,
    arguments: Value,
) -> (u16, Option<String>, Option<Value>) {
    let mut request = s
        .http
        .post(&s.server.url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .json(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": tool, "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            }}}),
        );
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.expect("an HTTP answer");
    let status = answer.status().as_u16();
    let challenge = answer
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = answer.text().await.unwrap();
    let message = body
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .or(Some(body.as_str()))
        .and_then(|j| serde_json::from_str(j).ok());
    (status, challenge, message)
}

/// Asserts the call went through, and that the upstream saw only the operator's credential.
#[track_caller]
fn assert_served(s: &Setup, answer: &(u16, Option<String>, Option<Value>), token: &str) {
    assert_eq!(answer.0, 200, "{answer:?}");
    let message = answer.1.is_none().then_some(()).and(answer.2.as_ref());
    let result = &message.expect("a JSON-RPC answer")["result"];
    assert_ne!(result["isError"], true, "{result}");
    let sent = s.up.requests();
    let last = sent.last().expect("the upstream was called");
    assert_eq!(
        last.header("authorization"),
        Some(format!("Bearer {UPSTREAM_TOKEN}").as_str())
    );
    assert!(
        sent.iter()
            .all(|r| r.headers.iter().all(|(_, v)| !v.contains(token))),
        "the access token reached the upstream"
    );
}

#[tokio::test]
async fn metadata_and_challenges_send_clients_to_the_provider() {
    let s = setup(&[], &[]).await;
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let doc: Value = s
            .http
            .get(s.server.route(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["resource"], RESOURCE, "{path}");
        assert_eq!(doc["authorization_servers"], json!([s.idp.issuer()]));
        assert_eq!(
            doc["scopes_supported"],
            json!(["pets:read", "pets:write", "admin"])
        );
    }
    let (status, challenge, _) = call(&s, None, "listPets", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some(
            "Bearer resource_metadata=\"http://mcp.test/.well-known/oauth-protected-resource/mcp\", \
             scope=\"pets:read pets:write admin\""
        )
    );
    assert!(s.up.requests().is_empty());

    // A real MCP client is told the same.
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(s.server.url.clone());
    let refused = rmcp::ServiceExt::serve((), transport).await;
    let error = format!("{:?}", refused.expect_err("the client is refused"));
    assert!(
        error.contains("resource_metadata") || error.contains("401") || error.contains("Auth"),
        "{error}"
    );
}

#[tokio::test]
async fn tokens_for_this_resource_are_accepted_and_never_forwarded() {
    let s = setup(&[], &[]).await;
    for kind in [TokenKind::Rs256, TokenKind::Es256, TokenKind::Ps256] {
        let token = s.idp.token_of(kind, RESOURCE, "pets:read").await;
        let answer = call(&s, Some(&token), "listPets", json!({})).await;
        assert_served(&s, &answer, &token);
    }
}

#[tokio::test]
async fn tokens_that_are_not_for_this_resource_are_refused() {
    let s = setup(&["--log-level", "info"], &[]).await;
    let good = s.idp.token(RESOURCE, "pets:read").await;
    // Change a character in the middle of the signature (the last one may carry padding
    // bits, whose change would make the base64 invalid rather than the signature wrong).
    let middle = good.rfind('.').unwrap() + 20;
    let flipped = if &good[middle..=middle] == "A" {
        "B"
    } else {
        "A"
    };
    let tampered = format!("{}{flipped}{}", &good[..middle], &good[middle + 1..]);
    // Each refused for its own reason, which the log (never the caller) is told.
    let cases = [
        (
            "InvalidAudience",
            s.idp.token("http://other.test/mcp", "pets:read").await,
        ),
        (
            "ExpiredSignature",
            s.idp.expired_token(RESOURCE, "pets:read").await,
        ),
        (
            "ImmatureSignature",
            s.idp.not_yet_valid_token(RESOURCE, "pets:read").await,
        ),
        (
            "InvalidIssuer",
            s.idp.other_issuer_token(RESOURCE, "pets:read").await,
        ),
        (
            "algorithm HS256 is not accepted",
            s.idp.hs256_token(RESOURCE, "pets:read").await,
        ),
        (
            "no introspection endpoint",
            s.idp.opaque_token(RESOURCE, "pets:read").await,
        ),
        ("InvalidSignature", tampered),
        ("unreadable JWT header", "a.b.c".to_owned()),
    ];
    for (reason, token) in cases {
        let logged = s.server.stderr.lock().unwrap().len();
        let (status, challenge, _) = call(&s, Some(&token), "listPets", json!({})).await;
        assert_eq!(status, 401, "{reason}");
        let challenge = challenge.unwrap_or_default();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{reason}: {challenge}"
        );
        // The log is read from the server's stderr by another task: give it a moment.
        let mut log = String::new();
        for _ in 0..100 {
            log = s.server.stderr.lock().unwrap()[logged..].to_owned();
            if log.contains(reason) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(log.contains(reason), "{reason} not in the log: {log}");
        assert!(!log.contains(&token), "the token reached the log");
    }
    // An unsigned token (`alg: none`).
    let unsigned = format!(
        "{}.{}.",
        base64_url(r#"{"alg":"none","typ":"at+jwt"}"#),
        base64_url(&format!(
            r#"{{"iss":"{}","aud":"{RESOURCE}","exp":9999999999,"scope":"pets:read"}}"#,
            s.idp.issuer()
        ))
    );
    let (status, _, _) = call(&s, Some(&unsigned), "listPets", json!({})).await;
    assert_eq!(status, 401, "alg none");
    assert!(
        s.up.requests().is_empty(),
        "a refused call reached the upstream"
    );
    // The good one still works.
    let answer = call(&s, Some(&good), "listPets", json!({})).await;
    assert_served(&s, &answer, &good);
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn each_tool_needs_the_scopes_of_its_operation() {
    let s = setup(&[], &[]).await;
    let reader = s.idp.token(RESOURCE, "pets:read").await;
    let (status, challenge, _) = call(
        &s,
        Some(&reader),
        "createPet",
        json!({"name": "Nemo", "tag": "fish"}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(
            "Bearer resource_metadata=\"http://mcp.test/.well-known/oauth-protected-resource/mcp\", \
             error=\"insufficient_scope\", scope=\"pets:read pets:write\""
        )
    );
    assert!(s.up.requests().is_empty());
    let writer = s.idp.token(RESOURCE, "pets:read pets:write").await;
    let answer = call(
        &s,
        Some(&writer),
        "createPet",
        json!({"name": "Nemo", "tag": "fish"}),
    )
    .await;
    assert_served(&s, &answer, &writer);
    let (status, _, _) = call(&s, Some(&writer), "deletePet", json!({"petId": "1"})).await;
    assert_eq!(status, 403, "admin is needed");
}

#[tokio::test]
async fn rotated_keys_are_fetched_and_retired_ones_stop_working() {
    let s = setup(&[], &[]).await;
    let before = s.idp.token(RESOURCE, "pets:read").await;
    assert_served(
        &s,
        &call(&s, Some(&before), "listPets", json!({})).await,
        &before,
    );
    s.idp.rotate_keys_retiring().await;
    let after = s.idp.token(RESOURCE, "pets:read").await;
    // A key id the server has not seen: the key set is fetched again.
    assert_served(
        &s,
        &call(&s, Some(&after), "listPets", json!({})).await,
        &after,
    );
    let (status, _, _) = call(&s, Some(&before), "listPets", json!({})).await;
    assert_eq!(status, 401, "a token signed by a retired key");
}

#[tokio::test]
async fn opaque_tokens_are_introspected() {
    ensure_crypto_provider();
    let idp = OidcProvider::start().await;
    let up = upstream().await;
    let base = up.base_url();
    let endpoint = idp.introspection_endpoint();
    let server = HttpServer::start(
        scoped_binary(),
        &[
            "--base-url",
            &base,
            "--oauth-issuer",
            idp.issuer(),
            "--public-url",
            RESOURCE,
            "--oauth-introspection-url",
            &endpoint,
        ],
        &[
            ("SCOPED_PETS_OAUTH_TOKEN", UPSTREAM_TOKEN),
            ("SCOPED_OAUTH_CLIENT_ID", RS_CLIENT_ID),
            ("SCOPED_OAUTH_CLIENT_SECRET", RS_CLIENT_SECRET),
        ],
    )
    .await;
    let s = Setup {
        idp,
        up,
        server,
        http: reqwest::Client::new(),
    };
    let opaque = s.idp.opaque_token(RESOURCE, "pets:read").await;
    assert_served(
        &s,
        &call(&s, Some(&opaque), "listPets", json!({})).await,
        &opaque,
    );
    // Cached: a second call needs no second introspection, and still works.
    assert_served(
        &s,
        &call(&s, Some(&opaque), "listPets", json!({})).await,
        &opaque,
    );
    let elsewhere = s
        .idp
        .opaque_token("http://other.test/mcp", "pets:read")
        .await;
    let (status, _, _) = call(&s, Some(&elsewhere), "listPets", json!({})).await;
    assert_eq!(status, 401, "an opaque token for another resource");
    let (status, _, _) = call(&s, Some("not-a-token-at-all"), "listPets", json!({})).await;
    assert_eq!(status, 401);
    // JWTs are still verified locally.
    let jwt = s.idp.token(RESOURCE, "pets:read").await;
    assert_served(&s, &call(&s, Some(&jwt), "listPets", json!({})).await, &jwt);
}

#[tokio::test]
async fn misconfigurations_stop_the_server_with_a_message() {
    let bin = scoped_binary();
    for (args, expected) in [
        (
            vec!["--oauth-issuer", "https://idp.example.com"],
            "needs --public-url",
        ),
        (
            vec![
                "--oauth-issuer",
                "http://idp.example.com",
                "--public-url",
                RESOURCE,
            ],
            "must be an https URL",
        ),
        (
            vec![
                "--oauth-issuer",
                "https://idp.example.com",
                "--public-url",
                RESOURCE,
                "--mcp-token",
                "t",
            ],
            "choose one",
        ),
    ] {
        let out = std::process::Command::new(bin)
            .args(["--transport", "http", "--bind", "127.0.0.1:0"])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
