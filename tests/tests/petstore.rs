//! The generated Petstore server, built from the example spec, driven by rmcp's client over
//! stdio and streamable HTTP against the example upstream on 127.0.0.1.

use std::time::Duration;

use mcpgen_tests::{HttpServer, Upstream, call, petstore_binary, stdio_client, text};
use serde_json::{Value, json};

const ENV_TOKEN: &str = "env-secret-token";

async fn upstream() -> Upstream {
    Upstream::start(0).await.expect("upstream starts")
}

fn base_url_args(up: &Upstream) -> Vec<String> {
    vec!["--base-url".to_owned(), up.base_url()]
}

async fn stdio(up: &Upstream) -> mcpgen_tests::Client {
    let args = base_url_args(up);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    stdio_client(
        petstore_binary(),
        &args,
        &[("PETSTORE_BEARER_AUTH_TOKEN", ENV_TOKEN)],
    )
    .await
}

#[tokio::test]
async fn stdio_initialize_and_list_tools() {
    let up = upstream().await;
    let client = stdio(&up).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("petstore-mcp")
    );
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or_default()
            .contains("Petstore")
    );

    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "listPets",
            "createPet",
            "getPetById",
            "updatePet",
            "deletePet",
            "get_store_inventory"
        ]
    );
    let get = tools.iter().find(|t| t.name == "getPetById").unwrap();
    assert_eq!(get.input_schema["required"], json!(["petId"]));
    assert_eq!(get.input_schema["properties"]["petId"]["type"], "string");
    let annotations = get.annotations.as_ref().unwrap();
    assert_eq!(annotations.read_only_hint, Some(true));
    let output = get
        .output_schema
        .as_ref()
        .expect("JSON responses have an output schema");
    assert_eq!(output["type"], "object");

    let list = tools.iter().find(|t| t.name == "listPets").unwrap();
    let output = list.output_schema.as_ref().unwrap();
    assert_eq!(
        output["properties"]["result"]["type"], "array",
        "arrays are wrapped"
    );

    let delete = tools.iter().find(|t| t.name == "deletePet").unwrap();
    let annotations = delete.annotations.as_ref().unwrap();
    assert_eq!(annotations.destructive_hint, Some(true));
    assert_eq!(annotations.idempotent_hint, Some(true));
    assert!(delete.output_schema.is_none());

    let update = tools.iter().find(|t| t.name == "updatePet").unwrap();
    let props = update.input_schema["properties"].as_object().unwrap();
    assert!(
        props.contains_key("name"),
        "the query parameter keeps its name"
    );
    assert!(
        props["body"]["$ref"].is_string() || props["body"]["properties"].is_object(),
        "the body, whose `name` collides with the query parameter, is one argument: {props:?}"
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn stdio_get_returns_structured_content_and_sends_env_credential() {
    let up = upstream().await;
    let client = stdio(&up).await;
    let result = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(
        result.structured_content,
        Some(json!({"id": "1", "name": "Rex", "tag": "dog", "status": "available"}))
    );
    let requests = up.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/v1/pets/1");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str())
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn stdio_post_sends_the_json_body() {
    let up = upstream().await;
    let client = stdio(&up).await;
    let result = call(&client, "createPet", json!({"name": "Fido", "tag": "dog"})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let created = result.structured_content.expect("structured pet");
    assert_eq!(created["name"], "Fido");
    assert!(created["id"].is_string());

    let requests = up.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/pets")
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body, json!({"name": "Fido", "tag": "dog"}));
    client.cancel().await.ok();
}

#[tokio::test]
async fn stdio_upstream_404_is_a_tool_error() {
    let up = upstream().await;
    let client = stdio(&up).await;
    let result = call(&client, "getPetById", json!({"petId": "404"})).await;
    assert_eq!(result.is_error, Some(true));
    let message = text(&result);
    assert!(message.contains("HTTP 404"), "{message}");
    assert!(message.contains("pet 404 not found"), "{message}");
    assert!(
        result.structured_content.is_none(),
        "errors must not contradict the output schema"
    );
    client.cancel().await.ok();
}

#[tokio::test]
async fn stdio_invalid_arguments_are_refused_before_any_request() {
    let up = upstream().await;
    let client = stdio(&up).await;
    let missing = call(&client, "getPetById", json!({})).await;
    assert_eq!(missing.is_error, Some(true));
    assert!(
        text(&missing).contains("\"petId\" is a required property"),
        "{}",
        text(&missing)
    );

    let too_big = call(&client, "listPets", json!({"limit": 1000})).await;
    assert_eq!(too_big.is_error, Some(true));
    assert!(text(&too_big).contains("`limit`"), "{}", text(&too_big));

    let unknown = call(&client, "listPets", json!({"limt": 5})).await;
    assert_eq!(unknown.is_error, Some(true));
    assert!(text(&unknown).contains("limt"), "{}", text(&unknown));

    let wrong_type = call(&client, "createPet", json!({"name": 5})).await;
    assert_eq!(wrong_type.is_error, Some(true));

    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        up.requests().is_empty(),
        "no request may reach the upstream"
    );

    let unknown_tool = client
        .call_tool(rmcp::model::CallToolRequestParams::new("noSuchTool"))
        .await;
    assert!(unknown_tool.is_err(), "an unknown tool is a protocol error");
    client.cancel().await.ok();
}

#[tokio::test]
async fn stdio_parameters_are_encoded_and_placed() {
    let up = upstream().await;
    let client = stdio(&up).await;
    let r = call(&client, "getPetById", json!({"petId": "a/b?c#d"})).await;
    assert_eq!(r.is_error, Some(true), "no such pet");
    // A value that would climb the path once decoded is refused before anything is sent.
    let r = call(&client, "getPetById", json!({"petId": "a/../b"})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("argument `petId`"), "{}", text(&r));
    let r = call(
        &client,
        "listPets",
        json!({"limit": 2, "tags": ["dog", "cat fish"], "X-Request-Id": "req-1"}),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    let r = call(
        &client,
        "updatePet",
        json!({"petId": "2", "name": "Tom", "body": {"name": "Max", "status": "sold"}}),
    )
    .await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(r.structured_content.as_ref().unwrap()["name"], "Max");

    let reqs = up.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].path, "/v1/pets/a%2Fb%3Fc%23d");
    assert_eq!(reqs[0].query, None);
    assert_eq!(
        reqs[1].query.as_deref(),
        Some("limit=2&tags=dog&tags=cat%20fish")
    );
    assert_eq!(reqs[1].header("x-request-id"), Some("req-1"));
    assert_eq!(
        (reqs[2].method.as_str(), reqs[2].path.as_str()),
        ("PUT", "/v1/pets/2")
    );
    assert_eq!(reqs[2].query.as_deref(), Some("name=Tom"));
    let body: Value = serde_json::from_slice(&reqs[2].body).unwrap();
    assert_eq!(body, json!({"name": "Max", "status": "sold"}));
    client.cancel().await.ok();
}

