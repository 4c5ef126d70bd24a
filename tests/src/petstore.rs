//! The Petstore example served two ways that must behave alike: the standalone crate the
//! generator writes from `examples/petstore/openapi.yaml`, and the `#[mcpgen::server]` module
//! of `examples/macro-petstore` (the same generated tools, plus a hand-written one). Each
//! scenario below takes the server under test and drives it with rmcp's client over stdio or
//! streamable HTTP against the example upstream on 127.0.0.1;
//! [`petstore_scenarios!`](crate::petstore_scenarios) makes a test of every scenario for one
//! server, so that `tests/petstore.rs` and `tests/macro_petstore.rs` each run them all.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    Client, HttpServer, Upstream, assert_ok, build_example, call, petstore_binary, stdio_client,
    text,
};

/// The upstream credential both servers read from the environment, in [`TOKEN_VAR`].
pub const ENV_TOKEN: &str = "env-secret-token";
/// The variable the upstream credential is read from.
pub const TOKEN_VAR: &str = "PETSTORE_BEARER_AUTH_TOKEN";
/// The tools generated from the document, in the order `tools/list` gives them.
pub const GENERATED_TOOLS: [&str; 6] = [
    "listPets",
    "createPet",
    "getPetById",
    "updatePet",
    "deletePet",
    "get_store_inventory",
];
/// The macro example's hand-written tool, listed after the generated ones.
pub const EXTRA_TOOL: &str = "count_pets_by_tag";

/// A Petstore server under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Petstore {
    /// The crate generated from the document (`petstore-mcp`).
    Standalone,
    /// `examples/macro-petstore`: the generated tools with its own description of
    /// `getPetById`, and [`EXTRA_TOOL`].
    Macro,
    /// `cargo mcpgen serve examples/petstore/openapi.yaml`: the document served without a
    /// crate, by the same runtime.
    Serve,
}

impl Petstore {
    /// The server's binary, built once per process.
    pub fn binary(self) -> &'static Path {
        match self {
            Petstore::Standalone => petstore_binary(),
            Petstore::Macro => {
                static BIN: OnceLock<PathBuf> = OnceLock::new();
                BIN.get_or_init(|| build_example("macro-petstore"))
            }
            Petstore::Serve => crate::mcpgen_binary(),
        }
    }

    /// The arguments that come before the server's own options: `serve SPEC --name NAME` for
    /// [`Petstore::Serve`], none for the compiled servers.
    pub fn leading_args(self) -> Vec<String> {
        match self {
            Petstore::Standalone | Petstore::Macro => Vec::new(),
            Petstore::Serve => {
                let spec = crate::workspace_root().join("examples/petstore/openapi.yaml");
                vec![
                    "serve".to_owned(),
                    spec.to_string_lossy().into_owned(),
                    "--name".to_owned(),
                    "petstore-mcp".to_owned(),
                ]
            }
        }
    }

    /// Starts the server on stdio with `args` after [`Petstore::leading_args`] and `env`, and
    /// connects.
    pub async fn stdio_with(self, args: &[&str], env: &[(&str, &str)]) -> Client {
        let leading = self.leading_args();
        let mut all: Vec<&str> = leading.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        stdio_client(self.binary(), &all, env).await
    }

    /// The tool written by hand beside the generated ones, if there is one.
    pub fn extra_tool(self) -> Option<&'static str> {
        match self {
            Petstore::Standalone | Petstore::Serve => None,
            Petstore::Macro => Some(EXTRA_TOOL),
        }
    }

    /// Every tool, in the order `tools/list` gives them.
    pub fn tool_names(self) -> Vec<&'static str> {
        GENERATED_TOOLS
            .into_iter()
            .chain(self.extra_tool())
            .collect()
    }

    /// Starts the server on stdio against `up`, with the environment's credential, and
    /// connects.
    pub async fn stdio(self, up: &Upstream) -> Client {
        self.stdio_with(&["--base-url", &up.base_url()], &[(TOKEN_VAR, ENV_TOKEN)])
            .await
    }

    /// Starts the server over streamable HTTP against `up`, with `extra` arguments and `env`.
    pub async fn http(self, up: &Upstream, extra: &[&str], env: &[(&str, &str)]) -> HttpServer {
        let base = up.base_url();
        let mut args = vec!["--base-url", base.as_str()];
        args.extend_from_slice(extra);
        let leading = self.leading_args();
        let leading: Vec<&str> = leading.iter().map(String::as_str).collect();
        HttpServer::start_after(self.binary(), &leading, &args, env).await
    }
}

