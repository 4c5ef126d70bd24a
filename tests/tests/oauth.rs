//! OAuth 2.0 client credentials end to end, against the example upstream's token endpoint:
//! the token is fetched with the client id and secret from the environment and the operation's
//! scopes, cached, fetched again before it expires and once after a 401, and never logged. The
//! server is generated in mixed mode, which is checked here too.

use std::time::Duration;

use mcpgen_tests::{
    HttpServer, RecordedRequest, Upstream, assert_ok, call, call_operation, oauth_binary, stdio_at,
    text,
};
use petstore_upstream::{OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};
use serde_json::json;

const ID_VAR: &str = "OAUTH_PETS_PET_AUTH_CLIENT_ID";
const SECRET_VAR: &str = "OAUTH_PETS_PET_AUTH_CLIENT_SECRET";
const TOKEN_VAR: &str = "OAUTH_PETS_PET_AUTH_TOKEN";

fn token_requests(up: &Upstream) -> Vec<RecordedRequest> {
    up.requests()
        .into_iter()
        .filter(|r| r.path == "/oauth/token")
        .collect()
}

fn api_requests(up: &Upstream) -> Vec<RecordedRequest> {
    up.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v1/"))
        .collect()
}

fn form(request: &RecordedRequest) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

/// The server on stdio with the upstream's client id and secret, `extra` after `--base-url`.
async fn client(up: &Upstream, extra: &[&str]) -> mcpgen_tests::Client {
    stdio_at(
        oauth_binary(),
        &up.base_url(),
        extra,
        &[(ID_VAR, OAUTH_CLIENT_ID), (SECRET_VAR, OAUTH_CLIENT_SECRET)],
    )
    .await
}

#[tokio::test]
async fn tokens_are_fetched_with_the_operations_scopes_and_cached() {
    let up = Upstream::start(0).await.unwrap();
    let client = client(&up, &[]).await;

    let rex = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&rex);
    assert_eq!(rex.structured_content.unwrap()["name"], "Rex");
    let tom = call(&client, "getPetById", json!({"petId": "2"})).await;
    assert_ok(&tom);

    let tokens = token_requests(&up);
    assert_eq!(tokens.len(), 1, "the token is cached");
    let request = &tokens[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        form(request),
        "grant_type=client_credentials&scope=pets%3Aread"
    );
    assert!(
        request
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic ")),
        "HTTP basic client authentication first"
    );
    for api in api_requests(&up) {
        assert_eq!(api.header("authorization"), Some("Bearer oauth-token-1"));
    }

    // Another set of scopes is another token.
    let created = call_operation(&client, "createPet", json!({"name": "Fido"})).await;
    assert_ok(&created);
    let tokens = token_requests(&up);
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        form(&tokens[1]),
        "grant_type=client_credentials&scope=pets%3Awrite"
    );
    assert_eq!(
        api_requests(&up).last().unwrap().header("authorization"),
        Some("Bearer oauth-token-2")
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire_and_after_a_401() {
    let up = Upstream::start(0).await.unwrap();
    up.set_token_lifetime(Some(1));
    let client = client(&up, &[]).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&r);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&r);
    assert_eq!(
        token_requests(&up).len(),
        2,
        "a new token before the old one expired"
    );
    let api = api_requests(&up);
    assert_eq!(api.len(), 2, "no request went out with an expired token");
    assert_eq!(api[1].header("authorization"), Some("Bearer oauth-token-2"));

    // A token the upstream no longer accepts is replaced once, and the call goes through.
    up.set_token_lifetime(Some(3600));
    up.revoke_tokens();
    let r = call(&client, "getPetById", json!({"petId": "2"})).await;
    assert_ok(&r);
    assert_eq!(token_requests(&up).len(), 3);
    let api = api_requests(&up);
    assert_eq!(api.len(), 4, "the refused request and its repetition");
    assert_eq!(api[3].header("authorization"), Some("Bearer oauth-token-3"));
    client.cancel().await.ok();
}

#[tokio::test]
async fn a_token_endpoint_that_wants_the_secret_in_the_body_gets_it() {
    let up = Upstream::start(0).await.unwrap();
    up.require_client_secret_in_body(true);
    up.set_token_lifetime(Some(1));
    let client = client(&up, &[]).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&r);
    let tokens = token_requests(&up);
    assert_eq!(tokens.len(), 2, "basic refused, then the body");
    assert!(form(&tokens[1]).contains("client_id=petstore-client"));
    assert!(tokens[1].header("authorization").is_none());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&r);
    assert_eq!(token_requests(&up).len(), 3, "straight to what works");
    client.cancel().await.ok();
}