#[tokio::test]
async fn stdio_empty_body_and_unreachable_upstream() {
    let up = upstream().await;
    let client = stdio(&up).await;
    let r = call(&client, "deletePet", json!({"petId": "3"})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert!(text(&r).contains("204"), "{}", text(&r));
    client.cancel().await.ok();

    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let client = stdio_client(petstore_binary(), &["--base-url", &url], &[]).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("could not connect"), "{}", text(&r));
    client.cancel().await.ok();
}

/// Both transports answer `tools/list` from the pre-serialised list; what a client reads must
/// be the same list, whole.
#[tokio::test]
async fn http_and_stdio_list_the_same_tools() {
    let up = upstream().await;
    let over_stdio = stdio(&up).await;
    let server = HttpServer::start(petstore_binary(), &["--base-url", &up.base_url()], &[]).await;
    let over_http = server.client(None).await;
    let as_json = |tools: Vec<rmcp::model::Tool>| serde_json::to_value(tools).unwrap();
    let listed = as_json(
        over_stdio
            .list_all_tools()
            .await
            .expect("tools/list over stdio"),
    );
    // Twice over HTTP: the list is built once and then reused.
    for _ in 0..2 {
        let over = as_json(
            over_http
                .list_all_tools()
                .await
                .expect("tools/list over HTTP"),
        );
        assert_eq!(over, listed);
    }
    assert_eq!(listed.as_array().map(Vec::len), Some(6));
    assert!(
        listed[2]["inputSchema"]["properties"]["petId"].is_object(),
        "{listed}"
    );
    // Calls still work after the lists.
    let r = call(&over_http, "listPets", json!({})).await;
    assert_eq!(r.is_error, Some(true), "no credential: {}", text(&r));
    over_stdio.cancel().await.ok();
    over_http.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn http_passes_the_callers_authorization_through() {
    let up = upstream().await;
    let server = HttpServer::start(
        petstore_binary(),
        &["--base-url", &up.base_url()],
        &[("PETSTORE_BEARER_AUTH_TOKEN", ENV_TOKEN)],
    )
    .await;
    let client = server.client(Some("caller-token")).await;
    let tools = client.list_all_tools().await.expect("tools/list over HTTP");
    assert_eq!(tools.len(), 6);
    let r = call(&client, "getPetById", json!({"petId": "2"})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(r.structured_content.as_ref().unwrap()["name"], "Tom");
    let r = call(&client, "getPetById", json!({"petId": "nope"})).await;
    assert_eq!(r.is_error, Some(true));

    let reqs = up.requests();
    assert_eq!(reqs.len(), 2);
    for req in &reqs {
        assert_eq!(req.header("authorization"), Some("Bearer caller-token"));
        assert!(
            req.headers
                .iter()
                .all(|(name, _)| !name.starts_with("mcp-")),
            "MCP headers must not be forwarded: {:?}",
            req.headers
        );
    }
    client.cancel().await.ok();

    // Without a caller credential the environment's is used.
    let anonymous = server.client(None).await;
    up.clear();
    let r = call(&anonymous, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(
        up.requests()[0].header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str())
    );
    anonymous.cancel().await.ok();

    let logs = server.stderr.lock().unwrap().clone();
    assert!(
        !logs.contains("caller-token") && !logs.contains(ENV_TOKEN),
        "{logs}"
    );
    let status = server.stop().await;
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status:?}"
    );
}