/// Makes a `#[tokio::test]` of every scenario of [`crate::petstore`] for the server given
/// (a [`Petstore`]), named as the scenario. A new scenario goes into the list here.
#[macro_export]
macro_rules! petstore_scenarios {
    ($server:expr) => {
        $crate::petstore_scenarios!($server =>
            stdio_initialize_and_list_tools,
            stdio_get_returns_structured_content_and_sends_env_credential,
            stdio_post_sends_the_json_body,
            stdio_upstream_404_is_a_tool_error,
            stdio_invalid_arguments_are_refused_before_any_request,
            stdio_parameters_are_encoded_and_placed,
            stdio_empty_body_and_unreachable_upstream,
            http_and_stdio_list_the_same_tools,
            http_passes_the_callers_authorization_through,
            http_no_passthrough_uses_only_the_environment,
            http_without_credentials_reports_401_with_a_hint,
            http_refuses_foreign_hosts_and_origins,
            http_endpoint_token_is_required_and_never_forwarded,
        );
    };
    ($server:expr => $($scenario:ident),+ $(,)?) => {$(
        #[::tokio::test]
        async fn $scenario() {
            $crate::petstore::$scenario($server).await;
        }
    )+};
}

/// The example upstream on a free port of 127.0.0.1.
pub async fn upstream() -> Upstream {
    Upstream::start(0).await.expect("upstream starts")
}

/// Asserts that `request` carried the environment's credential.
#[track_caller]
fn assert_env_credential(request: &crate::RecordedRequest) {
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str())
    );
}

/// Calls a generated tool and the hand-written one (when the server has one) and asserts that
/// each call reached the upstream with the environment's credential.
async fn env_credential_reaches_the_upstream(server: Petstore, client: &Client, up: &Upstream) {
    let calls = [("getPetById", json!({"petId": "1"}))]
        .into_iter()
        .chain(server.extra_tool().map(|extra| (extra, json!({}))));
    for (tool, args) in calls {
        up.clear();
        let r = call(client, tool, args).await;
        assert_ok(&r);
        assert_env_credential(&up.requests()[0]);
    }
}

/// The server's name and instructions, and every tool with its schemas and hints.
pub async fn stdio_initialize_and_list_tools(server: Petstore) {
    let up = upstream().await;
    let client = server.stdio(&up).await;
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
    assert_eq!(names, server.tool_names());
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

pub async fn stdio_get_returns_structured_content_and_sends_env_credential(server: Petstore) {
    let up = upstream().await;
    let client = server.stdio(&up).await;
    let result = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&result);
    assert_eq!(
        result.structured_content,
        Some(json!({"id": "1", "name": "Rex", "tag": "dog", "status": "available"}))
    );
    let requests = up.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/v1/pets/1");
    assert_env_credential(&requests[0]);
    client.cancel().await.ok();
}

pub async fn stdio_post_sends_the_json_body(server: Petstore) {
    let up = upstream().await;
    let client = server.stdio(&up).await;
    let result = call(&client, "createPet", json!({"name": "Fido", "tag": "dog"})).await;
    assert_ok(&result);
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
    assert_env_credential(req);
    client.cancel().await.ok();
}

pub async fn stdio_upstream_404_is_a_tool_error(server: Petstore) {
    let up = upstream().await;
    let client = server.stdio(&up).await;
    let result = call(&client, "getPetById", json!({"petId": "404"})).await;
    assert_eq!(result.is_error, Some(true));
    let message = text(&result);
    assert!(message.contains("HTTP 404"), "{message}");
    assert!(message.contains("pet 404 not found"), "{message}");
    assert!(
        result.structured_content.is_none(),
        "errors must not contradict the output schema"
    );

    let invalid = call(&client, "getPetById", json!({})).await;
    assert_eq!(invalid.is_error, Some(true), "arguments are validated");
    assert_eq!(up.requests().len(), 1, "the invalid call sends nothing");
    client.cancel().await.ok();
}

pub async fn stdio_invalid_arguments_are_refused_before_any_request(server: Petstore) {
    let up = upstream().await;
    let client = server.stdio(&up).await;
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

pub async fn stdio_parameters_are_encoded_and_placed(server: Petstore) {
    let up = upstream().await;
    let client = server.stdio(&up).await;
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
    assert_ok(&r);
    let r = call(
        &client,
        "updatePet",
        json!({"petId": "2", "name": "Tom", "body": {"name": "Max", "status": "sold"}}),
    )
    .await;
    assert_ok(&r);
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

pub async fn stdio_empty_body_and_unreachable_upstream(server: Petstore) {
    let up = upstream().await;
    let client = server.stdio(&up).await;
    let r = call(&client, "deletePet", json!({"petId": "3"})).await;
    assert_ok(&r);
    assert!(text(&r).contains("204"), "{}", text(&r));
    client.cancel().await.ok();

    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let client = server.stdio_with(&["--base-url", &url], &[]).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text(&r).contains("could not connect"), "{}", text(&r));
    client.cancel().await.ok();
}

/// Both transports answer `tools/list` from the pre-serialised list; what a client reads must
/// be the same list, whole.
pub async fn http_and_stdio_list_the_same_tools(server: Petstore) {
    let up = upstream().await;
    let over_stdio = server.stdio(&up).await;
    let http = server.http(&up, &[], &[]).await;
    let over_http = http.client(None).await;
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
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(server.tool_names().len())
    );
    assert!(
        listed[2]["inputSchema"]["properties"]["petId"].is_object(),
        "{listed}"
    );
    // Calls still work after the lists.
    let r = call(&over_http, "listPets", json!({})).await;
    assert_eq!(r.is_error, Some(true), "no credential: {}", text(&r));
    over_stdio.cancel().await.ok();
    over_http.cancel().await.ok();
    http.stop().await;
}