#[tokio::test]
async fn a_refused_client_is_a_tool_error_that_never_shows_the_secret() {
    let up = Upstream::start(0).await.unwrap();
    let secret = "wrong-but-secret-value";
    let server = HttpServer::start(
        oauth_binary(),
        &["--base-url", &up.base_url(), "--log-level", "debug"],
        &[(ID_VAR, OAUTH_CLIENT_ID), (SECRET_VAR, secret)],
    )
    .await;
    let client = server.client(None).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(true));
    let message = text(&r);
    assert!(
        message.contains("OAuth 2.0 access token") && message.contains("invalid_client"),
        "{message}"
    );
    assert!(!message.contains(secret), "{message}");
    assert!(api_requests(&up).is_empty(), "no request without a token");

    // A caller's own bearer token is passed through instead of fetching one.
    let caller = server.client(Some("caller-token")).await;
    let r = call(&caller, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&r);
    assert_eq!(
        api_requests(&up)[0].header("authorization"),
        Some("Bearer caller-token")
    );
    client.cancel().await.ok();
    caller.cancel().await.ok();
    let logs = server.stderr.lock().unwrap().clone();
    assert!(
        !logs.contains(secret) && !logs.contains("caller-token"),
        "{logs}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_ready_token_is_used_as_it_is() {
    let up = Upstream::start(0).await.unwrap();
    let base = up.base_url();
    let client = stdio_at(
        oauth_binary(),
        &base,
        &[],
        // A complete client id and secret too: the ready token still wins.
        &[
            (TOKEN_VAR, "operator-token"),
            (ID_VAR, OAUTH_CLIENT_ID),
            (SECRET_VAR, OAUTH_CLIENT_SECRET),
        ],
    )
    .await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&r);
    assert!(token_requests(&up).is_empty());
    assert_eq!(
        api_requests(&up)[0].header("authorization"),
        Some("Bearer operator-token")
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn the_token_url_can_be_given_and_must_be_safe() {
    let up = Upstream::start(0).await.unwrap();
    let token_url = format!("http://{}/oauth/token", up.addr());
    let client = client(
        &up,
        &[
            "--oauth-token-url",
            &token_url,
            "--oauth-param",
            "audience=pets",
        ],
    )
    .await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&r);
    assert!(form(&token_requests(&up)[0]).contains("audience=pets"));
    client.cancel().await.ok();

    // A client secret is never sent in clear text to another host.
    let output = tokio::process::Command::new(oauth_binary())
        .args([
            "--base-url",
            &up.base_url(),
            "--oauth-token-url",
            "http://auth.example.com/token",
        ])
        .env(ID_VAR, OAUTH_CLIENT_ID)
        .env(SECRET_VAR, OAUTH_CLIENT_SECRET)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("must use https"), "{stderr}");
    assert!(!stderr.contains(OAUTH_CLIENT_SECRET), "{stderr}");
}

#[tokio::test]
async fn mixed_mode_serves_the_selected_tools_and_searches_the_rest() {
    let up = Upstream::start(0).await.unwrap();
    let client = client(&up, &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "getPetById",
            "search_operations",
            "describe_operation",
            "call_operation"
        ]
    );
    let found = call(
        &client,
        "search_operations",
        json!({"query": "how many pets are there by status"}),
    )
    .await;
    let operations = &found.structured_content.unwrap()["operations"];
    assert_eq!(operations[0]["name"], "getInventory", "{operations}");
    assert!(
        operations
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["name"] != "getPetById"),
        "search reaches the operations that are not tools: {operations}"
    );
    let counts = call(&client, "call_operation", json!({"name": "getInventory"})).await;
    assert_ok(&counts);
    assert_eq!(
        counts.structured_content,
        Some(json!({"available": 1, "pending": 1, "sold": 1}))
    );
    let listed = client
        .call_tool(rmcp::model::CallToolRequestParams::new("listPets"))
        .await;
    assert!(listed.is_err(), "a search-only operation is not a tool");
    client.cancel().await.ok();

    // One binary, either mode: tools mode serves just the selected tools.
    let tools_only = stdio_at(oauth_binary(), &up.base_url(), &["--mode", "tools"], &[]).await;
    let names: Vec<String> = tools_only
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert_eq!(names, ["getPetById"]);
    tools_only.cancel().await.ok();
}