#[tokio::test]
async fn http_no_passthrough_uses_only_the_environment() {
    let up = upstream().await;
    let server = HttpServer::start(
        petstore_binary(),
        &["--base-url", &up.base_url(), "--no-passthrough"],
        &[("PETSTORE_BEARER_AUTH_TOKEN", ENV_TOKEN)],
    )
    .await;
    let client = server.client(Some("caller-token")).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(
        up.requests()[0].header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str())
    );
    client.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn http_without_credentials_reports_401_with_a_hint() {
    let up = upstream().await;
    let server = HttpServer::start(petstore_binary(), &["--base-url", &up.base_url()], &[]).await;
    let client = server.client(None).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(true));
    let message = text(&r);
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(message.contains("PETSTORE_BEARER_AUTH_TOKEN"), "{message}");
    client.cancel().await.ok();
    server.stop().await;
}

#[tokio::test]
async fn http_refuses_foreign_hosts_and_origins() {
    let up = upstream().await;
    let server = HttpServer::start(petstore_binary(), &["--base-url", &up.base_url()], &[]).await;
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "raw", "version": "1"}}
    });
    let http = reqwest::Client::new();
    let post = |host: Option<&str>, origin: Option<&str>| {
        let mut req = http
            .post(&server.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(init.to_string());
        if let Some(h) = host {
            req = req.header("host", h);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let ok = post(None, None).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    let evil_host = post(Some("evil.example.com"), None).await.unwrap();
    assert!(
        evil_host.status().is_client_error(),
        "{}",
        evil_host.status()
    );
    let evil_origin = post(None, Some("https://evil.example.com")).await.unwrap();
    assert!(
        evil_origin.status().is_client_error(),
        "{}",
        evil_origin.status()
    );
    server.stop().await;
}

#[tokio::test]
async fn http_endpoint_token_is_required_and_never_forwarded() {
    let up = upstream().await;
    let server = HttpServer::start(
        petstore_binary(),
        &["--base-url", &up.base_url()],
        &[
            ("PETSTORE_BEARER_AUTH_TOKEN", ENV_TOKEN),
            ("PETSTORE_MCP_TOKEN", "mcp-endpoint-secret"),
        ],
    )
    .await;
    let raw = reqwest::Client::new()
        .post(&server.url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    let wrong = reqwest::Client::new()
        .post(&server.url)
        .bearer_auth("mcp-endpoint-secreT")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let client = server.client(Some("mcp-endpoint-secret")).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(false), "{}", text(&r));
    assert_eq!(
        up.requests()[0].header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str()),
        "the endpoint token is consumed, the upstream gets its own credential"
    );
    client.cancel().await.ok();
    server.stop().await;
}