/// Over HTTP the caller's own credential reaches the upstream, through the generated tools
/// and the hand-written one (which calls a generated tool on the caller's behalf); without
/// one, the environment's is used.
pub async fn http_passes_the_callers_authorization_through(server: Petstore) {
    let up = upstream().await;
    let http = server.http(&up, &[], &[(TOKEN_VAR, ENV_TOKEN)]).await;
    let client = http.client(Some("caller-token")).await;
    let tools = client.list_all_tools().await.expect("tools/list over HTTP");
    assert_eq!(tools.len(), server.tool_names().len());
    let r = call(&client, "getPetById", json!({"petId": "2"})).await;
    assert_ok(&r);
    assert_eq!(r.structured_content.as_ref().unwrap()["name"], "Tom");
    let r = call(&client, "getPetById", json!({"petId": "nope"})).await;
    assert_eq!(r.is_error, Some(true));
    if let Some(extra) = server.extra_tool() {
        let r = call(&client, extra, json!({"limit": 2})).await;
        assert_ok(&r);
        assert_eq!(r.structured_content.as_ref().unwrap()["total"], 2);
    }

    let reqs = up.requests();
    if server.extra_tool().is_some() {
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[2].query.as_deref(), Some("limit=2"));
    } else {
        assert_eq!(reqs.len(), 2);
    }
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

    // Without a caller credential the environment's is used, by every kind of tool.
    let anonymous = http.client(None).await;
    env_credential_reaches_the_upstream(server, &anonymous, &up).await;
    anonymous.cancel().await.ok();

    let logs = http.stderr.lock().unwrap().clone();
    assert!(
        !logs.contains("caller-token") && !logs.contains(ENV_TOKEN),
        "{logs}"
    );
    let status = http.stop().await;
    assert!(
        status.success(),
        "SIGTERM ends the server cleanly: {status:?}"
    );
}

pub async fn http_no_passthrough_uses_only_the_environment(server: Petstore) {
    let up = upstream().await;
    let http = server
        .http(&up, &["--no-passthrough"], &[(TOKEN_VAR, ENV_TOKEN)])
        .await;
    let client = http.client(Some("caller-token")).await;
    env_credential_reaches_the_upstream(server, &client, &up).await;
    client.cancel().await.ok();
    http.stop().await;
}

pub async fn http_without_credentials_reports_401_with_a_hint(server: Petstore) {
    let up = upstream().await;
    let http = server.http(&up, &[], &[]).await;
    let client = http.client(None).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_eq!(r.is_error, Some(true));
    let message = text(&r);
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(message.contains(TOKEN_VAR), "{message}");
    client.cancel().await.ok();
    http.stop().await;
}

pub async fn http_refuses_foreign_hosts_and_origins(server: Petstore) {
    let up = upstream().await;
    let http = server.http(&up, &[], &[]).await;
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "raw", "version": "1"}}
    });
    let raw = reqwest::Client::new();
    let post = |host: Option<&str>, origin: Option<&str>| {
        let mut req = raw
            .post(&http.url)
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
    http.stop().await;
}

pub async fn http_endpoint_token_is_required_and_never_forwarded(server: Petstore) {
    let up = upstream().await;
    let http = server
        .http(
            &up,
            &[],
            &[
                (TOKEN_VAR, ENV_TOKEN),
                ("PETSTORE_MCP_TOKEN", "mcp-endpoint-secret"),
            ],
        )
        .await;
    let raw = reqwest::Client::new()
        .post(&http.url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    let wrong = reqwest::Client::new()
        .post(&http.url)
        .bearer_auth("mcp-endpoint-secreT")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let client = http.client(Some("mcp-endpoint-secret")).await;
    let r = call(&client, "getPetById", json!({"petId": "1"})).await;
    assert_ok(&r);
    assert_eq!(
        up.requests()[0].header("authorization"),
        Some(format!("Bearer {ENV_TOKEN}").as_str()),
        "the endpoint token is consumed, the upstream gets its own credential"
    );
    client.cancel().await.ok();
    http.stop().await;
}
